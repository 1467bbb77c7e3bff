"""Real run folders and a real batch manifest from shipped enterprises, by the fast compute-only path.

``make_batch(runs_dir, parameter_files)``: the batch is planned by ``batch.plan`` (every file validated), each
valid study computed without Brightway (``study.calculate_without_brightway``, the result a notebook run gives,
tests check) with a small seeded Monte Carlo, its folder written by ``outputs.files.write_result`` (result.json,
pact.json, label.svg/png, report.html) with the ``run.json`` of a successful run, and the batch's
``manifest.json`` by ``batch.finish``, invalid files included. Used by the catalogue and public-page tests.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from methodology.execution import batch
from methodology.outputs.files import atomic_write_text, write_result

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [ROOT / "parameters" / p for p in (
    "steel/sd-stainless-430-ferritic.yaml", "steel/sd-stainless-eaf-aod-304.yaml",  # one product and route
    "steel/sd-scrap-eaf-mill-b.yaml", "cement/ah-integrated-plant-a.yaml", "aluminium/yn-hydro-smelter-b.yaml")]
MC_ITERATIONS = 200


def write_run(study, out_dir: Path, industry: str, *, iterations: int = MC_ITERATIONS, mutate=None) -> Path:
    """One run folder as a successful run leaves it; ``mutate(result_dict)`` changes the result first (a re-run
    with other data)."""
    result = study.with_uncertainty(study.calculate_without_brightway(), iterations)
    data = result.model_dump(mode="json")
    if mutate is not None:
        mutate(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_result(data, out_dir)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    record = {"parameter_file": study.parameter_file, "enterprise": study.enterprise.params.enterprise.id,
              "product": study.enterprise.params.product, "industry": industry, "key": "", "worker": None,
              "started_at": now, "finished_at": now, "wall_s": 0.0, "peak_rss_mb": None, "status": "ok",
              "error": None}
    atomic_write_text(out_dir / "run.json", json.dumps(record, indent=2) + "\n")
    return out_dir


def make_batch(runs_dir: Path, parameter_files, *, failed: int = 0) -> Path:
    """Run folders for every valid file and ``<runs>/batch/manifest.json``; the last ``failed`` valid runs are
    recorded as failed (their folder left as ``<product>.failed`` with a failed run.json, no result.json)."""
    p = batch.plan(parameter_files, runs_dir, force=True)
    records = []
    for i, spec in enumerate(p.todo):
        base = batch._base(spec)
        if i >= len(p.todo) - failed:
            bad = Path(spec.out_dir + ".failed")
            bad.mkdir(parents=True, exist_ok=True)
            atomic_write_text(bad / "run.json", json.dumps(base | {"status": "failed", "error": "kernel died"}))
            records.append(base | {"status": "failed", "error": "kernel died", "out_dir": str(bad)})
            continue
        write_run(p.studies[spec.parameter_file], Path(spec.out_dir), spec.industry)
        records.append(base | {"status": "ok", "error": None, "out_dir": spec.out_dir})
    p.todo = []
    settings = batch.Settings(workers=1, summary=False, progress=False)
    batch.finish(p, records, settings, started=0.0, started_at=dt.datetime.now(dt.UTC).isoformat())
    return batch.batch_dir(Path(runs_dir))
