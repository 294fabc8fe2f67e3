"""The rank sums of samples of a million and more examples are exact on both of their paths (int64 sums below the
overflow bound, Python integers above it), against their definition counted another way (sorted searches, one
distinct value at a time, in Python integers) and scipy's U; and separation_statistics takes its AUC, interval
and p-value from one set of rank sums, equal to the functions that compute each alone."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from analysis import stats as S


def _by_search(pos: np.ndarray, neg: np.ndarray) -> S.RankSums:
    """The sums by their definition: ``a = 2 #{neg < x} + #{neg = x}`` per positive, ``b = 2 #{pos > y} +
    #{pos = y}`` per negative, by sorted searches, summed per distinct value in Python integers."""
    sp, sn = np.sort(pos), np.sort(neg)
    values, c_pos = np.unique(pos, return_counts=True)
    nvalues, c_neg = np.unique(neg, return_counts=True)
    pos_sum = pos_sq = neg_sum = neg_sq = 0
    for v, c in zip(values.tolist(), c_pos.tolist()):
        below, upto = int(np.searchsorted(sn, v, "left")), int(np.searchsorted(sn, v, "right"))
        a = 2 * below + (upto - below)
        pos_sum, pos_sq = pos_sum + c * a, pos_sq + c * a * a
    for v, c in zip(nvalues.tolist(), c_neg.tolist()):
        below, upto = int(np.searchsorted(sp, v, "left")), int(np.searchsorted(sp, v, "right"))
        b = 2 * (sp.size - upto) + (upto - below)
        neg_sum, neg_sq = neg_sum + c * b, neg_sq + c * b * b
    _, t = np.unique(np.r_[pos, neg], return_counts=True)
    return S.RankSums(pos.size, neg.size, pos_sum, pos_sq, neg_sum, neg_sq, sum(int(k) ** 3 - int(k) for k in t))


@pytest.mark.parametrize("n_pos, n_neg", [(400_000, 800_000), (500_000, 900_000)])  # under and over the bound
def test_rank_sums_at_a_million_examples_are_exact(n_pos, n_neg):
    assert (4 * (400_000 + 800_000) ** 3 < 2 ** 63) and not (4 * (500_000 + 900_000) ** 3 < 2 ** 63)
    rng = np.random.default_rng(n_pos)
    pos = np.round(rng.normal(0.3, 1.0, n_pos), 2)  # rounded: many ties, a few hundred distinct values
    neg = np.round(rng.normal(0.0, 1.0, n_neg), 2)
    got = S.rank_sums(pos, neg)
    assert got == _by_search(pos, neg)
    assert got.pos_sum / 2 == scipy.stats.mannwhitneyu(pos, neg, method="asymptotic").statistic


def test_rank_sums_with_every_positive_above_every_negative():
    # the largest placements there are (a = 2 n_neg for every positive, b = 2 n_pos for every negative): the
    # closed forms, in Python integers
    pos, neg = np.arange(300_000, 1_000_000, dtype=float), np.arange(0, 300_000, dtype=float)
    n1, n0 = pos.size, neg.size
    assert S.rank_sums(pos, neg) == S.RankSums(n1, n0, n1 * 2 * n0, n1 * (2 * n0) ** 2, n0 * 2 * n1,
                                               n0 * (2 * n1) ** 2, 0)


def test_separation_statistics_equal_the_statistics_computed_one_by_one():
    rng = np.random.default_rng(3)
    fail, ok = np.round(rng.normal(0.4, 1, 3000), 1), np.round(rng.normal(0, 1, 7000), 1)
    got = S.separation_statistics(fail, ok, confidence=0.9)
    auc, low, high = S.auc_with_interval(fail, ok, confidence=0.9)
    assert (got["auc"], got["auc_low"], got["auc_high"]) == (auc, low, high)
    assert got["p_value"] == S.mann_whitney_p(fail, ok)
    assert got["p_value"] == pytest.approx(scipy.stats.mannwhitneyu(fail, ok, method="asymptotic").pvalue, rel=1e-9)
    assert got["smd"] == S.standardized_mean_difference(fail, ok)
