"""Spearman's rho per group against scipy.stats.spearmanr."""

from __future__ import annotations

import numpy as np
import scipy.stats

from analysis import stats as S
from tests.parity.stats import close


def test_spearman_per_group_matches_scipy():
    rng = np.random.default_rng(22)
    n = 400
    x = np.round(rng.normal(size=n), 1)  # ties
    y = np.round(x + rng.normal(size=n), 0)
    codes = rng.integers(0, 6, n)
    x[rng.random(n) < 0.05] = np.nan
    y[rng.random(n) < 0.05] = np.nan
    # special groups: 6 = two rows, 7 = constant x, 8 = one row, 9 = empty,
    # 10 = perfect monotone, 11 = all-NaN rows
    x = np.r_[x, [1, 2], [5, 5, 5], [1], [1, 2, 3, 4], [np.nan, 1]]
    y = np.r_[y, [2, 1], [1, 2, 3], [1], [10, 20, 30, 40], [1, np.nan]]
    codes = np.r_[codes, [6, 6], [7, 7, 7], [8], [10, 10, 10, 10], [11, 11]]
    rho, p = S.spearman_per_group(x, y, codes, 12)
    for g in range(12):
        m = (codes == g) & ~np.isnan(x) & ~np.isnan(y)
        if m.sum() < 2:
            assert np.isnan(rho[g]) and np.isnan(p[g])
            continue
        ref = scipy.stats.spearmanr(x[m], y[m])
        close(rho[g], ref.statistic)
        close(p[g], ref.pvalue)
