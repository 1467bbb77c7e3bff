"""Sobol indices (``core.sensitivity``, SALib): exact on a model whose answer is known, blocks with an impossible
row left out whole, and the scrap-EAF mill's spread put where the Monte Carlo puts it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from methodology.core import sensitivity
from methodology.core.uncertainty import Model
from methodology.study import Study

ROOT = Path(__file__).resolve().parent.parent


class _Linear(Model):
    """log-additive toy: total = sum of ln(multipliers), so group variance shares are sum of sigma^2 shares."""

    def __init__(self, sigmas, fail_below=None):
        super().__init__(None, None, {}, [], ("data:p1.x", "data:p1.y", "data:p2.z"), np.array(sigmas), ())
        self.fail_below = fail_below

    def totals(self, M):
        y = np.log(M).sum(axis=1)
        rows = [i for i in range(len(M)) if self.fail_below is None or M[i, 2] > self.fail_below]
        return y[rows], rows


def test_sobol_reproduces_the_variance_shares_of_a_known_model():
    # Var(ln m) = sigma^2: group p1 holds 0.1^2 + 0.1^2 = 0.02 of 0.11, group p2 0.3^2 = 0.09
    res = sensitivity.sobol(_Linear([0.1, 0.1, 0.3]), n=1024, seed=3)
    got = {x.group: x for x in res.indices}
    assert got["data: p1"].S1 == pytest.approx(0.02 / 0.11, abs=0.05)
    assert got["data: p2"].ST == pytest.approx(0.09 / 0.11, abs=0.05)
    assert got["data: p1"].quantities == 2 and res.dropped == 0 and res.runs == 1024 * 4


def test_blocks_with_an_impossible_row_are_left_out_whole():
    res = sensitivity.sobol(_Linear([0.1, 0.1, 0.3], fail_below=float(np.exp(-0.3 * 2.5))), n=1024, seed=3)
    assert 0 < res.dropped < 100 and res.base_samples + res.dropped == 1024
    got = {x.group: x for x in res.indices}
    assert got["data: p2"].ST > got["data: p1"].ST  # still ranked right


def test_scrap_eaf_spread_is_its_grid_electricity():
    res = Study.prepare(ROOT / "parameters" / "steel" / "sd-scrap-eaf-mill-b.yaml").sensitivity(128, seed=2)
    top = [x.group for x in res.indices[:2]]
    assert set(top) == {"factors: electricity", "data: site-electricity-supply"}
    assert all(x.ST >= -0.05 for x in res.indices) and res.runs == 128 * (len(res.indices) + 2)


class _Ishigami(Model):
    """The Ishigami function (a = 7, b = 0.1) of three uniform inputs on [-pi, pi], each recovered from the
    lognormal multiplier the sampler draws (u = Phi(ln m / sigma)): the standard test of Sobol estimators."""

    def __init__(self):
        super().__init__(None, None, {}, [], ("data:x1.v", "data:x2.v", "data:x3.v"), np.ones(3), ())

    def totals(self, M):
        from scipy.stats import norm

        x = -np.pi + 2 * np.pi * norm.cdf(np.log(M) / self.sigmas)
        return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0]), list(range(len(M)))


def test_sobol_on_the_ishigami_function():
    # analytical indices (Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, section 4.4)
    res = {x.group: x for x in sensitivity.sobol(_Ishigami(), n=4096, seed=5).indices}
    assert [res[f"data: x{i}"].S1 for i in (1, 2, 3)] == pytest.approx([0.3139, 0.4424, 0.0], abs=0.03)
    assert [res[f"data: x{i}"].ST for i in (1, 2, 3)] == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.03)
