"""The rule document (``outputs.ruledoc``, ``pcf rule-doc``): every process, flow, range, clause, change-log entry
and decision record of the rule on one HTML page, names escaped, the boundary diagram valid SVG."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

from conftest import write_variant

from methodology.outputs.ruledoc import html_document
from methodology.schema.rules import load_rule

ROOT = Path(__file__).resolve().parent.parent
RULES = sorted((ROOT / "standards").glob("*/pcr-*.yaml"))


def test_every_part_of_the_rule_is_in_its_document():
    for path in RULES:
        rule = load_rule(path)
        doc = html_document(rule)
        for p in rule.processes:
            assert f"<code>{p.id}</code>" in doc, p.id
            for f in p.inputs + p.outputs:
                assert f"<code>{f.key}</code>" in doc
                assert f.plausible is None or html.escape(f.plausible.source) in doc
        for c in rule.rule_set.changes:
            assert f"<td>{c.version}</td>" in doc and all(d in doc for d in c.decisions)
        assert (rule.allocation.decision or "") in doc and rule.sha256 in doc
        svg = re.search(r"<svg.*?</svg>", doc, re.S).group(0)
        assert len(xml.dom.minidom.parseString(svg).getElementsByTagName("rect")) == len(rule.processes)


def test_names_are_escaped(tmp_path):
    rule = load_rule(write_variant(tmp_path, RULES[0], lambda d: d["rule_set"].update(title="Al <b>bold</b> & co")))
    doc = html_document(rule)
    assert "Al &lt;b&gt;bold&lt;/b&gt; &amp; co" in doc and "<b>bold</b>" not in doc


def test_pcf_rule_doc_writes_one_page_per_rule(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "methodology", "rule-doc", *map(str, RULES), "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in tmp_path.glob("*.html"))
    assert written == sorted(f"{load_rule(p).id}-{load_rule(p).version}.html" for p in RULES)
