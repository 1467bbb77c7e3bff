"""Files the workbench writes: always atomically (a temporary file renamed into place), never half-written."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside ``path`` and rename: never a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_result(result, out_dir: str | Path) -> Path:
    """Write ``result.json`` (a ``core.result.Result``, or its JSON content) atomically into ``out_dir``, and beside
    it the same footprint as a PACT v3 ``ProductFootprint`` and as a PACT v2.3 one, each validated against its
    official schema (``outputs.pact``, ``outputs.pact_v2``; a result a version cannot express gets a
    ``.refused.txt`` saying why instead, e.g. a product with no UN CPC code recorded for v2.3), its label
    (``label.svg``, ``label.png``; ``outputs.label``) and the CFP study report (``report.html``;
    ``outputs.study_report``) with its PDF (``report.pdf``; ``outputs.pdf_report``), and for a CBAM good its
    embedded emissions (``cbam.csv``, ``cbam.xlsx``; ``outputs.cbam``)."""
    from methodology.core.result import as_json
    from methodology.outputs import pact

    path = Path(out_dir) / "result.json"
    data = as_json(result)
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    from methodology.outputs import pact_v2

    for name, export in ((pact.FILE_NAME, pact.validated_v3), (pact_v2.FILE_NAME, pact_v2.validated_v23)):
        target, refused = Path(out_dir) / name, Path(out_dir) / f"{name}.refused.txt"
        try:
            footprint = export(data)
        except pact.PactExportError as exc:
            target.unlink(missing_ok=True)
            atomic_write_text(refused, f"{exc}\n")
        else:
            refused.unlink(missing_ok=True)
            atomic_write_text(target, json.dumps(footprint, indent=2, ensure_ascii=False) + "\n")
    from methodology.outputs import cbam, label, pdf_report, study_report

    label.write(data, out_dir)  # label.svg and label.png: the footprint on a printable label
    report = study_report.html_report(data, _rule_of(data))
    atomic_write_text(Path(out_dir) / "report.html", report)
    atomic_write_bytes(Path(out_dir) / "report.pdf", pdf_report.pdf_bytes(report))  # the same page on A4
    cbam.write(data, out_dir)  # cbam.csv and cbam.xlsx when the product is a CBAM good
    return path


def _rule_of(data: dict):
    """The rule a result was computed under, when its file still holds that content (else None: the report then
    leaves out the boundary diagram rather than draw another rule's)."""
    from methodology.errors import MethodologyError
    from methodology.schema.rules import load_rule

    ref = data["provenance"]["rule_set"]
    try:
        rule = load_rule(ref["path"])
    except (MethodologyError, OSError):
        return None
    return rule if rule.sha256 == ref["sha256"] else None
