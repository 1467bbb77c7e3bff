"""The typed result: strict models, a JSON round trip, the documented fields, data age counted to a date
recorded with the study (never today), and balances computed once per study."""

from __future__ import annotations

import datetime as dt
import json
import re
import types

import pytest
from conftest import ENTERPRISES, ROOT
from pydantic import ValidationError

from methodology.core import results
from methodology.core.result import SCHEMA_VERSION, Result
from methodology.errors import CalculationError
from methodology.outputs.table import result_row
from methodology.study import Study, write_result

BFBOF = next(p for p in ENTERPRISES if "integrated" in p.name)


@pytest.fixture(scope="module")
def study() -> Study:
    return Study.prepare(BFBOF)


@pytest.fixture(scope="module")
def result(study) -> Result:
    return study.calculate_without_brightway()


def test_result_json_round_trip(result, tmp_path):
    path = write_result(result, tmp_path)
    text = path.read_text(encoding="utf-8")
    again = Result.model_validate_json(text)
    assert again == result
    data = json.loads(text)
    assert data["schema_version"] == SCHEMA_VERSION == "2.4"
    assert set(data["carbon_balance_kg_c"]["coke-oven"]) == {"in", "out", "emitted"}
    assert data["reference_period"] == {"start": "2024-01-01", "end": "2024-12-31"}
    assert result_row(result) == result_row(data)  # the table takes the model or its JSON


def test_result_is_strict(result):
    data = result.model_dump(mode="json")
    with pytest.raises(ValidationError, match="extra"):
        Result.model_validate_json(json.dumps(data | {"unexpected": 1}))
    bad = json.loads(json.dumps(data))
    bad["gwp100_kg_co2e"]["total"] = "2021.6"  # a number as text is not coerced
    with pytest.raises(ValidationError, match="gwp100_kg_co2e.total"):
        Result.model_validate_json(json.dumps(bad))
    bad = json.loads(json.dumps(data))
    bad["schema_version"] = "1.0"
    with pytest.raises(ValidationError, match="schema_version"):
        Result.model_validate_json(json.dumps(bad))
    with pytest.raises(ValidationError, match="notes"):
        Result(**{**dict(result), "notes": "a note"})  # a text is not a list of notes


def test_every_field_is_documented():
    doc = (ROOT / "docs" / "result-json.md").read_text(encoding="utf-8")
    assert f"schema_version {SCHEMA_VERSION}" in doc
    first_cells = [line.split("|")[1] for line in doc.splitlines() if line.startswith("| `")]
    documented = {name for cell in first_cells for name in re.findall(r"`([a-z_0-9]+)`", cell)}
    assert set(Result.model_fields) - {"schema_version"} <= documented
    for field in ("age_reference", "reference_period_age_years", "brightway_scores_match"):
        assert f"`{field}`" in doc, field


def test_data_age_counts_to_the_rule_set_date(study, result):
    dq = result.data_quality
    assert study.rule.rule_set.date == "2026-11-22" and study.enterprise.params.reference_period.end.year == 2024
    assert (dq.age_reference.date, dq.age_reference.basis) == (dt.date(2026, 11, 22), "rule set date")
    assert dq.reference_period_age_years == 2 and dq.meets_rule and not dq.findings


def test_data_age_counts_to_an_assessment_date(study):
    later = Study.prepare(BFBOF, assessment_date=dt.date(2031, 3, 1)).calculate_without_brightway().data_quality
    assert (later.age_reference.date, later.age_reference.basis) == (dt.date(2031, 3, 1), "assessment date")
    assert later.reference_period_age_years == 7 and not later.meets_rule
    assert later.findings == ["reference period ended 7 years before the assessment date 2031-03-01; "
                              "the rule allows 3"]


def test_data_quality_never_reads_todays_date(result, study, monkeypatch):
    """The result is the same whatever today is: results.py has no access to today's date at all."""

    class NoToday(dt.date):
        @classmethod
        def today(cls):
            raise AssertionError("data quality read today's date")

    fake = types.SimpleNamespace(date=NoToday, datetime=dt.datetime, UTC=dt.UTC)
    monkeypatch.setattr(results, "dt", fake)
    again = study.calculate_without_brightway()
    assert again.data_quality == result.data_quality


def test_rule_date_that_is_no_date_is_refused(study):
    header = study.rule.rule_set.model_copy(update={"date": "autumn 2026"})
    rule = study.rule.model_copy(update={"rule_set": header})
    with pytest.raises(CalculationError, match="autumn 2026.*assessment date"):
        results.age_reference(rule)
    assert results.age_reference(rule, dt.date(2027, 1, 1)).basis == "assessment date"


def test_balances_are_computed_once_per_study(monkeypatch):
    import methodology.study as facade

    calls = {"enterprise": 0, "site": 0}
    enterprise_balances, site_carbon_summary = facade.enterprise_balances, results.site_carbon_summary

    def count(name, fn):
        def spy(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return spy

    monkeypatch.setattr(facade, "enterprise_balances", count("enterprise", enterprise_balances))
    monkeypatch.setattr(results, "enterprise_balances", count("enterprise", enterprise_balances))
    monkeypatch.setattr(results, "site_carbon_summary", count("site", site_carbon_summary))
    study = Study.prepare(BFBOF)  # validation computes and checks the balances
    assert calls == {"enterprise": 1, "site": 0}
    first, second = study.calculate_without_brightway(), study.calculate_without_brightway()
    assert calls == {"enterprise": 1, "site": 1}  # the result reuses them; site carbon once per study
    assert first.balances == second.balances
    computed = study.enterprise_balances
    assert [y.ratio for y in computed.yields] == pytest.approx([y.ratio for y in first.balances.yields], abs=1e-4)
    assert [g.gas for g in first.balances.process_gases_gj] == [g.gas for g in computed.process_gases]


@pytest.mark.parametrize("path", ENTERPRISES, ids=lambda p: p.stem)
def test_breakdowns_are_listed_in_a_fixed_order(path):
    r = Study.prepare(path).calculate_without_brightway()
    assert [p.process for p in r.by_process] == [p for p in Study.prepare(path).foreground.processes
                                                 if p in {x.process for x in r.by_process}]
    assert list(r.by_origin) == [o for o in ("direct", "electricity", "upstream", "transport", "credit")
                                 if o in r.by_origin]
    totals = [abs(x.total) for x in r.by_input]
    assert totals == sorted(totals, reverse=True)
    assert list(r.process_scaling) == list(Study.prepare(path).foreground.processes)


def test_sources_without_rows_are_not_listed(study, result):
    from methodology.core.contributions import from_records
    from methodology.gases import Gas

    fg = study.foreground
    final = fg.final_process
    table = from_records(fg, [(final, "grid-cn-2023-pcf", "electricity", Gas.co2_fossil, 2.0),
                              (final, "coke", "upstream", Gas.co2_fossil, 0.0)], {final: 1.0})
    assert table.sources == ("direct", "grid-cn-2023-pcf") and len(table) == 1  # the 0 kg record is left out
    one = study.assemble(table, {"fossil": {"co2_fossil": 1.0}, "biogenic": {}, "land_use": {}})
    assert [x.source for x in one.by_input] == ["grid-cn-2023-pcf"]
    assert [x.process for x in one.by_process] == [final] and list(one.by_origin) == ["electricity"]
    assert one.gwp100_kg_co2e.total == 2.0 and one.process_scaling[final] == 1.0
    with pytest.raises(CalculationError, match="indicators"):
        study.assemble(table, {"fossil": {"co2_fossil": 1.0}})


def test_scope_states_what_is_not_counted_and_the_end_of_life_approach(result):
    s = result.scope
    assert [x.what for x in s.not_counted] == ["CH4 and N2O from fuel combustion on site",
                                               "internal yield losses (home scrap, mill scale, dust) recirculated "
                                               "on site"]
    assert all(x.why for x in s.not_counted)
    assert (s.end_of_life.approach, s.end_of_life.applies_to) == ("cut_off", ["steel-scrap", "stainless-scrap-300",
                                                                              "stainless-scrap-400"])
    assert s.coproducts == "system_expansion" and "1%" in s.cut_off


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d["end_of_life"].update(approach="avoided_burden"), "end_of_life.approach"),
    (lambda d: d["end_of_life"].update(applies_to=["no-such-factor"]), "end_of_life.applies_to"),
    (lambda d: d["cut_off"]["not_counted"][0].update(clause=[{"standard": "nowhere", "clause": "1"}]),
     "cut_off.not_counted[0].clause"),
])
def test_end_of_life_and_not_counted_are_checked(tmp_path, change, field):
    from conftest import write_variant

    from methodology.errors import RuleError
    from methodology.schema.factors import load_factor_set
    from methodology.schema.rules import load_rule

    path = write_variant(tmp_path, ROOT / "standards/steel/pcr-steel.yaml", change)
    with pytest.raises(RuleError) as exc:
        load_rule(path, load_factor_set(ROOT / "standards/factors/cn-core.yaml"))
    assert any(p.field.startswith(field) for p in exc.value.problems), exc.value
