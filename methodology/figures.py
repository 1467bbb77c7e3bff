"""Matplotlib figures a reviewer wants, from a result dict (no computation here)."""

from __future__ import annotations

from pathlib import Path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def stage_waterfall(result: dict, ax=None):
    """Contribution of each stage, cumulating to the total (credits negative)."""
    plt = _plt()
    ax = ax or plt.subplots(figsize=(8, 4))[1]
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


def breakdown_bars(result: dict, key: str, ax=None, label: str = ""):
    plt = _plt()
    ax = ax or plt.subplots(figsize=(6, 3.5))[1]
    items = result[key]
    pairs = ([(x.get("name", x.get("process")), x["total"]) for x in items] if isinstance(items, list)
             else [(k, v["total"]) for k, v in items.items()])
    pairs.sort(key=lambda p: p[1])
    ax.barh([p[0] for p in pairs], [p[1] for p in pairs], color="#7f7f7f")
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("kg CO2e per declared unit")
    ax.set_title(label or key)
    return ax


def save_all(result: dict, out_dir: str | Path) -> list[Path]:
    """Write the standard figures as PNG files into out_dir/figures."""
    plt = _plt()
    out = Path(out_dir) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in [
        ("stages.png", lambda ax: stage_waterfall(result, ax)),
        ("processes.png", lambda ax: breakdown_bars(result, "by_process", ax, "By process (first tier)")),
        ("origin.png", lambda ax: breakdown_bars(result, "by_origin", ax, "Direct, electricity, upstream")),
        ("gases.png", lambda ax: breakdown_bars(result, "by_gas", ax, "By gas")),
    ]:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        draw(ax)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        paths.append(out / name)
    return paths
