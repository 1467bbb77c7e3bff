"""``pcf import``: a filled data-collection workbook (``schema.workbook``) turned into a parameter file.

The workbook is read into a parameter file's mapping, written as YAML text, and that text is checked exactly as
a parameter file is (``Study.prepare``: schema, rule and balances in one pass); every problem is reported with
its cell ('sheet'!D5) and the field. One pass: the workbook's structural problems (merged cells, text in a number
cell, a row or sheet missing) come with the validation problems of everything else that could be read, the
fields they concern left out and not reported twice; only a workbook whose rule and route cannot be known (its
hidden ``_ids`` sheet gone or altered) is refused before that. Nothing is written unless the whole workbook is
valid.

A workbook is also a parameter file in its own right: ``Study.prepare`` (so ``pcf validate``, ``pcf run``, the
notebooks and ``pcf batch``) hands a ``.xlsx`` path to ``prepare`` here, whose study records the workbook itself
(its path, the sha256 of its bytes, kind ``workbook``) as the parameter file it comes from.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path

import yaml

from methodology.errors import ParameterFileError, Problem
from methodology.outputs.files import atomic_write_text
from methodology.schema import catalogue
from methodology.schema import workbook as W
from methodology.schema.parameters import IncompleteParameterFile, read_parameter_file, validate
from methodology.schema.rules import load_rule
from methodology.study import Study, all_problems, load_standards

MAX_BYTES = 8 * 1024 * 1024  # as for YAML files (schema.loading): a workbook of a few hundred rows is 30-60 kB
XLSX = W.XLSX


class NotAWorkbook(ParameterFileError):
    """A file that is no workbook at all (missing, too large, not an xlsx): one line, as there is nothing in it to
    list problems of."""

    def __init__(self, file: str, found: str, expected: str):
        super().__init__(file, [Problem(file, "(file)", found, expected)])
        self.args = (f"{file}: found {found}; expected {expected}",)


def _open(path: Path):
    """The workbook and the sha256 of the bytes it was read from (read once: the hash is of what was read)."""
    from openpyxl import load_workbook

    file, expected = str(path), "an .xlsx workbook made by pcf template"
    if not path.is_file():
        raise NotAWorkbook(file, "no such file" if not path.exists() else "not a regular file", expected)
    if path.suffix.lower() not in XLSX:
        raise NotAWorkbook(file, f"a {path.suffix} file" if path.suffix else "a file without an extension", expected)
    if path.stat().st_size > MAX_BYTES:
        raise NotAWorkbook(file, f"{path.stat().st_size:,} bytes", f"a workbook of at most {MAX_BYTES:,} bytes")
    try:
        data = path.read_bytes()
        return load_workbook(io.BytesIO(data), data_only=True), hashlib.sha256(data).hexdigest()
    except Exception as exc:  # noqa: BLE001 - openpyxl and zipfile raise many types for a bad file
        text = " ".join(str(exc).split())[:120]
        raise NotAWorkbook(file, f"a file openpyxl cannot read ({type(exc).__name__}: {text})", expected) from None


def text_of(raw: dict, workbook: Path) -> str:
    """The parameter file's YAML text, with a comment saying where it comes from."""
    head = (f"# Imported by pcf import from {workbook.name} (an Excel data-collection workbook); review it.\n")
    return head + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=120)


def read(workbook: str | Path, rule_file: str | Path | None = None) -> tuple[W.Read, str, str]:
    """The workbook read against its rule (``rule_file``, else the catalogued one it names) and route (its
    structural problems in ``Read.problems``), its parameter file's YAML text and the sha256 of the workbook's
    bytes; ``ParameterFileError`` when the rule or route cannot be known."""
    path = Path(workbook)
    wb, digest = _open(path)
    ids, problems = W.meta(wb, str(path))
    if problems:
        raise ParameterFileError(str(path), problems)
    rule = load_rule(rule_file or catalogue.rule_named_by(path, ids.get("rule_set.id", ""),
                                                          ids.get("rule_set.version", "")))
    known = [r.id for r in rule.routes]
    if ids.get("route") not in known:
        raise ParameterFileError(str(path), [Problem(str(path), f"'{W.META}'!B4 (route)", repr(ids.get("route")),
                                                     f"a route of {rule.id} {rule.version}: {known}")])
    out = W.Reader(wb, rule, ids, str(path)).read()
    return out, text_of(out.raw, path), digest


def _located(read_: W.Read, workbook: Path, problems: list[Problem]) -> list[Problem]:
    """The problems of the parameter file with the cell of each field ('sheet'!D5 (processes.eaf.scrap.value)),
    those at or under a field the workbook's structure already refused left out."""
    def where(fld: str) -> str:
        cell = read_.cell_of(fld)
        return f"{cell} ({fld})" if cell else fld

    return [replace(p, file=str(workbook), field=where(p.field)) for p in problems if not read_.refused_at(p.field)]


def _rest(path: Path, text: str, rule_file=None, factor_file=None) -> list[Problem]:
    """The validation problems of what a workbook with structural problems still says: the schema's and the
    rule's, as for a partial parameter file (the checks that sum amounts across processes, which a value left out
    would upset, are left for when the structure is sound)."""
    try:
        pf = read_parameter_file(path, text.encode("utf-8"))
        rule, factors = load_standards(rule_file or catalogue.rule_named_by(path, pf.rule_set.id,
                                                                            pf.rule_set.version), factor_file)
        validate(pf, rule, factors, partial=True)
    except IncompleteParameterFile as exc:
        return all_problems(exc, path, rule_file, factor_file).problems
    except ParameterFileError as exc:
        return exc.problems
    return []


def prepare(workbook: str | Path, rule_file: str | Path | None = None, factor_file: str | Path | None = None, *,
            assessment_date=None) -> Study:
    """A filled workbook's study, checked exactly as its parameter file would be (``Study.prepare`` on its YAML
    text), every problem with its cell (``ParameterFileError``, file: the workbook). ``rule_file``/``factor_file``
    as for ``Study.prepare``. The study's parameter file is the workbook: its path, the sha256 of its bytes and
    kind ``workbook`` (``ParameterFile.kind``), so that results, run keys and provenance name the workbook."""
    return _prepare(Path(workbook), rule_file, factor_file, assessment_date)[0]


def _prepare(path: Path, rule_file, factor_file, assessment_date) -> tuple[Study, str]:
    """``prepare``'s study and the YAML text of the workbook's parameter file."""
    read_, text, digest = read(path, rule_file)
    if read_.problems:
        rest = _rest(path, text, rule_file, factor_file)
        raise ParameterFileError(str(path), read_.problems + _located(read_, path, rest))
    try:  # the YAML text checked as if it were the workbook's file: the study, its data (and the source of a
        # supplier footprint it gives) name the workbook
        study = Study.prepare(path, rule_file, factor_file, assessment_date=assessment_date,
                              data=text.encode("utf-8"))
    except ParameterFileError as exc:
        raise ParameterFileError(str(path), _located(read_, path, exc.problems)) from None
    pf = study.enterprise.params
    pf._sha256, pf._workbook = digest, True  # the workbook's bytes, not the YAML text's
    return study, text


def described(workbook: str | Path) -> dict:
    """Best effort, for a workbook that is invalid: the parameter file's mapping as far as it can be read ({}
    when its rule or route cannot be known)."""
    try:
        return read(workbook)[0].raw
    except Exception:  # noqa: BLE001 - whatever is wrong, the batch lists the workbook's problems
        return {}


def load(workbook: str | Path, out: str | Path | None = None) -> tuple[Study, Path | None]:
    """Import a workbook: its study (``prepare``) and, when ``out`` is given, the parameter file written there
    (atomically, only when everything is valid). ``ParameterFileError`` lists every problem."""
    study, text = _prepare(Path(workbook), None, None, None)
    if out:
        atomic_write_text(Path(out), text)
    return study, Path(out) if out else None
