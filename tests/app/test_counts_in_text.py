"""Counts in running text read with thousands separators and a noun in its number (the trial read "1819 slice(s)"
and "7032 pairs"): the Compare gate's line, a finding's sentence and the report's summary."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from analysis import compare_runs, finding_sentence, gate, open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "3_Compare.py")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "counts_in_text", n_prompts=2000)


def test_the_gate_line_counts_slices_in_words(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    by = ["language", "domain"]
    with open_store(demo_db, seed_demo=False) as store:
        base, cand = list(store.runs()["run_id"])[:2]
        breaking = gate(compare_runs(store, base, cand, by, max_order=1, min_support=30), max_drop=0.0).breaking
    assert len(breaking) >= 2  # the demo's candidate regresses in several slices
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update({"baseline": base, "candidate": cand, "compare_by": by, "compare_order": "1"})
    at.run()
    at.slider(key="compare_drop").set_value(0.0)
    at.run()
    assert not at.exception, at.exception
    (line,) = [e.value for e in at.error if e.value.startswith("Gate failed")]
    assert "(s)" not in line
    assert re.match(rf"Gate failed: {len(breaking):,} slices lost ", line), line


@pytest.mark.parametrize(("n", "words"), [(7032, "7,032 pairs"), (1, "1 pair")])
def test_a_comparison_findings_sentence_separates_thousands(n, words):
    text = finding_sentence("comparison", "language = sw", {
        "base_error_rate": 0.2, "cand_error_rate": 0.3, "difference": 0.1, "ci_low": 0.05, "ci_high": 0.15,
        "b": 1500, "c": 12, "n": n, "q_value": 0.001, "verdict": "regressed"})
    assert f"1,500 newly wrong, 12 fixed, of {words}" in text


def test_a_slice_findings_sentence_separates_thousands():
    text = finding_sentence("slice", "domain = legal", {
        "errors": 1819, "n": 36421, "error_rate": 0.05, "ci_low": 0.04, "ci_high": 0.06, "rest_error_rate": 0.03,
        "difference": 0.02, "q_value": 0.01})
    assert "1,819 of 36,421 answers wrong" in text


def test_the_reports_summary_says_one_slice_in_the_singular():
    from analysis.report.content import _summary

    row = {"direction": "worse", "origin": "context"}
    data = {"runs": [], "slices": {"rows": [row], "settings": {"fdr": 0.05, "min_support": 30},
                                   "overall_error_rate": 0.1, "total_n": 1000}}
    (line,) = [s for s in _summary(data) if "significantly worse" in s]
    assert line.startswith("1 slice is significantly worse"), line
    data["slices"]["rows"] = [row] * 1819
    (line,) = [s for s in _summary(data) if "significantly worse" in s]
    assert line.startswith("1,819 slices are significantly worse"), line
