"""Data-quality ratings other schemes ask for, from the workbench's combined pedigree ratings (1 best to 5).

- PACT v3 (Technical Specifications 3.0, ``DataQualityIndicators``; PACT Methodology 3.0 section 4.2.3): the
  technological, geographical and temporal DQR, 1 to 5, weighted over the inputs by their contribution to the
  footprint; here the combined (activity and factor) ratings, weighted by absolute contribution.
- PEF (Commission Recommendation (EU) 2021/2279, Annex I, section 4.6.5.2): DQR = (TeR + GR + TiR + P) / 4 with
  the precision P taken as the reliability rating; a DQR up to 1.5 is excellent, up to 2.0 very good, up to 3.0
  good, up to 4.0 fair, above poor.
- What to improve first: the inputs whose data quality costs most, ranked by contribution share x (combined
  score - 1), each with the indicators rated worst; these are what an enterprise should measure or source better
  when its footprint misses the rule's requirements.
"""

from __future__ import annotations

PEF_LEVELS = ((1.5, "excellent"), (2.0, "very good"), (3.0, "good"), (4.0, "fair"))
INDICATORS = ("technological", "temporal", "geographical", "completeness", "reliability")


def pact_dqr(combined: dict[str, float]) -> dict[str, float]:
    """PACT v3 technological, geographical and temporal DQR (1-5) from the weighted combined ratings."""
    return {"technologicalDQR": round(combined["technological"], 2),
            "geographicalDQR": round(combined["geographical"], 2), "temporalDQR": round(combined["temporal"], 2)}


def pef_level(dqr: float) -> str:
    return next((name for limit, name in PEF_LEVELS if dqr <= limit), "poor")


def pef_dqr(combined: dict[str, float]) -> dict[str, float | str]:
    """PEF DQR = (TeR + GR + TiR + P) / 4, P the reliability rating, with its quality level."""
    ter, gr, tir, p = (combined[k] for k in ("technological", "geographical", "temporal", "reliability"))
    dqr = (ter + gr + tir + p) / 4
    return {"TeR": round(ter, 2), "GR": round(gr, 2), "TiR": round(tir, 2), "P": round(p, 2), "DQR": round(dqr, 2),
            "level": pef_level(dqr)}


def improve_first(by_input: list[dict], limit: int = 5) -> list[dict]:
    """The inputs to improve first: priority = contribution share x (combined score - 1), largest first (only
    inputs with a priority above zero), each with its worst-rated indicators."""
    rows = []
    for x in by_input:
        combined, score = x.get("combined"), x.get("combined_score")
        if not combined or score is None:
            continue
        priority = x["weight_share"] * (score - 1)
        if priority <= 0:
            continue
        worst = max(combined[k] for k in INDICATORS)
        rows.append({"source": x["source"], "weight_share": x["weight_share"], "combined_score": score,
                     "priority": round(priority, 4),
                     "worst_indicators": [k for k in INDICATORS if combined[k] == worst]})
    return sorted(rows, key=lambda r: (-r["priority"], r["source"]))[:limit]
