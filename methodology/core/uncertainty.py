"""Monte Carlo uncertainty of a footprint from the quality of its data (decision record 0015).

Each uncertain quantity, an activity datum of the parameter file or the emissions of a background factor, is
lognormal with its deterministic value as median and a geometric standard deviation from its pedigree scores
(the ecoinvent pedigree approach, Weidema et al. 2013 section 10; the uncertainty factors and basic uncertainties
are data, ``standards/uncertainty/pedigree-uncertainty.yaml``)::

    sigma = sqrt( ln(U_basic)^2 + sum_i ln(U_i(score_i))^2 ) / 2        GSD^2 = exp(2 sigma)

The multipliers are drawn with ``stats_arrays`` (Brightway's random number machinery). Each iteration rebuilds
the enterprise's foreground from its perturbed data (the carbon balances, process gases and allocation follow
the data, so correlated quantities stay consistent) and all iterations are evaluated together by the fast
evaluator, one factorisation for all (``compute.evaluate`` with per-iteration factor multipliers).

Pure functions and numpy only; the study facade (``Study.monte_carlo``) orchestrates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field

from methodology.errors import InputFileError
from methodology.schema.common import SEMVER, FileBacked, Strict
from methodology.schema.loading import model_loader

INDICATORS = ("technological", "temporal", "geographical", "completeness", "reliability")
METHOD = ("Monte Carlo: activity data and background factor emissions lognormal around their values, sigma from "
          "their pedigree scores and basic uncertainty (ecoinvent pedigree approach); each iteration rebuilds the "
          "foreground (balances, process gases, allocation) and all are evaluated with one factorisation")
NOT_SAMPLED = ("carbon contents, calorific values and oxidation rates (factor properties and measured values), rule "
               "parameters and defaults, characterisation factors, and the choice of model (rule, allocation)")
DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "standards" / "uncertainty" / "pedigree-uncertainty.yaml"


class _Header(Strict):
    id: str
    version: str = Field(pattern=SEMVER)
    title: str


class PedigreeFactors(Strict):
    source: str
    verified: bool = False
    technological: tuple[float, float, float, float, float]
    temporal: tuple[float, float, float, float, float]
    geographical: tuple[float, float, float, float, float]
    completeness: tuple[float, float, float, float, float]
    reliability: tuple[float, float, float, float, float]


class BasicUncertainty(Strict):
    source: str
    verified: bool = False
    activity_data: float = Field(ge=1)
    transport_tkm: float = Field(ge=1)
    factor_categories: dict[str, float]


class UncertaintySpec(FileBacked):
    uncertainty: _Header
    pedigree_factors: PedigreeFactors
    basic_uncertainty: BasicUncertainty


_load = model_loader(UncertaintySpec, InputFileError)


def load_spec(path: str | Path = DEFAULT_SPEC) -> UncertaintySpec:
    return _load(path)


def _ln_factor(table: Sequence[float], score: float) -> float:
    """ln(U) at a score 1..5, linear between whole scores (weighted ratings are not whole)."""
    s = min(max(float(score), 1.0), 5.0)
    lo = int(math.floor(s))
    hi = min(lo + 1, 5)
    a, b = math.log(table[lo - 1]), math.log(table[hi - 1])
    return a + (b - a) * (s - lo)


def sigma(scores: Mapping[str, float], basic: float, spec: UncertaintySpec) -> float:
    """The lognormal sigma (of ln) of a quantity with these pedigree scores and basic uncertainty factor."""
    terms = [math.log(basic)] + [_ln_factor(getattr(spec.pedigree_factors, k), scores[k]) for k in INDICATORS]
    return math.sqrt(sum(t * t for t in terms)) / 2


def draw(sigmas: np.ndarray, iterations: int, seed: int) -> np.ndarray:
    """(iterations x quantities) lognormal multipliers with median 1, drawn with stats_arrays."""
    import stats_arrays as sa

    sigmas = np.asarray(sigmas, dtype=float)
    out = np.ones((iterations, len(sigmas)))
    live = np.flatnonzero(sigmas > 0)
    if iterations and len(live):
        params = sa.UncertaintyBase.from_dicts(*[{"uncertainty_type": sa.LognormalUncertainty.id, "loc": 0.0,
                                                   "scale": float(sigmas[i])} for i in live])
        gen = sa.MCRandomNumberGenerator(params, seed=seed)
        out[:, live] = np.array([next(gen) for _ in range(iterations)]).reshape(iterations, len(live))
    return out


@dataclass(frozen=True)
class Statistics:
    iterations: int
    mean: float
    median: float
    sd: float
    p2_5: float
    p97_5: float

    @property
    def cv(self) -> float:
        return self.sd / self.mean if self.mean else float("nan")


def statistics(samples: np.ndarray) -> Statistics:
    x = np.asarray(samples, dtype=float)
    return Statistics(iterations=len(x), mean=float(x.mean()), median=float(np.median(x)),
                      sd=float(x.std(ddof=1)) if len(x) > 1 else 0.0,
                      p2_5=float(np.percentile(x, 2.5)), p97_5=float(np.percentile(x, 97.5)))


def contribution_to_variance(samples: np.ndarray, multipliers: np.ndarray, names: Sequence[str], top: int = 10
                             ) -> list[tuple[str, float]]:
    """Which uncertain quantities drive the spread: the squared Spearman rank correlation of each quantity's
    multiplier with the total, normalised to sum to 1 over all quantities (a first screening; Sobol indices are
    the global measure)."""
    from scipy.stats import spearmanr

    if len(samples) < 3 or multipliers.shape[1] == 0:
        return []
    rho = np.array([0.0 if np.ptp(multipliers[:, j]) == 0 else spearmanr(multipliers[:, j], samples).statistic
                    for j in range(multipliers.shape[1])])
    r2 = np.nan_to_num(rho) ** 2
    share = r2 / r2.sum() if r2.sum() > 0 else r2
    order = np.argsort(-share)[:top]
    return [(names[j], float(share[j])) for j in order if share[j] > 0]


@dataclass(frozen=True)
class MonteCarlo:
    """The samples of one enterprise's total and what was sampled (``run``)."""

    samples: np.ndarray  # kg CO2e per declared unit, one per accepted iteration
    rejected: int  # iterations whose sampled data are physically impossible (e.g. more carbon out than in)
    names: tuple[str, ...]  # the uncertain quantities: "data:<process>.<key>" and "factor:<id>"
    sigmas: np.ndarray
    multipliers: np.ndarray  # accepted iterations x quantities
    seed: int
    spec: UncertaintySpec
    held: tuple[str, ...] = ()  # data bound by the site's carbon balances, held at their values


def _factor_sigmas(ed, fg, factors, spec: UncertaintySpec) -> tuple[list[str], list[float]]:
    from methodology.core import factor_quality as fq

    period = ed.params.reference_period
    basic = spec.basic_uncertainty.factor_categories
    names, sig = [], []
    for fid in fg.background_factors():
        f = factors.get(fid)
        scores = fq.factor_pedigree(f, fq.Use.emissions, factors.sources, province=ed.params.enterprise.province,
                                    years=(period.start.year, period.end.year))
        names.append(f"factor:{fid}")
        sig.append(f.uncertainty.sigma if f.uncertainty else sigma(scores, basic.get(f.category.value, 1.0), spec))
    return names, sig


def _evaluate(fgs, factors, cfs, factor_mult: np.ndarray, f_names: list[str]) -> np.ndarray:
    from methodology.core import compute

    if not fgs:
        return np.empty(0)
    mult = {fid.removeprefix("factor:"): factor_mult[:, j] for j, fid in enumerate(f_names)}
    return compute.evaluate(fgs, factors, cfs, factor_multipliers=mult)["total"]


SAMPLED_KINDS = frozenset({"material", "fuel", "grid_electricity", "coproduct", "carbon_output"})


def sampled_data(ed) -> list[tuple[tuple[str, str], object]]:
    """The reported data that are sampled: what the site buys (materials, fuels, grid electricity, intermediates
    it does not make) and what leaves it besides its products (co-products, carbon-bearing residues). As in
    ecoinvent, a process's reference output carries no uncertainty; flows between the site's own processes
    (intermediate products and process gases made on site) are tied to the amounts made by the site's balances
    and are held at their values (decision record 0015)."""
    rule = ed.rule
    made = {f.product for p in ed.processes for f in rule.process_by_id[p].products}
    out = []
    for (p, k), d in sorted(ed.data.items()):
        spec = rule.process_by_id[p].flow_by_key.get(k)
        kind = spec.kind.value if spec is not None else "material"
        if kind in SAMPLED_KINDS or (kind == "intermediate" and spec.product not in made):
            out.append(((p, k), d))
    return out


@dataclass
class Model:
    """The uncertain quantities of one enterprise and how to evaluate its total for rows of multipliers."""

    ed: object
    factors: object
    cfs: Mapping
    items: list  # ((process, key), Datum) sampled
    names: tuple[str, ...]  # "data:<process>.<key>" then "factor:<id>"
    sigmas: np.ndarray
    held: tuple[str, ...]  # data held at their values because the site's carbon balances bind them
    _affine: object = None  # mc_fast.Affine, False when the foreground is not affine in the data, None: not tried

    @property
    def n_data(self) -> int:
        return len(self.items)

    def foreground(self, row: np.ndarray):
        """The foreground from one row of multipliers (data part), or None if its data are physically impossible."""
        from dataclasses import replace

        from methodology.core.balances import enterprise_balances
        from methodology.core.foreground import build_foreground
        from methodology.errors import MethodologyError

        ed = self.ed
        data = dict(ed.data) | {key: replace(d, amount=d.amount * x, tkm={m: t * x for m, t in d.tkm.items()})
                                for (key, d), x in zip(self.items, row[: self.n_data], strict=True)}
        edi = replace(ed, data=data)
        try:  # the rule's balance checks judge reported data, not sampled data: only impossibilities stop a row
            return build_foreground(edi, self.factors, enterprise_balances(edi).process_gases)
        except MethodologyError:
            return None

    def totals(self, M: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """The total of every row of ``M`` that can be evaluated, and the indices of those rows: vectorised
        (``mc_fast``) where the foreground is affine in the sampled data, rows it does not cover built one by
        one (``totals_by_building``)."""
        from methodology.core import mc_fast

        if self._affine is None:
            probes = M[: min(3, len(M)), : self.n_data]
            self._affine = mc_fast.affine(self, list(self.names[self.n_data:]), self.cfs, probes=probes) or False
        if self._affine is False:
            return self.totals_by_building(M)
        y, other = mc_fast.totals(self._affine, M[:, : self.n_data], M[:, self.n_data:])
        if other.any():
            idx = np.flatnonzero(other)
            built, rows = self.totals_by_building(M[idx])
            y[idx[rows]] = built
        keep = np.flatnonzero(~np.isnan(y))
        return y[keep], keep.tolist()

    def totals_by_building(self, M: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """As ``totals``, every row's foreground built from its data (the reference the fast path is tested on)."""
        from methodology.errors import MethodologyError

        fgs, rows = [], []
        for i in range(len(M)):
            fg = self.foreground(M[i])
            if fg is not None:
                fgs.append(fg)
                rows.append(i)
        f_names = list(self.names[self.n_data:])
        try:
            return _evaluate(fgs, self.factors, self.cfs, M[rows, self.n_data:], f_names), rows
        except MethodologyError:  # some sampled system cannot be solved: find it, one row at a time
            keep = [p for p in range(len(fgs)) if _solvable(fgs[p], self, M[[rows[p]], self.n_data:], f_names)]
            fgs, rows = [fgs[p] for p in keep], [rows[p] for p in keep]
            return _evaluate(fgs, self.factors, self.cfs, M[rows, self.n_data:], f_names), rows


def _solvable(fg, model: Model, mult: np.ndarray, f_names: list[str]) -> bool:
    from methodology.errors import MethodologyError

    try:
        _evaluate([fg], model.factors, model.cfs, mult, f_names)
    except MethodologyError:
        return False
    return True


def model(ed, fg, factors, cfs, spec: UncertaintySpec) -> Model:
    """The uncertain quantities (``sampled_data`` and the background factors) with their sigmas. A datum whose
    value at exp(-2 sigma) or exp(+2 sigma), all else at its value, already makes a process's carbon leaving
    exceed its carbon entering (the purchased coke of an anode plant that makes anodes of it) is bound by the
    site's balances: it is held at its value and listed in ``held``. Rows whose data break a balance only
    together, or beyond two sigma, are rejected row by row (``Model.totals``: ``mc_fast.balances``)."""
    b = spec.basic_uncertainty
    items = sampled_data(ed)
    data_sig = [d.uncertainty.sigma if d.uncertainty else sigma(
        d.data_quality.model_dump(), b.transport_tkm if d.tkm and not d.amount else b.activity_data, spec)
        for _, d in items]
    f_names, f_sig = _factor_sigmas(ed, fg, factors, spec)
    probe = Model(ed, factors, cfs, items, (), np.array(data_sig), ())
    free, held = [], []
    for j in range(len(items)):
        ok = all(probe.foreground(np.where(np.arange(len(items)) == j, math.exp(z * data_sig[j]), 1.0)) is not None
                 for z in (-2, 2))
        (free if ok else held).append(j)
    return Model(ed, factors, cfs, [items[j] for j in free],
                 tuple([f"data:{items[j][0][0]}.{items[j][0][1]}" for j in free] + f_names),
                 np.array([data_sig[j] for j in free] + f_sig),
                 tuple(f"data:{items[j][0][0]}.{items[j][0][1]}" for j in held))


def run(ed, fg, factors, cfs, *, iterations: int, seed: int, spec: UncertaintySpec) -> MonteCarlo:
    """Sample the activity data and the background factors' emissions, rebuild the foreground per iteration
    and evaluate all iterations together (module docstring)."""
    m = model(ed, fg, factors, cfs, spec)
    M = draw(m.sigmas, iterations, seed)
    totals, rows = m.totals(M)
    return MonteCarlo(samples=totals, rejected=iterations - len(rows), names=m.names, sigmas=m.sigmas,
                      multipliers=M[rows], seed=seed, spec=spec, held=m.held)
