"""Chinese statistical units (万, 亿, standard coal equivalent after GB/T 2589-2020) wherever units are read."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_variant

from methodology.study import Study
from methodology.units import UnitParseError, conversion_factor

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("unit, target, factor", [
    ("万t", "t", 1e4), ("万kWh", "kWh", 1e4), ("亿kWh", "kWh", 1e8), ("万Nm3", "Nm3", 1e4), ("万m3", "m3", 1e4),
    ("tce", "GJ", 29.3076), ("kgce", "MJ", 29.3076), ("万tce", "GJ", 293076.0), ("万t", "kg", 1e7),
    ("kt", "t", 1e3), ("万t", "kt", 10.0), ("kt/a", "t/a", 1e3), ("Mt", "kt", 1e3),
])
def test_conversions(unit, target, factor):
    assert conversion_factor(unit, target) == pytest.approx(factor, rel=1e-12)


def test_kt_is_the_kilotonne_not_the_knot():
    with pytest.raises(UnitParseError, match="does not convert"):
        conversion_factor("kt", "m/s")


def test_standard_coal_is_energy_not_mass():
    with pytest.raises(UnitParseError, match="does not convert"):
        conversion_factor("tce", "t")


def test_a_parameter_file_in_wan_tonnes_gives_the_same_footprint(tmp_path):
    src = ROOT / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml"

    def in_wan(d):
        for proc in d["processes"].values():
            for flow in proc.values():
                if not isinstance(flow, dict) or "value" not in flow:
                    continue
                flow["value"] = float(flow["value"])  # PyYAML reads 457.6e6 as text; the workbench's loader does not
                if flow.get("unit") == "t":
                    flow["value"] = flow["value"] / 1e4
                    flow["unit"] = "万t"
                elif flow.get("unit") == "kWh":
                    flow["value"] = flow["value"] / 1e4
                    flow["unit"] = "万kWh"
    base = Study.prepare(src).calculate_without_brightway().gwp100_kg_co2e.total
    written = write_variant(tmp_path, src, in_wan)
    assert written.read_text(encoding="utf-8").count("万t") >= 5 and "万kWh" in written.read_text(encoding="utf-8")
    wan = Study.prepare(written).calculate_without_brightway().gwp100_kg_co2e.total
    assert wan == pytest.approx(base, rel=1e-9)
