"""A run found in the reference's example order is kept so per data version: the next trajectories read no example id
of it, and give the same numbers; a write (a new data version) checks every row again, and a run stored in another
order is never kept (its pairs stay those of a merge on example id)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from analysis.series.trajectories import forget_cells, trajectories
from analysis.sql import series as S
from analysis.store import Store
from analysis.store.series import create_series

N = 300
MAPPING = {"id": "id", "input": "prompt", "correct": "correct"}


def _frame(k: int, order: np.ndarray) -> pd.DataFrame:
    rng = np.random.default_rng(k)
    lang = np.array(["en", "sw", "fr"])[np.arange(N) % 3]
    wrong = rng.random(N) < np.where(lang == "sw", 0.1 + 0.1 * k, 0.2)
    frame = pd.DataFrame({"id": [f"e{i}" for i in range(N)], "prompt": [f"q{i}" for i in range(N)], "lang": lang,
                          "correct": ~wrong})
    return frame.iloc[order].reset_index(drop=True)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "m.duckdb")
    orders = [np.arange(N), np.arange(N), np.random.default_rng(9).permutation(N)]  # the third run is shuffled
    frames = [_frame(k, order) for k, order in enumerate(orders)]
    for k, frame in enumerate(frames):
        s.ingest_frame(frame, name=f"step-{k + 1}", mapping=MAPPING)
    create_series(s, "s", [f"step-{k + 1}" for k in range(len(frames))])
    yield s, frames
    s.close()


def _spy(monkeypatch) -> list:
    seen = []
    real = S.trajectory_sql

    def spy(*args, **kwargs):
        seen.append((list(kwargs.get("aligned") or []), kwargs.get("check_positions", True)))
        return real(*args, **kwargs)

    monkeypatch.setattr(S, "trajectory_sql", spy)
    return seen


def test_an_aligned_run_is_checked_once_per_data_version(store, monkeypatch):
    s, frames = store
    seen = _spy(monkeypatch)
    first = trajectories(s, "s", ["lang"], min_support=5, max_drivers=0)
    aligned, checks = seen[0]
    assert aligned == [True, True, False] and list(checks) == [True, True, True]
    seen.clear()
    forget_cells(s)  # the counts themselves are kept too: forgotten here, so the next call counts again
    again = trajectories(s, "s", ["lang"], min_support=5, max_drivers=0)
    aligned, checks = seen[0]
    assert aligned[:2] == [True, True] and list(checks)[:2] == [False, False]
    assert_frame_equal(first.points, again.points)
    assert_frame_equal(first.slices, again.slices)
    # the pairs are those of a merge on example id
    ref = frames[0].set_index("id")["correct"]
    for k, frame in enumerate(frames):
        merged = frame.assign(rc=frame["id"].map(ref))
        row = again.points[(again.points["k"] == k) & (again.points["attribute"].isna())].iloc[0]
        assert row["b"] == int((merged["rc"] & ~merged["correct"]).sum())
        assert row["c"] == int((~merged["rc"] & merged["correct"]).sum())
    # a write: every row is checked again
    s.ingest_frame(_frame(5, np.arange(N)), name="other", mapping=MAPPING)
    seen.clear()
    trajectories(s, "s", ["lang"], min_support=5, max_drivers=0)
    assert list(seen[0][1])[:2] == [True, True]


def test_a_cohort_checks_every_time_and_keeps_nothing(store, monkeypatch):
    s, _ = store
    seen = _spy(monkeypatch)
    trajectories(s, "s", ["lang"], min_support=5, max_drivers=0, where='lang != "fr"')
    trajectories(s, "s", ["lang"], min_support=5, max_drivers=0, where='lang != "fr"')
    assert all(list(checks)[:2] == [True, True] for _, checks in seen)
