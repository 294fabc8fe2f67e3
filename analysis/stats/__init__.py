"""Vectorised statistics core for Faultline's stratified error analysis.

Every function here works on numpy arrays of *per-slice aggregates* (error
counts, trial counts, ...) or on raw values plus integer ``group_codes``
(``0 <= code < n_groups``) so that thousands of slices are post-processed in
one call.  Only numpy and scipy are used; this module must never import
pandas, statsmodels or streamlit.

Conventions
-----------
* Counts must be non-negative integers (integer-valued floats are accepted).
  Count arguments broadcast against each other; outputs have the broadcast
  shape (0-d arrays for scalar inputs).
* Statistics that are undefined for a slice (``n == 0``, a constant sample,
  ...) are returned as ``NaN`` rather than raising.
* Bad *parameters* (``confidence``, ``n_bins``, ``level``, ...) raise
  ``ValueError`` with one of the ``MSG_*`` templates below, which name the
  parameter and the offending value.
"""

from __future__ import annotations

import math
import numbers
from typing import Literal

import numpy as np
import scipy.sparse
import scipy.special
import scipy.stats
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MSG_CONFIDENCE",
    "MSG_INT_MIN",
    "MSG_NUMBER_MIN",
    "MSG_CHOICE",
    "MSG_COUNTS",
    "MSG_ERRORS_GT_N",
    "MSG_GROUP_CODES",
    "MSG_LENGTH",
    "MSG_FINITE",
    "MSG_P_VALUES",
    "MSG_UNIT_INTERVAL",
    "MSG_NDIM",
    "MSG_RATIO_NEGATIVE",
    "MSG_CODES",
    "wilson_interval",
    "clopper_pearson_interval",
    "rate_interval",
    "bootstrap_mean_interval",
    "grouped_bootstrap_mean_interval",
    "paired_bootstrap_mean_difference_interval",
    "two_proportion_test",
    "benjamini_hochberg",
    "mcnemar_exact",
    "difference_interval",
    "cohen_kappa",
    "grouped_cohen_kappa",
    "krippendorff_alpha",
    "grouped_krippendorff_alpha",
    "expected_calibration_error",
    "grouped_expected_calibration_error",
    "auc_with_interval",
    "standardized_mean_difference",
    "standardized_mean_difference_from_stats",
    "spearman_per_group",
]

# ---------------------------------------------------------------------------
# Validation messages (str.format templates; they name parameter and value)
# ---------------------------------------------------------------------------

MSG_CONFIDENCE = "confidence must be a number strictly between 0 and 1, got {value!r}"
MSG_INT_MIN = "{name} must be an integer >= {minimum}, got {value!r}"
MSG_NUMBER_MIN = "{name} must be a finite number >= {minimum}, got {value!r}"
MSG_CHOICE = "{name} must be one of {choices}, got {value!r}"
MSG_COUNTS = "{name} must contain non-negative integer counts, got {value!r}"
MSG_ERRORS_GT_N = "{name} must not exceed {total}, got {name}={value!r} > {total}={total_value!r}"
MSG_GROUP_CODES = "group_codes must be integers in [0, n_groups={n_groups}), got {value!r}"
MSG_LENGTH = "{name} must have the same length as {other} ({expected}), got length {value!r}"
MSG_FINITE = "{name} must contain only finite values, got {value!r}"
MSG_P_VALUES = "p_values must lie in [0, 1] or be NaN, got {value!r}"
MSG_UNIT_INTERVAL = "{name} must lie in [0, 1], got {value!r}"
MSG_NDIM = "{name} must be a {ndim}-D array, got shape {value!r}"
MSG_RATIO_NEGATIVE = "ratings must be non-negative for level='ratio', got {value!r}"
MSG_CODES = "{name} must be integer codes below n_categories={n_categories} (negative = missing), got {value!r}"

Level = Literal["nominal", "ordinal", "interval", "ratio"]
KappaWeights = Literal["none", "linear", "quadratic"]
AucMethod = Literal["delong", "hanley-mcneil"]

_LEVELS = ("nominal", "ordinal", "interval", "ratio")
_KAPPA_WEIGHTS = ("none", "linear", "quadratic")
_AUC_METHODS = ("delong", "hanley-mcneil")

# Bootstrap work is done in chunks of resamples so that one chunk holds at
# most this many drawn indices (a few MB of scratch memory).
_BOOTSTRAP_CHUNK_ELEMENTS = 1 << 18


# ---------------------------------------------------------------------------
# Parameter / input validation helpers
# ---------------------------------------------------------------------------


def _check_confidence(confidence: object) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0.0 < float(confidence) < 1.0:
        raise ValueError(MSG_CONFIDENCE.format(value=confidence))
    return float(confidence)


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(MSG_INT_MIN.format(name=name, minimum=minimum, value=value))
    return int(value)


def _check_number(name: str, value: object, minimum: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or float(value) < minimum
    ):
        raise ValueError(MSG_NUMBER_MIN.format(name=name, minimum=minimum, value=value))
    return float(value)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(MSG_CHOICE.format(name=name, choices=choices, value=value))
    return value


def _counts(name: str, x: ArrayLike) -> NDArray[np.int64]:
    arr = np.asarray(x)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(MSG_COUNTS.format(name=name, value=arr.dtype.name))
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < 0)
    else:
        bad = arr < 0
    if np.any(bad):
        raise ValueError(MSG_COUNTS.format(name=name, value=arr[bad].ravel()[0].item()))
    return arr.astype(np.int64)


def _check_le(name: str, x: NDArray, total_name: str, total: NDArray) -> None:
    bad = x > total
    if np.any(bad):
        i = np.flatnonzero(bad.ravel())[0]
        raise ValueError(
            MSG_ERRORS_GT_N.format(
                name=name,
                value=x.ravel()[i].item(),
                total=total_name,
                total_value=total.ravel()[i].item(),
            )
        )


def _float_values(name: str, x: ArrayLike, *, allow_nan: bool = False) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(MSG_FINITE.format(name=name, value=arr[bad].ravel()[0].item()))
    return arr


def _one_d(name: str, arr: NDArray) -> NDArray:
    if arr.ndim != 1:
        raise ValueError(MSG_NDIM.format(name=name, ndim=1, value=arr.shape))
    return arr


def _check_length(name: str, arr: NDArray, other: str, expected: int) -> None:
    if arr.shape[0] != expected:
        raise ValueError(MSG_LENGTH.format(name=name, other=other, expected=expected, value=arr.shape[0]))


def _group_codes(group_codes: ArrayLike, n_groups: object, length: int, other: str) -> tuple[NDArray[np.int64], int]:
    n_groups = _check_int("n_groups", n_groups, 0)
    codes = _one_d("group_codes", np.asarray(group_codes))
    _check_length("group_codes", codes, other, length)
    if codes.size and not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(MSG_GROUP_CODES.format(n_groups=n_groups, value=codes.dtype.name))
    codes = codes.astype(np.int64)
    bad = (codes < 0) | (codes >= n_groups)
    if np.any(bad):
        raise ValueError(MSG_GROUP_CODES.format(n_groups=n_groups, value=codes[bad][0].item()))
    return codes, n_groups


def _z(confidence: float) -> float:
    return float(scipy.stats.norm.isf((1.0 - confidence) / 2.0))


# ---------------------------------------------------------------------------
# Binomial rate intervals
# ---------------------------------------------------------------------------


def _rate_counts(errors: ArrayLike, n: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    e = _counts("errors", errors)
    t = _counts("n", n)
    e, t = np.broadcast_arrays(e, t)
    _check_le("errors", e, "n", t)
    return e, t


def _wilson(e: NDArray, t: NDArray, z: float) -> tuple[NDArray, NDArray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        tf = t.astype(np.float64)
        p = e / tf
        z2 = z * z
        denom = 1.0 + z2 / tf
        center = (p + z2 / (2.0 * tf)) / denom
        half = z * np.sqrt(p * (1.0 - p) / tf + z2 / (4.0 * tf * tf)) / denom
        low = np.clip(center - half, 0.0, 1.0)
        high = np.clip(center + half, 0.0, 1.0)
    return _finish_bounds(low, high, e, t)


def wilson_interval(
    errors: ArrayLike, n: ArrayLike, *, confidence: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for the error rate ``errors / n`` of each slice.

    Uses ``z = Phi^-1(1 - (1 - confidence) / 2)`` and the closed form
    ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``, clipped to
    [0, 1] (identical to ``statsmodels`` ``proportion_confint(method="wilson")``).
    Slices with ``n == 0`` get NaN bounds.

    >>> low, high = wilson_interval([3, 0, 0], [10, 5, 0])
    >>> np.round(low, 4).tolist(), np.round(high, 4).tolist()
    ([0.1078, 0.0, nan], [0.6032, 0.4345, nan])
    """
    z = _z(_check_confidence(confidence))
    e, t = _rate_counts(errors, n)
    return _wilson(e, t, z)


def _clopper_pearson(e: NDArray, t: NDArray, confidence: float) -> tuple[NDArray, NDArray]:
    alpha = 1.0 - confidence
    with np.errstate(divide="ignore", invalid="ignore"):
        low = scipy.stats.beta.ppf(alpha / 2.0, e, t - e + 1)
        high = scipy.stats.beta.ppf(1.0 - alpha / 2.0, e + 1, t - e)
    return _finish_bounds(low, high, e, t)


def _finish_bounds(low: NDArray, high: NDArray, e: NDArray, t: NDArray) -> tuple[NDArray, NDArray]:
    """Exact values at the boundaries (0 errors, all errors; formulas give them up to rounding); NaN for n == 0."""
    low = np.where(e == 0, 0.0, low)
    high = np.where(e == t, 1.0, high)
    empty = t == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def clopper_pearson_interval(
    errors: ArrayLike, n: ArrayLike, *, confidence: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Clopper-Pearson ("exact") interval for the error rate of each slice.

    Bounds are Beta quantiles: ``low = Beta(a/2; e, n-e+1)`` (0 when e == 0)
    and ``high = Beta(1-a/2; e+1, n-e)`` (1 when e == n), ``a = 1 - confidence``.
    Slices with ``n == 0`` get NaN bounds.

    >>> low, high = clopper_pearson_interval([3, 10], [10, 10])
    >>> np.round(low, 4).tolist(), np.round(high, 4).tolist()
    ([0.0667, 0.6915], [0.6525, 1.0])
    """
    conf = _check_confidence(confidence)
    e, t = _rate_counts(errors, n)
    return _clopper_pearson(e, t, conf)


def rate_interval(
    errors: ArrayLike,
    n: ArrayLike,
    *,
    confidence: float = 0.95,
    small_n: int = 30,
    small_count: int = 5,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]]:
    """Error-rate interval choosing Clopper-Pearson or Wilson per slice.

    Rule: a slice uses Clopper-Pearson when ``n < small_n`` **or**
    ``errors < small_count`` **or** ``n - errors < small_count`` (few trials or
    a rate near 0/1, where Wilson's coverage dips below nominal); otherwise it
    uses Wilson.  ``method`` holds ``"clopper-pearson"`` or ``"wilson"`` per
    slice.  Slices with ``n == 0`` get NaN bounds.

    >>> low, high, method = rate_interval([3, 40], [10, 100])
    >>> method.tolist()
    ['clopper-pearson', 'wilson']
    >>> np.round(high, 4).tolist()
    [0.6525, 0.498]
    """
    conf = _check_confidence(confidence)
    small_n = _check_int("small_n", small_n, 0)
    small_count = _check_int("small_count", small_count, 0)
    e, t = _rate_counts(errors, n)
    use_cp = (t < small_n) | (e < small_count) | (t - e < small_count)
    w_low, w_high = _wilson(e, t, _z(conf))
    cp_low, cp_high = _clopper_pearson(e, t, conf)
    low = np.where(use_cp, cp_low, w_low)
    high = np.where(use_cp, cp_high, w_high)
    method = np.where(use_cp, "clopper-pearson", "wilson")
    return low, high, method


# ---------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------


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
    chunk = max(1, min(n_resamples, _BOOTSTRAP_CHUNK_ELEMENTS // total))
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
    return (
        _check_confidence(confidence),
        _check_int("n_resamples", n_resamples, 1),
        _check_int("seed", seed, 0),
    )


def grouped_bootstrap_mean_interval(
    values: ArrayLike,
    group_codes: ArrayLike,
    n_groups: int,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile-bootstrap intervals for the mean of ``values`` in every group.

    Method: rows are stably sorted by group; for each of ``n_resamples``
    resamples every group is resampled *with replacement to its own size*
    (one uniform 32-bit draw per row, mapped to an index within the row's
    group by multiply-shift),
    and the group sums of a batch of resamples are contiguous
    ``np.add.reduceat`` reductions over the sorted rows.  The bounds are
    the ``(1-confidence)/2`` and ``(1+confidence)/2`` quantiles (numpy's
    default linear interpolation) of the resampled means.  Cost is
    O(n_resamples * len(values)); resamples are processed in memory-bounded
    chunks; memory is O(n_resamples * n_groups) for the resampled means.

    The random stream is ``np.random.default_rng(seed)`` shared across groups:
    results are deterministic for identical inputs, but a group's interval
    also depends on the other groups present.  Empty groups give NaN;
    single-row groups give a zero-width interval.

    >>> low, high = grouped_bootstrap_mean_interval(
    ...     [1.0, 2.0, 3.0, 4.0, 10.0, 10.0], [0, 0, 0, 0, 1, 1], 3, n_resamples=500)
    >>> bool(1.0 <= low[0] < 2.5 < high[0] <= 4.0), low[1].item(), high[1].item()
    (True, 10.0, 10.0)
    >>> np.isnan(low[2]).item()
    True
    """
    conf, n_res, seed_ = _bootstrap_params(confidence, n_resamples, seed)
    x = _one_d("values", _float_values("values", values))
    codes, n_groups = _group_codes(group_codes, n_groups, x.shape[0], "values")
    return _grouped_bootstrap(x, codes, n_groups, conf, n_res, seed_)


def bootstrap_mean_interval(
    values: ArrayLike,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap interval for the mean of one sample.

    Same as :func:`grouped_bootstrap_mean_interval` with a single group
    (so the two agree exactly for the same seed).  An empty sample gives
    ``(nan, nan)``.

    >>> low, high = bootstrap_mean_interval(np.arange(20.0), seed=1)
    >>> bool(5.0 < low < 9.5 < high < 14.0)
    True
    """
    conf, n_res, seed_ = _bootstrap_params(confidence, n_resamples, seed)
    x = _one_d("values", _float_values("values", values))
    low, high = _grouped_bootstrap(x, np.zeros(x.shape[0], np.int64), 1, conf, n_res, seed_)
    return float(low[0]), float(high[0])


def paired_bootstrap_mean_difference_interval(
    diffs: ArrayLike,
    group_codes: ArrayLike,
    n_groups: int,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Paired-bootstrap interval for the mean score difference in each slice.

    ``diffs[i] = score_a[i] - score_b[i]`` for the *same* item scored by two
    systems.  Resampling items (pairs) and averaging their differences is the
    paired bootstrap, so this equals :func:`grouped_bootstrap_mean_interval`
    applied to ``diffs`` (same method, same seed semantics).

    >>> low, high = paired_bootstrap_mean_difference_interval(
    ...     [0.5, 0.25, 0.75, 0.5, -1.0, 1.0], [0, 0, 0, 0, 1, 1], 2, n_resamples=500)
    >>> bool(0.25 <= low[0] <= 0.5 <= high[0] <= 0.75), bool(low[1] < 0 < high[1])
    (True, True)
    """
    conf, n_res, seed_ = _bootstrap_params(confidence, n_resamples, seed)
    x = _one_d("diffs", _float_values("diffs", diffs))
    codes, n_groups = _group_codes(group_codes, n_groups, x.shape[0], "diffs")
    return _grouped_bootstrap(x, codes, n_groups, conf, n_res, seed_)


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def _vectorised_binary_search(f, d: NDArray, lo: NDArray, hi: NDArray) -> NDArray[np.int64]:
    """Element-wise port of scipy's ``_binary_search_for_binom_tst``.

    ``f(x, sel)`` evaluates an ascending function at integer points ``x`` for
    the problems with indices ``sel``.  Returns i with ``f(i) <= d < f(i+1)``,
    following scipy's exact sequence of comparisons so results are identical.
    """
    lo = lo.copy()
    hi = hi.copy()
    result = np.empty(lo.shape[0], dtype=np.int64)
    done = np.zeros(lo.shape[0], dtype=bool)
    while True:
        act = np.flatnonzero(~done & (lo < hi))
        if act.size == 0:
            break
        mid = lo[act] + (hi[act] - lo[act]) // 2
        midval = f(mid, act)
        less = midval < d[act]
        greater = midval > d[act]
        equal = ~less & ~greater  # includes NaN, as in scipy's `else` branch
        lo[act[less]] = mid[less] + 1
        hi[act[greater]] = mid[greater] - 1
        result[act[equal]] = mid[equal]
        done[act[equal]] = True
    rest = np.flatnonzero(~done)
    if rest.size:
        val = f(lo[rest], rest)
        result[rest] = np.where(val <= d[rest], lo[rest], lo[rest] - 1)
    return result


def _fisher_two_sided_scipy(a: NDArray, n1: NDArray, n2: NDArray, k: NDArray) -> NDArray[np.float64]:
    """Two-sided Fisher exact p-values for tables [[a, n1-a], [k-a, n2-k+a]].

    Slow but exact vectorised transcription of ``scipy.stats.fisher_exact`` (2x2,
    two-sided): tables whose probability is within a relative 1e-14 of the
    mode's get p = 1; otherwise p sums the tail containing ``a`` and the
    opposite tail of tables with pmf <= pmf(a) * (1 + 1e-14), located with
    the same binary search scipy uses.
    """
    hg = scipy.stats.hypergeom
    M = n1 + n2
    p = np.ones(a.shape[0])
    # scipy: zero row or column sum -> p = 1.
    ok = (n1 > 0) & (n2 > 0) & (k > 0) & (k < M)
    if not np.any(ok):
        return p
    sel = np.flatnonzero(ok)
    a, n1, M, k = a[sel], n1[sel], M[sel], k[sel]

    def pmf(x: NDArray, idx: NDArray) -> NDArray:
        return hg.pmf(x, M[idx], n1[idx], k[idx])

    allidx = np.arange(a.shape[0])
    mode = ((k + 1) * (n1 + 1) / (M + 2)).astype(np.int64)
    pexact = pmf(a, allidx)
    pmode = pmf(mode, allidx)
    epsilon = 1e-14
    gamma = 1.0 + epsilon
    with np.errstate(divide="ignore", invalid="ignore"):
        tie = np.abs(pexact - pmode) / np.maximum(pexact, pmode) <= epsilon
    out = np.ones(a.shape[0])
    d = pexact * gamma

    lower = np.flatnonzero(~tie & (a < mode))
    if lower.size:
        plower = hg.cdf(a[lower], M[lower], n1[lower], k[lower])
        res = plower.copy()
        need = pmf(k[lower], lower) <= d[lower]
        li = lower[need]
        if li.size:
            guess = _vectorised_binary_search(lambda x, s: -pmf(x, li[s]), -d[li], mode[li], k[li])
            res[need] = plower[need] + hg.sf(guess, M[li], n1[li], k[li])
        out[lower] = res

    upper = np.flatnonzero(~tie & (a >= mode))
    if upper.size:
        pupper = hg.sf(a[upper] - 1, M[upper], n1[upper], k[upper])
        res = pupper.copy()
        need = pmf(np.zeros_like(upper), upper) <= d[upper]
        ui = upper[need]
        if ui.size:
            guess = _vectorised_binary_search(lambda x, s: pmf(x, ui[s]), d[ui], np.zeros_like(ui), mode[ui])
            res[need] = pupper[need] + hg.cdf(guess, M[ui], n1[ui], k[ui])
        out[upper] = res

    p[sel] = np.minimum(out, 1.0)
    return p


# --- Fast, accurate hypergeometric pmf (Loader's saddle-point method) -------
#
# scipy's hypergeom (Boost) costs ~200 us per value for populations around
# 1e4-1e5, which makes a vectorised Fisher test over thousands of slices take
# seconds.  The functions below compute the pmf to ~1e-14 relative accuracy
# in O(1) numpy work per value, following Loader (2000), "Fast and accurate
# computation of binomial probabilities" (the algorithm of R's dhyper).


def _stirlerr_table() -> NDArray[np.float64]:
    # stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n), exact to double
    # precision via 50-digit decimal arithmetic (n = 0 is defined as 0).
    import decimal

    ctx = decimal.Context(prec=50)
    two_pi = ctx.multiply(decimal.Decimal(2), decimal.Decimal("3.14159265358979323846264338327950288419716939937510"))
    half_log_2pi = ctx.multiply(decimal.Decimal("0.5"), ctx.ln(two_pi))
    out = [0.0]
    for n in range(1, 16):
        dn = decimal.Decimal(n)
        val = (
            ctx.ln(decimal.Decimal(math.factorial(n)))
            - ctx.multiply(dn + decimal.Decimal("0.5"), ctx.ln(dn))
            + dn
            - half_log_2pi
        )
        out.append(float(val))
    return np.array(out)


_STIRLERR_SMALL = _stirlerr_table()
_LOG_2PI = math.log(2.0 * math.pi)


def _stirlerr(n: NDArray) -> NDArray:
    n = np.asarray(n, dtype=np.float64)
    small = n <= 15
    out = np.empty_like(n)
    out[small] = _STIRLERR_SMALL[n[small].astype(np.int64)]
    nb = n[~small]
    nn = nb * nb
    s0, s1, s2, s3, s4 = 1.0 / 12, 1.0 / 360, 1.0 / 1260, 1.0 / 1680, 1.0 / 1188
    out[~small] = (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / nb
    return out


def _bd0(x: NDArray, np_: NDArray) -> NDArray:
    """Deviance term x log(x / np) + np - x, accurate when x ~ np."""
    x = np.asarray(x, dtype=np.float64)
    np_ = np.asarray(np_, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(x / np_) + np_ - x
    out = np.where(x == 0, np_, out)
    close = np.abs(x - np_) < 0.1 * (x + np_)
    if np.any(close):
        xc, mc = x[close], np_[close]
        v = (xc - mc) / (xc + mc)
        s = (xc - mc) * v
        ej = 2.0 * xc * v
        v2 = v * v
        for j in range(1, 60):
            ej = ej * v2
            s_new = s + ej / (2 * j + 1)
            if np.array_equal(s_new, s):
                break
            s = s_new
        out[close] = s
    return out


def _log_dbinom_raw(x: NDArray, n: NDArray, p: NDArray, q: NDArray) -> NDArray:
    """log P(Binomial(n, p) = x) for 0 <= x <= n, 0 < p < 1 (Loader)."""
    out = np.empty(np.broadcast(x, n, p, q).shape)
    x, n, p, q = np.broadcast_arrays(x, n, p, q)
    zero = x == 0
    full = (x == n) & ~zero
    mid = ~zero & ~full
    if np.any(zero):
        nz, pz, qz = n[zero], p[zero], q[zero]
        out[zero] = np.where(pz < 0.1, -_bd0(nz, nz * qz) - nz * pz, nz * np.log(qz))
    if np.any(full):
        nf, pf, qf = n[full], p[full], q[full]
        out[full] = np.where(qf < 0.1, -_bd0(nf, nf * pf) - nf * qf, nf * np.log(pf))
    if np.any(mid):
        xm, nm, pm, qm = x[mid], n[mid], p[mid], q[mid]
        lc = _stirlerr(nm) - _stirlerr(xm) - _stirlerr(nm - xm) - _bd0(xm, nm * pm) - _bd0(nm - xm, nm * qm)
        lf = _LOG_2PI + np.log(xm) + np.log1p(-xm / nm)
        out[mid] = lc - 0.5 * lf
    return out


def _hypergeom_pmf(x: NDArray, n1: NDArray, n2: NDArray, k: NDArray) -> NDArray[np.float64]:
    """P(X = x) for X ~ Hypergeom(population n1 + n2, n1 successes, k draws).

    Requires n1, n2 >= 1 and 0 < k < n1 + n2; returns 0 outside the support.
    """
    x, n1, n2, k = (np.asarray(v, dtype=np.float64) for v in (x, n1, n2, k))
    x, n1, n2, k = np.broadcast_arrays(x, n1, n2, k)
    inside = (x >= np.maximum(0.0, k - n2)) & (x <= np.minimum(k, n1))
    out = np.zeros(x.shape)
    if np.any(inside):
        xi, ai, bi, ki = x[inside], n1[inside], n2[inside], k[inside]
        tot = ai + bi
        p = ki / tot
        q = (tot - ki) / tot
        logp = _log_dbinom_raw(xi, ai, p, q) + _log_dbinom_raw(ki - xi, bi, p, q) - _log_dbinom_raw(ki, tot, p, q)
        out[inside] = np.exp(logp)
    return out


def _hypergeom_outer_tail(start: NDArray, step: int, n1: NDArray, n2: NDArray, k: NDArray) -> NDArray[np.float64]:
    """Sum of the pmf from ``start`` outward (``step`` = +1 up, -1 down).

    Only used for tails lying beyond the mode, where terms decrease.  Terms
    follow the exact ratio recurrence; summation stops at the support edge or
    once the log-concavity bound on the remainder (term * r / (1 - r)) is
    below 1e-17 of the running sum.
    """
    n1 = n1.astype(np.float64)
    n2 = n2.astype(np.float64)
    k = k.astype(np.float64)
    y = start.astype(np.float64).copy()
    term = _hypergeom_pmf(y, n1, n2, k)
    total = term.copy()
    lo_s = np.maximum(0.0, k - n2)
    hi_s = np.minimum(k, n1)
    active = np.flatnonzero((term > 0) & ((y < hi_s) if step > 0 else (y > lo_s)))
    while active.size:
        ya = y[active]
        a_, b_, k_ = n1[active], n2[active], k[active]
        if step > 0:
            ratio = (a_ - ya) * (k_ - ya) / ((ya + 1.0) * (b_ - k_ + ya + 1.0))
        else:
            ratio = ya * (b_ - k_ + ya) / ((a_ - ya + 1.0) * (k_ - ya + 1.0))
        t = term[active] * ratio
        term[active] = t
        total[active] += t
        y[active] = ya + step
        with np.errstate(divide="ignore", invalid="ignore"):
            converged = (ratio < 1.0) & (t * ratio / (1.0 - ratio) <= 1e-17 * total[active])
        at_edge = (y[active] >= hi_s[active]) if step > 0 else (y[active] <= lo_s[active])
        active = active[~(converged | at_edge | (t == 0))]
    return total


def _fisher_two_sided(a: NDArray, n1: NDArray, n2: NDArray, k: NDArray) -> NDArray[np.float64]:
    """Fast two-sided Fisher exact p-values, matching ``scipy.stats.fisher_exact``.

    Follows scipy's algorithm (mode tie check with relative tolerance 1e-14,
    own tail, opposite tail of tables with pmf <= pmf(a) * (1 + 1e-14) found
    by binary search) but with the fast pmf above and ratio-recurrence tail
    sums.  Any slice where one of these discrete decisions is within a
    relative 1e-9 of its threshold (e.g. exactly tied table probabilities) is
    recomputed with the exact scipy/Boost transcription, so decisions always
    agree with scipy; the p-values then agree to ~1e-13 relative.
    """
    p = np.ones(a.shape[0])
    ok = (n1 > 0) & (n2 > 0) & (k > 0) & (k < n1 + n2)
    if not np.any(ok):
        return p
    sel = np.flatnonzero(ok)
    a, n1, n2, k = a[sel], n1[sel], n2[sel], k[sel]
    M = n1 + n2

    def pmf(x: NDArray, idx: NDArray) -> NDArray:
        return _hypergeom_pmf(x, n1[idx], n2[idx], k[idx])

    margin = 1e-9
    epsilon = 1e-14
    gamma = 1.0 + epsilon
    allidx = np.arange(a.shape[0])
    mode = ((k + 1) * (n1 + 1) / (M + 2)).astype(np.int64)
    pexact = pmf(a, allidx)
    pmode = pmf(mode, allidx)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(pexact - pmode) / np.maximum(pexact, pmode)
    tie = (a == mode) | (rel <= epsilon)
    unsure = (a != mode) & (rel <= margin)
    d = pexact * gamma
    out = np.ones(a.shape[0])

    def near(v: NDArray, idx: NDArray) -> NDArray:
        return np.abs(v - d[idx]) <= margin * d[idx]

    for lower_side in (True, False):
        side = ~tie & ~unsure & ((a < mode) if lower_side else (a >= mode))
        idx = np.flatnonzero(side)
        if idx.size == 0:
            continue
        if lower_side:
            own = _hypergeom_outer_tail(a[idx], -1, n1[idx], n2[idx], k[idx])
            p_end = pmf(k[idx], idx)
        else:
            own = _hypergeom_outer_tail(a[idx], +1, n1[idx], n2[idx], k[idx])
            p_end = pmf(np.zeros_like(idx), idx)
        unsure[idx[near(p_end, idx)]] = True
        res = own.copy()
        need = p_end <= d[idx]
        ni = idx[need]
        if ni.size:
            if lower_side:
                guess = _vectorised_binary_search(lambda x, s, ni=ni: -pmf(x, ni[s]), -d[ni], mode[ni], k[ni])
                other = _hypergeom_outer_tail(guess + 1, +1, n1[ni], n2[ni], k[ni])
            else:
                guess = _vectorised_binary_search(lambda x, s, ni=ni: pmf(x, ni[s]), d[ni], np.zeros_like(ni), mode[ni])
                other = _hypergeom_outer_tail(guess, -1, n1[ni], n2[ni], k[ni])
            # The decision boundary lies between guess and guess + 1.
            unsure[ni[near(pmf(guess, ni), ni) | near(pmf(guess + 1, ni), ni)]] = True
            res[need] = own[need] + other
        out[idx] = res
    out = np.where(tie & ~unsure, 1.0, np.minimum(out, 1.0))
    redo = np.flatnonzero(unsure)
    if redo.size:
        out[redo] = _fisher_two_sided_scipy(a[redo], n1[redo], n2[redo], k[redo])
    p[sel] = out
    return p


def two_proportion_test(
    errors_in: ArrayLike,
    n_in: ArrayLike,
    errors_out: ArrayLike,
    n_out: ArrayLike,
    *,
    small_count: float = 5,
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """Two-sided test that a slice's error rate differs from the rest's.

    Per slice the 2x2 table is ``[[errors_in, n_in - errors_in],
    [errors_out, n_out - errors_out]]``.  Rule: if any *expected* cell count
    (row total * column total / grand total) is ``< small_count`` the
    two-sided Fisher exact test is used (identical to
    ``scipy.stats.fisher_exact``, including its 1e-14 relative tolerance for
    tables as probable as the observed one); otherwise the pooled
    two-proportion z test ``z = (p_in - p_out) / sqrt(p(1-p)(1/n_in + 1/n_out))``,
    ``p = 2 * sf(|z|)`` (as ``statsmodels`` ``proportions_ztest``).
    ``method`` is ``"fisher"`` or ``"z"``.

    Speed: Fisher p-values use a vectorised hypergeometric pmf (Loader's
    saddle-point method, ~1e-13 relative accuracy) and ratio-recurrence tail
    sums, so thousands of slices take milliseconds (``scipy.stats.hypergeom``
    costs ~0.2 ms per value for populations near 1e5).  They agree with
    ``scipy.stats.fisher_exact`` to ~1e-12 relative; slices where scipy's
    discrete decisions (mode tie, tail boundary) are within a relative 1e-9
    of their threshold -- e.g. exactly tied table probabilities -- are
    recomputed with a transcription of scipy's algorithm on
    ``scipy.stats.hypergeom``, so those decisions are scipy's.

    Edge cases: ``n_in == 0`` or ``n_out == 0`` gives a NaN p-value (no
    comparison is possible; scipy would report 1.0); no errors at all, or
    errors everywhere, gives p = 1.  If the z test is chosen but undefined
    (only possible with ``small_count=0``) p = 1.

    >>> p, method = two_proportion_test([8, 40], [10, 100], [1, 300], [6, 1000])
    >>> method.tolist(), np.round(p, 6).tolist()
    (['fisher', 'z'], [0.034965, 0.03909])
    """
    small_count = _check_number("small_count", small_count, 0)
    e_in = _counts("errors_in", errors_in)
    t_in = _counts("n_in", n_in)
    e_out = _counts("errors_out", errors_out)
    t_out = _counts("n_out", n_out)
    e_in, t_in, e_out, t_out = np.broadcast_arrays(e_in, t_in, e_out, t_out)
    _check_le("errors_in", e_in, "n_in", t_in)
    _check_le("errors_out", e_out, "n_out", t_out)
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


def benjamini_hochberg(p_values: ArrayLike) -> NDArray[np.float64]:
    """Benjamini-Hochberg FDR-adjusted p-values (q-values).

    ``q_(i) = min_{j >= i} min(1, m * p_(j) / j)`` over the sorted non-NaN
    p-values; NaN entries stay NaN and are not counted in ``m``.  All entries
    of the (any-shape) input form one family; the output has the input's
    shape.  Equals ``statsmodels`` ``multipletests(method="fdr_bh")[1]`` on
    the non-NaN values.

    >>> benjamini_hochberg([0.01, 0.04, np.nan, 0.03, 0.5]).tolist()
    [0.04, 0.05333333333333334, nan, 0.05333333333333334, 0.5]
    """
    p = np.asarray(p_values, dtype=np.float64)
    bad = ~np.isnan(p) & ~((p >= 0.0) & (p <= 1.0))
    if np.any(bad):
        raise ValueError(MSG_P_VALUES.format(value=p[bad].ravel()[0].item()))
    flat = p.ravel()
    q = np.full(flat.shape[0], np.nan)
    idx = np.flatnonzero(~np.isnan(flat))
    m = idx.size
    if m:
        order = np.argsort(flat[idx], kind="mergesort")
        ps = flat[idx][order]
        raw = ps * m / np.arange(1, m + 1)
        qs = np.minimum.accumulate(raw[::-1])[::-1]
        q[idx[order]] = np.minimum(qs, 1.0)
    return q.reshape(p.shape)


def mcnemar_exact(b: ArrayLike, c: ArrayLike) -> NDArray[np.float64]:
    """Exact (binomial) two-sided McNemar p-value per slice.

    ``b`` and ``c`` are the discordant-pair counts (A right/B wrong and vice
    versa).  ``p = min(1, 2 * BinomCDF(min(b, c); b + c, 1/2))``, identical to
    ``statsmodels`` ``mcnemar(table, exact=True).pvalue``; ``b == c == 0``
    gives p = 1.

    >>> np.round(mcnemar_exact([10, 3, 0], [2, 3, 0]), 6).tolist()
    [0.038574, 1.0, 1.0]
    """
    bb = _counts("b", b)
    cc = _counts("c", c)
    bb, cc = np.broadcast_arrays(bb, cc)
    p = 2.0 * scipy.stats.binom.cdf(np.minimum(bb, cc), bb + cc, 0.5)
    return np.minimum(p, 1.0)


def difference_interval(
    errors_a: ArrayLike,
    n_a: ArrayLike,
    errors_b: ArrayLike,
    n_b: ArrayLike,
    *,
    confidence: float = 0.95,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Newcombe hybrid-score interval for ``errors_a/n_a - errors_b/n_b``.

    With Wilson intervals ``(l_a, u_a)`` and ``(l_b, u_b)`` (see
    :func:`wilson_interval`) and ``d = p_a - p_b``:
    ``low = d - sqrt((p_a - l_a)^2 + (u_b - p_b)^2)``,
    ``high = d + sqrt((u_a - p_a)^2 + (p_b - l_b)^2)`` (Newcombe 1998,
    method 10; as ``statsmodels`` ``confint_proportions_2indep(method="newcomb")``).
    NaN when either ``n`` is 0.

    >>> low, high = difference_interval([30, 2], [100, 10], [10, 0], [100, 10])
    >>> np.round(low, 4).tolist(), np.round(high, 4).tolist()
    ([0.09, -0.1124], [0.3058, 0.5098])
    """
    z = _z(_check_confidence(confidence))
    ea = _counts("errors_a", errors_a)
    ta = _counts("n_a", n_a)
    eb = _counts("errors_b", errors_b)
    tb = _counts("n_b", n_b)
    ea, ta, eb, tb = np.broadcast_arrays(ea, ta, eb, tb)
    _check_le("errors_a", ea, "n_a", ta)
    _check_le("errors_b", eb, "n_b", tb)
    la, ua = _wilson(ea, ta, z)
    lb, ub = _wilson(eb, tb, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = ea / ta
        pb = eb / tb
        d = pa - pb
        low = d - np.sqrt((pa - la) ** 2 + (ub - pb) ** 2)
        high = d + np.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)
    return low, high


# ---------------------------------------------------------------------------
# Agreement
# ---------------------------------------------------------------------------


def _missing_mask(x: NDArray) -> NDArray[np.bool_]:
    if np.issubdtype(x.dtype, np.floating):
        return np.isnan(x)
    if x.dtype == object:
        return np.fromiter(
            (v is None or (isinstance(v, float) and v != v) for v in x),
            dtype=bool,
            count=x.shape[0],
        )
    return np.zeros(x.shape[0], dtype=bool)


def grouped_cohen_kappa(
    codes_a: ArrayLike,
    codes_b: ArrayLike,
    n_categories: int,
    group_codes: ArrayLike,
    n_groups: int,
    *,
    weights: KappaWeights = "none",
) -> NDArray[np.float64]:
    """Cohen's kappa between two raters within every group.

    ``codes_a``/``codes_b`` are integer category codes in
    ``[0, n_categories)``; a negative code means "missing" and drops that
    item.  Per group, ``kappa = 1 - sum(W * O) / sum(W * E)`` with observed
    confusion matrix ``O``, chance matrix ``E = outer(row, col) / n`` and
    disagreement weights ``W`` (``"none"``: 1 off the diagonal; ``"linear"``:
    ``|i - j|``; ``"quadratic"``: ``(i - j)^2`` in code order).  NaN when a
    group is empty or its chance disagreement is 0 (e.g. both raters constant).

    >>> grouped_cohen_kappa([0, 1, 1, 0, 1, 1], [0, 1, 0, 1, 1, 1], 2,
    ...                     [0, 0, 0, 1, 1, 1], 2).round(4).tolist()
    [0.4, 0.0]
    """
    k = _check_int("n_categories", n_categories, 1)
    weights = _check_choice("weights", weights, _KAPPA_WEIGHTS)
    a = _one_d("codes_a", np.asarray(codes_a))
    b = _one_d("codes_b", np.asarray(codes_b))
    _check_length("codes_b", b, "codes_a", a.shape[0])
    for name, arr in (("codes_a", a), ("codes_b", b)):
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(MSG_CODES.format(name=name, n_categories=k, value=arr.dtype.name))
        if np.any(arr >= k):
            raise ValueError(MSG_CODES.format(name=name, n_categories=k, value=arr[arr >= k][0].item()))
    g, n_groups = _group_codes(group_codes, n_groups, a.shape[0], "codes_a")
    keep = (a >= 0) & (b >= 0)
    a, b, g = a[keep].astype(np.int64), b[keep].astype(np.int64), g[keep]
    conf = np.bincount((g * k + a) * k + b, minlength=n_groups * k * k).reshape(n_groups, k, k)
    conf = conf.astype(np.float64)
    i = np.arange(k)
    if weights == "none":
        w = (i[:, None] != i[None, :]).astype(np.float64)
    elif weights == "linear":
        w = np.abs(i[:, None] - i[None, :]).astype(np.float64)
    else:
        w = ((i[:, None] - i[None, :]) ** 2).astype(np.float64)
    n = conf.sum(axis=(1, 2))
    rows = conf.sum(axis=2)
    cols = conf.sum(axis=1)
    observed = np.einsum("gij,ij->g", conf, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.einsum("gi,ij,gj->g", rows, w, cols) / n
        kappa = 1.0 - observed / expected
    return np.where((n > 0) & (expected > 0), kappa, np.nan)


def cohen_kappa(a: ArrayLike, b: ArrayLike, *, weights: KappaWeights = "none") -> float:
    """Cohen's kappa between two raters' labels (any sortable label type).

    Labels are mapped to codes in sorted order of their union; pairs where
    either label is missing (``None`` or float NaN) are dropped.  Equal to
    ``sklearn.metrics.cohen_kappa_score(a, b, weights=...)`` (``"none"`` is
    sklearn's ``None``).  NaN when undefined (no pairs, or both raters use a
    single identical label).

    >>> round(cohen_kappa(["x", "y", "y", "x", "y"], ["x", "y", "x", "x", "y"]), 4)
    0.6154
    """
    weights = _check_choice("weights", weights, _KAPPA_WEIGHTS)
    aa = _one_d("a", np.asarray(a))
    bb = _one_d("b", np.asarray(b))
    _check_length("b", bb, "a", aa.shape[0])
    keep = ~(_missing_mask(aa) | _missing_mask(bb))
    aa, bb = aa[keep], bb[keep]
    if aa.size == 0:
        return float("nan")
    labels, inverse = np.unique(np.concatenate([aa, bb]), return_inverse=True)
    inverse = inverse.ravel().astype(np.int64)
    codes_a, codes_b = inverse[: aa.size], inverse[aa.size :]
    kappa = grouped_cohen_kappa(codes_a, codes_b, labels.size, np.zeros(aa.size, np.int64), 1, weights=weights)
    return float(kappa[0])


def grouped_krippendorff_alpha(
    ratings: ArrayLike,
    group_codes: ArrayLike,
    n_groups: int,
    *,
    level: Level = "nominal",
) -> NDArray[np.float64]:
    """Krippendorff's alpha computed separately for groups of units.

    ``ratings`` is a (raters x units) numeric matrix with NaN for missing;
    ``group_codes`` gives each unit's (column's) group.  Uses the coincidence
    matrix ``o_ck = sum_u (N_uc N_uk - [c == k] N_uc) / (m_u - 1)`` over units
    with ``m_u >= 2`` values (``N_uc`` = number of raters giving value c to
    unit u), ``n_c = sum_k o_ck`` and
    ``alpha = 1 - (n - 1) * sum o_ck d_ck / sum n_c n_k d_ck`` with the squared
    difference ``d_ck`` of the chosen level: nominal ``[c != k]``; ordinal
    ``(sum_{g=c..k} n_g - (n_c + n_k)/2)^2`` (values ranked, group's own
    marginals); interval ``(c - k)^2``; ratio ``((c - k)/(c + k))^2``
    (values must be >= 0).  NaN when a group has no pairable values or no
    variation.

    >>> r = [[1, 2, 3, 1, 1, 2], [1, 2, 3, 2, 2, 1]]
    >>> grouped_krippendorff_alpha(r, [0, 0, 0, 1, 1, 1], 2).round(4).tolist()
    [1.0, -0.6667]
    """
    level = _check_choice("level", level, _LEVELS)
    r = _float_values("ratings", ratings, allow_nan=True)
    if r.ndim != 2:
        raise ValueError(MSG_NDIM.format(name="ratings", ndim=2, value=r.shape))
    n_units = r.shape[1]
    g, n_groups = _group_codes(group_codes, n_groups, n_units, "ratings.shape[1]")
    present = ~np.isnan(r)
    values = np.unique(r[present])
    if level == "ratio" and values.size and values[0] < 0:
        raise ValueError(MSG_RATIO_NEGATIVE.format(value=values[0].item()))
    v = values.size
    out = np.full(n_groups, np.nan)
    if v == 0 or n_groups == 0:
        return out
    unit_idx = np.broadcast_to(np.arange(n_units), r.shape)[present]
    val_idx = np.searchsorted(values, r[present])
    counts = np.bincount(unit_idx * v + val_idx, minlength=n_units * v).reshape(n_units, v)
    counts = counts.astype(np.float64)
    m = counts.sum(axis=1)
    pairable = m >= 2
    wts = np.zeros_like(counts)
    wts[pairable] = counts[pairable] / (m[pairable] - 1.0)[:, None]
    # Group indicator (n_groups x units) to sum unit contributions per group.
    ind = scipy.sparse.csr_array((np.ones(n_units), (g, np.arange(n_units))), shape=(n_groups, n_units))
    coinc = np.empty((n_groups, v, v))
    for c in range(v):
        coinc[:, c, :] = ind @ (wts[:, c : c + 1] * counts)
    diag = ind @ wts
    coinc[:, np.arange(v), np.arange(v)] -= diag
    n_c = coinc.sum(axis=2)
    n = n_c.sum(axis=1)

    if level == "ordinal":
        cum = np.cumsum(n_c, axis=1)
        delta = (cum[:, None, :] - cum[:, :, None] + (n_c[:, :, None] - n_c[:, None, :]) / 2.0) ** 2
        observed = np.einsum("gck,gck->g", coinc, delta)
        expected = np.einsum("gc,gck,gk->g", n_c, delta, n_c)
    else:
        if level == "nominal":
            delta = 1.0 - np.eye(v)
        elif level == "interval":
            delta = (values[:, None] - values[None, :]) ** 2
        else:
            s = values[:, None] + values[None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                delta = np.where(s == 0, 0.0, ((values[:, None] - values[None, :]) / s) ** 2)
        observed = np.einsum("gck,ck->g", coinc, delta)
        expected = np.einsum("gc,ck,gk->g", n_c, delta, n_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (n - 1.0) * observed / expected
    return np.where((n > 0) & (expected > 0), alpha, np.nan)


def krippendorff_alpha(ratings: ArrayLike, *, level: Level = "nominal") -> float:
    """Krippendorff's alpha for a (raters x units) matrix, NaN = missing.

    See :func:`grouped_krippendorff_alpha` for the formula (this is the
    single-group case).  ``level`` is one of ``"nominal"``, ``"ordinal"``,
    ``"interval"``, ``"ratio"``.

    >>> r = [[1, 2, 3, 3, np.nan], [1, 2, 3, 2, 1], [np.nan, 2, 3, 3, 1]]
    >>> round(krippendorff_alpha(r), 4), round(krippendorff_alpha(r, level="interval"), 4)
    (0.7857, 0.8966)
    """
    r = np.asarray(ratings, dtype=np.float64)
    if r.ndim != 2:
        raise ValueError(MSG_NDIM.format(name="ratings", ndim=2, value=r.shape))
    return float(grouped_krippendorff_alpha(r, np.zeros(r.shape[1], np.int64), 1, level=level)[0])


# ---------------------------------------------------------------------------
# Calibration, discrimination, effect sizes, correlation
# ---------------------------------------------------------------------------


def grouped_expected_calibration_error(
    confidence: ArrayLike,
    correct: ArrayLike,
    group_codes: ArrayLike,
    n_groups: int,
    *,
    n_bins: int = 10,
) -> NDArray[np.float64]:
    """Expected calibration error within every group.

    Bins are equal-width with edges ``np.linspace(0, 1, n_bins + 1)``; bin i
    holds ``edges[i] <= confidence < edges[i+1]`` (the last bin also holds
    1.0).  ``ECE = sum_b (n_b / n) |mean(correct)_b - mean(confidence)_b|``.
    ``correct`` may be 0/1 (or any value in [0, 1]).  NaN for empty groups.

    >>> grouped_expected_calibration_error([0.9, 0.9, 0.2, 0.6], [1, 0, 0, 1],
    ...                                    [0, 0, 1, 1], 2).round(4).tolist()
    [0.4, 0.3]
    """
    bins = _check_int("n_bins", n_bins, 1)
    conf = _one_d("confidence", _float_values("confidence", confidence))
    corr = _one_d("correct", _float_values("correct", np.asarray(correct, dtype=np.float64)))
    _check_length("correct", corr, "confidence", conf.shape[0])
    for name, arr in (("confidence", conf), ("correct", corr)):
        bad = (arr < 0) | (arr > 1)
        if np.any(bad):
            raise ValueError(MSG_UNIT_INTERVAL.format(name=name, value=arr[bad][0].item()))
    g, n_groups = _group_codes(group_codes, n_groups, conf.shape[0], "confidence")
    edges = np.linspace(0.0, 1.0, bins + 1)
    b = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, bins - 1)
    key = g * bins + b
    size = n_groups * bins
    gap = np.bincount(key, weights=corr, minlength=size) - np.bincount(key, weights=conf, minlength=size)
    n = np.bincount(g, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        ece = np.abs(gap).reshape(n_groups, bins).sum(axis=1) / n
    return np.where(n > 0, ece, np.nan)


def expected_calibration_error(confidence: ArrayLike, correct: ArrayLike, *, n_bins: int = 10) -> float:
    """Expected calibration error with equal-width confidence bins.

    Single-group case of :func:`grouped_expected_calibration_error`
    (bin edges ``np.linspace(0, 1, n_bins + 1)``, weighted
    ``|accuracy - mean confidence|``).  NaN for empty input.

    >>> round(expected_calibration_error([0.95, 0.9, 0.3, 0.65], [1, 1, 0, 0]), 4)
    0.275
    """
    conf = np.asarray(confidence, dtype=np.float64)
    return float(
        grouped_expected_calibration_error(
            conf, correct, np.zeros(conf.shape[0] if conf.ndim else 1, np.int64), 1, n_bins=n_bins
        )[0]
    )


def auc_with_interval(
    scores_pos: ArrayLike,
    scores_neg: ArrayLike,
    *,
    confidence: float = 0.95,
    method: AucMethod = "delong",
) -> tuple[float, float, float]:
    """ROC AUC (Mann-Whitney) with a Wald confidence interval.

    ``AUC = U / (n_pos * n_neg)`` where U counts pairs with the positive
    scored higher, ties counting 1/2 (``scipy.stats.mannwhitneyu(pos,
    neg).statistic``).  Standard error: ``"delong"`` (DeLong et al. 1988,
    placement values computed from mid-ranks; needs >= 2 of each class) or
    ``"hanley-mcneil"`` (Hanley & McNeil 1982).  Interval ``AUC -/+ z*se``
    clipped to [0, 1].  Returns ``(auc, low, high)``; NaN when a class is
    empty (or too small for the chosen method's variance).

    >>> auc, low, high = auc_with_interval([0.9, 0.8, 0.7, 0.55], [0.6, 0.4, 0.3, 0.2, 0.1])
    >>> round(auc, 4), round(low, 4), round(high, 4)
    (0.95, 0.8114, 1.0)
    """
    conf = _check_confidence(confidence)
    method = _check_choice("method", method, _AUC_METHODS)
    x = _one_d("scores_pos", _float_values("scores_pos", scores_pos))
    y = _one_d("scores_neg", _float_values("scores_neg", scores_neg))
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
    z = _z(conf)
    return float(auc), float(max(0.0, auc - z * se)), float(min(1.0, auc + z * se))


def standardized_mean_difference_from_stats(
    mean_a: ArrayLike,
    sd_a: ArrayLike,
    n_a: ArrayLike,
    mean_b: ArrayLike,
    sd_b: ArrayLike,
    n_b: ArrayLike,
) -> NDArray[np.float64]:
    """Cohen's d from per-slice summary statistics (vectorised).

    ``d = (mean_a - mean_b) / s_p`` with pooled SD
    ``s_p = sqrt(((n_a - 1) sd_a^2 + (n_b - 1) sd_b^2) / (n_a + n_b - 2))``;
    ``sd`` is the sample SD (ddof=1, e.g. SQL ``STDDEV_SAMP``) and is ignored
    when its ``n`` is 1 (it may be NaN/NULL there).  NaN when either n is 0,
    ``n_a + n_b < 3`` or ``s_p == 0``.

    >>> standardized_mean_difference_from_stats([1.0, 2.0], [1.0, 0.0], [10, 1],
    ...                                         [0.0, 1.0], [1.0, 0.5], [10, 5]).tolist()
    [1.0, 2.0]
    """
    ma, mb = (np.asarray(v, dtype=np.float64) for v in (mean_a, mean_b))
    sa, sb = (np.asarray(v, dtype=np.float64) for v in (sd_a, sd_b))
    na = _counts("n_a", n_a).astype(np.float64)
    nb = _counts("n_b", n_b).astype(np.float64)
    ma, sa, na, mb, sb, nb = np.broadcast_arrays(ma, sa, na, mb, sb, nb)
    with np.errstate(divide="ignore", invalid="ignore"):
        ssa = np.where(na > 1, (na - 1.0) * sa**2, 0.0)
        ssb = np.where(nb > 1, (nb - 1.0) * sb**2, 0.0)
        sp = np.sqrt((ssa + ssb) / (na + nb - 2.0))
        d = (ma - mb) / sp
    valid = (na > 0) & (nb > 0) & (na + nb > 2) & (sp > 0)
    return np.where(valid, d, np.nan)


def standardized_mean_difference(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d of sample ``a`` versus sample ``b`` (pooled SD, ddof=1).

    See :func:`standardized_mean_difference_from_stats` (which this calls
    with the samples' means, SDs and sizes) for the formula and NaN cases.

    >>> round(standardized_mean_difference([2.0, 4.0, 6.0], [1.0, 2.0, 3.0]), 4)
    1.2649
    """
    x = _one_d("a", _float_values("a", a))
    y = _one_d("b", _float_values("b", b))

    def stats(v: NDArray) -> tuple[float, float]:
        if v.size == 0:
            return float("nan"), float("nan")
        return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else float("nan")

    (ma, sa), (mb, sb) = stats(x), stats(y)
    return float(standardized_mean_difference_from_stats(ma, sa, x.size, mb, sb, y.size))


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
    """Spearman rank correlation and two-sided p-value within every group.

    Rows where ``x`` or ``y`` is NaN are ignored.  Per group: mid-ranks of x
    and y, Pearson correlation of the ranks, and
    ``p = 2 * T_{n-2}.sf(|rho| sqrt((n-2) / ((1+rho)(1-rho))))`` — the same as
    ``scipy.stats.spearmanr`` on that group's rows.  rho and p are NaN for
    groups with fewer than 2 rows or a constant x or y; with 2 rows rho is
    +/-1 and p is NaN (as scipy); ``|rho| == 1`` otherwise gives p = 0.

    >>> rho, p = spearman_per_group([1, 2, 3, 4, 1, 2, 3], [1, 3, 2, 4, 3, 2, 1],
    ...                             [0, 0, 0, 0, 1, 1, 1], 2)
    >>> np.round(rho, 4).tolist(), np.round(p, 4).tolist()
    ([0.8, -1.0], [0.2, 0.0])
    """
    xv = _one_d("x", _float_values("x", x, allow_nan=True))
    yv = _one_d("y", _float_values("y", y, allow_nan=True))
    _check_length("y", yv, "x", xv.shape[0])
    g, n_groups = _group_codes(group_codes, n_groups, xv.shape[0], "x")
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
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (n + 1.0) / 2.0  # mid-ranks always average to (n + 1) / 2
        dx = rx - mean[g]
        dy = ry - mean[g]
        sxy = np.bincount(g, weights=dx * dy, minlength=n_groups)
        sxx = np.bincount(g, weights=dx * dx, minlength=n_groups)
        syy = np.bincount(g, weights=dy * dy, minlength=n_groups)
        r = np.clip(sxy / np.sqrt(sxx * syy), -1.0, 1.0)
        dof = n - 2.0
        t = r * np.sqrt(np.clip(dof / ((r + 1.0) * (1.0 - r)), 0.0, None))
        pv = 2.0 * scipy.special.stdtr(dof, -np.abs(t))
    valid = (n >= 2) & (sxx > 0) & (syy > 0)
    rho[valid] = r[valid]
    pv = np.where(dof > 0, pv, np.nan)
    p[valid] = pv[valid]
    return rho, p
