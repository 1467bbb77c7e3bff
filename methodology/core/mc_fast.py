"""Monte Carlo vectorised over iterations: the foreground as an affine function of the sampled data.

In an enterprise model every entry of the technosphere and biosphere matrices the builder writes is, for the rules
here, an affine function of the reported amounts: exchanges are amounts, carbon-balance emissions are sums of
amounts times carbon contents, credits are amounts times ratios. So the entries at multipliers x of the sampled
data are ``v(x) = v0 + J (x - 1)``, with ``v0`` the deterministic model and the columns of ``J`` found by building
the foreground once per sampled datum (``affine``). Whether the map really is affine for this enterprise is
checked at random points against full builds; where it is not (a partition allocation shares by ratios), or where
a row leaves the region where it holds (an entry changes sign: a balance clamps, a credit flips), the caller
builds those rows one by one. The N iterations then are N small dense systems solved at once
(``numpy.linalg.solve`` over a stack), and the totals ``sum_r a_r h_r`` are array products: about 10,000
iterations per second of an integrated steelworks on one core (benchmarks/monte_carlo_benchmark.py).

Notation as in ``compute``: ``A_e`` the enterprise's technosphere (processes x processes), ``f`` the demand on its
final process, ``s = A_e^-1 f``; direct emissions ``B_e s``, background inputs ``a_r = v_r s_(j_r)`` times the
characterised emissions of factor ``k_r``, each scaled by that factor's multiplier in the iteration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from methodology.core import compute

_STEP = 0.5  # multiplier step for the columns of J (any step is exact for an affine map)


@dataclass(frozen=True)
class Affine:
    kind: np.ndarray  # per entry: compute._TECH, _INPUT or _BIO
    row: np.ndarray
    col: np.ndarray
    v0: np.ndarray  # entry values of the deterministic model
    J: np.ndarray  # entries x sampled data
    n: int  # processes
    final: int
    d0: float  # demand on the final process
    dd: np.ndarray  # its derivative per sampled datum
    factor_h: np.ndarray  # per local background factor: characterised kg CO2e per reference unit (all indicators)
    factor_pos: np.ndarray  # per local background factor: its column among the model's factor multipliers, or -1
    gas_h: np.ndarray  # per gas: kg CO2e per kg (all indicators)


def _structure(b) -> tuple:
    e = b.entries
    return b.processes, b.factors, b.meta[:3], e[0].tobytes(), e[1].tobytes(), e[2].tobytes()


def affine(model, factor_names: list[str], cfs, *, probes: np.ndarray) -> Affine | None:
    """The affine map of ``model``'s foreground over its sampled data, or None if the foreground is not affine in
    them (checked at each row of ``probes``, multipliers of the sampled data) or its structure changes."""
    d = model.n_data
    fg0 = model.foreground(np.ones(d))
    if fg0 is None:
        return None
    b0 = compute._extract(fg0)
    key = _structure(b0)
    J = np.zeros((b0.entries.shape[1], d))
    dd = np.zeros(d)
    for j in range(d):
        x = np.ones(d)
        x[j] += _STEP
        fg = model.foreground(x)
        if fg is None:
            return None
        b = compute._extract(fg)
        if _structure(b) != key:
            return None
        J[:, j] = (b.entries[3] - b0.entries[3]) / _STEP
        dd[j] = (b.meta[3] - b0.meta[3]) / _STEP
    _, C = compute.characterisation(cfs)
    gas_h = C.sum(axis=0)
    factor_h = np.array([sum(kg * gas_h[g] for g, kg in compute._emissions(model.factors, f)) for f in b0.factors])
    pos = {f.removeprefix("factor:"): i for i, f in enumerate(factor_names)}
    aff = Affine(kind=b0.entries[0].astype(int), row=b0.entries[1].astype(int), col=b0.entries[2].astype(int),
                 v0=b0.entries[3].copy(), J=J, n=int(b0.meta[0]), final=int(b0.meta[2]), d0=float(b0.meta[3]), dd=dd,
                 factor_h=factor_h, factor_pos=np.array([pos.get(f, -1) for f in b0.factors], dtype=int),
                 gas_h=gas_h)
    for x in probes:
        fg = model.foreground(x)
        if fg is None:
            continue
        b = compute._extract(fg)
        predicted = aff.v0 + aff.J @ (x - 1)
        if _structure(b) != key or not np.allclose(b.entries[3], predicted, rtol=1e-9, atol=1e-9 * np.abs(
                aff.v0).max()):
            return None
    return aff


def totals(aff: Affine, X: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Totals (kg CO2e per declared unit) for rows of data multipliers ``X`` (N x sampled data) and factor
    multipliers ``F`` (N x factors); and a mask of the rows the affine map does not cover (an entry changed sign,
    or the system is singular): their totals are NaN, for the caller to build."""
    N = len(X)
    V = aff.v0 + (X - 1) @ aff.J.T  # N x entries
    outside = ((np.sign(V) != np.sign(aff.v0)) & (aff.v0 != 0)).any(axis=1)
    tech = aff.kind == compute._TECH
    A = np.zeros((N, aff.n * aff.n))
    np.add.at(A, (slice(None), aff.row[tech] * aff.n + aff.col[tech]), V[:, tech])
    A = A.reshape(N, aff.n, aff.n)
    f = np.zeros((N, aff.n))
    f[:, aff.final] = aff.d0 + (X - 1) @ aff.dd
    s = np.full((N, aff.n), np.nan)
    ok = ~outside
    try:
        s[ok] = np.linalg.solve(A[ok], f[ok][..., None])[..., 0]
    except np.linalg.LinAlgError:
        for i in np.flatnonzero(ok):
            try:
                s[i] = np.linalg.solve(A[i], f[i])
            except np.linalg.LinAlgError:
                ok[i] = False
    bio = aff.kind == compute._BIO
    inp = aff.kind == compute._INPUT
    direct = (V[:, bio] * aff.gas_h[aff.row[bio]] * s[:, aff.col[bio]]).sum(axis=1)
    m = np.ones((N, len(aff.factor_h)))
    have = aff.factor_pos >= 0
    m[:, have] = F[:, aff.factor_pos[have]]
    k = aff.row[inp]
    background = (V[:, inp] * s[:, aff.col[inp]] * aff.factor_h[k] * m[:, k]).sum(axis=1)
    out = direct + background
    out[~ok] = np.nan
    return out, ~ok

