"""Run one enterprise: validate, then papermill executes the industry's notebook into its own folder.

Outputs go to ``<runs>/<enterprise>/<product>/`` (executed notebook, figures, result.json, run.json, and with
``keep_brightway`` the run's Brightway project in ``brightway/``). The
run is executed in a temporary sibling folder and renamed into place only when it succeeded, so a failed,
timed-out or interrupted run never leaves a half-written result; a failed run's executed notebook (with
the failing cell and its error) is kept in ``<product>.failed/``.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import json
import math
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from methodology.errors import MethodologyError
from methodology.execution.runs_folder import check_enterprise_id
from methodology.study import ROOT, Study

NOTEBOOKS = ROOT / "notebooks"
KERNEL = "python3"


@dataclass(frozen=True)
class RunOutcome:
    enterprise: str
    product: str
    out_dir: Path
    ok: bool
    error: str | None = None
    status: str = "ok"  # ok | failed | timeout | cancelled
    record: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs to run one validated enterprise (plain, picklable values)."""

    parameter_file: str
    rule_file: str
    factor_file: str
    industry: str
    enterprise: str
    product: str
    out_dir: str  # final folder <runs>/<enterprise>/<product>
    key: str = ""  # fingerprint of inputs and code; see batch.run_key
    keep_brightway: bool = False  # leave the run's Brightway project in <out_dir>/brightway
    parameter_sha256: str = ""  # of the parameter file's bytes (a workbook's: of the .xlsx), as read when validated
    parameter_kind: str = "parameter file"  # or "workbook" (a filled data-collection workbook)

    def source(self) -> dict:
        """The run record's fields naming the input: its path, sha256 and kind (run.json, the manifest)."""
        return {"parameter_file": self.parameter_file, "parameter_sha256": self.parameter_sha256,
                "parameter_kind": self.parameter_kind}


ENGINE = "pcf-save-at-end"


@functools.cache
def _register_engine() -> None:
    """A papermill engine that writes the executed notebook once at the end, also when the run dies.

    papermill normally saves the output notebook after every cell; with the figures embedded those saves
    cost about 1 s of the worker's CPU per run (measured with cProfile). With
    ``request_save_on_cell_execute=False`` papermill writes it at the end, or on a cell error, but not when
    the kernel dies or the run is stopped: this engine then gives papermill the path back, so its own final
    save keeps the notebook with the cell that was running.
    """
    from papermill.engines import NBClientEngine, papermill_engines

    class SaveAtEndEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, save_on_error=None, **kwargs):
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except BaseException:
                nb_man.output_path = save_on_error  # papermill's notebook_complete() then writes it
                raise

    papermill_engines.register(ENGINE, SaveAtEndEngine)


GENERIC_NOTEBOOK = "product.ipynb"


def notebook_for(industry: str) -> Path:
    """``notebooks/<industry>.ipynb`` when the industry has its own sections, else the generic report."""
    nb = NOTEBOOKS / f"{industry}.ipynb"
    if nb.is_file():
        return nb
    generic = NOTEBOOKS / GENERIC_NOTEBOOK
    if not generic.is_file():
        raise MethodologyError(f"no notebook for industry '{industry}' ({nb}) and no generic {generic}")
    return generic


def spec_for(study: Study, parameter_file, rule_file, factor_file, runs_dir, key: str = "", *,
             keep_brightway: bool = False) -> RunSpec:
    pf = study.enterprise.params
    ent, prod = pf.enterprise.id, pf.product
    return RunSpec(str(Path(parameter_file).resolve()), str(Path(rule_file).resolve()),
                   str(Path(factor_file).resolve()) if factor_file else "", study.rule.rule_set.industry,
                   ent, prod, str(Path(runs_dir).resolve() / ent / prod), key, keep_brightway, pf.sha256, pf.kind)


def run_enterprise(parameter_file: str | Path, runs_dir: str | Path, *, rule_file=None,
                   factor_file=None, kernel: str = KERNEL, timeout: float = 600,
                   keep_brightway: bool = False) -> RunOutcome:
    """Validate (raises on bad input, writing nothing), then execute the notebook with papermill.

    ``keep_brightway``: keep the run's Brightway project (foreground database included) in
    ``<runs>/<enterprise>/<product>/brightway/``, a data directory bw2data and Activity Browser open.
    """
    study = Study.prepare(parameter_file, rule_file, factor_file)  # raises before anything is written
    check_enterprise_id(study.enterprise.params.enterprise.id, parameter_file)
    rule_file = Path(study.rule.path).resolve()
    spec = spec_for(study, parameter_file, rule_file, study.factors.path, runs_dir, keep_brightway=keep_brightway)
    return execute_run(spec, kernel=kernel, timeout=timeout)


def worker_name() -> str:
    """The Dask worker running this task, else this process."""
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def _error_text(exc: BaseException) -> str:
    if hasattr(exc, "ename"):
        detail = f"{exc.ename}: {getattr(exc, 'evalue', '')}"
    else:
        text = str(exc).strip()
        detail = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__} {detail}".strip()


def execute_run(spec: RunSpec, *, km=None, kernel: str = KERNEL, timeout: float = 600,
                worker: str | None = None, abandon: threading.Event | None = None) -> RunOutcome:
    """papermill executes the notebook in a temporary folder, renamed into place on success.

    ``km``: a started, unused kernel manager (see ``kernels.KernelPool``); it is shut down afterwards.
    Without one, a kernel is started here. ``timeout`` bounds the whole run: the kernel is killed when
    it runs out, the run fails as ``timeout`` and its notebook shows the interrupted cell. ``abandon``: set
    when the run's kernel is stopped because the batch was cancelled (its worker is closing); a run that
    then fails leaves nothing behind (no ``.failed`` folder) and is ``cancelled``.
    """
    import papermill as pm

    from methodology.execution import kernels
    from methodology.outputs.files import atomic_write_text

    final = Path(spec.out_dir)
    tmp = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir(parents=True)
    record = {**spec.source(), "enterprise": spec.enterprise, "product": spec.product,
              "industry": spec.industry, "key": spec.key, "worker": worker,
              "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    t0 = time.perf_counter()
    own_pool = None
    if km is None:
        own_pool = kernels.KernelPool(NOTEBOOKS, kernel_name=kernel, warm=False)
        km = own_pool.take()
    timed_out = threading.Event()

    def _expire():
        timed_out.set()
        kernels.shutdown(km)

    timer = threading.Timer(timeout, _expire)
    timer.daemon = True
    timer.start()
    error: BaseException | None = None
    executed = tmp / f"{spec.industry}.ipynb"
    try:
        _register_engine()
        pm.execute_notebook(
            str(notebook_for(spec.industry)), str(executed),
            parameters={"parameter_file": spec.parameter_file, "rule_file": spec.rule_file,
                        "factor_file": spec.factor_file, "output_dir": str(tmp),
                        "keep_brightway": spec.keep_brightway},
            # nbclient takes whole seconds per cell; the timer above enforces the exact limit for the run
            km=km, progress_bar=False, execution_timeout=max(1, math.ceil(timeout)), start_timeout=120,
            engine_name=ENGINE, request_save_on_cell_execute=False, save_on_error=str(executed),
        )
        if not (tmp / "result.json").is_file():
            raise MethodologyError("the notebook ran but wrote no result.json")
    except Exception as exc:  # the notebook keeps the failing cell; the batch goes on
        error = exc
    except BaseException:  # Ctrl-C: leave no half-written result
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        timer.cancel()
        record["peak_rss_mb"] = kernels.peak_rss_mb(km)
        kernels.shutdown(km)
        if own_pool is not None:
            own_pool.close()
    record["wall_s"] = round(time.perf_counter() - t0, 3)
    record["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if error is not None and abandon is not None and abandon.is_set():
        shutil.rmtree(tmp, ignore_errors=True)
        record |= {"status": "cancelled", "error": "batch interrupted"}
        return RunOutcome(spec.enterprise, spec.product, final, False, record["error"], "cancelled", record)
    if error is None:
        record |= {"status": "ok", "error": None}
        atomic_write_text(tmp / "run.json", json.dumps(record, indent=2) + "\n")
        _replace(tmp, final)
        shutil.rmtree(final.parent / f"{final.name}.failed", ignore_errors=True)
        return RunOutcome(spec.enterprise, spec.product, final, True, record=record)
    status = "timeout" if timed_out.is_set() else "failed"
    message = f"run exceeded {timeout:g} s and was stopped" if status == "timeout" else _error_text(error)
    record |= {"status": status, "error": message}
    (tmp / "result.json").unlink(missing_ok=True)
    atomic_write_text(tmp / "run.json", json.dumps(record, indent=2) + "\n")
    failed = final.parent / f"{final.name}.failed"
    _replace(tmp, failed)
    return RunOutcome(spec.enterprise, spec.product, failed, False, message, status, record)


def _replace(src: Path, dst: Path, attempts: int = 100) -> None:
    """Move a finished folder into place, also when other processes move folders to the same place at once.

    ``rename`` of a folder onto a folder that is not empty fails, so: try the rename; if a folder is in the
    way, rename it aside (if another process has not already) and try again. The last folder moved into
    place wins; every folder renamed aside is removed, and ``src`` is never left behind.
    """
    olds = []
    try:
        for _ in range(attempts):
            try:
                src.rename(dst)
                return
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):  # not: a folder is in the way
                    raise
            old = dst.parent / f".{dst.name}.{uuid.uuid4().hex[:8]}.old"
            try:
                dst.rename(old)
                olds.append(old)
            except FileNotFoundError:  # another process moved it away first
                pass
        raise OSError(errno.EBUSY, f"could not move {src.name} into place after {attempts} attempts", str(dst))
    finally:
        for old in olds:
            shutil.rmtree(old, ignore_errors=True)
        if src.exists():
            shutil.rmtree(src, ignore_errors=True)
