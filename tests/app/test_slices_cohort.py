"""The Slices page with a cohort, a graded outcome, example links and pinning (issue #14): every number of the page
is the cohort's (checked against pandas and scipy on the stored examples), the view lives in the URL, an example
opens in the example view, a slice is pinned as a finding."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest

from analysis import findings, open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120
SLICES = str(ROOT / "pages" / "2_Slices.py")
COHORT = 'domain = "legal"'


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "slices_cohort", n_prompts=2000)


@pytest.fixture
def demo(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    monkeypatch.setenv("USER", "ada")
    with open_store(demo_db, seed_demo=False) as store:
        run_id = store.runs()["run_id"].iloc[0]
        return run_id, store.examples(run_id)


def start(**params) -> AppTest:
    at = AppTest.from_file(SLICES, default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    return run(at)


def run(at) -> AppTest:
    at = at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def row_of(at: AppTest, description: str) -> int:
    return list(at.dataframe[0].value["description"]).index(description)


def select(at: AppTest, row: int) -> AppTest:
    key = next(k for k in at.session_state if k.startswith("slices_table_"))
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return run(at)


def test_every_count_is_the_cohorts(demo):
    run_id, frame = demo
    at = start(run=run_id, by=["language", "channel"], order="1", where=COHORT)
    legal = frame[(frame["meta.domain"] == "legal") & ~frame["unscorable"].astype(bool)]
    assert metric(at, "Scored examples") == f"{len(legal):,}"
    assert metric(at, "Error rate") == f"{(~legal['correct'].astype(bool)).mean():.1%}"
    table = at.dataframe[0].value
    for language, group in legal.groupby("meta.language"):
        row = table[table["description"] == f"language = {language}"].iloc[0]
        assert row["n"] == len(group)
        assert row["errors"] == int((~group["correct"].astype(bool)).sum())
    assert at.query_params["where"] == COHORT


def test_a_graded_outcome_shows_the_mean_with_a_t_interval(demo):
    run_id, frame = demo
    at = start(run=run_id, by=["language"], order="1", outcome="score", where=COHORT)
    assert at.selectbox(key="slices_outcome").value == "score"
    table = at.dataframe[0].value
    assert {"mean", "ci_low", "ci_high", "vs_rest"} <= set(table.columns) and "rate" not in table.columns
    legal = frame[(frame["meta.domain"] == "legal") & frame["score"].notna()]
    for language, group in legal.groupby("meta.language"):
        row = table[table["description"] == f"language = {language}"].iloc[0]
        scores = group["score"].to_numpy(dtype=float)
        low, high = stats.t.interval(0.95, len(scores) - 1, loc=scores.mean(), scale=stats.sem(scores))
        low, high = max(low, legal["score"].min()), min(high, legal["score"].max())  # cut at the cohort's scores
        assert row["n"] == len(scores)
        assert np.isclose(row["mean"], scores.mean()) and np.isclose(row["ci_low"], low)
        assert np.isclose(row["ci_high"], high)
    assert metric(at, "Mean score") == f"{legal['score'].mean():.3f}"


def test_the_view_lives_in_the_url_and_an_example_opens_in_the_example_view(demo):
    run_id, frame = demo
    at = start(run=run_id, by=["language", "domain"], order="2", where='channel = "web"')
    at = select(at, row_of(at, "language = es"))
    assert at.query_params["slice"] == '{"language": "es"}'
    assert at.query_params["order"] == "2" and at.query_params["outcome"] == "correct"
    examples = at.dataframe[1].value
    wanted = frame[(frame["meta.language"] == "es") & (frame["meta.channel"] == "web")]
    assert set(examples["example_id"]) == set(wanted["example_id"].astype(str))
    link = urlparse(examples["open"].iloc[0])
    assert link.path.endswith("/Example")
    query = parse_qs(link.query)
    assert json.loads(query.pop("set")[0]) == {"kind": "slice", "predicate": {"language": "es"}, "bins": 5}
    assert query == {"run": [run_id], "example": [examples["example_id"].iloc[0]], "cohort": ['channel = "web"']}

    # the same URL in a new session gives the same view
    again = start(run=run_id, by=["language", "domain"], order="2", where='channel = "web"', slice='{"language": "es"}')
    assert again.dataframe[1].value["example_id"].tolist() == examples["example_id"].tolist()
    assert metric(again, "Scored examples") == metric(at, "Scored examples")


def test_pinning_the_selected_slice_stores_a_finding_with_its_cohort_and_note(demo, demo_db):
    run_id, frame = demo
    at = start(run=run_id, by=["language"], order="1", where=COHORT)
    at = select(at, row_of(at, "language = sw"))
    at.text_area(key="slices_pin_note").input("legal Swahili fails")
    at = run(at.button(key="slices_pin").click())
    assert any("Pinned" in s.value for s in at.success)
    with open_store(demo_db, seed_demo=False) as store:
        pinned = findings(store, run_id)
    row = pinned[pinned["note"] == "legal Swahili fails"].iloc[0]
    assert row["cohort"] == COHORT and row["author"] == "ada" and row["kind"] == "slice"
    group = frame[(frame["meta.domain"] == "legal") & (frame["meta.language"] == "sw")
                  & ~frame["unscorable"].astype(bool)]
    assert row["evidence"]["n"] == len(group)


def test_attributes_of_a_link_that_the_run_lacks_are_named_below_the_picker(demo):
    run_id, _ = demo
    at = start(run=run_id, by=["language", "no_such_attribute"], order="1")
    assert at.multiselect(key="slices_by").value == ["language"]
    sidebar = list(at.sidebar)
    picker = next(i for i, w in enumerate(sidebar) if getattr(w, "label", None) == "Attributes")
    note = next(i for i, w in enumerate(sidebar) if str(getattr(w, "value", "")).startswith("Not attributes of"))
    assert note > picker  # below the picker: a note above it moved the list the browser sweep opens
    assert "no\\_such\\_attribute" in sidebar[note].value


def test_a_slice_pinned_with_a_graded_outcome_keeps_its_mean_and_recomputes(demo, demo_db):
    from analysis import recompute_finding

    run_id, frame = demo
    at = start(run=run_id, by=["language"], order="1", outcome="score", where=COHORT)
    at = select(at, row_of(at, "language = es"))
    at.text_area(key="slices_pin_note").input("graded pin")
    at = run(at.button(key="slices_pin").click())
    with open_store(demo_db, seed_demo=False) as store:
        pinned = findings(store, run_id)
        row = pinned[pinned["note"] == "graded pin"].iloc[0]
        again = recompute_finding(store, row["finding_id"])
    scores = frame[(frame["meta.domain"] == "legal") & (frame["meta.language"] == "es")]["score"].dropna()
    assert row["evidence"]["n"] == len(scores) and np.isclose(row["evidence"]["mean"], scores.mean())
    assert row["evidence"]["outcome"] == "score" and row["settings"]["outcome"] == "score"
    assert np.isclose(again["mean"], row["evidence"]["mean"]) and again["n"] == row["evidence"]["n"]


def test_a_heatmap_with_an_attribute_the_cohort_fixes_says_so(demo):
    """The trial crossed language with domain under the cohort domain = "legal" and read "Nothing to draw: no example
    has both language and domain"; every example has both, domain takes one value in the cohort."""
    run_id, examples = demo
    at = start(run=run_id, by=["language", "domain"], order="1", where=COHORT)
    at.selectbox(key="heat_x").set_value("language")
    at = run(at.selectbox(key="heat_y").set_value("domain"))
    assert examples.loc[examples["meta.domain"] == "legal", "meta.domain"].nunique() == 1  # one value in the cohort
    said = [i.value for i in at.info]
    assert any("domain takes a single value in this cohort" in v for v in said), said
    assert not any("no example has both" in c.proto.spec for c in at.get("plotly_chart"))
    # without the cohort the same two attributes are crossed
    at = start(run=run_id, by=["language", "domain"], order="1")
    at.selectbox(key="heat_x").set_value("language")
    at = run(at.selectbox(key="heat_y").set_value("domain"))
    assert not any("single value" in i.value for i in at.info)
    assert any("Error rate: language x domain" in c.proto.spec for c in at.get("plotly_chart"))
