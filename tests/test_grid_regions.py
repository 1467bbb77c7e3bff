"""Regional grid factors (decision record docs/decisions/0011): the factor set's grid regions, the rule's
``electricity.grid_factor``, the enterprise's region from its province, and the refusals with their messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_variant

from methodology.errors import FactorSetError, ParameterFileError, RuleError
from methodology.schema.factors import load_factor_set
from methodology.schema.rules import load_rule
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
FACTORS = ROOT / "standards" / "factors" / "cn-core.yaml"
RULE = ROOT / "standards" / "aluminium" / "pcr-aluminium.yaml"
YUNNAN = ROOT / "parameters" / "aluminium" / "yn-hydro-smelter-b.yaml"
INNER_MONGOLIA = ROOT / "parameters" / "aluminium" / "nm-grid-smelter-c.yaml"
NATIONAL, SOUTH, NORTH = 0.6205, 0.4727, 0.7439  # kg CO2e/kWh, cn-core grid-cn-2023-pcf and the derived regional


def regional(d):
    d["electricity"]["grid_factor"] = "regional"


def grid_row(result, factor: str) -> float:
    (row,) = [r for r in result.by_input if r.source == factor]
    return row.total


def test_provinces_are_found_in_english_or_chinese_and_split_provinces_in_two_regions():
    regions = load_factor_set(FACTORS).grid_regions
    assert regions.regions_of("Yunnan") == regions.regions_of("云南") == regions.regions_of(" yunnan ") == ["south"]
    assert regions.regions_of("Shandong") == ["north"] and regions.regions_of("Sichuan") == ["southwest"]
    assert regions.regions_of("Inner Mongolia") == ["north", "northeast"]
    assert regions.regions_of("Atlantis") == []
    assert len(regions.provinces()) == 31  # the 31 provinces of mainland China, each in a region


def test_regional_factors_are_the_regional_co2_factors_scaled_by_the_national_life_cycle_ratio():
    fs = load_factor_set(FACTORS)
    for region, co2 in [("north", 0.6361), ("south", 0.4042), ("southwest", 0.2472)]:
        f = fs.get(f"grid-cn-{region}-2023-pcf")
        assert f.status.value == "derived" and [x.value for x in f.limitations] == ["proxy"]
        assert f.emissions[0].value == pytest.approx(co2 * NATIONAL / 0.5306, abs=5e-5)


def test_national_by_default_and_regional_moves_the_total_by_the_grid_kwh_times_the_factor_difference():
    national = Study.prepare(YUNNAN)
    res_n = national.calculate_without_brightway()
    assert res_n.scope.grid_electricity.model_dump() == {
        "grid_factor": "national", "grid_region": None, "factor": "grid-cn-2023-pcf", "chosen_by": "rule: national"}
    kwh = grid_row(res_n, "grid-cn-2023-pcf") / NATIONAL  # grid kWh per t of liquid metal
    res_r = national.with_grid_factor("regional").calculate_without_brightway()
    g = res_r.scope.grid_electricity
    assert (g.grid_factor, g.grid_region, g.factor, g.chosen_by) == (
        "regional", "south", "grid-cn-south-2023-pcf", "rule: regional")
    assert res_r.electricity_factor == "grid-cn-south-2023-pcf"
    assert grid_row(res_r, "grid-cn-south-2023-pcf") == pytest.approx(kwh * SOUTH, rel=1e-9)
    assert res_n.gwp100_kg_co2e.total - res_r.gwp100_kg_co2e.total == pytest.approx(
        kwh * (NATIONAL - SOUTH), rel=1e-9)
    assert kwh > 1000  # the Yunnan smelter buys some grid power: the comparison is not vacuous


def test_regional_rule_file_gives_the_same_as_the_study_variant(tmp_path):
    rule = write_variant(tmp_path, RULE, regional)
    from_file = Study.prepare(YUNNAN, rule).calculate_without_brightway().gwp100_kg_co2e.total
    variant = Study.prepare(YUNNAN).with_grid_factor("regional").calculate_without_brightway().gwp100_kg_co2e.total
    assert from_file == pytest.approx(variant, rel=1e-12)


def test_a_split_province_needs_its_grid_region_under_a_regional_rule(tmp_path):
    rule = write_variant(tmp_path, RULE, regional)
    no_region = write_variant(tmp_path, INNER_MONGOLIA, lambda d: d["enterprise"].pop("grid_region"), "nr.yaml")
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(no_region, rule)
    assert [(p.field, p.found, p.expected) for p in exc.value.problems] == [
        ("enterprise.grid_region", "missing (Inner Mongolia lies in ['north', 'northeast'])",
         "one of ['north', 'northeast']: the rule takes regional grid factors")]
    west = write_variant(tmp_path, no_region, lambda d: d["enterprise"].update(grid_region="north"), "w.yaml")
    st = Study.prepare(west, rule)
    assert st.enterprise.grid_region == "north" and st.enterprise.electricity_factor == "grid-cn-north-2023-pcf"
    # under the national rule the region given changes nothing
    assert Study.prepare(west).enterprise.electricity_factor == "grid-cn-2023-pcf"


@pytest.mark.parametrize("change, field, found, expected", [
    (lambda d: d["enterprise"].update(grid_region="south"), "enterprise.grid_region", "'south'",
     "a region Inner Mongolia lies in: ['north', 'northeast']"),
    (lambda d: d["enterprise"].update(grid_region="mengxi"), "enterprise.grid_region", "'mengxi'",
     "one of ['north', 'northeast', 'east', 'central', 'northwest', 'south', 'southwest']"),
    (lambda d: d["enterprise"].update(province="Inner Mongolai"), "enterprise.province", "'Inner Mongolai'", None),
])
def test_grid_region_refusals(tmp_path, change, field, found, expected):
    rule = write_variant(tmp_path, RULE, regional)
    bad = write_variant(tmp_path, INNER_MONGOLIA, change, "bad.yaml")
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(bad, rule)
    got = [(p.field, p.found, p.expected if expected else None) for p in exc.value.problems]
    assert got == [(field, found, expected)]
    if field == "enterprise.province":
        assert "Inner Mongolia" in exc.value.problems[0].expected  # the expected lists the known provinces


def test_a_parameter_files_own_factor_wins_and_may_be_a_regional_one(tmp_path):
    own = write_variant(tmp_path, YUNNAN, lambda d: d.update(electricity_factor="grid-cn-southwest-2023-pcf"))
    for rule in (RULE, write_variant(tmp_path, RULE, regional)):
        res = Study.prepare(own, rule).calculate_without_brightway()
        g = res.scope.grid_electricity
        assert (g.factor, g.chosen_by, g.grid_region) == ("grid-cn-southwest-2023-pcf", "parameter file", None)


@pytest.mark.parametrize("change, field, found, expected", [
    (lambda d: (regional(d), d["electricity"]["regional_factors"].pop("south")),
     "electricity.regional_factors", "no factor for ['south']",
     "a factor for every grid region of factor set cn-core (grid_factor: regional)"),
    (lambda d: d["electricity"]["regional_factors"].update(mengxi="grid-cn-north-2023-pcf"),
     "electricity.regional_factors.mengxi", "an unknown grid region",
     "one of ['north', 'northeast', 'east', 'central', 'northwest', 'south', 'southwest']"),
    (lambda d: d["electricity"]["regional_factors"].update(south="grid-cn-2023-accounting"),
     "electricity.regional_factors.south", "'grid-cn-2023-accounting' is electricity/enterprise_accounting",
     "an electricity factor with basis product_footprint"),
    (lambda d: d["electricity"]["regional_factors"].update(south="grid-cn-sout-2023-pcf"),
     "electricity.regional_factors.south", "factor 'grid-cn-sout-2023-pcf'", "a factor of factor set cn-core 0.2.0"),
    (lambda d: d["electricity"].update(grid_factor="provincial"), "electricity.grid_factor", None, None),
])
def test_rule_refuses_inconsistent_regional_factors(tmp_path, change, field, found, expected):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, change), load_factor_set(FACTORS))
    got = [(p.field, p.found if found else None, p.expected if expected else None) for p in exc.value.problems]
    assert (field, found, expected) in got, got


def test_regional_factors_need_a_factor_set_with_grid_regions(tmp_path):
    bare = write_variant(tmp_path, FACTORS, lambda d: d.pop("grid_regions"), "bare.yaml")
    with pytest.raises(RuleError) as exc:
        load_rule(RULE, load_factor_set(bare))
    assert ("electricity.regional_factors", "none: factor set cn-core 0.2.0 has no grid_regions") in [
        (p.field, p.expected) for p in exc.value.problems]


def test_factor_set_refuses_a_broken_region_table(tmp_path):
    def broken(d):
        regions = d["grid_regions"]["regions"]
        regions[1]["id"] = "north"
        regions[2]["provinces"].append(dict(regions[2]["provinces"][0]))
        d["grid_regions"]["source"] = "mee-grid"
    with pytest.raises(FactorSetError) as exc:
        load_factor_set(write_variant(tmp_path, FACTORS, broken, "broken.yaml"))
    got = {(p.field, p.found) for p in exc.value.problems}
    assert got == {("grid_regions.regions", "region id 'north' given 2 times"),
                   ("grid_regions.regions.east.provinces", "'shanghai' listed twice"),
                   ("grid_regions.source", "'mee-grid'")}


def test_each_grid_basis_for_the_notebook_says_why_one_cannot_be_computed(tmp_path):
    from methodology.outputs.report import grid_basis_table

    no_region = write_variant(tmp_path, INNER_MONGOLIA, lambda d: d["enterprise"].pop("grid_region"), "nr.yaml")
    results = Study.prepare(no_region).grid_factor_results()
    assert set(results) == {"national", "regional"} and isinstance(results["regional"], str)
    assert results["regional"].startswith("enterprise.grid_region: found missing (Inner Mongolia lies in")
    table = grid_basis_table(results)
    assert list(table["factor"]) == ["grid-cn-2023-pcf", "not computed"]
    ok = Study.prepare(INNER_MONGOLIA).grid_factor_results()  # the shipped file names its region, North China
    assert ok["regional"].scope.grid_electricity.factor == "grid-cn-north-2023-pcf"
    assert grid_basis_table(ok)["change kg CO2e"].iloc[1] > 0
