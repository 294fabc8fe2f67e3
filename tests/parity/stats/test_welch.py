"""Welch's t test from summaries against scipy.stats.ttest_ind(equal_var=False) on the raw values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.stats import welch_t_test


@pytest.mark.parametrize("seed", range(6))
def test_welch_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(rng.random(), rng.random() + 0.1, size=int(rng.integers(2, 200)))
    b = rng.beta(2, 3, size=int(rng.integers(2, 200)))
    t, p = welch_t_test(a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size)
    want = stats.ttest_ind(a, b, equal_var=False)
    assert t[0] == pytest.approx(want.statistic, rel=1e-10)
    assert p[0] == pytest.approx(want.pvalue, rel=1e-9)


def test_undefined_cases_are_nan():
    t, p = welch_t_test([0.5, 0.5, 0.5], [0.1, 0.0, 0.1], [1, 10, 10], [0.4, 0.4, 0.4], [0.1, 0.0, 0.1], [10, 10, 10])
    assert np.isnan(t[:2]).all() and np.isnan(p[:2]).all() and np.isfinite(p[2])
