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

__all__ = ["mean_interval", "welch_t_test"]


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


def welch_t_test(mean1: ArrayLike, sd1: ArrayLike, n1: ArrayLike, mean2: ArrayLike, sd2: ArrayLike,
                 n2: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Welch's two-sided t test of two means from their summaries (unequal variances), for many pairs at once.

    Parameters
    ----------
    mean1, sd1, n1, mean2, sd2, n2 : array_like, broadcast together
        Each group's sample mean, sample standard deviation (``ddof=1``) and number of values.

    Returns
    -------
    t, p : ndarray of float
        The t statistic (group 1 minus group 2, over the Welch standard error) and the two-sided p-value on the
        Welch-Satterthwaite degrees of freedom; NaN where a group has fewer than 2 values or both variances are 0.

    Raises
    ------
    ValueError
        Arrays that do not broadcast together.

    References
    ----------
    B. L. Welch (1947), "The generalization of 'Student's' problem when several different population variances
    are involved", Biometrika 34; as ``scipy.stats.ttest_ind(..., equal_var=False)`` computes it.

    Examples
    --------
    >>> t, p = welch_t_test([0.5], [0.2], [50], [0.6], [0.3], [80])
    >>> round(float(t[0]), 3), round(float(p[0]), 4)
    (-2.279, 0.0243)
    """
    m1, s1, k1, m2, s2, k2 = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (mean1, sd1, n1, mean2, sd2, n2))
    m1, s1, k1, m2, s2, k2 = np.broadcast_arrays(m1, s1, k1, m2, s2, k2)
    ok = (k1 >= 2) & (k2 >= 2) & np.isfinite(m1) & np.isfinite(m2) & np.isfinite(s1) & np.isfinite(s2)
    v1 = np.where(ok, s1 ** 2 / np.where(ok, k1, 1.0), np.nan)
    v2 = np.where(ok, s2 ** 2 / np.where(ok, k2, 1.0), np.nan)
    se2 = v1 + v2
    ok &= se2 > 0
    t = np.full(m1.shape, np.nan)
    p = np.full(m1.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        tt = (m1 - m2) / np.sqrt(se2)
        df = se2 ** 2 / (v1 ** 2 / (k1 - 1) + v2 ** 2 / (k2 - 1))
    t[ok] = tt[ok]
    p[ok] = 2 * sps.t.sf(np.abs(tt[ok]), df[ok])
    return t, p
