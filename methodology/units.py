"""The one pint registry of the workbench: every unit in every file is parsed here."""

from __future__ import annotations

from functools import lru_cache

import pint

from methodology.errors import MethodologyError

_DEFINITIONS = [
    "Nm3 = meter ** 3",  # normal cubic metre: volumes of gases are reported at normal conditions
    "kNm3 = 1000 * Nm3",
    "MNm3 = 1e6 * Nm3",
    "m3 = meter ** 3",
    "tkm = tonne * kilometer",
    "kt = 1000 * tonne",  # kilotonne (千吨) in statistics; pint's own 'kt' is the knot, no speed is ever reported
    # Chinese statistical units (issue 12): 万 (wan, 1e4) and 亿 (yi, 1e8) as prefixes of any unit (万t, 万Nm3,
    # 万tce), spelled out where the unit already carries a prefix (万kWh, 亿kWh); standard coal equivalent after
    # GB/T 2589-2020 (General rules for calculation of the comprehensive energy consumption): 1 kgce = 29,307.6 kJ.
    "万- = 1e4",
    "亿- = 1e8",
    "万kWh = 1e4 * kWh",
    "亿kWh = 1e8 * kWh",
    "万MWh = 1e4 * MWh",
    "tce = 29.3076 * gigajoule",
    "kgce = 29.3076 * megajoule",
]


@lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    import warnings

    ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Redefining 'kt'")  # the one name taken over on purpose
        for line in _DEFINITIONS:
            ureg.define(line)
    return ureg


class UnitParseError(MethodologyError, ValueError):
    """A unit that does not parse, or two units that do not convert (a ValueError too, so that pydantic
    validators turn it into a field problem)."""


@lru_cache(maxsize=4096)
def parse_unit(text: str):
    """Parse a unit string ('t', 'GJ/t', 'kg/(t*km)', '' for dimensionless); cached (units are immutable)."""
    ureg = registry()
    text = (text or "").strip()
    if text in ("", "1", "-", "dimensionless"):
        return ureg.dimensionless
    try:
        return ureg.parse_units(text.replace("^", "**"))
    except Exception as exc:  # pint raises several types
        raise UnitParseError(f"'{text}' is not a unit the workbench knows ({exc})") from exc


@lru_cache(maxsize=4096)
def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Multiplier turning a value in ``from_unit`` into ``to_unit``; ValueError if they do not convert.

    Cached: a foreground asks for the same few conversions thousands of times, and pint's parsing was
    most of the time it took to build one (measured with cProfile). Errors are not cached.
    """
    ureg = registry()
    src, dst = parse_unit(from_unit), parse_unit(to_unit)
    try:
        return float(ureg.Quantity(1.0, src).to(dst).magnitude)
    except pint.DimensionalityError as exc:
        raise UnitParseError(
            f"'{from_unit}' does not convert to '{to_unit}' "
            f"({ureg.get_dimensionality(src)} vs {ureg.get_dimensionality(dst)})"
        ) from exc


def convertible(from_unit: str, to_unit: str) -> bool:
    try:
        conversion_factor(from_unit, to_unit)
    except UnitParseError:
        return False
    return True
