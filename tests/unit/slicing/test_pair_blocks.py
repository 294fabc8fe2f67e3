"""Pairs counted per block of attributes (:func:`analysis.sql.slices.pair_blocks`) give every count of the
pairs' own grouping sets: checked against pandas ``groupby`` over the same rows (missing values a cell of their
own), and against the plain GROUPING SETS statement, scores graded and exact."""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.sql import slices as Q
from analysis.sql.features import SCORE_SCALE


def _table(seed: int, cards: list[int], n: int = 3000) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    data = {f"c{j}": pd.Series([f"v{x}" for x in rng.integers(0, k, n)], dtype=object) for j, k in enumerate(cards)}
    frame = pd.DataFrame(data)
    for c in frame.columns:
        frame.loc[rng.random(n) < 0.05, c] = None
    frame["correct"] = rng.random(n) < 0.6
    frame["score"] = np.round(rng.random(n), 3)
    frame.loc[rng.random(n) < 0.1, "score"] = np.nan
    frame["unscorable"] = rng.random(n) < 0.02
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE runs_t AS SELECT * FROM frame")
    return con, frame


def _rows(con, sql, params, k):
    raw = con.execute(sql, params).df()
    out = {}
    for row in raw.itertuples(index=False):
        values = tuple(None if pd.isna(v) else v for v in row[:k])
        out[(int(row[k]), values)] = (int(row.n), int(row.errors), int(row.score_n),
                                      None if pd.isna(row.score_sum) else int(row.score_sum))
    return out


@pytest.mark.parametrize("seed, cards", [(0, [3, 5, 8, 12, 20, 4, 6, 10, 2, 5]), (1, [2, 3, 4]),
                                         (2, [40, 30, 2, 3, 70])])
def test_blocks_give_the_counts_of_each_pair(seed, cards):
    con, frame = _table(seed, cards)
    k = len(cards)
    known = [frame[f"c{j}"].nunique() for j in range(k)]
    attrs = [Q.AttributeSQL(f"c{j}", f'"c{j}"', n_values=known[j]) for j in range(k)]
    pairs = list(itertools.combinations(range(k), 2))
    assert len(Q.pair_blocks(known)) < len(pairs) or k == 3
    sql, params = Q.grouping_sets_sql("runs_t", attrs, pairs, derive_singles=True)
    got = _rows(con, sql, params, k)
    plain, plain_params = Q.grouping_sets_sql("runs_t", attrs, pairs + [(i,) for i in range(k)])
    assert got == _rows(con, plain, plain_params, k)
    # independently: pandas groupby over the scorable rows, a missing value its own cell
    scored = frame[~frame["unscorable"]].copy()
    units = np.round(scored["score"] * float(SCORE_SCALE))
    scored["units"] = units
    scored["err"] = ~scored["correct"]
    for s in pairs + [(i,) for i in range(k)]:
        keys = [f"c{i}" for i in s]
        grouped = scored.groupby(keys, dropna=False).agg(n=("err", "size"), errors=("err", "sum"),
                                                          score_n=("score", "count"), units=("units", "sum"))
        gid = Q.grouping_mask(k, s)
        for index, row in grouped.iterrows():
            index = index if isinstance(index, tuple) else (index,)
            values = [None] * k
            for i, v in zip(s, index):
                values[i] = None if pd.isna(v) else v
            n, errors, score_n, score_sum = got[(gid, tuple(values))]
            assert (n, errors, score_n) == (row.n, row.errors, row.score_n)
            assert score_sum == (int(row.units) if row.score_n else None)  # SQL's sum of no value is NULL
        assert sum(1 for g, _ in got if g == gid) == len(grouped)


def test_unknown_or_many_values_stay_in_pairs():
    assert Q.pair_blocks([None, 3, 3, 3]) == [(1, 2, 3), (0, 1), (0, 2), (0, 3)]
    assert Q.pair_blocks([Q.PROFILE_DISTINCT_CAP, 3, 3]) == [(0, 1), (0, 2), (1, 2)]
    covered = {p for b in Q.pair_blocks([3, 5, 8, 12, 20, 4, 6, 10, 2, 5]) for p in itertools.combinations(b, 2)}
    assert covered == set(itertools.combinations(range(10), 2))
