"""Traceability and factor quality (issue 14 items 7-8, decision record 0009): every contribution of every shipped
enterprise names its factor, the factor's sources and their verification, and the rule's clauses; the shares of
the footprint by what it rests on, against a hand calculation; the factor pedigree read off hand-built factors;
the combined data-quality rating and the rule's limit applied to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ENTERPRISES, FACTORS, RULE, write_variant

from methodology.core import factor_quality as fq
from methodology.core.factor_quality import Use
from methodology.core.traceability import UseFlags, shares
from methodology.outputs import report
from methodology.outputs.table import result_row
from methodology.schema.factors import Factor, Source
from methodology.study import Study


@pytest.fixture(scope="module", params=ENTERPRISES, ids=lambda p: p.stem)
def shipped(request):
    study = Study.prepare(request.param)
    return study, study.calculate_without_brightway()


def _check_values(result, factors, fid: str, kinds: tuple[str, ...]) -> bool:
    """The factor is in factors_used as the factor set has it, each kind of value used cites sources that are in
    sources_used with their verification; returns whether all of them are verified."""
    used = result.factors_used[fid]
    f = factors.get(fid)
    assert (used.name, used.status, used.limitations, used.geography, used.period) == (
        f.name, f.status, f.limitations, f.geography, f.period), fid
    values = [getattr(used, k) for k in kinds if getattr(used, k) is not None]
    assert values, f"{fid}: none of {kinds} recorded"
    for v in values:
        assert v.sources, fid
        for key in v.sources:
            src = result.sources_used[key]
            assert src.verified is factors.sources[key].verified and src.document == factors.sources[key].document
        assert v.verified is all(result.sources_used[k].verified for k in v.sources), fid
    return all(v.verified for v in values)


def test_every_input_row_names_factor_source_verification_and_clause(shipped):
    study, result = shipped
    rule, factors = study.rule, study.factors
    assert result.by_input
    for row in result.by_input:  # every row, not one
        where = f"{result.enterprise.id} by_input {row.source}"
        if row.source == "direct":
            assert row.factor is None, where
        else:
            assert row.factor == row.source and row.factors == [row.source], where
        assert row.factors, where  # the shipped enterprises measure no carbon content: every row rests on factors
        kinds = ("emissions", "properties") if row.source == "direct" else ("emissions",)
        verified = [_check_values(result, factors, fid, kinds) for fid in row.factors]
        assert row.verified is all(verified), where
        assert row.processes and set(row.processes) <= set(result.process_scaling), where
        assert row.clauses, where
        for c in row.clauses:
            assert c.edition == rule.standards[c.standard].edition, where
        process_clauses = {(c.standard, c.clause) for p in row.processes
                           for c in rule.process_by_id[p.split("::")[0]].clause}
        assert process_clauses <= {(c.standard, c.clause) for c in row.clauses}, where


def test_every_mechanism_names_its_factors_and_process_clauses(shipped):
    study, result = shipped
    assert result.direct_emissions
    for d in result.direct_emissions:
        assert [(c.standard, c.clause, c.note) for c in d.clauses] == [
            (c.standard, c.clause, c.note) for c in study.rule.process_by_id[d.process].clause]
        for fid in d.factors:
            _check_values(result, study.factors, fid, ("emissions", "properties"))
        if d.mechanism == "process_factor":
            assert d.factors == [d.detail["factor"]]
            assert result.factors_used[d.detail["factor"]].emissions is not None
    bf = [d for d in result.direct_emissions if d.process == "blast-furnace" and d.mechanism == "carbon_balance"]
    if bf:  # the BF carbon balance rests on the carbon contents of coke and PCI coal (none measured)
        assert {"coke", "pci-coal"} <= set(bf[0].factors)
        coke = study.factors.get("coke").properties
        cited = {v.source for v in (coke.net_calorific_value, coke.carbon_content, coke.carbon_per_energy,
                                    coke.oxidation_rate) if v is not None}
        assert set(result.factors_used["coke"].properties.sources) == cited


def test_traceability_shares_are_consistent(shipped):
    _, result = shipped
    t = result.traceability
    assert t.verified_share + t.unverified_share + t.no_factor_share == pytest.approx(1, abs=1e-5)
    for share in (t.partial_share, t.proxy_share, t.illustrative_share):
        assert 0 <= share <= 1
    assert t.absolute_kg_co2e >= abs(result.gwp100_kg_co2e.total) - 1e-6
    assert t.unverified_sources == sorted(k for k, s in result.sources_used.items() if not s.verified)
    # the table carries the shares and scores (fractions of absolute contributions; pedigree 1-5)
    row = result_row(result)
    assert row["trace_verified_share"] == t.verified_share and row["trace_partial_share"] == t.partial_share
    assert row["dq_combined_score"] == result.data_quality.combined_score


def test_shares_against_a_hand_calculation():
    a, b, c = ("a", Use.emissions), ("b", Use.emissions), ("c", Use.properties)
    flags = {a: UseFlags(verified=True, partial=True), b: UseFlags(verified=False, proxy=True, illustrative=True),
             c: UseFlags(verified=True)}
    rows = [(100.0, [a]), (-50.0, [b]), (30.0, []), (20.0, [a, c]), (-10.0, [b, c])]
    # |100| + |-50| + |30| + |20| + |-10| = 210 kg CO2e
    got = shares(rows, flags)
    assert got == pytest.approx({
        "absolute_kg_co2e": 210.0,
        "verified": (100 + 20) / 210,  # every factor verified
        "unverified": (50 + 10) / 210,  # b is not
        "no_factor": 30 / 210,
        "partial": (100 + 20) / 210,  # rows resting on a
        "proxy": (50 + 10) / 210,  # rows resting on b
        "illustrative": (50 + 10) / 210,
    })
    assert shares([], flags)["verified"] == 0.0


# --- the factor pedigree (factor_quality) on hand-built factors -----------------------------------------
SOURCES = {
    "checked": Source(document="d", edition="1", publisher="p", year=2024, verified=True),
    "unchecked": Source(document="d", edition="1", publisher="p", year=2006, verified=False),
}


def _factor(**kw) -> Factor:
    base = {"id": "x", "name": "x", "category": "material", "reference_unit": "t", "geography": "CN",
            "period": "2024", "status": "published", "note": "hand-built",
            "emissions": [{"gas": "co2_fossil", "value": 1, "unit": "kg/t", "source": "checked"}]}
    return Factor.model_validate(base | kw)


def _pedigree(f: Factor, use: Use = Use.emissions, province: str = "Shandong", years=(2024, 2024)) -> dict:
    return fq.factor_pedigree(f, use, SOURCES, province=province, years=years)


def test_pedigree_of_a_verified_published_factor_for_the_province():
    f = _factor(geography="CN-SD")
    assert _pedigree(f) == {"technological": 2, "temporal": 1, "geographical": 1, "completeness": 2,
                            "reliability": 1}
    assert _pedigree(f, province="Hebei")["geographical"] == 3  # another province: containment not checked
    assert _pedigree(_factor(geography="CN"))["geographical"] == 2
    assert _pedigree(_factor(geography="GLO"))["geographical"] == 2  # a larger area including China


def test_pedigree_of_a_partial_proxy_unverified_old_factor():
    f = _factor(geography="GB", period="2006-2010", status="derived", limitations=["partial", "proxy"],
                emissions=[{"gas": "co2_fossil", "value": 1, "unit": "kg/t", "source": "unchecked",
                            "derivation": "hand-built"}])
    # 2024 - 2010 = 14 years: temporal 4 (< 15); GB: another country 4; partial: completeness 4; proxy:
    # technological 4; derived from an unverified source: reliability 3
    assert _pedigree(f) == {"technological": 4, "temporal": 4, "geographical": 4, "completeness": 4,
                            "reliability": 3}
    assert _pedigree(f, years=(2026, 2026))["temporal"] == 5  # 16 years
    glo_proxy = _factor(geography="GLO", limitations=["proxy"])
    assert _pedigree(glo_proxy)["geographical"] == 3  # a proxy is at least 3


def test_pedigree_of_properties_ignores_the_emission_flags():
    f = _factor(status="illustrative", limitations=["partial"],
                properties={"carbon_content": {"value": 0.5, "unit": "t/t", "source": "checked"}})
    assert _pedigree(f)["reliability"] == 5 and _pedigree(f)["completeness"] == 4
    props = _pedigree(f, Use.properties)
    assert (props["reliability"], props["completeness"], props["technological"]) == (1, 2, 2)
    derived = _factor(properties={"carbon_content": {"value": 0.5, "unit": "t/t", "source": "checked",
                                                     "derivation": "a x b"}})
    assert _pedigree(derived, Use.properties)["reliability"] == 2


@pytest.mark.parametrize("period, start, end, years, score", [
    ("2023", 2024, 2024, 1, 1), ("2006-2020", 2024, 2024, 4, 2), ("2006", 2024, 2024, 18, 5),
    ("2021-2023", 2022, 2022, 0, 1), ("2030", 2024, 2024, 6, 3), ("2014", 2024, 2024, 10, 4)])
def test_temporal_score_counts_years_between_periods(period, start, end, years, score):
    assert fq.years_apart(period, start, end) == years
    assert fq.temporal_score(years) == score


def test_combined_rating_is_the_worse_of_activity_and_factor():
    activity = {"technological": 1, "temporal": 1, "geographical": 3, "completeness": 2, "reliability": 2}
    factor = {"technological": 2, "temporal": 5, "geographical": 2, "completeness": 4, "reliability": 1}
    assert fq.combine(activity, factor) == {"technological": 2, "temporal": 5, "geographical": 3,
                                            "completeness": 4, "reliability": 2}
    assert fq.combine(activity, None) == activity and fq.combine(None, factor) == factor
    assert fq.combine(None, None) is None
    assert fq.score(fq.combine(activity, factor)) == pytest.approx(16 / 5)


def test_rule_limit_applies_to_the_combined_score(tmp_path):
    """Works A: activity data score 1.44, combined with its factors 2.78; a rule asking for at most 2.0 fails it
    on the combined score, which the finding names."""
    def mutate(d):
        d["data_quality"]["max_weighted_score"] = 2.0

    bfbof = next(p for p in ENTERPRISES if "integrated" in p.name)
    variant = write_variant(tmp_path, RULE, mutate)
    dq = Study.prepare(bfbof, variant, FACTORS).calculate_without_brightway().data_quality
    assert dq.weighted_score < 2.0 < dq.combined_score
    assert dq.combined_score == pytest.approx(fq.score(dq.combined_indicators.model_dump()), abs=1e-3)
    assert not dq.meets_rule
    assert dq.findings == [f"combined weighted data-quality score (activity data and factors) "
                           f"{dq.combined_score:.2f} exceeds the rule's 2.0"]
    for k in fq.DQ_INDICATORS:  # per row the worse of the two: never better than either weighted alone
        assert getattr(dq.combined_indicators, k) >= getattr(dq.weighted_indicators, k) - 1e-3
        assert getattr(dq.combined_indicators, k) >= getattr(dq.factor_indicators, k) - 1e-3
    assert sum(x.weight_share for x in dq.by_input) == pytest.approx(1, abs=1e-5)


def test_report_tables_show_factors_sources_and_verified_share(shipped):
    _, result = shipped
    text = report.traceability_text(result)
    assert f"{result.traceability.verified_share:.1%}" in text
    table = report.factors_table(result)
    assert list(table["factor"]) and set(table["factor"]) == set(result.factors_used)
    assert {"status", "limitations", "sources", "verified", "pedigree score"} <= set(table.columns)
    sources = report.sources_table(result)
    assert set(sources["source"]) == set(result.sources_used)
    dq = report.data_quality_table(result)
    assert list(dq.columns) == ["indicator", "activity data", "factors", "combined"]


# --- what a mechanism rests on, on the toy rule (every mechanism type; not steel) ------------------------------
TOY = Path(__file__).resolve().parent / "fixtures" / "toy"


def _toy(tmp_path, product: str, mutate=None):
    def change(d):
        d["product"] = product
        if mutate:
            mutate(d)

    plant = write_variant(tmp_path, TOY / "parameters" / "toy-plant.yaml", change)
    return Study.prepare(plant, TOY / "standards" / "toy" / "pcr-toy.yaml",
                         TOY / "standards" / "factors" / "toy-factors.yaml").calculate_without_brightway()


def _factors_of(result, process: str) -> dict[str, list[str]]:
    return {d.mechanism: d.factors for d in result.direct_emissions if d.process == process}


def test_mechanisms_name_the_factors_they_used_and_not_measured_values(tmp_path):
    lime = _toy(tmp_path, "lime")
    # the carbon balance excludes the limestone (calcination counts it) and burns the gas; the calcination of the
    # carbonates fed uses the limestone's carbon content
    assert _factors_of(lime, "lime-kiln") == {"carbon_balance": ["toy-gas"], "calcination": ["toy-limestone"]}
    assert lime.factors_used["toy-limestone"].properties is not None

    def measured(d):
        d["processes"]["lime-kiln"]["limestone"]["carbon_content"] = {"value": 0.12, "unit": "t/t", "source": "lab"}

    lab = _toy(tmp_path, "lime", measured)
    assert _factors_of(lab, "lime-kiln") == {"carbon_balance": ["toy-gas"], "calcination": []}
    clinker = _toy(tmp_path, "clinker")
    # combustion rests on the coal's factor; calcination on the oxides basis on parameters only
    assert _factors_of(clinker, "kiln") == {"combustion": ["toy-coal"], "calcination": []}
