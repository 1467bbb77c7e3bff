"""The fast evaluator: many enterprises' footprints in one process, with ONE sparse LU factorisation.

It serves compute-only batches and ``Study.calculate_without_brightway``; each enterprise's contributions table
goes to the same assembler as Brightway's (``results.assemble``), and tests check every figure against Brightway.

Notation of Heijungs & Suh (2002), as in ``matrix``: ``A`` technosphere (production on the diagonal, inputs
negative), ``B`` biosphere (gases x activities), ``F`` final demand, ``S = A^-1 F`` scaling, ``G = B S``
inventory, ``C`` characterisation factors (indicators x gases), ``H = C B``.

Stacking (``stack``). Enterprise e has foreground technosphere ``A_e`` (n_e x n_e), background inputs
``A_be`` (rows: the one-level background factors, shared by all enterprises) and direct flows ``B_e``. The
background factor k is an activity with identity production and its own emissions ``b_k``, so::

        | A_1              0 |                                         | f_1             |
    A = |      ...         0 |     B = [ B_1 ... B_E  B_b ]        F = |      ...        |
        |           A_E    0 |                                         |            f_E  |
        | A_b1 ... A_bE    I |                                         | 0    ...    0   |

with ``f_e`` the declared unit's demand on the final process of e (one column of F per enterprise).

Scaling (``scaling``). Because ``A_ff = diag(A_1 .. A_E)`` is block diagonal, column e of
``S = A^-1 F`` is ``s_e = A_e^-1 f_e`` on e's block, zero on the other blocks, and ``-A_be s_e`` on the
background. A is factorised once (``splu``), in its natural order (foreground blocks, then background)
with diagonal pivots; the LU factors then keep the block structure (``L`` and ``U`` couple no two
enterprises), so the single solve ``A x = F 1`` yields, on each block, exactly that enterprise's ``s_e``
(the background part of x, a sum over enterprises, is discarded and recomputed as ``S_b = -A_bf S_f``).
If pivoting had to leave the diagonal the columns of F are solved with the same factors instead.

Attribution (``contributions``), as ``matrix.first_tier_contributions`` does on Brightway's matrices: each
foreground process j with scaling ``s_j`` contributes its direct flows ``B[:, j] s_j`` (source "direct",
origin "direct") and, for each background input k, ``(B A^-1)[:, k] (-A[k, j]) s_j = B[:, k] (-A[k, j]) s_j``
(one-level background: ``A^-1 e_k = e_k``) with the origin of that exchange. Writing each such entry r as
(column j_r, source activity k_r, multiplier m_r) with ``a_r = m_r s_(j_r)``, the contribution rows are
``a_r B[g, k_r]`` for every gas g that k_r emits: the contributions table (``core.contributions``) from which
``results.assemble`` builds each enterprise's result. ``evaluate`` sums the same entries characterised,
``sum_r a_r (C B)[:, k_r]``, for the totals alone (the benchmarked core; no table is built).

No Brightway and no pandas here: numpy and scipy only.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from methodology.core.contributions import (
    DIRECT,
    GAS_INDEX,
    GASES,
    ORIGIN_CODE,
    Contributions,
    characterisation_matrix,
)
from methodology.core.foreground import Foreground, Origin
from methodology.core.results import INDICATORS
from methodology.errors import CalculationError
from methodology.gases import Gas
from methodology.schema.factors import FactorSet

SOLVE_CHUNK_VALUES = 20_000_000  # fallback only: dense right-hand sides solved at once (activities x columns)

_DIRECT = ORIGIN_CODE[Origin.direct.value]


# ---------------------------------------------------------------------------------------------
# one enterprise's foreground in local coordinates (extracted once per Foreground object)
# ---------------------------------------------------------------------------------------------
_TECH, _INPUT, _BIO = 0, 1, 2  # kinds of entry of a _Block


@dataclass(frozen=True)
class _Block:
    processes: tuple[str, ...]  # local column i = i-th process of fg.processes
    factors: tuple[str, ...]  # background factors used, in order of first use
    meta: tuple[int, int, int, float]  # (number of processes, number of factors, final process column, demand)
    # (5, m), one column per entry: kind, row, column, value, origin code. _TECH: A[row, column] among the
    # foreground processes; _INPUT: -A[k, column] for factor k = factors[row]; _BIO: B[gas row, column]
    entries: np.ndarray


def _extract(fg: Foreground) -> _Block:
    """Entries of ``A`` and ``B`` as ``engine.write_foreground`` gives them to Brightway, duplicates merged; a
    background input keeps the origin of the last exchange to that factor (``matrix._origins``)."""
    local = {pid: i for i, pid in enumerate(fg.processes)}
    tech: list[tuple] = []
    factors: dict[str, int] = {}
    inputs: dict[tuple[int, int], tuple[float, int]] = {}
    bio: dict[tuple[int, int], float] = {}
    for j, p in enumerate(fg.processes.values()):
        tech.append((_TECH, j, j, p.output, -1))
        for e in p.exchanges:
            if e.kind == "biosphere":
                key = (GAS_INDEX[e.target], j)
                bio[key] = bio.get(key, 0.0) + e.amount
            elif e.linked_to == "foreground":
                tech.append((_TECH, local[e.target], j, -e.amount, -1))
            else:
                key = (factors.setdefault(e.target, len(factors)), j)
                before = inputs.get(key, (0.0, 0))[0]
                inputs[key] = (before + e.amount, ORIGIN_CODE[e.origin])  # a StrEnum hashes as its value
    entries = [*tech, *((_INPUT, k, j, v, o) for (k, j), (v, o) in inputs.items() if v != 0),  # lil drops 0 sums
               *((_BIO, g, j, v, -1) for (g, j), v in bio.items())]
    return _Block(
        processes=tuple(local), factors=tuple(factors),
        meta=(len(local), len(factors), local[fg.final_process], float(fg.demand)),
        entries=np.array(entries, dtype=float).reshape(-1, 5).T.copy(),
    )


_BLOCKS: dict[int, _Block] = {}


def _block(fg: Foreground) -> _Block:
    """``_extract(fg)``, memoised per Foreground object (frozen) for as long as the object lives.

    The exchange-by-exchange walk is the only per-enterprise Python loop of stacking; memoising it keeps
    repeated evaluations of the same foregrounds (scenarios, benchmarks) down to array work. Keyed by object
    identity: a Foreground is immutable by contract, so build a new one rather than editing its processes.
    """
    key = id(fg)
    block = _BLOCKS.get(key)
    if block is None:
        block = _extract(fg)
        try:
            weakref.finalize(fg, _BLOCKS.pop, key, None)
        except TypeError:  # not weak-referenceable: do not memoise
            return block
        _BLOCKS[key] = block
    return block


def factor_set_key(fs: FactorSet) -> tuple:
    """Identifies a factor set: its file's id, version and sha256, else the object (one stacked system each)."""
    return (fs.id, fs.version, fs.content_key) if fs.sha256 else ("object", id(fs))


_EMISSIONS: dict[tuple, dict[str, list[tuple[int, float]]]] = {}


def _emissions(factors: FactorSet, factor_id: str) -> list[tuple[int, float]]:
    """(gas index, kg per reference unit) of one background factor; memoised per factor-set file (sha256)."""
    if not factors.sha256:
        return [(GAS_INDEX[g.value], kg) for g, kg in factors.get(factor_id).emissions_kg().items()]
    table = _EMISSIONS.setdefault(factor_set_key(factors), {})
    if factor_id not in table:
        table[factor_id] = [(GAS_INDEX[g.value], kg) for g, kg in factors.get(factor_id).emissions_kg().items()]
    return table[factor_id]


# ---------------------------------------------------------------------------------------------
# stacking
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stacked:
    """Technosphere, biosphere and demand of many enterprises over shared background factors.

    Columns ``offsets[e]:offsets[e+1]`` are enterprise e's foreground processes; columns from
    ``offsets[-1]`` on are the background factors. ``entry_*`` list the first-tier contribution entries r
    (module docstring): ``a_r = entry_mult[r] * s[entry_col[r]]`` times ``B[:, entry_src[r]]``.
    """

    A: sp.csc_array  # activities x activities
    B: sp.csc_array  # gases (list(Gas) order) x activities
    F: sp.csc_array  # activities x enterprises
    enterprises: tuple[str, ...]
    offsets: np.ndarray  # (E + 1,)
    process_ids: tuple[tuple[str, ...], ...]  # per enterprise, the process id of each of its columns
    background: tuple[str, ...]  # factor id of each background column
    enterprise_of: np.ndarray  # (n_foreground,) enterprise of each foreground column
    entry_col: np.ndarray
    entry_src: np.ndarray
    entry_mult: np.ndarray
    entry_origin: np.ndarray  # index into ORIGINS
    flows: tuple[Gas, ...] = GASES

    @property
    def n_foreground(self) -> int:
        return int(self.offsets[-1])

    @property
    def n_enterprises(self) -> int:
        return len(self.enterprises)

    @cached_property
    def processes(self) -> tuple[str, ...]:
        """Process id of each foreground column."""
        return tuple(p for ids in self.process_ids for p in ids)

    @property
    def activities(self) -> list[tuple[str, str]]:
        """("foreground", process id) | ("background", factor id) per column, as ``matrix.Matrices``."""
        return [("foreground", p) for p in self.processes] + [("background", b) for b in self.background]


def _codes(keys: list[tuple[str, ...]], index: Mapping[str, int]) -> np.ndarray:
    """``index[x]`` for every x of every tuple, flattened; looked up once per distinct tuple."""
    maps = {t: np.array([index[x] for x in t], dtype=np.int64) for t in dict.fromkeys(keys)}
    return np.concatenate([maps[t] for t in keys]) if keys else np.empty(0, dtype=np.int64)


def _background(blocks: list[_Block], factors: FactorSet) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Shared background columns (sorted ids, as ``Foreground.background_factors``), the background index of
    every block-local factor (flattened, block after block) and the COO entries (gas, k, kg) of ``B_b``."""
    keys = [b.factors for b in blocks]
    background = sorted({f for t in dict.fromkeys(keys) for f in t})
    flat = _codes(keys, {f: i for i, f in enumerate(background)})
    bio = [(g, k, kg) for k, fid in enumerate(background) for g, kg in _emissions(factors, fid)]
    return background, flat, np.array(bio, dtype=float).reshape(-1, 3).T


def _entries(blocks: list[_Block], offsets: np.ndarray, local_factor: np.ndarray,
             factor_offsets: np.ndarray) -> dict[str, tuple]:
    """Block-local entries shifted to stacked coordinates (foreground columns first, background after)."""
    ent = np.repeat(np.arange(len(blocks), dtype=np.int64),
                    np.array([b.entries.shape[1] for b in blocks], dtype=np.int64))
    kind, first, col, val, origin = np.concatenate([b.entries for b in blocks], axis=1) if blocks else np.empty((5, 0))
    first, col, origin = first.astype(np.int64), col.astype(np.int64) + offsets[ent], origin.astype(np.int64)
    t, i, g = kind == _TECH, kind == _INPUT, kind == _BIO
    return {
        "tech": (first[t] + offsets[ent[t]], col[t], val[t]),
        "inputs": (offsets[-1] + local_factor[factor_offsets[ent[i]] + first[i]], col[i], val[i], origin[i]),
        "bio": (first[g], col[g], val[g]),
    }


def _offsets(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def stack(foregrounds: Sequence[Foreground], factors: FactorSet) -> Stacked:
    """One block technosphere for all enterprises, over the shared one-level background of ``factors``."""
    blocks = [_block(fg) for fg in foregrounds]
    n_e = len(blocks)
    meta = np.array([b.meta for b in blocks], dtype=float).reshape(-1, 4)
    offsets = _offsets(meta[:, 0])
    n_fg = int(offsets[-1])
    background, local_factor, bg_bio = _background(blocks, factors)
    n = n_fg + len(background)
    ent = _entries(blocks, offsets, local_factor, _offsets(meta[:, 1]))
    t_row, t_col, t_val = ent["tech"]
    i_row, i_col, i_amount, i_origin = ent["inputs"]
    bg = np.arange(n_fg, n, dtype=np.int64)
    A = sp.coo_array((np.concatenate([t_val, -i_amount, np.ones(len(bg))]),
                      (np.concatenate([t_row, i_row, bg]), np.concatenate([t_col, i_col, bg]))), shape=(n, n)).tocsc()
    g_row, g_col, g_val = ent["bio"]
    B = sp.coo_array((np.concatenate([g_val, bg_bio[2]]), (np.concatenate([g_row, bg_bio[0].astype(np.int64)]),
                                                          np.concatenate([g_col, n_fg + bg_bio[1].astype(np.int64)]))),
                     shape=(len(GASES), n)).tocsc()
    F = sp.coo_array((meta[:, 3], (offsets[:-1] + meta[:, 2].astype(np.int64), np.arange(n_e))), shape=(n, n_e)).tocsc()
    columns = np.arange(n_fg, dtype=np.int64)
    return Stacked(
        A=A, B=B, F=F, enterprises=tuple(fg.enterprise for fg in foregrounds), offsets=offsets,
        process_ids=tuple(b.processes for b in blocks), background=tuple(background),
        enterprise_of=np.repeat(np.arange(n_e, dtype=np.int64), np.diff(offsets)),
        entry_col=np.concatenate([columns, i_col]), entry_src=np.concatenate([columns, i_row]),
        entry_mult=np.concatenate([np.ones(n_fg), i_amount]),
        entry_origin=np.concatenate([np.full(n_fg, _DIRECT, dtype=np.int64), i_origin]),
    )


# ---------------------------------------------------------------------------------------------
# one factorisation, all enterprises
# ---------------------------------------------------------------------------------------------
def factorise(A: sp.csc_array):
    """LU of A in its natural order with diagonal pivots (keeps the enterprises' blocks apart)."""
    try:
        return splu(A, permc_spec="NATURAL", diag_pivot_thresh=0.0)
    except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
        raise CalculationError(f"the stacked technosphere matrix cannot be factorised: {exc}") from exc


def _keeps_blocks(lu) -> bool:
    """True when no row left its diagonal: then L and U couple no two enterprises (module docstring)."""
    n = lu.shape[0]
    return bool(np.array_equal(lu.perm_r, np.arange(n)) and np.array_equal(lu.perm_c, np.arange(n)))


def _own_scaling_by_columns(lu, st: Stacked) -> np.ndarray:
    """s_j of each foreground column in its own enterprise's column of S = A^-1 F, solved column by column."""
    n, n_e = st.A.shape[0], st.n_enterprises
    s = np.zeros(st.n_foreground)
    step = max(1, SOLVE_CHUNK_VALUES // max(n, 1))
    for start in range(0, n_e, step):
        stop = min(start + step, n_e)
        x = lu.solve(st.F[:, start:stop].toarray())
        rows = np.arange(st.offsets[start], st.offsets[stop])
        s[rows] = x[rows, st.enterprise_of[rows] - start]
    return s


def scaling(st: Stacked, lu=None) -> sp.csc_array:
    """S = A^-1 F (activities x enterprises) from one LU factorisation of the stacked A.

    Foreground part: one solve ``A x = F 1`` read block by block (exact, as the factors keep the blocks
    apart); background part ``S_b = -A_bf S_f`` (the background block of A is the identity).
    """
    n_fg, n_e = st.n_foreground, st.n_enterprises
    if n_e == 0:
        return sp.csc_array((st.A.shape[0], 0))
    lu = factorise(st.A) if lu is None else lu
    if _keeps_blocks(lu):
        s = lu.solve(st.F @ np.ones(n_e))[:n_fg]
    else:
        s = _own_scaling_by_columns(lu, st)
    S_f = sp.csc_array((s, (np.arange(n_fg), st.enterprise_of)), shape=(n_fg, n_e))
    S_b = -(st.A[n_fg:, :n_fg] @ S_f)
    return sp.vstack([S_f, S_b], format="csc")


def own_scaling(st: Stacked, S) -> np.ndarray:
    """s_j of every foreground column j in its own enterprise's column of S (the only non-zero of row j)."""
    return np.asarray(S[: st.n_foreground] @ np.ones(st.n_enterprises)).ravel()


# ---------------------------------------------------------------------------------------------
# attribution: the contributions table of every enterprise
# ---------------------------------------------------------------------------------------------
def characterisation(cfs: Mapping[str, Mapping[str, float]] | None = None) -> tuple[tuple[str, ...], np.ndarray]:
    """Indicator names and C (indicators x gases, ``list(Gas)`` order) from the GWP method file."""
    if cfs is None:
        from methodology.schema.methods import gwp_indicators

        cfs = gwp_indicators()
    return tuple(cfs), characterisation_matrix(cfs)


def contributions(st: Stacked, S) -> list[Contributions]:
    """The contributions table of every enterprise (module docstring), from the scaling S.

    Row ``(r, g)`` is ``a_r B[g, k_r]`` for each entry r and each gas g of its source activity ``k_r``; each
    enterprise's rows keep the order of its entries (processes, then background inputs).
    """
    s = own_scaling(st, S)
    a = st.entry_mult * s[st.entry_col]
    B = sp.csc_array(st.B)
    B.sum_duplicates()
    count = np.diff(B.indptr)[st.entry_src]
    entry = np.repeat(np.arange(len(a)), count)
    first = np.repeat(B.indptr[st.entry_src] - (np.cumsum(count) - count), count)
    k = first + np.arange(len(entry))  # position of (r, g) among B's stored values
    kg = a[entry] * B.data[k]
    keep = kg != 0
    entry, gas, kg = entry[keep], B.indices[k][keep], kg[keep]
    col = st.entry_col[entry]
    ent = st.enterprise_of[col]
    order = np.argsort(ent, kind="stable")
    bounds = np.searchsorted(ent[order], np.arange(st.n_enterprises + 1))
    n_fg = st.n_foreground
    src = st.entry_src[entry]
    source = np.where(src < n_fg, 0, src - n_fg + 1)  # 0: direct; 1 + background column
    out = []
    for e in range(st.n_enterprises):
        rows = order[bounds[e]:bounds[e + 1]]
        used, code = np.unique(source[rows], return_inverse=True)
        names = (DIRECT, *(st.background[i - 1] for i in used if i > 0))
        if used.size and used[0] != 0:  # no direct row: keep "direct" as source 0
            code = code + 1
        own = slice(st.offsets[e], st.offsets[e + 1])
        out.append(Contributions(
            processes=st.process_ids[e], sources=names, process=col[rows] - st.offsets[e],
            source=code.astype(np.int64), origin=st.entry_origin[entry[rows]], gas=gas[rows].astype(np.int64),
            kg=kg[rows], scaling=dict(zip(st.process_ids[e], (float(x) for x in s[own]), strict=True)),
        ))
    return out


def _bincount(keys: np.ndarray, weights: np.ndarray, minlength: int) -> np.ndarray:
    """Sum of ``weights`` per key (float, also when empty)."""
    return np.bincount(keys, weights=weights, minlength=minlength).astype(float, copy=False)


# ---------------------------------------------------------------------------------------------
# the benchmarkable core: totals only
# ---------------------------------------------------------------------------------------------
def evaluate(foregrounds: Sequence[Foreground], factors: FactorSet,
             cfs: Mapping[str, Mapping[str, float]] | None = None, *,
             factor_multipliers: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """kg CO2e per declared unit of every enterprise: ``{"fossil", "biogenic", "land_use", "total"}``.

    ``h^T = C B S`` with ``S = A^-1 F`` from one factorisation; per enterprise ``sum_r a_r H[:, k_r]``: the
    totals of the ``contributions`` tables without building them (tested equal).
    ``factor_multipliers``: per background factor id, one multiplier of its emissions per enterprise (Monte
    Carlo iterations stacked as enterprises, ``core.uncertainty``); factors not named keep their emissions.
    """
    indicators, C = characterisation(cfs)
    st = stack(foregrounds, factors)
    n_e = st.n_enterprises
    H = C @ st.B.toarray()
    a = st.entry_mult * own_scaling(st, scaling(st))[st.entry_col]
    ent = st.enterprise_of[st.entry_col]
    if factor_multipliers:
        M = np.ones((n_e, len(st.background)))
        for j, fid in enumerate(st.background):
            if fid in factor_multipliers:
                M[:, j] = factor_multipliers[fid]
        bg = st.entry_src >= st.n_foreground
        a = a.copy()
        a[bg] *= M[ent[bg], st.entry_src[bg] - st.n_foreground]
    out = {ind: _bincount(ent, weights=a * H[indicators.index(ind), st.entry_src], minlength=n_e)
           for ind in INDICATORS}
    out["total"] = sum((out[ind] for ind in INDICATORS), np.zeros(n_e))
    return out
