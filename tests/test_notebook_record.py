"""The outputs stored in notebooks/product.ipynb and notebooks/cement.ipynb are a reproducibility record that can
fail.

nbval (``--nbval-lax``: only cells marked ``# NBVAL_CHECK_OUTPUT`` are compared) passes on the committed
notebook and fails, with an output mismatch in a checked cell and no crash, when an emission factor changes;
recording the outputs again gives the committed notebook byte for byte.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from conftest import FACTORS, ROOT, write_variant

pytestmark = pytest.mark.notebook

NOTEBOOK = ROOT / "notebooks" / "product.ipynb"
# every notebook storing a record
NOTEBOOKS = [NOTEBOOK, ROOT / "notebooks" / "cement.ipynb", ROOT / "notebooks" / "aluminium.ipynb",
             ROOT / "notebooks" / "plastics.ipynb", ROOT / "notebooks" / "fertilizer.ipynb"]
VARIANTS = ROOT / "notebooks" / "rule-variants.ipynb"  # a committee notebook: its record is the comparison
VALIDATION = [ROOT / "notebooks" / f"validation-{x}.ipynb"
              for x in ("steel", "cement", "aluminium", "plastics", "fertilizer")]
SANITIZE = ROOT / "tests" / "nbval-sanitize.cfg"
RECORD = ROOT / "scripts" / "record_notebook.py"
MARK = "# NBVAL_CHECK_OUTPUT"
CHANGED_FACTOR = "grid-cn-2023-pcf"


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def checked_numbers(nb) -> set[int]:
    """nbval's cell numbers (``Cell N``: position among the code cells, from 0) of the checked cells."""
    return {i for i, c in enumerate(code_cells(nb)) if MARK in c.source.splitlines()}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_stores_the_record_of_its_checked_cells(notebook):
    nb = nbformat.read(notebook, as_version=4)
    checked = checked_numbers(nb)
    sources = " ".join(code_cells(nb)[i].source for i in checked)
    for what in ("totals_table", "gwp100_kg_co2e", '"by_stage"', '"by_process"', '"by_origin"', '"by_gas"',
                 "site_balance_table", "carbon_balance_table", "checks_table"):
        assert what in sources, f"no checked cell shows {what}"
    for i, cell in enumerate(code_cells(nb)):
        if i in checked:
            # nbval compares nothing for a cell whose reference never ran (execution_count null)
            assert cell.execution_count is not None and cell.outputs, f"checked Cell {i} stores no outputs"
            kinds = {o.output_type for o in cell.outputs}
            assert kinds <= {"stream", "execute_result", "display_data"}, f"Cell {i}: {kinds}"
            assert all(o.get("name", "stdout") == "stdout" for o in cell.outputs), f"Cell {i} stores stderr"
        else:
            assert not cell.outputs and cell.execution_count is None, f"unchecked Cell {i} stores outputs"
        assert not any(k.startswith("image/") for o in cell.outputs for k in o.get("data", {})), f"Cell {i}"


def parameters_of(nb) -> dict:
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {t.id: ast.literal_eval(node.value) for node in ast.parse(cell.source).body
            if isinstance(node, ast.Assign) for t in node.targets}


def notebook_copy(tmp_path: Path, factor_file: str = "", notebook: Path = NOTEBOOK) -> Path:
    """The notebook with its stored outputs, the same reference enterprise, absolute paths and its own output."""
    nb = nbformat.read(notebook, as_version=4)
    params = parameters_of(nb)
    for key in ("parameter_file", "rule_file"):
        params[key] = str((notebook.parent / params[key]).resolve())
    params["factor_file"] = factor_file
    params["output_dir"] = str(tmp_path / "out")
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = "\n".join(f"{k} = {v!r}" for k, v in params.items())
    folder = tmp_path / "notebook"
    folder.mkdir()
    nbformat.write(nb, folder / notebook.name)
    return folder / notebook.name


def run_nbval(notebook: Path, brightway_dir: Path, tmp_path: Path) -> tuple[int, dict[int, str | None], str]:
    """The nbval command of scripts/test.sh in a subprocess: exit code, {cell number: failure text or None}.

    Options with values are passed as ``--opt=value``: a separate path argument would make pytest take the
    repository as its rootdir; this way the run sees only the notebook copy's folder.
    """
    report = tmp_path / "nbval.xml"
    env = {**os.environ, "BRIGHTWAY2_DIR": str(brightway_dir)}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--color=no", "--nbval-lax",
         "--nbval-current-env", f"--nbval-sanitize-with={SANITIZE}", f"--junitxml={report}", str(notebook)],
        cwd=notebook.parent, env=env, capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert report.is_file(), output
    cells = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        number = int(case.get("name").removeprefix("Cell "))
        problem = next((e for e in case if e.tag in ("failure", "error", "skipped")), None)
        cells[number] = None if problem is None else f"{problem.tag}: {problem.get('message')}\n{problem.text}"
    return proc.returncode, cells, output


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_nbval_passes_on_the_committed_record(bw_project, tmp_path, notebook):
    rc, cells, output = run_nbval(notebook_copy(tmp_path, notebook=notebook), bw_project, tmp_path)
    nb = nbformat.read(notebook, as_version=4)
    assert rc == 0, output
    assert set(cells) == set(range(len(code_cells(nb)))), output
    assert all(problem is None for problem in cells.values()), output


def _change_grid_factor(data: dict) -> None:
    factor = next(f for f in data["factors"] if f["id"] == CHANGED_FACTOR)
    factor["emissions"][0]["value"] = round(factor["emissions"][0]["value"] * 1.1, 4)  # 0.6205 -> 0.6826


def test_changed_emission_factor_fails_nbval_in_a_checked_cell(tmp_path):
    changed = write_variant(tmp_path, FACTORS, _change_grid_factor, name="cn-core-changed.yaml")
    brightway_dir = tmp_path / "brightway"  # never the test session's shared Brightway folder
    brightway_dir.mkdir()
    setup = subprocess.run([sys.executable, "-m", "methodology", "--factors", str(changed), "setup"],
                           env={**os.environ, "BRIGHTWAY2_DIR": str(brightway_dir)},
                           capture_output=True, text=True, timeout=600)
    assert setup.returncode == 0, setup.stdout + setup.stderr

    rc, cells, output = run_nbval(notebook_copy(tmp_path, str(changed)), brightway_dir, tmp_path)

    nb = nbformat.read(NOTEBOOK, as_version=4)
    checked = checked_numbers(nb)
    failed = {n for n, problem in cells.items() if problem is not None}
    assert rc == 1, output
    assert set(cells) == set(range(len(code_cells(nb)))), output  # every cell ran: nothing crashed early
    assert failed and failed <= checked, output
    for n in failed:  # a mismatch of stored and computed output, not an exception
        assert "Cell outputs differ" in cells[n] and "mismatch" in cells[n], cells[n]
        assert "Cell execution caused an exception" not in cells[n], cells[n]
    totals = {n for n in checked if "totals_table" in code_cells(nb)[n].source
              or "gwp100_kg_co2e" in code_cells(nb)[n].source}
    assert totals and totals <= failed, output
    printed = next(n for n in totals if "gwp100_kg_co2e" in code_cells(nb)[n].source)
    recorded_total = code_cells(nb)[printed].outputs[0].text.split()[1]  # "total 2021.6 kg CO2e/t ..."
    assert recorded_total in cells[printed], cells[printed]  # the stored figure is what was compared


@pytest.mark.parametrize("notebook", [*NOTEBOOKS, VARIANTS, *VALIDATION], ids=lambda p: p.stem)
def test_recording_again_gives_the_committed_notebook(tmp_path, notebook):
    out = tmp_path / "recorded.ipynb"
    proc = subprocess.run([sys.executable, str(RECORD), "--notebook", str(notebook), "--output", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.read_bytes() == notebook.read_bytes(), (
        f"notebooks/{notebook.name} is not what scripts/record_notebook.py records now: after a deliberate method "
        "change, re-record it and review the diff")


def test_the_recorder_knows_every_notebook_with_a_record():
    assert [p.name for p in _recorder().NOTEBOOKS] == [p.name for p in [*NOTEBOOKS, VARIANTS, *VALIDATION]]


@pytest.mark.parametrize("notebook", VALIDATION, ids=lambda p: p.stem)
def test_validation_notebooks_store_every_case_within_its_tolerance(notebook):
    nb = nbformat.read(notebook, as_version=4)
    (cell,) = [code_cells(nb)[i] for i in checked_numbers(nb)]
    text = "".join(o.get("text", "") for o in cell.outputs)
    done, total = (int(x) for x in text.split(" cases")[0].split(" of "))
    assert done == total > 0, text


def test_rule_variants_notebook_stores_the_comparison():
    nb = nbformat.read(VARIANTS, as_version=4)
    checked = checked_numbers(nb)
    stored = " ".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                      for i in checked for o in code_cells(nb)[i].outputs)
    for what in ("steel-economic-allocation", "aluminium-regional-grid", "rank_base", "mean_change_kg_co2e"):
        assert what in stored, what


def _recorder():
    spec = importlib.util.spec_from_file_location("record_notebook", RECORD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BRIGHTWAY_LOG = ("\x1b[2m00:53:30+0000\x1b[0m [\x1b[32m\x1b[1minfo     \x1b[0m] \x1b[1mUsing environment variable "
                 "BRIGHTWAY2_DIR for data directory:\n/tmp/pcf-test-bw-x1y2\x1b[0m\n")


TOTAL = "total 2021.6 kg CO2e/t (fossil 2021.6, biogenic 0.0)\n"
TABLE = "0   raw-materials  485.7  0.0  0.0  485.7\n7  coproduct-credits -262.9\n"
DATES = "<td>2024-01-01 to 2024-12-31</td><td>12:30:00</td>"


@pytest.mark.parametrize(("text", "expected"), [
    (BRIGHTWAY_LOG, "BRIGHTWAY-LOG\n"),
    ("01:02:03+0000 [warning  ] Not able to determine geocollections\n" + TOTAL, "BRIGHTWAY-LOG\n" + TOTAL),
    ("generated_at 2026-11-21T00:53:30+00:00", "generated_at TIMESTAMP"),
    ("wrote /home/x/pcf/runs/a/b/result.json", "wrote PATH"),
    (TOTAL, TOTAL),
    (TABLE, TABLE),
    (DATES, DATES),
], ids=["brightway-log", "plain-log", "timestamp", "path", "total", "table", "dates"])
def test_sanitising_replaces_only_what_is_volatile(text, expected):
    """nbval's own parser of tests/nbval-sanitize.cfg, as the recorder uses it: logs go, numbers stay."""
    assert _recorder().sanitizer()(text) == expected
