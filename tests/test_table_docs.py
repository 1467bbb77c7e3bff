"""The results table's column dictionary: written beside the table, documented in docs/batch.md, complete."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from methodology.outputs.table import COLUMNS, PREFIX_MEANING, describe, result_row, results_frame, write_table
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent


def test_every_column_of_a_real_table_is_described(tmp_path):
    st = Study.prepare(ROOT / "parameters" / "cement" / "gd-coprocessing-plant-b.yaml")
    df = results_frame([result_row(st.with_uncertainty(st.calculate_without_brightway(), 200, sobol_samples=0),
                                   "cement")])
    described = describe(df.columns)
    assert [d["column"] for d in described] == list(df.columns)
    assert all(d["meaning"] for d in described), [d["column"] for d in described if not d["meaning"]]
    paths = write_table(df, tmp_path)
    assert paths[0].read_bytes().startswith(b"\xef\xbb\xbfenterprise,")  # the byte-order mark Excel needs
    back = pd.read_csv(paths[0])
    assert list(back.columns) == list(df.columns)  # pandas reads the mark away
    assert list(pd.read_csv(paths[2])["column"]) == list(df.columns)
    book = pd.read_excel(paths[3], sheet_name=None)  # results.xlsx: the table and its dictionary
    assert list(book) == ["results", "columns"] and list(book["results"].columns) == list(df.columns)
    assert book["results"]["gwp100_total_kg_co2e"].iloc[0] == df["gwp100_total_kg_co2e"].iloc[0]


def test_docs_batch_md_lists_every_column_with_its_meaning():
    doc = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    for c, (meaning, unit) in COLUMNS.items():
        assert f"| `{c}` | {meaning} | {unit} |" in doc, c
    for p, (meaning, unit) in PREFIX_MEANING.items():
        assert f"| `{p}<id>` | {meaning} | {unit} |" in doc, p
