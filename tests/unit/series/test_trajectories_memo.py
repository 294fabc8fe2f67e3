"""Whether a run holds the reference's examples in the same order is checked on every row when the series is created
(recorded in the store): trajectories then read no example id of it. Without that record (a series created before),
the first trajectories check it (a statement of its own) and keep the answer per data version; a write checks every
row again. A run stored in another order is never paired by position: its pairs stay those of a merge on example
id."""

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
    """Records ("check", runs checked row by row) and ("count", aligned per run) as the statements are built."""
    seen = []
    real_count, real_check = S.trajectory_sql, S.misplaced_sql

    def count(*args, **kwargs):
        seen.append(("count", list(kwargs.get("aligned") or [])))
        return real_count(*args, **kwargs)

    def check(tables, reference):
        seen.append(("check", len(tables)))
        return real_check(tables, reference)

    monkeypatch.setattr(S, "trajectory_sql", count)
    monkeypatch.setattr(S, "misplaced_sql", check)
    return seen


def _pairs_match_a_merge(t, frames, keep=None) -> None:
    ref = frames[0].set_index("id")["correct"]
    for k, frame in enumerate(frames):
        if keep is not None:
            frame = frame[keep(frame)]
        merged = frame.assign(rc=frame["id"].map(ref))
        row = t.points[(t.points["k"] == k) & (t.points["attribute"].isna())].iloc[0]
        assert row["b"] == int((merged["rc"] & ~merged["correct"]).sum())
        assert row["c"] == int((~merged["rc"] & merged["correct"]).sum())


def test_the_order_is_checked_when_the_series_is_created(store, monkeypatch):
    s, frames = store
    seen = _spy(monkeypatch)
    create_series(s, "again", [f"step-{k + 1}" for k in range(len(frames))])
    assert seen == [("check", 2)]  # the shuffled run fails the first look; the others are read on every row
    seen.clear()
    t = trajectories(s, "again", ["lang"], min_support=5, max_drivers=0)
    assert seen == [("count", [True, True, False])]  # no example id read
    _pairs_match_a_merge(t, frames)
    s.ingest_frame(_frame(5, np.arange(N)), name="other", mapping=MAPPING)  # a write: the check still holds
    seen.clear()
    trajectories(s, "again", ["lang"], min_support=5, max_drivers=0)
    assert seen == [("count", [True, True, False])]


def test_without_a_check_at_creation_a_run_is_checked_once_per_data_version(store, monkeypatch):
    s, frames = store
    s.cursor().execute("DELETE FROM series_order")  # a series created before the check was recorded
    seen = _spy(monkeypatch)
    first = trajectories(s, "s", ["lang"], min_support=5, max_drivers=0)
    # the shuffled run fails the first look; the reference and the other run are checked on every row
    assert seen == [("check", 2), ("count", [True, True, False])]
    seen.clear()
    forget_cells(s)  # the counts themselves are kept too: forgotten here, so the next call counts again
    again = trajectories(s, "s", ["lang"], min_support=5, max_drivers=0)
    assert seen == [("count", [True, True, False])]  # no row checked again
    assert_frame_equal(first.points, again.points)
    assert_frame_equal(first.slices, again.slices)
    _pairs_match_a_merge(again, frames)
    # a write: every row is checked again
    s.ingest_frame(_frame(5, np.arange(N)), name="other", mapping=MAPPING)
    seen.clear()
    trajectories(s, "s", ["lang"], min_support=5, max_drivers=0)
    assert seen[0] == ("check", 2)


def test_a_cohort_pairs_as_without_it_and_the_check_is_kept(store, monkeypatch):
    s, frames = store
    s.cursor().execute("DELETE FROM series_order")
    seen = _spy(monkeypatch)
    first = trajectories(s, "s", ["lang"], min_support=5, max_drivers=0, where='lang != "fr"')
    trajectories(s, "s", ["lang"], min_support=5, max_drivers=0, where='lang != "en"')
    assert [e for e in seen if e[0] == "check"] == [("check", 2)]  # every row of a run, whatever the cohort
    assert all(e[1] == [True, True, False] for e in seen if e[0] == "count")
    _pairs_match_a_merge(first, frames, keep=lambda f: f["lang"] != "fr")
