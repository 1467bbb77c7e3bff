"""Factor choices (``schema.choices``) and the calcination mechanism's fallback and organic carbon, on the toy
rule (not an industry): each by hand, and the rule's refusals with their messages pinned."""

from __future__ import annotations

import pytest
from conftest import write_variant
from test_mechanisms import FACTORS, PLANT, RULE, mech

from methodology.errors import RuleError
from methodology.gases import C_TO_CO2, Gas
from methodology.schema.factors import load_factor_set
from methodology.schema.rules import load_rule
from methodology.study import Study

DEAR = {"id": "toy-limestone-dear", "name": "Limestone with a burden (toy)", "category": "material",
        "reference_unit": "t", "geography": "CN", "period": "2023", "status": "illustrative",
        "note": "toy: the same stone with 100 kg CO2/t more upstream",
        "properties": {"carbon_content": {"value": 0.12, "unit": "t/t", "source": "toy"}},
        "emissions": [{"gas": "co2_fossil", "value": 102, "unit": "kg/t", "source": "toy"}]}


def choice(selected="cheap", **extra):
    return {"id": "stone-burden", "name": "Burden of the stone", "description": "toy choice", "selected": selected,
            "options": [{"id": "cheap", "description": "as quarried", "factors": {"stone": "toy-limestone"}},
                        {"id": "dear", "description": "with a burden", "factors": {"stone": "toy-limestone-dear"}}],
            "clause": [{"standard": "iso14067", "clause": "6.4.6"}], **extra}


def with_choice(selected="cheap", flow=None, change=None):
    def mutate(d):
        d["factor_choices"] = [choice(selected)]
        limestone = d["processes"][0]["inputs"][0]
        limestone.pop("factor")
        limestone.update(flow or {"choice": "stone-burden/stone"})
        if change:
            change(d)
    return mutate


@pytest.fixture
def factors(tmp_path):
    return write_variant(tmp_path, FACTORS, lambda d: d["factors"].append(DEAR), name="toy-factors-dear.yaml")


def per_t(st: Study) -> float:
    return st.calculate_without_brightway().gwp100_kg_co2e.total


def test_the_selected_option_supplies_the_factor_and_moves_the_total_by_its_burden(tmp_path, factors):
    cheap = Study.prepare(PLANT, write_variant(tmp_path, RULE, with_choice("cheap"), "cheap.yaml"), factors)
    dear = Study.prepare(PLANT, write_variant(tmp_path, RULE, with_choice("dear"), "dear.yaml"), factors)
    assert cheap.rule.process_by_id["kiln"].flow_by_key["limestone"].factor == "toy-limestone"
    assert dear.rule.process_by_id["kiln"].flow_by_key["limestone"].factor == "toy-limestone-dear"
    # 1.5 t limestone per t clinker x (102 - 2) kg CO2/t: exactly the burden the option adds, nothing else moves
    assert per_t(dear) - per_t(cheap) == pytest.approx(1.5 * 100, abs=1e-9)
    # the same comparison without editing the file: the study under the other option
    assert per_t(cheap.with_factor_choices({"stone-burden": "dear"})) == pytest.approx(per_t(dear), abs=1e-9)


@pytest.mark.parametrize("flow, change, field, found, expected", [
    (None, lambda d: d["factor_choices"][0].update(selected="free"), "factor_choices.stone-burden.selected",
     "'free'", "one of the options ['cheap', 'dear']"),
    ({"choice": "stone-burdn/stone"}, None, "processes.kiln.limestone.choice", "'stone-burdn/stone'",
     "'<choice>/<slot>' with a choice of factor_choices ['stone-burden']"),
    ({"choice": "stone-burden/rock"}, None, "processes.kiln.limestone.choice", "'stone-burden/rock'",
     "a slot of choice 'stone-burden': ['stone']"),
    ({"choice": "stone-burden/stone", "factor": "toy-coal"}, None, "processes.kiln.limestone.factor",
     "'toy-coal'", "no factor beside `choice` (the choice gives 'toy-limestone')"),
    (None, lambda d: d["factor_choices"][0]["options"][1]["factors"].update(rock="toy-limestone"),
     "factor_choices.stone-burden.options.dear.factors", "['rock', 'stone']",
     "the same slots as option 'cheap': ['stone']"),
    (None, lambda d: d["factor_choices"][0]["options"][1]["factors"].update(stone="toy-limestone-gone"),
     "factor_choices.stone-burden.options.dear.factors.stone", "factor 'toy-limestone-gone'",
     "a factor of factor set toy-factors 1.0.0"),
])
def test_rule_refuses_inconsistent_choices(tmp_path, factors, flow, change, field, found, expected):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, with_choice(flow=flow, change=change)), load_factor_set(factors))
    assert (field, found, expected) in [(p.field, p.found, p.expected) for p in exc.value.problems]


# --- calcination: the default factor when no CaO is reported, and the organic carbon of the raw meal --------
def kiln_variant(tmp_path, change_kiln, params=None):
    rule = write_variant(tmp_path, RULE, lambda d: change_kiln(d["processes"][0]), "rule.yaml")

    def plant(d):
        d["product"] = "clinker"
        d["parameters"] = params or {}
    return Study.prepare(write_variant(tmp_path, PLANT, plant), rule, FACTORS)


def _default_factor_without_cao_default(kiln):
    kiln["parameters"][0].pop("default")
    kiln["emissions"][1]["default_factor"] = {"value": 525, "unit": "kg/t", "source": "GCCA/CSI B1 default"}


def test_default_factor_applies_only_when_no_cao_is_reported(tmp_path):
    st = kiln_variant(tmp_path, _default_factor_without_cao_default)
    r = mech(st, "kiln", "calcination")
    assert r.detail["ef_basis"] == "default factor"
    assert r.kg[Gas.co2_fossil] == pytest.approx(1000 * 525)  # 1000 t clinker x 525 kg/t
    cao = {"kiln": {"cao": {"value": 0.66, "source": "XRF"}}}
    st = kiln_variant(tmp_path, _default_factor_without_cao_default, cao)
    r = mech(st, "kiln", "calcination")
    assert r.detail["ef_basis"] == "oxide contents"
    assert r.kg[Gas.co2_fossil] == pytest.approx(1000e3 * 0.66 * 44.01 / 56.08)


def test_without_a_default_factor_the_cao_needs_a_value(tmp_path):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, lambda d: d["processes"][0]["parameters"][0].pop("default")),
                  load_factor_set(FACTORS))
    assert ("processes.kiln.emissions[1] (calcination).cao", "parameter 'cao' must be required or have a default: "
            "the mechanism cannot work without it") in [(p.field, p.found) for p in exc.value.problems]


def _organic_carbon(kiln):
    kiln["parameters"].append({"name": "toc", "description": "TOC of the raw meal", "unit": "", "min": 0,
                               "max": 0.01, "default": {"value": 0.002, "source": "toy"}})
    kiln["emissions"][1].update(raw_meal="limestone", organic_carbon="toc")


def test_organic_carbon_of_the_raw_meal(tmp_path):
    # GCCA/CSI protocol: CO2 = raw meal x TOC x 44/12; 1500 t limestone as raw meal x 0.2 % = 3 t C
    r = mech(kiln_variant(tmp_path, _organic_carbon), "kiln", "calcination")
    assert r.detail["organic_carbon_co2_t"] == pytest.approx(1500 * 0.002 * C_TO_CO2)
    assert r.kg[Gas.co2_fossil] == pytest.approx((1000 * 0.65 * 44.01 / 56.08 + 1500 * 0.002 * C_TO_CO2) * 1000)


@pytest.mark.parametrize("change, message", [
    (lambda k: k["emissions"][1].update(raw_meal="limestone"),
     "`raw_meal` (an input flow) and `organic_carbon` (a parameter) go together"),
    (lambda k: k["emissions"][1].update(default_factor={"value": 525, "unit": "kWh", "source": "x"}),
     "default_factor unit 'kWh' is not a mass of CO2 per mass of output (t/t or kg/t)"),
])
def test_calcination_fields_refused(tmp_path, change, message):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, lambda d: change(d["processes"][0])), load_factor_set(FACTORS))
    assert any(message in p.expected or message in p.found for p in exc.value.problems), exc.value.problems


def test_comparing_with_an_option_the_rule_does_not_have_is_refused(tmp_path, factors):
    st = Study.prepare(PLANT, write_variant(tmp_path, RULE, with_choice("cheap")), factors)
    with pytest.raises(RuleError) as exc:
        st.with_factor_choices({"stone-burden": "free"})
    assert [(p.field, p.found) for p in exc.value.problems] == [("factor_choices.stone-burden.selected", "'free'")]
