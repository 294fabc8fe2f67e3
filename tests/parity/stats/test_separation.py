"""AUC with its DeLong / Hanley-McNeil interval against sklearn, scipy and a direct computation; Cohen's d against
a direct computation; the Mann-Whitney p-value and the separation statistics against scipy and sklearn."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
import scipy.stats

from analysis import stats as S
from tests.parity.stats import close

sk_metrics = pytest.importorskip("sklearn.metrics")


def _slow_delong_var(pos, neg):
    psi = np.array([[1.0 if x > y else 0.5 if x == y else 0.0 for y in neg] for x in pos])
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    return np.var(v10, ddof=1) / len(pos) + np.var(v01, ddof=1) / len(neg)


_u = np.random.default_rng(19)
AUC_SCENARIOS = {
    "continuous": (_u.normal(1, 1, 60), _u.normal(0, 1, 80)),
    "ties": (np.round(_u.normal(0.5, 1, 50)), np.round(_u.normal(0, 1, 45))),
    "perfect": (np.array([3.0, 4.0, 5.0]), np.array([0.0, 1.0, 2.0])),
    "tiny": (np.array([0.4, 0.9]), np.array([0.5, 0.1])),
}


@pytest.mark.parametrize("method", ["delong", "hanley-mcneil"])
@pytest.mark.parametrize("scenario", sorted(AUC_SCENARIOS))
def test_auc_with_interval(scenario, method):
    pos, neg = AUC_SCENARIOS[scenario]
    auc, low, high = S.auc_with_interval(pos, neg, confidence=0.9, method=method)
    labels = np.r_[np.ones(pos.size), np.zeros(neg.size)]
    close(auc, sk_metrics.roc_auc_score(labels, np.r_[pos, neg]))
    close(auc * pos.size * neg.size, scipy.stats.mannwhitneyu(pos, neg).statistic)
    if method == "delong":
        var = _slow_delong_var(pos, neg)
    else:  # Hanley & McNeil (1982), eq. 2 with Q1 = A/(2-A), Q2 = 2A^2/(1+A)
        A, n1, n0 = auc, pos.size, neg.size
        var = (A * (1 - A) + (n1 - 1) * (A / (2 - A) - A * A) + (n0 - 1) * (2 * A * A / (1 + A) - A * A)) / (n1 * n0)
    z = scipy.stats.norm.ppf(0.95)
    close(low, max(0.0, auc - z * math.sqrt(var)))
    close(high, min(1.0, auc + z * math.sqrt(var)))


def test_auc_degenerate():
    assert all(math.isnan(v) for v in S.auc_with_interval([], [1.0]))
    auc, low, high = S.auc_with_interval([1.0], [0.0, 0.5])
    assert auc == 1.0 and math.isnan(low) and math.isnan(high)


def _slow_cohens_d(a, b):
    na, nb = len(a), len(b)
    pooled = ((na - 1) * statistics.variance(a) + (nb - 1) * statistics.variance(b)) / (na + nb - 2)
    return (statistics.fmean(a) - statistics.fmean(b)) / math.sqrt(pooled)


_d = np.random.default_rng(20)
SMD_SCENARIOS = {
    "random": (_d.normal(0.3, 1, 40), _d.normal(0, 2, 70)),
    "small": (np.array([2.0, 4.0, 6.0]), np.array([1.0, 2.0, 3.0])),
    "large_offset": (_d.normal(1e6, 1, 30), _d.normal(1e6 + 0.5, 1, 30)),
}


@pytest.mark.parametrize("scenario", sorted(SMD_SCENARIOS))
def test_standardized_mean_difference(scenario):
    a, b = SMD_SCENARIOS[scenario]
    close(S.standardized_mean_difference(a, b), _slow_cohens_d(list(a), list(b)), tol=1e-9)


def test_standardized_mean_difference_edge_cases():
    # a one-item sample contributes no variance: s_p^2 = (n_b - 1) sd_b^2 / (n_a + n_b - 2)
    b = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    close(S.standardized_mean_difference([2.0], b), 2.0 / math.sqrt(4 * statistics.variance(b) / 4))
    for a, b in [([], [1.0, 2.0]), ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0]), ([1.0], [2.0])]:
        assert math.isnan(S.standardized_mean_difference(a, b))


def test_separation_statistics_match_sklearn_scipy():
    rng = np.random.default_rng(0)
    fail = np.round(rng.normal(0.6, 1, 300), 1)  # rounded: ties
    ok = np.round(rng.normal(0.0, 1, 900), 1)
    s = S.separation_statistics(fail, ok)
    y = np.r_[np.ones(fail.size), np.zeros(ok.size)]
    assert s["auc"] == pytest.approx(sk_metrics.roc_auc_score(y, np.r_[fail, ok]), abs=1e-12)
    assert s["p_value"] == pytest.approx(scipy.stats.mannwhitneyu(fail, ok, method="asymptotic").pvalue, rel=1e-9)
    pooled = math.sqrt(((fail.size - 1) * fail.var(ddof=1) + (ok.size - 1) * ok.var(ddof=1)) / (fail.size + ok.size - 2))
    assert s["smd"] == pytest.approx((fail.mean() - ok.mean()) / pooled, rel=1e-12)
    assert s["auc_low"] < s["auc"] < s["auc_high"]
    assert (s["n_fail"], s["n_ok"]) == (300, 900)


def test_separation_statistics_drop_missing_and_empty_side():
    s = S.separation_statistics(np.array([1.0, np.nan, 2.0, np.inf]), np.array([np.nan]))
    assert (s["n_fail"], s["n_ok"]) == (2, 0) and s["mean_fail"] == 1.5
    assert all(math.isnan(s[k]) for k in ("mean_ok", "auc", "auc_low", "auc_high", "smd", "p_value"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mann_whitney_p_matches_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 5, 40).astype(float), rng.integers(0, 6, 55).astype(float)
    expected = scipy.stats.mannwhitneyu(a, b, method="asymptotic").pvalue
    assert S.mann_whitney_p(a, b) == pytest.approx(expected, rel=1e-9)


def test_mann_whitney_p_all_tied_and_empty():
    assert S.mann_whitney_p([1.0, 1.0], [1.0, 1.0, 1.0]) == 1.0
    assert math.isnan(S.mann_whitney_p([], [1.0]))
