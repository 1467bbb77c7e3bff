"""Batch runs: every parameter file under a folder, validated first, run in parallel on Dask distributed.

1. ``plan``: find the parameter files, validate all of them (every invalid one is reported with its
   problems and never runs), and skip runs whose inputs and code are unchanged since their last
   successful run (the run key in ``run.json``), unless forced.
2. ``execute``: one task per run on a Dask cluster: a local cluster of worker processes by default or
   an existing scheduler's address. Each worker keeps a single-use, pre-warmed kernel ready
   (``kernels.KernelPool``); each run writes only its own folder and its own private Brightway copy,
   atomically (``runner.execute_run``). A failing run, a timed-out run or a killed worker fails that run
   only. Ctrl-C cancels what is left; a rerun picks up the rest.
3. ``finish``: the results table (CSV and Parquet), the manifest and the summary notebook in
   ``<runs>/batch/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from methodology.core.result import as_json
from methodology.errors import InputFileError, MethodologyError
from methodology.execution.runner import NOTEBOOKS, RunSpec, spec_for
from methodology.execution.runs_folder import BATCH_FOLDERS, check_enterprise_id, clean_leftovers, runs_lock
from methodology.schema.catalogue import rule_named_by
from methodology.schema.workbook import is_workbook
from methodology.study import ROOT, Study

FAILED = ("failed", "timeout", "crashed", "invalid", "cancelled")


@dataclass
class Plan:
    runs_dir: Path
    factor_file: Path | None  # the factor set given on the command line; None: the one each rule names
    todo: list[RunSpec] = field(default_factory=list)
    skipped: list[RunSpec] = field(default_factory=list)
    invalid: list[dict] = field(default_factory=list)
    studies: dict[str, Study] = field(default_factory=dict)  # parameter file -> validated study
    rules: dict[str, dict] = field(default_factory=dict)  # rule path -> provenance
    factor_sets: dict[str, dict] = field(default_factory=dict)  # factor-set path -> provenance

    @property
    def factor_set(self) -> dict:
        """The factor set of the batch when there is one (the manifest's ``factor_set``), else {}."""
        return next(iter(self.factor_sets.values())) if len(self.factor_sets) == 1 else {}


def _input(f: Path, folder: Path) -> bool:
    """A parameter file found under ``folder``: YAML or a data-collection workbook, not hidden below the folder
    given (not above it: ../x), not the lock file Excel keeps beside a workbook it has open (~$name.xlsx)."""
    return ((f.suffix.lower() in (".yaml", ".yml") or is_workbook(f)) and not f.name.startswith("~$")
            and not any(x.startswith(".") for x in f.relative_to(folder).parts))


def find_parameter_files(items) -> list[Path]:
    """Parameter files (YAML, or filled data-collection workbooks: .xlsx) given directly or found under folders
    (hidden files and folders are ignored)."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if _input(f, p))  # a link to a device: the loader says so
        else:
            out.append(p)
    unique: dict[Path, Path] = {}  # the same file once (links resolved), under the path it was given as
    for x in out:
        try:
            key = x.resolve()
        except (OSError, RuntimeError):  # a loop of links: the loader reports the file
            key = Path(os.path.abspath(x))
        unique.setdefault(key, Path(os.path.abspath(x)))
    return list(unique.values())


def code_fingerprint() -> str:
    """sha256 over every module of the package (all subpackages) and the notebooks: a method change reruns all."""
    from methodology import __version__

    h = hashlib.sha256(__version__.encode())
    package = ROOT / "methodology"
    for path in sorted(package.rglob("*.py")) + sorted(NOTEBOOKS.glob("*.ipynb")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def run_key(study: Study, code: str) -> str:
    parts = [study.enterprise.params.sha256, study.rule.sha256, study.factors.sha256, code]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _finished_on_disk(spec: RunSpec) -> dict | None:
    """The run record of a successful run with this run's key already in place, else None."""
    final = Path(spec.out_dir)
    try:
        record = json.loads((final / "run.json").read_text())
    except (OSError, ValueError):
        return None
    if record.get("key") == spec.key and record.get("status") == "ok" and (final / "result.json").is_file():
        return record | {"out_dir": str(final)}
    return None


def described_by(path: Path) -> dict:
    """Best effort, for an invalid file: the enterprise, product, route and industry it names (read from its YAML
    whatever else is wrong with it), the file's name standing in for an enterprise it does not name."""
    from methodology.errors import ParameterFileError
    from methodology.schema import catalogue
    from methodology.schema.loading import parse_yaml, read_input

    if is_workbook(path):
        from methodology.execution.workbooks import described

        raw = described(path)
    else:
        try:
            raw = parse_yaml(read_input(path, ParameterFileError), path, ParameterFileError, [])
        except InputFileError:
            raw = {}

    def text(value) -> str | None:
        return value if isinstance(value, str) and value.strip() else None

    ent = raw.get("enterprise") if isinstance(raw.get("enterprise"), dict) else {}
    rule = raw.get("rule_set") if isinstance(raw.get("rule_set"), dict) else {}
    industry = next((e.industry for e in catalogue.entries("rule") if e.id == rule.get("id")), None)
    return {"enterprise": text(ent.get("id")) or Path(path).stem, "enterprise_name": text(ent.get("name")),
            "product": text(raw.get("product")), "route": text(raw.get("route")), "industry": industry}


def _study(path: Path, rule_file, factor_file, standards: dict[Path, tuple], rule_paths: dict) -> tuple[Study, Path]:
    """One file's validated study and its rule file; rules and factor sets are read once into ``standards`` (rule
    path -> (rule, factor set)), the rule files each (rule set id, version) names into ``rule_paths``. A workbook
    is read and checked by ``Study.prepare`` (``execution.workbooks``: every problem with its cell)."""
    from methodology.schema.parameters import read_parameter_file
    from methodology.study import load_standards

    if is_workbook(path):
        study = Study.prepare(path, rule_file, factor_file)
        rpath = Path(study.rule.path).resolve()
    else:
        pf = read_parameter_file(path)  # read once: it names its rule set, then is checked against it
        named = (pf.rule_set.id, pf.rule_set.version)
        if rule_file is None and named not in rule_paths:
            rule_paths[named] = rule_named_by(path, *named).resolve()
        rpath = Path(rule_file).resolve() if rule_file else rule_paths[named]
    if rpath not in standards:
        standards[rpath] = load_standards(rpath, factor_file)
    if is_workbook(path):
        return study, rpath
    return Study.check(pf, *standards[rpath], path), rpath


def plan(items, runs_dir, *, factor_file=None, rule_file=None, force=False, out_root=None, log=print) -> Plan:
    """Validate every file first; return what to run, what is unchanged and what is invalid.

    Run folders go to ``<out_root>/<enterprise>/<product>/`` (default: the runs folder; compute-only batches:
    ``<runs>/compute-only``, so that they never take a notebook run's folder).

    Each file is checked against the rule set it names (found in the catalogue, or ``rule_file``) and that
    rule against its factor set (the one it names, or ``factor_file``). Rules and factor sets are read once.
    """
    from methodology.schema.parameters import IncompleteParameterFile
    from methodology.study import all_problems

    p = Plan(Path(runs_dir).resolve(), Path(factor_file).resolve() if factor_file else None)
    code = code_fingerprint()
    standards: dict[Path, tuple] = {}
    rule_paths: dict[tuple[str, str], Path] = {}  # (rule set id, version) -> catalogued rule file
    seen: dict[tuple[str, str], list[Path]] = {}  # (enterprise, product) -> the valid files that name them
    for path in find_parameter_files(items):
        try:
            study, rpath = _study(path, rule_file, factor_file, standards, rule_paths)
            rule, factors = standards[rpath]
            check_enterprise_id(study.enterprise.params.enterprise.id, path)
        except InputFileError as exc:
            if isinstance(exc, IncompleteParameterFile):  # its rule problems too, in the same pass
                exc = all_problems(exc, path, rule_file, factor_file)
            p.invalid.append({"parameter_file": str(path), **described_by(path), "status": "invalid",
                              "error": f"{len(exc.problems)} problem(s)" + (
                                  f" in {exc.file}" if exc.file != str(path) else ""),
                              "problems": [f"{x.field}: found {x.found}; expected {x.expected}"
                                           for x in exc.problems]})
            continue
        except (OSError, MethodologyError) as exc:
            p.invalid.append({"parameter_file": str(path), **described_by(path), "status": "invalid",
                              "error": str(exc), "problems": []})
            continue
        ed = study.enterprise
        seen.setdefault((ed.params.enterprise.id, ed.params.product), []).append(path)
        spec = spec_for(study, path, rpath, factors.path, out_root or p.runs_dir, run_key(study, code))
        p.studies[str(path)] = study
        p.rules[str(rpath)] = {"id": rule.id, "version": rule.version, "sha256": rule.sha256, "path": str(rpath)}
        p.factor_sets[str(Path(factors.path).resolve())] = {"id": factors.id, "version": factors.version,
                                                           "sha256": factors.sha256,
                                                           "path": str(Path(factors.path).resolve())}
        (p.todo if force or _finished_on_disk(spec) is None else p.skipped).append(spec)
    _refuse_duplicates(p, seen)
    return p


def _refuse_duplicates(p: Plan, seen: dict[tuple[str, str], list[Path]]) -> None:
    """Files naming the same enterprise and product (two YAML files, or a workbook and the YAML file ``pcf import``
    wrote from it) would take one run folder: none of them runs, each is invalid naming all of them, since which
    one is meant (the enterprise's workbook or the analyst's reviewed YAML file) is the analyst's to say."""
    for (ent, prod), paths in seen.items():
        if len(paths) < 2:
            continue
        gone = {str(Path(x).resolve()) for x in paths}
        p.todo = [s for s in p.todo if s.parameter_file not in gone]
        p.skipped = [s for s in p.skipped if s.parameter_file not in gone]
        listing = ", ".join(str(x) for x in paths)
        for path in paths:
            p.studies.pop(str(path), None)
            p.invalid.append({"parameter_file": str(path), **described_by(path), "status": "invalid", "problems": [],
                              "error": f"enterprise '{ent}' and product '{prod}' are in {len(paths)} files "
                                       f"({listing}): each enterprise and product needs one file; keep one of them"})


# --- on the workers ---------------------------------------------------------------------------------

_POOL = None
_CLOSING = threading.Event()  # set when the worker closes (the batch ended or was cancelled)


def _worker_pool(warm: bool):
    global _POOL
    if _POOL is None:
        from methodology.execution.kernels import KernelPool

        _CLOSING.clear()
        _POOL = KernelPool(NOTEBOOKS, warm=warm)
    return _POOL


def close_worker_pool() -> None:
    global _POOL
    _CLOSING.set()  # first: a run whose kernel dies now is abandoned, not failed
    if _POOL is not None:
        _POOL.close()
        _POOL = None


def run_task(spec: RunSpec, timeout: float, warm: bool) -> dict:
    """One run on a worker: a fresh kernel from the worker's pool, papermill, atomic outputs."""
    from methodology.execution.kernels import pid_peak_rss_mb
    from methodology.execution.runner import execute_run, worker_name

    pool = _worker_pool(warm)
    outcome = execute_run(spec, km=pool.take(), timeout=timeout, worker=worker_name(), abandon=_CLOSING)
    template = pid_peak_rss_mb(pool.server.proc.pid) if pool.server is not None else None
    return outcome.record | {"out_dir": str(outcome.out_dir), "worker_peak_rss_mb": _own_peak_rss_mb(),
                             "template_peak_rss_mb": template}


def _own_peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _PoolPlugin:
    """Dask worker plugin: shut the worker's kernels down when the worker closes.

    On the batch's own local cluster the worker processes also ignore SIGINT: Ctrl-C in a terminal reaches
    the whole process group, and the batch process, not each worker, decides what to cancel. (Kernels and
    kernel templates run in their own sessions and never see it.) When the batch is cancelled, closing the
    worker stops the kernel of the run in flight; that run then leaves nothing behind (``execute_run``'s
    ``abandon``) and the batch records it as cancelled.
    """

    name = "pcf-kernel-pool"
    ignore_sigint = False

    def setup(self, worker):  # noqa: D401 - Dask plugin API
        if self.ignore_sigint and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    def teardown(self, worker):
        close_worker_pool()


# --- the client side --------------------------------------------------------------------------------

@dataclass
class Settings:
    workers: int = 0  # 0: one per core
    scheduler: str | None = None  # address of an existing Dask scheduler
    timeout: float = 600.0
    force: bool = False
    warm: bool = True
    progress: bool = True
    summary: bool = True

    def __post_init__(self):
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 0:
            raise MethodologyError(f"workers: found {self.workers!r}; expected an integer >= 1 (0: one per core)")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float) \
                or not math.isfinite(self.timeout) or not 0 < self.timeout <= MAX_TIMEOUT:
            raise MethodologyError(f"timeout: found {self.timeout!r}; expected a number of seconds > 0 and "
                                   f"<= {MAX_TIMEOUT:g}")


MAX_TIMEOUT = 7 * 24 * 3600.0  # seconds: a week; beyond that, timers overflow
SCHEDULER_TIMEOUT = 10.0  # seconds to connect to a Dask scheduler given by address


def _cluster(settings: Settings):
    import dask
    from distributed import Client, LocalCluster

    if settings.scheduler:
        try:
            return Client(settings.scheduler, timeout=SCHEDULER_TIMEOUT), None
        except (OSError, ValueError, TypeError) as exc:
            raise MethodologyError(f"--scheduler: found {settings.scheduler} (no Dask scheduler answered within "
                                   f"{SCHEDULER_TIMEOUT:g} s: {type(exc).__name__}: {exc}); expected the address "
                                   f"of a running scheduler, e.g. tcp://host:8786") from None
    # a worker that dies fails its run at once instead of being retried on the next worker, and holds one
    # run at a time (the rest wait on the scheduler), so that only that run fails
    dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0})
    n = settings.workers or os.cpu_count() or 1
    # workers log at CRITICAL only: a run's failure is in its record, and the comm errors a worker logs when the
    # cluster is closed under it (Ctrl-C; a heartbeat on a loaded machine) are noise with a traceback
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=50, memory_limit=0)
    return Client(cluster), cluster


def execute(p: Plan, settings: Settings, task=None) -> tuple[list[dict], bool]:
    """Run the plan's runs on Dask: one record per run, and whether Ctrl-C interrupted the batch.

    Never raises for a failed run. On Ctrl-C the remaining runs are cancelled and recorded as such. ``task``: a
    function of a run's spec giving the function and arguments to submit (default: the run's notebook,
    ``run_task``); it returns the run's record.
    """
    task = task or (lambda spec: (run_task, (spec, settings.timeout, settings.warm)))
    if not p.todo:
        return [], False
    stop, restore = _on_ctrl_c()
    try:
        client, cluster = _cluster(settings)
    except BaseException:
        restore()
        raise
    records: dict[str, dict] = {}
    futures: dict = {}
    try:
        _register_plugin(client, ignore_sigint=cluster is not None)
        _drain(client, p.todo, settings, stop, futures, records, task)
    except KeyboardInterrupt:  # a second Ctrl-C, or no handler could be installed
        stop.set()
    finally:
        if stop.is_set():
            print("\ninterrupted: cancelling the remaining runs (finished runs are kept)", file=sys.stderr)
            if cluster is None:  # another cluster's workers: let the runs in flight end, so the manifest is true
                _wait_in_flight(futures, records)
            client.cancel([f for f, s in futures.items() if s.out_dir not in records])
        client.close()
        if cluster is not None:
            cluster.close()
        restore()
    for spec in p.todo:
        if spec.out_dir not in records:  # interrupted: a run may have finished before its result arrived
            records[spec.out_dir] = _finished_on_disk(spec) or _base(spec) | {"status": "cancelled",
                                                                               "error": "batch interrupted"}
        _clean_tmp(Path(spec.out_dir))
    return [records[s.out_dir] for s in p.todo], stop.is_set()


def _drain(client, todo: list[RunSpec], settings: Settings, stop, futures: dict, records: dict, task) -> None:
    """Submit the runs, at most as many in flight as the cluster has threads, and collect their records.

    Each worker holds one run at a time, so a worker that dies takes only that run with it, and Ctrl-C
    has little to cancel. Returns when all are done or ``stop`` is set.
    """
    from distributed import as_completed

    slots = max(sum(client.nthreads().values()), 1)
    queue = list(reversed(todo))

    def submit():
        spec = queue.pop()
        fn, args = task(spec)
        fut = client.submit(fn, *args, pure=False,
                            key=f"pcf-run-{spec.enterprise}-{spec.product}-{uuid.uuid4().hex[:6]}")
        futures[fut] = spec
        return fut

    running = as_completed([submit() for _ in range(min(slots, len(queue)))])
    bar = _progress(len(todo), settings.progress)
    try:
        while not running.is_empty() and not stop.is_set():
            if not running.has_ready():
                stop.wait(0.1)
                continue
            for fut in running.next_batch(block=False):
                spec = futures[fut]
                records[spec.out_dir] = _record_of(fut, spec)
                bar.update(records[spec.out_dir]["status"])
                if queue and not stop.is_set():
                    running.add(submit())
    finally:
        bar.close()


def _wait_in_flight(futures: dict, records: dict) -> None:
    """Collect the runs already executing on a cluster the batch did not start (its workers go on with them);
    a second Ctrl-C stops waiting (those runs are then recorded as cancelled, and may still land later)."""
    pending = {f: s for f, s in futures.items() if s.out_dir not in records}
    if not pending:
        return
    print(f"waiting for the {len(pending)} run(s) in flight on the cluster (Ctrl-C again to stop waiting)",
          file=sys.stderr)
    try:
        for fut, spec in pending.items():
            records[spec.out_dir] = _record_of(fut, spec)
    except KeyboardInterrupt:
        pass


def _on_ctrl_c():
    """Turn SIGINT into a flag the client loop checks between runs; a second Ctrl-C raises at once.

    A KeyboardInterrupt raised wherever the signal happens to land (inside Dask's callbacks or a finaliser)
    can be swallowed, and the batch would then run on and exit 0. Returns the flag and a function that
    puts the previous handler back.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return stop, lambda: None  # signal handlers belong to the main thread; KeyboardInterrupt still works

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    return stop, lambda: signal.signal(signal.SIGINT, previous)


def _register_plugin(client, *, ignore_sigint: bool) -> None:
    from distributed.diagnostics.plugin import WorkerPlugin

    plugin = type("PcfKernelPoolPlugin", (_PoolPlugin, WorkerPlugin), {})()
    plugin.ignore_sigint = ignore_sigint
    client.register_plugin(plugin)


def _base(spec: RunSpec) -> dict:
    return {**spec.source(), "enterprise": spec.enterprise, "product": spec.product,
            "industry": spec.industry, "key": spec.key, "out_dir": None, "wall_s": None, "peak_rss_mb": None,
            "worker": None}


def _record_of(fut, spec: RunSpec) -> dict:
    try:
        return fut.result()
    except Exception as exc:  # KilledWorker, a worker that could not start a kernel, ...
        _clean_tmp(Path(spec.out_dir))
        return _base(spec) | {"status": "crashed", "error": f"{type(exc).__name__}: {exc}".strip()}


def _clean_tmp(final: Path) -> None:
    """Remove temporary folders a dead worker left beside a run's final folder."""
    if final.parent.is_dir():
        for tmp in final.parent.glob(f".{final.name}.*.tmp"):
            shutil.rmtree(tmp, ignore_errors=True)


class _progress:
    """tqdm bar with done / failed / remaining and tqdm's own estimate of the time left."""

    def __init__(self, total: int, enabled: bool):
        from tqdm import tqdm

        self.failed = 0
        self.bar = tqdm(total=total, disable=not enabled, unit="run", file=sys.stderr, dynamic_ncols=True)

    def update(self, status: str) -> None:
        self.failed += status != "ok"
        self.bar.set_postfix_str(f"failed {self.failed}, remaining {self.bar.total - self.bar.n - 1}")
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


# --- results table, manifest and summary ------------------------------------------------------------

def batch_dir(runs_dir: Path, mode: str = "notebooks") -> Path:
    return Path(runs_dir) / BATCH_FOLDERS[mode]


def finish(p: Plan, records: list[dict], settings: Settings, *, started: float, started_at: str,
           interrupted: bool = False, mode: str = "notebooks", rows: list[dict] | None = None) -> dict:
    """Write results.csv/.parquet and manifest.json (atomically), then the summary notebook."""
    from methodology.core.result import Result
    from methodology.core.results import software_versions
    from methodology.outputs.files import atomic_write_text
    from methodology.outputs.table import result_row, results_frame, write_table

    out = batch_dir(p.runs_dir, mode)
    run_folders = rows is None  # else --table-only: the rows given, no run folders
    runs = list(p.invalid) + [_base(s) | {"status": "skipped", "error": None, "out_dir": s.out_dir}
                              for s in p.skipped] + records
    if rows is None:
        rows = []
        for r in runs:
            if r["status"] in ("ok", "skipped"):
                text = (Path(r["out_dir"]) / "result.json").read_text(encoding="utf-8")
                rows.append(result_row(Result.model_validate_json(text), r.get("industry")))
    write_table(results_frame(rows), out)
    counts = {s: sum(r["status"] == s for r in runs) for s in ("ok", "skipped", *FAILED)}
    manifest = {
        "schema_version": "1",
        "batch_id": uuid.uuid4().hex,
        "started_at": started_at,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - started, 3),
        "interrupted": interrupted,
        "software": software_versions(),
        "code_fingerprint": code_fingerprint(),
        "rule_sets": _kept(list(p.rules.values()), out),
        "factor_set": p.factor_set,
        "factor_sets": _kept(list(p.factor_sets.values()), out),
        "settings": {"workers": settings.workers or os.cpu_count(), "scheduler": settings.scheduler,
                     "timeout_s": settings.timeout, "force": settings.force, "warm_kernels": settings.warm,
                     "mode": mode, "run_folders": run_folders},
        "counts": counts | {"total": len(runs)},
        "runs": runs,
    }
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    if settings.summary and not interrupted:
        manifest["summary_notebook"] = run_summary(out)
    return manifest


def _kept(entries: list[dict], out: Path) -> list[dict]:
    """Copy each rule or factor-set file the batch used into ``<batch>/standards/`` (the batch's own record of its
    standards, decision record 0013) when its bytes are still those the batch read; each entry gains ``copy``: the
    copy's path relative to the batch folder, or why there is none."""
    import hashlib

    from methodology.outputs.files import atomic_write_bytes

    kept = []
    for e in entries:
        src = Path(e["path"])
        try:
            data = src.read_bytes()
        except OSError as exc:
            kept.append(e | {"copy": f"none: {exc.strerror or type(exc).__name__}"})
            continue
        if hashlib.sha256(data).hexdigest() != e["sha256"]:
            kept.append(e | {"copy": "none: the file changed after the batch read it"})
            continue
        rel = Path("standards") / f"{e['id']}-{e['version']}-{e['sha256'][:12]}{src.suffix}"
        atomic_write_bytes(out / rel, data)
        kept.append(e | {"copy": str(rel)})
    return kept


def run_summary(out: Path) -> str | None:
    """papermill runs the summary notebook over the batch folder; returns its path (None if it failed)."""
    import papermill as pm

    from methodology.execution.kernels import KernelPool, shutdown

    tmp = out / f".summary.{uuid.uuid4().hex[:8]}.ipynb"
    pool = KernelPool(NOTEBOOKS, warm=False)  # a kernel on ipc sockets that dies with this process
    km = None
    try:
        km = pool.take()
        pm.execute_notebook(str(NOTEBOOKS / "batch-summary.ipynb"), str(tmp), parameters={"batch_dir": str(out)},
                            cwd=str(NOTEBOOKS), progress_bar=False, km=km)
    except Exception as exc:  # noqa: BLE001 - the table and manifest are written; say what failed
        failed = out / "summary.failed.ipynb"
        if tmp.exists():
            os.replace(tmp, failed)
        print(f"summary notebook failed ({type(exc).__name__}); see {failed}", file=sys.stderr)
        return None
    finally:
        if km is not None:
            shutdown(km)
        pool.close()
    os.replace(tmp, out / "summary.ipynb")
    return str(out / "summary.ipynb")


def compute_only(p: Plan) -> tuple[list[dict], list[dict]]:
    """``--table-only``: all valid enterprises evaluated in one process with one factorisation per factor set,
    the results table and one batch-wide CBAM table only (no run folders)."""
    from methodology.execution.compute_only import MONTE_CARLO_ITERATIONS, compute_rows

    specs = p.todo + p.skipped
    t0 = time.perf_counter()
    results: list[dict] = []
    out = compute_rows([p.studies[s.parameter_file] for s in specs], monte_carlo_iterations=MONTE_CARLO_ITERATIONS,
                       collect=results)
    per = round((time.perf_counter() - t0) / max(len(specs), 1), 6)
    from methodology.outputs import cbam

    cbam.write_batch(results, batch_dir(p.runs_dir, "compute-only"))  # no run folders: one CBAM table
    records = [_base(s) | {"status": "failed" if isinstance(r, Exception) else "ok",
                           "error": str(r) if isinstance(r, Exception) else None, "wall_s": per}
               for s, r in zip(specs, out, strict=True)]
    return records, [r for r in out if not isinstance(r, Exception)]


def compute_and_write(p: Plan, settings: Settings) -> tuple[list[dict], bool]:
    """Compute-only with run folders: the changed enterprises evaluated in this process (one factorisation per
    factor set), then each one's run folder written on the batch's workers (``compute_only.write_run``: the
    files a notebook run writes, without the notebook); unchanged ones are skipped. Returns the records of the
    runs to do and whether Ctrl-C interrupted the batch. The batch-wide CBAM table covers every run in place."""
    from methodology.execution.compute_only import MONTE_CARLO_ITERATIONS, compute_results, write_run

    t0 = time.perf_counter()
    results = compute_results([p.studies[s.parameter_file] for s in p.todo],
                              monte_carlo_iterations=MONTE_CARLO_ITERATIONS)
    per = round((time.perf_counter() - t0) / max(len(p.todo), 1), 6)
    failed, payload = [], {}
    for s, r in zip(p.todo, results, strict=True):
        if isinstance(r, MethodologyError):
            failed.append(_base(s) | {"status": "failed", "error": str(r), "compute_s": per})
        else:
            payload[s.out_dir] = as_json(r)
    todo, p.todo = p.todo, [s for s in p.todo if s.out_dir in payload]
    try:
        records, interrupted = execute(p, settings, task=lambda s: (
            write_run, (s, payload.pop(s.out_dir), _base(s) | {"compute_s": per})))
    finally:
        p.todo = todo
    done = [Path(r["out_dir"]) / "result.json" for r in records if r["status"] == "ok"]
    done += [Path(s.out_dir) / "result.json" for s in p.skipped]
    from methodology.outputs import cbam

    cbam.write_batch([json.loads(f.read_text(encoding="utf-8")) for f in done], batch_dir(p.runs_dir, "compute-only"))
    return failed + records, interrupted


def run_batch(items, runs_dir, *, settings: Settings, factor_file=None, rule_file=None,
              compute: bool = False, table_only: bool = False, log=print) -> tuple[dict, int]:
    """The whole batch; returns the manifest and the exit status (0 all good, 1 some failed, 130 Ctrl-C).

    ``compute``: no notebooks (``compute_and_write``: run folders in ``<runs>/compute-only/``); with
    ``table_only`` only the results table and the batch's CBAM table, every enterprise computed again.

    Holds the runs folder's lock throughout (``RunsFolderBusy`` at once when another process has it) and first
    removes what killed runs and batches left behind.
    """
    with runs_lock(runs_dir):
        for leftover in clean_leftovers(runs_dir):
            log(f"removed {leftover} (left by a run or batch that was killed)")
        return _run_batch(items, runs_dir, settings=settings, factor_file=factor_file, rule_file=rule_file,
                          compute=compute, table_only=table_only, log=log)


def _run_batch(items, runs_dir, *, settings: Settings, factor_file, rule_file, compute: bool, table_only: bool,
               log) -> tuple[dict, int]:
    started, started_at = time.perf_counter(), dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    p = plan(items, runs_dir, factor_file=factor_file, rule_file=rule_file, force=settings.force or table_only,
             out_root=batch_dir(Path(runs_dir).resolve(), "compute-only") if compute else None)
    for bad in p.invalid:
        log(f"INVALID {bad['parameter_file']}: {bad['error']}")
        for prob in bad["problems"][:InputFileError.SHOWN]:
            log(f"  - {prob}")
        if len(bad["problems"]) > InputFileError.SHOWN:
            log(f"  ... and {len(bad['problems']) - InputFileError.SHOWN} more problem(s) not shown")
    log(f"{len(p.todo) + len(p.skipped) + len(p.invalid)} parameter files: {len(p.invalid)} invalid, "
        f"{len(p.skipped)} unchanged since their last run (skipped), {len(p.todo)} to run")
    if compute and table_only:
        records, rows = compute_only(p)
        p.skipped = []
        manifest = finish(p, records, settings, started=started, started_at=started_at, mode="compute-only",
                          rows=rows)
        for r in records:
            if r["status"] != "ok":
                log(f"{r['status'].upper():8}{r['parameter_file']}: {r['error']}")
        return manifest, 1 if p.invalid or any(r["status"] != "ok" for r in records) else 0
    records, interrupted = compute_and_write(p, settings) if compute else execute(p, settings)
    for r in records:
        if r["status"] != "ok":
            log(f"{r['status'].upper():8}{r['parameter_file']}: {r['error']}")
    manifest = finish(p, records, settings, started=started, started_at=started_at, interrupted=interrupted,
                      mode="compute-only" if compute else "notebooks")
    if interrupted:
        return manifest, 130
    return manifest, 0 if all(r["status"] in ("ok", "skipped") for r in manifest["runs"]) else 1
