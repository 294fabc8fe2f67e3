"""Separation of two samples: how well a signal separates failures from correct answers.

ROC AUC with a DeLong (or Hanley-McNeil) interval, Cohen's d, the Mann-Whitney U test, and
:func:`separation_statistics`, which the objective link computes for every (failure mode, signal) pair.

Everything rank-based follows from a few exact integer sums over the distinct values (:class:`RankSums`): the AUC,
the DeLong variance (placement values from mid-ranks) and the Mann-Whitney test with its tie correction. The sums
come from numpy here (:func:`rank_sums`) or from one grouping statement over the distinct values
(:func:`analysis.sql.modes.separation_sums_sql`), so the statistics are the same whichever computed the sums, and
identical on every engine (integers, summed exactly). The DeLong variance is computed here because no library of
the stack provides it: sklearn gives the AUC only, scipy the U statistic only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import scipy.special
from numpy.typing import ArrayLike

from analysis.stats._checks import check_choice, check_confidence, float_values, one_d, z_quantile

__all__ = ["AucMethod", "RankSums", "auc_from_rank_sums", "auc_with_interval", "mann_whitney_p",
           "mann_whitney_p_from_rank_sums", "rank_sums", "separation_from_sums", "separation_statistics",
           "standardized_mean_difference"]

AucMethod = Literal["delong", "hanley-mcneil"]
"""Standard error of the AUC: DeLong et al. (1988) or Hanley & McNeil (1982)."""
_AUC_METHODS = ("delong", "hanley-mcneil")


@dataclass(frozen=True)
class RankSums:
    """Exact integer sums over two samples from which every rank-based statistic here follows.

    For a positive score ``x_i`` its doubled placement is ``a_i = 2 #{neg < x_i} + #{neg = x_i}``; for a negative
    score ``y_j``, ``b_j = 2 #{pos > y_j} + #{pos = y_j}`` (twice DeLong's placement counts, so integers).
    """

    n_pos: int
    """Size of the positive sample."""
    n_neg: int
    """Size of the negative sample."""
    pos_sum: int
    """``sum_i a_i``: twice the Mann-Whitney U of the positives (pairs won, ties counting 1/2)."""
    pos_sq: int
    """``sum_i a_i^2``."""
    neg_sum: int
    """``sum_j b_j``: twice the U of the negatives' complement (``2 n_pos n_neg - pos_sum``)."""
    neg_sq: int
    """``sum_j b_j^2``."""
    tie_term: int
    """``sum (t^3 - t)`` over the distinct values of both samples pooled, ``t`` the number of scores tied there."""


def rank_sums(scores_pos: ArrayLike, scores_neg: ArrayLike) -> RankSums:
    """The :class:`RankSums` of two samples, by counts per distinct value (numpy, exact Python integers).

    Parameters
    ----------
    scores_pos, scores_neg : array_like of float, shapes (n_pos,) and (n_neg,)
        Finite scores of the two samples.

    Returns
    -------
    RankSums
        The exact sums (the statement :func:`analysis.sql.modes.separation_sums_sql` gives the same integers).

    Raises
    ------
    ValueError
        Non-finite scores (``MSG_FINITE``); not 1-D (``MSG_NDIM``).

    References
    ----------
    DeLong, E. R., DeLong, D. M. & Clarke-Pearson, D. L. (1988). Biometrics 44, 837-845 (placement values);
    ``scipy.stats.mannwhitneyu`` (the tie term of the normal approximation).

    Examples
    --------
    >>> r = rank_sums([2.0, 3.0], [1.0, 2.0])
    >>> r.pos_sum / 2, r.tie_term
    (3.5, 6)
    """
    x = one_d("scores_pos", float_values("scores_pos", scores_pos))
    y = one_d("scores_neg", float_values("scores_neg", scores_neg))
    _, inverse = np.unique(np.concatenate([x, y]), return_inverse=True)
    k = int(inverse.max()) + 1 if inverse.size else 0
    # Every sum is at most 4 n^3 (n = n_pos + n_neg: a placement is at most 2 n, a tie count at most n): below
    # 2^63 the int64 sums are exact (no overflow), and object arrays of Python integers are needed only above.
    kind = np.int64 if 4 * (x.size + y.size) ** 3 < 2 ** 63 else object
    c1 = np.bincount(inverse[: x.size], minlength=k).astype(kind)
    c0 = np.bincount(inverse[x.size:], minlength=k).astype(kind)
    a = 2 * (np.cumsum(c0) - c0) + c0  # 2 #{neg below} + #{neg equal}, per distinct value
    b = 2 * (x.size - np.cumsum(c1)) + c1  # 2 #{pos above} + #{pos equal}
    t = c1 + c0
    return RankSums(int(x.size), int(y.size), int((c1 * a).sum()), int((c1 * a * a).sum()), int((c0 * b).sum()),
                    int((c0 * b * b).sum()), int((t * t * t - t).sum()))


def auc_from_rank_sums(sums: RankSums, *, confidence: float = 0.95,
                       method: AucMethod = "delong") -> tuple[float, float, float]:
    """ROC AUC and its Wald interval from :class:`RankSums` (the method of :func:`auc_with_interval`).

    ``AUC = pos_sum / (2 n_pos n_neg)``. DeLong: ``var = s10^2 / n_pos + s01^2 / n_neg`` with ``s10^2``, ``s01^2``
    the sample variances (ddof=1) of the placements ``a_i / (2 n_neg)`` and ``b_j / (2 n_pos)``, computed exactly
    (fractions) from the sums and rounded once. Hanley-McNeil from the AUC and the sizes.

    Parameters
    ----------
    sums : RankSums
        The two samples' sums.
    confidence : float, default 0.95
        Coverage, strictly between 0 and 1.
    method : {"delong", "hanley-mcneil"}, default "delong"
        Standard error of the AUC.

    Returns
    -------
    auc, low, high : float
        As :func:`auc_with_interval` (fractions in [0, 1]; NaN when a class is empty or too small).

    Raises
    ------
    ValueError
        Bad ``confidence`` or ``method`` (``MSG_CONFIDENCE``, ``MSG_CHOICE``).

    References
    ----------
    DeLong, E. R., DeLong, D. M. & Clarke-Pearson, D. L. (1988). Biometrics 44, 837-845; Hanley, J. A. &
    McNeil, B. J. (1982). Radiology 143, 29-36.

    Examples
    --------
    >>> auc, low, high = auc_from_rank_sums(rank_sums([0.9, 0.8, 0.7, 0.55], [0.6, 0.4, 0.3, 0.2, 0.1]))
    >>> round(auc, 4), round(low, 4), round(high, 4)
    (0.95, 0.8114, 1.0)
    """
    conf = check_confidence(confidence)
    method = check_choice("method", method, _AUC_METHODS)
    n1, n0 = sums.n_pos, sums.n_neg
    if n1 == 0 or n0 == 0:
        return float("nan"), float("nan"), float("nan")
    auc = float(Fraction(sums.pos_sum, 2 * n1 * n0))
    if method == "delong":
        if n1 < 2 or n0 < 2:
            return auc, float("nan"), float("nan")
        var10 = Fraction(n1 * sums.pos_sq - sums.pos_sum ** 2, 4 * n0 * n0 * n1 * (n1 - 1))
        var01 = Fraction(n0 * sums.neg_sq - sums.neg_sum ** 2, 4 * n1 * n1 * n0 * (n0 - 1))
        var = float(var10 / n1 + var01 / n0)
    else:
        q1 = auc / (2.0 - auc)
        q2 = 2.0 * auc * auc / (1.0 + auc)
        var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) / (n1 * n0)
    se = math.sqrt(max(float(var), 0.0))
    z = z_quantile(conf)
    return auc, float(max(0.0, auc - z * se)), float(min(1.0, auc + z * se))


def mann_whitney_p_from_rank_sums(sums: RankSums) -> float:
    """Two-sided asymptotic Mann-Whitney U p-value from :class:`RankSums`.

    Normal approximation with the tie correction and the continuity correction, the computation of
    ``scipy.stats.mannwhitneyu(pos, neg, method="asymptotic")``: ``U = max(U1, n_pos n_neg - U1)``,
    ``z = (U - n_pos n_neg / 2 - 1/2) / s``, ``s^2 = n_pos n_neg / 12 ((n + 1) - tie_term / (n (n - 1)))``,
    ``p = 2 Phi(-z)`` clipped to [0, 1].

    Parameters
    ----------
    sums : RankSums
        The two samples' sums.

    Returns
    -------
    p_value : float
        In [0, 1] (1 when every value is tied); NaN when a sample is empty.

    Raises
    ------
    Nothing: the sums are taken as given (:func:`rank_sums` checks the samples).

    References
    ----------
    Mann, H. B. & Whitney, D. R. (1947). Ann. Math. Statist. 18, 50-60; ``scipy.stats.mannwhitneyu``.

    Examples
    --------
    >>> round(mann_whitney_p_from_rank_sums(rank_sums([3.0, 4.0, 5.0], [1.0, 2.0, 3.5])), 4)
    0.1904
    """
    n1, n2 = sums.n_pos, sums.n_neg
    if n1 == 0 or n2 == 0:
        return float("nan")
    u1 = sums.pos_sum / 2
    u = max(u1, n1 * n2 - u1)
    n = n1 + n2
    s2 = n1 * n2 / 12 * ((n + 1) - float(sums.tie_term) / (n * (n - 1)))
    s = math.sqrt(max(s2, 0.0))
    numerator = u - n1 * n2 / 2 - 0.5
    if s == 0:
        return 1.0  # every value tied: z = -inf, scipy's 2 Phi(inf) clipped
    return float(min(max(2.0 * scipy.special.ndtr(-(numerator / s)), 0.0), 1.0))


def auc_with_interval(
    scores_pos: ArrayLike,
    scores_neg: ArrayLike,
    *,
    confidence: float = 0.95,
    method: AucMethod = "delong",
) -> tuple[float, float, float]:
    """ROC AUC (Mann-Whitney) with a Wald confidence interval.

    ``AUC = U / (n_pos n_neg)`` where U counts the pairs with the positive scored higher, ties counting 1/2.
    Standard error: ``"delong"`` (placement values from mid-ranks; needs >= 2 of each class) or
    ``"hanley-mcneil"``. Interval ``AUC -/+ z se`` clipped to [0, 1].

    Parameters
    ----------
    scores_pos : array_like of float, shape (n_pos,)
        Finite scores of the positive class (e.g. the oriented signal on a mode's failures).
    scores_neg : array_like of float, shape (n_neg,)
        Finite scores of the negative class (e.g. on the correct answers).
    confidence : float, default 0.95
        Coverage, strictly between 0 and 1.
    method : {"delong", "hanley-mcneil"}, default "delong"
        Standard error of the AUC.

    Returns
    -------
    auc, low, high : float
        AUC and its interval, fractions in [0, 1]. All NaN when a class is empty; ``low`` and ``high`` NaN when a
        class is too small for the method's variance (DeLong: fewer than 2).

    Raises
    ------
    ValueError
        Bad ``confidence`` or ``method`` (``MSG_CONFIDENCE``, ``MSG_CHOICE``); non-finite scores (``MSG_FINITE``);
        not 1-D (``MSG_NDIM``).

    Notes
    -----
    No library of the stack gives the DeLong variance (sklearn gives the AUC, scipy the U statistic); the
    placement values come from counts per distinct value (:func:`rank_sums`, O(n log n)) and the statistic from
    :func:`auc_from_rank_sums`, as in the statement over example rows the objective link uses.

    References
    ----------
    DeLong, E. R., DeLong, D. M. & Clarke-Pearson, D. L. (1988). Comparing the areas under two or more correlated
    ROC curves. Biometrics 44, 837-845; Hanley, J. A. & McNeil, B. J. (1982). Radiology 143, 29-36. The AUC equals
    ``sklearn.metrics.roc_auc_score`` and ``scipy.stats.mannwhitneyu(pos, neg).statistic / (n_pos n_neg)``.

    Examples
    --------
    >>> auc, low, high = auc_with_interval([0.9, 0.8, 0.7, 0.55], [0.6, 0.4, 0.3, 0.2, 0.1])
    >>> round(auc, 4), round(low, 4), round(high, 4)
    (0.95, 0.8114, 1.0)
    """

    check_confidence(confidence)
    check_choice("method", method, _AUC_METHODS)
    return auc_from_rank_sums(rank_sums(scores_pos, scores_neg), confidence=confidence, method=method)


def standardized_mean_difference(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d of sample ``a`` against sample ``b`` with the pooled standard deviation.

    ``d = (mean_a - mean_b) / s_p``, ``s_p = sqrt(((n_a - 1) sd_a^2 + (n_b - 1) sd_b^2) / (n_a + n_b - 2))`` with
    sample SDs (ddof=1; a one-item sample contributes no variance).

    Parameters
    ----------
    a, b : array_like of float, shapes (n_a,) and (n_b,)
        Finite values of the two samples (same units).

    Returns
    -------
    d : float
        Difference of means in pooled-SD units; NaN when a sample is empty, ``n_a + n_b < 3`` or ``s_p == 0``.

    Raises
    ------
    ValueError
        Non-finite values (``MSG_FINITE``); not 1-D (``MSG_NDIM``).

    References
    ----------
    Cohen, J. (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed., sec. 2.2.

    Examples
    --------
    >>> round(standardized_mean_difference([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]), 4)
    1.2649
    """
    x = one_d("a", float_values("a", a))
    y = one_d("b", float_values("b", b))
    na, nb = x.size, y.size
    if na == 0 or nb == 0:
        return float("nan")
    ss_a = float(((x - x.mean()) ** 2).sum()) if na > 1 else 0.0
    ss_b = float(((y - y.mean()) ** 2).sum()) if nb > 1 else 0.0
    return _smd_from_moments(na, float(x.mean()), ss_a, nb, float(y.mean()), ss_b)


def _smd_from_moments(na: int, mean_a: float, ss_a: float, nb: int, mean_b: float, ss_b: float) -> float:
    """Cohen's d from the sizes, means and sums of squared deviations of two samples (NaN when undefined)."""
    if na == 0 or nb == 0 or na + nb < 3:
        return float("nan")
    sp = math.sqrt(max(ss_a + ss_b, 0.0) / (na + nb - 2.0))
    if sp == 0:
        return float("nan")
    return float((mean_a - mean_b) / sp)


def mann_whitney_p(a: ArrayLike, b: ArrayLike) -> float:
    """Two-sided asymptotic Mann-Whitney U p-value of sample ``a`` against sample ``b``.

    Normal approximation with the tie correction and the continuity correction, as
    ``scipy.stats.mannwhitneyu(a, b, method="asymptotic")`` (:func:`mann_whitney_p_from_rank_sums`).

    Parameters
    ----------
    a, b : array_like of float, shapes (n_a,) and (n_b,)
        Finite values of the two samples.

    Returns
    -------
    p_value : float
        Two-sided p-value in [0, 1] (1 when every value is tied); NaN when a sample is empty.

    Raises
    ------
    ValueError
        Non-finite values (``MSG_FINITE``); not 1-D (``MSG_NDIM``).

    References
    ----------
    Mann, H. B. & Whitney, D. R. (1947). Ann. Math. Statist. 18, 50-60; ``scipy.stats.mannwhitneyu``.

    Examples
    --------
    >>> round(mann_whitney_p([3.0, 4.0, 5.0], [1.0, 2.0, 3.5]), 4)
    0.1904
    """
    x = one_d("a", float_values("a", a))
    y = one_d("b", float_values("b", b))
    if x.size == 0 or y.size == 0:
        return float("nan")
    return mann_whitney_p_from_rank_sums(rank_sums(x, y))


def separation_statistics(fail: ArrayLike, ok: ArrayLike, *, confidence: float = 0.95) -> dict[str, float]:
    """How well a signal separates a failure mode's examples from the correct ones.

    Non-finite values (a signal missing for an example) are dropped first; then the preference AUC with its DeLong
    interval (:func:`auc_with_interval`), Cohen's d (:func:`standardized_mean_difference`) and the Mann-Whitney p-value
    (:func:`mann_whitney_p`) of ``fail`` against ``ok``.

    Parameters
    ----------
    fail : array_like of float, shape (n_fail,)
        The signal, oriented so that higher means "preferred", on the examples in the mode.
    ok : array_like of float, shape (n_ok,)
        The same signal on the correct examples.
    confidence : float, default 0.95
        Coverage of the AUC interval, strictly between 0 and 1.

    Returns
    -------
    dict
        ``n_fail``, ``n_ok`` (finite values kept, int); ``mean_fail``, ``mean_ok`` (signal units); ``auc``,
        ``auc_low``, ``auc_high`` (fractions in [0, 1]); ``smd`` (pooled-SD units); ``p_value`` (in [0, 1]).
        Everything but the counts and means is NaN when a side is empty.

    Raises
    ------
    ValueError
        Bad ``confidence`` (``MSG_CONFIDENCE``); not 1-D (``MSG_NDIM``).

    References
    ----------
    See :func:`auc_with_interval`, :func:`standardized_mean_difference`, :func:`mann_whitney_p`.

    Examples
    --------
    >>> s = separation_statistics(np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.5]))
    >>> round(s["auc"], 4), round(s["smd"], 3), round(s["p_value"], 4)
    (0.8889, 1.613, 0.1904)
    """
    check_confidence(confidence)
    x = one_d("fail", np.asarray(fail, dtype=np.float64))
    y = one_d("ok", np.asarray(ok, dtype=np.float64))
    x = x[np.isfinite(x)]
    y = y[np.isfinite(y)]
    nan = math.nan
    out = {"n_fail": int(x.size), "n_ok": int(y.size), "mean_fail": float(x.mean()) if x.size else nan,
           "mean_ok": float(y.mean()) if y.size else nan, "auc": nan, "auc_low": nan, "auc_high": nan, "smd": nan,
           "p_value": nan}
    if x.size == 0 or y.size == 0:
        return out
    sums = rank_sums(x, y)  # once: the AUC, its interval and the p-value all come from these sums
    auc, low, high = auc_from_rank_sums(sums, confidence=confidence)
    out.update(auc=auc, auc_low=low, auc_high=high, smd=standardized_mean_difference(x, y),
               p_value=mann_whitney_p_from_rank_sums(sums))
    return out


def separation_from_sums(sums: RankSums, *, sum_fail: int, sum_ok: int, sq_fail: int, sq_ok: int, scale: int,
                         confidence: float = 0.95) -> dict[str, float]:
    """:func:`separation_statistics` from aggregates: the rank sums and exact fixed-point sums of the values.

    The statement :func:`analysis.sql.modes.separation_sums_sql` gives these per (failure mode, signal) without
    reading a row into Python. Means and sums of squared deviations are computed exactly (fractions) from the
    fixed-point sums, then rounded once; Cohen's d as :func:`standardized_mean_difference`, the AUC and its DeLong
    interval as :func:`auc_from_rank_sums`, the p-value as :func:`mann_whitney_p_from_rank_sums`.

    Parameters
    ----------
    sums : RankSums
        Rank sums of the failures (positives) against the correct examples (negatives).
    sum_fail, sum_ok : int
        Sums of the values of each sample in units of ``1 / scale`` (each value rounded to a whole unit).
    sq_fail, sq_ok : int
        Sums of the squared values in the same units (each square rounded to a whole unit).
    scale : int
        Units per 1 of the signal (:data:`analysis.sql.features.SCORE_SCALE`, 1e15).
    confidence : float, default 0.95
        Coverage of the AUC interval, strictly between 0 and 1.

    Returns
    -------
    dict
        As :func:`separation_statistics`: ``n_fail``, ``n_ok``, ``mean_fail``, ``mean_ok`` (signal units), ``auc``,
        ``auc_low``, ``auc_high`` (fractions), ``smd`` (pooled-SD units), ``p_value``.

    Raises
    ------
    ValueError
        Bad ``confidence`` (``MSG_CONFIDENCE``).

    References
    ----------
    See :func:`auc_from_rank_sums`, :func:`mann_whitney_p_from_rank_sums`, :func:`standardized_mean_difference`.

    Examples
    --------
    >>> fail, ok = [3.0, 4.0, 5.0], [1.0, 2.0, 3.5]  # sums in quarters (scale=4): 4 x 12, 4 x 6.5; 4 x 50, 4 x 17.25
    >>> s = separation_from_sums(rank_sums(fail, ok), sum_fail=48, sum_ok=26, sq_fail=200, sq_ok=69, scale=4)
    >>> round(s["auc"], 4), s["mean_fail"], round(s["smd"], 3), round(s["p_value"], 4)
    (0.8889, 4.0, 1.613, 0.1904)
    """
    check_confidence(confidence)
    n1, n0 = sums.n_pos, sums.n_neg
    nan = math.nan

    def moments(n: int, total: int, sq: int) -> tuple[float, float]:
        if n == 0:
            return nan, 0.0
        return float(Fraction(total, n * scale)), float(Fraction(sq, scale) - Fraction(total * total, n * scale * scale))

    mean_fail, ss_fail = moments(n1, sum_fail, sq_fail)
    mean_ok, ss_ok = moments(n0, sum_ok, sq_ok)
    out = {"n_fail": n1, "n_ok": n0, "mean_fail": mean_fail, "mean_ok": mean_ok, "auc": nan, "auc_low": nan,
           "auc_high": nan, "smd": nan, "p_value": nan}
    if n1 == 0 or n0 == 0:
        return out
    auc, low, high = auc_from_rank_sums(sums, confidence=confidence)
    out.update(auc=auc, auc_low=low, auc_high=high,
               smd=_smd_from_moments(n1, mean_fail, ss_fail if n1 > 1 else 0.0, n0, mean_ok, ss_ok if n0 > 1 else 0.0),
               p_value=mann_whitney_p_from_rank_sums(sums))
    return out
