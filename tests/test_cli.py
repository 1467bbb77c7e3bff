"""`pcf` on bad command-line values and an unusable environment: one line naming what is wrong, exit status 1
(130 after Ctrl-C), never a traceback; an unexpected exception is one line with its details in a log file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ENTERPRISES, FACTORS, ROOT, write_variant

from methodology import cli
from methodology.errors import MethodologyError
from methodology.execution.batch import Settings

PARAMS = str(ENTERPRISES[-1])


def pcf(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "methodology", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def _problem_line(proc: subprocess.CompletedProcess) -> str:
    """The one line `pcf` printed about the problem (Brightway's own log lines aside)."""
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.startswith("pcf")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.fixture
def a_file(tmp_path) -> Path:
    p = tmp_path / "a-file"
    p.write_text("not a folder\n")
    return p


BAD_VALUES = [  # (arguments, option named, found, expected)
    (["batch", PARAMS, "--workers", "-2"], "--workers", "'-2'", "a whole number of worker processes >= 1"),
    (["batch", PARAMS, "--workers", "0"], "--workers", "'0'", "a whole number of worker processes >= 1"),
    (["batch", PARAMS, "--workers", "1.5"], "--workers", "'1.5'", "a whole number of worker processes >= 1"),
    (["batch", PARAMS, "--timeout", "nan"], "--timeout", "'nan'", "a number of seconds > 0"),
    (["batch", PARAMS, "--timeout", "-5"], "--timeout", "'-5'", "a number of seconds > 0"),
    (["batch", PARAMS, "--timeout", "0"], "--timeout", "'0'", "a number of seconds > 0"),
    (["batch", PARAMS, "--timeout", "inf"], "--timeout", "'inf'", "a number of seconds > 0"),
    (["batch", PARAMS, "--timeout", "1e300"], "--timeout", "'1e300'", "a number of seconds > 0 and <= 604800"),
    (["run", PARAMS, "--timeout", "ten"], "--timeout", "'ten'", "a number of seconds > 0"),
    (["batch", PARAMS, "--scheduler", "scheduler"], "--scheduler", "'scheduler'", "the address of a Dask scheduler"),
    (["batch", PARAMS, "--scheduler", "tcp://h:99999"], "--scheduler", "'tcp://h:99999'", "the address of a Dask"),
    (["--factors", "/no/such/factors.yaml", "setup"], "--factors", "'/no/such/factors.yaml'", "an existing YAML file"),
    (["--factors", str(ROOT / "standards"), "setup"], "--factors", repr(str(ROOT / "standards")), "a YAML file"),
    (["--rule", "/no/such/rule.yaml", "validate", PARAMS], "--rule", "'/no/such/rule.yaml'", "an existing YAML"),
]


@pytest.mark.parametrize("args, option, found, expected", BAD_VALUES, ids=lambda x: x if isinstance(x, str) else None)
def test_bad_option_values_are_one_line_and_exit_1(args, option, found, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(args)
    assert exit_.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"argument {option}: found {found}; expected {expected}" in err


@pytest.mark.parametrize("option", ["--runs", "--out"])
def test_output_folders_that_are_files_are_refused(option, a_file, capsys):
    args = {"--runs": ["batch", PARAMS, "--runs"], "--out": ["schema", "--out"]}[option]
    for value, expected in ((a_file, "a folder (this is a file)"), (a_file / "sub", f"({a_file} is a file)")):
        with pytest.raises(SystemExit) as exit_:
            cli.main([*args, str(value)])
        assert exit_.value.code == 1
        err = capsys.readouterr().err.strip()
        assert f"argument {option}: found '{value}'; expected" in err and expected in err and "\n" not in err


def test_usage_errors_exit_1_not_2(capsys):
    for args in (["frobnicate"], ["batch"], ["batch", PARAMS, "--no-such-option"], []):
        with pytest.raises(SystemExit) as exit_:
            cli.main(args)
        assert exit_.value.code == 1, args
        err = capsys.readouterr().err.strip()
        assert err.startswith("pcf") and len(err.splitlines()) == 1, err


def test_missing_parameter_files_are_listed_not_fatal(bw_project, tmp_path):
    """Files given to run and batch are read by the loader one by one: a missing one is listed as invalid and
    the others still run (here: a compute-only batch)."""
    missing = str(tmp_path / "no-such.yaml")
    proc = pcf("batch", missing, PARAMS, "--compute-only", "--runs", str(tmp_path / "runs"), "--no-progress")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"INVALID {missing}" in proc.stderr and "1 ok" in proc.stdout and "1 invalid" in proc.stdout
    proc = pcf("run", missing, "--runs", str(tmp_path / "runs"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"INVALID {missing}" in proc.stderr


def test_settings_refuse_bad_values():
    for kwargs in ({"workers": -2}, {"workers": 1.5}, {"timeout": float("nan")}, {"timeout": -5},
                   {"timeout": float("inf")}, {"timeout": 0}):
        with pytest.raises(MethodologyError, match=f"{next(iter(kwargs))}: found"):
            Settings(**kwargs)


def test_a_bad_factors_file_exits_1_with_its_problems(tmp_path):
    bad = tmp_path / "factors.yaml"
    bad.write_text(FACTORS.read_text(encoding="utf-8").replace("factor_set:", "factor_sett:", 1), encoding="utf-8")
    for args in (["--factors", str(bad), "setup"], ["--factors", str(bad), "validate", PARAMS]):
        proc = pcf(*args, env={"BRIGHTWAY2_DIR": str(tmp_path / "bw")})
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr and str(bad) in proc.stderr


def test_unusable_brightway_folders_are_one_line(tmp_path, a_file):
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "projects.db").write_bytes(os.urandom(20_000))
    cases = [  # BRIGHTWAY2_DIR, what the message says
        (a_file, f"Brightway folder {a_file} (BRIGHTWAY2_DIR): found a file, not a folder"),
        (a_file / "sub", f"Brightway folder {a_file / 'sub'} (BRIGHTWAY2_DIR) cannot be created: Not a directory"),
        (Path("/sys/pcf-test-bw"), "Brightway folder /sys/pcf-test-bw (BRIGHTWAY2_DIR) cannot be created"),
        (corrupt, f"Brightway folder {corrupt} cannot be used (DatabaseError: file is not a database)"),
    ]
    for bw, message in cases:
        for args in (["setup"], ["run", PARAMS, "--runs", str(tmp_path / "runs")]):
            proc = pcf(*args, env={"BRIGHTWAY2_DIR": str(bw)})
            assert proc.returncode == 1, (bw, args, proc.stderr)
            line = _problem_line(proc)
            assert line.startswith("pcf: error: ") and message in line, (bw, args, line)
    assert not (tmp_path / "runs").exists()


def test_a_runs_folder_that_cannot_be_written_is_one_line(bw_project, tmp_path):
    """As root too: /sys refuses new folders to everyone (chmod would not stop root)."""
    for command in ("run", "batch"):
        proc = pcf(command, PARAMS, "--runs", "/sys/pcf-test-runs")
        assert proc.returncode == 1, proc.stderr
        line = _problem_line(proc)
        assert line.startswith("pcf: error: --runs: found /sys/pcf-test-runs (cannot write there: "), line
        assert line.endswith("expected a folder this user can create and write"), line


def test_an_unreachable_scheduler_fails_fast_with_a_message(bw_project, tmp_path):
    proc = pcf("batch", PARAMS, "--runs", str(tmp_path / "runs"), "--scheduler", "tcp://127.0.0.1:9",
               "--no-progress", timeout=300)
    assert proc.returncode == 1, proc.stderr
    line = _problem_line(proc)
    assert line.startswith("pcf: error: --scheduler: found tcp://127.0.0.1:9 (no Dask scheduler answered within "), line
    assert "expected the address of a running scheduler" in line


@pytest.mark.parametrize("raised, status, line", [
    (ZeroDivisionError("boom\nsecond line"), 1, "pcf: internal error: ZeroDivisionError: boom (details in "),
    (KeyboardInterrupt(), 130, "pcf: interrupted"),
    (PermissionError(13, "Permission denied", "/some/where"), 1, "pcf: error: Permission denied: /some/where"),
    (MethodologyError("a known problem"), 1, "pcf: error: a known problem"),
], ids=["internal", "ctrl-c", "permission", "own-error"])
def test_last_resort_handler(raised, status, line, monkeypatch, tmp_path, capsys):
    def command(args):
        raise raised

    monkeypatch.setattr(cli, "cmd_schema", command)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert cli.main(["schema", "--out", str(tmp_path / "schema")]) == status
    err = capsys.readouterr().err
    assert err.startswith(line) and len(err.strip().splitlines()) == 1, err
    logs = list(tmp_path.glob("pcf-error-*.log"))
    if isinstance(raised, ZeroDivisionError):
        (log,) = logs
        assert err.strip().endswith(f"(details in {log})")
        text = log.read_text()
        assert "Traceback" in text and "ZeroDivisionError: boom" in text and "in command" in text
    else:
        assert not logs


def test_validate_writes_a_send_back_list_per_invalid_file(tmp_path):
    import pandas as pd

    bad = write_variant(tmp_path, ROOT / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml",
                        lambda d: (d.update(route="scrap-eaff", product="crude-steal"), d["enterprise"].pop("name"),
                                   d["default_data_quality"].update(temporal=9)), "bad-mill.yaml")
    out = tmp_path / "send-back"
    proc = subprocess.run([sys.executable, "-m", "methodology", "validate", str(bad), "--send-back", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1
    csv = pd.read_csv(out / "bad-mill-send-back.csv")
    # one pass: the schema problems (a missing name, a score of 9) and the rule's (product, route) together
    assert set(csv["field"]) == {"enterprise.name", "default_data_quality.temporal", "product", "route"}
    assert (csv["file"] == str(bad)).all()
    xlsx = pd.read_excel(out / "bad-mill-send-back.xlsx")
    assert list(xlsx["field"]) == list(csv["field"])
    assert (out / "bad-mill-send-back.csv").read_bytes().startswith(b"\xef\xbb\xbf")


STEEL_RULE = ROOT / "standards" / "steel" / "pcr-steel.yaml"
SCRAP_MILL = ROOT / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml"


def _main(capsys, *args) -> tuple[int, str, str]:
    """``pcf ARGS`` in this process: exit status (argparse's usage errors exit), stdout, stderr."""
    try:
        status = cli.main([str(a) for a in args])
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, err
    return status, out, err


def test_template_writes_the_workbook_and_exits_0(tmp_path, capsys):
    from openpyxl import load_workbook

    status, out, _ = _main(capsys, "template", STEEL_RULE, "--route", "scrap-eaf", "--out", tmp_path)
    (written,) = tmp_path.glob("*.xlsx")
    assert status == 0 and f"wrote {written}" in out
    assert "eaf" in load_workbook(written).sheetnames


def test_template_refusals_exit_1_and_write_nothing(tmp_path, capsys):
    status, _, err = _main(capsys, "template", STEEL_RULE, "--route", "no-such-route", "--out", tmp_path)
    assert status == 1 and err.strip().startswith("pcf template: argument --route: found 'no-such-route'; expected "
                                                  "one of ['bf-bof', 'scrap-eaf'"), err
    for args in ([], [STEEL_RULE, "--prefill", SCRAP_MILL]):  # neither a rule nor --prefill; both
        status, _, err = _main(capsys, "template", *args, "--out", tmp_path)
        assert status == 1 and err.strip() == ("pcf template: give a rule file or --prefill PARAMS.yaml, one of them "
                                               "(see pcf template --help)"), err
    assert not list(tmp_path.iterdir())


def _prefilled_workbook(tmp_path, capsys) -> Path:
    status, _, _ = _main(capsys, "template", "--prefill", SCRAP_MILL, "--out", tmp_path)
    (path,) = tmp_path.glob("*.xlsx")
    assert status == 0
    return path


def test_import_of_a_good_workbook_exits_0_and_writes_the_file(tmp_path, capsys):
    out = tmp_path / "imported.yaml"
    status, stdout, _ = _main(capsys, "import", _prefilled_workbook(tmp_path, capsys), "--out", out)
    assert status == 0 and stdout.startswith("OK ") and f"wrote {out}" in stdout
    assert cli.main(["validate", str(out)]) == 0


def test_import_of_a_bad_workbook_exits_1_lists_every_problem_and_writes_nothing(tmp_path, capsys):
    from openpyxl import load_workbook

    path = _prefilled_workbook(tmp_path, capsys)
    wb = load_workbook(path)
    ws = wb["eaf"]
    rows = {ws.cell(r, 1).value: r for r in range(4, ws.max_row + 1)}
    ws.cell(rows["scrap"], 4).value = "lots"
    ws.cell(rows["electrodes"], 5).value = "m3"
    wb.save(path)
    out = tmp_path / "imported.yaml"
    status, _, err = _main(capsys, "import", path, "--out", out)
    assert status == 1 and not out.exists()
    assert err.startswith(f"pcf: error: {path} is invalid (2 problem(s)):"), err
    assert f"'eaf'!D{rows['scrap']}: found text 'lots'" in err
    assert f"'eaf'!E{rows['electrodes']} (processes.eaf.electrodes.unit): found 'm3'" in err


def test_import_of_what_is_no_workbook_is_one_line(tmp_path, capsys):
    text, garbage = tmp_path / "data.txt", tmp_path / "garbage.xlsx"
    text.write_text("not a workbook\n")
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    cases = [(text, f"pcf: error: {text}: found a .txt file; expected an .xlsx workbook"),
             (garbage, f"pcf: error: {garbage}: found a file openpyxl cannot read (BadZipFile: "),
             (tmp_path / "none.xlsx", f"pcf import: argument workbook: found '{tmp_path / 'none.xlsx'}'; expected an "
                                      "existing .xlsx workbook (no such file)")]
    for path, line in cases:
        status, _, err = _main(capsys, "import", path, "--out", tmp_path / "x.yaml")
        assert status == 1 and err.startswith(line) and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x.yaml").exists()


def test_validate_takes_folders_and_reports_each_file(tmp_path, capsys):
    import shutil

    shutil.copy(SCRAP_MILL, tmp_path / "good.yaml")
    (tmp_path / "sub").mkdir()
    write_variant(tmp_path / "sub", SCRAP_MILL, lambda d: d.update(route="scrap-eaff"), "bad.yaml")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "ignored.yaml").write_text("not: a parameter file\n", encoding="utf-8")
    assert cli.main(["validate", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out.count("OK  ") == 1 and "good.yaml" in out
    assert err.count("ERR ") == 1 and "bad.yaml" in err and "scrap-eaff" in err and "ignored" not in out + err


def test_validate_a_folder_without_input_files_exits_1(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path)]) == 1
    assert "found a folder without YAML files or workbooks" in capsys.readouterr().err


def test_validate_checks_a_rule_variant_against_its_rule(tmp_path, capsys):
    import yaml

    good = ROOT / "standards" / "fertilizer" / "variants" / "urea-bound-co2-credited.yaml"
    assert cli.main(["validate", str(good)]) == 0
    assert "variant fertilizer-urea-bound-co2-credited of rule cn-pcr-fertilizer 1.0.0" in capsys.readouterr().out
    d = yaml.safe_load(good.read_text(encoding="utf-8"))
    d["changes"][0]["set"] = "carbon_accounting.bound_co2.treatmnt"
    bad = tmp_path / "bad-variant.yaml"
    bad.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    assert cli.main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err and "bound_co2.treatmnt: found 'credited'; expected no such key" in err
