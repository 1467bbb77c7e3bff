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

from methodology.core import dq_ratings, traceability
from methodology.core import factor_quality as fq
from methodology.core import result as R
from methodology.core.balances import EnterpriseBalances, enterprise_balances
from methodology.core.contributions import GASES, ORIGIN_CODE, ORIGINS, Contributions, characterisation_matrix
from methodology.core.disclosures import direct_emissions_by_mechanism, per_component, product_carbon
from methodology.core.foreground import Foreground, Origin, applied_oxidation
from methodology.errors import CalculationError
from methodology.gases import GAS_GROUP
from methodology.schema.factors import FactorSet
from methodology.schema.parameters import DQ_INDICATORS, EnterpriseData
from methodology.schema.rules import AllocationApproach, ProductSpec, Rule, Severity
from methodology.units import conversion_factor

SCHEMA_VERSION = R.SCHEMA_VERSION
INDICATORS = ("fossil", "biogenic", "land_use")
CREDIT_STAGE = "coproduct-credits"
CHARACTERISATION = "IPCC 2021 (AR6) GWP100; biogenic CO2 +1 emitted, -1 removed (ISO 14067 7.2)"
DQ_METHOD = ("pedigree scores 1 (best) to 5 (Weidema and Wesnaes 1996; ecoinvent data quality guideline v3) of the "
             "activity data, of the factors (derived from the factor set's metadata) and combined, weighted by each "
             "contribution's share of absolute contributions")
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
        rule_set=R.FileRef(id=rule.id, version=rule.version, path=rule.path, sha256=rule.sha256,
                           variant=R.VariantRef(**rule.variant) if rule.variant else None),
        factor_set=R.FileRef(id=fs.id, version=fs.version, path=fs.path, sha256=fs.sha256),
        parameter_file=R.ParameterFileRef(path=str(parameters_path), sha256=ed.params.sha256, kind=ed.params.kind),
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


def breakdowns(t: _Table, fg: Foreground, rule: Rule, traced: Mapping[str, dict]) -> dict:
    """``by_stage``, ``by_process``, ``by_origin``, ``by_gas``, ``gas_mass_kg`` and ``by_input`` of a result;
    ``traced``: each input's traceability fields (``traceability.input_fields``)."""
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
        "by_input": [R.InputFigures(source=c.sources[i], **_figures(by_source[i]), **traced[c.sources[i]])
                     for i in inputs],
    }


# ---------------------------------------------------------------------------------------------
# data quality, balances, checks
# ---------------------------------------------------------------------------------------------
def activity_quality(ed: EnterpriseData) -> dict[str, dict[str, float]]:
    """Per process, the mean of its activity data's pedigree scores, and its share of primary data."""
    data_of: dict[str, list] = {}
    for (p, _), d in ed.data.items():
        data_of.setdefault(p, []).append(d)
    return {pid: {**{k: sum(getattr(d.data_quality, k) for d in data) / len(data) for k in DQ_INDICATORS},
                  "primary_share": sum(d.primary for d in data) / len(data)} for pid, data in data_of.items()}


def _pedigree(values) -> R.Pedigree | None:
    """A Pedigree from the five indicators (a mapping or a row of ``DQ_INDICATORS``), None when there is none."""
    if values is None:
        return None
    key = tuple(round(float(values[k]), 3) for k in DQ_INDICATORS) if isinstance(values, Mapping) else \
        tuple(np.round(values, 3).tolist())
    if math.isnan(key[0]):
        return None
    if key not in _PEDIGREES:  # frozen models: the same scores recur across inputs and results
        if len(_PEDIGREES) > 100_000:
            _PEDIGREES.clear()
        _PEDIGREES[key] = R.Pedigree(**dict(zip(DQ_INDICATORS, key, strict=True)))
    return _PEDIGREES[key]


_PEDIGREES: dict[tuple, R.Pedigree] = {}


@dataclass(frozen=True)
class _Ratings:
    """Per contribution row (``traceability.Trace.rows``): the weight (|kg CO2e|), the code of its source and its
    activity, factor and combined pedigrees (rows x ``DQ_INDICATORS``, NaN where a row has none)."""

    weight: np.ndarray
    source: np.ndarray
    activity: np.ndarray
    factor: np.ndarray
    combined: np.ndarray


def _ratings(tr: traceability.Trace, activity: Mapping[str, Mapping[str, float]], inputs: list[str]) -> _Ratings:
    n, code = len(tr.rows), {s: i for i, s in enumerate(inputs)}
    act, fac = np.full((n, len(DQ_INDICATORS)), np.nan), np.full((n, len(DQ_INDICATORS)), np.nan)
    for i, r in enumerate(tr.rows):
        a = activity.get(r.column.split("::")[0])
        if a is not None:
            act[i] = [a[k] for k in DQ_INDICATORS]
        f = fq.mean_pedigree(tr.pedigrees[u] for u in r.uses)  # a direct row: the mean of the factors it used
        if f is not None:
            fac[i] = [f[k] for k in DQ_INDICATORS]
    return _Ratings(np.array([r.weight for r in tr.rows]), np.array([code[r.source] for r in tr.rows], dtype=np.int64),
                    act, fac, np.fmax(act, fac))  # fmax: factor_quality.combine row by row (NaN only if neither)


def _weighted_by(values: np.ndarray, r: _Ratings, groups: np.ndarray, n: int) -> np.ndarray:
    """Per group, the rated rows' pedigree weighted by their weights (groups x indicators; NaN: no rated row)."""
    rated = ~np.isnan(values[:, 0])
    w = np.where(rated, r.weight, 0.0)
    den = np.bincount(groups, weights=w, minlength=n)
    weighted = np.where(rated[:, None], values, 0.0) * w[:, None]
    num = np.stack([np.bincount(groups, weights=weighted[:, j], minlength=n) for j in range(values.shape[1])],
                   axis=1)
    out = np.full_like(num, np.nan)
    np.divide(num, den[:, None], out=out, where=den[:, None] > 0)
    return out


def input_quality(r: _Ratings, inputs: list[str]) -> list[R.InputQuality]:
    """``data_quality.by_input``: each input's ratings weighted over its rows, in ``by_input``'s order."""
    n = len(inputs)
    share = np.bincount(r.source, weights=r.weight, minlength=n) / (r.weight.sum() or 1.0)
    act, fac, comb = (_weighted_by(v, r, r.source, n) for v in (r.activity, r.factor, r.combined))
    return [R.InputQuality(source=s, weight_share=round(float(share[i]), 6), activity=_pedigree(act[i]),
                           factor=_pedigree(fac[i]), combined=_pedigree(comb[i]),
                           combined_score=None if math.isnan(comb[i][0]) else round(float(comb[i].mean()), 3))
            for i, s in enumerate(inputs)]


def data_quality(weights: Mapping[str, float], ed: EnterpriseData, age: R.AgeReference,
                 tr: traceability.Trace, inputs: list[str]) -> R.DataQuality:
    """Pedigree scores of the activity data, of the factors and combined, weighted by absolute contribution.

    ``weights``: per process, the sum of |kg CO2e| of its contribution rows. Process-level weighting: a
    process's activity score is the mean of its data's scores (ISO 14067 6.3.5 asks for data quality to be
    characterised; weighting by contribution follows the PACT and PEF practice of rating the data that
    matter most). Each contribution row also rests on factor values, scored from the factor set's metadata
    (``factor_quality``); the row's combined rating is per indicator the worse of the two, and the rule's
    ``max_weighted_score`` applies to the combined score (decision record 0009). The reference period's age is
    counted in years to ``age`` (a date recorded with the study, never today's date, so the same inputs always
    give the same result). ``inputs``: the ``by_input`` sources, in order.
    """
    rule = ed.rule
    merged: dict[str, float] = defaultdict(float)
    for column, w in weights.items():
        merged[column.split("::")[0]] += w  # the columns of a multi-output process share its data
    activity = activity_quality(ed)
    total_w = sum(merged.values()) or 1.0
    per_proc = {pid: activity[pid] for pid in merged if pid in activity}
    weighted = {k: sum(merged[p] * v[k] for p, v in per_proc.items()) / total_w
                for k in (*DQ_INDICATORS, "primary_share")}
    activity_score = fq.score(weighted)
    ratings = _ratings(tr, activity, inputs)
    one = np.zeros(len(tr.rows), dtype=np.int64)
    factor = _weighted_by(ratings.factor, ratings, one, 1)[0]
    combined = _weighted_by(ratings.combined, ratings, one, 1)[0]
    combined = dict(zip(DQ_INDICATORS, combined.tolist(), strict=True)) if not np.isnan(combined[0]) else \
        {k: weighted[k] for k in DQ_INDICATORS}
    combined_score = fq.score(combined)
    req = rule.data_quality
    years = age.date.year - ed.params.reference_period.end.year
    findings = []
    if combined_score > req.max_weighted_score:
        findings.append(f"combined weighted data-quality score (activity data and factors) {combined_score:.2f} "
                        f"exceeds the rule's {req.max_weighted_score}")
    if weighted["primary_share"] < req.min_primary_data_share:
        findings.append(f"primary data share {weighted['primary_share']:.0%} is below the rule's "
                        f"{req.min_primary_data_share:.0%}")
    if years > req.max_reference_period_age_years:
        findings.append(f"reference period ended {years} years before the {age.basis} {age.date}; the rule allows "
                        f"{req.max_reference_period_age_years}")
    per_input = input_quality(ratings, inputs)
    comb = _pedigree(combined).model_dump()
    return R.DataQuality(
        method=DQ_METHOD, weighted_indicators=_pedigree(weighted), weighted_score=round(activity_score, 3),
        factor_indicators=_pedigree(factor),
        factor_score=None if np.isnan(factor[0]) else round(float(factor.mean()), 3),
        combined_indicators=_pedigree(combined), combined_score=round(combined_score, 3),
        combination=fq.COMBINATION, by_input=per_input,
        primary_data_share=round(weighted["primary_share"], 3), age_reference=age,
        reference_period_age_years=years, meets_rule=not findings, findings=findings,
        pact_dqr=dq_ratings.pact_dqr(comb), pef_dqr=dq_ratings.pef_dqr(comb),
        improve_first=dq_ratings.improve_first([x.model_dump() for x in per_input]),
    )


def combustion_cross_check(ed: EnterpriseData, fg: Foreground, fs: FactorSet) -> list[R.CombustionCrossCheck]:
    """Processes by carbon balance that burn fuels: their CO2 as the footprint counts it against the method of the
    Chinese enterprise GHG guidelines (e.g. GB/T 32151.5-2015; NDRC 2013 for iron and steel).

    The guideline method: each fuel (an input with a net calorific value and carbon per energy, measured where
    given) as FC x NCV x CC x OF x 44/12, plus all other carbon in (carbonates, electrodes, purchased iron),
    minus the carbon leaving in products and gases. It differs from the footprint's balance by the fuels'
    oxidation rates and by carbon per energy against the carbon contents the rule's ``carbon_accounting``
    selects (decision record of the rule); the ratio shows by how much, process by process.
    """
    from methodology.core.foreground import combustion_terms
    from methodology.core.mechanisms.carbon import UNOXIDISED
    from methodology.gases import C_TO_CO2

    out = []
    for p in fg.processes.values():
        if p.carbon is None or p.carbon.carbon_in <= 0:
            continue
        flows = {f.key: f for f in ed.rule.process_by_id[p.id].inputs}
        burned = {k: t for k in p.carbon.inputs if k in flows
                  and (t := combustion_terms(ed, fs, p.id, flows[k])) is not None}
        if not burned:
            continue
        carbon_in = sum(ed.amount(p.id, k) * ncv * cpe * of if k in burned else c
                        for k, c in p.carbon.inputs.items() for ncv, cpe, of in [burned.get(k, (0, 0, 0))])
        carbon_out = sum(c for k, c in p.carbon.outputs.items() if k != UNOXIDISED)
        factor_method = max(carbon_in - carbon_out, 0.0) * C_TO_CO2
        balance = max(p.carbon.emitted, 0.0) * C_TO_CO2
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
        ("emitted", site.emitted), ("set_to_zero", site.clipped), ("unoxidised", site.unoxidised),
        ("residual", site.residual))})


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
def carbon_accounting(ed: EnterpriseData, fg: Foreground, fs: FactorSet) -> R.CarbonAccounting:
    """The rule's carbon accounting and the carbon content of every carbon-bearing flow of the product system's
    carbon balances (measured, or the factor's on the rule's basis), with the oxidation rate applied."""
    rule = ed.rule
    ca = rule.carbon_accounting
    rows = []
    for p in fg.processes.values():
        if p.carbon is None:
            continue
        spec = rule.process_by_id[p.id]
        for f in spec.flows():
            factor = rule.carbon_factor_of(f)
            d = ed.data.get((p.id, f.key))
            if d is None or d.amount == 0:
                continue
            of = applied_oxidation(rule, fs, f) if any(f is i for i in spec.inputs) else None
            if d.carbon_kg_per_unit is not None:
                rows.append(R.CarbonContent(flow=f"{p.id}.{f.key}", kg_c_per_unit=round(d.carbon_kg_per_unit, 6),
                                            unit=f.unit, basis="measured by the enterprise", oxidation=of))
            elif factor and (c := fs.get(factor).carbon_kg(ca.content_basis)):
                rows.append(R.CarbonContent(flow=f"{p.id}.{f.key}", kg_c_per_unit=round(c, 6), unit=f.unit,
                                            basis=f"{factor} ({fs.get(factor).carbon_basis(ca.content_basis)})",
                                            oxidation=of))
    return R.CarbonAccounting(content_basis=ca.content_basis.value, oxidation=ca.oxidation.value,
                              decision=ca.decision, contents=rows)


def scope(ed: EnterpriseData, fg: Foreground, fs: FactorSet) -> R.Scope:
    """The result's ``scope``: cut-off, exclusions, what is not quantified, the end-of-life approach and the
    carbon accounting."""
    rule = ed.rule
    c, eol = rule.cut_off, rule.end_of_life
    return R.Scope(
        cut_off=f"inputs below {c.mass_share_per_process:.0%} of a process's mass and "
                f"{c.energy_share_per_process:.0%} of its energy, at most {c.cumulative_share:.0%} in total",
        cut_off_max_share=c.cumulative_share,
        excluded=list(c.excluded),
        not_counted=[R.NotCounted(what=x.what, why=" ".join(x.why.split())) for x in c.not_counted],
        end_of_life=None if eol is None else R.EndOfLife(approach=eol.approach.value,
                                                          description=" ".join(eol.description.split()),
                                                          applies_to=list(eol.applies_to)),
        coproducts=rule.allocation.approach.value,
        carbon_accounting=carbon_accounting(ed, fg, fs),
        factor_choices={c.id: c.selected for c in rule.factor_choices},
        grid_electricity=grid_electricity(ed),
    )


def grid_electricity(ed: EnterpriseData) -> R.GridElectricity:
    """The result's ``scope.grid_electricity``: the factor grid purchases took and what chose it."""
    basis = ed.rule.electricity.grid_factor.value
    chosen = "parameter file" if ed.params.electricity_factor is not None else f"rule: {basis}"
    return R.GridElectricity(grid_factor=basis, grid_region=ed.grid_region, factor=ed.electricity_factor,
                             chosen_by=chosen)


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


# parts of a result that are text or copied from the factor set and rule (their numbers are pedigree scores from
# integer tables, or shares of sums of the contributions the breakdowns hold): left out of the finiteness walk
TEXT_ONLY = {"factors_used": True, "sources_used": True, "scope": True, "provenance": True, "characterisation": True,
             "by_input": {"__all__": {"clauses", "factors", "processes"}},
             "direct_emissions": {"__all__": {"clauses", "factors"}}}


def _all_finite(value) -> bool:
    """Every float in a nested structure of dicts, lists and tuples is finite (no NaN, no infinity)."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is float:
            if v - v != 0:  # inf - inf and nan - nan are nan
                return False
        elif t is dict:
            stack.extend(v.values())
        elif t is list or t is tuple:
            stack.extend(v)
    return True


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

    dumped = result.model_dump(exclude=TEXT_ONLY)  # the rest holds no number not derived from the figures checked
    if not _all_finite(dumped):  # the common case fast; then where
        walk(dumped, "")
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
    tr = traceability.trace(rule, ed, fg, fs, contributions, t.values[-1])
    bd = breakdowns(t, fg, rule, traceability.input_fields(tr, rule))
    credits = bd["by_origin"][Origin.credit.value].total if Origin.credit.value in bd["by_origin"] else 0.0
    balances = balances or balances_section(ed, fg, fs)
    parts = [[x.total for x in bd["by_stage"]], [x.total for x in bd["by_process"]],
             [x.total for x in bd["by_origin"].values()], [x.total for x in bd["by_gas"].values()]]
    weights = np.bincount(contributions.process, weights=np.abs(t.values[-1]), minlength=len(contributions.processes))
    live = np.bincount(contributions.process, minlength=len(contributions.processes)) > 0
    product, route, du = rule.declared_product(fg.product), rule.route(fg.route), rule.declared_unit
    e, period = ed.params.enterprise, ed.params.reference_period
    return R.Result(
        enterprise=R.Enterprise(id=e.id, name=e.name, province=e.province, illustrative=e.illustrative,
                                country=fs.grid_regions.country if fs.grid_regions else None,
                                subdivision=fs.grid_regions.iso_of(e.province) if fs.grid_regions else None,
                                description=e.description),
        product=R.Named(id=product.id, name=product.name),
        product_family=product_family(product, ed.params.product_family),
        route=R.Named(id=route.id, name=route.name),
        declared_unit=R.DeclaredUnit(amount=du.amount, unit=du.unit, description=du.description),
        reference_period=R.Period(start=period.start, end=period.end),
        gwp100_kg_co2e=R.Totals(total=round(total, 6), **{k: round(v, 6) for k, v in totals.items()},
                                total_excluding_biogenic=round(totals["fossil"] + totals["land_use"], 6),
                                gross=round(total - credits, 6), credits=round(credits, 6)),
        characterisation=CHARACTERISATION,
        **bd,
        **traceability.factor_sections(tr, fs),
        allocation=R.Allocation(approach=fg.allocation, approaches=own_approaches(rule, fg), factors={
            p.id: p.allocation_factor for p in fg.processes.values() if p.allocation_factor != 1.0}),
        electricity_factor=fg.electricity_factor,
        carbon_balance_kg_c={p.id: R.CarbonFlows(in_=round(p.carbon.carbon_in, 3), out=round(p.carbon.carbon_out, 3),
                                                 emitted=round(p.carbon.emitted, 3))
                             for p in fg.processes.values() if p.carbon is not None},
        direct_emissions=[R.MechanismFigures(**d, **x) for d, x in zip(
            direct_emissions_by_mechanism(fg), traceability.mechanism_fields(tr, rule, fg), strict=True)],
        product_carbon=R.ProductCarbon(**product_carbon(ed, fg, fs)),
        per_component=[R.ComponentFigures(**x) for x in per_component(
            ed.components, du.amount * conversion_factor(du.unit, "kg"), total,
            totals["fossil"] + totals["land_use"])],
        balances=balances,
        process_scaling=dict(contributions.scaling),
        data_quality=data_quality({p: float(w) for p, w, ok in zip(contributions.processes, weights, live,
                                                                    strict=True) if ok}, ed, age, tr,
                                  [x.source for x in bd["by_input"]]),
        checks=result_checks(rule, fg.route, total, parts, balances, engine_scores, totals, ed.review,
                             product=fg.product, family=ed.params.product_family),
        scope=scope(ed, fg, fs),
        notes=list(fg.notes),
        provenance=provenance,
    )
