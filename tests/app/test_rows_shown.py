"""Slices and Compare send the browser their first rows (issue #12, speed at 1M examples): 200 unless asked for more,
the CSV every row; a slice chosen elsewhere (a cluster opened as a slice) below those rows is still shown, selected."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

import analysis
from analysis import open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT, shown

TIMEOUT = 90
SLICES = str(ROOT / "pages" / "2_Slices.py")
COMPARE = str(ROOT / "pages" / "3_Compare.py")
#: What the pages show first (pages/2_Slices.py, pages/3_Compare.py: SHOWN_ROWS, TABLE_ROWS).
SHOWN, MOST = 200, 2000


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "rows", n_prompts=3000)


@pytest.fixture
def demo_env(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    return demo_db


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


def engine_slices(db, run_id: str):
    """The engine's slice table with the page's defaults, its redundant rows left out (as the page shows it)."""
    with open_store(db, seed_demo=False) as store:
        by = [a.name for a in analysis.default_attributes(store, run_id)]
        table = analysis.slice_table(store, run_id, by, max_order=2, min_support=30, fdr=0.05, bins=5).table
    return table[~table["redundant"]]


def test_slices_shows_its_first_rows_by_evidence_and_more_when_asked(demo_env):
    at = start(SLICES)
    expected = engine_slices(demo_env, at.session_state["chosen_run"])
    assert len(expected) > SHOWN  # the demo has more slices than the table shows at first
    rows = at.dataframe[0].value
    assert list(rows["description"]) == list(expected["description"].head(SHOWN))
    assert any(f"The first {SHOWN:,} of {len(expected):,} slices" in c.value for c in at.caption)
    at.toggle(key="slices_show_more").set_value(True)
    rerun(at)
    assert list(at.dataframe[0].value["description"]) == list(expected["description"].head(MOST))


def test_a_slice_chosen_below_the_rows_shown_is_shown_last_and_selected(demo_env):
    with open_store(demo_env, seed_demo=False) as store:
        run_id = str(store.runs()["run_id"].iloc[0])
    expected = engine_slices(demo_env, run_id)
    far = expected.iloc[SHOWN + 50]  # not among the first rows
    at = start(SLICES, slices_selected={"run": run_id, "predicate": dict(far["predicate"])})
    rows = at.dataframe[0].value
    assert len(rows) == SHOWN + 1 and rows["description"].iloc[-1] == far["description"]
    key = next(k for k in at.session_state if k.startswith("slices_table_"))
    assert at.session_state[key]["selection"]["rows"] == [SHOWN]
    heading = next(shown(m.value) for m in at.markdown if shown(m.value).startswith("**") and " examples, " in m.value)
    assert heading.startswith(f"**{far['description']}**")


def test_compare_shows_its_first_rows_and_a_selected_row_fills_the_drilldown(demo_env):
    at = start(COMPARE)
    at.radio(key="compare_order").set_value(2)
    rerun(at)
    with open_store(demo_env, seed_demo=False) as store:
        baseline, candidate = at.session_state["chosen_baseline"], at.session_state["chosen_candidate"]
        by = at.multiselect(key="compare_by").value
        expected = analysis.compare_runs(store, baseline, candidate, by, max_order=2, min_support=30, fdr=0.05).table
    assert len(expected) > SHOWN
    assert list(at.dataframe[0].value["description"]) == list(expected["description"].head(SHOWN))
    at.toggle(key="compare_show_more").set_value(True)
    rerun(at)
    assert list(at.dataframe[0].value["description"]) == list(expected["description"].head(MOST))
    key = next(k for k in at.session_state if k.startswith("compare_table_"))
    at.session_state[key] = {"selection": {"rows": [3], "columns": [], "cells": []}}
    rerun(at)
    chosen = at.selectbox(key="compare_row")
    assert chosen.format_func(chosen.value) == expected["description"].iloc[3]


def test_compare_pairs_link_each_example_and_name_their_verdict(demo_env):
    import ui.cohort

    at = start(COMPARE)
    candidate = at.session_state["chosen_candidate"]
    pairs = at.dataframe[1].value
    assert len(pairs) > 1
    origin = parse_qs(urlparse(pairs["open"].iloc[0]).query)["set"][0]  # the pairs shown: next / previous step there
    assert json.loads(origin)["kind"] == "comparison"
    assert list(pairs["open"]) == [ui.cohort.example_link(candidate, e, None, origin) for e in pairs["example_id"]]
    box = at.selectbox(key="compare_pair")
    assert list(box.options) == [f"{e} ({v})" for e, v in zip(pairs["example_id"], pairs["verdict"])]
