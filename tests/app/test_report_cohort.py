"""The Report page takes the session's cohort (a condition or a saved cohort's name) and lists the run's pinned
findings in the report."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from analysis.demo.seed import ensure_demo
from analysis.objective.findings import pin_slice
from analysis.slicing.cohorts import save_cohort
from tests.app._stores import point_app_at
from tests.conftest import ROOT, shown

RUN = "after-objective-change"


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    point_app_at(monkeypatch, path)
    with open_store(path, seed_demo=False) as store:
        ensure_demo(store, n_prompts=1500, seed=7)
        save_cohort(store, "voice users", 'channel = "voice"', author="ada", run=RUN)
        pin_slice(store, RUN, {"domain": "medical"}, author="Ada Analyst", note="check the medical answers")
        run_id = store.run(RUN).run_id
        raw = store.examples(RUN, columns=["meta.channel"])  # counted here: the app keeps the store open
    return path, run_id, int((raw["meta.channel"] == "voice").sum()), len(raw)


def _page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/6_Report.py"), default_timeout=180)


def test_the_sessions_cohort_and_the_pinned_findings_go_into_the_report(store_path):
    _, run_id, voice, rows = store_path
    at = _page()
    at.session_state["chosen_run"] = run_id
    at.query_params["cohort"] = "voice users"  # the session's cohort (the Example page keeps it in ?cohort=)
    at.run()
    assert not at.exception
    assert at.text_input(key="report_cohort").value == "voice users"
    assert any("1 finding pinned to this run" in c.value for c in at.caption)
    at.radio(key="report_spec_choice").set_value("none")
    at.multiselect(key="report_sections").set_value(["summary", "findings", "methods", "slices"])
    at.button[0].click()  # Preview
    at.run()
    assert not at.exception and not at.error
    document = at.session_state["report_preview"]
    assert "saved cohort voice users (version 1)" in document
    assert f"{voice:,} of the run&#39;s {rows:,} examples" in document
    assert "check the medical answers" in document and "Ada Analyst" in document


def test_the_cohort_typed_on_an_analysis_page_is_the_reports(store_path):
    # as the Slices page leaves it in the session (ui.cohort_box): a typed condition, no saved name
    from ui.cohort import NAME_KEY, WHERE_KEY

    at = _page()
    at.session_state["chosen_run"] = store_path[1]
    at.session_state[WHERE_KEY], at.session_state[NAME_KEY] = 'channel = "voice"', ""
    at.run()
    assert not at.exception
    assert at.text_input(key="report_cohort").value == 'channel = "voice"'


def test_a_cohort_that_does_not_fit_is_shown_as_an_error(store_path):
    run_id = store_path[1]
    at = _page()
    at.session_state["chosen_run"] = run_id
    at.run()
    assert at.text_input(key="report_cohort").value == ""
    at.text_input(key="report_cohort").set_value("no_such_field = 1")
    at.radio(key="report_spec_choice").set_value("none")
    at.multiselect(key="report_sections").set_value(["summary"])
    at.button[0].click()
    at.run()
    assert not at.exception
    assert at.error and "unknown field 'no_such_field'" in shown(at.error[0].value)
