"""CBAM embedded emissions (``core.cbam``, ``outputs.cbam``, ``standards/cbam/goods.yaml``): figures worked by hand
from the result's own inputs for one steel, one cement and one aluminium enterprise; no CBAM file for goods
CBAM does not cover; the workbook holds the CSV's figures; the CBAM total and the lines outside the CBAM boundary
add up to the PCF."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from methodology.core.result import as_json
from methodology.outputs import cbam
from methodology.outputs.files import write_result
from methodology.schema.cbam import CbamFileError, default_goods, load_goods
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ROOT / "parameters"
GRID = 0.6205  # kg CO2e/kWh: grid-cn-2023-pcf in standards/factors/cn-core.yaml (one co2e_fossil emission)
CBAM_GRID = 0.5306  # kg CO2/kWh: grid-cn-2023-accounting, the CO2 factor of generation standards/cbam names


def _result(rel: str) -> dict:
    return as_json(Study.prepare(PARAMS / rel).calculate_without_brightway())


def _direct(r: dict) -> dict[str, dict[str, float]]:
    """kg of each gas per year of each process, as result.json's direct_emissions give them (before scaling)."""
    out: dict[str, dict[str, float]] = {}
    for d in r["direct_emissions"]:
        for gas, kg in d["kg_per_year"].items():
            out.setdefault(d["process"], {})[gas] = out.get(d["process"], {}).get(gas, 0.0) + kg
    return out


def _input(r: dict, factor: str) -> float:
    return next(x["total"] for x in r["by_input"] if x["factor"] == factor)


def _csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, as results.csv
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def _value(rows: list[dict], item: str) -> float:
    return float(next(x["value"] for x in rows if x["item"] == item))


def test_scrap_eaf_crude_steel_by_hand(tmp_path):
    # Scrap EAF mini-mill B, crude steel (billets): CN 7207 11 14, category crude steel, CO2 only, indirect
    # emissions reported but outside the obligation (Regulation 2023/956 Annex II).
    r = _result("steel/sd-scrap-eaf-mill-b.yaml")
    de, s = _direct(r), r["process_scaling"]
    # Attributed direct: the EAF and the caster are the good's own processes (crude steel made on site):
    #   EAF 70,997,443 kg CO2/yr x 1.0e-6 (share of a year per t) = 71.00 kg; caster 462,000 x 1.0e-6 = 0.46 kg
    direct = de["eaf"]["co2_fossil"] * s["eaf"] + de["continuous-casting"]["co2_fossil"] * s["continuous-casting"]
    assert direct == pytest.approx(71.459, abs=1e-3)
    # Purchased precursors at their factor: pig iron 69.53 kg + ferromanganese 26.05 kg (ferrosilicon 29.04 kg,
    # lime, electrodes, oxygen: not precursors, outside the CBAM boundary)
    precursors = _input(r, "purchased-pig-iron") + _input(r, "ferromanganese")
    assert precursors == pytest.approx(95.576, abs=1e-3)
    # Indirect: the PCF's grid electricity 289.65 kg = 466.8 kWh x 0.6205 kg CO2e/kWh; CBAM takes the CO2 factor of
    # generation: 466.8 kWh x 0.5306 = 247.68 kg; the 41.97 kg between them lie outside the CBAM boundary
    kwh = _input(r, "grid-cn-2023-pcf") / GRID
    grid = kwh * CBAM_GRID
    assert grid == pytest.approx(247.68, abs=0.01)
    write_result(r, tmp_path)
    rows = _csv(tmp_path / "cbam.csv")
    assert next(x["value"] for x in rows if x["item"] == "CN code") == "7207 11 14"
    assert next(x["value"] for x in rows if x["item"] == "aggregated goods category") == "Crude steel"
    assert _value(rows, "attributed direct emissions of the good's processes") == pytest.approx(direct / 1000)
    assert _value(rows, "embedded emissions of precursors") == pytest.approx(precursors / 1000)
    assert _value(rows, "specific direct embedded emissions (SEE direct)") == pytest.approx(
        (direct + precursors) / 1000)  # 0.167 t CO2e/t
    assert _value(rows, "specific indirect embedded emissions (SEE indirect)") == pytest.approx(grid / 1000)  # 0.248
    assert _value(rows, "electricity consumed (grid)") == pytest.approx(kwh / 1000)  # MWh/t
    above = _value(rows, "grid electricity: the PCF's life-cycle factor above the CO2 factor of generation CBAM takes")
    assert above == pytest.approx(kwh * (GRID - CBAM_GRID) / 1000)
    assert not any(x["item"].endswith("Ferrosilicon, purchased") for x in rows)


def test_integrated_cement_by_hand():
    # Integrated plant A, P·O cement: CN 2523 29 00, category cement, its precursor clinker made on site;
    # indirect emissions count in the obligation for cement.
    r = _result("cement/ah-integrated-plant-a.yaml")
    de, s = _direct(r), r["process_scaling"]
    # the good's own process: grinding, 2,304,618 kg CO2/yr x 5.263e-7 = 1.21 kg per t of cement
    grinding = de["grinding-p-o"]["co2_fossil"] * s["grinding-p-o"]
    # own-made clinker: raw meal 3,054,841 x 5.256e-7 = 1.61 kg; kiln (471,434,057 fuel + 857,765,801 calcination)
    # x 5.256e-7 = 698.68 kg
    clinker = (de["raw-meal-preparation"]["co2_fossil"] * s["raw-meal-preparation"]
               + sum(de["clinker-kiln"].values()) * s["clinker-kiln"])
    assert (grinding, clinker) == (pytest.approx(1.213, abs=1e-3), pytest.approx(700.288, abs=1e-3))
    grid = _input(r, "grid-cn-2023-pcf") / GRID * CBAM_GRID  # 33.02 kg = 53.2 kWh x 0.6205; CBAM: 28.24 kg
    fig = cbam.figures_of(r)
    assert fig.good.cn_code == "2523 29 00" and fig.category.indirect_in_obligation
    assert sum(x.kg_co2e for x in fig.direct) == pytest.approx(grinding)
    assert [x.item.split(":")[0] for x in fig.precursors] == ["own-made cement-clinker"] * 2
    assert fig.see_direct == pytest.approx((grinding + clinker) / 1000)  # 0.7015 t CO2e/t
    assert fig.see_indirect == pytest.approx(grid / 1000)  # 0.0282
    assert fig.see_total == pytest.approx((grinding + clinker + grid) / 1000)  # 0.7297


def test_captive_coal_smelter_by_hand():
    # Smelter A, aluminium ingot: CN 7601 10 90, unwrought aluminium, CO2 and PFCs; the captive power plant's
    # emissions are the electricity's (indirect), the alumina refinery is outside the CBAM boundary.
    r = _result("aluminium/sd-captive-coal-smelter-a.yaml")
    de, s = _direct(r), r["process_scaling"]
    k = s["electrolysis"]  # 1.675e-6 of a year per t
    # electrolysis: 923,296,000 kg CO2 + 3,120 kg CF4 x 7,380 + 177.84 kg C2F6 x 12,400 (AR6 GWP100) per year
    electrolysis = (de["electrolysis"]["co2_fossil"] + de["electrolysis"]["cf4"] * 7380
                    + de["electrolysis"]["c2f6"] * 12400) * k
    own = electrolysis + (de["anode-plant"]["co2_fossil"] + de["casting"]["co2_fossil"]) * k
    assert own == pytest.approx(1751.24, abs=0.01)  # 1,588.82 + 118.74 + 43.68 kg per t
    captive = de["captive-power-plant"]["co2_fossil"] * s["captive-power-plant"]  # 11,595 kg
    grid = _input(r, "grid-cn-2023-pcf") / GRID * CBAM_GRID  # 878.76 kg at the PCF's factor; 751.44 kg at CBAM's
    refinery = de["alumina-refinery"]["co2_fossil"] * s["alumina-refinery"]  # 1,755 kg, excluded
    fig = cbam.figures_of(r)
    assert fig.good.cn_code == "7601 10 90" and not fig.category.indirect_in_obligation
    assert fig.see_direct == pytest.approx(own / 1000)  # 1.751 t CO2e/t
    assert fig.see_indirect == pytest.approx((captive + grid) / 1000)  # 12.347
    excluded = next(x for x in fig.reconciliation if x.item.startswith("excluded process"))
    assert excluded.kg_co2e == pytest.approx(refinery)
    assert not fig.precursors  # unwrought aluminium has no relevant precursor; alumina is none


def test_plastics_get_no_cbam_file(tmp_path):
    (tmp_path / "cbam.csv").write_text("left by an earlier result")
    write_result(_result("plastics/sd-naphtha-cracker-a-hdpe.yaml"), tmp_path)
    assert not (tmp_path / "cbam.csv").exists() and not (tmp_path / "cbam.xlsx").exists()
    assert (tmp_path / "report.html").exists()


def test_the_workbook_holds_the_csv_figures(tmp_path):
    r = _result("steel/sd-integrated-works-a.yaml")
    cbam.write(r, tmp_path)
    rows = _csv(tmp_path / "cbam.csv")
    wb = openpyxl.load_workbook(tmp_path / "cbam.xlsx", read_only=True)
    sheet = list(wb["cbam"].iter_rows(values_only=True))
    assert list(sheet[0]) == cbam.COLUMNS and len(sheet) == len(rows) + 1
    for x, y in zip(rows, sheet[1:], strict=True):
        assert (x["section"], x["item"], x["unit"]) == (y[0], y[1], y[3] or "")
        if x["unit"]:
            assert float(x["value"]) == pytest.approx(y[2], rel=1e-12)
    notes = [x["basis"] for x in rows if x["section"] == "boundary notes"]
    assert [row[1] for row in list(wb["boundary notes"].iter_rows(values_only=True))[1:]] == notes
    assert any("upstream burden of every purchased input that is no precursor" in n for n in notes)


@pytest.mark.parametrize("path", sorted(PARAMS.glob("*/*.yaml")), ids=lambda p: p.stem)
def test_cbam_total_and_what_it_leaves_out_make_the_pcf(path):
    r = as_json(Study.prepare(path).calculate_without_brightway())
    fig = cbam.figures_of(r)
    if r["provenance"]["rule_set"]["id"] == "cn-pcr-plastics":
        assert fig is None  # polymers are no CBAM good
        return
    assert fig is not None, path
    outside = sum(x.kg_co2e for x in fig.reconciliation)
    assert fig.see_total * 1000 + outside == pytest.approx(r["gwp100_kg_co2e"]["total"], abs=1e-4)
    assert not any(x.item == "other differences" for x in fig.reconciliation)  # every kg has its line
    assert 0 < fig.see_direct and 0 <= fig.see_indirect


def test_product_families_take_their_own_cn_code():
    goods = default_goods()
    assert goods.good("cn-pcr-steel", "stainless-cold-rolled-coil", "austenitic-304").cn_code == "7219 34 10"
    assert goods.good("cn-pcr-steel", "stainless-cold-rolled-coil", "ferritic-430").cn_code == "7219 34 90"
    assert goods.good("cn-pcr-steel", "hot-rolled-coil", "any-family").cn_code == "7208 38 00"
    assert goods.good("cn-pcr-plastics", "hdpe") is None
    for pid, code in [("ammonia", "2814 10 00"), ("urea", "3102 10 19"), ("nitric-acid", "2808 00 00"),
                      ("ammonium-nitrate", "3102 30 90"), ("npk", "3105 20 10")]:
        assert goods.good("cn-pcr-fertilizer", pid).cn_code == code


def test_a_precursor_the_category_does_not_have_is_refused(tmp_path):
    text = (ROOT / "standards" / "cbam" / "goods.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "error_precursor.yaml"
    bad.write_text(text.replace("      - {category: cement-clinker, factors: [purchased-clinker]}",
                                "      - {category: pig-iron, factors: [purchased-clinker]}"), encoding="utf-8")
    with pytest.raises(CbamFileError) as e:
        load_goods(bad)
    assert "goods[6] precursor 1: found pig-iron; expected a relevant precursor of cement or of its precursors: " \
           "cement-clinker, calcined-clay" in str(e.value)


def test_each_cn_code_says_whether_and_where_it_was_verified(tmp_path):
    """``cn_check`` is required: a good without it is refused; the codes corrected on the CN 2025/2026 check stay
    corrected; urea's 3102 10 19 is the 'more than 45 % nitrogen' level read in the Czech Statistical Office's CN
    2025 listing."""
    goods = load_goods()
    assert all(g.cn_check.source for g in goods.goods)
    assert goods.good("cn-pcr-aluminium", "aluminium-ingot").cn_code == "7601 10 90"
    urea = goods.good("cn-pcr-fertilizer", "urea")
    assert urea.cn_code == "3102 10 19" and urea.cn_check.verified and "31021019" in urea.cn_check.source
    text = (ROOT / "standards" / "cbam" / "goods.yaml").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("    cn_check:") and "2523 10 00" in x)
    bad = tmp_path / "error_cn_check.yaml"
    bad.write_text(text.replace(line + "\n", ""), encoding="utf-8")
    with pytest.raises(CbamFileError, match=r"goods\[5\]\.cn_check: found nothing; expected this field"):
        load_goods(bad)


def test_a_compute_only_batch_writes_one_cbam_table(tmp_path):
    from methodology.execution.compute_only import compute_rows

    studies = [Study.prepare(PARAMS / rel) for rel in ("steel/sd-scrap-eaf-mill-b.yaml",
                                                         "plastics/xj-pvc-carbide-d.yaml",
                                                         "cement/js-grinding-station-c.yaml")]
    results: list[dict] = []
    compute_rows(studies, collect=results)
    assert len(results) == 3
    cbam.write_batch(results, tmp_path)
    rows = _csv(tmp_path / "cbam.csv")
    assert {x["enterprise_id"] for x in rows} == {"sd-scrap-eaf-mill-b", "js-grinding-station-c"}  # no PVC
    for r in (results[0], results[2]):
        mine = [x for x in rows if x["enterprise_id"] == r["enterprise"]["id"]]
        assert _value(mine, "specific total embedded emissions") == pytest.approx(cbam.figures_of(r).see_total)
    sheet = list(openpyxl.load_workbook(tmp_path / "cbam.xlsx", read_only=True)["cbam"].iter_rows(values_only=True))
    assert sheet[0][:3] == ("enterprise_id", "product_id", "parameter_file") and len(sheet) == len(rows) + 1
    cbam.write_batch(results[1:2], tmp_path)  # a batch of no CBAM good leaves no table of an earlier one
    assert not (tmp_path / "cbam.csv").exists()


def test_coal_gasification_urea_has_its_ammonia_as_an_own_made_precursor():
    # Shanxi works A, urea: CN 3102 10 19, category urea (CO2 and N2O); the ammonia made on site by coal
    # gasification is its relevant precursor, with the direct emissions of the gasification process; indirect
    # emissions count in the obligation for fertilisers.
    r = _result("fertilizer/sx-coal-gasification-a-urea.yaml")
    de, s = _direct(r), r["process_scaling"]
    fig = cbam.figures_of(r)
    assert fig.good.cn_code == "3102 10 19" and fig.category.indirect_in_obligation
    own_ammonia = [x for x in fig.precursors if x.item.startswith("own-made ammonia")]
    gasification = sum(de["ammonia-coal-gasification"].values()) * s["ammonia-coal-gasification"] * \
        r["allocation"]["factors"].get("ammonia-coal-gasification", 1.0)
    assert sum(x.kg_co2e for x in own_ammonia) == pytest.approx(gasification)
    assert gasification > 0


def test_every_good_is_under_an_annex_i_entry_and_a_code_outside_it_is_refused(tmp_path):
    goods = load_goods()
    assert all(g.annex_i.covers(g.cn_code) for g in goods.goods)
    assert {g.annex_i.code for g in goods.goods if g.rule == "cn-pcr-fertilizer"} == {"2814", "2808 00 00", "3102",
                                                                                    "3105"}
    text = (ROOT / "standards" / "cbam" / "goods.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "error_annex.yaml"
    bad.write_text(text.replace('cn_code: "3105 20 10"', 'cn_code: "3105 60 00"'), encoding="utf-8")
    with pytest.raises(CbamFileError) as e:
        load_goods(bad)
    assert ("annex_i: found 3105 for CN 3105 60 00; expected an Annex I entry covering the good's CN code"
            in str(e.value))


def test_precursor_lists_say_where_they_were_read_and_precursors_of_precursors_are_accepted():
    goods = load_goods()
    cats = goods.categories
    assert all(c.precursors_check.source for c in cats.values())
    assert cats["crude-steel"].precursors == ["ferro-alloys", "pig-iron", "dri", "crude-steel"]  # Guidance 5d
    assert cats["crude-steel"].precursors_check.verified and "sintered-ore" not in cats["crude-steel"].precursors
    assert cats["sintered-ore"].indirect_in_obligation  # 2601 12 00 is not in Annex II of Regulation 2023/956
    assert cats["ammonia"].precursors == ["hydrogen"] and cats["ammonia"].precursors_check.verified
    # Communication Template v2.1.1, Parameters_Constants 'Relevant precursors' (goods.yaml shared.sources.template)
    template = goods.shared["sources"]["template"]
    assert cats["cement"].precursors == ["cement-clinker", "calcined-clay"]
    read_there = {"cement-clinker": [], "calcined-clay": [], "unwrought-aluminium": [], "nitric-acid": ["ammonia"],
                  "urea": ["ammonia"], "ferro-alloys": ["sintered-ore"], "cement": ["cement-clinker", "calcined-clay"]}
    for key, listed in read_there.items():
        check = cats[key].precursors_check
        assert cats[key].precursors == listed and check.verified and check.source == template, key
    # a category as its own precursor is in no source read: said so, not marked verified
    assert not cats["mixed-fertilisers"].precursors_check.verified
    assert not cats["aluminium-products"].precursors_check.verified
    # sinter made for the blast furnace enters crude steel through the pig iron: accepted, through its precursors
    assert "sintered-ore" in goods.relevant_precursors("crude-steel")
    assert "calcined-clay" not in goods.relevant_precursors("crude-steel")
    crude = goods.good("cn-pcr-steel", "crude-steel")
    assert "sintered-ore" in {p.category for p in crude.own_precursors}


def test_boundary_notes_are_data_and_an_unknown_placeholder_is_refused(tmp_path):
    text = (ROOT / "standards" / "cbam" / "goods.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "notes.yaml"
    changed.write_text(text.replace("Heat made on site (boilers)", "Steam made on site (boilers)"), encoding="utf-8")
    r = _result("cement/js-grinding-station-c.yaml")
    notes = cbam.figures_of(r, load_goods(changed)).notes
    assert any(n.startswith("Steam made on site") for n in notes) and not any(n.startswith("Heat made") for n in notes)
    assert any(n.startswith("Gases counted for Cement: co2_fossil (") for n in notes)
    bad = tmp_path / "error_notes.yaml"
    bad.write_text(text.replace("Gases counted for {category}", "Gases counted for {categroy}"), encoding="utf-8")
    with pytest.raises(CbamFileError, match=r"notes\.gases: .*unknown placeholder\(s\) \{categroy\}"):
        load_goods(bad)


@pytest.mark.parametrize("unit, amount, tonnes", [("t", 1, 1.0), ("kg", 1000, 1.0), ("kg", 1, 0.001), ("g", 5e5, 0.5)])
def test_tonnes_per_unit_converts_any_mass_unit(unit, amount, tonnes):
    from methodology.core.cbam import tonnes_per_unit

    assert tonnes_per_unit({"unit": unit, "amount": amount}) == pytest.approx(tonnes)


def test_tonnes_per_unit_refuses_a_declared_unit_that_is_no_mass():
    from methodology.core.cbam import tonnes_per_unit
    from methodology.errors import CalculationError

    with pytest.raises(CalculationError, match=r"per tonne of good: the declared unit 'kWh' is not a mass"):
        tonnes_per_unit({"unit": "kWh", "amount": 1})
