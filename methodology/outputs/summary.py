"""Summary of a batch: tables and figures over ``<runs>/batch/`` (results table and manifest).

Presentation only: nothing here computes a footprint. The inputs are the tidy results table written by the batch
(``results.parquet`` / ``results.csv``, one row per enterprise and product, columns of
``methodology.outputs.table.result_row``) and ``manifest.json`` (what ran, how, and with which outcome).

Where a table cannot be made (no results, fewer than two enterprises, no spread) an empty DataFrame is returned
with the reason in ``DataFrame.attrs["note"]``; :func:`note` reads it.

Figures are built on ``matplotlib.figure.Figure`` objects without pyplot, so they work under any backend
(including Agg in batch workers) and leave no global state behind; pass ``path`` to save one as PNG.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

TOTAL = "gwp100_total_kg_co2e"
FOSSIL = "gwp100_fossil_kg_co2e"
BIOGENIC = "gwp100_biogenic_kg_co2e"
UNIT_LABEL = "kg CO2e per declared unit"
STATUSES = ("ok", "skipped", "failed", "timeout", "crashed", "invalid", "cancelled")
PROBLEM_COLUMNS = ["parameter_file", "enterprise", "product", "status", "message", "out_dir"]
DISTRIBUTION_COLUMNS = ["n", "min", "p25", "median", "mean", "p75", "max"]
RANKING_COLUMNS = ["enterprise", "enterprise_name", "province", "route", TOTAL, FOSSIL, BIOGENIC,
                   "dq_weighted_score", "dq_primary_data_share", "checks_all_passed", "within_route_plausible_range",
                   "review_items"]
SPREAD_COLUMNS = ["share", "cov_with_total", "mean", "std", "min", "max"]
UNEXPLAINED = "(not in breakdown)"


def _with_note(df: pd.DataFrame, text: str | None) -> pd.DataFrame:
    """Set (or, with None, clear) the note; also drops attrs pandas may have carried over from the input."""
    df.attrs = {"note": text} if text else {}
    return df


def note(obj) -> str | None:
    """The note attached to a table by this module (why it is empty or what to keep in mind), if any."""
    return getattr(obj, "attrs", {}).get("note")


# ---------------------------------------------------------------------------------------------------- loading


def _read_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from e


def _read_results(folder: Path) -> pd.DataFrame | None:
    parquet, csv = folder / "results.parquet", folder / "results.csv"
    if parquet.is_file():
        return pd.read_parquet(parquet)
    if csv.is_file():
        try:
            return pd.read_csv(csv)
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
    return None


def load_batch(batch_dir: str | Path) -> tuple[pd.DataFrame, dict]:
    """The results table and the manifest of a batch folder.

    Reads ``results.parquet``, or ``results.csv`` when there is no Parquet file. When neither exists but
    ``manifest.json`` does (a batch in which nothing succeeded), the table is empty with a note. Without results
    and without manifest the folder is not a batch folder: FileNotFoundError naming it.
    """
    folder = Path(batch_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"batch folder {folder} does not exist")
    manifest_path = folder / "manifest.json"
    df = _read_results(folder)
    if df is None and not manifest_path.is_file():
        raise FileNotFoundError(
            f"{folder} is not a batch folder: no results.parquet, results.csv or manifest.json in it")
    manifest = _read_manifest(manifest_path) if manifest_path.is_file() else {}
    if df is None:
        n_ok = sum(1 for r in manifest.get("runs", []) if r.get("status") in ("ok", "skipped"))
        return _with_note(pd.DataFrame(), f"no results: no results table in {folder} "
                                          f"({n_ok} successful or skipped runs in the manifest)"), manifest
    if df.empty:
        _with_note(df, f"no results: the results table in {folder} has no rows")
    elif not manifest:
        _with_note(df, f"no manifest.json in {folder}: run statuses unknown")
    return df, manifest


def products(df: pd.DataFrame) -> list[str]:
    """The products in the results table, sorted."""
    if df.empty or "product" not in df.columns:
        return []
    return sorted(df["product"].dropna().unique().tolist())


# ---------------------------------------------------------------------------------------------- manifest tables


def headline(manifest: dict, df: pd.DataFrame) -> pd.DataFrame:
    """The figures a bureau reads first: enterprises evaluated (distinct enterprise ids; an invalid file that names
    none counts by its file name), parameter files (an enterprise may have one per product), valid (a footprint in the
    table: run now or unchanged since an earlier run), invalid (the file did not validate; nothing ran), failed
    (the calculation failed, timed out or crashed), cancelled, and the footprints in the table."""
    runs = manifest.get("runs") or []
    count = pd.Series([r.get("status") for r in runs], dtype=object).value_counts()
    named = {r.get("enterprise") or Path(str(r.get("parameter_file") or "")).stem for r in runs}
    rows = {
        "评估企业 Enterprises evaluated": len(named),
        "参数文件 Parameter files": len(runs),
        "有效 Valid": int(count.get("ok", 0) + count.get("skipped", 0)),
        "数据无效 Invalid": int(count.get("invalid", 0)),
        "计算失败 Failed": int(sum(count.get(s, 0) for s in ("failed", "timeout", "crashed"))),
        "已取消 Cancelled": int(count.get("cancelled", 0)),
        "结果 Footprints in the table": len(df),
    }
    return pd.DataFrame({"number": list(rows.values())}, index=pd.Index(list(rows), name="item"))


PRODUCTION = "annual_production"  # declared units per year; weights the mean when the results table has it
HEADLINE_INDEX = ["行业 Industry", "产品 Product", "路线 Route"]


def headline_table(df: pd.DataFrame, column: str = TOTAL) -> pd.DataFrame:
    """Per industry, product and route, with bilingual labels (``standards/vocabulary/zh-en.yaml``): number of
    enterprises, median, minimum and maximum of the total, and the production-weighted mean when the table has
    a column ``annual_production``."""
    if df.empty or column not in df.columns:
        return _with_note(pd.DataFrame(), note(df) or f"no results with {column}")
    rows = df.dropna(subset=[column])
    g = rows.groupby(_groups(rows))[column]
    table = pd.DataFrame({"n": g.size(), "median": g.median(), "min": g.min(), "max": g.max()})
    if PRODUCTION in rows.columns:
        w = rows[PRODUCTION].astype(float)
        weighted = (rows[column] * w).groupby([rows[c] for c in _groups(rows)]).sum()
        table["production_weighted_mean"] = weighted / w.groupby([rows[c] for c in _groups(rows)]).sum()
    names = [HEADLINE_INDEX[GROUPS.index(c)] for c in _groups(rows)]
    table.index = pd.MultiIndex.from_tuples([_labelled(_groups(rows), key) for key in table.index], names=names)
    return _with_note(table, "kg CO2e per declared unit (IPCC AR6 GWP100); n: enterprises with a footprint")


def batch_overview(manifest: dict) -> pd.DataFrame:
    """Batch id, timing, settings, rule and factor sets (with their sha256) and software versions as a two-column
    table: the technical record, shown at the end of the summary."""
    settings = manifest.get("settings") or {}
    factor = manifest.get("factor_set") or {}
    rows = {
        "batch_id": manifest.get("batch_id"),
        "started_at": manifest.get("started_at"),
        "finished_at": manifest.get("finished_at"),
        "wall_s": manifest.get("wall_s"),
        **{f"settings.{k}": v for k, v in settings.items()},
        "rule_sets": ", ".join(f"{r.get('id')} {r.get('version')} (sha256 {r.get('sha256')})"
                               for r in manifest.get("rule_sets") or []),
        "factor_set": f"{factor.get('id')} {factor.get('version')} (sha256 {factor.get('sha256')})" if factor
        else None,
        "software": ", ".join(f"{k} {v}" for k, v in (manifest.get("software") or {}).items()),
    }
    return pd.DataFrame({"item": list(rows), "value": [str(v) if v is not None else "" for v in rows.values()]})


def status_table(manifest: dict) -> pd.DataFrame:
    """Number of runs per status (every known status, in a fixed order, then any other), with a total row.

    Counted from the manifest's runs; when the manifest lists no runs, its ``counts`` are shown instead.
    """
    runs = manifest.get("runs") or []
    if runs:
        counts = pd.Series([r.get("status") or "unknown" for r in runs]).value_counts().to_dict()
    else:
        counts = {k: v for k, v in (manifest.get("counts") or {}).items() if k != "total"}
    order = list(STATUSES) + sorted(set(counts) - set(STATUSES))
    table = pd.DataFrame({"status": order, "runs": [int(counts.get(s, 0)) for s in order]})
    table = pd.concat([table, pd.DataFrame({"status": ["total"], "runs": [int(table["runs"].sum())]})])
    return table.set_index("status")


def _message(run: dict) -> str:
    parts = [str(run["error"])] if run.get("error") else []
    parts += [str(p) for p in run.get("problems") or []]
    return "; ".join(parts)


def problems_table(manifest: dict) -> pd.DataFrame:
    """Every run that neither succeeded nor was skipped: file, enterprise and product (read from an invalid file
    as far as it could be read, else the file's name), status and the error or the file's problems."""
    from methodology.schema.vocabulary import label

    rows = [{"parameter_file": r.get("parameter_file"),
             "enterprise": r.get("enterprise") or Path(str(r.get("parameter_file") or "")).stem,
             "product": label("products", r.get("product")), "status": r.get("status"), "message": _message(r),
             "out_dir": r.get("out_dir")}
            for r in manifest.get("runs") or [] if r.get("status") not in ("ok", "skipped")]
    table = pd.DataFrame(rows, columns=PROBLEM_COLUMNS).astype(object).fillna("")
    return _with_note(table, None if rows else "no problems: every run succeeded or was skipped as unchanged")


# ------------------------------------------------------------------------------------------------ result tables


GROUPS = ["industry", "product", "route"]  # a batch may hold several industries (steel and cement ship together)


def _groups(df: pd.DataFrame) -> list[str]:
    return [c for c in GROUPS if c in df.columns]


_KINDS = {"industry": "industries", "product": "products", "route": "routes"}


def _labelled(columns: list[str], key) -> tuple[str, ...]:
    """A group's key (industry, product, route ids) as bilingual labels (``standards/vocabulary/zh-en.yaml``)."""
    from methodology.schema.vocabulary import label

    key = key if isinstance(key, tuple) else (key,)
    return tuple(label(_KINDS[c], v) for c, v in zip(columns, key, strict=True))


def distribution_table(df: pd.DataFrame, column: str = TOTAL) -> pd.DataFrame:
    """Per industry, product and route: n, min, quartiles, median, mean and max of ``column`` (default the
    total)."""
    if df.empty or column not in df.columns:
        index = pd.MultiIndex.from_tuples([], names=GROUPS)
        empty = pd.DataFrame(columns=DISTRIBUTION_COLUMNS, index=index)
        return _with_note(empty, note(df) or f"no results with {column}")
    g = df.dropna(subset=[column]).groupby(_groups(df))[column]
    table = pd.DataFrame({
        "n": g.size(), "min": g.min(), "p25": g.quantile(0.25), "median": g.median(), "mean": g.mean(),
        "p75": g.quantile(0.75), "max": g.max(),
    })
    return _with_note(table[DISTRIBUTION_COLUMNS], None)


def _product_rows(df: pd.DataFrame, product: str) -> pd.DataFrame:
    if df.empty or "product" not in df.columns or product not in set(df["product"]):
        raise KeyError(f"product {product!r} not in the results table (products: {', '.join(products(df))})")
    return df[df["product"] == product].dropna(subset=[TOTAL])


def ranking(df: pd.DataFrame, product: str) -> pd.DataFrame:
    """Enterprises of one product ranked by total footprint, lowest first (rank 1), with fossil and biogenic
    parts, route, data-quality score and checks."""
    rows = _product_rows(df, product).sort_values([TOTAL, "enterprise"])
    table = rows[[c for c in RANKING_COLUMNS if c in rows.columns]].reset_index(drop=True)
    table.insert(0, "rank", table[TOTAL].rank(method="min").astype(int))
    return _with_note(table.set_index("rank"), None)


def _breakdown(rows: pd.DataFrame, prefix: str) -> pd.DataFrame:
    cols = [c for c in rows.columns if c.startswith(prefix)]
    parts = rows[cols].astype(float).fillna(0.0).rename(columns=lambda c: c.removeprefix(prefix))
    parts = parts.loc[:, (parts != 0).any(axis=0)]  # components of other routes or products, zero here
    residual = rows[TOTAL].astype(float) - parts.sum(axis=1)
    if (residual.abs() > 1e-6 * np.maximum(1.0, rows[TOTAL].abs())).any():
        parts[UNEXPLAINED] = residual
    return parts


def routes(df: pd.DataFrame, product: str) -> list[str]:
    """The routes of one product in the results table, sorted."""
    return sorted(_product_rows(df, product)["route"].dropna().unique().tolist())


def spread_drivers(df: pd.DataFrame, product: str, prefix: str = "stage:", route: str | None = None) -> pd.DataFrame:
    """What drives the spread of the total between the enterprises of one product made by one route.

    Within a route, for each breakdown column c with this prefix: its share of the variance of the total,
    cov(c, total) / var(total). The breakdown sums to the total, so var(total) = sum over c of cov(c, total)
    and the shares sum to 1: a share is the part of the differences between these enterprises that comes from
    that component. When every component moves with the total, each share lies between 0 and 1; a negative share
    means the component moves against the total (damps the spread). Routes are never pooled: between routes the
    stages differ in kind (a route without coking has no coking to vary), which is what gave shares such as 1.8
    and -0.7; ``route`` may be left out only when the product has one route in the table. Should the columns not
    sum to the total, the difference is added as a row ``(not in breakdown)`` so the shares still sum to 1.
    Components that are zero for every enterprise of the route are left out. Also the mean, standard
    deviation, minimum and maximum of each column. Sorted by share, largest first. With fewer than two
    enterprises or no spread, an empty table with a note.
    """
    rows = _product_rows(df, product)
    if route is None:
        known = sorted(rows["route"].dropna().unique().tolist()) if "route" in rows.columns else []
        if len(known) > 1:
            raise ValueError(f"product {product!r} has {len(known)} routes in the results table ({', '.join(known)})"
                             ": the spread is explained within one route, give route=")
        route = known[0] if known else None
    if route is not None:
        rows = rows[rows["route"] == route]
    what = f"{product} by {route}" if route else product
    empty = pd.DataFrame(columns=SPREAD_COLUMNS).rename_axis("component")
    if len(rows) < 2:
        return _with_note(empty, f"{what}: {len(rows)} enterprise(s), no spread to explain")
    total = rows[TOTAL].astype(float)
    if total.std() <= 1e-12 * max(1.0, abs(total.mean())):
        return _with_note(empty, f"{what}: every enterprise has the same total, no spread to explain")
    parts = _breakdown(rows, prefix)
    if parts.empty:
        return _with_note(empty, f"{what}: no columns with prefix {prefix!r}")
    cov = parts.apply(lambda c: c.cov(total))
    table = pd.DataFrame({
        "share": cov / total.var(), "cov_with_total": cov, "mean": parts.mean(), "std": parts.std(),
        "min": parts.min(), "max": parts.max(),
    }).rename_axis("component")
    table = table.sort_values("share", ascending=False)
    return _with_note(table, f"{what}: {len(rows)} enterprises, total {total.mean():.4g} +/- "
                             f"{total.std():.4g} (std) {UNIT_LABEL}")


TOP_N = 10  # enterprises at each end of a list or figure: readable at 600 enterprises as at 6


def _ends(rows: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` first and ``n`` last rows (all of them when there are at most 2n)."""
    return rows if len(rows) <= 2 * n else pd.concat([rows.head(n), rows.tail(n)])


def top_bottom(df: pd.DataFrame, product: str, n: int = TOP_N) -> pd.DataFrame:
    """The ``n`` enterprises of one product with the lowest and the ``n`` with the highest total (all of them when
    there are at most 2n), ranked as in :func:`ranking`."""
    table = ranking(df, product)
    if len(table) <= 2 * n:
        return table
    return _with_note(_ends(table, n), f"{product}: the {n} lowest and the {n} highest of {len(table)} enterprises "
                                       f"(ranks 1-{n} and {len(table) - n + 1}-{len(table)})")


# ------------------------------------------------------------------------------------------------------ figures


def _figure(width: float, height: float):
    from methodology.outputs.figures import new_axes

    ax = new_axes((width, height))
    return ax.figure, ax


def _finish(fig, path: str | Path | None):
    if path is None:
        fig.tight_layout()
    else:
        from methodology.outputs.figures import save_png

        save_png(fig, path)
    return fig


def _no_results(ax, text: str = "no results"):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def distribution_figure(df: pd.DataFrame, path: str | Path | None = None):
    """Box plot of the total per industry, product and route, each enterprise a (jittered) point over it."""
    ok = not df.empty and TOTAL in df.columns
    groups = list(df.dropna(subset=[TOTAL]).groupby(_groups(df))) if ok else []
    fig, ax = _figure(10.0, 5.5)  # fixed: a box per product and route, however many enterprises
    if not groups:
        _no_results(ax)
        return _finish(fig, path)
    values = [g[TOTAL].to_numpy(float) for _, g in groups]
    ax.boxplot(values, positions=range(len(values)), widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)  # fixed jitter: the same figure on every run
    n = max(len(v) for v in values)
    for i, v in enumerate(values):
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=22 if n <= 50 else 6, color="#c0504d",
                   alpha=0.8 if n <= 50 else 0.35, zorder=3)
    import textwrap

    ticks = ["\n".join(textwrap.fill(t, 18) for t in _labelled(_groups(df), key)) + f"\n(n={len(v)})"
             for (key, _), v in zip(groups, values, strict=True)]
    crowded = len(values) > 6
    ax.set_xticks(range(len(values)), ticks, fontsize=6 if crowded else 7, rotation=30 if crowded else 0,
                  ha="right" if crowded else "center")
    ax.set_ylabel(UNIT_LABEL)
    ax.set_title("Total footprint per " + ", ".join(_groups(df)))
    return _finish(fig, path)


def stacked_stage_figure(df: pd.DataFrame, product: str, path: str | Path | None = None, prefix: str = "stage:",
                         n: int = TOP_N):
    """Stacked bars of the stage contributions per enterprise of one product, ordered by total.

    Positive contributions stack upwards from zero, credits (negative) downwards below zero; a black diamond
    marks each enterprise's total. With more than ``2 * n`` enterprises only the ``n`` lowest and the ``n``
    highest are drawn (the title says how many of how many): the figure keeps one size, however large the batch.
    """
    rows = _product_rows(df, product).sort_values([TOTAL, "enterprise"])
    shown = _ends(rows, n)
    parts = _breakdown(shown, prefix)
    parts = parts[parts.mean().sort_values(ascending=False).index]  # largest at the bottom, credits last
    of = "" if len(shown) == len(rows) else f" ({n} lowest and {n} highest of {len(rows)})"
    rows = shown
    fig, ax = _figure(max(6.0, 0.45 * len(rows) + 4), 4.8)
    x = np.arange(len(rows))
    up, down = np.zeros(len(rows)), np.zeros(len(rows))
    colours = _colours(len(parts.columns))
    for colour, (name, col) in zip(colours, parts.items(), strict=True):
        v = col.to_numpy(float)
        bottom = np.where(v >= 0, up, down)
        ax.bar(x, v, bottom=bottom, width=0.65, color=colour, label=name)
        up, down = up + np.clip(v, 0, None), down + np.clip(v, None, 0)
    ax.scatter(x, rows[TOTAL], marker="D", color="black", zorder=3, label="total")
    ax.axhline(0, color="black", linewidth=0.8)
    if of:  # the enterprises between the two ends are not drawn
        ax.axvline(n - 0.5, color="grey", linestyle="--", linewidth=0.8)
    pad = max(0.0, (3 - len(rows)) / 2)  # keep bars narrow when there are few enterprises
    ax.set_xlim(-0.6 - pad, len(rows) - 0.4 + pad)
    ax.set_xticks(x, [f"{e}\n({r})" for e, r in zip(rows["enterprise"], rows["route"], strict=True)],
                  rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(UNIT_LABEL)
    ax.set_title(f"{product}: contributions by {prefix.rstrip(':')} per enterprise{of}")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _finish(fig, path)


def _colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-") or "product"


MC = ("mc_median_kg_co2e", "mc_p2_5_kg_co2e", "mc_p97_5_kg_co2e")


def uncertainty_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per enterprise and product with a Monte Carlo: the total, median and 95 % interval, cv and what drives the
    spread most (``mc_*`` columns of the results table)."""
    if df.empty or MC[0] not in df.columns or df[MC[0]].isna().all():
        return _with_note(pd.DataFrame(), "no Monte Carlo in these results")
    cols = ["enterprise", "product", "route", TOTAL, *MC, "mc_cv", "mc_top_driver", "mc_top_driver_share"]
    return df.dropna(subset=[MC[0]])[[c for c in cols if c in df.columns]].sort_values(["product", "enterprise"])


def uncertainty_figure(df: pd.DataFrame, path: str | Path | None = None):
    """Each enterprise's 95 % interval (Monte Carlo) as a bar from the 2.5th to the 97.5th percentile, its median
    and its deterministic total, grouped by product."""
    t = uncertainty_table(df)
    whole = len(t)
    if not t.empty and whole > 2 * TOP_N:  # bounded height: the widest intervals (relative to the median)
        t = t.assign(_cv=t["mc_cv"] if "mc_cv" in t.columns else (t[MC[2]] - t[MC[1]]) / t[MC[0]].abs())
        t = t.nlargest(2 * TOP_N, "_cv").sort_values(["product", "enterprise"])
    fig, ax = _figure(8, 0.32 * max(len(t), 4) + 1.5)
    if t.empty:
        _no_results(ax, "no Monte Carlo in these results")
        return _finish(fig, path)
    labels = [f"{p} | {e}" for p, e in zip(t["product"], t["enterprise"], strict=True)]
    y = np.arange(len(t))
    ax.hlines(y, t[MC[1]], t[MC[2]], color="#4f81bd", linewidth=5, alpha=0.6, label="95 % interval")
    ax.scatter(t[MC[0]], y, color="#1f3b73", zorder=3, s=18, label="median")
    ax.scatter(t[TOTAL], y, color="#c0504d", marker="|", zorder=4, s=120, label="deterministic")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(UNIT_LABEL)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Uncertainty of each footprint (Monte Carlo, 95 % interval)" + (
        "" if len(t) == whole else f"\nthe {len(t)} widest of {whole}"))
    return _finish(fig, path)


def save_figures(df: pd.DataFrame, batch_dir: str | Path, subdir: str = "figures") -> list[Path]:
    """Write the batch figures as PNG into ``batch_dir/figures``: ``distribution.png`` and one
    ``stages-<product>.png`` per product. No results: no figures (empty list)."""
    if df.empty:
        return []
    out = Path(batch_dir) / subdir
    paths = [out / "distribution.png"]
    distribution_figure(df, paths[0])
    for product in products(df):
        path = out / f"stages-{_slug(product)}.png"
        stacked_stage_figure(df, product, path)
        paths.append(path)
    if not uncertainty_table(df).empty:
        paths.append(out / "uncertainty.png")
        uncertainty_figure(df, paths[-1])
    return paths


def show(table: pd.DataFrame, digits: int = 1) -> None:
    """In a notebook: print the table's note, if any, and display the table rounded unless it is empty."""
    from IPython.display import display

    if note(table) or table.empty:
        print(note(table) or "nothing to show")
    if not table.empty:
        display(table.round(digits))
