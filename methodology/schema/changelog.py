"""A rule's change log and the lock of released rule versions: an edited rule cannot keep its version silently.

Each rule may carry ``rule_set.changes``, its version history newest first (version, date, what changed and why,
the decision records behind it); the newest entry is the rule's own version. ``standards/rules.lock.yaml``
records the sha256 of every released rule version (``pcf lock``). A catalogued rule whose id and version are
recorded with other content, or are not recorded at all, is refused wherever it is loaded, naming both digests:
a committee edits a rule by giving it a new version and a change-log entry, then records it. Decision record
``docs/decisions/0013-rule-versions-and-lock.md``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from pydantic import Field

from methodology.errors import InputFileError, MethodologyError
from methodology.schema.common import SEMVER, Strict
from methodology.schema.loading import read_yaml

LOCK_NAME = "rules.lock.yaml"
HEADER = """\
# sha256 of each released version of each rule under standards/ (written by `pcf lock`, reviewed like code).
# A rule whose id and version are recorded here with other content is refused: an edited rule gets a new version
# and a rule_set.changes entry, then `pcf lock` records it (decision record docs/decisions/0013).
"""


class RuleChange(Strict):
    version: str = Field(pattern=SEMVER)
    date: dt.date
    summary: str = Field(min_length=1, description="what changed and why, in words")
    decisions: list[str] = Field(default_factory=list, description="paths of the decision records behind it")


def _key(version: str) -> tuple:
    core, _, pre = version.partition("-")
    return (*(int(x) for x in core.split(".")), pre == "", pre)


def changes_problems(version: str, changes: list[RuleChange]) -> list[tuple[str, str, str]]:
    """(field, found, expected): the newest entry is the rule's version, and the entries go down strictly."""
    if not changes:
        return []
    p = []
    if changes[0].version != version:
        p.append(("rule_set.changes[0].version", changes[0].version,
                  f"the rule's version {version} (the newest entry first)"))
    for i in range(1, len(changes)):
        if _key(changes[i].version) >= _key(changes[i - 1].version):
            p.append((f"rule_set.changes[{i}].version", changes[i].version,
                      f"a version below {changes[i - 1].version} (newest first, each once)"))
    return p


def lock_file_for(rule_path: str | Path) -> Path:
    """The lock that governs a rule file: ``rules.lock.yaml`` of the standards folder holding its industry folder."""
    return Path(rule_path).resolve().parent.parent / LOCK_NAME


def read_lock(lock: Path) -> dict[str, dict[str, str]]:
    raw = read_yaml(lock, InputFileError)
    rules = raw.get("rules") if isinstance(raw, dict) else None
    return {str(k): {str(v): str(s) for v, s in (vs or {}).items()} for k, vs in (rules or {}).items()}


def lock_problem(rule_path: str | Path, rule_id: str, version: str, sha256: str) -> tuple[str, str, str] | None:
    """Why a rule file may not be used as the released version it names, or None. Rules outside a standards
    folder with a lock (a committee's working copy, a test's variant) are not governed by it."""
    lock = lock_file_for(rule_path)
    if not lock.is_file():
        return None
    recorded = read_lock(lock).get(rule_id, {}).get(version)
    if recorded is None:
        return ("rule_set.version", f"{version}, not recorded in {lock}",
                "a released version recorded with `pcf lock` (it records the rule's content once)")
    if recorded != sha256:
        return ("rule_set.version", f"{version} with content sha256 {sha256[:16]}..., but {version} was recorded "
                f"with {recorded[:16]}... in {lock.name}",
                "a new version number and a rule_set.changes entry for an edited rule, then `pcf lock`")
    return None


class LockError(MethodologyError):
    """``pcf lock`` would overwrite the recorded content of a released version."""


def updated_lock(standards: Path, rules: list[tuple[str, str, str]], amend: set[tuple[str, str]] = frozenset()
                 ) -> tuple[list[str], str | None]:
    """The lock recording (id, version, sha256) of each catalogued rule: (what is added, the new lock's text or
    None when nothing changes). A recorded version with other content is refused unless named in ``amend`` (a
    draft not yet released, re-recorded on purpose)."""
    lock = standards / LOCK_NAME
    current = read_lock(lock) if lock.is_file() else {}
    added, changed = [], []
    for rid, version, sha in rules:
        old = current.get(rid, {}).get(version)
        if old == sha:
            continue
        if old is not None and (rid, version) not in amend:
            changed.append(f"{rid} {version}")
            continue
        current.setdefault(rid, {})[version] = sha
        added.append(f"{rid} {version}")
    if changed:
        raise LockError(f"{', '.join(changed)}: content differs from what {lock} records; give the edited rule a new "
                        "version and a rule_set.changes entry (or `pcf lock --amend ID VERSION` for a draft)")
    if not added:
        return [], None
    body = {"rules": {rid: dict(sorted(vs.items(), key=lambda kv: _key(kv[0]))) for rid, vs in sorted(current.items())}}
    return added, HEADER + yaml.safe_dump(body, sort_keys=False)
