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

from methodology.errors import RuleError
from methodology.schema.common import KEBAB, SEMVER, Strict
from methodology.schema.factors import Category, FactorSet
from methodology.schema.loading import ContentCache, parse_model, read_yaml, sha256_of
from methodology.units import UnitParseError, parse_unit


class FlowKind(StrEnum):
    """What an input or output of a unit process is, and so how it is linked and accounted."""

    material = "material"  # purchased; upstream burden from a factor; carbon from the factor
    fuel = "fuel"  # purchased fuel; as material, its carbon enters the balance
    intermediate = "intermediate"  # made by another process of the route, else purchased
    process_gas = "process_gas"  # a by-product gas of another process, burned here
    grid_electricity = "grid_electricity"  # purchased from the grid: factor chosen by the rule
    product = "product"  # the reference product of the process
    coproduct = "coproduct"  # leaves the system: handled by the allocation approach
    gas_output = "gas_output"  # a process gas generated here (carbon leaves with it)
    carbon_output = "carbon_output"  # a residue that carries carbon away (dust, tar) without burden


class AllocationApproach(StrEnum):
    system_expansion = "system_expansion"
    mass = "mass"
    economic = "economic"


class ClauseRef(Strict):
    standard: str
    clause: str
    note: str | None = None


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


class DeclaredUnit(Strict):
    amount: float = Field(gt=0)
    unit: str
    description: str
    clause: list[ClauseRef]


class Plausible(Strict):
    """Plausible range of the specific amount: value per unit of the process's reference product."""

    min: float = Field(ge=0)
    max: float = Field(gt=0)
    unit: str
    source: str

    @model_validator(mode="after")
    def _ordered(self) -> Plausible:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


class FlowSpec(Strict):
    """One input or output of a unit process, as the rule asks enterprises to report it."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="parameter name in enterprise files")
    name: str
    kind: FlowKind
    unit: str = Field(description="unit the value is converted to; any convertible unit is accepted")
    factor: str | None = Field(None, description="factor id: upstream burden, carbon content")
    product: str | None = Field(None, description="intermediate product id this input links to")
    required: bool = True
    primary_data_mandatory: bool = False
    plausible: Plausible | None = None
    transport: bool = Field(False, description="the enterprise may report inbound transport")
    coproduct: str | None = Field(None, description="co-product id (allocation table)")
    note: str | None = None

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        try:
            parse_unit(v)
        except UnitParseError as exc:
            raise ValueError(str(exc)) from None
        return v

    @model_validator(mode="after")
    def _kind_fields(self) -> FlowSpec:
        needs_factor = {FlowKind.material, FlowKind.fuel, FlowKind.process_gas, FlowKind.gas_output}
        if self.kind in needs_factor and not self.factor:
            raise ValueError(f"a {self.kind.value} flow needs `factor` (a factor id)")
        if self.kind is FlowKind.intermediate and not self.product:
            raise ValueError("an intermediate flow needs `product` (an intermediate product id)")
        if self.kind is FlowKind.coproduct and not self.coproduct:
            raise ValueError("a coproduct flow needs `coproduct` (an id in allocation.coproducts)")
        if self.kind is FlowKind.product and not self.product:
            raise ValueError("a product flow needs `product` (its intermediate product id)")
        return self


class ProcessSpec(Strict):
    """A unit process: what it makes, what it needs and how its direct emissions are found."""

    id: str = Field(pattern=KEBAB)
    name: str
    stage: str = Field(pattern=KEBAB)
    clause: list[ClauseRef]
    inputs: list[FlowSpec]
    outputs: list[FlowSpec]
    direct_emission_factors: list[str] = Field(
        default_factory=list, description="factor ids of process emissions per unit of reference product"
    )
    description: str | None = None

    @model_validator(mode="after")
    def _one_reference_product(self) -> ProcessSpec:
        products = [o for o in self.outputs if o.kind is FlowKind.product]
        if len(products) != 1:
            raise ValueError(f"exactly one output of kind product, found {len(products)}")
        keys = [f.key for f in self.inputs + self.outputs]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"parameter keys used twice in process '{self.id}': {dupes}")
        for f in self.inputs:
            if f.kind in (FlowKind.product, FlowKind.coproduct, FlowKind.gas_output, FlowKind.carbon_output):
                raise ValueError(f"input '{f.key}' has output kind '{f.kind.value}'")
        for f in self.outputs:
            if f.kind not in (FlowKind.product, FlowKind.coproduct, FlowKind.gas_output, FlowKind.carbon_output):
                raise ValueError(f"output '{f.key}' has input kind '{f.kind.value}'")
        return self

    @property
    def reference(self) -> FlowSpec:
        return next(o for o in self.outputs if o.kind is FlowKind.product)

    def flows(self) -> list[FlowSpec]:
        return self.inputs + self.outputs


class StageSpec(Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    description: str


class IntermediateProduct(Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    unit: str
    carbon_factor: str | None = Field(None, description="factor id giving its carbon content")
    purchased_factor: str | None = Field(None, description="factor used when bought in, not made")


class ProductSpec(Strict):
    """A declared product of the category and the process whose reference output it is."""

    id: str = Field(pattern=KEBAB)
    name: str
    final_process: str
    description: str | None = None


class RouteSpec(Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    processes: list[str]
    optional_processes: list[str] = []
    description: str | None = None
    plausible_footprint: Plausible | None = Field(
        None, description="plausible cradle-to-gate total per declared unit (for review, not a limit)"
    )


class CoproductSpec(Strict):
    """How one co-product is handled under each allocation approach."""

    id: str = Field(pattern=KEBAB)
    name: str
    unit: str
    substitutes: str | None = Field(None, description="factor id of the product it replaces")
    substitution_ratio: float | None = Field(None, ge=0, description="units replaced per unit")
    mass_per_unit: float | None = Field(None, ge=0, description="t per unit, for mass allocation")
    price: float | None = Field(None, ge=0, description="CNY per unit, default for economic allocation")
    price_source: str | None = None
    carbon_factor: str | None = Field(None, description="factor id giving its carbon content")
    burned_in_expansion: bool = Field(
        False, description="system expansion: its carbon is burned (emitted) in the expanded system"
    )
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


class CutOff(Strict):
    mass_share_per_process: float = Field(ge=0, le=1)
    energy_share_per_process: float = Field(ge=0, le=1)
    cumulative_share: float = Field(ge=0, le=1)
    excluded: list[str]
    clause: list[ClauseRef]


class ElectricityRule(Strict):
    basis: str
    default_factor: str
    allowed_factors: list[str]
    clause: list[ClauseRef]
    decision: str | None = None


class DataQualityRule(Strict):
    indicators: list[str]
    scale: tuple[int, int] = (1, 5)
    max_weighted_score: float
    min_primary_data_share: float = Field(ge=0, le=1)
    max_reference_period_age_years: int = Field(ge=0)
    clause: list[ClauseRef]


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


class TransportMode(Strict):
    id: str = Field(pattern=KEBAB)
    factor: str


class SystemBoundary(Strict):
    type: str
    description: str
    upstream_stage: str = Field(description="stage that reports purchased inputs' upstream and transport")
    clause: list[ClauseRef]
    stages: list[StageSpec]


class Rule(Strict):
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
    _path: str = PrivateAttr("")
    _sha256: str = PrivateAttr("")

    @model_validator(mode="after")
    def _internal_references(self) -> Rule:
        problems = self.reference_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def reference_problems(self) -> list[str]:  # noqa: C901 - a flat list of independent checks
        p: list[str] = []
        stages = {s.id for s in self.system_boundary.stages}
        procs = {x.id for x in self.processes}
        prods = {x.id for x in self.intermediate_products}
        coprods = {c.id for c in self.allocation.coproducts}
        for name, ref in self._clauses():
            if ref.standard not in self.standards:
                p.append(f"{name}: clause names standard '{ref.standard}' not in standards")
        for proc in self.processes:
            if proc.stage not in stages:
                p.append(f"process '{proc.id}': stage '{proc.stage}' is not a system_boundary stage")
            for f in proc.flows():
                if f.product and f.product not in prods:
                    p.append(f"process '{proc.id}'.{f.key}: product '{f.product}' not in intermediate_products")
                if f.coproduct and f.coproduct not in coprods:
                    p.append(f"process '{proc.id}'.{f.key}: coproduct '{f.coproduct}' not in allocation.coproducts")
        for prod in self.products:
            if prod.final_process not in procs:
                p.append(f"product '{prod.id}': final_process '{prod.final_process}' is not a process")
        for route in self.routes:
            for pid in route.processes + route.optional_processes:
                if pid not in procs:
                    p.append(f"route '{route.id}': process '{pid}' is not defined")
            makers = self.producers(route.processes + route.optional_processes)
            p += self._route_link_problems(route, makers)
        for y in self.balances.yields:
            proc = self.process_by_id.get(y.process)
            if proc is None:
                p.append(f"balances.yields '{y.name}': process '{y.process}' is not defined")
                continue
            keys = {f.key for f in proc.flows()}
            for k in [y.output, *y.inputs]:
                if k not in keys:
                    p.append(f"balances.yields '{y.name}': '{k}' is not a flow of process '{y.process}'")
            if y.min > y.max:
                p.append(f"balances.yields '{y.name}': min {y.min} is above max {y.max}")
        el = self.balances.electricity_product
        if el and el not in prods:
            p.append(f"balances.electricity_product '{el}' is not an intermediate product")
        if self.system_boundary.upstream_stage not in stages:
            p.append(f"system_boundary.upstream_stage '{self.system_boundary.upstream_stage}' is not a stage")
        if self.electricity.default_factor not in self.electricity.allowed_factors:
            p.append("electricity.default_factor must be one of electricity.allowed_factors")
        return p

    def _route_link_problems(self, route: RouteSpec, makers: dict[str, str]) -> list[str]:
        p = []
        in_route = set(route.processes) | set(route.optional_processes)
        by_id = {x.id: x for x in self.processes}
        products = {x.id: x for x in self.intermediate_products}
        for pid in in_route:
            proc = by_id.get(pid)
            if proc is None:
                continue
            for f in proc.inputs:
                if f.kind is not FlowKind.intermediate or not f.required:
                    continue
                maker = makers.get(f.product)
                made_in_route = maker in in_route
                if not made_in_route and not products[f.product].purchased_factor:
                    p.append(
                        f"route '{route.id}': process '{pid}' needs '{f.product}', which no process "
                        "of the route makes and which has no purchased_factor"
                    )
        return p

    def _clauses(self):
        for name, refs in [
            ("declared_unit", self.declared_unit.clause),
            ("system_boundary", self.system_boundary.clause),
            ("allocation", self.allocation.clause),
            ("cut_off", self.cut_off.clause),
            ("electricity", self.electricity.clause),
            ("data_quality", self.data_quality.clause),
            ("balances", self.balances.clause),
        ] + [(f"process '{x.id}'", x.clause) for x in self.processes] + [
            (f"coproduct '{c.id}'", c.clause) for c in self.allocation.coproducts
        ]:
            for ref in refs:
                yield name, ref

    def producers(self, among=None) -> dict[str, str]:
        """intermediate product id -> id of the process making it (among the given processes)"""
        among = set(among) if among is not None else None
        out: dict[str, str] = {}
        for proc in self.processes:
            if among is None or proc.id in among:
                out.setdefault(proc.reference.product, proc.id)
        return out

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

    def stage_name(self, stage_id: str) -> str:
        return next(s.name for s in self.system_boundary.stages if s.id == stage_id)

    @property
    def id(self) -> str:
        return self.rule_set.id

    @property
    def version(self) -> str:
        return self.rule_set.version

    @property
    def path(self) -> str:
        return self._path

    @property
    def sha256(self) -> str:
        return self._sha256

    def referenced_factors(self) -> list[tuple[str, str]]:
        """(where, factor id) for every factor the rule names."""
        refs = []
        for proc in self.processes:
            refs += [(f"processes.{proc.id}.{f.key}.factor", f.factor) for f in proc.flows() if f.factor]
            refs += [(f"processes.{proc.id}.direct_emission_factors", x) for x in proc.direct_emission_factors]
        for prod in self.intermediate_products:
            for attr in ("carbon_factor", "purchased_factor"):
                if getattr(prod, attr):
                    refs.append((f"intermediate_products.{prod.id}.{attr}", getattr(prod, attr)))
        for c in self.allocation.coproducts:
            for attr in ("substitutes", "carbon_factor"):
                if getattr(c, attr):
                    refs.append((f"allocation.coproducts.{c.id}.{attr}", getattr(c, attr)))
        refs += [("electricity.allowed_factors", x) for x in self.electricity.allowed_factors]
        refs += [(f"transport_modes.{m.id}.factor", m.factor) for m in self.transport_modes]
        return refs


def check_against_factor_set(rule: Rule, factors: FactorSet) -> list[str]:
    """Cross-references from a rule into a factor set: every named factor exists and fits its use."""
    problems = []
    for where, fid in rule.referenced_factors():
        if fid not in factors.by_id:
            problems.append(f"{where}: factor '{fid}' is not in factor set {factors.id} {factors.version}")
    for fid in rule.electricity.allowed_factors:
        f = factors.by_id.get(fid)
        if f is not None and (f.category is not Category.electricity or f.basis.value != rule.electricity.basis):
            problems.append(
                f"electricity.allowed_factors: '{fid}' is {f.category.value}/{f.basis}, "
                f"expected electricity with basis {rule.electricity.basis}"
            )
    for c in rule.allocation.coproducts:
        f = factors.by_id.get(c.substitutes) if c.substitutes else None
        if f is not None and f.category is not Category.avoided_product:
            problems.append(f"allocation.coproducts.{c.id}.substitutes: '{f.id}' is {f.category.value}, "
                            "expected an avoided_product factor (credits are kept apart from purchases)")
    if rule.rule_set.factor_set != factors.id:
        problems.append(f"rule_set.factor_set is '{rule.rule_set.factor_set}' but the factor set is '{factors.id}'")
    return problems


def load_rule(path: str | Path, factors: FactorSet | None = None) -> Rule:
    """Load and check a rule file; with a factor set, also check every factor it names."""
    from methodology.errors import Problem

    key = _LOADED.key(path, factors.sha256 if factors is not None else "")
    if (rule := _LOADED.get(key)) is not None:
        return rule
    raw = read_yaml(path, RuleError)
    rule = parse_model(Rule, raw, path, RuleError)
    rule._path, rule._sha256 = str(path), key[1] if key else sha256_of(path)
    if factors is not None:
        problems = check_against_factor_set(rule, factors)
        if problems:
            raise RuleError(
                path,
                [Problem(str(path), x.split(": ", 1)[0], x.split(": ", 1)[1], "a consistent reference")
                 for x in problems],
            )
    _LOADED.put(key, rule)
    return rule


_LOADED = ContentCache()


__all__ = ["Rule", "load_rule", "FlowKind", "AllocationApproach"]
