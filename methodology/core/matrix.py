"""Matrix LCA maths as pure functions (Heijungs & Suh 2002 notation).

``A`` technosphere (products x activities, production on the diagonal, inputs negative), ``B`` biosphere
(flows x activities), ``f`` final demand, ``s = A^-1 f`` scaling, ``g = B s`` inventory, ``h = c^T g``.
The same functions run on matrices Brightway builds (``engine``) and on matrices built here straight
from a ``Foreground`` (``foreground_matrices``), so the two can be checked against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from methodology.core.foreground import Foreground, Origin
from methodology.gases import Gas
from methodology.schema.factors import FactorSet


@dataclass(frozen=True)
class Matrices:
    A: sp.csc_matrix
    B: sp.csc_matrix
    activities: list[tuple[str, str]]  # ("foreground", process id) | ("background", factor id)
    flows: list[Gas]
    demand: np.ndarray


@dataclass(frozen=True)
class Contribution:
    """kg of one gas attributed to one first-tier exchange of one foreground process."""

    process: str
    source: str  # "direct" or the background factor id consumed
    origin: str
    gas: Gas
    kg: float


def calc_s(A, f) -> np.ndarray:
    """Scaling vector s = A^-1 f."""
    return spla.spsolve(sp.csc_matrix(A), f)


def foreground_matrices(fg: Foreground, factors: FactorSet) -> Matrices:
    """A and B of foreground + one-level background (each factor an activity with its own emissions)."""
    fg_ids = list(fg.processes)
    bg_ids = fg.background_factors()
    acts = [("foreground", p) for p in fg_ids] + [("background", b) for b in bg_ids]
    idx = {a: i for i, a in enumerate(acts)}
    flows = list(Gas)
    fidx = {g: i for i, g in enumerate(flows)}
    A = sp.lil_matrix((len(acts), len(acts)))
    B = sp.lil_matrix((len(flows), len(acts)))
    for pid, p in fg.processes.items():
        j = idx[("foreground", pid)]
        A[j, j] += p.output
        for e in p.exchanges:
            if e.kind == "biosphere":
                B[fidx[Gas(e.target)], j] += e.amount
            else:
                A[idx[(e.linked_to, e.target)], j] -= e.amount
    for b in bg_ids:
        j = idx[("background", b)]
        A[j, j] = 1.0
        for gas, kg in factors.get(b).emissions_kg().items():
            B[fidx[gas], j] += kg
    f = np.zeros(len(acts))
    f[idx[("foreground", fg.final_process)]] = fg.demand
    return Matrices(sp.csc_matrix(A), sp.csc_matrix(B), acts, flows, f)


def first_tier_contributions(m: Matrices, fg: Foreground) -> list[Contribution]:
    """Split the inventory B s over foreground processes and the background inputs each consumes.

    A background input k of process j contributes ``s_j * (-A[k, j]) * (B A^-1)[:, k]``: its whole
    cradle-to-gate inventory. Summed with the direct flows ``B[:, j] s_j`` of every foreground process,
    this equals ``B s`` exactly.
    """
    A, B = sp.csc_matrix(m.A), sp.csc_matrix(m.B)
    s = calc_s(A, m.demand)
    lu = spla.splu(A)
    origin_of = _origins(fg)
    out: list[Contribution] = []
    cache: dict[int, np.ndarray] = {}
    for j, (kind, pid) in enumerate(m.activities):
        if kind != "foreground" or s[j] == 0:
            continue
        direct = B[:, j].toarray().ravel() * s[j]
        out += [Contribution(pid, "direct", Origin.direct.value, m.flows[g], kg)
                for g, kg in enumerate(direct) if kg != 0]
        col = A[:, j].tocoo()
        for k, a in zip(col.row, col.data, strict=True):
            k_kind, k_id = m.activities[k]
            if k == j or k_kind != "background":
                continue
            if k not in cache:
                e = np.zeros(A.shape[0])
                e[k] = 1.0
                cache[k] = B @ lu.solve(e)
            inv = cache[k] * (-a) * s[j]
            origin = origin_of.get((pid, k_id), Origin.upstream.value)
            out += [Contribution(pid, k_id, origin, m.flows[g], kg) for g, kg in enumerate(inv) if kg != 0]
    return out


def _origins(fg: Foreground) -> dict[tuple[str, str], str]:
    out = {}
    for pid, p in fg.processes.items():
        for e in p.exchanges:
            if e.kind == "technosphere" and e.linked_to == "background":
                # a credit is a negative input: keep it apart even if the same factor is also bought
                out[(pid, e.target)] = e.origin.value
    return out


def characterise(contribs: list[Contribution], cfs: dict[str, dict[str, float]]) -> list[dict]:
    """Contribution rows with kg CO2e per indicator (fossil, biogenic) and their total."""
    rows = []
    for c in contribs:
        row = {"process": c.process, "source": c.source, "origin": c.origin, "gas": c.gas.value,
               "kg": float(c.kg)}
        total = 0.0
        for indicator, table in cfs.items():
            v = float(c.kg) * table.get(c.gas.value, 0.0)
            row[indicator] = v
            total += v
        row["total"] = total
        rows.append(row)
    return rows
