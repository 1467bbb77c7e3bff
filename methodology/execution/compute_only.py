"""Compute-only batches: the rows of the results table for many studies, without notebooks or Brightway.

Each study's result is the one ``Study.calculate`` gives, assembled by the same ``core.results.assemble`` from
the contributions table of the fast evaluator (``study.calculate_without_brightway``: one stacked system and
one LU factorisation per factor set); each row is ``table.result_row`` of that result. Tests check every
figure against Brightway's.
"""

from __future__ import annotations

from collections.abc import Sequence

from methodology.core.result import as_json
from methodology.errors import MethodologyError
from methodology.outputs.table import result_row
from methodology.study import Study, calculate_without_brightway

MONTE_CARLO_ITERATIONS = 10_000  # compute-only batches: as the notebooks' default and seed, the same interval


def compute_rows(studies: Sequence[Study], *, monte_carlo_iterations: int = 0,
                 collect: list | None = None) -> list[dict | MethodologyError]:
    """Rows of the results table (``table.result_row``) for many studies, one factorisation per factor set, each
    with its Monte Carlo interval (as a notebook run gives it); a study whose calculation fails has its error in
    its place. A Monte Carlo that cannot run leaves the row without an interval, not without a result; 0
    iterations: none. ``collect``: a list that receives each successful result's JSON form (for the batch's CBAM
    table, ``outputs.cbam.write_batch``)."""
    results = calculate_without_brightway(studies, keep_going=True)
    rows: list[dict | MethodologyError] = []
    for st, r in zip(studies, results, strict=True):
        if isinstance(r, MethodologyError):
            rows.append(r)
            continue
        try:
            r = st.with_uncertainty(r, monte_carlo_iterations)
        except MethodologyError:
            pass
        rows.append(result_row(r, st.rule.rule_set.industry))
        if collect is not None:
            collect.append(as_json(r))
    return rows
