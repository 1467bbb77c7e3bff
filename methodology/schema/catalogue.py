"""The catalogue: rules, factor sets and characterisation methods found by id and version under ``standards/``.

No industry is a default anywhere: a parameter file names its rule set (``rule_set: {id, version}``) and a rule
names the factor set it is written for (``rule_set.factor_set``); the characterisation method is found by its id
(``schema.methods.DEFAULT_METHOD``, the latest IPCC GWP100 ISO 14067 asks for).
Adding an industry means adding a folder ``standards/<industry>/`` with its rule file(s)
and decision records; nothing here changes. A name that is not in the catalogue is refused with a message
that lists what exists.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from methodology.errors import InputFileError, MethodologyError, ParameterFileError, Problem
from methodology.schema.loading import read_yaml

STANDARDS = Path(__file__).resolve().parents[2] / "standards"

# header key of each kind of standards file
KINDS = {"rule_set": "rule", "factor_set": "factor_set", "method": "method"}


class CatalogueError(MethodologyError):
    """A rule set, factor set or method asked for by id and version is not in the catalogue."""


@dataclass(frozen=True)
class Entry:
    kind: str  # rule | factor_set | method
    id: str
    version: str
    path: Path
    industry: str | None = None
    title: str | None = None

    def label(self) -> str:
        return f"{self.id} {self.version}"


def _version_key(version: str) -> tuple:
    core, _, pre = version.partition("-")
    nums = tuple(int(x) if x.isdigit() else 0 for x in core.split("."))
    return (*nums, pre == "", pre)  # a release sorts after its pre-releases


@functools.lru_cache(maxsize=8)
def _scan(standards: Path, stamp: tuple) -> tuple[Entry, ...]:
    out = []
    for path in sorted(standards.glob("*/*.yaml")):
        try:
            head = read_yaml(path, InputFileError)
        except InputFileError:  # an unreadable file is reported when it is asked for by path
            continue
        for key, kind in KINDS.items():
            h = head.get(key)
            if isinstance(h, dict) and "id" in h and "version" in h:
                out.append(Entry(kind, str(h["id"]), str(h["version"]), path, h.get("industry"), h.get("title")))
    return tuple(out)


def _stamp(p: Path) -> tuple:
    try:
        st = p.stat()
    except OSError:  # a dangling link: left out by the scan, reported when asked for by path
        return (str(p), None, None)
    return (str(p), st.st_mtime_ns, st.st_size)


def entries(kind: str | None = None, standards: str | Path = STANDARDS) -> tuple[Entry, ...]:
    """Every rule, factor set and method under ``standards/<folder>/*.yaml`` (re-read when a file changes)."""
    folder = Path(standards).resolve()
    files = sorted(folder.glob("*/*.yaml"))
    stamp = tuple(_stamp(p) for p in files)
    found = _scan(folder, stamp)
    return tuple(e for e in found if kind is None or e.kind == kind)


def _listing(found: tuple[Entry, ...]) -> str:
    return ", ".join(e.label() for e in found) or "none"


def find(kind: str, id: str, version: str | None = None, standards: str | Path = STANDARDS) -> Entry:
    """The entry of that kind, id and version (the highest version when ``version`` is None)."""
    found = entries(kind, standards)
    same = [e for e in found if e.id == id and (version is None or e.version == str(version))]
    if not same:
        what = kind.replace("_", " ")
        raise CatalogueError(f"no {what} '{id}'{' version ' + str(version) if version else ''} under "
                             f"{Path(standards)}; the catalogue has: {_listing(found)}")
    return max(same, key=lambda e: _version_key(e.version))


def rule_path(id: str, version: str, standards: str | Path = STANDARDS) -> Path:
    return find("rule", id, version, standards).path


def factor_set_path(id: str, version: str | None = None, standards: str | Path = STANDARDS) -> Path:
    return find("factor_set", id, version, standards).path


def method_path(id: str, version: str | None = None, standards: str | Path = STANDARDS) -> Path:
    return find("method", id, version, standards).path


def rule_for_parameter_file(parameter_file: str | Path, standards: str | Path = STANDARDS) -> Path:
    """The rule file a parameter file names in ``rule_set: {id, version}``.

    Raises ``ParameterFileError`` naming the file and the field when the file cannot be read, has no
    ``rule_set`` or names a rule set that is not in the catalogue (listing the ones that are).
    """
    file = str(parameter_file)
    raw = read_yaml(parameter_file, ParameterFileError)
    rs = raw.get("rule_set")
    if not isinstance(rs, dict) or not isinstance(rs.get("id"), str) or rs.get("version") is None:
        raise ParameterFileError(file, [Problem(file, "rule_set", repr(rs) if rs is not None else "nothing",
                                                "{id: <rule set id>, version: <x.y.z>} naming a rule in standards/")])
    return rule_named_by(file, rs["id"], str(rs["version"]), standards)


def rule_named_by(file: str | Path, rule_set_id: str, version: str, standards: str | Path = STANDARDS) -> Path:
    """The catalogued rule file of a rule set a parameter file names; ``ParameterFileError`` (field ``rule_set``)
    listing the catalogued rule sets when there is none."""
    try:
        return rule_path(rule_set_id, version, standards)
    except CatalogueError:
        rules = entries("rule", standards)
        raise ParameterFileError(str(file), [Problem(
            str(file), "rule_set", f"{rule_set_id} {version} (not in the catalogue)",
            f"one of the rule sets under standards/: {_listing(rules)}")]) from None
