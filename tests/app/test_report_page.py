"""The Report page reuses the session's run and baseline, and takes the objective spec from the session or an upload
(never a path on the server)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from tests.app._stores import point_app_at
from tests.conftest import HELM_BBQ, ROOT, shown

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


@pytest.fixture
def runs(tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    point_app_at(monkeypatch, path)
    with open_store(path, seed_demo=False) as store:
        store.ingest(HELM_BBQ)
        return list(store.runs()["run_id"])


def _page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/6_Report.py"), default_timeout=120)


def test_the_baseline_defaults_to_the_run_before_and_follows_the_session(runs):
    at = _page()
    at.session_state["chosen_run"] = runs[1]
    at.run()
    assert not at.exception
    assert at.selectbox(key="report_baseline").value == runs[0]  # the run loaded just before
    again = _page()
    again.session_state["chosen_run"] = runs[0]
    again.session_state["fm_chosen_baseline"] = runs[1]  # chosen on the Failure modes page
    again.run()
    assert again.selectbox(key="report_baseline").value == runs[1]


def test_the_spec_is_the_sessions_or_an_upload_never_a_server_path(runs):
    at = _page()
    at.session_state["chosen_run"] = runs[1]
    at.run()
    assert not [t for t in at.text_input if "path" in (t.label or "").lower()]
    assert at.radio(key="report_spec_choice").value == "session"
    at.multiselect(key="report_sections").set_value(["summary", "failure_modes"])
    at.button[0].click()  # Preview
    at.run()
    assert not at.exception
    document = at.session_state["report_preview"]
    assert "no objective spec was chosen" not in document
    assert "Failure modes and objective components" in document


def test_no_spec_says_so_in_plain_words(runs):
    at = _page()
    at.session_state["chosen_run"] = runs[1]
    at.run()
    at.radio(key="report_spec_choice").set_value("none")
    at.multiselect(key="report_sections").set_value(["summary", "failure_modes"])
    at.button[0].click()
    at.run()
    assert not at.exception
    assert "no objective spec was chosen for this report" in at.session_state["report_preview"]
    assert not any("--objective" in shown(e.value) for e in at.error)
