"""Two-stage counting of the slice blocks (:func:`analysis.sql.slices.block_counting`: one GROUP BY of every
attribute, then the blocks over that table) gives every field of the one-pass statement, bit for bit: counts,
errors, scored counts and the fixed-point score sums. Checked on generated tables with a graded score (missing
values, unscorable rows, a cohort, an outcome, no scores), against the one-pass statement, the plain GROUPING SETS
of every pair and single, and pandas ``groupby``; and on the demo's slice table, against the in-memory counter."""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.sql import slices as Q
from analysis.sql.features import SCORE_SCALE


def _table(seed: int, cards: list[int], n: int = 4000) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"c{j}": pd.Series([f"v{x}" for x in rng.integers(0, k, n)], dtype=object)
                          for j, k in enumerate(cards)})
    for c in frame.columns:
        frame.loc[rng.random(n) < 0.05, c] = None
    frame["correct"] = rng.random(n) < 0.6
    frame["score"] = rng.random(n) * 3.0 - 1.0  # graded, full double precision: the fixed-point sums are tested
    frame.loc[rng.random(n) < 0.1, "score"] = np.nan
    frame["unscorable"] = rng.random(n) < 0.02
    frame["lang"] = np.where(rng.random(n) < 0.5, "en", "sw")
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE runs_t AS SELECT * FROM frame")
    return con, frame


def _rows(con, sql, params, k) -> dict:
    """Every row as (gid, values) -> (n, errors, score_n, score_sum), the score sum an exact integer (fetched as a
    Python Decimal: a DataFrame would hold it as a double)."""
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    out = {}
    for row in cur.fetchall():
        got = dict(zip(names, row))
        key = (int(got["gid"]), tuple(row[:k]))
        assert key not in out
        out[key] = (int(got["n"]), int(got["errors"]), int(got["score_n"]),
                    None if got["score_sum"] is None else int(got["score_sum"]))
    return out


CASES = [
    dict(seed=0, cards=[3, 5, 4, 2, 3, 2]),
    dict(seed=1, cards=[2, 3, 4]),
    dict(seed=2, cards=[4, 3, 2, 3, 2], cohort=True),
    dict(seed=3, cards=[3, 3, 2, 2, 4], outcome=True),
    dict(seed=4, cards=[3, 4, 2, 2], with_scores=False),
]


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_two_stages_give_every_field_of_one_pass(case):
    con, frame = _table(case["seed"], case["cards"])
    k = len(case["cards"])
    attrs = [Q.AttributeSQL(f"c{j}", f'"c{j}"', n_values=frame[f"c{j}"].nunique()) for j in range(k)]
    pairs = list(itertools.combinations(range(k), 2))
    kwargs: dict = {"with_scores": case.get("with_scores", True)}
    if case.get("cohort"):
        kwargs["where"], kwargs["where_params"] = Q.and_cohort("NOT unscorable", ('"lang" = ?', ["sw"]))
    if case.get("outcome"):
        kwargs["outcome"], kwargs["outcome_params"] = "score > CAST(? AS DOUBLE)", [0.5]
    rows = 10**9  # as if each combination stood for many examples: two stages
    assert Q.block_counting(attrs, rows) == "combinations"
    two, two_params = Q.grouping_sets_sql("runs_t", attrs, pairs, derive_singles=True, rows=rows, **kwargs)
    one, one_params = Q.grouping_sets_sql("runs_t", attrs, pairs, derive_singles=True, **kwargs)
    assert "combos AS" in two and "combos AS" not in one
    got = _rows(con, two, two_params, k)
    assert got == _rows(con, one, one_params, k)
    plain, plain_params = Q.grouping_sets_sql("runs_t", attrs, pairs + [(i,) for i in range(k)], **kwargs)
    assert got == _rows(con, plain, plain_params, k)
    # the same column types as the one-pass statement
    types = [[d[1] for d in con.execute(q, p).description] for q, p in ((two, two_params), (one, one_params))]
    assert types[0] == types[1]

    # independently: pandas groupby over the examples counted, a missing value its own cell
    chosen = ~frame["unscorable"]
    if case.get("cohort"):
        chosen &= frame["lang"] == "sw"
    scored = frame[chosen].copy()
    scaled = scored["score"] * float(SCORE_SCALE)
    scored["units"] = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)  # half away from zero, as both engines round
    scored["err"] = scored["score"] > 0.5 if case.get("outcome") else ~scored["correct"]
    for s in pairs + [(i,) for i in range(k)]:
        keys = [f"c{i}" for i in s]
        grouped = scored.groupby(keys, dropna=False).agg(n=("err", "size"), errors=("err", "sum"),
                                                          score_n=("score", "count"))
        units = {key if isinstance(key, tuple) else (key,): sum(int(x) for x in part if x == x)  # Python integers
                 for key, part in scored.groupby(keys, dropna=False)["units"]}
        gid = Q.grouping_mask(k, s)
        for index, row in grouped.iterrows():
            index = index if isinstance(index, tuple) else (index,)
            values = [None] * k
            for i, v in zip(s, index):
                values[i] = None if pd.isna(v) else v
            n, errors, score_n, score_sum = got[(gid, tuple(values))]
            assert (n, errors) == (row.n, row.errors)
            if kwargs["with_scores"]:
                assert score_n == row.score_n
                assert score_sum == (units[index] if row.score_n else None)  # SQL's sum of no value is NULL
            else:
                assert (score_n, score_sum) == (0, None)
        assert sum(1 for g, _ in got if g == gid) == len(grouped)


def test_one_pass_when_combinations_are_close_to_the_rows():
    few = [Q.AttributeSQL("a", '"a"', n_values=3), Q.AttributeSQL("b", '"b"', n_values=4)]  # 4 x 5 = 20 cells
    assert Q.combinations_bound([a.n_values for a in few]) == 20
    assert Q.block_counting(few, 20 * Q.COMBO_RATIO) == "combinations"
    assert Q.block_counting(few, 20 * Q.COMBO_RATIO - 1) == "grouping_sets"
    assert Q.block_counting(few, None) == "grouping_sets"
    many = [Q.AttributeSQL(f"c{j}", f'"c{j}"', n_values=9) for j in range(5)]  # 10^5 combinations: a large table
    assert Q.combinations_bound([a.n_values for a in many]) == 10**5 > Q.COMBO_CELLS
    assert Q.block_counting(many, 10**12) == "grouping_sets"
    id_like = few + [Q.AttributeSQL("id", '"id"', n_values=Q.PROFILE_DISTINCT_CAP)]  # at the cap: many values
    assert Q.block_counting(id_like, 10**12) == "grouping_sets"
    unknown = few + [Q.AttributeSQL("x", '"x"')]
    assert Q.block_counting(unknown, 10**12) == "grouping_sets"
    # the bench's 10 attributes (bench/bench_scale.py): about 4e8 combinations, more than 100M rows
    bench = [Q.AttributeSQL(f"c{j}", f'"c{j}"', n_values=v) for j, v in enumerate((3, 5, 8, 12, 20, 4, 6, 10, 2, 5))]
    assert Q.block_counting(bench, 100_000_000) == "grouping_sets"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from analysis.demo.seed import ensure_demo
    from analysis.store import Store

    path = tmp_path_factory.mktemp("blocks") / "demo.duckdb"
    with Store(path) as writer:
        ensure_demo(writer, n_prompts=3000)
    store = Store(path, read_only=True)
    yield store
    store.close()


@pytest.mark.parametrize("where", [None, "confidence > 0.5"])
def test_demo_slice_table_is_identical_in_two_stages(demo, monkeypatch, where):
    from analysis.slicing import counts as C
    from analysis.slicing.table import slice_table

    run = demo.runs()["name"].tolist()[0]
    by = None

    def table(ratio: float, in_memory_rows: int):
        C.clear(demo)
        monkeypatch.setattr(Q, "COMBO_RATIO", ratio)
        monkeypatch.setattr(Q, "COMBO_CELLS", float("inf"))
        monkeypatch.setattr(C, "IN_MEMORY_MAX_ROWS", in_memory_rows)
        return slice_table(demo, run, by, max_order=2, where=where).table

    calls = []
    original = Q.block_counting
    monkeypatch.setattr(Q, "block_counting", lambda a, r: calls.append(original(a, r)) or calls[-1])
    two = table(0, 0)  # every statement in two stages
    assert calls and set(calls) == {"combinations"}
    calls.clear()
    one = table(float("inf"), 0)  # in one pass
    assert calls and set(calls) == {"grouping_sets"}
    pd.testing.assert_frame_equal(two, one)
    if where is None:  # and counted in memory (numpy over the examples' codes), an independent count
        pd.testing.assert_frame_equal(two, table(0, 10**9))
