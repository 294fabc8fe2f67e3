"""The cohort box (ui.cohort_box, issue #14): a condition typed or picked, checked on the run with the engine's own
errors in plain words, saved by name with its author, and kept in the URL (``?where=`` typed, ``?cohort=`` saved)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import cohorts, open_store

TIMEOUT = 60
SCRIPT = """
import streamlit as st
import ui
store, run_id, db, version = ui.page_with_run("Cohort box", "A page with only the cohort box.")
where = ui.cohort_box(store, db, version, run_id, key="t")
st.text("where=" + repr(where))
"""


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    return pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": [f"q{i}" for i in range(n)],
                         "lang": rng.choice(["en", "sw", "es"], n), "domain": rng.choice(["legal", "chat"], n),
                         "correct": rng.random(n) < 0.7})


@pytest.fixture
def env(tmp_path, monkeypatch, frame):
    path = tmp_path / "cohort.duckdb"
    with open_store(path, seed_demo=False) as store:
        store.ingest_frame(frame, name="r")
    monkeypatch.setenv("FAULTLINE_DB", str(path))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("USER", "ada")
    return path


def run(at) -> AppTest:
    """Run the app (or the app of a widget just changed) and check it raised nothing."""
    at = at.run()
    assert not at.exception, at.exception
    return at


def returned(at: AppTest) -> str:
    return next(t.value for t in at.text if t.value.startswith("where="))


def box(at: AppTest):
    return next(t for t in at.text_input if t.label.startswith("Cohort"))


def typed(at: AppTest, text: str) -> AppTest:
    """Type a condition into the box and apply it (the box is a form: Enter or Apply, never on blur)."""
    box(at).input(text)
    return at.button(key="t_apply").click()


def test_a_typed_condition_is_checked_counted_and_kept_in_the_url(env, frame):
    at = run(AppTest.from_string(SCRIPT, default_timeout=TIMEOUT))
    assert returned(at) == "where=None"
    run(typed(at, 'lang = "sw" and domain = "legal"'))
    assert returned(at) == "where='lang = \"sw\" and domain = \"legal\"'"
    expected = int(((frame["lang"] == "sw") & (frame["domain"] == "legal")).sum())
    assert any(c.value.startswith(f"{expected:,} examples in the cohort") for c in at.caption)
    assert at.query_params["where"] == 'lang = "sw" and domain = "legal"'
    assert "cohort" not in at.query_params and not at.warning  # a condition that fits: no whole-run warning
    run(typed(at, ""))
    assert returned(at) == "where=None"
    assert "where" not in at.query_params


def test_a_condition_that_does_not_fit_shows_the_engines_words_and_filters_nothing(env):
    at = run(AppTest.from_string(SCRIPT, default_timeout=TIMEOUT))
    run(typed(at, 'langage = "sw"'))
    assert returned(at) == "where=None"
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "position 1" in errors[0] and "langage" in errors[0], errors
    # said where the numbers are as well: they are the whole run's
    assert any("over all the run's examples" in w.value for w in at.warning)
    run(typed(at, 'lang = "sw" and'))
    assert "position 16" in at.error[0].value


def test_a_saved_cohort_is_stored_with_its_author_and_reopens_from_its_link(env, frame):
    at = run(AppTest.from_string(SCRIPT, default_timeout=TIMEOUT))
    run(typed(at, 'lang = "es"'))
    at.text_input(key="t_name").input("spanish")
    assert at.text_input(key="t_author").value == "ada"  # from $USER
    run(at.button(key="t_save").click())
    with open_store(env, seed_demo=False) as store:
        saved = cohorts(store)
    assert list(saved["name"]) == ["spanish"] and list(saved["author"]) == ["ada"]
    assert list(saved["predicate"]) == ['lang = "es"']
    assert at.query_params["cohort"] == "spanish" and "where" not in at.query_params
    assert any("Saved the cohort" in s.value for s in at.success)

    fresh = AppTest.from_string(SCRIPT, default_timeout=TIMEOUT)
    fresh.query_params["cohort"] = "spanish"
    fresh = run(fresh)
    assert returned(fresh) == "where='lang = \"es\"'"
    assert fresh.selectbox(key="t_pick").value == "spanish"
    expected = int((frame["lang"] == "es").sum())
    assert any(c.value.startswith(f"{expected:,} examples in the cohort") for c in fresh.caption)
    run(fresh.selectbox(key="t_pick").select("(none)"))
    assert returned(fresh) == "where=None"


def test_saving_without_a_name_says_so(env):
    at = run(AppTest.from_string(SCRIPT, default_timeout=TIMEOUT))
    run(typed(at, 'lang = "es"'))
    run(at.button(key="t_save").click())
    assert any("needs a name" in e.value for e in at.error)


def test_a_link_to_a_cohort_the_store_lacks_is_named(env):
    at = AppTest.from_string(SCRIPT, default_timeout=TIMEOUT)
    at.query_params["cohort"] = "nowhere"
    at = run(at)
    assert any("nowhere" in w.value for w in at.warning)
    assert returned(at) == "where=None"


def test_a_map_selection_condition_selects_exactly_those_ids_even_with_quotes(tmp_path):
    from analysis import check_cohort
    from ui.cohort import ids_condition

    ids = ['plain', 'with "quotes"', "back\\slash", "it's", "other"]
    with open_store(tmp_path / "ids.duckdb", seed_demo=False) as store:
        store.ingest_frame(pd.DataFrame({"example_id": ids, "prompt": ["q"] * 5, "correct": [True] * 5}), name="r")
        for chosen in (ids[:1], ids[1:4], ids):
            assert check_cohort(store, "r", ids_condition(chosen)) == len(chosen)
