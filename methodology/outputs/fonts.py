"""A CJK font for figures and labels, from the package registry: Noto Sans CJK SC (SIL Open Font License) as the
``mplfonts`` package ships it. Only that font is used (the package also carries fonts under other licences).

``use_cjk()`` registers it with matplotlib once and sets the families to DejaVu Sans then Noto, so Latin text keeps
DejaVu Sans and Chinese characters (an enterprise's name, 碳足迹) fall back to Noto instead of rendering as boxes.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

FAMILY = "Noto Sans CJK SC"


def cjk_font_path() -> Path:
    return Path(str(resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"))


@functools.cache
def use_cjk() -> str:
    """Register the CJK font with matplotlib (once) and add it to the sans-serif fallbacks; its family name."""
    import matplotlib as mpl
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(cjk_font_path()))
    # matplotlib falls back glyph by glyph along font.family (a list of families, 3.6+)
    mpl.rcParams["font.family"] = ["DejaVu Sans", FAMILY]
    return FAMILY
