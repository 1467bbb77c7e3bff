"""The shared Brightway project is immutable while in use: one template project per factor-set content (id,
version and sha256), built once under an exclusive file lock, copied under a shared one, never modified.

Every test uses its own Brightway folder and runs Brightway in subprocesses (bw2data binds to its folder when
imported, and the test session's folder must not change under the other tests).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ENTERPRISES, FACTORS, ROOT, write_variant

pytestmark = pytest.mark.engine

CHANGED_FACTOR = "grid-cn-2023-pcf"
TOY_FACTORS = ROOT / "tests" / "fixtures" / "toy" / "standards" / "factors" / "toy-factors.yaml"

# runs of one enterprise with one factor set, one after the other, until the stop file exists (and at least
# `minimum` ran); prints each run's totals. Any exception ends the loop with a traceback and exit status 1.
RUN_LOOP = """
import json, pathlib, sys
from methodology.study import Study
parameter_file, factor_file, work, stop, minimum = sys.argv[1:6]
i = 0
while True:
    result = Study.prepare(parameter_file, None, factor_file).calculate(pathlib.Path(work) / str(i))
    print("TOTALS " + json.dumps(result.gwp100_kg_co2e.model_dump(mode="json")), flush=True)
    i += 1
    if i >= int(minimum) and pathlib.Path(stop).exists():
        break
"""

# the state of the template projects in a Brightway folder, as JSON
PROJECTS = """
import json, sys
from methodology.brightway import engine
from methodology.schema.factors import load_factor_set
import bw2data as bd
out = {"projects": sorted(p.name for p in bd.projects)}
for path in sys.argv[1:]:
    fs = load_factor_set(path)
    try:
        engine.check_ready(fs)
        out[path] = {"name": engine.project_name(fs), "ready": True, "state": engine._state(bd, fs)}
    except engine.ProjectNotReadyError as exc:
        out[path] = {"name": engine.project_name(fs), "ready": False, "error": str(exc)}
print("STATE " + json.dumps(out))
"""


def _env(bw: Path) -> dict:
    return {**os.environ, "BRIGHTWAY2_DIR": str(bw)}


def _setup(bw: Path, factors: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "methodology", "--factors", str(factors), "setup"], cwd=ROOT,
                          env=_env(bw), capture_output=True, text=True, timeout=600)


def _state(bw: Path, *factor_files: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROJECTS, *map(str, factor_files)], cwd=ROOT, env=_env(bw),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(next(x for x in proc.stdout.splitlines() if x.startswith("STATE "))[6:])


def _files_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _changed_factor_set(tmp_path: Path) -> Path:
    """The shipped factor set with one factor changed: the same id and version, another content."""
    def change(data):
        factor = next(f for f in data["factors"] if f["id"] == CHANGED_FACTOR)
        factor["emissions"][0]["value"] = round(factor["emissions"][0]["value"] * 1.1, 4)

    return write_variant(tmp_path, FACTORS, change, name="cn-core-changed.yaml")


def test_a_build_of_another_factor_set_never_disturbs_running_runs(tmp_path):
    """Runs with factor set A go on, one after another, while another process builds factor set B (the same id
    and version, one factor changed): every run succeeds with the same figures, and A's project is not
    touched. (Before, B's build rewrote the one background of that id and version under A's runs.)"""
    bw = tmp_path / "bw"
    changed = _changed_factor_set(tmp_path)
    assert _setup(bw, FACTORS).returncode == 0
    a_state = _state(bw, FACTORS)[str(FACTORS)]
    (a_dir,) = [p for p in bw.iterdir() if p.is_dir() and p.name.startswith("pcf-workbench")]
    before = _files_digest(a_dir)

    stop = tmp_path / "stop"
    with open(tmp_path / "loop.err", "w") as err:
        loop = subprocess.Popen([sys.executable, "-c", RUN_LOOP, str(ENTERPRISES[0]), str(FACTORS),
                                 str(tmp_path / "work"), str(stop), "6"], cwd=ROOT, env=_env(bw),
                                stdout=subprocess.PIPE, stderr=err, text=True)
        totals = []

        def next_totals():
            for line in loop.stdout:
                if line.startswith("TOTALS "):
                    totals.append(json.loads(line[7:]))
                    return True
            return False

        try:
            assert next_totals()  # A's runs have started
            build = subprocess.Popen([sys.executable, "-m", "methodology", "--factors", str(changed), "setup"],
                                     cwd=ROOT, env=_env(bw), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
            build_out, _ = build.communicate(timeout=600)
            n = len(totals)
            while len(totals) < n + 2 and next_totals():  # two more runs after B was built
                pass
            stop.touch()
            while next_totals():
                pass
            loop.wait(timeout=600)
        finally:
            if loop.poll() is None:
                loop.kill()
    assert build.returncode == 0, build_out
    assert loop.returncode == 0, (tmp_path / "loop.err").read_text()
    assert len(totals) >= 6 and all(t == totals[0] for t in totals), totals
    assert _files_digest(a_dir) == before  # the template of A was never written
    state = _state(bw, FACTORS, changed)
    assert state[str(FACTORS)] == a_state and a_state["ready"]
    b = state[str(changed)]
    assert b["ready"] and b["state"] == "complete" and b["name"] != a_state["name"]
    assert {a_state["name"], b["name"]} <= set(state["projects"])

    # B's figures differ (its grid factor is 10% higher); A's are still A's
    b_run = subprocess.run([sys.executable, "-c", RUN_LOOP, str(ENTERPRISES[0]), str(changed),
                            str(tmp_path / "work-b"), str(stop), "1"], cwd=ROOT, env=_env(bw),
                           capture_output=True, text=True, timeout=600)
    assert b_run.returncode == 0, b_run.stderr
    b_totals = json.loads(next(x for x in b_run.stdout.splitlines() if x.startswith("TOTALS "))[7:])
    assert b_totals["total"] > totals[0]["total"]


def test_concurrent_builds_of_the_same_content_end_with_one_complete_project(tmp_path):
    bw = tmp_path / "bw"
    procs = [subprocess.Popen([sys.executable, "-m", "methodology", "--factors", str(TOY_FACTORS), "setup"],
                              cwd=ROOT, env=_env(bw), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum("Building Brightway project" in out for out in outputs) == 1, outputs  # the other one waited
    state = _state(bw, TOY_FACTORS)
    toy = state[str(TOY_FACTORS)]
    assert toy["ready"] and toy["state"] == "complete"
    assert [p for p in state["projects"] if p.startswith("pcf-workbench")] == [toy["name"]]
    assert len([p for p in bw.iterdir() if p.is_dir() and p.name.startswith("pcf-workbench")]) == 1


INTERRUPTED_BUILD = """
import os, sys
from methodology.brightway import engine
from methodology.schema.factors import load_factor_set
def die(bd, fs):  # the process dies while the background database is being written
    os._exit(9)
engine._write_background = die
engine.setup_project(load_factor_set(sys.argv[1]), log=lambda *a: None)
"""


def test_an_interrupted_build_is_never_used_and_is_rebuilt(tmp_path):
    bw = tmp_path / "bw"
    proc = subprocess.run([sys.executable, "-c", INTERRUPTED_BUILD, str(TOY_FACTORS)], cwd=ROOT, env=_env(bw),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 9, proc.stderr
    toy = _state(bw, TOY_FACTORS)[str(TOY_FACTORS)]
    assert not toy["ready"] and "is incomplete (its set-up was interrupted). Run `pcf setup`." in toy["error"]
    setup = _setup(bw, TOY_FACTORS)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "Removing an incomplete project" in setup.stdout
    toy = _state(bw, TOY_FACTORS)[str(TOY_FACTORS)]
    assert toy["ready"] and toy["state"] == "complete"


def test_an_edited_factor_file_is_named_in_the_message(tmp_path):
    bw = tmp_path / "bw"
    toy = tmp_path / "toy-factors.yaml"
    toy.write_bytes(TOY_FACTORS.read_bytes())
    assert _setup(bw, toy).returncode == 0
    toy.write_text(toy.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    state = _state(bw, toy)[str(toy)]
    assert not state["ready"]
    assert "No Brightway project for factor set toy-factors" in state["error"]
    assert f"was {toy} edited since set-up?" in state["error"] and "Run `pcf setup`." in state["error"]
