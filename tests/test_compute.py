"""Compute-only mode: many enterprises stacked, one factorisation, the same figures as one by one; the
vectorised attribution equals the one run on Brightway's matrices (``matrix.first_tier_contributions``).
Equality with Brightway itself, figure by figure: ``test_engine``."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import ENTERPRISES

from methodology.core import compute
from methodology.core.contributions import Contributions
from methodology.core.foreground import build_foreground
from methodology.core.matrix import Matrices, first_tier_contributions
from methodology.core.results import INDICATORS
from methodology.execution.compute_only import compute_rows
from methodology.outputs.table import result_row
from methodology.schema.parameters import EnterpriseData
from methodology.study import Study, gwp_indicators

REL = 1e-9
# result.json rounds every figure to 1e-6 kg. Two exact evaluations that differ by ~1e-13 kg round to
# neighbouring 1e-6 steps when the value sits on a rounding tie, and the shipped data has one: mill B's
# "CO2e (unspecified gases)" is 356.9206025 to 1e-13. So rounded columns may differ by one rounding step
# (plus the float error of that step); the unrounded figures are compared tightly below.
ABS = 1e-6 * (1 + 1e-6)
EAF = next(p for p in ENTERPRISES if "scrap-eaf" in p.name)
GRID = ("site-electricity-supply", "grid_electricity")


@pytest.fixture(scope="module")
def studies() -> list[Study]:
    return [Study.prepare(p) for p in ENTERPRISES]


def _assert_same_row(row: dict, ref: dict) -> None:
    assert set(row) == set(ref), set(row) ^ set(ref)
    for key, expected in ref.items():
        if isinstance(expected, float) and not isinstance(expected, bool):
            assert row[key] == pytest.approx(expected, rel=REL, abs=ABS), key
        else:
            assert row[key] == expected, key


def test_rows_of_three_enterprises_stacked_equal_each_alone(studies):
    rows = compute_rows(studies)
    assert len(rows) == len(studies)
    for study, row in zip(studies, rows, strict=True):
        _assert_same_row(row, result_row(study.calculate_without_brightway(), "steel"))
        alone = compute_rows([study])[0]
        _assert_same_row(row, alone)
    assert {r["enterprise"] for r in rows} == {s.enterprise.params.enterprise.id for s in studies}


def _keyed(c: Contributions) -> dict[tuple, float]:
    """kg per (process, source, origin, gas): the rows of a table, whatever their order."""
    out: dict[tuple, float] = {}
    for r in c.rows(gwp_indicators()):
        key = (r["process"], r["source"], r["origin"], r["gas"])
        assert key not in out, key  # one row per first-tier exchange and gas
        out[key] = r["kg"]
    return out


def _generic(st: compute.Stacked, fg) -> Contributions:
    """``matrix.first_tier_contributions`` (the attribution run on Brightway's matrices) on one stacked enterprise."""
    m = Matrices(st.A, st.B, st.activities, list(st.flows), st.F.toarray()[:, 0])
    return first_tier_contributions(m, fg)


def test_vectorised_contributions_equal_the_generic_attribution(studies):
    st = compute.stack([s.foreground for s in studies], studies[0].factors)
    tables = compute.contributions(st, compute.scaling(st))
    for study, table in zip(studies, tables, strict=True):
        fg = study.foreground
        ref = _generic(compute.stack([fg], study.factors), fg)
        got, expected = _keyed(table), _keyed(ref)
        assert set(got) == set(expected), set(got) ^ set(expected)
        for key, kg in expected.items():
            assert got[key] == pytest.approx(kg, rel=1e-12, abs=1e-12), key
        assert table.scaling == pytest.approx(ref.scaling, rel=1e-12)
        assert list(table.scaling) == list(fg.processes)
        # every origin, source and gas the foreground can give appears, with direct emissions among them
        assert {k[2] for k in got} >= {"direct", "electricity", "upstream"} and ("direct" in table.sources)


def test_evaluate_is_the_sum_of_the_contributions(studies):
    fgs, fs = [s.foreground for s in studies], studies[0].factors
    totals = compute.evaluate(fgs, fs)
    st = compute.stack(fgs, fs)
    for e, table in enumerate(compute.contributions(st, compute.scaling(st))):
        names, values = table.characterised(gwp_indicators())
        for ind in INDICATORS:
            assert totals[ind][e] == pytest.approx(values[names.index(ind)].sum(), rel=1e-12, abs=1e-9)
        assert totals["total"][e] == pytest.approx(values.sum(), rel=1e-12)
        assert totals["total"][e] == pytest.approx(studies[e].calculate_without_brightway().gwp100_kg_co2e.total,
                                                   rel=1e-12, abs=1e-6)


def _variant(base: Study, k: float, grid: float) -> Study:
    """Every activity datum times k, then the purchased grid electricity alone times ``grid``."""
    ed = base.enterprise.scaled(k)
    data = dict(ed.data)
    data[GRID] = dataclasses.replace(data[GRID], amount=data[GRID].amount * grid)
    ed = EnterpriseData(ed.params, ed.rule, ed.processes, data, ed.electricity_factor)
    return Study(base.rule, base.factors, ed, build_foreground(ed, base.factors), base.parameter_file)


@pytest.fixture
def splu_calls(monkeypatch) -> list[tuple[int, int]]:
    """Shapes of the matrices factorised through ``scipy.sparse.linalg.splu`` as imported in compute."""
    calls: list[tuple[int, int]] = []
    real = compute.splu

    def spy(A, *args, **kwargs):
        calls.append(A.shape)
        return real(A, *args, **kwargs)

    monkeypatch.setattr(compute, "splu", spy)
    return calls


def test_sixty_enterprises_one_factorisation_and_scale_invariance(studies, splu_calls):
    base = Study.prepare(EAF)
    grids = [1.0, 1.05, 1.1, 1.2, 1.35, 1.5]
    scales = [0.25, 0.5, 0.8, 1.0, 1.3, 1.7, 2.0, 2.5, 3.0, 4.0]
    generated = [_variant(base, k, g) for g in grids for k in scales]
    assert len(generated) == 60

    totals = compute.evaluate([s.foreground for s in generated], base.factors)
    assert len(splu_calls) == 1
    n = splu_calls[0][0]
    assert splu_calls[0] == (n, n) and n > sum(len(s.foreground.processes) for s in generated)

    by_grid = totals["total"].reshape(len(grids), len(scales))
    # pure scaling of every datum leaves the footprint per declared unit unchanged
    for row in by_grid:
        assert row == pytest.approx(np.full(len(scales), row[0]), rel=REL)
    # the varied input: each extra unit of grid electricity adds its factor's CO2e / annual crude steel
    ed = base.enterprise
    fac = base.factors.get(ed.electricity_factor)
    co2e = sum(kg * sum(t.get(gas.value, 0.0) for t in gwp_indicators().values())
               for gas, kg in fac.emissions_kg().items())
    per_extra = ed.data[GRID].amount * co2e / ed.amount("continuous-casting", "crude_steel")
    expected = by_grid[0, 0] + (np.array(grids) - 1.0) * per_extra
    assert by_grid[:, 0] == pytest.approx(expected, rel=REL)
    assert np.all(np.diff(by_grid[:, 0]) > 0)
    assert by_grid[0, 0] == pytest.approx(base.calculate_without_brightway().gwp100_kg_co2e.total, rel=REL)

    before = len(splu_calls)
    rows = compute_rows(generated)
    assert len(splu_calls) == before + 1  # one more factorisation for one more call with one factor set
    assert [r["gwp100_total_kg_co2e"] for r in rows] == pytest.approx(totals["total"], rel=REL, abs=ABS)
    for i in (0, 17, 59):
        _assert_same_row(rows[i], result_row(generated[i].calculate_without_brightway(), "steel"))


def test_studies_with_different_factor_sets_are_stacked_per_set(studies, splu_calls):
    fs = studies[1].factors
    other = dataclasses.replace(studies[1], factors=type(fs).model_validate(fs.model_dump()))  # no file, no sha256
    assert compute.factor_set_key(other.factors) != compute.factor_set_key(studies[0].factors)
    rows = compute_rows([studies[0], other, studies[2]])
    assert len(splu_calls) == 2
    assert [r["enterprise"] for r in rows] == [s.enterprise.params.enterprise.id for s in studies[:3]]
    unfiled = {"factor_set_sha256": None}  # the copy was read from no file: its sha256 is empty, all else equal
    _assert_same_row(rows[1] | unfiled, result_row(studies[1].calculate_without_brightway(), "steel") | unfiled)


def test_mixture_of_routes_equals_each_route_alone(studies):
    assert {s.foreground.route for s in studies} == {"bf-bof", "scrap-eaf", "dri-eaf", "stainless-eaf-aod",
                                                     "stainless-converter"}
    fs = studies[0].factors
    mixed = compute.stack([s.foreground for s in studies], fs)
    tables = compute.contributions(mixed, compute.scaling(mixed))
    for study, table in zip(studies, tables, strict=True):
        alone = compute.stack([study.foreground], fs)
        (one,) = compute.contributions(alone, compute.scaling(alone))
        got, expected = _keyed(table), _keyed(one)
        assert set(got) == set(expected)
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)
    together = compute.evaluate([s.foreground for s in studies], fs)
    reversed_order = compute.evaluate([s.foreground for s in reversed(studies)], fs)
    for e, study in enumerate(studies):
        alone = compute.evaluate([study.foreground], fs)
        for key in (*INDICATORS, "total"):
            assert together[key][e] == pytest.approx(alone[key][0], rel=1e-12)
            assert reversed_order[key][len(studies) - 1 - e] == pytest.approx(alone[key][0], rel=1e-12)


def test_scaling_matrix_is_a_inverse_f(studies):
    st = compute.stack([s.foreground for s in studies], studies[0].factors)
    S = compute.scaling(st)
    assert S.shape == (st.A.shape[0], len(studies))
    residual = (st.A @ S - st.F).toarray()
    assert np.abs(residual).max() <= 1e-12 * np.abs(st.F.toarray()).max()
    for e in range(len(studies)):  # column e lives on e's own block and the background only
        rows = S[:, [e]].tocoo().row
        own = (rows >= st.offsets[e]) & (rows < st.offsets[e + 1])
        assert np.all(own | (rows >= st.n_foreground))


def test_column_by_column_fallback_gives_the_same_scaling(studies, monkeypatch):
    fgs = [s.foreground for s in studies]
    fast = compute.evaluate(fgs, studies[0].factors)
    monkeypatch.setattr(compute, "_keeps_blocks", lambda lu: False)
    monkeypatch.setattr(compute, "SOLVE_CHUNK_VALUES", 1)  # one column per solve
    slow = compute.evaluate(fgs, studies[0].factors)
    for key in fast:
        assert slow[key] == pytest.approx(fast[key], rel=1e-12)


def test_nothing_to_stack():
    fs = Study.prepare(EAF).factors
    assert all(v.shape == (0,) for v in compute.evaluate([], fs).values())
    assert compute_rows([]) == []


def test_gwp_method_file_is_read_once(studies, monkeypatch):
    from methodology.schema import methods

    methods._tables.cache_clear()
    first = gwp_indicators()
    monkeypatch.setattr(methods, "load_method", lambda *a, **k: pytest.fail("GWP method file read again"))
    assert gwp_indicators() is first
    assert studies[2].calculate_without_brightway().gwp100_kg_co2e.total > 0
    with pytest.raises(TypeError):
        first["fossil"]["co2_fossil"] = 2.0  # the shared tables are read-only
