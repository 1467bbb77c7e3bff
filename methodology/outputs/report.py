"""Tables and text for the notebooks: presentation only, from rule, foreground and result (model or JSON)."""

from __future__ import annotations

import pandas as pd

from methodology.core.foreground import Foreground
from methodology.core.result import Result, as_json
from methodology.schema.rules import Rule


def _clauses(refs) -> str:
    return "; ".join(f"{r.standard} {r.clause}" for r in refs)


_BASIS = {"energy": "NCV x carbon per unit of energy", "mass": "carbon mass fractions"}
_OXIDATION = {"complete": "all carbon not leaving in products or gases emitted (complete oxidation)",
              "factor": "fuel carbon oxidised at its oxidation rate, the rest left in residues"}


def family_markdown(rule: Rule, route_id: str, product_id: str, family_id: str | None) -> list[str]:
    """The product family's lines of the rule summary: designations, composition, the plausible footprint."""
    family = rule.declared_product(product_id).family(family_id)
    if family is None:
        return []
    pf, basis = rule.plausible_footprint(route_id, product_id, family_id)
    comp = ", ".join(f"{c.component} {c.min:.4g}-{c.max:.4g}" for c in family.composition)
    return [f"- **Product family**: {family.name} ({'; '.join(family.designation_text())})"
            + (f"; mass fractions {comp} ({family.composition_source})" if comp else ""),
            *([f"- **Plausible footprint** ({basis}): {pf.min:g}-{pf.max:g} {pf.unit} ({pf.source})"] if pf else [])]


def rule_markdown(rule: Rule, route_id: str, product_id: str, family_id: str | None = None) -> str:
    route = rule.route(route_id)
    product = rule.declared_product(product_id)
    du, ca = rule.declared_unit, rule.carbon_accounting
    lines = [
        f"**{rule.rule_set.title}** - rule set `{rule.id}` version `{rule.version}` ({rule.rule_set.status})",
        "",
        f"- **Declared unit**: {du.amount:g} {du.unit} - {du.description} ({_clauses(du.clause)})",
        f"- **Product**: {product.name}; **route**: {route.name}",
        *family_markdown(rule, route_id, product_id, family_id),
        f"- **System boundary**: {rule.system_boundary.type.replace('_', ' ')} - "
        f"{rule.system_boundary.description} ({_clauses(rule.system_boundary.clause)})",
        "- **Stages**: " + "; ".join(s.name for s in rule.system_boundary.stages),
        f"- **Route processes**: {', '.join(route.processes)}; optional: {', '.join(route.optional_processes)}",
        f"- **Co-products**: {rule.allocation.approach.value.replace('_', ' ')} "
        f"({_clauses(rule.allocation.clause)})",
        f"- **Cut-off**: below {rule.cut_off.mass_share_per_process:.0%} of mass or energy per process, "
        f"{rule.cut_off.cumulative_share:.0%} in total; excluded: {'; '.join(rule.cut_off.excluded)} "
        f"({_clauses(rule.cut_off.clause)})",
        *[f"- **Not counted**: {x.what} - {' '.join(x.why.split())}" for x in rule.cut_off.not_counted],
        *([f"- **Recycling and end of life**: {rule.end_of_life.approach.value.replace('_', '-')} approach for "
           f"{', '.join(rule.end_of_life.applies_to)} ({_clauses(rule.end_of_life.clause)})"]
          if rule.end_of_life else []),
        f"- **Carbon balances**: carbon contents on the {ca.content_basis.value} basis "
        f"({_BASIS[ca.content_basis.value]} where a factor gives both; measured values replace them), "
        f"{_OXIDATION[ca.oxidation.value]}"
        f"{f' ({_clauses(ca.clause)})' if ca.clause else ''}",
        f"- **Electricity**: {_grid_words(rule)} ({rule.electricity.basis.replace('_', ' ')}; "
        f"{_clauses(rule.electricity.clause)})",
        f"- **Data quality**: weighted pedigree score of activity data and factors combined at most "
        f"{rule.data_quality.max_weighted_score}, "
        f"primary data at least {rule.data_quality.min_primary_data_share:.0%}, reference period at most "
        f"{rule.data_quality.max_reference_period_age_years} years old ({_clauses(rule.data_quality.clause)})",
    ]
    return "\n".join(lines)


def _grid_words(rule: Rule) -> str:
    el = rule.electricity
    if el.grid_factor.value == "regional":
        return (f"the enterprise's grid region's factor ({len(el.regional_factors)} regions, decision record 0011; "
                f"national `{el.default_factor}` otherwise)")
    return f"`{el.default_factor}` for every enterprise (regional factors offered: decision record 0011)" if (
        el.regional_factors) else f"`{el.default_factor}`"


def grid_basis_table(results: dict[str, Result | dict | str]) -> pd.DataFrame:
    """The same enterprise under each grid basis ({basis: result, or why it could not be computed}; see
    ``Study.grid_factor_results``): the factor, what the grid purchases contribute and the total per declared unit,
    and the change from the first basis."""
    rows = []
    for basis, r in results.items():
        if isinstance(r, str):
            rows.append({"grid factor": basis, "region": "-", "factor": "not computed", "chosen by": r})
            continue
        d = as_json(r)
        g = d["scope"]["grid_electricity"]
        grid = sum(x["total"] for x in d["by_input"] if x["source"] == g["factor"])
        rows.append({"grid factor": g["grid_factor"], "region": g["grid_region"] or "-", "factor": g["factor"],
                     "chosen by": g["chosen_by"], "grid kg CO2e": grid, "total kg CO2e": d["gwp100_kg_co2e"]["total"]})
    df = pd.DataFrame(rows)
    if "total kg CO2e" in df:
        df["change kg CO2e"] = df["total kg CO2e"] - df["total kg CO2e"].iloc[0]
    return rounded(df)


def foreground_table(fg: Foreground) -> pd.DataFrame:
    rows = []
    for p in fg.processes.values():
        for e in p.exchanges:
            rows.append({"process": p.id, "stage": p.stage, "exchange": e.label, "kind": e.kind,
                         "target": e.target, "annual amount": e.amount, "origin": e.origin.value})
    return pd.DataFrame(rows)


def rounded(df: pd.DataFrame, decimals: int | dict[str, int] = 1) -> pd.DataFrame:
    """The frame with its numbers rounded for printing, and -0.0 shown as 0.0.

    Tables are the notebook's reproducibility record (nbval compares their text), so they print rounded
    values: float noise in the last digits, or a tiny negative rounding to -0.0, must not change the text.
    """
    out = df.round(decimals)
    floats = out.select_dtypes("floating").columns  # counts and ranks stay whole numbers
    out[floats] = out[floats] + 0.0
    return out


def totals_table(result: Result | dict) -> pd.DataFrame:
    g = as_json(result)["gwp100_kg_co2e"]
    return rounded(pd.DataFrame([{"indicator": k, "kg CO2e per declared unit": v} for k, v in g.items()]))


def breakdown_table(result: Result | dict, key: str) -> pd.DataFrame:
    items = as_json(result)[key]
    if isinstance(items, dict):
        items = [{key.removeprefix("by_"): k, **v} for k, v in items.items()]
    return rounded(pd.DataFrame(items))


def carbon_balance_table(result: Result | dict) -> pd.DataFrame:
    """kg C per year in, out and emitted of each process whose rule selects a carbon balance (may be none)."""
    columns = ["in", "out", "emitted", "emitted as t CO2"]
    if not as_json(result)["carbon_balance_kg_c"]:
        return pd.DataFrame(columns=columns)
    df = pd.DataFrame(as_json(result)["carbon_balance_kg_c"]).T
    df["emitted as t CO2"] = df["emitted"] * 44 / 12 / 1000
    return rounded(df[columns])


def site_balance_table(result: Result | dict) -> pd.DataFrame:
    """The site's carbon in, out and emitted (kg C per year and t CO2 equivalent of the carbon)."""
    site = as_json(result)["balances"]["site_carbon_kg_c"]
    labels = {"purchased_in": "carbon entering in purchased materials, fuels and intermediates",
              "leaving_in_products": "carbon leaving in products, co-products and residues",
              "leaving_in_gases": "carbon leaving in process gases (exported, or burned outside the product system)",
              "exported_in_gases": "  of which in gases exported off site",
              "emitted": "carbon emitted as CO2 (the footprint's direct CO2)",
              "set_to_zero": "negative process balances set to zero",
              "unoxidised": "carbon left unoxidised in residues (the rule's oxidation rates)",
              "residual": "not explained: carbon counted twice or lost (zero when the balances are right)"}
    return rounded(pd.DataFrame([{"flow": labels[k], "t C": v / 1000, "t CO2": v * 44 / 12 / 1000}
                                 for k, v in site.items() if k != "unoxidised" or v]))


def checks_table(result: Result | dict) -> pd.DataFrame:
    """Process-gas and electricity balances and metallic yields, each against the rule's tolerance, then the
    values the rule asks a reviewer to look at (``checks.review``)."""
    bal = as_json(result)["balances"]
    rows = [{"check": f"process gas {g['gas']}", "value": g["unaccounted"],
             "unit": "GJ/yr unaccounted", "detail": f"generated {g['generated']:.4g}, used {g['used']:.4g}, "
             f"exported {g['exported']:.4g}"} for g in bal["process_gases_gj"]
            if g["generated"] or g["used"] or g["exported"]]
    if bal["electricity_kwh"]:
        e = bal["electricity_kwh"]
        rows.append({"check": "site electricity", "value": e["unaccounted"], "unit": "kWh/yr unaccounted",
                     "detail": f"supplied {e['supplied']:.4g}, used {e['used']:.4g}"})
    rows += [{"check": y["name"], "value": y["ratio"], "unit": "t/t",
              "detail": f"range {y['min']}-{y['max']}: {'ok' if y['ok'] else 'OUTSIDE'}"} for y in bal["yields"]]
    rows += [{"check": f"{c['process']}: guideline method (fuels NCV x CC x OF) / carbon balance", "value": c["ratio"],
              "unit": "ratio",
              "detail": f"{c['factor_method_t_co2']:.6g} t CO2 against {c['carbon_balance_t_co2']:.6g}"}
             for c in bal["combustion_cross_check"]]
    rows += [{"check": f"REVIEW {r['field']}", "value": None, "unit": "",
              "detail": f"found {r['found']}; expected {r['expected']}"}
             for r in as_json(result)["checks"].get("review", [])]
    return rounded(pd.DataFrame(rows), {"value": 4})


def _detail_text(detail: dict) -> str:
    """A mechanism's inputs in one line: the method (PFCs), the factor, what was measured."""
    keys = ("method", "technology", "factor", "measured", "destruction", "utilisation", "ef_t_co2_per_t",
            "ef_basis", "kiln_dust_co2_t", "organic_carbon_co2_t", "calcination_fraction", "transferred_co2_kg")
    shown = {k: detail[k] for k in keys if k in detail and detail[k] not in (None, False)}
    if not shown.get("destruction"):  # no abatement: neither figure says anything
        shown.pop("destruction", None), shown.pop("utilisation", None)
    parts = [f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items()]
    fuels = [k for k, v in detail.items() if isinstance(v, dict) and "oxidation" in v]
    if fuels:
        parts.append("fuels " + ", ".join(f"{k} (OF {detail[k]['oxidation']:g})" for k in fuels))
    return "; ".join(parts)


def mechanism_table(result: Result | dict) -> pd.DataFrame:
    """Direct emissions per process and mechanism: t of each gas per year (whole process) and what was used."""
    rows = [{"process": d["process"], "mechanism": d["mechanism"],
             **{f"t {gas}/yr": kg / 1000 for gas, kg in d["kg_per_year"].items()},
             "inputs": _detail_text(d["detail"])} for d in as_json(result)["direct_emissions"]]
    df = pd.DataFrame(rows)
    gas_columns = sorted({c for r in rows for c in r if c.startswith("t ")})
    df = df.reindex(columns=["process", "mechanism", *gas_columns, "inputs"])
    df[gas_columns] = df[gas_columns].fillna(0.0)
    return rounded(df, 3)


def direct_per_unit_table(result: Result | dict) -> pd.DataFrame:
    """Direct emissions per declared unit by process and mechanism: kg of each gas, each process's annual
    mechanism result times the times it runs per declared unit (``process_scaling``)."""
    r = as_json(result)
    rows = [{"process": d["process"], "mechanism": d["mechanism"], "label": d["label"],
             **{f"kg {gas}": kg * r["process_scaling"].get(d["process"], 0.0) for gas, kg in d["kg_per_year"].items()}}
            for d in r["direct_emissions"]]
    df = pd.DataFrame(rows)
    gas_columns = sorted({c for row in rows for c in row if c.startswith("kg ")})
    df = df.reindex(columns=["process", "mechanism", "label", *gas_columns])
    df[gas_columns] = df[gas_columns].fillna(0.0)
    return rounded(df, 1)


def fuel_table(result: Result | dict, process: str) -> pd.DataFrame:
    """The fuels a process's combustion mechanism burned in the year: amount, energy, share of the heat, CO2 and its
    biogenic part (from the mechanism's record, so it shows exactly what was computed)."""
    rows = []
    for d in as_json(result)["direct_emissions"]:
        if d["process"] != process or d["mechanism"] != "combustion":
            continue
        rows += [{"fuel": k, "amount": v["amount"], "GJ": v["amount"] * v["ncv_gj_per_unit"],
                  "t CO2": v["co2_kg"] / 1000, "biogenic share": v.get("biogenic_share", 0.0),
                  "t CO2 biogenic": v["co2_kg"] / 1000 * v.get("biogenic_share", 0.0)}
                 for k, v in d["detail"].items() if isinstance(v, dict) and "co2_kg" in v]
    df = pd.DataFrame(rows, columns=["fuel", "amount", "GJ", "heat share", "t CO2", "biogenic share", "t CO2 biogenic"])
    if rows:
        df["heat share"] = df["GJ"] / df["GJ"].sum()
    return rounded(df, {"amount": 1, "GJ": 0, "heat share": 4, "t CO2": 1, "biogenic share": 4, "t CO2 biogenic": 1})


def product_carbon_text(result: Result | dict) -> str:
    c = as_json(result)["product_carbon"]
    return (f"Carbon in one declared unit of the product at the gate: {c['fossil_kg_c']:.1f} kg C fossil, "
            f"{c['biogenic_kg_c']:.1f} kg C biogenic ({c['basis']}).")


# --- traceability and data quality (result.json 2.3, decision record 0009) -------------------------------------
def traceability_text(result: Result | dict) -> str:
    """What the footprint rests on, as shares of its absolute contributions (``traceability``)."""
    t = as_json(result)["traceability"]
    text = (f"Of the footprint's absolute contributions ({t['absolute_kg_co2e']:.1f} kg CO2e; credits count by "
            f"their size), {t['verified_share']:.1%} rest on factors whose every cited source is verified, "
            f"{t['unverified_share']:.1%} on a factor citing a source not verified, {t['no_factor_share']:.1%} on "
            f"no factor; {t['partial_share']:.1%} on partial, {t['proxy_share']:.1%} on proxy and "
            f"{t['illustrative_share']:.1%} on illustrative factors.")
    if t["unverified_sources"]:
        text += " Sources to verify: " + ", ".join(t["unverified_sources"]) + "."
    return text


def factors_table(result: Result | dict) -> pd.DataFrame:
    """The factors used: status, limitations, which values, their sources, verified, pedigree score, and the kg
    CO2e per declared unit of the input resting on the factor's emissions (blank for properties only)."""
    r = as_json(result)
    kg = {x["factor"]: x["total"] for x in r["by_input"] if x["factor"]}
    rows = []
    for fid, f in r["factors_used"].items():
        for use in ("emissions", "properties"):
            v = f[use]
            if v is None:
                continue
            limits = ", ".join(f["limitations"]) if use == "emissions" else ""  # they qualify the emissions
            rows.append({"factor": fid, "status": f["status"], "limitations": limits or "-",
                         "values": use, "geography": f["geography"], "period": f["period"],
                         "sources": ", ".join(v["sources"]), "verified": v["verified"],
                         "pedigree score": v["pedigree_score"],
                         "kg CO2e": kg.get(fid) if use == "emissions" else None})
    df = pd.DataFrame(rows)
    df = df.assign(size=df["kg CO2e"].abs().fillna(-1)).sort_values(["size", "factor", "values"],
                                                                      ascending=[False, True, True])
    return rounded(df.drop(columns="size").reset_index(drop=True), {"kg CO2e": 1, "pedigree score": 2})


def sources_table(result: Result | dict) -> pd.DataFrame:
    """The sources the factors used cite, with their verification status."""
    return pd.DataFrame([{"source": k, "publisher": s["publisher"], "year": s["year"], "verified": s["verified"],
                          "table": s["table"], "cited by": ", ".join(s["cited_by"])}
                         for k, s in as_json(result)["sources_used"].items()])


def data_quality_table(result: Result | dict) -> pd.DataFrame:
    """Weighted pedigree indicators of the activity data, the factors and combined, then the scores."""
    dq = as_json(result)["data_quality"]
    parts = {"activity data": dq["weighted_indicators"], "factors": dq["factor_indicators"] or {},
             "combined": dq["combined_indicators"]}
    rows = [{"indicator": k, **{name: p.get(k) for name, p in parts.items()}} for k in dq["weighted_indicators"]]
    rows.append({"indicator": "score", "activity data": dq["weighted_score"], "factors": dq["factor_score"],
                 "combined": dq["combined_score"]})
    return rounded(pd.DataFrame(rows), 3)


def data_quality_text(result: Result | dict) -> str:
    """The rule's verdict on the combined score, primary data and data age."""
    dq = as_json(result)["data_quality"]
    verdict = "meets the rule" if dq["meets_rule"] else "does NOT meet the rule: " + "; ".join(dq["findings"])
    pef, pact = dq["pef_dqr"], dq["pact_dqr"]
    return (f"Combined score {dq['combined_score']:.2f} ({dq['combination']}); primary data "
            f"{dq['primary_data_share']:.1%}; reference period {dq['reference_period_age_years']} years before the "
            f"{dq['age_reference']['basis']} {dq['age_reference']['date']}: {verdict}.\n"
            f"PEF DQR {pef['DQR']:.2f} ({pef['level']}); PACT DQR technological {pact['technologicalDQR']:.2f}, "
            f"geographical {pact['geographicalDQR']:.2f}, temporal {pact['temporalDQR']:.2f}.")


def improve_first_table(result: Result | dict) -> pd.DataFrame:
    """The inputs to improve first (contribution share x (combined score - 1)), with their worst indicators."""
    rows = [{**x, "worst_indicators": ", ".join(x["worst_indicators"])}
            for x in as_json(result)["data_quality"]["improve_first"]]
    return rounded(pd.DataFrame(rows), 3)


def uncertainty_table(result: Result | dict) -> pd.DataFrame:
    """The Monte Carlo statistics of the total (kg CO2e per declared unit), or an empty table if none was run."""
    u = as_json(result).get("uncertainty")
    if not u:
        return pd.DataFrame()
    rows = [{"statistic": k, "kg CO2e": u[k]} for k in ("deterministic_kg_co2e", "mean", "median", "sd", "p2_5",
                                                         "p97_5")]
    rows.append({"statistic": "cv", "kg CO2e": u["cv"]})
    return rounded(pd.DataFrame(rows), 3)


def uncertainty_text(result: Result | dict) -> str:
    u = as_json(result).get("uncertainty")
    if not u:
        return "No Monte Carlo run (monte_carlo_iterations = 0)."
    drivers = "; ".join(f"{d['quantity']} {d['share']:.0%}" for d in u["drivers"][:5])
    return (f"{u['iterations']} iterations kept of {u['iterations'] + u['rejected']} (seed {u['seed']}; "
            f"{u['rejected']} had physically impossible sampled data), {u['quantities']} uncertain quantities. "
            f"95 % interval {u['p2_5']:.0f} to {u['p97_5']:.0f} kg CO2e around a median of {u['median']:.0f}. "
            f"Spread driven by: {drivers}. Held at their values: {u['not_sampled']}.")


def sobol_table(sobol) -> pd.DataFrame:
    """Sobol indices per group of quantities, largest total-order index first: from ``Study.sensitivity`` or from a
    result's ``uncertainty.sobol`` (empty when none)."""
    if isinstance(sobol, Result | dict):
        rows = (as_json(sobol).get("uncertainty") or {}).get("sobol") or []
    else:
        rows = [{"group": x.group, "quantities": x.quantities, "S1": x.S1, "S1_conf": x.S1_conf, "ST": x.ST,
                 "ST_conf": x.ST_conf} for x in sobol.indices]
    return rounded(pd.DataFrame(rows), 3)


def validation_table(rows: list[dict]) -> pd.DataFrame:
    """Validation cases (``execution.validation.evaluate``): published and computed values, relative difference
    and tolerance, whether within it."""
    df = pd.DataFrame(rows)
    return rounded(df[["case", "published", "computed", "unit", "difference", "tolerance", "within"]], 4)


def validation_text(cases) -> str:
    """Each case's title, source and explanation, as Markdown."""
    out = []
    for c in cases.cases:
        p = c.published
        check = "checked against the document" if p.verified else "not yet checked against the document"
        out.append(f"**{c.id}**: {c.title}. Published: {p.value:g} {p.unit} ({p.document}, {p.table}, {p.year}; "
                   f"{check}). Tolerance {c.tolerance:.1%}. {' '.join(c.explanation.split())}")
    return "\n\n".join(out)
