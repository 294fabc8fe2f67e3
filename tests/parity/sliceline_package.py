"""The ``sliceline`` package's SliceLine (DataDome/sliceline 0.3.0), reproduced for the parity tests.

Production (:mod:`analysis.slicing.sliceline`) follows the paper. The package deviates from it in
three places; :class:`PackageRules` passes the package's rules to the production search, so the
rest of the algorithm is shown equal to the package's on every case:

* the score upper bound has the number of one-hot columns where the paper has the number of
  rows;
* candidates are told apart by a float64 slice id
  ``sum((category + 1) * prod(domain + 1 of later features))`` accumulated column by column in
  ascending column order; past 2**53 distinct candidates can share an id, and the package then
  counts them as one candidate with too many parent pairs and drops them;
* candidates are pruned when their bound is at most the lowest score in the top-k list, even
  before that list holds ``k`` slices.

It also answers in ``Slicefinder``'s layout from raw values (:func:`sliceline_compatible`), with
the package's parameter names and its ``min_sup`` (0 allowed; a float in (0, 1) is
``int(min_sup * n)`` rows).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from analysis.slicing import sliceline as SL

INVALID_X_SHAPE = (
    "Invalid 'X' parameter: expected a 2-D matrix with at least one row and one column "
    "(examples x features), got shape {value}"
)


class PackageRules(SL._Rules):
    """The ``sliceline`` package's rules where it departs from the paper."""

    def population(self, data: SL._Data) -> int:
        return data.ncol  # one-hot columns, where the paper has rows

    def id_keys(self, data: SL._Data, union: np.ndarray) -> list[np.ndarray]:
        return package_id_keys(data, union)

    def keep(self, ub: np.ndarray, threshold: float, full: bool) -> np.ndarray:
        return (ub > threshold) & (ub > 0)  # whether or not the top-k list is full


PACKAGE = PackageRules()


def package_id_keys(data: SL._Data, union: np.ndarray) -> list[np.ndarray]:
    """The package's float64 slice ids of candidate unions, summed in ascending column order."""
    dom1 = [float(d) + 1.0 for d in data.dom]
    mult = []
    for f in range(data.m):
        x = 1.0
        for g in range(f + 1, data.m):
            x *= dom1[g]
        mult.append(x)
    col_mult = np.asarray(mult, dtype=np.float64)[data.col_feature]
    terms = (data.col_local[union] + 1).astype(np.float64) * col_mult[union]
    ids = terms[:, 0].copy()
    for c in range(1, union.shape[1]):
        ids += terms[:, c]
    return [ids]


def find_slices_package(codes: Any, errors: Any, *, alpha: float = 0.6, k: int = 1, max_l: int = 3,
                        min_sup: int | float = 10, feature_cardinalities=None) -> list[SL.Slice]:
    """:func:`analysis.slicing.sliceline.find_slices` with the package's two deviations and names."""
    SL._validate_search(alpha, k, max_l)
    codes, errors, _ = SL._validate_data(codes, errors, feature_cardinalities)
    min_count = int(min_sup * codes.shape[0]) if 0 < min_sup < 1 else min_sup
    return SL._find_slices(codes, errors, float(alpha), int(k), int(max_l), min_count, rules=PACKAGE)


def sliceline_compatible(X: Any, errors: Any, *, alpha: float = 0.6, k: int = 1, max_l: int = 4,
                         min_sup: int | float = 10) -> tuple[np.ndarray, list[dict[str, float]]]:
    """The package's answer on raw values, in ``Slicefinder``'s layout.

    X is any (n, m) matrix of category values (numbers or strings); each column's categories are
    its sorted distinct values, as ``OneHotEncoder`` makes them. Returns ``(top_slices,
    statistics)`` shaped like ``Slicefinder.top_slices_`` (an object matrix holding the value of
    each constrained feature and ``None`` elsewhere) and ``Slicefinder.top_slices_statistics_``.
    The default ``max_l=4`` is the package's.

    >>> X = np.array([["a", "x"], ["a", "y"], ["b", "x"], ["b", "y"]] * 5, dtype=object)
    >>> top, stats = sliceline_compatible(X, [1.0, 0.0, 0.0, 0.0] * 5, alpha=0.95, k=1, min_sup=2)
    >>> top
    array([['a', 'x']], dtype=object)
    >>> stats[0]["slice_size"], stats[0]["slice_average_error"]
    (5.0, 1.0)
    """
    codes, categories = encode_values(X)
    slices = find_slices_package(codes, errors, alpha=alpha, k=k, max_l=max_l, min_sup=min_sup)
    return as_package_layout(slices, categories)


def paper_compatible(X: Any, errors: Any, *, alpha: float = 0.6, k: int = 1, max_l: int = 4,
                     min_sup: int | float = 10) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Production's :func:`~analysis.slicing.sliceline.find_slices` in the layout of
    :func:`sliceline_compatible` (the package's parameters, renamed)."""
    codes, categories = encode_values(X)
    slices = SL.find_slices(codes, errors, error_weight=alpha, k=k, max_order=max_l, min_support=min_sup)
    return as_package_layout(slices, categories)


def encode_values(X: Any) -> tuple[np.ndarray, list[np.ndarray]]:
    """Codes (n, m) of a matrix of raw values, as ``OneHotEncoder`` orders categories (sorted)."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(INVALID_X_SHAPE.format(value=X.shape))
    categories = []
    codes = np.empty(X.shape, dtype=np.intp)
    for j in range(X.shape[1]):
        values, inverse = np.unique(X[:, j], return_inverse=True)
        categories.append(values)
        codes[:, j] = inverse.reshape(-1)
    return codes, categories


def as_package_layout(slices: list[SL.Slice], categories: list) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Slices as ``(top_slices_, top_slices_statistics_)``, codes mapped through ``categories``."""
    top = np.full((len(slices), len(categories)), None, dtype=object)
    stats = []
    for r, s in enumerate(slices):
        for feature, code in s.predicate:
            value = categories[feature][code]
            top[r, feature] = value.item() if isinstance(value, np.generic) else value
        stats.append({
            "slice_score": float(s.score),
            "sum_slice_error": float(s.error_sum),
            "max_slice_error": float(s.max_error),
            "slice_size": float(s.size),
            "slice_average_error": float(s.error_sum / s.size),
        })
    return top, stats
