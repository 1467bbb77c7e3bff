"""Excel data collection (issue 12): every shipped enterprise through its workbook and back gives the same footprint;
bad workbooks are refused with the cell of each problem, and nothing is written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import ROOT
from openpyxl import load_workbook

from methodology.errors import ParameterFileError
from methodology.execution import workbooks
from methodology.outputs.workbook import template
from methodology.schema.parameters import read_parameter_file
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


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_round_trip_gives_the_same_footprint(path, tmp_path):
    out = tmp_path / "imported.yaml"
    workbooks.load(save(prefilled(path), tmp_path), out)
    a = Study.prepare(path).calculate_without_brightway().gwp100_kg_co2e.total
    b = Study.prepare(out).calculate_without_brightway().gwp100_kg_co2e.total
    assert b == pytest.approx(a, rel=1e-9)


def test_every_problem_with_its_cell_and_nothing_written(tmp_path):
    wb = prefilled(SCRAP)
    ws = wb["eaf"]
    r = row_of(ws, "scrap")
    ws.cell(r, 4).value = "lots"  # text in a number cell: column D
    ws.cell(row_of(ws, "electrodes"), 5).value = "m3"  # a unit that does not convert to t: column E
    ws.cell(row_of(ws, "quicklime"), 10).value = None  # a value without its source: column J
    cc = wb["continuous-casting"]
    cc.merge_cells("K5:L5")
    wb["enterprise"].cell(5, 3).value = None  # enterprise name, required
    text = refused(wb, tmp_path)
    assert f"'eaf'!D{r}: found text 'lots'; expected a number" in text
    assert "'continuous-casting'!K5:L5: found merged cells" in text


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
    text = refused(wb, tmp_path)
    assert "sheet 'eaf': found nothing (renamed or deleted)" in text
    assert "sheet '电弧炉 EAF': found a sheet not in the template (renamed?)" in text
    assert "'continuous-casting'!A (row of electricity): found no row" in text


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
