"""The filed catalogue (issue 12): real runs of shipped enterprises (compute-only path, ``filed_runs``) filed into
SQLite; versions, refusals, status transitions, schema version, and two processes filing at once."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest
from filed_runs import SHIPPED, make_batch

from methodology.cli import main
from methodology.execution import filing
from methodology.outputs.pact import footprint_id


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("runs")
    bad = runs.parent / "invalid-input.yaml"
    bad.write_text(SHIPPED[2].read_text(encoding="utf-8").replace("product: crude-steel", "product: no-such-product"),
                   encoding="utf-8")
    return make_batch(runs, [*SHIPPED, bad], failed=1)


@pytest.fixture
def conn(tmp_path):
    c = filing.connect(tmp_path / "catalogue.sqlite")
    yield c
    c.close()


def _manifest(batch_dir: Path) -> dict:
    return json.loads((batch_dir / "manifest.json").read_text())


def _copy_as_rerun(run: Path, dest: Path, stamp: str) -> Path:
    """The same run made again: its result.json differs (another generated_at)."""
    shutil.copytree(run, dest)
    data = json.loads((dest / "result.json").read_text())
    data["provenance"]["generated_at"] = stamp
    (dest / "result.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return dest


def test_a_batch_is_filed_in_one_call_and_nothing_from_failed_or_invalid_runs(batch_dir, conn):
    m = _manifest(batch_dir)
    assert [r["status"] for r in m["runs"]].count("invalid") == 1 and [r["status"] for r in m["runs"]].count(
        "failed") == 1
    done = filing.file_paths(conn, [batch_dir])
    ok = [r["out_dir"] for r in m["runs"] if r["status"] == "ok"]
    assert sorted(f.run_dir for f in done if f.outcome == "filed") == sorted(ok)
    refused = [f for f in done if f.outcome == "refused"]
    assert len(refused) == 2
    assert any("'failed'" in f.reason and "kernel died" in f.reason for f in refused)
    assert any("'invalid'" in f.reason for f in refused)
    rows = filing.records(conn)
    assert len(rows) == len(ok) == len(SHIPPED) - 1  # the last valid one failed
    for row in rows:
        raw = (Path(row["run_dir"]) / "result.json").read_bytes()
        r = json.loads(raw)
        assert row["result_sha256"] == hashlib.sha256(raw).hexdigest()
        assert row["label_id"] == footprint_id(r)
        assert row["rule_sha256"] == r["provenance"]["rule_set"]["sha256"]
        assert row["factor_set_sha256"] == r["provenance"]["factor_set"]["sha256"]
        assert row["total_kg_co2e"] == r["gwp100_kg_co2e"]["total"]
        assert row["p2_5_kg_co2e"] == r["uncertainty"]["p2_5"] < row["total_kg_co2e"] * 2
        assert row["dq_combined_score"] == r["data_quality"]["combined_score"]
        industry = json.loads((Path(row["run_dir"]) / "run.json").read_text())["industry"]
        assert (row["status"], row["version"], row["industry"]) == ("draft", 1, industry)
        assert row["rule_id"] == f"cn-pcr-{industry}"
        assert row["period_end"] == "2024-12-31"  # the shipped files' period: valid for the 3 years after it
        assert (row["valid_from"], row["valid_until"]) == ("2025-01-01", "2027-12-31")
        assert Path(row["files"]["label.svg"]).is_file() and "run.json" in row["files"]
    assert {r["province_zh"] for r in rows} >= {"山东"}


def test_filing_the_same_again_adds_nothing_and_a_rerun_is_a_new_version(batch_dir, conn, tmp_path):
    filing.file_paths(conn, [batch_dir])
    again = filing.file_paths(conn, [batch_dir])
    assert {f.outcome for f in again} == {"unchanged", "refused"}
    first = filing.records(conn)[0]
    rerun = _copy_as_rerun(Path(first["run_dir"]), tmp_path / "rerun", "2030-01-01T00:00:00Z")
    f = filing.file_run(conn, rerun)
    assert (f.outcome, f.version) == ("filed", 2)
    history = filing.records(conn, enterprise=first["enterprise"], product=first["product"], period="2024")
    assert [(h["version"], h["result_sha256"]) for h in history] == [
        (1, first["result_sha256"]), (2, hashlib.sha256((rerun / "result.json").read_bytes()).hexdigest())]


def test_a_failed_or_broken_run_folder_is_refused_naming_the_file(batch_dir, conn, tmp_path):
    failed = next(r["out_dir"] for r in _manifest(batch_dir)["runs"] if r["status"] == "failed")
    f = filing.file_run(conn, failed)
    assert f.outcome == "refused" and "run.json: status: found 'failed'" in f.reason
    good = next(r["out_dir"] for r in _manifest(batch_dir)["runs"] if r["status"] == "ok")
    broken = shutil.copytree(good, tmp_path / "broken")
    data = json.loads((broken / "result.json").read_text())
    data["gwp100_kg_co2e"]["total"] = "a lot"
    (broken / "result.json").write_text(json.dumps(data))
    f = filing.file_run(conn, broken)
    assert f.outcome == "refused" and "result.json: gwp100_kg_co2e.total" in f.reason
    (broken / "result.json").unlink()
    assert "result.json" in filing.file_run(conn, broken).reason
    assert filing.records(conn) == []


def test_status_transitions_are_enforced_and_recorded(batch_dir, conn):
    filing.file_paths(conn, [batch_dir])
    rid = filing.records(conn)[0]["id"]
    with pytest.raises(filing.FilingError, match="found draft -> published; expected a change from draft to: "
                                                 "verified, withdrawn"):
        filing.set_status(conn, rid, "published")
    filing.set_status(conn, rid, "verified")
    assert filing.public_records(conn) == []
    filing.set_status(conn, rid, "published", "checked by the committee")
    assert [r["id"] for r in filing.public_records(conn)] == [rid]
    filing.set_status(conn, rid, "withdrawn")
    with pytest.raises(filing.FilingError, match="withdrawn is final"):
        filing.set_status(conn, rid, "verified")
    changes = filing.get(conn, rid)["status_changes"]
    assert [(c["old_status"], c["new_status"]) for c in changes] == [
        (None, "draft"), ("draft", "verified"), ("verified", "published"), ("published", "withdrawn")]
    assert changes[2]["note"] == "checked by the committee"
    assert filing.public_records(conn) == []


def test_schema_version_is_recorded_and_a_newer_catalogue_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    filing.connect(path).close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == filing.SCHEMA_VERSION
    assert [r[0] for r in raw.execute("SELECT version FROM schema_version")] == [filing.SCHEMA_VERSION]
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.execute(f"PRAGMA user_version = {filing.SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(filing.FilingError, match="schema version 2; expected 1 or older"):
        filing.connect(path)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as raw:
        raw.execute("CREATE TABLE x (a)")
    with pytest.raises(filing.FilingError, match="tables but no schema version"):
        filing.connect(other)


def _file_in_process(db: str, folders: list[str], start) -> list[tuple[str, int]]:
    start.wait()
    with filing.connect(db) as c:
        return [(f.outcome, f.version) for f in filing.file_paths(c, folders)]


def _worker(db, folders, start, queue):
    queue.put(_file_in_process(db, folders, start))


def test_two_processes_filing_at_once_lose_nothing(batch_dir, tmp_path):
    good = Path(next(r["out_dir"] for r in _manifest(batch_dir)["runs"] if r["status"] == "ok"))
    n = 8
    folders = [str(_copy_as_rerun(good, tmp_path / f"rerun-{i}", f"2030-01-{i + 1:02d}T00:00:00Z"))
               for i in range(2 * n)]
    db = str(tmp_path / "catalogue.sqlite")
    filing.connect(db).close()
    ctx = multiprocessing.get_context("spawn")  # two real, fresh processes
    start, queue = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(db, folders[i::2], start, queue)) for i in range(2)]
    for p in procs:
        p.start()
    start.set()
    outcomes = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert sorted(o for out in outcomes for o, _ in out) == ["filed"] * (2 * n)
    with filing.connect(db) as c:
        rows = filing.records(c)
    assert sorted(r["version"] for r in rows) == list(range(1, 2 * n + 1))
    assert sorted(r["run_dir"] for r in rows) == sorted(str(Path(f).resolve()) for f in folders)


def test_cli_file_list_history_show_status_publish(batch_dir, tmp_path, capsys):
    db = str(tmp_path / "cli.sqlite")
    cat = ["catalogue", "--catalogue", db]
    assert main([*cat, "file", str(batch_dir)]) == 1  # the failed and the invalid run are not filed
    out = capsys.readouterr()
    assert "4 filed, 0 already filed (unchanged), 2 not filed" in out.out and "NOT FILED" in out.err
    ok = [r["out_dir"] for r in _manifest(batch_dir)["runs"] if r["status"] == "ok"]
    assert main([*cat, "file", *ok]) == 0
    assert "0 filed, 4 already filed" in capsys.readouterr().out
    assert main([*cat, "list", "--industry", "steel", "--status", "draft"]) == 0
    listed = capsys.readouterr().out
    assert "sd-stainless-eaf-aod-304" in listed and "ah-integrated-plant-a" not in listed
    assert main([*cat, "history", "sd-stainless-eaf-aod-304", "stainless-cold-rolled-coil", "2024"]) == 0
    assert "stainless-cold-rolled-coil" in capsys.readouterr().out
    assert main([*cat, "history", "nobody", "nothing"]) == 1
    assert "found no record of enterprise 'nobody'" in capsys.readouterr().err
    assert main([*cat, "status", "1", "published"]) == 1
    assert "expected a change from draft to: verified, withdrawn" in capsys.readouterr().err
    assert main([*cat, "status", "1", "verified"]) == 0 and main([*cat, "status", "1", "published"]) == 0
    capsys.readouterr()
    assert main([*cat, "show", "1"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "published" and len(shown["status_changes"]) == 3
    assert main([*cat, "publish-site", str(tmp_path / "site")]) == 0
    assert "1 published records" in capsys.readouterr().out
    assert "window.PCF_CATALOGUE" in (tmp_path / "site" / "data.js").read_text()


def test_default_catalogue_is_under_the_ignored_runs_folder():
    ignored = (Path(__file__).resolve().parent.parent / ".gitignore").read_text().split()
    assert filing.DEFAULT_PATH.parts[0] + "/" in ignored


def test_batch_manifest_runs_skipped_are_filed_compute_only_ones_are_not(batch_dir, conn, tmp_path):
    good = next(r for r in _manifest(batch_dir)["runs"] if r["status"] == "ok")
    manifest = {"runs": [good | {"status": "skipped"}, good | {"out_dir": None, "parameter_file": "p.yaml"}]}
    folder = tmp_path / "compute-only"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    done = filing.file_paths(conn, [folder, tmp_path / "nothing-here"])
    assert [f.outcome for f in done] == ["filed", "refused", "refused"]
    assert "runs[1].out_dir: found none (a compute-only batch writes no run folders)" in done[1].reason
    assert "found neither run.json nor manifest.json" in done[2].reason
    (folder / "manifest.json").write_text(json.dumps({"runs": "all of them"}))
    with pytest.raises(filing.FilingError, match="runs: found str; expected the list"):
        filing.file_paths(conn, [folder])


def test_the_public_page_takes_the_latest_published_version(batch_dir, conn, tmp_path):
    first = next(f for f in filing.file_paths(conn, [batch_dir]) if f.outcome == "filed")
    second = filing.file_run(conn, _copy_as_rerun(Path(first.run_dir), tmp_path / "v2", "2031-01-01T00:00:00Z"))
    for f in (first, second):
        filing.set_status(conn, f.id, "verified")
        filing.set_status(conn, f.id, "published")
    assert [(r["id"], r["version"]) for r in filing.public_records(conn)
            if r["run_dir"] in (first.run_dir, str((tmp_path / "v2").resolve()))] == [(second.id, 2)]
    filing.set_status(conn, second.id, "withdrawn")
    assert first.id in [r["id"] for r in filing.public_records(conn)]
