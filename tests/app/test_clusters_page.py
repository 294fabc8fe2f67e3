"""AppTest of the Clusters page: computing in the background, the map, the table, a cluster as a slice."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from tests.conftest import HELM_BBQ, ROOT, shown

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)

TIMEOUT = 120
PAGE = str(ROOT / "pages" / "4_Clusters.py")
#: The page's default settings (as the sidebar sends them).
DEFAULTS = {"field": "input", "embedder": "auto", "min_cluster_size": None, "n_neighbors": None, "seed": 0,
            "sample_size": 5000}


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    monkeypatch.setenv("FAULTLINE_DB", str(path))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    return path


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """A small demo store with the baseline's input clusters computed (as the page would)."""
    from analysis.clusters.pipeline import cluster_run
    from analysis.demo.seed import ensure_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with open_store(path, seed_demo=False) as store:
        ensure_demo(store, n_prompts=1500)
        cluster_run(store, "baseline", **DEFAULTS)
    return path


def run_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def test_clusters_page_shows_map_and_table(demo_db, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(demo_db))
    at = run_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Examples"] == "1,500"
    assert int(metrics["Clusters"]) >= 3
    assert len(at.get("plotly_chart")) == 1
    table = at.dataframe[0].value
    assert {"cluster", "terms_text", "size", "rate", "ci_low", "ci_high", "q"} <= set(table.columns)
    assert table["size"].sum() == 1500
    assert any("from the store's cache" in c.value for c in at.caption)
    at.radio(key="clusters_color").set_value("cluster")
    at.run()
    assert not at.exception


def test_clusters_page_offers_a_cluster_as_a_slice(demo_db, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)  # the app, so pages can switch
    at.switch_page("pages/4_Clusters.py")
    at.run()
    assert not at.exception, at.exception
    run_id = at.session_state["chosen_run"]
    # choosing a row: AppTest has no click on a dataframe row, so the selection is set as the browser would
    key = next(k for k in at.session_state if k.startswith("clusters_table_"))
    picked = at.dataframe[0].value["cluster"].iloc[0]
    at.session_state[key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert any("All examples of the cluster" in m.value for m in at.markdown)
    at.button(key="clusters_to_slices").click()
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["chosen_run"] == run_id and at.multiselect(key="slices_by").value[0] == "cluster.input"
    # now on the Slices page, which tests the cluster against the rest of the run like any slice, the cluster
    # selected: its statistics and its examples
    descriptions = set(at.dataframe[0].value["description"])
    assert any(d.startswith("cluster.input = ") for d in descriptions)
    assert any(shown(m.value).startswith("**cluster.input = ") for m in at.markdown)
    assert at.session_state["slices_selected"]["predicate"] == {"cluster.input": str(picked)}


def test_clusters_page_computes_in_the_background(db):
    with open_store(db, seed_demo=False) as store:
        store.ingest(HELM_BBQ)
    at = run_page()
    # the first run only starts the job and shows its progress; the page stays responsive
    deadline = time.monotonic() + TIMEOUT
    while not at.metric and time.monotonic() < deadline:
        time.sleep(1.0)
        at.run()
        assert not at.exception, at.exception
    assert at.metric, "the clustering did not finish"
    assert {m.label for m in at.metric} >= {"Examples", "Clusters"}


def test_clusters_page_says_why_a_run_cannot_be_clustered(db):
    import pandas as pd

    with open_store(db, seed_demo=False) as store:
        store.ingest_frame(pd.DataFrame({"prompt": ["a", "b", "c"], "correct": [True, False, True]}), name="three")
    at = run_page()
    assert any("at least 10 examples" in e.value for e in at.error)


def test_clusters_page_empty_store(db):
    at = run_page()
    assert any("no runs yet" in i.value for i in at.info)


def test_the_cluster_as_a_slice_is_computed_while_the_clusters_page_is_read(demo_db, monkeypatch):
    """The Slices table "Open this cluster as a slice" lands on (the clustering's column first) is computed in the
    background when the Clusters page shows: the click makes no slice-table call of its own."""
    import analysis
    from ui import cache, jobs

    monkeypatch.setenv("FAULTLINE_DB", str(demo_db))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "1")
    assert jobs._background().wait_idle(timeout=120)  # other tests' work first
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("pages/4_Clusters.py")
    at.run()
    assert not at.exception, at.exception
    run_id = at.session_state["chosen_run"]
    assert jobs._background().wait_idle(timeout=120)
    version = cache._open(str(demo_db)).data_version()
    with open_store(demo_db, seed_demo=False) as store:
        by = ("cluster.input", *[a.name for a in analysis.default_attributes(store, run_id)
                                 if a.name != "cluster.input"])
    done = [k for k in jobs._next_views()["done"] if k[:4] == ("slices", str(demo_db), version, run_id)]
    assert [k[4] for k in done] == [by]
    calls = []
    real = analysis.slice_table
    monkeypatch.setattr(analysis, "slice_table", lambda *a, **k: calls.append((a, k)) or real(*a, **k))
    key = next(k for k in at.session_state if k.startswith("clusters_table_"))
    at.session_state[key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    at.button(key="clusters_to_slices").click()
    at.run()
    assert not at.exception, at.exception
    assert tuple(at.multiselect(key="slices_by").value) == by
    # the table the click shows was ready (the page's own next views, other orders, are computed after it renders)
    assert not [a for a, k in calls if a[1] == run_id and list(a[2]) == list(by) and k["max_order"] == 2]
    assert jobs._background().wait_idle(timeout=120)  # those next views run in the background after the render
    assert any(a[1] == run_id and list(a[2]) == list(by) for a, _ in calls)  # the spy saw those
