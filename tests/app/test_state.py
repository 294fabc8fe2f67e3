"""State that follows the user (issue #12): a selection never outlives the table it indexes, choices follow the
user from run to run and live in the URL, the Failure modes baseline and annotation form follow the run and the
cell, Compare starts from two runs that share examples."""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT, shown

TIMEOUT = 90
SLICES = str(ROOT / "pages" / "2_Slices.py")
COMPARE = str(ROOT / "pages" / "3_Compare.py")
FAILURE_MODES = str(ROOT / "pages" / "5_Failure_modes.py")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "state", n_prompts=3000)


@pytest.fixture
def demo_env(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        return {name: run for run, name in zip(store.runs()["run_id"], store.runs()["name"])}


def start(page: str, **state) -> AppTest:
    at = AppTest.from_file(page, default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def slice_table_key(at: AppTest) -> str:
    keys = [k for k in at.session_state if k.startswith("slices_table_")]
    assert len(keys) == 1, keys
    return keys[0]


def select_row(at: AppTest, row: int) -> str:
    """Select a row of the slice table as the browser would; returns its description."""
    at.session_state[slice_table_key(at)] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    description = at.dataframe[0].value["description"].iloc[row]
    rerun(at)
    return description


def examples_heading(at: AppTest) -> str | None:
    """The slice whose examples are shown (the bold description above them), or None."""
    for m in at.markdown:
        text = shown(m.value)
        if text.startswith("**") and " examples, error rate " in text:
            return text[2:text.index("**", 2)]
    return None


def test_a_selected_slice_shows_its_examples_and_is_kept_in_the_url(demo_env):
    at = start(SLICES)
    picked = select_row(at, 3)
    assert examples_heading(at) == picked
    assert at.session_state["slices_selected"]["predicate"]
    assert "slice" in at.query_params and at.query_params["order"] == "2"


@pytest.mark.parametrize("change", ["order", "attributes", "toggle", "run"])
def test_a_selection_never_shows_a_slice_that_was_not_picked(demo_env, change):
    at = start(SLICES)
    table = at.dataframe[0].value
    pairs = [i for i, d in enumerate(table["description"]) if " AND " in d]
    picked = select_row(at, pairs[0])  # a pair: gone when only single slices are shown
    assert examples_heading(at) == picked
    if change == "order":
        at.radio(key="slices_order").set_value(1)
    elif change == "attributes":
        at.multiselect(key="slices_by").set_value(["domain", "language"][::-1 if "domain" in picked else 1][:1])
    elif change == "toggle":
        at.toggle(key="slices_only_findings").set_value(True)
    else:
        at.selectbox(key="picker_run").set_value(demo_env["after-objective-change"])
    rerun(at)
    new = at.dataframe[0].value
    heading = examples_heading(at)
    # the picked slice again, where it is still a row; otherwise nothing, never the slice now at that row
    assert heading is None or heading == picked
    if change == "run":
        assert heading is None  # a slice of another run was never picked
    if heading is None:
        assert any("Select a slice" in c.value for c in at.caption)
    else:
        assert picked in set(new["description"])


def test_the_selected_slice_is_selected_again_when_it_is_still_a_row(demo_env):
    at = start(SLICES)
    table = at.dataframe[0].value
    worse = [i for i, s in enumerate(table["status"]) if s == "worse"]
    picked = select_row(at, worse[-1])
    at.toggle(key="slices_only_findings").set_value(True)
    rerun(at)
    assert examples_heading(at) == picked
    key = slice_table_key(at)
    rows = at.session_state[key]["selection"]["rows"]
    assert at.dataframe[0].value["description"].iloc[rows[0]] == picked  # highlighted where it now is


def test_attributes_follow_the_user_across_runs_and_into_the_url(demo_env):
    at = start(SLICES)
    at.multiselect(key="slices_by").set_value(["domain", "language"])
    rerun(at)
    at.selectbox(key="picker_run").set_value(demo_env["after-objective-change"])
    rerun(at)
    assert at.multiselect(key="slices_by").value == ["domain", "language"]
    assert at.query_params["by"] == ["domain", "language"]
    # a new session opened on that URL starts from the same choice
    fresh = AppTest.from_file(SLICES, default_timeout=TIMEOUT)
    fresh.query_params.update({"by": ["language"], "order": "1", "run": demo_env["baseline"]})
    rerun(fresh)
    assert fresh.multiselect(key="slices_by").value == ["language"] and fresh.radio(key="slices_order").value == 1
    assert " AND " not in " ".join(fresh.dataframe[0].value["description"])


def test_an_attribute_the_next_run_lacks_is_dropped_and_the_rest_kept(tmp_path, monkeypatch):
    db = tmp_path / "two.duckdb"
    with open_store(db, seed_demo=False) as store:
        ids = [f"e{i}" for i in range(120)]
        one = store.ingest_frame(pd.DataFrame({"id": ids, "prompt": "q", "lang": ["en", "fr"] * 60,
                                               "topic": ["a", "b", "c"] * 40, "correct": [True, False, True] * 40}),
                                 name="one", mapping={"id": "id"}).added[0].run_id
        two = store.ingest_frame(pd.DataFrame({"id": ids, "prompt": "q", "lang": ["en", "fr"] * 60,
                                               "correct": [True, True, False] * 40}),
                                 name="two", mapping={"id": "id"}).added[0].run_id
    monkeypatch.setenv("FAULTLINE_DB", str(db))
    at = start(SLICES, chosen_run=one)
    at.multiselect(key="slices_by").set_value(["topic", "lang"])
    rerun(at)
    at.selectbox(key="picker_run").set_value(two)
    rerun(at)
    assert at.multiselect(key="slices_by").value == ["lang"]
    at.selectbox(key="picker_run").set_value(one)
    rerun(at)
    assert at.multiselect(key="slices_by").value == ["lang"]  # the choice made on "two" follows back


def test_failure_modes_baseline_follows_the_run(demo_env):
    base, after = demo_env["baseline"], demo_env["after-objective-change"]
    at = start(FAILURE_MODES, chosen_run=base)
    assert at.selectbox(key=f"fm_baseline_{base}").value == "(none)"  # nothing was loaded before it
    at.selectbox(key="picker_run").set_value(after)
    rerun(at)
    assert at.selectbox(key=f"fm_baseline_{after}").value == base
    assert len(at.get("plotly_chart")) == 2  # the matrix and the Goodhart plot


def test_the_annotation_form_follows_the_selected_cell(demo_env):
    at = start(FAILURE_MODES)
    at.text_input(key="fm_example_id").input("ex-00007")
    rerun(at)
    for mode in ("over_refusal", "reward_hacking"):
        at.selectbox(key="fm_mode").set_value(mode)
        rerun(at)
        assert at.selectbox(key="fm_annotate_mode").value == mode
        assert at.text_input(key="fm_example_id").value == ""  # picked among another mode's examples
        slice_box = at.selectbox(key="fm_slice")
        concentration = [t.value for t in at.dataframe if "in_mode" in t.value.columns]
        if concentration and len(concentration[0]):
            assert slice_box.value in set(concentration[0]["description"]) or slice_box.value in slice_box.options


def test_compare_starts_from_two_runs_that_share_examples(tmp_path, monkeypatch):
    db = tmp_path / "three.duckdb"
    frame = pd.DataFrame({"id": [f"e{i}" for i in range(200)], "prompt": "q", "lang": ["en", "fr"] * 100,
                          "correct": [True, False, True, True] * 50})
    with open_store(db, seed_demo=False) as store:
        first = store.ingest_frame(frame, name="first", mapping={"id": "id"}).added[0].run_id
        store.ingest_frame(frame.assign(id=[f"x{i}" for i in range(200)]), name="unrelated", mapping={"id": "id"})
        third = store.ingest_frame(frame.assign(correct=[True, True, False, True] * 50), name="rerun",
                                   mapping={"id": "id"}).added[0].run_id
    monkeypatch.setenv("FAULTLINE_DB", str(db))
    at = start(COMPARE)
    assert at.selectbox(key="picker_baseline").value == first
    assert at.selectbox(key="picker_candidate").value == third
    assert not any("share no example ids" in shown(e.value) for e in at.error)
    assert any(m.label == "Matched examples" and m.value == "200" for m in at.metric)


def test_a_link_to_a_run_the_store_lacks_says_so(demo_env):
    at = AppTest.from_file(SLICES, default_timeout=TIMEOUT)
    at.query_params.update({"run": "no-such-run"})
    rerun(at)
    warned = " ".join(shown(w.value) for w in at.warning)
    assert "no-such-run" in warned and "does not hold" in warned
    # a link by the run's name is a run the store holds: no warning
    named = AppTest.from_file(SLICES, default_timeout=TIMEOUT)
    named.query_params.update({"run": "baseline"})
    rerun(named)
    assert not any("does not hold" in shown(w.value) for w in named.warning)
    assert named.selectbox(key="picker_run").value == demo_env["baseline"]


def test_runs_that_share_a_name_read_what_tells_them_apart_first():
    # trial 7: two OpenAI-evals runs of one eval read "partially_solved_crossword_clue..." in both pickers (the id came
    # after the name, past the box's edge)
    from ui.session import run_label

    names = {"r1": "crossword.dev.v0", "r2": "crossword.dev.v0", "r3": "arithmetic"}
    label = run_label(names, {"r1": "gpt-3.5-turbo", "r2": "gpt-3.5-turbo-0301", "r3": "gpt-4"})
    assert [label(r) for r in names] == ["gpt-3.5-turbo · crossword.dev.v0", "gpt-3.5-turbo-0301 · crossword.dev.v0",
                                         "arithmetic"]
    same_model = run_label(names, {"r1": "m", "r2": "m", "r3": "m"})
    assert [same_model(r) for r in names] == ["r1 · crossword.dev.v0", "r2 · crossword.dev.v0", "arithmetic"]
    assert run_label(names)("r2") == "r2 · crossword.dev.v0"
