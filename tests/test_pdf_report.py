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


# cffi without Pango: every dlopen of a Pango library fails as it does on a machine without libpango-1.0-0
_NO_PANGO = """
import cffi, sys
_real = cffi.FFI.dlopen
def dlopen(self, name, *a, **k):
    if "pango" in str(name):
        raise OSError(f"cannot load library '{name}': {name}: cannot open shared object file")
    return _real(self, name, *a, **k)
cffi.FFI.dlopen = dlopen
from methodology.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_without_pango_a_run_fails_with_one_line_naming_the_packages(tmp_path):
    """``import weasyprint`` without Pango prints a banner and raises cffi's OSError; ``pcf run`` says instead, in
    one line and before it writes anything, which Debian packages to install."""
    import subprocess
    import sys

    runs = tmp_path / "runs"
    p = subprocess.run([sys.executable, "-c", _NO_PANGO, "run", str(ENTERPRISES[0]), "--runs", str(runs)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 1, p.stderr
    lines = [x for x in p.stderr.splitlines() if x.startswith("pcf:")]
    assert len(lines) == 1 and "Traceback" not in p.stderr and "WeasyPrint could not import" not in p.stdout
    assert lines[0].startswith("pcf: error: report.pdf: WeasyPrint cannot load the Pango/HarfBuzz system libraries")
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0" in lines[0]
    assert "scripts/system-packages.sh" in lines[0] and not runs.exists()
