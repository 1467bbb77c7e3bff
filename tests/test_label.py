"""The carbon-footprint label (``outputs.label``): written by every run beside result.json, it states the number in
result.json, and Chinese text renders with the CJK font instead of boxes."""

from __future__ import annotations

import html
import re
import warnings
from pathlib import Path

from methodology.outputs import fonts, label, pact
from methodology.outputs.files import write_result
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
PLANT_B = ROOT / "parameters" / "cement" / "gd-coprocessing-plant-b.yaml"


def test_the_label_states_the_result(tmp_path):
    st = Study.prepare(PLANT_B)
    r = st.with_uncertainty(st.calculate_without_brightway(), 300, sobol_samples=0)
    write_result(r, tmp_path)
    svg = (tmp_path / "label.svg").read_text(encoding="utf-8")
    texts = re.findall(r">([^<>]+)</text>", svg)
    assert f"{r.gwp100_kg_co2e.total:,.0f}" in texts
    assert f"Label id {pact.footprint_id(r.model_dump(mode='json'))}" in texts
    assert any(t.startswith("95 % interval") for t in texts) and "Rule cn-pcr-cement 1.1.0" in svg
    assert "ILLUSTRATIVE" in svg and (tmp_path / "label.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    no_mc = label.lines(r.model_copy(update={"uncertainty": None}))
    assert no_mc["interval"] == ""


def test_chinese_names_render_with_the_cjk_font(tmp_path):
    from matplotlib import font_manager

    st = Study.prepare(PLANT_B)
    r = st.calculate_without_brightway()
    r = r.model_copy(update={"enterprise": r.enterprise.model_copy(update={"name": "示例水泥厂 B"})})
    fonts.use_cjk()
    found = font_manager.findfont(font_manager.FontProperties(family=fonts.FAMILY), fallback_to_default=False)
    assert Path(found) == fonts.cjk_font_path()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" when it draws boxes
        png = label.png(r)
    assert png[:4] == b"\x89PNG" and "示例水泥厂 B" in label.svg(r)


def test_a_product_with_declared_components_states_its_footprint_per_kg_of_each():
    r = Study.prepare(ROOT / "parameters" / "fertilizer" / "hb-npk-compound-d.yaml").calculate_without_brightway()
    line = label.lines(r)["components"]
    assert len(r.per_component) == 3
    for c in r.per_component:
        assert f"{c.name} {c.kg_co2e_per_kg:,.2f}" in line
    assert f"{r.gwp100_kg_co2e.total / 1000 / 0.15:,.2f}" in line  # 15-15-15: each nutrient is 15 % of a tonne
    assert html.escape(line) in label.svg(r)
    assert label.lines(Study.prepare(PLANT_B).calculate_without_brightway())["components"] == ""
