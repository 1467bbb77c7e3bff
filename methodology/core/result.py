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

from methodology.schema.factors import Category, Limitation, Status
from methodology.schema.rules import AllocationApproach

SCHEMA_VERSION = "2.4"
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


class Clause(Model):
    """A clause of a standard the rule declares, governing a contribution."""

    standard: str = Field(description="the rule's key of the standard (its `standards:`)")
    edition: str
    clause: str
    note: str | None = None


class InputFigures(Figures):
    source: str = Field(description="background factor id consumed, or 'direct'")
    factor: str | None = Field(description="the input's factor (a key of factors_used); null for direct emissions")
    factors: list[str] = Field(description="the factors the figure rests on: the input's own, or for direct "
                                           "emissions those whose values the emission mechanisms used")
    verified: bool | None = Field(description="every source those factors' used values cite is verified; null "
                                              "when the figure rests on no factor (measured values only)")
    processes: list[str] = Field(description="the foreground columns the figure comes from")
    clauses: list[Clause] = Field(description="the rule's clauses governing these rows")


class Totals(Model):
    total: float
    fossil: float
    biogenic: float
    land_use: float
    total_excluding_biogenic: float = Field(description="fossil + land use")
    gross: float = Field(description="total before co-product credits: total - credits")
    credits: float = Field(description="co-product credits (system expansion), net of the processing the "
                                       "co-products need to replace their substitutes; negative or zero")


class Enterprise(Model):
    id: str
    name: str
    province: str
    country: str | None = Field(description="ISO 3166-1 code of the factor set's grid regions, null if none")
    subdivision: str | None = Field(description="ISO 3166-2 code of the province when the factor set knows it")
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
    factors: list[str] = Field(description="factors whose values the mechanism used (keys of factors_used)")
    clauses: list[Clause] = Field(description="the clauses of the process in the rule")


class ProductCarbon(Model):
    """Carbon carried out of the gate in one declared unit of the product (ISO 14067 6.4.9.2)."""

    fossil_kg_c: float
    biogenic_kg_c: float
    basis: str = Field(description="measured by the enterprise, the factor giving it, or none known")
    bound_co2_kg: float | None = Field(
        None, description="CO2 bound in one declared unit and released after the gate (the rule's "
                          "carbon_accounting.bound_co2 products, e.g. urea): its carbon x 44/12; null otherwise")
    bound_co2_treatment: str | None = Field(
        None, description="not_credited: bound_co2_kg is counted in the total; credited: it is not (subtracted)")


class ComponentFigures(Model):
    """The footprint per kg of one declared component of the product (a nutrient ...; schema.components)."""

    id: str
    name: str
    content: float = Field(description="kg of the component per kg of product")
    content_source: str
    content_origin: str = Field(description="'rule' (the rule's content) or 'enterprise' (the parameter file's)")
    kg_per_declared_unit: float = Field(description="kg of the component in one declared unit")
    kg_co2e_per_kg: float = Field(description="gwp100_kg_co2e.total per kg of the component")
    kg_co2e_per_kg_excluding_biogenic: float = Field(description="total_excluding_biogenic per kg of the component")


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
    unoxidised: float  # input carbon left unoxidised in residues (rule carbon_accounting.oxidation: factor)
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


class InputQuality(Model):
    """The data quality of one input (``by_input``'s ``source``), each weighted over its rows by contribution."""

    source: str
    weight_share: float = Field(description="its share of the absolute contributions")
    activity: Pedigree | None = Field(description="the activity data of the processes it comes from")
    factor: Pedigree | None = Field(description="the factor values it rests on (null: none)")
    combined: Pedigree | None = Field(description="per indicator the worse of activity and factor")
    combined_score: float | None


class DataQuality(Model):
    method: str
    weighted_indicators: Pedigree = Field(description="activity data, weighted by contribution")
    weighted_score: float = Field(description="activity data: the mean of weighted_indicators")
    factor_indicators: Pedigree | None = Field(description="the factors' pedigree derived from their metadata, "
                                                           "weighted by contribution (null: no factor used)")
    factor_score: float | None
    combined_indicators: Pedigree = Field(description="per input the worse of activity and factor, weighted")
    combined_score: float = Field(description="the score the rule's max_weighted_score applies to")
    combination: str = Field(description="how activity and factor ratings combine")
    by_input: list[InputQuality]
    primary_data_share: float
    age_reference: AgeReference
    reference_period_age_years: int = Field(description="age_reference.date's year - reference period end year")
    meets_rule: bool
    findings: list[str]
    pact_dqr: dict[str, float] = Field(description="PACT v3 technologicalDQR, geographicalDQR, temporalDQR (1-5): "
                                                   "the combined ratings weighted by contribution (core.dq_ratings)")
    pef_dqr: dict[str, float | str] = Field(description="PEF 2021/2279 DQR = (TeR + GR + TiR + P) / 4, P the "
                                                        "reliability rating, with its level (excellent ... poor)")
    improve_first: list[dict] = Field(description="inputs to improve first: source, weight_share, combined_score, "
                                                  "priority (share x (score - 1)), worst_indicators; largest first")


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


class VariantRef(Model):
    """A rule variant file applied to the base rule (schema.variants, decision record 0014)."""

    id: str
    title: str
    path: str
    sha256: str


class FileRef(Model):
    id: str
    version: str
    path: str
    sha256: str
    variant: VariantRef | None = Field(None, description="rule sets only: the variant applied, null for the rule "
                                                         "as filed")


class ParameterFileRef(Model):
    path: str
    sha256: str = Field(description="of the file's bytes (a workbook's: of the .xlsx file)")
    kind: Literal["parameter file", "workbook"] = Field(
        "parameter file", description="a YAML parameter file, or a filled data-collection workbook (pcf template)")


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


class CarbonContent(Model):
    """The carbon content a carbon balance used for one flow: a factor's (on the rule's basis) or measured."""

    flow: str = Field(description="<process>.<flow key>")
    kg_c_per_unit: float
    unit: str = Field(description="the flow's unit")
    basis: str = Field(description="'measured by the enterprise', or '<factor id> (carbon_content | ncv x "
                                   "carbon_per_energy)'")
    oxidation: float | None = Field(description="oxidation rate applied in the balance (null: fully oxidised)")


class CarbonAccounting(Model):
    """How the carbon balances counted carbon (the rule's ``carbon_accounting``) and the contents they used."""

    content_basis: str = Field(description="mass: carbon contents; energy: NCV x carbon per unit of energy")
    oxidation: str = Field(description="complete (all carbon not leaving in products emitted) or factor")
    decision: str | None
    contents: list[CarbonContent]


class GridElectricity(Model):
    """Which factor the grid purchases took, and why (the rule's ``electricity``; decision record 0011)."""

    grid_factor: str = Field(description="the rule's electricity.grid_factor: national or regional")
    grid_region: str | None = Field(description="the enterprise's grid region when the regional factor applied")
    factor: str = Field(description="the factor grid purchases took")
    chosen_by: str = Field(description="'rule: national', 'rule: regional' or 'parameter file' (electricity_factor)")


class Scope(Model):
    """What the footprint leaves out and how recycling is treated, from the rule (ISO 14067 6.3.4.3, 6.4.6.3),
    and how its carbon balances count carbon."""

    cut_off: str = Field(description="the rule's cut-off criteria in words")
    cut_off_max_share: float = Field(description="the rule's ceiling on what all cut-off inputs together may "
                                                 "contribute (a fraction; an upper bound, not a measured share)")
    excluded: list[str] = Field(description="what the system boundary excludes")
    not_counted: list[NotCounted] = Field(description="inside the boundary but not quantified, with the reason")
    end_of_life: EndOfLife | None = Field(description="the approach for recycled inputs and end of life")
    coproducts: str = Field(description="the rule's co-product approach, for comparison with end_of_life")
    carbon_accounting: CarbonAccounting
    factor_choices: dict[str, str] = Field(
        description="the rule's factor choices: choice id -> the option applied (schema.choices)")
    grid_electricity: GridElectricity


class FactorValues(Model):
    """The values of a factor a result used: its emissions (cradle-to-gate) or its physical properties."""

    sources: list[str] = Field(description="keys of sources_used the values cite")
    verified: bool = Field(description="every one of those sources is verified against its document")
    pedigree: Pedigree = Field(description="derived from the factor's metadata (decision record 0009)")
    pedigree_score: float


class FactorUsed(Model):
    """A factor of the factor set a result rests on, as the factor set records it."""

    name: str
    category: Category
    reference_unit: str
    geography: str
    period: str
    status: Status
    limitations: list[Limitation] = Field(description="partial / proxy (its emissions); empty: complete")
    emissions: FactorValues | None = Field(description="when an input, a credit or a process factor used them")
    properties: FactorValues | None = Field(description="when an emission mechanism used its properties")


class SourceUsed(Model):
    document: str
    table: str | None
    edition: str
    publisher: str
    year: int
    url: str | None
    verified: bool = Field(description="the figure was checked against a copy of the document")
    cited_by: list[str] = Field(description="<factor>.emissions or <factor>.properties citing it")


class Traceability(Model):
    """Shares of the footprint by the factors it rests on (``core.traceability.shares``)."""

    basis: str
    absolute_kg_co2e: float = Field(description="the denominator: sum of |kg CO2e| of the contribution rows")
    verified_share: float = Field(description="rows resting on factors whose every cited source is verified")
    unverified_share: float = Field(description="rows resting on a factor citing a source not verified")
    no_factor_share: float = Field(description="rows resting on no factor (measured values only)")
    partial_share: float = Field(description="rows resting on a partial factor (may overlap proxy)")
    proxy_share: float = Field(description="rows resting on a proxy factor")
    illustrative_share: float = Field(description="rows resting on an illustrative factor")
    unverified_sources: list[str] = Field(description="sources used that are not verified: to check")


class UncertaintyDriver(Model):
    quantity: str = Field(description="'data:<process>.<key>' (an activity datum) or 'factor:<id>' (its emissions)")
    share: float = Field(description="squared rank correlation with the total, normalised over all quantities")


class SobolGroup(Model):
    group: str = Field(description="'data: <process>' or 'factors: <category>'")
    quantities: int
    S1: float = Field(description="first-order Sobol index")
    S1_conf: float
    ST: float = Field(description="total-order Sobol index")
    ST_conf: float


class Uncertainty(Model):
    """Monte Carlo uncertainty of the total from the pedigree of the data and factors (core.uncertainty, decision
    record 0015)."""

    method: str
    spec: FileRef = Field(description="the uncertainty data file (pedigree factors, basic uncertainties)")
    iterations: int = Field(description="accepted iterations (evaluated)")
    rejected: int = Field(description="iterations whose perturbed data broke a balance the rule checks")
    seed: int
    deterministic_kg_co2e: float
    mean: float
    median: float
    sd: float
    cv: float
    p2_5: float
    p97_5: float
    quantities: int = Field(description="uncertain quantities sampled (activity data and background factors)")
    held_by_balance: list[str] = Field(
        default_factory=list, description="data held at their values because the site's carbon balances bind them "
        "(e.g. the coke an anode plant makes anodes of)")
    drivers: list[UncertaintyDriver] = Field(description="the quantities that drive the spread, largest first")
    not_sampled: str = Field(description="what is held at its value")
    sobol: list[SobolGroup] | None = Field(None, description="Sobol indices per group of quantities, largest ST "
                                                              "first (SALib; core.sensitivity); null if not run")
    sobol_base_samples: int | None = None


class Result(Model):
    schema_version: Literal["2.4"] = SCHEMA_VERSION
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
    factors_used: dict[str, FactorUsed]
    sources_used: dict[str, SourceUsed]
    traceability: Traceability
    allocation: Allocation
    electricity_factor: str
    carbon_balance_kg_c: dict[str, CarbonFlows]
    direct_emissions: list[MechanismFigures]
    product_carbon: ProductCarbon
    per_component: list[ComponentFigures] = Field(
        default_factory=list, description="the footprint per kg of each declared component (empty: none declared)")
    uncertainty: Uncertainty | None = Field(None, description="Monte Carlo uncertainty when computed (null if not)")
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

