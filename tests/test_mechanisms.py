"""Emission mechanisms: each against a hand calculation from the equation it cites, on a toy rule that is not
steel (tests/fixtures/toy), plus the rule and parameter checks that keep mechanisms from counting twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_same_figures, write_variant

from methodology.core.mechanisms import minerals, process
from methodology.errors import ParameterFileError, RuleError
from methodology.gases import C_TO_CO2, Gas
from methodology.schema.factors import load_factor_set
from methodology.schema.rules import load_rule
from methodology.study import Study

TOY = Path(__file__).resolve().parent / "fixtures" / "toy"
RULE = TOY / "standards" / "toy" / "pcr-toy.yaml"
FACTORS = TOY / "standards" / "factors" / "toy-factors.yaml"
PLANT = TOY / "parameters" / "toy-plant.yaml"


def study(tmp_path, product: str = "clinker", parameters: dict | None = None, mutate=None) -> Study:
    def change(d):
        d["product"] = product
        d["parameters"] = parameters or {}
        if mutate:
            mutate(d)

    return Study.prepare(write_variant(tmp_path, PLANT, change), RULE, FACTORS)


def mech(st: Study, pid: str, kind: str):
    (r,) = [r for r in st.foreground.processes[pid].mechanisms if r.type == kind]
    return r


def per_t(st: Study) -> float:
    return st.calculate_without_brightway().gwp100_kg_co2e.total


# --- textbook equations ---------------------------------------------------------------------------------
def test_clinker_factor_ipcc_default():
    # IPCC 2006 Vol. 3 Ch. 2, 2.2.1.2: 65 % CaO gives 0.65 x 0.785 = 0.510 t CO2/t clinker (the Tier 1 default)
    assert minerals.clinker_factor(cao=0.65) == pytest.approx(0.5101, abs=1e-4)
    # MgO from carbonates adds 44.01/40.30 = 1.092 t CO2 per t MgO
    assert minerals.clinker_factor(cao=0.65, mgo=0.02) - minerals.clinker_factor(cao=0.65) == pytest.approx(
        0.02 * 1.092, abs=1e-4)


def test_kiln_dust_factor_csi_protocol():
    # CSI protocol: EF_CKD = (EF/(1+EF) d) / (1 - EF/(1+EF) d); fully calcined dust (d = 1) gives EF itself...
    ef = 0.525
    x = ef / (1 + ef)
    assert minerals.kiln_dust_factor(ef, 1.0) == pytest.approx(x / (1 - x)) == pytest.approx(ef)
    # ...and uncalcined dust nothing
    assert minerals.kiln_dust_factor(ef, 0.0) == 0.0


def test_nitric_acid_abatement_equation_3_6():
    # 7 kg N2O/t (medium pressure, IPCC Table 3.3), 1000 t, 80 % destruction, 90 % utilisation
    assert process.abated(7.0, 1000.0, destruction=0.8, utilisation=0.9) == pytest.approx(7000 * (1 - 0.72))
    with pytest.raises(Exception, match="must be in"):
        process.abated(7.0, 1.0, destruction=1.2)


def test_pfc_slope_and_overvoltage_equations():
    # Eq. 4.26, CWPB: 0.143 x 0.5 AEM = 0.0715 kg CF4/t; C2F6 = 0.121 x CF4
    assert process.slope_pfc(slope_cf4=0.143, aem=0.5, c2f6_to_cf4=0.121) == pytest.approx((0.0715, 0.0715 * 0.121))
    # Eq. 4.27 as in Regulation (EU) 601/2012 Annex IV 8 B: OVC x AEO / CE(%): 1.16 x 10 mV / 94 %
    cf4, c2f6 = process.overvoltage_pfc(ovc_cf4=1.16, aeo_mv=10.0, ce_percent=94.0, c2f6_to_cf4=0.121)
    assert cf4 == pytest.approx(0.123404, abs=1e-6) and c2f6 == pytest.approx(cf4 * 0.121)


# --- each mechanism inside a study, by hand ---------------------------------------------------------------
def test_combustion_and_calcination_on_oxides(tmp_path):
    st = study(tmp_path)
    # 100 t coal x 20 GJ/t x 25 kg C/GJ x 0.9 x 44/12
    assert dict(mech(st, "kiln", "combustion").kg) == {Gas.co2_fossil: pytest.approx(100 * 20 * 25 * 0.9 * C_TO_CO2)}
    # 1000 t clinker x 0.65 x 44.01/56.08 t CO2/t
    assert mech(st, "kiln", "calcination").kg[Gas.co2_fossil] == pytest.approx(1000e3 * 0.65 * 44.01 / 56.08)
    # per t clinker: 165 + 510.1 direct, 1.5 t limestone x 2, 0.1 t coal x 10 kg CH4 x 29.8, 50 kWh x 0.5
    assert per_t(st) == pytest.approx(165 + 650 * 44.01 / 56.08 + 3 + 29.8 + 25, abs=1e-6)


def test_measured_calorific_value_and_carbon_replace_defaults(tmp_path):
    measured = {"carbon_content": {"value": 0.6, "unit": "t/t", "source": "lab"},
                "net_calorific_value": {"value": 24, "unit": "GJ/t", "source": "lab"}}
    st = study(tmp_path, mutate=lambda d: d["processes"]["kiln"]["coal"].update(measured))
    # 100 t x 24 GJ/t x (600 kg C/t / 24 GJ/t) x 0.9 x 44/12 = 100 x 600 x 0.9 x 44/12
    assert mech(st, "kiln", "combustion").kg[Gas.co2_fossil] == pytest.approx(100 * 600 * 0.9 * C_TO_CO2)


def test_complete_oxidation_option(tmp_path):
    st = study(tmp_path, "hydrogen")
    # reformer: 160 000 GJ x 15 kg C/GJ x 1 (complete) x 44/12, minus 5 000 t CO2 transferred
    r = mech(st, "reformer", "combustion")
    assert r.kg[Gas.co2_fossil] == pytest.approx(160000 * 15 * C_TO_CO2)
    assert r.detail["natural_gas"]["oxidation"] == 1.0


def test_clinker_oxides_mgo_non_carbonate_cao_and_kiln_dust(tmp_path):
    params = {"kiln": {"cao": {"value": 66, "unit": "percent", "source": "XRF"},
                       "mgo": {"value": 0.02, "source": "XRF"},
                       "cao_non_carbonate": {"value": 0.01, "source": "slag feed"},
                       "kiln_dust": {"value": 0.02, "source": "plant"},
                       "kiln_dust_calcination": {"value": 0.5, "source": "plant"}}}
    st = study(tmp_path, parameters=params)
    ef = (0.66 - 0.01) * 44.01 / 56.08 + 0.02 * 44.01 / 40.30
    x = ef / (1 + ef) * 0.5
    expected_t = 1000 * ef + 1000 * 0.02 * x / (1 - x)
    r = mech(st, "kiln", "calcination")
    assert r.kg[Gas.co2_fossil] == pytest.approx(expected_t * 1000)
    assert st.enterprise.parameters[("kiln", "cao")].value == pytest.approx(0.66)  # 66 percent, converted


def test_carbon_balance_with_carbonates_counted_by_calcination(tmp_path):
    params = {"lime-kiln": {"calcined": {"value": 0.95, "source": "plant"}}}
    st = study(tmp_path, "lime", params)
    # carbonates: 1800 t x 0.12 t C/t x 44/12 x 0.95; the balance excludes the limestone: gas only
    assert mech(st, "lime-kiln", "calcination").kg[Gas.co2_fossil] == pytest.approx(1800e3 * 0.12 * C_TO_CO2 * 0.95)
    bal = mech(st, "lime-kiln", "carbon_balance")
    assert bal.kg[Gas.co2_fossil] == pytest.approx(4000 * 15 * C_TO_CO2)  # all gas carbon (no oxidation factor)
    assert "limestone" not in bal.carbon.inputs


def test_process_factor_default_measured_and_abated(tmp_path):
    assert mech(study(tmp_path, "acid"), "acid-plant", "process_factor").kg[Gas.n2o] == pytest.approx(7000)
    params = {"acid-plant": {"n2o_measured": {"value": 5.5, "unit": "kg/t", "source": "AMS"},
                             "destruction": {"value": 0.8, "source": "vendor"},
                             "utilisation": {"value": 0.9, "source": "log"}}}
    st = study(tmp_path, "acid", params)
    assert mech(st, "acid-plant", "process_factor").kg[Gas.n2o] == pytest.approx(5500 * (1 - 0.8 * 0.9))
    # per t acid: 1.54 kg N2O x 273 + 10 kWh x 0.5
    assert per_t(st) == pytest.approx(1.54 * 273 + 5, abs=1e-6)


@pytest.mark.parametrize("params, method, cf4_per_t", [
    ({}, "tier1", 0.4),
    ({"technology": {"value": "swpb", "source": "plant"}}, "tier1", 1.6),
    ({"aem": {"value": 0.5, "unit": "min/d", "source": "cell log"}}, "slope", 0.143 * 0.5),
    ({"aeo": {"value": 10, "unit": "mV", "source": "cell log"}, "ce": {"value": 94, "unit": "percent",
                                                                       "source": "plant"}},
     "overvoltage", 1.16 * 10 / 94),
    # both given: the rule's order puts the slope method first
    ({"aem": {"value": 0.5, "unit": "min/d", "source": "log"}, "aeo": {"value": 10, "unit": "mV", "source": "log"},
      "ce": {"value": 0.94, "source": "plant"}}, "slope", 0.143 * 0.5),
])
def test_anode_effect_pfc_tiers(tmp_path, params, method, cf4_per_t):
    st = study(tmp_path, "metal", {"smelter": params})
    r = mech(st, "smelter", "anode_effect_pfc")
    assert r.detail["method"] == method
    assert r.kg[Gas.cf4] == pytest.approx(cf4_per_t * 1000)
    ratio = 0.4 / 1.6 if params.get("technology") else (0.04 / 0.4 if method == "tier1" else 0.121)
    assert r.kg[Gas.c2f6] == pytest.approx(cf4_per_t * 1000 * ratio)
    # per t metal: CF4 x 7380 + C2F6 x 12400 + 13 500 kWh x 0.5
    assert per_t(st) == pytest.approx(cf4_per_t * 7380 + cf4_per_t * ratio * 12400 + 6750, abs=1e-6)


def test_co2_transfer_with_a_carbon_balance_must_exclude_the_captured_co2(tmp_path):
    def mutate(d):
        d["processes"][4]["emissions"] = [{"type": "carbon_balance"},
                                          {"type": "co2_transfer", "output": "co2_captured"}]

    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), load_factor_set(FACTORS))
    assert [(p.field, p.found) for p in exc.value.problems] == [(
        "processes.reformer.emissions[0] (carbon_balance).exclude",
        "'co2_captured' is counted by emissions[1] (co2_transfer) and by the carbon balance: exclude it")]


def test_co2_transfer(tmp_path):
    st = study(tmp_path, "hydrogen")
    r = mech(st, "reformer", "co2_transfer")
    assert r.kg == {Gas.co2_fossil: -5000e3} and r.detail["transferred_co2_kg"] == 5000e3
    assert per_t(st) == pytest.approx(160 * 15 * C_TO_CO2 - 5000, abs=1e-6)


# --- the rule refuses mechanisms that cannot work or count twice ----------------------------------------
@pytest.mark.parametrize("mutate, field, found", [
    (lambda d: d["processes"][1]["emissions"][0].update(exclude=[]),
     "processes.lime-kiln.emissions[0] (carbon_balance).exclude",
     "'limestone' is counted by emissions[1] (calcination) and by the carbon balance: exclude it"),
    (lambda d: d["processes"][0]["emissions"][1].update(cao="cao_content"), "processes.kiln.emissions[1] "
     "(calcination).cao", "'cao_content' is not a parameter of process 'kiln' (declare it under parameters)"),
    (lambda d: d["processes"][0]["emissions"][0].update(fuels=["cole"]), "processes.kiln.emissions[0] "
     "(combustion).fuels", "'cole' is not a flow of process 'kiln'"),
    (lambda d: d["processes"][3]["parameters"][1].update(unit=""), "processes.smelter.emissions[0] "
     "(anode_effect_pfc).anode_effect_minutes", "parameter 'aem' needs an explicit unit convertible to 'min/d', "
     "not a bare number"),
    (lambda d: d["processes"][3]["parameters"][2].update(unit="kWh"), "processes.smelter.emissions[0] "
     "(anode_effect_pfc).overvoltage", "parameter 'aeo' has unit 'kWh', expected one convertible to 'mV'"),
    (lambda d: d["processes"][3]["parameters"][0].pop("default"), "processes.smelter.emissions[0] "
     "(anode_effect_pfc).technology", "parameter 'technology' must be required or have a default: the mechanism "
     "cannot work without it"),
    (lambda d: d["processes"][0]["emissions"][0].update(fuels=["clinker"]), "processes.kiln.emissions[0] "
     "(combustion).fuels", "'clinker' is a product flow; combustion.fuels takes ['fuel', 'process_gas']"),
    (lambda d: d["processes"][4]["outputs"][1].update(unit="kWh"), "processes.reformer.emissions[1] "
     "(co2_transfer).output", "'co2_captured' is measured in kWh; the CO2 transferred must be a mass (t or kg of "
     "CO2)"),
    (lambda d: d["processes"][4]["emissions"].append({"type": "carbon_balance"}), "processes.reformer.emissions[2] "
     "(carbon_balance).exclude", "'natural_gas' is counted by emissions[0] (combustion) and by the carbon balance: "
     "exclude it"),
    (lambda d: d["processes"][0]["emissions"].append({"type": "carbon_balance"}), "processes.kiln.emissions[2] "
     "(carbon_balance)", "calcination on the oxides basis cannot be combined with a carbon balance (the carbonate "
     "inputs would count twice)"),
])
def test_rule_refuses_inconsistent_mechanisms(tmp_path, mutate, field, found):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), load_factor_set(FACTORS))
    assert (field, found) in [(p.field, p.found) for p in exc.value.problems]


def test_rule_refuses_unknown_mechanism_type_and_fuel_without_ncv(tmp_path):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, lambda d: d["processes"][0]["emissions"].append(
            {"type": "carbon_ballance"})), load_factor_set(FACTORS))
    assert exc.value.problems[0].field == "processes[0].emissions[2]"
    assert "carbon_balance" in exc.value.problems[0].expected and "anode_effect_pfc" in exc.value.problems[0].expected
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, lambda d: d["processes"][0]["inputs"][1].update(
            factor="toy-limestone")), load_factor_set(FACTORS))
    assert [(p.field, p.found) for p in exc.value.problems] == [
        ("processes.kiln.emissions[0].fuels", "'coal' (factor toy-limestone)")]


# --- parameter files: process parameters and measured properties are validated like every value ----------
@pytest.mark.parametrize("params, field, found, expected", [
    ({"kiln": {"cao": {"value": 1.4, "source": "x"}}}, "parameters.kiln.cao.value", "1.4", "between 0.0 and 1.0"),
    ({"kiln": {"cao": {"value": 0.6, "unit": "kg", "source": "x"}}}, "parameters.kiln.cao.unit", "'kg'",
     "a unit convertible to 1 (a fraction)"),
    ({"kiln": {"cao_content": {"value": 0.6, "source": "x"}}}, "parameters.kiln.cao_content",
     "an unknown parameter", "one of ['cao', 'cao_non_carbonate', 'kiln_dust', 'kiln_dust_calcination', 'mgo']"),
    ({"smelter": {"technology": {"value": "vss", "source": "x"}}}, "parameters.smelter",
     "parameters of a process without activity data", "a process with activity data, one of ['kiln', 'lime-kiln', "
     "'acid-plant', 'reformer']"),
])
def test_parameter_problems(tmp_path, params, field, found, expected):
    def change(d):
        d["parameters"] = params
        if "smelter" in params:
            del d["processes"]["smelter"]

    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(write_variant(tmp_path, PLANT, change), RULE, FACTORS)
    assert [(p.field, p.found, p.expected) for p in exc.value.problems] == [(field, found, expected)]


def test_choice_and_measured_property_problems(tmp_path):
    def change(d):
        d["product"] = "metal"
        d["parameters"] = {"smelter": {"technology": {"value": "vss", "source": "x"}}}
        d["processes"]["kiln"]["limestone"]["carbon_content"] = {"value": 0.12, "unit": "t/t", "source": "lab"}
        d["processes"]["lime-kiln"]["limestone"]["carbon_content"] = {"value": 1.5, "unit": "t/t", "source": "lab"}

    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(write_variant(tmp_path, PLANT, change), RULE, FACTORS)
    assert sorted((p.field, p.found, p.expected) for p in exc.value.problems) == sorted([
        ("parameters.smelter.technology.value", "'vss'", "one of ['cwpb', 'swpb']"),
        ("processes.kiln.limestone.carbon_content", "a measured carbon_content",
         "only the properties the rule lets plants measure for Raw meal limestone: none"),
        ("processes.lime-kiln.limestone.carbon_content", "1.5 t/t",
         "at most the mass of the flow itself (a carbon mass fraction <= 1)"),
    ])


def test_required_parameter_without_value(tmp_path):
    rule = write_variant(tmp_path, RULE, lambda d: d["processes"][0]["parameters"][0].update(
        required=True, default=None))
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(PLANT, rule, FACTORS)
    assert [(p.field, p.found) for p in exc.value.problems] == [("parameters.kiln.cao", "nothing")]


# --- Brightway computes the same numbers -----------------------------------------------------------------
@pytest.mark.engine
@pytest.mark.parametrize("product", ["clinker", "lime", "acid", "metal", "hydrogen"])
def test_brightway_equals_numpy_for_every_mechanism(tmp_path, bw_project, product):
    from methodology.brightway import engine

    engine.setup_project(load_factor_set(FACTORS), log=lambda *a: None)
    st = study(tmp_path, product, {"smelter": {"aem": {"value": 0.5, "unit": "min/d", "source": "log"}}})
    official = st.calculate(tmp_path / "run")
    assert official.checks.brightway_scores_match
    # the fast evaluator gives Brightway's result on every figure (breakdowns, mechanisms, balances, checks)
    assert_same_figures(st.calculate_without_brightway().model_dump(mode="json"), official.model_dump(mode="json"),
                        skip={".checks.brightway_scores_match", ".provenance.generated_at"})


def test_result_reports_each_mechanism_and_the_product_carbon(tmp_path):
    st = study(tmp_path, "metal", {"smelter": {"aem": {"value": 0.5, "unit": "min/d", "source": "log"}}})
    result = st.calculate_without_brightway()
    (pfc,) = [d for d in result.direct_emissions if d.mechanism == "anode_effect_pfc"]
    assert (pfc.process, pfc.detail["method"], pfc.detail["technology"]) == ("smelter", "slope", "cwpb")
    assert pfc.kg_per_year == {"cf4": pytest.approx(71.5), "c2f6": pytest.approx(71.5 * 0.121)}
    assert result.product_carbon.fossil_kg_c == 0 and "no carbon content" in result.product_carbon.basis
    steel = Study.prepare(Path(__file__).resolve().parent.parent / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml")
    carbon = steel.calculate_without_brightway().product_carbon
    # 0.0042 t C/t (the Chinese guideline's crude steel) x 1 t
    assert (carbon.fossil_kg_c, carbon.basis) == (pytest.approx(4.2, rel=1e-2), "factor steel (carbon_content)")


def test_non_finite_parameters_and_measured_values_are_refused(tmp_path):
    def change(d):
        d["parameters"] = {"kiln": {"cao": {"value": float("nan"), "source": "x"}}}
        d["processes"]["kiln"]["coal"]["carbon_content"] = {"value": float("inf"), "unit": "t/t", "source": "lab"}

    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(write_variant(tmp_path, PLANT, change), RULE, FACTORS)
    assert [(p.field, p.found, p.expected) for p in exc.value.problems] == [
        ("processes.kiln.coal.carbon_content.value", "inf", "a finite number (not NaN or infinity)"),
        ("parameters.kiln.cao.value", "nan", "a finite number (not NaN or infinity)")]
