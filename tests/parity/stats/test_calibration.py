"""Expected calibration error against a direct loop over the bins and sklearn's calibration_curve."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import stats as S
from tests.parity.stats import close

sk_calibration = pytest.importorskip("sklearn.calibration")


def _ece(conf, correct, n_bins=10):
    """ECE of one sample: a single group."""
    conf = np.asarray(conf, dtype=float)
    return float(S.grouped_expected_calibration_error(conf, correct, np.zeros(conf.size, int), 1, n_bins=n_bins)[0])


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
    close(_ece(conf, correct, n_bins=n_bins), _slow_ece(list(conf), list(correct), n_bins))


@pytest.mark.parametrize("n_bins", [5, 10, 15])
def test_ece_matches_sklearn_calibration_curve(n_bins):
    # sklearn gives the accuracy and mean confidence of every non-empty bin (closed on the right, so no value may
    # sit on an inner edge); the bin sizes come from the same edges.
    rng = np.random.default_rng(23)
    conf = rng.beta(5, 2, 2000)
    correct = (rng.random(2000) < conf**1.5).astype(int)
    edges = np.linspace(0, 1, n_bins + 1)
    assert not np.isin(conf, edges).any()
    accuracy, mean_conf = sk_calibration.calibration_curve(correct, conf, n_bins=n_bins, strategy="uniform")
    sizes = np.histogram(conf, bins=edges)[0]
    sizes = sizes[sizes > 0]
    close(_ece(conf, correct, n_bins=n_bins), np.sum(sizes / conf.size * np.abs(accuracy - mean_conf)))


def test_grouped_ece_matches_direct_loop():
    conf, correct = ECE_SCENARIOS["random"]
    codes = np.random.default_rng(18).integers(0, 4, conf.size)
    ece = S.grouped_expected_calibration_error(conf, correct, codes, 5, n_bins=8)
    for g in range(4):
        m = codes == g
        close(ece[g], _slow_ece(list(conf[m]), list(correct[m]), 8))
    assert np.isnan(ece[4])
    assert np.isnan(_ece([], []))
