"""Trajectories of a series against a direct recomputation from the example rows (pandas, statsmodels, scipy)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import Table, mcnemar
from statsmodels.stats.multitest import multipletests

from analysis.series.trajectories import ALL, trajectories
from analysis.slicing import counts
from analysis.sql import series as S
from analysis.store import Store
from analysis.store.series import create_series
from tests.unit.store.recording import recording

RUNS = 4
N = 600


def _frames(paired: bool, seed: int = 3) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"e{i}" for i in range(N)]
    lang = rng.choice(["en", "sw", "fr"], N, p=[0.5, 0.25, 0.25])
    channel = rng.choice(["web", "api"], N)
    base = rng.random(N)
    frames = []
    for k in range(RUNS):
        p_wrong = np.where(lang == "sw", 0.15 + 0.08 * k, 0.2)
        wrong = base < p_wrong if paired else rng.random(N) < p_wrong
        frame = pd.DataFrame({"id": ids if paired else [f"r{k}-{i}" for i in range(N)],
                              "prompt": [f"q{i} {k}" for i in range(N)], "lang": lang, "channel": channel,
                              "reward": rng.normal(k, 1.0, N), "correct": ~wrong})
        frames.append(frame)
    return frames


@pytest.fixture(params=[True, False], ids=["paired", "unpaired"])
def case(request, tmp_path):
    store = Store(tmp_path / "t.duckdb")
    frames = _frames(request.param)
    for k, frame in enumerate(frames):
        store.ingest_frame(frame, name=f"step-{(k + 1) * 100}",
                           mapping={"id": "id", "input": "prompt", "correct": "correct", "signals": ["reward"]})
    create_series(store, "s", [f"step-{(k + 1) * 100}" for k in range(RUNS)])
    yield store, frames, request.param
    store.close()


def test_counts_trend_and_departures_match_a_direct_computation(case):
    store, frames, paired = case
    t = trajectories(store, "s", ["lang", "channel"], signals=["reward"], min_support=10)
    assert t.paired is paired
    ref = frames[0]
    rows = []
    for attribute in (None, "lang", "channel"):
        values = [None] if attribute is None else sorted(ref[attribute].unique())
        for value in values:
            desc = ALL if attribute is None else f"{attribute} = {value}"
            got = t.trajectory(desc)
            ns, corrects = [], []
            for k, frame in enumerate(frames):
                sub = frame if attribute is None else frame[frame[attribute] == value]
                assert got.loc[k, "n"] == len(sub)
                assert got.loc[k, "accuracy"] == pytest.approx(sub["correct"].mean())
                assert got.loc[k, "signal:reward"] == pytest.approx(sub["reward"].mean())
                ns.append(len(sub))
                corrects.append(int(sub["correct"].sum()))
                if k and paired:
                    base = ref if attribute is None else ref[ref[attribute] == value]
                    table = pd.crosstab(base.set_index("id")["correct"], sub.set_index("id")["correct"])
                    table = table.reindex(index=[True, False], columns=[True, False], fill_value=0).to_numpy()
                    assert got.loc[k, "departure_p"] == pytest.approx(mcnemar(table, exact=True).pvalue)
            table = np.column_stack([np.subtract(ns, corrects), corrects])
            z = Table(table, shift_zeros=False).test_ordinal_association(
                row_scores=np.arange(RUNS, dtype=float), col_scores=np.array([0.0, 1.0])).zscore
            z *= np.sqrt(sum(ns) / (sum(ns) - 1))  # the permutation variance uses N - 1 for N
            row = t.slices.set_index("description").loc[desc]
            assert row["trend_z"] == pytest.approx(z, rel=1e-8)
            rows.append((desc, row["trend_p"]))
    q = multipletests([p for _, p in rows], method="fdr_bh")[1]
    for (desc, _), expected in zip(rows, q):
        assert t.slices.set_index("description").loc[desc, "trend_q"] == pytest.approx(expected)


def test_the_planted_drift_is_found_and_nothing_else(case):
    store, _, paired = case
    t = trajectories(store, "s", ["lang", "channel"], min_support=10)
    flagged = set(t.drifting()["description"])
    assert "lang = sw" in flagged
    assert flagged <= {"lang = sw", ALL}
    row = t.slices.set_index("description").loc["lang = sw"]
    assert row["direction"] == "down" and row["first_departure"] >= 1
    tests = set(t.points.loc[t.points["k"] > 0, "departure_test"])
    assert tests == {"McNemar" if paired else "two-proportion"}


def _counting(log) -> list[str]:
    """The statements of ``log`` that count example rows over the series (the cells or the grouping sets)."""
    return [sql for sql, _ in log if "UNION ALL" in sql and "GROUP BY" in sql]


def test_one_statement_counts_every_run_and_slice_and_the_explanation_passes_sum_its_cells(case):
    store, _, _ = case
    with recording(store) as log:
        trajectories(store, "s", ["lang", "channel"], max_drivers=0)
    counting = _counting(log)
    assert len(counting) == 1 and counting[0].count("UNION ALL") == RUNS - 1
    assert "GROUPING SETS" not in counting[0]  # few cells: the sets are summed in memory
    counts.clear(store)
    with recording(store) as log:
        t = trajectories(store, "s", ["lang", "channel"])
    assert int(t.slices["driver"].sum()) >= 1 and len(_counting(log)) == 1  # the passes count no row again
    with recording(store) as log:  # kept per data version: another setting counts nothing
        trajectories(store, "s", ["lang", "channel"], min_support=5, fdr=0.1)
    assert _counting(log) == []


def test_with_many_cells_one_statement_per_driver(case, monkeypatch):
    store, _, _ = case
    monkeypatch.setattr(S, "FEW_CELLS", 0)
    with recording(store) as log:
        t = trajectories(store, "s", ["lang", "channel"])
    grouping = [sql for sql in _counting(log) if "GROUPING SETS" in sql]
    assert len(grouping) == len(_counting(log)) == 1 + int(t.slices["driver"].sum())


def test_a_slice_drifting_only_through_another_is_explained_by_it(case):
    store, _, _ = case
    t = trajectories(store, "s", ["lang", "channel"], min_support=10).slices.set_index("description")
    assert t.loc["lang = sw", "driver"]
    for desc in ("channel = web", "channel = api"):
        assert t.loc[desc, "explained_by"] in ("", "lang = sw")
        if t.loc[desc, "flagged"]:
            assert t.loc[desc, "explained_by"] == "lang = sw"
