"""Calibration: expected calibration error (ECE) of a confidence column within every group of examples.

Vectorised over groups on purpose: the Slices page reports ECE in every value of every attribute, and two
``np.bincount`` calls over (group, bin) serve all of them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.stats._checks import (
    MSG_UNIT_INTERVAL,
    check_group_codes,
    check_int,
    check_length,
    float_values,
    one_d,
)

__all__ = ["calibration_bin_edges", "expected_calibration_error_from_bin_sums", "grouped_expected_calibration_error"]


def calibration_bin_edges(n_bins: int = 10) -> NDArray[np.float64]:
    """The equal-width bin edges of the ECE, ``np.linspace(0, 1, n_bins + 1)`` (shape ``(n_bins + 1,)``):
    bin i holds ``edges[i] <= confidence < edges[i+1]``, the last bin also 1.0. The SQL binning of
    :func:`analysis.sql.extras.calibration_bins_sql` compares with these same floats.

    Parameters
    ----------
    n_bins : int, default 10
        Number of equal-width bins on [0, 1].

    Returns
    -------
    numpy.ndarray
        Shape ``(n_bins + 1,)``, fractions from 0.0 to 1.0.

    Raises
    ------
    ValueError
        Bad ``n_bins`` (``MSG_INT_MIN``).

    References
    ----------
    Naeini, Cooper and Hauskrecht, "Obtaining Well Calibrated Probabilities Using Bayesian Binning", AAAI 2015
    (the equal-width binning of the ECE).

    Examples
    --------
    >>> calibration_bin_edges(4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    return np.linspace(0.0, 1.0, check_int("n_bins", n_bins, 1) + 1)


def grouped_expected_calibration_error(
    confidence: ArrayLike,
    correct: ArrayLike,
    group_codes: ArrayLike,
    n_groups: int,
    *,
    n_bins: int = 10,
) -> NDArray[np.float64]:
    """Expected calibration error (equal-width bins) within every group.

    Bin edges are ``np.linspace(0, 1, n_bins + 1)``; bin i holds ``edges[i] <= confidence < edges[i+1]`` (the last
    bin also holds 1.0), so a float on an edge is binned by its exact value (the float ``0.3`` lies just below
    ``3/10`` and falls in bin 2 of 10). ``ECE = sum_b (n_b / n) |mean(correct)_b - mean(confidence)_b|``.

    Parameters
    ----------
    confidence : array_like of float, shape (n_examples,)
        The model's confidence that its answer is correct, a probability in [0, 1] (not percent).
    correct : array_like of float or bool, shape (n_examples,)
        1 / True for a correct answer (any value in [0, 1] is accepted, e.g. a graded score).
    group_codes : array_like of int, shape (n_examples,)
        Group of each example, in ``[0, n_groups)``.
    n_groups : int
        Number of groups (``>= 0``).
    n_bins : int, default 10
        Number of equal-width bins (``>= 1``).

    Returns
    -------
    ece : ndarray of float64, shape (n_groups,)
        ECE per group, a fraction in [0, 1]; NaN for empty groups.

    Raises
    ------
    ValueError
        ``confidence`` or ``correct`` outside [0, 1] (``MSG_UNIT_INTERVAL``) or not finite (``MSG_FINITE``);
        bad ``n_bins`` (``MSG_INT_MIN``); bad group codes or lengths (``MSG_GROUP_CODES``, ``MSG_LENGTH``,
        ``MSG_NDIM``).

    References
    ----------
    Naeini, M. P., Cooper, G. & Hauskrecht, M. (2015). Obtaining well calibrated probabilities using Bayesian
    binning, AAAI; Guo, C. et al. (2017). On calibration of modern neural networks, ICML (eq. 3). The per-bin
    accuracy and mean confidence equal ``sklearn.calibration.calibration_curve(strategy="uniform")`` away from bin
    edges (sklearn closes bins on the right).

    Examples
    --------
    >>> grouped_expected_calibration_error([0.9, 0.9, 0.2, 0.6], [1, 0, 0, 1],
    ...                                    [0, 0, 1, 1], 2).round(4).tolist()
    [0.4, 0.3]
    """

    bins = check_int("n_bins", n_bins, 1)
    conf = one_d("confidence", float_values("confidence", confidence))
    corr = one_d("correct", float_values("correct", np.asarray(correct, dtype=np.float64)))
    check_length("correct", corr, "confidence", conf.shape[0])
    for name, arr in (("confidence", conf), ("correct", corr)):
        bad = (arr < 0) | (arr > 1)
        if np.any(bad):
            raise ValueError(MSG_UNIT_INTERVAL.format(name=name, value=arr[bad][0].item()))
    g, n_groups = check_group_codes(group_codes, n_groups, conf.shape[0], "confidence")
    edges = calibration_bin_edges(bins)
    b = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, bins - 1)
    key = g * bins + b
    size = n_groups * bins
    gap = np.bincount(key, weights=corr, minlength=size) - np.bincount(key, weights=conf, minlength=size)
    n = np.bincount(g, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        ece = np.abs(gap).reshape(n_groups, bins).sum(axis=1) / n
    return np.where(n > 0, ece, np.nan)


def expected_calibration_error_from_bin_sums(counts: ArrayLike, confidence_sums: ArrayLike,
                                             correct_sums: ArrayLike) -> NDArray[np.float64]:
    """ECE of every group from its per-bin sums: ``sum_b |sum(correct)_b - sum(confidence)_b| / n``.

    The same number as :func:`grouped_expected_calibration_error` (``(n_b / n) |mean(correct)_b -
    mean(confidence)_b|`` summed over bins is this), from aggregates an SQL statement computes per (group,
    bin) (:func:`analysis.sql.extras.calibration_bins_sql`), so no example row leaves the database.

    Parameters
    ----------
    counts, confidence_sums, correct_sums : array_like, shape (n_groups, n_bins)
        Examples, sum of confidences and sum of outcomes (1 correct, 0 not) of every (group, bin).

    Returns
    -------
    ece : ndarray of float64, shape (n_groups,)
        A fraction in [0, 1] per group; NaN for a group without examples.

    Raises
    ------
    ValueError
        Arrays that are not 2-D of one shape.

    References
    ----------
    Guo, C. et al. (2017). On calibration of modern neural networks, ICML (eq. 3).

    Examples
    --------
    >>> expected_calibration_error_from_bin_sums([[2, 0], [1, 1]], [[1.8, 0], [0.2, 0.6]], [[1, 0], [0, 1]]).round(4).tolist()
    [0.4, 0.3]
    """
    n, conf, corr = (np.asarray(a, dtype=np.float64) for a in (counts, confidence_sums, correct_sums))
    if n.ndim != 2 or conf.shape != n.shape or corr.shape != n.shape:
        raise ValueError(f"expected three arrays of one shape (groups, bins), got {n.shape}, {conf.shape}, {corr.shape}")
    total = n.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ece = np.abs(corr - conf).sum(axis=1) / total
    return np.where(total > 0, ece, np.nan)
