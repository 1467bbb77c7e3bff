"""The carbon-footprint label of a result: plain, printable, SVG and PNG (issue 15).

What it states, from ``result.json`` only: the product (and family), the enterprise, the footprint per declared
unit (rounded to whole kg CO2e) with the 95 % interval when a Monte Carlo was run, the footprint per kg of each
declared component (a fertilizer's nutrients) where the product has any, the rule set and version, the
reference period, the verification status (self-declared: the workbench does not verify), and the label id (the id
of the PACT footprint of the same result, so the label and the data exchanged name the same thing). A fictional
enterprise's label says ILLUSTRATIVE across it. The SVG names the CJK font family for Chinese text; the PNG is
drawn by matplotlib with that font (``fonts.use_cjk``), so Chinese names render in both.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

from methodology.core.result import Result, as_json
from methodology.outputs import fonts, pact

W, H = 600, 340
# (text, y in px from the top, font size in px, weight); the value itself is drawn at (24, 150), 56 px, bold
ROWS = (("title", 34, 18, "bold"), ("product", 66, 15, "bold"), ("enterprise", 88, 12, "normal"),
        ("unit", 178, 12, "normal"), ("interval", 198, 12, "normal"), ("components", 216, 11, "normal"),
        ("rule", 236, 11, "normal"),
        ("period", 256, 11, "normal"), ("status", 276, 11, "normal"), ("id", 312, 10, "normal"))
PT = 0.72  # points per pixel on a 100-dpi canvas (the PNG is that canvas at 200 dpi)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def lines(result: Result | dict) -> dict[str, str]:
    """The label's texts."""
    r = as_json(result)
    g, du, u = r["gwp100_kg_co2e"], r["declared_unit"], r.get("uncertainty")
    fam = r.get("product_family")
    p, comps = r["provenance"], r.get("per_component") or []
    return {
        "title": "Carbon footprint · 碳足迹",
        "product": _short(r["product"]["name"] + (f", {fam['name']}" if fam else ""), 64),
        "enterprise": f"{r['enterprise']['name']} ({r['enterprise']['province']})",
        "value": f"{g['total']:,.0f}",
        "unit": f"kg CO2e per {du['amount']:g} {du['unit']} (cradle to gate, IPCC AR6 GWP100)",
        "interval": f"95 % interval {u['p2_5']:,.0f} - {u['p97_5']:,.0f}" if u else "",
        "components": _short("kg CO2e per kg of " + " · ".join(f"{c['name']} {c['kg_co2e_per_kg']:,.2f}"
                                                              for c in comps), 96) if comps else "",
        "rule": f"Rule {p['rule_set']['id']} {p['rule_set']['version']} · ISO 14067 / GB/T 24067",
        "period": f"Reference period {r['reference_period']['start']} to {r['reference_period']['end']}",
        "status": "Self-declared, not verified by a third party",
        "id": f"Label id {pact.footprint_id(r)}",
        "illustrative": "ILLUSTRATIVE · fictional data" if r["enterprise"]["illustrative"] else "",
    }


def svg(result: Result | dict) -> str:
    t = {k: html.escape(v) for k, v in lines(result).items()}
    font = f"font-family=\"DejaVu Sans, {fonts.FAMILY}, sans-serif\""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" {font}>',
             f'<rect x="2" y="2" width="{W - 4}" height="{H - 4}" fill="white" stroke="black" stroke-width="3"/>',
             f'<text x="24" y="150" font-size="56" font-weight="bold">{t["value"]}</text>']
    parts += [f'<text x="24" y="{y}" font-size="{size}" font-weight="{weight}">{t[k]}</text>'
              for k, y, size, weight in ROWS if t[k]]
    if t["illustrative"]:
        parts.append(f'<text x="{W - 24}" y="150" font-size="16" text-anchor="end" fill="#c0392b" '
                     f'font-weight="bold">{t["illustrative"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def png(result: Result | dict) -> bytes:
    """The same label drawn by matplotlib (the CJK font registered), as PNG bytes."""
    import io

    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fonts.use_cjk()
    t = lines(result)
    fig = Figure(figsize=(W / 100, H / 100), dpi=200)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.axis("off")
    ax.add_patch(Rectangle((2, 2), W - 4, H - 4, fill=False, linewidth=3))
    ax.text(24, 150, t["value"], fontsize=56 * PT, fontweight="bold")
    for k, y, size, weight in ROWS:
        if t[k]:
            ax.text(24, y, t[k], fontsize=size * PT, fontweight=weight)
    if t["illustrative"]:
        ax.text(W - 24, 150, t["illustrative"], fontsize=16 * PT, ha="right", color="#c0392b", fontweight="bold")
    buf = io.BytesIO()
    quiet = logging.getLogger("matplotlib.font_manager")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "no bold Noto": the regular face is used for bold CJK text, as intended
    try:
        fig.savefig(buf, format="png")
    finally:
        quiet.setLevel(level)
    return buf.getvalue()


def write(result: Result | dict, out_dir: str | Path) -> list[Path]:
    """label.svg and label.png in ``out_dir``, each written atomically."""
    from methodology.outputs.files import atomic_write_bytes, atomic_write_text

    out = Path(out_dir)
    atomic_write_text(out / "label.svg", svg(result))
    atomic_write_bytes(out / "label.png", png(result))
    return [out / "label.svg", out / "label.png"]
