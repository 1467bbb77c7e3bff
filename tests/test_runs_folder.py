"""The runs folder is safe: one pcf process at a time (a lock that dies with its process), finished runs moved
into place safely by processes racing for the same place, leftovers of killed processes removed by the next
batch, and no enterprise id that would put runs inside the batch output folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import ENTERPRISES, ROOT, write_variant

from methodology.errors import ParameterFileError
from methodology.execution.batch import Settings, run_batch
from methodology.execution.runner import _replace
from methodology.execution.runs_folder import LOCK_NAME, RunsFolderBusy, clean_leftovers, runs_lock

PARAMS = str(ENTERPRISES[-1])

HOLD_LOCK = """
import sys, time
from methodology.execution.runs_folder import runs_lock
with runs_lock(sys.argv[1], "the holder"):
    print("locked", flush=True)
    time.sleep(600)
"""


def pcf(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "methodology", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("command", ["batch", "run"])
def test_a_second_process_on_the_same_runs_folder_is_refused_at_once(command, bw_project, tmp_path):
    runs = tmp_path / "runs"
    with runs_lock(runs, "pcf batch in the test"):
        proc = pcf(command, PARAMS, "--runs", str(runs), "--no-progress" if command == "batch" else "--timeout=60")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("pcf")]
    assert line.startswith(f"pcf: error: {runs} is in use by another pcf process (pid {os.getpid()}, started ")
    assert "pcf batch in the test); wait for it to finish or choose another --runs folder" in line
    assert sorted(p.name for p in runs.iterdir()) == [LOCK_NAME]  # nothing ran, nothing was written


def test_the_lock_dies_with_its_process(tmp_path):
    """kill -9 of the holder never leaves a stale lock."""
    runs = tmp_path / "runs"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(runs)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunsFolderBusy, match=f"pid {holder.pid}, started .*: the holder"):
            with runs_lock(runs):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with runs_lock(runs, "after the kill"):
        assert json.loads((runs / LOCK_NAME).read_text())["command"] == "after the kill"


def test_moving_runs_into_place_is_safe_when_processes_race(tmp_path):
    """Many movers of finished folders to the same place at once: each move succeeds, the place holds one
    complete folder, and no temporary or renamed-away folder is left."""
    final = tmp_path / "ent" / "product"
    final.parent.mkdir()
    movers, rounds = 8, 25
    errors = []
    for r in range(rounds):
        sources = []
        for i in range(movers):
            src = final.parent / f".product.{r}-{i}.tmp"
            src.mkdir()
            (src / "who").write_text(f"{r}-{i}")
            (src / "result.json").write_text("{}")
            sources.append(src)
        barrier = threading.Barrier(movers)

        def move(src, barrier=barrier):
            barrier.wait()
            try:
                _replace(src, final)
            except Exception as exc:  # noqa: BLE001 - collected and reported by the test
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=move, args=(s,)) for s in sources]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert sorted(p.name for p in final.parent.iterdir()) == ["product"], r
        assert sorted(p.name for p in final.iterdir()) == ["result.json", "who"]
        assert (final / "who").read_text().startswith(f"{r}-")


def test_leftovers_of_killed_runs_are_removed_by_the_next_batch(bw_project, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no process has now
    leftovers = [runs / "ent-a" / ".crude-steel.1a2b3c4d.tmp", runs / "ent-a" / ".crude-steel.5e6f7a8b.old",
                 runs / "compute-only" / "ent-a" / ".crude-steel.9c0d1e2f.tmp",  # a compute-only run's
                 temp / f"pcf-kernel-{dead.pid}-abc", temp / f"pcf-forkserver-{dead.pid}-def"]
    for p in leftovers:
        p.mkdir(parents=True)
        (p / "kernel.json").write_text("{}")
    (runs / "batch").mkdir()
    files = [runs / "batch" / ".manifest.json.x1y2.tmp", runs / "batch" / ".summary.1a2b3c4d.ipynb"]
    for p in files:
        p.write_text("half")
    kept = [runs / "ent-a" / "crude-steel", runs / ".jupyter-runtime", temp / f"pcf-kernel-{os.getpid()}-live",
            temp / "pcf-kernel-unowned"]
    for p in kept:
        p.mkdir(parents=True)
    messages = []
    manifest, status = run_batch([PARAMS], runs, settings=Settings(progress=False, summary=False), compute=True,
                                 log=messages.append)
    assert status == 0 and manifest["counts"]["ok"] == 1
    assert not any(p.exists() for p in leftovers + files)
    assert all(p.is_dir() for p in kept)
    assert sum(m.startswith("removed ") for m in messages) == len(leftovers) + len(files)
    assert clean_leftovers(runs, temp) == []


def test_enterprise_ids_that_name_batch_output_folders_are_refused(bw_project, tmp_path):
    from methodology.execution.runner import run_enterprise

    src = tmp_path / "in"
    src.mkdir()
    for ident in ("batch", "compute-only", "figures", "standards"):
        write_variant(src, ENTERPRISES[-1], lambda d, i=ident: d["enterprise"].update(id=i), name=f"{ident}.yaml")
    write_variant(src, ENTERPRISES[-1], lambda d: d["enterprise"].update(id="batches"), name="batches.yaml")
    runs = tmp_path / "runs"
    manifest, status = run_batch([src], runs, settings=Settings(progress=False, summary=False), compute=True,
                                 log=lambda m: None)
    assert status == 1
    by_file = {Path(r["parameter_file"]).name: r for r in manifest["runs"]}
    assert by_file["batches.yaml"]["status"] == "ok"
    for ident in ("batch", "compute-only", "figures", "standards"):
        run = by_file[f"{ident}.yaml"]
        assert run["status"] == "invalid"
        assert run["problems"] == [f"enterprise.id: found '{ident}'; expected an id other than batch, "
                                   f"compute-only, figures, standards (the batch output folders under --runs and "
                                   f"the folders in them)"]
    with pytest.raises(ParameterFileError, match="enterprise.id: found 'batch'"):
        run_enterprise(src / "batch.yaml", runs)
    assert sorted(p.name for p in runs.iterdir()) == sorted([LOCK_NAME, "compute-only"])
