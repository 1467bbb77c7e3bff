"""``pcf import``: a filled data-collection workbook (``schema.workbook``) turned into a parameter file.

The workbook is read into a parameter file's mapping, written as YAML text, and that text is checked exactly as
a parameter file is (``Study.prepare``: schema, rule and balances in one pass); every problem is reported with
its cell ('sheet'!D5) and the field. Nothing is written unless the whole workbook is valid.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from methodology.errors import ParameterFileError, Problem
from methodology.outputs.files import atomic_write_text
from methodology.schema import catalogue
from methodology.schema import workbook as W
from methodology.schema.rules import load_rule
from methodology.study import Study

MAX_BYTES = 8 * 1024 * 1024  # as for YAML files (schema.loading): a workbook of a few hundred rows is 30-60 kB


def _open(path: Path):
    from openpyxl import load_workbook

    file = str(path)

    def refuse(found: str, expected: str) -> ParameterFileError:
        return ParameterFileError(file, [Problem(file, "(file)", found, expected)])

    if not path.is_file():
        raise refuse("no such file" if not path.exists() else "not a regular file", "an .xlsx workbook")
    if path.stat().st_size > MAX_BYTES:
        raise refuse(f"{path.stat().st_size:,} bytes", f"a workbook of at most {MAX_BYTES:,} bytes")
    try:
        return load_workbook(path, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl and zipfile raise many types for a bad file
        raise refuse(f"a file openpyxl cannot read ({type(exc).__name__}: {str(exc)[:120]})",
                     "an .xlsx workbook made by pcf template") from None


def text_of(raw: dict, workbook: Path) -> str:
    """The parameter file's YAML text, with a comment saying where it comes from."""
    head = (f"# Imported by pcf import from {workbook.name} (an Excel data-collection workbook); review it.\n")
    return head + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=120)


def read(workbook: str | Path) -> tuple[W.Read, str]:
    """The workbook read against its rule and route, and its parameter file's YAML text; ``ParameterFileError``
    naming each structural problem's cell (validation is left to ``load``)."""
    path = Path(workbook)
    wb = _open(path)
    ids, problems = W.meta(wb, str(path))
    if problems:
        raise ParameterFileError(str(path), problems)
    rule = load_rule(catalogue.rule_named_by(path, ids.get("rule_set.id", ""), ids.get("rule_set.version", "")))
    known = [r.id for r in rule.routes]
    if ids.get("route") not in known:
        raise ParameterFileError(str(path), [Problem(str(path), f"'{W.META}'!B4 (route)", repr(ids.get("route")),
                                                     f"a route of {rule.id} {rule.version}: {known}")])
    out = W.Reader(wb, rule, ids, str(path)).read()
    if out.problems:
        raise ParameterFileError(str(path), out.problems)
    return out, text_of(out.raw, path)


def _located(read_: W.Read, workbook: Path, exc: ParameterFileError) -> ParameterFileError:
    """The problems of the parameter file with the cell of each field: 'sheet'!D5 (processes.eaf.scrap.value)."""
    def where(fld: str) -> str:
        cell = read_.cell_of(fld)
        return f"{cell} ({fld})" if cell else fld

    return ParameterFileError(str(workbook), [replace(p, file=str(workbook), field=where(p.field))
                                              for p in exc.problems])


def load(workbook: str | Path, out: str | Path | None = None) -> tuple[Study, Path | None]:
    """Import a workbook: its study (validated as a parameter file is) and, when ``out`` is given, the parameter
    file written there (atomically, only when everything is valid)."""
    path = Path(workbook)
    read_, text = read(path)
    label = Path(out) if out else path.with_suffix(".yaml")
    try:
        study = Study.prepare(label, data=text.encode("utf-8"))
    except ParameterFileError as exc:
        raise _located(read_, path, exc) from None
    if out:
        atomic_write_text(Path(out), text)
    return study, Path(out) if out else None
