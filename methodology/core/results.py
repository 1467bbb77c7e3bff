"""The one assembler of ``result.json``: the typed ``Result`` from a contributions table. Pure; no Brightway.

Every evaluator (Brightway, ``engine``; the stacked fast evaluator, ``compute``) gives a ``Contributions``
table; ``assemble`` characterises it and sums it by stage, process, origin, gas and input, so each breakdown
is a partition of the same rows and sums to the total (``checks`` records that it does). The balances come
from the study, computed once (``balances_section``). Fields: ``docs/result-json.md``; models: ``result``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from methodology.core import result as R
from methodology.core.balances import EnterpriseBalances, enterprise_balances
from methodology.core.contributions import GASES, ORIGIN_CODE, ORIGINS, Contributions, characterisation_matrix
from methodology.core.disclosures import direct_emissions_by_mechanism, product_carbon
from methodology.core.foreground import Foreground, Origin
from methodology.errors import CalculationError
from methodology.gases import GAS_GROUP
from methodology.schema.factors import FactorSet
from methodology.schema.parameters import DQ_INDICATORS, EnterpriseData
from methodology.schema.rules import AllocationApproach, ProductSpec, Rule, Severity

SCHEMA_VERSION = R.SCHEMA_VERSION
INDICATORS = ("fossil", "biogenic", "land_use")
CREDIT_STAGE = "coproduct-credits"
CHARACTERISATION = "IPCC 2021 (AR6) GWP100; biogenic CO2 +1 emitted, -1 removed (ISO 14067 7.2)"
DQ_METHOD = "pedigree scores 1 (best) to 5, weighted by each process's share of absolute contributions"
GAS_GROUPS: tuple[str, ...] = tuple(dict.fromkeys(GAS_GROUP[g] for g in GASES))
_GROUP_OF_GAS = np.array([GAS_GROUPS.index(GAS_GROUP[g]) for g in GASES], dtype=np.int64)
_CREDIT = ORIGIN_CODE[Origin.credit.value]
_TO_UPSTREAM = (ORIGIN_CODE[Origin.upstream.value], ORIGIN_CODE[Origin.transport.value])


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    out = []
    for pkg in ("pcf-workbench", "bw2data", "bw2calc", "bw2io", "papermill"):
        try:
            out.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            out.append((pkg, "not installed"))
    return tuple(out)


def software_versions() -> dict[str, str]:
    """Versions of this package and of the software computing and running it (read once per process)."""
    return dict(_versions())


def provenance(ed: EnterpriseData, fs: FactorSet, parameters_path: str, *,
               generated_at: dt.datetime | None = None) -> R.Provenance:
    """Which rule set, factor set, parameter file and software a result comes from, and when it was made."""
    rule = ed.rule
    return R.Provenance(
        rule_set=R.FileRef(id=rule.id, version=rule.version, path=rule.path, sha256=rule.sha256),
        factor_set=R.FileRef(id=fs.id, version=fs.version, path=fs.path, sha256=fs.sha256),
        parameter_file=R.ParameterFileRef(path=str(parameters_path), sha256=ed.params.sha256),
        software=software_versions(),
        generated_at=generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0),
    )


def age_reference(rule: Rule, assessment_date: dt.date | None = None) -> R.AgeReference:
    """The date data age is counted to: the assessment date if one is given, else the rule set's date."""
    if assessment_date is not None:
        return R.AgeReference(date=assessment_date, basis="assessment date")
    try:
        return R.AgeReference(date=dt.date.fromisoformat(str(rule.rule_set.date)), basis="rule set date")
    except ValueError:
        raise CalculationError(f"rule set {rule.id} {rule.version}: its date '{rule.rule_set.date}' is not an ISO "
                               "date (YYYY-MM-DD); give an assessment date instead") from None


# ---------------------------------------------------------------------------------------------
# the contributions table, summed
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Table:
    """The characterised rows: ``values`` is (fossil, biogenic, land use, total) x rows."""

    c: Contributions
    values: np.ndarray

    def sums(self, keys: np.ndarray, n: int) -> tuple[list[list[float]], list[bool]]:
        """Per integer key ``0 .. n-1``: its (fossil, biogenic, land use, total) sums and whether it holds a row."""
        sums = np.array([np.bincount(keys, weights=v, minlength=n) for v in self.values]).reshape(-1, n)
        return sums.T.tolist(), (np.bincount(keys, minlength=n) > 0).tolist()


def _characterise(c: Contributions, cfs: Mapping[str, Mapping[str, float]]) -> _Table:
    if set(cfs) != set(INDICATORS):
        raise CalculationError(f"characterisation gives indicators {sorted(cfs)}; expected {list(INDICATORS)}")
    v = characterisation_matrix({ind: cfs[ind] for ind in INDICATORS})[:, c.gas] * c.kg
    return _Table(c, np.vstack([v, v.sum(axis=0)]))


def _figures(col: list[float]) -> dict[str, float]:
    """(fossil, biogenic, land use, total) as result fields, rounded to 1e-6 kg (unrolled: called per key)."""
    fossil, biogenic, land_use, total = col
    return {"fossil": round(fossil, 6), "biogenic": round(biogenic, 6), "land_use": round(land_use, 6),
            "total": round(total, 6)}


def _stage_keys(t: _Table, fg: Foreground, rule: Rule) -> tuple[list[str], np.ndarray]:
    """Stage of every row, as codes into the rule's stages followed by the credit stage: credits under the
    co-product credits, purchased inputs and their transport under the rule's upstream stage, the rest
    (direct emissions, electricity) under the stage of their process."""
    order = [s.id for s in rule.system_boundary.stages] + [CREDIT_STAGE]
    code = {s: i for i, s in enumerate(order)}
    process_stage = np.array([code[fg.processes[p].stage] for p in t.c.processes], dtype=np.int64)
    origin = t.c.origin
    keys = np.where(origin == _CREDIT, code[CREDIT_STAGE],
                    np.where((origin == _TO_UPSTREAM[0]) | (origin == _TO_UPSTREAM[1]),  # np.isin: 0.3 ms a call
                             code[rule.system_boundary.upstream_stage],
                             process_stage[t.c.process]))
    return order, keys.astype(np.int64)


def breakdowns(t: _Table, fg: Foreground, rule: Rule) -> dict:
    """``by_stage``, ``by_process``, ``by_origin``, ``by_gas``, ``gas_mass_kg`` and ``by_input`` of a result."""
    c = t.c
    stage_names = {s.id: s.name for s in rule.system_boundary.stages}
    stage_names[CREDIT_STAGE] = "Co-product credits (system expansion)"
    stages, stage_keys = _stage_keys(t, fg, rule)
    by_stage, at_stage = t.sums(stage_keys, len(stages))
    by_process, at_process = t.sums(c.process, len(c.processes))
    by_origin, at_origin = t.sums(c.origin, len(ORIGINS))
    by_gas, at_gas = t.sums(_GROUP_OF_GAS[c.gas], len(GAS_GROUPS))
    by_source, at_source = t.sums(c.source, len(c.sources))
    gas_kg = np.bincount(c.gas, weights=c.kg, minlength=len(GASES))
    gas_live = np.bincount(c.gas, minlength=len(GASES)) > 0
    inputs = sorted((i for i in range(len(c.sources)) if at_source[i]), key=lambda i: (-abs(by_source[i][-1]),
                                                                                       c.sources[i]))
    return {
        "by_stage": [R.StageFigures(stage=s, name=stage_names[s], **_figures(by_stage[i]))
                     for i, s in enumerate(stages) if at_stage[i]],
        "by_process": [R.ProcessFigures(process=p, name=fg.processes[p].name, stage=fg.processes[p].stage,
                                        **_figures(by_process[i]))
                       for i, p in enumerate(c.processes) if at_process[i]],
        "by_origin": {o: R.Figures(**_figures(by_origin[i])) for i, o in enumerate(ORIGINS) if at_origin[i]},
        "by_gas": {g: R.Figures(**_figures(by_gas[i])) for i, g in enumerate(GAS_GROUPS) if at_gas[i]},
        "gas_mass_kg": {g.value: round(float(gas_kg[i]), 6) for i, g in enumerate(GASES) if gas_live[i]},
        "by_input": [R.InputFigures(source=c.sources[i], **_figures(by_source[i])) for i in inputs],
    }


# ---------------------------------------------------------------------------------------------
# data quality, balances, checks
# ---------------------------------------------------------------------------------------------
def data_quality(weights: Mapping[str, float], ed: EnterpriseData, age: R.AgeReference) -> R.DataQuality:
    """Pedigree scores weighted by each process's share of the absolute contributions.

    ``weights``: per process, the sum of |kg CO2e| of its contribution rows. Process-level weighting: a
    process's score is the mean of its data's scores (ISO 14067 6.3.5 asks for data quality to be
    characterised; weighting by contribution follows the PACT and PEF practice of rating the data that
    matter most). The reference period's age is counted in years to ``age`` (a date recorded with the study,
    never today's date, so the same inputs always give the same result).
    """
    rule = ed.rule
    merged: dict[str, float] = defaultdict(float)
    for column, w in weights.items():
        merged[column.split("::")[0]] += w  # the columns of a multi-output process share its data
    weights = merged
    total_w = sum(weights.values()) or 1.0
    data_of: dict[str, list] = {}
    for (p, _), d in ed.data.items():
        data_of.setdefault(p, []).append(d)
    per_proc = {}
    for pid in weights:
        data = data_of.get(pid)
        if not data:
            continue
        per_proc[pid] = {
            **{k: sum(getattr(d.data_quality, k) for d in data) / len(data) for k in DQ_INDICATORS},
            "primary_share": sum(d.primary for d in data) / len(data),
        }
    weighted = {k: sum(weights[p] * v[k] for p, v in per_proc.items()) / total_w
                for k in (*DQ_INDICATORS, "primary_share")}
    score = sum(weighted[k] for k in DQ_INDICATORS) / len(DQ_INDICATORS)
    req = rule.data_quality
    years = age.date.year - ed.params.reference_period.end.year
    findings = []
    if score > req.max_weighted_score:
        findings.append(f"weighted data-quality score {score:.2f} exceeds the rule's {req.max_weighted_score}")
    if weighted["primary_share"] < req.min_primary_data_share:
        findings.append(f"primary data share {weighted['primary_share']:.0%} is below the rule's "
                        f"{req.min_primary_data_share:.0%}")
    if years > req.max_reference_period_age_years:
        findings.append(f"reference period ended {years} years before the {age.basis} {age.date}; the rule allows "
                        f"{req.max_reference_period_age_years}")
    return R.DataQuality(
        method=DQ_METHOD, weighted_indicators=R.Pedigree(**{k: round(weighted[k], 3) for k in DQ_INDICATORS}),
        weighted_score=round(score, 3), primary_data_share=round(weighted["primary_share"], 3), age_reference=age,
        reference_period_age_years=years, meets_rule=not findings, findings=findings,
    )


def combustion_cross_check(ed: EnterpriseData, fg: Foreground, fs: FactorSet) -> list[R.CombustionCrossCheck]:
    """Combustion-only processes: CO2 by carbon balance against the Chinese emission-factor method.

    The footprint uses the carbon balance (all carbon in fuels oxidised); enterprise GHG reports use
    NCV x CC x OF x 44/12. The ratio shows how far the two bases differ for each boiler or power plant.
    """
    from methodology.core.balances import combustion_co2_kg
    from methodology.gases import C_TO_CO2
    from methodology.schema.rules import FlowKind

    out = []
    for p in fg.processes.values():
        if p.carbon is None or p.carbon.carbon_out > 0 or p.carbon.carbon_in <= 0:
            continue
        kinds = {f.key: f for f in ed.rule.process_by_id[p.id].inputs}
        burned = [kinds[k] for k, c in p.carbon.inputs.items() if c > 0]
        if any(f.kind not in (FlowKind.fuel, FlowKind.process_gas) for f in burned):
            continue  # carbonates, reductants or carbon-bearing charge: not a combustion-only process
        terms = {f.key: fs.get(f.factor).combustion_terms() for f in burned}
        per_unit = {k: None if v is None else combustion_co2_kg(1.0, *v) for k, v in terms.items()}
        if None in per_unit.values():
            continue
        factor_method = sum(ed.amount(p.id, k) * v for k, v in per_unit.items())
        if factor_method > 0:
            balance = p.carbon.emitted * C_TO_CO2
            out.append(R.CombustionCrossCheck(
                process=p.id, carbon_balance_t_co2=round(balance / 1000, 3),
                factor_method_t_co2=round(factor_method / 1000, 3),
                ratio=round(factor_method / balance, 4) if balance else None))
    return out


def site_carbon_summary(ed: EnterpriseData, fg: Foreground) -> R.SiteCarbon:
    """The site carbon balance of the product system, kg C per year, rounded as in result.json."""
    site = fg.site_carbon
    return R.SiteCarbon(**{k: round(v, 3) for k, v in (
        ("purchased_in", site.purchased_in), ("leaving_in_products", site.leaving_in_products),
        ("leaving_in_gases", site.leaving_in_gases), ("exported_in_gases", site.exported_in_gases),
        ("emitted", site.emitted), ("set_to_zero", site.clipped), ("residual", site.residual))})


def balances_section(ed: EnterpriseData, fg: Foreground, fs: FactorSet,
                     computed: EnterpriseBalances | None = None) -> R.Balances:
    """Site carbon balance, process gases, electricity and metallic yields (ISO 14044 4.2.3.6 validation).

    ``computed``: the enterprise's balances as validation computed them (``Study`` keeps them), else computed here.
    """
    computed = computed or enterprise_balances(ed)
    el = computed.electricity
    return R.Balances(
        site_carbon_kg_c=site_carbon_summary(ed, fg),
        process_gases_gj=[R.GasBalance(gas=g.gas, generated=g.generated, used=g.consumed, exported=g.exported,
                                       unaccounted=g.unaccounted) for g in computed.process_gases],
        electricity_kwh=None if el is None else R.ElectricityBalance(supplied=el.supplied, used=el.consumed,
                                                                     unaccounted=el.unaccounted),
        yields=[R.Yield(name=y.name, process=y.process, ratio=None if y.ratio is None else round(y.ratio, 4),
                        min=y.min, max=y.max, ok=y.ok) for y in computed.yields],
        combustion_cross_check=combustion_cross_check(ed, fg, fs),
    )


def result_checks(rule: Rule, route: str, total: float, parts: list[list[float]], balances: R.Balances,
                  engine_scores: Mapping[str, float] | None, totals: Mapping[str, float],
                  review: tuple = (), *, product: str | None = None, family: str | None = None) -> R.Checks:
    """The checks of a result. ``parts``: each breakdown as the list of its (rounded) totals;
    ``engine_scores``: an engine's own LCIA scores per indicator, checked against the contributions' totals;
    ``review``: the parameter file's values outside plausible ranges the rule makes warnings (``Problem``s).

    A total outside the plausible footprint (the product family's where it gives one, else the route's) is
    listed for review, or, when the rule's ``plausibility.footprint_outside_range`` is ``error``, fails the
    calculation."""
    site = balances.site_carbon_kg_c
    tol = 1e-6 * max(1.0, abs(total))
    checks = {
        "breakdowns_sum_to_total": all(abs(sum(p) - total) <= tol for p in parts),
        # every term is found on its own (``balances.SiteCarbon``): they add up to rounding, or carbon is counted
        # twice or lost somewhere
        "site_carbon_balance_closes": abs(site.residual) <= 1e-6 * max(site.purchased_in, 1.0) + 0.01,
        "yields_within_range": all(y.ok for y in balances.yields),
    }
    items = [R.ReviewItem(field=p.field, found=p.found, expected=p.expected) for p in review]
    pf, basis = (rule.plausible_footprint(route, product, family) if product is not None
                 else (rule.route(route).plausible_footprint, f"route {route}"))
    if pf is not None:
        checks["within_route_plausible_range"] = bool(pf.min <= total <= pf.max)
        checks["route_plausible_range_kg"] = (pf.min, pf.max)
        checks["plausible_range_basis"] = basis
        if not checks["within_route_plausible_range"]:
            item = R.ReviewItem(field="gwp100_kg_co2e.total", found=f"{total:.6g} kg CO2e",
                                expected=f"between {pf.min:g} and {pf.max:g} {pf.unit} for {basis} "
                                         f"({pf.source})")
            if rule.plausibility.footprint_outside_range is Severity.error:
                raise CalculationError(f"{item.field}: found {item.found}; expected {item.expected} "
                                       "(the rule makes a total outside this range an error)")
            items.append(item)
    checks["review"] = items
    if engine_scores is not None:
        checks["brightway_scores_match"] = all(abs(engine_scores[k] - totals[k]) <= tol for k in INDICATORS)
    return R.Checks(**checks)


# ---------------------------------------------------------------------------------------------
# the assembler
# ---------------------------------------------------------------------------------------------
def scope(rule: Rule) -> R.Scope:
    """The result's ``scope``: cut-off, exclusions, what is not quantified and the end-of-life approach."""
    c, eol = rule.cut_off, rule.end_of_life
    return R.Scope(
        cut_off=f"inputs below {c.mass_share_per_process:.0%} of a process's mass and "
                f"{c.energy_share_per_process:.0%} of its energy, at most {c.cumulative_share:.0%} in total",
        excluded=list(c.excluded),
        not_counted=[R.NotCounted(what=x.what, why=" ".join(x.why.split())) for x in c.not_counted],
        end_of_life=None if eol is None else R.EndOfLife(approach=eol.approach.value,
                                                          description=" ".join(eol.description.split()),
                                                          applies_to=list(eol.applies_to)),
        coproducts=rule.allocation.approach.value,
    )


def product_family(product: ProductSpec, family_id: str | None) -> R.ProductFamily | None:
    """The result's ``product_family``: the family the parameter file names, as the rule lists it."""
    fam = product.family(family_id)
    return None if fam is None else R.ProductFamily(id=fam.id, name=fam.name, designations=fam.designation_text())


def own_approaches(rule: Rule, fg: Foreground) -> dict[str, AllocationApproach]:
    """Processes of the product system whose allocation approach is their own, not the rule's."""
    pids = dict.fromkeys(p.split("::")[0] for p in fg.processes)
    return {p: rule.approach_of(p) for p in pids if rule.approach_of(p) is not rule.allocation.approach}


def assemble(*, ed: EnterpriseData, fg: Foreground, fs: FactorSet, contributions: Contributions,
             cfs: Mapping[str, Mapping[str, float]], provenance: R.Provenance, age: R.AgeReference,
             balances: R.Balances | None = None, engine_scores: Mapping[str, float] | None = None) -> R.Result:
    """The typed result of one enterprise's product from its contributions table.

    ``cfs``: the characterisation the evaluator used (kg CO2e per kg of gas, per indicator); ``age``: the date
    data age is counted to (``age_reference``); ``balances``: the study's ``balances_section`` (computed here if
    not given); ``engine_scores``: Brightway's own scores, recorded as the ``brightway_scores_match`` check.
    """
    result = _assemble(ed=ed, fg=fg, fs=fs, contributions=contributions, cfs=cfs, provenance=provenance, age=age,
                       balances=balances, engine_scores=engine_scores)
    impossible = impossible_figures(result, tuple(p.id for p in fg.processes.values() if p.surplus))
    if impossible:
        raise CalculationError(
            f"{ed.params.enterprise.id} / {fg.product}: the calculation gave physically impossible figures, so no "
            f"result is written: {'; '.join(impossible[:10])}" + (f" (and {len(impossible) - 10} more)"
                                                                  if len(impossible) > 10 else ""))
    return result


def impossible_figures(result: R.Result, balancing: tuple[str, ...] = ()) -> list[str]:
    """Figures no product system can have: any number that is not finite, and a process run a negative number
    of times (a sign of a loop of supply or of inconsistent data). ``balancing``: columns that may run a
    negative number of times (a process gas's surplus column: negative when the product system burns more of
    the gas than it makes)."""
    out: list[str] = []

    def walk(value, where: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            out.append(f"{where} = {value}")
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{where}.{k}" if where else str(k))
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(result.model_dump(), "")
    out += [f"process_scaling.{p} = {s:.6g} (a process run a negative number of times)"
            for p, s in result.process_scaling.items()
            if p not in balancing and s < -1e-9 * max(1.0, max(result.process_scaling.values()))]
    return out


def _assemble(*, ed: EnterpriseData, fg: Foreground, fs: FactorSet, contributions: Contributions,
              cfs: Mapping[str, Mapping[str, float]], provenance: R.Provenance, age: R.AgeReference,
              balances: R.Balances | None, engine_scores: Mapping[str, float] | None) -> R.Result:
    rule = ed.rule
    t = _characterise(contributions, cfs)
    totals = dict(zip(INDICATORS, (float(v) for v in t.values[:3].sum(axis=1)), strict=True))
    total = sum(totals.values())
    bd = breakdowns(t, fg, rule)
    balances = balances or balances_section(ed, fg, fs)
    parts = [[x.total for x in bd["by_stage"]], [x.total for x in bd["by_process"]],
             [x.total for x in bd["by_origin"].values()], [x.total for x in bd["by_gas"].values()]]
    weights = np.bincount(contributions.process, weights=np.abs(t.values[-1]), minlength=len(contributions.processes))
    live = np.bincount(contributions.process, minlength=len(contributions.processes)) > 0
    product, route, du = rule.declared_product(fg.product), rule.route(fg.route), rule.declared_unit
    e, period = ed.params.enterprise, ed.params.reference_period
    return R.Result(
        enterprise=R.Enterprise(id=e.id, name=e.name, province=e.province, illustrative=e.illustrative,
                                description=e.description),
        product=R.Named(id=product.id, name=product.name),
        product_family=product_family(product, ed.params.product_family),
        route=R.Named(id=route.id, name=route.name),
        declared_unit=R.DeclaredUnit(amount=du.amount, unit=du.unit, description=du.description),
        reference_period=R.Period(start=period.start, end=period.end),
        gwp100_kg_co2e=R.Totals(total=round(total, 6), **{k: round(v, 6) for k, v in totals.items()},
                                total_excluding_biogenic=round(totals["fossil"] + totals["land_use"], 6)),
        characterisation=CHARACTERISATION,
        **bd,
        allocation=R.Allocation(approach=fg.allocation, approaches=own_approaches(rule, fg), factors={
            p.id: p.allocation_factor for p in fg.processes.values() if p.allocation_factor != 1.0}),
        electricity_factor=fg.electricity_factor,
        carbon_balance_kg_c={p.id: R.CarbonFlows(in_=round(p.carbon.carbon_in, 3), out=round(p.carbon.carbon_out, 3),
                                                 emitted=round(p.carbon.emitted, 3))
                             for p in fg.processes.values() if p.carbon is not None},
        direct_emissions=[R.MechanismFigures(**d) for d in direct_emissions_by_mechanism(fg)],
        product_carbon=R.ProductCarbon(**product_carbon(ed, fg, fs)),
        balances=balances,
        process_scaling=dict(contributions.scaling),
        data_quality=data_quality({p: float(w) for p, w, ok in zip(contributions.processes, weights, live,
                                                                    strict=True) if ok}, ed, age),
        checks=result_checks(rule, fg.route, total, parts, balances, engine_scores, totals, ed.review,
                             product=fg.product, family=ed.params.product_family),
        scope=scope(rule),
        notes=list(fg.notes),
        provenance=provenance,
    )
