"""Balances: process gases, electricity, carbon and yields. Pure functions over validated data.

The carbon balance follows the Tier 2 logic of the 2006 IPCC Guidelines, Vol. 3, Ch. 4, Eq. 4.9-4.11:
carbon entering a process that does not leave it in a product, by-product gas or residue is emitted as CO2.
Process gases carry carbon from the process that generates them to the processes that burn them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .rules import FlowKind, Rule

Data = Mapping[tuple[str, str], object]  # (process, key) -> Datum (has .amount)


def _amount(data: Data, process: str, key: str) -> float:
    d = data.get((process, key))
    return 0.0 if d is None else d.amount


@dataclass(frozen=True)
class GasBalance:
    factor: str
    generated: float
    consumed: float  # by processes present at the site
    exported: float

    @property
    def unaccounted(self) -> float:
        """Generated but neither used nor exported: flared or lost (emitted where generated)."""
        return self.generated - self.consumed - self.exported


def process_gas_balances(rule: Rule, present, data: Data) -> list[GasBalance]:
    gen: dict[str, float] = {}
    use: dict[str, float] = {}
    exp: dict[str, float] = {}
    for pid in present:
        spec = rule.process_by_id[pid]
        for f in spec.outputs:
            if f.kind is FlowKind.gas_output:
                gen[f.factor] = gen.get(f.factor, 0.0) + _amount(data, pid, f.key)
            if f.kind is FlowKind.coproduct:
                cop = rule.coproduct_by_id[f.coproduct]
                if cop.carbon_factor and cop.burned_in_expansion:
                    exp[cop.carbon_factor] = exp.get(cop.carbon_factor, 0.0) + _amount(data, pid, f.key)
        for f in spec.inputs:
            if f.kind is FlowKind.process_gas:
                use[f.factor] = use.get(f.factor, 0.0) + _amount(data, pid, f.key)
    gases = sorted(set(gen) | set(use) | set(exp))
    return [GasBalance(g, gen.get(g, 0.0), use.get(g, 0.0), exp.get(g, 0.0)) for g in gases]


@dataclass(frozen=True)
class ElectricityBalance:
    supplied: float  # reference output of the site supply process
    consumed: float  # sum of the electricity inputs of the other processes

    @property
    def unaccounted(self) -> float:
        return self.supplied - self.consumed


def electricity_balance(rule: Rule, present, data: Data) -> ElectricityBalance | None:
    """Site electricity: what the supply process delivers against what the processes report using."""
    product = rule.balances.electricity_product
    supply = [rule.process_by_id[p] for p in present if rule.process_by_id[p].reference.product == product]
    if product is None or not supply:
        return None
    sp = supply[0]
    supplied = _amount(data, sp.id, sp.reference.key)
    consumed = 0.0
    for pid in present:
        for f in rule.process_by_id[pid].inputs:
            if f.kind is FlowKind.intermediate and f.product == product:
                consumed += _amount(data, pid, f.key)
    return ElectricityBalance(supplied, consumed)


@dataclass(frozen=True)
class CarbonBalance:
    """Carbon of one process in kg C per year. ``emitted`` = inputs - outputs (Tier 2 balance)."""

    process: str
    inputs: dict[str, float]
    outputs: dict[str, float]
    biogenic_in: float = 0.0

    @property
    def carbon_in(self) -> float:
        return sum(self.inputs.values())

    @property
    def carbon_out(self) -> float:
        return sum(self.outputs.values())

    @property
    def emitted(self) -> float:
        return self.carbon_in - self.carbon_out

    @property
    def biogenic_share(self) -> float:
        return self.biogenic_in / self.carbon_in if self.carbon_in > 0 else 0.0


def yield_ratio(data: Data, process: str, output: str, inputs: list[str]) -> float | None:
    denominator = sum(_amount(data, process, k) for k in inputs)
    if denominator <= 0:
        return None
    return _amount(data, process, output) / denominator
