"""Rank correlation within every group: Spearman's rho and its p-value per slice.

Vectorised over groups on purpose: the objective link measures, in every slice of every attribute, whether a
signal still moves with the outcome; mid-ranks within groups come from one lexsort, where ``scipy.stats.spearmanr``
would be called once per slice (tests/parity/stats/test_correlation.py compares every group with it).
"""

from __future__ import annotations

import numpy as np
import scipy.special
from numpy.typing import ArrayLike, NDArray

from analysis.stats._checks import check_group_codes, check_length, float_values, one_d

__all__ = ["spearman_from_mid_ranks", "spearman_from_rank_sums", "spearman_per_group"]


def _ranks_within_groups(v: NDArray, g: NDArray, order: NDArray, starts: NDArray) -> NDArray:
    """Average (mid) ranks of ``v`` within each group; ``order`` sorts by (g, v)."""

    vs = v[order]
    gs = g[order]
    pos = np.arange(v.size) - starts[gs] + 1.0
    new_run = np.ones(v.size, dtype=bool)
    new_run[1:] = (gs[1:] != gs[:-1]) | (vs[1:] != vs[:-1])
    run = np.cumsum(new_run) - 1
    avg = np.bincount(run, weights=pos) / np.bincount(run)
    ranks = np.empty(v.size)
    ranks[order] = avg[run]
    return ranks


def spearman_per_group(
    x: ArrayLike, y: ArrayLike, group_codes: ArrayLike, n_groups: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Spearman rank correlation and its two-sided p-value within every group.

    Per group: mid-ranks of x and y, the Pearson correlation of the ranks, and
    ``p = 2 T_{n-2}.sf(|rho| sqrt((n-2) / ((1+rho)(1-rho))))``.

    Parameters
    ----------
    x, y : array_like of float, shape (n_rows,)
        Paired values; rows where either is NaN are ignored (infinite values are refused).
    group_codes : array_like of int, shape (n_rows,)
        Group of each row, in ``[0, n_groups)``.
    n_groups : int
        Number of groups (``>= 0``).

    Returns
    -------
    rho : ndarray of float64, shape (n_groups,)
        Spearman's rho in [-1, 1]; NaN for groups with fewer than 2 rows or a constant x or y.
    p_value : ndarray of float64, shape (n_groups,)
        Two-sided p-value in [0, 1]; NaN where rho is NaN and for 2-row groups (as scipy); 0 when ``|rho| == 1``
        with more than 2 rows.

    Raises
    ------
    ValueError
        Infinite values (``MSG_FINITE``); mismatched lengths (``MSG_LENGTH``); bad group codes
        (``MSG_GROUP_CODES``, ``MSG_NDIM``).

    References
    ----------
    Spearman, C. (1904). The proof and measurement of association between two things. Am. J. Psychol. 15, 72-101;
    equal to ``scipy.stats.spearmanr`` on each group's rows.

    Examples
    --------
    >>> rho, p = spearman_per_group([1, 2, 3, 4, 1, 2, 3], [1, 3, 2, 4, 3, 2, 1],
    ...                             [0, 0, 0, 0, 1, 1, 1], 2)
    >>> np.round(rho, 4).tolist(), np.round(p, 4).tolist()
    ([0.8, -1.0], [0.2, 0.0])
    """

    xv = one_d("x", float_values("x", x, allow_nan=True))
    yv = one_d("y", float_values("y", y, allow_nan=True))
    check_length("y", yv, "x", xv.shape[0])
    g, n_groups = check_group_codes(group_codes, n_groups, xv.shape[0], "x")
    keep = ~(np.isnan(xv) | np.isnan(yv))
    xv, yv, g = xv[keep], yv[keep], g[keep]
    n = np.bincount(g, minlength=n_groups).astype(np.float64)
    rho = np.full(n_groups, np.nan)
    p = np.full(n_groups, np.nan)
    if xv.size == 0:
        return rho, p
    starts = np.concatenate(([0], np.cumsum(n)[:-1])).astype(np.int64)
    rx = _ranks_within_groups(xv, g, np.lexsort((xv, g)), starts)
    ry = _ranks_within_groups(yv, g, np.lexsort((yv, g)), starts)
    return spearman_from_mid_ranks(rx, ry, g, n)


def spearman_from_mid_ranks(rx: ArrayLike, ry: ArrayLike, group_codes: ArrayLike, n: ArrayLike
                            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Spearman's rho and its two-sided p-value per group, from mid-ranks already computed within each group.

    Parameters
    ----------
    rx, ry : array_like of float, shape (m,)
        Each row's mid-rank (average rank for ties, 1-based) within its group, of the two variables.
    group_codes : array_like of int, shape (m,)
        Each row's group, in ``[0, len(n))``.
    n : array_like of float, shape (k,)
        Rows per group.

    Returns
    -------
    rho, p : ndarray of float, shape (k,)
        The Pearson correlation of the ranks; ``p = 2 T_{n-2}.sf(|t|)`` with
        ``t = rho sqrt((n-2) / ((1+rho)(1-rho)))``, as ``scipy.stats.spearmanr``. rho NaN for a group of fewer than 2
        rows or a constant variable; p NaN also for 2 rows.

    Raises
    ------
    IndexError
        A group code outside ``[0, len(n))`` (callers check codes first: :func:`spearman_per_group`).

    References
    ----------
    Spearman, C. (1904). The proof and measurement of association between two things. Am. J. Psychol. 15, 72-101.

    Examples
    --------
    >>> rho, p = spearman_from_mid_ranks([1, 2, 3, 1, 2], [1, 2, 3, 2, 1], [0, 0, 0, 1, 1], [3, 2])
    >>> np.round(rho, 4).tolist(), np.round(p, 4).tolist()
    ([1.0, -1.0], [0.0, nan])
    """
    rx, ry = np.asarray(rx, dtype=np.float64), np.asarray(ry, dtype=np.float64)
    g, n = np.asarray(group_codes, dtype=np.int64), np.asarray(n, dtype=np.float64)
    k = n.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (n + 1.0) / 2.0  # mid-ranks always average to (n + 1) / 2
        dx = rx - mean[g]
        dy = ry - mean[g]
        sxy = np.bincount(g, weights=dx * dy, minlength=k)
        sxx = np.bincount(g, weights=dx * dx, minlength=k)
        syy = np.bincount(g, weights=dy * dy, minlength=k)
    return spearman_from_rank_sums(n, sxy, sxx, syy)


def spearman_from_rank_sums(n: ArrayLike, sxy: ArrayLike, sxx: ArrayLike, syy: ArrayLike
                            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Spearman's rho and its two-sided p-value per group, from the sums of the mid-ranks' deviations.

    For a grouping statement that ranks within groups and sums (:func:`analysis.sql.modes.rank_correlation_sums_sql`)
    as for :func:`spearman_from_mid_ranks`, which calls it: one definition of the statistic.

    Parameters
    ----------
    n : array_like of float, shape (k,)
        Rows per group.
    sxy, sxx, syy : array_like of float, shape (k,)
        Per group, the sums of ``(rx - m)(ry - m)``, ``(rx - m)^2`` and ``(ry - m)^2`` with ``rx``, ``ry`` the
        mid-ranks (1-based, average rank for ties) within the group and ``m = (n + 1) / 2`` their mean.

    Returns
    -------
    rho, p : ndarray of float, shape (k,)
        ``rho = sxy / sqrt(sxx syy)`` clipped to [-1, 1]; ``p = 2 T_{n-2}.sf(|t|)`` with
        ``t = rho sqrt((n-2) / ((1+rho)(1-rho)))``, as ``scipy.stats.spearmanr``. rho NaN for a group of fewer than 2
        rows or a constant variable (``sxx`` or ``syy`` 0); p NaN also for 2 rows.

    Raises
    ------
    ValueError
        An argument not 1-D (``MSG_NDIM``) or of another length than ``n`` (``MSG_LENGTH``).

    References
    ----------
    Spearman, C. (1904). The proof and measurement of association between two things. Am. J. Psychol. 15, 72-101.

    Examples
    --------
    >>> rho, p = spearman_from_rank_sums([3, 2], [2.0, -0.5], [2.0, 0.5], [2.0, 0.5])
    >>> np.round(rho, 4).tolist(), np.round(p, 4).tolist()
    ([1.0, -1.0], [0.0, nan])
    """
    n = one_d("n", np.asarray(n, dtype=np.float64))
    k = n.shape[0]
    sxy, sxx, syy = (one_d(name, np.asarray(v, dtype=np.float64)) for name, v in (("sxy", sxy), ("sxx", sxx),
                                                                                    ("syy", syy)))
    for name, v in (("sxy", sxy), ("sxx", sxx), ("syy", syy)):
        check_length(name, v, "n", k)
    rho = np.full(k, np.nan)
    p = np.full(k, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0)
        dof = n - 2.0
        t = r * np.sqrt(np.clip(dof / ((r + 1.0) * (1.0 - r)), 0.0, None))
        pv = 2.0 * scipy.special.stdtr(dof, -np.abs(t))
    valid = (n >= 2) & (sxx > 0) & (syy > 0)
    rho[valid] = r[valid]
    pv = np.where(dof > 0, pv, np.nan)
    p[valid] = pv[valid]
    return rho, p
