"""Per-run cost of the files ``write_result`` adds beside result.json: the study report (HTML), its PDF
(WeasyPrint) and the CBAM tables, for each shipped enterprise computed without Brightway.

    python benchmarks/report_outputs_benchmark.py [--files parameters/steel/*.yaml]

Prints seconds per enterprise for report.html, report.pdf and cbam.csv + cbam.xlsx, the PDF's size, and the
median of each. Nothing is asserted: it prints what it measured.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from methodology.core.result import as_json
    from methodology.outputs import cbam, pdf_report, study_report
    from methodology.study import Study

    ap = argparse.ArgumentParser()
    ap.add_argument("--files", nargs="*", default=sorted(str(p) for p in (ROOT / "parameters").glob("*/*.yaml")))
    args = ap.parse_args()
    pdf_report.pdf_bytes("<p>warm-up: imports and font configuration</p>")
    times: dict[str, list[float]] = {"html": [], "pdf": [], "cbam": []}
    with tempfile.TemporaryDirectory() as tmp:
        for f in args.files:
            r = as_json(Study.prepare(f).calculate_without_brightway())
            t0 = time.perf_counter()
            doc = study_report.html_report(r)
            t1 = time.perf_counter()
            pdf = pdf_report.pdf_bytes(doc)
            t2 = time.perf_counter()
            written = cbam.write(r, tmp)
            t3 = time.perf_counter()
            for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
                times[k].append(v)
            print(f"{Path(f).stem:34} html {t1 - t0:5.2f} s  pdf {t2 - t1:5.2f} s ({len(pdf) / 1e3:4.0f} kB)  "
                  f"cbam {t3 - t2:5.2f} s{'' if written else ' (no CBAM good)'}")
    print("median: " + ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in times.items()))


if __name__ == "__main__":
    main()
