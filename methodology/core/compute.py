"""Compute-only mode: many enterprises' footprints in one process, with ONE sparse LU factorisation.

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

Attribution (``aggregate``), identical to ``matrix.first_tier_contributions`` and ``results.breakdowns``:
each foreground process j with scaling ``s_j`` contributes its direct flows ``B[:, j] s_j`` (origin
"direct", j's stage) and, for each background input k, ``(B A^-1)[:, k] (-A[k, j]) s_j = B[:, k] (-A[k, j])
s_j`` (one-level background: ``A^-1 e_k = e_k``), with the origin of that exchange and the stage
``results.stage_of`` gives (credits: co-product credits; upstream and transport: the rule's upstream stage;
otherwise j's stage). Writing each such entry r as (column j_r, source activity k_r, multiplier m_r) with
``a_r = m_r s_(j_r)``, every figure is a sum ``sum_r a_r H[:, k_r]`` over the entries of a key (enterprise,
stage / origin / gas group): one ``np.bincount`` each, i.e. a product with a sparse 0/1 aggregation matrix.

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

from methodology.core.foreground import Foreground, Origin
from methodology.core.results import CREDIT_STAGE, INDICATORS
from methodology.errors import CalculationError
from methodology.gases import GAS_GROUP, Gas
from methodology.schema.factors import FactorSet

GASES: tuple[Gas, ...] = tuple(Gas)
GAS_INDEX = {g.value: i for i, g in enumerate(GASES)}
ORIGINS: tuple[str, ...] = tuple(o.value for o in Origin)
ORIGIN_CODE = {o: i for i, o in enumerate(ORIGINS)}
GAS_GROUPS: tuple[str, ...] = tuple(dict.fromkeys(GAS_GROUP[g] for g in GASES))
DEFAULT_UPSTREAM_STAGE = "upstream"  # stage label of upstream and transport when no rule names one
SOLVE_CHUNK_VALUES = 20_000_000  # fallback only: dense right-hand sides solved at once (activities x columns)

_DIRECT = ORIGIN_CODE[Origin.direct.value]
_CREDIT = ORIGIN_CODE[Origin.credit.value]
_TO_UPSTREAM = (ORIGIN_CODE[Origin.upstream.value], ORIGIN_CODE[Origin.transport.value])


# ---------------------------------------------------------------------------------------------
# one enterprise's foreground in local coordinates (extracted once per Foreground object)
# ---------------------------------------------------------------------------------------------
_TECH, _INPUT, _BIO = 0, 1, 2  # kinds of entry of a _Block


@dataclass(frozen=True)
class _Block:
    processes: tuple[str, ...]  # local column i = i-th process of fg.processes
    stages: tuple[str, ...]
    factors: tuple[str, ...]  # background factors used, in order of first use
    meta: tuple[int, int, int, float]  # (number of processes, number of factors, final process column, demand)
    # (5, m), one column per entry: kind, row, column, value, origin code. _TECH: A[row, column] among the
    # foreground processes; _INPUT: -A[k, column] for factor k = factors[row]; _BIO: B[gas row, column]
    entries: np.ndarray


def _extract(fg: Foreground) -> _Block:
    """Entries of ``A`` and ``B`` as ``matrix.foreground_matrices`` writes them, duplicates merged in the same
    order; a background input keeps the origin of the last exchange to that factor (``matrix._origins``)."""
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
        processes=tuple(local), stages=tuple(p.stage for p in fg.processes.values()), factors=tuple(factors),
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


def _factor_key(fs: FactorSet) -> tuple:
    return (fs.id, fs.version, fs.sha256) if fs.sha256 else ("object", id(fs))


_EMISSIONS: dict[tuple, dict[str, list[tuple[int, float]]]] = {}


def _emissions(factors: FactorSet, factor_id: str) -> list[tuple[int, float]]:
    """(gas index, kg per reference unit) of one background factor; memoised per factor-set file (sha256)."""
    if not factors.sha256:
        return [(GAS_INDEX[g.value], kg) for g, kg in factors.get(factor_id).emissions_kg().items()]
    table = _EMISSIONS.setdefault(_factor_key(factors), {})
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
    stages: tuple[str, ...]  # labels the stage codes index
    enterprise_of: np.ndarray  # (n_foreground,) enterprise of each foreground column
    entry_col: np.ndarray
    entry_src: np.ndarray
    entry_mult: np.ndarray
    entry_origin: np.ndarray  # index into ORIGINS
    entry_stage: np.ndarray  # index into stages
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


def _stage_codes(blocks: list[_Block], upstream: list[str]) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Stage labels, the stage code of every foreground column and each enterprise's upstream stage code."""
    keys = [b.stages for b in blocks]
    labels = tuple(dict.fromkeys([*(s for t in dict.fromkeys(keys) for s in t), *upstream, CREDIT_STAGE]))
    code = {s: i for i, s in enumerate(labels)}
    return labels, _codes(keys, code), np.array([code[s] for s in upstream], dtype=np.int64)


def _background(blocks: list[_Block], factors: FactorSet) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Shared background columns (sorted ids, as ``Foreground.background_factors``), the background index of
    every block-local factor (flattened, block after block) and the COO entries (gas, k, kg) of ``B_b``."""
    keys = [b.factors for b in blocks]
    background = sorted({f for t in dict.fromkeys(keys) for f in t})
    flat = _codes(keys, {f: i for i, f in enumerate(background)})
    bio = [(g, k, kg) for k, fid in enumerate(background) for g, kg in _emissions(factors, fid)]
    return background, flat, np.array(bio, dtype=float).reshape(-1, 3).T


def _entries(blocks: list[_Block], offsets: np.ndarray, local_factor: np.ndarray, factor_offsets: np.ndarray,
             stage_of_column: np.ndarray, upstream_code: np.ndarray, credit_code: int) -> dict[str, tuple]:
    """Block-local entries shifted to stacked coordinates (foreground columns first, background after)."""
    ent = np.repeat(np.arange(len(blocks), dtype=np.int64),
                    np.array([b.entries.shape[1] for b in blocks], dtype=np.int64))
    kind, first, col, val, origin = np.concatenate([b.entries for b in blocks], axis=1) if blocks else np.empty((5, 0))
    first, col, origin = first.astype(np.int64), col.astype(np.int64) + offsets[ent], origin.astype(np.int64)
    t, i, g = kind == _TECH, kind == _INPUT, kind == _BIO
    ie, icol, iorigin = ent[i], col[i], origin[i]
    # results.stage_of: credits -> co-product credits; upstream, transport -> the rule's upstream stage
    stage = np.where(iorigin == _CREDIT, credit_code,
                     np.where((iorigin == _TO_UPSTREAM[0]) | (iorigin == _TO_UPSTREAM[1]), upstream_code[ie],
                              stage_of_column[icol]))
    return {
        "tech": (first[t] + offsets[ent[t]], col[t], val[t]),
        "inputs": (offsets[-1] + local_factor[factor_offsets[ie] + first[i]], icol, val[i], iorigin, stage),
        "bio": (first[g], col[g], val[g]),
    }


def _offsets(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def stack(foregrounds: Sequence[Foreground], factors: FactorSet,
          upstream_stage: str | Sequence[str] = DEFAULT_UPSTREAM_STAGE) -> Stacked:
    """One block technosphere for all enterprises, over the shared one-level background of ``factors``.

    ``upstream_stage`` is the stage purchased inputs' upstream and transport are reported in
    (``rule.system_boundary.upstream_stage``): one for all enterprises or one per enterprise.
    """
    blocks = [_block(fg) for fg in foregrounds]
    n_e = len(blocks)
    upstream = [upstream_stage] * n_e if isinstance(upstream_stage, str) else list(upstream_stage)
    if len(upstream) != n_e:
        raise ValueError(f"{len(upstream)} upstream stages for {n_e} enterprises")
    meta = np.array([b.meta for b in blocks], dtype=float).reshape(-1, 4)
    offsets = _offsets(meta[:, 0])
    n_fg = int(offsets[-1])
    background, local_factor, bg_bio = _background(blocks, factors)
    n = n_fg + len(background)
    labels, stage_of_column, upstream_code = _stage_codes(blocks, upstream)
    ent = _entries(blocks, offsets, local_factor, _offsets(meta[:, 1]), stage_of_column, upstream_code,
                   labels.index(CREDIT_STAGE))
    t_row, t_col, t_val = ent["tech"]
    i_row, i_col, i_amount, i_origin, i_stage = ent["inputs"]
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
        process_ids=tuple(b.processes for b in blocks), background=tuple(background), stages=labels,
        enterprise_of=np.repeat(np.arange(n_e, dtype=np.int64), np.diff(offsets)),
        entry_col=np.concatenate([columns, i_col]), entry_src=np.concatenate([columns, i_row]),
        entry_mult=np.concatenate([np.ones(n_fg), i_amount]),
        entry_origin=np.concatenate([np.full(n_fg, _DIRECT, dtype=np.int64), i_origin]),
        entry_stage=np.concatenate([stage_of_column, i_stage]),
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
# aggregation
# ---------------------------------------------------------------------------------------------
def characterisation(cfs: Mapping[str, Mapping[str, float]] | None = None) -> tuple[tuple[str, ...], np.ndarray]:
    """Indicator names and C (indicators x gases, ``list(Gas)`` order) from the GWP method file."""
    if cfs is None:
        from methodology.schema.methods import gwp_indicators

        cfs = gwp_indicators()
    C = np.array([[float(table.get(g.value, 0.0)) for g in GASES] for table in cfs.values()]).reshape(-1, len(GASES))
    return tuple(cfs), C


@dataclass(frozen=True)
class Breakdown:
    """Per-enterprise figures, each exactly a ``results.breakdowns`` partition of the contribution rows.

    ``*_present`` marks keys that hold at least one contribution row with a non-zero mass (the keys
    ``result.json`` lists); ``by_process``, ``process_present`` and ``dq_weight`` (sum of |kg CO2e| of a
    process's rows, the data-quality weight) are per foreground column.
    """

    indicators: tuple[str, ...]
    totals: np.ndarray  # indicators x enterprises
    stages: tuple[str, ...]
    by_stage: np.ndarray  # enterprises x stages
    stage_present: np.ndarray
    by_origin: np.ndarray  # enterprises x ORIGINS
    origin_present: np.ndarray
    by_gas: np.ndarray  # enterprises x GAS_GROUPS
    gas_present: np.ndarray
    by_process: np.ndarray
    process_present: np.ndarray
    dq_weight: np.ndarray

    def indicator(self, name: str) -> np.ndarray:
        return self.totals[self.indicators.index(name)]


def _bincount(keys: np.ndarray, weights: np.ndarray, minlength: int) -> np.ndarray:
    """Sum of ``weights`` per key (float, also when empty)."""
    return np.bincount(keys, weights=weights, minlength=minlength).astype(float, copy=False)


def _sum_by_key(ent: np.ndarray, key: np.ndarray, n_keys: int, n_e: int, values, live) -> tuple[np.ndarray, ...]:
    """Sums and presence per (enterprise, key): ``P diag(values) 1`` with P the 0/1 aggregation matrix."""
    flat = ent * n_keys + key
    sums = _bincount(flat, weights=values, minlength=n_e * n_keys).reshape(n_e, n_keys)
    present = _bincount(flat, weights=live, minlength=n_e * n_keys).reshape(n_e, n_keys) > 0
    return sums, present


def _gas_groups(C: np.ndarray, B: np.ndarray, flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Q B, which activities emit each group) with Q[q, g] = sum of C[:, g] for the gases g of group q."""
    member = np.zeros((len(GAS_GROUPS), len(GASES)))
    member[[GAS_GROUPS.index(GAS_GROUP[g]) for g in GASES], np.arange(len(GASES))] = 1.0
    return (member * C.sum(axis=0)) @ B, (member @ flows) > 0


def aggregate(st: Stacked, S, cfs: Mapping[str, Mapping[str, float]] | None = None) -> Breakdown:
    """Totals and breakdowns of every enterprise from S, by first-tier attribution (module docstring)."""
    indicators, C = characterisation(cfs)
    n_e, n_fg = st.n_enterprises, st.n_foreground
    B = st.B.toarray()
    H = C @ B  # kg CO2e per unit of each activity, per indicator
    h = H.sum(axis=0)
    flows = B != 0
    emits = flows.any(axis=0)
    a = st.entry_mult * own_scaling(st, S)[st.entry_col]  # a_r = m_r s_j
    src, ent = st.entry_src, st.enterprise_of[st.entry_col]
    live = ((a != 0) & emits[src]).astype(float)
    totals = np.array([_bincount(ent, weights=a * H[i, src], minlength=n_e) for i in range(len(indicators))])
    by_stage = _sum_by_key(ent, st.entry_stage, len(st.stages), n_e, a * h[src], live)
    by_origin = _sum_by_key(ent, st.entry_origin, len(ORIGINS), n_e, a * h[src], live)
    QB, group_flows = _gas_groups(C, B, flows)
    by_gas = np.array([_bincount(ent, weights=a * QB[q, src], minlength=n_e) for q in range(len(GAS_GROUPS))]).T
    gas_present = np.array([_bincount(ent, weights=((a != 0) & group_flows[q, src]).astype(float), minlength=n_e)
                            for q in range(len(GAS_GROUPS))]).T > 0
    weight = np.abs(C.sum(axis=0)) @ np.abs(B)  # sum over gases of |kg CO2e| per unit of each activity
    return Breakdown(
        indicators=indicators, totals=totals.reshape(len(indicators), n_e), stages=st.stages,
        by_stage=by_stage[0], stage_present=by_stage[1], by_origin=by_origin[0], origin_present=by_origin[1],
        by_gas=by_gas.reshape(n_e, len(GAS_GROUPS)), gas_present=gas_present.reshape(n_e, len(GAS_GROUPS)),
        by_process=_bincount(st.entry_col, weights=a * h[src], minlength=n_fg),
        process_present=_bincount(st.entry_col, weights=live, minlength=n_fg) > 0,
        dq_weight=_bincount(st.entry_col, weights=np.abs(a) * weight[src], minlength=n_fg),
    )


# ---------------------------------------------------------------------------------------------
# the benchmarkable core: totals only
# ---------------------------------------------------------------------------------------------
def evaluate(foregrounds: Sequence[Foreground], factors: FactorSet,
             cfs: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, np.ndarray]:
    """kg CO2e per declared unit of every enterprise: ``{"fossil", "biogenic", "land_use", "total"}``.

    ``h^T = C B S`` with ``S = A^-1 F`` from one factorisation; per enterprise ``sum_r a_r H[:, k_r]``.
    """
    indicators, C = characterisation(cfs)
    st = stack(foregrounds, factors)
    n_e = st.n_enterprises
    H = C @ st.B.toarray()
    a = st.entry_mult * own_scaling(st, scaling(st))[st.entry_col]
    ent = st.enterprise_of[st.entry_col]
    out = {ind: _bincount(ent, weights=a * H[indicators.index(ind), st.entry_src], minlength=n_e)
           for ind in INDICATORS}
    out["total"] = sum((out[ind] for ind in INDICATORS), np.zeros(n_e))
    return out
