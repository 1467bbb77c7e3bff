"""``result.json`` as typed, strict models: what one footprint run reports (fields: ``docs/result-json.md``).

``Result`` is built by ``results.assemble`` only; ``Result.model_dump(mode="json")`` is the file's content
and ``Result.model_validate_json`` reads it back (dates as ISO strings). Unknown fields are refused, and no
value is coerced from another type. Its JSON Schema is ``standards/schema/result.schema.json`` (``pcf schema``).
All footprints are kg CO2e (IPCC 2021 AR6 GWP100) per declared unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from methodology.schema.rules import AllocationApproach

SCHEMA_VERSION = "2.3"
SCHEMA_FILE = "result.schema.json"
AgeBasis = Literal["assessment date", "rule set date"]


class Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, serialize_by_alias=True,
                              validate_by_name=True, validate_by_alias=True)


class Figures(Model):
    """kg CO2e per declared unit, per indicator; ``total`` = fossil + biogenic + land use."""

    fossil: float
    biogenic: float
    land_use: float
    total: float


class StageFigures(Figures):
    stage: str
    name: str


class ProcessFigures(Figures):
    process: str
    name: str
    stage: str


class InputFigures(Figures):
    source: str = Field(description="background factor id consumed, or 'direct'")


class Totals(Model):
    total: float
    fossil: float
    biogenic: float
    land_use: float
    total_excluding_biogenic: float = Field(description="fossil + land use")


class Enterprise(Model):
    id: str
    name: str
    province: str
    illustrative: bool
    description: str | None


class Named(Model):
    id: str
    name: str


class ProductFamily(Model):
    """The family (grade, type) of the declared product the result is for, as the rule lists it."""

    id: str
    name: str
    designations: list[str] = Field(description="'<standard>: <grade>' in each standard the rule names")


class DeclaredUnit(Model):
    amount: float
    unit: str
    description: str


class Period(Model):
    start: dt.date
    end: dt.date


class Allocation(Model):
    approach: AllocationApproach = Field(description="the rule's approach")
    approaches: dict[str, AllocationApproach] = Field(
        default_factory=dict, description="processes whose own approach differs from the rule's")
    factors: dict[str, float] = Field(description="allocation factor of each column of a multi-output process "
                                                  "(when not 1); <process>::<product> for its non-reference products")


class MechanismFigures(Model):
    """Direct emissions one mechanism of the rule gave for one process, per year, and what it used."""

    process: str
    mechanism: str = Field(description="the mechanism type (carbon_balance, combustion, calcination, ...)")
    label: str
    kg_per_year: dict[str, float] = Field(description="kg of each gas per year, whole process (before allocation)")
    detail: dict[str, Any] = Field(description="inputs of the calculation: factors, parameters, method used")


class ProductCarbon(Model):
    """Carbon carried out of the gate in one declared unit of the product (ISO 14067 6.4.9.2)."""

    fossil_kg_c: float
    biogenic_kg_c: float
    basis: str = Field(description="measured by the enterprise, the factor giving it, or none known")


class CarbonFlows(Model):
    """kg C per year of one process: entering, leaving in products and gases, emitted (in - out)."""

    in_: float = Field(alias="in")
    out: float
    emitted: float


class SiteCarbon(Model):
    """kg C per year of the product system's processes accounted by carbon balance, each term found on its own
    (``core.balances.SiteCarbon``): the residual is zero to rounding unless carbon is counted twice or lost."""

    purchased_in: float
    leaving_in_products: float  # products made minus used by these processes, co-products, residues
    leaving_in_gases: float  # process gases made minus burned by these processes
    exported_in_gases: float  # of which reported as exported off site
    emitted: float  # CO2 of the processes' direct emissions, as carbon
    set_to_zero: float  # negative process balances set to zero (within the rule's carbon tolerance)
    residual: float


class GasBalance(Model):
    """GJ per year of one process gas."""

    gas: str
    generated: float
    used: float
    exported: float
    unaccounted: float


class ElectricityBalance(Model):
    """kWh per year: site supply against the processes' use."""

    supplied: float
    used: float
    unaccounted: float


class Yield(Model):
    name: str
    process: str
    ratio: float | None
    min: float
    max: float
    ok: bool


class CombustionCrossCheck(Model):
    """A combustion-only process: CO2 by carbon balance against NCV x CC x OF x 44/12 (t CO2 per year)."""

    process: str
    carbon_balance_t_co2: float
    factor_method_t_co2: float
    ratio: float | None


class Balances(Model):
    site_carbon_kg_c: SiteCarbon
    process_gases_gj: list[GasBalance]
    electricity_kwh: ElectricityBalance | None
    yields: list[Yield]
    combustion_cross_check: list[CombustionCrossCheck]


class Pedigree(Model):
    technological: float
    temporal: float
    geographical: float
    completeness: float
    reliability: float


class AgeReference(Model):
    """The date the age of the reference period is counted to, and where that date comes from."""

    date: dt.date
    basis: AgeBasis


class DataQuality(Model):
    method: str
    weighted_indicators: Pedigree
    weighted_score: float
    primary_data_share: float
    age_reference: AgeReference
    reference_period_age_years: int = Field(description="age_reference.date's year - reference period end year")
    meets_rule: bool
    findings: list[str]


class ReviewItem(Model):
    """A value outside a plausible range that the rule makes a warning: the result stands, a reviewer looks."""

    field: str = Field(description="where: a parameter-file field, or gwp100_kg_co2e.total")
    found: str
    expected: str


class Checks(Model):
    """Each check passed (true) or not; null where it does not apply. ``review`` lists the values outside their
    plausible ranges that the rule treats as warnings (``plausibility`` in the rule)."""

    breakdowns_sum_to_total: bool
    site_carbon_balance_closes: bool
    yields_within_range: bool
    within_route_plausible_range: bool | None = None
    route_plausible_range_kg: tuple[float, float] | None = None
    plausible_range_basis: str | None = Field(
        None, description="whose plausible footprint was applied: 'route <id>' or 'product family <id>'")
    brightway_scores_match: bool | None = Field(None, description="null when computed without Brightway")
    review: list[ReviewItem] = Field(default_factory=list, description="values to review (warnings of the rule)")


class FileRef(Model):
    id: str
    version: str
    path: str
    sha256: str


class ParameterFileRef(Model):
    path: str
    sha256: str


class Provenance(Model):
    rule_set: FileRef
    factor_set: FileRef
    parameter_file: ParameterFileRef
    software: dict[str, str]
    generated_at: dt.datetime


class NotCounted(Model):
    what: str
    why: str


class EndOfLife(Model):
    approach: str
    description: str
    applies_to: list[str]


class Scope(Model):
    """What the footprint leaves out and how recycling is treated, from the rule (ISO 14067 6.3.4.3, 6.4.6.3)."""

    cut_off: str = Field(description="the rule's cut-off criteria in words")
    excluded: list[str] = Field(description="what the system boundary excludes")
    not_counted: list[NotCounted] = Field(description="inside the boundary but not quantified, with the reason")
    end_of_life: EndOfLife | None = Field(description="the approach for recycled inputs and end of life")
    coproducts: str = Field(description="the rule's co-product approach, for comparison with end_of_life")


class Result(Model):
    schema_version: Literal["2.3"] = SCHEMA_VERSION
    enterprise: Enterprise
    product: Named
    product_family: ProductFamily | None = Field(None, description="null when the rule lists no families")
    route: Named
    declared_unit: DeclaredUnit
    reference_period: Period
    gwp100_kg_co2e: Totals
    characterisation: str
    by_stage: list[StageFigures]
    by_process: list[ProcessFigures]
    by_origin: dict[str, Figures]
    by_gas: dict[str, Figures]
    gas_mass_kg: dict[str, float]
    by_input: list[InputFigures]
    allocation: Allocation
    electricity_factor: str
    carbon_balance_kg_c: dict[str, CarbonFlows]
    direct_emissions: list[MechanismFigures]
    product_carbon: ProductCarbon
    balances: Balances
    process_scaling: dict[str, float]
    data_quality: DataQuality
    checks: Checks
    scope: Scope
    notes: list[str]
    provenance: Provenance


def as_json(result: Result | Mapping[str, Any]) -> dict:
    """The JSON content of a result given as the model or already as its JSON dict."""
    return result.model_dump(mode="json") if isinstance(result, Result) else dict(result)

