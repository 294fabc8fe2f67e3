"""The floor page of ``bench/bench_ui.py`` (``--page elements``): each element kind draws its element, and another
one for another selection (a redraw is what the bench times), without an exception."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from bench.bench_ui import ELEMENTS, FLOOR_APP

#: What each kind draws: the element type AppTest lists it under, and how many.
DRAWN = {"none": (None, 0), "metrics": ("metric", 8), "table": ("dataframe", 1),
         "styled table": ("dataframe", 1), "slice chart": ("plotly_chart", 1), "map": ("plotly_chart", 1)}


def test_every_kind_is_listed_here():
    assert set(DRAWN) == set(ELEMENTS)


@pytest.mark.parametrize("kind", list(ELEMENTS))
def test_each_kind_draws_its_element_and_another_for_another_selection(kind, monkeypatch):
    monkeypatch.setenv("FAULTLINE_FLOOR_ELEMENT", kind)
    at = AppTest.from_file(str(FLOOR_APP), default_timeout=60).run()
    assert not at.exception, at.exception
    element, count = DRAWN[kind]
    if element is None:
        assert not at.get("plotly_chart") and not at.get("dataframe") and not at.get("metric")
        return
    first = [e.proto.SerializeToString() for e in at.get(element)]
    assert len(first) == count
    at.selectbox(key="floor_option").set_value("three").run()
    assert not at.exception, at.exception
    assert [e.proto.SerializeToString() for e in at.get(element)] != first  # made anew: the browser redraws it
