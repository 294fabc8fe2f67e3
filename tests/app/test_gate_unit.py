"""The regression gate names its unit right beside a graded score: the gate reads correctness, so its drop is in
points of accuracy, and on Compare with a graded outcome (score.f1, changes in the score's own units) and in the
report of a run headlined by its mean score, the gate line says what that accuracy is and which unit it is not (the
trial read "points of accuracy" beside a table of score changes and took one for the other)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis import gate_unit, score_unit
from tests.app.test_graded_missing import build_graded_pair
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "3_Compare.py")


@pytest.fixture(scope="module")
def graded_db(tmp_path_factory):
    """Two runs with graded scores and no correctness column of their own (correct = score >= 0.5)."""
    return build_graded_pair(tmp_path_factory, "gate_unit")


def _gate_line(at: AppTest) -> str:
    (line,) = [e.value for e in [*at.success, *at.error] if e.value.startswith("Gate ")]
    return line


@pytest.mark.parametrize("outcome,unit", [
    ("correct", "points of accuracy significantly"),
    ("score", "points of accuracy (the share of examples correct, not score units) significantly"),
])
def test_the_compare_gate_line_names_its_unit(graded_db, monkeypatch, outcome, unit):
    monkeypatch.setenv("FAULTLINE_DB", str(graded_db))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["outcome"] = outcome
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="compare_outcome").value == outcome
    assert unit in _gate_line(at)


def test_the_unit_is_the_score_units_own_name():
    assert gate_unit("correct") == gate_unit() == "points of accuracy"
    assert gate_unit("score.f1").endswith(f"not {score_unit('score.f1')})")


def test_the_reports_gate_names_its_unit_beside_a_mean_score(graded_db, tmp_path):
    import shutil

    from analysis.report import ReportSpec, build_report, render_html
    from analysis.store import Store

    copy = tmp_path / "graded.duckdb"
    shutil.copy(graded_db, copy)
    store = Store(copy)
    try:
        base, cand = store.runs()["run_id"].tolist()
        report = build_report(store, ReportSpec(run=cand, baseline=base, sections=["comparison"]))
        document = render_html(report)
    finally:
        store.close()
    unit = "points of accuracy (the share of examples correct, not score units)"
    assert unit in report.data["verdict"]["why"]
    assert f"2.0 {unit}" in " ".join(document.split())  # the comparison section's gate, too
