"""The executive summary states a conjunction SliceLine found only at the support every other finding needs."""

from __future__ import annotations

from analysis.report.content import _summary


def _data(found: list[dict], min_support: int = 30) -> dict:
    return {"runs": [], "slices": {"rows": [], "settings": {"fdr": 0.05, "min_support": min_support},
                                   "overall_error_rate": 0.2, "total_n": 1000},
            "discovery": {"settings": {"holdout": True}, "rows": found}}


def _row(description: str, n: int, confirmed: bool = True, order: int = 2) -> dict:
    return {"description": description, "n": n, "order": order, "confirmed": confirmed, "error_rate": 0.7,
            "ci_low": 0.35, "ci_high": 0.97}


def _stated(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("Discovery found a conjunction")]


def test_a_found_conjunction_below_the_minimum_support_is_not_stated():
    lines = _summary(_data([_row("a = 1 AND b = 2", n=8), _row("c = 3 AND d = 4", n=120)]))
    assert len(_stated(lines)) == 1
    assert "c = 3 AND d = 4" in _stated(lines)[0] and "n = 120" in _stated(lines)[0]


def test_the_support_is_the_slice_tables():
    found = [_row("a = 1 AND b = 2", n=40)]
    assert _stated(_summary(_data(found, min_support=30)))
    assert not _stated(_summary(_data(found, min_support=50)))
    assert not _stated(_summary(_data([_row("a = 1 AND b = 2", n=400, confirmed=False)])))


def test_a_conjunction_confirmed_on_a_held_out_half_says_its_numbers_are_that_halfs():
    # trial 7 read "65.4%, n = 162" beside the pinned slice's "60.4%, n = 333" (the whole run) as a contradiction
    (line,) = _stated(_summary(_data([_row("c = 3 AND d = 4", n=120)])))
    assert line.endswith("searched on one half of the examples and confirmed on the other, where its error rate is "
                         "70.0% (95% CI 35.0% to 97.0%, n = 120 of that half).")
    data = _data([_row("c = 3 AND d = 4", n=120)])
    data["discovery"]["settings"]["holdout"] = False
    (line,) = _stated(_summary(data))
    assert line.endswith("with error rate 70.0% (95% CI 35.0% to 97.0%, n = 120), confirmed on all examples.")
