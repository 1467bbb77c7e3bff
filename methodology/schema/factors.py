"""The emission-factor set: a strict schema and its loader.

The format is documented in ``standards/factors/FORMAT.md``. This module imports no Brightway: a
committee member can validate a factor set on any machine.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, PrivateAttr, field_validator, model_validator

from methodology.errors import FactorSetError
from methodology.gases import Gas
from methodology.schema.common import KEBAB, SEMVER, FileBacked, GivenUncertainty, Strict, Unit
from methodology.schema.geography import GridRegions
from methodology.schema.loading import model_loader
from methodology.units import UnitParseError, conversion_factor

PERIOD = re.compile(r"^\d{4}(?:-\d{4})?$")


class Category(StrEnum):
    fuel = "fuel"
    process_gas = "process_gas"
    electricity = "electricity"
    material = "material"
    transport = "transport"
    avoided_product = "avoided_product"
    process_emission = "process_emission"  # direct emissions per unit of a process's product


class Status(StrEnum):
    published = "published"
    derived = "derived"
    illustrative = "illustrative"


class Limitation(StrEnum):
    """What a factor's cradle-to-gate value (its ``emissions``) leaves out or stands in for; none = complete."""

    partial = "partial"  # leaves out part of the cradle-to-gate chain; the note says which part
    proxy = "proxy"  # the value is for another geography or technology standing in; the note says which


class ElectricityBasis(StrEnum):
    product_footprint = "product_footprint"
    enterprise_accounting = "enterprise_accounting"


class Source(Strict):
    document: str
    table: str | None = None
    edition: str
    publisher: str
    year: int = Field(ge=1900, le=2100)
    url: str | None = None
    licence: str | None = None
    verified: bool = False

    def citation(self) -> str:
        table = f", {self.table}" if self.table else ""
        return f"{self.publisher}: {self.document}{table} ({self.edition})"


class SourcedValue(Strict):
    value: float
    unit: Unit = ""
    source: str
    derivation: str | None = None


class Emission(SourcedValue):
    """An upstream emission per reference unit. Never negative: a removal is its own gas (``co2_uptake``, a
    positive amount taken up that the method counts -1), so a negative grid or material factor is refused."""

    gas: Gas
    value: float = Field(ge=0)


# property name -> (dimension it must have, with R standing for the reference unit)
PROPERTY_UNITS = {
    "net_calorific_value": "GJ/R",
    "carbon_content": "t/R",
    "carbon_per_energy": "t/TJ",
    "oxidation_rate": "",
    "biogenic_carbon_share": "",
}


class Properties(Strict):
    net_calorific_value: SourcedValue | None = None
    carbon_content: SourcedValue | None = None
    carbon_per_energy: SourcedValue | None = None
    oxidation_rate: SourcedValue | None = None
    biogenic_carbon_share: SourcedValue | None = None


class Factor(Strict):
    id: str = Field(pattern=KEBAB)
    name: str
    category: Category
    reference_unit: Unit
    geography: str
    period: str
    status: Status
    limitations: list[Limitation] = []
    basis: ElectricityBasis | None = None
    note: str | None = None
    uncertainty: GivenUncertainty | None = Field(None, description="of its emissions, instead of its pedigree's")
    properties: Properties = Properties()
    emissions: list[Emission] = []

    @field_validator("limitations")
    @classmethod
    def _once(cls, v: list[Limitation]) -> list[Limitation]:
        if len(set(v)) != len(v):
            raise ValueError("each limitation at most once")
        return v

    @field_validator("period")
    @classmethod
    def _period(cls, v: str) -> str:
        if not PERIOD.match(str(v)):
            raise ValueError("a year (2023) or a range of years (2021-2023)")
        return str(v)

    @model_validator(mode="after")
    def _consistency(self) -> Factor:
        if self.category is Category.electricity and self.basis is None:
            raise ValueError("electricity factors need basis: product_footprint or enterprise_accounting")
        if self.status is Status.illustrative and not self.note:
            raise ValueError("illustrative factors need a note saying what they stand in for")
        for i, em in enumerate(self.emissions):
            if self.status is Status.derived and not em.derivation:
                raise ValueError(f"emissions[{i}]: derived values need a derivation")
            expected = f"kg/({self.reference_unit})"
            try:
                conversion_factor(em.unit, expected)
            except UnitParseError:
                raise ValueError(
                    f"emissions[{i}].unit '{em.unit}' must be a mass per {self.reference_unit}"
                ) from None
        for name, dim in PROPERTY_UNITS.items():
            prop = getattr(self.properties, name)
            if prop is None:
                continue
            target = dim.replace("R", f"({self.reference_unit})")
            try:
                conversion_factor(prop.unit, target)
            except UnitParseError:
                raise ValueError(
                    f"properties.{name}.unit '{prop.unit}' does not convert to '{target}'"
                ) from None
        self._physical_properties()
        return self

    def _physical_properties(self) -> None:
        """Properties no real material has are refused (fractions above 1, a fuel without energy)."""
        p = self.properties
        for name in ("oxidation_rate", "biogenic_carbon_share"):
            prop = getattr(p, name)
            if prop is not None and not 0 <= prop.value * conversion_factor(prop.unit, "") <= 1:
                raise ValueError(f"properties.{name} is {prop.value} {prop.unit}".rstrip()
                                 + ": a fraction between 0 and 1 is expected")
        for name in ("carbon_content", "carbon_per_energy"):
            prop = getattr(p, name)
            if prop is not None and prop.value < 0:
                raise ValueError(f"properties.{name} is {prop.value}: a carbon content is never negative")
        cc = p.carbon_content
        if cc is not None and _is_mass(self.reference_unit) and \
                cc.value * conversion_factor(cc.unit, f"t/({self.reference_unit})") > conversion_factor(
                    self.reference_unit, "t"):
            raise ValueError(f"properties.carbon_content {cc.value} {cc.unit} is more than the mass of the "
                             "material itself: a carbon mass fraction <= 1 is expected")
        ncv = p.net_calorific_value
        if ncv is not None and ncv.value <= 0:
            raise ValueError(f"properties.net_calorific_value is {ncv.value}: a positive energy content is expected")

    # --- values in the workbench's canonical units -------------------------------------------
    def emissions_kg(self) -> dict[Gas, float]:
        """Upstream emissions in kg per reference unit, summed per gas."""
        out: dict[Gas, float] = {}
        for em in self.emissions:
            kg = em.value * conversion_factor(em.unit, f"kg/({self.reference_unit})")
            out[em.gas] = out.get(em.gas, 0.0) + kg
        return out

    def carbon_kg(self, basis: str = "mass") -> float | None:
        """Carbon content in kg C per reference unit. ``basis`` ``mass`` (the default): carbon_content, else NCV x
        carbon_per_energy; ``energy``: NCV x carbon_per_energy, else carbon_content (a flow measured in energy,
        such as a gas in GJ, has an NCV of 1). The rule's ``carbon_accounting.content_basis`` chooses."""
        by_mass, by_energy = self._carbon_by_mass(), self._carbon_by_energy()
        first, second = (by_energy, by_mass) if basis == "energy" else (by_mass, by_energy)
        return first if first is not None else second

    def carbon_basis(self, basis: str = "mass") -> str | None:
        """Which property ``carbon_kg(basis)`` uses: ``carbon_content``, ``ncv x carbon_per_energy`` or None."""
        names = {"mass": ("carbon_content", self._carbon_by_mass()),
                 "energy": ("ncv x carbon_per_energy", self._carbon_by_energy())}
        order = ("energy", "mass") if basis == "energy" else ("mass", "energy")
        return next((names[b][0] for b in order if names[b][1] is not None), None)

    def _carbon_by_mass(self) -> float | None:
        p = self.properties
        if p.carbon_content is None:
            return None
        return p.carbon_content.value * conversion_factor(p.carbon_content.unit, f"kg/({self.reference_unit})")

    def _carbon_by_energy(self) -> float | None:
        p = self.properties
        if p.carbon_per_energy is None:
            return None
        if p.net_calorific_value is not None:
            ncv = p.net_calorific_value.value * conversion_factor(
                p.net_calorific_value.unit, f"GJ/({self.reference_unit})")
        else:
            ncv = _gj_per(self.reference_unit)
        if ncv is None:
            return None
        return ncv * p.carbon_per_energy.value * conversion_factor(p.carbon_per_energy.unit, "kg/GJ")

    def oxidation(self) -> float | None:
        """The factor's oxidation rate (a fraction), or None if it gives none."""
        p = self.properties.oxidation_rate
        return None if p is None else p.value * conversion_factor(p.unit, "")

    def combustion_terms(self) -> tuple[float, float, float] | None:
        """(NCV in GJ per reference unit, carbon in kg C per GJ, oxidation rate) for the emission-factor
        method of combustion, or None without NCV and carbon content. Fuels measured in energy (process gases
        in GJ) have NCV 1 and their carbon content per energy."""
        p = self.properties
        per_gj = _gj_per(self.reference_unit)
        if p.net_calorific_value is not None:
            ncv = p.net_calorific_value.value * conversion_factor(p.net_calorific_value.unit,
                                                                  f"GJ/({self.reference_unit})")
        elif per_gj is not None:
            ncv = per_gj
        else:
            return None
        if p.carbon_per_energy is not None:
            cpe = p.carbon_per_energy.value * conversion_factor(p.carbon_per_energy.unit, "kg/GJ")
        elif p.carbon_content is not None and per_gj is not None:
            cpe = self.carbon_kg() / per_gj
        else:
            return None
        of = self.oxidation()
        of = 1.0 if of is None else of
        return ncv, cpe, of

    def biogenic_share(self) -> float:
        p = self.properties.biogenic_carbon_share
        return 0.0 if p is None else p.value * conversion_factor(p.unit, "")


def _is_mass(unit: str) -> bool:
    try:
        conversion_factor(unit, "t")
    except UnitParseError:
        return False
    return True


def _gj_per(unit: str) -> float | None:
    try:
        return conversion_factor(unit, "GJ")
    except UnitParseError:
        return None


class FactorSetHeader(Strict):
    id: str = Field(pattern=KEBAB)
    version: str = Field(pattern=SEMVER)
    title: str
    description: str | None = None
    gwp_basis: str

    @field_validator("gwp_basis")
    @classmethod
    def _basis(cls, v: str) -> str:
        if v != "IPCC AR6 GWP100":
            raise ValueError("'IPCC AR6 GWP100' (the basis ISO 14067 asks for: latest IPCC GWP100)")
        return v


class FactorSet(FileBacked):
    """A versioned emission-factor set; ``path`` and ``sha256`` record which file it was read from."""

    factor_set: FactorSetHeader
    sources: dict[str, Source]
    factors: list[Factor]
    grid_regions: GridRegions | None = Field(
        None, description="the regional division of the grid its regional electricity factors follow")
    _supplied: str = PrivateAttr("")  # digest of the supplier values added (``with_supplier_values``)
    _added: tuple[str, ...] = PrivateAttr(())  # ids of the factors added to the file's

    @property
    def added(self) -> tuple[str, ...]:
        """Ids of the factors ``with_supplier_values`` added (not in the file, nor in its Brightway background)."""
        return self._added

    @property
    def content_key(self) -> str:
        """What the set's values depend on: the file's sha256, and the supplier values added to this copy."""
        return f"{self.sha256}+{self._supplied}" if self._supplied else self.sha256

    def reference_problems(self) -> list[tuple[str, str, str]]:
        """Unique factor ids, sources that exist and a note for every limitation, as (field, found, expected),
        all at once."""
        p = []
        first: dict[str, int] = {}
        for i, f in enumerate(self.factors):
            if f.id in first:
                p.append((f"factors[{i}].id", f"'{f.id}', already the id of factors[{first[f.id]}]",
                          "a factor id used once"))
            first.setdefault(f.id, i)
            refs = [(f"emissions[{j}]", e.source) for j, e in enumerate(f.emissions)]
            refs += [(f"properties.{name}", getattr(f.properties, name).source)
                     for name in PROPERTY_UNITS if getattr(f.properties, name) is not None]
            p += [(f"factors[{i}].{where}.source", repr(src), f"a key of sources: {sorted(self.sources)}")
                  for where, src in refs if src not in self.sources]
            if f.limitations and not (f.note or "").strip():
                named = ", ".join(x.value for x in f.limitations)
                p.append((f"factors[{i}].note", f"no note (limitations: {named})",
                          "a note saying what the value leaves out (partial) or what it stands in for (proxy)"))
        if self.grid_regions is not None:
            p += self.grid_regions.problems(self.sources)
        return p

    @cached_property
    def by_id(self) -> dict[str, Factor]:
        return {f.id: f for f in self.factors}

    def get(self, factor_id: str) -> Factor:
        return self.by_id[factor_id]

    @property
    def version(self) -> str:
        return self.factor_set.version

    @property
    def id(self) -> str:
        return self.factor_set.id


_LOAD = model_loader(FactorSet, FactorSetError, check_references=True)
_LOADED = _LOAD.cache


def load_factor_set(path: str | Path) -> FactorSet:
    """Load and validate a factor set; the same bytes at the same path give the same (frozen) object."""
    return _LOAD(path)


# ---------------------------------------------------------------------------------------------
# supplier-specific values
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SupplierValue:
    """A supplier's cradle-to-gate footprint of one purchased flow of one enterprise (``parameters``), as a factor
    standing in for the factor set's: ``factor_id`` is new, ``replaces`` the factor it stands in for."""

    factor_id: str
    replaces: str
    flow: str  # "<process>.<key>" of the parameter file
    flow_name: str
    reference_unit: str
    kg_co2e_per_unit: float
    document: str  # the supplier's document, as the enterprise cites it
    verified: bool
    enterprise: str
    parameter_file: str
    year: int


def supplier_factor_id(process: str, key: str) -> str:
    return f"supplier-{process}-{key.replace('_', '-')}"


def with_supplier_values(fs: FactorSet, values: list[SupplierValue]) -> FactorSet:
    """``fs`` with one factor (and one source) per supplier value: the replaced factor's properties (carbon content,
    calorific value) and category, the supplier's footprint as its CO2e emissions. The copy keeps the file's path
    and sha256 (provenance names the file read; the supplier values are in the parameter file) and gets a
    ``content_key`` of its own, so evaluators and caches never mix it with the file's set or another study's."""
    values = [v for v in values if v.factor_id not in fs.by_id]
    if not values:
        return fs
    factors, sources = list(fs.factors), dict(fs.sources)
    for v in values:
        base = fs.get(v.replaces)
        key = v.factor_id
        sources[key] = Source(document=f"Supplier-specific value reported by {v.enterprise} ({v.parameter_file}, "
                                       f"{v.flow})", table=v.document, edition=str(v.year),
                              publisher=v.enterprise, year=v.year, verified=v.verified)
        factors.append(Factor(
            id=key, name=f"{v.flow_name}: supplier-specific footprint ({v.flow})", category=base.category,
            reference_unit=v.reference_unit, geography="CN", period=str(v.year), status=Status.published,
            note=f"The supplier's cradle-to-gate footprint reported by the enterprise, standing in for {base.id}; "
                 f"its physical properties are {base.id}'s.",
            properties=base.properties,
            emissions=[Emission(gas=Gas.co2e_fossil, value=v.kg_co2e_per_unit, unit=f"kg/({v.reference_unit})",
                                source=key)]))
    new = fs.model_copy(update={"factors": factors, "sources": sources})
    new.__dict__.pop("by_id", None)  # a cached property of the original's factors
    digest = hashlib.sha256(repr([(v.factor_id, v.replaces, v.kg_co2e_per_unit, v.document, v.verified)
                                  for v in values]).encode()).hexdigest()[:16]
    new._supplied = digest
    new._added = fs.added + tuple(v.factor_id for v in values)
    return new
