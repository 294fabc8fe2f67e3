"""SliceLine: exact top-k slice finding for error analysis (Sagadeeva and Boehm, SIGMOD 2021).

A *slice* is a conjunction of predicates ``feature == category`` over categorical features.
SliceLine finds the ``k`` slices that best trade off a high average error against a large size,
by enumerating the lattice of slices level by level (one predicate more per level) and pruning
with size and score upper bounds. Nothing here imports pandas or streamlit.

Scoring (``n`` rows, ``e`` the mean error, a slice with ``|S|`` rows and error sum ``se``, the
paper's ``alpha`` named ``error_weight`` here)::

    score(S) = error_weight * ((se / |S|) / e - 1) - (1 - error_weight) * (n / |S| - 1)

A slice is reported only if ``|S| >= min_support`` and ``score(S) > 0``.

What the paper fixes and this module follows
--------------------------------------------
* The score upper bound of a candidate (the paper's Equation 5) maximises the score over every
  size between ``min_support`` and the candidate's size bound, with the number of **rows** ``n``
  in the size term. (The ``sliceline`` package, DataDome/sliceline 0.3.0, puts the number of
  one-hot columns there: a looser bound when there are fewer columns than rows, and a too tight
  one, which can prune a slice that qualifies, when there are more.)
* Candidates are told apart by **exact** slice ids (integers, in int64 pieces). (The package sums
  a float64 id; from about 15-20 attributes it passes 2**53, distinct candidates share an id and
  the package silently drops them.)
* The search is exact: a candidate is pruned only if neither it nor a refinement can enter the
  result, i.e. its bound is not positive or, once the top-k list holds ``k`` slices, is below the
  k-th best score (a slice tying with it is returned). (The package prunes bounds up to the
  lowest score in the list even before the list holds ``k`` slices, and bounds equal to it, so
  it can return fewer slices than qualify, or miss ties.)

What it shares with the ``sliceline`` package
---------------------------------------------
Where the package follows the paper, this module returns *the same slices* as its
``Slicefinder``, with the same scores, sizes and error sums, in the same order (the parity tests in
``tests/parity/test_sliceline.py`` check it, and reproduce the package's deviations above by
passing its rules to :func:`_find_slices`):

* Categories are the values present in the data (as ``OneHotEncoder`` sees them); a code that no
  row uses does not exist for the algorithm, even if ``feature_cardinalities`` allows it.
* Level-1 slices, and the parents of each next level, must have ``size >= min_support`` and a
  positive error sum.
* Candidates of level ``L`` are joined from pairs of parents sharing ``L - 2`` predicates; a
  candidate is kept only if it was produced by ``L * (L - 1) / 2`` pairs (all its parents are
  present). Its size, error and max-error upper bounds are the minimum over the *first* such
  pair (in the package's pair order).
* Ties: every slice whose score ties with the k-th best is kept (more than ``k`` slices can be
  returned). The result is sorted by score (best first), then by the one-hot vectors
  lexicographically (a slice without the first differing one-hot column comes first).
* Error sums are accumulated row by row in ascending row order, as scipy's sparse product does,
  so scores of real-valued errors are bit-identical and ties resolve identically.

How it is fast
--------------
The package evaluates each lattice level with a sparse product ``X_onehot @ candidates.T``,
whose size is (rows x candidates): time and memory grow with both. Here candidates of one
level are grouped by the tuple of features they constrain; one pass over the rows per group
computes a mixed-radix key, and ``np.bincount`` yields the size and error sum of *every*
category combination of that group at once. Candidate generation works on small integer arrays
(sorted one-hot column indices), not on sparse matrices.

References
----------
.. [1] S. Sagadeeva and M. Boehm, "SliceLine: Fast, Linear-Algebra-based Slice Finding for ML
   Model Debugging", SIGMOD 2021, https://doi.org/10.1145/3448016.3457323
.. [2] DataDome/sliceline 0.3.0 (BSD-3-Clause), https://github.com/DataDome/sliceline
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.slicing.params import check_min_support, support_count

__all__ = ["CellCounter", "Slice", "find_slices", "find_slices_from_counts"]

# --- parameter validation messages (tests assert these exact texts) -----------------------------
INVALID_ERROR_WEIGHT = "Invalid 'error_weight' parameter: expected a float in (0, 1], got {value!r}"
INVALID_K = "Invalid 'k' parameter: expected an integer >= 1, got {value!r}"
INVALID_MAX_ORDER = "Invalid 'max_order' parameter: expected an integer >= 1, got {value!r}"
INVALID_CODES_SHAPE = (
    "Invalid 'codes' parameter: expected a 2-D integer matrix with at least one row and one "
    "column (examples x features), got shape {value}"
)
INVALID_CODES_DTYPE = "Invalid 'codes' parameter: expected integer category codes, got dtype {value}"
INVALID_CODES_RANGE = (
    "Invalid 'codes' parameter: expected codes in 0..{high} for feature {feature}, got {value!r} "
    "in row {row}"
)
INVALID_CODES_NEGATIVE = (
    "Invalid 'codes' parameter: expected codes >= 0, got {value!r} in row {row} of feature {feature}"
)
INVALID_ERRORS_SHAPE = (
    "Invalid 'errors' parameter: expected a 1-D array of {n} floats (one per row of 'codes'), "
    "got shape {value}"
)
INVALID_ERRORS_VALUE = "Invalid 'errors' parameter: expected finite floats >= 0, got {value!r} in row {row}"
INVALID_CARDINALITIES = (
    "Invalid 'feature_cardinalities' parameter: expected {m} integers >= 1 (one per column of "
    "'codes'), got {value!r}"
)

# Dense histograms up to max(_DENSE_BINS_MIN, _DENSE_BINS_PER_ROW * n) bins per feature group
# (else a sorted-key lookup is used).
_DENSE_BINS_MIN = 1 << 16
_DENSE_BINS_PER_ROW = 2
# Largest mixed-radix key kept before it is compacted (keeps keys exact in int64).
_KEY_LIMIT = 1 << 40


@dataclass(frozen=True)
class Slice:
    """A slice: the rows where every ``codes[:, feature] == code`` of :attr:`predicate` holds.

    >>> s = Slice(predicate=((0, 1), (2, 0)), score=0.5, size=40, error_sum=30.0, max_error=1.0)
    >>> s.average_error
    0.75
    """

    predicate: tuple[tuple[int, int], ...]
    """``(feature, code)`` pairs, features ascending: column ``feature`` of ``codes`` equals ``code``."""
    score: float
    """SliceLine score (unitless; > 0 means worse than the whole data set after the size penalty)."""
    size: int
    """Number of rows in the slice."""
    error_sum: float
    """Sum of the slice's errors (its number of errors when errors are 0/1)."""
    max_error: float
    """Largest error in the slice."""

    @property
    def average_error(self) -> float:
        """Mean error of the slice's rows (``error_sum / size``; an error rate in [0, 1] for 0/1 errors).

        >>> Slice(((0, 0),), 1.0, 4, 1.0, 1.0).average_error
        0.25
        """
        return self.error_sum / self.size if self.size else math.nan


# --- validation (the one place parameters are checked) -----------------------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _validate_search(error_weight: Any, k: Any, max_order: Any) -> None:
    """Check SliceLine's own parameters (``min_support`` is checked by :mod:`analysis.slicing.params`)."""
    if not _is_real(error_weight) or not (0 < error_weight <= 1):  # NaN fails the comparison too
        raise ValueError(INVALID_ERROR_WEIGHT.format(value=error_weight))
    if not _is_int(k) or k < 1:
        raise ValueError(INVALID_K.format(value=k))
    if not _is_int(max_order) or max_order < 1:
        raise ValueError(INVALID_MAX_ORDER.format(value=max_order))


def _validate_data(codes: Any, errors: Any,
                   feature_cardinalities: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the data; return codes (intp), errors (float64) and the cardinalities."""
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[0] < 1 or codes.shape[1] < 1:
        raise ValueError(INVALID_CODES_SHAPE.format(value=codes.shape))
    if codes.dtype.kind not in "iub":
        if codes.dtype.kind == "f" and np.all(np.isfinite(codes)) and np.all(codes == np.round(codes)):
            pass  # integral floats (e.g. from a float matrix) are accepted
        else:
            raise ValueError(INVALID_CODES_DTYPE.format(value=codes.dtype))
    n, m = codes.shape
    codes = codes.astype(np.intp, copy=False)

    errors = np.asarray(errors)
    if errors.ndim != 1 or errors.shape[0] != n:
        raise ValueError(INVALID_ERRORS_SHAPE.format(n=n, value=errors.shape))
    try:
        errors = errors.astype(np.float64, copy=False)
    except (TypeError, ValueError):
        for row, value in enumerate(errors.tolist()):
            try:
                float(value)
            except (TypeError, ValueError):
                raise ValueError(INVALID_ERRORS_VALUE.format(value=value, row=row)) from None
        raise
    bad = ~(np.isfinite(errors) & (errors >= 0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(INVALID_ERRORS_VALUE.format(value=float(errors[row]), row=row))

    if feature_cardinalities is None:
        lows = codes.min(axis=0)
        if (lows < 0).any():
            f = int(np.flatnonzero(lows < 0)[0])
            row = int(np.argmin(codes[:, f]))
            raise ValueError(INVALID_CODES_NEGATIVE.format(feature=f, value=int(codes[row, f]), row=row))
        cards = codes.max(axis=0) + 1
    else:
        try:
            cards_list = list(feature_cardinalities)
        except TypeError:
            raise ValueError(INVALID_CARDINALITIES.format(m=m, value=feature_cardinalities)) from None
        if len(cards_list) != m or not all(_is_int(c) and c >= 1 for c in cards_list):
            raise ValueError(INVALID_CARDINALITIES.format(m=m, value=feature_cardinalities))
        cards = np.asarray(cards_list, dtype=np.intp)
        out = (codes < 0) | (codes >= cards)
        if out.any():
            row, f = (int(x) for x in np.argwhere(out)[0])
            raise ValueError(INVALID_CODES_RANGE.format(high=int(cards[f]) - 1, feature=f,
                                                        value=int(codes[row, f]), row=row))
    return codes, errors, cards


# --- public API --------------------------------------------------------------------------------

def find_slices(codes: np.ndarray, errors: np.ndarray, *, error_weight: float = 0.6, k: int = 1,
                max_order: int = 3, min_support: int | float = 10,
                feature_cardinalities: Sequence[int] | None = None) -> list[Slice]:
    """Find the top-k slices of a data set with SliceLine, as the paper defines them.

    Parameters
    ----------
    codes : array of int, shape (n, m)
        ``codes[i, j]`` is example ``i``'s category of feature ``j``, in ``0..card_j - 1`` (the
        caller has already encoded categories, 'missing' included as a code of its own).
        Integral floats are accepted.
    errors : array of float, shape (n,)
        Each example's error, finite and >= 0 (1.0 wrong and 0.0 right, or a real-valued loss).
    error_weight : float, default 0.6
        The paper's ``alpha``, in (0, 1]: the weight of the slice's average error against its
        size in the score (1.0 ignores the size).
    k : int, default 1
        Number of slices (>= 1); every slice whose score ties with the k-th best is returned too.
    max_order : int, default 3
        Most predicates per slice (>= 1; the paper's ``L``).
    min_support : int or float, default 10
        Least rows per slice: a count (an integer >= 1) or a fraction of the ``n`` rows (a number
        in (0, 1), converted to ``int(min_support * n)``, at least 1).
    feature_cardinalities : sequence of m int, optional
        Number of categories of each feature; when given, codes are checked against it.

    Returns
    -------
    list of Slice
        The top-k slices with a positive score and at least ``min_support`` rows, best score
        first (ties in the package's one-hot order); empty when no slice qualifies.

    Raises
    ------
    ValueError
        A parameter or the data out of range; the message names the parameter, the expected
        value and the value received (texts in this module's ``INVALID_*`` constants).
    analysis.slicing.params.ParameterError
        ``min_support`` invalid (a ``ValueError`` too; text ``MSG_MIN_SUPPORT``).

    References
    ----------
    .. [1] S. Sagadeeva and M. Boehm, "SliceLine: Fast, Linear-Algebra-based Slice Finding for
       ML Model Debugging", SIGMOD 2021, https://doi.org/10.1145/3448016.3457323

    Examples
    --------
    >>> codes = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5)
    >>> errors = np.array([1.0, 0.0, 0.0, 0.0] * 5)
    >>> [s.predicate for s in find_slices(codes, errors, error_weight=0.95, k=2, min_support=2)]
    [((0, 0), (1, 0)), ((1, 0),), ((0, 0),)]
    >>> top = find_slices(codes, errors, error_weight=0.95, k=1, min_support=2)[0]
    >>> top.size, top.error_sum, top.average_error, round(top.score, 6)
    (5, 5.0, 1.0, 2.7)
    """
    _validate_search(error_weight, k, max_order)
    check_min_support(min_support)
    codes, errors, _ = _validate_data(codes, errors, feature_cardinalities)
    min_count = support_count(min_support, codes.shape[0])
    return _find_slices(codes, errors, float(error_weight), int(k), int(max_order), min_count)


# --- the algorithm -----------------------------------------------------------------------------

class _Data:
    """The input re-encoded on the categories present, as the package's one-hot columns."""

    def __init__(self, codes: np.ndarray, errors: np.ndarray):
        n, m = codes.shape
        self.n, self.m = n, m
        self.errors = errors
        self.codes = []  # per feature: compact codes (intp), contiguous
        dom, col_code, sizes, err_sums, maxes = [], [], [], [], []
        for f in range(m):
            column = codes[:, f]
            if int(column.max()) < 4 * n + 1024:
                counts = np.bincount(column)
                present = np.flatnonzero(counts)
                counts = counts[present]
                if present.size == column.max() + 1:
                    compact = np.ascontiguousarray(column)
                else:
                    remap = np.zeros(int(column.max()) + 1, dtype=np.intp)
                    remap[present] = np.arange(present.size)
                    compact = remap[column]
            else:  # sparse codes: do not allocate a bin per possible code
                present, compact, counts = np.unique(column, return_inverse=True, return_counts=True)
                compact = compact.reshape(-1).astype(np.intp)
            self.codes.append(compact)
            dom.append(present.size)
            col_code.append(present)
            sizes.append(counts)
            # weighted bincount adds row by row, in row order, like scipy's sparse product
            err_sums.append(np.bincount(compact, weights=errors, minlength=present.size))
            mx = np.zeros(present.size)
            np.maximum.at(mx, compact, errors)
            maxes.append(mx)
        self._columns(dom, col_code, sizes, err_sums, maxes)
        # with 0/1 errors a slice's max error is 1 exactly when its error sum is positive
        self.binary = bool(np.all((errors == 0.0) | (errors == 1.0)))

    def _columns(self, dom, col_code, sizes, err_sums, maxes) -> None:
        """The one-hot columns from each feature's present categories (ascending caller codes) and their
        sizes, error sums and max errors; the exact slice-id weights."""
        m = self.m
        self.dom = np.asarray(dom, dtype=np.intp)  # categories per feature
        self.offset = np.concatenate([[0], np.cumsum(self.dom)[:-1]]).astype(np.intp)
        self.ncol = int(self.dom.sum())
        self.col_feature = np.repeat(np.arange(m, dtype=np.intp), self.dom)
        self.col_local = np.arange(self.ncol, dtype=np.intp) - self.offset[self.col_feature]
        self.col_code = np.concatenate(col_code).astype(np.intp)  # caller's code of each column
        self.col_size = np.concatenate(sizes).astype(np.float64)
        self.col_err = np.concatenate(err_sums)
        self.col_max = np.concatenate(maxes)
        # A slice's id is sum((local code + 1) * prod(dom[g] + 1 for g > f)) over its columns: a
        # mixed-radix number, kept exact in int64 pieces. Consecutive features form segments whose
        # value stays below 2**62; segment 0 (the first features) is most significant.
        segment_of = np.zeros(m, dtype=np.intp)
        weight = np.ones(m, dtype=np.int64)
        seg, radix = 0, 1
        for f in range(m - 1, -1, -1):
            if radix * (int(self.dom[f]) + 1) >= 1 << 62:
                seg, radix = seg + 1, 1
            segment_of[f], weight[f] = seg, radix
            radix *= int(self.dom[f]) + 1
        self.n_segments = seg + 1
        self.col_segment = (seg - segment_of)[self.col_feature]
        self.col_weight = weight[self.col_feature]

    def max_error(self, cols: tuple[int, ...], error_sum: float) -> float:
        """Largest error in the slice of these one-hot columns (0.0 for an empty slice)."""
        mask = np.ones(self.n, dtype=bool)
        for c in cols:
            mask &= self.codes[self.col_feature[c]] == self.col_local[c]
        return float(self.errors[mask].max()) if mask.any() else 0.0

    def evaluate(self, cols: np.ndarray, need_max: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sizes, error sums and (if asked) max errors of candidate slices.

        cols: (c, L) sorted one-hot column indices. One pass over the rows per distinct tuple of
        features; every candidate of that tuple is read from one histogram.
        """
        c, L = cols.shape
        sizes = np.zeros(c, dtype=np.float64)
        errs = np.zeros(c, dtype=np.float64)
        maxes = np.zeros(c, dtype=np.float64) if need_max else None
        if c == 0:
            return sizes, errs, maxes
        feats = self.col_feature[cols]
        local = self.col_local[cols]
        order = np.lexsort(feats.T[::-1])
        fs = feats[order]
        change = np.flatnonzero(np.any(fs[1:] != fs[:-1], axis=1)) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [c]])
        errors = self.errors
        prefix_feats: tuple[int, ...] | None = None
        prefix_key = prefix_radix = None
        for s, e in zip(starts.tolist(), ends.tolist()):
            idx = order[s:e]
            group = tuple(fs[s].tolist())
            # row keys: mixed radix over the group's features; the first L-1 are cached
            if group[:-1] != prefix_feats:
                prefix_feats = group[:-1]
                prefix_key, prefix_radix = self._keys(prefix_feats)
            key, radix = self._extend(prefix_key, prefix_radix, group[-1])
            cand_key = self._cand_keys(local[idx], group, radix)
            found = cand_key >= 0  # False: a combination no row has (its key was compacted away)
            idx, cand_key = idx[found], cand_key[found]
            total = radix[-1][0]
            if total <= max(_DENSE_BINS_MIN, _DENSE_BINS_PER_ROW * self.n):
                # a histogram of every combination; bincount adds in row order (as scipy does)
                sizes[idx] = np.bincount(key, minlength=total)[cand_key]
                errs[idx] = np.bincount(key, weights=errors, minlength=total)[cand_key]
                if need_max:
                    mx = np.zeros(total)
                    np.maximum.at(mx, key, errors)
                    maxes[idx] = mx[cand_key]
            else:
                # too many combinations: find each row's candidate (if any) in the sorted keys
                order_k = np.argsort(cand_key)
                sorted_keys = cand_key[order_k]
                pos = np.minimum(np.searchsorted(sorted_keys, key), sorted_keys.size - 1)
                hit = sorted_keys[pos] == key
                pos = pos[hit]
                target = idx[order_k]
                sizes[target] = np.bincount(pos, minlength=sorted_keys.size)
                errs[target] = np.bincount(pos, weights=errors[hit], minlength=sorted_keys.size)
                if need_max:
                    mx = np.zeros(sorted_keys.size)
                    np.maximum.at(mx, pos, errors[hit])
                    maxes[target] = mx
        return sizes, errs, maxes

    # Row keys are exact int64 mixed-radix numbers. When the radix product would grow past
    # _KEY_LIMIT the key is compacted to the ranks of its distinct values (then radix[-1][1] is
    # the sorted distinct values so candidate keys can be mapped the same way).
    def _keys(self, feats: tuple[int, ...]):
        key = None
        radix: list = []
        for f in feats:
            key, radix = self._extend(key, radix, f)
        return key, radix

    def _extend(self, key, radix, f):
        d = int(self.dom[f])
        if key is None:
            return self.codes[f], [(d, None, f)]
        total, uniq, _ = radix[-1]
        if total * d > _KEY_LIMIT:
            uniq, key = np.unique(key, return_inverse=True)
            key = key.reshape(-1)
            total = uniq.size
            radix = radix[:-1] + [(total, uniq, radix[-1][2])]
        return key * d + self.codes[f], radix + [(total * d, None, f)]

    def _cand_keys(self, local: np.ndarray, group: tuple[int, ...], radix) -> np.ndarray:
        """Candidate keys in the same mixed radix as the rows' (-1 where no row can match)."""
        ck = local[:, 0].astype(np.int64)
        valid = np.ones(ck.size, dtype=bool)
        for pos in range(1, len(group)):
            total_prev, uniq_prev, _ = radix[pos - 1]
            if uniq_prev is not None:  # the rows' key was compacted here
                p = np.searchsorted(uniq_prev, ck)
                p_c = np.minimum(p, uniq_prev.size - 1)
                valid &= uniq_prev[p_c] == ck
                ck = p_c.astype(np.int64)
            ck = ck * int(self.dom[group[pos]]) + local[:, pos]
        return np.where(valid, ck, -1)


#: Counts of the cells of grouping sets: given feature tuples (features ascending), for each tuple the codes of
#: its occupied cells (int array, shape (cells, len(tuple))), their sizes and their error counts (shape (cells,)).
CellCounter = Callable[[list[tuple[int, ...]]], dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]]]


class _CountedData(_Data):
    """The search's view of a data set known only by counts: one call of ``count`` per lattice level (a grouping
    statement over the rows wherever they are), no row in memory. Errors are 0/1 (an error count per cell)."""

    def __init__(self, count: CellCounter, n: int, m: int):
        self.n, self.m = n, m
        self.count = count
        self.binary = True
        singles = count([(f,) for f in range(m)])
        dom, col_code, sizes, err_sums, maxes = [], [], [], [], []
        for f in range(m):
            codes, size, err = singles[(f,)]
            order = np.argsort(codes[:, 0], kind="stable")
            present = codes[order, 0].astype(np.intp)
            size, err = np.asarray(size, np.float64)[order], np.asarray(err, np.float64)[order]
            keep = size > 0
            dom.append(int(keep.sum()))
            col_code.append(present[keep])
            sizes.append(size[keep])
            err_sums.append(err[keep])
            maxes.append((err[keep] > 0).astype(np.float64))
        self._columns(dom, col_code, sizes, err_sums, maxes)

    def max_error(self, cols: tuple[int, ...], error_sum: float) -> float:
        return 1.0 if error_sum > 0 else 0.0

    def evaluate(self, cols: np.ndarray, need_max: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c = cols.shape[0]
        sizes = np.zeros(c, dtype=np.float64)
        errs = np.zeros(c, dtype=np.float64)
        if c == 0:
            return sizes, errs, (np.zeros(c) if need_max else None)
        feats = self.col_feature[cols]
        codes = self.col_code[cols].astype(np.int64)
        groups, inverse = np.unique(feats, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        tuples = [tuple(int(f) for f in g) for g in groups.tolist()]
        counted = self.count(tuples)
        for g, group in enumerate(tuples):
            idx = np.flatnonzero(inverse == g)
            cell_codes, cell_size, cell_err = counted.get(group, (np.zeros((0, len(group)), np.int64), [], []))
            radix = [int(max(self.col_code[self.col_feature == f].max(), cell_codes[:, j].max(initial=0))) + 1
                     for j, f in enumerate(group)]
            cell_key = _mixed_radix(np.asarray(cell_codes, np.int64).reshape(-1, len(group)), radix)
            cand_key = _mixed_radix(codes[idx], radix)
            order = np.argsort(cell_key, kind="stable")
            sorted_keys = cell_key[order]
            pos = np.minimum(np.searchsorted(sorted_keys, cand_key), max(sorted_keys.size - 1, 0))
            hit = (sorted_keys[pos] == cand_key) if sorted_keys.size else np.zeros(idx.size, dtype=bool)
            sizes[idx[hit]] = np.asarray(cell_size, np.float64)[order][pos[hit]]
            errs[idx[hit]] = np.asarray(cell_err, np.float64)[order][pos[hit]]
        return sizes, errs, ((errs > 0).astype(np.float64) if need_max else None)


def _mixed_radix(codes: np.ndarray, radix: list[int]) -> np.ndarray:
    """One integer per row of ``codes`` (shape (r, L)): the mixed-radix number of its codes (Python ints past int64)."""
    total = 1
    for r in radix:
        total *= r
    if total < 1 << 62:
        key = np.zeros(codes.shape[0], dtype=np.int64)
        for j, r in enumerate(radix):
            key = key * r + codes[:, j]
        return key
    key = np.zeros(codes.shape[0], dtype=object)
    for j, r in enumerate(radix):
        key = key * r + codes[:, j].astype(object)
    return key


def find_slices_from_counts(count: CellCounter, *, n: int, error_sum: int, n_features: int,
                            error_weight: float = 0.6, k: int = 1, max_order: int = 3,
                            min_support: int | float = 10) -> list[Slice]:
    """:func:`find_slices` for 0/1 errors on a data set known by counts: each lattice level is evaluated by one call
    of ``count`` (a grouping statement where the rows are), so no row is read into memory.

    The search is :func:`find_slices`'s, step for step, on the same numbers: the sizes and error counts of every
    candidate slice are integers, whatever computed them, so the slices, scores and order are the same as
    :func:`find_slices` on the rows (a test compares them on the demo).

    Parameters
    ----------
    count : callable
        ``count(tuples)``: for each tuple of features (ascending), its occupied cells' codes (int, shape
        (cells, len(tuple)); a feature's codes are non-negative integers), sizes and error counts. Called with the
        single features first, then once per level with the candidates' tuples.
    n : int
        Number of rows (>= 1).
    error_sum : int
        Number of rows with an error (their mean error is ``error_sum / n``).
    n_features : int
        Number of features (>= 1).
    error_weight, k, max_order, min_support
        As :func:`find_slices`.

    Returns
    -------
    list of Slice
        As :func:`find_slices` (``max_error`` 1.0: every returned slice holds an error).

    Raises
    ------
    ValueError
        A parameter out of range (texts in this module's ``INVALID_*`` constants; ``n`` and ``n_features`` as
        ``INVALID_CODES_SHAPE``).
    analysis.slicing.params.ParameterError
        ``min_support`` invalid.

    Examples
    --------
    >>> codes = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5)
    >>> errors = np.array([1, 0, 0, 0] * 5)
    >>> def count(tuples):
    ...     out = {}
    ...     for t in tuples:
    ...         cells, inverse = np.unique(codes[:, list(t)], axis=0, return_inverse=True)
    ...         inverse = inverse.reshape(-1)
    ...         out[t] = cells, np.bincount(inverse), np.bincount(inverse, weights=errors)
    ...     return out
    >>> [s.predicate for s in find_slices_from_counts(count, n=20, error_sum=5, n_features=2, error_weight=0.95,
    ...                                               k=2, min_support=2)]
    [((0, 0), (1, 0)), ((1, 0),), ((0, 0),)]
    """
    _validate_search(error_weight, k, max_order)
    check_min_support(min_support)
    if not _is_int(n) or n < 1 or not _is_int(n_features) or n_features < 1:
        raise ValueError(INVALID_CODES_SHAPE.format(value=(n, n_features)))
    min_count = support_count(min_support, int(n))
    data = _CountedData(count, int(n), int(n_features))
    return _search(data, float(error_sum) / int(n), float(error_weight), int(k), int(max_order), min_count)


def _score(sizes: np.ndarray, errs: np.ndarray, n: int, alpha: float, avg: float) -> np.ndarray:
    """The slice score (paper Eq. 2; ``alpha`` is the error weight), operation for operation as the
    package computes it (bit-identical)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = alpha * ((errs / sizes) / avg - 1.0) - (1.0 - alpha) * (n / sizes - 1.0)
    out[sizes <= 0] = -np.inf
    return out


def _score_ub(sizes: np.ndarray, errs: np.ndarray, maxes: np.ndarray, population: int, min_sup: float,
              alpha: float, avg: float) -> np.ndarray:
    """The score upper bound of candidates (paper Eq. 5), operation for operation as the package's
    numba kernel computes it.

    sizes, errs, maxes: upper bounds of each candidate's size, error sum and max error.
    population: the ``n`` of the score's size term, the number of rows (the package passes its
    number of one-hot columns instead). The bound is the best score over the candidate sizes
    ``min_sup``, ``errs / maxes`` and ``sizes``.
    """
    ms = float(min_sup)
    best = np.full(sizes.shape, -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        pot2 = np.where(maxes > 0, np.maximum(errs / maxes, ms), ms)
        for pot in (np.full(sizes.shape, ms), pot2, sizes):
            sc = (alpha * (np.minimum(pot * maxes, errs) / avg - pot)
                  - (1.0 - alpha) * (population - pot)) / pot
            better = (pot > 0) & (sc > best)
            best = np.where(better, sc, best)
    return best


# Parent pairs are generated and reduced in chunks of about this many pairs (bounded memory).
_PAIR_CHUNK = 1 << 21


def _memberships(parents: np.ndarray):
    """Each parent once per column it can leave out, grouped by the columns it keeps.

    Two parents of width w join when they share w - 1 columns; they then meet in exactly one
    group (the shared columns). Returns, sorted by group and then by parent index: the parent
    index, the left-out column, the kept columns, and how many later members its group has.
    """
    p, width = parents.shape
    member = np.tile(np.arange(p, dtype=np.intp), width)
    other = parents.T.reshape(-1)
    shared = np.concatenate([np.delete(parents, r, axis=1) for r in range(width)], axis=0)
    order = np.lexsort([member] + [shared[:, c] for c in range(width - 2, -1, -1)])
    member, other, shared = member[order], other[order], shared[order]
    if width > 1:
        boundary = np.concatenate([[True], np.any(shared[1:] != shared[:-1], axis=1)])
    else:  # level 2: one group, every parent
        boundary = np.zeros(member.size, dtype=bool)
        boundary[:1] = True
    group_start = np.maximum.accumulate(np.where(boundary, np.arange(member.size), 0))
    group_id = np.cumsum(boundary) - 1
    group_end = group_start + np.bincount(group_id)[group_id]
    later = group_end - np.arange(member.size) - 1
    return member, other, shared, later


def _reduce(keys: list[np.ndarray], count: np.ndarray, first: np.ndarray):
    """Group rows by equal keys (most significant key first), in ascending key order: the keys,
    the summed counts and the smallest ``first`` of each group."""
    if len(keys) == 1:
        order = np.argsort(keys[0], kind="stable")
    else:
        order = np.lexsort(keys[::-1])
    keys = [key[order] for key in keys]
    change = np.zeros(order.size, dtype=bool)
    change[:1] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    starts = np.flatnonzero(change)
    return ([key[starts] for key in keys], np.add.reduceat(count[order], starts),
            np.minimum.reduceat(first[order], starts))


class _Rules:
    """The paper's rules at the three places where the ``sliceline`` package departs from them.

    The parity tests subclass this with the package's rules (``tests/parity/sliceline_package.py``)
    to show that everything else in the search is the package's algorithm.
    """

    def population(self, data: _Data) -> int:
        """The ``n`` of the score upper bound's size term: the number of rows (paper Eq. 5)."""
        return data.n

    def id_keys(self, data: _Data, union: np.ndarray) -> list[np.ndarray]:
        """The exact slice ids of candidate unions (sorted one-hot columns), as sort keys.

        The id ``sum((local code + 1) * prod(dom[g] + 1 for later features g))`` in int64 pieces,
        most significant first: two candidates share their keys only if they are the same slice.
        """
        value = (data.col_local[union] + 1)
        segment = data.col_segment[union]
        term = value * data.col_weight[union]
        return [np.where(segment == g, term, 0).sum(axis=1) for g in range(data.n_segments)]

    def keep(self, ub: np.ndarray, threshold: float, full: bool) -> np.ndarray:
        """Candidates whose score upper bound ``ub`` lets them, or a refinement, enter the result.

        threshold: the lowest score in the top-k list; full: the list holds ``k`` slices or more.
        Until the list is full any positive score enters; then a score tying with the k-th best
        still does (ties are returned), so only bounds below it are pruned. This keeps the search
        exact: a refinement's score is at most its parent's bound.
        """
        return (ub >= threshold) & (ub > 0) if full else ub > 0


_PAPER = _Rules()


def _join_candidates(data: _Data, parents: np.ndarray, p_size: np.ndarray, p_err: np.ndarray,
                     p_max: np.ndarray, level: int, threshold: float, min_sup: float, alpha: float,
                     avg: float, *, full: bool = True, rules: _Rules = _PAPER) -> np.ndarray:
    """Candidates of ``level`` from its parents, after the size and score-bound pruning.

    parents: (p, level - 1) sorted one-hot columns in the package's order, with their sizes,
    error sums and max errors. threshold: the lowest score in the top-k list (-inf if empty); full:
    whether that list holds k slices. rules: the paper's (tests pass the package's).
    Returns (c, level) sorted one-hot columns, in the package's order (ascending slice id).

    The package joins every pair of parents (i < j) sharing level - 2 columns whose other two
    columns are of different features, groups the pairs by slice id, keeps ids reached by
    level * (level - 1) / 2 pairs, and takes the first pair of each (row-major order) for the
    upper bounds. Here pairs are made chunk by chunk and reduced to (id, pair count, first pair).
    """
    p = parents.shape[0]
    empty = np.zeros((0, level), dtype=np.intp)
    if p < 2:
        return empty
    member, other, shared, later = _memberships(parents)
    ends = np.cumsum(later)
    parts: list[tuple[list[np.ndarray], np.ndarray, np.ndarray]] = []
    lo = 0
    while lo < member.size:
        hi = int(np.searchsorted(ends, (ends[lo - 1] if lo else 0) + _PAIR_CHUNK, side="right"))
        hi = max(hi, lo + 1)
        n_pairs = later[lo:hi]
        total = int(n_pairs.sum())
        if total:
            a = np.repeat(np.arange(lo, hi), n_pairs)
            b = a + 1 + (np.arange(total) - np.repeat(np.cumsum(n_pairs) - n_pairs, n_pairs))
            ok = data.col_feature[other[a]] != data.col_feature[other[b]]  # no 2 columns of 1 feature
            a, b = a[ok], b[ok]
            if a.size:
                union = np.column_stack([shared[a], other[a], other[b]])
                union.sort(axis=1)
                pair = member[a].astype(np.int64) * p + member[b]  # row-major rank of (i, j), i < j
                parts.append(_reduce(rules.id_keys(data, union), np.ones(a.size, np.int64), pair))
        lo = hi
    if not parts:
        return empty
    if len(parts) == 1:
        _, count, first = parts[0]
    else:
        keys = [np.concatenate([part[0][g] for part in parts]) for g in range(len(parts[0][0]))]
        _, count, first = _reduce(keys, np.concatenate([part[1] for part in parts]),
                                  np.concatenate([part[2] for part in parts]))
    first = first[count == level * (level - 1) // 2]  # every parent pair present
    i, j = first // p, first % p
    cand = np.concatenate([parents[i], parents[j]], axis=1)
    cand.sort(axis=1)
    keep = np.ones(cand.shape, dtype=bool)
    keep[:, 1:] = cand[:, 1:] != cand[:, :-1]
    cand = cand[keep].reshape(-1, level)  # the union: each shared column once
    ub_size = np.minimum(p_size[i], p_size[j])
    ub_err = np.minimum(p_err[i], p_err[j])
    ub_max = np.minimum(p_max[i], p_max[j])
    ub = _score_ub(ub_size, ub_err, ub_max, rules.population(data), min_sup, alpha, avg)
    return cand[rules.keep(ub, threshold, full) & (ub_size >= min_sup)]


def _find_slices(codes: np.ndarray, errors: np.ndarray, alpha: float, k: int, max_l: int,
                 min_sup: float, *, rules: _Rules = _PAPER) -> list[Slice]:
    """SliceLine on validated input (``alpha`` the error weight, ``max_l`` the most predicates,
    ``min_sup`` a row count).

    ``rules``: the paper's (rows in the score bound, exact ids, exact pruning); the parity tests
    pass the ``sliceline`` package's to show the rest is the package's algorithm.
    """
    return _search(_Data(codes, errors), float(np.mean(errors)), alpha, k, max_l, min_sup, rules=rules)


def _search(data: _Data, avg: float, alpha: float, k: int, max_l: int, min_sup: float, *,
            rules: _Rules = _PAPER) -> list[Slice]:
    """The level-wise search over ``data`` (rows in memory, or counts from a grouping statement); ``avg`` the
    mean error of every row."""
    n, m = data.n, data.m
    last_level = min(m, max_l)

    # level 1: one-hot columns
    sizes, errs = data.col_size, data.col_err
    keep = (sizes >= min_sup) & (errs > 0)
    parents = np.flatnonzero(keep).astype(np.intp).reshape(-1, 1)
    p_size, p_err = sizes[keep], errs[keep]
    p_max = data.col_max[keep]
    p_score = _score(p_size, p_err, n, alpha, avg)

    top = _TopK(k, min_sup)
    top.add(parents, p_score, p_err, p_size)

    level = 1
    while parents.shape[0] > 0 and level < last_level:
        level += 1
        if level > 2:  # the evaluated candidates of the previous level, minus invalid ones
            keep = (p_size >= min_sup) & (p_err > 0)
            parents, p_size, p_err, p_max = parents[keep], p_size[keep], p_err[keep], p_max[keep]
        cand = _join_candidates(data, parents, p_size, p_err, p_max, level, top.min_score(),
                                min_sup, alpha, avg, full=top.full(), rules=rules)
        if cand.shape[0] == 0:
            break
        need_max = level < last_level and not data.binary
        c_size, c_err, c_max = data.evaluate(cand, need_max)
        if data.binary:
            c_max = (c_err > 0).astype(np.float64)
        c_score = _score(c_size, c_err, n, alpha, avg)
        top.add(cand, c_score, c_err, c_size)
        parents, p_size, p_err, p_max = cand, c_size, c_err, c_max

    return top.result(data)


class _TopK:
    """The package's top-k list: all slices whose score ties with or beats the k-th best."""

    def __init__(self, k: int, min_sup: float):
        self.k = k
        self.min_sup = min_sup
        self.cols: list[tuple[int, ...]] = []
        self.score = np.zeros(0)
        self.err = np.zeros(0)
        self.size = np.zeros(0)

    def full(self) -> bool:
        return len(self.cols) >= self.k

    def min_score(self) -> float:
        return float(self.score.min()) if self.score.size else -np.inf

    def add(self, cols: np.ndarray, score: np.ndarray, err: np.ndarray, size: np.ndarray) -> None:
        valid = (size >= self.min_sup) & (score > 0)
        if not valid.any():
            return
        sel = np.flatnonzero(valid)
        if sel.size > self.k:  # keep only what can enter: scores >= the k-th best of the level
            kth = np.partition(score[sel], sel.size - self.k)[sel.size - self.k]
            sel = sel[score[sel] >= kth]
        all_score = np.concatenate([self.score, score[sel]])
        all_err = np.concatenate([self.err, err[sel]])
        all_size = np.concatenate([self.size, size[sel]])
        all_cols = self.cols + [tuple(r) for r in cols[sel].tolist()]
        if all_score.size > self.k:
            kth = np.partition(all_score, all_score.size - self.k)[all_score.size - self.k]
            keep = np.flatnonzero(all_score >= kth)  # == rankdata(-score, "min") <= k
        else:
            keep = np.arange(all_score.size)
        self.score, self.err, self.size = all_score[keep], all_err[keep], all_size[keep]
        self.cols = [all_cols[x] for x in keep.tolist()]

    def result(self, data: _Data) -> list[Slice]:
        if not self.cols:
            return []
        dense = np.zeros((len(self.cols), data.ncol), dtype=bool)
        for r, cols in enumerate(self.cols):
            dense[r, list(cols)] = True
        # the package's order: score descending, then one-hot vectors ascending (False < True)
        order = np.lexsort(tuple(dense[:, c] for c in range(data.ncol))[::-1] + (-self.score,))
        return [
            Slice(
                predicate=tuple((int(data.col_feature[c]), int(data.col_code[c]))
                                for c in self.cols[x]),
                score=float(self.score[x]),
                size=int(self.size[x]),
                error_sum=float(self.err[x]),
                max_error=data.max_error(self.cols[x], float(self.err[x])),
            )
            for x in order.tolist()
        ]
