"""The t interval of a mean against statsmodels' DescrStatsW.tconfint_mean on raw values."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import stats as S

weightstats = pytest.importorskip("statsmodels.stats.weightstats")

_rng = np.random.default_rng(7)
SAMPLES = {
    "likert": _rng.integers(1, 11, 80).astype(float),
    "f1": _rng.uniform(0, 1, 5),
    "win_tie_loss": _rng.choice([0.0, 0.5, 1.0], 805),
    "two": np.array([0.2, 0.9]),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_matches_statsmodels(name, confidence):
    x = SAMPLES[name]
    low, high = S.mean_interval(x.mean(), x.std(ddof=1), len(x), confidence=confidence)
    ref = weightstats.DescrStatsW(x).tconfint_mean(alpha=1 - confidence)
    assert low[0] == pytest.approx(ref[0], rel=1e-10, abs=1e-12)
    assert high[0] == pytest.approx(ref[1], rel=1e-10, abs=1e-12)


def test_undefined_below_two_values_and_bad_confidence():
    low, high = S.mean_interval([0.5, 0.5, np.nan], [0.1, np.nan, 0.1], [1, 10, 10])
    assert np.isnan(low).all() and np.isnan(high).all()
    with pytest.raises(ValueError):
        S.mean_interval(0.5, 0.1, 10, confidence=1.5)
