"""Tests for analysis.stats.

Every function is checked against an *independent* implementation:
statsmodels / scipy / scikit-learn, a direct slow computation written here,
or published reference values.  No expected number is copied from the module's
own output.
"""

from __future__ import annotations

import ast
import doctest
import math
import re
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from analysis import stats as S

sm_proportion = pytest.importorskip("statsmodels.stats.proportion")
sm_multitest = pytest.importorskip("statsmodels.stats.multitest")
sm_contingency = pytest.importorskip("statsmodels.stats.contingency_tables")
sk_metrics = pytest.importorskip("sklearn.metrics")

TOL = 1e-10


def close(actual, expected, tol=TOL):
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float),
        np.asarray(expected, dtype=float),
        rtol=tol,
        atol=tol,
        equal_nan=True,
    )


@pytest.fixture(autouse=True)
def _quiet_reference_warnings():
    # Reference implementations (statsmodels, sklearn, scipy) warn on
    # degenerate inputs; the module under test must not, so only silence
    # warnings raised outside of it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---------------------------------------------------------------------------
# Scenario tables
# ---------------------------------------------------------------------------

_rng = np.random.default_rng(20240601)
_rand_n = _rng.integers(1, 5000, 200)
_rand_e = _rng.binomial(_rand_n, _rng.uniform(0, 1, 200))

RATE_SCENARIOS = {
    "tiny": ([0, 1, 1, 2, 3, 0, 1], [1, 1, 2, 5, 7, 2, 3]),
    "zeros": ([0, 0, 0, 0], [1, 10, 29, 1000]),
    "all_errors": ([1, 10, 30, 1000], [1, 10, 30, 1000]),
    "near_threshold": ([4, 5, 6, 25, 26, 0], [30, 30, 30, 30, 30, 31]),
    "large_n": ([123_457, 5, 999_995, 500_000], [1_000_000] * 4),
    "random": (_rand_e, _rand_n),
}
CONFIDENCES = [0.8, 0.95, 0.99]


def _sm_ci(e, n, conf, method):
    e = np.asarray(e)
    n = np.asarray(n)
    low, high = sm_proportion.proportion_confint(e, n, alpha=1 - conf, method=method)
    return np.array(low, dtype=float), np.array(high, dtype=float)


# ---------------------------------------------------------------------------
# Rate intervals
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("conf", CONFIDENCES)
@pytest.mark.parametrize("scenario", sorted(RATE_SCENARIOS))
def test_wilson_matches_statsmodels(scenario, conf):
    e, n = RATE_SCENARIOS[scenario]
    low, high = S.wilson_interval(e, n, confidence=conf)
    ref_low, ref_high = _sm_ci(e, n, conf, "wilson")
    close(low, ref_low)
    close(high, ref_high)


@pytest.mark.parametrize("conf", CONFIDENCES)
@pytest.mark.parametrize("scenario", sorted(RATE_SCENARIOS))
def test_clopper_pearson_matches_statsmodels(scenario, conf):
    e, n = RATE_SCENARIOS[scenario]
    low, high = S.clopper_pearson_interval(e, n, confidence=conf)
    ref_low, ref_high = _sm_ci(e, n, conf, "beta")
    close(low, ref_low)
    close(high, ref_high)


@pytest.mark.parametrize("e,n", [(0, 7), (3, 10), (10, 10), (17, 123), (0, 1)])
def test_clopper_pearson_matches_scipy_binomtest(e, n):
    low, high = S.clopper_pearson_interval(e, n, confidence=0.9)
    ci = scipy.stats.binomtest(e, n).proportion_ci(confidence_level=0.9, method="exact")
    close(low, ci.low)
    close(high, ci.high)


@pytest.mark.parametrize("scenario", sorted(RATE_SCENARIOS))
@pytest.mark.parametrize("small_n,small_count", [(30, 5), (0, 0), (100, 1)])
def test_rate_interval_rule_and_bounds(scenario, small_n, small_count):
    e, n = (np.asarray(v) for v in RATE_SCENARIOS[scenario])
    low, high, method = S.rate_interval(e, n, small_n=small_n, small_count=small_count)
    for i in range(e.size):
        ei, ni = int(e[i]), int(n[i])
        use_cp = ni < small_n or ei < small_count or ni - ei < small_count
        expected_method = "clopper-pearson" if use_cp else "wilson"
        assert method[i] == expected_method
        ref_low, ref_high = _sm_ci([ei], [ni], 0.95, "beta" if use_cp else "wilson")
        close(low[i], ref_low[0])
        close(high[i], ref_high[0])


def test_rate_intervals_empty_and_shapes():
    for fn in (S.wilson_interval, S.clopper_pearson_interval):
        low, high = fn([0, 1], [0, 2])
        assert np.isnan(low[0]) and np.isnan(high[0])
        assert not np.isnan(low[1])
        low, high = fn(np.zeros((2, 3), int), 5)  # broadcasting keeps shape
        assert low.shape == (2, 3)
        low, high = fn(1, 4)
        assert low.shape == ()
    low, high, method = S.rate_interval([0], [0])
    assert np.isnan(low[0]) and np.isnan(high[0]) and method[0] == "clopper-pearson"
    # integer-valued floats are accepted as counts
    close(S.wilson_interval(3.0, 10.0)[0], S.wilson_interval(3, 10)[0])


# ---------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------


def test_bootstrap_deterministic_and_seed_sensitive():
    x = np.random.default_rng(1).exponential(size=60)
    a = S.bootstrap_mean_interval(x, n_resamples=500, seed=7)
    b = S.bootstrap_mean_interval(x, n_resamples=500, seed=7)
    c = S.bootstrap_mean_interval(x, n_resamples=500, seed=8)
    assert a == b
    assert a != c
    codes = np.repeat([0, 1, 2], 20)
    g1 = S.grouped_bootstrap_mean_interval(x, codes, 3, n_resamples=300, seed=3)
    g2 = S.grouped_bootstrap_mean_interval(x, codes, 3, n_resamples=300, seed=3)
    np.testing.assert_array_equal(g1[0], g2[0])
    np.testing.assert_array_equal(g1[1], g2[1])


def test_bootstrap_single_equals_grouped_single_group():
    x = np.random.default_rng(2).normal(size=40)
    low, high = S.bootstrap_mean_interval(x, n_resamples=400, seed=5)
    glow, ghigh = S.grouped_bootstrap_mean_interval(x, np.zeros(40, int), 1, n_resamples=400, seed=5)
    assert (low, high) == (glow[0], ghigh[0])


def test_bootstrap_matches_scipy_bootstrap_percentile():
    # Independent reference: scipy.stats.bootstrap(method="percentile").
    # Both are Monte Carlo, so compare within Monte Carlo error.
    x = np.random.default_rng(3).exponential(size=50)
    ref = scipy.stats.bootstrap(
        (x,),
        np.mean,
        method="percentile",
        n_resamples=20000,
        confidence_level=0.9,
        rng=np.random.default_rng(11),
    ).confidence_interval
    low, high = S.bootstrap_mean_interval(x, confidence=0.9, n_resamples=20000, seed=4)
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
            (values[codes == g],),
            np.mean,
            method="percentile",
            n_resamples=20000,
            rng=np.random.default_rng(g),
        ).confidence_interval
        sd = values[codes == g].std() / math.sqrt(sizes[g])
        assert abs(low[g] - ref.low) < 0.1 * sd
        assert abs(high[g] - ref.high) < 0.1 * sd


def test_grouped_bootstrap_edge_groups():
    low, high = S.grouped_bootstrap_mean_interval([1.0, 2.0, 5.0], [0, 0, 2], 4, n_resamples=50)
    assert np.isnan(low[1]) and np.isnan(high[1]) and np.isnan(low[3])
    assert low[2] == high[2] == 5.0
    assert 1.0 <= low[0] <= high[0] <= 2.0
    assert S.bootstrap_mean_interval([]) == pytest.approx((math.nan, math.nan), nan_ok=True)
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


# ---------------------------------------------------------------------------
# Two-proportion test
# ---------------------------------------------------------------------------


def _reference_two_proportion(e_in, n_in, e_out, n_out, small_count):
    table = np.array([[e_in, n_in - e_in], [e_out, n_out - e_out]])
    expected = scipy.stats.contingency.expected_freq(table)
    if n_in == 0 or n_out == 0:
        return math.nan, "fisher"
    if expected.min() < small_count:
        return scipy.stats.fisher_exact(table).pvalue, "fisher"
    return sm_proportion.proportions_ztest([e_in, e_out], [n_in, n_out])[1], "z"


def _all_small_tables(max_n):
    rows = [
        (a, n1, c, n2)
        for n1 in range(1, max_n + 1)
        for n2 in range(1, max_n + 1)
        for a in range(n1 + 1)
        for c in range(n2 + 1)
    ]
    return np.array(rows).T


_r = np.random.default_rng(7)
_big_n_in = _r.integers(1, 3000, 80)
_big_n_out = _r.integers(1000, 200_000, 80)
TWO_PROP_SCENARIOS = {
    "tiny": ([0, 1, 2, 0, 3, 1], [1, 2, 5, 3, 3, 9], [0, 1, 0, 5, 0, 4], [1, 3, 5, 5, 4, 9]),
    "zero_columns": ([0, 5, 0], [10, 5, 1000], [0, 7, 0], [20, 7, 50_000]),
    "empty_rows": ([0, 0, 3], [0, 5, 3], [1, 0, 0], [4, 0, 0]),
    "symmetric_ties": ([3, 7, 2, 10, 0, 50], [10, 10, 20, 20, 6, 100], [7, 3, 18, 10, 6, 50], [10, 10, 20, 20, 6, 100]),
    "large": (
        _r.binomial(_big_n_in, 0.03),
        _big_n_in,
        _r.binomial(_big_n_out, 0.02),
        _big_n_out,
    ),
    "rare_errors": (
        _r.binomial(_big_n_in, 0.001),
        _big_n_in,
        _r.binomial(_big_n_out, 0.001),
        _big_n_out,
    ),
}


@pytest.mark.parametrize("small_count", [5, 1e9])
@pytest.mark.parametrize("scenario", sorted(TWO_PROP_SCENARIOS))
def test_two_proportion_test_matches_references(scenario, small_count):
    e_in, n_in, e_out, n_out = (np.asarray(v) for v in TWO_PROP_SCENARIOS[scenario])
    p, method = S.two_proportion_test(e_in, n_in, e_out, n_out, small_count=small_count)
    for i in range(e_in.size):
        ref_p, ref_method = _reference_two_proportion(
            int(e_in[i]), int(n_in[i]), int(e_out[i]), int(n_out[i]), small_count
        )
        assert method[i] == ref_method, i
        close(p[i], ref_p)


def test_fisher_exhaustive_small_tables():
    # Every 2x2 table with row totals 1..7 (forced Fisher), including all the
    # exactly tied cases that exercise scipy's 1e-14 relative tolerance.
    a, n1, c, n2 = _all_small_tables(7)
    p, method = S.two_proportion_test(a, n1, c, n2, small_count=1e9)
    assert set(method.tolist()) == {"fisher"}
    ref = [scipy.stats.fisher_exact([[ai, n1i - ai], [ci, n2i - ci]]).pvalue for ai, n1i, ci, n2i in zip(a, n1, c, n2)]
    close(p, ref)


def test_fisher_large_tied_tables_use_exact_path():
    # Balanced tables are symmetric, so many table probabilities tie exactly.
    rng = np.random.default_rng(8)
    n = rng.integers(50, 3000, 60)
    a = rng.binomial(n, 0.05)
    c = np.where(np.arange(60) % 2 == 0, a, rng.binomial(n, 0.05))
    p, _ = S.two_proportion_test(a, n, c, n, small_count=1e9)
    ref = [scipy.stats.fisher_exact([[ai, ni - ai], [ci, ni - ci]]).pvalue for ai, ni, ci in zip(a, n, c)]
    close(p, ref)


def test_fisher_scipy_transcription_matches_scipy():
    rng = np.random.default_rng(9)
    n1 = rng.integers(1, 400, 120)
    n2 = rng.integers(1, 400, 120)
    a = rng.binomial(n1, 0.1)
    c = rng.binomial(n2, 0.15)
    p = S._fisher_two_sided_scipy(a, n1, n2, a + c)
    ref = [scipy.stats.fisher_exact([[ai, x - ai], [ci, y - ci]]).pvalue for ai, x, ci, y in zip(a, n1, c, n2)]
    close(p, ref)


def test_fisher_is_fast_for_thousands_of_slices():
    rng = np.random.default_rng(10)
    n_in = rng.integers(1, 400, 5000)
    n_out = 100_000 - n_in
    start = time.perf_counter()
    p, method = S.two_proportion_test(rng.binomial(n_in, 0.02), n_in, rng.binomial(n_out, 0.02), n_out, small_count=1e9)
    assert time.perf_counter() - start < 2.0
    assert np.all((p >= 0) & (p <= 1))


def test_hypergeom_pmf_accuracy_against_exact_integers():
    # Exact rational pmf from Python integers, rounded once to float.
    rng = np.random.default_rng(12)
    for _ in range(30):
        n1, n2 = (int(v) for v in rng.integers(1, 20_000, 2))
        k = int(rng.integers(1, n1 + n2))
        x = int(rng.integers(max(0, k - n2), min(k, n1) + 1))
        exact = math.comb(n1, x) * math.comb(n2, k - x) / math.comb(n1 + n2, k)
        got = S._hypergeom_pmf(np.array([x]), np.array([n1]), np.array([n2]), np.array([k]))[0]
        if exact > 1e-300:
            assert abs(got - exact) <= 1e-12 * exact


def test_z_test_small_count_zero_undefined_is_one():
    p, method = S.two_proportion_test([0], [50], [0], [50], small_count=0)
    assert method[0] == "z" and p[0] == 1.0


# ---------------------------------------------------------------------------
# Multiple testing, McNemar, difference interval
# ---------------------------------------------------------------------------

BH_SCENARIOS = {
    "basic": [0.01, 0.04, 0.03, 0.5],
    "ties": [0.02, 0.02, 0.02, 0.9, 0.0, 1.0],
    "with_nan": [0.2, np.nan, 0.001, np.nan, 0.04, 0.3],
    "single": [0.7],
    "random": np.where(_rng.random(300) < 0.1, np.nan, _rng.random(300) ** 3),
}


@pytest.mark.parametrize("scenario", sorted(BH_SCENARIOS))
def test_benjamini_hochberg_matches_statsmodels(scenario):
    p = np.asarray(BH_SCENARIOS[scenario], dtype=float)
    q = S.benjamini_hochberg(p)
    mask = ~np.isnan(p)
    assert np.all(np.isnan(q[~mask]))
    ref = sm_multitest.multipletests(p[mask], method="fdr_bh")[1]
    close(q[mask], ref)


def test_benjamini_hochberg_shapes():
    assert S.benjamini_hochberg([]).shape == (0,)
    assert np.all(np.isnan(S.benjamini_hochberg([np.nan, np.nan])))
    p = np.array([[0.01, 0.2], [0.03, np.nan]])
    q = S.benjamini_hochberg(p)
    assert q.shape == (2, 2)
    close(q.ravel()[[0, 1, 2]], sm_multitest.multipletests([0.01, 0.2, 0.03], method="fdr_bh")[1])


MCNEMAR_SCENARIOS = {
    "grid": np.array([(b, c) for b in range(0, 25) for c in range(0, 25)]).T,
    "large": (np.array([500, 1200, 40_000, 7]), np.array([510, 1000, 40_321, 300])),
}


@pytest.mark.parametrize("scenario", sorted(MCNEMAR_SCENARIOS))
def test_mcnemar_exact_matches_statsmodels(scenario):
    b, c = MCNEMAR_SCENARIOS[scenario]
    p = S.mcnemar_exact(b, c)
    ref = [sm_contingency.mcnemar([[0, bi], [ci, 0]], exact=True).pvalue for bi, ci in zip(b, c)]
    close(p, ref)


DIFF_SCENARIOS = {
    "basic": ([30, 2, 5], [100, 10, 50], [10, 0, 5], [100, 10, 60]),
    "boundaries": ([0, 10, 0, 10], [10, 10, 10, 10], [0, 10, 10, 0], [10, 10, 10, 10]),
    "large": ([123_456, 5], [1_000_000, 2_000_000], [120_000, 0], [1_000_000, 3]),
    "random": (_rand_e[:50], _rand_n[:50], _rand_e[50:100], _rand_n[50:100]),
}


@pytest.mark.parametrize("conf", CONFIDENCES)
@pytest.mark.parametrize("scenario", sorted(DIFF_SCENARIOS))
def test_difference_interval_matches_statsmodels_newcomb(scenario, conf):
    ea, na, eb, nb = (np.asarray(v) for v in DIFF_SCENARIOS[scenario])
    low, high = S.difference_interval(ea, na, eb, nb, confidence=conf)
    ref_low, ref_high = sm_proportion.confint_proportions_2indep(
        ea, na, eb, nb, method="newcomb", compare="diff", alpha=1 - conf
    )
    close(low, ref_low)
    close(high, ref_high)


def test_difference_interval_empty_is_nan():
    low, high = S.difference_interval([0, 1], [0, 4], [1, 0], [3, 0])
    assert np.all(np.isnan(low)) and np.all(np.isnan(high))


# ---------------------------------------------------------------------------
# Agreement: Cohen's kappa, Krippendorff's alpha
# ---------------------------------------------------------------------------

_k = np.random.default_rng(13)
_truth = _k.integers(0, 4, 300)
KAPPA_SCENARIOS = {
    "agreeing": (_truth, np.where(_k.random(300) < 0.7, _truth, _k.integers(0, 4, 300))),
    "random": (_k.integers(0, 3, 200), _k.integers(0, 3, 200)),
    "strings": (np.array(list("aabbcab")), np.array(list("abbbcaa"))),
    "disjoint_labels": (np.array([0, 0, 1, 1]), np.array([2, 3, 2, 3])),
    "tiny": (np.array([1, 2]), np.array([2, 1])),
}


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
@pytest.mark.parametrize("scenario", sorted(KAPPA_SCENARIOS))
def test_cohen_kappa_matches_sklearn(scenario, weights):
    a, b = KAPPA_SCENARIOS[scenario]
    ref = sk_metrics.cohen_kappa_score(a, b, weights=None if weights == "none" else weights)
    close(S.cohen_kappa(a, b, weights=weights), ref)


def test_cohen_kappa_missing_and_undefined():
    a = np.array([1.0, 2.0, np.nan, 2.0, 1.0, 3.0])
    b = np.array([1.0, 2.0, 2.0, np.nan, 2.0, 3.0])
    keep = ~(np.isnan(a) | np.isnan(b))
    close(S.cohen_kappa(a, b), sk_metrics.cohen_kappa_score(a[keep], b[keep]))
    obj_a = np.array(["x", None, "y", "x"], dtype=object)
    obj_b = np.array(["x", "y", "y", "y"], dtype=object)
    close(S.cohen_kappa(obj_a, obj_b), sk_metrics.cohen_kappa_score(["x", "y", "x"], ["x", "y", "y"]))
    assert math.isnan(S.cohen_kappa([1, 1, 1], [1, 1, 1]))
    assert math.isnan(S.cohen_kappa([], []))


@pytest.mark.parametrize("weights", ["none", "quadratic"])
def test_grouped_cohen_kappa_matches_sklearn_per_group(weights):
    rng = np.random.default_rng(14)
    n, n_groups, k = 600, 7, 4
    a = rng.integers(0, k, n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, k, n))
    a[rng.random(n) < 0.05] = -1  # missing
    codes = rng.integers(0, n_groups - 1, n)  # last group stays empty
    kappa = S.grouped_cohen_kappa(a, b, k, codes, n_groups, weights=weights)
    for g in range(n_groups - 1):
        m = (codes == g) & (a >= 0)
        # sklearn orders labels by the values present; pass all k to keep
        # the weight matrix aligned with the codes.
        ref = sk_metrics.cohen_kappa_score(
            a[m], b[m], labels=np.arange(k), weights=None if weights == "none" else weights
        )
        close(kappa[g], ref)
    assert np.isnan(kappa[-1])


def _slow_alpha(ratings, level):
    """Direct coincidence-matrix Krippendorff's alpha (loops, dicts)."""
    r = np.asarray(ratings, dtype=float)
    values = sorted({float(v) for v in r.ravel() if not math.isnan(v)})
    o = {}
    for u in range(r.shape[1]):
        col = [float(v) for v in r[:, u] if not math.isnan(v)]
        m = len(col)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[(col[i], col[j])] = o.get((col[i], col[j]), 0.0) + 1.0 / (m - 1)
    n_c = {c: sum(o.get((c, k), 0.0) for k in values) for c in values}
    n = sum(n_c.values())

    def delta(c, k):
        if level == "nominal":
            return 0.0 if c == k else 1.0
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return 0.0 if c + k == 0 else ((c - k) / (c + k)) ** 2
        lo, hi = min(c, k), max(c, k)
        return (sum(n_c[g] for g in values if lo <= g <= hi) - (n_c[c] + n_c[k]) / 2) ** 2

    d_o = sum(o.get((c, k), 0.0) * delta(c, k) for c in values for k in values)
    d_e = sum(n_c[c] * n_c[k] * delta(c, k) for c in values for k in values)
    if n == 0 or d_e == 0:
        return math.nan
    return 1.0 - (n - 1) * d_o / d_e


N = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
# 4 observers x 12 units with missing values.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
]
PUBLISHED_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}

_a = np.random.default_rng(15)
_random_ratings = _a.integers(1, 6, (4, 40)).astype(float)
_random_ratings[_a.random((4, 40)) < 0.25] = np.nan
ALPHA_SCENARIOS = {
    "published": KRIPPENDORFF_2011,
    "random": _random_ratings,
    "two_raters_binary": [[0, 1, 1, 0, 1, 0, 0], [0, 1, 0, 0, 1, 1, 0]],
    "with_zero_values": [[0, 2, 4, 0, N], [0, 2, 3, 1, 2], [1, N, 4, 0, 2]],
}
LEVELS = ["nominal", "ordinal", "interval", "ratio"]


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_published_example(level):
    assert S.krippendorff_alpha(KRIPPENDORFF_2011, level=level) == pytest.approx(PUBLISHED_ALPHA[level], abs=6e-4)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("scenario", sorted(ALPHA_SCENARIOS))
def test_krippendorff_matches_slow_implementation(scenario, level):
    ratings = ALPHA_SCENARIOS[scenario]
    close(S.krippendorff_alpha(ratings, level=level), _slow_alpha(ratings, level))


def test_krippendorff_matches_pypi_package_if_installed():
    krippendorff = pytest.importorskip("krippendorff")  # optional; never installed by the suite
    for level in LEVELS:
        for ratings in ALPHA_SCENARIOS.values():
            ref = krippendorff.alpha(reliability_data=np.asarray(ratings, float), level_of_measurement=level)
            close(S.krippendorff_alpha(ratings, level=level), ref)


@pytest.mark.parametrize("level", LEVELS)
def test_grouped_krippendorff_matches_slow_per_group(level):
    rng = np.random.default_rng(16)
    ratings = rng.integers(1, 5, (3, 90)).astype(float)
    ratings[1] = np.where(rng.random(90) < 0.6, ratings[0], ratings[1])
    ratings[rng.random((3, 90)) < 0.2] = np.nan
    codes = rng.integers(0, 5, 90)
    alpha = S.grouped_krippendorff_alpha(ratings, codes, 6, level=level)
    for g in range(5):
        close(alpha[g], _slow_alpha(ratings[:, codes == g], level))
    assert np.isnan(alpha[5])


def test_krippendorff_degenerate():
    assert math.isnan(S.krippendorff_alpha([[1, 1, 1], [1, 1, 1]]))  # no variation
    assert math.isnan(S.krippendorff_alpha([[1, 2, 3]]))  # one rater: nothing pairable
    assert math.isnan(S.krippendorff_alpha([[N, N], [N, N]]))
    assert S.krippendorff_alpha([[1, 2, 3], [1, 2, 3]]) == 1.0


# ---------------------------------------------------------------------------
# Calibration, AUC, effect size, Spearman
# ---------------------------------------------------------------------------


def _slow_ece(conf, correct, n_bins):
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    total = 0.0
    for i in range(n_bins):
        last = i == n_bins - 1
        in_bin = [j for j, c in enumerate(conf) if edges[i] <= c < edges[i + 1] or (last and c == 1.0)]
        if in_bin:
            acc = sum(correct[j] for j in in_bin) / len(in_bin)
            avg = sum(conf[j] for j in in_bin) / len(in_bin)
            total += len(in_bin) / len(conf) * abs(acc - avg)
    return total


_e = np.random.default_rng(17)
ECE_SCENARIOS = {
    "random": (_e.random(500), (_e.random(500) < 0.7).astype(int)),
    "bin_edges": (np.r_[np.linspace(0, 1, 21), [0.3, 0.7, 1.0, 0.0]], np.arange(25) % 2),
    "perfect_extremes": (np.array([1.0, 1.0, 0.0, 0.0]), np.array([1, 1, 0, 0])),
    "single": (np.array([0.42]), np.array([1])),
}


@pytest.mark.parametrize("n_bins", [1, 5, 10, 15])
@pytest.mark.parametrize("scenario", sorted(ECE_SCENARIOS))
def test_ece_matches_direct_loop(scenario, n_bins):
    conf, correct = ECE_SCENARIOS[scenario]
    close(
        S.expected_calibration_error(conf, correct, n_bins=n_bins),
        _slow_ece(list(conf), list(correct), n_bins),
    )


def test_grouped_ece_matches_direct_loop():
    conf, correct = ECE_SCENARIOS["random"]
    codes = np.random.default_rng(18).integers(0, 4, conf.size)
    ece = S.grouped_expected_calibration_error(conf, correct, codes, 5, n_bins=8)
    for g in range(4):
        m = codes == g
        close(ece[g], _slow_ece(list(conf[m]), list(correct[m]), 8))
    assert np.isnan(ece[4])
    assert math.isnan(S.expected_calibration_error([], []))


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


def test_standardized_mean_difference_from_stats_vectorised():
    rng = np.random.default_rng(21)
    groups = [(rng.normal(0, 1, rng.integers(2, 30)), rng.normal(0.5, 1.5, rng.integers(2, 30))) for _ in range(25)]
    stats_ = np.array(
        [
            (statistics.fmean(a), statistics.stdev(a), len(a), statistics.fmean(b), statistics.stdev(b), len(b))
            for a, b in groups
        ]
    ).T
    d = S.standardized_mean_difference_from_stats(
        *stats_[:2], stats_[2].astype(int), *stats_[3:5], stats_[5].astype(int)
    )
    close(d, [_slow_cohens_d(list(a), list(b)) for a, b in groups])
    # one-row sample: its (undefined) SD is ignored
    d1 = S.standardized_mean_difference_from_stats(2.0, np.nan, 1, 0.0, 2.0, 5)
    close(d1, 2.0 / math.sqrt(4 * 4.0 / 4))
    for args in [(1.0, 1.0, 0, 0.0, 1.0, 5), (1.0, 0.0, 3, 0.0, 0.0, 3), (1.0, np.nan, 1, 0.0, np.nan, 1)]:
        assert np.isnan(S.standardized_mean_difference_from_stats(*args))
    assert math.isnan(S.standardized_mean_difference([1.0], [2.0]))


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


# ---------------------------------------------------------------------------
# Parameter validation messages (exact text)
# ---------------------------------------------------------------------------

VALIDATION_CASES = [
    (lambda: S.wilson_interval(1, 10, confidence=1.5), "confidence must be a number strictly between 0 and 1, got 1.5"),
    (
        lambda: S.clopper_pearson_interval(1, 10, confidence=0),
        "confidence must be a number strictly between 0 and 1, got 0",
    ),
    (lambda: S.rate_interval(1, 10, confidence=True), "confidence must be a number strictly between 0 and 1, got True"),
    (lambda: S.rate_interval(1, 10, small_n=-1), "small_n must be an integer >= 0, got -1"),
    (lambda: S.rate_interval(1, 10, small_count=2.5), "small_count must be an integer >= 0, got 2.5"),
    (lambda: S.wilson_interval([11], [10]), "errors must not exceed n, got errors=11 > n=10"),
    (lambda: S.wilson_interval([-1], [10]), "errors must contain non-negative integer counts, got -1"),
    (lambda: S.clopper_pearson_interval([1], [2.5]), "n must contain non-negative integer counts, got 2.5"),
    (lambda: S.bootstrap_mean_interval([1.0], n_resamples=0), "n_resamples must be an integer >= 1, got 0"),
    (lambda: S.bootstrap_mean_interval([1.0], seed=-3), "seed must be an integer >= 0, got -3"),
    (lambda: S.bootstrap_mean_interval([1.0, np.inf]), "values must contain only finite values, got inf"),
    (
        lambda: S.grouped_bootstrap_mean_interval([1.0, 2.0], [0, 2], 2),
        "group_codes must be integers in [0, n_groups=2), got 2",
    ),
    (
        lambda: S.grouped_bootstrap_mean_interval([1.0, 2.0], [0], 2),
        "group_codes must have the same length as values (2), got length 1",
    ),
    (lambda: S.paired_bootstrap_mean_difference_interval([1.0], [0], -1), "n_groups must be an integer >= 0, got -1"),
    (lambda: S.two_proportion_test(1, 5, 1, 5, small_count=-1), "small_count must be a finite number >= 0, got -1"),
    (lambda: S.two_proportion_test(6, 5, 1, 5), "errors_in must not exceed n_in, got errors_in=6 > n_in=5"),
    (lambda: S.benjamini_hochberg([0.2, 1.5]), "p_values must lie in [0, 1] or be NaN, got 1.5"),
    (lambda: S.mcnemar_exact([1], [-2]), "c must contain non-negative integer counts, got -2"),
    (lambda: S.difference_interval(1, 4, 5, 4), "errors_b must not exceed n_b, got errors_b=5 > n_b=4"),
    (
        lambda: S.cohen_kappa([1, 2], [1, 2], weights="cubic"),
        "weights must be one of ('none', 'linear', 'quadratic'), got 'cubic'",
    ),
    (lambda: S.cohen_kappa([1, 2], [1]), "b must have the same length as a (2), got length 1"),
    (
        lambda: S.grouped_cohen_kappa([0, 3], [0, 1], 3, [0, 0], 1),
        "codes_a must be integer codes below n_categories=3 (negative = missing), got 3",
    ),
    (
        lambda: S.krippendorff_alpha([[1, 2]], level="bogus"),
        "level must be one of ('nominal', 'ordinal', 'interval', 'ratio'), got 'bogus'",
    ),
    (lambda: S.krippendorff_alpha([1, 2, 3]), "ratings must be a 2-D array, got shape (3,)"),
    (
        lambda: S.krippendorff_alpha([[1, -2], [1, 2]], level="ratio"),
        "ratings must be non-negative for level='ratio', got -2.0",
    ),
    (lambda: S.expected_calibration_error([0.5], [1], n_bins=0), "n_bins must be an integer >= 1, got 0"),
    (lambda: S.expected_calibration_error([1.2], [1]), "confidence must lie in [0, 1], got 1.2"),
    (
        lambda: S.expected_calibration_error([0.2, 0.3], [1]),
        "correct must have the same length as confidence (2), got length 1",
    ),
    (
        lambda: S.auc_with_interval([1.0], [0.0], method="bootstrap"),
        "method must be one of ('delong', 'hanley-mcneil'), got 'bootstrap'",
    ),
    (
        lambda: S.auc_with_interval([1.0], [0.0], confidence=95),
        "confidence must be a number strictly between 0 and 1, got 95",
    ),
    (
        lambda: S.spearman_per_group([1.0, 2.0], [1.0, 2.0], [0, 1], 1),
        "group_codes must be integers in [0, n_groups=1), got 1",
    ),
]


@pytest.mark.parametrize("call,message", VALIDATION_CASES, ids=[m for _, m in VALIDATION_CASES])
def test_validation_messages(call, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        call()


def test_message_constants_name_parameter_and_value():
    assert S.MSG_CONFIDENCE.format(value=2) == "confidence must be a number strictly between 0 and 1, got 2"
    assert S.MSG_INT_MIN.format(name="n_bins", minimum=1, value=0) == "n_bins must be an integer >= 1, got 0"


# ---------------------------------------------------------------------------
# Module hygiene
# ---------------------------------------------------------------------------


def test_doctests_pass():
    result = doctest.testmod(S, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 20
    assert result.failed == 0


def test_every_public_function_has_a_doctest_example():
    for name in S.__all__:
        obj = getattr(S, name)
        if callable(obj):
            assert obj.__doc__ and ">>>" in obj.__doc__, name


def test_module_imports_only_numpy_and_scipy():
    tree = ast.parse(Path(S.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots <= {"__future__", "math", "numbers", "typing", "decimal", "numpy", "scipy"}, roots


def test_module_emits_no_warnings_on_degenerate_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        S.wilson_interval([0, 0, 3], [0, 5, 3])
        S.rate_interval([0], [0])
        S.two_proportion_test([0, 0, 2], [0, 5, 2], [0, 0, 3], [4, 5, 3])
        S.difference_interval([0], [0], [0], [0])
        S.grouped_cohen_kappa([0, 0], [0, 0], 2, [0, 0], 2)
        S.grouped_krippendorff_alpha([[1, 1], [1, 1]], [0, 0], 2)
        S.grouped_expected_calibration_error([0.5], [1], [0], 2)
        S.standardized_mean_difference_from_stats([1.0, 1.0], [0.0, np.nan], [3, 0], [1.0, 1.0], [0.0, 1.0], [3, 1])
        S.spearman_per_group([1, 2, 1, 1, 5], [2, 1, 3, 3, 1], [0, 0, 1, 1, 2], 4)
        S.grouped_bootstrap_mean_interval([1.0], [0], 3, n_resamples=10)
        S.auc_with_interval([1.0], [1.0])
        S.benjamini_hochberg([np.nan])
