"""Enterprise parameter files: schema, and validation against their product rule.

A parameter file holds one enterprise's annual activity data for one product, organised by the unit
processes of the rule. Validation collects every problem (file, field, found, expected) before anything
is computed; a file with any problem produces nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, PrivateAttr, ValidationError, field_validator

from methodology.errors import ParameterFileError, Problem
from methodology.schema.common import KEBAB, SEMVER, FileBacked, GivenUncertainty, Strict
from methodology.schema.components import Component, ComponentContent, resolve
from methodology.schema.factors import FactorSet
from methodology.schema.loading import field_loc, field_path, parse_yaml, problems_from, read_input
from methodology.schema.processes import Severity
from methodology.schema.rules import FlowKind, FlowSpec, GridFactor, Rule
from methodology.units import UnitParseError, conversion_factor, convertible, parse_unit

DQ_INDICATORS = ("technological", "temporal", "geographical", "completeness", "reliability")


class DataQuality(Strict):
    """Pedigree scores, 1 (best) to 5 (worst), after Weidema & Wesnaes (1996) as used by ecoinvent."""

    technological: int = Field(ge=1, le=5)
    temporal: int = Field(ge=1, le=5)
    geographical: int = Field(ge=1, le=5)
    completeness: int = Field(ge=1, le=5)
    reliability: int = Field(ge=1, le=5)

    def mean(self) -> float:
        return sum(getattr(self, k) for k in DQ_INDICATORS) / len(DQ_INDICATORS)


class Basis(StrEnum):
    """How a value was obtained, as a parameter file may say it instead of giving pedigree scores."""

    measured = "measured"
    calculated = "calculated"
    estimated = "estimated"
    default = "default"


class Region(StrEnum):
    """Where a value comes from, relative to the site."""

    site = "site"
    province = "province"
    country = "country"
    abroad = "abroad"
    unknown = "unknown"


# Pedigree scores derived from what a file says (Weidema & Wesnaes 1996, as ecoinvent's data quality guideline
# defines the scores): reliability 1 verified measurement, 2 calculated from measurements (partly assumed),
# 4 qualified estimate, 5 non-qualified estimate; geographical 1 the area under study, 2 a larger area including it
# (the province), 3 the country, 4 a similar area elsewhere, 5 unknown; temporal by the years between the data's
# year and the end of the reference period: under 3, 6, 10, 15 years give 1 to 4, more 5.
RELIABILITY_OF_BASIS = {Basis.measured: 1, Basis.calculated: 2, Basis.estimated: 4, Basis.default: 5}
GEOGRAPHICAL_OF_REGION = {Region.site: 1, Region.province: 2, Region.country: 3, Region.abroad: 4, Region.unknown: 5}
TEMPORAL_YEARS = ((3, 1), (6, 2), (10, 3), (15, 4))


def derived_quality(base: DataQuality, *, basis: Basis | None, year: int | None, region: Region | None,
                    period_end_year: int) -> DataQuality:
    """``base`` (the file's default scores) with reliability, temporal and geographical scores replaced by what the
    value's ``basis``, ``year`` and ``region`` say (those not given keep the default)."""
    change = {}
    if basis is not None:
        change["reliability"] = RELIABILITY_OF_BASIS[basis]
    if region is not None:
        change["geographical"] = GEOGRAPHICAL_OF_REGION[region]
    if year is not None:
        age = max(period_end_year - year, 0)
        change["temporal"] = next((score for limit, score in TEMPORAL_YEARS if age < limit), 5)
    return base.model_copy(update=change)


class Distance(Strict):
    mode: str = Field(pattern=KEBAB)
    distance: float = Field(ge=0)
    unit: str = "km"


class Measured(Strict):
    """A plant-specific property of a flow (carbon content, net calorific value) replacing the default."""

    value: float = Field(ge=0, allow_inf_nan=False)
    unit: str
    source: str


class SupplierFootprint(Strict):
    """The supplier's cradle-to-gate footprint of a purchased input, per unit of the flow, replacing the factor
    set's upstream emissions where the rule allows it (supplier-specific data, ISO 14067:2018 6.3.5)."""

    value: float = Field(ge=0, allow_inf_nan=False, description="kg CO2e (AR6 GWP100) per unit, in `unit`")
    unit: str = Field(description="mass of CO2e per unit of the flow, e.g. kg/t")
    source: str = Field(description="the supplier's document: a CFP study, EPD or PACT footprint, with its date")
    verified: bool = Field(False, description="third-party verified (ISO 14067 / ISO 14064-3 or an EPD programme)")
    note: str | None = None


class Value(Strict):
    value: float
    unit: str
    source: str
    primary: bool = True
    data_quality: DataQuality | None = Field(None, description="pedigree scores; or say basis, year, region")
    basis: Basis | None = Field(None, description="how the value was obtained (derives the reliability score)")
    year: int | None = Field(None, ge=1900, le=2100, description="the year the value is for (derives temporal)")
    region: Region | None = Field(None, description="where it comes from relative to the site (geographical)")
    uncertainty: GivenUncertainty | None = Field(None, description="its uncertainty, instead of the pedigree's")
    transport: list[Distance] = []
    carbon_content: Measured | None = None
    net_calorific_value: Measured | None = None
    supplier_footprint: SupplierFootprint | None = None
    note: str | None = None


class ParameterValue(Strict):
    """The value of a process parameter the rule declares (a number with its unit, or one of its choices)."""

    value: Annotated[float, Field(allow_inf_nan=False)] | str
    unit: str = ""
    source: str
    note: str | None = None


class Enterprise(Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    province: str
    grid_region: str | None = Field(
        None, pattern=KEBAB, description="grid region id (factor set grid_regions), needed only where the province "
        "lies in two regions and the rule takes regional grid factors")
    illustrative: bool
    description: str | None = None


class RuleRef(Strict):
    id: str = Field(pattern=KEBAB)
    version: str = Field(pattern=SEMVER)


class Period(Strict):
    start: dt.date
    end: dt.date


class ParameterFile(FileBacked):
    enterprise: Enterprise
    product: str = Field(pattern=KEBAB)
    product_family: str | None = Field(
        None, pattern=KEBAB, description="the product's family (grade, type) when the rule lists families for it")
    route: str = Field(pattern=KEBAB)
    rule_set: RuleRef
    reference_period: Period
    electricity_factor: str | None = None
    prices: dict[str, float] = {}
    default_data_quality: DataQuality
    processes: dict[str, dict[str, Value]]
    parameters: dict[str, dict[str, ParameterValue]] = Field(
        default_factory=dict, description="process id -> parameter name -> value (parameters the rule declares)")
    components: dict[str, ComponentContent] = Field(
        default_factory=dict, description="component id -> mass fraction in the product (the declared product's "
                                          "components the rule lists; replaces the rule's content)")
    # read from a filled data-collection workbook (execution.workbooks): ``path`` and ``sha256`` are the workbook's
    _workbook: bool = PrivateAttr(False)

    @property
    def kind(self) -> str:
        """What the data were read from: ``parameter file`` (YAML) or ``workbook`` (a filled .xlsx)."""
        return "workbook" if self._workbook else "parameter file"

    @field_validator("processes")
    @classmethod
    def _not_empty(cls, v):
        if not v:
            raise ValueError("at least one process with activity data")
        return v


@dataclass(frozen=True)
class Datum:
    """One validated value in the unit the rule asks for, with its provenance."""

    process: str
    key: str
    amount: float
    unit: str
    source: str
    primary: bool
    data_quality: DataQuality
    tkm: dict[str, float] = field(default_factory=dict)  # transport mode -> t*km
    carbon_kg_per_unit: float | None = None  # measured carbon content, kg C per unit of the flow
    ncv_gj_per_unit: float | None = None  # measured net calorific value, GJ per unit of the flow
    supplier_kg_co2e_per_unit: float | None = None  # the supplier's footprint, kg CO2e per unit of the flow
    supplier: SupplierFootprint | None = None  # where that footprint comes from
    uncertainty: GivenUncertainty | None = None  # stated by the file instead of the pedigree's (Monte Carlo)


@dataclass(frozen=True)
class Param:
    """A process parameter's value in the unit the rule declares, and where it came from."""

    process: str
    name: str
    value: float | str
    unit: str
    source: str
    origin: str  # "enterprise" | "rule default"


@dataclass(frozen=True)
class EnterpriseData:
    """A parameter file that passed validation against its rule: the input of the foreground builder."""

    params: ParameterFile
    rule: Rule
    processes: tuple[str, ...]  # ids of the route's processes present, in rule order
    data: dict[tuple[str, str], Datum]
    electricity_factor: str
    parameters: dict[tuple[str, str], Param] = field(default_factory=dict)
    review: tuple[Problem, ...] = ()  # values outside a plausible range the rule makes a warning, for review
    grid_region: str | None = None  # the region whose factor grid purchases took (grid_factor: regional)
    components: tuple[Component, ...] = ()  # the declared product's components with their contents

    def amount(self, process: str, key: str) -> float:
        d = self.data.get((process, key))
        return 0.0 if d is None else d.amount

    def parameter(self, process: str, name: str) -> float | str | None:
        """A parameter's value (enterprise's, else the rule's default), None when neither is given."""
        p = self.parameters.get((process, name))
        return None if p is None else p.value

    def scaled(self, factor: float) -> EnterpriseData:
        """The same enterprise with every input and output multiplied (for linearity checks)."""
        data = {k: replace(d, amount=d.amount * factor, tkm={m: t * factor for m, t in d.tkm.items()})
                for k, d in self.data.items()}
        return replace(self, data=data)


# Physically impossible, whatever the rule says (README "Bad input and limits", decision record 0006): no site
# handles more than 1e15 units of anything in a year in the units rules use (t, kWh, GJ, m3: 1e15 t is 500,000
# years of world crude steel output, 1.9e9 t in 2023 by worldsteel), and no single transport leg is longer than
# the Earth's equatorial circumference (40,075 km, WGS 84). Deliberately far from any real value.
MAX_ANNUAL_AMOUNT = 1e15
MAX_LEG_KM = 40_075.0
MAX_NCV_GJ_PER_T = 150.0  # above hydrogen's lower heating value, about 120 GJ/t, the highest of any fuel


class IncompleteParameterFile(ParameterFileError):
    """A parameter file with schema problems. ``partial``: the file without the entries that have them (a flow,
    a parameter, a whole process block, an unknown top-level key), when the rest is a valid parameter file, so
    that its rule checks can be reported in the same pass; ``removed``: the field paths left out."""

    def __init__(self, file, problems, partial: ParameterFile | None, removed: tuple[str, ...]):
        super().__init__(file, problems)
        self.partial, self.removed = partial, removed


# top-level fields that may be left out of a partial file (optional ones; unknown keys are always left out)
_OPTIONAL_TOP = {"electricity_factor", "prices", "parameters", "product_family"}


# placeholders for broken descriptive fields, so that the rest of the file is still checked against its rule in the
# same pass (the field itself is reported once, from the schema; nothing is computed from a partial file)
_PLACEHOLDERS = {
    ("enterprise", "id"): "invalid-enterprise-id", ("enterprise", "name"): "(invalid name)",
    ("enterprise", "province"): "(invalid province)", ("enterprise", "illustrative"): True,
    ("enterprise", "description"): None, ("enterprise", "grid_region"): None,
    ("reference_period",): {"start": dt.date(2000, 1, 1), "end": dt.date(2000, 12, 31)},
    ("default_data_quality",): dict.fromkeys(("technological", "temporal", "geographical", "completeness",
                                               "reliability"), 5),
}


def _placeholder(raw: dict, loc: list) -> str | None:
    """Put a placeholder where a descriptive field is broken; the field path it replaced, or None."""
    key = tuple(loc[:2]) if loc and loc[0] == "enterprise" else tuple(loc[:1])
    if key not in _PLACEHOLDERS:
        return None
    if key[0] == "enterprise":
        if not isinstance(raw.get("enterprise"), dict):
            return None
        raw["enterprise"][key[1]] = _PLACEHOLDERS[key]
    else:
        raw[key[0]] = _PLACEHOLDERS[key]
    return field_path(key)


def _pruned(raw: dict, exc: ValidationError) -> tuple[dict | None, tuple[str, ...]]:
    """``raw`` without the entries the schema errors are in (descriptive fields replaced by placeholders), or
    None when a required part is broken."""
    raw = copy.deepcopy(raw)
    removed: list[str] = []
    for err in exc.errors():
        loc = list(field_loc(err))
        replaced = _placeholder(raw, loc)
        if replaced is not None:
            removed.append(replaced)
            continue
        if loc and loc[0] in ("processes", "parameters") and len(loc) >= 2 and isinstance(raw.get(loc[0]), dict):
            keep = loc[:3] if len(loc) >= 3 and isinstance(raw[loc[0]].get(loc[1]), dict) else loc[:2]
        elif loc and (err["type"] == "extra_forbidden" or loc[0] in _OPTIONAL_TOP):
            keep = loc[:1]
        else:
            return None, ()
        node = raw
        for k in keep[:-1]:
            node = node.get(k) if isinstance(node, dict) else None
        if isinstance(node, dict) and keep[-1] in node:
            del node[keep[-1]]
        removed.append(field_path(tuple(keep)))
    return raw, tuple(dict.fromkeys(removed))


def read_parameter_file(path: str | Path, data: bytes | None = None) -> ParameterFile:
    """Read and schema-check a parameter file; schema problems raise ``IncompleteParameterFile``. ``data``: the
    file's bytes when they are not read from ``path`` (an imported workbook's parameter file, before it is written)."""
    data = read_input(path, ParameterFileError) if data is None else data
    twice: list = []  # keys given twice: reported with the schema and rule problems, the first value kept
    raw = parse_yaml(data, path, ParameterFileError, twice)
    try:
        pf = ParameterFile.model_validate(raw)
    except ValidationError as exc:
        problems = twice + problems_from(exc, path)
        pruned, removed = _pruned(raw, exc)
        partial = None
        if pruned is not None and pruned.get("processes"):
            try:
                partial = ParameterFile.model_validate(pruned)
                partial._path = str(path)
            except ValidationError:
                partial = None
        raise IncompleteParameterFile(path, problems, partial, removed) from None
    pf._path, pf._sha256 = str(path), hashlib.sha256(data).hexdigest()
    if twice:
        raise IncompleteParameterFile(path, twice, pf, ())
    return pf


def _closest(given: str, known: list[str]) -> str | None:
    """The known id most like a misspelt one (difflib's ratio of at least 0.6), or None."""
    import difflib

    return next(iter(difflib.get_close_matches(given, known, n=1, cutoff=0.6)), None)


def _checked_against(what: str, chosen: str | None) -> str:
    return f" (the rest of the file was checked against {what} {chosen!r}, the closest)" if chosen else ""


class _Checker:
    """Collects problems for one file; every check is independent so all problems are reported."""

    def __init__(self, pf: ParameterFile, rule: Rule, factors: FactorSet, partial: bool = False):
        self.pf, self.rule, self.factors, self.partial = pf, rule, factors, partial
        self.file = pf.path or "(parameters)"
        self.problems: list[Problem] = []
        self.review: list[Problem] = []
        self.refused: set[tuple[str, str]] = set()  # values given but refused (already a problem)

    def add(self, fld: str, found, expected: str, severity: Severity = Severity.error) -> None:
        (self.problems if severity is Severity.error else self.review).append(
            Problem(self.file, fld, str(found), expected))

    def header(self) -> bool:
        pf, rule = self.pf, self.rule
        if (pf.rule_set.id, pf.rule_set.version) != (rule.id, rule.version):
            self.add("rule_set", f"{pf.rule_set.id} {pf.rule_set.version}",
                     f"the rule being applied, {rule.id} {rule.version}")
        products = [p.id for p in rule.products]
        routes = [r.id for r in rule.routes]
        self.product, self.route = pf.product, pf.route  # what the rest of the file is checked against
        if pf.product not in products:
            self.product = _closest(pf.product, products)
            self.add("product", repr(pf.product), f"one of {products}" + _checked_against("product", self.product))
        if self.product is not None:
            self.family(rule.declared_product(self.product))
        if pf.route not in routes:
            self.route = _closest(pf.route, routes) or max(
                routes, key=lambda r: len(set(rule.route(r).processes) & set(pf.processes)))
            self.add("route", repr(pf.route), f"one of {routes}" + _checked_against("route", self.route))
        if pf.reference_period.end < pf.reference_period.start:
            self.add("reference_period", f"end {pf.reference_period.end} before start", "end after start")
        allowed = rule.electricity.allowed_factors + sorted(set(rule.electricity.regional_factors.values()))
        if pf.electricity_factor is not None and pf.electricity_factor not in allowed:
            self.add("electricity_factor", repr(pf.electricity_factor), f"one of {allowed}")
        for key in pf.prices:
            if key not in rule.coproduct_by_id and key not in rule.product_by_id:
                self.add(f"prices.{key}", "an unknown product", "a co-product or intermediate product id")
        return self.product is not None

    def grid_region(self) -> str | None:
        """The grid region whose factor the grid purchases take: None unless the rule takes regional factors and
        the parameter file names no factor of its own; from ``enterprise.grid_region``, else from the province."""
        el, ent = self.rule.electricity, self.pf.enterprise
        if el.grid_factor is not GridFactor.regional or self.pf.electricity_factor is not None:
            return None
        regions = self.factors.grid_regions
        if regions is None:  # the rule's cross-check against the factor set reports it
            return None
        found = regions.regions_of(ent.province)
        if not found:
            self.add("enterprise.province", repr(ent.province),
                     f"a province of factor set {self.factors.id}'s grid regions (English or Chinese name): "
                     f"{regions.provinces()}")
        elif ent.grid_region is not None:
            if ent.grid_region not in regions.region_ids():
                self.add("enterprise.grid_region", repr(ent.grid_region), f"one of {regions.region_ids()}")
            elif ent.grid_region not in found:
                self.add("enterprise.grid_region", repr(ent.grid_region),
                         f"a region {ent.province} lies in: {found}")
            else:
                return ent.grid_region
        elif len(found) > 1:
            self.add("enterprise.grid_region", f"missing ({ent.province} lies in {found})",
                     f"one of {found}: the rule takes regional grid factors")
        else:
            return found[0]
        return None

    def family(self, product) -> None:
        """The product family: one of the product's families when the rule lists any, else none (decision record
        docs/decisions/0010)."""
        given, known = self.pf.product_family, [f.id for f in product.families]
        if known and given not in known:
            self.add("product_family", repr(given) if given else "nothing",
                     f"one of the families of product {product.id}: {known}")
        elif not known and given is not None:
            self.add("product_family", repr(given), f"nothing: the rule lists no families for product {product.id}")

    def processes(self) -> tuple[str, ...]:
        rule, pf = self.rule, self.pf
        route = rule.route(self.route)
        allowed = route.processes + route.optional_processes
        for pid in pf.processes:
            if pid not in allowed:
                self.add(f"processes.{pid}", "a process not in route " + route.id, f"one of {allowed}")
        for pid in route.processes:
            if pid not in pf.processes:
                self.add(f"processes.{pid}", "nothing", f"activity data (route {route.id} requires it)")
        final = rule.declared_product(self.product).final_process
        if final not in allowed:
            self.add("product", pf.product, f"a product whose final process is in route {route.id}")
        elif final not in pf.processes:
            self.add(f"processes.{final}", "nothing", f"activity data: the declared product {self.product} is made "
                     f"by process {final}")
        return tuple(p for p in allowed if p in pf.processes)

    def values(self, present: tuple[str, ...]) -> dict[tuple[str, str], Datum]:
        data: dict[tuple[str, str], Datum] = {}
        modes = {m.id for m in self.rule.transport_modes}
        for pid in present:
            spec = self.rule.process_by_id[pid]
            given = self.pf.processes[pid]
            known = {f.key: f for f in spec.flows()}
            for key in given:
                if key not in known:
                    self.add(f"processes.{pid}.{key}", "an unknown key", f"one of {sorted(known)}")
            for f in spec.flows():
                where = f"processes.{pid}.{f.key}"
                if f.key not in given:
                    if f.required:
                        self.add(where, "nothing", f"{f.name} in {f.unit} (required)")
                    continue
                datum = self._datum(pid, f, given[f.key], where, modes)
                if datum is not None:
                    data[(pid, f.key)] = datum
                else:
                    self.refused.add((pid, f.key))
        self.links(present, data)
        return data

    def links(self, present: tuple[str, ...], data: dict[tuple[str, str], Datum]) -> None:
        """Every intermediate input used can be supplied: by a process of the site that reports making it, by its
        substitute (made here as a co-product under system expansion), or bought in (a purchased factor)."""
        makers = self.rule.producers(present)
        made = {f.product: (pid, f) for pid in present for f in self.rule.process_by_id[pid].products}
        for (pid, key), d in data.items():
            f = self.rule.process_by_id[pid].flow_by_key[key]
            if f.kind is not FlowKind.intermediate or d.amount == 0:
                continue
            where = f"processes.{pid}.{key}"
            prod = self.rule.product_by_id[f.product]
            if d.supplier is not None and (f.product in makers or (f.product in made and prod.substitutes)):
                self.add(f"{where}.supplier_footprint", f"a supplier footprint for {f.product}",
                         f"none: {f.product} is made at this site, not bought (a supplier value is for purchases)")
            if f.product in makers:
                maker = makers[f.product]
                out = next(o for o in self.rule.process_by_id[maker].products if o.product == f.product)
                if (maker, out.key) in self.refused or (
                        out is self.rule.process_by_id[maker].reference and (maker, out.key) in data):
                    continue  # reported where it is: refused, or a reference output that is not positive
                if (maker, out.key) not in data or data[(maker, out.key)].amount <= 0:
                    self.add(f"processes.{maker}.{out.key}", "nothing or 0",
                             f"the amount of {f.product} made ({pid} uses {d.amount:g} {f.unit})")
            elif not (f.product in made and prod.substitutes) and prod.purchased_factor is None:
                can = [p.id for p in self.rule.processes if any(o.product == f.product for o in p.products)]
                self.add(where, f"{d.amount:g} {f.unit} of {f.product}",
                         f"activity data for a process that makes it ({', '.join(can)}), or no such input")

    def _datum(self, pid: str, f: FlowSpec, v: Value, where: str, modes: set[str]) -> Datum | None:
        try:
            parse_unit(v.unit)
            k = conversion_factor(v.unit, f.unit)
        except UnitParseError:
            self.add(f"{where}.unit", repr(v.unit), f"a unit convertible to {f.unit} ({f.name})")
            return None
        amount = v.value * k
        if amount < 0:
            self.add(f"{where}.value", f"{v.value} {v.unit}", "a quantity >= 0 (annual amounts are never negative)")
            return None
        if not amount <= MAX_ANNUAL_AMOUNT:
            self.add(f"{where}.value", f"{v.value} {v.unit}",
                     f"at most {MAX_ANNUAL_AMOUNT:g} {f.unit} a year (more than any site handles)")
            return None
        if f.primary_data_mandatory and not v.primary:
            self.add(f"{where}.primary", "secondary data", "primary (measured) data: the rule makes it mandatory")
        tkm = self._tkm(f, v, amount, where, modes)
        dq = self._quality(v, where)
        carbon, ncv = self._properties(f, v, where)
        supplied = self._measured(f, v.supplier_footprint, "supplier_footprint", f"kg/({f.unit})", where)
        return Datum(pid, f.key, amount, f.unit, v.source, v.primary, dq, tkm, carbon, ncv, supplied,
                     v.supplier_footprint if supplied is not None else None, v.uncertainty)

    def _quality(self, v: Value, where: str) -> DataQuality:
        """The value's pedigree: its scores if given, else the file's default with what basis, year and region
        say; giving both scores and any of those is refused (which would win?)."""
        said = v.basis is not None or v.year is not None or v.region is not None
        if v.data_quality is not None:
            if said:
                self.add(f"{where}.data_quality", "pedigree scores and basis/year/region",
                         "one of the two: the scores, or basis, year and region to derive them from")
            return v.data_quality
        if not said:
            return self.pf.default_data_quality
        return derived_quality(self.pf.default_data_quality, basis=v.basis, year=v.year, region=v.region,
                               period_end_year=self.pf.reference_period.end.year)

    def _tkm(self, f: FlowSpec, v: Value, amount: float, where: str, modes: set[str]) -> dict[str, float]:
        tkm: dict[str, float] = {}
        for i, leg in enumerate(v.transport):
            if not f.transport:
                self.add(f"{where}.transport", "transport data", f"none: the rule has no transport for {f.name}")
                break
            if leg.mode not in modes:
                self.add(f"{where}.transport[{i}].mode", repr(leg.mode), f"one of {sorted(modes)}")
                continue
            try:
                km = leg.distance * conversion_factor(leg.unit, "km")
            except UnitParseError:
                self.add(f"{where}.transport[{i}].unit", repr(leg.unit), "a length unit (km)")
                continue
            if not km <= MAX_LEG_KM:
                self.add(f"{where}.transport[{i}].distance", f"{leg.distance} {leg.unit}",
                         f"at most {MAX_LEG_KM:,.0f} km (the Earth's circumference) for one leg")
                continue
            mass_t = amount * conversion_factor(f.unit, "t") if convertible(f.unit, "t") else None
            if mass_t is None:
                self.add(f"{where}.transport", f"a flow in {f.unit}", "transport only for flows measured in mass")
                continue
            tkm[leg.mode] = tkm.get(leg.mode, 0.0) + mass_t * km
        return tkm

    def _properties(self, f: FlowSpec, v: Value, where: str) -> tuple[float | None, float | None]:
        carbon = self._measured(f, v.carbon_content, "carbon_content", f"kg/({f.unit})", where)
        ncv = self._measured(f, v.net_calorific_value, "net_calorific_value", f"GJ/({f.unit})", where)
        if carbon is not None and convertible(f.unit, "t") and carbon > conversion_factor(f.unit, "kg"):
            self.add(f"{where}.carbon_content", f"{v.carbon_content.value} {v.carbon_content.unit}",
                     "at most the mass of the flow itself (a carbon mass fraction <= 1)")
        if ncv is not None and convertible(f.unit, "t") and ncv > MAX_NCV_GJ_PER_T * conversion_factor(f.unit, "t"):
            self.add(f"{where}.net_calorific_value", f"{v.net_calorific_value.value} {v.net_calorific_value.unit}",
                     f"at most {MAX_NCV_GJ_PER_T:g} GJ/t (hydrogen, the most energetic fuel, has 120 GJ/t)")
        return carbon, ncv

    def _measured(self, f: FlowSpec, m, prop: str, unit: str, where: str) -> float | None:
        """A measured property in ``unit`` (kg C or GJ per unit of the flow), if the rule allows it."""
        if m is None:
            return None
        if prop not in f.measured:
            allowed = [x.value for x in f.measured] or "none"
            self.add(f"{where}.{prop}", f"a measured {prop}", f"only the properties the rule lets plants measure "
                     f"for {f.name}: {allowed}")
            return None
        try:
            return m.value * conversion_factor(m.unit, unit)
        except UnitParseError:
            self.add(f"{where}.{prop}.unit", repr(m.unit), f"a unit convertible to {unit}")
            return None

    def parameters(self, present: tuple[str, ...]) -> dict[tuple[str, str], Param]:
        """Every parameter the rule declares for the processes present: the enterprise's value or the default."""
        out: dict[tuple[str, str], Param] = {}
        for pid, given in self.pf.parameters.items():
            if pid not in present:
                self.add(f"parameters.{pid}", "parameters of a process without activity data",
                         f"a process with activity data, one of {list(present)}")
                continue
            declared = self.rule.process_by_id[pid].parameter_by_name
            for name in given:
                if name not in declared:
                    self.add(f"parameters.{pid}.{name}", "an unknown parameter",
                             f"one of {sorted(declared) or 'none (the rule declares no parameters here)'}")
        for pid in present:
            given = self.pf.parameters.get(pid, {})
            for spec in self.rule.process_by_id[pid].parameters:
                param = self._parameter(pid, spec, given.get(spec.name))
                if param is not None:
                    out[(pid, spec.name)] = param
        return out

    def _parameter(self, pid: str, spec, v: ParameterValue | None) -> Param | None:
        where = f"parameters.{pid}.{spec.name}"
        if v is None:
            if spec.default is not None:
                return Param(pid, spec.name, spec.default.value, spec.unit, spec.default.source, "rule default")
            if spec.required:
                what = f"one of {spec.choices}" if spec.is_choice else f"{spec.description} in {spec.unit or '1'}"
                self.add(where, "nothing", f"{what} (required by the rule)")
            return None
        if spec.is_choice:
            if v.value not in spec.choices:
                self.add(f"{where}.value", repr(v.value), f"one of {spec.choices}")
                return None
            return Param(pid, spec.name, v.value, "", v.source, "enterprise")
        if isinstance(v.value, str):
            self.add(f"{where}.value", repr(v.value), f"a number in {spec.unit or '1'}")
            return None
        try:
            value = v.value * conversion_factor(v.unit, spec.unit)
        except UnitParseError:
            self.add(f"{where}.unit", repr(v.unit), f"a unit convertible to {spec.unit or '1 (a fraction)'}")
            return None
        if (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max):
            self.add(f"{where}.value", f"{v.value} {v.unit}".strip(),
                     f"between {spec.min} and {spec.max} {spec.unit}".rstrip())
            return None
        return Param(pid, spec.name, value, spec.unit, v.source, "enterprise")

    def plausibility(self, present, data) -> None:
        default = self.rule.plausibility.outside_range
        for pid in present:
            spec = self.rule.process_by_id[pid]
            ref = data.get((pid, spec.reference.key))
            if ref is None:
                continue
            if ref.amount <= 0:
                self.add(f"processes.{pid}.{spec.reference.key}.value", ref.amount,
                         "a positive annual output of the reference product")
                continue
            for f in spec.flows():
                d = data.get((pid, f.key))
                if d is None or f.plausible is None:
                    continue
                per_unit = d.amount / ref.amount * conversion_factor(
                    f"({f.unit})/({spec.reference.unit})", f.plausible.unit)
                if not (f.plausible.min <= per_unit <= f.plausible.max):
                    self.add(
                        f"processes.{pid}.{f.key}",
                        f"{per_unit:.4g} {f.plausible.unit} ({d.amount:.6g} {f.unit} for "
                        f"{ref.amount:.6g} {spec.reference.unit} of {spec.reference.name})",
                        f"between {f.plausible.min:g} and {f.plausible.max:g} {f.plausible.unit} "
                        f"({f.plausible.source})", f.plausible.severity or default)
        self.supply_use(present, data)

    def supply_use(self, present, data) -> None:
        """Each intermediate product the site both makes and uses: made / used within the rule's range. A made
        amount far above what is used makes the maker's burden per unit implausibly small (and the reverse)."""
        check = self.rule.plausibility.supply_use
        if check is None or self.partial or self.problems:  # a value left out for its problem upsets the sums
            return
        made: dict[str, tuple[str, float, str]] = {}
        for pid, key in ((m, f.key) for p, m in self.rule.producers(present).items()
                         for f in self.rule.process_by_id[m].products if f.product == p):
            d = data.get((pid, key))
            if d is not None and d.amount > 0:
                made[self.rule.process_by_id[pid].flow_by_key[key].product] = (f"processes.{pid}.{key}", d.amount,
                                                                              d.unit)
        used: dict[str, float] = {}
        for (pid, key), d in data.items():
            f = self.rule.process_by_id[pid].flow_by_key[key]
            if f.kind is FlowKind.intermediate and f.product in made:
                used[f.product] = used.get(f.product, 0.0) + d.amount * conversion_factor(f.unit, made[f.product][2])
        for product, (where, amount, unit) in made.items():
            u = used.get(product, 0.0)
            if u > 0 and not check.min <= amount / u <= check.max:
                self.add(where, f"{amount:.6g} {unit} made, {u:.6g} {unit} used on site (ratio {amount / u:.3g})",
                         f"made / used between {check.min:g} and {check.max:g} (plausibility.supply_use: "
                         f"{check.source})",
                         check.severity)


def validate(pf: ParameterFile, rule: Rule, factors: FactorSet, *, partial: bool = False) -> EnterpriseData:
    """Check a parameter file against its rule; raise ParameterFileError listing every problem.

    ``partial``: the file is what was left of one with schema problems (``IncompleteParameterFile``): the checks
    that compare amounts across processes (made / used) are left out, as the missing entries would upset them."""
    c = _Checker(pf, rule, factors, partial)
    if not c.header():  # without a known product and route nothing else can be checked against the rule
        raise ParameterFileError(c.file, c.problems)
    present = c.processes()
    data = c.values(present)
    params = c.parameters(present)
    c.plausibility(present, data)
    region = c.grid_region()
    components, problems = ([], []) if c.product is None else resolve(  # a misspelt product: its closest one
        rule.declared_product(c.product).components, pf.components, c.product)
    for fld, found, expected in problems:
        c.add(fld, found, expected)
    if c.problems:
        raise ParameterFileError(c.file, c.problems)
    el = pf.electricity_factor or (rule.electricity.regional_factors[region] if region
                                   else rule.electricity.default_factor)
    return EnterpriseData(pf, rule, present, data, el, params, tuple(c.review), region, tuple(components))


__all__ = ["read_parameter_file", "validate", "EnterpriseData", "Datum", "FlowKind"]
