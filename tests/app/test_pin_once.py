"""A target is pinned once (trial item): after a slice, a comparison row or a matrix cell is pinned, its pin panel says
who pinned it and when and offers no second pin (note and button disabled); a pin that gets through anyway (a second
browser tab) is refused by the engine in plain words, and the store keeps one finding."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis import findings, open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "pin_once", n_prompts=1200)


@pytest.fixture
def runs(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        return list(store.runs()["run_id"])[:2]


def _run(at) -> AppTest:
    at = at.run()
    assert not at.exception, at.exception
    return at


def _page(name: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=TIMEOUT)
    at.query_params.update(query)
    return _run(at)


def _findings(db, run_id):
    with open_store(db, seed_demo=False) as store:
        return findings(store, run_id)


def _already(at: AppTest) -> list[str]:
    return [i.value for i in at.info if "Already pinned by" in i.value]


def _slices_with_row_0(runs) -> AppTest:
    at = _page("2_Slices.py", run=runs[0], by=["language"], order="1")
    key = next(k for k in at.session_state if k.startswith("slices_table_"))
    at.session_state[key] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    return _run(at)


def test_slices_says_who_pinned_it_and_offers_no_second_pin(demo_db, runs):
    at = _slices_with_row_0(runs)
    other_tab = _slices_with_row_0(runs)  # opened before the pin: its button is still enabled
    assert not _already(at) and not at.button(key="slices_pin").disabled
    at.text_input(key="slices_pin_author").input("ada")
    at.text_area(key="slices_pin_note").input("first")
    at = _run(at.button(key="slices_pin").click())
    pinned = _findings(demo_db, runs[0])
    assert len(pinned) == 1
    # the run right after the pin confirms it, and only that (not "already pinned" beside "pinned")
    assert any("Pinned" in m.value for m in at.success) and not _already(at)
    assert at.button(key="slices_pin").disabled
    at = _run(at)  # any later run says who pinned it
    notice = _already(at)
    assert len(notice) == 1 and "ada" in notice[0] and f"{pinned['created_at'].iloc[0]:%Y-%m-%d %H:%M}" in notice[0]
    assert at.button(key="slices_pin").disabled and at.text_area(key="slices_pin_note").disabled
    # a second pin that reaches the engine anyway (say, from a tab opened before the first pin) is refused
    other_tab.text_input(key="slices_pin_author").input("bo")
    other_tab.text_area(key="slices_pin_note").input("second")
    other_tab = _run(other_tab.button(key="slices_pin").click())
    assert any("already pinned" in e.value and "ada" in e.value for e in other_tab.error)
    assert other_tab.button(key="slices_pin").disabled
    assert len(_findings(demo_db, runs[0])) == 1


def test_compare_row_pinned_once(demo_db, runs):
    at = _page("3_Compare.py")
    submit = next(b for b in at.button if b.label == "Pin as finding")
    assert not submit.disabled and not _already(at)
    at.text_input(key="compare_pin_author").input("bo")
    at.text_input(key="compare_pin_note").input("a regression")
    at = _run(next(b for b in at.button if b.label == "Pin as finding").click())
    candidate = runs[1]
    assert len(_findings(demo_db, candidate).query("kind == 'comparison'")) == 1
    assert any("Pinned" in m.value for m in at.success) and not _already(at)
    at = _run(at)
    assert any("bo" in n for n in _already(at))
    assert next(b for b in at.button if b.label == "Pin as finding").disabled
    assert at.text_input(key="compare_pin_note").disabled


def test_failure_mode_cell_pinned_once(demo_db, runs):
    at = _page("5_Failure_modes.py", run=runs[1], spec="demo")
    submit = "FormSubmitter:fm_pin_cell_form-Pin cell as finding"
    assert not at.button(key=submit).disabled
    at.text_input(key="fm_pin_note").input("cell note")
    at.text_input(key="fm_pin_author").input("cy")
    at = _run(at.button(key=submit).click())
    assert len(_findings(demo_db, runs[1]).query("kind == 'cell'")) == 1
    assert any("Pinned" in m.value for m in at.success) and not _already(at)
    at = _run(at)
    assert any("cy" in n for n in _already(at))
    assert at.button(key=submit).disabled
