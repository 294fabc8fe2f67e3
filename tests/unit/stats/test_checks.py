"""analysis.stats as a package: exact validation messages, doctests, imports, no warnings, one name per module."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from analysis import stats as S

MODULES = ["proportions", "significance", "slices", "agreement", "calibration", "separation", "correlation",
           "bootstrap"]
STATS_DIR = Path(S.__file__).parent

VALIDATION_CASES = [
    (lambda: S.wilson_interval(1, 10, confidence=1.5), "confidence must be a number strictly between 0 and 1, got 1.5"),
    (lambda: S.rate_interval(1, 10, confidence=0), "confidence must be a number strictly between 0 and 1, got 0"),
    (lambda: S.rate_interval(1, 10, confidence=True), "confidence must be a number strictly between 0 and 1, got True"),
    (lambda: S.rate_interval(1, 10, small_n=-1), "small_n must be an integer >= 0, got -1"),
    (lambda: S.rate_interval(1, 10, small_count=2.5), "small_count must be an integer >= 0, got 2.5"),
    (lambda: S.wilson_interval([11], [10]), "errors must not exceed n, got errors=11 > n=10"),
    (lambda: S.wilson_interval([-1], [10]), "errors must contain non-negative integer counts, got -1"),
    (lambda: S.rate_interval([1], [2.5]), "n must contain non-negative integer counts, got 2.5"),
    (lambda: S.grouped_bootstrap_mean_interval([1.0], [0], 1, n_resamples=0), "n_resamples must be an integer >= 1, got 0"),
    (lambda: S.grouped_bootstrap_mean_interval([1.0], [0], 1, seed=-3), "seed must be an integer >= 0, got -3"),
    (lambda: S.grouped_bootstrap_mean_interval([1.0, np.inf], [0, 0], 1), "values must contain only finite values, got inf"),
    (
        lambda: S.grouped_bootstrap_mean_interval([1.0, 2.0], [0, 2], 2),
        "group_codes must be integers in [0, n_groups=2), got 2",
    ),
    (
        lambda: S.grouped_bootstrap_mean_interval([1.0, 2.0], [0], 2),
        "group_codes must have the same length as values (2), got length 1",
    ),
    (lambda: S.paired_bootstrap_mean_difference_interval([1.0], [0], -1), "n_groups must be an integer >= 0, got -1"),
    (lambda: S.two_proportion_test(1, 5, 1, 5, small_count=-1), "small_count must be a finite number >= 0, got -1"),
    (lambda: S.two_proportion_test(6, 5, 1, 5), "errors_in must not exceed n_in, got errors_in=6 > n_in=5"),
    (lambda: S.two_proportion_test(1, 4, 5, 4), "errors_out must not exceed n_out, got errors_out=5 > n_out=4"),
    (lambda: S.benjamini_hochberg([0.2, 1.5]), "p_values must lie in [0, 1] or be NaN, got 1.5"),
    (lambda: S.mcnemar_exact([1], [-2]), "c must contain non-negative integer counts, got -2"),
    (
        lambda: S.paired_mean_difference([1.0, 2.0], [0, 1], 1),
        "group_codes must be integers in [0, n_groups=1), got 1",
    ),
    (lambda: S.paired_mean_difference([1.0], [0], 1, confidence=2), "confidence must be a number strictly between 0 and 1, got 2"),
    (lambda: S.slice_vs_rest([3], [200], 5, 100), "n must not exceed total_n, got n=200 > total_n=100"),
    (
        lambda: S.grouped_cohen_kappa([0], [0], 2, [0], 1, weights="cubic"),
        "weights must be one of ('none', 'linear', 'quadratic'), got 'cubic'",
    ),
    (lambda: S.grouped_cohen_kappa([0, 1], [0], 2, [0, 0], 1), "codes_b must have the same length as codes_a (2), got length 1"),
    (
        lambda: S.grouped_cohen_kappa([0, 3], [0, 1], 3, [0, 0], 1),
        "codes_a must be integer codes below n_categories=3 (negative = missing), got 3",
    ),
    (
        lambda: S.grouped_krippendorff_alpha([[1, 2]], [0, 0], 1, level="bogus"),
        "level must be one of ('nominal', 'ordinal', 'interval', 'ratio'), got 'bogus'",
    ),
    (lambda: S.grouped_krippendorff_alpha([1, 2, 3], [0, 0, 0], 1), "ratings must be a 2-D array, got shape (3,)"),
    (
        lambda: S.grouped_krippendorff_alpha([[1, -2], [1, 2]], [0, 0], 1, level="ratio"),
        "ratings must be non-negative for level='ratio', got -2.0",
    ),
    (lambda: S.grouped_expected_calibration_error([0.5], [1], [0], 1, n_bins=0), "n_bins must be an integer >= 1, got 0"),
    (lambda: S.grouped_expected_calibration_error([76.7], [1], [0], 1), "confidence must lie in [0, 1], got 76.7"),
    (
        lambda: S.grouped_expected_calibration_error([0.2, 0.3], [1], [0, 0], 1),
        "correct must have the same length as confidence (2), got length 1",
    ),
    (
        lambda: S.auc_with_interval([1.0], [0.0], method="bootstrap"),
        "method must be one of ('delong', 'hanley-mcneil'), got 'bootstrap'",
    ),
    (
        lambda: S.auc_with_interval([1.0], [0.0], confidence=95),
        "confidence must be a number strictly between 0 and 1, got 95",
    ),
    (lambda: S.mann_whitney_p([1.0, np.nan], [0.0]), "a must contain only finite values, got nan"),
    (lambda: S.separation_statistics([1.0], [0.0], confidence=1), "confidence must be a number strictly between 0 and 1, got 1"),
    (
        lambda: S.spearman_per_group([1.0, 2.0], [1.0, 2.0], [0, 1], 1),
        "group_codes must be integers in [0, n_groups=1), got 1",
    ),
]


@pytest.mark.parametrize("call,message", VALIDATION_CASES, ids=[m for _, m in VALIDATION_CASES])
def test_validation_messages(call, message):
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        call()


def test_message_constants_name_parameter_and_value():
    assert S.MSG_CONFIDENCE.format(value=2) == "confidence must be a number strictly between 0 and 1, got 2"
    assert S.MSG_INT_MIN.format(name="n_bins", minimum=1, value=0) == "n_bins must be an integer >= 1, got 0"


@pytest.mark.parametrize("name", MODULES)
def test_doctests_pass(name):
    result = doctest.testmod(importlib.import_module(f"analysis.stats.{name}"), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 1
    assert result.failed == 0


def test_every_public_function_has_numpydoc_sections_and_an_example():
    for name in S.__all__:
        obj = getattr(S, name)
        if inspect.isfunction(obj):
            doc = obj.__doc__ or ""
            for section in ("Parameters\n    ----------", "Returns\n    -------", "Raises\n    ------",
                            "References\n    ----------", "Examples\n    --------"):
                assert section in doc, (name, section.split()[0])
            assert ">>>" in doc, name


def test_public_names_are_defined_in_the_module_named_for_their_concern():
    for name in MODULES:
        module = importlib.import_module(f"analysis.stats.{name}")
        for public in module.__all__:
            assert getattr(S, public) is getattr(module, public), public
            assert public in S.__all__, public


@pytest.mark.parametrize("path", sorted(STATS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_modules_import_only_numpy_and_scipy(path):
    tree = ast.parse(path.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
            if node.module.split(".")[0] == "analysis":
                assert node.module.startswith("analysis.stats"), node.module
    allowed = {"__future__", "math", "numbers", "typing", "decimal", "fractions", "dataclasses", "numpy", "scipy",
               "analysis"}
    assert roots <= allowed, roots


def test_module_emits_no_warnings_on_degenerate_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        S.wilson_interval([0, 0, 3], [0, 5, 3])
        S.rate_interval([0], [0])
        S.two_proportion_test([0, 0, 2], [0, 5, 2], [0, 0, 3], [4, 5, 3])
        S.slice_vs_rest([0, 0, 3], [0, 5, 10], 3, 10)
        S.grouped_cohen_kappa([0, 0], [0, 0], 2, [0, 0], 2)
        S.grouped_krippendorff_alpha([[1, 1], [1, 1]], [0, 0], 2)
        S.grouped_expected_calibration_error([0.5], [1], [0], 2)
        S.standardized_mean_difference([1.0], [2.0])
        S.standardized_mean_difference([1.0, 1.0], [1.0, 1.0])
        S.spearman_per_group([1, 2, 1, 1, 5], [2, 1, 3, 3, 1], [0, 0, 1, 1, 2], 4)
        S.grouped_bootstrap_mean_interval([1.0], [0], 3, n_resamples=10)
        S.auc_with_interval([1.0], [1.0])
        S.separation_statistics(np.array([]), np.array([1.0]))
        S.mann_whitney_p([1.0, 1.0], [1.0])
        S.paired_mean_difference([1.0, np.nan, 2.0, 2.0], [0, 1, 2, 2], 4)
        S.benjamini_hochberg([np.nan])
        S.benjamini_hochberg([])
