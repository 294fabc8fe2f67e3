"""The accuracy beside a trend is over the trend's examples (the user trial read "trend -0.92 pts/run" beside a
first run of 77.1% and a newest of 65.75%: the trend was fitted on the 3,000 examples shared with the reference,
the columns over every example, 4,050 with the added items). In a paired series ``first_trend``/``last_trend``
and the points' ``trend_accuracy`` are the accuracy on the shared examples, recomputed here from the rows; in an
unpaired one they are every example's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.series.trajectories import ALL, trajectories
from analysis.stats import rate_interval
from analysis.store import Store
from analysis.store.series import create_series

RUNS, N, ADDED = 4, 400, 200


def _frames(rng: np.random.Generator) -> list[pd.DataFrame]:
    """Four runs of the same 400 examples, flat accuracy (80%); the last two add 200 new, hard examples (20%
    right): every example's accuracy falls, the shared examples' does not."""
    ids = [f"e{i}" for i in range(N)]
    lang = np.where(np.arange(N) % 2 == 0, "en", "sw")
    base = rng.random(N)
    frames = []
    for k in range(RUNS):
        frame = pd.DataFrame({"id": ids, "prompt": [f"{i} {k}" for i in ids], "lang": lang,
                              "correct": base < 0.8})
        if k >= 2:
            extra = [f"x{i}" for i in range(ADDED)]
            frame = pd.concat([frame, pd.DataFrame({"id": extra, "prompt": extra,
                                                    "lang": np.where(np.arange(ADDED) % 2 == 0, "en", "sw"),
                                                    "correct": rng.random(ADDED) < 0.2})], ignore_index=True)
        frames.append(frame)
    return frames


@pytest.fixture
def series(tmp_path):
    store = Store(tmp_path / "t.duckdb")
    frames = _frames(np.random.default_rng(5))
    for k, frame in enumerate(frames):
        store.ingest_frame(frame, name=f"step-{(k + 1) * 100}",
                           mapping={"id": "id", "input": "prompt", "correct": "correct"})
    create_series(store, "s", [f"step-{(k + 1) * 100}" for k in range(RUNS)])
    yield store, frames
    store.close()


def test_first_and_newest_beside_the_trend_are_over_the_shared_examples(series):
    store, frames = series
    t = trajectories(store, "s", ["lang"], min_support=10)
    assert t.paired
    ref_ids = set(frames[0]["id"])
    row = t.slices.set_index("description").loc[ALL]
    shared_first = frames[0]["correct"].mean()
    last = frames[-1]
    shared_last = last.loc[last["id"].isin(ref_ids), "correct"].mean()
    assert row["first_trend"] == pytest.approx(shared_first)
    assert row["last_trend"] == pytest.approx(shared_last)
    assert row["last"] == pytest.approx(last["correct"].mean())  # every example's, kept beside it
    assert row["last"] < row["last_trend"] - 0.1  # the added hard items pull every example's accuracy down
    # the trend on the shared examples is flat (the same answers in every run): no drift read into the mix change
    assert row["slope"] == pytest.approx(0.0, abs=1e-12) and not row["drifting"]


def test_the_points_trend_accuracy_and_interval_are_the_shared_examples(series):
    store, frames = series
    t = trajectories(store, "s", ["lang"], min_support=10)
    ref_ids = set(frames[0]["id"])
    for k, frame in enumerate(frames):
        shared = frame[frame["id"].isin(ref_ids) & (frame["lang"] == "sw")]
        point = t.points[(t.points["description"] == "lang = sw") & (t.points["k"] == k)].iloc[0]
        right = int(shared["correct"].sum())
        low, high, _ = rate_interval([right], [len(shared)])
        assert point["trend_n"] == len(shared)
        assert point["trend_accuracy"] == pytest.approx(right / len(shared))
        assert (point["trend_ci_low"], point["trend_ci_high"]) == pytest.approx((low[0], high[0]))
        assert point["n"] == (frame["lang"] == "sw").sum()


def test_an_unpaired_series_reads_every_example_beside_its_trend(tmp_path):
    rng = np.random.default_rng(2)
    store = Store(tmp_path / "u.duckdb")
    try:
        for k in range(3):
            ids = [f"r{k}-{i}" for i in range(300)]
            store.ingest_frame(pd.DataFrame({"id": ids, "prompt": ids, "lang": ["en", "sw"] * 150,
                                             "correct": rng.random(300) < 0.7 - 0.1 * k}),
                               name=f"step-{(k + 1) * 100}", mapping={"id": "id", "input": "prompt",
                                                                      "correct": "correct"})
        create_series(store, "u", ["step-100", "step-200", "step-300"])
        t = trajectories(store, "u", ["lang"], min_support=10)
        assert not t.paired
        s = t.slices
        assert np.allclose(s["first_trend"], s["first"]) and np.allclose(s["last_trend"], s["last"])
        assert np.allclose(t.points["trend_accuracy"], t.points["accuracy"])
        assert np.allclose(t.points["trend_ci_low"], t.points["ci_low"])
    finally:
        store.close()
