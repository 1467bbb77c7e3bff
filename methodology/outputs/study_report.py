"""The CFP study report of one result (ISO 14067:2018 clause 7, GB/T 24067-2024): one self-contained HTML page a
verifier reads without Jupyter, written by every run beside result.json (``report.html``).

Sections follow clause 7.3: goal and scope (declared unit, system boundary with the rule's diagram, rule set and
version, cut-off and what is not counted, allocation, electricity, carbon accounting), data (activity data
quality, factors with their sources and verification status, the traceability shares), results (totals split
fossil, biogenic and land use; by stage with a waterfall, by process, by gas; the credits), uncertainty and
sensitivity when a Monte Carlo ran, interpretation (what dominates, what the data quality and the unverified
sources mean), limitations, and the illustrative flag. Everything comes from ``result.json`` and the rule; nothing
is computed here. ``outputs.pdf_report`` lays the same page out as ``report.pdf``.
"""

from __future__ import annotations

import base64
import html

from methodology.core.result import Result, as_json
from methodology.outputs import figures, ruledoc

_e = ruledoc._e


def _png(ax) -> str:
    import io

    fig = ax.figure
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return f"<img alt='figure' src='data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}'/>"


def _rows(items, key: str = "name") -> list[list[str]]:
    return [[_e(x.get(key) or x.get("process") or x.get("stage")), f"{x['total']:,.1f}", f"{x['fossil']:,.1f}",
             f"{x['biogenic']:,.1f}", f"{x['land_use']:,.1f}"] for x in items]


def _goal_and_scope(r: dict, rule) -> list[str]:
    s, du, p = r["scope"], r["declared_unit"], r["provenance"]
    out = ["<h2>1 Goal and scope</h2>",
           f"<p>Cradle-to-gate carbon footprint of <b>{_e(r['product']['name'])}</b>"
           + (f", {_e(r['product_family']['name'])}" if r.get("product_family") else "")
           + f" made by {_e(r['enterprise']['name'])} ({_e(r['enterprise']['province'])}) on the route "
           f"{_e(r['route']['name'])}, reference period {_e(r['reference_period']['start'])} to "
           f"{_e(r['reference_period']['end'])}, for business-to-business communication and the provincial "
           "programme. Declared unit: " + f"{du['amount']:g} {_e(du['unit'])} ({_e(du['description'])}).</p>",
           f"<p>Product category rule <code>{_e(p['rule_set']['id'])} {_e(p['rule_set']['version'])}</code> "
           f"(sha256 <code>{_e(p['rule_set']['sha256'][:16])}</code>), factor set <code>{_e(p['factor_set']['id'])} "
           f"{_e(p['factor_set']['version'])}</code>; ISO 14067:2018 and GB/T 24067-2024; {_e(r['characterisation'])}."
           "</p>",
           f"<p><b>Cut-off</b>: {_e(s['cut_off'])}. <b>Excluded</b>: {_e('; '.join(s['excluded']))}.</p>"]
    if s["not_counted"]:
        out.append("<p><b>Inside the boundary but not quantified</b>: " + "; ".join(
            f"{_e(x['what'])} ({_e(x['why'])})" for x in s["not_counted"]) + ".</p>")
    out.append(f"<p><b>Allocation</b>: {_e(s['coproducts'].replace('_', ' '))}"
               + (f"; recycled inputs: {_e(s['end_of_life']['approach'])}" if s.get("end_of_life") else "")
               + f". <b>Electricity</b>: grid factor <code>{_e(s['grid_electricity']['factor'])}</code> "
               f"({_e(s['grid_electricity']['chosen_by'])}). <b>Carbon balances</b>: content basis "
               f"{_e(s['carbon_accounting']['content_basis'])}, oxidation "
               f"{_e(s['carbon_accounting']['oxidation'])}.</p>")
    if rule is not None:
        out.append("<p>System boundary (the rule's processes in their stages):</p>" + ruledoc.boundary_svg(rule))
    return out


def _data(r: dict) -> list[str]:
    dq, tr = r["data_quality"], r["traceability"]
    out = ["<h2>2 Data and data quality</h2>",
           f"<p>Combined pedigree score {dq['combined_score']:.2f} (1 best, 5 worst; {_e(dq['combination'])}); "
           f"primary data {dq['primary_data_share']:.0%}; PEF DQR {dq['pef_dqr']['DQR']:.2f} "
           f"({_e(dq['pef_dqr']['level'])}); the rule's requirements are "
           + ("met" if dq["meets_rule"] else "<b>not met</b>: " + _e("; ".join(dq["findings"]))) + ".</p>",
           f"<p>{tr['verified_share']:.0%} of the absolute contributions rest on factors whose sources were checked "
           f"against their documents, {tr['illustrative_share']:.0%} on illustrative placeholders, "
           f"{tr['proxy_share']:.0%} on proxies.</p>"]
    if dq["improve_first"]:
        out.append("<p>Inputs to improve first:</p>" + ruledoc._table(
            ["input", "share of contributions", "combined score", "worst indicators"],
            [[_e(x["source"]), f"{x['weight_share']:.1%}", f"{x['combined_score']:.2f}",
              _e(", ".join(x["worst_indicators"]))] for x in dq["improve_first"]]))
    factors = r["factors_used"]
    out.append("<p>Factors used:</p>" + ruledoc._table(
        ["factor", "status", "geography", "period", "sources"],
        [[f"<code>{_e(k)}</code> {_e(f['name'])}", _e(f["status"]), _e(f["geography"]), _e(f["period"]),
          _e(", ".join(sorted(set((f.get("emissions") or {}).get("sources", []) + (f.get("properties") or {})
                                  .get("sources", [])))))] for k, f in sorted(factors.items())]))
    return out


def _components(r: dict) -> list[str]:
    """The footprint per kg of each declared component (ISO 14067 6.3.3: a declared unit other than the mass)."""
    comps = r.get("per_component") or []
    if not comps:
        return []
    rows = [[_e(c["name"]), f"{100 * c['content']:.4g} %", _e(c["content_source"]) + f" ({_e(c['content_origin'])})",
             f"{c['kg_per_declared_unit']:,.1f}", f"{c['kg_co2e_per_kg']:,.3f}",
             f"{c['kg_co2e_per_kg_excluding_biogenic']:,.3f}"] for c in comps]
    return ["<h3>Per kg of each declared component</h3><p>The same footprint divided by the mass of each component in "
            "the declared unit; nothing is allocated among components.</p>"
            + ruledoc._table(["component", "content", "source", "kg per declared unit", "kg CO2e per kg",
                              "excluding biogenic"], rows)]


def _results(r: dict) -> list[str]:
    g = r["gwp100_kg_co2e"]
    head = ["", "total", "fossil", "biogenic", "land use"]
    out = ["<h2>3 Results (kg CO2e per declared unit)</h2>",
           f"<p style='font-size:1.4em'><b>{g['total']:,.1f}</b> kg CO2e: fossil {g['fossil']:,.1f}, biogenic "
           f"{g['biogenic']:,.1f}, land use {g['land_use']:,.1f}"
           + (f"; {g['gross']:,.1f} before {g['credits']:,.1f} of co-product credits" if g["credits"] else "")
           + ".</p>", _png(figures.stage_waterfall(r)),
           *_components(r),
           "<h3>By stage</h3>" + ruledoc._table(head, _rows(r["by_stage"])),
           "<h3>By process</h3>" + ruledoc._table(head, _rows(r["by_process"])),
           "<h3>By gas</h3>" + ruledoc._table(head, [[_e(k), f"{v['total']:,.1f}", f"{v['fossil']:,.1f}",
                                                    f"{v['biogenic']:,.1f}", f"{v['land_use']:,.1f}"]
                                                   for k, v in r["by_gas"].items()])]
    return out


def _uncertainty(r: dict) -> list[str]:
    u = r.get("uncertainty")
    if not u:
        return ["<h2>4 Uncertainty</h2><p>No Monte Carlo was run for this result.</p>"]
    out = ["<h2>4 Uncertainty and sensitivity</h2>",
           f"<p>Monte Carlo, {u['iterations']:,} iterations (seed {u['seed']}): median {u['median']:,.1f}, 95 % "
           f"interval {u['p2_5']:,.1f} to {u['p97_5']:,.1f} kg CO2e, coefficient of variation {u['cv']:.1%}. "
           f"{_e(u['method'])}. Held at their values: {_e(u['not_sampled'])}.</p>",
           _png(figures.uncertainty_tornado(r))]
    if u.get("sobol"):
        out.append("<p>Sobol indices (SALib) per group of quantities:</p>" + ruledoc._table(
            ["group", "quantities", "S1", "ST"],
            [[_e(x["group"]), str(x["quantities"]), f"{x['S1']:.3f}", f"{x['ST']:.3f}"] for x in u["sobol"]]))
    return out


def _interpretation(r: dict) -> list[str]:
    g = r["gwp100_kg_co2e"]
    stages = sorted(r["by_stage"], key=lambda x: -abs(x["total"]))[:3]
    top = "; ".join(f"{_e(s['name'])} {s['total'] / g['total']:.0%}" for s in stages) if g["total"] else ""
    checks = r["checks"]
    lines = [f"The largest stages: {top}.",
             "The total lies within the rule's plausible range for the route." if checks.get(
                 "within_route_plausible_range") else "<b>The total lies outside the rule's plausible range for the "
             "route: review it.</b>",
             f"{len(checks.get('review', []))} value(s) outside their plausible ranges are listed for review."]
    out = ["<h2>5 Interpretation</h2><p>" + " ".join(lines) + "</p>",
           "<h2>6 Limitations</h2><p>Cradle to gate: use and end of life are outside the boundary. Values resting on "
           "unverified or illustrative factors must be checked before the figure is published; the factors' "
           "statuses and sources are listed above. The uncertainty reflects the data quality ratings, not the "
           "choice of method, which the rule variants compare.</p>"]
    if r["enterprise"]["illustrative"]:
        out.insert(0, "<p style='color:#c0392b;font-weight:bold'>ILLUSTRATIVE: a fictional enterprise with "
                      "illustrative data; this is not the footprint of a real product.</p>")
    return out


def html_report(result: Result | dict, rule=None) -> str:
    """The study report as one self-contained HTML page; ``rule`` adds the boundary diagram when given."""
    r = as_json(result)
    title = f"Carbon footprint study: {r['product']['name']}, {r['enterprise']['name']}"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{ruledoc.CSS}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p class='muted'>Generated {_e(r['provenance']['generated_at'])} by PCF Workbench "
             f"{_e(r['provenance']['software'].get('pcf-workbench'))} from result.json (schema "
             f"{_e(r['schema_version'])}); parameter file sha256 "
             f"<code>{_e(r['provenance']['parameter_file']['sha256'][:16])}</code>.</p>"]
    for section in (_goal_and_scope(r, rule), _data(r), _results(r), _uncertainty(r), _interpretation(r)):
        parts += section
    parts.append("</body></html>")
    return "".join(parts)
