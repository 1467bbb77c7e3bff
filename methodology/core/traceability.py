"""Which factor, source, verification status and rule clause every contribution of a result rests on.

Pure functions over the rule, the enterprise's data, its foreground and the factor set (no Brightway). A row of
the contributions table (``core.contributions``) is one foreground column's first-tier exchange: a background
input rests on that input's factor (its cradle-to-gate ``emissions``); the column's direct emissions rest on the
factors whose values its emission mechanisms used (``properties``: carbon contents, calorific values, oxidation
rates; a ``process_factor`` mechanism: the factor's ``emissions``), and on none where the enterprise measured
every value. ``shares`` sums the absolute contributions by what they rest on (``result.json`` ``traceability``);
``factor_quality`` scores the factors (decision record ``docs/decisions/0009-factor-traceability-and-quality.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from methodology.core import result as R
from methodology.core.contributions import DIRECT, ORIGINS
from methodology.core.factor_quality import Use, cited, factor_pedigree, score, verified
from methodology.core.foreground import MEASURABLE_CARBON, Foreground, Origin
from methodology.schema import mechanisms as m
from methodology.schema.common import ClauseRef
from methodology.schema.factors import FactorSet, Limitation, Status
from methodology.schema.parameters import EnterpriseData
from methodology.schema.rules import AllocationApproach, FlowKind, Rule

UseKey = tuple[str, Use]  # (factor id, which of its values)
SHARE_BASIS = ("sum of the absolute kg CO2e of the contribution rows (per foreground process, input, origin and "
               "gas; credits count by their size), the same weights as the data-quality rating")


# ---------------------------------------------------------------------------------------------
# what each row rests on
# ---------------------------------------------------------------------------------------------
def _measured(ed: EnterpriseData, pid: str, f) -> bool:
    """The enterprise gave the flow's carbon content, which then replaces the factor's (``foreground``)."""
    d = ed.data.get((pid, f.key))
    return f.kind in MEASURABLE_CARBON and d is not None and d.carbon_kg_per_unit is not None


def mechanism_uses(rule: Rule, ed: EnterpriseData, pid: str, spec, result) -> list[UseKey]:
    """The factor values one emission mechanism of a process used: carbon contents of the flows a carbon balance
    counted (unless measured by the enterprise), the fuels a combustion burned (their oxidation rate at least),
    the carbonates calcined, a process factor's emissions. PFC slopes and oxide contents are rule or enterprise
    parameters, not factors."""
    flows = rule.process_by_id[pid].flow_by_key
    out: list[UseKey] = []
    if isinstance(spec, m.ProcessFactor):
        out.append((result.detail.get("factor", spec.factor), Use.emissions))
    elif isinstance(spec, m.CarbonBalance) and result.carbon is not None:
        counted = [flows[k] for k, c in (*result.carbon.inputs.items(), *result.carbon.outputs.items())
                   if c and k in flows]  # not the residue term of the oxidation choice (carbon.UNOXIDISED)
        out += [(rule.carbon_factor_of(f), Use.properties) for f in counted
                if rule.carbon_factor_of(f) and not _measured(ed, pid, f)]
    elif isinstance(spec, m.Combustion):
        out += [(flows[k].factor, Use.properties) for k in spec.fuels if ed.amount(pid, k) and flows[k].factor]
    elif isinstance(spec, m.Calcination) and spec.basis is m.CalcinationBasis.carbonates:
        out += [(rule.carbon_factor_of(flows[k]), Use.properties) for k in spec.carbonates
                if ed.amount(pid, k) and rule.carbon_factor_of(flows[k]) and not _measured(ed, pid, flows[k])]
    return list(dict.fromkeys(out))


def direct_uses(rule: Rule, ed: EnterpriseData, fg: Foreground) -> dict[str, list[UseKey]]:
    """Per foreground column, the factor values its direct emissions rest on: its process's mechanisms, the
    carbon of co-products burned in the expanded system, and for a process gas's surplus column the gas's
    carbon when it is burned in the expanded system."""
    out: dict[str, list[UseKey]] = {}
    for col in fg.processes.values():
        if not any(e.kind == "biosphere" for e in col.exchanges):
            out[col.id] = []
            continue
        if col.surplus:
            out[col.id] = [(rule.product_by_id[col.product].carbon_factor, Use.properties)]
            continue
        pid = col.id.split("::")[0]
        spec = rule.process_by_id[pid]
        uses = [u for s, r in zip(spec.emissions, fg.processes[pid].mechanisms, strict=True)
                for u in mechanism_uses(rule, ed, pid, s, r)] if pid in fg.processes else []
        if rule.approach_of(pid) is AllocationApproach.system_expansion:
            for f in spec.outputs:
                cop = rule.coproduct_by_id.get(f.coproduct) if f.kind is FlowKind.coproduct else None
                if cop is not None and cop.burned_in_expansion and not cop.exports and cop.carbon_factor \
                        and ed.amount(pid, f.key) > 0:
                    uses.append((cop.carbon_factor, Use.properties))
        out[col.id] = list(dict.fromkeys(uses))
    return out


def row_uses(source: str, column: str, direct: Mapping[str, list[UseKey]]) -> list[UseKey]:
    """What one (column, source) row rests on: an input's factor emissions, or the column's direct uses."""
    return list(direct.get(column, [])) if source == DIRECT else [(source, Use.emissions)]


# ---------------------------------------------------------------------------------------------
# the clauses governing a row
# ---------------------------------------------------------------------------------------------
def row_clauses(rule: Rule, fg: Foreground, column: str, source: str, origin: str) -> list[ClauseRef]:
    """The rule's clauses governing one row: its process's (for a gas's surplus column, the maker's and the
    gas export's), electricity's for grid electricity, the co-products' replaced by a credited factor (else the
    allocation's), the end-of-life approach's for the factors it covers."""
    col = fg.processes[column]
    refs = list(rule.process_by_id[column.split("::")[0]].clause)
    if col.surplus and rule.export_of(col.product) is not None:
        refs += rule.export_of(col.product).clause
    if origin == Origin.electricity.value:
        refs += rule.electricity.clause
    if origin == Origin.credit.value:
        by_coproduct = [r for c in rule.allocation.coproducts if c.substitutes == source for r in c.clause]
        refs += by_coproduct or rule.allocation.clause
    if rule.end_of_life is not None and source in rule.end_of_life.applies_to:
        refs += rule.end_of_life.clause
    return list({(r.standard, r.clause): r for r in refs}.values())


# ---------------------------------------------------------------------------------------------
# the shares of the footprint by what it rests on
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UseFlags:
    """What a contribution resting on one factor's values inherits: whether every cited source is verified,
    and (for its emissions only: the flags qualify the cradle-to-gate value) partial, proxy, illustrative."""

    verified: bool
    partial: bool = False
    proxy: bool = False
    illustrative: bool = False


def use_flags(fs: FactorSet, uses: Iterable[UseKey]) -> dict[UseKey, UseFlags]:
    """What each factor value passes on to the contributions resting on it (``UseFlags``)."""
    out = {}
    for fid, use in uses:
        f = fs.get(fid)
        ok = verified(f, use, fs.sources)
        if use is Use.emissions:
            out[(fid, use)] = UseFlags(ok, Limitation.partial in f.limitations, Limitation.proxy in f.limitations,
                                       f.status is Status.illustrative)
        else:
            out[(fid, use)] = UseFlags(ok)
    return out


SHARES = ("verified", "unverified", "no_factor", "partial", "proxy", "illustrative")


def shares(rows: Sequence[tuple[float, Sequence[UseKey]]], flags: Mapping[UseKey, UseFlags]) -> dict[str, float]:
    """Shares of the absolute contributions by what they rest on. ``rows``: (kg CO2e, the factor values the
    row rests on). A row is ``verified`` when it rests on factors and every source they cite is verified,
    ``unverified`` when any is not, ``no_factor`` when it rests on none (those three add up to 1);
    ``partial``, ``proxy`` and ``illustrative`` when any factor it rests on is (these may overlap).
    ``absolute_kg_co2e``: the denominator, the sum of |kg CO2e|."""
    total = sum(abs(w) for w, _ in rows)
    acc = dict.fromkeys(SHARES, 0.0)
    for w, uses in rows:
        w = abs(w)
        if not uses:
            acc["no_factor"] += w
            continue
        fl = [flags[u] for u in uses]
        acc["verified" if all(x.verified for x in fl) else "unverified"] += w
        for name in ("partial", "proxy", "illustrative"):
            acc[name] += w if any(getattr(x, name) for x in fl) else 0.0
    return {**{k: (v / total if total else 0.0) for k, v in acc.items()}, "absolute_kg_co2e": total}


def cited_sources(fs: FactorSet, uses: Iterable[UseKey]) -> dict[str, list[str]]:
    """Per source key, the values of which factors cite it (``<factor>.emissions`` or ``.properties``)."""
    out: dict[str, list[str]] = {}
    for fid, use in uses:
        for key in cited(fs.get(fid), use):
            out.setdefault(key, []).append(f"{fid}.{use.value}")
    return out


# ---------------------------------------------------------------------------------------------
# the result's sections
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One (column, source, origin) of the contributions table: |kg CO2e| summed over its gases."""

    column: str
    source: str
    origin: str
    weight: float
    uses: tuple[UseKey, ...]
    clauses: tuple[ClauseRef, ...]


def rows(rule: Rule, ed: EnterpriseData, fg: Foreground, c, totals) -> list[Row]:
    """The contributions table ``c`` (``core.contributions``) with ``totals`` (kg CO2e of each row), summed per
    column, source and origin, with what each rests on and the clauses governing it; table order."""
    direct = direct_uses(rule, ed, fg)
    acc: dict[tuple[int, int, int], float] = {}
    for p, s, o, w in zip(c.process.tolist(), c.source.tolist(), c.origin.tolist(), totals.tolist(), strict=True):
        acc[(p, s, o)] = acc.get((p, s, o), 0.0) + abs(w)
    out = []
    for (p, s, o), w in acc.items():
        column, source, origin = c.processes[p], c.sources[s], ORIGINS[o]
        out.append(Row(column, source, origin, w, tuple(row_uses(source, column, direct)),
                       tuple(row_clauses(rule, fg, column, source, origin))))
    return out


@dataclass(frozen=True)
class Trace:
    """What a result's contributions rest on: its rows, the flags and pedigree of every factor value used, and
    per direct-emission mechanism (``direct_emissions`` order) the factor values it used."""

    rows: list[Row]
    flags: dict[UseKey, UseFlags]
    pedigrees: dict[UseKey, dict[str, int]]
    mechanisms: list[list[UseKey]]
    context: tuple  # (factor set sha256, province, reference years): what the pedigrees depend on


# Models and scores that depend only on file contents (a factor set's or rule's sha256) and the enterprise's
# province and reference years are made once per process and shared: they are frozen. Unread (in-memory) files
# have no sha256 and are never cached.
_CACHE: dict[tuple, object] = {}


def _cached(key: tuple, make):
    if not key[0]:
        return make()
    hit = _CACHE.get(key)
    if hit is None:
        if len(_CACHE) > 100_000:
            _CACHE.clear()
        hit = _CACHE[key] = make()
    return hit


def trace(rule: Rule, ed: EnterpriseData, fg: Foreground, fs: FactorSet, c, totals) -> Trace:
    rs = rows(rule, ed, fg, c, totals)
    mech = [mechanism_uses(rule, ed, p.id, spec, r) for p in fg.processes.values()
            for spec, r in zip(rule.process_by_id[p.id.split("::")[0]].emissions, p.mechanisms, strict=False)]
    used = list(dict.fromkeys([u for r in rs for u in r.uses] + [u for uses in mech for u in uses]))
    period = ed.params.reference_period
    province, years = ed.params.enterprise.province, (period.start.year, period.end.year)
    sha = fs.content_key  # the file's sha256 (and the supplier values a study added): read once
    pedigrees = {u: _cached(("pedigree", sha, u, province, years), lambda u=u: factor_pedigree(
        fs.get(u[0]), u[1], fs.sources, province=province, years=years)) for u in used}
    flags = {u: _cached(("flags", sha, u), lambda u=u: use_flags(fs, [u])[u]) for u in used}
    return Trace(rs, flags, pedigrees, mech, (sha, province, years))


def clauses(rule: Rule, refs: Iterable[ClauseRef]) -> list[R.Clause]:
    sha = rule.sha256
    return [_cached(("clause", sha, r.standard, r.clause, r.note), lambda r=r: R.Clause(
        standard=r.standard, edition=rule.standards[r.standard].edition, clause=r.clause, note=r.note))
        for r in refs]


def _factor_ids(uses: Iterable[UseKey]) -> list[str]:
    return list(dict.fromkeys(f for f, _ in uses))


def input_fields(tr: Trace, rule: Rule) -> dict[str, dict]:
    """Per ``by_input`` source, its traceability fields: factor, factors, verified, processes, clauses."""
    grouped: dict[str, list[Row]] = {}
    for r in tr.rows:
        grouped.setdefault(r.source, []).append(r)
    out = {}
    for source, rs in grouped.items():
        uses = list(dict.fromkeys(u for r in rs for u in r.uses))
        refs = {(x.standard, x.clause): x for r in rs for x in r.clauses}
        out[source] = {
            "factor": None if source == DIRECT else source, "factors": _factor_ids(uses),
            "verified": all(tr.flags[u].verified for u in uses) if uses else None,
            "processes": list(dict.fromkeys(r.column for r in rs)), "clauses": clauses(rule, refs.values()),
        }
    return out


def mechanism_fields(tr: Trace, rule: Rule, fg: Foreground) -> list[dict]:
    """Per ``direct_emissions`` entry (same order): the factors its mechanism used and its process's clauses."""
    pids = [p.id for p in fg.processes.values() for _ in p.mechanisms]
    return [{"factors": _factor_ids(uses), "clauses": clauses(rule, rule.process_by_id[pid].clause)}
            for pid, uses in zip(pids, tr.mechanisms, strict=True)]


def _values(tr: Trace, fs: FactorSet, fid: str, use: Use) -> R.FactorValues | None:
    if (fid, use) not in tr.pedigrees:
        return None
    ped = tr.pedigrees[(fid, use)]
    return R.FactorValues(sources=cited(fs.get(fid), use), verified=tr.flags[(fid, use)].verified,
                          pedigree=R.Pedigree(**{k: float(v) for k, v in ped.items()}),
                          pedigree_score=round(score(ped), 3))


def _factor_used(tr: Trace, fs: FactorSet, fid: str) -> R.FactorUsed:
    f = fs.get(fid)
    return R.FactorUsed(
        name=f.name, category=f.category, reference_unit=f.reference_unit, geography=f.geography, period=f.period,
        status=f.status, limitations=list(f.limitations), emissions=_values(tr, fs, fid, Use.emissions),
        properties=_values(tr, fs, fid, Use.properties))


def _source_used(fs: FactorSet, key: str, cited_by: list[str]) -> R.SourceUsed:
    src = fs.sources[key]
    return R.SourceUsed(document=src.document, table=src.table, edition=src.edition, publisher=src.publisher,
                        year=src.year, url=src.url, verified=src.verified, cited_by=cited_by)


def factor_sections(tr: Trace, fs: FactorSet) -> dict:
    """``factors_used`` (by factor id, sorted), ``sources_used`` (by key, sorted) and ``traceability``."""
    used = sorted(tr.pedigrees)
    factors = {fid: _cached(("factor", *tr.context, fid, tuple(u for f, u in used if f == fid)),
                            lambda fid=fid: _factor_used(tr, fs, fid)) for fid in _factor_ids(used)}
    citing = cited_sources(fs, used)
    sources = {key: _cached(("source", tr.context[0], key, tuple(citing[key])),
                            lambda key=key: _source_used(fs, key, citing[key])) for key in sorted(citing)}
    sh = shares([(r.weight, r.uses) for r in tr.rows], tr.flags)
    trace_model = R.Traceability(
        basis=SHARE_BASIS, absolute_kg_co2e=round(sh["absolute_kg_co2e"], 6),
        **{f"{k}_share": round(sh[k], 6) for k in SHARES},
        unverified_sources=[k for k, s in sources.items() if not s.verified])
    return {"factors_used": factors, "sources_used": sources, "traceability": trace_model}
