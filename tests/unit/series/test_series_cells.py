"""A series' cells summed in memory (:class:`analysis.series.cells.Cells`) give the rows of the SQL ``GROUPING SETS``
statement, with and without slices left out (an explanation pass): checked against the statement itself and against
pandas on the example rows, with missing values, a binned number, a graded score, a signal and a missing-value
slice left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import analysis.sql.series as S
from analysis.series.cells import Cells
from analysis.series.trajectories import _signal_sql, series_attributes
from analysis.slicing.attributes import prepare_attributes
from analysis.sql.slices import predicate_where
from analysis.store import Store
from analysis.store.series import create_series, get_series, series_fields

N = 500
RUNS = 3


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    rng = np.random.default_rng(5)
    store = Store(tmp_path_factory.mktemp("cells") / "c.duckdb")
    lang = rng.choice(["en", "sw", "fr", None], N)
    length = rng.integers(1, 400, N).astype(float)
    length[rng.random(N) < 0.1] = np.nan
    frames = []
    for k in range(RUNS):
        score = np.clip(rng.normal(0.6 - 0.05 * k * (lang == "sw"), 0.2), 0, 1)
        frame = pd.DataFrame({"id": [f"e{i}" for i in range(N)], "prompt": [f"q{i}" for i in range(N)],
                              "lang": lang, "length": length, "reward": rng.normal(k, 1, N), "score": score,
                              "correct": score >= 0.5})
        frames.append(frame)
        store.ingest_frame(frame, name=f"step-{k + 1}",
                           mapping={"id": "id", "input": "prompt", "score": "score", "correct": "correct"})
    create_series(store, "s", [f"step-{k + 1}" for k in range(RUNS)])
    yield store, frames
    store.close()


def _statement(store, exclude, cells: bool):
    info = get_series(store, "s")
    prepared = prepare_attributes(store, info.tables[0], series_attributes(store, info, ["lang", "length"]), bins=3,
                                  edges=None)
    attrs = [p.sql for p in prepared]
    signal = [[_signal_sql(f, "reward")] for f in series_fields(store, info)]
    assert all(s[0] is not None for s in signal)
    where = None
    if exclude:
        parts, params = [], []
        for i, value in exclude:
            sql, p = predicate_where([attrs[i]], [value])
            parts.append(f"({sql})")
            params += p
        where = (" OR ".join(parts), params)
    sql, params = S.trajectory_sql(info.tables, [attrs] * RUNS, signal, reference=info.tables[0], exclude=where,
                                   cells=cells)
    raw = store.cursor().execute(sql, params).df()
    return raw, prepared


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns="misplaced", errors="ignore")
    key = ["|".join("" if pd.isna(v) else str(v) for v in row)
           for row in zip(frame["gid"], frame["k"], frame["a0"], frame["a1"])]
    return frame.assign(_key=key).sort_values("_key").drop(columns="_key").reset_index(drop=True)


@pytest.mark.parametrize("exclude", [(), ((0, "sw"),), ((0, None),), ((0, "fr"), (1, 2))],
                         ids=["none", "a value", "missing", "two slices"])
def test_cells_sum_to_the_grouping_sets_of_the_statement(series, exclude):
    store, frames = series
    raw, prepared = _statement(store, (), True)
    cells = Cells.from_frame(raw, 2)
    mine = _sorted(cells.grouping_sets(RUNS, exclude))
    want, _ = _statement(store, exclude, False)
    want = _sorted(want)
    assert len(mine) == len(want)
    for c in ("gid", "k", "n", "errors", "score_n", "s0_n", "n_paired", "errors_paired", "b", "c"):
        assert mine[c].astype(np.int64).tolist() == want[c].astype(np.int64).tolist(), c
    for c in ("a0", "a1"):
        assert [None if pd.isna(v) else v for v in mine[c]] == [None if pd.isna(v) else v for v in want[c]], c
    for c in ("score_sum", "score_sq", "s0_sum", "s0_sq"):
        np.testing.assert_allclose(mine[c].to_numpy(dtype=float), want[c].to_numpy(dtype=float), rtol=1e-12)
    # and pandas on the example rows: examples and errors per run and language, the excluded slices left out
    lang_bins = prepared[1]
    assert lang_bins.labels is not None  # the length is cut into bins
    for k, frame in enumerate(frames):
        keep = np.ones(len(frame), dtype=bool)
        for i, value in exclude:
            if i == 0:
                keep &= ~(frame["lang"].isna() if value is None else frame["lang"] == value).to_numpy()
        if any(i == 1 for i, _ in exclude):
            continue  # a bin's rows: the statement above is the check
        sub = frame[keep]
        got = mine[(mine["k"] == k) & (mine["gid"] == 1)]
        want_n = sub.groupby(sub["lang"].fillna("(missing)"))["correct"].agg(["size", lambda c: int((~c).sum())])
        got_n = {("(missing)" if v is None else v): (n, e) for v, n, e in zip(got["a0"], got["n"], got["errors"])}
        assert got_n == {v: (int(r.iloc[0]), int(r.iloc[1])) for v, r in want_n.iterrows()}
