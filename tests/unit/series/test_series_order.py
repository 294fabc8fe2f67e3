"""Creating a series records, per run, whether it holds the reference's examples in the same order (every row read
once): 0 for a run stored in that order, a positive count for a shuffled one; runs read in place from Parquet files
are not recorded (their files may change), and their pairs are still those of a merge on example id."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.series.trajectories import trajectories
from analysis.store import Store
from analysis.store.series import create_series, get_series, order_checks

N = 300


def _frame(k: int) -> pd.DataFrame:
    rng = np.random.default_rng(k)
    lang = np.array(["en", "sw", "fr"])[np.arange(N) % 3]
    return pd.DataFrame({"id": [f"e{i}" for i in range(N)], "prompt": [f"q{i}" for i in range(N)], "lang": lang,
                         "correct": rng.random(N) < np.where(lang == "sw", 0.8 - 0.1 * k, 0.8)})


def _merge_counts(frames: list[pd.DataFrame]) -> list[tuple[int, int]]:
    ref = frames[0].set_index("id")["correct"]
    out = []
    for frame in frames:
        rc = frame["id"].map(ref)
        out.append((int((rc & ~frame["correct"]).sum()), int((~rc & frame["correct"]).sum())))
    return out


def _pairs(t) -> list[tuple[int, int]]:
    whole = t.points[t.points["attribute"].isna()].sort_values("k")
    return list(zip(whole["b"].astype(int), whole["c"].astype(int)))


def test_the_order_of_stored_runs_is_recorded_when_the_series_is_created(tmp_path):
    store = Store(tmp_path / "o.duckdb")
    frames = [_frame(0), _frame(1), _frame(2).sample(frac=1.0, random_state=3)]
    for k, frame in enumerate(frames):
        store.ingest_frame(frame, name=f"step-{k + 1}", mapping={"id": "id", "input": "prompt", "correct": "correct"})
    info = create_series(store, "s", ["step-1", "step-2", "step-3"])
    checks = order_checks(store, info)
    assert checks[info.run_ids[0]] == 0 and checks[info.run_ids[1]] == 0 and checks[info.run_ids[2]] > 0
    assert _pairs(trajectories(store, "s", ["lang"], min_support=5, max_drivers=0)) == _merge_counts(frames)
    store.close()


def test_runs_read_from_parquet_are_not_recorded_and_pair_right(tmp_path):
    store = Store(tmp_path / "p.duckdb")
    frames = [_frame(0), _frame(1).sample(frac=1.0, random_state=1), _frame(2)]
    for k, frame in enumerate(frames):
        folder = tmp_path / f"run{k}"
        folder.mkdir()
        frame.to_parquet(folder / "part-0.parquet", index=False)
        store.register_parquet(folder, name=f"step-{k + 1}",
                               mapping={"id": "id", "input": "prompt", "correct": "correct"})
    create_series(store, "s", ["step-1", "step-2", "step-3"])
    assert order_checks(store, get_series(store, "s")) == {}
    assert _pairs(trajectories(store, "s", ["lang"], min_support=5, max_drivers=0)) == _merge_counts(frames)
    store.close()
