"""Rule change logs and the lock of released rule versions (``schema.changelog``, decision record 0013): an edited
rule cannot keep its version silently; the batch keeps a copy of its standards; the rule's sha256 is a column."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import write_variant

from methodology.errors import RuleError
from methodology.schema import catalogue
from methodology.schema.changelog import LOCK_NAME, LockError, read_lock, updated_lock
from methodology.schema.rules import load_rule

ROOT = Path(__file__).resolve().parent.parent
STANDARDS = ROOT / "standards"
STEEL = STANDARDS / "steel" / "pcr-steel.yaml"


def test_every_catalogued_rule_version_is_recorded_with_its_content():
    lock = read_lock(STANDARDS / LOCK_NAME)
    rules = catalogue.entries("rule")
    assert rules
    for e in rules:
        assert lock[e.id][e.version] == hashlib.sha256(e.path.read_bytes()).hexdigest(), e.label()


def test_shipped_change_logs_start_at_the_rule_version_and_name_existing_decision_records():
    for e in catalogue.entries("rule"):
        raw = yaml.safe_load(e.path.read_text(encoding="utf-8"))["rule_set"]
        changes = raw["changes"]
        assert changes[0]["version"] == raw["version"] and changes[-1]["version"] == "1.0.0", e.label()
        for c in changes:
            for d in c["decisions"]:
                assert (ROOT / d).is_file(), (e.label(), d)


@pytest.mark.parametrize("change, field, found, expected", [
    (lambda h: h["changes"][0].update(version="1.3.0"), "rule_set.changes[0].version", "1.3.0",
     "the rule's version 1.4.0 (the newest entry first)"),
    (lambda h: h["changes"].insert(2, dict(h["changes"][1])), "rule_set.changes[2].version", "1.3.0",
     "a version below 1.3.0 (newest first, each once)"),
])
def test_change_log_refusals(tmp_path, change, field, found, expected):
    with pytest.raises(RuleError) as exc:
        load_rule(write_variant(tmp_path, STEEL, lambda d: change(d["rule_set"])))
    assert (field, found, expected) in [(p.field, p.found, p.expected) for p in exc.value.problems]


def standards_copy(tmp_path: Path) -> Path:
    """A standards folder like the shipped one (steel rule, factor set, method, lock) to edit."""
    out = tmp_path / "standards"
    for sub in ("steel", "factors", "methods"):
        shutil.copytree(STANDARDS / sub, out / sub)
    shutil.copy(STANDARDS / LOCK_NAME, out / LOCK_NAME)
    return out


def test_an_edited_rule_keeping_its_version_is_refused_with_both_digests(tmp_path):
    std = standards_copy(tmp_path)
    rule = std / "steel" / "pcr-steel.yaml"
    assert load_rule(rule).version == "1.4.0"  # unchanged: accepted
    rule.write_text(rule.read_text(encoding="utf-8").replace("cumulative_share: 0.05", "cumulative_share: 0.04"),
                    encoding="utf-8")
    new_sha = hashlib.sha256(rule.read_bytes()).hexdigest()
    with pytest.raises(RuleError) as exc:
        load_rule(rule)
    (p,) = exc.value.problems
    assert p.field == "rule_set.version" and new_sha[:16] in p.found
    assert read_lock(std / LOCK_NAME)["cn-pcr-steel"]["1.4.0"][:16] in p.found
    assert p.expected.startswith("a new version number and a rule_set.changes entry")


def test_a_new_version_is_refused_until_recorded_and_the_lock_never_overwrites(tmp_path):
    std = standards_copy(tmp_path)
    rule = std / "steel" / "pcr-steel.yaml"
    text = rule.read_text(encoding="utf-8").replace("cumulative_share: 0.05", "cumulative_share: 0.04")
    text = text.replace("  version: 1.4.0\n", "  version: 1.5.0\n", 1).replace(
        "  changes:\n", "  changes:\n    - {version: 1.5.0, date: 2026-11-23, summary: cut-off ceiling 4 %}\n", 1)
    rule.write_text(text, encoding="utf-8")
    with pytest.raises(RuleError, match="1.5.0, not recorded in"):
        load_rule(rule)
    sha = hashlib.sha256(rule.read_bytes()).hexdigest()
    added, lock_text = updated_lock(std, [("cn-pcr-steel", "1.5.0", sha)])
    assert added == ["cn-pcr-steel 1.5.0"]
    (std / LOCK_NAME).write_text(lock_text, encoding="utf-8")
    assert load_rule(rule).version == "1.5.0"
    with pytest.raises(LockError, match="cn-pcr-steel 1.5.0: content differs"):
        updated_lock(std, [("cn-pcr-steel", "1.5.0", "0" * 64)])
    added, lock_text = updated_lock(std, [("cn-pcr-steel", "1.5.0", "0" * 64)], amend={("cn-pcr-steel", "1.5.0")})
    assert added == ["cn-pcr-steel 1.5.0"] and "0" * 64 in lock_text
    assert updated_lock(std, [("cn-pcr-steel", "1.4.0", read_lock(std / LOCK_NAME)["cn-pcr-steel"]["1.4.0"])]) == (
        [], None)


def test_pcf_lock_records_nothing_when_everything_is_recorded():
    before = (STANDARDS / LOCK_NAME).read_bytes()
    proc = subprocess.run([sys.executable, "-m", "methodology", "lock"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "every rule version is recorded" in proc.stdout, proc.stderr
    assert (STANDARDS / LOCK_NAME).read_bytes() == before


def test_results_table_carries_the_rule_and_factor_set_sha256():
    from methodology.outputs.table import result_row
    from methodology.study import Study

    r = Study.prepare(ROOT / "parameters" / "cement" / "js-grinding-station-c.yaml").calculate_without_brightway()
    row = result_row(r, "cement")
    assert row["rule_set_sha256"] == hashlib.sha256(
        (STANDARDS / "cement" / "pcr-cement.yaml").read_bytes()).hexdigest()
    assert row["factor_set_sha256"] == hashlib.sha256(
        (STANDARDS / "factors" / "cn-core.yaml").read_bytes()).hexdigest()
