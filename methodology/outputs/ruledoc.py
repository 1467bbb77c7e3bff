"""The rule document: a product category rule file rendered as one HTML page a committee or a verifier reads
without Jupyter (``pcf rule-doc``).

Sections: header and change log, standards, declared unit and products, system boundary (stages and an SVG
diagram of the processes in their stages with the intermediate products linking them), the data each process asks
for (unit, whether required or primary, the plausible range and its source, parameters), the emission mechanisms
with their equations, allocation, cut-off, electricity, carbon accounting, factor choices, data quality, each with
the clauses it follows and the decision records behind it. Everything comes from the validated rule; nothing is
computed. Names are printed as the rule gives them (Chinese where the rule writes Chinese).
"""

from __future__ import annotations

import html
from collections import defaultdict

from methodology.schema.rules import Rule

EQUATIONS = {
    "carbon_balance": "CO2 = 44/12 x (sum of carbon in - carbon in products, co-products, gases and residues) "
                      "(IPCC 2006 Vol. 3 Ch. 4, Tier 2 mass balance)",
    "combustion": "CO2 = sum over fuels of amount x NCV x carbon per energy x oxidation rate x 44/12 "
                  "(IPCC 2006 Vol. 2 Ch. 2, Eq. 2.1 with the national defaults)",
    "calcination": "CO2 = clinker x EF_cl + kiln dust x EF_CKD + raw meal x TOC x 44/12, EF_cl = (CaO - CaO_nc) x "
                   "44.01/56.08 + (MgO - MgO_nc) x 44.01/40.30, default EF_cl 0.525 t/t (IPCC 2006 Vol. 3 Ch. 2; "
                   "GCCA/CSI protocol)",
    "process_factor": "E = EF x output x (1 - destruction x utilisation) (IPCC 2006 Vol. 3, Tier 1/2 with abatement)",
    "anode_effect_pfc": "CF4 = S x AEM (slope) or OVC x AEO / CE (overvoltage), C2F6 = CF4 x F(C2F6/CF4), else "
                        "Tier 1 factors by cell technology (IPCC 2006 Vol. 3 Ch. 4.4, Eq. 4.26-4.27)",
    "co2_transfer": "CO2 sent on in the output is not emitted here: subtracted from the process's CO2 and "
                    "accounted where it is used",
}
CSS = """body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",Arial,sans-serif;max-width:1100px;
margin:2em auto;color:#222;line-height:1.45}h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 6px;
vertical-align:top}th{background:#f0f3f7}.muted{color:#666;font-size:.9em}code{background:#f5f5f5}"""


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def _clauses(refs) -> str:
    return "; ".join(f"{_e(c.standard)} {_e(c.clause)}" + (f" ({_e(c.note)})" if c.note else "") for c in refs)


def _table(head: list[str], rows: list[list]) -> str:
    cells = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


BOX_W, BOX_H, GAP_X, GAP_Y, TOP = 170, 34, 60, 14, 40


def _layout(rule: Rule) -> tuple[list, dict, int, int]:
    """(stages that hold processes, {process id: (x, y)}, width, height) of the boundary diagram."""
    column = defaultdict(list)
    for p in rule.processes:
        column[p.stage].append(p.id)
    cols = [s for s in rule.system_boundary.stages if column[s.id]]
    pos = {pid: (20 + i * (BOX_W + GAP_X), TOP + j * (BOX_H + GAP_Y))
           for i, s in enumerate(cols) for j, pid in enumerate(column[s.id])}
    rows = max((len(column[s.id]) for s in cols), default=1)
    return cols, pos, 40 + len(cols) * (BOX_W + GAP_X), TOP + rows * (BOX_H + GAP_Y) + 20


def _links(rule: Rule) -> list[tuple[str, str]]:
    """(maker, user) of every intermediate product a process makes and another uses."""
    makers = defaultdict(list)
    for p in rule.processes:
        for f in p.outputs:
            if f.product:
                makers[f.product].append(p.id)
    return [(m, p.id) for p in rule.processes for f in p.inputs for m in makers.get(f.product or "", [])
            if m != p.id]


def boundary_svg(rule: Rule) -> str:
    """The processes in columns by stage, arrows from the process making an intermediate product to those using
    it; purchased inputs enter every process (not drawn)."""
    cols, pos, width, height = _layout(rule)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="11">',
             '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="7" refY="3" orient="auto">'
             '<path d="M0,0 L7,3 L0,6 z" fill="#888"/></marker></defs>']
    parts += [f'<text x="{20 + i * (BOX_W + GAP_X)}" y="24" font-weight="bold">{_e(s.name)}</text>'
              for i, s in enumerate(cols)]
    for m, u in _links(rule):
        (x1, y1), (x2, y2) = pos[m], pos[u]
        parts.append(f'<line x1="{x1 + BOX_W}" y1="{y1 + BOX_H / 2}" x2="{x2}" y2="{y2 + BOX_H / 2}" stroke="#888" '
                     'marker-end="url(#a)"/>')
    for p in rule.processes:
        x, y = pos[p.id]
        parts.append(f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4" fill="#eef3fb" '
                     f'stroke="#4f81bd"/><text x="{x + 6}" y="{y + 21}">{_e(p.name[:30])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _process_section(p, rule: Rule) -> str:
    rows = []
    for side, flows in (("in", p.inputs), ("out", p.outputs)):
        for f in flows:
            pr = f.plausible
            rng = f"{pr.min:g}-{pr.max:g} {_e(pr.unit)} <span class='muted'>({_e(pr.source)})</span>" if pr else ""
            need = "required" if f.required else "optional"
            need += ", primary data" if f.primary_data_mandatory else ""
            rows.append([side, f"<code>{_e(f.key)}</code>", _e(f.name), _e(f.kind.value), _e(f.unit), need, rng,
                         _e(f.factor or f.choice or f.product or f.coproduct or "")])
    out = [f"<h3>{_e(p.name)} <code>{_e(p.id)}</code></h3>",
           f"<p class='muted'>Stage {_e(p.stage)}; {_clauses(p.clause)}</p>"]
    if p.description:
        out.append(f"<p>{_e(' '.join(p.description.split()))}</p>")
    out.append(_table(["", "key", "flow", "kind", "unit", "data", "plausible range", "factor / link"], rows))
    if p.parameters:
        out.append(_table(["parameter", "unit", "range", "default"],
                          [[f"<code>{_e(x.name)}</code>", _e(getattr(x, "unit", "")),
                            _e(f"{x.min:g}-{x.max:g}" if getattr(x, "min", None) is not None else ""),
                            _e(getattr(x, "default", "") or "")] for x in p.parameters]))
    if p.emissions:
        out.append("<p><b>Direct emissions</b>: " + "; ".join(
            f"<code>{_e(m.type)}</code>: {_e(EQUATIONS.get(m.type, ''))}" for m in p.emissions) + "</p>")
    return "".join(out)


def html_document(rule: Rule) -> str:
    """The whole rule as one self-contained HTML page (inline CSS and SVG, no scripts)."""
    rs, du = rule.rule_set, rule.declared_unit
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(rs.title)} {_e(rs.version)}"
             f"</title><style>{CSS}</style></head><body>",
             f"<h1>{_e(rs.title)}</h1><p><b>{_e(rs.id)} {_e(rs.version)}</b>, {_e(rs.status)}, {_e(rs.date)}; "
             f"industry {_e(rs.industry)}; factor set <code>{_e(rs.factor_set)}</code>; "
             f"sha256 <code>{_e(rule.sha256)}</code></p>"]
    if rs.description:
        parts.append(f"<p>{_e(' '.join(rs.description.split()))}</p>")
    if rs.changes:
        parts.append("<h2>Change log</h2>" + _table(["version", "date", "what and why", "decision records"], [
            [_e(c.version), _e(c.date), _e(" ".join(c.summary.split())), "<br>".join(_e(d) for d in c.decisions)]
            for c in rs.changes]))
    parts.append("<h2>Standards</h2>" + _table(["key", "title", "edition", "publisher"], [
        [f"<code>{_e(k)}</code>", _e(s.title), _e(s.edition), _e(s.publisher)] for k, s in rule.standards.items()]))
    parts.append(f"<h2>Declared unit and products</h2><p>{du.amount:g} {_e(du.unit)}: {_e(du.description)} "
                 f"<span class='muted'>({_clauses(du.clause)})</span></p>")
    parts.append(_table(["product", "name", "made by"], [[f"<code>{_e(p.id)}</code>", _e(p.name),
                                                          _e(p.final_process)] for p in rule.products]))
    sb = rule.system_boundary
    parts.append(f"<h2>System boundary</h2><p>{_e(sb.type)}: {_e(' '.join(sb.description.split()))} "
                 f"<span class='muted'>({_clauses(sb.clause)})</span></p>" + boundary_svg(rule))
    parts.append(_table(["stage", "name", "what it holds"], [[f"<code>{_e(s.id)}</code>", _e(s.name),
                                                              _e(s.description)] for s in sb.stages]))
    parts.append("<h2>Routes</h2>" + _table(["route", "name", "processes"], [
        [f"<code>{_e(r.id)}</code>", _e(r.name), _e(", ".join(r.processes))] for r in rule.routes]))
    parts.append("<h2>Processes and the data they ask for</h2>")
    parts += [_process_section(p, rule) for p in rule.processes]
    parts.append(_rules_section(rule))
    parts.append("<p class='muted'>Generated by PCF Workbench from the rule file; the file is authoritative.</p>"
                 "</body></html>")
    return "".join(parts)


def _rules_section(rule: Rule) -> str:
    a, c, el, ca = rule.allocation, rule.cut_off, rule.electricity, rule.carbon_accounting
    rows = [["Allocation", f"{_e(a.approach.value)}; co-products: " + "; ".join(
                f"{_e(x.name)} -> {_e(x.substitutes or '-')}" for x in a.coproducts), _clauses(a.clause),
             _e(a.decision)],
            ["Cut-off", _e(f"below {c.mass_share_per_process:.0%} of mass and {c.energy_share_per_process:.0%} of "
                           f"energy per process, at most {c.cumulative_share:.0%} in total; excluded: "
                           + "; ".join(c.excluded)), _clauses(c.clause), ""],
            ["Electricity", _e(f"{el.basis}; grid factor {el.grid_factor.value} (default {el.default_factor}; "
                               f"{len(el.regional_factors)} regional factors)"), _clauses(el.clause), _e(el.decision)],
            ["Carbon accounting", _e(f"content basis {ca.content_basis.value}, oxidation {ca.oxidation.value}"),
             _clauses(ca.clause), _e(ca.decision)]]
    rows += [["Factor choice " + _e(f.id), _e(f"{f.name}: selected {f.selected} of "
                                              + ", ".join(o.id for o in f.options)), _clauses(f.clause), _e(f.decision)]
             for f in rule.factor_choices]
    dq = rule.data_quality
    rows.append(["Data quality", _e(f"combined score at most {dq.max_weighted_score}, primary data at least "
                                   f"{dq.min_primary_data_share:.0%}, reference period at most "
                                   f"{dq.max_reference_period_age_years} years old"), _clauses(dq.clause), ""])
    return "<h2>Choices of the rule</h2>" + _table(["section", "what", "clauses", "decision record"], rows)
