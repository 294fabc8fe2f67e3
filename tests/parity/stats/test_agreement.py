"""Cohen's kappa against sklearn, Krippendorff's alpha against the krippendorff package, a direct slow
implementation and the published example."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import stats as S
from tests.parity.stats import close

sk_metrics = pytest.importorskip("sklearn.metrics")


def _kappa(a, b, weights="none"):
    """Kappa of two label lists: labels coded in sorted order of their union, a missing label (None, NaN) as -1."""
    a, b = np.asarray(a), np.asarray(b)

    def missing(x):
        return np.array([v is None or (isinstance(v, float) and v != v) for v in x.tolist()], dtype=bool)

    ma, mb = missing(a), missing(b)
    labels = sorted(set(a[~ma].tolist()) | set(b[~mb].tolist()))
    index = {lab: i for i, lab in enumerate(labels)}
    codes_a = np.array([-1 if m else index[v] for v, m in zip(a.tolist(), ma)], dtype=np.int64)
    codes_b = np.array([-1 if m else index[v] for v, m in zip(b.tolist(), mb)], dtype=np.int64)
    return float(S.grouped_cohen_kappa(codes_a, codes_b, max(len(labels), 1), np.zeros(a.size, int), 1,
                                       weights=weights)[0])


def _alpha(ratings, level="nominal"):
    """Alpha of one (raters x units) matrix: a single group."""
    r = np.asarray(ratings, dtype=float)
    return float(S.grouped_krippendorff_alpha(r, np.zeros(r.shape[1], int), 1, level=level)[0])


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
    close(_kappa(a, b, weights=weights), ref)


def test_cohen_kappa_missing_and_undefined():
    a = np.array([1.0, 2.0, np.nan, 2.0, 1.0, 3.0])
    b = np.array([1.0, 2.0, 2.0, np.nan, 2.0, 3.0])
    keep = ~(np.isnan(a) | np.isnan(b))
    close(_kappa(a, b), sk_metrics.cohen_kappa_score(a[keep], b[keep]))
    obj_a = np.array(["x", None, "y", "x"], dtype=object)
    obj_b = np.array(["x", "y", "y", "y"], dtype=object)
    close(_kappa(obj_a, obj_b), sk_metrics.cohen_kappa_score(["x", "y", "x"], ["x", "y", "y"]))
    assert math.isnan(_kappa([1, 1, 1], [1, 1, 1]))
    assert math.isnan(_kappa([], []))


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
    assert _alpha(KRIPPENDORFF_2011, level=level) == pytest.approx(PUBLISHED_ALPHA[level], abs=6e-4)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("scenario", sorted(ALPHA_SCENARIOS))
def test_krippendorff_matches_slow_implementation(scenario, level):
    ratings = ALPHA_SCENARIOS[scenario]
    close(_alpha(ratings, level=level), _slow_alpha(ratings, level))


def test_krippendorff_matches_pypi_package_if_installed():
    krippendorff = pytest.importorskip("krippendorff")  # optional; never installed by the suite
    for level in LEVELS:
        for ratings in ALPHA_SCENARIOS.values():
            ref = krippendorff.alpha(reliability_data=np.asarray(ratings, float), level_of_measurement=level)
            close(_alpha(ratings, level=level), ref)


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
    assert math.isnan(_alpha([[1, 1, 1], [1, 1, 1]]))  # no variation
    assert math.isnan(_alpha([[1, 2, 3]]))  # one rater: nothing pairable
    assert math.isnan(_alpha([[N, N], [N, N]]))
    assert _alpha([[1, 2, 3], [1, 2, 3]]) == 1.0
