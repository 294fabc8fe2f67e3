"""Percentile bootstrap intervals of a mean, for many groups at once (slices of a run, or the per-item
differences of two runs: the paired bootstrap).

Vectorised over groups on purpose: the Slices page asks for an interval of the mean score in every value of every
attribute, and one pass over the rows (all groups resampled together, group sums as contiguous reductions) costs
O(n_resamples x n_rows) whatever the number of groups, where a ``scipy.stats.bootstrap`` call per group pays its
fixed cost per group (tests/parity/stats/test_bootstrap.py checks the intervals against scipy's percentile method).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.stats._checks import check_confidence, check_group_codes, check_int, float_values, one_d

__all__ = ["grouped_bootstrap_mean_interval", "paired_bootstrap_mean_difference_interval"]

# Bootstrap work is done in chunks of resamples so that one chunk holds at
# most this many drawn indices (a few MB of scratch memory).
_CHUNK_ELEMENTS = 1 << 18


def _grouped_bootstrap(
    values: NDArray[np.float64],
    codes: NDArray[np.int64],
    n_groups: int,
    confidence: float,
    n_resamples: int,
    seed: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    order = np.argsort(codes, kind="stable")
    x = values[order]
    g = codes[order]
    sizes = np.bincount(g, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])) if n_groups else sizes
    total = x.size
    low = np.full(n_groups, np.nan)
    high = np.full(n_groups, np.nan)
    if total == 0:
        return low, high
    # Slot j of each resample draws one observation uniformly from the group
    # that owns slot j, so each group is resampled with replacement to its own
    # size (standard nonparametric bootstrap, done for all groups at once).
    # Rows are sorted by group, so per-group sums are contiguous reductions.
    present = sizes > 0
    seg_starts = starts[present]
    slot_start = starts[g].astype(np.uint64)
    slot_size = sizes[g].astype(np.uint64)
    shift = np.uint64(32)
    rng = np.random.default_rng(seed)
    means = np.empty((n_resamples, int(present.sum())))
    chunk = max(1, min(n_resamples, _CHUNK_ELEMENTS // total))
    idx = np.empty((chunk, total), dtype=np.uint64)
    vals = np.empty((chunk, total))
    for r0 in range(0, n_resamples, chunk):
        k = min(chunk, n_resamples - r0)
        ik, vk = idx[:k], vals[:k]
        # index within group = floor(r * size / 2^32) for a uniform 32-bit r
        # (multiply-shift; probabilities are uniform up to a relative
        # deviation of size / 2^32, i.e. < 2.5e-4 even for 10^6-row groups).
        bits = rng.integers(0, 1 << 32, size=(k, total), dtype=np.uint32)
        np.multiply(bits, slot_size, out=ik)
        np.right_shift(ik, shift, out=ik)
        np.add(ik, slot_start, out=ik)
        np.take(x, ik.view(np.int64), out=vk)
        means[r0 : r0 + k] = np.add.reduceat(vk, seg_starts, axis=1) / sizes[present]
    alpha = 1.0 - confidence
    q = np.quantile(means, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    low[present] = q[0]
    high[present] = q[1]
    return low, high


def _bootstrap_params(confidence: object, n_resamples: object, seed: object) -> tuple[float, int, int]:
    return check_confidence(confidence), check_int("n_resamples", n_resamples, 1), check_int("seed", seed, 0)


def grouped_bootstrap_mean_interval(
    values: ArrayLike,
    group_codes: ArrayLike,
    n_groups: int,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile-bootstrap interval for the mean of ``values`` in every group.

    Rows are stably sorted by group; in each of ``n_resamples`` resamples every group is resampled *with
    replacement to its own size* (one uniform 32-bit draw per row, mapped to an index within the row's group by
    multiply-shift: uniform up to a relative deviation of size / 2^32), and the group sums of a batch of resamples
    are contiguous ``np.add.reduceat`` reductions over the sorted rows. The bounds are the ``(1-confidence)/2`` and
    ``(1+confidence)/2`` quantiles (numpy's linear interpolation) of the resampled means. Cost
    O(n_resamples x n_rows), in memory-bounded chunks; memory O(n_resamples x n_groups) for the means.

    The random stream is ``np.random.default_rng(seed)`` shared across groups: results are deterministic for
    identical inputs, but a group's interval also depends on the other groups present.

    Parameters
    ----------
    values : array_like of float, shape (n_rows,)
        Finite values (e.g. scores in the score's units).
    group_codes : array_like of int, shape (n_rows,)
        Group of each row, in ``[0, n_groups)``.
    n_groups : int
        Number of groups (``>= 0``).
    confidence : float, default 0.95
        Coverage, strictly between 0 and 1.
    n_resamples : int, default 2000
        Bootstrap resamples (``>= 1``).
    seed : int, default 0
        Seed of ``np.random.default_rng`` (``>= 0``).

    Returns
    -------
    low, high : ndarray of float64, shape (n_groups,)
        Interval of each group's mean, in the values' units; NaN for empty groups, zero width for one-row groups.

    Raises
    ------
    ValueError
        Bad ``confidence``, ``n_resamples`` or ``seed`` (``MSG_CONFIDENCE``, ``MSG_INT_MIN``); non-finite values
        (``MSG_FINITE``); bad group codes (``MSG_GROUP_CODES``, ``MSG_LENGTH``, ``MSG_NDIM``).

    Notes
    -----
    Against ``scipy.stats.bootstrap(method="percentile")`` called once per group, measured on 50,000 rows with
    1,000 resamples (median of 3, on a shared 2-core machine): 5 groups 0.50 s vs 1.17 s, 50 groups 0.99 s vs
    1.04 s, 500 groups 0.68 s vs 1.72 s, i.e. 1.0-2.5x. The gain is modest (both draw n_resamples x n_rows
    indices); it is kept because it is seeded, already tested against scipy, and changing the random stream would
    change every interval the product shows.

    References
    ----------
    Efron, B. & Tibshirani, R. (1993). An Introduction to the Bootstrap, ch. 13 (percentile interval); equal in
    distribution to ``scipy.stats.bootstrap(method="percentile")`` per group.

    Examples
    --------
    >>> low, high = grouped_bootstrap_mean_interval(
    ...     [1.0, 2.0, 3.0, 4.0, 10.0, 10.0], [0, 0, 0, 0, 1, 1], 3, n_resamples=500)
    >>> bool(1.0 <= low[0] < 2.5 < high[0] <= 4.0), low[1].item(), high[1].item()
    (True, 10.0, 10.0)
    >>> np.isnan(low[2]).item()
    True
    """
    conf, n_res, seed_ = _bootstrap_params(confidence, n_resamples, seed)
    x = one_d("values", float_values("values", values))
    codes, n_groups = check_group_codes(group_codes, n_groups, x.shape[0], "values")
    return _grouped_bootstrap(x, codes, n_groups, conf, n_res, seed_)


def paired_bootstrap_mean_difference_interval(
    diffs: ArrayLike,
    group_codes: ArrayLike,
    n_groups: int,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Paired-bootstrap interval for the mean score difference of two systems in each slice.

    ``diffs[i] = score_a[i] - score_b[i]`` for the *same* item scored by both systems; resampling items (pairs)
    and averaging their differences is the paired bootstrap, so this is :func:`grouped_bootstrap_mean_interval`
    on ``diffs`` (same method and seed semantics), named for what the comparison page asks.

    Parameters
    ----------
    diffs : array_like of float, shape (n_items,)
        Finite per-item differences, in the score's units (points of accuracy when scores are 0/1).
    group_codes : array_like of int, shape (n_items,)
        Slice of each item, in ``[0, n_groups)``.
    n_groups : int
        Number of slices (``>= 0``).
    confidence, n_resamples, seed
        As in :func:`grouped_bootstrap_mean_interval`.

    Returns
    -------
    low, high : ndarray of float64, shape (n_groups,)
        Interval of each slice's mean difference; NaN for empty slices.

    Raises
    ------
    ValueError
        As :func:`grouped_bootstrap_mean_interval`, naming ``diffs``.

    References
    ----------
    Efron & Tibshirani (1993), ch. 13; Koehn, P. (2004). Statistical significance tests for machine translation
    evaluation, EMNLP (paired bootstrap).

    Examples
    --------
    >>> low, high = paired_bootstrap_mean_difference_interval(
    ...     [0.5, 0.25, 0.75, 0.5, -1.0, 1.0], [0, 0, 0, 0, 1, 1], 2, n_resamples=500)
    >>> bool(0.25 <= low[0] <= 0.5 <= high[0] <= 0.75), bool(low[1] < 0 < high[1])
    (True, True)
    """
    conf, n_res, seed_ = _bootstrap_params(confidence, n_resamples, seed)
    x = one_d("diffs", float_values("diffs", diffs))
    codes, n_groups = check_group_codes(group_codes, n_groups, x.shape[0], "diffs")
    return _grouped_bootstrap(x, codes, n_groups, conf, n_res, seed_)
