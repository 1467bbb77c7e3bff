"""The semantic rule diff (``schema.rulediff``, ``pcf diff``): differences in the rule's own terms, matched by id
and key, blind to formatting, comments and order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import write_variant

from methodology.schema import rulediff
from methodology.schema.rules import load_rule
from methodology.study import rule_with_variant

ROOT = Path(__file__).resolve().parent.parent
CEMENT = ROOT / "standards" / "cement" / "pcr-cement.yaml"
ZERO_BURDEN = ROOT / "standards" / "cement" / "variants" / "zero-burden-by-products.yaml"


def test_no_difference_with_itself_nor_after_rewriting_the_file_without_comments_in_another_order(tmp_path):
    rule = load_rule(CEMENT)
    assert rulediff.diff(rule, rule) == []

    def reorder(d):
        d["processes"].reverse()
        d["products"].reverse()
    rewritten = load_rule(write_variant(tmp_path, CEMENT, reorder))  # yaml.safe_dump drops every comment
    assert rulediff.diff(rule, rewritten) == []


def test_a_variant_reads_as_its_changes():
    rule = load_rule(CEMENT)
    changes = rulediff.diff(rule, rule_with_variant(rule, ZERO_BURDEN))
    assert [c.path for c in changes if c.section == "factor_choices"] == ["factor_choices.by-product-burden.selected"]
    flows = [c for c in changes if c.section == "processes"]
    assert flows and all(c.kind == "changed" and c.path.endswith(".factor") for c in flows)
    assert {(c.before, c.after) for c in flows} == {(f"{x}-economic", f"{x}-zero-burden")
                                                      for x in ("gbfs", "fly-ash", "fgd-gypsum")}
    assert "processes.grinding-p-c.inputs.gbfs.factor: gbfs-economic -> gbfs-zero-burden" in [c.words() for c in flows]
    headings = list(rulediff.sections(changes))
    assert headings == ["Processes", "Factor choices"]  # the rule's reading order


def test_added_removed_and_changed_items_are_named_by_id_and_key(tmp_path):
    def edit(d):
        d["rule_set"]["version"] = "1.2.0"
        d["rule_set"]["changes"].insert(0, {"version": "1.2.0", "date": "2026-11-23", "summary": "test"})
        d["cut_off"]["cumulative_share"] = 0.03
        kiln = next(p for p in d["processes"] if p["id"] == "clinker-kiln")
        kiln["inputs"] = [f for f in kiln["inputs"] if f["key"] != "diesel"] if any(
            f["key"] == "diesel" for f in kiln["inputs"]) else kiln["inputs"][:-1]
    old, new = load_rule(CEMENT), load_rule(write_variant(tmp_path, CEMENT, edit))
    changes = {c.path: c for c in rulediff.diff(old, new)}
    assert changes["rule_set.version"].words() == "rule_set.version: 1.1.0 -> 1.2.0"
    assert changes["rule_set.changes.1.2.0"].words() == "rule_set.changes.1.2.0: added '1.2.0' (test)"
    assert changes["cut_off.cumulative_share"].words() == "cut_off.cumulative_share: 0.05 -> 0.03"
    removed = [c for c in changes.values() if c.kind == "removed"]
    assert len(removed) == 1 and removed[0].path.startswith("processes.clinker-kiln.inputs.")
    assert removed[0].words().startswith(f"{removed[0].path}: removed '{removed[0].before['key']}'")
    text = rulediff.markdown(old, new, list(changes.values()))
    assert text.startswith("# cn-pcr-cement 1.1.0 -> cn-pcr-cement 1.2.0") and "## Cut-off" in text


def test_pcf_diff_command():
    run = [sys.executable, "-m", "methodology", "diff", str(CEMENT)]
    proc = subprocess.run([*run, "--variant", str(ZERO_BURDEN)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "factor_choices.by-product-burden.selected" in proc.stdout, proc.stderr
    same = subprocess.run([*run, str(CEMENT)], capture_output=True, text=True, cwd=ROOT)
    assert same.returncode == 0 and "No difference in content." in same.stdout
    neither = subprocess.run(run, capture_output=True, text=True, cwd=ROOT)
    assert neither.returncode == 1 and "a second rule file or --variant" in neither.stderr
