"""After a finding is pinned, its note input is empty again (the trial typed a second note onto the first); when the
pin fails, the note stays as typed. On every page that pins: Slices, Compare, Failure modes and Findings."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis import findings, open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "pin_note", n_prompts=1200)


@pytest.fixture
def runs(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        return list(store.runs()["run_id"])[:2]


def _run(at) -> AppTest:
    at = at.run()  # an AppTest, or a widget just clicked (its run() gives the AppTest)
    assert not at.exception, at.exception
    return at


def _page(name: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=TIMEOUT)
    at.query_params.update(query)
    return _run(at)


def _notes(db, run_id) -> list[str]:
    with open_store(db, seed_demo=False) as store:
        return list(findings(store, run_id)["note"])


def _select_row(at: AppTest, prefix: str, row: int) -> AppTest:
    key = next(k for k in at.session_state if k.startswith(prefix))
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return _run(at)


def test_slices(demo_db, runs):
    at = _page("2_Slices.py", run=runs[0], by=["language"], order="1")
    at = _select_row(at, "slices_table_", 0)
    at.text_input(key="slices_pin_author").input("ada")
    at.text_area(key="slices_pin_note").input("first slice note")
    at = _run(at.button(key="slices_pin").click())
    assert any("Pinned" in s.value for s in at.success)
    assert "first slice note" in _notes(demo_db, runs[0])
    assert at.text_area(key="slices_pin_note").value == ""
    assert at.text_input(key="slices_pin_author").value == "ada"  # the author stays


def test_compare(demo_db, runs):
    at = _page("3_Compare.py")
    at.text_input(key="compare_pin_author").input("ada")
    at.text_input(key="compare_pin_note").input("first comparison note")
    next(b for b in at.button if b.label == "Pin as finding").click()
    at = _run(at)
    assert any("Findings page" in s.value for s in at.success)
    assert "first comparison note" in _notes(demo_db, runs[1])
    assert at.text_input(key="compare_pin_note").value == ""
    assert at.text_input(key="compare_pin_author").value == "ada"


def test_failure_modes(demo_db, runs):
    at = _page("5_Failure_modes.py", run=runs[1], spec="demo")
    at.text_input(key="fm_pin_note").input("first cell note")
    at.text_input(key="fm_pin_author").input("bo")
    at.button(key="FormSubmitter:fm_pin_cell_form-Pin cell as finding").click()
    at = _run(at)
    assert "first cell note" in _notes(demo_db, runs[1])
    assert any("Findings page" in s.value for s in at.success)
    assert at.text_input(key="fm_pin_note").value == ""


def test_findings_page_clears_on_success_and_keeps_the_note_on_an_error(demo_db, runs):
    at = _page("8_Findings.py")
    at.text_input(key="pin_value").input("fr")  # not a slice pinned above: a target is pinned once
    at.text_input(key="pin_author").input("cy")
    at.text_input(key="pin_cohort").input("no_such_field = 1")  # refused: the note must survive
    at.text_input(key="pin_note").input("kept after an error")
    at = _run(at)  # the button is enabled once a value and an author are in
    at = _run(at.button(key="pin_button").click())
    assert at.error and at.text_input(key="pin_note").value == "kept after an error"
    at.text_input(key="pin_cohort").input("")
    at = _run(at)
    at = _run(at.button(key="pin_button").click())
    assert "kept after an error" in _notes(demo_db, at.selectbox(key="pin_run").value)
    assert at.text_input(key="pin_note").value == ""


def test_the_name_typed_on_one_page_fills_every_author_box(demo_db, monkeypatch):
    """Every author box is "Your name" and starts with the name typed on any page (the trial saw "Author" on some
    pages, "Your name" on others, and had to type it again on each)."""
    point_app_at(monkeypatch, demo_db)
    monkeypatch.delenv("USER", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.switch_page("pages/8_Findings.py")
    at.run()
    assert not at.exception, at.exception
    box = at.text_input(key="pin_author")
    assert box.label == "Your name" and box.value == ""
    box.input("grace")
    at.run()
    at.switch_page("pages/3_Compare.py")
    at.run()
    assert not at.exception, at.exception
    compare_box = at.text_input(key="compare_pin_author")
    assert (compare_box.label, compare_box.value) == ("Your name", "grace")
