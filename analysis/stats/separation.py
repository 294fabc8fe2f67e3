"""Separation of two samples: how well a signal separates failures from correct answers.

ROC AUC with a DeLong (or Hanley-McNeil) interval, Cohen's d, the Mann-Whitney U test, and
:func:`separation_statistics`, which the objective link computes for every (failure mode, signal) pair.

The DeLong variance is computed here (placement values from mid-ranks, O(n log n)) because no library of the stack
provides it: sklearn gives the AUC only, scipy the U statistic only.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike

from analysis.stats._checks import check_choice, check_confidence, float_values, one_d, z_quantile

__all__ = ["AucMethod", "auc_with_interval", "mann_whitney_p", "separation_statistics",
           "standardized_mean_difference"]

AucMethod = Literal["delong", "hanley-mcneil"]
"""Standard error of the AUC: DeLong et al. (1988) or Hanley & McNeil (1982)."""
_AUC_METHODS = ("delong", "hanley-mcneil")


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
    placement values come from three ``rankdata`` calls, O(n log n).

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

    conf = check_confidence(confidence)
    method = check_choice("method", method, _AUC_METHODS)
    x = one_d("scores_pos", float_values("scores_pos", scores_pos))
    y = one_d("scores_neg", float_values("scores_neg", scores_neg))
    n1, n0 = x.size, y.size
    if n1 == 0 or n0 == 0:
        return float("nan"), float("nan"), float("nan")
    ranks = scipy.stats.rankdata(np.concatenate([x, y]))
    rx, ry = ranks[:n1], ranks[n1:]
    auc = (rx.sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0)
    if method == "delong":
        if n1 < 2 or n0 < 2:
            return float(auc), float("nan"), float("nan")
        v10 = (rx - scipy.stats.rankdata(x)) / n0  # P(neg < x_i) + ties/2
        v01 = 1.0 - (ry - scipy.stats.rankdata(y)) / n1  # P(pos > y_j) + ties/2
        var = np.var(v10, ddof=1) / n1 + np.var(v01, ddof=1) / n0
    else:
        q1 = auc / (2.0 - auc)
        q2 = 2.0 * auc * auc / (1.0 + auc)
        var = (auc * (1 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) / (n1 * n0)
    se = math.sqrt(max(float(var), 0.0))
    z = z_quantile(conf)
    return float(auc), float(max(0.0, auc - z * se)), float(min(1.0, auc + z * se))


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
    if na == 0 or nb == 0 or na + nb < 3:
        return float("nan")
    ss = (float(((x - x.mean()) ** 2).sum()) if na > 1 else 0.0) + (float(((y - y.mean()) ** 2).sum()) if nb > 1 else 0.0)
    sp = math.sqrt(ss / (na + nb - 2.0))
    if sp == 0:
        return float("nan")
    return float((x.mean() - y.mean()) / sp)


def mann_whitney_p(a: ArrayLike, b: ArrayLike) -> float:
    """Two-sided asymptotic Mann-Whitney U p-value of sample ``a`` against sample ``b``.

    Normal approximation with the tie correction and the continuity correction, by
    ``scipy.stats.mannwhitneyu(a, b, method="asymptotic")``.

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
    return float(scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic").pvalue)


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
    auc, low, high = auc_with_interval(x, y, confidence=confidence)
    out.update(auc=auc, auc_low=low, auc_high=high, smd=standardized_mean_difference(x, y), p_value=mann_whitney_p(x, y))
    return out
