"""Slice-against-rest tests (Fisher / z), BH, McNemar and the paired t test against scipy and statsmodels."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import scipy.stats

from analysis import stats as S
from analysis.stats._fisher import _hypergeom_pmf
from tests.parity.stats import close

sm_proportion = pytest.importorskip("statsmodels.stats.proportion")
sm_multitest = pytest.importorskip("statsmodels.stats.multitest")
sm_contingency = pytest.importorskip("statsmodels.stats.contingency_tables")

_rng = np.random.default_rng(20240601)
_rng.binomial(_rng.integers(1, 5000, 200), _rng.uniform(0, 1, 200))  # the draws before BH's random scenario


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


def test_fisher_moderate_tables_match_scipy():
    # Formerly checked scipy's algorithm transcribed on scipy.stats.hypergeom; the near-tie cases now go to
    # scipy.stats.fisher_exact itself, and the vectorised path is checked here on the same tables.
    rng = np.random.default_rng(9)
    n1 = rng.integers(1, 400, 120)
    n2 = rng.integers(1, 400, 120)
    a = rng.binomial(n1, 0.1)
    c = rng.binomial(n2, 0.15)
    p, method = S.two_proportion_test(a, n1, c, n2, small_count=1e9)
    assert set(method.tolist()) == {"fisher"}
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
        got = _hypergeom_pmf(np.array([x]), np.array([n1]), np.array([n2]), np.array([k]))[0]
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




def test_paired_mean_difference_matches_scipy_ttest_rel():
    rng = np.random.default_rng(8)
    before, after = rng.normal(0, 1, 200), rng.normal(0.2, 1, 200)
    codes = rng.integers(0, 2, 200)
    n, mean, low, high, p = S.paired_mean_difference(after - before, codes, 2)
    for g in range(2):
        result = scipy.stats.ttest_rel(after[codes == g], before[codes == g])
        interval = result.confidence_interval(0.95)
        assert n[g] == (codes == g).sum() and mean[g] == pytest.approx((after - before)[codes == g].mean())
        assert p[g] == pytest.approx(result.pvalue, rel=1e-9)
        assert (low[g], high[g]) == pytest.approx((interval.low, interval.high), rel=1e-9)


def test_paired_mean_difference_drops_missing_and_small_groups():
    diffs = np.array([1.0, np.nan, 2.0, np.inf, 0.5, 3.0])
    n, mean, low, high, p = S.paired_mean_difference(diffs, [0, 0, 0, 1, 1, 2], 4)
    assert n.tolist() == [2, 1, 1, 0]
    ref = scipy.stats.ttest_1samp([1.0, 2.0], 0.0)
    close(p[0], ref.pvalue)
    assert np.isnan(p[1:]).all() and np.isnan(low[1:]).all() and math.isnan(mean[3])
