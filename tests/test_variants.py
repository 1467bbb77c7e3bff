"""Rule variants (``schema.variants``) and ``pcf compare`` (``execution.compare``), decision record 0014: a small
override file applied at load time, every enterprise under base and variants, the change, its cause, the ranks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from methodology.errors import RuleError
from methodology.execution.compare import compare, write
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
ECONOMIC = ROOT / "standards" / "steel" / "variants" / "economic-allocation.yaml"
STEEL_GRID = ROOT / "standards" / "steel" / "variants" / "regional-grid.yaml"
ALU_GRID = ROOT / "standards" / "aluminium" / "variants" / "regional-grid.yaml"
ZERO_BURDEN = ROOT / "standards" / "cement" / "variants" / "zero-burden-by-products.yaml"
WORKS_A = ROOT / "parameters" / "steel" / "sd-integrated-works-a.yaml"
GRINDING_C = ROOT / "parameters" / "cement" / "js-grinding-station-c.yaml"


def variant_file(tmp_path: Path, changes: list[dict], base=("cn-pcr-steel", "1.4.0"), name="v.yaml") -> Path:
    doc = {"variant": {"id": "test-variant", "title": "test", "base": {"id": base[0], "version": base[1]},
                       "reason": "a test"}, "changes": changes}
    out = tmp_path / name
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def test_a_variant_keeps_id_and_version_records_itself_and_changes_the_content():
    base = Study.prepare(WORKS_A)
    st = base.with_variant(ECONOMIC)
    assert (st.rule.id, st.rule.version) == (base.rule.id, base.rule.version)
    assert st.rule.allocation.approach.value == "economic" and base.rule.allocation.approach.value == "system_expansion"
    assert st.rule.sha256.startswith(base.rule.sha256 + "+variant:steel-economic-allocation@")
    res = st.calculate_without_brightway()
    v = res.provenance.rule_set.variant
    assert (v.id, Path(v.path).name) == ("steel-economic-allocation", "economic-allocation.yaml")
    assert base.calculate_without_brightway().provenance.rule_set.variant is None
    # economic allocation shares the burden with slag and gases instead of crediting them: no credits remain
    assert res.gwp100_kg_co2e.credits == 0 and set(res.allocation.factors) >= {"blast-furnace", "coke-oven"}


def test_variant_figures_equal_a_brightway_run(tmp_path, bw_project):
    st = Study.prepare(GRINDING_C).with_variant(ZERO_BURDEN)
    full = st.calculate(tmp_path)
    fast = st.calculate_without_brightway()
    assert full.gwp100_kg_co2e.total == pytest.approx(fast.gwp100_kg_co2e.total, rel=1e-6)
    assert full.provenance.rule_set.variant.id == "cement-zero-burden-by-products"


@pytest.mark.parametrize("changes, field, found, expected", [
    ([{"set": "allocation.aproach", "value": "mass"}], "allocation.aproach", "'mass'", None),  # strict schema
    ([{"set": "allocatio.approach", "value": "mass"}], "changes[0].set",
     "'allocatio.approach': no field 'allocatio' in the rule", None),
    ([{"set": "processes.blast-furnac.inputs.coke.factor", "value": "x"}], "changes[0].set",
     "'processes.blast-furnac.inputs.coke.factor': no item 'blast-furnac' in processes", None),
    ([{"set": "cut_off.cumulative_share.value", "value": 1}], "changes[0].set",
     "'cut_off.cumulative_share.value': 'cut_off.cumulative_share' is a value, not a section", None),
])
def test_paths_that_lead_nowhere_are_refused_naming_the_variant_file(tmp_path, changes, field, found, expected):
    path = variant_file(tmp_path, changes)
    with pytest.raises(RuleError) as exc:
        Study.prepare(WORKS_A).with_variant(path)
    (p,) = exc.value.problems
    assert (p.file, p.field, p.found) == (str(path), field, found)


def test_values_are_checked_by_the_rule_schema_and_the_base_must_match(tmp_path):
    bad = variant_file(tmp_path, [{"set": "allocation.approach", "value": "mas"},
                                  {"set": "electricity.grid_factor", "value": "provincial"}])
    with pytest.raises(RuleError) as exc:
        Study.prepare(WORKS_A).with_variant(bad)
    fields = {p.field for p in exc.value.problems}
    assert {"allocation.approach", "electricity.grid_factor"} <= fields
    assert all(p.file == str(bad) for p in exc.value.problems)
    old = variant_file(tmp_path, [{"set": "allocation.approach", "value": "mass"}], base=("cn-pcr-steel", "1.3.0"),
                       name="old.yaml")
    with pytest.raises(RuleError) as exc:
        Study.prepare(WORKS_A).with_variant(old)
    assert [(p.field, p.found, p.expected) for p in exc.value.problems] == [
        ("variant.base", "cn-pcr-steel 1.3.0", "the rule it is applied to, cn-pcr-steel 1.4.0")]


def test_economic_allocation_without_a_price_is_refused_not_taken_as_zero(tmp_path):
    v = variant_file(tmp_path, [{"set": "allocation.approach", "value": "economic"},
                                {"set": "allocation.product_prices", "value": {"coke": 2000}}])
    with pytest.raises(RuleError) as exc:
        Study.prepare(WORKS_A).with_variant(v)
    found = {(p.field, p.expected) for p in exc.value.problems}
    assert ("allocation.product_prices.hot-metal", "a price per unit: process 'blast-furnace' allocates by revenue") \
        in found


def test_compare_every_enterprise_under_the_variants_of_its_rule(tmp_path):
    c = compare([ROOT / "parameters"], [ZERO_BURDEN, ALU_GRID], log=lambda m: None)
    t = c.table
    assert c.ok and set(t["variant"]) == {"cement-zero-burden-by-products", "aluminium-regional-grid"}
    assert set(t[t["variant"] == "aluminium-regional-grid"]["rule_set"]) == {"cn-pcr-aluminium"}  # not steel
    assert len(t) == len(list((ROOT / "parameters" / "cement").glob("*.yaml"))) + len(
        list((ROOT / "parameters" / "aluminium").glob("*.yaml")))
    # every figure is the difference of the two computations
    assert ((t["variant_kg_co2e"] - t["base_kg_co2e"] - t["change_kg_co2e"]).abs() < 1e-9).all()
    c_row = t[(t["enterprise"] == "js-grinding-station-c")].iloc[0]
    base = Study.prepare(GRINDING_C)
    assert c_row["base_kg_co2e"] == pytest.approx(base.calculate_without_brightway().gwp100_kg_co2e.total, rel=1e-12)
    assert c_row["variant_kg_co2e"] == pytest.approx(base.with_factor_choices(
        {"by-product-burden": "zero-burden"}).calculate_without_brightway().gwp100_kg_co2e.total, rel=1e-12)
    assert c_row["main_stage"] == "materials-transport" and c_row["main_input"].endswith("-economic")
    # the two ingot smelters swap places under the regional grid (North China's factor is above the national one)
    alu = t[t["variant"] == "aluminium-regional-grid"]
    ingots = alu[alu["product"] == "aluminium-ingot"].set_index("enterprise")
    nm = ingots.loc["nm-grid-smelter-c"]
    assert (nm["rank_base"], nm["rank_variant"]) == (1, 2)
    assert ingots["rank_change"].abs().sum() == 2
    s = c.summary.set_index("variant")
    assert s.loc["aluminium-regional-grid", "rank_changes"] == 2 and s.loc["aluminium-regional-grid", "failed"] == 0
    paths = write(c, tmp_path)
    assert paths[0].read_bytes().startswith(b"\xef\xbb\xbfenterprise,")  # a byte-order mark for Excel
    doc = json.loads(paths[2].read_text(encoding="utf-8"))
    assert {v["id"] for v in doc["variants"]} == {"cement-zero-burden-by-products", "aluminium-regional-grid"}


def test_a_variant_that_cannot_be_applied_fails_its_pairs_only(tmp_path):
    old = variant_file(tmp_path, [{"set": "allocation.approach", "value": "mass"}], base=("cn-pcr-cement", "1.0.0"))
    c = compare([ROOT / "parameters" / "cement"], [old, ZERO_BURDEN], log=lambda m: None)
    t = c.table
    assert not c.ok
    failed = t[t["status"] == "failed"]
    assert set(failed["variant"]) == {"test-variant"} and failed["error"].str.contains("variant.base").all()
    assert (t[t["variant"] == "cement-zero-burden-by-products"]["status"] == "ok").all()
    assert failed["base_kg_co2e"].notna().all()  # the base figure stays in the row


def test_pcf_compare_command(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "methodology", "compare", "parameters/steel",
                           "--variant", str(STEEL_GRID), "--out", str(tmp_path / "cmp")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "steel-regional-grid" in proc.stdout and (tmp_path / "cmp" / "comparison.parquet").is_file()


def test_parameter_folders_above_the_working_folder_are_searched(tmp_path, monkeypatch):
    """`../parameters` (the notebooks' own path to them) finds every file; hidden folders below it do not count."""
    from methodology.execution.batch import find_parameter_files

    hidden = tmp_path / "params" / ".drafts"
    hidden.mkdir(parents=True)
    (hidden / "x.yaml").write_text("a: 1\n", encoding="utf-8")
    (tmp_path / "params" / "y.yaml").write_text("a: 1\n", encoding="utf-8")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert [p.name for p in find_parameter_files(["../params"])] == ["y.yaml"]
    monkeypatch.chdir(ROOT / "notebooks")
    assert len(find_parameter_files(["../parameters"])) == len(list((ROOT / "parameters").rglob("*.yaml")))


def test_a_grid_factor_variant_moves_every_enterprise_by_exactly_its_grid_kwh_times_the_difference(tmp_path):
    """A variant whose effect is known exactly: every enterprise's grid purchases at the North China factor
    (0.7439) instead of the national one (0.6205) change its total by grid kWh x 0.1234, nothing else."""
    grid_rows = {}
    for path in sorted((ROOT / "parameters").glob("*/*.yaml")):
        res = Study.prepare(path).calculate_without_brightway()
        grid_rows[res.enterprise.id, res.product.id] = sum(x.total for x in res.by_input
                                                            if x.source == "grid-cn-2023-pcf") / 0.6205
    variants = []
    from methodology.schema import catalogue

    for rule, version in sorted((e.id, e.version) for e in catalogue.entries("rule")):
        variants.append(variant_file(tmp_path, [
            {"set": "electricity.allowed_factors", "value": ["grid-cn-2023-pcf", "grid-cn-north-2023-pcf"]},
            {"set": "electricity.default_factor", "value": "grid-cn-north-2023-pcf"}], base=(rule, version),
            name=f"{rule}.yaml"))
    t = compare([ROOT / "parameters"], variants, log=lambda m: None).table
    assert (t["status"] == "ok").all() and len(t) == len(grid_rows)
    for _, r in t.iterrows():
        kwh = grid_rows[r["enterprise"], r["product"]]
        assert r["change_kg_co2e"] == pytest.approx(kwh * (0.7439 - 0.6205), rel=1e-9, abs=1e-6), r["enterprise"]
