"""A slice against the rest of its run: the statistics every slice table shows (slicing, discovery, clusters).

One definition of the row a slice gets: its error rate with an interval (:func:`rate_interval`), the rest's error
rate, the difference in rates, a test against the rest (:func:`two_proportion_test`) where the slice is tested, and
Benjamini-Hochberg q-values over the tested slices (:func:`benjamini_hochberg`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.stats._checks import check_le, counts
from analysis.stats.proportions import rate_interval
from analysis.stats.significance import benjamini_hochberg, two_proportion_test

__all__ = ["SliceVsRest", "slice_vs_rest"]


@dataclass(frozen=True)
class SliceVsRest:
    """Per-slice statistics against the rest of the run; every array has shape (n_slices,)."""

    error_rate: NDArray[np.float64]
    """Errors / n, a fraction in [0, 1]; NaN for an empty slice."""
    rest_error_rate: NDArray[np.float64]
    """Error rate of the examples outside the slice; NaN when the slice holds the whole run."""
    difference: NDArray[np.float64]
    """``error_rate - rest_error_rate``, a difference of fractions (x 100 for points)."""
    ci_low: NDArray[np.float64]
    """Lower bound of the error rate (see :func:`rate_interval`)."""
    ci_high: NDArray[np.float64]
    """Upper bound of the error rate."""
    ci_method: NDArray[np.str_]
    """``"clopper-pearson"`` or ``"wilson"``."""
    p_value: NDArray[np.float64]
    """Two-sided p-value against the rest; NaN for a slice not tested."""
    test: NDArray[np.str_]
    """``"fisher"``, ``"z"``, or ``""`` for a slice not tested."""
    q_value: NDArray[np.float64]
    """Benjamini-Hochberg q-value over the tested slices; NaN for a slice not tested."""


def slice_vs_rest(
    errors: ArrayLike,
    n: ArrayLike,
    total_errors: int,
    total_n: int,
    *,
    tested: ArrayLike | bool = True,
    confidence: float = 0.95,
) -> SliceVsRest:
    """Error rate, interval, test against the rest and q-value of every slice of one run.

    Parameters
    ----------
    errors, n : array_like of int, shape (n_slices,)
        Errors and examples in each slice (``errors <= n``).
    total_errors, total_n : int
        Errors and examples in the whole run; the rest of a slice is ``total - slice``.
    tested : array_like of bool, shape (n_slices,), or bool, default True
        Which slices are tested (e.g. ``n >= min_support``); the others get no p-value, no test and no q-value and
        are not counted in the Benjamini-Hochberg family.
    confidence : float, default 0.95
        Coverage of the error-rate intervals, strictly between 0 and 1.

    Returns
    -------
    SliceVsRest
        One array per statistic (see the fields).

    Raises
    ------
    ValueError
        Bad counts (``MSG_COUNTS``, ``MSG_ERRORS_GT_N``, also for a slice larger than the run) or ``confidence``
        (``MSG_CONFIDENCE``).

    References
    ----------
    See :func:`rate_interval`, :func:`two_proportion_test` and :func:`benjamini_hochberg`.

    Examples
    --------
    >>> s = slice_vs_rest([8, 40, 2], [10, 100, 5], 50, 1000, tested=[True, True, False])
    >>> s.test.tolist(), np.round(s.difference, 4).tolist(), bool(np.isnan(s.q_value[2]))
    (['fisher', 'z', ''], [0.7576, 0.3889, 0.3518], True)
    """
    e = counts("errors", errors)
    t = counts("n", n)
    total_e = counts("total_errors", total_errors)
    total_t = counts("total_n", total_n)
    check_le("n", t, "total_n", np.broadcast_to(total_t, t.shape))
    rest_e, rest_t = total_e - e, total_t - t
    check_le("errors", e, "n", t)
    check_le("total_errors - errors", rest_e, "total_n - n", rest_t)
    low, high, method = rate_interval(e, t, confidence=confidence)
    mask = np.broadcast_to(np.asarray(tested, dtype=bool), e.shape)
    p_value, test = two_proportion_test(e, t, rest_e, rest_t)
    p_value = np.where(mask, p_value, np.nan)
    test = np.where(mask, test, "")
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(t > 0, e / np.maximum(t, 1), np.nan)
        rest_rate = np.where(rest_t > 0, rest_e / np.maximum(rest_t, 1), np.nan)
    return SliceVsRest(error_rate=rate, rest_error_rate=rest_rate, difference=rate - rest_rate, ci_low=low,
                       ci_high=high, ci_method=method, p_value=p_value, test=test,
                       q_value=benjamini_hochberg(p_value))
