"""Student-t interval of a mean from its summary (mean, standard deviation, count), for many groups at once.

Used for the headline of a run whose scores are graded (an F1, a judge's 1-10 rating, a win rate with ties):
the figure the tools themselves report is the mean score, with a standard error (lm-eval's ``*_stderr``,
Inspect's ``stderr``). Tested against ``statsmodels.stats.weightstats.DescrStatsW.tconfint_mean``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from analysis.stats._checks import check_confidence

__all__ = ["mean_interval"]


def mean_interval(mean: ArrayLike, sd: ArrayLike, n: ArrayLike, *,
                  confidence: float = 0.95) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two-sided Student-t interval of a mean: ``mean -+ t(1 - a/2, n - 1) * sd / sqrt(n)``.

    Parameters
    ----------
    mean, sd, n : array_like, broadcast together
        Sample mean, sample standard deviation (``ddof=1``) and number of values of each group.
    confidence : float
        Coverage in (0, 1).

    Returns
    -------
    low, high : ndarray of float
        The bounds, in the values' unit; NaN where ``n < 2`` or the summary is missing (NaN).

    Raises
    ------
    ValueError
        ``confidence`` outside (0, 1).

    References
    ----------
    Student (1908), "The probable error of a mean", Biometrika 6(1); as computed by
    ``statsmodels.stats.weightstats.DescrStatsW.tconfint_mean``.

    Examples
    --------
    >>> low, high = mean_interval([0.5], [0.5], [100])
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.4008, 0.5992)
    """
    confidence = check_confidence(confidence)
    m, s, k = np.broadcast_arrays(np.asarray(mean, dtype=float), np.asarray(sd, dtype=float),
                                  np.asarray(n, dtype=float))
    m, s, k = np.atleast_1d(m), np.atleast_1d(s), np.atleast_1d(k)
    ok = (k >= 2) & np.isfinite(m) & np.isfinite(s)
    half = np.full(m.shape, np.nan)
    dof = np.where(ok, k - 1, 1.0)
    half[ok] = (sps.t.ppf(0.5 + confidence / 2, dof) * s / np.sqrt(np.where(ok, k, 1.0)))[ok]
    return m - half, m + half
