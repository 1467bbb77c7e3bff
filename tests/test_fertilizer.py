"""The fertilizer rule (standards/fertilizer/pcr-fertilizer.yaml) on its shipped illustrative enterprises: the
ammonia carbon balances (coal gasification, gas reforming) with the CO2 sent to urea and the energy per t NH3
against the IPCC 2006 Vol. 3 Table 3.1 defaults, nitric acid N2O by plant class, with abatement and measured (Table
3.3, Eq. 3.6), the CO2 bound in urea not credited and credited (decision 0001), the footprint per kg of N, P2O5 and
K2O (declared components), linearity, plausibility and negative fixtures. Each figure by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_route_range_warns, refused_with, scaled_amounts, write_variant
from conftest import mechanism as mech

from methodology.errors import RuleError
from methodology.gases import C_TO_CO2, Gas
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
RULE = ROOT / "standards" / "fertilizer" / "pcr-fertilizer.yaml"
CREDITED = ROOT / "standards" / "fertilizer" / "variants" / "urea-bound-co2-credited.yaml"
FE = ROOT / "parameters" / "fertilizer"
A_UREA, A_NH3 = FE / "sx-coal-gasification-a-urea.yaml", FE / "sx-coal-gasification-a-ammonia.yaml"
B_UREA = FE / "sc-gas-reforming-b-urea.yaml"
C_AN, C_HNO3 = FE / "xj-nitric-ammonium-nitrate-c-an.yaml", FE / "xj-nitric-ammonium-nitrate-c-nitric-acid.yaml"
D_NPK = FE / "hb-npk-compound-d.yaml"
COAL_C, COAL_NCV = 0.5513, 20.908  # t C/t and GJ/t of raw coal (Chinese defaults in cn-core)
GAS_C, GAS_NCV = 0.5956, 0.038931  # kg C/m3 and GJ/m3 of natural gas (Chinese guideline defaults)
UREA_C, CO2_C = 12.011 / 60.056, 12.011 / 44.009  # t C/t from the formulae
GWP_N2O = 273.0  # IPCC AR6 GWP100


def result(path, rule=None):
    return Study.prepare(path, rule).calculate_without_brightway()


def test_coal_gasification_ammonia_carbon_balance_and_co2_to_urea():
    # IPCC 2006 Vol. 3 Eq. 3.1-3.3: all the coal's carbon (feed and boilers) as CO2; R_urea reported as transferred
    st = Study.prepare(A_UREA)
    balance = mech(st, "ammonia-coal-gasification", "carbon_balance")
    assert balance.kg[Gas.co2_fossil] == pytest.approx((725000 + 275000) * COAL_C * 1e3 * C_TO_CO2, rel=1e-9)
    transfer = mech(st, "ammonia-coal-gasification", "co2_transfer")
    assert transfer.kg[Gas.co2_fossil] == pytest.approx(-592000e3, rel=1e-12)
    net_per_t = (balance.kg[Gas.co2_fossil] + transfer.kg[Gas.co2_fossil]) / 500000e3
    assert net_per_t == pytest.approx(2.859, abs=1e-3)  # t CO2 per t NH3 left after urea takes its CO2


def test_ammonia_energy_per_tonne_against_ipcc_table_3_1():
    # IPCC 2006 Vol. 3 Table 3.1 (read from a restatement): partial oxidation 36.0 GJ/t (modern), 39.3 (average);
    # natural gas conventional reforming 30.2 (modern), 37.5 (average). Chinese coal plants lie above.
    coal = (725000 + 275000) * COAL_NCV / 500000
    gas = (186e6 + 99e6) * GAS_NCV / 300000
    assert coal == pytest.approx(41.816, abs=1e-3) and 36.0 < coal < 1.5 * 36.0
    assert gas == pytest.approx(36.984, abs=1e-3) and 30.2 < gas < 37.5 * 1.1


def test_energy_per_unit_is_every_input_with_a_calorific_value():
    from methodology.core.disclosures import energy_per_unit

    st = Study.prepare(B_UREA)
    rows = {r["input"]: r["GJ per unit"] for r in energy_per_unit(st.enterprise, st.factors, "ammonia-gas-reforming")}
    assert rows == pytest.approx({"gas_feed": 186e6 * GAS_NCV / 300000, "gas_fuel": 99e6 * GAS_NCV / 300000})


def test_gas_reforming_ammonia_carbon_balance():
    st = Study.prepare(B_UREA)
    balance = mech(st, "ammonia-gas-reforming", "carbon_balance")
    assert balance.kg[Gas.co2_fossil] == pytest.approx((186e6 + 99e6) * GAS_C * C_TO_CO2, rel=1e-9)
    per_t = (balance.kg[Gas.co2_fossil] - 370000e3) / 300000e3
    # IPCC Table 3.1 conventional reforming 1.694 t CO2/t NH3 gross; here gross 2.07, 0.84 after the urea CO2
    assert balance.kg[Gas.co2_fossil] / 300000e3 == pytest.approx(2.075, abs=1e-3) and per_t == pytest.approx(0.842,
                                                                                                             abs=1e-3)


def test_urea_plant_carbon_balance_vents_what_urea_does_not_bind():
    r = mech(Study.prepare(A_UREA), "urea-plant", "carbon_balance")
    c = 592000e3 * 0.2729 + 120000e3 * COAL_C - 800000e3 * 0.2000  # CO2 and steam coal in, urea out
    assert r.kg[Gas.co2_fossil] == pytest.approx(c * C_TO_CO2, rel=1e-9)


@pytest.mark.parametrize("path", [A_UREA, B_UREA], ids=lambda p: p.stem)
def test_urea_bound_co2_not_credited_by_default_and_credited_by_the_variant(path):
    # decision 0001: not credited = the CO2 of urea's carbon (0.2000 t C/t x 44/12) counted; credited = subtracted
    st = Study.prepare(path)
    default = st.calculate_without_brightway().model_dump(mode="json")
    credited = st.with_variant(CREDITED).calculate_without_brightway().model_dump(mode="json")
    bound = 1000 * 0.2000 * C_TO_CO2  # kg CO2 per t urea
    assert default["product_carbon"]["bound_co2_kg"] == credited["product_carbon"]["bound_co2_kg"] == pytest.approx(
        bound, rel=1e-9)
    assert default["product_carbon"]["bound_co2_treatment"] == "not_credited"
    assert credited["product_carbon"]["bound_co2_treatment"] == "credited"
    assert default["gwp100_kg_co2e"]["total"] - credited["gwp100_kg_co2e"]["total"] == pytest.approx(bound, rel=1e-9)
    assert credited["provenance"]["rule_set"]["variant"]["id"] == "fertilizer-urea-bound-co2-credited"
    assert default["checks"]["site_carbon_balance_closes"] and credited["checks"]["site_carbon_balance_closes"]


def test_the_variant_and_with_bound_co2_are_the_rule_with_its_treatment_switched(tmp_path):
    rule = write_variant(tmp_path, RULE, lambda d: d["carbon_accounting"]["bound_co2"].update(treatment="credited"))
    st = Study.prepare(A_UREA)
    via_variant = st.with_variant(CREDITED).calculate_without_brightway().gwp100_kg_co2e.total
    assert result(A_UREA, rule).gwp100_kg_co2e.total == pytest.approx(via_variant, rel=1e-12)
    assert st.with_bound_co2("credited").calculate_without_brightway().gwp100_kg_co2e.total == pytest.approx(
        via_variant, rel=1e-12)
    assert st.rule.carbon_accounting.bound_co2.treatment.value == "not_credited"  # the study's rule unchanged
    with pytest.raises(RuleError, match="carbon_accounting.bound_co2"):  # a rule without the section
        Study.prepare(ROOT / "parameters" / "cement" / "js-grinding-station-c.yaml").with_bound_co2("credited")


def test_products_without_bound_co2_report_none():
    c = result(C_AN).model_dump(mode="json")["product_carbon"]
    assert c["bound_co2_kg"] is None and c["bound_co2_treatment"] is None and c["fossil_kg_c"] == 0.0


def _n2o_per_t(res) -> float:
    (r,) = [m for m in res.model_dump(mode="json")["direct_emissions"] if m["mechanism"] == "process_factor"]
    return r["kg_per_year"].get("n2o", 0.0) / 500000


@pytest.mark.parametrize("params, kg_per_t", [
    ({}, 7 * (1 - 0.85 * 0.95)),  # the shipped plant C: medium pressure 7 kg/t with a secondary catalyst (Eq. 3.6)
    ({"destruction": None, "utilisation": None}, 7.0),  # medium pressure, no abatement (Table 3.3)
    ({"plant_class": "low-pressure", "destruction": None, "utilisation": None}, 5.0),
    ({"plant_class": "high-pressure", "destruction": None, "utilisation": None}, 9.0),
    ({"plant_class": "nscr", "destruction": None, "utilisation": None}, 2.0),
    ({"plant_class": "integrated-abatement", "destruction": None, "utilisation": None}, 2.5),
    ({"n2o_measured": 1.2}, 1.2 * (1 - 0.85 * 0.95)),  # a measured factor replaces the class default, then abated
])
def test_nitric_acid_n2o_by_class_abatement_and_measured(tmp_path, params, kg_per_t):
    def change(d):
        for name, value in params.items():
            if value is None:
                d["parameters"]["nitric-acid-plant"].pop(name)
            else:
                d["parameters"]["nitric-acid-plant"][name] = {"value": value, "unit": "kg/t" if name == "n2o_measured"
                                                              else "", "source": "test"}
    res = result(write_variant(tmp_path, C_HNO3, change))
    assert _n2o_per_t(res) == pytest.approx(kg_per_t, rel=1e-12)
    assert res.model_dump(mode="json")["by_gas"]["N2O"]["total"] == pytest.approx(kg_per_t * GWP_N2O, rel=1e-9)


def test_ammonium_nitrate_from_nitric_acid_and_ammonia_by_hand():
    st_hno3, st_an = Study.prepare(C_HNO3), Study.prepare(C_AN)
    hno3 = st_hno3.calculate_without_brightway().gwp100_kg_co2e.total
    by = {p["process"]: p["total"] for p in st_an.calculate_without_brightway().model_dump(mode="json")["by_process"]}
    assert by["nitric-acid-plant"] / 0.7875 == pytest.approx(
        {p["process"]: p["total"] for p in st_hno3.calculate_without_brightway().model_dump(mode="json")[
            "by_process"]}["nitric-acid-plant"], rel=1e-9)  # 472,500 t HNO3 for 600,000 t AN
    assert sum(by.values()) == pytest.approx(st_an.calculate_without_brightway().gwp100_kg_co2e.total, rel=1e-9)
    assert hno3 < st_an.calculate_without_brightway().gwp100_kg_co2e.total


@pytest.mark.parametrize("path, contents", [
    (A_UREA, {"n": 28.014 / 60.056}), (A_NH3, {"n": 14.007 / 17.031}), (C_HNO3, {"n": 14.007 / 63.012}),
    (C_AN, {"n": 28.014 / 80.043}), (D_NPK, {"n": 0.15, "p2o5": 0.15, "k2o": 0.15})],
    ids=lambda x: getattr(x, "stem", ""))
def test_footprint_per_kg_of_each_declared_component(path, contents):
    res = result(path).model_dump(mode="json")
    total = res["gwp100_kg_co2e"]["total"]
    got = {c["id"]: c for c in res["per_component"]}
    assert set(got) == set(contents)
    for cid, fraction in contents.items():
        assert got[cid]["content"] == pytest.approx(fraction, abs=1e-4)  # the rule rounds to 4 decimals
        assert got[cid]["kg_co2e_per_kg"] == pytest.approx(total / (1000 * got[cid]["content"]), rel=1e-6)


def test_an_enterprise_content_replaces_the_rules(tmp_path):
    f = write_variant(tmp_path, A_UREA, lambda d: d.update(components={"n": {"value": 46.2, "unit": "%",
                                                                               "source": "plant analysis"}}))
    res = result(f).model_dump(mode="json")
    (n,) = res["per_component"]
    assert (n["content"], n["content_origin"], n["content_source"]) == (0.462, "enterprise", "plant analysis")
    assert n["kg_co2e_per_kg"] == pytest.approx(res["gwp100_kg_co2e"]["total"] / 462, rel=1e-6)


def test_results_table_has_a_column_per_component():
    from methodology.outputs.table import result_row, results_frame

    df = results_frame([result_row(result(D_NPK), "fertilizer"), result_row(result(A_UREA), "fertilizer")])
    assert {"per_kg:n", "per_kg:p2o5", "per_kg:k2o"} <= set(df.columns)
    urea = df[df["product"] == "urea"].iloc[0]
    assert urea["per_kg:p2o5"] != urea["per_kg:p2o5"]  # NaN: urea declares no P2O5 (empty, not zero)


@pytest.mark.parametrize("path", [A_UREA, C_AN, D_NPK], ids=lambda p: p.stem)
def test_linearity_the_result_per_t_does_not_depend_on_the_scale(tmp_path, path):
    base = result(path).gwp100_kg_co2e.total
    assert result(write_variant(tmp_path, path, scaled_amounts)).gwp100_kg_co2e.total == pytest.approx(base, rel=1e-12)


def test_shipped_totals_lie_in_their_route_ranges_and_rank_by_route():
    totals = {p.stem: result(p) for p in sorted(FE.glob("*.yaml"))}
    assert all(r.checks.within_route_plausible_range for r in totals.values())
    t = {k: r.gwp100_kg_co2e.total for k, r in totals.items()}
    assert t["sx-coal-gasification-a-urea"] > 1.5 * t["sc-gas-reforming-b-urea"]  # coal against gas


def test_total_outside_the_route_range_is_a_warning_in_the_result(tmp_path):
    assert_route_range_warns(tmp_path, RULE, 3, 1000, D_NPK)


@pytest.mark.parametrize("src, change, problem", [
    (D_NPK, lambda d: d["components"].pop("n"),  # the grade is the enterprise's: no content, no figure per kg
     ("components.n", "no content", "the mass fraction of Nitrogen (N) in the product (the rule gives none for npk)")),
    (A_UREA, lambda d: d.update(components={"p2o5": {"value": 0.1, "source": "x"}}),
     ("components.p2o5", "a component the rule does not declare", "one of the components of product urea: ['n']")),
    (D_NPK, lambda d: d["components"]["k2o"].update(value=150),
     ("components.k2o", "150 %", "a mass fraction in (0, 1] (unit '' or '%')")),
    (C_AN, lambda d: d["parameters"]["nitric-acid-plant"]["plant_class"].update(value="ultra-pressure"),
     ("parameters.nitric-acid-plant.plant_class.value", "'ultra-pressure'", None)),
    (C_AN, lambda d: d["processes"]["nitric-acid-plant"]["ammonia"].update(value=100000),  # 0.2 t NH3/t HNO3
     ("processes.nitric-acid-plant.ammonia", "0.2 t/t (100000 t for 500000 t of Nitric acid (100 % HNO3))", None)),
])
def test_negative_fixtures(tmp_path, src, change, problem):
    refused_with(tmp_path, src, change, problem)


@pytest.mark.parametrize("change, field, found", [
    (lambda d: d["carbon_accounting"]["bound_co2"].update(products=["npk"]),
     "carbon_accounting.bound_co2.products[0]", "'npk'"),
    (lambda d: d["processes"][3]["emissions"][0]["factors"].pop("nscr"),
     "processes.nitric-acid-plant.emissions[0] (process_factor).factors", "no factor for the choices ['nscr'] of "
     "parameter 'plant_class'"),
])
def test_rule_negative_fixtures(tmp_path, change, field, found):
    with pytest.raises(RuleError) as exc:
        Study.prepare(A_UREA, write_variant(tmp_path, RULE, change))
    assert [(p.field, p.found) for p in exc.value.problems] == [(field, found)]
