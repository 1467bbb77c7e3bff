"""Compute-only batches: the rows of the results table for many studies from ``core.compute``'s stacked system.

One factorisation per factor set (``core.compute.stack`` / ``scaling`` / ``aggregate``); each row has the same
keys and values as ``table.result_row`` of the result a notebook run writes (tested).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np

from methodology.core.compute import (
    CREDIT_STAGE,
    GAS_GROUPS,
    INDICATORS,
    ORIGINS,
    Breakdown,
    Stacked,
    _factor_key,
    aggregate,
    scaling,
    stack,
)
from methodology.study import Study


# ---------------------------------------------------------------------------------------------
def _rounded(keys: Sequence[str], values: np.ndarray, present: np.ndarray, order: Sequence[str]) -> dict:
    """{key: {"total": value rounded as result.json}} for the present keys, in ``order``."""
    where = {k: i for i, k in enumerate(keys)}
    return {k: {"total": round(float(values[where[k]]), 6)} for k in order if k in where and present[where[k]]}


def _checks(study: Study, total: float, parts: list[list[float]]) -> dict:
    """The boolean checks of ``results.build_result`` (without Brightway scores), from the same functions."""
    from methodology.core.balances import yields
    from methodology.core.results import result_checks, site_carbon_summary

    ed, fg = study.enterprise, study.foreground
    ok = all(y.ok for y in yields(study.rule, ed.processes, ed.data))
    return result_checks(ed, fg, total, parts, site_carbon_summary(ed, fg), ok)


def _partial_result(study: Study, st: Stacked, bd: Breakdown, e: int, provenance: dict) -> dict:
    """The fields of result.json that ``table.result_row`` reads, from the stacked figures of enterprise e."""
    from methodology.core.results import data_quality

    ed, fg, rule, fs = study.enterprise, study.foreground, study.rule, study.factors
    totals = {ind: float(bd.indicator(ind)[e]) for ind in INDICATORS}
    total = sum(totals.values())
    order = [s.id for s in rule.system_boundary.stages] + [CREDIT_STAGE]
    by_stage = _rounded(bd.stages, bd.by_stage[e], bd.stage_present[e], order)
    by_origin = _rounded(ORIGINS, bd.by_origin[e], bd.origin_present[e], ORIGINS)
    by_gas = _rounded(GAS_GROUPS, bd.by_gas[e], bd.gas_present[e], GAS_GROUPS)
    cols = slice(st.offsets[e], st.offsets[e + 1])
    present = bd.process_present[cols]
    processes = [p for p, live in zip(st.process_ids[e], present, strict=True) if live]
    by_process = [round(float(v), 6) for v in bd.by_process[cols][present]]
    parts = [[v["total"] for v in d.values()] for d in (by_stage, by_origin, by_gas)] + [by_process]
    dq_rows = [{"process": p, "total": float(w)} for p, w in zip(processes, bd.dq_weight[cols][present], strict=True)]
    du = rule.declared_unit
    return {
        "enterprise": ed.params.enterprise.model_dump(),
        "product": {"id": rule.declared_product(fg.product).id},
        "route": {"id": rule.route(fg.route).id},
        "declared_unit": {"amount": du.amount, "unit": du.unit},
        "gwp100_kg_co2e": {"total": round(total, 6), **{k: round(v, 6) for k, v in totals.items()},
                           "total_excluding_biogenic": round(totals["fossil"] + totals["land_use"], 6)},
        "by_stage": [{"stage": s, **v} for s, v in by_stage.items()],
        "by_origin": by_origin,
        "by_gas": by_gas,
        "electricity_factor": fg.electricity_factor,
        "allocation": {"approach": fg.allocation.value},
        "data_quality": data_quality(dq_rows, ed),
        "checks": _checks(study, total, parts),
        "provenance": {
            **provenance,
            "rule_set": {"id": rule.id, "version": rule.version, "path": rule.path, "sha256": rule.sha256},
            "factor_set": {"id": fs.id, "version": fs.version, "path": fs.path, "sha256": fs.sha256},
            "parameter_file": {"path": study.parameter_file, "sha256": ed.params.sha256},
        },
    }


def compute_rows(studies: Sequence[Study], cfs: Mapping[str, Mapping[str, float]] | None = None) -> list[dict]:
    """Rows of the results table (``table.result_row``) for many studies, one factorisation per factor set.

    The same keys and values as ``result_row(study.calculate_without_brightway())``: identity, totals,
    ``stage:``/``origin:``/``gas:`` breakdowns, data quality (``results.data_quality`` on per-process
    weights), checks (those of ``build_result``; the combustion cross-check is no check and is skipped)
    and provenance.
    """
    from methodology.core.results import software_versions
    from methodology.outputs.table import result_row

    provenance = {"software": software_versions(),
                  "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    groups: dict[tuple, list[int]] = {}
    for i, study in enumerate(studies):
        groups.setdefault(_factor_key(study.factors), []).append(i)
    rows: list[dict] = [{} for _ in studies]
    for members in groups.values():
        group = [studies[i] for i in members]
        st = stack([s.foreground for s in group], group[0].factors,
                   [s.rule.system_boundary.upstream_stage for s in group])
        bd = aggregate(st, scaling(st), cfs)
        for e, (i, study) in enumerate(zip(members, group, strict=True)):
            rows[i] = result_row(_partial_result(study, st, bd, e, provenance))
    return rows
