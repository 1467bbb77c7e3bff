"""Reading YAML files and turning schema violations into file/field/found/expected problems."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from methodology.errors import InputFileError, Problem

_EXPECTED = {
    "extra_forbidden": "no such key (check the spelling against the schema)",
    "missing": "this field (it is required)",
    "greater_than_equal": "a value >= {ge}",
    "greater_than": "a value > {gt}",
    "less_than_equal": "a value <= {le}",
    "enum": "one of {expected}",
    "literal_error": "one of {expected}",
    "finite_number": "a finite number (not NaN or infinity)",
}


# libyaml's parser when PyYAML was built with it (the wheels are): about 7x faster than the pure-Python
# one on the factor set and the rule (measured), with the same results and error positions (tested)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with the C parser when available."""
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 - a safe loader


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class ContentCache:
    """Validated objects keyed by (path as given, sha256 of the file's bytes, extra key).

    Rules and factor sets are read by every notebook and every batch; parsing and validating them again
    for the same bytes gives the same frozen object (which records the path as given, hence the key). An
    edited file has a new sha256 and is read again. Only successful loads are kept, so an invalid file
    reports its problems every time.
    """

    def __init__(self, size: int = 16):
        self.size, self._items = size, {}

    def key(self, path: str | Path, extra: str = "") -> tuple | None:
        try:
            return (str(path), hashlib.sha256(Path(path).read_bytes()).hexdigest(), extra)
        except OSError:
            return None

    def get(self, key):
        return self._items.get(key) if key is not None else None

    def put(self, key, value) -> None:
        if key is None:
            return
        if len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = value


def read_yaml(path: str | Path, error: type[InputFileError]) -> dict[str, Any]:
    """Parse a YAML mapping; a syntax error names the file, line and column."""
    path = Path(path)
    if not path.is_file():
        raise error(path, [Problem(str(path), "(file)", "no such file", "an existing YAML file")])
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise error(path, [Problem(str(path), f"byte {exc.start}", f"bytes that are not UTF-8 ({exc.reason})",
                                   "a UTF-8 text file (save the file as UTF-8)")]) from None
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
    from methodology.schema.common import PATTERN_NAMES

    ctx = err.get("ctx") or {}
    if err["type"] == "string_pattern_mismatch":
        return PATTERN_NAMES.get(ctx.get("pattern"), f"text matching {ctx.get('pattern')}")
    template = _EXPECTED.get(err["type"])
    if template:
        try:
            return template.format(**ctx)
        except KeyError:
            return template
    msg = err["msg"]
    # pydantic prefixes custom ValueError messages with "Value error, "
    return msg.removeprefix("Value error, ")


# names pydantic puts in an error's location for the member of a union (``float | str``) that was tried
_UNION_MEMBERS = {"float", "str", "int", "bool"}


def problems_from(exc: ValidationError, file: str | Path) -> list[Problem]:
    """One problem per field: wrappers and union members are left out of the field path, and of the errors a
    union gives for one value only the first (its first member's, e.g. the number's) is kept."""
    problems: dict[str, Problem] = {}
    for err in exc.errors():
        loc = tuple(p for p in err["loc"]
                    if not (isinstance(p, str) and (p.startswith("function-") or p in _UNION_MEMBERS)))
        where = field_path(loc)
        problems.setdefault(where, Problem(str(file), where, _found(err), _expected(err)))
    return list(problems.values())


def parse_model(model: type[BaseModel], data: dict, file: str | Path, error, context=None):
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise error(file, problems_from(exc, file)) from None
