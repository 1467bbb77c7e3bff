"""Every pilot enterprise under its rule and under rule variants, computed together (``pcf compare``).

Each parameter file is validated against the rule it names; each variant file (``schema.variants``) applies to
the enterprises whose rule it was written for (same rule id; a variant for another version of that rule is a
failure of the pair, with the reason) and to no other. All footprints, base and variants, are computed in one go
by the fast evaluator (``study.calculate_without_brightway``, tested equal to Brightway's), so a committee sees
the whole picture in seconds; a notebook run of any pair gives the same figures. Nothing is written unless asked
(``write``): the table as CSV (with a byte-order mark, for Excel) and Parquet, and ``comparison.json`` with the
variants, the rules they were applied to and the per-variant summary.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from methodology.core.result import Result
from methodology.errors import MethodologyError
from methodology.execution.batch import find_parameter_files
from methodology.outputs import comparison
from methodology.schema.variants import Variant, load_variant
from methodology.study import Study, calculate_without_brightway


@dataclass
class Comparison:
    table: pd.DataFrame
    summary: pd.DataFrame
    variants: list[dict]
    invalid: list[dict] = field(default_factory=list)  # parameter files refused, with their problems

    @property
    def ok(self) -> bool:
        return not self.invalid and bool((self.table["status"] == "ok").all()) if len(self.table) else not self.invalid


def _ident(study: Study) -> dict:
    e = study.enterprise.params
    return {"enterprise": e.enterprise.id, "enterprise_name": e.enterprise.name, "rule_set": study.rule.id,
            "product": e.product, "product_family": e.product_family, "route": e.route}


def compare(items, variant_files, *, log=print) -> Comparison:
    """Every parameter file under ``items`` under its rule and under each variant that applies to that rule."""
    loaded: list[Variant] = [load_variant(v) for v in variant_files]  # a bad variant file stops here, named
    studies, invalid = [], []
    for path in find_parameter_files(items):
        try:
            studies.append(Study.prepare(path))
        except MethodologyError as exc:
            invalid.append({"parameter_file": str(path), "error": str(exc)})
            log(f"invalid {path}: {exc}")
    jobs: list[tuple[int, Variant, Study | str]] = []  # (base index, variant, study under it or the reason)
    for i, st in enumerate(studies):
        for v in loaded:
            if v.variant.base.id != st.rule.id:
                continue
            try:
                jobs.append((i, v, st.with_variant(v)))
            except MethodologyError as exc:
                jobs.append((i, v, str(exc)))
    computed = [j[2] for j in jobs if isinstance(j[2], Study)]
    results = calculate_without_brightway(studies + computed, keep_going=True)
    base, rest = results[: len(studies)], iter(results[len(studies):])
    rows = []
    for i, v, st in jobs:
        res = next(rest) if isinstance(st, Study) else st
        b = base[i]
        if not isinstance(b, Result):  # the base itself failed: the pair has no comparison
            rows.append(comparison.failed_row(None, _ident(studies[i]), v.id, v.variant.title, str(b)))
        elif not isinstance(res, Result):  # the variant could not be applied or computed
            rows.append(comparison.failed_row(b, _ident(studies[i]), v.id, v.variant.title, str(res)))
        else:
            rows.append(comparison.row(b, res, v.id, v.variant.title))
    table = comparison.ranked(rows)
    meta = [{"id": v.id, "title": v.variant.title, "path": v.path, "sha256": v.sha256,
             "base": f"{v.variant.base.id} {v.variant.base.version}", "reason": " ".join(v.variant.reason.split()),
             "changes": [c.model_dump(mode="json") for c in v.changes]} for v in loaded]
    return Comparison(table, comparison.summary(table), meta, invalid)


def write(c: Comparison, out_dir: str | Path) -> list[Path]:
    """comparison.csv (UTF-8 with a byte-order mark), comparison.parquet and comparison.json, each atomically."""
    from methodology.outputs.files import atomic_write_bytes, atomic_write_text

    out = Path(out_dir)
    csv, pq, js = out / "comparison.csv", out / "comparison.parquet", out / "comparison.json"
    atomic_write_bytes(csv, c.table.to_csv(index=False).encode("utf-8-sig"))
    atomic_write_bytes(pq, c.table.to_parquet(index=False))
    doc = {"written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "variants": c.variants,
           "summary": json.loads(c.summary.to_json(orient="records")), "invalid": c.invalid}
    atomic_write_text(js, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return [csv, pq, js]
