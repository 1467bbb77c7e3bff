"""The CFP study report (``outputs.study_report``): written by every run, its figures are result.json's, its
sections those ISO 14067 clause 7 asks for, and it says when the enterprise is fictional."""

from __future__ import annotations

import html.parser
from pathlib import Path

from methodology.outputs.files import write_result
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
WORKS_A = ROOT / "parameters" / "steel" / "sd-integrated-works-a.yaml"


def test_the_report_states_the_result(tmp_path):
    st = Study.prepare(WORKS_A)
    r = st.with_uncertainty(st.calculate_without_brightway(), 500, sobol_samples=64)
    write_result(r, tmp_path)
    doc = (tmp_path / "report.html").read_text(encoding="utf-8")
    html.parser.HTMLParser().feed(doc)  # well-formed enough to parse
    for heading in ("1 Goal and scope", "2 Data and data quality", "3 Results", "4 Uncertainty and sensitivity",
                    "5 Interpretation", "6 Limitations"):
        assert heading in doc, heading
    g = r.gwp100_kg_co2e
    assert f"<b>{g.total:,.1f}</b> kg CO2e" in doc and f"{g.credits:,.1f} of co-product credits" in doc
    assert all(s.name in doc for s in r.by_stage) and f"{r.uncertainty.p97_5:,.1f}" in doc
    assert "<svg" in doc  # the rule's boundary diagram: the rule file still holds the content the result used
    assert "ILLUSTRATIVE" in doc and "cn-pcr-steel 1.4.0" in doc
    assert doc.count("data:image/png;base64,") == 2  # the waterfall and the tornado, embedded


def test_without_the_rules_content_the_diagram_is_left_out(tmp_path):
    r = Study.prepare(WORKS_A).calculate_without_brightway().model_dump(mode="json")
    r["provenance"]["rule_set"]["sha256"] = "0" * 64  # computed under other content than the file holds now
    write_result(r, tmp_path)
    doc = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<svg" not in doc and "No Monte Carlo was run" in doc


def test_the_report_gives_the_footprint_per_kg_of_each_declared_component(tmp_path):
    r = Study.prepare(ROOT / "parameters" / "fertilizer" / "sx-coal-gasification-a-urea.yaml"
                      ).calculate_without_brightway()
    write_result(r, tmp_path)
    doc = (tmp_path / "report.html").read_text(encoding="utf-8")
    (n,) = r.per_component
    assert "Per kg of each declared component" in doc
    assert f"{n.kg_co2e_per_kg:,.3f}" in doc and f"{100 * n.content:.4g} %" in doc
    assert abs(n.kg_co2e_per_kg / (r.gwp100_kg_co2e.total / (1000 * n.content)) - 1) < 1e-5  # rounded in result
