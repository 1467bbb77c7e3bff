"""Co-product allocation: pure functions (ISO 14044:2006 4.3.4.2, ISO 14067:2018 6.4.6)."""

from __future__ import annotations

from collections.abc import Sequence

from methodology.errors import CalculationError


def partition(weights: Sequence[float]) -> list[float]:
    """Allocation shares proportional to ``weights`` (masses, or masses x prices). They sum to 1."""
    if any(w < 0 for w in weights):
        raise CalculationError(f"allocation weights must be >= 0, found {list(weights)}")
    total = float(sum(weights))
    if total <= 0:
        raise CalculationError(
            f"allocation weights sum to {total}: a price or mass is missing for the co-products"
        )
    return [w / total for w in weights]


def allocation_factor(reference_weight: float, coproduct_weights: Sequence[float]) -> float:
    """Share of a multi-output process's burden that goes to its reference product."""
    return partition([reference_weight, *coproduct_weights])[0]
