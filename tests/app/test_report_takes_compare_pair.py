"""The Report page starts from the pair the user looked at on Compare (its candidate as the run analysed, its
baseline as the baseline) and says so in one caption; a run or baseline chosen on Report afterwards is kept, and
Compare shown again makes its pair current again."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "report_pair", n_prompts=1500)


def _run(at: AppTest) -> AppTest:
    at = at.run()
    assert not at.exception, at.exception
    return at


def _said(at: AppTest) -> bool:
    return any("as on the Compare page" in c.value for c in at.caption)


def test_report_defaults_to_compares_pair_and_an_explicit_choice_wins(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        first, second = list(store.runs()["run_id"])[:2]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("pages/6_Report.py")
    at = _run(at)
    at.selectbox(key="picker_run").set_value(second)  # a run chosen on Report before Compare is looked at
    at = _run(at)
    assert at.selectbox(key="picker_run").value == second

    at.switch_page("pages/3_Compare.py")  # the pair the other way round from the load order
    at = _run(at)
    at.selectbox(key="picker_baseline").set_value(second)
    at.selectbox(key="picker_candidate").set_value(first)
    at = _run(at)

    at.switch_page("pages/6_Report.py")
    at = _run(at)
    assert at.selectbox(key="picker_run").value == first  # Compare's candidate
    assert at.selectbox(key="report_baseline").value == second  # Compare's baseline
    assert _said(at)
    assert at.query_params["run"] == first and at.query_params["baseline"] == second

    at.selectbox(key="picker_run").set_value(second)  # an explicit choice on Report wins
    at = _run(at)
    at = _run(at)
    assert at.selectbox(key="picker_run").value == second
    assert not _said(at)

    at.switch_page("pages/3_Compare.py")  # Compare shown again: its pair is current again
    at = _run(at)
    at.switch_page("pages/6_Report.py")
    at = _run(at)
    assert at.selectbox(key="picker_run").value == first
    assert at.selectbox(key="report_baseline").value == second
