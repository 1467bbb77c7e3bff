"""Golden values: the shipped enterprises' totals and breakdowns in one reviewed file, and the comparison.

``tests/golden/footprints.yaml`` holds, per shipped parameter file, the figures ``figures`` takes from a
result (totals, and the total of every item of the breakdowns by stage, process, origin and gas) with the
rule set and factor set that gave them; ``scripts/golden.py`` writes it, ``tests/test_golden.py`` compares
every run against it with ``differences``. A change of method is then one command and a reviewed diff.
"""

from __future__ import annotations

import math

import yaml

from methodology.core.result import as_json

DECIMALS = 3  # 0.001 kg CO2e per declared unit: ten times finer than the tolerance
ABSOLUTE, RELATIVE = 0.01, 1e-6  # tolerance of a new golden file (kg CO2e per declared unit; fraction)
INDICATORS = ("total", "fossil", "biogenic", "land_use")
BREAKDOWNS = {"by_stage": "stage", "by_process": "process", "by_origin": None, "by_gas": None}

HEADER = """\
# Golden values of the shipped enterprises (all fictional and illustrative): per parameter file, the rule
# set and factor set used, and the GWP100 results in kg CO2e per declared unit, i.e. the totals and the
# total of every item of the breakdowns by stage, process, origin and gas.
#
# Written by `scripts/golden.py` (numpy evaluator) and reviewed like code: a change of method, rule, factor
# or parameter file that moves any figure shows up here as a diff. tests/test_golden.py computes every
# shipped parameter file with the numpy evaluator and through Brightway and compares every figure.
#
# Tolerance: a figure passes when |found - expected| <= absolute + relative * |expected|.
# - absolute 0.01 kg CO2e: a tenth of the 0.1 kg the reports print and twenty times the rounding of the
#   figures stored here (3 decimals: at most 0.0005 kg); it keeps zeros and small items from failing on
#   float noise.
# - relative 1e-6: Brightway's processed arrays are single precision (bw_processing stores amounts as
#   float32), so its figures and the numpy evaluator's differ by up to 7e-8 relative (4e-5 kg) on the
#   shipped enterprises; 1e-6 leaves room for other solvers and BLAS builds. On a 2,000 kg total the two
#   terms allow 0.012 kg: a change that moves any figure by more than about 0.01 kg fails until recorded here.
"""


def figures(result) -> dict:
    """The golden entry of one result (the typed result or result.json's fields), rounded to ``DECIMALS``."""
    result = as_json(result)
    prov, du = result["provenance"], result["declared_unit"]
    entry = {
        "enterprise": result["enterprise"]["id"],
        "product": result["product"]["id"],
        "route": result["route"]["id"],
        "declared_unit": f"{du['amount']:g} {du['unit']}",
        "rule_set": {"id": prov["rule_set"]["id"], "version": prov["rule_set"]["version"]},
        "factor_set": {"id": prov["factor_set"]["id"], "version": prov["factor_set"]["version"]},
        "gwp100_kg_co2e": {k: _round(result["gwp100_kg_co2e"][k]) for k in INDICATORS},
    }
    for key, label in BREAKDOWNS.items():
        items = result[key]
        pairs = ((i[label], i["total"]) for i in items) if label else ((k, v["total"]) for k, v in items.items())
        entry[key] = {name: _round(total) for name, total in pairs}
    return entry


def _round(x: float) -> float:
    return round(float(x), DECIMALS) + 0.0  # + 0.0: no -0.0 in the file


def render(entries: dict[str, dict], absolute: float = ABSOLUTE, relative: float = RELATIVE) -> str:
    """The golden file's text: the header, the tolerance and the entries by parameter file."""
    body = {"tolerance": {"absolute_kg_co2e": absolute, "relative": relative},
            "footprints": {k: entries[k] for k in sorted(entries)}}
    return HEADER + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=120)


def load(text: str) -> tuple[dict[str, dict], float, float]:
    """Entries, absolute and relative tolerance of a golden file's text."""
    data = yaml.safe_load(text)
    tol = data["tolerance"]
    return data["footprints"], float(tol["absolute_kg_co2e"]), float(tol["relative"])


def differences(expected: dict, found: dict, absolute: float, relative: float, prefix: str = "") -> list[str]:
    """Every figure (dotted name) that differs: numbers beyond the tolerance, other values when unequal,
    and items present on one side only."""
    out = []
    for key in list(expected) + [k for k in found if k not in expected]:
        name = f"{prefix}{key}"
        if key not in found:
            out.append(f"{name}: expected {expected[key]!r}, found nothing")
        elif key not in expected:
            out.append(f"{name}: expected nothing, found {found[key]!r}")
        elif isinstance(expected[key], dict) and isinstance(found[key], dict):
            out += differences(expected[key], found[key], absolute, relative, f"{name}.")
        elif _is_number(expected[key]) and _is_number(found[key]):
            allowed = absolute + relative * abs(expected[key])
            if not math.isclose(expected[key], found[key], rel_tol=0, abs_tol=allowed):
                out.append(f"{name}: expected {expected[key]}, found {found[key]} "
                           f"(difference {found[key] - expected[key]:+.6g}, tolerance {allowed:.6g})")
        elif expected[key] != found[key]:
            out.append(f"{name}: expected {expected[key]!r}, found {found[key]!r}")
    return out


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)
