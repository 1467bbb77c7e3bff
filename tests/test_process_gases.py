"""Process gases linked as flows (decision record docs/decisions/0008), by hand on the BF-BOF works A.

Works A (parameters/steel/sd-integrated-works-a.yaml) makes 4.0 Mt hot-rolled coil a year from 4.10 Mt slabs;
the caster makes 4.20 Mt slabs from 4.28 Mt liquid steel, the BOF 4.28 Mt liquid steel from 3.77 Mt hot metal,
the blast furnace 3.77 Mt hot metal from 1.357 Mt coke (and the sinter plant takes 0.217 Mt coke breeze), the
coke ovens make 1.60 Mt coke. Per tonne of coil the product system therefore runs (fractions of a year):
blast furnace and BOF 1.025 / 4.20e6 each (1.025 t slab x 4.28/4.20 t liquid steel, of 4.28 Mt; the hot metal
of 3.77 Mt likewise), coke ovens 1.025 / 4.20e6 x 1.574 / 1.60 (coke used by BF and sinter plant per run).

Exported gas is credited with 97.2 kWh of grid electricity per GJ (rule: allocation.coproducts) at
0.6205 kg CO2e/kWh (factor avoided-grid-electricity) and burned in the expanded system; flared gas is emitted at
its maker. Either way its carbon is emitted once, so flared -> exported changes the total by the credit only.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, write_variant

from methodology.core import foreground
from methodology.errors import RuleError
from methodology.schema.factors import load_factor_set
from methodology.schema.rules import load_rule
from methodology.study import Study

WORKS_A = ROOT / "parameters" / "steel" / "sd-integrated-works-a.yaml"
CREDIT_PER_GJ = 97.2 * 0.6205  # kg CO2e avoided per GJ of gas exported
S_BF = S_BOF = 1.025 / 4.20e6
S_COKE = S_BF * 1.574 / 1.60
C_PER_GJ = {"coke-oven-gas": 12.11, "blast-furnace-gas": 70.91, "bof-gas": 49.64}  # kg C/GJ, factor set

# gas: (maker, its export flow, maker's runs per t coil, GJ flared a year = generated - used - exported)
GASES = {
    "coke-oven-gas": ("coke-oven", "coke_oven_gas_exported", S_COKE, 12.16e6 - 11.28e6),
    "blast-furnace-gas": ("blast-furnace", "blast_furnace_gas_exported", S_BF, 18.85e6 - 17.87e6),
    "bof-gas": ("bof", "bof_gas_exported", S_BOF, 1.926e6 - 1.8e6),
}


def study(tmp_path: Path, mutate=None, name: str = "a.yaml") -> Study:
    return Study.prepare(write_variant(tmp_path, WORKS_A, mutate or (lambda d: None), name=name))


def test_scalings_by_hand(tmp_path):
    scaling = study(tmp_path).calculate_without_brightway().process_scaling
    assert scaling["blast-furnace"] == pytest.approx(S_BF, rel=1e-9)
    assert scaling["bof"] == pytest.approx(S_BOF, rel=1e-9)
    assert scaling["coke-oven"] == pytest.approx(S_COKE, rel=1e-9)


@pytest.mark.parametrize("gas", sorted(GASES))
def test_flared_gas_entered_as_exported_changes_the_total_by_the_credit_only(tmp_path, gas):
    maker, key, runs, flared = GASES[gas]
    base = study(tmp_path).calculate_without_brightway()
    exported = study(tmp_path, lambda d: d["processes"][maker].update(
        {key: {"value": flared, "unit": "GJ", "source": "the flared gas, sold instead"}}), "x.yaml")
    result = exported.calculate_without_brightway()
    # by hand: the maker's runs per t x GJ exported a year x the credit per GJ; the carbon is emitted either way
    credit = runs * flared * CREDIT_PER_GJ
    change = result.gwp100_kg_co2e.total - base.gwp100_kg_co2e.total
    assert change == pytest.approx(-credit, abs=2e-6)  # the totals are rounded to 1e-6 kg
    assert [g.exported for g in result.balances.process_gases_gj if g.gas == gas] == [pytest.approx(flared)]
    site = result.balances.site_carbon_kg_c
    assert site.exported_in_gases == pytest.approx(flared * C_PER_GJ[gas], rel=1e-9)
    assert site.leaving_in_gases == pytest.approx(site.exported_in_gases, rel=1e-9)  # every user is in the system
    assert result.checks.site_carbon_balance_closes and abs(site.residual) < 1.0


def test_gas_burned_by_a_user_then_exported_changes_the_total_by_the_credit_only(tmp_path):
    """1e6 GJ of BF gas the power plant burned is exported instead: the power plant no longer emits its carbon,
    the expanded system burns it, and the product system is credited for it, per run of the power plant."""
    x = 1.0e6

    def move(d):
        gas = d["processes"]["power-plant"]["blast_furnace_gas"]
        gas["value"] = float(gas["value"]) - x  # "6.9e6" is a string to PyYAML (YAML 1.1), a number to the loader
        d["processes"]["blast-furnace"]["blast_furnace_gas_exported"] = {"value": x, "unit": "GJ", "source": "t"}

    base = study(tmp_path).calculate_without_brightway()
    moved = study(tmp_path, move, "moved.yaml").calculate_without_brightway()
    runs = base.process_scaling["power-plant"]
    assert moved.gwp100_kg_co2e.total - base.gwp100_kg_co2e.total == pytest.approx(-runs * x * CREDIT_PER_GJ,
                                                                                    abs=2e-6)


@pytest.mark.parametrize("product", ["hot-rolled-coil", "crude-steel"])
def test_gas_made_equals_gas_burned_plus_surplus_per_declared_unit(tmp_path, product):
    """Per declared unit no more gas is burned than the product system makes: the surplus column takes the
    difference, credited and burned in the expanded system (negative: burned beyond what is made)."""
    st = study(tmp_path, lambda d: d.update(product=product), f"{product}.yaml")
    result = st.calculate_without_brightway()
    s = result.process_scaling
    fg = st.foreground
    for gas, (maker, _, _, _) in GASES.items():
        column = f"{maker}::{gas}"
        delivered = -sum(e.amount for p in fg.processes.values() if not p.surplus for e in p.exchanges
                         if e.target == column and e.amount < 0 and p.id == maker) * s[maker]
        burned = sum(e.amount * s[p.id] for p in fg.processes.values() for e in p.exchanges
                     if e.target == column and e.amount > 0)
        assert delivered == pytest.approx(burned + s[column], rel=1e-9)
        row = next(x for x in result.by_process if x.process == column)
        assert row.total == pytest.approx(s[column] * (C_PER_GJ[gas] * 44 / 12 - CREDIT_PER_GJ), rel=1e-6)
    if product == "crude-steel":
        # the hot strip mill (1.2 GJ coke-oven gas per t slab) is outside this product system: its gas leaves it
        assert "hot-strip-mill" not in s
        assert s["coke-oven::coke-oven-gas"] > 1.0 and s["blast-furnace::blast-furnace-gas"] > 0.1


def test_site_carbon_balance_catches_exported_carbon_counted_twice(tmp_path, monkeypatch):
    """The double count of issue 14 (the export's carbon leaving again as a co-product) put back by hand: the
    site balance, whose terms are found on their own, no longer closes, by exactly the exported carbon."""
    x = 0.98e6
    st = lambda: study(tmp_path, lambda d: d["processes"]["blast-furnace"].update(  # noqa: E731
        blast_furnace_gas_exported={"value": x, "unit": "GJ", "source": "t"}), "exp.yaml")
    good = st().calculate_without_brightway()
    assert good.checks.site_carbon_balance_closes
    original = foreground._Builder.outputs

    def twice(self, pid, carbon_out, feeds):
        out = original(self, pid, carbon_out, feeds)
        if pid == "blast-furnace":
            carbon_out["blast_furnace_gas_exported"] = x * C_PER_GJ["blast-furnace-gas"]
        return out

    monkeypatch.setattr(foreground._Builder, "outputs", twice)
    bad = st().calculate_without_brightway()
    assert not bad.checks.site_carbon_balance_closes
    assert bad.balances.site_carbon_kg_c.residual == pytest.approx(x * C_PER_GJ["blast-furnace-gas"], rel=1e-6)
    # what the double count did to the footprint: the exported carbon, never emitted, per run of the furnace
    assert good.gwp100_kg_co2e.total - bad.gwp100_kg_co2e.total == pytest.approx(
        S_BF * x * C_PER_GJ["blast-furnace-gas"] * 44 / 12, rel=1e-6)


# --- the rule says what each gas is and how its surplus is handled ----------------------------------------
RULE = ROOT / "standards" / "steel" / "pcr-steel.yaml"
FACTORS = ROOT / "standards" / "factors" / "cn-core.yaml"


def _problems(tmp_path, mutate):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, RULE, mutate), load_factor_set(FACTORS))
    return [(p.field, p.found, p.expected) for p in exc.value.problems]


def _flow(d, pid, key):
    proc = next(p for p in d["processes"] if p["id"] == pid)
    return next(f for f in proc["inputs"] + proc["outputs"] if f["key"] == key)


def test_rule_refuses_a_gas_without_an_export_coproduct(tmp_path):
    def mutate(d):
        d["allocation"]["coproducts"] = [c for c in d["allocation"]["coproducts"] if c["id"] != "exported-bof-gas"]
        proc = next(p for p in d["processes"] if p["id"] == "bof")
        proc["outputs"] = [f for f in proc["outputs"] if f["key"] != "bof_gas_exported"]

    assert _problems(tmp_path, mutate) == [(
        "intermediate_products.bof-gas", "export co-products []", "exactly one co-product in allocation.coproducts "
        "with `exports` naming this process gas (how its surplus is handled)")]


def test_rule_refuses_a_gas_flow_whose_factor_is_not_its_gas(tmp_path):
    assert _problems(tmp_path, lambda d: _flow(d, "power-plant", "bof_gas").update(factor="coke-oven-gas")) == [(
        "processes.power-plant.bof_gas.factor", "'coke-oven-gas'", "the carbon factor of process gas 'bof-gas', "
        "'bof-gas'")]


def test_rule_refuses_a_gas_flow_without_its_gas(tmp_path):
    problems = _problems(tmp_path, lambda d: _flow(d, "power-plant", "bof_gas").pop("product"))
    assert [p[0] for p in problems] == ["processes[9].inputs[1]"]
    assert "needs `product` (the process gas" in problems[0][2]


def test_rule_refuses_an_export_of_a_gas_the_process_does_not_make(tmp_path):
    problems = _problems(tmp_path, lambda d: _flow(d, "bof", "bof_gas_exported").update(
        coproduct="exported-bf-gas"))
    assert ("processes.bof.bof_gas_exported.coproduct", "'exported-bf-gas' exports 'blast-furnace-gas'",
            "the export of a gas process 'bof' generates: ['bof-gas']") in problems


def test_linked_gases_make_no_loop_of_supply(rule):
    """Gas users draw from the gas's surplus column, which supplies nothing back: the coke ovens burning their
    own gas, or the power plant burning BF gas for the furnace's electricity, are no loops (decision 0008)."""
    assert all(rule.supply_cycle(r.processes + r.optional_processes) is None for r in rule.routes)
