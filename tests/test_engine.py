"""Brightway layer: offline set-up, tiny hand-built systems, the fast evaluator equal to Brightway on every
figure of the result, and a run's project kept for Activity Browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from conftest import ABS, ALL_ENTERPRISES, ENTERPRISES, ROOT, assert_same_figures

from methodology.brightway import engine
from methodology.core import compute
from methodology.core.foreground import Exchange, Foreground, Origin, UnitProcess
from methodology.errors import ProjectNotReadyError
from methodology.execution.compute_only import compute_rows
from methodology.outputs.table import result_row
from methodology.schema.rules import AllocationApproach
from methodology.study import Study, calculate_without_brightway

# Brightway stores matrix values as float32 (bw_processing), about 6e-8 of each exchange; the fast evaluator
# keeps float64. Measured on the shipped enterprises: at most 2e-7 relative on any figure above 1e-3 kg.
# Every figure must agree to 1e-6 relative, or to 1e-4 kg near 0: a process gas's surplus column runs a small
# difference of large flows, which single precision leaves about 1e-5 kg off (conftest.ABS, decision 0008).
REL = 1e-6

pytestmark = pytest.mark.engine


def test_check_ready_refuses_an_empty_location(tmp_path, monkeypatch, factors):
    monkeypatch.setenv("BRIGHTWAY2_DIR", str(tmp_path))
    with pytest.raises(ProjectNotReadyError, match="Run `pcf setup`"):
        engine.check_ready(factors)


def test_installed_indicators_match_the_shipped_characterisation(bw_project, factors):
    import bw2data as bd

    bd.projects.set_current(engine.project_name(factors), update=False)
    shipped = yaml.safe_load((ROOT / "standards" / "methods" / "gwp100-ar6.yaml").read_text())["indicators"]
    for key in ("fossil", "biogenic"):
        installed = engine._cfs_by_gas(bd, engine.INDICATORS[key])
        assert {g: v for g, v in installed.items() if v} == shipped[key]
    ipcc = engine._cfs_by_gas(bd, engine.IPCC)
    assert ipcc["ch4_fossil"] == 29.8 and ipcc["n2o"] == 273 and ipcc["co2_biogenic"] == 0


def test_tiny_hand_built_system(bw_project, factors, tmp_path):
    """Two processes: 'a' (1 t) uses 2 kWh grid and 0.5 t of 'b'; 'b' (1 t) emits 3 kg CO2 and
    earns a credit of 1 kWh avoided grid. Per t of a: 2 x 0.6205 + 0.5 x (3 - 0.6205) = 2.43025."""
    fg = Foreground(
        enterprise="tiny", product="a", route="r", final_process="a", demand=1.0,
        allocation=AllocationApproach.system_expansion, electricity_factor="grid-cn-2023-pcf",
        processes={
            "a": UnitProcess("a", "A", "s", "a", "t", 1.0, (
                Exchange("technosphere", "grid-cn-2023-pcf", 2.0, Origin.electricity, "el"),
                Exchange("technosphere", "b", 0.5, Origin.foreground, "b", "foreground"))),
            "b": UnitProcess("b", "B", "s", "b", "t", 1.0, (
                Exchange("biosphere", "co2_fossil", 3.0, Origin.direct, "x", "biosphere"),
                Exchange("technosphere", "avoided-grid-electricity", -1.0, Origin.credit, "c"))),
        })
    with engine.run_project(tmp_path, factors) as bd:
        engine.write_foreground(bd, fg, factors)
        res = engine.calculate(bd, fg, factors)
    assert res.scores["fossil"] == pytest.approx(2 * 0.6205 + 0.5 * (3 - 0.6205))
    rows = res.contributions.rows(res.cfs)
    assert sum(r["total"] for r in rows) == pytest.approx(res.scores["fossil"])
    credit = sum(r["total"] for r in rows if r["origin"] == "credit")
    assert credit == pytest.approx(-0.5 * 0.6205)
    assert res.contributions.scaling == pytest.approx({"a": 1.0, "b": 0.5})


@pytest.fixture(scope="module")
def official(bw_project, tmp_path_factory) -> dict[str, tuple]:
    """Per shipped enterprise: its study, Brightway's calculation and the result ``Study.calculate`` assembles
    from it (one Brightway run each)."""
    out = {}
    for path in ALL_ENTERPRISES:
        study, work = Study.prepare(path), tmp_path_factory.mktemp(path.stem)
        with engine.run_project(work, study.factors) as bd:
            engine.write_foreground(bd, study.foreground, study.factors)
            calc = engine.calculate(bd, study.foreground, study.factors)
        assert not (work / "brightway").exists()  # the private project copy is removed
        out[path.name] = study, calc, study.assemble(calc.contributions, calc.cfs, engine_scores=calc.scores)
    return out


def test_fast_evaluator_equals_brightway_on_every_figure(official):
    """The compute-only path (every shipped enterprise stacked, one factorisation) gives Brightway's result."""
    studies = [official[p.name][0] for p in ALL_ENTERPRISES]
    fast = calculate_without_brightway(studies)
    rows = compute_rows(studies)
    assert len(fast) == len(rows) == len(ALL_ENTERPRISES) >= 8
    for path, result, row in zip(ALL_ENTERPRISES, fast, rows, strict=True):
        bw = official[path.name][2]
        assert bw.checks.brightway_scores_match is True
        assert result.checks.brightway_scores_match is None  # no Brightway score to compare with
        assert_same_figures(result.model_dump(mode="json"), bw.model_dump(mode="json"),
                             skip={".checks.brightway_scores_match", ".provenance.generated_at"})
        assert_same_figures(row, result_row(bw, official[path.name][0].rule.rule_set.industry), skip=set())
        assert bw.gwp100_kg_co2e.total == pytest.approx(result.gwp100_kg_co2e.total, rel=REL)


@pytest.mark.parametrize("path", ALL_ENTERPRISES, ids=lambda p: p.stem)
def test_contribution_rows_equal_brightways(path, official):
    """Row by row: the fast evaluator's contributions table is the one taken from Brightway's matrices."""
    study, calc, _ = official[path.name]
    st = compute.stack([study.foreground], study.factors)
    (fast,) = compute.contributions(st, compute.scaling(st))
    cfs = calc.cfs
    key = ("process", "source", "origin", "gas")
    got = {tuple(r[k] for k in key): r for r in fast.rows(cfs)}
    expected = {tuple(r[k] for k in key): r for r in calc.contributions.rows(cfs)}
    assert len(got) == len(fast) and len(expected) == len(calc.contributions)  # one row per key
    assert set(got) == set(expected)
    for k, row in expected.items():
        assert got[k]["kg"] == pytest.approx(row["kg"], rel=REL, abs=ABS), k  # ABS: surplus columns (conftest)
    surplus = {p.id for p in study.foreground.processes.values() if p.surplus}  # GJ per declared unit
    bw_scaling = dict(calc.contributions.scaling)
    assert {k: v for k, v in fast.scaling.items() if k not in surplus} == pytest.approx(
        {k: v for k, v in bw_scaling.items() if k not in surplus}, rel=REL)
    assert {k: fast.scaling[k] for k in surplus} == pytest.approx({k: bw_scaling[k] for k in surplus}, abs=1e-6)


def test_runs_never_write_the_template(bw_project, factors, tmp_path):
    before = sorted(p.name for p in bw_project.iterdir())
    study = Study.prepare(ENTERPRISES[0])
    study.calculate(tmp_path)
    assert not (tmp_path / "brightway").exists()  # the private project copy is removed
    import bw2data as bd

    bd.projects.set_current(engine.project_name(factors), update=False)
    assert not any(name.startswith("foreground") for name in bd.databases)
    assert sorted(p.name for p in bw_project.iterdir()) == before


OPEN_KEPT_PROJECT = """
import json, sys
import bw2calc as bc
import bw2data as bd
project, database, final, demand, method = json.loads(sys.argv[1])
bd.projects.set_current(project)
db = bd.Database(database)
acts = {a["code"]: {kind: len(list(getattr(a, kind)())) for kind in ("production", "technosphere", "biosphere")}
        for a in db}
lca = bc.LCA({db.get(final): demand}, tuple(method))
lca.lci()
lca.lcia()
print("KEPT " + json.dumps({"dir": str(bd.projects.dir), "projects": sorted(p.name for p in bd.projects),
                            "databases": sorted(bd.databases), "activities": acts, "score": lca.score}))
"""


def test_kept_project_opens_in_bw2data(bw_project, tmp_path):
    """``calculate(keep_project=True)`` leaves a Brightway data directory that bw2data opens from
    ``BRIGHTWAY2_DIR`` alone, also after the run folder was moved (as a run's folder is renamed into place)."""
    study = Study.prepare(ENTERPRISES[0])
    fg = study.foreground
    result = study.calculate(tmp_path / "work", keep_project=True)
    (tmp_path / "work").rename(tmp_path / "run")
    kept = tmp_path / "run" / "brightway"
    assert (kept / "projects.db").is_file()
    name = engine.foreground_db_name(fg)
    args = json.dumps([engine.project_name(study.factors), name, fg.final_process, fg.demand,
                       list(engine.INDICATORS["fossil"])])
    proc = subprocess.run([sys.executable, "-c", OPEN_KEPT_PROJECT, args], capture_output=True, text=True,
                          env=dict(os.environ, BRIGHTWAY2_DIR=str(kept)), timeout=600)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("KEPT "))[5:])
    assert info["dir"].startswith(str(kept))
    assert [p for p in info["projects"] if p.startswith("pcf-workbench")] == [engine.project_name(study.factors)]
    assert {name, engine.background_db_name(study.factors), "biosphere3"} <= set(info["databases"])
    assert set(info["activities"]) == set(fg.processes)
    for pid, p in fg.processes.items():
        counts = info["activities"][pid]
        assert counts["production"] == 1
        assert counts["technosphere"] == sum(e.kind == "technosphere" for e in p.exchanges), pid
        assert counts["biosphere"] == sum(e.kind == "biosphere" for e in p.exchanges), pid
    assert info["score"] == pytest.approx(result.gwp100_kg_co2e.fossil, rel=REL)
