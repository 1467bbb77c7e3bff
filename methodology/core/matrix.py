"""Matrix LCA maths as pure functions (Heijungs & Suh 2002 notation).

``A`` technosphere (products x activities, production on the diagonal, inputs negative), ``B`` biosphere
(flows x activities), ``f`` final demand, ``s = A^-1 f`` scaling, ``g = B s`` inventory, ``h = c^T g``.
``first_tier_contributions`` attributes the inventory of matrices Brightway builds (``engine``) to the
foreground's first-tier exchanges: the contributions table (``contributions``) the result is assembled
from. The fast evaluator of many enterprises at once (``compute``) builds the same table from its stacked
matrices; tests check the two agree on every figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from methodology.core.contributions import DIRECT, Contributions, from_records
from methodology.core.foreground import Foreground, Origin
from methodology.gases import Gas

NOISE = 1e-12  # relative to the largest flow of a background input's inventory


@dataclass(frozen=True)
class Matrices:
    A: sp.csc_matrix
    B: sp.csc_matrix
    activities: list[tuple[str, str]]  # ("foreground", process id) | ("background", factor id)
    flows: list[Gas]
    demand: np.ndarray


def calc_s(A, f) -> np.ndarray:
    """Scaling vector s = A^-1 f."""
    return spla.spsolve(sp.csc_matrix(A), f)


def first_tier_contributions(m: Matrices, fg: Foreground, s: np.ndarray | None = None) -> Contributions:
    """Split the inventory B s over foreground processes and the background inputs each consumes.

    A background input k of process j contributes ``s_j * (-A[k, j]) * (B A^-1)[:, k]``: its whole
    cradle-to-gate inventory. Summed with the direct flows ``B[:, j] s_j`` of every foreground process,
    this equals ``B s`` exactly. ``s``: the scaling vector if already solved (Brightway's supply array).
    """
    A, B = sp.csc_matrix(m.A), sp.csc_matrix(m.B)
    s = calc_s(A, m.demand) if s is None else np.asarray(s, dtype=float).ravel()
    lu = spla.splu(A)
    origin_of = _origins(fg)
    records: list[tuple[str, str, str, Gas, float]] = []
    scaling: dict[str, float] = {}
    cache: dict[int, np.ndarray] = {}
    s_max = float(np.abs(s).max(initial=0.0))
    for j, (kind, pid) in enumerate(m.activities):
        if kind != "foreground":
            continue
        # a column no demand reaches (a product of a multi-output process that nothing in the product system
        # uses) gets the round-off of Brightway's single-precision solve instead of 0: it runs 0 times
        scaling[pid] = float(s[j]) if abs(s[j]) > NOISE * s_max else 0.0
        if scaling[pid] == 0:
            continue
        direct = B[:, j].toarray().ravel() * s[j]
        records += [(pid, DIRECT, Origin.direct.value, m.flows[g], kg) for g, kg in enumerate(direct)]
        col = A[:, j].tocoo()
        for k, a in zip(col.row, col.data, strict=True):
            k_kind, k_id = m.activities[k]
            if k == j or k_kind != "background":
                continue
            if k not in cache:
                e = np.zeros(A.shape[0])
                e[k] = 1.0
                inv_k = B @ lu.solve(e)
                # round-off of the solve (Brightway's single-precision A) leaves flows of other background
                # columns at 1e-15 of the real ones: zero them, so the table has the rows the input really has
                inv_k[np.abs(inv_k) <= NOISE * np.abs(inv_k).max(initial=0.0)] = 0.0
                cache[k] = inv_k
            inv = cache[k] * (-a) * s[j]
            origin = origin_of.get((pid, k_id), Origin.upstream.value)
            records += [(pid, k_id, origin, m.flows[g], kg) for g, kg in enumerate(inv)]
    return from_records(fg, records, scaling)


def _origins(fg: Foreground) -> dict[tuple[str, str], str]:
    out = {}
    for pid, p in fg.processes.items():
        for e in p.exchanges:
            if e.kind == "technosphere" and e.linked_to == "background":
                # a credit is a negative input: keep it apart even if the same factor is also bought
                out[(pid, e.target)] = e.origin.value
    return out
