"""The steel method corrections of issue 14 (items 3-6), by hand and by invariant.

Carbon contents (steel rule decision 0003): steel and carbon-steel scrap carry the Chinese guideline's crude-steel
carbon, so melting scrap creates no CO2 from carbon it does not carry; a measured content equal to the default
changes nothing; fuels take NCV x carbon per energy on the rule's energy basis; the oxidation choice and the
guideline cross-check. Coal supply (0004) and the slag credit net of its processing, with gross and credits side
by side (0005).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FACTORS, ROOT, RULE, write_variant

from methodology.study import Study

PARAMS = ROOT / "parameters" / "steel"
WORKS_A, MILL_B = PARAMS / "sd-integrated-works-a.yaml", PARAMS / "sd-scrap-eaf-mill-b.yaml"
C_TO_CO2 = 44 / 12


def run(tmp_path: Path, source: Path, mutate=None, name: str = "p.yaml", rule: Path | None = None):
    params = write_variant(tmp_path, source, mutate or (lambda d: None), name=name)
    return Study.prepare(params, rule, FACTORS if rule else None).calculate_without_brightway()


def rule_variant(tmp_path: Path, change, name: str = "rule.yaml") -> Path:
    return write_variant(tmp_path, RULE, change, name=name)


def test_steel_and_scrap_carry_the_crude_steel_carbon_of_the_chinese_guideline(factors):
    # 0.0154 t CO2/t crude steel (NDRC 2013, carbon-fixing products) x 12/44, per t in kg
    for fid in ("steel", "steel-scrap"):
        assert factors.get(fid).carbon_kg() == pytest.approx(0.0154 * 12 / 44 * 1000, rel=1e-2)
    assert factors.get("purchased-pig-iron").carbon_kg() == pytest.approx(0.172 * 12 / 44 * 1000, rel=1e-2)


def test_eaf_carbon_balance_by_hand_has_no_phantom_scrap_carbon(tmp_path, factors):
    """Mill B's EAF: the CO2 is the carbon of electrodes, charge carbon, natural gas and pig iron; the scrap's
    carbon leaves in the steel (less the yield loss), not ~0.04 t C per t of scrap."""
    result = run(tmp_path, MILL_B)
    (eaf,) = [d for d in result.direct_emissions if d.process == "eaf"]
    c = {k: factors.get(f).carbon_kg("energy") for k, f in (
        ("scrap", "steel-scrap"), ("hot_metal", "purchased-pig-iron"), ("electrodes", "graphite-electrodes"),
        ("charge_carbon", "eaf-charge-carbon"), ("natural_gas", "natural-gas"), ("steel", "steel"))}
    carbon_in = (1.092e6 * c["scrap"] + 51500 * c["hot_metal"] + 1854 * c["electrodes"] + 12360 * c["charge_carbon"]
                 + 8.24e6 * c["natural_gas"])
    for alloy, t in (("ferromanganese", 8240), ("ferrosilicon", 3090)):
        carbon_in += t * (factors.get(alloy).carbon_kg() or 0.0)
    carbon_out = 1.03e6 * c["steel"]
    assert eaf.kg_per_year["co2_fossil"] == pytest.approx((carbon_in - carbon_out) * C_TO_CO2, rel=1e-9)
    # what the scrap contributes: its carbon less the steel's, about 0.2 kg CO2 per t of scrap
    scrap_net = (1.092e6 * c["scrap"] - 1.03e6 * c["steel"]) * C_TO_CO2 / 1.092e6
    assert 0 < scrap_net < 1.0


def test_a_measured_carbon_content_equal_to_the_default_changes_nothing(tmp_path, factors):
    base = run(tmp_path, MILL_B)
    default = factors.get("steel-scrap").carbon_kg() / 1000

    def measured(d):
        d["processes"]["eaf"]["scrap"]["carbon_content"] = {"value": default, "unit": "t/t", "source": "lab"}
        d["processes"]["continuous-casting"]["crude_steel"]["carbon_content"] = {
            "value": factors.get("steel").carbon_kg(), "unit": "kg/t", "source": "lab"}

    same = run(tmp_path, MILL_B, measured, "m.yaml")
    assert same.gwp100_kg_co2e.total == pytest.approx(base.gwp100_kg_co2e.total, abs=1e-6)
    assert "measured by the enterprise" in {c.basis for c in same.scope.carbon_accounting.contents}
    # and a higher measured scrap carbon (cast-iron scrap at 4 %) raises the EAF's CO2 by exactly its carbon
    higher = run(tmp_path, MILL_B, lambda d: d["processes"]["eaf"]["scrap"].update(
        carbon_content={"value": 0.04, "unit": "t/t", "source": "lab"}), "h.yaml")
    extra = 1.092e6 * (40 - default * 1000) * C_TO_CO2 * base.process_scaling["eaf"]
    assert higher.gwp100_kg_co2e.total - base.gwp100_kg_co2e.total == pytest.approx(extra, rel=1e-6)


def test_the_rule_chooses_the_carbon_basis_of_fuels(tmp_path, factors):
    coal = factors.get("coking-coal")
    assert coal.carbon_kg("energy") == pytest.approx(26.344 * 25.41, rel=1e-9)  # the national defaults, as received
    assert coal.carbon_kg("mass") == pytest.approx(730)  # IPCC Table 4.3
    assert coal.carbon_basis("energy") == "ncv x carbon_per_energy"
    assert factors.get("pci-coal").carbon_kg("energy") == factors.get("pci-coal").carbon_kg("mass")  # one basis only

    def no_measured_coal(d):
        del d["processes"]["coke-oven"]["coking_coal"]["carbon_content"]

    energy = run(tmp_path, WORKS_A, no_measured_coal, "e.yaml")
    mass_rule = rule_variant(tmp_path, lambda r: r["carbon_accounting"].update(content_basis="mass"))
    mass = run(tmp_path, WORKS_A, no_measured_coal, "m.yaml", rule=mass_rule)
    coal_t, coke_t = 2.128e6, 1.60e6
    # the coke ovens' CO2 differs by the coal's carbon (0.73 against 0.669 t C/t) less the coke's (0.83 against
    # 28.435 x 29.5 kg C/GJ = 0.839 t C/t) for the coke they make
    d_carbon = coal_t * (730 - 26.344 * 25.41) - coke_t * (830 - 28.435 * 29.5)
    ovens = {r.mechanism: r for r in mass.direct_emissions if r.process == "coke-oven"}["carbon_balance"]
    ovens_e = {r.mechanism: r for r in energy.direct_emissions if r.process == "coke-oven"}["carbon_balance"]
    assert ovens.kg_per_year["co2_fossil"] - ovens_e.kg_per_year["co2_fossil"] == pytest.approx(
        d_carbon * C_TO_CO2, rel=1e-9)
    assert energy.scope.carbon_accounting.content_basis == "energy"
    assert mass.scope.carbon_accounting.content_basis == "mass"
    for r in (energy, mass):
        assert r.checks.site_carbon_balance_closes


def test_oxidation_by_factor_leaves_the_unoxidised_carbon_in_residues_and_the_site_balance_closes(tmp_path):
    base = run(tmp_path, WORKS_A)
    rule = rule_variant(tmp_path, lambda r: r["carbon_accounting"].update(oxidation="factor"))
    ox = run(tmp_path, WORKS_A, rule=rule)
    site = ox.balances.site_carbon_kg_c
    assert ox.checks.site_carbon_balance_closes and site.unoxidised > 0
    assert base.balances.site_carbon_kg_c.unoxidised == 0
    # the power plant burns only process gases (oxidation 0.99): 1 % of their carbon stays unoxidised
    gj = {"blast_furnace_gas": (6.9e6, 70.91), "bof_gas": (1.8e6, 49.64), "coke_oven_gas": (1.5e6, 12.11)}
    gas_carbon = sum(q * c for q, c in gj.values())
    plant = {r.process: r for r in ox.direct_emissions if r.mechanism == "carbon_balance"}["power-plant"]
    assert plant.detail["unoxidised_kg"] == pytest.approx(0.01 * gas_carbon, rel=1e-3)
    assert plant.kg_per_year["co2_fossil"] == pytest.approx(0.99 * gas_carbon * C_TO_CO2, rel=1e-3)
    assert ox.gwp100_kg_co2e.total < base.gwp100_kg_co2e.total
    assert {c.oxidation for c in ox.scope.carbon_accounting.contents if c.flow == "power-plant.bof_gas"} == {0.99}


def test_the_guideline_cross_check_shows_the_oxidation_difference(tmp_path):
    checks = {c.process: c for c in run(tmp_path, WORKS_A).balances.combustion_cross_check}
    # gases only, each at oxidation 0.99 and the same carbon per GJ: exactly 0.99
    assert checks["power-plant"].ratio == pytest.approx(0.99, abs=1e-4)
    assert checks["steam-boiler"].ratio == pytest.approx(0.99, abs=1e-4)
    # coke at 0.93 and coal at 0.90 in the guideline method: the blast furnace's CO2 is lower by it
    assert checks["blast-furnace"].ratio < 0.95
    assert checks["coke-oven"].ratio < 0.95


def test_coal_supply_is_the_chinese_mining_life_cycle(factors):
    for fid in ("raw-coal", "coking-coal", "pci-coal", "eaf-charge-carbon"):
        assert {g.value: v for g, v in factors.get(fid).emissions_kg().items()} == {"co2e_fossil": 164.4}
    assert sum(factors.get("coke").emissions_kg().values()) == pytest.approx(560 + 1.3 * 164.4, abs=0.05)


def test_slag_credit_is_095_t_clinker_net_of_drying_and_grinding(tmp_path, factors):
    result = run(tmp_path, WORKS_A)
    clinker, grinding = (sum(factors.get(f).emissions_kg().values()) for f in ("avoided-clinker",
                                                                                "ggbs-drying-grinding"))
    slag_per_t = 1.206e6 * result.process_scaling["blast-furnace"]
    rows = {r.source: r.total for r in result.by_input}
    assert rows["avoided-clinker"] == pytest.approx(-slag_per_t * 0.95 * clinker, rel=1e-6)
    assert rows["ggbs-drying-grinding"] == pytest.approx(slag_per_t * 67, rel=1e-6)
    assert grinding == 67
    # without processing the credit is larger by exactly the processing
    rule = rule_variant(tmp_path, lambda r: next(c for c in r["allocation"]["coproducts"]
                                                 if c["id"] == "bf-slag").update(processing=[]))
    bare = run(tmp_path, WORKS_A, rule=rule)
    assert result.gwp100_kg_co2e.total - bare.gwp100_kg_co2e.total == pytest.approx(slag_per_t * 67, rel=1e-6)


@pytest.mark.parametrize("source", [WORKS_A, MILL_B, PARAMS / "sd-dri-eaf-works-c.yaml"])
def test_gross_and_credits_side_by_side(tmp_path, source):
    result = run(tmp_path, source)
    g = result.gwp100_kg_co2e
    credit = result.by_origin.get("credit")
    assert g.credits == pytest.approx(credit.total if credit else 0.0, abs=1e-6) and g.credits <= 0
    assert g.gross == pytest.approx(g.total - g.credits, abs=2e-6)
