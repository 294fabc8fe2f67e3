"""Grouped and paired percentile bootstrap against scipy.stats.bootstrap and coverage simulations."""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from analysis import stats as S


def _one(x, **kwargs):
    """The interval of one sample: a single group."""
    low, high = S.grouped_bootstrap_mean_interval(x, np.zeros(len(x), int), 1, **kwargs)
    return float(low[0]), float(high[0])


def test_bootstrap_deterministic_and_seed_sensitive():
    x = np.random.default_rng(1).exponential(size=60)
    a = _one(x, n_resamples=500, seed=7)
    b = _one(x, n_resamples=500, seed=7)
    c = _one(x, n_resamples=500, seed=8)
    assert a == b
    assert a != c
    codes = np.repeat([0, 1, 2], 20)
    g1 = S.grouped_bootstrap_mean_interval(x, codes, 3, n_resamples=300, seed=3)
    g2 = S.grouped_bootstrap_mean_interval(x, codes, 3, n_resamples=300, seed=3)
    np.testing.assert_array_equal(g1[0], g2[0])
    np.testing.assert_array_equal(g1[1], g2[1])


def test_bootstrap_matches_scipy_bootstrap_percentile():
    # Independent reference: scipy.stats.bootstrap(method="percentile").
    # Both are Monte Carlo, so compare within Monte Carlo error.
    x = np.random.default_rng(3).exponential(size=50)
    ref = scipy.stats.bootstrap(
        (x,), np.mean, method="percentile", n_resamples=20000, confidence_level=0.9, rng=np.random.default_rng(11)
    ).confidence_interval
    low, high = _one(x, confidence=0.9, n_resamples=20000, seed=4)
    assert abs(low - ref.low) < 0.015
    assert abs(high - ref.high) < 0.015


def test_grouped_bootstrap_groups_match_separate_runs():
    rng = np.random.default_rng(4)
    sizes = [5, 40, 120]
    values = np.concatenate([rng.normal(i, 1 + i, s) for i, s in enumerate(sizes)])
    codes = np.repeat(np.arange(3), sizes)
    perm = rng.permutation(values.size)  # group rows need not be contiguous
    low, high = S.grouped_bootstrap_mean_interval(values[perm], codes[perm], 3, n_resamples=20000)
    for g in range(3):
        ref = scipy.stats.bootstrap(
            (values[codes == g],), np.mean, method="percentile", n_resamples=20000, rng=np.random.default_rng(g)
        ).confidence_interval
        sd = values[codes == g].std() / math.sqrt(sizes[g])
        assert abs(low[g] - ref.low) < 0.1 * sd
        assert abs(high[g] - ref.high) < 0.1 * sd


def test_grouped_bootstrap_edge_groups():
    low, high = S.grouped_bootstrap_mean_interval([1.0, 2.0, 5.0], [0, 0, 2], 4, n_resamples=50)
    assert np.isnan(low[1]) and np.isnan(high[1]) and np.isnan(low[3])
    assert low[2] == high[2] == 5.0
    assert 1.0 <= low[0] <= high[0] <= 2.0
    low, high = S.grouped_bootstrap_mean_interval([], [], 1)
    assert np.isnan(low[0]) and np.isnan(high[0])
    low, high = S.grouped_bootstrap_mean_interval([], [], 0)
    assert low.shape == (0,)


def test_grouped_bootstrap_coverage_simulation():
    rng = np.random.default_rng(5)
    n_groups, size, mu = 300, 30, 0.3
    values = rng.normal(mu, 1.0, n_groups * size)
    codes = np.repeat(np.arange(n_groups), size)
    low, high = S.grouped_bootstrap_mean_interval(values, codes, n_groups, n_resamples=1000, seed=1)
    coverage = np.mean((low <= mu) & (mu <= high))
    assert 0.89 <= coverage <= 0.99


def test_paired_bootstrap_difference():
    rng = np.random.default_rng(6)
    n_groups, size, delta = 200, 40, 0.1
    base = rng.normal(0, 1, n_groups * size)  # strong item effect shared by both systems
    a = base + delta + rng.normal(0, 0.2, base.size)
    b = base + rng.normal(0, 0.2, base.size)
    codes = np.repeat(np.arange(n_groups), size)
    low, high = S.paired_bootstrap_mean_difference_interval(a - b, codes, n_groups, n_resamples=1000)
    coverage = np.mean((low <= delta) & (delta <= high))
    assert 0.88 <= coverage <= 0.99
    # Pairing matters: the paired interval is much narrower than the
    # unpaired spread of the scores themselves would allow.
    assert np.median(high - low) < 0.2
    glow, ghigh = S.grouped_bootstrap_mean_interval(a - b, codes, n_groups, n_resamples=1000)
    np.testing.assert_array_equal(low, glow)
    np.testing.assert_array_equal(high, ghigh)
