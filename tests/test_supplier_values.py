"""Supplier-specific footprints of purchased inputs (ISO 14067:2018 6.3.5; steel rule decision 0004).

An enterprise may give its supplier's cradle-to-gate footprint of a purchased input where the rule's flow lists
``supplier_footprint`` under ``measured``: it replaces the factor set's upstream emissions for that flow (the
factor's carbon content still feeds the balances), is traced to the supplier's document with its verification
status, and is computed the same by Brightway and the fast evaluator.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, assert_same_figures, write_variant

from methodology.errors import ParameterFileError
from methodology.study import Study, calculate_without_brightway

WORKS_A = ROOT / "parameters" / "steel" / "sd-integrated-works-a.yaml"
MILL_B = ROOT / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml"
COAL_ID = "supplier-coke-oven-coking-coal"


def study(tmp_path: Path, source: Path, mutate, name: str) -> Study:
    return Study.prepare(write_variant(tmp_path, source, mutate, name=name))


def supply(process: str, key: str, value: float, unit: str = "kg/t", verified: bool = False):
    def change(d):
        d["processes"][process][key]["supplier_footprint"] = {
            "value": value, "unit": unit, "source": "Mine X, ISO 14067 CFP study of washed coking coal, 2024",
            "verified": verified}
    return change


def test_a_supplier_value_replaces_the_factor_for_that_flow_only(tmp_path, factors):
    base = study(tmp_path, WORKS_A, lambda d: None, "base.yaml").calculate_without_brightway()
    st = study(tmp_path, WORKS_A, supply("coke-oven", "coking_coal", 100.0), "s.yaml")
    result = st.calculate_without_brightway()
    runs = base.process_scaling["coke-oven"]
    default = sum(factors.get("coking-coal").emissions_kg().values())  # 164.4 kg CO2e/t (decision 0004)
    # by hand: 2.128 Mt of coal a year, per run of the coke ovens, at 100 instead of 164.4 kg CO2e/t
    assert result.gwp100_kg_co2e.total - base.gwp100_kg_co2e.total == pytest.approx(
        2.128e6 * runs * (100.0 - default), rel=1e-6)
    row = next(r for r in result.by_input if r.source == COAL_ID)
    assert row.total == pytest.approx(2.128e6 * runs * 100.0, rel=1e-6) and row.factor == COAL_ID
    assert row.verified is False
    # the carbon balance still uses the coal's carbon (measured here): direct emissions unchanged
    assert {d.process: d.kg_per_year for d in result.direct_emissions} == {
        d.process: d.kg_per_year for d in base.direct_emissions}
    used = result.factors_used[COAL_ID]
    assert used.category.value == "fuel" and used.status.value == "published"
    (key,) = used.emissions.sources
    assert "Mine X" in result.sources_used[key].table and result.sources_used[key].verified is False
    assert "coking-coal" not in {r.source for r in result.by_input}  # no other coking coal in the works


def test_a_verified_supplier_value_counts_as_verified(tmp_path):
    plain = study(tmp_path, WORKS_A, supply("coke-oven", "coking_coal", 100.0), "p.yaml").calculate_without_brightway()
    ver = study(tmp_path, WORKS_A, supply("coke-oven", "coking_coal", 100.0, verified=True),
                "v.yaml").calculate_without_brightway()
    row = next(r for r in ver.by_input if r.source == COAL_ID)
    assert row.verified is True
    moved = ver.traceability.verified_share - plain.traceability.verified_share
    assert moved == pytest.approx(abs(row.total) / ver.traceability.absolute_kg_co2e, abs=2e-6)  # shares: 6 dp


def test_units_convert_and_a_bought_intermediate_takes_a_supplier_value(tmp_path, factors):
    kg = study(tmp_path, WORKS_A, supply("blast-furnace", "pellets", 150.0), "kg.yaml")
    t = study(tmp_path, WORKS_A, supply("blast-furnace", "pellets", 0.15, "t/t"), "t.yaml")
    kg, t = kg.calculate_without_brightway(), t.calculate_without_brightway()
    assert kg.gwp100_kg_co2e.total == pytest.approx(t.gwp100_kg_co2e.total, abs=1e-6)
    base = study(tmp_path, WORKS_A, lambda d: None, "b.yaml").calculate_without_brightway()
    default = sum(factors.get("iron-ore-pellets").emissions_kg().values())
    runs = base.process_scaling["blast-furnace"]
    assert kg.gwp100_kg_co2e.total - base.gwp100_kg_co2e.total == pytest.approx(
        0.94e6 * runs * (150.0 - default), rel=1e-6)


def test_supplier_values_are_refused_where_the_rule_does_not_allow_them_or_the_site_makes_the_input(tmp_path):
    with pytest.raises(ParameterFileError) as exc:
        study(tmp_path, MILL_B, supply("eaf", "scrap", 50.0), "scrap.yaml")
    (p,) = exc.value.problems
    assert p.field == "processes.eaf.scrap.supplier_footprint" and "supplier_footprint" in p.found
    with pytest.raises(ParameterFileError) as exc:
        study(tmp_path, WORKS_A, supply("blast-furnace", "coke", 500.0), "coke.yaml")
    (p,) = exc.value.problems
    assert p.field == "processes.blast-furnace.coke.supplier_footprint" and "made at this site" in p.expected
    with pytest.raises(ParameterFileError) as exc:
        study(tmp_path, WORKS_A, supply("coke-oven", "coking_coal", 100.0, unit="kg/kWh"), "u.yaml")
    assert [p.field for p in exc.value.problems] == ["processes.coke-oven.coking_coal.supplier_footprint.unit"]


def test_studies_with_different_supplier_values_are_computed_together_each_with_its_own(tmp_path):
    one = study(tmp_path, WORKS_A, supply("coke-oven", "coking_coal", 100.0), "one.yaml")
    two = study(tmp_path, WORKS_A, supply("coke-oven", "coking_coal", 300.0), "two.yaml")
    plain = study(tmp_path, WORKS_A, lambda d: None, "plain.yaml")
    together = calculate_without_brightway([one, two, plain])
    alone = [s.calculate_without_brightway() for s in (one, two, plain)]
    assert [r.gwp100_kg_co2e.total for r in together] == [r.gwp100_kg_co2e.total for r in alone]
    assert len({r.gwp100_kg_co2e.total for r in together}) == 3
    assert plain.factors is not one.factors and plain.factors.added == ()
    assert plain.factors.sha256 == one.factors.sha256  # provenance names the same factor-set file


@pytest.mark.engine
def test_brightway_computes_the_same_with_supplier_values(tmp_path, bw_project):
    st = study(tmp_path, WORKS_A, lambda d: (supply("coke-oven", "coking_coal", 100.0)(d),
                                            supply("blast-furnace", "pellets", 150.0)(d)), "bw.yaml")
    official = st.calculate(tmp_path / "run")
    assert official.checks.brightway_scores_match
    assert_same_figures(st.calculate_without_brightway().model_dump(mode="json"), official.model_dump(mode="json"),
                        skip={".checks.brightway_scores_match", ".provenance.generated_at"})
