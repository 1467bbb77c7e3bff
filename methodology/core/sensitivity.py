"""Global sensitivity: Sobol indices of a footprint over its uncertain quantities, grouped (SALib).

The quantities and their lognormal distributions are those of the Monte Carlo (``core.uncertainty.model``). SALib
draws a Sobol sequence in the unit cube (Saltelli's scheme, first and total order, no second order); each
coordinate u becomes the multiplier exp(sigma * Phi^-1(u)) of its quantity. The quantities are grouped so the
number of model runs stays N x (groups + 2): the activity data of each process form one group, the background
factors one group per category (electricity, materials, fuels, ...). First-order indices S1 say how much of the
variance each group explains alone, total indices ST with its interactions; SALib gives bootstrap confidence
intervals. A base sample whose block holds a row that cannot be evaluated (physically impossible data) is left
out whole, which keeps Saltelli's structure (fewer base samples); the count is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from methodology.core.uncertainty import Model


@dataclass(frozen=True)
class SobolIndex:
    group: str
    quantities: int
    S1: float
    S1_conf: float
    ST: float
    ST_conf: float


@dataclass(frozen=True)
class Sobol:
    indices: list[SobolIndex]  # largest ST first
    base_samples: int  # N used (after leaving out blocks with an impossible row)
    dropped: int  # base samples left out
    runs: int  # model evaluations


def group_of(name: str, factors) -> str:
    kind, _, what = name.partition(":")
    if kind == "data":
        return f"data: {what.split('.', 1)[0]}"
    return f"factors: {factors.get(what).category.value}"


def sobol(m: Model, *, n: int, seed: int) -> Sobol:
    """First- and total-order Sobol indices of the total per group of quantities (module docstring). ``n``: base
    samples (SALib wants a power of two)."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample
    from scipy.stats import norm

    groups = [group_of(q, m.factors) for q in m.names]
    problem = {"num_vars": len(m.names), "names": list(m.names), "bounds": [[0.0, 1.0]] * len(m.names),
               "groups": groups}
    U = sample.sample(problem, n, calc_second_order=False, seed=seed)
    M = np.exp(m.sigmas * norm.ppf(np.clip(U, 1e-12, 1 - 1e-12)))
    totals, rows = m.totals(M)
    step = len(set(groups)) + 2  # rows per base sample: A, one AB per group, B
    y = np.full(len(M), np.nan)
    y[rows] = totals
    blocks = y.reshape(-1, step)
    whole = ~np.isnan(blocks).any(axis=1)
    res = analyze.analyze(problem, blocks[whole].ravel(), calc_second_order=False, seed=seed)
    names = list(dict.fromkeys(groups))
    count = {g: groups.count(g) for g in names}
    idx = [SobolIndex(g, count[g], float(res["S1"][i]), float(res["S1_conf"][i]), float(res["ST"][i]),
                      float(res["ST_conf"][i])) for i, g in enumerate(names)]
    return Sobol(sorted(idx, key=lambda x: -x.ST), int(whole.sum()), int((~whole).sum()), len(M))
