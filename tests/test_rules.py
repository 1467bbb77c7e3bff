"""The rule and factor-set schemas: the shipped files load; typos and broken references are errors
whose messages name the file, the field, what was found and what was expected."""

from __future__ import annotations

import pytest
import yaml
from conftest import FACTORS, RULE, write_variant

from methodology.errors import FactorSetError, RuleError
from methodology.schema.factors import load_factor_set
from methodology.schema.rules import load_rule


def test_shipped_rule_and_factors_load(rule, factors):
    assert rule.id == "cn-pcr-steel" and rule.version == "1.4.0"
    assert {r.id for r in rule.routes} == {"bf-bof", "scrap-eaf", "dri-eaf", "stainless-eaf-aod", "stainless-converter"}
    assert factors.get("grid-cn-2023-pcf").emissions_kg()
    # every factor value names a source of the set
    assert all(e.source in factors.sources for f in factors.factors for e in f.emissions)


def _problems(exc) -> list[str]:
    return [f"{p.field} | {p.found} | {p.expected}" for p in exc.value.problems]


def test_unknown_key_in_rule(tmp_path, factors):
    path = write_variant(tmp_path, RULE, lambda d: d["cut_off"].update({"mass_shar": 0.01}))
    with pytest.raises(RuleError) as exc:
        load_rule(path, factors)
    assert str(path) in str(exc.value)
    assert any(p.startswith("cut_off.mass_shar |") and "no such key" in p for p in _problems(exc))


def test_wrong_unit_in_rule(tmp_path, factors):
    def mutate(d):
        d["processes"][0]["inputs"][0]["unit"] = "tonnes of happiness"

    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), factors)
    assert any("processes[0].inputs[0].unit" in p and "not a unit" in p for p in _problems(exc))


def test_broken_cross_reference_in_rule(tmp_path, factors):
    def mutate(d):
        d["processes"][0]["stage"] = "cokeing"

    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), factors)
    (problem,) = exc.value.problems
    assert (problem.field, problem.found) == ("processes.coke-oven.stage", "'cokeing'")
    assert problem.expected.startswith("a system_boundary stage, one of ['raw-materials', 'coking'")


def test_each_cross_reference_problem_names_its_own_field(tmp_path, factors):
    """Several broken references give several problems, each at its field (not one at the top level)."""
    def mutate(d):
        d["processes"][0]["stage"] = "cokeing"
        d["processes"][1]["inputs"][4]["product"] = "cokes"
        d["routes"][0]["processes"].append("sinter-plnt")
        d["system_boundary"]["upstream_stage"] = "raw-material"
        d["declared_unit"]["clause"][0]["standard"] = "iso14076"

    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), factors)
    fields = [(p.field, p.found) for p in exc.value.problems]
    assert fields == [("declared_unit.clause", "standard 'iso14076'"), ("processes.coke-oven.stage", "'cokeing'"),
                      ("processes.sinter-plant.coke_breeze.product", "'cokes'"),
                      ("routes.bf-bof.processes", "'sinter-plnt'"),
                      ("system_boundary.upstream_stage", "'raw-material'")]
    assert all(len(p.found) < 100 for p in exc.value.problems)  # no rule dumped into the message


@pytest.mark.parametrize("mutate, field, found, expected", [
    (lambda d: d["declared_unit"].update(unit="kWh"), "declared_unit.unit", "'kWh'",
     "a unit convertible to 't' (product 'crude-steel')"),
    (lambda d: d["processes"][0]["inputs"][0]["plausible"].update(unit="GJ/t"),
     "processes.coke-oven.coking_coal.plausible.unit", "'GJ/t'", "a unit convertible to t per t"),
    (lambda d: d["routes"][0]["plausible_footprint"].update(unit="kWh"),
     "routes.bf-bof.plausible_footprint.unit", "'kWh'", "a mass of CO2e (kg)"),
])
def test_unit_fields_of_the_rule_are_checked(tmp_path, factors, mutate, field, found, expected):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), factors)
    assert [(p.field, p.found, p.expected) for p in exc.value.problems][0] == (field, found, expected)


@pytest.mark.parametrize("mutate, field, expected", [
    (lambda d: d["rule_set"].update(version="1.0"), "rule_set.version", "a semantic version x.y.z (e.g. 1.0.0)"),
    (lambda d: d["rule_set"].update(id="CN_PCR"), "rule_set.id", "a kebab-case identifier"),
    (lambda d: d["data_quality"].update(max_weighted_score=7), "data_quality.max_weighted_score", "a value <= 5"),
    (lambda d: d["data_quality"].update(max_weighted_score=0.5), "data_quality.max_weighted_score",
     "a value >= 1"),
    (lambda d: d["data_quality"].update(scale=[0, 10]), "data_quality.scale", "[1, 5]: the pedigree scores"),
])
def test_schema_messages_name_what_is_expected(tmp_path, factors, mutate, field, expected):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), factors)
    (problem,) = exc.value.problems
    assert problem.field == field and problem.expected.startswith(expected)


def test_rule_names_a_factor_missing_from_the_set(tmp_path, factors):
    def mutate(d):
        d["processes"][0]["inputs"][0]["factor"] = "coking-cole"

    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), factors)
    assert [(p.field, p.found, p.expected) for p in exc.value.problems] == [
        ("processes.coke-oven.coking_coal.factor", "factor 'coking-cole'", "a factor of factor set cn-core 0.2.0")]


def test_enterprise_accounting_grid_factor_refused(tmp_path, factors):
    def mutate(d):
        d["electricity"]["allowed_factors"].append("grid-cn-2023-accounting")

    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), factors)
    assert "expected an electricity factor with basis product_footprint" in str(exc.value)


def test_factor_without_known_source(tmp_path):
    def mutate(d):
        d["factors"][0]["emissions"][0]["source"] = "nowhere-2020"

    with pytest.raises(FactorSetError) as exc:
        load_factor_set(write_variant(tmp_path, FACTORS, mutate))
    (problem,) = exc.value.problems
    assert (problem.field, problem.found) == ("factors[0].emissions[0].source", "'nowhere-2020'")
    assert problem.expected.startswith("a key of sources")


def test_factor_emission_unit_must_be_per_reference_unit(tmp_path):
    def mutate(d):
        d["factors"][0]["emissions"][0]["unit"] = "kg/kWh"  # raw-coal is per t

    with pytest.raises(FactorSetError) as exc:
        load_factor_set(write_variant(tmp_path, FACTORS, mutate))
    assert "must be a mass per t" in str(exc.value)


def test_yaml_syntax_error_names_line(tmp_path, factors):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rule_set:\n  id: [unclosed\n", encoding="utf-8")
    with pytest.raises(RuleError) as exc:
        load_rule(bad, factors)
    assert "line" in exc.value.problems[0].field and "invalid YAML" in exc.value.problems[0].found


def test_yield_check_names_unknown_flow(tmp_path, factors):
    path = write_variant(tmp_path, RULE, lambda r: r["balances"]["yields"][0].update({"output": "liquid_stee"}))
    with pytest.raises(RuleError) as exc:
        load_rule(path, factors)
    (problem,) = exc.value.problems
    assert (problem.field, problem.found, problem.expected) == (
        "balances.yields.BOF metallic yield", "'liquid_stee'", "a flow of process 'bof'")


def test_loaders_cache_by_content_and_reread_edited_files(tmp_path):
    """Same bytes, same path: the same validated object; an edited file is read again; errors every time."""
    import shutil

    rule_path = tmp_path / "pcr.yaml"
    shutil.copy(RULE, rule_path)
    fs = load_factor_set(FACTORS)
    assert load_factor_set(FACTORS) is fs
    first = load_rule(rule_path, fs)
    assert load_rule(rule_path, fs) is first
    assert load_rule(rule_path) is not first  # checked against no factor set: another entry
    text = rule_path.read_text(encoding="utf-8")
    rule_path.write_text(text + "\n# edited\n", encoding="utf-8")
    second = load_rule(rule_path, fs)
    assert second is not first and second.sha256 != first.sha256
    rule_path.write_text(text.replace("rule_set:", "rule_sett:", 1), encoding="utf-8")
    for _ in range(2):  # an invalid file is never cached
        with pytest.raises(RuleError, match="rule_sett"):
            load_rule(rule_path, fs)


def test_yaml_syntax_error_names_line_and_column(tmp_path):
    bad = tmp_path / "pcr.yaml"
    bad.write_text("rule_set:\n  id: x\n  version: [1, 2\nprocesses: []\n", encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rule(bad)
    (problem,) = info.value.problems
    assert problem.field == "line 4, column 10" and "invalid YAML" in problem.found


# --- factor limitations (issue 14 item 7; docs/decisions/0009) ---------------------------------------------
def test_every_shipped_factor_states_its_limitations(factors):
    """Each factor of the shipped set says on its own line whether its cradle-to-gate value is complete, and
    the flags are the ones its note describes."""
    raw = yaml.safe_load(FACTORS.read_text(encoding="utf-8"))["factors"]
    assert [f["id"] for f in raw if "limitations" not in f] == []
    flags = {f.id: {x.value for x in f.limitations} for f in factors.factors}
    assert {f for f, v in flags.items() if "partial" in v} >= {
        "coking-coal", "coke", "eaf-charge-carbon", "quicklime", "purchased-pig-iron",
        "purchased-dri", "iron-ore-pellets", "grid-cn-2023-accounting"}
    # coal at the life cycle of Chinese mining, mine to mine gate (steel decision 0004): complete
    assert flags["raw-coal"] == flags["pci-coal"] == set()
    assert {f for f, v in flags.items() if "proxy" in v} >= {
        "ggbs-drying-grinding", "natural-gas", "diesel", "fuel-oil", "transport-rail", "transport-road",
        "avoided-fuel-oil", "avoided-clinker"}
    assert flags["grid-cn-2023-pcf"] == flags["avoided-grid-electricity"] == set()
    assert all(f.note for f in factors.factors if f.limitations)


def _factor_problems(tmp_path, mutate) -> list[str]:
    with pytest.raises(FactorSetError) as exc:
        load_factor_set(write_variant(tmp_path, FACTORS, mutate))
    assert all(p.file == str(tmp_path / FACTORS.name) for p in exc.value.problems)
    return _problems(exc)


def test_unknown_limitation_refused(tmp_path):
    def mutate(d):
        d["factors"][0]["limitations"] = ["partial", "complete"]

    assert _factor_problems(tmp_path, mutate) == [
        "factors[0].limitations[1] | 'complete' | one of 'partial' or 'proxy'"]


def test_limitation_listed_twice_refused(tmp_path):
    def mutate(d):
        d["factors"][0]["limitations"] = ["proxy", "proxy"]

    assert _factor_problems(tmp_path, mutate) == [
        "factors[0].limitations | ['proxy', 'proxy'] | each limitation at most once"]


def test_partial_factor_without_note_refused(tmp_path):
    def mutate(d):
        quicklime = next(f for f in d["factors"] if f["id"] == "quicklime")
        del quicklime["note"]
        grid = next(f for f in d["factors"] if f["id"] == "grid-cn-2023-pcf")
        grid.update(limitations=["proxy"], note=" ")

    i = [f["id"] for f in yaml.safe_load(FACTORS.read_text(encoding="utf-8"))["factors"]]
    expected = "a note saying what the value leaves out (partial) or what it stands in for (proxy)"
    assert _factor_problems(tmp_path, mutate) == [
        f"factors[{i.index('grid-cn-2023-pcf')}].note | no note (limitations: proxy) | {expected}",
        f"factors[{i.index('quicklime')}].note | no note (limitations: partial) | {expected}"]


def test_factor_without_limitations_is_complete(tmp_path):
    def mutate(d):
        del d["factors"][0]["limitations"]

    assert load_factor_set(write_variant(tmp_path, FACTORS, mutate)).factors[0].limitations == []
