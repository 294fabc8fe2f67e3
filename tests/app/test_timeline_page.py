"""AppTest of the Timeline page: no series yet, then the demo series in each view, state in the URL."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from analysis.demo.seed import ensure_demo_series
from tests.conftest import ROOT, shown

TIMEOUT = 120
PAGE = str(ROOT / "pages" / "7_Timeline.py")


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "timeline.duckdb"
    monkeypatch.setenv("FAULTLINE_DB", str(path))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    return path


def test_without_a_series_the_page_says_how_to_make_one(db):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    assert any("No series yet" in i.value for i in at.info)
    assert at.button(key="timeline_build_demo")



def test_a_store_of_the_users_own_logs_is_not_offered_the_demo_series(db):
    import pandas as pd

    with open_store(db, seed_demo=False) as store:
        store.ingest_frame(pd.DataFrame({"example_id": ["a", "b"], "prompt": ["p", "q"], "correct": [True, False]}),
                           name="mine")
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    assert any("No series yet" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "timeline_build_demo"]

def test_each_view_of_the_demo_series(db):
    with open_store(db, seed_demo=False) as store:
        ensure_demo_series(store)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    assert at.query_params["series"] == "rlhf-checkpoints" and at.query_params["view"] == "drift"
    table = next(d.value for d in at.dataframe if "explained_by" in d.value.columns)
    flagged = set(table.loc[table["flagged"] & (table["explained_by"] == ""), "description"])
    assert {"domain = medical", "language = hi"} <= flagged
    at.session_state["timeline_view_picker"] = "surrogate"
    at.run()
    assert not at.exception, at.exception
    assert any("over-optimised after step 3,000" in shown(e.value) and "domain = medical" in shown(e.value)
               for e in at.warning)
    at.session_state["timeline_view_picker"] = "mix"
    at.run()
    at.selectbox(key="timeline_a_picker").select("rlhf step-4000")
    at.selectbox(key="timeline_b_picker").select("rlhf step-5000")
    at.run()
    assert not at.exception, at.exception
    assert any("composition" in shown(m.value) and "math" in shown(m.value) for m in at.markdown)
    assert at.query_params["from"] == "rlhf step-4000" and at.query_params["view"] == "mix"


def test_a_series_is_created_on_the_page(db):
    import pandas as pd

    with open_store(db, seed_demo=False) as store:
        for step in (200, 100):
            store.ingest_frame(pd.DataFrame({"q": [f"a{step}", f"b{step}"], "correct": [True, False]}),
                               name=f"step-{step}")
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    at.text_input(key="timeline_new_name").input("mine")
    at.multiselect(key="timeline_new_runs").select("step-200").select("step-100")
    next(b for b in at.button if b.label == "Create the series").click()
    at.run()
    assert not at.exception, at.exception
    at.run()  # the page reruns itself after creating the series
    assert at.query_params["series"] == "mine"
    assert any("2 runs ordered by step: step 100 → step 200" in c.value for c in at.caption)
