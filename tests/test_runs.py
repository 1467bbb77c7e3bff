"""papermill runs of the industry's notebook per shipped enterprise (steel, cement, aluminium, plastics and
fertilizer), and bad input writing nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import ALL_ENTERPRISES, ENTERPRISES, write_variant

from methodology.cli import main
from methodology.errors import ParameterFileError
from methodology.execution.runner import run_enterprise
from methodology.study import Study

pytestmark = pytest.mark.notebook

REQUIRED = {"enterprise", "product", "declared_unit", "gwp100_kg_co2e", "by_stage", "by_gas", "provenance"}


RULE_VERSIONS = {"steel": "1.4.0", "cement": "1.1.0", "aluminium": "1.1.0", "plastics": "1.0.0", "fertilizer": "1.0.0"}


@pytest.mark.parametrize("path", ALL_ENTERPRISES, ids=lambda p: p.stem)
def test_papermill_run_per_enterprise(path, bw_project, tmp_path):
    outcome = run_enterprise(path, tmp_path / "runs")
    assert outcome.ok, outcome.error
    assert not (outcome.out_dir / "brightway").exists()  # the run's Brightway project is not kept by default
    result = json.loads((outcome.out_dir / "result.json").read_text())
    assert REQUIRED <= set(result)
    industry = path.parent.name
    assert (outcome.out_dir / f"{industry}.ipynb").is_file()
    assert {p.name for p in (outcome.out_dir / "figures").iterdir()} >= {"stages.png", "gases.png"}
    assert result["checks"]["within_route_plausible_range"] is True
    expected = Study.prepare(path).calculate_without_brightway().gwp100_kg_co2e.total
    assert result["gwp100_kg_co2e"]["total"] == pytest.approx(expected, rel=1e-7)
    prov = result["provenance"]
    assert prov["rule_set"]["version"] == RULE_VERSIONS[industry] and prov["factor_set"]["version"] == "0.2.0"
    import hashlib

    assert prov["parameter_file"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    # the same footprint as a PACT v3 ProductFootprint, beside result.json (schema-checked in test_pact.py)
    assert f"{result['gwp100_kg_co2e']['total']:,.0f}" in (outcome.out_dir / "label.svg").read_text(encoding="utf-8")
    assert (outcome.out_dir / "label.png").stat().st_size > 10_000
    assert f"<b>{result['gwp100_kg_co2e']['total']:,.1f}</b> kg CO2e" in (outcome.out_dir / "report.html").read_text(
        encoding="utf-8")
    assert (outcome.out_dir / "figures" / "uncertainty.png").is_file()  # the notebook ran its Monte Carlo
    footprint = json.loads((outcome.out_dir / "pact-v3.0.3.json").read_text(encoding="utf-8"))
    assert footprint["pcf"]["fossilGhgEmissions"] == f"{result['gwp100_kg_co2e']['fossil']:.3f}".rstrip("0").rstrip(".")


def test_bad_parameter_file_writes_nothing(tmp_path):
    bad = write_variant(tmp_path, ENTERPRISES[0], lambda d: d["processes"]["eaf"]["scrap"].update({"unit": "kWh"})
                        if "eaf" in d["processes"] else d["processes"]["bof"]["scrap"].update({"unit": "kWh"}))
    runs = tmp_path / "runs"
    with pytest.raises(ParameterFileError, match="scrap.unit"):
        run_enterprise(bad, runs)
    assert not runs.exists()


def test_an_industry_without_its_own_notebook_runs_the_generic_report(bw_project, tmp_path):
    """Adding an industry is adding data: the toy rule (tests/fixtures/toy) has no notebook of its own."""
    from pathlib import Path

    from methodology.brightway import engine
    from methodology.execution.runner import notebook_for
    from methodology.schema.factors import load_factor_set

    toy = Path(__file__).resolve().parent / "fixtures" / "toy"
    rule, factors = toy / "standards" / "toy" / "pcr-toy.yaml", toy / "standards" / "factors" / "toy-factors.yaml"
    engine.setup_project(load_factor_set(factors), log=lambda *a: None)
    assert notebook_for("toy").name == "product.ipynb" and notebook_for("steel").name == "product.ipynb"
    plant = write_variant(tmp_path, toy / "parameters" / "toy-plant.yaml", lambda d: d.update(product="metal"))
    outcome = run_enterprise(plant, tmp_path / "runs", rule_file=rule, factor_file=factors)
    assert outcome.ok, outcome.error
    result = json.loads((outcome.out_dir / "result.json").read_text())
    expected = Study.prepare(plant, rule, factors).calculate_without_brightway().gwp100_kg_co2e.total
    assert result["gwp100_kg_co2e"]["total"] == pytest.approx(expected, rel=1e-7)
    assert result["provenance"]["rule_set"]["id"] == "toy-pcr"
    assert (outcome.out_dir / "toy.ipynb").is_file()


def test_pcf_run_keeps_the_brightway_project(bw_project, tmp_path):
    """``pcf run --keep-brightway``: the run folder holds a Brightway data directory with the foreground database
    (opened with bw2data and Activity Browser in ``test_engine.test_kept_project_opens_in_bw2data``)."""
    path = ENTERPRISES[-1]
    assert main(["run", str(path), "--runs", str(tmp_path / "runs"), "--keep-brightway"]) == 0
    study = Study.prepare(path)
    out = tmp_path / "runs" / study.enterprise.params.enterprise.id / study.enterprise.params.product
    kept = out / "brightway"
    assert (out / "result.json").is_file() and (kept / "projects.db").is_file()
    (lci,) = kept.glob("pcf-workbench*/lci/databases.db")
    with sqlite3.connect(lci) as db:
        codes = {c for (c,) in db.execute("SELECT code FROM activitydataset WHERE database = ?",
                                          (f"foreground {study.foreground.enterprise} {study.foreground.product}",))}
    assert codes == set(study.foreground.processes)
