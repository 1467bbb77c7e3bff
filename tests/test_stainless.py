"""Stainless steel (steel rule 1.3.0 and later) and product families (decision records docs/decisions/0010 and
standards/steel/decisions/0006): hand calculations on the shipped stainless enterprises, and the family feature's
contract (unknown or missing family refused, the family's plausible footprint applied, the family recorded)."""

from __future__ import annotations

import pytest
from conftest import ENTERPRISES, FACTORS, RULE, write_variant

from methodology.errors import ParameterFileError, RuleError
from methodology.outputs.table import result_row
from methodology.schema.rules import load_rule
from methodology.study import Study, load_enterprise

S304 = next(p for p in ENTERPRISES if p.stem == "sd-stainless-eaf-aod-304")
S430 = next(p for p in ENTERPRISES if p.stem == "sd-stainless-430-ferritic")
SNPI = next(p for p in ENTERPRISES if p.stem == "sd-stainless-npi-converter-304")
BFBOF = next(p for p in ENTERPRISES if "integrated" in p.name)
C_TO_CO2 = 44.0 / 12.0


@pytest.fixture(scope="module")
def r304():
    return Study.prepare(S304).calculate_without_brightway()


@pytest.fixture(scope="module")
def r430():
    return Study.prepare(S430).calculate_without_brightway()


# --- hand calculations ------------------------------------------------------------------------------------
def test_aod_carbon_balance_by_hand(r430):
    """IPCC 2006 Vol. 3 Ch. 4 Eq. 4.9 (Tier 2 mass balance) on the 430 mill's AOD converter: all carbon in, less
    the carbon leaving in the liquid steel, is emitted as CO2. Carbon in: the EAF melt at 1.5 % C (factor
    stainless-eaf-melt) and the trim ferrochrome at 0.348 t CO2/t x 12/44 = 0.0949 t C/t (Chinese steel-sector
    list, factor high-carbon-ferrochrome); ferrosilicon, lime and refractories carry no carbon in the factor set.
    Carbon out: 339,400 t of liquid steel at 0.05 % C (factor stainless-steel)."""
    carbon_in = 346_200 * 15.0 + 1_697 * 94.9  # kg C per year
    carbon_out = 339_400 * 0.5
    assert carbon_in == pytest.approx(5_354_045.3)
    aod = r430.carbon_balance_kg_c["aod-converter"]
    assert (aod.in_, aod.out) == (pytest.approx(carbon_in), pytest.approx(carbon_out))
    assert aod.emitted == pytest.approx(carbon_in - carbon_out) == pytest.approx(5_184_345.3)
    co2 = next(d for d in r430.direct_emissions if d.process == "aod-converter" and d.mechanism == "carbon_balance")
    assert co2.kg_per_year["co2_fossil"] == pytest.approx((carbon_in - carbon_out) * C_TO_CO2)  # 19,009 t CO2


def test_rkef_carbon_balance_by_hand():
    """Works F smelts its NPI on site (RKEF): carbon in with 654,600 t of coal at 20.908 GJ/t x 26.37 kg C/GJ
    (GB/T 2589 NCV x provincial-inventory carbon per energy, factor raw-coal, on the rule's energy basis) and
    2,618 t of electrodes at 820 kg C/t (IPCC Table 4.3); out with 654,600 t of NPI at its measured 2 % C. The
    same measured content enters the AOD, so the NPI's carbon is counted once, emitted where it is removed."""
    r = Study.prepare(SNPI).calculate_without_brightway()
    carbon_in = 654_600 * 20.908 * 26.37 + 2_618 * 820.0
    carbon_out = 654_600 * 20.0
    rkef = r.carbon_balance_kg_c["rkef-furnace"]
    assert (rkef.in_, rkef.out, rkef.emitted) == (pytest.approx(carbon_in), pytest.approx(carbon_out),
                                                  pytest.approx(carbon_in - carbon_out))
    assert r.carbon_balance_kg_c["aod-converter"].in_ == pytest.approx(654_600 * 20.0 + 211_200 * 0.5 + 316_700 * 94.9)
    assert r.checks.site_carbon_balance_closes and r.checks.yields_within_range and r.checks.review == []


def test_alloy_burden_is_alloy_mass_times_factor(r304):
    """Alloy burden per t of 304 cold-rolled coil = sum of alloy mass x cradle-to-gate factor. Works D's chain
    makes exactly what the next process uses, so every process runs 1/600,000 of its year per declared unit.
    Factors (cn-core): high-carbon FeCr 1,300 + 2,357.9 kg CO2e/t; ferronickel 54 t CO2e/t Ni x 25 % Ni =
    13,500 kg/t; NPI 54 x 10 % = 5,400 kg/t (RKEF whitepaper)."""
    for pid in ("stainless-eaf", "aod-converter", "annealing-pickling-line"):
        assert r304.process_scaling[pid] == pytest.approx(1 / 600_000)
    by_input = {x.source: x.total for x in r304.by_input}
    ferrochrome = (107_500 + 10_230) / 600_000 * (1_300 + 2_357.9)  # EAF charge + AOD trim
    ferronickel = (47_030 + 6_821) / 600_000 * 13_500
    npi = 168_000 / 600_000 * 5_400
    assert by_input["high-carbon-ferrochrome"] == pytest.approx(ferrochrome)  # 717.7
    assert by_input["ferronickel"] == pytest.approx(ferronickel)  # 1,211.6
    assert by_input["nickel-pig-iron"] == pytest.approx(npi)  # 1,512.0
    # the alloys are most of the footprint, as worldstainless reports for Scope 3 (59 % at 85 % scrap)
    assert (ferrochrome + ferronickel + npi) / r304.gwp100_kg_co2e.total > 0.7


def test_stainless_scrap_is_burden_free_under_the_cut_off(rule, factors, r304):
    assert {"stainless-scrap-300", "stainless-scrap-400"} <= set(rule.end_of_life.applies_to)
    for fid in ("stainless-scrap-300", "stainless-scrap-400"):
        assert all(e.value == 0 for e in factors.by_id[fid].emissions)
    assert {x.source: x.total for x in r304.by_input}.get("stainless-scrap-300", 0.0) == 0.0


@pytest.mark.parametrize("path", [S304, S430], ids=lambda p: p.stem)
def test_stainless_enterprises_pass_every_check(path):
    r = Study.prepare(path).calculate_without_brightway()
    checks = r.checks
    assert checks.breakdowns_sum_to_total and checks.site_carbon_balance_closes and checks.yields_within_range
    assert checks.within_route_plausible_range and checks.review == []
    assert r.balances.site_carbon_kg_c.residual == pytest.approx(0.0, abs=0.01)


# --- product families -------------------------------------------------------------------------------------
def test_family_recorded_in_result_and_table(r304):
    fam = r304.product_family
    assert (fam.id, fam.name) == ("austenitic-304", "Austenitic Cr-Ni stainless steel, 304 type (18Cr-8Ni)")
    assert "gbt20878: 06Cr19Ni10 (S30408)" in fam.designations
    assert r304.model_dump(mode="json")["product_family"]["id"] == "austenitic-304"
    assert result_row(r304)["product_family"] == "austenitic-304"


def test_product_without_families_records_none():
    r = Study.prepare(BFBOF).calculate_without_brightway()
    assert r.product_family is None and result_row(r)["product_family"] is None
    assert r.checks.plausible_range_basis == "route bf-bof"


def test_family_plausible_range_replaces_the_route_range(r430):
    assert r430.checks.plausible_range_basis == "product family ferritic-430"
    assert r430.checks.route_plausible_range_kg == (800.0, 4000.0)  # the family's, not the route's 800-7500


def _rule_variant(tmp_path, mutate):
    def change(d):
        mutate(next(p for p in d["products"] if p["id"] == "stainless-cold-rolled-coil"))
    return write_variant(tmp_path, RULE, change)


def test_total_outside_the_family_range_is_listed_for_review(tmp_path):
    def narrow(product):
        fam = next(f for f in product["families"] if f["id"] == "ferritic-430")
        fam["plausible_footprint"] = {"min": 800, "max": 1000, "unit": "kg", "source": "test fixture"}
    r = Study.prepare(S430, _rule_variant(tmp_path, narrow), FACTORS).calculate_without_brightway()
    assert r.checks.within_route_plausible_range is False
    [item] = r.checks.review
    assert item.field == "gwp100_kg_co2e.total"
    assert item.expected == "between 800 and 1000 kg for product family ferritic-430 (test fixture)"


def test_family_without_range_falls_back_to_the_route(tmp_path):
    def drop(product):
        next(f for f in product["families"] if f["id"] == "ferritic-430").pop("plausible_footprint")
    r = Study.prepare(S430, _rule_variant(tmp_path, drop), FACTORS).calculate_without_brightway()
    assert r.checks.plausible_range_basis == "route stainless-eaf-aod"
    assert r.checks.route_plausible_range_kg == (800.0, 7500.0)


def _problems(tmp_path, source, mutate, rule, factors):
    path = write_variant(tmp_path, source, mutate)
    with pytest.raises(ParameterFileError) as exc:
        load_enterprise(path, rule, factors)
    return [(p.field, p.found, p.expected) for p in exc.value.problems]


def test_unknown_family_refused(tmp_path, rule, factors):
    probs = _problems(tmp_path, S304, lambda d: d.update(product_family="austenitic-999"), rule, factors)
    assert probs == [("product_family", "'austenitic-999'", "one of the families of product "
                      "stainless-cold-rolled-coil: ['austenitic-304', 'austenitic-316l', 'ferritic-430', "
                      "'martensitic-410', 'duplex-2205']")]


def test_missing_family_refused_when_the_product_has_families(tmp_path, rule, factors):
    probs = _problems(tmp_path, S304, lambda d: d.pop("product_family"), rule, factors)
    assert [(f, found) for f, found, _ in probs] == [("product_family", "nothing")]


def test_family_refused_for_a_product_without_families(tmp_path, rule, factors):
    probs = _problems(tmp_path, BFBOF, lambda d: d.update(product_family="austenitic-304"), rule, factors)
    assert probs == [("product_family", "'austenitic-304'",
                      "nothing: the rule lists no families for product hot-rolled-coil")]


def test_rule_refuses_inconsistent_families(tmp_path, factors):
    def break_families(product):
        fams = product["families"] = [dict(f) for f in product["families"]]
        fams[1]["id"] = fams[0]["id"]  # a duplicate id
        fams[2]["designations"] = [{"standard": "jis-g4305", "grade": "SUS430"}]  # a standard the rule lacks
        fams[3]["composition"] = [{"component": "Cr", "max": 0.6}, {"component": "Cr", "min": 0.5, "max": 0.6},
                                  {"component": "C", "min": 0.6, "max": 0.7}]
    path = _rule_variant(tmp_path, break_families)
    with pytest.raises(RuleError) as exc:
        load_rule(path, factors)
    found = {(p.field, p.found) for p in exc.value.problems}
    at = "products.stainless-cold-rolled-coil.families"
    assert (at, "'austenitic-304' given 2 times") in found
    assert (f"{at}.ferritic-430.designations", "standard 'jis-g4305'") in found
    assert (f"{at}.martensitic-410.composition", "'Cr' given 2 times") in found
    assert (f"{at}.martensitic-410.composition", "minimum mass fractions summing to 1.1") in found
