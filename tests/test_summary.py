"""The batch summary (methodology/summary.py) on a synthetic batch folder, and its notebook under papermill."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from methodology.outputs import summary
from methodology.outputs.table import result_row, results_frame, write_table

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "batch-summary.ipynb"
TOTAL = summary.TOTAL

# product, route, stages present (coproduct credits negative)
ROUTES = {
    "bf-bof": ("hot-rolled-coil", ["raw-materials", "coking", "ironmaking", "steelmaking", "utilities",
                                   "coproduct-credits"]),
    "dri-eaf": ("hot-rolled-coil", ["raw-materials", "ironmaking", "steelmaking", "utilities"]),
    "scrap-eaf": ("crude-steel", ["raw-materials", "steelmaking", "utilities"]),
}
ENTERPRISES = [("a", "bf-bof"), ("b", "bf-bof"), ("c", "bf-bof"), ("d", "dri-eaf"), ("e", "dri-eaf"),
               ("f", "scrap-eaf"), ("g", "scrap-eaf"), ("h", "scrap-eaf")]


def fake_result(ent: str, route: str, rng: np.random.Generator) -> dict:
    """A result.json reduced to what table.result_row reads, with breakdowns that sum to the total."""
    product, stage_ids = ROUTES[route]
    stages = {s: float(rng.uniform(20, 600)) for s in stage_ids}
    if "coproduct-credits" in stages:
        stages["coproduct-credits"] = -float(rng.uniform(100, 300))
    total = sum(stages.values())
    credit = stages.get("coproduct-credits", 0.0)
    gross = total - credit
    direct, electricity, transport = 0.6 * gross, 0.2 * gross, 0.05 * gross
    origin = {"direct": direct, "electricity": electricity, "transport": transport,
              "upstream": gross - direct - electricity - transport, "credit": credit}
    gas = {"CO2": 0.9 * total, "CH4": 0.07 * total, "N2O": 0.03 * total}
    biogenic = float(rng.uniform(0, 5))
    return {
        "enterprise": {"id": f"works-{ent}", "name": f"Works {ent.upper()} (fictional)", "province": "Shandong",
                       "illustrative": True},
        "product": {"id": product}, "route": {"id": route}, "declared_unit": {"amount": 1.0, "unit": "t"},
        "gwp100_kg_co2e": {"total": total, "fossil": total - biogenic, "biogenic": biogenic, "land_use": 0.0,
                           "total_excluding_biogenic": total - biogenic},
        "by_stage": [{"stage": s, "total": v} for s, v in stages.items()],
        "by_origin": {k: {"total": v} for k, v in origin.items()},
        "by_gas": {k: {"total": v} for k, v in gas.items()},
        "data_quality": {"weighted_score": float(rng.uniform(1, 3)), "primary_data_share": 0.9, "meets_rule": True},
        "checks": {"breakdowns_sum_to_total": True, "within_route_plausible_range": True},
        "provenance": {
            "rule_set": {"id": "cn-pcr-steel", "version": "1.0.0"},
            "factor_set": {"id": "cn-core", "version": "0.1.0"},
            "parameter_file": {"path": f"parameters/steel/works-{ent}.yaml", "sha256": "0" * 64},
            "software": {"pcf-workbench": "0.1.0"},
        },
    }


def run_entry(ent: str | None, status: str, error: str | None = None, problems: list[str] | None = None) -> dict:
    route = dict(ENTERPRISES).get(ent or "")
    return {"parameter_file": f"parameters/steel/works-{ent or 'broken'}.yaml",
            "enterprise": f"works-{ent}" if ent else None,
            "product": ROUTES[route][0] if route else None, "route": route,
            "industry": "steel", "status": status, "error": error, "problems": problems or [],
            "out_dir": f"runs/works-{ent}" if status in ("ok", "skipped", "failed") else None,
            "wall_s": 3.0 if status != "invalid" else None, "peak_rss_mb": 200.0, "worker": "w0"}


FAILED_ERROR = "PapermillExecutionError: cell 7 raised ZeroDivisionError"
INVALID_PROBLEMS = ["processes.eaf.scrap.unit: found 'kWh', expected a mass unit",
                    "reference_period.end: found 2031-01-01, expected a date before the run"]


def write_manifest(folder: Path, runs: list[dict]) -> dict:
    counts = {s: sum(r["status"] == s for r in runs) for s in summary.STATUSES}
    manifest = {
        "schema_version": "1", "batch_id": "test-batch", "started_at": "2025-01-01T00:00:00+00:00",
        "finished_at": "2025-01-01T00:01:00+00:00", "wall_s": 60.0,
        "software": {"pcf-workbench": "0.1.0"},
        "rule_sets": [{"id": "cn-pcr-steel", "version": "1.0.0", "sha256": "1" * 64, "path": "standards/x.yaml"}],
        "factor_set": {"id": "cn-core", "version": "0.1.0", "sha256": "2" * 64, "path": "standards/f.yaml"},
        "settings": {"workers": 2, "scheduler": None, "timeout_s": 600.0, "force": False, "mode": "notebooks"},
        "counts": counts | {"total": len(runs)},
        "runs": runs,
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


@pytest.fixture
def batch(tmp_path) -> Path:
    rng = np.random.default_rng(42)
    folder = tmp_path / "batch"
    folder.mkdir()
    df = results_frame([result_row(fake_result(e, r, rng), "steel") for e, r in ENTERPRISES])
    write_table(df, folder)
    runs = [run_entry(e, "skipped" if e == "c" else "ok") for e, _ in ENTERPRISES]
    runs += [run_entry("x", "failed", FAILED_ERROR), run_entry(None, "invalid", problems=INVALID_PROBLEMS),
             run_entry("y", "timeout", "timed out after 600 s")]
    write_manifest(folder, runs)
    return folder


def test_load_batch_reads_parquet_then_csv(batch):
    df, manifest = summary.load_batch(batch)
    assert len(df) == 8 and manifest["batch_id"] == "test-batch"
    assert summary.products(df) == ["crude-steel", "hot-rolled-coil"]
    (batch / "results.parquet").unlink()
    from_csv, _ = summary.load_batch(batch)
    assert len(from_csv) == 8
    assert np.allclose(from_csv[TOTAL].sort_values(), df[TOTAL].sort_values())


def test_load_batch_errors_and_empty(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        summary.load_batch(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        summary.load_batch(tmp_path)
    write_manifest(tmp_path, [run_entry("x", "failed", FAILED_ERROR)])
    df, manifest = summary.load_batch(tmp_path)
    assert df.empty and "no results" in summary.note(df)
    assert manifest["runs"][0]["status"] == "failed"
    assert summary.products(df) == [] and summary.save_figures(df, tmp_path) == []
    assert summary.distribution_table(df).empty


def test_breakdowns_sum_to_total_in_fixture(batch):
    """Precondition of the variance decomposition: each prefix sums to the total."""
    df, _ = summary.load_batch(batch)
    for prefix in ("stage:", "origin:", "gas:"):
        cols = [c for c in df.columns if c.startswith(prefix)]
        assert np.allclose(df[cols].sum(axis=1), df[TOTAL]), prefix


@pytest.mark.parametrize("prefix", ["stage:", "origin:", "gas:"])
@pytest.mark.parametrize("product", ["hot-rolled-coil", "crude-steel"])
def test_spread_shares_sum_to_one(batch, product, prefix):
    df, _ = summary.load_batch(batch)
    drivers = summary.spread_drivers(df, product, prefix)
    assert len(drivers) >= 3
    assert drivers["share"].sum() == pytest.approx(1.0, abs=1e-9)
    assert summary.UNEXPLAINED not in drivers.index
    if product == "crude-steel":  # scrap EAF has no coking, ironmaking or credits: zero columns left out
        assert {"coking", "ironmaking", "coproduct-credits", "credit"}.isdisjoint(drivers.index)
    assert list(drivers["share"]) == sorted(drivers["share"], reverse=True)
    rows = df[df["product"] == product]
    for comp, row in drivers.iterrows():
        col = rows[prefix + comp]
        assert row["mean"] == pytest.approx(col.mean()) and row["max"] == pytest.approx(col.max())
        assert row["std"] == pytest.approx(col.std()) and row["min"] == pytest.approx(col.min())


def three_enterprises(a, b) -> pd.DataFrame:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return pd.DataFrame({"enterprise": ["e1", "e2", "e3"][: len(a)], "product": "p", "route": "r",
                         TOTAL: a + b, "stage:a": a, "stage:b": b})


def test_spread_hand_computation():
    # totals 11, 12, 16: mean 13, deviations -2, -1, 3, var = (4 + 1 + 9) / 2 = 7
    # a: deviations -1, 0, 1 -> cov = (2 + 0 + 3) / 2 = 2.5; b: -1, -1, 2 -> cov = (2 + 1 + 6) / 2 = 4.5
    drivers = summary.spread_drivers(three_enterprises([1, 2, 3], [10, 10, 13]), "p")
    assert list(drivers.index) == ["b", "a"]
    assert drivers.loc["a", "share"] == pytest.approx(2.5 / 7)
    assert drivers.loc["b", "share"] == pytest.approx(4.5 / 7)
    assert drivers.loc["b", "cov_with_total"] == pytest.approx(4.5)
    assert drivers.loc["b", "std"] == pytest.approx(np.std([10, 10, 13], ddof=1))
    assert (drivers.loc["a", "min"], drivers.loc["a", "max"], drivers.loc["a", "mean"]) == (1, 3, 2)


def test_spread_negative_share_and_unexplained():
    # b moves against the total: a 10, 12, 14 and b -1, -2, -3 give totals 9, 10, 11 (var 1);
    # cov(a, T) = (2 + 0 + 2) / 2 = 2, cov(b, T) = (-1 + 0 - 1) / 2 = -1
    drivers = summary.spread_drivers(three_enterprises([10, 12, 14], [-1, -2, -3]), "p")
    assert drivers.loc["a", "share"] == pytest.approx(2.0)
    assert drivers.loc["b", "share"] == pytest.approx(-1.0)
    df = three_enterprises([1, 2, 3], [10, 10, 13])
    df[TOTAL] += [0.0, 0.0, 3.0]  # a component missing from the breakdown
    drivers = summary.spread_drivers(df, "p")
    assert summary.UNEXPLAINED in drivers.index and drivers["share"].sum() == pytest.approx(1.0)


def test_spread_without_spread_gives_note():
    one = summary.spread_drivers(three_enterprises([1], [2]), "p")
    assert one.empty and "no spread" in summary.note(one)
    same = summary.spread_drivers(three_enterprises([1, 2, 3], [3, 2, 1]), "p")
    assert same.empty and "same total" in summary.note(same)
    with pytest.raises(KeyError, match="not in the results table"):
        summary.spread_drivers(three_enterprises([1, 2], [1, 2]), "q")


def test_distribution_table_against_numpy(batch):
    df, _ = summary.load_batch(batch)
    table = summary.distribution_table(df)
    assert set(table.index) == {("steel", "hot-rolled-coil", "bf-bof"), ("steel", "hot-rolled-coil", "dri-eaf"),
                                ("steel", "crude-steel", "scrap-eaf")}  # grouped by industry, product and route
    for (_, product, route), row in table.iterrows():
        v = df.loc[(df["product"] == product) & (df["route"] == route), TOTAL].to_numpy()
        expected = [len(v), v.min(), np.percentile(v, 25), np.median(v), v.mean(), np.percentile(v, 75), v.max()]
        assert np.allclose(row[summary.DISTRIBUTION_COLUMNS].to_numpy(float), expected), (product, route)
    assert table.loc[("steel", "hot-rolled-coil", "bf-bof"), "n"] == 3


def test_ranking(batch):
    df, _ = summary.load_batch(batch)
    table = summary.ranking(df, "hot-rolled-coil")
    assert list(table.index) == [1, 2, 3, 4, 5]
    assert list(table[TOTAL]) == sorted(df.loc[df["product"] == "hot-rolled-coil", TOTAL])
    assert {"route", summary.FOSSIL, summary.BIOGENIC, "dq_weighted_score"} <= set(table.columns)
    assert set(table["enterprise"]) == {"works-a", "works-b", "works-c", "works-d", "works-e"}


def test_status_and_problems(batch):
    _, manifest = summary.load_batch(batch)
    status = summary.status_table(manifest)["runs"]
    assert (status["ok"], status["skipped"], status["failed"], status["invalid"], status["timeout"]) == (7, 1, 1, 1, 1)
    assert status["crashed"] == 0 and status["total"] == 11
    problems = summary.problems_table(manifest)
    assert list(problems["status"]) == ["failed", "invalid", "timeout"]
    by_status = problems.set_index("status")
    assert by_status.loc["failed", "message"] == FAILED_ERROR
    assert by_status.loc["failed", "parameter_file"] == "parameters/steel/works-x.yaml"
    assert by_status.loc["invalid", "message"] == "; ".join(INVALID_PROBLEMS)
    assert by_status.loc["timeout", "message"] == "timed out after 600 s"
    clean = summary.problems_table({"runs": [run_entry("a", "ok"), run_entry("c", "skipped")]})
    assert clean.empty and "no problems" in summary.note(clean)


def test_stacked_stage_figure_puts_credits_below_zero(batch):
    df, _ = summary.load_batch(batch)
    fig = summary.stacked_stage_figure(df, "hot-rolled-coil")
    ax = fig.axes[0]
    rows = df[df["product"] == "hot-rolled-coil"].sort_values(TOTAL)
    credits = [p for p in ax.patches if p.get_height() < 0]
    # only the three BF-BOF works earn credits; each credit bar hangs from zero downwards
    assert len(credits) == 3
    assert sorted(p.get_height() for p in credits) == pytest.approx(sorted(rows["stage:coproduct-credits"][
        rows["stage:coproduct-credits"] < 0]))
    assert all(p.get_y() == pytest.approx(0.0) for p in credits)
    tops = {}
    for p in ax.patches:
        if p.get_height() > 0:
            x = round(p.get_x() + p.get_width() / 2)
            tops[x] = max(tops.get(x, 0.0), p.get_y() + p.get_height())
    gross = rows[[c for c in rows.columns if c.startswith("stage:")]].clip(lower=0).sum(axis=1).to_numpy()
    assert np.allclose([tops[i] for i in range(len(rows))], gross)
    marks = ax.collections[0].get_offsets()
    assert np.allclose(np.asarray(marks)[:, 1], rows[TOTAL])


def test_save_figures(batch):
    df, _ = summary.load_batch(batch)
    paths = summary.save_figures(df, batch)
    assert [p.name for p in paths] == ["distribution.png", "stages-crude-steel.png", "stages-hot-rolled-coil.png"]
    assert all(p.is_file() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    fig = summary.distribution_figure(df)
    assert len(fig.axes[0].collections) == 3  # one scatter of enterprises per product and route


def run_notebook(batch_dir: Path) -> dict:
    import papermill

    out = batch_dir.parent / "batch-summary.out.ipynb"
    papermill.execute_notebook(str(NOTEBOOK), str(out), parameters={"batch_dir": str(batch_dir)},
                               cwd=str(NOTEBOOK.parent), kernel_name="python3", progress_bar=False)
    return json.loads(out.read_text(encoding="utf-8"))


def outputs(nb: dict) -> tuple[list[dict], str]:
    outs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    text = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) for o in outs)
    return outs, text


@pytest.mark.notebook
def test_notebook_on_batch(batch):
    nb = run_notebook(batch)
    outs, text = outputs(nb)
    assert not [o for o in outs if o["output_type"] == "error"]
    for name in ("distribution.png", "stages-crude-steel.png", "stages-hot-rolled-coil.png"):
        assert (batch / "figures" / name).is_file()
    assert sum("image/png" in o.get("data", {}) for o in outs) == 3
    assert "works-x.yaml" in text and "ZeroDivisionError" in text and "expected a mass unit" in text
    assert "works-h" in text and "3 figure(s) written" in text


@pytest.mark.notebook
def test_notebook_without_results(tmp_path):
    folder = tmp_path / "batch"
    write_manifest(folder, [run_entry("x", "failed", FAILED_ERROR), run_entry(None, "invalid",
                                                                              problems=INVALID_PROBLEMS)])
    nb = run_notebook(folder)
    outs, text = outputs(nb)
    assert not [o for o in outs if o["output_type"] == "error"]
    assert "no results" in text and "ZeroDivisionError" in text
    assert not (folder / "figures").exists()
