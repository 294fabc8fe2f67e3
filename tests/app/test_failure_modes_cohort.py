"""The Failure modes page within a cohort (issue #14): the cohort box is on the page, the matrix and every count follow
``?where=`` (a typed condition) and ``?cohort=`` (a saved one), the examples are the cohort's, and a condition that
does not fit the run is said in plain words, never as a traceback."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from analysis.slicing.cohorts import save_cohort
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT, shown

PAGE = str(ROOT / "pages" / "5_Failure_modes.py")
TIMEOUT = 120
COHORT = 'domain = "legal"'


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = build_demo(tmp_path_factory, "fm_cohort", n_prompts=2000)
    with open_store(path, seed_demo=False) as store:
        save_cohort(store, "legal", COHORT, author="ada")
    return path


@pytest.fixture
def demo(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        run_id = store.run("after-objective-change").run_id
        return run_id, store.examples(run_id)


def start(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def matrix(at: AppTest) -> dict:
    """The matrix's figure (the page's first chart) as plotly JSON."""
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def judged(at: AppTest) -> list:
    """The matrix's AUC per judged cell (None elsewhere): ``data[1].z`` of :func:`analysis.figures.modes_matrix`."""
    return matrix(at)["data"][1]["z"]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def table(at: AppTest, column: str):
    return next(t.value for t in at.dataframe if column in t.value.columns)


def test_the_matrix_and_the_counts_follow_where(demo):
    run_id, frame = demo
    whole = start(run=run_id, spec="demo")
    legal = start(run=run_id, spec="demo", where=COHORT)
    assert legal.text_input(key="fm_cohort_text").value == COHORT
    scored = frame[(frame["meta.domain"] == "legal") & ~frame["unscorable"].astype(bool)]
    assert metric(legal, "Scored examples") == f"{len(scored):,}"  # pandas on the stored rows
    assert metric(whole, "Scored examples") == f"{int((~frame['unscorable'].astype(bool)).sum()):,}"
    assert judged(legal) != judged(whole)  # the matrix is the cohort's
    modes, modes_whole = table(legal, "sources_text"), table(whole, "sources_text")
    assert (modes.set_index("name")["n"] <= modes_whole.set_index("name")["n"]).all()
    assert (modes["n"] != modes_whole["n"]).any()
    assert any("Within the cohort" in shown(c.value) for c in legal.caption)
    assert legal.query_params["where"] == COHORT


def test_a_saved_cohort_in_the_url_gives_the_same_matrix_as_its_condition(demo):
    run_id, _ = demo
    by_name = start(run=run_id, spec="demo", cohort="legal")
    by_text = start(run=run_id, spec="demo", where=COHORT)
    assert by_name.text_input(key="fm_cohort_text").value == COHORT
    assert matrix(by_name)["data"] == matrix(by_text)["data"]
    assert metric(by_name, "Scored examples") == metric(by_text, "Scored examples")
    assert by_name.query_params["cohort"] == "legal"


def test_the_examples_of_a_mode_are_the_cohorts_and_open_within_it(demo):
    run_id, frame = demo
    at = start(run=run_id, spec="demo", where=COHORT)
    examples = table(at, "why")
    legal = set(frame.loc[frame["meta.domain"] == "legal", "example_id"].astype(str))
    assert len(examples) and set(examples["example_id"].astype(str)) <= legal
    query = parse_qs(urlparse(examples["open"].iloc[0]).query)
    assert query["cohort"] == [COHORT] and query["run"] == [run_id]


def test_an_invalid_cohort_is_said_in_plain_words_and_the_page_shows_the_whole_run(demo):
    run_id, _ = demo
    whole = start(run=run_id, spec="demo")
    at = start(run=run_id, spec="demo", where='domian = "legal"')  # start() asserts no exception
    errors = [shown(e.value) for e in at.error]
    assert any("Rule 'cohort', position 1: unknown field 'domian'" in e for e in errors), errors
    assert not any("Traceback" in e or "Something went wrong" in e for e in errors)
    assert any("does not fit this run" in shown(w.value) for w in at.warning)
    assert judged(at) == judged(whole)
    assert metric(at, "Scored examples") == metric(whole, "Scored examples")
