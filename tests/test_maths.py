"""Pure calculations against hand calculations with cited defaults, allocation and linearity."""

from __future__ import annotations

import pytest
from conftest import ENTERPRISES

from methodology.core.allocation import allocation_factor, partition
from methodology.core.balances import combustion_co2_kg
from methodology.core.foreground import build_foreground
from methodology.errors import CalculationError
from methodology.schema.parameters import read_parameter_file, validate
from methodology.schema.rules import AllocationApproach
from methodology.study import Study, load_enterprise

BFBOF = next(p for p in ENTERPRISES if "integrated" in p.name)
EAF = next(p for p in ENTERPRISES if "scrap-eaf" in p.name)


def _co2(process) -> float:
    return sum(e.amount for e in process.exchanges if e.kind == "biosphere" and e.target == "co2_fossil")


def test_coke_oven_carbon_balance_by_hand(rule, factors):
    """Coke oven of works A, worked by hand (steel rule 1.2.0, decision 0003).

    Carbon contents: coking coal 0.78 kg C/kg as the works measures it (dry basis); coke on the rule's energy basis,
    28.435 GJ/t x 29.5 kg C/GJ = 838.8 kg C/t (Chinese defaults); coal tar 0.62 (IPCC 2006 Vol. 3 Ch. 4 Table 4.3);
    coke oven gas 44,400 and blast furnace gas 260,000 kg CO2/TJ (Vol. 2 Table 2.2), i.e. 12.11 and 70.91 kg C/GJ.
    COG leaving = gas used by all processes of the works (11.28 PJ). The result lands near the IPCC Tier 1
    default for coke production, 0.56 t CO2/t coke (Vol. 3 Ch. 4 Table 4.1).
    """
    fg = build_foreground(load_enterprise(BFBOF, rule, factors), factors)
    c_in = 2.128e6 * 780 + 3.84e6 * 44.4 * 12 / 44 + 1.2e6 * 260 * 12 / 44
    cog_used = 3.84e6 + 0.52e6 + 4.92e6 + 1.5e6 + 0.5e6
    c_out = 1.60e6 * 28.435 * 29.5 + cog_used * 44.4 * 12 / 44 + 72000 * 620
    expected_t_co2_per_t_coke = (c_in - c_out) * 44 / 12 / 1.60e6 / 1000
    assert expected_t_co2_per_t_coke == pytest.approx(0.6143, abs=5e-4)
    coke_oven = fg.processes["coke-oven"]
    assert _co2(coke_oven) / coke_oven.output / 1000 == pytest.approx(expected_t_co2_per_t_coke, rel=1e-3)


def test_sinter_process_emissions_match_ipcc_tier1_order(rule, factors):
    """Sinter strand CO2 by balance lands near the IPCC Tier 1 default of 0.20 t CO2/t sinter
    (2006 Vol. 3 Ch. 4 Table 4.1); CH4 is the Tier 1 0.07 kg/t (Table 4.2)."""
    fg = build_foreground(load_enterprise(BFBOF, rule, factors), factors)
    sp = fg.processes["sinter-plant"]
    assert _co2(sp) / sp.output / 1000 == pytest.approx(0.22, abs=0.03)
    ch4 = sum(e.amount for e in sp.exchanges if e.target == "ch4_fossil")
    assert ch4 / sp.output == pytest.approx(0.07)


def test_partition_and_allocation_factor():
    assert partition([1.0, 0.3]) == pytest.approx([1 / 1.3, 0.3 / 1.3])
    assert allocation_factor(2800.0, [30.0, 5.0]) == pytest.approx(2800 / 2835)
    with pytest.raises(CalculationError, match="sum to 0"):
        partition([0.0, 0.0])
    with pytest.raises(CalculationError, match=">= 0"):
        partition([1.0, -1.0])


@pytest.mark.parametrize("path", ENTERPRISES, ids=lambda p: p.stem)
def test_doubling_everything_leaves_footprint_unchanged(path):
    study = Study.prepare(path)
    base = study.calculate_without_brightway().gwp100_kg_co2e.total
    doubled = Study(study.rule, study.factors, study.enterprise.scaled(2.0),
                    build_foreground(study.enterprise.scaled(2.0), study.factors), study.parameter_file)
    assert doubled.calculate_without_brightway().gwp100_kg_co2e.total == pytest.approx(base, rel=1e-9)


def test_adding_grid_electricity_adds_exactly_kwh_times_factor_over_output(factors, rule):
    """Scrap-EAF mill B: all its crude steel is the declared product, so each extra kWh bought
    adds grid factor / annual output to every tonne."""
    pf = read_parameter_file(EAF)
    extra_kwh = 10e6
    procs = {k: dict(v) for k, v in pf.processes.items()}
    grid = procs["site-electricity-supply"]["grid_electricity"]
    procs["site-electricity-supply"]["grid_electricity"] = grid.model_copy(
        update={"value": grid.value + extra_kwh, "unit": "kWh"} if grid.unit == "kWh" else
        {"value": grid.value * _to_kwh(grid.unit) + extra_kwh, "unit": "kWh"})
    more = pf.model_copy(update={"processes": procs})
    more._path, more._sha256 = pf.path, pf.sha256

    def total(p):
        ed = validate(p, rule, factors)
        st = Study(rule, factors, ed, build_foreground(ed, factors), str(EAF))
        return st.calculate_without_brightway().gwp100_kg_co2e.total

    grid_factor = factors.get("grid-cn-2023-pcf").emissions_kg()
    kg_per_kwh = sum(grid_factor.values())
    output_t = validate(pf, rule, factors).amount("continuous-casting", "crude_steel")
    assert total(more) - total(pf) == pytest.approx(extra_kwh * kg_per_kwh / output_t, rel=1e-9)


def _to_kwh(unit: str) -> float:
    from methodology.units import conversion_factor

    return conversion_factor(unit, "kWh")


@pytest.mark.parametrize("path", ENTERPRISES, ids=lambda p: p.stem)
def test_breakdowns_sum_to_total(path):
    r = Study.prepare(path).calculate_without_brightway().model_dump(mode="json")
    total = r["gwp100_kg_co2e"]["total"]
    # each line is rounded to 1e-6 kg in result.json, so the sums agree to a few 1e-6 kg
    for key in ("by_stage", "by_process"):
        assert sum(x["total"] for x in r[key]) == pytest.approx(total, abs=1e-4)
    for key in ("by_origin", "by_gas"):
        assert sum(x["total"] for x in r[key].values()) == pytest.approx(total, abs=1e-4)


def test_allocation_approaches_change_only_multi_output_processes(rule, factors):
    ed = load_enterprise(BFBOF, rule, factors)
    mass_alloc = rule.allocation.model_copy(update={"approach": AllocationApproach.mass})
    mass_rule = rule.model_copy(update={"allocation": mass_alloc})
    from methodology.schema.parameters import EnterpriseData

    ed_mass = EnterpriseData(ed.params, mass_rule, ed.processes, ed.data, ed.electricity_factor)
    fg = build_foreground(ed_mass, factors)
    bf = fg.processes["blast-furnace"]
    # hot metal 3.77 Mt against 1.206 Mt slag by mass (IPCC/ISO 14044 physical allocation)
    assert bf.allocation_factor == pytest.approx(3.77 / (3.77 + 1.206))
    assert fg.processes["sinter-plant"].allocation_factor == 1.0
    assert not any(e.origin.value == "credit" for p in fg.processes.values() for e in p.exchanges)


def test_combustion_formula_by_hand(factors):
    # NDRC 2013 steel guideline defaults for coke: NCV 28.435 GJ/t, 29.5 t C/TJ, oxidation 0.93.
    # By hand: 28.435 x 29.5 = 838.8325 kg C/t; x 0.93 = 780.114 kg C/t; x 44/12 = 2860.42 kg CO2/t.
    assert combustion_co2_kg(1.0, 28.435, 29.5, 0.93) == pytest.approx(2860.42, abs=0.01)
    assert combustion_co2_kg(1.0, *factors.get("coke").combustion_terms()) == pytest.approx(2860.42, abs=0.01)
    # linear in the amount; the oxidation rate defaults to complete combustion
    assert combustion_co2_kg(2.5, 28.435, 29.5) == pytest.approx(2.5 * 838.8325 * 44 / 12)
    with pytest.raises(ValueError):
        combustion_co2_kg(1.0, 28.435, 29.5, 1.2)


@pytest.mark.parametrize("path", ENTERPRISES, ids=lambda p: p.stem)
def test_site_carbon_balance_closes(path, rule, factors):
    result = Study.prepare(path).calculate_without_brightway().model_dump(mode="json")
    site = result["balances"]["site_carbon_kg_c"]
    # carbon bought = carbon leaving in products and gases + carbon emitted, each found on its own, to rounding
    assert site["purchased_in"] > site["emitted"] > 0
    assert abs(site["purchased_in"] - site["leaving_in_products"] - site["leaving_in_gases"] - site["emitted"]
               + site["set_to_zero"]) <= 1e-6 * site["purchased_in"] + 0.01
    assert abs(site["residual"]) <= 0.01
    assert result["checks"]["site_carbon_balance_closes"] and result["checks"]["yields_within_range"]
    # the direct fossil CO2 of the footprint's carbon balances equals the site's emitted carbon x 44/12
    direct = sum(e.amount for p in Study.prepare(path).foreground.processes.values() for e in p.exchanges
                 if e.label.startswith("carbon balance"))
    assert direct == pytest.approx(site["emitted"] * 44 / 12, rel=1e-6)
