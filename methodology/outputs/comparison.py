"""What rule variants do to every enterprise: the comparison table, per-variant summary and figure.

Pure functions over results (``core.result.Result``): one row per enterprise, product and variant with the base
and variant totals, the change, what caused it (the stage and the input whose contribution moved most) and the
enterprise's rank among the enterprises making the same declared product, under the base and under the variant.
``execution.compare`` computes the results; the notebook ``notebooks/rule-variants.ipynb`` shows them.
"""

from __future__ import annotations

import pandas as pd

from methodology.core.result import Result

COLUMNS = ["enterprise", "enterprise_name", "rule_set", "product", "product_family", "route", "variant",
           "variant_title", "base_kg_co2e", "variant_kg_co2e", "change_kg_co2e", "change_share", "rank_base",
           "rank_variant", "rank_change", "main_stage", "main_stage_change_kg_co2e", "main_input",
           "main_input_change_kg_co2e", "status", "error"]


def _largest_change(base: dict[str, float], other: dict[str, float]) -> tuple[str | None, float]:
    keys = set(base) | set(other)
    if not keys:
        return None, 0.0
    key = max(sorted(keys), key=lambda k: abs(other.get(k, 0.0) - base.get(k, 0.0)))
    change = other.get(key, 0.0) - base.get(key, 0.0)
    return (key, change) if abs(change) > 1e-9 else (None, 0.0)


def _by_input(r: Result) -> dict[str, float]:
    out: dict[str, float] = {}
    for x in r.by_input:
        out[x.source] = out.get(x.source, 0.0) + x.total
    return out


def row(base: Result, variant: Result, variant_id: str, title: str) -> dict:
    """One comparison row: totals, change and its cause (the stage and the input whose contribution moved most)."""
    b, v = base.gwp100_kg_co2e.total, variant.gwp100_kg_co2e.total
    stage, stage_change = _largest_change({s.stage: s.total for s in base.by_stage},
                                          {s.stage: s.total for s in variant.by_stage})
    source, source_change = _largest_change(_by_input(base), _by_input(variant))
    return {"enterprise": base.enterprise.id, "enterprise_name": base.enterprise.name,
            "rule_set": base.provenance.rule_set.id, "product": base.product.id,
            "product_family": base.product_family.id if base.product_family else None, "route": base.route.id,
            "variant": variant_id, "variant_title": title, "base_kg_co2e": b, "variant_kg_co2e": v,
            "change_kg_co2e": v - b, "change_share": (v - b) / b if b else None,
            "main_stage": stage, "main_stage_change_kg_co2e": stage_change,
            "main_input": source, "main_input_change_kg_co2e": source_change, "status": "ok", "error": None}


def failed_row(base: Result | None, ident: dict, variant_id: str, title: str, error: str) -> dict:
    """A row for a variant that could not be applied or computed for this enterprise (the reason in ``error``)."""
    out = dict.fromkeys(COLUMNS)
    out |= ident | {"variant": variant_id, "variant_title": title, "status": "failed", "error": error}
    if base is not None:
        out["base_kg_co2e"] = base.gwp100_kg_co2e.total
    return out


def ranked(rows: list[dict]) -> pd.DataFrame:
    """The table with ranks (1 = lowest footprint) among the enterprises making the same declared product and
    family under the same base rule, under the base and under each variant; ``rank_change`` = variant - base."""
    df = pd.DataFrame(rows, columns=COLUMNS)
    if df.empty:
        return df
    ok = df["status"] == "ok"
    group = ["rule_set", "product", "product_family", "variant"]
    keys = pd.Series(["|".join("" if pd.isna(x) else str(x) for x in r) for r in df[group].itertuples(index=False)],
                     index=df.index)
    for col, total in (("rank_base", "base_kg_co2e"), ("rank_variant", "variant_kg_co2e")):
        df.loc[ok, col] = df[ok].groupby(keys[ok])[total].rank(method="min").astype(int)
    df.loc[ok, "rank_change"] = df.loc[ok, "rank_variant"] - df.loc[ok, "rank_base"]
    for col in ("rank_base", "rank_variant", "rank_change"):
        df[col] = df[col].astype("Int64")
    return df.sort_values(["variant", "rule_set", "product", "enterprise"], kind="stable").reset_index(drop=True)


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per variant: enterprises compared, mean, smallest and largest change (kg CO2e and share), how many
    enterprises change rank, and failures."""
    if df.empty:
        return pd.DataFrame()
    out = []
    for vid, g in df.groupby("variant", sort=True):
        ok = g[g["status"] == "ok"]
        out.append({"variant": vid, "title": g["variant_title"].iloc[0], "enterprises": len(ok),
                    "mean_change_kg_co2e": ok["change_kg_co2e"].mean() if len(ok) else None,
                    "min_change_kg_co2e": ok["change_kg_co2e"].min() if len(ok) else None,
                    "max_change_kg_co2e": ok["change_kg_co2e"].max() if len(ok) else None,
                    "min_change_share": ok["change_share"].min() if len(ok) else None,
                    "max_change_share": ok["change_share"].max() if len(ok) else None,
                    "rank_changes": int((ok["rank_change"].fillna(0) != 0).sum()),
                    "failed": int((g["status"] != "ok").sum())})
    return pd.DataFrame(out)


def figure(df: pd.DataFrame):
    """Horizontal bars: the change of every enterprise's total under each variant, in % of its base total."""
    import matplotlib.pyplot as plt

    ok = df[df["status"] == "ok"]
    variants = list(dict.fromkeys(ok["variant"]))
    fig, axes = plt.subplots(len(variants) or 1, 1, figsize=(8, 0.35 * max(len(ok), 4) + 1.2 * len(variants)),
                             squeeze=False)
    for ax, vid in zip(axes[:, 0], variants, strict=False):
        g = ok[ok["variant"] == vid]
        labels = [f"{e} ({p})" for e, p in zip(g["enterprise"], g["product"], strict=True)]
        values = (g["change_share"].fillna(0) * 100).to_numpy()
        ax.barh(labels, values, color=["#2b7bba" if x < 0 else "#c0392b" for x in values])
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_title(f"{vid}: change of the total, % of the base", fontsize=10)
        ax.invert_yaxis()
    fig.tight_layout()
    return fig
