"""The Timeline page's trial items on the demo series (six checkpoints; the last two add 1,050 new examples):

1. the first/newest accuracy beside the trend and the panels are over the trend's examples (those shared with the
   reference) and their headings and titles say so; every example's accuracy is a second, named pair;
2. the "Evidence for the Failure modes link" table reads in plain words (the trial read ``turn_label``,
   ``reward_hacking`` and a q of "0.00000001"): the spec's names, readable headings, q written by
   :func:`analysis.format_q` (through ``ui.tables.styled``); the surrogate table says "not tested" where a pair was
   not tested (its peak column was blank) and shows its q before the columns that pushed it off a 1280 px screen;
3. one precision per column: rates are percentages with one decimal (the trial read 77.1% beside 76.29%, 85.9%
   beside 79.06%: the grid's "percent" format trims zeros);
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store, trajectories
from analysis.demo.seed import ensure_demo_series
from analysis.demo.series import SERIES_NAME
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "7_Timeline.py")


@pytest.fixture(scope="module")
def series_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("timeline_trial") / "series.duckdb"
    with open_store(path, seed_demo=False) as store:
        ensure_demo_series(store)
        found = trajectories(store, SERIES_NAME, min_support=30, fdr=0.05)
    return path, found


def _page(monkeypatch, path, **params) -> AppTest:
    monkeypatch.setenv("FAULTLINE_DB", str(path))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _values(data) -> list:
    """A figure's array as plotly's JSON writes it (a list, or base64 bytes with their dtype)."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def _figure(at: AppTest, key: str) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if key in c.proto.id).proto.spec)


def _columns(element) -> dict:
    return json.loads(element.proto.columns)


def test_the_accuracy_beside_the_trend_is_over_the_shared_examples(series_db, monkeypatch):
    path, found = series_db
    assert found.paired
    at = _page(monkeypatch, path)
    grid = next(d for d in at.dataframe if "trend_q" in d.value.columns)
    table = grid.value.set_index("description")
    points = found.points
    for desc in ("(all examples)", "language = hi"):
        runs = points[points["description"] == desc].sort_values("k")
        shared = (runs["n_paired"] - runs["errors_paired"]) / runs["n_paired"]
        # the trial: "trend -0.92" beside "77.1%" and "65.75%" (every example, added items included)
        assert table.loc[desc, "first_trend"] == pytest.approx(100 * shared.iloc[0])
        assert table.loc[desc, "last_trend"] == pytest.approx(100 * shared.iloc[-1])
        assert table.loc[desc, "last"] == pytest.approx(100 * runs["accuracy"].iloc[-1])
    # the demo's added items: every example's newest accuracy is below the shared one
    assert table.loc["(all examples)", "last"] < table.loc["(all examples)", "last_trend"] - 5
    columns = _columns(grid)
    assert columns["first_trend"]["label"] == "first (shared)" and columns["last_trend"]["label"] == "newest (shared)"
    assert columns["first"]["label"] == "first (all)" and columns["last"]["label"] == "newest (all)"
    assert "shares with the reference" in columns["slope"]["help"]
    assert "shares with the reference" in columns["last_trend"]["help"]
    assert "every example" in columns["last"]["help"]
    # the panels: the same examples, named in the title
    figure = _figure(at, "timeline_grid")
    assert "shares with the reference" in figure["layout"]["title"]["text"]
    drawn = {t["name"]: _values(t["y"]) for t in figure["data"]}
    hi = points[points["description"] == "language = hi"].sort_values("k")
    assert drawn["language = hi"] == pytest.approx(list(hi["trend_accuracy"]))


def test_one_slices_sentence_and_runs_table_name_their_examples(series_db, monkeypatch):
    path, found = series_db
    at = _page(monkeypatch, path, slice="language = hi")
    row = found.slices.set_index("description").loc["language = hi"]
    said = next(m.value for m in at.markdown if "points per run" in m.value)
    assert f"{row['first_trend']:.1%} in the first run and {row['last_trend']:.1%} in the newest" in said
    assert "shares with the reference" in said and f"{row['last']:.1%}" in said
    runs = next(d for d in at.dataframe if "trend_accuracy" in d.value.columns)
    columns = _columns(runs)
    assert columns["trend_accuracy"]["label"] == "accuracy (shared)" and columns["accuracy"]["label"] == "accuracy (all)"
    assert "shares with the reference" in _figure(at, "timeline_slice_chart")["layout"]["title"]["text"]


def test_the_evidence_table_reads_in_plain_words(series_db, monkeypatch):
    import ui.tables

    path, _ = series_db
    seen = []
    original = ui.tables.styled

    def recording(frame, q_columns=ui.tables.Q_COLUMNS):
        seen.append((list(frame.columns), tuple(q_columns)))
        return original(frame, q_columns)

    monkeypatch.setattr(ui.tables, "styled", recording)
    at = _page(monkeypatch, path, view="surrogate")
    evidence = next(d for d in at.dataframe if "evidence" in d.value.columns)
    table = evidence.value
    assert "mode" not in table.columns and "kind" not in table.columns and "component" not in table.columns
    assert set(table["mode_name"]) == {"Reward hacking or proxy gaming"}  # the spec's name, not reward_hacking
    assert "Helpfulness reward model" in set(table["component_name"])
    labels = {k: v.get("label") for k, v in _columns(evidence).items() if k != "_index"}
    assert labels["turn_label"] == "accuracy peaks at" and labels["mode_name"] == "failure mode"
    assert labels["q_value"].startswith("q (BH over") and labels["can_cause"] == "spec: can cause"
    assert all("_" not in label for label in labels.values()), labels
    # q written by format_q: the frame goes through styled with its q column
    assert any("evidence" in columns and "q_value" in q for columns, q in seen)
    # the surrogate table: an untested pair says so; q among the first columns
    turns = next(d for d in at.dataframe if "over_optimised" in d.value.columns)
    shown = turns.value
    untested = shown["q_value"] == float("inf")  # styled: a missing q is +inf, written "not tested"
    assert untested.any() and (shown.loc[untested, "turn_label"] == "not tested").all()
    assert (shown.loc[~untested, "turn_label"] != "not tested").all()
    assert list(shown.columns).index("q_value") <= 2
    # the chart's accuracy is over the shared examples (a paired series), as its axis says
    assert _figure(at, "timeline_surrogate")["layout"]["yaxis"]["title"]["text"] == "accuracy (shared examples)"


def test_rates_have_one_decimal_in_every_timeline_table(series_db, monkeypatch):
    path, found = series_db
    at = _page(monkeypatch, path)
    slices = _columns(next(d for d in at.dataframe if "trend_q" in d.value.columns))
    for column in ("first_trend", "last_trend", "first", "last"):
        assert slices[column]["type_config"]["format"] == "%.1f%%", column
    at = _page(monkeypatch, path, slice="language = hi")
    runs = _columns(next(d for d in at.dataframe if "trend_accuracy" in d.value.columns))
    for column in ("trend_accuracy", "trend_ci_low", "trend_ci_high", "accuracy"):
        assert runs[column]["type_config"]["format"] == "%.1f%%", column
    at = _page(monkeypatch, path, view="surrogate")
    turns = next(d for d in at.dataframe if "over_optimised" in d.value.columns)
    columns = _columns(turns)
    for column in ("peak_accuracy", "last_accuracy"):
        assert columns[column]["type_config"]["format"] == "%.1f%%", column
    top = turns.value.iloc[0]
    assert 0 < top["last_accuracy"] <= 100 and top["peak_accuracy"] > 1  # percentages (x 100), not fractions
