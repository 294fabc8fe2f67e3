"""A slice against the rest: each statistic recomputed per slice with statsmodels and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from analysis import stats as S
from tests.parity.stats import close

sm_proportion = pytest.importorskip("statsmodels.stats.proportion")
sm_multitest = pytest.importorskip("statsmodels.stats.multitest")


def test_slice_vs_rest_matches_statsmodels_and_scipy():
    rng = np.random.default_rng(24)
    total_n = 5000
    n = np.r_[rng.integers(1, 60, 30), rng.integers(200, 1500, 10), [0, total_n]]
    errors = rng.binomial(n, np.r_[rng.uniform(0.05, 0.4, 40), [0.1, 0.1]])
    total_errors = 700
    errors[-1] = total_errors  # the slice holding the whole run
    tested = n >= 20
    s = S.slice_vs_rest(errors, n, total_errors, total_n, tested=tested, confidence=0.9)
    p_ref = np.full(n.size, np.nan)
    for i in range(n.size):
        e, t = int(errors[i]), int(n[i])
        re_, rt = total_errors - e, total_n - t
        close(s.error_rate[i], e / t if t else math.nan)
        close(s.rest_error_rate[i], re_ / rt if rt else math.nan)
        close(s.difference[i], (e / t if t else math.nan) - (re_ / rt if rt else math.nan))
        if t:
            method = "beta" if s.ci_method[i] == "clopper-pearson" else "wilson"
            assert method == ("beta" if t < 30 or e < 5 or t - e < 5 else "wilson")
            low, high = sm_proportion.proportion_confint(e, t, alpha=0.1, method=method)
            close([s.ci_low[i], s.ci_high[i]], [low, high])
        if not tested[i]:
            assert math.isnan(s.p_value[i]) and s.test[i] == "" and math.isnan(s.q_value[i])
            continue
        if rt == 0:
            assert math.isnan(s.p_value[i])
            continue
        table = np.array([[e, t - e], [re_, rt - re_]])
        if scipy.stats.contingency.expected_freq(table).min() < 5:
            assert s.test[i] == "fisher"
            p_ref[i] = scipy.stats.fisher_exact(table).pvalue
        else:
            assert s.test[i] == "z"
            p_ref[i] = sm_proportion.proportions_ztest([e, re_], [t, rt])[1]
        close(s.p_value[i], p_ref[i])
    assert {"fisher", "z"} <= set(s.test.tolist())
    mask = ~np.isnan(p_ref)
    close(s.q_value[mask], sm_multitest.multipletests(p_ref[mask], method="fdr_bh")[1])
