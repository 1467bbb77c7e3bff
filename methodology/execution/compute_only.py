"""Compute-only batches: the footprints of many studies without notebooks or Brightway, and their run folders.

Each study's result is the one ``Study.calculate`` gives, assembled by the same ``core.results.assemble`` from
the contributions table of the fast evaluator (``study.calculate_without_brightway``: one stacked system and
one LU factorisation per factor set); each row is ``table.result_row`` of that result. Tests check every
figure against Brightway's.

``write_run`` writes one result's run folder on a batch worker, as a notebook run would (``files.write_result``
and ``figures.save_all``, the same calls the notebooks make), atomically: in a temporary sibling folder renamed
into place, with a ``run.json`` whose ``mode`` is ``compute-only``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from methodology.core.result import as_json
from methodology.errors import MethodologyError
from methodology.outputs.table import result_row
from methodology.study import Study, calculate_without_brightway

MONTE_CARLO_ITERATIONS = 10_000  # compute-only batches: as the notebooks' default and seed, the same interval
MODE = "compute-only"


def compute_results(studies: Sequence[Study], *, monte_carlo_iterations: int = 0) -> list:
    """The result of each study (``core.result.Result``), one factorisation per factor set, each with its Monte
    Carlo interval (as a notebook run gives it); a study whose calculation fails has its ``MethodologyError`` in
    its place. A Monte Carlo that cannot run leaves the result without an interval; 0 iterations: none."""
    out: list = []
    for st, r in zip(studies, calculate_without_brightway(studies, keep_going=True), strict=True):
        if not isinstance(r, MethodologyError):
            try:
                r = st.with_uncertainty(r, monte_carlo_iterations)
            except MethodologyError:
                pass
        out.append(r)
    return out


def compute_rows(studies: Sequence[Study], *, monte_carlo_iterations: int = 0,
                 collect: list | None = None) -> list[dict | MethodologyError]:
    """Rows of the results table (``table.result_row``) of ``compute_results``; a failed study has its error in
    its place. ``collect``: a list that receives each successful result's JSON form (for the batch's CBAM
    table, ``outputs.cbam.write_batch``)."""
    rows: list[dict | MethodologyError] = []
    for st, r in zip(studies, compute_results(studies, monte_carlo_iterations=monte_carlo_iterations),
                     strict=True):
        if isinstance(r, MethodologyError):
            rows.append(r)
            continue
        rows.append(result_row(r, st.rule.rule_set.industry))
        if collect is not None:
            collect.append(as_json(r))
    return rows


def write_run(spec, data: dict, record: dict) -> dict:
    """On a worker: write one result's run folder (``spec.out_dir``) atomically; returns its run record.

    ``data``: the result's JSON form; ``record``: the run record so far (the batch's fields). A folder that cannot
    be written (a file in the way, a full disk, a report that fails) fails this run only and leaves nothing: the
    temporary folder is removed and an earlier folder of the same run stays as it was."""
    from methodology.execution.runner import _error_text, _replace, worker_name
    from methodology.outputs import figures
    from methodology.outputs.files import atomic_write_text, write_result

    final = Path(spec.out_dir)
    tmp = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
    record = record | {"mode": MODE, "worker": worker_name(),
                       "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    t0 = time.perf_counter()
    try:
        tmp.mkdir(parents=True)
        write_result(data, tmp)
        figures.save_all(data, tmp)
        record |= {"status": "ok", "error": None, "out_dir": str(final), "wall_s": round(time.perf_counter() - t0, 3),
                   "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        atomic_write_text(tmp / "run.json", json.dumps(record, indent=2) + "\n")
        _replace(tmp, final)
    except Exception as exc:  # noqa: BLE001 - this run fails, the batch goes on
        shutil.rmtree(tmp, ignore_errors=True)
        return record | {"status": "failed", "error": f"writing {final}: {_error_text(exc)}", "out_dir": None,
                         "wall_s": round(time.perf_counter() - t0, 3)}
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return record
