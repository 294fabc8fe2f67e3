"""Tests for analysis.slicing.sliceline (SliceLine slice discovery).

Production follows the paper (rows in the score bound, exact slice ids, exact pruning). Checked
against: the published expectations of the ``sliceline`` package's own test suite (ported in
tests/fixtures/sliceline_experiments.py), the installed ``sliceline`` package itself (a test-only
dependency) on those experiments and on generated data, a brute-force enumeration of every slice,
and direct computations written here (masks over the rows) for every reported slice's statistics.
Where the package departs from the paper, tests/parity/sliceline_package.py reproduces it by
passing the package's rules to the same search, and the tests show both sides: the package's
answer reproduced, and production's the right one.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

from analysis.slicing import sliceline as SL
from analysis.slicing.params import MSG_MIN_SUPPORT, ParameterError
from analysis.slicing.sliceline import Slice, find_slices
from tests.fixtures.sliceline_experiments import (
    BASIC_LEVEL1_COLUMNS,
    BASIC_LEVEL1_STATISTICS,
    BASIC_PAIR_CANDIDATES,
    BASIC_PAIR_THRESHOLD,
    BASIC_TOP_STATISTICS,
    EXPERIMENTS,
    MISSING_PARENTS_CASE,
    SCORE_CASE,
    SCORE_UB_CASE,
    X_10,
    X_10_COLUMN_SUMS,
    X_BASIC,
)
from tests.parity.sliceline_package import PACKAGE, find_slices_package, paper_compatible, sliceline_compatible

STAT_KEYS = ("slice_score", "sum_slice_error", "max_slice_error", "slice_size")


def _norm(row) -> tuple:
    """A top-slice row with numbers as floats, so 1 and 1.0 compare (and hash) equal."""
    return tuple(None if v is None else v if isinstance(v, str) else float(v) for v in row)


def _mask(codes: np.ndarray, s: Slice) -> np.ndarray:
    mask = np.ones(codes.shape[0], dtype=bool)
    for feature, code in s.predicate:
        mask &= codes[:, feature] == code
    return mask


def _check_statistics(codes, errors, slices, alpha):
    """Every reported number recomputed directly from the rows."""
    n, avg = len(errors), float(np.mean(errors))
    for s in slices:
        mask = _mask(codes, s)
        assert s.size == int(mask.sum())
        assert s.error_sum == pytest.approx(float(errors[mask].sum()), rel=1e-12, abs=1e-12)
        assert s.max_error == float(errors[mask].max())
        expected = alpha * ((s.error_sum / s.size) / avg - 1) - (1 - alpha) * (n / s.size - 1)
        assert s.score == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert [f for f, _ in s.predicate] == sorted({f for f, _ in s.predicate})


def _sliceline():
    sliceline = pytest.importorskip("sliceline.slicefinder")
    return sliceline.Slicefinder


def _has_sliceline() -> bool:
    try:
        import sliceline.slicefinder  # noqa: F401
    except ImportError:
        return False
    return True


def _also_same_as_package(slices: list[Slice], codes, errors, **params):
    """Compare with the package where it is installed (the test's other checks run anyway)."""
    if _has_sliceline():
        ref_top, ref_stats = _package(codes, errors, **params)
        _assert_same_as_package(*_as_package_layout(slices, codes.shape[1]), ref_top, ref_stats)


def _package(X, errors, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = _sliceline()(verbose=False, **params).fit(X, errors)
    return model.top_slices_, model.top_slices_statistics_


def _as_package_layout(slices: list[Slice], m: int) -> tuple[np.ndarray, list[dict]]:
    top = np.full((len(slices), m), None, dtype=object)
    for r, s in enumerate(slices):
        for feature, code in s.predicate:
            top[r, feature] = code
    stats = [{"slice_score": s.score, "sum_slice_error": s.error_sum, "max_slice_error": s.max_error,
              "slice_size": float(s.size)} for s in slices]
    return top, stats


def _assert_same_as_package(top, stats, ref_top, ref_stats):
    assert top.shape[0] == ref_top.shape[0], (top, ref_top)
    assert np.array_equal(top, ref_top), (top, ref_top)
    for mine, ref in zip(stats, ref_stats, strict=True):
        assert abs(mine["slice_score"] - ref["slice_score"]) <= 1e-9
        assert mine["sum_slice_error"] == pytest.approx(ref["sum_slice_error"], rel=1e-12)
        assert mine["max_slice_error"] == ref["max_slice_error"]
        assert mine["slice_size"] == ref["slice_size"]


def _params(e) -> dict:
    return {"alpha": e.alpha, "k": e.k, "max_l": e.max_l, "min_sup": e.min_sup}


def _production(params: dict) -> dict:
    """The package's parameter names as production's."""
    return {"error_weight": params["alpha"], "k": params["k"], "max_order": params["max_l"],
            "min_support": params["min_sup"]}


# production (the paper) and the package's rules, answering in the package's layout
IMPLEMENTATIONS = {"production": paper_compatible, "package": sliceline_compatible}


# --- the package's published experiments ------------------------------------------------------

@pytest.mark.parametrize("implementation", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_published_experiment(name, implementation):
    """The published top slices, up to the order of tied slices (see the fixture's docstring)."""
    e = EXPERIMENTS[name]
    top, stats = IMPLEMENTATIONS[implementation](e.X, e.errors, **_params(e))
    assert top.shape == (len(e.expected), e.X.shape[1])
    score_of = {_norm(row): st["slice_score"] for row, st in zip(top, stats, strict=True)}
    assert set(score_of) == {_norm(row) for row in e.expected}
    # listed best first: the published order agrees with ours wherever scores differ
    assert [score_of[_norm(row)] for row in e.expected] == [st["slice_score"] for st in stats]


@pytest.mark.parametrize("implementation", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_recorded_experiment(name, implementation):
    """sliceline 0.3.0's own answer on the published experiments: order and statistics."""
    e = EXPERIMENTS[name]
    top, stats = IMPLEMENTATIONS[implementation](e.X, e.errors, **_params(e))
    assert [_norm(row) for row in top] == [_norm(row) for row in e.recorded]
    assert len(stats) == len(e.recorded_statistics)
    for st, (score, err, max_err, size) in zip(stats, e.recorded_statistics, strict=True):
        assert abs(st["slice_score"] - score) <= 1e-9
        assert (st["sum_slice_error"], st["max_slice_error"], st["slice_size"]) == (err, max_err, size)
        assert st["slice_average_error"] == err / size


@pytest.mark.parametrize("implementation", list(IMPLEMENTATIONS))
def test_basic_top_statistics_published(implementation):
    top, stats = IMPLEMENTATIONS[implementation](X_BASIC, EXPERIMENTS["basic"].errors, alpha=0.95, k=2, max_l=2,
                                                 min_sup=1)
    assert [tuple(st[key] for key in STAT_KEYS) for st in stats] == BASIC_TOP_STATISTICS


def test_experiment_10_matrix_is_the_published_one():
    assert tuple(X_10.sum(axis=0).tolist()) == X_10_COLUMN_SUMS
    assert X_10.shape == (20000, 6)


def test_score_published_values():
    c = SCORE_CASE
    got = SL._score(np.array(c["sizes"], float), np.array(c["errors"], float), c["n_rows"], c["alpha"],
                    c["average_error"])
    assert got.tolist() == c["expected"]  # bit-identical


def test_score_upper_bound_published_values():
    c = SCORE_UB_CASE
    got = SL._score_ub(np.array(c["sizes"], float), np.array(c["errors"], float), np.array(c["max_errors"], float),
                       c["n_col_x_encoded"], c["min_sup"], c["alpha"], c["average_error"])
    assert got.tolist() == c["expected"]  # bit-identical


def _basic_data():
    codes = np.column_stack([np.unique(X_BASIC[:, j], return_inverse=True)[1] for j in range(X_BASIC.shape[1])])
    return SL._Data(codes, EXPERIMENTS["basic"].errors.astype(float))


def test_level1_statistics_published_values():
    data = _basic_data()
    assert data.ncol == 15
    keep = (data.col_size >= 1) & (data.col_err > 0)
    assert np.flatnonzero(keep).tolist() == BASIC_LEVEL1_COLUMNS
    score = SL._score(data.col_size[keep], data.col_err[keep], data.n, 0.95, 0.5)
    got = list(zip(score.tolist(), data.col_err[keep].tolist(), data.col_max[keep].tolist(),
                   data.col_size[keep].tolist(), strict=True))
    assert got == BASIC_LEVEL1_STATISTICS


def test_pair_candidates_published_values():
    data = _basic_data()
    stats = np.array(BASIC_LEVEL1_STATISTICS, dtype=float)
    parents = np.array(BASIC_LEVEL1_COLUMNS).reshape(-1, 1)
    cand = SL._join_candidates(data, parents, stats[:, 3], stats[:, 1], stats[:, 2], 2, BASIC_PAIR_THRESHOLD,
                               1, 0.95, 0.5, rules=PACKAGE)
    assert [tuple(r) for r in cand.tolist()] == BASIC_PAIR_CANDIDATES


def test_missing_parents_pruning_published_values():
    c = MISSING_PARENTS_CASE
    codes = np.array([[v] * len(c["domains"]) for v in range(max(c["domains"]))])  # every category present
    data = SL._Data(codes, np.zeros(codes.shape[0]))
    assert data.dom.tolist() == c["domains"]
    stats = np.array(c["statistics"], dtype=float)
    cand = SL._join_candidates(data, np.array(c["parents"]), stats[:, 3], stats[:, 1], stats[:, 2], 3, -np.inf,
                               c["min_sup"], c["alpha"], c["average_error"], rules=PACKAGE)
    assert [tuple(r) for r in cand.tolist()] == c["expected"]


# --- equality with the installed package -------------------------------------------------------

@pytest.mark.parametrize("implementation", list(IMPLEMENTATIONS))
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_same_as_package_on_published_experiments(name, implementation):
    e = EXPERIMENTS[name]
    ref_top, ref_stats = _package(e.X, e.errors, **_params(e))
    top, stats = IMPLEMENTATIONS[implementation](e.X, e.errors, **_params(e))
    _assert_same_as_package(top, stats, ref_top, ref_stats)


def _generated(seed: int, n: int = 5000, m: int = 8):
    rng = np.random.default_rng(seed)
    cards = rng.integers(2, 9, m)
    codes = np.column_stack([rng.choice(c, n, p=rng.dirichlet(np.full(c, 1.5))) for c in cards])
    p = np.full(n, 0.08)
    p[(codes[:, 0] == 0) & (codes[:, 1] == 1)] = 0.6
    if m >= 5:
        p[(codes[:, 2] == 1) & (codes[:, 3] == 0) & (codes[:, 4] == 0)] = 0.9
    if m >= 6:
        p[codes[:, 5] == 0] += 0.15
    errors = (rng.random(n) < p).astype(float)
    if seed % 2:  # real-valued losses
        errors *= np.round(rng.gamma(2.0, 0.5, n), 3)
    return codes, errors


GENERATED_CASES = [
    (0, {"alpha": 0.95, "k": 10, "max_l": 3, "min_sup": 20}),
    (1, {"alpha": 0.85, "k": 5, "max_l": 3, "min_sup": 0.01}),
    (2, {"alpha": 0.9, "k": 3, "max_l": 4, "min_sup": 50}),
    (3, {"alpha": 0.99, "k": 8, "max_l": 2, "min_sup": 5}),
    (4, {"alpha": 0.99, "k": 20, "max_l": 3, "min_sup": 0.05}),
    (5, {"alpha": 1.0, "k": 4, "max_l": 3, "min_sup": 100}),
]


@pytest.mark.parametrize(("seed", "params"), GENERATED_CASES)
def test_same_as_package_on_generated_data(seed, params):
    codes, errors = _generated(seed)
    ref_top, ref_stats = _package(codes, errors, **params)
    slices = find_slices(codes, errors, **_production(params))
    assert slices, "the case should find slices"
    _assert_same_as_package(*_as_package_layout(slices, codes.shape[1]), ref_top, ref_stats)
    _check_statistics(codes, errors, slices, params["alpha"])
    assert find_slices_package(codes, errors, **params) == slices


def _colliding_ids_data():
    """20 features of 12 categories: the package's float64 slice ids exceed 2**53, so every
    2-predicate candidate on features 0 and 19 shares its id with its siblings and is dropped."""
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 12, (1500, 20))
    errors = (rng.random(1500) < 0.05).astype(float)
    errors[(codes[:, 0] == 0) & (codes[:, 19] == 0)] = 1.0
    return codes, errors


def test_float_id_collisions_are_fixed():
    codes, errors = _colliding_ids_data()
    params = {"alpha": 0.95, "k": 3, "max_l": 2, "min_sup": 5}
    package = find_slices_package(codes, errors, **params)
    planted = ((0, 0), (19, 0))
    assert planted not in [s.predicate for s in package]  # the package's rules cannot see this slice
    # with exact ids (production) the planted slice is by far the best
    exact = find_slices(codes, errors, **_production(params))
    assert exact[0].predicate == planted
    assert exact[0].score > 2 * package[0].score
    _check_statistics(codes, errors, exact, 0.95)
    brute = _brute_force(codes[:, [0, 19]], errors, 0.95, 2, 5)
    assert exact[0].score == pytest.approx(brute[((0, 0), (1, 0))], rel=1e-12)


def test_float_id_collisions_same_as_package():
    codes, errors = _colliding_ids_data()
    params = {"alpha": 0.95, "k": 3, "max_l": 2, "min_sup": 5}
    ref_top, ref_stats = _package(codes, errors, **params)
    _assert_same_as_package(*_as_package_layout(find_slices_package(codes, errors, **params), 20), ref_top,
                            ref_stats)


def _many_columns_data():
    """20 rows, 4 features, about 45 one-hot columns: more columns than rows, where the package's
    score bound (columns in place of rows) is too tight and prunes the best slice."""
    rng = np.random.default_rng(27)
    n = int(rng.integers(20, 60))
    codes = np.column_stack([rng.integers(0, 2, n), rng.integers(0, 2, n), rng.integers(0, 25, n),
                             rng.integers(0, 25, n)])
    errors = (rng.random(n) < 0.3).astype(float)
    return codes, errors


def test_too_tight_score_bound_is_fixed():
    codes, errors = _many_columns_data()
    params = {"alpha": 0.8, "k": 1, "max_l": 3, "min_sup": 2}
    assert SL._Data(codes, errors).ncol > codes.shape[0]
    brute = _brute_force(codes, errors, 0.8, 3, 2)
    best = max(brute.values())
    slices = find_slices(codes, errors, **_production(params))
    assert slices and {s.predicate for s in slices} == {p for p, v in brute.items() if v == best}
    _check_statistics(codes, errors, slices, 0.8)
    package = find_slices_package(codes, errors, **params)
    assert package[0].score < best - 0.1  # the package's rules prune the best slice
    if _has_sliceline():
        _assert_same_as_package(*_as_package_layout(package, codes.shape[1]), *_package(codes, errors, **params))


def _small_random_case(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 80))
    codes = np.column_stack([rng.integers(0, c, n) for c in rng.integers(2, 25, 4)])
    errors = (rng.random(n) < 0.3).astype(float)
    if seed % 3 == 0:
        errors *= rng.gamma(2, 0.5, n).round(2)
    params = {"error_weight": float(rng.choice([0.6, 0.8, 0.9, 0.95, 1.0])), "k": int(rng.integers(1, 6)),
              "min_support": int(rng.integers(1, 5)), "max_order": int(rng.integers(1, 4))}
    return codes, errors, params


# 40 cases, plus seeds where a search with the package's pruning before the top-k list is full
# (54, 693, 747, 1008) or with columns in the score bound (47, 54, 62) misses qualifying slices
@pytest.mark.parametrize("seed", [*range(40), 47, 54, 62, 693, 747, 1008])
def test_exact_against_brute_force(seed):
    """Production returns exactly the slices ranked k or better among all slices (ties included).

    Scores are compared with a 1e-9 margin: two mathematically equal scores can differ in their
    last bits (error sums added in another order), which decides a tie either way.
    """
    codes, errors, params = _small_random_case(seed)
    slices = find_slices(codes, errors, **params)
    brute = _brute_force(codes, errors, params["error_weight"], params["max_order"], params["min_support"])
    found = {s.predicate for s in slices}
    if not brute:
        assert slices == []
        return
    kth = sorted(brute.values(), reverse=True)[min(params["k"], len(brute)) - 1]
    assert {p for p, v in brute.items() if v > kth + 1e-9} <= found
    assert found <= {p for p, v in brute.items() if v >= kth - 1e-9}
    assert len(found) >= min(params["k"], len(brute))
    _check_statistics(codes, errors, slices, params["error_weight"])


def test_unused_codes_and_cardinalities():
    """Codes no row uses do not exist for the algorithm; predicates keep the caller's codes."""
    codes, errors = _generated(0, n=2000, m=5)
    sparse_codes = codes * 3 + 1  # codes 1, 4, 7, ...: most codes unused
    cards = [int(c) + 2 for c in sparse_codes.max(axis=0)]
    params = {"alpha": 0.95, "k": 5, "max_l": 3, "min_sup": 10}
    plain = find_slices(codes, errors, **_production(params))
    spread = find_slices(sparse_codes, errors, feature_cardinalities=cards, **_production(params))
    assert [tuple((f, c * 3 + 1) for f, c in s.predicate) for s in plain] == [s.predicate for s in spread]
    assert [s.score for s in plain] == [s.score for s in spread]
    _also_same_as_package(spread, sparse_codes, errors, **params)


def test_histogram_fallbacks_give_the_same_slices(monkeypatch):
    """Key compaction and the sorted-key lookup (used for very high cardinalities) agree with the
    dense histograms."""
    cases = [(_generated(seed, n=1500, m=6), params) for seed, params in GENERATED_CASES[:4]]
    expected = [find_slices(codes, errors, **_production(params)) for (codes, errors), params in cases]
    monkeypatch.setattr(SL, "_KEY_LIMIT", 3)
    monkeypatch.setattr(SL, "_DENSE_BINS_MIN", 0)
    monkeypatch.setattr(SL, "_DENSE_BINS_PER_ROW", 0)
    monkeypatch.setattr(SL, "_PAIR_CHUNK", 64)  # and many chunks of parent pairs
    assert [find_slices(codes, errors, **_production(params)) for (codes, errors), params in cases] == expected
    assert any(expected)


def test_large_sparse_codes():
    codes, errors = _generated(0, n=2000, m=6)
    big = codes * 1_000_003 + 17
    params = {"error_weight": 0.95, "k": 5, "max_order": 2, "min_support": 10}
    plain = find_slices(codes, errors, **params)
    assert [tuple((f, c * 1_000_003 + 17) for f, c in s.predicate) for s in plain] == [
        s.predicate for s in find_slices(big, errors, **params)]


# --- parameter validation ---------------------------------------------------------------------

CODES = np.array([[0, 1], [1, 0], [1, 1], [0, 0]])
ERRORS = np.array([1.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"error_weight": 1.5}, "Invalid 'error_weight' parameter: expected a float in (0, 1], got 1.5"),
    ({"error_weight": 0}, "Invalid 'error_weight' parameter: expected a float in (0, 1], got 0"),
    ({"error_weight": math.nan}, "Invalid 'error_weight' parameter: expected a float in (0, 1], got nan"),
    ({"error_weight": "0.5"}, "Invalid 'error_weight' parameter: expected a float in (0, 1], got '0.5'"),
    ({"k": 0}, "Invalid 'k' parameter: expected an integer >= 1, got 0"),
    ({"k": 2.0}, "Invalid 'k' parameter: expected an integer >= 1, got 2.0"),
    ({"k": True}, "Invalid 'k' parameter: expected an integer >= 1, got True"),
    ({"max_order": 0}, "Invalid 'max_order' parameter: expected an integer >= 1, got 0"),
])
def test_parameter_messages(kwargs, message):
    with pytest.raises(ValueError) as info:
        find_slices(CODES, ERRORS, **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("value", [0, -1, 1.0, 2.5, math.nan, "10", True, None])
def test_min_support_message(value):
    """min_support is checked by the helper every analysis shares, with its one message."""
    with pytest.raises(ParameterError) as info:
        find_slices(CODES, ERRORS, min_support=value)
    assert str(info.value) == MSG_MIN_SUPPORT.format(value=value)
    assert str(info.value).startswith("Invalid 'min_support' parameter: expected an integer >= 1 (a count of "
                                      "examples) or a number in (0, 1) (a fraction of the examples analysed), got ")
    assert isinstance(info.value, ValueError)


def test_message_constants_name_the_parameter():
    for name, text in [("error_weight", SL.INVALID_ERROR_WEIGHT), ("k", SL.INVALID_K),
                       ("max_order", SL.INVALID_MAX_ORDER), ("min_support", MSG_MIN_SUPPORT)]:
        assert text.startswith(f"Invalid '{name}' parameter: expected ")
        assert text.endswith("got {value!r}")
    assert SL.INVALID_ERROR_WEIGHT.format(value=1.5) == (
        "Invalid 'error_weight' parameter: expected a float in (0, 1], got 1.5")


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((np.array([0, 1, 2]), np.zeros(3)), {}, SL.INVALID_CODES_SHAPE.format(value=(3,))),
    ((np.zeros((0, 2), int), np.zeros(0)), {}, SL.INVALID_CODES_SHAPE.format(value=(0, 2))),
    ((np.array([["a", "b"]]), np.zeros(1)), {}, SL.INVALID_CODES_DTYPE.format(value=np.dtype("<U1"))),
    ((np.array([[0.5, 1.0]]), np.zeros(1)), {}, SL.INVALID_CODES_DTYPE.format(value=np.dtype(float))),
    ((np.array([[0, 1], [-1, 0]]), np.zeros(2)), {}, SL.INVALID_CODES_NEGATIVE.format(value=-1, row=1, feature=0)),
    ((CODES, ERRORS), {"feature_cardinalities": [2, 1]},
     SL.INVALID_CODES_RANGE.format(high=0, feature=1, value=1, row=0)),
    ((CODES, ERRORS), {"feature_cardinalities": [2]}, SL.INVALID_CARDINALITIES.format(m=2, value=[2])),
    ((CODES, ERRORS), {"feature_cardinalities": [2, 0]}, SL.INVALID_CARDINALITIES.format(m=2, value=[2, 0])),
    ((CODES, np.zeros(3)), {}, SL.INVALID_ERRORS_SHAPE.format(n=4, value=(3,))),
    ((CODES, np.array([1.0, -0.5, 0.0, 0.0])), {}, SL.INVALID_ERRORS_VALUE.format(value=-0.5, row=1)),
    ((CODES, np.array([1.0, 0.0, np.nan, 0.0])), {}, SL.INVALID_ERRORS_VALUE.format(value=math.nan, row=2)),
    ((CODES, [1.0, 0.0, "bad", 0.0]), {}, SL.INVALID_ERRORS_VALUE.format(value="bad", row=2)),
])
def test_input_messages(args, kwargs, message):
    with pytest.raises(ValueError) as info:
        find_slices(*args, **kwargs)
    assert str(info.value) == message


def test_input_message_texts():
    assert SL.INVALID_CODES_RANGE.format(high=0, feature=1, value=1, row=0) == (
        "Invalid 'codes' parameter: expected codes in 0..0 for feature 1, got 1 in row 0")
    assert SL.INVALID_ERRORS_VALUE.format(value=-0.5, row=1) == (
        "Invalid 'errors' parameter: expected finite floats >= 0, got -0.5 in row 1")


def test_sliceline_compatible_checks_x():
    with pytest.raises(ValueError) as info:
        sliceline_compatible(np.array([1, 2, 3]), [1.0, 0.0, 1.0])
    assert str(info.value) == ("Invalid 'X' parameter: expected a 2-D matrix with at least one row and one column "
                               "(examples x features), got shape (3,)")


def test_valid_parameter_forms():
    assert find_slices(CODES, ERRORS, error_weight=1, k=np.int64(2), max_order=np.int32(2),
                       min_support=np.int64(1)) is not None
    assert find_slices(CODES, ERRORS, min_support=np.float64(0.5)) is not None
    assert find_slices(CODES.astype(float), [1, 0, 1, 0], min_support=1) == find_slices(CODES, ERRORS, min_support=1)
    # the package's min_sup=0 (no size threshold) is min_support=1 here: same slices
    codes, errors = _generated(0, n=500, m=4)
    assert find_slices_package(codes, errors, alpha=0.95, k=5, min_sup=0) == find_slices(
        codes, errors, error_weight=0.95, k=5, min_support=1)


# --- edge cases -------------------------------------------------------------------------------

def test_single_feature():
    codes = np.array([[0], [0], [0], [1], [1], [2], [2], [2]])
    errors = np.array([1, 1, 0, 0, 0, 1, 0, 0], dtype=float)
    slices = find_slices(codes, errors, error_weight=0.95, k=3, min_support=1)
    assert [s.predicate for s in slices] == [((0, 0),)]  # the only slice with a positive score
    _check_statistics(codes, errors, slices, 0.95)
    assert slices[0].average_error == pytest.approx(2 / 3)
    _also_same_as_package(slices, codes, errors, alpha=0.95, k=3, max_l=3, min_sup=1)


def test_all_zero_errors_find_no_slice():
    codes, _ = _generated(0, n=500, m=4)
    assert find_slices(codes, np.zeros(500), error_weight=0.95, k=5, min_support=1) == []
    if _has_sliceline():
        ref_top, _ = _package(codes, np.zeros(500), alpha=0.95, k=5, max_l=3, min_sup=1)
        assert ref_top.shape[0] == 0


def _brute_force(codes, errors, alpha, max_l, min_sup):
    """Every slice up to max_l predicates with size >= min_sup and a positive score."""
    n, m = codes.shape
    avg = errors.mean()
    found = {}
    for level in range(1, max_l + 1):
        for feats in itertools.combinations(range(m), level):
            for values in itertools.product(*(np.unique(codes[:, f]) for f in feats)):
                mask = np.all(codes[:, list(feats)] == values, axis=1)
                size = int(mask.sum())
                if size == 0 or size < min_sup:
                    continue
                score = alpha * ((errors[mask].sum() / size) / avg - 1) - (1 - alpha) * (n / size - 1)
                if score > 0:
                    found[tuple(zip(feats, (int(v) for v in values), strict=True))] = score
    return found


def test_k_larger_than_the_number_of_slices():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 3, (60, 3))
    errors = ((codes[:, 0] == 0) & (rng.random(60) < 0.8)).astype(float)
    slices = find_slices(codes, errors, error_weight=0.95, k=1000, max_order=3, min_support=3)
    brute = _brute_force(codes, errors, 0.95, 3, 3)
    assert 0 < len(slices) < 1000
    assert {s.predicate for s in slices} <= set(brute)
    assert [s.score for s in slices] == sorted((s.score for s in slices), reverse=True)
    _check_statistics(codes, errors, slices, 0.95)
    _also_same_as_package(slices, codes, errors, alpha=0.95, k=1000, max_l=3, min_sup=3)


def test_ties_at_the_kth_score_are_all_returned():
    codes = np.array([[1, 1, 1], [1, 2, 2], [2, 1, 2], [2, 2, 1]] * 3)
    errors = np.array([1, 0, 0, 0] * 3, dtype=float)
    slices = find_slices(codes, errors, error_weight=0.95, k=3, max_order=3, min_support=3)
    # four slices tie (each is exactly the three failing rows); ties sort by one-hot vector
    assert [s.predicate for s in slices] == [((1, 1), (2, 1)), ((0, 1), (2, 1)), ((0, 1), (1, 1)),
                                             ((0, 1), (1, 1), (2, 1))]
    assert len({s.score for s in slices}) == 1
    _also_same_as_package(slices, codes, errors, alpha=0.95, k=3, max_l=3, min_sup=3)


def test_min_support_fraction_is_truncated_to_rows():
    codes = np.array([[0]] * 4 + [[1]] * 6)
    errors = np.array([1.0] * 4 + [0.0] * 6)
    # int(0.45 * 10) == 4: the 4-row slice qualifies; int(0.5 * 10) == 5: it does not
    assert [s.predicate for s in find_slices(codes, errors, error_weight=0.95, min_support=0.45)] == [((0, 0),)]
    assert find_slices(codes, errors, error_weight=0.95, min_support=0.5) == []
    assert find_slices(codes, errors, error_weight=0.95, min_support=4)[0].size == 4


def test_reported_statistics_match_the_rows():
    for seed in (0, 1):
        codes, errors = _generated(seed, n=3000, m=6)
        slices = find_slices(codes, errors, error_weight=0.95, k=15, max_order=3, min_support=10)
        assert len(slices) >= 15
        _check_statistics(codes, errors, slices, 0.95)


def test_sliceline_compatible_layout():
    e = EXPERIMENTS["experiment_13"]
    top, stats = sliceline_compatible(e.X, e.errors, alpha=0.95, k=2, max_l=2, min_sup=1)
    assert top.dtype == object and top.shape == (2, 4)
    assert top.tolist() == [[1, "a", None, None], [None, "a", None, 3]]
    assert set(stats[0]) == {*STAT_KEYS, "slice_average_error"}
