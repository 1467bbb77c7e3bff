"""Assemble ``result.json`` from contribution rows: pure functions, no Brightway.

The fields are documented in ``docs/result-json.md``. Every breakdown is a partition of the same
contribution rows, so each sums to the total; ``checks`` records that it does.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from importlib import metadata

from methodology.core.foreground import Foreground
from methodology.gases import GAS_GROUP, Gas
from methodology.schema.factors import FactorSet
from methodology.schema.parameters import DQ_INDICATORS, EnterpriseData

SCHEMA_VERSION = "1.0"
INDICATORS = ("fossil", "biogenic", "land_use")
CREDIT_STAGE = "coproduct-credits"


def software_versions() -> dict[str, str]:
    out = {}
    for pkg in ("pcf-workbench", "bw2data", "bw2calc", "bw2io", "papermill"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _sum_by(rows: list[dict], key) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys((*INDICATORS, "total"), 0.0))
    for r in rows:
        k = key(r)
        for ind in (*INDICATORS, "total"):
            out[k][ind] += r.get(ind, 0.0)
    return dict(out)


def stage_of(row: dict, fg: Foreground, upstream_stage: str) -> str:
    if row["origin"] == "credit":
        return CREDIT_STAGE
    if row["origin"] in ("upstream", "transport"):
        return upstream_stage
    return fg.processes[row["process"]].stage


def breakdowns(rows: list[dict], fg: Foreground, ed: EnterpriseData) -> dict:
    rule = ed.rule
    up = rule.system_boundary.upstream_stage
    stage_names = {s.id: s.name for s in rule.system_boundary.stages}
    stage_names[CREDIT_STAGE] = "Co-product credits (system expansion)"
    by_stage = _sum_by(rows, lambda r: stage_of(r, fg, up))
    by_process = _sum_by(rows, lambda r: r["process"])
    by_origin = _sum_by(rows, lambda r: r["origin"])
    by_gas = _sum_by(rows, lambda r: GAS_GROUP[Gas(r["gas"])])
    by_gas_kg: dict[str, float] = defaultdict(float)
    for r in rows:
        by_gas_kg[r["gas"]] += r["kg"]
    by_source = _sum_by(rows, lambda r: r["source"])
    order = [s.id for s in rule.system_boundary.stages] + [CREDIT_STAGE]
    return {
        "by_stage": [{"stage": s, "name": stage_names[s], **_round(by_stage[s])} for s in order if s in by_stage],
        "by_process": [{"process": p, "name": fg.processes[p].name, "stage": fg.processes[p].stage,
                        **_round(v)} for p, v in by_process.items()],
        "by_origin": {k: _round(v) for k, v in by_origin.items()},
        "by_gas": {k: _round(v) for k, v in by_gas.items()},
        "gas_mass_kg": {k: round(v, 6) for k, v in by_gas_kg.items()},
        "by_input": [{"source": k, **_round(v)}
                     for k, v in sorted(by_source.items(), key=lambda x: -abs(x[1]["total"]))],
    }


def _round(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in d.items()}


def data_quality(rows: list[dict], ed: EnterpriseData) -> dict:
    """Pedigree scores weighted by each process's share of the absolute contributions.

    Process-level weighting: a process's score is the mean of its data's scores (ISO 14067 6.3.5 asks
    for data quality to be characterised; weighting by contribution follows the PACT and PEF practice
    of rating the data that matter most).
    """
    rule = ed.rule
    weight: dict[str, float] = defaultdict(float)
    for r in rows:
        weight[r["process"].split("::")[0]] += abs(r["total"])  # the columns of a multi-output process: its data
    total_w = sum(weight.values()) or 1.0
    per_proc = {}
    for pid in weight:
        data = [d for (p, _), d in ed.data.items() if p == pid]
        if not data:
            continue
        per_proc[pid] = {
            **{k: sum(getattr(d.data_quality, k) for d in data) / len(data) for k in DQ_INDICATORS},
            "primary_share": sum(d.primary for d in data) / len(data),
        }
    weighted = {k: sum(weight[p] * v[k] for p, v in per_proc.items()) / total_w
                for k in (*DQ_INDICATORS, "primary_share")}
    score = sum(weighted[k] for k in DQ_INDICATORS) / len(DQ_INDICATORS)
    req = rule.data_quality
    age = dt.date.today().year - ed.params.reference_period.end.year
    findings = []
    if score > req.max_weighted_score:
        findings.append(f"weighted data-quality score {score:.2f} exceeds the rule's {req.max_weighted_score}")
    if weighted["primary_share"] < req.min_primary_data_share:
        findings.append(f"primary data share {weighted['primary_share']:.0%} is below the rule's "
                        f"{req.min_primary_data_share:.0%}")
    if age > req.max_reference_period_age_years:
        findings.append(f"reference period ended {age} years ago; the rule allows "
                        f"{req.max_reference_period_age_years}")
    return {
        "method": "pedigree scores 1 (best) to 5, weighted by each process's share of absolute contributions",
        "weighted_indicators": {k: round(weighted[k], 3) for k in DQ_INDICATORS},
        "weighted_score": round(score, 3),
        "primary_data_share": round(weighted["primary_share"], 3),
        "meets_rule": not findings,
        "findings": findings,
    }


def combustion_cross_check(ed: EnterpriseData, fg: Foreground, fs: FactorSet) -> list[dict]:
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
            out.append({"process": p.id, "carbon_balance_t_co2": round(balance / 1000, 3),
                        "factor_method_t_co2": round(factor_method / 1000, 3),
                        "ratio": round(factor_method / balance, 4) if balance else None})
    return out


def site_carbon_summary(ed: EnterpriseData, fg: Foreground) -> dict:
    """The site carbon balance of the product system, kg C per year, rounded as in result.json."""
    from methodology.core.balances import site_carbon

    bals = {p.id: p.carbon for p in fg.processes.values() if p.carbon is not None}
    site = site_carbon(ed.rule, bals, {k: max(b.emitted, 0.0) for k, b in bals.items()})
    return {"purchased_in": round(site.purchased_in, 3), "leaving_in_products": round(site.external_out, 3),
            "emitted": round(site.emitted, 3), "internal_imbalance": round(site.internal_imbalance, 3),
            "residual": round(site.residual, 3)}


def result_checks(ed: EnterpriseData, fg: Foreground, total: float, parts, site: dict, yields_ok: bool) -> dict:
    """The boolean checks of a result (Brightway's own check is added by ``build_result``).

    ``parts``: each breakdown as a list of its totals; ``site``: ``site_carbon_summary``.
    """
    rule = ed.rule
    checks = {
        "breakdowns_sum_to_total": all(abs(sum(p) - total) <= 1e-6 * max(1.0, abs(total)) for p in parts),
        "site_carbon_balance_closes": abs(site["residual"]) <= rule.balances.carbon_tolerance * max(
            site["purchased_in"], 1.0),
        "yields_within_range": yields_ok,
    }
    pf = rule.route(fg.route).plausible_footprint
    if pf is not None:
        checks["within_route_plausible_range"] = bool(pf.min <= total <= pf.max)
        checks["route_plausible_range_kg"] = [pf.min, pf.max]
    return checks


def balances_section(ed: EnterpriseData, fg: Foreground, fs: FactorSet) -> dict:
    """Site carbon balance, process gases, electricity and metallic yields (ISO 14044 4.2.3.6 validation)."""
    from methodology.core.balances import electricity_balance, process_gas_balances, yields

    rule = ed.rule
    el = electricity_balance(rule, ed.processes, ed.data)
    return {
        "site_carbon_kg_c": site_carbon_summary(ed, fg),
        "process_gases_gj": [
            {"gas": g.factor, "generated": g.generated, "used": g.consumed, "exported": g.exported,
             "unaccounted": g.unaccounted} for g in process_gas_balances(rule, ed.processes, ed.data)],
        "electricity_kwh": None if el is None else {"supplied": el.supplied, "used": el.consumed,
                                                    "unaccounted": el.unaccounted},
        "yields": [{"name": y.name, "process": y.process, "ratio": None if y.ratio is None else round(y.ratio, 4),
                    "min": y.min, "max": y.max, "ok": y.ok} for y in yields(rule, ed.processes, ed.data)],
        "combustion_cross_check": combustion_cross_check(ed, fg, fs),
    }


def build_result(*, ed: EnterpriseData, fg: Foreground, fs: FactorSet, calc: dict, parameters_path: str,
                 engine_scores: dict[str, float] | None = None) -> dict:
    rows = calc["rows"]
    rule = ed.rule
    totals = {ind: float(sum(r[ind] for r in rows)) for ind in INDICATORS}
    total = sum(totals.values())
    bd = breakdowns(rows, fg, ed)
    route = rule.route(fg.route)
    bal = balances_section(ed, fg, fs)
    parts = [[x["total"] for x in part] for part in (bd["by_stage"], bd["by_process"],
                                                     list(bd["by_origin"].values()), list(bd["by_gas"].values()))]
    checks = result_checks(ed, fg, total, parts, bal["site_carbon_kg_c"], all(y["ok"] for y in bal["yields"]))
    if engine_scores is not None:
        checks["brightway_scores_match"] = all(
            abs(engine_scores[k] - totals[k]) <= 1e-6 * max(1.0, abs(total)) for k in INDICATORS)
    product = rule.declared_product(fg.product)
    return {
        "schema_version": SCHEMA_VERSION,
        "enterprise": ed.params.enterprise.model_dump(),
        "product": {"id": product.id, "name": product.name},
        "route": {"id": route.id, "name": route.name},
        "declared_unit": {"amount": rule.declared_unit.amount, "unit": rule.declared_unit.unit,
                          "description": rule.declared_unit.description},
        "reference_period": {"start": str(ed.params.reference_period.start),
                             "end": str(ed.params.reference_period.end)},
        "gwp100_kg_co2e": {
            "total": round(total, 6),
            "fossil": round(totals["fossil"], 6),
            "biogenic": round(totals["biogenic"], 6),
            "land_use": round(totals["land_use"], 6),
            "total_excluding_biogenic": round(totals["fossil"] + totals["land_use"], 6),
        },
        "characterisation": "IPCC 2021 (AR6) GWP100; biogenic CO2 +1 emitted, -1 removed (ISO 14067 7.2)",
        **bd,
        "allocation": {
            "approach": fg.allocation.value,
            "factors": {p.id: p.allocation_factor for p in fg.processes.values() if p.allocation_factor != 1.0},
        },
        "electricity_factor": fg.electricity_factor,
        "carbon_balance_kg_c": {
            p.id: {"in": round(p.carbon.carbon_in, 3), "out": round(p.carbon.carbon_out, 3),
                   "emitted": round(p.carbon.emitted, 3)}
            for p in fg.processes.values() if p.carbon is not None
        },
        "balances": bal,
        "process_scaling": calc.get("supply", {}),
        "data_quality": data_quality(rows, ed),
        "checks": checks,
        "notes": list(fg.notes),
        "provenance": {
            "rule_set": {"id": rule.id, "version": rule.version, "path": rule.path, "sha256": rule.sha256},
            "factor_set": {"id": fs.id, "version": fs.version, "path": fs.path, "sha256": fs.sha256},
            "parameter_file": {"path": parameters_path, "sha256": ed.params.sha256},
            "software": software_versions(),
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
    }
