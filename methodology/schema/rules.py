"""Product category rules (PCR) as data: the strict schema and its loader.

A rule file (``standards/<industry>/*.yaml``) defines, for one product category: the declared unit, the
cradle-to-gate system boundary as named stages made of unit processes, the production routes, the
enterprise data each process needs (unit, plausible range per unit of output, whether primary data is
mandatory), cut-off criteria, co-product handling, the electricity factor to use and data-quality
requirements. Every clause names the standard it follows. No Brightway is imported here.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, PrivateAttr, field_validator, model_validator

from methodology.errors import Problem, RuleError
from methodology.schema import choices
from methodology.schema.changelog import RuleChange, changes_problems, lock_problem
from methodology.schema.choices import FactorChoice
from methodology.schema.common import KEBAB, SEMVER, ClauseRef, FileBacked, Strict, Unit
from methodology.schema.components import ComponentSpec
from methodology.schema.factors import Category, FactorSet
from methodology.schema.families import ProductFamily, family_problems
from methodology.schema.loading import ContentCache, parse_model
from methodology.schema.mechanisms import Oxidation, ProcessFactor
from methodology.schema.processes import (  # noqa: F401 - re-exported: the rule's vocabulary
    AllocationApproach,
    EnergyContent,
    FlowKind,
    FlowSpec,
    MeasuredProperty,
    ParameterSpec,
    Plausible,
    ProcessSpec,
    Severity,
)
from methodology.units import convertible


class Standard(Strict):
    title: str
    edition: str
    publisher: str


class RuleSetHeader(Strict):
    id: str = Field(pattern=KEBAB)
    version: str = Field(pattern=SEMVER)
    title: str
    industry: str = Field(pattern=KEBAB)
    status: str
    date: str
    description: str | None = None
    factor_set: str = Field(pattern=KEBAB, description="id of the factor set the rule is written for")
    changes: list[RuleChange] = Field(
        default_factory=list, description="version history, newest first; the newest entry is this version "
        "(schema.changelog, decision record 0013)")


class DeclaredUnit(Strict):
    amount: float = Field(gt=0)
    unit: Unit
    description: str
    clause: list[ClauseRef]


class StageSpec(Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    description: str


class IntermediateProduct(Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    unit: Unit
    carbon_factor: str | None = Field(None, description="factor id giving its carbon content")
    purchased_factor: str | None = Field(None, description="factor used when bought in, not made")
    energy_content: EnergyContent | None = Field(None, description="energy per unit, for energy allocation")
    substitutes: str | None = Field(
        None, description="avoided_product factor it replaces when made as a non-reference product under system "
                          "expansion (its users then buy that substitute; the maker is credited)")
    substitution_ratio: float = Field(1.0, ge=0, description="units of the substitute replaced per unit")


class ProductSpec(Strict):
    """A declared product of the category and the process whose reference output it is."""

    id: str = Field(pattern=KEBAB)
    name: str
    final_process: str
    output: str | None = Field(None, description="flow key of the final process's product output that is the "
                                                 "declared product; default: its reference product")
    description: str | None = None
    families: list[ProductFamily] = Field(
        default_factory=list, description="families (grades, types) accounted separately; when given, every "
                                          "parameter file of the product names one (decision record 0010)")
    components: list[ComponentSpec] = Field(
        default_factory=list, description="declared components (nutrients ...): the footprint is also given per kg "
                                          "of each (schema.components)")

    def family(self, family_id: str | None) -> ProductFamily | None:
        return next((f for f in self.families if f.id == family_id), None)


class RouteSpec(Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    processes: list[str]
    optional_processes: list[str] = []
    description: str | None = None
    plausible_footprint: Plausible | None = Field(
        None, description="plausible cradle-to-gate total per declared unit (for review, not a limit)"
    )


class Processing(Strict):
    """What a co-product needs before it can replace its substitute (e.g. drying and grinding granulated slag
    before it replaces cement clinker): charged where the credit is given, so the credit is net of it."""

    factor: str = Field(description="factor id of the treatment (its emissions per reference unit)")
    amount: float = Field(ge=0, allow_inf_nan=False, description="reference units of the factor per unit of "
                                                                  "the co-product")
    note: str | None = None


class CoproductSpec(Strict):
    """How one co-product is handled under each allocation approach."""

    id: str = Field(pattern=KEBAB)
    name: str
    unit: Unit
    substitutes: str | None = Field(None, description="factor id of the product it replaces")
    substitution_ratio: float | None = Field(None, ge=0, description="units replaced per unit")
    mass_per_unit: float | None = Field(None, ge=0, description="t per unit, for mass allocation")
    price: float | None = Field(None, ge=0, description="CNY per unit, default for economic allocation")
    price_source: str | None = None
    carbon_factor: str | None = Field(None, description="factor id giving its carbon content")
    burned_in_expansion: bool = Field(
        False, description="system expansion: its carbon is burned (emitted) in the expanded system"
    )
    energy_content: EnergyContent | None = Field(None, description="energy per unit, for energy allocation")
    processing: list[Processing] = Field(
        default_factory=list, description="treatment before substitution, charged against the credit")
    exports: str | None = Field(
        None, description="process gas (intermediate product id) this co-product is the export of: the product "
                          "system's surplus of that gas is handled as this co-product (decision record 0008)")
    clause: list[ClauseRef]
    note: str | None = None


class Allocation(Strict):
    approach: AllocationApproach
    clause: list[ClauseRef]
    decision: str | None = Field(None, description="path of the decision record")
    product_prices: dict[str, float] = Field(
        default_factory=dict, description="CNY per unit of each intermediate product (economic)"
    )
    product_mass_per_unit: dict[str, float] = Field(
        default_factory=dict, description="t per unit of each product whose unit is not a mass"
    )
    price_source: str | None = None
    coproducts: list[CoproductSpec]


class NotCounted(Strict):
    """Something inside the system boundary that the rule does not quantify, and why (ISO 14067 6.3.4.3)."""

    what: str
    why: str
    clause: list[ClauseRef] = []


class CutOff(Strict):
    mass_share_per_process: float = Field(ge=0, le=1)
    energy_share_per_process: float = Field(ge=0, le=1)
    cumulative_share: float = Field(ge=0, le=1)
    excluded: list[str]
    not_counted: list[NotCounted] = Field(
        default_factory=list, description="emissions or flows inside the boundary not quantified, with the reason")
    clause: list[ClauseRef]


class EndOfLifeApproach(StrEnum):
    """How recycled inputs and the product's end of life are treated. Only the recycled-content (cut-off)
    approach is implemented: a rule naming another is refused until the method supports it."""

    cut_off = "cut_off"


class EndOfLife(Strict):
    approach: EndOfLifeApproach
    description: str
    applies_to: list[str] = Field(description="factor ids of the recycled inputs the approach covers")
    clause: list[ClauseRef]
    decision: str | None = None


class CarbonBasis(StrEnum):
    """Where a carbon content comes from when a factor gives it both ways."""

    mass = "mass"  # the factor's carbon_content (kg C per unit, e.g. IPCC 2006 Vol. 3 Table 4.3)
    energy = "energy"  # net calorific value x carbon per unit of energy (the national guideline's defaults)


class BoundCO2Treatment(StrEnum):
    """Whether CO2 bound in a product and released soon after the gate (urea) is credited at the gate."""

    not_credited = "not_credited"  # counted as emitted where it is bound; the amount reported apart
    credited = "credited"  # leaves in the product, not counted (the bound CO2 subtracted); reported apart


class BoundCO2(Strict):
    """CO2 a product binds and releases after the gate (urea hydrolysed after application, IPCC 2006 Vol. 4
    Eq. 11.13): ``not_credited`` counts the CO2 of the product's carbon as emitted at the process making it,
    ``credited`` lets it leave in the product; both report it (``result.json`` product_carbon.bound_co2_kg)."""

    products: list[str] = Field(min_length=1, description="intermediate product ids (with a carbon_factor)")
    treatment: BoundCO2Treatment = BoundCO2Treatment.not_credited
    decision: str | None = Field(None, description="path of the decision record")
    clause: list[ClauseRef] = []


class CarbonAccounting(Strict):
    """How carbon balances count carbon: which carbon contents and whether fuel carbon is fully oxidised.

    ``content_basis``: for factors that give both a carbon content and NCV x carbon per energy, which one the
    balances use (a factor giving only one uses it; a measured content always wins). ``oxidation``:
    ``complete`` emits all carbon not leaving in a product, gas or residue (IPCC 2006 Vol. 3 Ch. 4 Tier 2 mass
    balance); ``factor`` leaves the unoxidised share (1 - oxidation rate) of every input whose factor gives an
    oxidation rate in the process's residues, as the fuel-combustion part of the Chinese enterprise guidelines
    does."""

    content_basis: CarbonBasis = CarbonBasis.mass
    oxidation: Oxidation = Oxidation.complete
    decision: str | None = Field(None, description="path of the decision record")
    clause: list[ClauseRef] = []
    bound_co2: BoundCO2 | None = Field(None, description="CO2 bound in products and released after the gate: "
                                                         "credited or not (absent: carbon in products leaves)")


class GridFactor(StrEnum):
    """Which grid factor an enterprise's grid purchases take (decision record 0011)."""

    national = "national"  # the default factor for every enterprise
    regional = "regional"  # the factor of the enterprise's grid region (the factor set's grid_regions)


class ElectricityRule(Strict):
    basis: str
    default_factor: str
    allowed_factors: list[str]
    grid_factor: GridFactor = Field(
        GridFactor.national, description="national: default_factor for everyone; regional: the factor of the "
        "enterprise's grid region from regional_factors (a parameter file's electricity_factor still wins)")
    regional_factors: dict[str, str] = Field(
        default_factory=dict, description="grid region id (the factor set's grid_regions) -> factor id")
    clause: list[ClauseRef]
    decision: str | None = None


class DataQualityRule(Strict):
    indicators: list[str]
    scale: tuple[int, int] = Field((1, 5), description="pedigree scores run from 1 (best) to 5 (worst)")
    max_weighted_score: float = Field(ge=1, le=5, description="on the 1-5 pedigree scale")
    min_primary_data_share: float = Field(ge=0, le=1)
    max_reference_period_age_years: int = Field(ge=0)
    clause: list[ClauseRef]

    @field_validator("scale")
    @classmethod
    def _pedigree_scale(cls, v: tuple[int, int]) -> tuple[int, int]:
        if tuple(v) != (1, 5):
            raise ValueError("[1, 5]: the pedigree scores of parameter files run from 1 (best) to 5 (worst)")
        return v


class YieldCheck(Strict):
    """A mass-balance plausibility check: output / sum of inputs of one process."""

    name: str
    process: str
    output: str
    inputs: list[str]
    min: float = Field(gt=0)
    max: float = Field(gt=0)
    source: str


class BalanceRule(Strict):
    """Tolerances of the balance checks run before and after calculation."""

    process_gas_tolerance: float = Field(ge=0, le=1, description="|unaccounted| / generated")
    electricity_tolerance: float = Field(ge=0, le=1)
    electricity_product: str | None = Field(
        None, description="intermediate product whose supply is balanced against the processes' use")
    carbon_tolerance: float = Field(ge=0, le=1, description="negative carbon residual / carbon in")
    yields: list[YieldCheck] = []
    clause: list[ClauseRef]


class SupplyUse(Strict):
    """Made / used on site of each intermediate product a route both makes and uses (ISO 14044 4.2.3.6)."""

    min: float = Field(gt=0)
    max: float = Field(gt=0)
    severity: Severity = Severity.error
    source: str = "engineering judgement: a surplus or shortfall beyond a factor of two is a reporting error " \
                  "rather than trade (decision record docs/decisions/0006)"

    @model_validator(mode="after")
    def _ordered(self) -> SupplyUse:
        if not self.min <= 1 <= self.max:
            raise ValueError(f"a range around 1 (made = used), found [{self.min}, {self.max}]")
        return self


class PlausibilityRule(Strict):
    """How values outside their plausible ranges are treated. Values that are physically impossible (not finite,
    negative, fractions above 1, amounts beyond any site) are always errors, whatever is set here."""

    outside_range: Severity = Field(
        Severity.error, description="a flow's specific amount outside its plausible range (unless the range says)")
    supply_use: SupplyUse | None = Field(
        SupplyUse(min=0.5, max=2.0), description="made / used on site of each site-made intermediate product")
    footprint_outside_range: Severity = Field(
        Severity.warning, description="a total outside its route's plausible_footprint (after calculation)")
    clause: list[ClauseRef] = []


class TransportMode(Strict):
    id: str = Field(pattern=KEBAB)
    factor: str


class SystemBoundary(Strict):
    type: str
    description: str
    upstream_stage: str = Field(description="stage that reports purchased inputs' upstream and transport")
    clause: list[ClauseRef]
    stages: list[StageSpec]


class Rule(FileBacked):
    rule_set: RuleSetHeader
    standards: dict[str, Standard]
    declared_unit: DeclaredUnit
    system_boundary: SystemBoundary
    products: list[ProductSpec]
    intermediate_products: list[IntermediateProduct]
    routes: list[RouteSpec]
    processes: list[ProcessSpec]
    allocation: Allocation
    cut_off: CutOff
    electricity: ElectricityRule
    transport_modes: list[TransportMode]
    data_quality: DataQualityRule
    balances: BalanceRule
    plausibility: PlausibilityRule = PlausibilityRule()
    end_of_life: EndOfLife | None = None
    carbon_accounting: CarbonAccounting = CarbonAccounting()
    factor_choices: list[FactorChoice] = Field(
        default_factory=list, description="committee choices of the factor some flows take (schema.choices)")
    _producers: dict = PrivateAttr(default_factory=dict)  # producers() by the set of processes asked about
    _variant: dict | None = PrivateAttr(None)  # the variant applied (schema.variants), None for the rule as filed

    @property
    def variant(self) -> dict | None:
        """{id, title, path, sha256} of the variant file applied to the base rule, None for the rule as filed."""
        return self._variant

    @model_validator(mode="before")
    @classmethod
    def _resolve_choices(cls, data):
        """Flows naming a factor choice get the selected option's factor (schema.choices)."""
        return choices.resolve(data)

    def reference_problems(self) -> list[tuple[str, str, str]]:
        """Cross-references inside the rule, as (field, found, expected): each problem names its own field."""
        return (self._clause_problems() + self._process_problems() + self._route_problems()
                + self._allocation_problems() + self._balance_problems() + self._unit_problems()
                + self._misc_problems() + self._duplicate_problems() + self._cycle_problems()
                + self._range_problems() + self._gas_problems() + self._family_problems()
                + choices.problems(self.factor_choices, self.processes))

    def _family_problems(self) -> list[tuple[str, str, str]]:
        return [x for prod in self.products for x in family_problems(prod.id, prod.families, set(self.standards))]

    def _duplicate_problems(self) -> list[tuple[str, str, str]]:
        """Ids that must be unique (processes are checked with their other problems)."""
        p = []
        for where, ids in [
            ("products", [x.id for x in self.products]),
            ("intermediate_products", [x.id for x in self.intermediate_products]),
            ("routes", [x.id for x in self.routes]),
            ("allocation.coproducts", [x.id for x in self.allocation.coproducts]),
            ("system_boundary.stages", [x.id for x in self.system_boundary.stages]),
            ("transport_modes", [x.id for x in self.transport_modes]),
            ("balances.yields", [x.name for x in self.balances.yields]),
        ] + [(f"routes.{r.id}.processes", r.processes + r.optional_processes) for r in self.routes]:
            for dup in sorted({x for x in ids if ids.count(x) > 1}):
                p.append((f"{where}", f"'{dup}' given {ids.count(dup)} times", "each id once"))
        return p

    def _cycle_problems(self) -> list[tuple[str, str, str]]:
        """Processes that supply themselves, directly or through others, within one route.

        A loop of supply has a finite solution only while its gain is below one, which data can silently break
        (the solve then gives astronomically large or negative amounts); own use is entered net instead.
        """
        p = []
        for route in self.routes:
            cycle = self.supply_cycle(route.processes + route.optional_processes)
            if cycle:
                p.append((f"routes.{route.id}", "a loop of supply: " + " -> ".join(cycle),
                          "processes that never use their own product, even through other processes "
                          "(enter own use net of production)"))
        return p

    def supply_cycle(self, among: list[str]) -> list[str] | None:
        """A cycle maker -> user among the given processes, as the list of its process ids, else None."""
        makers = self.producers(among)
        users: dict[str, list[str]] = {}
        for pid in dict.fromkeys(among):
            proc = self.process_by_id.get(pid)
            for f in proc.inputs if proc is not None else ():
                if f.kind is FlowKind.intermediate and f.product in makers:
                    users.setdefault(makers[f.product], []).append(pid)
        return find_cycle(users)

    def _range_problems(self) -> list[tuple[str, str, str]]:
        """Every quantity an enterprise gives is checked for magnitude: each flow but a process's reference
        product has a plausible range per unit of that product."""
        p = [(f"processes.{proc.id}.{f.key}.plausible", "nothing",
              f"a plausible range of {f.unit} per {proc.reference.unit} of {proc.reference.key} "
              "(every reported quantity is checked for magnitude)")
             for proc in self.processes for f in proc.flows() if f is not proc.reference and f.plausible is None]
        p += [(f"processes.{proc.id}.parameters.{x.name}", "no " + " and no ".join(
                  b for b in ("min", "max") if getattr(x, b) is None),
               "min and max for a numeric parameter (every reported value is checked for magnitude)")
              for proc in self.processes for x in proc.parameters
              if not x.is_choice and (x.min is None or x.max is None)]
        return p

    def _allocation_problems(self) -> list[tuple[str, str, str]]:
        """What each process's allocation approach needs of its products, and declared products it can make."""
        p = []
        for proc in self.processes:
            approach = self.approach_of(proc.id)
            for f in proc.products:
                prod = self.product_by_id.get(f.product)
                if prod is None:
                    continue
                if (approach is AllocationApproach.system_expansion and f is not proc.reference
                        and not prod.substitutes):
                    p.append((f"intermediate_products.{prod.id}.substitutes", "nothing",
                              f"the avoided product it replaces: process '{proc.id}' makes it besides its reference "
                              "product under system expansion"))
            if len(proc.products) + len(self._coproducts_of(proc)) > 1:
                p += {AllocationApproach.energy: self._energy_problems,
                      AllocationApproach.economic: self._price_problems}.get(approach, lambda _: [])(proc)
        for prod in self.products:
            proc = self.process_by_id.get(prod.final_process)
            if proc is None or prod.output is None:
                continue
            f = proc.flow_by_key.get(prod.output)
            if f is None or f.kind is not FlowKind.product:
                p.append((f"products.{prod.id}.output", repr(prod.output),
                          f"a product output of process '{proc.id}': {[x.key for x in proc.products]}"))
            elif f is not proc.reference and self.approach_of(proc.id) is AllocationApproach.system_expansion:
                p.append((f"products.{prod.id}.output", repr(prod.output), f"the reference product of "
                          f"'{proc.id}', or a partition allocation for it (its other products are credited under "
                          "system expansion, not made)"))
        return p

    def _gas_problems(self) -> list[tuple[str, str, str]]:
        """Process gases: a flow's factor is its gas's carbon factor (maker and users count the same carbon), and
        every gas a process generates has one export co-product, which says how its surplus is handled."""
        p = []
        for proc in self.processes:
            for f in proc.flows():
                gas = self.product_by_id.get(f.product) if f.product else None
                if f.kind in (FlowKind.process_gas, FlowKind.gas_output) and gas is not None \
                        and gas.carbon_factor != f.factor:
                    p.append((f"processes.{proc.id}.{f.key}.factor", repr(f.factor),
                              f"the carbon factor of process gas '{gas.id}', {gas.carbon_factor!r}"))
                cop = self.coproduct_by_id.get(f.coproduct) if f.coproduct else None
                if cop is not None and cop.exports and cop.exports not in self.gases_made_by(proc):
                    p.append((f"processes.{proc.id}.{f.key}.coproduct", f"'{cop.id}' exports '{cop.exports}'",
                              f"the export of a gas process '{proc.id}' generates: {sorted(self.gases_made_by(proc))}"))
        return p + self._gas_export_problems()

    def _gas_export_problems(self) -> list[tuple[str, str, str]]:
        """One export co-product per gas generated, of a gas generated, with the gas's carbon and unit."""
        p = []
        made = sorted({f.product for proc in self.processes for f in proc.outputs
                       if f.kind is FlowKind.gas_output and f.product in self.product_by_id})
        for gas in made:
            exports = [c.id for c in self.allocation.coproducts if c.exports == gas]
            if len(exports) != 1:
                p.append((f"intermediate_products.{gas}", f"export co-products {exports}",
                          "exactly one co-product in allocation.coproducts with `exports` naming this process gas "
                          "(how its surplus is handled)"))
        for c in self.allocation.coproducts:
            gas = self.product_by_id.get(c.exports) if c.exports else None
            if c.exports and c.exports not in made:
                p.append((f"allocation.coproducts.{c.id}.exports", repr(c.exports),
                          f"a process gas a process generates (gas_output), one of {made}"))
            elif gas is not None and c.carbon_factor not in (None, gas.carbon_factor):
                p.append((f"allocation.coproducts.{c.id}.carbon_factor", repr(c.carbon_factor),
                          f"nothing or the gas's own {gas.carbon_factor!r} (an export carries the gas's carbon)"))
            if c.exports and c.unit != (gas.unit if gas is not None else c.unit):
                p.append((f"allocation.coproducts.{c.id}.unit", repr(c.unit), f"the gas's unit {gas.unit!r}"))
        return p

    def gases_made_by(self, proc: ProcessSpec) -> set[str]:
        return {f.product for f in proc.outputs if f.kind is FlowKind.gas_output}

    def export_of(self, gas: str) -> CoproductSpec | None:
        """The co-product a process gas's surplus is handled as (its export), if the rule gives one."""
        return next((c for c in self.allocation.coproducts if c.exports == gas), None)

    def _coproducts_of(self, proc: ProcessSpec) -> list[FlowSpec]:
        return [f for f in proc.outputs if f.kind is FlowKind.coproduct]

    def _energy_problems(self, proc: ProcessSpec) -> list[tuple[str, str, str]]:
        p = []
        for f in proc.products:
            prod = self.product_by_id.get(f.product)
            if prod is not None and prod.energy_content is None:
                p.append((f"intermediate_products.{prod.id}.energy_content", "nothing",
                          f"energy per {prod.unit}: process '{proc.id}' allocates by energy"))
        for f in self._coproducts_of(proc):
            cop = self.coproduct_by_id.get(f.coproduct)
            if cop is not None and cop.energy_content is None:
                p.append((f"allocation.coproducts.{cop.id}.energy_content", "nothing",
                          f"energy per {cop.unit}: process '{proc.id}' allocates by energy"))
        return p

    def _price_problems(self, proc: ProcessSpec) -> list[tuple[str, str, str]]:
        """Economic allocation needs a price for every output it shares the burden among: a missing price is not
        zero (it would take no burden); enterprises may replace a price, not supply a missing one."""
        p = [(f"allocation.product_prices.{f.product}", "nothing",
              f"a price per unit: process '{proc.id}' allocates by revenue")
             for f in proc.products if f.product not in self.allocation.product_prices]
        for f in self._coproducts_of(proc):
            cop = self.coproduct_by_id.get(f.coproduct)
            if cop is not None and cop.price is None:
                p.append((f"allocation.coproducts.{cop.id}.price", "nothing",
                          f"a price per {cop.unit}: process '{proc.id}' allocates by revenue"))
        return p

    def _clause_problems(self) -> list[tuple[str, str, str]]:
        known = sorted(self.standards)
        return [(f"{name}.clause", f"standard '{ref.standard}'", f"one of the rule's standards {known}")
                for name, ref in self._clauses() if ref.standard not in self.standards]

    def _process_problems(self) -> list[tuple[str, str, str]]:
        p = []
        stages = [s.id for s in self.system_boundary.stages]
        prods = {x.id for x in self.intermediate_products}
        coprods = {c.id for c in self.allocation.coproducts}
        ids = [x.id for x in self.processes]
        for pid in sorted({x for x in ids if ids.count(x) > 1}):
            p.append((f"processes.{pid}", "a process id used twice", "unique process ids"))
        for proc in self.processes:
            where = f"processes.{proc.id}"
            if proc.stage not in stages:
                p.append((f"{where}.stage", repr(proc.stage), f"a system_boundary stage, one of {stages}"))
            for f in proc.flows():
                if f.product and f.product not in prods:
                    p.append((f"{where}.{f.key}.product", repr(f.product), "an id in intermediate_products"))
                if f.coproduct and f.coproduct not in coprods:
                    p.append((f"{where}.{f.key}.coproduct", repr(f.coproduct), "an id in allocation.coproducts"))
            p += [(f"{where}.{fld}", msg, "a consistent mechanism") for fld, msg in proc.mechanism_problems()]
        return p

    def _route_problems(self) -> list[tuple[str, str, str]]:
        p = []
        procs = {x.id for x in self.processes}
        for prod in self.products:
            if prod.final_process not in procs:
                p.append((f"products.{prod.id}.final_process", repr(prod.final_process), "a process id"))
        for route in self.routes:
            for pid in route.processes + route.optional_processes:
                if pid not in procs:
                    p.append((f"routes.{route.id}.processes", repr(pid), "a process defined under processes"))
            p += self._route_link_problems(route, self.producers(route.processes + route.optional_processes))
        return p

    def _balance_problems(self) -> list[tuple[str, str, str]]:
        p = []
        for y in self.balances.yields:
            where = f"balances.yields.{y.name}"
            proc = self.process_by_id.get(y.process)
            if proc is None:
                p.append((f"{where}.process", repr(y.process), "a process id"))
                continue
            for k in [y.output, *y.inputs]:
                if k not in proc.flow_by_key:
                    p.append((where, repr(k), f"a flow of process '{y.process}'"))
            if y.min > y.max:
                p.append((f"{where}.min", f"{y.min} above max {y.max}", "min <= max"))
        el = self.balances.electricity_product
        if el and el not in self.product_by_id:
            p.append(("balances.electricity_product", repr(el), "an id in intermediate_products"))
        return p

    def _unit_problems(self) -> list[tuple[str, str, str]]:
        """Units of the declared unit and of every plausible range, against the flows they describe."""
        p = []
        du = self.declared_unit.unit
        for prod in self.products:
            final = self.process_by_id.get(prod.final_process)
            out = final.flow_by_key.get(prod.output or final.reference.key) if final is not None else None
            if out is not None and not convertible(du, out.unit):
                p.append(("declared_unit.unit", repr(du), f"a unit convertible to '{out.unit}' (product '{prod.id}')"))
        p += self._energy_unit_problems()
        for proc in self.processes:
            ref = proc.reference.unit
            for f in proc.flows():
                if f.plausible is not None and not convertible(f.plausible.unit, f"({f.unit})/({ref})"):
                    p.append((f"processes.{proc.id}.{f.key}.plausible.unit", repr(f.plausible.unit),
                              f"a unit convertible to {f.unit} per {ref}"))
            for i, m in enumerate(proc.emissions):
                p += self._measured_unit_problem(proc, i, m)
        for route in self.routes:
            pf = route.plausible_footprint
            if pf is not None and not convertible(pf.unit, "kg"):
                p.append((f"routes.{route.id}.plausible_footprint.unit", repr(pf.unit), "a mass of CO2e (kg)"))
        return p

    def _energy_unit_problems(self) -> list[tuple[str, str, str]]:
        items = [(f"intermediate_products.{x.id}", x.unit, x.energy_content) for x in self.intermediate_products]
        items += [(f"allocation.coproducts.{x.id}", x.unit, x.energy_content) for x in self.allocation.coproducts]
        return [(f"{where}.energy_content.unit", repr(content.unit), f"an energy per {unit} (GJ/{unit})")
                for where, unit, content in items
                if content is not None and not convertible(content.unit, f"GJ/({unit})")]

    def _measured_unit_problem(self, proc: ProcessSpec, i: int, m) -> list[tuple[str, str, str]]:
        if not isinstance(m, ProcessFactor) or not m.measured:
            return []
        spec = proc.parameter_by_name.get(m.measured)
        out = proc.flow_by_key.get(m.output) if m.output else proc.reference
        if spec is None or out is None or convertible(spec.unit, f"kg/({out.unit})"):
            return []
        return [(f"processes.{proc.id}.parameters.{spec.name}.unit", repr(spec.unit),
                 f"a mass of gas per {out.unit} of {out.key}")]

    def _misc_problems(self) -> list[tuple[str, str, str]]:
        p = []
        stages = [s.id for s in self.system_boundary.stages]
        if self.system_boundary.upstream_stage not in stages:
            p.append(("system_boundary.upstream_stage", repr(self.system_boundary.upstream_stage),
                      f"one of the stages {stages}"))
        if self.electricity.default_factor not in self.electricity.allowed_factors:
            p.append(("electricity.default_factor", repr(self.electricity.default_factor),
                      f"one of electricity.allowed_factors {self.electricity.allowed_factors}"))
        if self.electricity.grid_factor is GridFactor.regional and not self.electricity.regional_factors:
            p.append(("electricity.regional_factors", "none", "a factor per grid region (grid_factor: regional)"))
        bound = self.carbon_accounting.bound_co2
        for i, pid in enumerate(bound.products if bound else []):
            prod = self.product_by_id.get(pid)
            if prod is None or prod.carbon_factor is None:
                p.append((f"carbon_accounting.bound_co2.products[{i}]", repr(pid),
                          "an intermediate product id with a carbon_factor (the carbon it binds)"))
        if any(x.components for x in self.products) and not convertible(self.declared_unit.unit, "kg"):
            p.append(("declared_unit.unit", repr(self.declared_unit.unit),
                      "a mass (t, kg): products declare components, whose figures are per kg of a mass"))
        return p

    def _route_link_problems(self, route: RouteSpec, makers: dict[str, str]) -> list[tuple[str, str, str]]:
        p = []
        in_route = set(route.processes) | set(route.optional_processes)
        for pid in sorted(in_route):
            proc = self.process_by_id.get(pid)
            if proc is None:
                continue
            for f in proc.inputs:
                if f.kind is not FlowKind.intermediate or not f.required or f.product not in self.product_by_id:
                    continue
                prod = self.product_by_id[f.product]
                made_as_coproduct = prod.substitutes and any(
                    o.product == f.product for x in in_route if x in self.process_by_id
                    for o in self.process_by_id[x].products)
                if makers.get(f.product) not in in_route and not prod.purchased_factor and not made_as_coproduct:
                    p.append((f"routes.{route.id}", f"process '{pid}' needs '{f.product}', which no process of "
                              "the route makes", f"a process of the route making '{f.product}', or a "
                              "purchased_factor for it"))
        return p

    def _clauses(self):
        sections = [
            ("declared_unit", self.declared_unit.clause),
            ("system_boundary", self.system_boundary.clause),
            ("allocation", self.allocation.clause),
            ("cut_off", self.cut_off.clause),
            ("electricity", self.electricity.clause),
            ("data_quality", self.data_quality.clause),
            ("balances", self.balances.clause),
            ("plausibility", self.plausibility.clause),
        ]
        sections += [(f"cut_off.not_counted[{i}]", x.clause) for i, x in enumerate(self.cut_off.not_counted)]
        sections += [(f"factor_choices.{c.id}", c.clause) for c in self.factor_choices]
        if self.end_of_life is not None:
            sections.append(("end_of_life", self.end_of_life.clause))
        sections += [(f"processes.{x.id}", x.clause) for x in self.processes]
        sections += [(f"processes.{x.id}.allocation", x.allocation.clause) for x in self.processes if x.allocation]
        sections += [(f"allocation.coproducts.{c.id}", c.clause) for c in self.allocation.coproducts]
        for name, refs in sections:
            for ref in refs:
                yield name, ref

    def producers(self, among=None) -> dict[str, str]:
        """intermediate product id -> id of the process making it (among the given processes).

        A product made as a non-reference product of a process under system expansion has no maker here: its
        users buy the substitute it replaces (decision record docs/decisions/0003).
        """
        key = frozenset(among) if among is not None else None
        cached = self._producers.get(key)
        if cached is not None:
            return dict(cached)
        out: dict[str, str] = {}
        for proc in self.processes:
            if key is not None and proc.id not in key:
                continue
            expansion = self.approach_of(proc.id) is AllocationApproach.system_expansion
            for f in proc.products:
                if f is proc.reference or not expansion:
                    out.setdefault(f.product, proc.id)
        self._producers[key] = out
        return dict(out)

    def approach_of(self, process_id: str) -> AllocationApproach:
        """The allocation approach of a process: its own, else the rule's."""
        own = self.process_by_id[process_id].allocation
        return own.approach if own is not None else self.allocation.approach

    def declared_output(self, product_id: str) -> FlowSpec:
        """The output flow of the final process that is the declared product."""
        prod = self.declared_product(product_id)
        proc = self.process_by_id[prod.final_process]
        return proc.flow_by_key[prod.output] if prod.output else proc.reference

    # --- look-ups -------------------------------------------------------------------------------
    @cached_property
    def process_by_id(self) -> dict[str, ProcessSpec]:
        return {x.id: x for x in self.processes}

    @cached_property
    def product_by_id(self) -> dict[str, IntermediateProduct]:
        return {x.id: x for x in self.intermediate_products}

    @cached_property
    def coproduct_by_id(self) -> dict[str, CoproductSpec]:
        return {x.id: x for x in self.allocation.coproducts}

    def route(self, route_id: str) -> RouteSpec:
        return next(r for r in self.routes if r.id == route_id)

    def declared_product(self, product_id: str) -> ProductSpec:
        return next(p for p in self.products if p.id == product_id)

    def plausible_footprint(self, route_id: str, product_id: str, family_id: str | None = None
                            ) -> tuple[Plausible | None, str]:
        """The plausible total for a result and what it belongs to: the product family's range where it gives
        one, else the route's."""
        family = self.declared_product(product_id).family(family_id)
        if family is not None and family.plausible_footprint is not None:
            return family.plausible_footprint, f"product family {family.id}"
        return self.route(route_id).plausible_footprint, f"route {route_id}"

    def stage_name(self, stage_id: str) -> str:
        return next(s.name for s in self.system_boundary.stages if s.id == stage_id)

    @property
    def id(self) -> str:
        return self.rule_set.id

    @property
    def version(self) -> str:
        return self.rule_set.version

    def carbon_factor_of(self, f: FlowSpec) -> str | None:
        """The factor giving a flow's carbon per unit in a carbon balance (an export of a process gas: the gas's),
        or None for a flow that carries no carbon."""
        if f.kind in (FlowKind.material, FlowKind.fuel, FlowKind.process_gas, FlowKind.carbon_output,
                      FlowKind.gas_output):
            return f.factor
        if f.kind in (FlowKind.intermediate, FlowKind.product):
            return self.product_by_id[f.product].carbon_factor
        if f.kind is FlowKind.coproduct:
            cop = self.coproduct_by_id[f.coproduct]
            return self.product_by_id[cop.exports].carbon_factor if cop.exports else cop.carbon_factor
        return None

    def referenced_factors(self) -> list[tuple[str, str]]:
        """(where, factor id) for every factor the rule names."""
        refs = []
        for proc in self.processes:
            refs += [(f"processes.{proc.id}.{f.key}.factor", f.factor) for f in proc.flows() if f.factor]
            refs += [(f"processes.{proc.id}.emissions[{i}].factor", fid) for i, m in enumerate(proc.emissions)
                     if isinstance(m, ProcessFactor) for fid in m.factor_ids()]
        for prod in self.intermediate_products:
            for attr in ("carbon_factor", "purchased_factor", "substitutes"):
                if getattr(prod, attr):
                    refs.append((f"intermediate_products.{prod.id}.{attr}", getattr(prod, attr)))
        for c in self.allocation.coproducts:
            for attr in ("substitutes", "carbon_factor"):
                if getattr(c, attr):
                    refs.append((f"allocation.coproducts.{c.id}.{attr}", getattr(c, attr)))
            refs += [(f"allocation.coproducts.{c.id}.processing[{i}].factor", x.factor)
                     for i, x in enumerate(c.processing)]
        refs += [(f"factor_choices.{c.id}.options.{o.id}.factors.{slot}", fid) for c in self.factor_choices
                 for o in c.options for slot, fid in o.factors.items()]
        refs += [("electricity.allowed_factors", x) for x in self.electricity.allowed_factors]
        refs += [(f"electricity.regional_factors.{r}", x) for r, x in self.electricity.regional_factors.items()]
        if self.end_of_life is not None:
            refs += [("end_of_life.applies_to", x) for x in self.end_of_life.applies_to]
        refs += [(f"transport_modes.{m.id}.factor", m.factor) for m in self.transport_modes]
        return refs


def _grid_region_problems(el: ElectricityRule, factors: FactorSet) -> list[tuple[str, str, str]]:
    """Regional factors name regions of the factor set's grid_regions, and a regional rule covers every region."""
    if not el.regional_factors:
        return []
    if factors.grid_regions is None:
        return [("electricity.regional_factors", str(sorted(el.regional_factors)),
                 f"none: factor set {factors.id} {factors.version} has no grid_regions")]
    known = factors.grid_regions.region_ids()
    p = [(f"electricity.regional_factors.{r}", "an unknown grid region", f"one of {known}")
         for r in el.regional_factors if r not in known]
    missing = [r for r in known if r not in el.regional_factors]
    if el.grid_factor is GridFactor.regional and missing:
        p.append(("electricity.regional_factors", f"no factor for {missing}",
                  f"a factor for every grid region of factor set {factors.id} (grid_factor: regional)"))
    return p


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """One cycle of a directed graph given as node -> successors (iterative depth-first search), else None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in edges:
        if state.get(start):
            continue
        path, stack = [start], [iter(edges.get(start, ()))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(edges.get(nxt, ())))
    return None


def check_against_factor_set(rule: Rule, factors: FactorSet) -> list[tuple[str, str, str]]:
    """Cross-references from a rule into a factor set, as (field, found, expected)."""
    problems = []
    for where, fid in rule.referenced_factors():
        if fid not in factors.by_id:
            problems.append((where, f"factor '{fid}'", f"a factor of factor set {factors.id} {factors.version}"))
    el = rule.electricity
    for where, fid in [("electricity.allowed_factors", x) for x in el.allowed_factors] + [
            (f"electricity.regional_factors.{r}", x) for r, x in el.regional_factors.items()]:
        f = factors.by_id.get(fid)
        if f is not None and (f.category is not Category.electricity or f.basis.value != el.basis):
            problems.append((where, f"'{fid}' is {f.category.value}/{f.basis}",
                             f"an electricity factor with basis {el.basis}"))
    problems += _grid_region_problems(el, factors)
    substitutes = [(f"allocation.coproducts.{c.id}.substitutes", c.substitutes) for c in rule.allocation.coproducts]
    substitutes += [(f"intermediate_products.{x.id}.substitutes", x.substitutes) for x in rule.intermediate_products]
    for where, fid in substitutes:
        f = factors.by_id.get(fid) if fid else None
        if f is not None and f.category is not Category.avoided_product:
            problems.append((where, f"'{f.id}' is {f.category.value}",
                             "an avoided_product factor (credits are kept apart from purchases)"))
    problems += _process_factor_problems(rule, factors)
    if rule.rule_set.factor_set != factors.id:
        problems.append(("rule_set.factor_set", repr(rule.rule_set.factor_set),
                         f"the id of the factor set applied, '{factors.id}'"))
    return problems


def _process_factor_problems(rule: Rule, factors: FactorSet) -> list[tuple[str, str, str]]:
    """Process factors are process_emission factors per a unit the output converts to; fuels burned by the
    combustion mechanism have a net calorific value and a carbon content to burn them by."""
    problems = []
    for proc in rule.processes:
        for i, m in enumerate(proc.emissions):
            where = f"processes.{proc.id}.emissions[{i}]"
            used = [f for fid in m.factor_ids() if (f := factors.by_id.get(fid)) is not None] \
                if isinstance(m, ProcessFactor) else []
            for f in used:
                out = proc.flow_by_key.get(m.output) if m.output else proc.reference
                if f.category is not Category.process_emission:
                    problems.append((f"{where}.factor", f"'{f.id}' is {f.category.value}",
                                     "a process_emission factor (direct emissions per unit of output)"))
                elif out is not None and not convertible(out.unit, f.reference_unit):
                    problems.append((f"{where}.factor", f"'{f.id}' per {f.reference_unit}",
                                     f"a factor per a unit {out.key} ({out.unit}) converts to"))
            for key in getattr(m, "fuels", []):
                flow = proc.flow_by_key.get(key)
                fac = factors.by_id.get(flow.factor) if flow is not None and flow.factor else None
                if flow is not None and (fac is None or fac.combustion_terms() is None):
                    problems.append((f"{where}.fuels", f"'{key}' (factor {flow.factor})",
                                     "a fuel whose factor has a net calorific value and a carbon content"))
    return problems


def load_rule(path: str | Path, factors: FactorSet | None = None) -> Rule:
    """Load and check a rule file (schema, then its cross-references, each problem naming its field); with a
    factor set, also check every factor it names."""

    def build(raw: dict, sha: str) -> Rule:
        rule = parse_model(Rule, raw, path, RuleError)
        rule._path, rule._sha256 = str(path), sha
        problems = rule.reference_problems() + changes_problems(rule.rule_set.version, rule.rule_set.changes)
        locked = lock_problem(path, rule.rule_set.id, rule.rule_set.version, sha)
        problems += [locked] if locked else []
        if factors is not None:
            problems += check_against_factor_set(rule, factors)
        if problems:
            raise RuleError(path, [Problem(str(path), fld, found, expected) for fld, found, expected in problems])
        return rule

    return _LOADED.load(path, RuleError, build, factors.sha256 if factors is not None else "")


_LOADED = ContentCache()


__all__ = ["Rule", "load_rule", "FlowKind", "AllocationApproach"]
