"""Two runs with the same outcomes on every example: no change has no sign. The headline's accuracy change reads
"0.0 pts" with no arrow or colour (the trial saw a red "-0.0 pts"), and the table's change and interval are never
written "-0.0"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from analysis import open_store
from tests.conftest import ROOT
from ui.tables import comparison_display, fmt_points, points_delta

PAGE = str(ROOT / "pages" / "3_Compare.py")


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"id": [f"e{i}" for i in range(n)], "prompt": [f"q {i}" for i in range(n)],
                          "output": ["a"] * n, "correct": rng.random(n) < 0.7,
                          "domain": rng.choice(["law", "med", "math"], n)})
    path = tmp_path_factory.mktemp("twins") / "twins.duckdb"
    with open_store(path, seed_demo=False) as store:
        store.ingest_frame(frame, name="before", mapping={"id": "id"})
        store.ingest_frame(frame.assign(output="b"), name="after", mapping={"id": "id"})  # the same outcomes
    return path


def test_points_text_gives_no_change_no_sign():
    assert [fmt_points(d) for d in (0.0, -0.0, -0.0004, 0.0004, 0.034, -0.034)] == [
        "0.0 pts", "0.0 pts", "0.0 pts", "0.0 pts", "+3.4 pts", "-3.4 pts"]
    assert fmt_points(float("nan")) == ""
    assert points_delta(-0.0) == {"delta": "0.0 pts", "delta_color": "off", "delta_arrow": "off"}
    assert points_delta(-0.02) == {"delta": "-2.0 pts"}


def test_identical_runs_read_no_change_on_compare(twins, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(twins))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception, at.exception
    (metric,) = [m for m in at.metric if m.label == "Candidate accuracy"]
    assert metric.proto.delta == "0.0 pts"
    assert metric.proto.color == Metric.MetricColor.GRAY and metric.proto.direction == Metric.MetricDirection.NONE
    shown = at.dataframe[0].value
    for column in ("change", "ci_low", "ci_high"):
        values = pd.to_numeric(shown[column], errors="coerce").dropna()
        assert not np.signbit(values.to_numpy()).any(), column  # never a "-0.0"


def test_the_display_makes_a_negative_zero_zero():
    table = pd.DataFrame({"description": ["(all examples)"], "verdict": ["not significant"], "q_value": [1.0],
                          "difference": [-0.0], "ci_low": [-0.0], "ci_high": [0.0], "n": [10],
                          "base_error_rate": [0.3], "cand_error_rate": [0.3], "b": [0], "c": [0]})
    shown = comparison_display(table)
    assert not np.signbit(shown[["change", "ci_low", "ci_high"]].to_numpy(dtype=float)).any()
