"""Batch benchmark: prints, from one run on one machine, the figures the README reports.

    python benchmarks/batch_benchmark.py [--enterprises 50] [--repeat 5] [--out /tmp/pcf-bench]

1. the floor: median wall time of papermill running an empty notebook (kernel start included);
2. the median wall time per enterprise notebook, with a warm kernel (the batch default) and a cold one;
   their ratio to the floor;
3. batch throughput with 1 worker and with all workers over generated illustrative enterprises
   (scaled copies of the shipped files), and peak memory per kernel and per worker process;
4. enterprises per second in compute-only mode (one factorisation), evaluation only and end to end with
   ``--table-only`` (the results table only);
5. compute-only with run folders (the default): run folders and files per second written by 1 worker and by
   all workers (report.pdf dominates).

    python benchmarks/batch_benchmark.py --compute-only [--enterprises 50]   # 4 and 5 only

Nothing here asserts a time; it prints what it measured. Needs ``pcf setup`` to have been run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def floor(repeat: int, work: Path) -> float:
    import nbformat
    import papermill as pm

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = work / "empty.ipynb"
    nbformat.write(nb, src)
    times = []
    for i in range(repeat + 1):
        t = time.perf_counter()
        pm.execute_notebook(str(src), str(work / f"empty-out-{i}.ipynb"), progress_bar=False, kernel_name="python3")
        if i:  # the first run warms the file cache
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def per_enterprise(repeat: int, work: Path, warm: bool) -> tuple[float, list[float]]:
    from methodology.execution.kernels import KernelPool
    from methodology.execution.runner import NOTEBOOKS, execute_run, spec_for
    from methodology.study import Study

    files = sorted((ROOT / "parameters" / "steel").glob("*.yaml"))
    pool = KernelPool(NOTEBOOKS, warm=True) if warm else None
    times, rss = [], []
    for i in range(repeat + 1):
        path = files[i % len(files)]
        study = Study.prepare(path)
        spec = spec_for(study, path, study.rule.path, None, work / f"runs-{'warm' if warm else 'cold'}")
        if warm:
            time.sleep(5.0)  # as in a batch, the next kernel warms while the previous run executes
        t = time.perf_counter()
        outcome = execute_run(spec, km=pool.take() if pool else None)
        if i:
            times.append(time.perf_counter() - t)
        assert outcome.ok, outcome.error
        rss.append(outcome.record.get("peak_rss_mb") or 0.0)
    if pool:
        pool.close()
    return statistics.median(times), rss


def throughput(n: int, workers: int, inputs: Path, work: Path, warm: bool = True) -> dict:
    from methodology.execution.batch import Settings, run_batch

    runs = work / f"batch-{workers}-{'warm' if warm else 'cold'}"
    t = time.perf_counter()
    settings = Settings(workers=workers, force=True, progress=False, summary=False, warm=warm)
    manifest, status = run_batch([inputs], runs, settings=settings, log=lambda m: None)
    wall = time.perf_counter() - t
    ok = manifest["counts"]["ok"]
    rss = [r["peak_rss_mb"] for r in manifest["runs"] if r.get("peak_rss_mb")]
    wrss = [r["worker_peak_rss_mb"] for r in manifest["runs"] if r.get("worker_peak_rss_mb")]
    trss = [r["template_peak_rss_mb"] for r in manifest["runs"] if r.get("template_peak_rss_mb")]
    return {"wall": wall, "ok": ok, "per_s": ok / wall, "kernel_rss_max": max(rss, default=0.0),
            "worker_rss_max": max(wrss, default=0.0), "template_rss_max": max(trss, default=0.0)}


def compute_only(n: int) -> dict:
    from methodology.core import compute
    from methodology.core.foreground import build_foreground
    from methodology.study import Study

    files = sorted((ROOT / "parameters" / "steel").glob("*.yaml"))
    studies = [Study.prepare(f) for f in files]
    eds = [studies[i % len(studies)].enterprise.scaled(0.5 + (i * 0.618034) % 1.0) for i in range(n)]
    t = time.perf_counter()
    fgs = [build_foreground(ed, studies[0].factors) for ed in eds]
    t_build = time.perf_counter() - t
    compute.evaluate(fgs, studies[0].factors)  # warm caches
    times = []
    for _ in range(3):
        t = time.perf_counter()
        compute.evaluate(fgs, studies[0].factors)
        times.append(time.perf_counter() - t)
    return {"n": n, "evaluate_per_s": n / min(times), "build_per_s": n / t_build}


def compute_end_to_end(inputs: Path, work: Path) -> dict:
    from methodology.execution.batch import Settings, run_batch

    t = time.perf_counter()
    manifest, _ = run_batch([inputs], work / "compute", settings=Settings(progress=False, summary=False),
                            compute=True, table_only=True, log=lambda m: None)
    wall = time.perf_counter() - t
    return {"n": manifest["counts"]["ok"], "per_s": manifest["counts"]["ok"] / wall, "wall": wall}


def compute_with_folders(inputs: Path, work: Path, workers: int) -> dict:
    """``pcf batch --compute-only`` (run folders written on the workers) into a fresh runs folder."""
    import shutil

    from methodology.execution.batch import Settings, run_batch

    runs = work / f"compute-folders-{workers}"
    shutil.rmtree(runs, ignore_errors=True)
    t = time.perf_counter()
    manifest, _ = run_batch([inputs], runs, settings=Settings(workers=workers, progress=False, summary=False),
                            compute=True, log=lambda m: None)
    wall = time.perf_counter() - t
    ok = [r for r in manifest["runs"] if r["status"] == "ok"]
    files = sum(1 for r in ok for f in Path(r["out_dir"]).rglob("*") if f.is_file())
    writes = sorted(r["wall_s"] for r in ok)
    return {"n": len(ok), "wall": wall, "folders_per_s": len(ok) / wall, "files": files,
            "files_per_s": files / wall, "write_median_s": statistics.median(writes) if writes else 0.0}


def print_compute_only(inputs: Path, work: Path) -> None:
    for size in (1000, 5000):
        c = compute_only(size)
        print(f"compute-only, {size} enterprises: evaluation {c['evaluate_per_s']:,.0f} /s "
              f"(one factorisation); building foregrounds {c['build_per_s']:,.0f} /s")
    e2e = compute_end_to_end(inputs, work)
    print(f"compute-only --table-only end to end (read, validate, build, evaluate, write table), {e2e['n']} files: "
          f"{e2e['per_s']:.1f} /s")
    n = os.cpu_count() or 1
    for workers in sorted({1, n}):
        w = compute_with_folders(inputs, work, workers)
        print(f"compute-only with run folders, {workers} worker(s): {w['n']} run folders ({w['files']} files) in "
              f"{w['wall']:.1f} s = {w['folders_per_s']:.2f} folders/s, {w['files_per_s']:.1f} files/s; "
              f"median write per folder on a worker {w['write_median_s']:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=None)
    ap.add_argument("--compute-only", action="store_true", help="only the compute-only figures (4 and 5)")
    args = ap.parse_args()
    work = Path(args.out or tempfile.mkdtemp(prefix="pcf-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    from methodology.brightway import engine
    from methodology.execution.synthetic import generate
    from methodology.schema import catalogue
    from methodology.schema.factors import load_factor_set

    for entry in catalogue.entries("factor_set"):
        engine.setup_project(load_factor_set(entry.path), log=lambda *a: None)
    print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; work folder {work}")
    inputs = work / "generated"
    generate(sorted((ROOT / "parameters" / "steel").glob("*.yaml")), args.enterprises, inputs)
    if args.compute_only:
        print_compute_only(inputs, work)
        return
    f = floor(args.repeat, work)
    print(f"floor: bare papermill run of an empty notebook, median of {args.repeat}: {f:.2f} s")
    warm, rss = per_enterprise(args.repeat, work, warm=True)
    print(f"enterprise notebook, warm kernel (batch default), median of {args.repeat}: {warm:.2f} s "
          f"= {warm / f:.2f} x floor; kernel peak RSS {max(rss):.0f} MB")
    cold, _ = per_enterprise(args.repeat, work, warm=False)
    print(f"enterprise notebook, cold kernel, median of {args.repeat}: {cold:.2f} s = {cold / f:.2f} x floor")
    n = os.cpu_count() or 1
    for warm_kernels in (True, False):
        kind = "warm kernels (default)" if warm_kernels else "cold kernels (--cold-kernels)"
        one = throughput(args.enterprises, 1, inputs, work, warm_kernels)
        print(f"batch, {kind}, 1 worker: {one['ok']} enterprises in {one['wall']:.1f} s = {one['per_s']:.2f} /s")
        alln = throughput(args.enterprises, n, inputs, work, warm_kernels)
        print(f"batch, {kind}, {n} workers: {alln['ok']} enterprises in {alln['wall']:.1f} s = "
              f"{alln['per_s']:.2f} /s ({alln['per_s'] / one['per_s']:.2f} x 1 worker)")
        if warm_kernels:
            kept = alln
    alln = kept
    print(f"peak memory per worker (RSS; a forked kernel shares pages with its template): worker process "
          f"{alln['worker_rss_max']:.0f} MB + kernel template {alln['template_rss_max']:.0f} MB + its kernel "
          f"{alln['kernel_rss_max']:.0f} MB (+ one spare warm kernel)")
    print_compute_only(inputs, work)


if __name__ == "__main__":
    main()
