"""Monte Carlo uncertainty (``core.uncertainty``, ``Study.monte_carlo``, decision record 0015): the pedigree sigma
by hand, the sampler, factor multipliers in the evaluator by hand, and the run on shipped enterprises."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from methodology.core import compute
from methodology.core import uncertainty as U
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
EAF = ROOT / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml"
WORKS_A = ROOT / "parameters" / "steel" / "sd-integrated-works-a.yaml"
UREA_A = ROOT / "parameters" / "fertilizer" / "sx-coal-gasification-a-urea.yaml"
ONES = dict.fromkeys(U.INDICATORS, 1)


def test_sigma_by_hand():
    spec = U.load_spec()
    # all scores 1: only the basic uncertainty, sigma = ln(1.05) / 2
    assert U.sigma(ONES, 1.05, spec) == pytest.approx(math.log(1.05) / 2, rel=1e-12)
    # technological 2 (U = 1.18) and reliability 3 (U = 1.61): sqrt(ln 1.05^2 + ln 1.18^2 + ln 1.61^2) / 2
    scores = ONES | {"technological": 2, "reliability": 3}
    expected = math.sqrt(math.log(1.05) ** 2 + math.log(1.18) ** 2 + math.log(1.61) ** 2) / 2
    assert U.sigma(scores, 1.05, spec) == pytest.approx(expected, rel=1e-12)
    # a weighted score of 1.5 takes half of ln(U(2)) (linear between whole scores)
    assert U.sigma(ONES | {"technological": 1.5}, 1.0, spec) == pytest.approx(math.log(1.18) / 4, rel=1e-12)


def test_draw_gives_lognormal_multipliers_with_median_one_and_the_sigma_asked():
    m = U.draw(np.array([0.0, 0.2, 0.5]), 20000, seed=7)
    assert (m[:, 0] == 1).all()
    logs = np.log(m[:, 1:])
    assert np.median(logs, axis=0) == pytest.approx([0, 0], abs=0.02)
    assert logs.std(axis=0) == pytest.approx([0.2, 0.5], rel=0.03)
    assert (U.draw(np.array([0.3]), 50, seed=3) == U.draw(np.array([0.3]), 50, seed=3)).all()  # seeded


def test_factor_multipliers_scale_exactly_that_factors_contribution():
    st = Study.prepare(EAF)
    res = st.calculate_without_brightway()
    grid = sum(x.total for x in res.by_input if x.source == "grid-cn-2023-pcf")
    tot = compute.evaluate([st.foreground] * 2, st.factors,
                           factor_multipliers={"grid-cn-2023-pcf": np.array([1.0, 2.0])})["total"]
    assert tot[0] == pytest.approx(res.gwp100_kg_co2e.total, abs=1e-5)  # the result rounds to 6 decimals
    assert tot[1] - tot[0] == pytest.approx(grid, abs=1e-5) and grid > 100


def test_what_is_sampled_and_what_is_held():
    st = Study.prepare(WORKS_A)
    names = {f"{p}.{k}" for (p, k), _ in U.sampled_data(st.enterprise)}
    assert {"coke-oven.coking_coal", "blast-furnace.pci_coal", "site-electricity-supply.grid_electricity"} <= names
    # products made and flows between the site's own processes are tied by its balances: not sampled
    assert not names & {"bof.liquid_steel", "blast-furnace.hot_metal", "bof.hot_metal", "hot-strip-mill.crude_steel"}
    # coal is to coke what the coke oven's carbon balance allows: two sigma less coal already leaves more carbon
    # in the coke than came in, so the coal is bound by the balance and held at its value
    u = st.monte_carlo(200, seed=4)
    assert u.held_by_balance == ["data:coke-oven.coking_coal"] and u.rejected <= 10


def test_monte_carlo_on_a_shipped_enterprise():
    st = Study.prepare(EAF)
    u = st.monte_carlo(400, seed=11)
    assert u.iterations + u.rejected == 400 and u.iterations > 300
    assert u.p2_5 < u.median < u.p97_5 and u.p2_5 < u.deterministic_kg_co2e < u.p97_5
    assert u.cv == pytest.approx(u.sd / u.mean, rel=1e-12) and 0.02 < u.cv < 1
    assert sum(d.share for d in u.drivers) <= 1 + 1e-9
    assert u.drivers[0].quantity in {"factor:grid-cn-2023-pcf", "data:site-electricity-supply.grid_electricity"}
    again = st.monte_carlo(400, seed=11)
    assert (again.mean, again.p97_5) == (u.mean, u.p97_5)  # reproducible from its seed
    res = st.with_uncertainty(st.calculate_without_brightway(), 50, seed=2, sobol_samples=64)
    assert res.uncertainty.iterations + res.uncertainty.rejected == 50 and res.uncertainty.spec.id == \
        "pedigree-uncertainty"
    assert res.uncertainty.sobol_base_samples == 64 and res.uncertainty.sobol[0].ST >= res.uncertainty.sobol[-1].ST
    assert st.with_uncertainty(res.model_copy(update={"uncertainty": None}), 0).uncertainty is None


def test_better_activity_data_narrow_the_interval(tmp_path):
    """The same mill with every activity datum rated 1 (measured, complete, on site, this year): only the basic
    uncertainty of the data remains, so the spread shrinks and what is left is driven by the factors."""
    from conftest import write_variant

    def measured(d):
        d["default_data_quality"] = dict.fromkeys(U.INDICATORS, 1)
        for proc in d["processes"].values():
            for flow in proc.values():
                if isinstance(flow, dict):
                    flow.pop("data_quality", None)
    better = Study.prepare(write_variant(tmp_path, EAF, measured)).monte_carlo(400, seed=11)
    base = Study.prepare(EAF).monte_carlo(400, seed=11)
    assert better.cv < base.cv
    assert better.drivers[0].quantity.startswith("factor:")


ALL = sorted((ROOT / "parameters").glob("*/*.yaml"))


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_vectorised_iterations_equal_iterations_built_one_by_one(path):
    """The affine map of the foreground (core.mc_fast) gives, row for row, what building each iteration's
    foreground and evaluating it gives, for every shipped enterprise."""
    from methodology.schema.methods import gwp_indicators

    st = Study.prepare(path)
    m = U.model(st.enterprise, st.foreground, st.factors, gwp_indicators(), U.load_spec())
    M = U.draw(m.sigmas, 60, seed=9)
    fast, rows = m.totals(M)
    slow, rows_slow = U.model(st.enterprise, st.foreground, st.factors, gwp_indicators(),
                              U.load_spec()).totals_by_building(M)
    # steel, cement and aluminium foregrounds are affine in their data (system expansion); a partition allocation
    # is not, and is then built row by row: either way the rows must agree
    assert m._affine or path.parent.name not in {"steel", "cement", "aluminium"}
    assert rows == rows_slow
    assert fast == pytest.approx(slow, rel=1e-10)
    # at 2.5 times the spread some rows break a balance (aluminium, plastics, stainless) or cross zero within the
    # rule's tolerance: the fast path rejects and builds such rows so that what it keeps is what building keeps
    m.sigmas[: m.n_data] *= 2.5
    M = U.draw(m.sigmas, 60, seed=9)
    fast, rows = m.totals(M)
    slow, rows_slow = m.totals_by_building(M)
    assert rows == rows_slow
    assert fast == pytest.approx(slow, rel=1e-10)


def test_rows_that_break_a_carbon_balance_together_are_rejected_as_building_rejects_them(tmp_path, monkeypatch):
    """The urea plant's carbon balance: the CO2 fed and the coal for steam in, the urea's carbon out. Either of the
    two at two sigma alone keeps the balance (neither is held), both low together leave more carbon in the urea
    than came in, which building rejects. The plant's CO2 entry (the balance plus the CO2 bound in the urea,
    not credited) never changes sign, so only the vectorised balances (``mc_fast.balances``) see these rows."""
    from conftest import write_variant

    from methodology.core import mc_fast
    from methodology.schema.methods import gwp_indicators

    def wide(d):
        for key in ("co2", "coal"):
            d["processes"]["urea-plant"][key]["uncertainty"] = {"gsd2": 1.7, "source": "test: a wide spread"}
    st = Study.prepare(write_variant(tmp_path, UREA_A, wide))

    def model():
        return U.model(st.enterprise, st.foreground, st.factors, gwp_indicators(), U.load_spec())
    m = model()
    assert m.held == () and {"data:urea-plant.co2", "data:urea-plant.coal"} <= set(m.names)
    M = U.draw(m.sigmas, 400, seed=9)
    fast, rows = m.totals(M)
    slow, rows_slow = model().totals_by_building(M)
    assert m._affine and rows == rows_slow and fast == pytest.approx(slow, rel=1e-10)
    broken, _ = mc_fast.balances(m._affine, M[:, : m.n_data])
    assert broken.sum() == 400 - len(rows) > 10  # what the fast path rejects is what building rejects
    assert st.monte_carlo(400, seed=9).rejected == broken.sum()  # and what the result reports
    # the two on a grid: rows that break the balance, rows within the rule's carbon tolerance (building clips the
    # balance to zero, the affine map would not: built) and rows that keep it
    G = np.ones((441, len(m.names)))
    G[:, [m.names.index(f"data:urea-plant.{k}") for k in ("co2", "coal")]] = np.stack(
        np.meshgrid(np.linspace(0.55, 1, 21), np.linspace(0.4, 1, 21)), -1).reshape(-1, 2)
    broken, crossed = mc_fast.balances(m._affine, G[:, : m.n_data])
    assert broken.any() and crossed.any() and not (broken | crossed).all()
    fast, rows = m.totals(G)
    slow, rows_slow = model().totals_by_building(G)
    assert rows == rows_slow == np.flatnonzero(~broken).tolist() and fast == pytest.approx(slow, rel=1e-10)
    # without the balances' check, the fast path keeps every row
    monkeypatch.setattr(mc_fast, "_balances", lambda aff, D: (np.zeros(len(D), bool),) * 2)
    _, blind = model().totals(M)
    assert len(blind) == 400


def test_a_partition_allocation_is_not_affine_and_is_built_row_by_row():
    from methodology.schema.methods import gwp_indicators

    st = Study.prepare(WORKS_A).with_variant(ROOT / "standards" / "steel" / "variants" / "economic-allocation.yaml")
    m = U.model(st.enterprise, st.foreground, st.factors, gwp_indicators(), U.load_spec())
    M = U.draw(m.sigmas, 20, seed=9)
    fast, rows = m.totals(M)
    assert m._affine is False  # revenue shares are ratios of amounts: the check at random points finds it
    assert fast == pytest.approx(m.totals_by_building(M)[0], rel=1e-12) and len(rows) == 20


def test_ten_thousand_iterations_by_default_and_the_compute_only_rows_carry_the_interval():
    from methodology.execution.compute_only import compute_rows

    st = Study.prepare(EAF)
    u = st.monte_carlo(seed=1)
    assert u.iterations + u.rejected == 10_000
    (row,) = compute_rows([st], monte_carlo_iterations=10_000)
    assert (row["mc_median_kg_co2e"], row["mc_p2_5_kg_co2e"], row["mc_p97_5_kg_co2e"]) == (u.median, u.p2_5, u.p97_5)
    (plain,) = compute_rows([st])
    assert plain["mc_median_kg_co2e"] is None


def test_agrees_with_brightways_own_monte_carlo_on_a_model_without_balances(tmp_path, bw_project):
    """The grinding station buys everything and derives no emission from a balance: sampling its data (workbench)
    and sampling the same exchanges in Brightway (bw2calc, use_distributions=True) must give one distribution."""
    from methodology.brightway import engine
    from methodology.schema.methods import gwp_indicators

    st = Study.prepare(ROOT / "parameters" / "cement" / "js-grinding-station-c.yaml")
    m = U.model(st.enterprise, st.foreground, st.factors, {"fossil": gwp_indicators()["fossil"]}, U.load_spec())
    m.sigmas[m.n_data:] = 0.0  # background held: Brightway's template background has no distributions
    ours, _ = m.totals(U.draw(m.sigmas, 4000, seed=1))
    sig = {(p, k): float(s) for ((p, k), _), s in zip(m.items, m.sigmas[: m.n_data], strict=True)}
    sig |= {(p, f"{k} transport ({mode})"): s for (p, k), s in list(sig.items()) for mode in ("rail", "road", "sea")}
    with engine.run_project(tmp_path, st.factors) as bd:
        engine.write_foreground(bd, st.foreground, st.factors, uncertainty=sig)
        theirs = engine.monte_carlo_scores(bd, st.foreground, 400, seed=1)
    assert np.median(theirs) == pytest.approx(np.median(ours), rel=0.04)
    assert np.percentile(theirs, 97.5) == pytest.approx(np.percentile(ours, 97.5), rel=0.1)
    assert np.std(theirs) > 0.1 * np.median(theirs)  # the distributions were really applied


def test_tornado_and_batch_views_of_the_uncertainty(tmp_path):
    from methodology.outputs import figures, summary
    from methodology.outputs.table import result_row, results_frame

    rows = []
    for p in (EAF, WORKS_A):
        st = Study.prepare(p)
        res = st.with_uncertainty(st.calculate_without_brightway(), 500, seed=1)
        rows.append(result_row(res, "steel"))
    paths = figures.save_all(res, tmp_path)
    assert paths[-1].name == "uncertainty.png" and paths[-1].stat().st_size > 1000
    assert "uncertainty.png" not in [p.name for p in figures.save_all(res.model_copy(update={"uncertainty": None}),
                                                                    tmp_path / "none")]
    df = results_frame(rows)
    t = summary.uncertainty_table(df)
    assert len(t) == 2
    assert (t["mc_p2_5_kg_co2e"] < t["mc_median_kg_co2e"]).all() and t["mc_top_driver"].notna().all()
    assert "uncertainty.png" in [p.name for p in summary.save_figures(df, tmp_path)]


def test_process_bars_keep_long_names_apart_and_laid_out(tmp_path):
    """The by-process figure of a site with eight long process names (as the stainless works and the cracker's
    'steam cracker (...): Propylene' have): every bar kept, even two of one name, the names wrapped and the figure
    grown so that the layout applies (matplotlib warned 'Tight layout not applied' and cut the plot before)."""
    import warnings

    from methodology.outputs import figures

    name = "Coal gasification, shift, acid-gas removal and ammonia synthesis, with the site's coal-fired boilers"
    items = [{"name": f"{name} {i}", "total": float(i)} for i in range(7)] + [{"name": f"{name} 6", "total": 9.0}]
    ax = figures.new_axes()
    figures.breakdown_bars({"by_process": items}, "by_process", ax, "By process")
    assert len(ax.patches) == 8 and len(ax.get_yticklabels()) == 8
    assert all(len(line) <= figures.LABEL_WIDTH for t in ax.get_yticklabels() for line in t.get_text().split("\n"))
    assert ax.figure.get_size_inches()[1] > 4.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert figures.save_png(ax.figure, tmp_path / "processes.png").stat().st_size > 1000


def test_uncertainty_as_given_replaces_the_pedigrees(tmp_path):
    """A value or a factor may state its own lognormal (gsd2, with its source); a tiny one everywhere leaves the
    Monte Carlo mean at the deterministic result."""
    from conftest import write_variant

    def given(d):
        for proc in d["processes"].values():
            for flow in proc.values():
                if isinstance(flow, dict) and "value" in flow:
                    flow.pop("data_quality", None)
                    flow["uncertainty"] = {"gsd2": 1.0001, "source": "test: near certain"}
    factors = write_variant(tmp_path, ROOT / "standards" / "factors" / "cn-core.yaml", lambda d: [
        f.update(uncertainty={"gsd2": 1.0001, "source": "test"}) for f in d["factors"]], "cn-core.yaml")
    st = Study.prepare(write_variant(tmp_path, EAF, given), factor_file=factors)
    u = st.monte_carlo(2000, seed=3)
    assert u.mean == pytest.approx(u.deterministic_kg_co2e, rel=1e-4)
    assert u.p97_5 / u.p2_5 < 1.002
    from methodology.schema.methods import gwp_indicators
    m = U.model(st.enterprise, st.foreground, st.factors, gwp_indicators(), U.load_spec())
    assert m.sigmas == pytest.approx(math.log(1.0001) / 2)
