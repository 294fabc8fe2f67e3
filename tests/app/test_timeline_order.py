"""Timeline: the drift table is ordered by evidence as the Slices table is (the trend's q-value, then the effect
size: the absolute trend), and its essential columns come first (slice, trend q, trend, departs at)."""

from __future__ import annotations

import math

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from analysis.demo.seed import ensure_demo_series
from tests.conftest import ROOT

TIMEOUT = 120
PAGE = str(ROOT / "pages" / "7_Timeline.py")


@pytest.fixture(scope="module")
def series_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("timeline_order") / "series.duckdb"
    with open_store(path, seed_demo=False) as store:
        ensure_demo_series(store)
    return path


@pytest.mark.parametrize("attr", [None, "language"])
def test_the_drift_table_is_ordered_by_q_then_effect(series_db, monkeypatch, attr):
    monkeypatch.setenv("FAULTLINE_DB", str(series_db))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    if attr:
        at.query_params["attr"] = attr
    at.run()
    assert not at.exception, at.exception
    shown = next(d.value for d in at.dataframe if "first_departure_label" in d.value.columns)
    assert len(shown) >= 5
    assert list(shown.columns[:4]) == ["description", "trend_q", "slope", "first_departure_label"]
    q = [math.inf if math.isnan(v) else v for v in shown["trend_q"]]  # untested last
    key = [(qv, -abs(s), d) for qv, s, d in zip(q, shown["slope"], shown["description"])]
    assert key == sorted(key)
    assert q != sorted(q, key=lambda v: -v)  # the scenario is not trivially ordered either way
