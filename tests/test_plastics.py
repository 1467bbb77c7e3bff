"""The plastics rule (standards/plastics/pcr-plastics.yaml) on its shipped illustrative enterprises: the steam
cracker's carbon balance and its mass partition summing back to the whole, switching the basis to energy and
economic value, the coal-to-methanol carbon balance, MTO, chlor-alkali, the lime kiln and the carbide furnace
against the IPCC default, the resin's carbon content, linearity, plausibility and negative fixtures. Each figure
by hand from the method it cites."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_route_range_warns, refused_with, scaled_amounts, write_variant
from conftest import mechanism as mech

from methodology.gases import C_TO_CO2, Gas
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
RULE = ROOT / "standards" / "plastics" / "pcr-plastics.yaml"
PL = ROOT / "parameters" / "plastics"
A_HDPE, A_PP = PL / "sd-naphtha-cracker-a-hdpe.yaml", PL / "sd-naphtha-cracker-a-pp.yaml"
B, C, D = PL / "nx-coal-to-olefins-b.yaml", PL / "js-pvc-ethylene-c.yaml", PL / "xj-pvc-carbide-d.yaml"
E_LDPE = PL / "zj-naphtha-cracker-e-ldpe.yaml"
GWP = {Gas.co2_fossil: 1.0, Gas.co2e_fossil: 1.0, Gas.ch4_fossil: 29.8, Gas.n2o: 273.0}  # IPCC AR6 GWP100
GAS_C = 0.038931 * 15.3  # kg C per m3 of natural gas: 38.931 MJ/m3 x 15.3 kg C/GJ (Chinese defaults)
C_PE, C_NAPHTHA, C_PYGAS, C_TAIL = 0.8563, 0.89, 0.90, 0.60  # t C/t: (CH2)n and C2H4, C3H6, C4H8; IPCC; estimates
# cracker of enterprise A, t/yr: ethylene, propylene, crude C4, pyrolysis gasoline, exported tail gas
MASSES = {"ethylene": 800000, "propylene": 400000, "crude_c4": 240000, "pyrolysis_gasoline": 640000,
          "tail_gas_export": 40000}
# cracker of enterprise E (lighter naphtha, less propylene), t/yr, the same keys
MASSES_E = {"ethylene": 600000, "propylene": 270000, "crude_c4": 168000, "pyrolysis_gasoline": 450000,
            "tail_gas_export": 30000}


def result(path, rule=None):
    return Study.prepare(path, rule).calculate_without_brightway()


def upstream(study, factor_id: str) -> float:
    """kg CO2e per reference unit of a factor's cradle-to-gate emissions (AR6 GWP100)."""
    return sum(GWP[g] * kg for g, kg in study.factors.get(factor_id).emissions_kg().items())


def cracker_direct_co2_kg(naphtha_t: float = 2520000, gas_m3: float = 48e6, masses: dict = MASSES) -> float:
    c_in = naphtha_t * 1e3 * C_NAPHTHA + gas_m3 * GAS_C
    m = masses
    c_out = ((m["ethylene"] + m["propylene"] + m["crude_c4"]) * C_PE + m["pyrolysis_gasoline"] * C_PYGAS
             + m["tail_gas_export"] * C_TAIL) * 1e3
    return (c_in - c_out) * C_TO_CO2


def test_cracker_carbon_balance():
    # IPCC 2006 Vol. 3 3.9.2 mass balance: the naphtha and gas carbon not leaving in the products is emitted
    # (the tail gas burned in the furnaces is entered net, so its carbon is emitted here)
    r = mech(Study.prepare(A_HDPE), "steam-cracker", "carbon_balance")
    assert r.kg[Gas.co2_fossil] == pytest.approx(cracker_direct_co2_kg(), rel=1e-4)  # gas carbon rounded
    per_t_ethylene = r.kg[Gas.co2_fossil] / 800000e3
    assert 1.5 < per_t_ethylene < 2.5  # t CO2/t ethylene of a naphtha cracker, all products counted


def test_cracker_mass_partition_sums_back_to_the_whole():
    # PlasticsEurope eco-profiles: mass partition among every product and co-product leaving the cracker
    st_e, st_p = Study.prepare(A_HDPE), Study.prepare(A_PP)
    re, rp = (s.calculate_without_brightway().model_dump(mode="json") for s in (st_e, st_p))
    total = sum(MASSES.values())
    assert re["allocation"]["factors"]["steam-cracker"] == pytest.approx(800000 / total, rel=1e-12)
    assert re["allocation"]["factors"]["steam-cracker::propylene"] == pytest.approx(400000 / total, rel=1e-12)
    # the whole cracker by hand: direct CO2 + naphtha (with its sea leg) + gas + electricity
    naphtha = upstream(st_e, "naphtha") + 1500 * upstream(st_e, "transport-ship-bulk")  # 1,500 km by sea
    whole = (cracker_direct_co2_kg() + 2520000 * naphtha
             + 48e6 * upstream(st_e, "natural-gas") + 120e6 * upstream(st_e, "grid-cn-2023-pcf"))
    by_e = {p["process"]: p["total"] for p in re["by_process"]}
    by_p = {p["process"]: p["total"] for p in rp["by_process"]}
    per_t_ethylene = by_e["steam-cracker"] / (404800 / 400000)  # HDPE uses 1.012 t ethylene per t
    per_t_propylene = by_p["steam-cracker::propylene"] / (302400 / 300000)
    assert per_t_ethylene == pytest.approx(per_t_propylene, rel=1e-9)  # mass: the same burden per t of each
    # allocated shares x amounts: ethylene + propylene columns + the co-products leaving = the whole cracker
    allocated = per_t_ethylene * 800000 + per_t_propylene * 400000 + per_t_ethylene * (240000 + 640000 + 40000)
    assert allocated == pytest.approx(whole, rel=1e-4)


def test_ldpe_lldpe_of_enterprise_e_by_hand():
    # the cracker by hand as above, its ethylene's mass share carried by 1.015 t ethylene per t resin; the LDPE/LLDPE
    # plant's own carbon balance (the 6,000 t of ethylene not in the resin, and the steam gas) and its electricity
    st = Study.prepare(E_LDPE)
    naphtha = upstream(st, "naphtha") + 1000 * upstream(st, "transport-ship-bulk")  # 1,000 km by sea
    gas, grid = upstream(st, "natural-gas"), upstream(st, "grid-cn-2023-pcf")
    cracker = (cracker_direct_co2_kg(1830000, 30e6, MASSES_E) + 1830000 * naphtha + 30e6 * gas + 96e6 * grid)
    per_t_ethylene = cracker / sum(MASSES_E.values())  # mass partition: the same burden per t of each product
    plant_direct = ((406000 - 400000) * 1e3 * C_PE + 12e6 * GAS_C) * C_TO_CO2
    plant = plant_direct + 12e6 * gas + 320e6 * grid
    res = st.calculate_without_brightway()
    by_process = {p.process: p.total for p in res.by_process}
    assert by_process["steam-cracker"] == pytest.approx(406000 / 400000 * per_t_ethylene, rel=1e-4)  # gas C rounded
    assert by_process["ldpe-plant"] == pytest.approx(plant / 400000, rel=1e-4)
    assert res.gwp100_kg_co2e.total == pytest.approx(406000 / 400000 * per_t_ethylene + plant / 400000, rel=1e-4)
    # the hyper-compressors' 800 kWh/t against HDPE's 450: LDPE/LLDPE above complex A's HDPE, as in the
    # PlasticsEurope eco-profiles (LDPE above HDPE)
    assert res.gwp100_kg_co2e.total > result(A_HDPE).gwp100_kg_co2e.total


@pytest.mark.parametrize("approach, ratio", [
    # energy: LHV 47.2 GJ/t ethylene against the products' 95,712,000 GJ per 2,120,000 t
    ("energy", 47.2 * 2120000 / (800000 * 47.2 + 400000 * 45.8 + 240000 * 45.3 + 640000 * 41.5 + 40000 * 55.0)),
    # economic: 7,000 CNY/t ethylene against the products' 13.5 bn CNY per 2,120,000 t
    ("economic", 7000 * 2120000 / (800000 * 7000 + 400000 * 6800 + 240000 * 6500 + 640000 * 5500 + 40000 * 2500)),
])
def test_switching_the_allocation_basis_moves_ethylene_by_hand(tmp_path, approach, ratio):
    rule = write_variant(tmp_path, RULE, lambda d: d["allocation"].update(approach=approach))
    mass = {p["process"]: p["total"] for p in result(A_HDPE).model_dump(mode="json")["by_process"]}
    other = {p["process"]: p["total"] for p in result(A_HDPE, rule).model_dump(mode="json")["by_process"]}
    assert other["steam-cracker"] / mass["steam-cracker"] == pytest.approx(ratio, rel=1e-9)
    assert other["hdpe-plant"] == pytest.approx(mass["hdpe-plant"], rel=1e-12)  # single-output: unchanged


def test_coal_to_methanol_carbon_balance():
    # IPCC 2006 Vol. 3 3.9.2: (feed + boiler coal) x 0.5513 t C/t - methanol x 12.011/32.042, as CO2
    r = mech(Study.prepare(B), "coal-to-methanol", "carbon_balance")
    c = (2610000 + 990000) * 0.5513e3 - 1800000 * 0.3748e3
    assert r.kg[Gas.co2_fossil] == pytest.approx(c * C_TO_CO2, rel=1e-9)
    assert r.kg[Gas.co2_fossil] / 1800000e3 == pytest.approx(2.668, abs=1e-3)  # t CO2 per t methanol


def test_mto_partition_and_carbon():
    st = Study.prepare(B)
    r = mech(st, "mto", "carbon_balance")
    c = 1800000 * 0.3748e3 - (300000 + 300000 + 60000) * C_PE * 1e3  # coke burned off in the regenerator
    assert r.kg[Gas.co2_fossil] == pytest.approx(c * C_TO_CO2, rel=1e-9)
    factors = st.calculate_without_brightway().model_dump(mode="json")["allocation"]["factors"]
    assert factors["mto"] == factors["mto::propylene"] == pytest.approx(300000 / 660000)


def test_chlor_alkali_mass_partition():
    # chlorine's share among Cl2, NaOH and H2 leaving the cells (PlasticsEurope / Euro Chlor convention)
    res = result(C).model_dump(mode="json")
    assert res["allocation"]["factors"]["chlor-alkali"] == pytest.approx(238714 / (238714 + 269269 + 6684), rel=1e-12)


def test_lime_kiln_calcination_and_carbide_furnace_against_the_ipcc_default():
    st = Study.prepare(D)
    calc = mech(st, "lime-kiln", "calcination")
    assert calc.kg[Gas.co2_fossil] == pytest.approx(698962e3 * 0.12 * C_TO_CO2, rel=1e-9)  # carbonates, Eq. 2.14 logic
    fuel = mech(st, "lime-kiln", "carbon_balance")  # limestone excluded: only the kiln coke
    assert fuel.kg[Gas.co2_fossil] == pytest.approx(51048e3 * 0.83 * C_TO_CO2, rel=1e-9)
    r = mech(st, "carbide-furnace", "carbon_balance")
    c = 253057e3 * 0.83 + 10908e3 * 0.85 - 436305e3 * 0.2998  # coke + electrode paste - carbon in the carbide
    assert r.kg[Gas.co2_fossil] == pytest.approx(c * C_TO_CO2, rel=1e-9)
    per_t = r.kg[Gas.co2_fossil] / 436305e3
    # IPCC 2006 Vol. 3 3.6 Tier 1: 1.090 t CO2/t carbide; the furnace's own balance gives less (decision 0002)
    assert 0.5 < per_t < 1.090 and per_t == pytest.approx(0.744, abs=1e-3)


def test_acetylene_carbon_leaves_in_vcm():
    r = mech(Study.prepare(D), "vcm-acetylene", "carbon_balance")
    c = 436305e3 * 0.2998 + 36108e3 * 0.5513 - 300900e3 * 0.3843
    assert r.kg[Gas.co2_fossil] == pytest.approx(c * C_TO_CO2, rel=1e-9)


def test_bought_ethylene_takes_its_factor():
    res = result(C).model_dump(mode="json")
    rows = {row["factor"]: row["total"] for row in res["by_input"] if row["factor"]}
    assert rows["ethylene"] == pytest.approx(188564 / 400000 * 1300, rel=1e-9)


@pytest.mark.parametrize("path, fossil", [(A_HDPE, 856.3), (A_PP, 856.3), (B, 856.3), (C, 384.3), (D, 384.3),
                                                 (E_LDPE, 856.3)])
def test_resin_carbon_content_fossil_and_biogenic(path, fossil):
    # PACT fossilCarbonContent / biogenicCarbonContent: (CH2)n and (C3H6)n 0.8563, C2H3Cl 0.3843 t C/t
    c = result(path).model_dump(mode="json")["product_carbon"]
    assert c["fossil_kg_c"] == pytest.approx(fossil) and c["biogenic_kg_c"] == 0.0


@pytest.mark.parametrize("path", [A_HDPE, B, D, E_LDPE], ids=lambda p: p.stem)
def test_linearity_the_result_per_t_does_not_depend_on_the_scale(tmp_path, path):
    base = result(path).gwp100_kg_co2e.total
    assert result(write_variant(tmp_path, path, scaled_amounts)).gwp100_kg_co2e.total == pytest.approx(base, rel=1e-12)


def test_shipped_totals_lie_in_their_route_ranges_and_rank_by_route():
    totals = {p.stem: result(p) for p in (A_HDPE, A_PP, B, C, D, E_LDPE)}
    assert all(r.checks.within_route_plausible_range for r in totals.values())
    t = {k: r.gwp100_kg_co2e.total for k, r in totals.items()}
    # coal-to-olefins and the carbide route are the high-carbon Chinese routes
    assert t["nx-coal-to-olefins-b"] > 4 * t["sd-naphtha-cracker-a-pp"]
    assert t["xj-pvc-carbide-d"] > 3 * t["js-pvc-ethylene-c"]


def test_total_outside_the_route_range_is_a_warning_in_the_result(tmp_path):
    assert_route_range_warns(tmp_path, RULE, 0, 1200, A_HDPE)


@pytest.mark.parametrize("src, change, problem", [
    (A_HDPE, lambda d: d["processes"]["steam-cracker"]["naphtha"].update(unit="kWh"),  # wrong unit
     ("processes.steam-cracker.naphtha.unit", "'kWh'", "a unit convertible to t (Naphtha feed)")),
    (A_HDPE, lambda d: d["processes"]["steam-cracker"]["naphtha"].update(value=1200000),  # 1.5 t naphtha/t ethylene
     ("processes.steam-cracker.naphtha", "1.5 t/t (1.2e+06 t for 800000 t of Ethylene)", None)),
    (D, lambda d: d["processes"]["carbide-furnace"]["electricity"].update(value=500),  # 1,146 kWh/t carbide
     ("processes.carbide-furnace.electricity", "1146 kWh/t (5e+08 kWh for 436305 t of Calcium carbide)", None)),
    (D, lambda d: d["processes"]["lime-kiln"]["limestone"].update(value=-1),  # negative amount
     ("processes.lime-kiln.limestone.value", "-1.0 t", None)),
])
def test_negative_fixtures(tmp_path, src, change, problem):
    refused_with(tmp_path, src, change, problem)


def test_study_with_allocation_is_the_rule_with_another_basis(tmp_path):
    # Study.with_allocation (what the notebook shows) gives what an edited rule gives; mass again is unchanged
    st = Study.prepare(A_HDPE)
    rule = write_variant(tmp_path, RULE, lambda d: d["allocation"].update(approach="energy"))
    energy = st.with_allocation("energy").calculate_without_brightway().gwp100_kg_co2e.total
    assert energy == pytest.approx(result(A_HDPE, rule).gwp100_kg_co2e.total, rel=1e-12)
    assert st.with_allocation("mass").calculate_without_brightway().gwp100_kg_co2e.total == pytest.approx(
        st.calculate_without_brightway().gwp100_kg_co2e.total, rel=1e-12)
    assert st.rule.allocation.approach.value == "mass"  # the study's own rule is not changed
