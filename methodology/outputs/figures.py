"""Matplotlib figures a reviewer wants, from a result (the model or its JSON; no computation here).

Figures are ``matplotlib.figure.Figure`` objects drawn on the Agg canvas, without pyplot: no global
figure state, no GUI backend, and each figure is rendered once. The notebook shows the PNG files
``save_all`` wrote instead of rendering the same figure a second time for display.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from methodology.core.result import Result, as_json

# (file name, what it shows, result key, title); the stages figure is a waterfall, the others are bars
STANDARD = (
    ("stages.png", "waterfall", "by_stage", "Contribution of each life cycle stage"),
    ("processes.png", "bars", "by_process", "By process (first tier)"),
    ("origin.png", "bars", "by_origin", "Direct, electricity, upstream"),
    ("gases.png", "bars", "by_gas", "By gas"),
)
DPI = 110
LABEL_WIDTH = 45  # characters per line of a bar's label
LINE_INCHES = 0.19  # height of one line of a tick label (10 pt with leading); 1.4 in for title and axis


def new_axes(figsize=(8, 4.5)):
    """Axes on a new Agg figure, outside pyplot; Chinese text renders (``fonts.use_cjk``)."""
    from matplotlib.figure import Figure

    from methodology.outputs.fonts import use_cjk

    use_cjk()
    return Figure(figsize=figsize).subplots()


def _bars(ax, labels: list, values: list, color: str) -> None:
    """Horizontal bars at positions, not by label text: two items of one name stay two bars; labels wrapped."""
    ax.barh(range(len(values)), values, color=color)
    ax.set_yticks(range(len(values)), [textwrap.fill(str(x), LABEL_WIDTH) for x in labels])


def stage_waterfall(result: Result | dict, ax=None):
    """Contribution of each stage, cumulating to the total (credits negative)."""
    result = as_json(result)
    ax = ax or new_axes((8, 4))
    stages = result["by_stage"]
    running = 0.0
    for i, s in enumerate(stages):
        v = s["total"]
        ax.bar(i, v, bottom=running if v >= 0 else running + v, color="#c0504d" if v >= 0 else "#4f81bd")
        running += v
    ax.bar(len(stages), result["gwp100_kg_co2e"]["total"], color="#404040")
    ax.set_xticks(range(len(stages) + 1), [s["name"] for s in stages] + ["Total"], rotation=35, ha="right")
    ax.set_ylabel("kg CO2e per declared unit")
    ax.set_title(f"{result['enterprise']['name']}: {result['product']['name']}")
    return ax


def breakdown_bars(result: Result | dict, key: str, ax=None, label: str = ""):
    """Horizontal bars of one breakdown (a list of named items or a mapping), smallest first."""
    ax = ax or new_axes((6, 3.5))
    items = as_json(result)[key]
    pairs = ([(x.get("name", x.get("process")), x["total"]) for x in items] if isinstance(items, list)
             else [(k, v["total"]) for k, v in items.items()])
    pairs.sort(key=lambda p: p[1])
    # long process names (a cracker with its five products) wrapped, so that the layout keeps the plot area
    _bars(ax, [p[0] for p in pairs], [p[1] for p in pairs], "#7f7f7f")
    fig, lines = ax.figure, sum(t.get_text().count("\n") + 1 for t in ax.get_yticklabels())
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, max(height, LINE_INCHES * lines + 1.4))  # taller, never shorter: labels don't overlap
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("kg CO2e per declared unit")
    ax.set_title(label or key)
    return ax


def save_all(result: Result | dict, out_dir: str | Path) -> list[Path]:
    """Write the standard figures as PNG files into ``out_dir/figures``; returns their paths in order."""
    result = as_json(result)
    out = Path(out_dir) / "figures"
    paths = []
    for name, kind, key, title in STANDARD:
        ax = new_axes()
        if kind == "waterfall":
            stage_waterfall(result, ax)
        else:
            breakdown_bars(result, key, ax, title)
        paths.append(save_png(ax.figure, out / name))
    if result.get("uncertainty"):
        paths.append(save_png(uncertainty_tornado(result).figure, out / "uncertainty.png"))
    return paths


def uncertainty_tornado(result: Result | dict, ax=None):
    """What drives the spread of the total (Monte Carlo ``uncertainty.drivers``: share of the variance by rank
    correlation), largest on top, with the 95 % interval in the title."""
    u = as_json(result)["uncertainty"]
    ax = ax or new_axes((8, 0.35 * max(len(u["drivers"]), 3) + 1.5))
    drivers = u["drivers"][::-1]
    _bars(ax, [d["quantity"] for d in drivers], [100 * d["share"] for d in drivers], "#4f81bd")
    ax.set_xlabel("share of the variance of the total (%)")
    ax.set_title(f"Uncertainty: 95 % interval {u['p2_5']:.0f}-{u['p97_5']:.0f} kg CO2e, median {u['median']:.0f} "
                 f"({u['iterations']} iterations)", fontsize=10)
    return ax


def save_png(fig, path: str | Path) -> Path:
    """Lay the figure out and write it as a PNG atomically (never a half-written file)."""
    import io

    from methodology.outputs.files import atomic_write_bytes

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def preload() -> None:
    """Render a throwaway figure so that fonts and glyph caches are loaded (warm kernels call this).

    The first figure a process draws pays about 0.25 s for loading fonts (measured); drawing the
    standard figures' layout once moves that out of the run.
    """
    import io

    ax = new_axes()
    breakdown_bars({"x": {"a": {"total": 1.0}, "b": {"total": -1.0}}}, "x", ax, "warm-up")
    ax.figure.tight_layout()
    ax.figure.savefig(io.BytesIO(), format="png", dpi=DPI)


def show(paths, names=("stages.png", "processes.png")):
    """Display saved figure files in a notebook (no second rendering)."""
    from IPython.display import Image, display

    for p in paths:
        if Path(p).name in names:
            display(Image(filename=str(p)))
