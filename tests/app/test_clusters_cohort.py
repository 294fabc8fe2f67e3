"""The Clusters page with a cohort (issue #14): the cluster table's statistics are the cohort's (pandas on the
stored examples), the selected cluster lives in ``?cluster=`` and is circled on the map, a box / lasso selection on
the map becomes the cohort, a cluster is pinned as a finding, examples link to the example view."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from analysis import findings, open_store
from tests.app._stores import point_app_at
from tests.conftest import ROOT

TIMEOUT = 120
PAGE = str(ROOT / "pages" / "4_Clusters.py")
SETTINGS = {"field": "input", "embedder": "tfidf", "min_cluster_size": None, "n_neighbors": None, "seed": 0,
            "sample_size": 5000}
COHORT = 'domain = "legal"'


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """A small demo store with the baseline's input clusters (TF-IDF) computed, as the page would."""
    from analysis.clusters.pipeline import cluster_run
    from analysis.demo.seed import ensure_demo

    path = tmp_path_factory.mktemp("clusters_cohort") / "demo.duckdb"
    with open_store(path, seed_demo=False) as store:
        ensure_demo(store, n_prompts=1200)
        result = cluster_run(store, "baseline", **SETTINGS)
        frame = store.examples(result.run_id).merge(result.labels[["example_id", "cluster"]], on="example_id")
    return path, result.run_id, frame


@pytest.fixture
def demo(demo_db, monkeypatch):
    path, run_id, frame = demo_db
    point_app_at(monkeypatch, path)
    monkeypatch.setenv("USER", "ada")
    return path, run_id, frame


def start(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.session_state["clusters_embedder"] = "tfidf"
    for key, value in params.items():
        at.query_params[key] = value
    return run(at)


def run(at) -> AppTest:
    at = at.run()
    assert not at.exception, at.exception
    return at


def figure(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_the_cluster_table_is_the_cohorts(demo):
    _, run_id, frame = demo
    at = start(run=run_id, where=COHORT)
    legal = frame[frame["meta.domain"] == "legal"]
    assert {m.label: m.value for m in at.metric}["Examples"] == f"{len(legal):,}"
    table = at.dataframe[0].value
    assert table["size"].sum() == len(legal)
    for cluster, members in legal.groupby(legal["cluster"].astype(str)):
        row = table[table["cluster"] == cluster].iloc[0]
        scored = members[~members["unscorable"].astype(bool)]
        assert row["size"] == len(members)
        assert abs(row["rate"] - 100 * (~scored["correct"].astype(bool)).mean()) < 1e-9
    drawn = sum(len(t.get("customdata") or []) for t in figure(at)["data"])
    assert drawn == len(legal)  # the map shows the cohort's examples only


def test_a_selected_cluster_is_in_the_url_highlighted_on_the_map_and_its_examples_link(demo):
    _, run_id, frame = demo
    at = start(run=run_id)
    cluster = str(at.dataframe[0].value["cluster"].iloc[0])
    again = start(run=run_id, cluster=cluster)
    assert again.query_params["cluster"] == cluster
    assert figure(again) == figure(at)  # the map is not drawn again: a style sheet highlights the cluster
    styles = [h.proto.body for h in again.get("html") if "scatterlayer" in h.proto.body]
    position = next(k for k, t in enumerate(figure(again)["data"]) if t.get("meta") == cluster)
    assert len(styles) == 1 and f".trace:not(:nth-child({position + 1})) path.point {{fill: #CBD5E1" in styles[0]
    highlighted = figure(again)["data"][position]
    assert {c[3] for c in highlighted["customdata"]} == set(
        frame.loc[frame["cluster"].astype(str) == cluster, "example_id"].astype(str))
    assert not [h for h in at.get("html") if "scatterlayer" in h.proto.body]  # nothing highlighted before
    examples = next(d.value for d in again.dataframe if "open" in d.value.columns and "output" in d.value.columns)
    query = parse_qs(urlparse(examples["open"].iloc[0]).query)
    assert json.loads(query.pop("set")[0])["kind"] == "slice"  # next / previous step through the cluster
    assert query == {"run": [run_id], "example": [examples["example_id"].iloc[0]]}


def test_a_selection_on_the_map_becomes_the_cohort(demo):
    _, run_id, frame = demo
    at = start(run=run_id)
    map_key = next(k for k in at.session_state if k.startswith("clusters_map_"))
    picked = frame["example_id"].astype(str).iloc[:25].tolist()
    at.session_state[map_key] = {"selection": {"points": [{"customdata": ["0", "correct", "t", e]} for e in picked],
                                               "point_indices": list(range(25)), "box": [{}], "lasso": []}}
    at = run(at)
    at = run(at.button(key="clusters_selection_cohort").click())
    assert at.text_input(key="clusters_cohort_text").value.startswith("example_id in [")
    assert at.dataframe[0].value["size"].sum() == 25
    assert {m.label: m.value for m in at.metric}["Examples"] == "25"
    assert at.query_params["where"].startswith("example_id in [")
    assert any("Within the cohort example\\_id in \\[25 ids\\]" in c.value for c in at.caption)  # not 25 ids


def test_a_cluster_is_pinned_as_a_finding_with_the_cohort(demo):
    path, run_id, frame = demo
    at = start(run=run_id, where=COHORT)
    cluster = str(at.dataframe[0].value["cluster"].iloc[0])
    at = start(run=run_id, where=COHORT, cluster=cluster)
    at.text_area(key="clusters_pin_note").input("a legal topic")
    at = run(at.button(key="clusters_pin").click())
    assert any("Pinned" in s.value for s in at.success)
    with open_store(path, seed_demo=False) as store:
        pinned = findings(store, run_id)
    row = pinned[pinned["note"] == "a legal topic"].iloc[0]
    assert row["kind"] == "cluster" and row["cohort"] == COHORT and row["target"]["cluster"] == cluster
    members = frame[(frame["meta.domain"] == "legal") & (frame["cluster"].astype(str) == cluster)]
    assert row["evidence"]["size"] == len(members)
