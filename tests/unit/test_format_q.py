"""q-values and p-values read the same everywhere, and a q below 1 never reads "1" (trial item: q = 0.9964 shown
as "1"). The digits are checked against numpy's own rounding to significant digits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import figures, format_q
from analysis.report.text import q_prose, qvalue


def numpy_digits(q: float) -> float:
    """q rounded to two significant digits by numpy, or to the fewest more that keep it below 1."""
    for k in range(2, 17):
        shown = float(np.format_float_positional(q, precision=k, unique=False, fractional=False, trim="-"))
        if shown < 1:
            return shown
    return q


@pytest.mark.parametrize("q", [0.9964, 0.99, 0.999, 0.9995, 0.99996, 0.951, 0.5, 0.1234, 0.01234, 3.4e-5])
def test_a_q_below_1_keeps_the_digits_that_keep_it_below_1(q):
    text = format_q(q)
    assert float(text) < 1 and text != "1"
    assert float(text) == pytest.approx(numpy_digits(q), rel=1e-12)


def test_random_q_values_match_numpys_rounding_and_never_read_1():
    rng = np.random.default_rng(12)
    qs = np.concatenate([rng.uniform(0, 1, 2000), 1 - rng.exponential(1e-4, 500)])
    qs = qs[(qs > 0) & (qs < 1)]
    for q in qs:
        text = format_q(float(q))
        assert text != "1" and float(text) < 1
        assert float(text) == pytest.approx(numpy_digits(float(q)), rel=1e-12)
        assert len(text.lstrip("0.").replace(".", "").split("e")[0]) >= 1


def test_exactly_1_reads_1_and_the_special_forms_stay():
    assert format_q(1.0) == "1"
    assert format_q(0.9964) == "0.996"
    assert format_q(0.0) == "<1e-300"
    assert format_q(float("nan")) == "not tested" and format_q(None) == "not tested"


def test_the_report_forms_use_the_same_digits():
    assert qvalue(0.9964) == "0.996" and qvalue(1.0) == "1"
    assert qvalue(0.0004) == "< 0.001"
    assert q_prose(0.9964) == "q = 0.996"
    assert q_prose(0.0004) == "q below 0.001" and q_prose(1e-9) == "q far below 0.001"


def hover_q(fig) -> set[str]:
    return {str(c[1]) for trace in fig.data for c in trace.customdata}


def test_the_slice_and_comparison_charts_hover_q_as_format_q_writes_it():
    table = pd.DataFrame({"description": ["a = 1", "b = 2"], "n": [100, 80], "error_rate": [0.2, 0.3],
                          "ci_low": [0.1, 0.2], "ci_high": [0.3, 0.4], "q_value": [0.9964, 1.0],
                          "finding": [False, False], "too_small": [False, False]})
    assert hover_q(figures.slice_forest(table)) == {"0.996", "1"}
    comp = pd.DataFrame({"description": ["a = 1", "b = 2"], "n": [100, 80], "difference": [0.01, -0.02],
                         "ci_low": [-0.05, -0.06], "ci_high": [0.07, 0.02], "q_value": [0.9964, 1.0],
                         "b": [5, 3], "c": [4, 5], "verdict": ["not significant", "not significant"]})
    assert hover_q(figures.comparison_forest(comp)) == {"0.996", "1"}
