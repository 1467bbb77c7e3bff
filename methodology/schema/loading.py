"""Reading input files safely and turning schema violations into file/field/found/expected problems.

Every rule, factor set, method and parameter file is read here, and nothing here raises anything but the
workbench's own ``InputFileError`` subclasses, each naming the file, the place (field, line or byte), what was
found and what was expected:

- only regular files are read (not folders, devices, FIFOs or sockets), at most ``MAX_BYTES``, opened without
  blocking, and read once: the sha256 recorded for a file is that of the bytes parsed;
- the text must be UTF-8 (a UTF-8 byte-order mark is accepted; UTF-16, other encodings and binary data are
  refused with the byte where it goes wrong);
- YAML is read strictly: a key given twice in one mapping is an error (YAML 1.2 forbids it; PyYAML would keep
  the last value silently), dates must be calendar dates, nesting is at most ``MAX_DEPTH`` levels, and the
  document may hold at most ``MAX_NODES`` values counting each use of an alias in full (an alias "bomb" is
  refused before it is expanded); aliases to a node that contains them are refused.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import reprlib
import stat
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.events import AliasEvent, CollectionEndEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent

from methodology.errors import InputFileError, Problem

MAX_BYTES = 8 * 1024 * 1024  # 8 MiB: the shipped factor set is 57 kB, a parameter file a few kB
MAX_DEPTH = 32  # nesting levels of mappings and lists (the shipped files use at most 6)
MAX_NODES = 100_000  # values in one document, each alias counted in full (the factor set has about 2,600)

_EXPECTED = {
    "extra_forbidden": "no such key (check the spelling against the schema)",
    "missing": "this field (it is required)",
    "greater_than_equal": "a value >= {ge}",
    "greater_than": "a value > {gt}",
    "less_than_equal": "a value <= {le}",
    "enum": "one of {expected}",
    "literal_error": "one of {expected}",
    "finite_number": "a finite number (not NaN or infinity)",
    "model_type": "a mapping of keys (key: value)",
    "model_attributes_type": "a mapping of keys (key: value)",
    "dict_type": "a mapping of keys (key: value)",
    "list_type": "a list",
    "tuple_type": "a list",
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD) without a time",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
}


# libyaml's parser when PyYAML was built with it (the wheels are): about 7x faster than the pure-Python
# one on the factor set and the rule (measured), with the same results and error positions (tested)
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BASE_LOADER):
    """The safe loader, noting duplicate keys and refusing impossible dates, with the line and column.

    A key given twice in one mapping is noted in ``duplicates`` (position, what was found) and its later
    occurrence left out, so the rest of the document is still read and checked in the same pass; whoever
    loads decides whether a duplicate is fatal (``parse_yaml``: it is, unless the caller collects them).
    """

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, str]] = []

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            kept = []
            for key_node, value_node in node.value:
                key = (key_node.tag, key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None and key_node.tag != "tag:yaml.org,2002:merge" and key in seen:
                    self.duplicates.append((_at(key_node.start_mark), (
                        f"key '{key_node.value}' given twice in one mapping (first on line {seen[key].line + 1}); "
                        "a repeated key would silently replace the first value")))
                    continue
                if key is not None:
                    seen.setdefault(key, key_node.start_mark)
                kept.append((key_node, value_node))
            node.value = kept
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"'{node.value}' is not a calendar date or time ({exc})", node.start_mark) from None


StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp)
StrictLoader.add_constructor("tag:yaml.org,2002:map", StrictLoader.construct_yaml_map)
YAML_LOADER = StrictLoader


class _Refused(Exception):
    """A document beyond the limits, found while scanning its events (before anything is built)."""

    def __init__(self, where: str, found: str, expected: str):
        super().__init__(found)
        self.where, self.found, self.expected = where, found, expected


def _at(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(unknown position)"


def _alias_size(ev, sizes: dict[str, int], starts: list) -> int:
    if ev.anchor not in sizes:
        inside = any(a == ev.anchor for _, a in starts)
        raise _Refused(_at(ev.start_mark), f"alias *{ev.anchor} " + (
            "inside the node it names" if inside else "to no anchor defined before it"),
            "aliases only to complete nodes anchored (&name) earlier in the file")
    return sizes[ev.anchor]


def _check_shape(text: str) -> None:
    """Depth, size with aliases expanded, and self-containing aliases, from the parser's event stream.

    The event stream is flat (libyaml keeps its own stack), so this never recurses; the C composer that
    builds the nodes afterwards does recurse, and crashes the interpreter on very deep nesting.
    """
    total = 0  # values so far, each alias counted as the size of the node it names
    starts: list[tuple[int, str | None]] = []  # (total at its start, anchor) of each open collection
    sizes: dict[str, int] = {}
    for ev in yaml.parse(text, Loader=_BASE_LOADER):
        if isinstance(ev, AliasEvent):
            total += _alias_size(ev, sizes, starts)
        elif isinstance(ev, ScalarEvent):
            total += 1
            if ev.anchor:
                sizes[ev.anchor] = 1
        elif isinstance(ev, SequenceStartEvent | MappingStartEvent):
            if len(starts) >= MAX_DEPTH:
                raise _Refused(_at(ev.start_mark), f"more than {MAX_DEPTH} levels of nesting",
                               f"at most {MAX_DEPTH} nested mappings or lists")
            total += 1
            starts.append((total - 1, ev.anchor))
        elif isinstance(ev, CollectionEndEvent):
            begin, anchor = starts.pop()
            if anchor:
                sizes[anchor] = total - begin
        if total > MAX_NODES:
            raise _Refused(_at(ev.start_mark), f"more than {MAX_NODES:,} values (aliases counted in full)",
                           f"a document of at most {MAX_NODES:,} values")


def load_yaml(text: str, duplicates: list | None = None) -> Any:
    """Strict ``yaml.safe_load`` (C parser when available); raises ``yaml.YAMLError`` or ``_Refused``.

    A key given twice in a mapping raises ``yaml.YAMLError`` at the first one, unless ``duplicates`` is a list:
    then each is appended to it as (position, found) and the first value of the key kept."""
    _check_shape(text)
    loader = YAML_LOADER(text)
    try:
        value = loader.get_single_data()
    finally:
        loader.dispose()
    if loader.duplicates and duplicates is None:
        where, found = loader.duplicates[0]
        raise yaml.YAMLError(f"{where}: {found}")
    if duplicates is not None:
        duplicates.extend(loader.duplicates)
    return value


_UTF16_32 = {codecs.BOM_UTF32_LE: "UTF-32", codecs.BOM_UTF32_BE: "UTF-32", codecs.BOM_UTF16_LE: "UTF-16",
             codecs.BOM_UTF16_BE: "UTF-16"}


def _open(path: Path, refuse) -> int:
    try:
        # O_NONBLOCK: opening a FIFO never waits for a writer; fstat then refuses anything not regular
        return os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise refuse("no such file", "an existing YAML file") from None
    except IsADirectoryError:
        raise refuse("a folder", "a YAML file") from None
    except OSError as exc:
        raise refuse(f"a file that cannot be opened ({exc.strerror})", "a readable YAML file") from None


def _read_regular(fd: int, refuse) -> bytes:
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode):
        raise refuse("a folder", "a YAML file")
    if not stat.S_ISREG(st.st_mode):
        raise refuse("a special file (device, FIFO or socket)", "a regular YAML file")
    if st.st_size > MAX_BYTES:
        raise refuse(f"{st.st_size:,} bytes", f"a file of at most {MAX_BYTES:,} bytes")
    chunks, size = [], 0
    while size <= MAX_BYTES:
        chunk = os.read(fd, min(1 << 20, MAX_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_BYTES:  # grew while being read
        raise refuse(f"more than {MAX_BYTES:,} bytes", f"a file of at most {MAX_BYTES:,} bytes")
    return b"".join(chunks)


def read_input(path: str | Path, error: type[InputFileError]) -> bytes:
    """The bytes of a regular file of at most ``MAX_BYTES``; anything else is ``error`` naming the file."""
    path = Path(path)

    def refuse(found: str, expected: str):
        return error(path, [Problem(str(path), "(file)", found, expected)])

    fd = _open(path, refuse)
    try:
        return _read_regular(fd, refuse)
    except OSError as exc:
        raise refuse(f"a file that cannot be read ({exc.strerror})", "a readable YAML file") from None
    finally:
        os.close(fd)


def decode(data: bytes, path: str | Path, error: type[InputFileError]) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped); other encodings and binary data are refused."""
    for bom, name in _UTF16_32.items():
        if data.startswith(bom):
            raise error(path, [Problem(str(path), "(file)", f"{name} text",
                                       "a UTF-8 text file (save the file as UTF-8)")])
    if b"\x00" in data:
        at = data.index(b"\x00")
        raise error(path, [Problem(str(path), f"byte {at}", "binary data (a NUL byte)", "a UTF-8 YAML text file")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(path, [Problem(str(path), f"line {line} (byte {exc.start})",
                                   f"bytes that are not UTF-8 ({exc.reason}: {data[exc.start:exc.start + 4]!r})",
                                   "a UTF-8 text file (save the file as UTF-8)")]) from None


def parse_yaml(data: bytes, path: str | Path, error: type[InputFileError],
               duplicates: list[Problem] | None = None) -> dict[str, Any]:
    """A YAML mapping from a file's bytes; every failure is ``error`` with the line and column.

    Keys given twice are ``error`` with one problem each, unless ``duplicates`` is a list: then their problems
    are appended to it and the mapping (with the first value of each such key) is returned, for the caller to
    check the rest of the file in the same pass."""
    text = decode(data, path, error)
    found: list[tuple[str, str]] = []
    try:
        value = load_yaml(text, found)
    except _Refused as exc:
        raise error(path, [Problem(str(path), exc.where, exc.found, exc.expected)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(path, [Problem(str(path), _at(mark), f"invalid YAML ({problem})", "valid YAML")]) from None
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
        # e.g. an integer of more digits than Python converts; never expected past the checks above
        raise error(path, [Problem(str(path), "(file)", f"a value YAML cannot read ({type(exc).__name__}: "
                                   f"{str(exc)[:160]})", "valid YAML")]) from None
    twice = [Problem(str(path), where, f"invalid YAML ({what})", "valid YAML") for where, what in found]
    if twice and duplicates is None:
        raise error(path, twice)
    if not isinstance(value, dict):
        raise error(path, twice + [Problem(str(path), "(top level)", type(value).__name__, "a mapping of keys")])
    if duplicates is not None:
        duplicates.extend(twice)
    return value


def read_yaml(path: str | Path, error: type[InputFileError]) -> dict[str, Any]:
    """Read and parse a YAML mapping (see the module docstring for what is refused)."""
    return parse_yaml(read_input(path, error), path, error)


class ContentCache:
    """Validated objects keyed by (path as given, sha256 of the file's bytes, extra key).

    Rules and factor sets are read by every notebook and every batch; parsing and validating them again
    for the same bytes gives the same frozen object (which records the path as given, hence the key). An
    edited file has a new sha256 and is read again. Only successful loads are kept, so an invalid file
    reports its problems every time. The file is read once per load: the sha256 is that of the bytes parsed.
    """

    def __init__(self, size: int = 16):
        self.size, self._items = size, {}

    def load(self, path: str | Path, error: type[InputFileError], build, extra: str = ""):
        """The cached object for these bytes, else ``build(raw_mapping, sha256)`` (kept when it succeeds)."""
        data = read_input(path, error)
        sha = hashlib.sha256(data).hexdigest()
        key = (str(path), sha, extra)
        if (hit := self._items.get(key)) is not None:
            return hit
        value = build(parse_yaml(data, path, error), sha)
        if len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = value
        return value


def model_loader(model, error: type[InputFileError], *, check_references: bool = False):
    """``load(path)`` for a file-backed model (``common.FileBacked``): parsed strictly, its path and sha256 recorded,
    the same bytes at the same path giving the same object (``ContentCache``); problems raise ``error``.
    ``check_references``: also the model's ``reference_problems()`` ((field, found, expected) each), all at once."""
    cache = ContentCache()

    def load(path: str | Path):
        def build(raw: dict, sha: str):
            obj = parse_model(model, raw, path, error)
            obj._path, obj._sha256 = str(path), sha
            problems = obj.reference_problems() if check_references else []
            if problems:
                raise error(path, [Problem(str(path), *p) for p in problems])
            return obj

        return cache.load(path, error, build)

    load.cache = cache  # what it holds (warm kernels are checked to start with the shipped files cached)
    return load


def field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxdict, _SHORT.maxlist = 2, 60, 60, 4, 4


def _found(err: dict) -> str:
    if err["type"] == "missing":
        return "nothing"
    return _SHORT.repr(err.get("input"))  # bounded in depth and length, whatever the value


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


def field_loc(err: dict) -> tuple:
    """The location of a pydantic error as the file's field path: without validator wrappers and union members."""
    return tuple(p for p in err["loc"]
                 if not (isinstance(p, str) and (p.startswith("function-") or p in _UNION_MEMBERS)))


def problems_from(exc: ValidationError, file: str | Path) -> list[Problem]:
    """One problem per field: wrappers and union members are left out of the field path, and of the errors a
    union gives for one value only the first (its first member's, e.g. the number's) is kept."""
    problems: dict[str, Problem] = {}
    for err in exc.errors():
        where = field_path(field_loc(err))
        problems.setdefault(where, Problem(str(file), where, _found(err), _expected(err)))
    return list(problems.values())


def parse_model(model: type[BaseModel], data: dict, file: str | Path, error, context=None):
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise error(file, problems_from(exc, file)) from None
