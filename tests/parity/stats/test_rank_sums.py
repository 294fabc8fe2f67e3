"""The rank sums behind the AUC, its DeLong interval and the Mann-Whitney test (the sums the link computes in SQL)
against scikit-learn, scipy and a direct O(n^2) computation, on data with many ties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from analysis import stats as S

sk_metrics = pytest.importorskip("sklearn.metrics")

_r = np.random.default_rng(41)
SCENARIOS = {
    "heavy_ties": (_r.integers(0, 4, 70).astype(float), _r.integers(0, 5, 90).astype(float)),
    "rounded": (np.round(_r.normal(0.4, 1, 120), 1), np.round(_r.normal(0, 1, 200), 1)),
    "continuous": (_r.normal(0.2, 1, 40), _r.normal(0, 1, 55)),
    "one_value": (np.full(5, 2.0), np.full(7, 2.0)),
    "separated": (np.array([5.0, 6.0, 6.0]), np.array([1.0, 1.0, 2.0, 3.0])),
}


def _slow_sums(pos, neg):
    """The sums by their definition: every pair compared, ties counted by hand."""
    a = [sum(2 * (y < x) + (y == x) for y in neg) for x in pos]
    b = [sum(2 * (x > y) + (x == y) for x in pos) for y in neg]
    _, t = np.unique(np.r_[pos, neg], return_counts=True)
    return S.RankSums(len(pos), len(neg), sum(a), sum(v * v for v in a), sum(b), sum(v * v for v in b),
                      int(sum(int(k) ** 3 - int(k) for k in t)))


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_rank_sums_equal_their_definition(scenario):
    pos, neg = SCENARIOS[scenario]
    assert S.rank_sums(pos, neg) == _slow_sums(pos, neg)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_auc_and_p_from_rank_sums_match_sklearn_and_scipy(scenario):
    pos, neg = SCENARIOS[scenario]
    sums = S.rank_sums(pos, neg)
    auc, low, high = S.auc_from_rank_sums(sums, confidence=0.9)
    labels = np.r_[np.ones(pos.size), np.zeros(neg.size)]
    assert auc == pytest.approx(sk_metrics.roc_auc_score(labels, np.r_[pos, neg]), abs=1e-15)
    mw = scipy.stats.mannwhitneyu(pos, neg, alternative="two-sided", method="asymptotic")
    assert sums.pos_sum / 2 == mw.statistic
    assert S.mann_whitney_p_from_rank_sums(sums) == pytest.approx(mw.pvalue, rel=1e-12, abs=1e-300)
    # DeLong variance from the pairwise kernel (DeLong et al. 1988, eq. 4-5)
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    var = np.var(psi.mean(axis=1), ddof=1) / pos.size + np.var(psi.mean(axis=0), ddof=1) / neg.size
    z = scipy.stats.norm.ppf(0.95)
    assert low == pytest.approx(max(0.0, auc - z * math.sqrt(var)), abs=1e-12)
    assert high == pytest.approx(min(1.0, auc + z * math.sqrt(var)), abs=1e-12)


def test_mann_whitney_p_from_rank_sums_large_sample_with_ties():
    rng = np.random.default_rng(5)
    pos, neg = rng.integers(0, 20, 4000).astype(float), rng.integers(1, 21, 9000).astype(float)
    expected = scipy.stats.mannwhitneyu(pos, neg, method="asymptotic").pvalue
    assert S.mann_whitney_p_from_rank_sums(S.rank_sums(pos, neg)) == pytest.approx(expected, rel=1e-9)


def test_separation_from_sums_matches_the_direct_statistics():
    rng = np.random.default_rng(8)
    fail = np.round(rng.normal(0.5, 1.3, 150), 2)
    ok = np.round(rng.normal(0.0, 1.0, 400), 2)
    scale = 100  # values in hundredths: the fixed-point sums are exact
    units = lambda x: int(np.round(x * scale).astype(np.int64).sum())  # noqa: E731
    squares = lambda x: int(np.round(x * x * scale).astype(np.int64).sum())  # noqa: E731
    got = S.separation_from_sums(S.rank_sums(fail, ok), sum_fail=units(fail), sum_ok=units(ok),
                                 sq_fail=squares(fail), sq_ok=squares(ok), scale=scale)
    # squares rounded to hundredths: Cohen's d within that rounding of the direct computation
    pooled = math.sqrt(((fail.size - 1) * fail.var(ddof=1) + (ok.size - 1) * ok.var(ddof=1)) / (fail.size + ok.size - 2))
    assert got["smd"] == pytest.approx((fail.mean() - ok.mean()) / pooled, rel=1e-3)
    assert got["mean_fail"] == pytest.approx(fail.mean(), rel=1e-12)
    assert got["mean_ok"] == pytest.approx(ok.mean(), rel=1e-12)
    labels = np.r_[np.ones(fail.size), np.zeros(ok.size)]
    assert got["auc"] == pytest.approx(sk_metrics.roc_auc_score(labels, np.r_[fail, ok]), abs=1e-15)
    assert got["p_value"] == pytest.approx(scipy.stats.mannwhitneyu(fail, ok, method="asymptotic").pvalue, rel=1e-12)
    assert (got["n_fail"], got["n_ok"]) == (150, 400)


def test_separation_from_sums_with_an_empty_side():
    got = S.separation_from_sums(S.rank_sums([1.0, 2.0], []), sum_fail=3, sum_ok=0, sq_fail=5, sq_ok=0, scale=1)
    assert got["mean_fail"] == 1.5 and got["n_ok"] == 0
    assert all(math.isnan(got[k]) for k in ("mean_ok", "auc", "auc_low", "auc_high", "smd", "p_value"))
