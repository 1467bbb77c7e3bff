"""Compute-only batches: the rows of the results table for many studies, without notebooks or Brightway.

Each study's result is the one ``Study.calculate`` gives, assembled by the same ``core.results.assemble`` from
the contributions table of the fast evaluator (``study.calculate_without_brightway``: one stacked system and
one LU factorisation per factor set); each row is ``table.result_row`` of that result. Tests check every
figure against Brightway's.
"""

from __future__ import annotations

from collections.abc import Sequence

from methodology.errors import MethodologyError
from methodology.outputs.table import result_row
from methodology.study import Study, calculate_without_brightway


def compute_rows(studies: Sequence[Study]) -> list[dict | MethodologyError]:
    """Rows of the results table (``table.result_row``) for many studies, one factorisation per factor set; a
    study whose calculation fails has its error in its place."""
    results = calculate_without_brightway(studies, keep_going=True)
    return [r if isinstance(r, MethodologyError) else result_row(r, st.rule.rule_set.industry)
            for st, r in zip(studies, results, strict=True)]
