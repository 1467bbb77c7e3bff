"""Hostile input: no file, however broken, makes validation raise anything but the workbench's own error naming
the file and the field; a batch with any mix of bad files runs every good one and lists every bad one.

The bad parameter files come from ``tests/badfiles.py``, generated from every shipped parameter file of every
industry; rules and factor sets are broken here by hand.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from badfiles import SHIPPED, cases, write_corpus
from conftest import write_variant

from methodology.errors import FactorSetError, InputFileError, ParameterFileError, RuleError
from methodology.schema import loading
from methodology.study import ROOT, Study

CASES = [(src, case) for src in SHIPPED for case in cases(src)]


def test_every_industry_is_fuzzed():
    industries = {p.parent.name for p in SHIPPED}
    assert industries == {p.name for p in (ROOT / "parameters").iterdir() if p.is_dir()}
    assert len(CASES) >= 50 * len(SHIPPED)


@pytest.mark.parametrize(("source", "case"), CASES, ids=[f"{s.stem}:{c.name}" for s, c in CASES])
def test_bad_parameter_file_gives_problems_naming_the_field(tmp_path, source, case):
    path = tmp_path / f"{case.name}.yaml"
    path.write_bytes(case.content)
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(path)
    fields = [p.field for p in exc.value.problems]
    assert any(case.field in f for f in fields), (case.field, [str(p) for p in exc.value.problems])
    assert all(p.file == str(path) for p in exc.value.problems)
    # a value refused for its own problem is not reported again as missing by the checks that need it
    refused = {p.field.rsplit(".", 1)[0] for p in exc.value.problems if p.field.endswith((".value", ".unit"))}
    assert not [str(p) for p in exc.value.problems if p.found.startswith("nothing") and p.field in refused]
    message = str(exc.value)
    assert message.count(str(path)) == 1  # the path once, then one line per problem
    assert len(message) < 20_000


def _special_files(tmp: Path) -> dict[str, Path]:
    out = {"folder": tmp / "folder.yaml", "fifo": tmp / "fifo.yaml", "dev-zero": tmp / "zero.yaml",
           "dangling": tmp / "dangling.yaml", "oversize": tmp / "big.yaml", "missing": tmp / "missing.yaml"}
    out["folder"].mkdir()
    os.mkfifo(out["fifo"])
    out["dev-zero"].symlink_to("/dev/zero")
    out["dangling"].symlink_to(tmp / "nowhere")
    with out["oversize"].open("wb") as fh:  # sparse: no disk needed
        fh.truncate(loading.MAX_BYTES + 1)
    return out


def test_special_files_are_refused_at_once_without_reading_them(tmp_path):
    for name, path in _special_files(tmp_path).items():
        with pytest.raises(ParameterFileError) as exc:
            Study.prepare(path)
        (problem,) = exc.value.problems
        assert problem.field == "(file)", name
        assert {"folder": "folder", "fifo": "special", "dev-zero": "special", "dangling": "no such file",
                "oversize": "bytes", "missing": "no such file"}[name] in problem.found


def test_duplicate_key_names_both_lines(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\nb:\n  c: 1\n  c: 2\n", encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        loading.read_yaml(path, InputFileError)
    (p,) = exc.value.problems
    assert p.field == "line 4, column 3"
    assert "'c' given twice" in p.found and "first on line 3" in p.found


def test_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n", encoding="utf-8")
    assert loading.read_yaml(path, InputFileError)["other"] == {"x": 1, "y": 3}


def test_alias_expansion_is_counted_before_anything_is_built(tmp_path, monkeypatch):
    monkeypatch.setattr(loading, "MAX_NODES", 1000)
    ok = "a: &a [1, 2, 3]\nb: [*a, *a]\n"
    assert loading.load_yaml(ok) == {"a": [1, 2, 3], "b": [[1, 2, 3], [1, 2, 3]]}
    bomb = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "x"] * 4) + "]\n" for i in range(6))
    with pytest.raises(loading._Refused) as exc:  # 4**5 = 1024 leaves > 1000
        loading.load_yaml(bomb)
    assert "1,000 values" in exc.value.found


def test_depth_limit_is_exact():
    assert loading.load_yaml("a: " + "[" * (loading.MAX_DEPTH - 1) + "]" * (loading.MAX_DEPTH - 1))
    with pytest.raises(loading._Refused):
        loading.load_yaml("a: " + "[" * loading.MAX_DEPTH + "]" * loading.MAX_DEPTH)


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    src = SHIPPED[0]
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + src.read_bytes())
    assert Study.prepare(path).enterprise.params.enterprise.id


def test_problems_printed_per_file_are_capped(tmp_path):
    src = yaml.safe_load(STEEL_FIRST.read_text(encoding="utf-8"))
    src.update({f"unknown_{i}": 1 for i in range(500)})
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(src), encoding="utf-8")
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(path)
    assert len(exc.value.problems) == 500
    assert str(exc.value).count("\n  - ") == InputFileError.SHOWN
    assert f"and {500 - InputFileError.SHOWN} more problem(s)" in str(exc.value)


# --- rules and factor sets -------------------------------------------------------------------------------

STEEL_RULE = ROOT / "standards" / "steel" / "pcr-steel.yaml"
STEEL_FIRST = next(p for p in SHIPPED if p.parent.name == "steel")  # a file of the rule the tests relax
FACTORS = ROOT / "standards" / "factors" / "cn-core.yaml"


def _factor(data: dict, fid: str) -> dict:
    return next(f for f in data["factors"] if f["id"] == fid)


@pytest.mark.parametrize(("name", "change", "field"), [
    ("nan-emission", lambda d: _factor(d, "coking-coal")["emissions"][0].update(value=math.nan), "emissions[0].value"),
    ("inf-emission", lambda d: _factor(d, "coking-coal")["emissions"][0].update(value=math.inf), "emissions[0].value"),
    ("negative-grid-factor", lambda d: next(f for f in d["factors"] if f["category"] == "electricity")[
        "emissions"][0].update(value=-0.5), "emissions[0].value"),
    ("oxidation-above-one", lambda d: next(f for f in d["factors"] if "oxidation_rate" in f.get("properties", {}))[
        "properties"]["oxidation_rate"].update(value=1.5), "factors"),
    ("duplicate-id", lambda d: d["factors"].append(dict(d["factors"][0])), "].id"),
])
def test_broken_factor_set_is_refused_with_its_field(tmp_path, name, change, field):
    path = write_variant(tmp_path, FACTORS, change)
    from methodology.schema.factors import load_factor_set

    with pytest.raises(FactorSetError) as exc:
        load_factor_set(path)
    assert any(field in p.field for p in exc.value.problems), exc.value


def _process(d: dict, pid: str) -> dict:
    return next(p for p in d["processes"] if p["id"] == pid)


def _make_loop(d: dict) -> None:
    """The sinter plant takes hot metal (made by the blast furnace, which takes sinter): a loop of supply."""
    _process(d, "sinter-plant")["inputs"].append({
        "key": "hot_metal", "name": "Hot metal", "kind": "intermediate", "product": "hot-metal", "unit": "t",
        "plausible": {"min": 0, "max": 1, "unit": "t/t", "source": "test"}})


@pytest.mark.parametrize(("name", "change", "field"), [
    ("loop-of-supply", _make_loop, "routes.bf-bof"),
    ("duplicate-route", lambda d: d["routes"].append(dict(d["routes"][0])), "routes"),
    ("duplicate-product", lambda d: d["intermediate_products"].append(dict(d["intermediate_products"][0])),
     "intermediate_products"),
    ("missing-plausible-range", lambda d: _process(d, "coke-oven")["inputs"][0].pop("plausible"),
     "processes.coke-oven.coking_coal.plausible"),
    ("nan-plausible", lambda d: _process(d, "coke-oven")["inputs"][0]["plausible"].update(max=math.nan),
     "processes"),
    ("unknown-severity", lambda d: d["plausibility"].update(outside_range="maybe"), "plausibility.outside_range"),
    ("supply-use-not-around-one", lambda d: d["plausibility"].update(supply_use={"min": 2, "max": 3}),
     "plausibility.supply_use"),
    ("key-typo", lambda d: d.update(allocaton=d["allocation"]), "allocaton"),
])
def test_broken_rule_is_refused_with_its_field(tmp_path, name, change, field):
    from methodology.schema.factors import load_factor_set
    from methodology.schema.rules import load_rule

    path = write_variant(tmp_path, STEEL_RULE, change)
    with pytest.raises(RuleError) as exc:
        load_rule(path, load_factor_set(FACTORS))
    assert any(field in p.field for p in exc.value.problems), exc.value


def test_warning_ranges_let_the_run_go_on_and_list_the_value_for_review(tmp_path):
    def relax(d):
        d["plausibility"]["outside_range"] = "warning"

    rule = write_variant(tmp_path, STEEL_RULE, relax)
    src = yaml.safe_load(STEEL_FIRST.read_text(encoding="utf-8"))
    pid = next(iter(src["processes"]))
    key = next(k for k in src["processes"][pid] if k != "electricity")
    src["processes"][pid][key]["value"] = float(src["processes"][pid][key]["value"]) * 50
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(src, sort_keys=False), encoding="utf-8")
    with pytest.raises(ParameterFileError):
        Study.prepare(path)  # under the shipped rule: an error
    study = Study.prepare(path, rule_file=rule)
    assert [r.field for r in study.enterprise.review] == [f"processes.{pid}.{key}"]
    result = study.calculate_without_brightway()
    # fifty times the pellets also takes the total out of the route's plausible footprint: listed too
    assert [r.field for r in result.checks.review] == [f"processes.{pid}.{key}", "gwp100_kg_co2e.total"]
    assert not result.checks.within_route_plausible_range


def test_impossible_figures_fail_the_calculation():
    from methodology.core.results import impossible_figures

    result = Study.prepare(SHIPPED[0]).calculate_without_brightway()
    assert impossible_figures(result) == []
    bad = result.model_copy(update={"gas_mass_kg": {**result.gas_mass_kg, "co2_fossil": math.nan},
                                    "process_scaling": {**result.process_scaling, "x": -1.0}})
    found = impossible_figures(bad)
    assert any(f.startswith("gas_mass_kg.co2_fossil = nan") for f in found)
    assert any(f.startswith("process_scaling.x") for f in found)


# --- the command line and the batch over the whole corpus ------------------------------------------------

def _pcf(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "methodology", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


def test_validate_over_the_corpus_reports_every_bad_file_without_traceback(tmp_path):
    written = write_corpus(tmp_path / "bad")
    specials = _special_files(tmp_path)
    out = _pcf("validate", *[str(p) for p, _ in written], *[str(p) for p in specials.values()])
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    errs = [line for line in out.stderr.splitlines() if line.startswith("ERR ")]
    assert len(errs) == len(written) + len(specials)


def test_compute_only_batch_with_the_corpus_runs_every_good_file(tmp_path):
    from methodology.execution.batch import Settings, run_batch

    folder = tmp_path / "mixed"
    written = write_corpus(folder)
    for src in SHIPPED:
        (folder / f"good-{src.name}").write_bytes(src.read_bytes())
    logged = []
    manifest, status = run_batch([folder], tmp_path / "runs", settings=Settings(progress=False, summary=False),
                                 compute=True, log=logged.append)
    assert status == 1
    counts = manifest["counts"]
    assert (counts["ok"], counts["invalid"]) == (len(SHIPPED), len(written))
    runs = {Path(r["parameter_file"]).name: r for r in manifest["runs"]}
    assert all(runs[f"good-{src.name}"]["status"] == "ok" for src in SHIPPED)
    invalid = [r for r in manifest["runs"] if r["status"] == "invalid"]
    assert all(r["problems"] or r["error"] for r in invalid)
    table = (tmp_path / "runs" / "compute-only" / "results.csv").read_text(encoding="utf-8")
    for src in SHIPPED:
        assert yaml.safe_load(src.read_text(encoding="utf-8"))["enterprise"]["id"] in table
    assert json.loads((tmp_path / "runs" / "compute-only" / "manifest.json").read_text(encoding="utf-8"))


def test_schema_and_rule_problems_are_reported_in_one_pass(tmp_path):
    data = yaml.safe_load(SHIPPED[0].read_text(encoding="utf-8"))
    pid = next(iter(data["processes"]))
    keys = list(data["processes"][pid])
    data["processes"][pid][keys[0]]["value"] = math.nan  # schema
    data["processes"][pid][keys[1]]["unit"] = "tonnez"  # rule
    data["processes"][pid]["made_up_key"] = {"value": 1, "unit": "t", "source": "x"}  # rule
    data["extra_top"] = 1  # schema
    data["reference_period"]["end"] = "2000-01-01"  # rule
    path = tmp_path / "five.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(path)
    fields = sorted(p.field for p in exc.value.problems)
    assert fields == sorted([f"processes.{pid}.{keys[0]}.value", f"processes.{pid}.{keys[1]}.unit",
                             f"processes.{pid}.made_up_key", "extra_top", "reference_period"])
    # the flow left out for its schema problem is not reported again as missing by the rule
    assert not any(p.field == f"processes.{pid}.{keys[0]}" for p in exc.value.problems)


INTEGRATED = ROOT / "parameters" / "steel" / "sd-integrated-works-a.yaml"


@pytest.mark.parametrize(("name", "change", "field", "found"), [
    # the cases of issue 13, each refused before anything runs
    ("exported electricity 1e12 kWh", lambda d: d["processes"]["site-electricity-supply"].update(
        exported_electricity={"value": 1e12, "unit": "kWh", "source": "x"}),
     "processes.site-electricity-supply.exported_electricity", "kWh/kWh"),
    ("steam output 1e30 GJ", lambda d: d["processes"]["steam-boiler"]["steam"].update(value=1e30),
     "processes.steam-boiler.steam.value", "1e+30 GJ"),
    ("steam output 1e14 GJ", lambda d: d["processes"]["steam-boiler"]["steam"].update(value=1e14),
     "processes.steam-boiler.steam", "made"),
    ("transport 1e300 km", lambda d: d["processes"]["coke-oven"]["coking_coal"]["transport"][0].update(
        distance=1e300), "processes.coke-oven.coking_coal.transport[0].distance", "1e+300"),
])
def test_issue_cases_are_refused(tmp_path, name, change, field, found):
    path = write_variant(tmp_path, INTEGRATED, change)
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(path)
    hits = [p for p in exc.value.problems if p.field == field]
    assert hits and found in hits[0].found, [str(p) for p in exc.value.problems]


def test_validate_refuses_a_factor_set_with_nan_without_traceback(tmp_path):
    path = write_variant(tmp_path, FACTORS, lambda d: d["factors"][0]["emissions"][0].update(value=math.nan))
    out = _pcf("validate", str(path))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "emissions[0].value: found nan; expected a finite number" in out.stderr


@pytest.mark.parametrize("kind", ["rule", "factors", "parameters"])
def test_any_single_mutation_of_any_input_gives_a_problem_or_a_valid_file(tmp_path, kind):
    """One value deleted or replaced anywhere (nan, -1, 1e300, text, [], {}, true, 0, null) in the steel rule,
    the factor set or a parameter file: either still valid or refused with the workbench's own error."""
    from badfiles import tree_mutations

    from methodology.errors import MethodologyError
    from methodology.schema.factors import load_factor_set
    from methodology.schema.rules import load_rule

    source = {"rule": STEEL_RULE, "factors": FACTORS, "parameters": INTEGRATED}[kind]
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    tried = refused = 0
    for i, (name, variant) in enumerate(tree_mutations(data)):
        path = tmp_path / f"{i}.yaml"
        path.write_text(yaml.safe_dump(variant, sort_keys=False, allow_unicode=True), encoding="utf-8")
        try:
            if kind == "rule":
                load_rule(path, load_factor_set(FACTORS))
            elif kind == "factors":
                load_factor_set(path)
            else:
                Study.prepare(path)
        except MethodologyError as exc:
            refused += 1
            assert str(path) in str(exc) or kind == "rule", (name, exc)
        except Exception as exc:  # noqa: BLE001 - the point of the test
            pytest.fail(f"{kind} with {name}: {type(exc).__name__}: {exc}")
        tried += 1
    assert tried >= 200 and refused >= tried // 2


def test_batch_names_a_linked_file_by_the_path_it_was_given(tmp_path):
    from methodology.execution.batch import plan

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "zero.yaml").symlink_to("/dev/zero")
    (folder / "good.yaml").symlink_to(SHIPPED[0])
    p = plan([folder], tmp_path / "runs")
    assert [x["parameter_file"] for x in p.invalid] == [str(folder / "zero.yaml")]
    assert [s.parameter_file for s in p.todo] == [str(SHIPPED[0].resolve())]  # runs record the real file


SCRAP_MILL = ROOT / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml"
# ten mistakes of different kinds in one file (text edits, so that a YAML-level one can be made): the edit, and the
# field validation must name with a fragment of what it found
TEN_MISTAKES = [
    ("yaml: a key given twice", (r"    electrodes: \{value: 1854.*\n",
                                 "\\g<0>    electrodes: {value: 1900, unit: t, source: again}\n"),
     "line 25, column 5", "'electrodes' given twice"),
    ("schema: missing field", (r"reference_period: \{start: 2024-01-01, end: 2024-12-31\}",
                               "reference_period: {start: 2024-01-01}"), "reference_period.end", "nothing"),
    ("schema: wrong type", (r"electricity: \{value: 432.6,", "electricity: {value: lots,"),
     "processes.eaf.electricity.value", "'lots'"),
    ("schema: negative mass", (r"quicklime: \{value: 41200", "quicklime: {value: -41200"),
     "processes.eaf.quicklime.value", "-41200"),
    ("schema: unknown key (typo)", (r'output", primary: false,\n(\s+)data_quality: \{technological: 2, temporal: 2, '
                                    r'geographical: 3, completeness: 3, reliability: 3\}\}\n    ferrosilicon',
                                    'output", primery: false,\n\\1data_quality: {technological: 2, temporal: 2, '
                                    'geographical: 3, completeness: 3, reliability: 3}}\n    ferrosilicon'),
     "processes.eaf.ferromanganese.primery", "False"),
    ("units: unknown unit", (r"refractories: \{value: 8240, unit: t,", "refractories: {value: 8240, unit: tonnez,"),
     "processes.eaf.refractories.unit", "'tonnez'"),
    ("units: wrong dimension", (r"charge_carbon: \{value: 12360, unit: t,", "charge_carbon: {value: 12360, unit: kWh,"),
     "processes.eaf.charge_carbon.unit", "'kWh'"),
    ("rule: unknown route", (r"\nroute: scrap-eaf\n", "\nroute: scrap-eaff\n"), "route", "'scrap-eaff'"),
    ("rule: unknown flow", (r"\n    eaf_slag:", "\n    eaf_slagg:"), "processes.eaf.eaf_slagg", "unknown key"),
    ("rule: outside the plausible range", (r"natural_gas: \{value: 8.24e6", "natural_gas: {value: 8.24e12"),
     "processes.eaf.natural_gas", "8e+06 m3/t"),
    ("rule: missing required flow", (r'    crude_steel: \{value: 1.0e6, unit: t, source: "illustrative: assumed '
                                     r'output"\}\n', ""), "processes.continuous-casting.crude_steel", "nothing"),
]


def ten_mistakes(tmp_path) -> Path:
    import re

    text = SCRAP_MILL.read_text(encoding="utf-8")
    for name, (pattern, repl), _, _ in TEN_MISTAKES:
        text, n = re.subn(pattern, repl, text)
        assert n == 1, name  # the shipped file still holds what the mistake edits
    path = tmp_path / "ten-mistakes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_ten_mistakes_are_listed_in_one_pass_with_the_path_once(tmp_path):
    """`pcf validate` and `pcf batch` list every mistake of a file in one run, each with field, found and expected,
    and name the file once (issue 12: a file with ten mistakes needed four rounds of validation)."""
    path = ten_mistakes(tmp_path)
    validate = subprocess.run([sys.executable, "-m", "methodology", "validate", str(path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
    batch = subprocess.run([sys.executable, "-m", "methodology", "batch", str(path), "--runs", str(tmp_path / "runs"),
                            "--compute-only", "--no-summary", "--no-progress"], cwd=ROOT, capture_output=True,
                           text=True, timeout=600)
    for proc in (validate, batch):
        out = proc.stdout + proc.stderr
        assert proc.returncode == 1 and "Traceback" not in out, out
        assert out.count(str(path)) == 1, out
        lines = [x.strip() for x in out.splitlines() if x.strip().startswith("- ")]
        for name, _, fld, found in TEN_MISTAKES:
            assert any(x.startswith(f"- {fld}: found ") and found in x and "; expected " in x for x in lines), name
    manifest = json.loads((tmp_path / "runs" / "compute-only" / "manifest.json").read_text(encoding="utf-8"))
    (run,) = manifest["runs"]  # the invalid file still names its enterprise and product for the summary
    assert (run["status"], run["enterprise"], run["product"], run["industry"]) == (
        "invalid", "sd-scrap-eaf-mill-b", "crude-steel", "steel")
    assert len(run["problems"]) == len(lines) - len([x for x in lines if "more problem" in x])
    with pytest.raises(ParameterFileError) as exc:
        Study.prepare(path)
    assert all(p.file == str(path) for p in exc.value.problems)
