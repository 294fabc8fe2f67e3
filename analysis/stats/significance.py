"""Significance tests: a slice against the rest (Fisher exact or two-proportion z), McNemar's exact test for
paired correctness, the paired t test per group, and Benjamini-Hochberg q-values over a family of tests.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

from analysis.stats._checks import (
    MSG_INT_MIN,
    MSG_P_VALUES,
    check_confidence,
    check_group_codes,
    check_int,
    check_le,
    check_number,
    counts,
    one_d,
)
from analysis.stats._fisher import _fisher_two_sided

__all__ = ["benjamini_hochberg", "bh_family_size", "mcnemar_exact", "paired_mean_difference", "paired_mean_difference_from_sums",
           "two_proportion_test"]


def two_proportion_test(
    errors_in: ArrayLike,
    n_in: ArrayLike,
    errors_out: ArrayLike,
    n_out: ArrayLike,
    *,
    small_count: float = 5,
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """Two-sided test that a slice's error rate differs from the rest's.

    Per slice the 2x2 table is ``[[errors_in, n_in - errors_in], [errors_out, n_out - errors_out]]``. If any
    *expected* cell count (row total * column total / grand total) is below ``small_count`` the two-sided Fisher
    exact test is used; otherwise the pooled two-proportion z test
    ``z = (p_in - p_out) / sqrt(p(1-p)(1/n_in + 1/n_out))``, ``p = 2 sf(|z|)``.

    Fisher p-values come from a vectorised implementation of ``scipy.stats.fisher_exact``'s algorithm (see
    :mod:`analysis.stats._fisher` for why and the measurements: 37-167x faster than calling scipy per slice on
    2,000-5,000 slices), with scipy itself deciding every near-tied case.

    Parameters
    ----------
    errors_in, n_in : array_like of int, any shape
        Errors and examples in each slice.
    errors_out, n_out : array_like of int, broadcastable with the above
        Errors and examples in the rest of the run (outside the slice).
    small_count : float, default 5
        Smallest expected cell count for the z test (``>= 0``); ``1e9`` forces Fisher everywhere.

    Returns
    -------
    p_value : ndarray of float64, the broadcast shape
        Two-sided p-values in [0, 1]. NaN where ``n_in == 0`` or ``n_out == 0`` (nothing to compare; scipy would
        say 1.0); 1.0 when there are no errors at all or only errors, and when the z test is chosen but undefined
        (only possible with ``small_count=0``).
    method : ndarray of str, the broadcast shape
        ``"fisher"`` or ``"z"`` per slice.

    Raises
    ------
    ValueError
        Bad ``small_count`` (``MSG_NUMBER_MIN``); negative or non-integer counts (``MSG_COUNTS``); errors above
        their totals (``MSG_ERRORS_GT_N``).

    References
    ----------
    Fisher, R. A. (1922), J. R. Stat. Soc. 85, 87-94; ``scipy.stats.fisher_exact`` (two-sided, with its 1e-14
    relative tolerance for tables as probable as the observed one); the z test equals
    ``statsmodels.stats.proportion.proportions_ztest``.

    Examples
    --------
    >>> p, method = two_proportion_test([8, 40], [10, 100], [1, 300], [6, 1000])
    >>> method.tolist(), np.round(p, 6).tolist()
    (['fisher', 'z'], [0.034965, 0.03909])
    """
    small_count = check_number("small_count", small_count, 0)
    e_in = counts("errors_in", errors_in)
    t_in = counts("n_in", n_in)
    e_out = counts("errors_out", errors_out)
    t_out = counts("n_out", n_out)
    e_in, t_in, e_out, t_out = np.broadcast_arrays(e_in, t_in, e_out, t_out)
    check_le("errors_in", e_in, "n_in", t_in)
    check_le("errors_out", e_out, "n_out", t_out)
    shape = e_in.shape
    e_in, t_in, e_out, t_out = (v.ravel() for v in (e_in, t_in, e_out, t_out))

    total = t_in + t_out
    col_err = e_in + e_out
    col_ok = total - col_err
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_min = np.minimum(t_in, t_out).astype(np.float64) * np.minimum(col_err, col_ok) / total
    use_fisher = ~(expected_min >= small_count)  # NaN (total == 0) -> Fisher

    p = np.full(e_in.shape[0], np.nan)
    fi = np.flatnonzero(use_fisher)
    if fi.size:
        p[fi] = _fisher_two_sided(e_in[fi], t_in[fi], t_out[fi], col_err[fi])
    zi = np.flatnonzero(~use_fisher)
    if zi.size:
        with np.errstate(divide="ignore", invalid="ignore"):
            pooled = col_err[zi] / total[zi]
            se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / t_in[zi] + 1.0 / t_out[zi]))
            z = (e_in[zi] / t_in[zi] - e_out[zi] / t_out[zi]) / se
            pz = 2.0 * scipy.stats.norm.sf(np.abs(z))
        p[zi] = np.where(np.isfinite(z), pz, 1.0)
    p[(t_in == 0) | (t_out == 0)] = np.nan
    method = np.where(use_fisher, "fisher", "z")
    return p.reshape(shape), method.reshape(shape)


def bh_family_size(q_values: ArrayLike) -> int:
    """How many tests the Benjamini-Hochberg family of these q-values held.

    The entries that are not NaN: :func:`benjamini_hochberg` leaves a NaN (a group that was not tested) out of the
    family.

    Parameters
    ----------
    q_values : array_like of float, any shape
        q-values as :func:`benjamini_hochberg` returns them (None or NaN: not tested).

    Returns
    -------
    int
        The family's size ``m``.

    Raises
    ------
    ValueError
        A value that is not a number.

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995), as :func:`benjamini_hochberg`: ``m`` counts the tested hypotheses only.

    Examples
    --------
    >>> bh_family_size([0.04, 0.053, np.nan, 0.053, 0.5])
    4
    """
    q = np.asarray([np.nan if v is None else v for v in np.ravel(np.asarray(q_values, dtype=object))],
                   dtype=np.float64)
    return int(np.count_nonzero(~np.isnan(q)))


def benjamini_hochberg(p_values: ArrayLike) -> NDArray[np.float64]:
    """Benjamini-Hochberg FDR-adjusted p-values (q-values), NaN entries left out of the family.

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the sorted non-NaN p-values, computed by
    ``scipy.stats.false_discovery_control(method="bh")`` on the non-NaN entries (a NaN marks a slice that was not
    tested, e.g. below the minimum support, so it is not counted in ``m``).

    Parameters
    ----------
    p_values : array_like of float, any shape
        P-values in [0, 1], or NaN for "not tested". All entries form one family.

    Returns
    -------
    q_value : ndarray of float64, the input's shape
        Adjusted p-values in [0, 1]; NaN where the input is NaN.

    Raises
    ------
    ValueError
        A value outside [0, 1] that is not NaN (``MSG_P_VALUES``).

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. J. R. Stat. Soc. B 57, 289-300;
    ``scipy.stats.false_discovery_control``; equal to ``statsmodels`` ``multipletests(method="fdr_bh")[1]``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, np.nan, 0.03, 0.5]).round(6).tolist()
    [0.04, 0.053333, nan, 0.053333, 0.5]
    """
    p = np.asarray(p_values, dtype=np.float64)
    tested = ~np.isnan(p)
    bad = tested & ~((p >= 0.0) & (p <= 1.0))
    if np.any(bad):
        raise ValueError(MSG_P_VALUES.format(value=p[bad].ravel()[0].item()))
    q = np.full(p.shape, np.nan)
    if np.any(tested):
        q[tested] = scipy.stats.false_discovery_control(p[tested], method="bh")
    return q


def mcnemar_exact(b: ArrayLike, c: ArrayLike) -> NDArray[np.float64]:
    """Exact (binomial) two-sided McNemar p-value per slice.

    ``p = min(1, 2 BinomCDF(min(b, c); b + c, 1/2))``; ``b == c == 0`` gives p = 1.

    Parameters
    ----------
    b, c : array_like of int, broadcastable
        Discordant-pair counts per slice: items system A got right and B wrong (``b``) and the reverse (``c``).

    Returns
    -------
    p_value : ndarray of float64, the broadcast shape
        Two-sided p-values in [0, 1].

    Raises
    ------
    ValueError
        Negative or non-integer counts (``MSG_COUNTS``).

    References
    ----------
    McNemar, Q. (1947). Psychometrika 12, 153-157; equal to
    ``statsmodels.stats.contingency_tables.mcnemar(table, exact=True).pvalue``.

    Examples
    --------
    >>> np.round(mcnemar_exact([10, 3, 0], [2, 3, 0]), 6).tolist()
    [0.038574, 1.0, 1.0]
    """
    bb = counts("b", b)
    cc = counts("c", c)
    bb, cc = np.broadcast_arrays(bb, cc)
    p = 2.0 * scipy.stats.binom.cdf(np.minimum(bb, cc), bb + cc, 0.5)
    return np.minimum(p, 1.0)


def paired_mean_difference(
    diffs: ArrayLike, group_codes: ArrayLike, n_groups: int, *, confidence: float = 0.95
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Paired t test of the mean difference within every group (vectorised over groups).

    Per group: ``t = mean / (sd / sqrt(n))`` with the sample SD (ddof=1), ``n - 1`` degrees of freedom, the
    Student t interval ``mean -/+ t_{(1+confidence)/2} se`` and the two-sided p-value. Grouped in one pass because
    the objective link tests a score difference in every slice of every attribute.

    Parameters
    ----------
    diffs : array_like of float, shape (n_items,)
        Per-item paired differences (candidate minus baseline, in the score's units); NaN and infinite items are
        dropped (an item scored by one system only).
    group_codes : array_like of int, shape (n_items,)
        Group of each item, in ``[0, n_groups)``.
    n_groups : int
        Number of groups (``>= 0``).
    confidence : float, default 0.95
        Coverage of the interval, strictly between 0 and 1.

    Returns
    -------
    n : ndarray of int64, shape (n_groups,)
        Finite differences per group.
    mean, low, high, p_value : ndarray of float64, shape (n_groups,)
        Mean difference, interval bounds (score units) and two-sided p-value in [0, 1]. ``low``, ``high`` and
        ``p_value`` are NaN for groups with fewer than 2 items; a constant difference gives p = 0 (p = 1 when it is
        0) and a zero-width interval. ``mean`` is NaN for empty groups.

    Raises
    ------
    ValueError
        Bad ``confidence`` (``MSG_CONFIDENCE``); bad or mismatched group codes (``MSG_GROUP_CODES``,
        ``MSG_LENGTH``); ``diffs`` not 1-D (``MSG_NDIM``).

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6, 1-25; equal to ``scipy.stats.ttest_rel`` and its
    ``confidence_interval`` on each group's pairs.

    Examples
    --------
    >>> n, mean, low, high, p = paired_mean_difference(np.array([1.0, 2.0, 3.0, 0.5]), np.zeros(4, dtype=int), 1)
    >>> int(n[0]), float(mean[0]), round(float(p[0]), 4)
    (4, 1.625, 0.0609)
    """
    conf = check_confidence(confidence)
    x = one_d("diffs", np.asarray(diffs, dtype=np.float64))
    codes, n_groups = check_group_codes(group_codes, n_groups, x.shape[0], "diffs")
    keep = np.isfinite(x)
    d, g = x[keep], codes[keep]
    n = np.bincount(g, minlength=n_groups).astype(float)
    total = np.bincount(g, weights=d, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        ss = np.bincount(g, weights=(d - mean[g]) ** 2, minlength=n_groups)
    mean, low, high, p = _paired_t(n, mean, ss, conf)
    return n.astype(np.int64), mean, low, high, p


def paired_mean_difference_from_sums(
    n: ArrayLike, total: ArrayLike, squares: ArrayLike, *, scale: int, confidence: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Paired t test of the mean difference per group from aggregates: counts and exact fixed-point sums.

    The test of :func:`paired_mean_difference` when the per-item differences stay where they are (a grouping
    statement sums them): ``mean = total / (n scale)``, the sum of squared deviations
    ``squares / scale - total^2 / (n scale^2)`` computed exactly (integers) and rounded once.

    Parameters
    ----------
    n : array_like of int, shape (n_groups,)
        Pairs with both values per group.
    total : array_like of int, shape (n_groups,)
        Sum of the differences per group in units of ``1 / scale`` (integers: Python ints, Decimals or integral
        floats; NaN or None as 0).
    squares : array_like of int, shape (n_groups,)
        Sum of the squared differences in the same units.
    scale : int
        Units per 1 of the difference (:data:`analysis.sql.features.SCORE_SCALE`, 1e15).
    confidence : float, default 0.95
        Coverage of the interval, strictly between 0 and 1.

    Returns
    -------
    mean, low, high, p_value : ndarray of float64, shape (n_groups,)
        As :func:`paired_mean_difference`: mean difference and the Student t interval (``n - 1`` degrees of
        freedom) in the values' units, two-sided p-value; NaN where ``n < 2`` (``mean`` NaN where ``n == 0``).

    Raises
    ------
    ValueError
        Bad ``confidence`` (``MSG_CONFIDENCE``); a negative ``n`` or ``scale`` below 1 (``MSG_INT_MIN``).

    References
    ----------
    Student (1908). Biometrika 6, 1-25; equal to ``scipy.stats.ttest_rel`` and its ``confidence_interval`` on each
    group's pairs (up to the rounding of each value to a unit).

    Examples
    --------
    >>> mean, low, high, p = paired_mean_difference_from_sums([4], [26], [57], scale=4)  # diffs 1, 2, 3, 0.5
    >>> float(mean[0]), round(float(p[0]), 4)
    (1.625, 0.0609)
    """
    conf = check_confidence(confidence)
    scale = check_int("scale", scale, 1)
    counts = [int(v) for v in np.asarray(n, dtype=object).reshape(-1)]
    if any(c < 0 for c in counts):
        raise ValueError(MSG_INT_MIN.format(name="n", minimum=0, value=min(counts)))

    def whole(v) -> int:
        return 0 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)

    sums = [whole(v) for v in np.asarray(total, dtype=object).reshape(-1)]
    sq = [whole(v) for v in np.asarray(squares, dtype=object).reshape(-1)]
    mean = np.full(len(counts), np.nan)
    ss = np.full(len(counts), np.nan)
    for i, (c, t, q) in enumerate(zip(counts, sums, sq)):
        if c > 0:
            mean[i] = float(Fraction(t, c * scale))
            ss[i] = float(max(Fraction(c * q * scale - t * t, c * scale * scale), Fraction(0)))
    nf = np.asarray(counts, dtype=float)
    mean, low, high, p = _paired_t(nf, mean, ss, conf)
    return mean, low, high, p


def _paired_t(n: NDArray[np.float64], mean: NDArray[np.float64], ss: NDArray[np.float64], conf: float):
    """Student t interval and two-sided p-value per group from the size, mean and sum of squared deviations."""
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(ss / (n - 1))
        se = sd / np.sqrt(n)
        dof = n - 1
        t = mean / se
        p = 2 * scipy.stats.t.sf(np.abs(t), dof)
        p = np.where(se == 0, np.where(mean == 0, 1.0, 0.0), p)
        crit = scipy.stats.t.ppf(0.5 + conf / 2, dof)
        low, high = mean - crit * se, mean + crit * se
    small = n < 2
    return mean, np.where(small, np.nan, low), np.where(small, np.nan, high), np.where(small, np.nan, p)
