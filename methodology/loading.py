"""Reading YAML files and turning schema violations into file/field/found/expected problems."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputFileError, Problem

_EXPECTED = {
    "extra_forbidden": "no such key (check the spelling against the schema)",
    "missing": "this field (it is required)",
    "string_pattern_mismatch": "a kebab-case identifier",
    "greater_than_equal": "a value >= {ge}",
    "greater_than": "a value > {gt}",
    "less_than_equal": "a value <= {le}",
    "enum": "one of {expected}",
    "literal_error": "one of {expected}",
}


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_yaml(path: str | Path, error: type[InputFileError]) -> dict[str, Any]:
    """Parse a YAML mapping; a syntax error names the file, line and column."""
    path = Path(path)
    if not path.is_file():
        raise error(path, [Problem(str(path), "(file)", "no such file", "an existing YAML file")])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(unknown position)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(path, [Problem(str(path), where, f"invalid YAML ({problem})", "valid YAML")]) from None
    if not isinstance(data, dict):
        raise error(
            path, [Problem(str(path), "(top level)", type(data).__name__, "a mapping of keys")]
        )
    return data


def field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _found(err: dict) -> str:
    if err["type"] == "missing":
        return "nothing"
    value = err.get("input")
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _expected(err: dict) -> str:
    template = _EXPECTED.get(err["type"])
    ctx = err.get("ctx") or {}
    if template:
        try:
            return template.format(**ctx)
        except KeyError:
            return template
    msg = err["msg"]
    # pydantic prefixes custom ValueError messages with "Value error, "
    return msg.removeprefix("Value error, ")


def problems_from(exc: ValidationError, file: str | Path) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        problems.append(Problem(str(file), field_path(loc), _found(err), _expected(err)))
    return problems


def parse_model(model: type[BaseModel], data: dict, file: str | Path, error, context=None):
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise error(file, problems_from(exc, file)) from None
