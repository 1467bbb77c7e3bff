"""Every shipped parameter file's footprint against the reviewed golden values in tests/golden/footprints.yaml.

Each file is computed with the numpy evaluator and through Brightway; every figure (the totals and the total
of every item of the breakdowns by stage, process, origin and gas, with the rule and factor set used) must
match within the tolerance the file states. A change of method fails here until ``scripts/golden.py``
records it and the diff is reviewed.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT

from methodology.execution.batch import find_parameter_files
from methodology.outputs import golden
from methodology.study import Study

GOLDEN = ROOT / "tests" / "golden" / "footprints.yaml"
SHIPPED = find_parameter_files([ROOT / "parameters"])
ENTRIES, ABSOLUTE, RELATIVE = golden.load(GOLDEN.read_text(encoding="utf-8"))


def key_of(path: Path) -> str:
    return Path(path).relative_to(ROOT).as_posix()


def mismatch(path: Path, result: dict, evaluator: str, entries: dict = ENTRIES) -> str | None:
    """None when every figure of the result matches the golden entry, else a message naming them all."""
    key = key_of(path)
    if key not in entries:
        return f"{key} has no golden entry in {GOLDEN.name}: run scripts/golden.py and review the diff"
    expected = entries[key]
    problems = golden.differences(expected, golden.figures(result), ABSOLUTE, RELATIVE)
    if not problems:
        return None
    return (f"{expected['enterprise']} ({expected['product']}, {key}) computed with {evaluator} differs from "
            f"{GOLDEN.relative_to(ROOT)}:\n  " + "\n  ".join(problems) +
            "\nIf the change is deliberate, run scripts/golden.py and review the diff.")


def test_golden_file_covers_exactly_the_shipped_parameter_files():
    shipped = {key_of(p) for p in SHIPPED}
    assert len(shipped) >= 3, shipped
    missing, orphaned = sorted(shipped - set(ENTRIES)), sorted(set(ENTRIES) - shipped)
    assert not missing and not orphaned, (
        f"parameter files without a golden entry: {missing}; golden entries without a parameter file: {orphaned} "
        "(run scripts/golden.py and review the diff)")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_numpy_evaluator_matches_golden_values(path):
    message = mismatch(path, Study.prepare(path).calculate_without_brightway(), "the numpy evaluator")
    assert message is None, message


@pytest.mark.engine
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_brightway_matches_golden_values(path, bw_project, tmp_path):
    message = mismatch(path, Study.prepare(path).calculate(tmp_path), "Brightway")
    assert message is None, message


def test_a_wrong_golden_value_fails_naming_enterprise_figure_expected_and_found():
    path = ROOT / "parameters" / "steel" / "sd-integrated-works-a.yaml"
    result = Study.prepare(path).calculate_without_brightway()
    right = ENTRIES[key_of(path)]["by_stage"]["utilities"]
    assert mismatch(path, result, "numpy") is None

    wrong = copy.deepcopy(ENTRIES)
    wrong[key_of(path)]["by_stage"]["utilities"] = round(right + 0.02, 3)
    message = mismatch(path, result, "numpy", wrong)
    assert message is not None
    assert "sd-integrated-works-a (hot-rolled-coil" in message
    assert f"by_stage.utilities: expected {round(right + 0.02, 3)}, found {right}" in message

    within = copy.deepcopy(ENTRIES)
    within[key_of(path)]["by_stage"]["utilities"] = round(right + 0.005, 3)  # inside the tolerance
    assert mismatch(path, result, "numpy", within) is None

    changed = copy.deepcopy(ENTRIES)
    entry = changed[key_of(path)]
    entry["factor_set"]["version"] = "0.0.9"
    del entry["by_process"]["coke-oven"]
    entry["by_gas"]["SF6"] = 1.0
    message = mismatch(path, result, "numpy", changed)
    assert "factor_set.version: expected '0.0.9', found '0.2.0'" in message
    assert "by_process.coke-oven: expected nothing, found" in message
    assert "by_gas.SF6: expected 1.0, found nothing" in message

    assert "has no golden entry" in mismatch(path, result, "numpy", {})


@pytest.mark.parametrize("name", ["product.ipynb", "cement.ipynb", "aluminium.ipynb", "plastics.ipynb",
                                  "fertilizer.ipynb"])
def test_notebook_record_agrees_with_the_golden_total(name):
    """A notebook's stored total (its reference enterprise, 0.1 kg) is the golden total of that enterprise."""
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    reference = next(line.split("=", 1)[1].strip().strip('"') for line in params.source.splitlines()
                     if line.startswith("parameter_file"))
    total = ENTRIES[key_of((ROOT / "notebooks" / reference).resolve())]["gwp100_kg_co2e"]["total"]
    printed = [o.text for c in nb.cells if c.cell_type == "code" and "gwp100_kg_co2e" in c.source
               for o in c.outputs if o.output_type == "stream"]
    assert printed and printed[0].startswith(f"total {total:.1f} kg CO2e/t"), (printed, total)
