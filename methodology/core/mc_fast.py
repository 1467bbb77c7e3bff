"""Monte Carlo vectorised over iterations: the foreground as an affine function of the sampled data.

In an enterprise model every entry of the technosphere and biosphere matrices the builder writes is, for the rules
here, an affine function of the reported amounts: exchanges are amounts, carbon-balance emissions are sums of
amounts times carbon contents, credits are amounts times ratios. So the entries at multipliers x of the sampled
data are ``v(x) = v0 + J (x - 1)``, with ``v0`` the deterministic model and the columns of ``J`` found by building
the foreground once per sampled datum (``affine``). Whether the map really is affine for this enterprise is
checked at random points against full builds; where it is not (a partition allocation shares by ratios), or where
a row leaves the region where it holds (an entry changes sign: a credit flips), the caller builds those rows one by
one. The carbon balances are followed apart (``carbon``): a process's carbon in and carbon out are affine in the
data too, but its CO2 entry sums the balance with other mechanisms' CO2 (combustion, the CO2 bound in a product),
so the entry's sign does not show a balance going negative. Every row's balances are computed at once; a row
where a process's carbon out exceeds its carbon in by more than the rule's carbon tolerance is physically
impossible and rejected (building raises on it, ``mechanisms.carbon.carbon_balance``); a row where a balance
crosses zero within the tolerance (building clips it to zero) is left to the caller to build. The N iterations
then are N small dense systems solved at once (``numpy.linalg.solve`` over a stack), and the totals
``sum_r a_r h_r`` are array products: about 10,000 iterations per second of an integrated steelworks on one core
(benchmarks/monte_carlo_benchmark.py).

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
    c0: np.ndarray  # carbon in then carbon out (kg C per year) of each carbon-balance process (``carbon``)
    Jc: np.ndarray  # their derivatives per sampled datum
    carbon_tolerance: float  # the rule's: carbon out may exceed carbon in by this share of carbon in


def carbon(fg) -> tuple[tuple[str, ...], np.ndarray]:
    """The carbon-balance processes of a foreground and their carbon in then carbon out (kg C per year, before
    the balance clips a small negative emission to zero): ``(processes, [in_1..in_b, out_1..out_b])``."""
    bal = [(pid, p.carbon) for pid, p in fg.processes.items() if p.carbon is not None]
    return tuple(pid for pid, _ in bal), np.array([c.carbon_in for _, c in bal] + [c.carbon_out for _, c in bal])


def _structure(b, fg) -> tuple:
    e = b.entries
    return b.processes, b.factors, b.meta[:3], e[0].tobytes(), e[1].tobytes(), e[2].tobytes(), carbon(fg)[0]


def _emitted(c: np.ndarray) -> np.ndarray:
    """Carbon in - carbon out of each balance, for the last axis of ``c`` laid out as ``carbon`` gives it."""
    b = c.shape[-1] // 2
    return c[..., :b] - c[..., b:]


def _step(model, j: int, d: int, c0: np.ndarray):
    """The foreground with datum ``j`` moved by a step that keeps every carbon balance on its side of zero (a
    balance clipped or broken at the step would not give the map's slope), or None."""
    for step in (_STEP, -_STEP):
        x = np.ones(d)
        x[j] += step
        fg = model.foreground(x)
        if fg is not None and np.array_equal(_emitted(carbon(fg)[1]) < 0, _emitted(c0) < 0):
            return fg, step
    return None, 0.0


def affine(model, factor_names: list[str], cfs, *, probes: np.ndarray) -> Affine | None:
    """The affine map of ``model``'s foreground over its sampled data, or None if the foreground is not affine in
    them (checked at each row of ``probes``, multipliers of the sampled data) or its structure changes."""
    d = model.n_data
    fg0 = model.foreground(np.ones(d))
    if fg0 is None:
        return None
    b0 = compute._extract(fg0)
    key = _structure(b0, fg0)
    c0 = carbon(fg0)[1]
    J = np.zeros((b0.entries.shape[1], d))
    Jc = np.zeros((len(c0), d))
    dd = np.zeros(d)
    for j in range(d):
        fg, step = _step(model, j, d, c0)
        if fg is None:
            return None
        b = compute._extract(fg)
        if _structure(b, fg) != key:
            return None
        J[:, j] = (b.entries[3] - b0.entries[3]) / step
        Jc[:, j] = (carbon(fg)[1] - c0) / step
        dd[j] = (b.meta[3] - b0.meta[3]) / step
    _, C = compute.characterisation(cfs)
    gas_h = C.sum(axis=0)
    factor_h = np.array([sum(kg * gas_h[g] for g, kg in compute._emissions(model.factors, f)) for f in b0.factors])
    pos = {f.removeprefix("factor:"): i for i, f in enumerate(factor_names)}
    aff = Affine(kind=b0.entries[0].astype(int), row=b0.entries[1].astype(int), col=b0.entries[2].astype(int),
                 v0=b0.entries[3].copy(), J=J, n=int(b0.meta[0]), final=int(b0.meta[2]), d0=float(b0.meta[3]), dd=dd,
                 factor_h=factor_h, factor_pos=np.array([pos.get(f, -1) for f in b0.factors], dtype=int),
                 gas_h=gas_h, c0=c0, Jc=Jc, carbon_tolerance=model.ed.rule.balances.carbon_tolerance)
    for x in probes:
        fg = model.foreground(x)
        if fg is None:
            continue
        names, c = carbon(fg)
        if names != key[-1] or not _close(c, c0 + Jc @ (x - 1)):
            return None
        if _outside(aff, x[None], aff.v0 + aff.J @ (x - 1))[0]:
            continue  # a row the map does not cover (the caller builds it): its entries need not agree
        b = compute._extract(fg)
        if _structure(b, fg) != key or not _close(b.entries[3], aff.v0 + aff.J @ (x - 1)):
            return None
    return aff


def _close(built: np.ndarray, predicted: np.ndarray) -> bool:
    return np.allclose(built, predicted, rtol=1e-9, atol=1e-9 * np.abs(predicted).max(initial=0.0))


def balances(aff: Affine, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of data multipliers ``X`` where a carbon balance breaks (carbon out exceeds carbon in by more than
    the rule's carbon tolerance: physically impossible, building rejects it) and rows where one crosses zero
    within the tolerance (building clips it to zero, which the affine map does not): two masks over the rows."""
    return _balances(aff, X - 1)


def _balances(aff: Affine, D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``balances`` of the rows ``X = 1 + D``."""
    if not len(aff.c0):
        return np.zeros(len(D), dtype=bool), np.zeros(len(D), dtype=bool)
    C = aff.c0 + D @ aff.Jc.T  # N x (carbon in, carbon out)
    E = _emitted(C)
    broken = (E < -aff.carbon_tolerance * C[:, : E.shape[1]]).any(axis=1)
    crossed = ((E < 0) != (_emitted(aff.c0) < 0)).any(axis=1)
    return broken, crossed & ~broken


def _outside(aff: Affine, X: np.ndarray, V: np.ndarray, carbon_masks=None) -> np.ndarray:
    """Rows (data multipliers ``X``, entries ``V``) the affine map does not cover: an entry changed sign or a
    carbon balance crossed zero or broke (``carbon_masks``: ``balances(aff, X)`` if already found)."""
    broken, crossed = carbon_masks or balances(aff, X)
    return ((np.sign(V) != np.sign(aff.v0)) & (aff.v0 != 0)).any(axis=-1) | crossed | broken


def totals(aff: Affine, X: np.ndarray, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Totals (kg CO2e per declared unit) for rows of data multipliers ``X`` (N x sampled data) and factor
    multipliers ``F`` (N x factors); and a mask of the rows the affine map does not cover (an entry changed sign,
    a carbon balance crossed zero, or the system is singular): their totals are NaN, for the caller to build.
    Rows whose carbon balances break (``balances``) are NaN and not in the mask: rejected."""
    N = len(X)
    D = X - 1
    V = aff.v0 + D @ aff.J.T  # N x entries
    masks = _balances(aff, D)
    broken = masks[0]
    outside = _outside(aff, X, V, masks)
    tech = aff.kind == compute._TECH
    A = np.zeros((N, aff.n * aff.n))
    np.add.at(A, (slice(None), aff.row[tech] * aff.n + aff.col[tech]), V[:, tech])
    A = A.reshape(N, aff.n, aff.n)
    f = np.zeros((N, aff.n))
    f[:, aff.final] = aff.d0 + D @ aff.dd
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
    return out, ~ok & ~broken

