"""Brightway layer: offline set-up, tiny hand-built systems, and agreement with the numpy evaluator."""

from __future__ import annotations

import pytest
import yaml
from conftest import ENTERPRISES, ROOT

from methodology.brightway import engine
from methodology.core.foreground import Exchange, Foreground, Origin, UnitProcess
from methodology.errors import ProjectNotReadyError
from methodology.schema.rules import AllocationApproach
from methodology.study import Study

pytestmark = pytest.mark.engine


def test_check_ready_refuses_an_empty_location(tmp_path, monkeypatch, factors):
    monkeypatch.setenv("BRIGHTWAY2_DIR", str(tmp_path))
    with pytest.raises(ProjectNotReadyError, match="Run `pcf setup`"):
        engine.check_ready(factors)


def test_installed_indicators_match_the_shipped_characterisation(bw_project):
    import bw2data as bd

    bd.projects.set_current(engine.PROJECT)
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
    assert res["scores"]["fossil"] == pytest.approx(2 * 0.6205 + 0.5 * (3 - 0.6205))
    assert sum(r["total"] for r in res["rows"]) == pytest.approx(res["scores"]["fossil"])
    credit = sum(r["total"] for r in res["rows"] if r["origin"] == "credit")
    assert credit == pytest.approx(-0.5 * 0.6205)


@pytest.mark.parametrize("path", ENTERPRISES, ids=lambda p: p.stem)
def test_brightway_equals_numpy_evaluator(path, bw_project, tmp_path):
    study = Study.prepare(path)
    bw = study.calculate(tmp_path)
    np_ = study.calculate_without_brightway()
    assert bw["checks"]["brightway_scores_match"] is True
    assert bw["gwp100_kg_co2e"]["total"] == pytest.approx(np_["gwp100_kg_co2e"]["total"], rel=1e-7)
    assert not (tmp_path / "brightway").exists()  # the private project copy is removed


def test_runs_never_write_the_template(bw_project, factors, tmp_path):
    before = sorted(p.name for p in bw_project.iterdir())
    study = Study.prepare(ENTERPRISES[0])
    study.calculate(tmp_path)
    import bw2data as bd

    bd.projects.set_current(engine.PROJECT, update=False)
    assert not any(name.startswith("foreground") for name in bd.databases)
    assert sorted(p.name for p in bw_project.iterdir()) == before
