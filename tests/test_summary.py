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
@pytest.mark.parametrize(("product", "route"), [("hot-rolled-coil", "bf-bof"), ("crude-steel", "scrap-eaf")])
def test_spread_shares_sum_to_one(batch, product, route, prefix):
    df, _ = summary.load_batch(batch)
    drivers = summary.spread_drivers(df, product, prefix, route=route)
    assert len(drivers) >= 3
    assert drivers["share"].sum() == pytest.approx(1.0, abs=1e-9)
    assert summary.UNEXPLAINED not in drivers.index
    if product == "crude-steel":  # scrap EAF has no coking, ironmaking or credits: zero columns left out
        assert {"coking", "ironmaking", "coproduct-credits", "credit"}.isdisjoint(drivers.index)
        assert summary.spread_drivers(df, product, prefix).equals(drivers)  # one route: route may be left out
    assert list(drivers["share"]) == sorted(drivers["share"], reverse=True)
    rows = df[(df["product"] == product) & (df["route"] == route)]
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


def two_routes() -> pd.DataFrame:
    """Two routes of one product: route r1 (a, b rise together), route r2 (only a, higher totals, no b)."""
    a = np.array([1.0, 2.0, 3.0, 10.0, 11.0, 12.0])
    b = np.array([2.0, 3.0, 7.0, 0.0, 0.0, 0.0])
    return pd.DataFrame({"enterprise": [f"e{i}" for i in range(6)], "product": "p",
                         "route": ["r1"] * 3 + ["r2"] * 3, TOTAL: a + b, "stage:a": a, "stage:b": b})


def test_spread_drivers_within_a_route_by_hand():
    df = two_routes()
    # r1: totals 3, 5, 10 (mean 6, deviations -3, -1, 4, var = (9 + 1 + 16) / 2 = 13)
    # a: 1, 2, 3 (deviations -1, 0, 1) -> cov = (3 + 0 + 4) / 2 = 3.5; b: 2, 3, 7 (-2, -1, 3) -> (6 + 1 + 12) / 2 = 9.5
    r1 = summary.spread_drivers(df, "p", route="r1")
    assert r1.loc["a", "share"] == pytest.approx(3.5 / 13) and r1.loc["b", "share"] == pytest.approx(9.5 / 13)
    assert r1["share"].sum() == pytest.approx(1.0)
    assert r1["share"].between(-1, 1).all()  # a and b move with the total: every share in [0, 1]
    r2 = summary.spread_drivers(df, "p", route="r2")
    assert list(r2.index) == ["a"] and r2.loc["a", "share"] == pytest.approx(1.0)  # b is zero in r2: left out
    # pooled over both routes the shares would leave [-1, 1] (the 1.8 and -0.7): refused, not computed
    pooled = (df["stage:a"].cov(df[TOTAL]) / df[TOTAL].var(), df["stage:b"].cov(df[TOTAL]) / df[TOTAL].var())
    assert max(pooled) > 1 and min(pooled) < 0
    with pytest.raises(ValueError, match="2 routes"):
        summary.spread_drivers(df, "p")
    assert summary.routes(df, "p") == ["r1", "r2"]


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


def test_headline_counts_and_bilingual_table(batch):
    df, manifest = summary.load_batch(batch)
    head = summary.headline(manifest, df)["number"]
    # enterprises, files, valid (7 ok + 1 skipped), invalid, failed + timeout, cancelled, footprints
    assert list(head) == [11, 11, 8, 1, 2, 0, 8]
    two_products = {"runs": [run_entry("a", "ok"), run_entry("a", "ok") | {"product": "crude-steel"}]}
    assert list(summary.headline(two_products, df)["number"][:2]) == [1, 2]
    table = summary.headline_table(df)
    assert list(table.index.names) == summary.HEADLINE_INDEX
    row = table.loc[("钢铁 Steel", "热轧卷板 Hot-rolled coil", "高炉-转炉长流程 BF-BOF")]
    v = df.loc[df["route"] == "bf-bof", TOTAL]
    assert (row["n"], row["median"], row["min"], row["max"]) == (3, v.median(), v.min(), v.max())
    assert "production_weighted_mean" not in table.columns  # the table carries no production
    weighted = df.assign(**{summary.PRODUCTION: np.arange(1.0, len(df) + 1)})
    w = weighted[weighted["route"] == "bf-bof"]
    mean = summary.headline_table(weighted).loc[row.name, "production_weighted_mean"]
    assert mean == pytest.approx((w[TOTAL] * w[summary.PRODUCTION]).sum() / w[summary.PRODUCTION].sum())


def test_invalid_files_name_their_enterprise_and_product(tmp_path):
    from methodology.execution.batch import described_by

    broken = tmp_path / "broken.yaml"  # a key given twice, a missing field, a misspelt route: still read
    broken.write_text("enterprise: {id: sd-mill-z, name: Mill Z (fictional)}\nproduct: crude-steel\n"
                      "product: crude-steel\nroute: scrap-eaff\nrule_set: {id: cn-pcr-steel, version: 1.4.0}\n",
                      encoding="utf-8")
    assert described_by(broken) == {"enterprise": "sd-mill-z", "enterprise_name": "Mill Z (fictional)",
                                    "product": "crude-steel", "route": "scrap-eaff", "industry": "steel"}
    garbage = tmp_path / "not-yaml.yaml"
    garbage.write_bytes(b"\x00\x01 not yaml")
    assert described_by(garbage)["enterprise"] == "not-yaml" and described_by(garbage)["product"] is None
    table = summary.problems_table({"runs": [run_entry(None, "invalid", problems=INVALID_PROBLEMS) | {
        "product": "crude-steel"}]})
    assert table.loc[0, "enterprise"] == "works-broken" and table.loc[0, "product"] == "粗钢 Crude steel"


def many(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    routes = list(ROUTES)
    return results_frame([result_row(fake_result(f"{i:03d}", routes[i % 3], rng), "steel") for i in range(n)])


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]  # PNG signature, IHDR length and type, then width and height (big-endian)
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_figures_keep_their_size_at_600_enterprises(tmp_path):
    sizes = {}
    for n in (90, 600):
        paths = summary.save_figures(many(n), tmp_path / str(n))
        sizes[n] = {p.name: png_size(p) for p in paths}
    assert sizes[600] == sizes[90]  # the same size, however many enterprises
    assert all(w <= 1500 and h <= 800 for w, h in sizes[600].values()), sizes[600]
    fig = summary.stacked_stage_figure(many(600), "hot-rolled-coil")
    assert len(fig.axes[0].get_xticks()) == 2 * summary.TOP_N and "of 400" in fig.axes[0].get_title()
    ends = summary.top_bottom(many(600), "crude-steel")
    assert list(ends.index) == [*range(1, 11), *range(191, 201)] and "of 200" in summary.note(ends)


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
    assert "works-broken" in text  # an invalid file without an enterprise id: named by its file
    assert "钢铁 Steel" in text and "热轧卷板 Hot-rolled coil" in text
    assert_headline_first_metadata_last(nb)


def assert_headline_first_metadata_last(nb: dict) -> None:
    """Sections and outputs of the executed notebook: the headline figures first, the technical record last."""
    sections = [line for c in nb["cells"] if c["cell_type"] == "markdown"
                for line in "".join(c["source"]).splitlines() if line.startswith("## ")]
    assert sections[0] == "## 概况 Headline figures" and sections[-1] == "## 技术信息 Technical metadata"
    texts = ["".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                     for o in c.get("outputs", [])) for c in nb["cells"] if c["cell_type"] == "code"]
    first = next(i for i, t in enumerate(texts) if "评估企业 Enterprises evaluated" in t)
    assert first < next(i for i, t in enumerate(texts) if "sha256" in t and "batch_id" in t)
    assert not any("sha256" in t or "wall_s" in t for t in texts[:first + 1])


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


def test_vocabulary_is_strict_data(tmp_path):
    from methodology.errors import InputFileError
    from methodology.schema.vocabulary import VOCABULARY, label, load_vocabulary

    assert label("industries", "steel") == "钢铁 Steel" and label("routes", "no-such-route") == "no-such-route"
    assert label("products", None) == "" and label("products", float("nan")) == ""
    bad = tmp_path / "vocabulary.yaml"
    bad.write_text(VOCABULARY.read_text(encoding="utf-8").replace("\nroutes:", "\nrouts:"), encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        load_vocabulary(bad)
    assert [p.field for p in exc.value.problems] == ["routs"]


def test_every_industry_product_and_route_of_every_shipped_rule_has_a_chinese_label():
    """The summary shows each id by its bilingual label; a rule adding a product or route without one in
    standards/vocabulary/zh-en.yaml would show a bare id to the bureau. Every rule the catalogue finds."""
    import re

    from methodology.schema import catalogue
    from methodology.schema.rules import load_rule
    from methodology.schema.vocabulary import label

    rules = catalogue.entries("rule")
    assert {e.industry for e in rules} >= {"steel", "cement", "aluminium", "plastics", "fertilizer"}
    wanted = set()
    for e in rules:
        rule = load_rule(e.path)
        wanted |= {("industries", rule.rule_set.industry)} | {("products", p.id) for p in rule.products}
        wanted |= {("routes", r.id) for r in rule.routes}
    missing = sorted(f"{kind}.{id_} ({label(kind, id_)!r})" for kind, id_ in wanted
                     if not re.search(r"[\u4e00-\u9fff]", label(kind, id_)))
    assert not missing, f"ids without a Chinese label in standards/vocabulary/zh-en.yaml: {missing}"
