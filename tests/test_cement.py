"""The cement rule (standards/cement/pcr-cement.yaml) on its shipped illustrative enterprises: calcination from
clinker oxides and by the GCCA/CSI default, kiln dust, organic carbon, biogenic fuels, the by-product choice,
linearity, the plausibility warning and negative fixtures. Each figure by hand from the method it cites."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_route_range_warns, refused_with, scaled_amounts, write_variant
from conftest import mechanism as mech

from methodology.gases import C_TO_CO2, Gas
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
RULE = ROOT / "standards" / "cement" / "pcr-cement.yaml"
CEMENT = ROOT / "parameters" / "cement"
A, A_CLINKER = CEMENT / "ah-integrated-plant-a.yaml", CEMENT / "ah-integrated-plant-a-clinker.yaml"
B, C = CEMENT / "gd-coprocessing-plant-b.yaml", CEMENT / "js-grinding-station-c.yaml"
D = CEMENT / "sc-portland-plant-d.yaml"
CAO, MGO = 44.01 / 56.08, 44.01 / 40.30  # t CO2 per t oxide (IPCC 2006 Vol. 3 Ch. 2: 0.785 and 1.092)


def result(path, rule=None):
    return Study.prepare(path, rule).calculate_without_brightway()


def test_clinker_calcination_from_cao_and_mgo_with_organic_carbon():
    # plant A: 65.5 % CaO, 2.5 % MgO, all from carbonates (IPCC 2006 Vol. 3 Ch. 2, 2.2.1.2; GCCA/CSI method B2)
    r = mech(Study.prepare(A_CLINKER), "clinker-kiln", "calcination")
    ef = 0.655 * CAO + 0.025 * MGO
    assert ef == pytest.approx(0.54133, abs=1e-5)
    toc_t = 2.4174e6 * 0.0015 * C_TO_CO2  # raw meal x TOC 0.15 % x 44/12
    assert r.detail["ef_basis"] == "oxide contents"
    assert r.kg[Gas.co2_fossil] == pytest.approx((1.56e6 * ef + toc_t) * 1000)


def test_gcca_default_when_the_clinker_oxides_are_not_reported():
    # plant D reports no CaO: 525 kg CO2/t clinker (GCCA/CSI method B1), TOC at the rule's default 0.2 %
    r = mech(Study.prepare(D), "clinker-kiln", "calcination")
    assert r.detail["ef_basis"] == "default factor"
    assert r.kg[Gas.co2_fossil] == pytest.approx(900000 * 525 + 1.422e6 * 0.002 * C_TO_CO2 * 1000)


def test_kiln_dust_and_non_carbonate_cao():
    # plant B: (64.8 - 1.0) % CaO and 1.8 % MgO; 0.015 t bypass dust/t clinker calcined at 0.8 (GCCA/CSI)
    r = mech(Study.prepare(B), "clinker-kiln", "calcination")
    ef = (0.648 - 0.01) * CAO + 0.018 * MGO
    x = ef / (1 + ef) * 0.8
    dust = 1.2e6 * 0.015 * x / (1 - x)
    assert r.detail["kiln_dust_co2_t"] == pytest.approx(dust)
    assert r.kg[Gas.co2_fossil] == pytest.approx((1.2e6 * ef + dust + 1.872e6 * 0.002 * C_TO_CO2) * 1000)


def test_biomass_and_rdf_give_the_biogenic_share():
    # plant B's kiln fuels, complete oxidation (GCCA/CSI: kiln fuels burn out): RDF 10 GJ/t x 25 kg C/GJ, half
    # biogenic; biomass 11.6 GJ/t x 27.3 kg C/GJ, all biogenic (IPCC 2006 Vol. 2 Tables 1.2 and 1.3)
    r = mech(Study.prepare(B), "clinker-kiln", "combustion")
    rdf, biomass = 79200 * 10 * 25 * C_TO_CO2, 34100 * 11.6 * 27.3 * C_TO_CO2
    coal, oil = 126000 * 575 * C_TO_CO2, 360 * 41.816 * 21.1 * C_TO_CO2
    assert r.kg[Gas.co2_biogenic] == pytest.approx(0.5 * rdf + biomass)
    assert r.kg[Gas.co2_fossil] == pytest.approx(coal + 0.5 * rdf + oil)
    res = result(B)
    gas = res.model_dump(mode="json")["gas_mass_kg"]
    per_t_biogenic = (0.5 * rdf + biomass) / 1.25e6 * 1.1375e6 / 1.2e6  # the kiln runs 0.9479 t per t cement
    assert gas["co2_biogenic"] == pytest.approx(per_t_biogenic, rel=1e-6)
    # the CO2 the biomass took up balances it at the factor set's defaults (uptake factors rounded to 0.1 kg/t)
    assert gas["co2_uptake"] == pytest.approx(per_t_biogenic, abs=0.01)
    assert res.gwp100_kg_co2e.biogenic == pytest.approx(0, abs=0.01)
    assert res.checks.within_route_plausible_range


def test_the_by_product_choice_moves_the_total_by_exactly_the_allocated_burden():
    # grinding station C per t cement: 0.18 t slag x 56.5 + 0.15 t fly ash x 240 + 0.045 t FGD gypsum x 73 kg
    st = Study.prepare(C)
    assert st.rule.factor_choices[0].selected == "economic-allocation"
    economic = st.calculate_without_brightway().gwp100_kg_co2e.total
    zero = st.with_factor_choices({"by-product-burden": "zero-burden"}).calculate_without_brightway()
    assert economic - zero.gwp100_kg_co2e.total == pytest.approx(0.18 * 56.5 + 0.15 * 240 + 0.045 * 73, abs=1e-9)
    # each result says which option it was computed under
    assert st.calculate_without_brightway().scope.factor_choices == {"by-product-burden": "economic-allocation"}
    assert zero.scope.factor_choices == {"by-product-burden": "zero-burden"}


def test_linearity_the_result_per_t_does_not_depend_on_the_scale(tmp_path):
    base = result(C).gwp100_kg_co2e.total

    assert result(write_variant(tmp_path, C, scaled_amounts)).gwp100_kg_co2e.total == pytest.approx(base, rel=1e-12)


def test_clinker_per_t_cement_follows_the_clinker_ratio(tmp_path):
    # 10 kt more purchased clinker per 800 kt cement adds 0.0125 t x (908.5 kg + 400 km x inland waterway)
    def more(d):
        d["processes"]["grinding-p-c"]["clinker"]["value"] += 10000
        d["processes"]["grinding-p-c"]["limestone"]["value"] -= 10000

    st = Study.prepare(C)
    barge = st.factors.get("transport-inland-waterway").emissions_kg()
    per_tkm = sum(v for v in barge.values())  # all fossil CO2e gases, GWP 1 except CH4/N2O (none here)
    lime = st.factors.get("cement-limestone").emissions_kg()[Gas.co2e_fossil] + \
        30 * sum(st.factors.get("transport-road").emissions_kg().values())
    delta = result(write_variant(tmp_path, C, more)).gwp100_kg_co2e.total - result(C).gwp100_kg_co2e.total
    assert delta == pytest.approx(10000 / 800000 * (908.5 + 400 * per_tkm - lime), rel=1e-3)


def test_total_outside_the_route_range_is_a_warning_in_the_result(tmp_path):
    assert_route_range_warns(tmp_path, RULE, 4, 500, C)


@pytest.mark.parametrize("src, change, problem", [
    (C, lambda d: d["processes"]["grinding-p-c"]["clinker"].update(unit="kWh"),  # wrong unit
     ("processes.grinding-p-c.clinker.unit", "'kWh'", "a unit convertible to t (Clinker)")),
    (A_CLINKER, lambda d: d["parameters"]["clinker-kiln"]["cao"].update(value=-65.5),  # negative CaO
     ("parameters.clinker-kiln.cao.value", "-65.5 percent", None)),
    (C, lambda d: d.update(product="cement-p-c-32-5r"),  # unknown cement type (P·C 32.5R left GB 175 in 2023)
     ("product", "'cement-p-c-32-5r'", "one of ['clinker', 'cement-p-i', 'cement-p-ii', 'cement-p-o', 'cement-p-c']"
                 " (the rest of the file was checked against product 'cement-p-c', the closest)")),
    (C, lambda d: d["processes"]["grinding-p-c"]["clinker"].update(value=720000),  # 0.90 t/t is not a P·C
     ("processes.grinding-p-c.clinker", "0.9 t/t (720000 t for 800000 t of Cement P·C produced)",
      "between 0.43 and 0.79 t/t (GB 175-2023 Table 1: P·C clinker and gypsum at least 50 % and below 80 %)")),
])
def test_negative_fixtures(tmp_path, src, change, problem):
    refused_with(tmp_path, src, change, problem)
