#!/usr/bin/env python3
"""Record the reproducibility records stored in the methodology notebooks (after a deliberate method change):
``notebooks/product.ipynb`` (the generic report) and each industry's own ``notebooks/<industry>.ipynb``.

Runs the notebook with papermill on its reference enterprise (the defaults of its parameters cell) against a
fresh, temporary Brightway folder set up by ``pcf setup``, then writes back into the notebook the outputs of
the cells marked ``# NBVAL_CHECK_OUTPUT``, and nothing else:

- every other cell is stored without outputs or execution count (figures, Brightway's log lines and the
  foreground table are not part of the record; outputs of enterprise runs never go into git);
- stored outputs lose their metadata and images, text is normalised with ``tests/nbval-sanitize.cfg``
  (timestamps, absolute paths), and a checked cell is numbered by its position among the code cells;
- a checked cell that writes to stderr, raises or shows nothing is refused: it would record noise or nothing.

The sources are never changed, so recording twice gives byte-identical notebooks. Usage::

    .venv/bin/python scripts/record_notebook.py                     # rewrites every notebook of NOTEBOOKS
    .venv/bin/python scripts/record_notebook.py --notebook notebooks/cement.ipynb   # one of them
    .venv/bin/python scripts/record_notebook.py --notebook notebooks/cement.ipynb --output /tmp/x.ipynb
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "product.ipynb"
# every notebook that stores a reproducibility record (its parameters cell names its reference enterprise)
NOTEBOOKS = [NOTEBOOK, ROOT / "notebooks" / "cement.ipynb", ROOT / "notebooks" / "aluminium.ipynb",
             ROOT / "notebooks" / "plastics.ipynb", ROOT / "notebooks" / "fertilizer.ipynb",
             ROOT / "notebooks" / "rule-variants.ipynb",
             *(ROOT / "notebooks" / f"validation-{x}.ipynb" for x in
               ("steel", "cement", "aluminium", "plastics", "fertilizer"))]
SANITIZE = ROOT / "tests" / "nbval-sanitize.cfg"
MARK = "NBVAL_CHECK_OUTPUT"


class RecordError(RuntimeError):
    pass


def is_checked(cell) -> bool:
    """A code cell nbval compares under ``--nbval-lax``: a comment line ``# NBVAL_CHECK_OUTPUT``."""
    return cell.cell_type == "code" and any(
        line.strip().lstrip("#").strip() == MARK for line in cell.source.splitlines() if line.strip().startswith("#"))


def sanitizer(cfg: Path = SANITIZE):
    """The regex replacements nbval applies to both sides of a comparison (``--nbval-sanitize-with``),
    read with nbval's own parser and applied in order as nbval does."""
    from nbval.plugin import get_sanitize_patterns

    rules = [(re.compile(regex), replace) for regex, replace in
             get_sanitize_patterns(cfg.read_text(encoding="utf-8"))]

    def sanitize(text: str) -> str:
        for regex, replace in rules:
            text = regex.sub(replace, text)
        return text

    return sanitize


def execute(notebook: Path, workdir: Path) -> nbformat.NotebookNode:
    """papermill runs the notebook on its parameters cell's defaults; Brightway is set up fresh in workdir."""
    bw = workdir / "brightway"
    bw.mkdir()
    os.environ["BRIGHTWAY2_DIR"] = str(bw)  # for `pcf setup` and for the kernel papermill starts
    subprocess.run([sys.executable, "-m", "methodology", "setup"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    import papermill

    return papermill.execute_notebook(str(notebook), str(workdir / "executed.ipynb"),
                                      parameters={"output_dir": str(workdir / "run")},
                                      cwd=str(notebook.parent), progress_bar=False, log_output=False)


def _stored(output, count: int, where: str, sanitize) -> nbformat.NotebookNode:
    kind = output.output_type
    if kind == "stream":
        if output.name != "stdout":
            raise RecordError(f"{where} writes to {output.name}: {output.text[:200]!r}")
        return nbformat.v4.new_output("stream", name="stdout", text=sanitize(output.text))
    if kind in ("display_data", "execute_result"):
        data = {k: sanitize(v) if isinstance(v, str) else v for k, v in output.data.items()
                if not k.startswith("image/")}
        if not data:
            raise RecordError(f"{where} shows only an image; nothing to record")
        extra = {"execution_count": count} if kind == "execute_result" else {}
        return nbformat.v4.new_output(kind, data=data, **extra)
    raise RecordError(f"{where} gives a {kind} output: {output.get('ename', '')} {output.get('evalue', '')}")


def _coalesced(outputs: list) -> list:
    """Consecutive stdout streams as one: the kernel splits a print's text and its newline into separate
    messages or not depending on timing, which would make two recordings of the same cell differ."""
    out = []
    for o in outputs:
        if out and o.output_type == "stream" and out[-1].output_type == "stream":
            out[-1].text += o.text
        else:
            out.append(o)
    return out


def record(source: nbformat.NotebookNode, executed: nbformat.NotebookNode, sanitize) -> nbformat.NotebookNode:
    """The source notebook with the executed outputs of its checked cells, and no other outputs."""
    ran = {c.get("id"): c for c in executed.cells}
    count = 0
    for cell in source.cells:
        if cell.cell_type != "code":
            continue
        count += 1
        if not is_checked(cell):
            cell.outputs, cell.execution_count = [], None
            continue
        where = f"checked code cell {count} (id {cell.id})"
        if cell.id not in ran:
            raise RecordError(f"{where} is missing from the executed notebook")
        outputs = _coalesced([_stored(o, count, where, sanitize) for o in ran[cell.id].outputs])
        if not outputs:
            raise RecordError(f"{where} shows nothing; a checked cell must print or display its figures")
        cell.outputs, cell.execution_count = outputs, count
    return source


def record_one(notebook: Path, out: Path) -> None:
    source = nbformat.read(notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="pcf-record-") as tmp:
        executed = execute(notebook, Path(tmp))
    recorded = record(source, executed, sanitizer())
    nbformat.validate(recorded)
    nbformat.write(recorded, out)
    checked = sum(is_checked(c) for c in recorded.cells)
    print(f"recorded {checked} checked cells of {notebook.name} into {out}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notebook", type=Path, help="the one notebook to run (default: all of "
                    + ", ".join(n.name for n in NOTEBOOKS) + ")")
    ap.add_argument("--output", type=Path, help="where to write the recorded notebook (default: --notebook; "
                                                "needs --notebook)")
    args = ap.parse_args(argv)
    if args.output and not args.notebook:
        ap.error("--output needs --notebook (one notebook)")
    for notebook in [args.notebook.resolve()] if args.notebook else NOTEBOOKS:
        record_one(notebook, args.output or notebook)
    return 0


if __name__ == "__main__":
    sys.exit(main())
