"""report.pdf (``outputs.pdf_report``): the study report of every shipped enterprise laid out as PDF, its figures
read back from the PDF's own text and compared with the result; Chinese text embedded as glyphs, not boxes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from methodology.core.result import as_json
from methodology.outputs import pdf_report, study_report
from methodology.outputs.files import write_result
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
ENTERPRISES = sorted((ROOT / "parameters").glob("*/*.yaml"))


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("path", ENTERPRISES, ids=lambda p: p.stem)
def test_the_pdf_states_the_results_total(path):
    r = as_json(Study.prepare(path).calculate_without_brightway())  # compute-only: the same result, no Brightway
    text = " ".join(_text(pdf_report.pdf_bytes(study_report.html_report(r))).split())
    g = r["gwp100_kg_co2e"]
    assert f"{g['total']:,.1f} kg CO2e" in text
    assert f"fossil {g['fossil']:,.1f}" in text
    assert "6 Limitations" in text and r["provenance"]["rule_set"]["id"] in text


def test_a_chinese_name_is_embedded_and_extractable(tmp_path):
    r = as_json(Study.prepare(ENTERPRISES[0]).calculate_without_brightway())
    r["enterprise"]["name"] = "山东示例钢铁有限公司"
    write_result(r, tmp_path)  # every run writes report.pdf beside report.html
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert "山东示例钢铁有限公司" in _text(pdf).replace("\n", "")
    fonts = {f["/BaseFont"] for page in PdfReader(io.BytesIO(pdf)).pages
             for f in (page["/Resources"].get("/Font") or {}).values()}
    assert any("Noto-Sans-CJK-SC" in str(f) for f in fonts), fonts  # the CJK font from mplfonts, as a subset
    assert len(pdf) < 2_000_000  # a subset, not the 16 MB font
