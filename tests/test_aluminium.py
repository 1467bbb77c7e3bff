"""The aluminium rule (standards/aluminium/pcr-aluminium.yaml) on its shipped illustrative enterprises: the anode
carbon balances, PFCs by the Tier 2 slope method and the Tier 1 fallback, the captive coal plant, contracted
renewable power against the grid, linearity, the plausibility warning and negative fixtures. Each figure by hand
from the method it cites."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_route_range_warns, refused_with, scaled_amounts, write_variant
from conftest import mechanism as mech

from methodology.gases import C_TO_CO2, Gas
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
RULE = ROOT / "standards" / "aluminium" / "pcr-aluminium.yaml"
ALU = ROOT / "parameters" / "aluminium"
A, B = ALU / "sd-captive-coal-smelter-a.yaml", ALU / "yn-hydro-smelter-b.yaml"
C, D = ALU / "nm-grid-smelter-c.yaml", ALU / "gx-smelter-d.yaml"
GWP_CF4, GWP_C2F6 = 7380, 12400  # IPCC AR6 GWP100


def result(path, rule=None):
    return Study.prepare(path, rule).calculate_without_brightway()


def test_anode_consumption_co2_by_carbon_balance():
    # IPCC 2006 Vol. 3 Eq. 4.21: net anode 258 kt x (1 - 2 % S - 0.4 % ash) x 44/12, none left in the metal
    r = mech(Study.prepare(A), "electrolysis", "carbon_balance")
    assert r.detail["carbon_in_kg"] == pytest.approx(258000 * 0.976 * 1000)
    assert r.kg[Gas.co2_fossil] == pytest.approx(258000 * 0.976 * C_TO_CO2 * 1000)
    per_t_al = r.kg[Gas.co2_fossil] / 600000 / 1000
    assert per_t_al == pytest.approx(1.539, abs=1e-3)  # IPCC Tier 1 prebake default: 1.6 t CO2/t Al


def test_anode_plant_carbon_balance():
    # carbon in: coke 221,880 t x 0.975 + pitch 49,020 t x 0.93 + gas 15.48e6 m3 x 0.038931 GJ x 15.3 kg C/GJ;
    # carbon out: 258,000 t anodes x 0.976; the difference (pitch volatiles, packing coke, fuel) is emitted
    r = mech(Study.prepare(A), "anode-plant", "carbon_balance")
    c_in = 221880e3 * 0.975 + 49020e3 * 0.93 + 15.48e6 * 0.038931 * 15.3
    c_out = 258000e3 * 0.976
    assert r.detail["carbon_in_kg"] == pytest.approx(c_in, rel=1e-4)  # gas carbon content rounded to 0.5956 kg/m3
    assert r.kg[Gas.co2_fossil] == pytest.approx((c_in - c_out) * C_TO_CO2, rel=1e-3)


def test_pfc_tier2_slope_method():
    # IPCC 2006 Vol. 3 Eq. 4.25-4.26: CF4 = 0.104 kg/t per AEM x 0.05 min/cell-day (PFPB-M); C2F6 = CF4 x 0.057
    r = mech(Study.prepare(A), "electrolysis", "anode_effect_pfc")
    assert r.detail["method"] == "slope" and r.detail["technology"] == "pfpb-m"
    assert r.kg[Gas.cf4] == pytest.approx(0.104 * 0.05 * 600000)
    assert r.kg[Gas.c2f6] == pytest.approx(0.104 * 0.05 * 0.057 * 600000)
    # smelter D, CWPB (IPCC 2006 Table 4.16: 0.143, 0.121) at 0.08 min/cell-day
    r = mech(Study.prepare(D), "electrolysis", "anode_effect_pfc")
    assert r.detail["method"] == "slope"
    assert r.kg[Gas.cf4] == pytest.approx(0.143 * 0.08 * 250000)
    assert r.kg[Gas.c2f6] == pytest.approx(0.143 * 0.08 * 0.121 * 250000)


def test_pfc_tier1_when_no_anode_effect_minutes_are_reported():
    # smelter C reports none: IPCC 2006 Table 4.15 (CWPB, applied to PFPB-M) 0.4 kg CF4 and 0.04 kg C2F6 per t
    st = Study.prepare(C)
    r = mech(st, "electrolysis", "anode_effect_pfc")
    assert r.detail["method"] == "tier1"
    assert r.kg[Gas.cf4] == pytest.approx(0.4 * 500000) and r.kg[Gas.c2f6] == pytest.approx(0.04 * 500000)
    res = st.calculate_without_brightway().model_dump(mode="json")
    # per t ingot: the electrolysis runs 500,000 / 497,500 times per t
    assert res["by_gas"]["PFCs"]["total"] == pytest.approx((0.4 * GWP_CF4 + 0.04 * GWP_C2F6) * 500 / 497.5,
                                                           rel=1e-9)


def test_reporting_anode_effect_minutes_moves_tier1_to_the_slope_method(tmp_path):
    def report(d):
        d["parameters"]["electrolysis"]["anode_effect_minutes"] = {"value": 0.05, "unit": "min/d", "source": "log"}

    tier1 = result(C).gwp100_kg_co2e.total
    slope = result(write_variant(tmp_path, C, report)).gwp100_kg_co2e.total
    cf4 = 0.104 * 0.05
    expected = (0.4 * GWP_CF4 + 0.04 * GWP_C2F6 - cf4 * GWP_CF4 - cf4 * 0.057 * GWP_C2F6) * 500 / 497.5
    assert tier1 - slope == pytest.approx(expected, rel=1e-9)


def test_captive_coal_plant_by_combustion():
    # GB/T 2589 and the provincial guideline: 20.908 GJ/t x 26.37 kg C/GJ x 44/12, fully oxidised
    r = mech(Study.prepare(A), "captive-power-plant", "combustion")
    assert r.kg[Gas.co2_fossil] == pytest.approx(3424185 * 20.908 * 26.37 * C_TO_CO2)
    per_kwh = r.kg[Gas.co2_fossil] / 7609.3e6
    assert 0.85 < per_kwh < 0.95  # kg CO2/kWh of a subcritical-to-supercritical coal plant


def test_electricity_sources_are_kept_apart():
    # smelter B: 85 % contracted hydropower at 0.02 kg/kWh, the rest at the national grid factor 0.6205
    res = result(B).model_dump(mode="json")
    rows = {row["factor"]: row["total"] for row in res["by_input"] if row["factor"]}
    per_t = 1 / 400000
    assert rows["electricity-hydropower-contract"] == pytest.approx(4503.71e6 * 0.02 * per_t, rel=1e-9)
    assert rows["grid-cn-2023-pcf"] == pytest.approx(794.77e6 * 0.6205 * per_t, rel=1e-9)
    assert res["by_origin"]["electricity"]["total"] == pytest.approx(
        rows["electricity-hydropower-contract"] + rows["grid-cn-2023-pcf"], rel=1e-9)


def test_contracted_power_reported_as_grid_power_takes_the_grid_factor(tmp_path):
    def as_grid(d):
        supply = d["processes"]["site-electricity-supply"]
        supply["grid_electricity"]["value"] += supply.pop("contracted_renewable")["value"]

    delta = result(write_variant(tmp_path, B, as_grid)).gwp100_kg_co2e.total - result(B).gwp100_kg_co2e.total
    assert delta == pytest.approx(4503.71e6 * (0.6205 - 0.02) / 400000, rel=1e-9)


def test_purchased_alumina_and_anodes(tmp_path):
    # smelter D buys both: 1.93 t alumina x 1,300 kg and 0.45 t anodes x 650 kg per t Al (illustrative factors)
    res = result(D).model_dump(mode="json")
    rows = {row["factor"]: row["total"] for row in res["by_input"] if row["factor"]}
    assert rows["purchased-alumina"] == pytest.approx(1.93 * 1300, rel=1e-9)
    assert rows["purchased-prebaked-anode"] == pytest.approx(0.45 * 650, rel=1e-9)


def test_linearity_the_result_per_t_does_not_depend_on_the_scale(tmp_path):
    base = result(A).gwp100_kg_co2e.total

    assert result(write_variant(tmp_path, A, scaled_amounts)).gwp100_kg_co2e.total == pytest.approx(base, rel=1e-12)


def test_shipped_totals_lie_in_their_route_ranges():
    for path in (A, B, C, D):
        res = result(path)
        assert res.checks.within_route_plausible_range, path.stem


def test_total_outside_the_route_range_is_a_warning_in_the_result(tmp_path):
    assert_route_range_warns(tmp_path, RULE, 0, 12000, D)


@pytest.mark.parametrize("src, change, problem", [
    (D, lambda d: d["processes"]["electrolysis"]["alumina"].update(unit="kWh"),  # wrong unit
     ("processes.electrolysis.alumina.unit", "'kWh'", "a unit convertible to t (Alumina)")),
    (D, lambda d: d["parameters"]["electrolysis"]["technology"].update(value="vss"),  # Soderberg: not in the rule
     ("parameters.electrolysis.technology.value", "'vss'", None)),
    (D, lambda d: d["parameters"]["electrolysis"]["anode_effect_minutes"].update(value=-0.08),  # negative AEM
     ("parameters.electrolysis.anode_effect_minutes.value", "-0.08 min/d", None)),
    (D, lambda d: d["processes"]["electrolysis"]["anode"].update(value=200000),  # 0.8 t anode per t Al
     ("processes.electrolysis.anode", "0.8 t/t (200000 t for 250000 t of Liquid aluminium tapped)", None)),
])
def test_negative_fixtures(tmp_path, src, change, problem):
    refused_with(tmp_path, src, change, problem)


def test_ingot_is_liquid_metal_through_the_casting_yield_plus_casting():
    # Study.with_product: the same site declaring its liquid metal. Per t ingot = per t liquid x 600/597 plus the
    # casting's gas (burned and supplied) and its 60 kWh at the site's electricity footprint per kWh (captive
    # plant and grid)
    ingot = Study.prepare(A)
    liquid = ingot.with_product("liquid-aluminium")
    assert liquid.enterprise.params.product == "liquid-aluminium"
    lr = liquid.calculate_without_brightway().model_dump(mode="json")
    kwh_per_t_liquid = (288 + 30.96 + 8100) * 1e6 / 600000  # refinery, carbon plant and potlines
    supply = sum(p["total"] for p in lr["by_process"] if p["stage"] == "electricity")  # captive plant and grid
    per_kwh = supply / kwh_per_t_liquid
    gas = 20 * (0.038931 * 15.3 * C_TO_CO2 + ingot.factors.get("natural-gas").emissions_kg()[Gas.co2e_fossil])
    expected = lr["gwp100_kg_co2e"]["total"] * 600 / 597 + gas + 60 * per_kwh
    assert ingot.calculate_without_brightway().gwp100_kg_co2e.total == pytest.approx(expected, rel=1e-6)
