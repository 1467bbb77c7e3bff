"""Run one enterprise: validate, then papermill executes the industry's notebook into its own folder.

Outputs go to ``<runs>/<enterprise>/<product>/`` (executed notebook, figures, result.json). The run is
executed in a temporary sibling folder and renamed into place only when it succeeded, so a failed or
interrupted run never leaves a half-written result; a failed run's executed notebook is kept in
``<product>.failed/`` to show the failing cell.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from .errors import MethodologyError
from .study import ROOT, RULES, Study

NOTEBOOKS = ROOT / "notebooks"
KERNEL = "python3"


@dataclass(frozen=True)
class RunOutcome:
    enterprise: str
    product: str
    out_dir: Path
    ok: bool
    error: str | None = None


def notebook_for(industry: str) -> Path:
    nb = NOTEBOOKS / f"{industry}.ipynb"
    if not nb.is_file():
        raise MethodologyError(f"no notebook for industry '{industry}' (expected {nb})")
    return nb


def run_enterprise(parameter_file: str | Path, runs_dir: str | Path, *, rule_file=None,
                   factor_file=None, kernel: str = KERNEL, timeout: int = 600) -> RunOutcome:
    """Validate (raises on bad input, writing nothing), then execute the notebook with papermill."""
    import papermill as pm

    parameter_file = Path(parameter_file).resolve()
    rule_file = Path(rule_file or RULES["steel"]).resolve()
    study = Study.prepare(parameter_file, rule_file, factor_file)  # raises before anything is written
    ent, prod = study.enterprise.params.enterprise.id, study.enterprise.params.product
    final = Path(runs_dir).resolve() / ent / prod
    tmp = final.parent / f".{prod}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir(parents=True)
    nb_out = tmp / f"{study.rule.rule_set.industry}.ipynb"
    try:
        pm.execute_notebook(
            str(notebook_for(study.rule.rule_set.industry)), str(nb_out),
            parameters={"parameter_file": str(parameter_file), "rule_file": str(rule_file),
                        "factor_file": str(Path(factor_file).resolve()) if factor_file else "",
                        "output_dir": str(tmp)},
            kernel_name=kernel, cwd=str(NOTEBOOKS), progress_bar=False, execution_timeout=timeout,
        )
    except BaseException as exc:
        failed = final.parent / f"{prod}.failed"
        shutil.rmtree(failed, ignore_errors=True)
        (tmp / "result.json").unlink(missing_ok=True)
        tmp.rename(failed)
        if not isinstance(exc, Exception):
            raise
        detail = f"{getattr(exc, 'ename', '')}: {getattr(exc, 'evalue', '')}" if hasattr(exc, "ename") \
            else str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return RunOutcome(ent, prod, failed, False, f"{type(exc).__name__} {detail}".strip())
    if not (tmp / "result.json").is_file():
        raise MethodologyError(f"the notebook ran but wrote no result.json into {tmp}")
    old = final.parent / f".{prod}.{uuid.uuid4().hex[:8]}.old"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(final.parent / f"{prod}.failed", ignore_errors=True)
    return RunOutcome(ent, prod, final, True)
