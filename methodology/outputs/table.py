"""The tidy results table of a batch: one row per enterprise and product, flattened from result.json.

Columns (README, *Batch runs*): identity (enterprise, product, route, industry, province, illustrative), the
totals in kg CO2e per declared unit, the main breakdowns as prefixed columns (``stage:<id>``,
``origin:<id>``, ``gas:<group>``), data-quality scores (pedigree 1-5: ``dq_weighted_score`` of the activity data,
``dq_factor_score``, ``dq_combined_score``), traceability shares (``trace_<what>_share``: fractions 0-1 of the
absolute contributions), checks, provenance, and the run's status.
"""

from __future__ import annotations

from pathlib import Path

from methodology.core.result import Result, as_json

TOTALS = ["total", "fossil", "biogenic", "land_use", "total_excluding_biogenic", "gross", "credits"]
PREFIXES = ("stage:", "origin:", "gas:")
PER_KG = "per_kg:"  # the footprint per kg of a declared component (result.json per_component); empty if none
TRACE_SHARES = ("verified_share", "unverified_share", "no_factor_share", "partial_share", "proxy_share",
                "illustrative_share")


def result_row(result: Result | dict, industry: str | None = None) -> dict:
    """Flatten one result (the model or its JSON content) into one row of the results table; ``industry``: the
    rule's industry (the batch knows it from the rule each file names)."""
    result = as_json(result)
    ent, prov = result["enterprise"], result["provenance"]
    g = result["gwp100_kg_co2e"]
    dq = result.get("data_quality", {})
    checks = result.get("checks", {})
    trace = result.get("traceability", {})
    row = {
        "enterprise": ent["id"],
        "enterprise_name": ent.get("name"),
        "province": ent.get("province"),
        "illustrative": ent.get("illustrative"),
        "product": result["product"]["id"],
        "product_family": (result.get("product_family") or {}).get("id"),
        "route": result["route"]["id"],
        "industry": industry,
        "declared_unit": f"{result['declared_unit']['amount']:g} {result['declared_unit']['unit']}",
        **{f"gwp100_{k}_kg_co2e": g.get(k) for k in TOTALS},
    }
    row |= {f"stage:{s['stage']}": s["total"] for s in result["by_stage"]}
    row |= {f"origin:{k}": v["total"] for k, v in result["by_origin"].items()}
    row |= {f"gas:{k}": v["total"] for k, v in result["by_gas"].items()}
    row |= {f"{PER_KG}{c['id']}": c["kg_co2e_per_kg"] for c in result.get("per_component", [])}
    row |= {
        "dq_weighted_score": dq.get("weighted_score"),  # activity data; pedigree 1 (best) to 5
        "dq_factor_score": dq.get("factor_score"),
        "dq_combined_score": dq.get("combined_score"),  # the score the rule's max_weighted_score applies to
        "dq_primary_data_share": dq.get("primary_data_share"),
        "dq_meets_rule": dq.get("meets_rule"),
        # fractions 0-1 of the absolute contributions resting on verified / unverified / no factors, and on
        # partial, proxy, illustrative factors (result.json traceability, decision record 0009)
        **{f"trace_{k}": trace.get(k) for k in TRACE_SHARES},
        # Monte Carlo of the total (result.json uncertainty, decision record 0015); empty when none was run
        **_uncertainty_columns(result.get("uncertainty")),
        "checks_all_passed": all(v for v in checks.values() if isinstance(v, bool)),
        "within_route_plausible_range": checks.get("within_route_plausible_range"),
        "review_items": len(checks.get("review", [])),
        "electricity_factor": result.get("electricity_factor"),
        "allocation": result.get("allocation", {}).get("approach"),
        "rule_set": prov["rule_set"]["id"],
        "rule_set_version": prov["rule_set"]["version"],
        "rule_set_sha256": prov["rule_set"].get("sha256"),  # the rule's content: part of its identity (decision 0013)
        "factor_set": prov["factor_set"]["id"],
        "factor_set_version": prov["factor_set"]["version"],
        "factor_set_sha256": prov["factor_set"].get("sha256"),
        "parameter_file": prov["parameter_file"]["path"],
        "parameter_sha256": prov["parameter_file"]["sha256"],
        "software_version": prov["software"].get("pcf-workbench"),
    }
    return row


def _uncertainty_columns(u: dict | None) -> dict:
    u = u or {}
    top = (u.get("drivers") or [{}])[0]
    sob = (u.get("sobol") or [{}])[0]
    return {"mc_median_kg_co2e": u.get("median"), "mc_p2_5_kg_co2e": u.get("p2_5"),
            "mc_p97_5_kg_co2e": u.get("p97_5"), "mc_cv": u.get("cv"), "mc_iterations": u.get("iterations"),
            "mc_top_driver": top.get("quantity"), "mc_top_driver_share": top.get("share"),
            "sobol_top_group": sob.get("group"), "sobol_top_st": sob.get("ST")}


def results_frame(rows: list[dict]):
    """A DataFrame with a stable column order: identity, totals, breakdowns (sorted), the rest."""
    import pandas as pd

    df = pd.DataFrame(rows)
    if df.empty:
        return df
    breakdown = sorted(c for c in df.columns if c.startswith(PREFIXES))
    per_kg = sorted(c for c in df.columns if c.startswith(PER_KG))
    first = [c for c in df.columns if not c.startswith((*PREFIXES, PER_KG))]
    head = first[: first.index("declared_unit") + 1 + len(TOTALS)]
    tail = [c for c in first if c not in head]
    df = df[head + per_kg + breakdown + tail]
    df[breakdown] = df[breakdown].fillna(0.0)
    return df.sort_values(["industry", "product", "route", "enterprise"]).reset_index(drop=True)


KG = "kg CO2e per declared unit"
# name -> (meaning, unit) of every fixed column; prefixed and generated columns in ``describe`` (docs/batch.md)
COLUMNS = {
    "enterprise": ("enterprise id (parameter file)", ""), "enterprise_name": ("enterprise name", ""),
    "province": ("province of the site", ""), "illustrative": ("fictional enterprise and data", "true/false"),
    "product": ("declared product id (rule)", ""), "product_family": ("product family (grade, type), if any", ""),
    "route": ("production route id (rule)", ""), "industry": ("industry of the rule", ""),
    "declared_unit": ("amount and unit the figures are per", ""),
    **{f"gwp100_{k}_kg_co2e": (f"GWP100 (IPCC AR6) {k.replace('_', ' ')}", KG) for k in TOTALS},
    "dq_weighted_score": ("pedigree score of the activity data, weighted by contribution", "1 best - 5 worst"),
    "dq_factor_score": ("pedigree score of the factors, weighted by contribution", "1 best - 5 worst"),
    "dq_combined_score": ("per input the worse of activity and factor, weighted (the rule's limit)", "1 - 5"),
    "dq_primary_data_share": ("share of the footprint resting on primary data", "fraction 0-1"),
    "dq_meets_rule": ("the data quality meets the rule's requirements", "true/false"),
    **{f"trace_{k}": (f"share of the absolute contributions resting on {k.removesuffix('_share').replace('_', ' ')}"
                      " factors", "fraction 0-1") for k in TRACE_SHARES},
    "mc_median_kg_co2e": ("Monte Carlo median of the total", KG),
    "mc_p2_5_kg_co2e": ("Monte Carlo 2.5th percentile of the total", KG),
    "mc_p97_5_kg_co2e": ("Monte Carlo 97.5th percentile of the total", KG),
    "mc_cv": ("Monte Carlo coefficient of variation of the total", "ratio"),
    "mc_iterations": ("Monte Carlo iterations kept", "count"),
    "mc_top_driver": ("the uncertain quantity that drives the spread most (data:<process>.<key> or factor:<id>)", ""),
    "mc_top_driver_share": ("its share of the variance (normalised squared rank correlation)", "fraction 0-1"),
    "sobol_top_group": ("the group of quantities with the largest total-order Sobol index", ""),
    "sobol_top_st": ("its total-order Sobol index", "0-1"),
    "checks_all_passed": ("every check of the result passed", "true/false"),
    "within_route_plausible_range": ("the total lies in the rule's plausible range for the route", "true/false"),
    "review_items": ("values outside plausible ranges the rule makes warnings", "count"),
    "electricity_factor": ("factor the grid purchases took", ""),
    "allocation": ("the rule's co-product approach", ""),
    "rule_set": ("product category rule id", ""), "rule_set_version": ("its version", ""),
    "rule_set_sha256": ("sha256 of the rule file (its content)", ""),
    "factor_set": ("emission-factor set id", ""), "factor_set_version": ("its version", ""),
    "factor_set_sha256": ("sha256 of the factor-set file", ""),
    "parameter_file": ("the parameter file (YAML, or a filled .xlsx workbook)", "path"),
    "parameter_sha256": ("sha256 of the parameter file (of a workbook: its .xlsx bytes)", ""),
    "software_version": ("PCF Workbench version", ""),
}
PREFIX_MEANING = {
    "stage:": ("GWP100 total of life-cycle stage <id>", KG),
    "origin:": ("GWP100 total of origin <id> (direct, electricity, upstream, transport, credit, ...)", KG),
    "gas:": ("GWP100 total of gas group <id>", KG),
    PER_KG: ("GWP100 total per kg of declared component <id> of the product (e.g. N, P2O5); empty when the "
             "product declares no such component", "kg CO2e per kg of the component"),
}


def describe(columns) -> list[dict]:
    """The column dictionary of a results table: name, meaning and unit of each column, in the table's order."""
    out = []
    for c in columns:
        prefix = next((p for p in (*PREFIXES, PER_KG) if c.startswith(p)), None)
        meaning, unit = (PREFIX_MEANING[prefix][0].replace("<id>", c[len(prefix):]), PREFIX_MEANING[prefix][1]) \
            if prefix else COLUMNS.get(c, ("", ""))
        out.append({"column": c, "meaning": meaning, "unit": unit})
    return out


def write_table(df, out_dir: str | Path, stem: str = "results") -> list[Path]:
    """CSV (UTF-8 with a byte-order mark, so that Excel shows Chinese names) and Parquet, and the column
    dictionary ``<stem>-columns.csv`` (name, meaning, unit), each written atomically."""
    import pandas as pd

    from methodology.outputs.files import atomic_write_bytes

    out_dir = Path(out_dir)
    csv = out_dir / f"{stem}.csv"
    atomic_write_bytes(csv, df.to_csv(index=False).encode("utf-8-sig"))
    pq = out_dir / f"{stem}.parquet"
    atomic_write_bytes(pq, df.to_parquet(index=False))
    cols = out_dir / f"{stem}-columns.csv"
    dictionary = pd.DataFrame(describe(df.columns))
    atomic_write_bytes(cols, dictionary.to_csv(index=False).encode("utf-8-sig"))
    xlsx = out_dir / f"{stem}.xlsx"
    atomic_write_bytes(xlsx, _xlsx(df, dictionary))
    return [csv, pq, cols, xlsx]


def _xlsx(df, dictionary) -> bytes:
    """The table and its column dictionary as an Excel workbook (openpyxl): sheet ``results`` with a frozen header
    row and filters, sheet ``columns`` with each column's meaning and unit."""
    import io

    import pandas as pd

    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        df.to_excel(xw, sheet_name="results", index=False)
        dictionary.to_excel(xw, sheet_name="columns", index=False)
        ws = xw.sheets["results"]
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = ws.dimensions
        for sheet in ("results", "columns"):
            for col in xw.sheets[sheet].columns:
                width = max(len(str(c.value or "")) for c in col[:50])
                xw.sheets[sheet].column_dimensions[col[0].column_letter].width = min(max(10, width + 2), 60)
    return buf.getvalue()
