"""Pairing runs with the reference: row by row when a run is stored in the reference's example order, by example id
otherwise. Every order of storage gives the counts of a direct pandas merge on example id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlglot

from analysis.series.trajectories import ALL, series_attributes, trajectories
from analysis.slicing.attributes import prepare_attributes
from analysis.sql import series as S
from analysis.store import Store
from analysis.store.series import create_series, get_series
from tests.unit.store.recording import recording

N = 400
#: What the statements that count the series' example rows (cells or grouping sets) say.
COUNTING = "count_if(NOT correct) AS errors"


def _frame(k: int, rng: np.random.Generator, order: np.ndarray) -> pd.DataFrame:
    ids = np.array([f"e{i}" for i in range(N)])
    lang = np.array(["en", "sw", "fr", "de"])[np.arange(N) % 4]
    wrong = rng.random(N) < np.where(lang == "sw", 0.15 + 0.1 * k, 0.2)
    frame = pd.DataFrame({"id": ids, "prompt": [f"q{i}" for i in range(N)], "lang": lang, "correct": ~wrong})
    return frame.iloc[order].reset_index(drop=True)


#: How each run after the reference is stored: the reference's order, shuffled, the reference's order except two
#: rows swapped near the end (the first rows agree: caught by the full check), and a run missing its last rows
#: (its rows are the reference's first rows, each paired right by position).
LAYOUTS = {
    "same order": lambda rng: np.arange(N),
    "shuffled": lambda rng: rng.permutation(N),
    "late swap": lambda rng: np.r_[np.arange(N - 10), N - 9, N - 10, np.arange(N - 8, N)],
    "shorter": lambda rng: np.arange(N - 30),
}


@pytest.fixture(params=list(LAYOUTS), ids=list(LAYOUTS))
def case(request, tmp_path):
    rng = np.random.default_rng(7)
    store = Store(tmp_path / "t.duckdb")
    frames = []
    for k in range(4):
        order = np.arange(N) if k == 0 else LAYOUTS[request.param](rng)
        frames.append(_frame(k, rng, order))
        store.ingest_frame(frames[-1], name=f"step-{k + 1}", mapping={"id": "id", "input": "prompt",
                                                                       "correct": "correct"})
    create_series(store, "s", [f"step-{k + 1}" for k in range(4)])
    yield store, frames, request.param
    store.close()


def test_paired_counts_equal_a_merge_on_example_id_whatever_the_storage_order(case):
    store, frames, _ = case
    t = trajectories(store, "s", ["lang"], min_support=5, max_drivers=1)
    ref = frames[0].set_index("id")["correct"]
    for k, frame in enumerate(frames):
        merged = frame.assign(rc=frame["id"].map(ref))
        for value in [None, "en", "sw", "fr", "de"]:
            sub = merged if value is None else merged[merged["lang"] == value]
            got = t.trajectory(ALL if value is None else f"lang = {value}").set_index("k").loc[k]
            paired = sub[sub["rc"].notna()]
            rc = paired["rc"].astype(bool)
            assert got["n_paired"] == len(paired)
            assert got["errors_paired"] == int((~paired["correct"]).sum())
            assert got["b"] == int((rc & ~paired["correct"]).sum())
            assert got["c"] == int((~rc & paired["correct"]).sum())


def test_a_run_in_the_reference_order_is_paired_by_position_and_the_others_by_id(case):
    store, _, layout = case
    with recording(store) as log:
        trajectories(store, "s", ["lang"], min_support=5, max_drivers=0)
    counting = [sql for sql, _ in log if COUNTING in sql]
    if layout in ("same order", "shorter"):  # a run that is the reference's first rows pairs right by position
        assert len(counting) == 1 and counting[0].count("POSITIONAL JOIN") == 4
        assert "ON rows.example_id = ref.rid" not in counting[0]
    elif layout == "late swap":  # the first rows agree, the check of every row does not: paired by id
        assert len(counting) == 1 and counting[0].count("POSITIONAL JOIN") == 1
        assert "ON rows.example_id = ref.rid" in counting[0]
        assert any("POSITIONAL JOIN" in sql and "misplaced" in sql for sql, _ in log)
    else:  # the first look finds them misplaced: paired by id at once (the reference itself by position)
        assert len(counting) == 1 and counting[0].count("POSITIONAL JOIN") == 1


def test_the_portable_form_has_no_positional_join_and_transpiles_to_spark(case):
    store, _, _ = case
    info = get_series(store, "s")

    prepared = prepare_attributes(store, info.tables[0], series_attributes(store, info, ["lang"]), bins=5,
                                  edges=None)
    sql, _ = S.trajectory_sql(info.tables, [[p.sql for p in prepared]] * 4, [[]] * 4, reference=info.tables[0])
    assert "POSITIONAL" not in sql
    sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def test_the_explanation_passes_read_no_example_id_and_match_the_pairing_by_id(tmp_path):
    rng = np.random.default_rng(3)
    frames = [_frame(k, rng, np.arange(N)) for k in range(4)]
    results = {}
    for layout in ("same order", "shuffled"):
        store = Store(tmp_path / f"{layout}.duckdb")
        for k, frame in enumerate(frames):
            stored = frame if k == 0 or layout == "same order" else frame.sample(frac=1.0, random_state=k)
            store.ingest_frame(stored, name=f"step-{k + 1}", mapping={"id": "id", "input": "prompt",
                                                                       "correct": "correct"})
        create_series(store, "s", [f"step-{k + 1}" for k in range(4)])
        with recording(store) as log:
            results[layout] = trajectories(store, "s", ["lang"], min_support=5, max_drivers=2)
        counting = [sql for sql, _ in log if COUNTING in sql]
        if layout == "same order":  # positions checked apart; the passes sum the statement's cells, reading nothing
            assert len(counting) == 1 and "example_id" not in counting[0] and "POSITIONAL JOIN" in counting[0]
        store.close()
    assert results["same order"].slices["driver"].any()
    columns = ["description", "trend_q", "departure_q", "flagged", "driver", "explained_by"]
    pd.testing.assert_frame_equal(results["same order"].slices[columns], results["shuffled"].slices[columns])
