"""The contributions table: what every evaluator gives the one assembler of ``result.json``.

A row is the kg of one gas attributed to one first-tier exchange of one foreground process: its direct
emissions (source ``direct``) or the whole cradle-to-gate inventory of one background input it consumes
(source: the factor id), with the origin of that exchange. Brightway's matrices
(``matrix.first_tier_contributions``) and the stacked fast evaluator (``compute.contributions``) both
produce this table; ``results.assemble`` turns it into the typed result. Every figure of the result is a
sum over rows, so each breakdown partitions the same total.

Columns are integer codes: ``process`` into ``processes`` (the foreground's processes, in its order),
``source`` into ``sources`` (``"direct"`` first, then background factor ids), ``origin`` into ``ORIGINS`` and
``gas`` into ``GASES``. Rows with 0 kg are never listed. Pure numpy; no Brightway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from methodology.core.foreground import Foreground, Origin
from methodology.gases import Gas

GASES: tuple[Gas, ...] = tuple(Gas)
GAS_INDEX = {g.value: i for i, g in enumerate(GASES)}
ORIGINS: tuple[str, ...] = tuple(o.value for o in Origin)
ORIGIN_CODE = {o: i for i, o in enumerate(ORIGINS)}
DIRECT = "direct"  # the source of a process's own emissions


@dataclass(frozen=True)
class Contributions:
    """kg of each gas per (foreground process, source, origin): one enterprise's contribution rows."""

    processes: tuple[str, ...]
    sources: tuple[str, ...]
    process: np.ndarray  # int codes into processes
    source: np.ndarray  # int codes into sources
    origin: np.ndarray  # int codes into ORIGINS
    gas: np.ndarray  # int codes into GASES
    kg: np.ndarray
    scaling: Mapping[str, float]  # s_j of every foreground process: share of its annual operation per declared unit

    def __len__(self) -> int:
        return len(self.kg)

    def characterised(self, cfs: Mapping[str, Mapping[str, float]]) -> tuple[tuple[str, ...], np.ndarray]:
        """Indicator names and kg CO2e of every row per indicator (indicators x rows)."""
        C = characterisation_matrix(cfs)
        return tuple(cfs), C[:, self.gas] * self.kg

    def rows(self, cfs: Mapping[str, Mapping[str, float]]) -> list[dict]:
        """The table as dicts (process, source, origin, gas, kg, kg CO2e per indicator and total), for reading."""
        names, values = self.characterised(cfs)
        return [{"process": self.processes[p], "source": self.sources[s], "origin": ORIGINS[o],
                 "gas": GASES[g].value, "kg": float(kg), **{n: float(v) for n, v in zip(names, col, strict=True)},
                 "total": float(col.sum())}
                for p, s, o, g, kg, col in zip(self.process, self.source, self.origin, self.gas, self.kg, values.T,
                                               strict=True)]


def characterisation_matrix(cfs: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    """C (indicators x gases, ``GASES`` order): kg CO2e per kg of each gas, per indicator of ``cfs``."""
    return np.array([[float(table.get(g.value, 0.0)) for g in GASES] for table in cfs.values()]).reshape(
        -1, len(GASES))


def from_records(fg: Foreground, records: Sequence[tuple[str, str, str, Gas, float]],
                 scaling: Mapping[str, float]) -> Contributions:
    """A table from (process, source, origin, gas, kg) records; records with 0 kg are left out."""
    live = [r for r in records if r[4] != 0]
    sources = tuple(dict.fromkeys([DIRECT, *sorted({r[1] for r in live if r[1] != DIRECT})]))
    p_code = {p: i for i, p in enumerate(fg.processes)}
    s_code = {s: i for i, s in enumerate(sources)}

    def column(values) -> np.ndarray:
        return np.fromiter(values, dtype=np.int64, count=len(live))

    return Contributions(
        processes=tuple(fg.processes), sources=sources,
        process=column(p_code[r[0]] for r in live), source=column(s_code[r[1]] for r in live),
        origin=column(ORIGIN_CODE[r[2]] for r in live), gas=column(GAS_INDEX[r[3].value] for r in live),
        kg=np.array([float(r[4]) for r in live], dtype=float),
        scaling={p: float(scaling.get(p, 0.0)) for p in fg.processes},
    )
