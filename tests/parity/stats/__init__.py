"""Parity tests of analysis.stats: every statistic against an independent implementation (statsmodels, scipy,
scikit-learn, the krippendorff package, a direct slow computation written here, or published values). No
expected number is copied from the module's own output."""

from __future__ import annotations

import numpy as np

TOL = 1e-10


def close(actual, expected, tol=TOL):
    np.testing.assert_allclose(
        np.asarray(actual, dtype=float), np.asarray(expected, dtype=float), rtol=tol, atol=tol, equal_nan=True
    )
