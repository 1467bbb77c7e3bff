"""Balances: process gases, electricity, carbon and yields. Pure functions over validated data.

The carbon balance follows the Tier 2 logic of the 2006 IPCC Guidelines, Vol. 3, Ch. 4, Eq. 4.9-4.11:
carbon entering a process that does not leave it in a product, by-product gas or residue is emitted as CO2.
Process gases carry carbon from the process that generates them to the processes that burn them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from methodology.errors import Problem
from methodology.gases import C_TO_CO2
from methodology.schema.rules import FlowKind, FlowSpec, Rule

Data = Mapping[tuple[str, str], object]  # (process, key) -> Datum (has .amount)


def _amount(data: Data, process: str, key: str) -> float:
    d = data.get((process, key))
    return 0.0 if d is None else d.amount


@dataclass(frozen=True)
class GasBalance:
    """GJ (the gas's unit) per year of one process gas at the site. ``gas``: its intermediate product id."""

    gas: str
    generated: float
    consumed: float  # by processes present at the site
    exported: float

    @property
    def delivered(self) -> float:
        """What leaves its makers as gas: used on site or exported (its carbon leaves the makers' balances)."""
        return self.consumed + self.exported

    @property
    def unaccounted(self) -> float:
        """Generated but neither used nor exported: flared or lost (emitted where generated)."""
        return self.generated - self.consumed - self.exported


def process_gas_balances(rule: Rule, present, data: Data) -> list[GasBalance]:
    """Generated, used and exported of every process gas (by its intermediate product id) at the site."""
    gen: dict[str, float] = {}
    use: dict[str, float] = {}
    exp: dict[str, float] = {}
    for pid in present:
        spec = rule.process_by_id[pid]
        for f in spec.outputs:
            if f.kind is FlowKind.gas_output:
                gen[f.product] = gen.get(f.product, 0.0) + _amount(data, pid, f.key)
            if f.kind is FlowKind.coproduct:
                gas = rule.coproduct_by_id[f.coproduct].exports
                if gas:
                    exp[gas] = exp.get(gas, 0.0) + _amount(data, pid, f.key)
        for f in spec.inputs:
            if f.kind is FlowKind.process_gas:
                use[f.product] = use.get(f.product, 0.0) + _amount(data, pid, f.key)
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


def combustion_co2_kg(amount: float, ncv_gj_per_unit: float, carbon_kg_per_gj: float,
                      oxidation: float = 1.0) -> float:
    """CO2 from burning a fuel by the emission-factor method of the Chinese enterprise GHG guidelines.

    E = AD x EF with AD = FC x NCV and EF = CC x OF x 44/12, as in the fuel-combustion part of the NDRC
    2013 iron and steel accounting guideline (carried into GB/T 32151.5-2015): fuel amount x net calorific
    value (GJ per unit) x carbon per energy (kg C/GJ) x oxidation rate x 44/12, in kg CO2.
    """
    if min(amount, ncv_gj_per_unit, carbon_kg_per_gj) < 0 or not 0 <= oxidation <= 1:
        raise ValueError("amount, NCV and carbon content must be >= 0 and the oxidation rate in [0, 1]")
    return amount * ncv_gj_per_unit * carbon_kg_per_gj * oxidation * C_TO_CO2


@dataclass(frozen=True)
class SiteCarbon:
    """The carbon of the product system's processes accounted by carbon balance, kg C per year.

    Each term is found on its own, from the activity data and the footprint's CO2, not from the per-process
    balances, so that the terms must add up only if no process counts carbon twice or loses it: carbon bought
    (materials, fuels, intermediates not made by these processes) = carbon leaving in products (made minus used
    by these processes), co-products and residues + carbon leaving in process gases (made minus burned by these
    processes: exported, or burned by processes outside them) + carbon emitted as CO2. ``clipped``: negative
    process balances the carbon balance set to zero (within the rule's carbon tolerance).
    """

    purchased_in: float
    leaving_in_products: float
    leaving_in_gases: float
    exported_in_gases: float  # the part of leaving_in_gases the enterprise reports as exported off site
    emitted: float  # CO2 (fossil and biogenic) of the processes' direct emissions, as carbon
    clipped: float = 0.0
    unoxidised: float = 0.0  # fuel carbon left unoxidised in residues (the rule's oxidation: factor)

    @property
    def residual(self) -> float:
        """What the terms do not explain (zero to rounding when every carbon atom is counted once)."""
        return (self.purchased_in - self.leaving_in_products - self.leaving_in_gases - self.emitted
                - self.unoxidised + self.clipped)


SiteFlow = tuple[str, FlowSpec, float, float]  # (process, flow, annual amount, kg C per unit)


def site_carbon(rule: Rule, flows: list[SiteFlow], gases: Mapping[str, GasBalance], emitted_co2_kg: float,
                clipped: float = 0.0, unoxidised: float = 0.0) -> SiteCarbon:
    """The site carbon balance of the processes whose flows are given (see ``SiteCarbon``).

    ``flows``: every input and output of those processes with its annual amount and carbon per unit;
    ``gases``: the site's process-gas balances (generated, used, exported), by gas; ``emitted_co2_kg``: the
    CO2 of the processes' direct emissions, kg per year; ``unoxidised``: kg C per year of input carbon the rule
    leaves unoxidised (found from the flows and their oxidation rates, not from the processes' balances).
    """
    present = {pid for pid, *_ in flows}
    makers = rule.producers(present)
    purchased = products = gas_out = exported = 0.0
    for _, f, q, c in flows:
        if f.kind in (FlowKind.material, FlowKind.fuel) or (
                f.kind is FlowKind.intermediate and f.product not in makers):
            purchased += q * c
        elif f.kind is FlowKind.intermediate:
            products -= q * c  # made by these processes: used inside
        elif f.kind in (FlowKind.product, FlowKind.carbon_output):
            products += q * c
        elif f.kind is FlowKind.coproduct and not rule.coproduct_by_id[f.coproduct].exports:
            products += q * c
        elif f.kind is FlowKind.coproduct:
            exported += q * c
        elif f.kind is FlowKind.gas_output:
            g = gases[f.product]
            gas_out += (q / g.generated if g.generated > 0 else 0.0) * g.delivered * c
        elif f.kind is FlowKind.process_gas:
            gas_out -= q * c
    return SiteCarbon(purchased, products, gas_out, exported, emitted_co2_kg / C_TO_CO2, clipped, unoxidised)


@dataclass(frozen=True)
class YieldResult:
    name: str
    process: str
    ratio: float | None
    min: float
    max: float

    @property
    def ok(self) -> bool:
        return self.ratio is None or self.min <= self.ratio <= self.max


def yields(rule: Rule, present, data: Data) -> list[YieldResult]:
    return [YieldResult(y.name, y.process, yield_ratio(data, y.process, y.output, y.inputs), y.min, y.max)
            for y in rule.balances.yields if y.process in present]


@dataclass(frozen=True)
class EnterpriseBalances:
    """The rule's balances of one validated enterprise: computed once, checked at validation, reported in
    its result (``enterprise_balances``)."""

    process_gases: tuple[GasBalance, ...]
    electricity: ElectricityBalance | None
    yields: tuple[YieldResult, ...]


def enterprise_balances(ed) -> EnterpriseBalances:
    rule, present, data = ed.rule, ed.processes, ed.data
    return EnterpriseBalances(tuple(process_gas_balances(rule, present, data)),
                              electricity_balance(rule, present, data), tuple(yields(rule, present, data)))


def balance_problems(ed, computed: EnterpriseBalances | None = None) -> list[Problem]:
    """The rule's balance checks on a validated enterprise (process gases, site electricity, yields).

    Run once, after the file-level validation of ``schema.parameters.validate``, on the balances
    ``enterprise_balances`` computed (``computed``, else computed here); every problem names the file, the
    balance and the rule's tolerance.
    """
    rule = ed.rule
    computed = computed or enterprise_balances(ed)
    file = ed.params.path or "(parameters)"
    problems: list[Problem] = []

    def add(fld: str, found, expected: str) -> None:
        problems.append(Problem(file, fld, str(found), expected))

    for gas in computed.process_gases:
        if gas.generated > 0 and abs(gas.unaccounted) > rule.balances.process_gas_tolerance * gas.generated:
            add(
                f"process gas balance ({gas.gas})",
                f"generated {gas.generated:.6g} GJ, used {gas.consumed:.6g}, exported "
                f"{gas.exported:.6g}, unaccounted {gas.unaccounted:.6g} GJ",
                f"|unaccounted| <= {rule.balances.process_gas_tolerance:.0%} of generated",
            )
        if gas.generated == 0 and gas.consumed + gas.exported > 0:
            add(f"process gas balance ({gas.gas})",
                     f"{gas.consumed + gas.exported:.6g} GJ used or exported but none generated",
                     "a process of the route that generates it")
    el = computed.electricity
    if el is not None and el.supplied > 0:
        if abs(el.unaccounted) > rule.balances.electricity_tolerance * el.supplied:
            add(
                "electricity balance",
                f"supplied {el.supplied:.6g} kWh, used by processes {el.consumed:.6g} kWh",
                f"agreement within {rule.balances.electricity_tolerance:.0%}",
            )
    specs = [y for y in rule.balances.yields if y.process in ed.processes]  # the order ``yields`` gives
    for y, got in zip(specs, computed.yields, strict=True):
        if not got.ok:
            add(f"processes.{y.process}.{y.output}",
                     f"{y.name} {got.ratio:.3f} t/t ({y.output} / ({' + '.join(y.inputs)}))",
                     f"between {y.min} and {y.max} ({y.source})")
    return problems
