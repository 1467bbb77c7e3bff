"""Excel data collection (issue 12): every shipped enterprise through its workbook and back gives the same footprint;
bad workbooks are refused with the cell of each problem, and nothing is written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import ROOT, write_variant
from openpyxl import load_workbook

from methodology.errors import ParameterFileError
from methodology.execution import workbooks
from methodology.outputs.workbook import template
from methodology.schema.parameters import ParameterFile, read_parameter_file
from methodology.schema.workbook import km_by_mode
from methodology.study import Study

SHIPPED = sorted(ROOT.glob("parameters/*/*.yaml"))
SCRAP = ROOT / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml"


def prefilled(path: Path):
    study = Study.prepare(path)
    return load_workbook(io.BytesIO(template(study.rule, study.enterprise.params.route, read_parameter_file(path))))


def save(wb, tmp_path: Path) -> Path:
    out = tmp_path / "filled.xlsx"
    wb.save(out)
    return out


def refused(wb, tmp_path: Path) -> str:
    out = tmp_path / "out.yaml"
    with pytest.raises(ParameterFileError) as exc:
        workbooks.load(save(wb, tmp_path), out)
    assert not out.exists()
    return str(exc.value)


def row_of(ws, key: str) -> int:
    return next(r for r in range(4, ws.max_row + 1) if ws.cell(r, 1).value == key)


def comparable(pf: ParameterFile) -> dict:
    """Everything a parameter file says, as a workbook holds it: transport legs as km per mode (one cell per mode),
    a component's content without a unit as a plain fraction ('1')."""
    d = pf.model_dump()
    for pid, flows in pf.processes.items():
        for key, v in flows.items():
            d["processes"][pid][key]["transport"] = {m: round(km, 9) for m, km in km_by_mode(v.transport).items()}
    for c in d["components"].values():
        c["unit"] = c["unit"] or "1"
    return d


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_round_trip_gives_the_same_footprint(path, tmp_path):
    """The same footprint, and the same parameter file field by field (a field the workbook dropped fails)."""
    out = tmp_path / "imported.yaml"
    workbooks.load(save(prefilled(path), tmp_path), out)
    assert comparable(read_parameter_file(out)) == comparable(read_parameter_file(path))
    a = Study.prepare(path).calculate_without_brightway().gwp100_kg_co2e.total
    b = Study.prepare(out).calculate_without_brightway().gwp100_kg_co2e.total
    assert b == pytest.approx(a, rel=1e-9)


def problems(wb, tmp_path: Path) -> list:
    out = tmp_path / "out.yaml"
    with pytest.raises(ParameterFileError) as exc:
        workbooks.load(save(wb, tmp_path), out)
    assert not out.exists()
    return exc.value.problems


def test_structural_and_validation_problems_in_one_pass(tmp_path):
    """A merged cell, text in a number cell, a wrong unit and a missing source: all four in one error, each with
    its cell; the rows refused for their structure are not reported again as missing by the schema or the rule."""
    wb = prefilled(SCRAP)
    ws = wb["eaf"]
    r = row_of(ws, "scrap")
    ws.cell(r, 4).value = "lots"  # text in a number cell: column D
    ws.cell(row_of(ws, "electrodes"), 5).value = "m3"  # a unit that does not convert to t: column E
    ws.cell(row_of(ws, "quicklime"), 10).value = None  # a value without its source: column J
    cc = wb["continuous-casting"]
    cc.merge_cells(f"K{row_of(cc, 'electricity')}:L{row_of(cc, 'electricity')}")
    found = problems(wb, tmp_path)
    text = "\n".join(f"{p.field}: found {p.found}; expected {p.expected}" for p in found)
    assert f"'eaf'!D{r}: found text 'lots'; expected a number" in text
    assert f"'continuous-casting'!K{row_of(cc, 'electricity')}:L{row_of(cc, 'electricity')}: found merged cells" \
        in text
    assert f"'eaf'!E{row_of(ws, 'electrodes')} (processes.eaf.electrodes.unit): found 'm3'" in text
    assert f"'eaf'!J{row_of(ws, 'quicklime')} (processes.eaf.quicklime.source): found nothing" in text
    assert len(found) == 4, text  # scrap and the merged electricity row: not 'missing' as well
    assert "processes.eaf.scrap" not in text and "continuous-casting.electricity" not in text


def test_a_refused_cell_leaves_the_rest_of_its_row_checked(tmp_path):
    """Text in the year of a row leaves out the year only: the wrong unit of the same row is still found."""
    wb = prefilled(SCRAP)
    ws = wb["eaf"]
    r = row_of(ws, "electrodes")
    ws.cell(r, 5).value, ws.cell(r, 13).value = "m3", "2023年"
    wb["enterprise"].cell(row_of(wb["enterprise"], "enterprise.illustrative"), 3).value = "maybe"
    text = "\n".join(f"{p.field}: found {p.found}" for p in problems(wb, tmp_path))
    assert text.splitlines() == [f"'enterprise'!C{row_of(wb['enterprise'], 'enterprise.illustrative')}: found 'maybe'",
                                 f"'eaf'!M{r}: found text '2023年'",
                                 f"'eaf'!E{r} (processes.eaf.electrodes.unit): found 'm3'"], text


def test_rule_problems_mapped_to_cells(tmp_path):
    wb = prefilled(SCRAP)
    ws = wb["eaf"]
    ws.cell(row_of(ws, "electrodes"), 5).value = "m3"
    ws.cell(row_of(ws, "quicklime"), 10).value = None
    wb["enterprise"].cell(5, 3).value = None
    text = refused(wb, tmp_path)
    assert f"'eaf'!E{row_of(ws, 'electrodes')} (processes.eaf.electrodes.unit): found 'm3'" in text
    assert f"'eaf'!J{row_of(ws, 'quicklime')} (processes.eaf.quicklime.source): found nothing" in text
    assert "'enterprise'!C5 (enterprise.name): found nothing" in text


def test_renamed_sheet_and_missing_row_refused(tmp_path):
    wb = prefilled(SCRAP)
    wb["eaf"].title = "电弧炉 EAF"
    cc = wb["continuous-casting"]
    cc.delete_rows(row_of(cc, "electricity"))
    found = problems(wb, tmp_path)
    assert [f"{p.field}: found {p.found}" for p in found] == [
        "sheet '电弧炉 EAF': found a sheet not in the template (renamed?)",
        "sheet 'eaf': found nothing (renamed or deleted)",
        "'continuous-casting'!A (row of electricity): found no row (deleted?)"]  # not: no process makes liquid steel


def test_required_value_empty_refused(tmp_path):
    wb = prefilled(SCRAP)
    ws = wb["eaf"]
    r = row_of(ws, "liquid_steel")
    for c in range(4, ws.max_column + 1):
        if ws.cell(r, c).protection.locked is False:
            ws.cell(r, c).value = None
    text = refused(wb, tmp_path)
    assert f"'eaf'!D{r} (processes.eaf.liquid_steel): found nothing" in text


def test_chinese_units_give_the_same_result(tmp_path):
    wb = prefilled(SCRAP)
    ws = wb["site-electricity-supply"]
    r = row_of(ws, "grid_electricity")
    assert ws.cell(r, 5).value == "kWh"
    ws.cell(r, 4).value, ws.cell(r, 5).value = ws.cell(r, 4).value / 1e4, "万kWh"
    r = row_of(wb["eaf"], "scrap")
    wb["eaf"].cell(r, 4).value, wb["eaf"].cell(r, 5).value = wb["eaf"].cell(r, 4).value / 1e4, "万t"
    study, _ = workbooks.load(save(wb, tmp_path))
    a = Study.prepare(SCRAP).calculate_without_brightway().gwp100_kg_co2e.total
    assert study.calculate_without_brightway().gwp100_kg_co2e.total == pytest.approx(a, rel=1e-9)


def test_template_offers_chinese_units_and_protects_ids():
    study = Study.prepare(SCRAP)
    wb = load_workbook(io.BytesIO(template(study.rule, "scrap-eaf")))
    ws = wb["site-electricity-supply"]
    lists = " ".join(dv.formula1 or "" for dv in ws.data_validations.dataValidation)
    assert "万kWh" in lists and "万t" not in lists.split("万kWh")[0][-1:]
    assert ws.protection.sheet and ws.column_dimensions["A"].hidden
    assert ws.cell(4, 1).protection.locked and not ws.cell(4, 4).protection.locked
    assert wb.sheetnames[0] == "enterprise" and wb["_ids"].sheet_state == "hidden"


NPK = ROOT / "parameters" / "fertilizer" / "hb-npk-compound-d.yaml"


def test_component_contents_are_front_rows_and_required_where_the_rule_gives_none(tmp_path):
    wb = prefilled(NPK)
    ws = wb["enterprise"]
    r = row_of(ws, "components.k2o.value")
    assert ws.cell(r, 3).value == 15 and ws.cell(row_of(ws, "components.k2o.unit"), 3).value == "%"
    for part in ("value", "unit", "source"):
        ws.cell(row_of(ws, f"components.k2o.{part}"), 3).value = None
    text = refused(wb, tmp_path)
    assert f"'enterprise'!C{r} (components.k2o): found no content" in text


def test_component_content_in_a_fraction_gives_the_same_result(tmp_path):
    wb = prefilled(NPK)
    ws = wb["enterprise"]
    ws.cell(row_of(ws, "components.n.value"), 3).value = 0.15
    ws.cell(row_of(ws, "components.n.unit"), 3).value = "1"
    study, _ = workbooks.load(save(wb, tmp_path))
    per = study.calculate_without_brightway().per_component
    ref = Study.prepare(NPK).calculate_without_brightway().per_component
    assert per == ref


def test_tampered_route_refused_with_its_cell(tmp_path):
    wb = prefilled(SCRAP)
    wb["_ids"]["B4"] = "no-such-route"
    text = refused(wb, tmp_path)
    assert "'_ids'!B4 (route): found 'no-such-route'; expected a route of cn-pcr-steel" in text


def test_supplier_footprint_uncertainty_and_prices_round_trip(tmp_path):
    """The fields no shipped file has all of: a supplier's footprint, a stated uncertainty, prices (one the route
    offers a row for, one it does not), transport legs of one mode in two units."""
    def extend(d):
        eaf = d["processes"]["eaf"]
        eaf["electrodes"]["supplier_footprint"] = {"value": 4.2, "unit": "t/t", "verified": True,
                                                   "source": "illustrative: supplier's EPD, 2024", "note": "gate"}
        eaf["quicklime"]["uncertainty"] = {"gsd2": 1.2, "source": "illustrative: weighbridge +-10 %"}
        eaf["scrap"]["transport"] = [{"mode": "road", "distance": 100}, {"mode": "road", "distance": 5e4, "unit": "m"}]
        d["prices"] = {"eaf-slag": 45.0, "hot-metal": 2900.0}

    path = write_variant(tmp_path, SCRAP, extend, "extended.yaml")
    wb = prefilled(path)
    ws = wb["eaf"]
    col = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    electrodes, scrap = row_of(ws, "electrodes"), row_of(ws, "scrap")
    assert ws.cell(electrodes, col["supplier_footprint"]).value == 4.2
    assert ws.cell(electrodes, col["supplier_footprint_verified"]).value == "yes"
    assert ws.cell(scrap, col["supplier_footprint"]).protection.locked  # the rule allows none for scrap
    assert not ws.cell(scrap, col["uncertainty_gsd2"]).protection.locked
    front = wb["enterprise"]
    assert front.cell(row_of(front, "prices.hot-metal"), 3).value == 2900
    assert front.cell(row_of(front, "prices.liquid-steel"), 3).value is None  # offered: eaf makes two outputs
    out = tmp_path / "imported.yaml"
    study, _ = workbooks.load(save(wb, tmp_path), out)
    assert comparable(read_parameter_file(out)) == comparable(read_parameter_file(path))
    a = Study.prepare(path).calculate_without_brightway().gwp100_kg_co2e.total
    assert study.calculate_without_brightway().gwp100_kg_co2e.total == pytest.approx(a, rel=1e-9)
    assert a != pytest.approx(Study.prepare(SCRAP).calculate_without_brightway().gwp100_kg_co2e.total, rel=1e-6)


def test_a_convertible_unit_not_offered_is_accepted_one_that_does_not_convert_refused(tmp_path):
    wb = prefilled(SCRAP)
    ws = wb["eaf"]
    r = row_of(ws, "scrap")
    (offered,) = [dv.formula1 for dv in ws.data_validations.dataValidation if f"E{r}" in str(dv.sqref)]
    units = offered.strip('"').split(",")
    assert units[0] == "t" and "万t" in units and "g" not in units
    ws.cell(r, 4).value, ws.cell(r, 5).value = ws.cell(r, 4).value * 1e6, "g"  # grams: not in the list
    study, _ = workbooks.load(save(wb, tmp_path))
    a = Study.prepare(SCRAP).calculate_without_brightway().gwp100_kg_co2e.total
    assert study.calculate_without_brightway().gwp100_kg_co2e.total == pytest.approx(a, rel=1e-9)
    ws.cell(r, 5).value = "kWh"
    assert f"'eaf'!E{r} (processes.eaf.scrap.unit): found 'kWh'; expected a unit convertible to t" in refused(
        wb, tmp_path)


def test_without_its_id_sheet_a_workbook_is_refused_before_anything_else(tmp_path):
    """Which rule and route the workbook is for is unknown: nothing else can be checked (one problem, not many)."""
    wb = prefilled(SCRAP)
    del wb["_ids"]
    wb["eaf"].cell(4, 4).value = "lots"
    assert [p.field for p in problems(wb, tmp_path)] == ["sheet '_ids'"]


# --- a filled workbook is a parameter file: pcf validate, pcf run and pcf batch take it directly --------------------

def _cli_workbook(tmp_path: Path, source: Path = SCRAP) -> Path:
    """The workbook ``pcf template --prefill`` writes for a shipped file (into ``tmp_path``)."""
    from methodology.cli import main

    assert main(["template", "--prefill", str(source), "--out", str(tmp_path)]) == 0
    (path,) = [p for p in tmp_path.glob("*.xlsx") if p.stem.startswith(source.stem)]
    return path


def _with_wrong_unit(path: Path, out: Path) -> str:
    """``path`` saved as ``out`` with the electrodes of the eaf sheet in m3; the cell it changed."""
    wb = load_workbook(path)
    ws = wb["eaf"]
    r = row_of(ws, "electrodes")
    ws.cell(r, 5).value = "m3"
    wb.save(out)
    return f"'eaf'!E{r}"


def test_pcf_validate_takes_a_workbook_bad_ones_with_their_cells(tmp_path, capsys):
    from methodology.cli import main

    good = _cli_workbook(tmp_path)
    assert main(["validate", str(good)]) == 0
    assert f"OK  {good}: sd-scrap-eaf-mill-b, crude-steel by scrap-eaf" in capsys.readouterr().out
    cell = _with_wrong_unit(good, tmp_path / "bad.xlsx")
    assert main(["validate", str(tmp_path / "bad.xlsx"), "--send-back", str(tmp_path / "back")]) == 1
    err = capsys.readouterr().err
    assert f"{cell} (processes.eaf.electrodes.unit): found 'm3'; expected a unit convertible to t" in err
    assert cell in (tmp_path / "back" / "bad-send-back.csv").read_text(encoding="utf-8-sig")


def test_a_workbook_study_records_the_workbook_and_gives_the_yaml_footprint(tmp_path):
    import hashlib

    path = _cli_workbook(tmp_path)
    study = Study.prepare(path)
    result = study.calculate_without_brightway()
    assert result.gwp100_kg_co2e.total == pytest.approx(
        Study.prepare(SCRAP).calculate_without_brightway().gwp100_kg_co2e.total, rel=1e-9)
    ref = result.provenance.parameter_file
    assert (ref.path, ref.sha256, ref.kind) == (str(path), hashlib.sha256(path.read_bytes()).hexdigest(), "workbook")
    assert Study.prepare(SCRAP).calculate_without_brightway().provenance.parameter_file.kind == "parameter file"
    # the notebooks' other views check the data read once against another rule (nothing is re-read as YAML)
    assert study.with_allocation("mass").calculate_without_brightway().provenance.parameter_file == ref


def test_batch_table_only_over_workbooks_and_yaml(tmp_path):
    """A folder of a good workbook, a bad one and a YAML file: 2 ok, 1 invalid with its cell; an open workbook's
    Excel lock file (~$name.xlsx) is not an input; nothing is written for the bad workbook."""
    import pandas as pd

    from methodology.execution.batch import Settings, run_batch

    src = tmp_path / "in"
    src.mkdir()
    good = _cli_workbook(src)
    other = sorted(p for p in SHIPPED if p.parent.name == "steel" and p != SCRAP and "eaf" in p.name)[0]
    cell = _with_wrong_unit(_cli_workbook(tmp_path, other), src / "bad.xlsx")
    yaml_file = next(p for p in SHIPPED if p.parent.name == "cement")
    (src / yaml_file.name).write_bytes(yaml_file.read_bytes())
    (src / f"~${good.name}").write_bytes(b"\x0bsomeone")
    runs = tmp_path / "runs"
    manifest, status = run_batch([src], runs, settings=Settings(workers=1, progress=False, summary=False),
                                 compute=True, table_only=True, log=lambda m: None)
    st = {Path(r["parameter_file"]).name: r["status"] for r in manifest["runs"]}
    assert status == 1 and st == {good.name: "ok", yaml_file.name: "ok", "bad.xlsx": "invalid"}, st
    (bad,) = [r for r in manifest["runs"] if r["status"] == "invalid"]
    assert any(p.startswith(f"{cell} (processes.eaf.electrodes.unit): found 'm3'") for p in bad["problems"])
    assert bad["enterprise"] == read_parameter_file(other).enterprise.id  # read from the workbook itself
    table = pd.read_csv(runs / "compute-only" / "results.csv").set_index("parameter_file")
    assert table.loc[str(good), "parameter_sha256"] == __import__("hashlib").sha256(good.read_bytes()).hexdigest()
    assert table.loc[str(good), "gwp100_total_kg_co2e"] == pytest.approx(
        Study.prepare(SCRAP).calculate_without_brightway().gwp100_kg_co2e.total, rel=1e-9)
    assert not list(runs.rglob("bad*"))


def test_batch_sees_a_changed_workbook_as_changed_and_refuses_a_workbook_and_yaml_of_one_enterprise(tmp_path):
    from methodology.execution.batch import plan

    src = tmp_path / "in"
    src.mkdir()
    path = _cli_workbook(src)
    key = plan([src], tmp_path / "runs").todo[0].key
    assert plan([src], tmp_path / "runs").todo[0].key == key  # the same bytes: the same run key
    wb = load_workbook(path)
    ws = wb["eaf"]
    ws.cell(row_of(ws, "scrap"), 4).value *= 1.01
    wb.save(path)
    (spec,) = plan([src], tmp_path / "runs").todo
    assert spec.key != key and spec.parameter_kind == "workbook"
    (src / SCRAP.name).write_bytes(SCRAP.read_bytes())  # the same enterprise and product in YAML beside it
    p = plan([src], tmp_path / "runs")
    assert not p.todo and sorted(Path(r["parameter_file"]).name for r in p.invalid) == sorted([path.name, SCRAP.name])
    assert all(str(path) in r["error"] and str(src / SCRAP.name) in r["error"] for r in p.invalid)


@pytest.mark.notebook
def test_pcf_run_takes_a_workbook_through_papermill(tmp_path, bw_project):
    """`pcf run filled.xlsx`: the notebook runs on the workbook; the same footprint as its YAML file (Brightway's
    single precision: 1e-7), and result.json and run.json name the workbook and its sha256."""
    import hashlib
    import json

    from conftest import FACTORS

    from methodology.cli import main

    path = _cli_workbook(tmp_path)
    runs = tmp_path / "runs"
    assert main(["--factors", str(FACTORS), "run", str(path), "--runs", str(runs)]) == 0
    out = runs / "sd-scrap-eaf-mill-b" / "crude-steel"
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    expected = Study.prepare(SCRAP).calculate_without_brightway().gwp100_kg_co2e.total
    assert result["gwp100_kg_co2e"]["total"] == pytest.approx(expected, rel=1e-7)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert result["provenance"]["parameter_file"] == {"path": str(path.resolve()), "sha256": sha, "kind": "workbook"}
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert (record["parameter_file"], record["parameter_sha256"], record["parameter_kind"]) == (
        str(path.resolve()), sha, "workbook")


@pytest.mark.notebook
def test_batch_runs_a_workbook_notebook_and_skips_it_unchanged(tmp_path, bw_project):
    """`pcf batch` in notebook mode (Dask worker, papermill) over a workbook and a bad one: the workbook runs, the
    bad one is invalid with its cell; run again, the unchanged workbook is skipped."""
    import json

    from methodology.execution.batch import Settings, run_batch

    src = tmp_path / "in"
    src.mkdir()
    good = _cli_workbook(src)
    cell = _with_wrong_unit(good, src / "bad.xlsx")
    settings = Settings(workers=1, progress=False, summary=False, timeout=300)
    manifest, status = run_batch([src], tmp_path / "runs", settings=settings, log=lambda m: None)
    st = {Path(r["parameter_file"]).name: r for r in manifest["runs"]}
    assert status == 1 and st[good.name]["status"] == "ok" and st["bad.xlsx"]["status"] == "invalid", st
    assert any(p.startswith(cell) for p in st["bad.xlsx"]["problems"])
    out = Path(st[good.name]["out_dir"])
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["parameter_kind"] == "workbook" and (out / "steel.ipynb").is_file()  # the executed notebook
    (src / "bad.xlsx").unlink()
    manifest, status = run_batch([src], tmp_path / "runs", settings=settings, log=lambda m: None)
    assert status == 0 and [r["status"] for r in manifest["runs"]] == ["skipped"]
