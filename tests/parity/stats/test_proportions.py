"""Rate intervals against statsmodels' proportion_confint and scipy's binomtest."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from analysis import stats as S
from tests.parity.stats import close

sm_proportion = pytest.importorskip("statsmodels.stats.proportion")

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
ALWAYS = 2**62  # small_n above every n: rate_interval uses Clopper-Pearson for every slice


def _sm_ci(e, n, conf, method):
    low, high = sm_proportion.proportion_confint(np.asarray(e), np.asarray(n), alpha=1 - conf, method=method)
    return np.array(low, dtype=float), np.array(high, dtype=float)


def _clopper_pearson(e, n, confidence=0.95):
    low, high, method = S.rate_interval(e, n, confidence=confidence, small_n=ALWAYS)
    assert set(np.ravel(method).tolist()) <= {"clopper-pearson"}
    return low, high


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
    low, high = _clopper_pearson(e, n, confidence=conf)
    ref_low, ref_high = _sm_ci(e, n, conf, "beta")
    close(low, ref_low)
    close(high, ref_high)


@pytest.mark.parametrize("e,n", [(0, 7), (3, 10), (10, 10), (17, 123), (0, 1)])
def test_clopper_pearson_matches_scipy_binomtest(e, n):
    low, high = _clopper_pearson(e, n, confidence=0.9)
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
    for fn in (S.wilson_interval, _clopper_pearson):
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
