"""PACT and PEF data-quality ratings and the inputs to improve first (``core.dq_ratings``), by hand and on a
shipped enterprise."""

from __future__ import annotations

from pathlib import Path

import pytest

from methodology.core import dq_ratings
from methodology.outputs import pact
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent
COMBINED = {"technological": 2.0, "temporal": 4.0, "geographical": 3.0, "completeness": 5.0, "reliability": 1.0}


def test_pef_dqr_by_hand_and_its_levels():
    # PEF (Recommendation (EU) 2021/2279, Annex I 4.6.5.2): (TeR + GR + TiR + P) / 4 = (2 + 3 + 4 + 1) / 4
    assert dq_ratings.pef_dqr(COMBINED) == {"TeR": 2.0, "GR": 3.0, "TiR": 4.0, "P": 1.0, "DQR": 2.5, "level": "good"}
    assert [dq_ratings.pef_level(x) for x in (1.0, 1.5, 1.51, 2.0, 3.0, 3.2, 4.0, 4.01)] == [
        "excellent", "excellent", "very good", "very good", "good", "fair", "fair", "poor"]
    assert dq_ratings.pact_dqr(COMBINED) == {"technologicalDQR": 2.0, "geographicalDQR": 3.0, "temporalDQR": 4.0}


def test_improve_first_ranks_by_share_times_score_gap():
    rows = [{"source": "a", "weight_share": 0.6, "combined": dict(COMBINED, completeness=2.0), "combined_score": 2.0},
            {"source": "b", "weight_share": 0.3, "combined": COMBINED, "combined_score": 3.0},
            {"source": "c", "weight_share": 0.1, "combined": {k: 1.0 for k in COMBINED}, "combined_score": 1.0},
            {"source": "d", "weight_share": 0.0, "combined": None, "combined_score": None}]
    got = dq_ratings.improve_first(rows)
    assert [(r["source"], r["priority"]) for r in got] == [("a", 0.6), ("b", 0.6)]  # 0.6 x 1 and 0.3 x 2; c: 0
    assert got[0]["worst_indicators"] == ["temporal"] and got[1]["worst_indicators"] == ["completeness"]
    assert [r["source"] for r in dq_ratings.improve_first(rows, limit=1)] == ["a"]  # equal priorities: by name


def test_result_ratings_are_the_combined_ones_and_reach_the_pact_file():
    r = Study.prepare(ROOT / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml").calculate_without_brightway()
    dq = r.data_quality
    c = dq.combined_indicators
    assert dq.pef_dqr["DQR"] == pytest.approx((c.technological + c.geographical + c.temporal + c.reliability) / 4,
                                              abs=0.006)
    assert dq.pact_dqr["temporalDQR"] == pytest.approx(c.temporal, abs=0.005)
    assert pact.footprint_v3(r)["pcf"]["dqi"] == {k: f"{v:g}" for k, v in dq.pact_dqr.items()}
    shares = {x.source: x.weight_share for x in dq.by_input}
    assert dq.improve_first and all(x["priority"] == pytest.approx(
        shares[x["source"]] * (x["combined_score"] - 1), abs=1e-3) for x in dq.improve_first)
    assert [x["priority"] for x in dq.improve_first] == sorted((x["priority"] for x in dq.improve_first), reverse=True)
