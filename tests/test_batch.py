"""`pcf batch`: bad files reported and skipped, good ones run in parallel on Dask, atomic outputs,
resumable and idempotent, timeouts, interrupted batches, killed workers, and the results table."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ABS, ENTERPRISES, REL, ROOT, write_variant

from methodology.execution.batch import Settings, run_batch
from methodology.outputs.table import result_row

pytestmark = pytest.mark.notebook

QUIET = Settings(workers=2, progress=False, timeout=300)


def _shipped_copies(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    for p in ENTERPRISES:
        (src / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    return src


def _inputs(tmp_path: Path) -> Path:
    src = _shipped_copies(tmp_path)
    bfbof = next(p for p in ENTERPRISES if "integrated" in p.name)

    def wrong_unit(d):
        d["enterprise"]["id"] = "bad-unit-works"
        d["processes"]["bof"]["hot_metal"]["unit"] = "GJ"

    write_variant(src, bfbof, wrong_unit, name="bad-unit.yaml")
    (src / "broken.yaml").write_text("enterprise: {id: broken\nproduct: [", encoding="utf-8")
    return src


def _statuses(manifest) -> dict[str, str]:
    return {Path(r["parameter_file"]).name: r["status"] for r in manifest["runs"]}


@pytest.fixture(scope="module")
def mixed_batch(tmp_path_factory, bw_project):
    tmp = tmp_path_factory.mktemp("batch")
    src = _inputs(tmp)
    manifest, status = run_batch([src], tmp / "runs", settings=QUIET, log=lambda m: None)
    return src, tmp / "runs", manifest, status


def test_bad_files_reported_good_ones_run(mixed_batch):
    src, runs, manifest, status = mixed_batch
    assert status == 1  # not everything succeeded
    st = _statuses(manifest)
    assert st == {"bad-unit.yaml": "invalid", "broken.yaml": "invalid",
                  **{p.name: "ok" for p in ENTERPRISES}}
    bad = next(r for r in manifest["runs"] if r["parameter_file"].endswith("bad-unit.yaml"))
    assert any("processes.bof.hot_metal.unit: found 'GJ'" in p for p in bad["problems"])
    broken = next(r for r in manifest["runs"] if r["parameter_file"].endswith("broken.yaml"))
    assert broken["error"] == "1 problem(s)" and broken["problems"][0].startswith("line ")
    assert not (runs / "bad-unit-works").exists()  # nothing written for an invalid file
    for r in manifest["runs"]:
        if r["status"] == "ok":
            out = Path(r["out_dir"])
            assert {"result.json", "run.json", "steel.ipynb"} <= {p.name for p in out.iterdir()}
            assert r["wall_s"] > 0 and r["worker"]
    n = len(ENTERPRISES)
    assert manifest["counts"] == {"ok": n, "skipped": 0, "failed": 0, "timeout": 0, "crashed": 0,
                                       "invalid": 2, "cancelled": 0, "total": n + 2}
    assert not list(runs.rglob("*.tmp"))  # no temporary folder or file left behind


def test_results_table_equals_the_individual_results(mixed_batch):
    import pandas as pd

    _, runs, manifest, _ = mixed_batch
    table = pd.read_parquet(runs / "batch" / "results.parquet")
    csv = pd.read_csv(runs / "batch" / "results.csv")
    assert len(table) == len(csv) == len(ENTERPRISES)
    for r in manifest["runs"]:
        if r["status"] != "ok":
            continue
        expected = result_row(json.loads((Path(r["out_dir"]) / "result.json").read_text()), "steel")
        row = table[table.enterprise == r["enterprise"]].iloc[0]
        for col, value in expected.items():
            if isinstance(value, float):
                assert row[col] == pytest.approx(value, rel=1e-12), col
            elif value is None:  # a column of texts reads a missing one back as NaN (pandas' str dtype)
                assert pd.isna(row[col]), col
            else:
                assert row[col] == value, col
        stages = [c for c in table.columns if c.startswith("stage:")]
        assert row[stages].sum() == pytest.approx(row["gwp100_total_kg_co2e"], rel=1e-9)


def test_summary_notebook_and_manifest(mixed_batch):
    _, runs, manifest, _ = mixed_batch
    assert (runs / "batch" / "summary.ipynb").is_file()
    on_disk = json.loads((runs / "batch" / "manifest.json").read_text())
    assert on_disk["factor_set"]["id"] == "cn-core"
    assert on_disk["rule_sets"][0]["id"] == "cn-pcr-steel"
    # the batch keeps a byte-identical copy of each rule and factor set it used (decision record 0013)
    for entry in on_disk["rule_sets"] + on_disk["factor_sets"]:
        copy = runs / "batch" / entry["copy"]
        assert copy.read_bytes() == Path(entry["path"]).read_bytes(), entry
        assert copy.name == f"{entry['id']}-{entry['version']}-{entry['sha256'][:12]}.yaml"
    assert on_disk["settings"]["mode"] == "notebooks" and on_disk["settings"]["workers"] == 2
    ran = [r for r in on_disk["runs"] if r["status"] == "ok"]
    assert ran and all(r["peak_rss_mb"] > 0 and r["worker_peak_rss_mb"] > 0 for r in ran)
    if sys.platform.startswith("linux"):  # warm kernels are forked from a template there
        assert all(r["template_peak_rss_mb"] > 0 for r in ran)


def test_rerun_skips_unchanged_and_reruns_changed(mixed_batch, tmp_path):
    src, runs, _, _ = mixed_batch
    eaf = src / "sd-scrap-eaf-mill-b.yaml"
    manifest, status = run_batch([src], runs, settings=QUIET, log=lambda m: None)
    assert set(_statuses(manifest).values()) == {"skipped", "invalid"}
    assert len(__import__("pandas").read_parquet(runs / "batch" / "results.parquet")) == len(ENTERPRISES)
    eaf.write_text(eaf.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    manifest, _ = run_batch([src], runs, settings=QUIET, log=lambda m: None)
    st = _statuses(manifest)
    assert st["sd-scrap-eaf-mill-b.yaml"] == "ok"
    assert [n for n, s in st.items() if s == "skipped"] == [p.name for p in ENTERPRISES if "eaf-mill" not in p.name]


@pytest.mark.parametrize("warm", [False, True], ids=["cold-kernel", "forked-warm-kernel"])
def test_timeout_fails_that_run_only(tmp_path, bw_project, warm):
    timeout = 0.5 if warm else 1.0
    settings = Settings(workers=1, progress=False, timeout=timeout, summary=False, warm=warm)
    manifest, status = run_batch([ENTERPRISES[0]], tmp_path / "runs", settings=settings, log=lambda m: None)
    assert status == 1
    (run,) = manifest["runs"]
    assert run["status"] == "timeout" and f"exceeded {timeout:g} s" in run["error"]
    failed = Path(run["out_dir"])
    assert failed.name.endswith(".failed") and (failed / "steel.ipynb").is_file()
    assert not (failed / "result.json").exists()
    assert not failed.with_name(failed.name.removesuffix(".failed")).exists()


def _assert_manifest_agrees_with_disk(runs: Path) -> dict[str, str]:
    """Every run the manifest calls ok is a finished run on disk; every cancelled one left nothing (no .failed
    folder, no temporary folder); returns the statuses by enterprise."""
    manifest = json.loads((runs / "batch" / "manifest.json").read_text())
    statuses = {r["enterprise"]: r["status"] for r in manifest["runs"]}
    for r in manifest["runs"]:
        final = runs / r["enterprise"] / r["product"]
        if r["status"] in ("ok", "skipped"):
            assert (final / "result.json").is_file(), r
        else:
            assert r["status"] == "cancelled" and not final.exists(), r
    assert not list(runs.rglob("*.failed")) and not list(runs.rglob("*.tmp")) and not list(runs.rglob("*.old"))
    return statuses


def _interrupt_after_first_run(cmd: list[str], runs: Path) -> subprocess.CompletedProcess:
    """Start ``pcf batch`` in its own session and press Ctrl-C in its "terminal" (SIGINT to the whole process
    group: the batch and all it started there) once the first run is in place; the next run is then in flight."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    while not list(runs.glob("*/*/run.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_interrupted_batch_resumes(tmp_path, bw_project):
    """Ctrl-C in a terminal: SIGINT reaches the whole process group (the batch, its Dask workers). Kernels and
    kernel templates run in their own sessions, so the run in flight is not killed by it: the batch cancels it
    and it leaves nothing (before, it became a .failed folder with DeadKernelError, recorded as cancelled)."""
    from methodology.execution.synthetic import generate

    src = tmp_path / "in"
    generate(ENTERPRISES, 6, src)
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "methodology", "batch", str(src), "--runs", str(runs), "--workers", "2",
           "--no-progress", "--no-summary"]
    proc = _interrupt_after_first_run(cmd, runs)
    assert proc.returncode == 130, proc.stderr
    assert "interrupted: cancelling the remaining runs" in proc.stderr and "Traceback" not in proc.stderr
    done = {p.parent.parent.name for p in runs.glob("*/*/result.json")}
    assert 1 <= len(done) < 6
    manifest = json.loads((runs / "batch" / "manifest.json").read_text())
    assert manifest["interrupted"] and manifest["counts"]["cancelled"] >= 1
    statuses = _assert_manifest_agrees_with_disk(runs)
    assert {e for e, s in statuses.items() if s == "ok"} == done  # nothing failed because of the signal
    assert set(statuses.values()) == {"ok", "cancelled"}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((runs / "batch" / "manifest.json").read_text())
    statuses = {r["enterprise"]: r["status"] for r in manifest["runs"]}
    assert {e for e, s in statuses.items() if s == "skipped"} == done
    assert set(statuses.values()) == {"ok", "skipped"} and len(statuses) == 6


def test_interrupted_batch_on_a_scheduler_waits_for_the_runs_in_flight(tmp_path, bw_project):
    """On a cluster the batch did not start, Ctrl-C cancels what has not started and waits for the runs its
    workers are executing, so that the manifest records what they leave on disk."""
    import dask
    from distributed import Client, LocalCluster

    from methodology.execution.synthetic import generate

    src = tmp_path / "in"
    generate(ENTERPRISES, 6, src)
    runs = tmp_path / "runs"
    config = {"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(config), \
            LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None, silence_logs=40,
                         memory_limit=0) as cluster, Client(cluster):
        cmd = [sys.executable, "-m", "methodology", "batch", str(src), "--runs", str(runs), "--scheduler",
               cluster.scheduler_address, "--no-progress", "--no-summary"]
        proc = _interrupt_after_first_run(cmd, runs)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    # the worker is usually executing the next run when Ctrl-C comes, but may be between two tasks: the
    # property tested is that whatever was in flight is awaited and the manifest agrees with the disk
    assert re.search(r"waiting for the \d+ run\(s\) in flight on the cluster", proc.stderr) or \
        "interrupted" in proc.stderr, proc.stderr
    statuses = _assert_manifest_agrees_with_disk(runs)
    assert "cancelled" in statuses.values() and set(statuses.values()) <= {"ok", "cancelled"}


def test_dask_scheduler_address_and_killed_worker(tmp_path, bw_project):
    """The same batch on an existing Dask cluster; killing the worker of one run fails that run only."""
    import dask
    from distributed import Client, LocalCluster

    src = _shipped_copies(tmp_path)
    runs = tmp_path / "runs"
    config = {"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(config), \
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=40,
                         memory_limit=0) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        victim = {"pid": None}

        def kill_first_worker_with_a_run():
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                running = client.processing()
                for addr, keys in running.items():
                    if keys:
                        victim["pid"] = pids[addr]
                        time.sleep(1.0)
                        os.kill(pids[addr], signal.SIGKILL)
                        return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_first_worker_with_a_run)
        killer.start()
        settings = Settings(scheduler=cluster.scheduler_address, progress=False, summary=False)
        manifest, status = run_batch([src], runs, settings=settings, log=lambda m: None)
        killer.join()
    assert victim["pid"] is not None
    st = [r["status"] for r in manifest["runs"]]
    detail = [(r["status"], r["error"]) for r in manifest["runs"]]
    assert status == 1 and st.count("crashed") == 1 and st.count("ok") == len(ENTERPRISES) - 1, detail
    crashed = next(r for r in manifest["runs"] if r["status"] == "crashed")
    assert "KilledWorker" in crashed["error"]
    assert not list(runs.rglob("*.tmp"))
    assert not (runs / crashed["enterprise"] / crashed["product"]).exists()


def test_compute_only_equals_the_notebook_runs(mixed_batch):
    import pandas as pd

    src, runs, _, _ = mixed_batch
    manifest, status = run_batch([src], runs, settings=QUIET, compute=True, log=lambda m: None)
    assert status == 1 and manifest["settings"]["mode"] == "compute-only"  # the two invalid files
    fast = pd.read_parquet(runs / "compute-only" / "results.parquet").set_index("enterprise")
    slow = pd.read_parquet(runs / "batch" / "results.parquet").set_index("enterprise")
    assert sorted(fast.index) == sorted(slow.index) and len(fast) == len(ENTERPRISES)
    numeric = [c for c in slow.columns if c.startswith(("gwp100_", "stage:", "origin:", "gas:", "dq_"))]
    assert set(numeric) <= set(fast.columns)
    for col in numeric:  # to the tolerance of Brightway's single-precision matrices (conftest.REL, ABS)
        for ent in slow.index:
            assert fast.at[ent, col] == pytest.approx(slow.at[ent, col], rel=REL, abs=ABS), (ent, col)


def _probe(pool) -> dict:
    from jupyter_client import BlockingKernelClient

    from methodology.execution.kernels import shutdown

    km = pool.take()
    try:
        kc = BlockingKernelClient(connection_file=km.connection_file)
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        seen = []
        code = ("import json, sys, methodology.schema.factors as f, methodology.schema.rules as r\n"
                "print(json.dumps({'names': sorted(k for k in globals() if not k.startswith('_')),\n"
                "                  'history': len(In), 'bw2data': 'bw2data' in sys.modules,\n"
                "                  'cached': len(f._LOADED._items) + len(r._LOADED._items)}))")
        reply = kc.execute_interactive(code, timeout=60, output_hook=seen.append)
        kc.stop_channels()
    finally:
        shutdown(km)
        pool.close()
    assert reply["content"]["status"] == "ok"
    text = "".join(m["content"].get("text", "") for m in seen if m["msg_type"] == "stream")
    return json.loads(text) | {"execution_count": reply["content"]["execution_count"]}


def test_warm_kernel_starts_clean(bw_project):
    """A warm kernel has its imports done and the shipped rules cached; its user namespace and history are
    those of a cold kernel."""
    from methodology.execution.kernels import KernelPool
    from methodology.execution.runner import NOTEBOOKS

    warm, cold = _probe(KernelPool(NOTEBOOKS, warm=True)), _probe(KernelPool(NOTEBOOKS, warm=False))
    assert warm["names"] == cold["names"]
    assert warm["history"] == cold["history"] == 2 and warm["execution_count"] == cold["execution_count"] == 1
    assert warm["bw2data"] and warm["cached"] >= 2
    assert not cold["bw2data"] and cold["cached"] == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="kernel templates are forked on Linux only")
def test_kernels_start_without_a_template_that_died(bw_project):
    """A kernel template that dies makes the pool start kernels the ordinary way; the batch goes on."""
    from methodology.execution.forkserver import ForkedProcess
    from methodology.execution.kernels import KernelPool, shutdown
    from methodology.execution.runner import NOTEBOOKS

    pool = KernelPool(NOTEBOOKS, warm=False, fork=True)
    try:
        pool.server.wait_ready()
        forked = pool.take()
        assert isinstance(forked.provisioner.process, ForkedProcess) and forked.is_alive()
        shutdown(forked)
        pool.server.proc.kill()
        pool.server.proc.wait()
        km = pool.take()
        assert km.is_alive() and not isinstance(km.provisioner.process, ForkedProcess)
        shutdown(km)
    finally:
        pool.close()


# --- compute-only run folders (issue 15): the files a notebook run writes, without the notebook ------------------

INDUSTRY_FOLDERS = sorted(p for p in (ROOT / "parameters").iterdir() if p.is_dir())  # parameters/<industry>/
RUN_FILES = ("result.json", "run.json", "report.html", "report.pdf", "pact-v3.0.3.json", "label.svg", "label.png",
             "figures/stages.png")


@pytest.fixture(scope="module")
def industries(tmp_path_factory, bw_project):
    """One shipped enterprise of each industry (each folder under parameters/), run by notebooks and then
    compute-only into the same runs folder."""
    tmp = tmp_path_factory.mktemp("industries")
    src = tmp / "in"
    src.mkdir()
    for folder in INDUSTRY_FOLDERS:
        first = sorted(folder.glob("*.yaml"))[0]
        (src / first.name).write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    notebooks, status = run_batch([src], tmp / "runs", settings=QUIET, log=lambda m: None)
    assert status == 0, notebooks["runs"]
    fast, status = run_batch([src], tmp / "runs", settings=QUIET, compute=True, log=lambda m: None)
    assert status == 0, fast["runs"]
    return src, tmp / "runs", notebooks, fast


def _numbers(result_json: Path, industry: str) -> dict:
    from methodology.core.result import Result

    row = result_row(Result.model_validate_json(result_json.read_text(encoding="utf-8")), industry)
    return {k: v for k, v in row.items() if k.startswith(("gwp100_", "stage:", "origin:", "gas:", "dq_"))}


def test_compute_only_writes_each_run_folder_as_the_notebook_run(industries):
    """Every file of the notebook run but the notebook, in <runs>/compute-only/<enterprise>/<product>/, with the
    notebook run's figures; the notebook runs' folders stay theirs."""
    _, runs, notebooks, fast = industries
    assert {r["industry"] for r in fast["runs"]} == {f.name for f in INDUSTRY_FOLDERS}
    assert fast["settings"]["run_folders"] is True
    for nb, co in zip(notebooks["runs"], fast["runs"], strict=True):
        final = runs / "compute-only" / co["enterprise"] / co["product"]
        assert co["status"] == "ok" and Path(co["out_dir"]) == final, co
        for name in RUN_FILES:
            assert (final / name).is_file(), (final, name)
        assert not list(final.glob("*.ipynb"))
        assert json.loads((final / "run.json").read_text())["mode"] == "compute-only"
        assert (final / "cbam.csv").is_file() == (Path(nb["out_dir"]) / "cbam.csv").is_file()
        assert Path(nb["out_dir"]) == runs / nb["enterprise"] / nb["product"]
        assert (Path(nb["out_dir"]) / f"{nb['industry']}.ipynb").is_file()  # not overwritten by compute-only
        slow, quick = (_numbers(Path(d) / "result.json", co["industry"]) for d in (nb["out_dir"], final))
        assert set(slow) == set(quick) and slow
        for col in slow:  # to the tolerance of Brightway's single-precision matrices (conftest.REL, ABS)
            assert quick[col] == pytest.approx(slow[col], rel=REL, abs=ABS), (co["enterprise"], col)
    assert any((runs / "compute-only" / r["enterprise"] / r["product"] / "cbam.csv").is_file() for r in fast["runs"])


def test_compute_only_rerun_skips_unchanged(industries, tmp_path):
    import shutil

    import pandas as pd

    src, runs, _, _ = industries
    copy = tmp_path / "runs"
    shutil.copytree(runs, copy)
    manifest, status = run_batch([src], copy, settings=QUIET, compute=True, log=lambda m: None)
    assert status == 0 and set(_statuses(manifest).values()) == {"skipped"}
    edited = sorted(src.glob("*.yaml"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    try:
        manifest, status = run_batch([src], copy, settings=QUIET, compute=True, log=lambda m: None)
    finally:
        edited.write_text(edited.read_text(encoding="utf-8").removesuffix("\n# edited\n"), encoding="utf-8")
    st = _statuses(manifest)
    assert status == 0 and st.pop(edited.name) == "ok" and set(st.values()) == {"skipped"}
    assert len(pd.read_parquet(copy / "compute-only" / "results.parquet")) == len(manifest["runs"])


def test_compute_only_bad_file_leaves_the_others_complete(tmp_path, bw_project):
    """An invalid file and a run whose folder cannot be written (a file in its way) fail alone, in the manifest;
    the others are complete and nothing is half-written."""
    src = _inputs(tmp_path)  # the steel enterprises, a wrong unit and a broken YAML file
    runs = tmp_path / "runs"
    blocked = ENTERPRISES[0]
    ent = __import__("yaml").safe_load(blocked.read_text(encoding="utf-8"))["enterprise"]["id"]
    (runs / "compute-only").mkdir(parents=True)
    (runs / "compute-only" / ent).write_text("in the way\n", encoding="utf-8")
    manifest, status = run_batch([src], runs, settings=QUIET, compute=True, log=lambda m: None)
    assert status == 1
    st = _statuses(manifest)
    assert st.pop(blocked.name) == "failed" and st.pop("bad-unit.yaml") == st.pop("broken.yaml") == "invalid"
    assert set(st.values()) == {"ok"} and len(st) == len(ENTERPRISES) - 1
    (failed,) = [r for r in manifest["runs"] if r["status"] == "failed"]
    assert str(runs / "compute-only" / ent) in failed["error"] and failed["out_dir"] is None
    for r in manifest["runs"]:
        if r["status"] == "ok":
            for name in RUN_FILES:
                assert (Path(r["out_dir"]) / name).is_file()
    assert not [p for p in runs.rglob(".*") if p.name != ".pcf-runs.lock"]  # no temporary file or folder left
    assert json.loads((runs / "compute-only" / "manifest.json").read_text())["counts"]["failed"] == 1


def test_table_only_writes_no_run_folders(mixed_batch, tmp_path):
    import pandas as pd

    src, runs, _, _ = mixed_batch
    manifest, status = run_batch([src], tmp_path / "runs", settings=QUIET, compute=True, table_only=True,
                                 log=lambda m: None)
    assert status == 1 and manifest["settings"]["run_folders"] is False
    out = tmp_path / "runs" / "compute-only"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["figures", "standards"]  # the summary's, ours
    fast = pd.read_parquet(out / "results.parquet").set_index("enterprise")
    slow = pd.read_parquet(runs / "batch" / "results.parquet").set_index("enterprise")
    assert sorted(fast.index) == sorted(slow.index)
    total = "gwp100_total_kg_co2e"
    assert fast[total].to_dict() == pytest.approx(slow[total].to_dict(), rel=REL, abs=ABS)



def test_batch_over_parameters_plans_every_file_of_every_industry_folder(tmp_path):
    """What `pcf batch parameters` (the README's main command) discovers: every shipped file of every folder
    under parameters/ found, valid and planned to run under its own industry (no computation: cheap)."""
    from methodology.execution.batch import plan

    p = plan([ROOT / "parameters"], tmp_path / "runs", log=lambda m: None)
    assert not p.invalid and not p.skipped, p.invalid
    shipped = {q.resolve() for folder in INDUSTRY_FOLDERS for q in folder.glob("*.yaml")}
    assert {Path(s.parameter_file).resolve() for s in p.todo} == shipped
    assert {(Path(s.parameter_file).parent.name, s.industry) for s in p.todo} == {
        (f.name, f.name) for f in INDUSTRY_FOLDERS}  # parameters/<industry>/ holds that industry's files only
    assert {f.name for f in INDUSTRY_FOLDERS} >= {"steel", "cement", "aluminium", "plastics", "fertilizer"}


def test_batch_summary_names_every_industry_in_chinese(industries):
    """The notebook batch of one enterprise per industry: its results table and summary notebook hold every
    industry, each under its bilingual label (standards/vocabulary/zh-en.yaml), not its bare id."""
    import pandas as pd

    from methodology.outputs import summary
    from methodology.schema.vocabulary import label

    _, runs, _, _ = industries
    labels = {label("industries", f.name) for f in INDUSTRY_FOLDERS}
    assert not labels & {f.name for f in INDUSTRY_FOLDERS}  # every industry has a label of its own
    table = pd.read_parquet(runs / "batch" / "results.parquet")
    assert set(summary.headline_table(table).index.get_level_values(0)) == labels
    nb = json.loads((runs / "batch" / "summary.ipynb").read_text(encoding="utf-8"))
    shown = json.dumps([o for c in nb["cells"] for o in c.get("outputs", [])], ensure_ascii=False)
    assert {x for x in labels if x not in shown} == set()
