"""The enterprise's foreground system as a plain, inspectable structure (no Brightway here).

``build_foreground`` turns a validated parameter file into unit processes with annual exchanges:
technosphere inputs linked to other foreground processes or to background factors, direct emissions from
the emission mechanisms the rule selects per process (``core.mechanisms``), co-product credits or allocation
(one column per product of a multi-output process, decision record docs/decisions/0003), process gases linked
from their makers to their users through one surplus column per gas (decision record 0008). The Brightway layer
(``brightway.engine``) writes this structure as activities; ``compute`` evaluates it with numpy and scipy for
compute-only batches, tested equal to Brightway.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from methodology.core.allocation import partition
from methodology.core.balances import CarbonBalance, SiteCarbon, process_gas_balances, site_carbon
from methodology.core.mechanisms import MechanismResult, ProcessData, direct_emissions
from methodology.errors import CalculationError
from methodology.gases import C_TO_CO2, Gas
from methodology.schema.factors import Category, FactorSet, SupplierValue, supplier_factor_id, with_supplier_values
from methodology.schema.mechanisms import Oxidation
from methodology.schema.parameters import EnterpriseData
from methodology.schema.rules import AllocationApproach, BoundCO2Treatment, FlowKind, Rule
from methodology.units import conversion_factor


class Origin(StrEnum):
    """Where a contribution comes from: the 'direct / electricity / upstream' breakdown."""

    direct = "direct"
    electricity = "electricity"
    upstream = "upstream"  # purchased materials, fuels and intermediates, cradle to gate
    transport = "transport"
    credit = "credit"  # avoided products (system expansion)
    foreground = "foreground"  # link to another foreground process (not a contribution itself)


@dataclass(frozen=True)
class Exchange:
    """One annual flow of a unit process. ``target`` is a process id, factor id or gas."""

    kind: str  # "technosphere" | "biosphere"
    target: str
    amount: float
    origin: Origin
    label: str  # the parameter key (or a short description) it came from
    linked_to: str = "background"  # "foreground" | "background" | "biosphere"


@dataclass(frozen=True)
class UnitProcess:
    id: str
    name: str
    stage: str
    product: str
    unit: str
    output: float  # annual amount of the reference product
    exchanges: tuple[Exchange, ...]
    allocation_factor: float = 1.0
    carbon: CarbonBalance | None = None
    notes: tuple[str, ...] = ()
    mechanisms: tuple[MechanismResult, ...] = ()  # what each emission mechanism of the rule gave (annual kg)
    surplus: bool = False  # a process gas's surplus column: output -1, run (surplus) times; negative = deficit


@dataclass(frozen=True)
class Foreground:
    enterprise: str
    product: str
    route: str
    final_process: str
    demand: float  # amount of the final process's product per declared unit
    processes: dict[str, UnitProcess]
    allocation: AllocationApproach
    electricity_factor: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    site_carbon: SiteCarbon | None = None  # the carbon-balance processes' site balance, kg C per year

    def background_factors(self) -> list[str]:
        return sorted({e.target for p in self.processes.values() for e in p.exchanges
                       if e.kind == "technosphere" and e.linked_to == "background"})


ORIGIN_OF_CATEGORY = {
    Category.electricity: Origin.electricity,
    Category.transport: Origin.transport,
    Category.avoided_product: Origin.credit,
    Category.material: Origin.upstream,
    Category.fuel: Origin.upstream,
    Category.process_gas: Origin.upstream,
    Category.process_emission: Origin.direct,
}


# flows whose carbon per unit an enterprise may measure (else the factor's): the others use the factor's
MEASURABLE_CARBON = frozenset({FlowKind.material, FlowKind.fuel, FlowKind.process_gas, FlowKind.carbon_output,
                               FlowKind.intermediate, FlowKind.product})


def combustion_terms(ed: EnterpriseData, factors: FactorSet, pid: str, f) -> tuple[float, float, float] | None:
    """(NCV GJ/unit, kg C/GJ, oxidation) of an input burned (its factor's, or its intermediate product's carbon
    factor's), the enterprise's measured NCV and carbon content replacing defaults; None without them."""
    d = ed.data.get((pid, f.key))
    factor = ed.rule.carbon_factor_of(f)
    base = factors.get(factor).combustion_terms() if factor else None
    ncv = d.ncv_gj_per_unit if d is not None and d.ncv_gj_per_unit is not None else (base or (None,))[0]
    if ncv is None or ncv <= 0:
        return None
    if d is not None and d.carbon_kg_per_unit is not None:
        cpe = d.carbon_kg_per_unit / ncv
    elif base is not None:
        cpe = base[1] * base[0] / ncv  # the factor's carbon per unit, spread over the (measured) NCV
    else:
        return None
    return ncv, cpe, base[2] if base is not None else 1.0


def applied_oxidation(rule: Rule, factors: FactorSet, f) -> float | None:
    """The oxidation rate a carbon balance applies to an input flow ``f`` (None: fully oxidised): its carbon
    factor's, when the rule's ``carbon_accounting.oxidation`` is ``factor``."""
    if rule.carbon_accounting.oxidation is not Oxidation.factor:
        return None
    factor = rule.carbon_factor_of(f)
    return factors.get(factor).oxidation() if factor else None


class _Builder:
    def __init__(self, ed: EnterpriseData, factors: FactorSet, gas_balances=None):
        self.ed, self.rule, self.factors = ed, ed.rule, factors
        self.makers = self.rule.producers(ed.processes)
        # products made at the site as non-reference products under system expansion (their users buy the substitute)
        self.expanded = {f.product for pid in ed.processes for f in self.rule.process_by_id[pid].products
                         if f is not self.rule.process_by_id[pid].reference
                         and self.rule.approach_of(pid) is AllocationApproach.system_expansion}
        gases = gas_balances if gas_balances is not None else process_gas_balances(self.rule, ed.processes, ed.data)
        self.gas = {g.gas: g for g in gases}
        # the process making each process gas (its first maker at the site): the gas's surplus column is its
        self.gas_makers: dict[str, str] = {}
        for pid in ed.processes:
            for gas in self.rule.gases_made_by(self.rule.process_by_id[pid]):
                self.gas_makers.setdefault(gas, pid)
        self.linked_gases: dict[str, None] = {}  # gases whose surplus column an exchange links to
        self.modes = {m.id: m.factor for m in self.rule.transport_modes}

    def carbon_of_factor(self, factor_id: str | None) -> float:
        """kg C per unit of a factor's flow, on the rule's carbon-content basis (``carbon_accounting``)."""
        if not factor_id:
            return 0.0
        c = self.factors.get(factor_id).carbon_kg(self.rule.carbon_accounting.content_basis)
        return c or 0.0

    def oxidation_of(self, pid: str, f) -> float | None:
        return applied_oxidation(self.rule, self.factors, f)

    def carbon_per_unit(self, pid: str, key: str, default_factor: str | None) -> float:
        """kg C per unit of a flow: the enterprise's measured content where given, else the factor set's."""
        d = self.ed.data.get((pid, key))
        if d is not None and d.carbon_kg_per_unit is not None:
            return d.carbon_kg_per_unit
        return self.carbon_of_factor(default_factor)

    def combustion_terms(self, pid: str, f) -> tuple[float, float, float] | None:
        return combustion_terms(self.ed, self.factors, pid, f)

    def inputs(self, pid: str, carbon_in: dict, bio: dict) -> list[Exchange]:
        spec = self.rule.process_by_id[pid]
        out: list[Exchange] = []
        for f in spec.inputs:
            d = self.ed.data.get((pid, f.key))
            if d is None or d.amount == 0:
                continue
            q = d.amount
            if f.kind in (FlowKind.material, FlowKind.fuel):
                fid = f.factor if d.supplier is None else supplier_factor_id(pid, f.key)
                fac = self.factors.get(fid)
                out.append(Exchange("technosphere", fid, q, ORIGIN_OF_CATEGORY[fac.category], f.key))
                carbon_in[f.key] = q * self.carbon_per_unit(pid, f.key, f.factor)
                bio[f.key] = fac.biogenic_share()
            elif f.kind is FlowKind.process_gas:
                carbon_in[f.key] = q * self.carbon_per_unit(pid, f.key, f.factor)
                out.append(Exchange("technosphere", self.surplus_id(f.product), q, Origin.foreground, f.key,
                                    "foreground"))
            elif f.kind is FlowKind.grid_electricity:
                out.append(Exchange("technosphere", self.ed.electricity_factor, q, Origin.electricity, f.key))
            elif f.kind is FlowKind.intermediate:
                out.append(self._intermediate(f, q, None if d.supplier is None else supplier_factor_id(pid, f.key)))
                carbon_in[f.key] = q * self.carbon_per_unit(pid, f.key,
                                                            self.rule.product_by_id[f.product].carbon_factor)
            for mode, tkm in d.tkm.items():
                out.append(Exchange("technosphere", self.modes[mode], tkm, Origin.transport,
                                    f"{f.key} transport ({mode})"))
        return out

    def _intermediate(self, f, q, supplied: str | None = None) -> Exchange:
        """An input of an intermediate product: from the column making it, else its substitute (when a process
        of the site makes it as a non-reference product under system expansion), else bought in."""
        maker = self.makers.get(f.product)
        if maker is not None:
            return Exchange("technosphere", column_id(self.rule, maker, f.product), q, Origin.foreground, f.key,
                            "foreground")
        prod = self.rule.product_by_id[f.product]
        if prod.substitutes and f.product in self.expanded:
            return Exchange("technosphere", prod.substitutes, q * prod.substitution_ratio, Origin.upstream,
                            f"{f.key} (as {prod.substitutes}: made here as a co-product, system expansion)")
        fid = supplied or prod.purchased_factor  # the supplier's footprint where the enterprise gives it
        fac = self.factors.get(fid)
        return Exchange("technosphere", fid, q, ORIGIN_OF_CATEGORY[fac.category], f.key)

    def outputs(self, pid: str, carbon_out: dict, feeds: list[Exchange]) -> list[tuple]:
        """Carbon leaving with outputs; returns the co-products as (spec, flow, amount). Process gases delivered
        (used on site or exported) go into their surplus columns (``feeds``); their exports are part of that
        delivery, so an export co-product carries no carbon of its own and gets no credit here."""
        spec = self.rule.process_by_id[pid]
        expansion = self.rule.approach_of(pid) is AllocationApproach.system_expansion
        coproducts = []
        for f in spec.outputs:
            q = self.ed.amount(pid, f.key)
            if f.kind is FlowKind.product:
                carbon_out[f.key] = q * self.carbon_per_unit(pid, f.key,
                                                             self.rule.product_by_id[f.product].carbon_factor)
            elif f.kind is FlowKind.gas_output:
                delivered = self.delivered(f.product, q)
                # carbon leaves with the gas that is used or exported; the rest (flare, losses) is emitted here
                carbon_out[f.key] = delivered * self.carbon_of_factor(f.factor)
                if delivered:
                    feeds.append(Exchange("technosphere", self.surplus_id(f.product), -delivered, Origin.foreground,
                                          f"{f.key} (delivered: used on site or exported)", "foreground"))
            elif f.kind is FlowKind.carbon_output:
                carbon_out[f.key] = q * self.carbon_per_unit(pid, f.key, f.factor)
            elif f.kind is FlowKind.coproduct and q > 0:
                cop = self.rule.coproduct_by_id[f.coproduct]
                if cop.exports:
                    if not expansion:  # a partition: the export takes its share of the process away
                        coproducts.append((cop, f, q))
                    continue
                carbon_out[f.key] = q * self.carbon_of_factor(cop.carbon_factor)
                coproducts.append((cop, f, q))
        return coproducts

    def delivered(self, gas: str, generated: float) -> float:
        """The part of ``generated`` of a gas that is used on site or exported (the site's ratio)."""
        g = self.gas[gas]
        return generated / g.generated * g.delivered if g.generated > 0 else 0.0

    def surplus_id(self, gas: str) -> str:
        self.linked_gases[gas] = None
        return column_id(self.rule, self.gas_makers[gas], gas)

    def surplus_column(self, gas: str) -> UnitProcess:
        """The column balancing a process gas in the product system (Heijungs and Suh's substitution method in
        a square matrix): its makers deliver into it, its users draw from it, and it is run as many times as
        GJ of the gas are left over, i.e. leave the product system (exported, or burned by site processes
        outside it); negative when the product system burns more than it makes. Output -1 per run (it takes
        in 1 GJ of surplus). Under system expansion each GJ of surplus is credited as the gas's export
        co-product says (substitute x ratio) and its carbon is burned in the expanded system; under a
        partition it leaves with its carbon and no burden (exports take their share as co-products of the
        maker). Decision record docs/decisions/0008."""
        maker = self.gas_makers[gas]
        prod, cop = self.rule.product_by_id[gas], self.rule.export_of(gas)
        ex: list[Exchange] = []
        if cop is not None and self.rule.approach_of(maker) is AllocationApproach.system_expansion:
            if cop.substitutes:
                ex.append(Exchange("technosphere", cop.substitutes, -(cop.substitution_ratio or 0.0), Origin.credit,
                                   f"{gas} surplus replaces {cop.substitutes}"))
            if cop.burned_in_expansion:
                ex.append(Exchange("biosphere", Gas.co2_fossil.value,
                                   self.carbon_of_factor(prod.carbon_factor) * C_TO_CO2, Origin.direct,
                                   f"{gas} surplus burned in the expanded system", "biosphere"))
        spec = self.rule.process_by_id[maker]
        return UnitProcess(column_id(self.rule, maker, gas), f"{prod.name}: surplus leaving the product system",
                           spec.stage, gas, prod.unit, -1.0, tuple(ex), surplus=True)

    def process_data(self, pid: str, carbon_in: dict, carbon_out: dict, bio: dict) -> ProcessData:
        spec = self.rule.process_by_id[pid]
        fuels = spec.burned
        return ProcessData(
            process=pid, reference=spec.reference.key,
            amounts={f.key: self.ed.amount(pid, f.key) for f in spec.flows()},
            units={f.key: f.unit for f in spec.flows()},
            parameters={x.name: self.ed.parameter(pid, x.name) for x in spec.parameters
                        if self.ed.parameter(pid, x.name) is not None},
            carbon_in=carbon_in, carbon_out=carbon_out,
            combustion={f.key: self.combustion_terms(pid, f) for f in spec.inputs if f.key in fuels},
            biogenic=bio, carbon_tolerance=self.rule.balances.carbon_tolerance,
            oxidation={f.key: of for f in spec.inputs if (of := self.oxidation_of(pid, f)) is not None},
        )

    def direct(self, pid: str, data: ProcessData) -> tuple[list[Exchange], tuple[MechanismResult, ...]]:
        """Biosphere exchanges of the mechanisms the rule selects for the process (``core.mechanisms``)."""
        results = tuple(direct_emissions(self.rule.process_by_id[pid].emissions, data, self.factors))
        ex = [Exchange("biosphere", gas.value, kg, Origin.direct, r.label, "biosphere")
              for r in results for gas, kg in r.kg.items() if kg != 0]
        return ex, results

    def expansion_credits(self, pid: str, coproducts) -> list[Exchange]:
        """System expansion (ISO 14044 4.3.4.2): credits for what the co-products and the non-reference products
        replace, and the CO2 of co-product gases burned in the expanded system."""
        extra = []
        for cop, f, q in coproducts:
            if cop.exports:
                continue  # a process gas's exports are credited in its surplus column
            if cop.substitutes:
                extra.append(Exchange("technosphere", cop.substitutes, -q * (cop.substitution_ratio or 0.0),
                                      Origin.credit, f"{f.key} replaces {cop.substitutes}"))
                extra += [Exchange("technosphere", x.factor, q * x.amount, Origin.credit,
                                   f"{f.key} processing before it replaces {cop.substitutes} ({x.factor})")
                          for x in cop.processing]
            if cop.burned_in_expansion:
                c = q * self.carbon_of_factor(cop.carbon_factor)
                extra.append(Exchange("biosphere", Gas.co2_fossil.value, c * C_TO_CO2, Origin.direct,
                                      f"{f.key} burned in the expanded system", "biosphere"))
        spec = self.rule.process_by_id[pid]
        for f in spec.products:
            q = self.ed.amount(pid, f.key)
            prod = self.rule.product_by_id[f.product]
            if f is not spec.reference and q > 0:
                extra.append(Exchange("technosphere", prod.substitutes, -q * prod.substitution_ratio, Origin.credit,
                                      f"{f.key} replaces {prod.substitutes}"))
        return extra

    def weight(self, approach: AllocationApproach, pid: str, f, q: float) -> float:
        """Allocation weight of one output: its mass, energy or value (ISO 14044 4.3.4.2 b and c)."""
        if f.kind is FlowKind.product:
            spec, ident = self.rule.product_by_id[f.product], f.product
            mass = self.rule.allocation.product_mass_per_unit.get(ident)
            price = self.rule.allocation.product_prices.get(ident)
        else:
            spec = self.rule.coproduct_by_id[f.coproduct]
            ident, mass, price = spec.id, spec.mass_per_unit, spec.price
        if approach is AllocationApproach.mass:
            return q * (mass if mass is not None else _to_t(f.unit))
        if approach is AllocationApproach.economic:
            price = self.ed.params.prices.get(ident, price)
            if price is None:  # a missing price is not a zero price: it would give the output no burden at all
                raise CalculationError(f"process '{pid}': no price for '{ident}' to allocate by revenue; give "
                                       f"allocation.product_prices.{ident} (or the co-product's price) in the rule, "
                                       f"or prices.{ident} in the parameter file")
            return q * price
        d = self.ed.data.get((pid, f.key))
        if d is not None and d.ncv_gj_per_unit is not None:
            return q * d.ncv_gj_per_unit
        if spec.energy_content is None:
            raise CalculationError(f"process '{pid}': no energy content for '{ident}' to allocate by energy")
        return q * spec.energy_content.value * conversion_factor(spec.energy_content.unit, f"GJ/({f.unit})")

    def columns(self, pid: str, exchanges: list[Exchange], coproducts, mechanisms, balance) -> list[UnitProcess]:
        """The process as one column per product it makes: system expansion keeps one column (the reference
        product) with credits; a partition (mass, energy, economic) gives each product its share of every
        exchange, and co-products leaving the system take theirs away."""
        spec = self.rule.process_by_id[pid]
        approach = self.rule.approach_of(pid)
        made = [(f, self.ed.amount(pid, f.key)) for f in spec.products]
        if approach is AllocationApproach.system_expansion:
            made, shares = made[:1], [1.0]
            exchanges = exchanges + self.expansion_credits(pid, coproducts)
        else:
            made = [(f, q) for f, q in made if q > 0 or f is spec.reference]
            items = made + [(f, q) for _, f, q in coproducts]
            shares = partition([self.weight(approach, pid, f, q) for f, q in items]) if len(items) > 1 else [1.0]
        out = []
        for (f, q), k in zip(made, shares, strict=False):
            ref = f is spec.reference
            name = spec.name if ref else f"{spec.name}: {self.rule.product_by_id[f.product].name}"
            ex = exchanges if k == 1.0 else [replace(e, amount=e.amount * k) for e in exchanges]
            out.append(UnitProcess(column_id(self.rule, pid, f.product), name, spec.stage, f.product, f.unit, q,
                                   tuple(ex), k, balance if ref else None, mechanisms=mechanisms if ref else ()))
        return out

    def process(self, pid: str) -> list[UnitProcess]:
        carbon_in: dict[str, float] = {}
        carbon_out: dict[str, float] = {}
        bio: dict[str, float] = {}
        exchanges = self.inputs(pid, carbon_in, bio)
        feeds: list[Exchange] = []
        coproducts = self.outputs(pid, carbon_out, feeds)
        direct, mechanisms = self.direct(pid, self.process_data(pid, carbon_in, carbon_out, bio))
        balance = next((r.carbon for r in mechanisms if r.carbon is not None), None)
        return self.columns(pid, exchanges + feeds + direct + self.bound_co2(pid, carbon_out), coproducts,
                            mechanisms, balance)

    def bound_co2(self, pid: str, carbon_out: dict) -> list[Exchange]:
        """The CO2 bound in the products of the rule's ``carbon_accounting.bound_co2`` that this process makes,
        counted as emitted here when the rule does not credit it (their carbon x 44/12; decision record of the
        rule). Not a mechanism: the carbon balance still sees the carbon leave in the product."""
        bound = self.rule.carbon_accounting.bound_co2
        if bound is None or bound.treatment is not BoundCO2Treatment.not_credited:
            return []
        return [Exchange("biosphere", Gas.co2_fossil.value, carbon_out[f.key] * C_TO_CO2, Origin.direct,
                         f"CO2 bound in {f.key}, counted at the gate (not credited)", "biosphere")
                for f in self.rule.process_by_id[pid].products
                if f.product in bound.products and carbon_out.get(f.key)]

    def flow_carbon(self, pid: str, f) -> float:
        """kg C per unit of one flow of a process, as the carbon balance counts it (an export of a process gas:
        the gas's carbon)."""
        factor = self.rule.carbon_factor_of(f)
        if f.kind in (FlowKind.gas_output, FlowKind.coproduct):  # never measured: the factor's carbon
            return self.carbon_of_factor(factor)
        if f.kind in MEASURABLE_CARBON:
            return self.carbon_per_unit(pid, f.key, factor)
        return 0.0

    def site_carbon(self, processes: dict[str, UnitProcess]) -> SiteCarbon:
        """The site carbon balance (``balances.SiteCarbon``) of the product system's processes whose direct CO2
        is a carbon balance of all their carbon (nothing excluded to other mechanisms)."""
        balanced = [p for p in processes.values() if p.carbon is not None and all(
            r.type == "carbon_balance" or Gas.co2_fossil not in r.kg for r in p.mechanisms)
            and not any(getattr(m, "exclude", ()) for m in self.rule.process_by_id[p.id].emissions)]
        flows = [(p.id, f, self.ed.amount(p.id, f.key), self.flow_carbon(p.id, f))
                 for p in balanced for f in self.rule.process_by_id[p.id].flows()]
        co2 = sum(kg for p in balanced for r in p.mechanisms for gas, kg in r.kg.items()
                  if gas in (Gas.co2_fossil, Gas.co2_biogenic))
        clipped = sum(max(-p.carbon.emitted, 0.0) for p in balanced)
        unoxidised = sum(q * c * (1.0 - of) for pid, f, q, c in flows
                         if any(f is i for i in self.rule.process_by_id[pid].inputs)
                         and (of := self.oxidation_of(pid, f)) is not None)
        return site_carbon(self.rule, flows, self.gas, co2, clipped, unoxidised)


def _to_t(unit: str) -> float:
    return conversion_factor(unit, "t")


def column_id(rule: Rule, process: str, product: str) -> str:
    """The id of the column (allocated unit process) making ``product``: the process id for its reference
    product, ``<process>::<product>`` for its other products."""
    return process if rule.process_by_id[process].reference.product == product else f"{process}::{product}"


def product_system(rule: Rule, present, final_process: str) -> list[str]:
    """Processes the final product depends on (upstream closure over foreground links), rule order."""
    makers = rule.producers(present)
    needed, todo = set(), [final_process]
    while todo:
        pid = todo.pop()
        if pid in needed:
            continue
        needed.add(pid)
        for f in rule.process_by_id[pid].inputs:
            if f.kind is FlowKind.intermediate and f.product in makers:
                todo.append(makers[f.product])
    return [p for p in present if p in needed]


def supplier_values(ed: EnterpriseData) -> list[SupplierValue]:
    """The supplier footprints the enterprise gives for its purchased inputs, as factors standing in for the
    factor set's (``schema.factors.with_supplier_values``)."""
    rule, out = ed.rule, []
    for (pid, key), d in ed.data.items():
        if d.supplier is None:
            continue
        f = rule.process_by_id[pid].flow_by_key[key]
        bought = f.kind in (FlowKind.material, FlowKind.fuel)
        base = f.factor if bought else rule.product_by_id[f.product].purchased_factor
        out.append(SupplierValue(
            factor_id=supplier_factor_id(pid, key), replaces=base, flow=f"{pid}.{key}", flow_name=f.name,
            reference_unit=f.unit, kg_co2e_per_unit=d.supplier_kg_co2e_per_unit, document=d.supplier.source,
            verified=d.supplier.verified, enterprise=ed.params.enterprise.name,
            parameter_file=ed.params.path or "(parameters)", year=ed.params.reference_period.end.year))
    return out


def study_factors(ed: EnterpriseData, factors: FactorSet) -> FactorSet:
    """The factor set a study of ``ed`` evaluates with: ``factors`` and the enterprise's supplier values."""
    return with_supplier_values(factors, supplier_values(ed))


def build_foreground(ed: EnterpriseData, factors: FactorSet, gas_balances=None) -> Foreground:
    """The enterprise's unit processes (one column per product), direct emissions from the rule's mechanisms,
    co-products handled by each process's allocation approach. ``gas_balances``: the process-gas balances the
    validation computed (computed here if not given). ``factors`` should be ``study_factors(ed, ...)`` (the
    supplier values added); a set without them gets them here."""
    factors = study_factors(ed, factors)
    b = _Builder(ed, factors, gas_balances)
    rule = ed.rule
    product = rule.declared_product(ed.params.product)
    system = product_system(rule, ed.processes, product.final_process)
    processes = {col.id: col for pid in system for col in b.process(pid)}
    processes.update({col.id: col for col in map(b.surplus_column, b.linked_gases)})
    out = rule.declared_output(product.id)
    final = column_id(rule, product.final_process, out.product)
    demand = rule.declared_unit.amount * conversion_factor(rule.declared_unit.unit, out.unit)
    notes = []
    outside = [p for p in ed.processes if p not in system]
    if outside:
        notes.append(
            "Processes reported but outside this product's system (not counted): " + ", ".join(outside)
        )
    return Foreground(
        enterprise=ed.params.enterprise.id,
        product=product.id,
        route=ed.params.route,
        final_process=final,
        demand=demand,
        processes=processes,
        allocation=rule.allocation.approach,
        electricity_factor=ed.electricity_factor,
        notes=tuple(notes),
        site_carbon=b.site_carbon(processes),
    )
