"""Counts kept per grouping set and counted in memory: the same figures as pandas, whatever was asked before."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis import open_store, slice_table
from analysis.slicing import counts


def _frame(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw", "de", None], size=n, p=[0.5, 0.2, 0.2, 0.1])
    return pd.DataFrame({
        "id": [f"e{i}" for i in range(n)], "prompt": [f"p{i % 50}" for i in range(n)],
        "lang": pd.array(lang, dtype="str"),
        "domain": rng.choice(["law", "med", "code"], size=n),
        "flag": rng.random(n) < 0.3,
        "level": rng.integers(1, 4, size=n),
        "score": np.round(rng.random(n), 2),
        "correct": rng.random(n) < 0.7,
    })


def _pandas_counts(frame: pd.DataFrame, attrs: list[str], max_order: int) -> dict:
    """n and errors per slice, straight from pandas (missing values as their own group)."""
    work = frame[attrs].astype(object).where(frame[attrs].notna(), "(missing)").astype(str)
    work["_err"] = (~frame["correct"]).astype(int)
    out = {}
    for order in range(1, max_order + 1):
        for combo in itertools.combinations(attrs, order):
            grouped = work.groupby(list(combo))["_err"].agg(["size", "sum"])
            for key, row in grouped.iterrows():
                key = key if isinstance(key, tuple) else (key,)
                out[frozenset(zip(combo, key))] = (int(row["size"]), int(row["sum"]))
    return out


def _faultline_counts(result) -> dict:
    labels = {"true": "True", "false": "False"}
    return {frozenset((k, labels.get(v, v)) for k, v in p.items()): (int(n), int(e))
            for p, n, e in zip(result.table["predicate"], result.table["n"], result.table["errors"])}


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "c.duckdb", seed_demo=False) as opened:
        opened.ingest_frame(_frame(), name="r", mapping={"id": "id", "input": "prompt", "score": "score", "correct": "correct"})
        yield opened


ATTRS = ["lang", "domain", "flag", "level"]


@pytest.mark.parametrize("first", [None, ["lang", "domain"], ATTRS[::-1]])
@pytest.mark.parametrize("max_order", [1, 2, 3])
def test_counts_match_pandas_whatever_was_counted_before(store, first, max_order):
    counts.clear(store)
    if first is not None:  # another analysis first: its sets are reused
        slice_table(store, "r", first, max_order=3, min_support=1)
    result = slice_table(store, "r", ATTRS, max_order=max_order, min_support=1)
    expected = _pandas_counts(_frame(), ATTRS, max_order)
    assert _faultline_counts(result) == expected


def test_in_memory_and_sql_counting_give_the_same_table(store, monkeypatch):
    counts.clear(store)
    in_memory = slice_table(store, "r", ATTRS, max_order=3, min_support=1).table
    counts.clear(store)
    monkeypatch.setattr(counts, "in_memory_counter", lambda *args, **kwargs: None)
    by_sql = slice_table(store, "r", ATTRS, max_order=3, min_support=1).table
    assert in_memory["description"].tolist() == by_sql["description"].tolist()
    for column in ["n", "errors", "mean_score", "p_value", "q_value"]:
        assert np.allclose(in_memory[column].to_numpy(float), by_sql[column].to_numpy(float), equal_nan=True,
                           rtol=1e-12)


def test_a_write_to_the_store_forgets_the_counts(store):
    before = slice_table(store, "r", ["lang"], max_order=1, min_support=1)
    frame = _frame(seed=2)
    store.ingest_frame(frame, name="r2", mapping={"id": "id", "input": "prompt", "score": "score", "correct": "correct"})
    again = slice_table(store, "r", ["lang"], max_order=1, min_support=1)
    assert _faultline_counts(again) == _faultline_counts(before)
    other = slice_table(store, "r2", ["lang"], max_order=1, min_support=1)
    assert _faultline_counts(other) == _pandas_counts(frame, ["lang"], 1)


def test_paired_counts_in_memory_equal_the_sql_ones(store, monkeypatch):
    from analysis import compare_runs

    frame = _frame(n=2800, seed=3)  # the last 200 ids only in r
    store.ingest_frame(frame, name="r2",
                       mapping={"id": "id", "input": "prompt", "score": "score", "correct": "correct"})
    in_memory = compare_runs(store, "r", "r2", ATTRS, max_order=2, min_support=1).table
    monkeypatch.setattr(counts, "paired_counter", lambda *args, **kwargs: None)
    by_sql = compare_runs(store, "r", "r2", ATTRS, max_order=2, min_support=1).table
    assert in_memory["description"].tolist() == by_sql["description"].tolist()
    for column in ["n", "base_errors", "cand_errors", "b", "c", "base_mean_score", "cand_mean_score", "q_value"]:
        assert np.allclose(in_memory[column].to_numpy(float), by_sql[column].to_numpy(float), equal_nan=True,
                           rtol=1e-12), column
    assert (in_memory["verdict"] == by_sql["verdict"]).all()


def test_a_run_above_the_in_memory_cap_is_counted_in_sql_with_the_same_numbers(store, monkeypatch):
    counts.clear(store)
    expected = slice_table(store, "r", ATTRS, max_order=2, min_support=1).table
    counts.clear(store)
    called = []
    real = counts.in_memory_counter
    monkeypatch.setattr(counts, "in_memory_counter", lambda *a, **k: called.append(1) or real(*a, **k))
    monkeypatch.setattr(counts, "IN_MEMORY_MAX_ROWS", len(_frame()) - 1)  # the run is one example too big
    by_sql = slice_table(store, "r", ATTRS, max_order=2, min_support=1).table
    assert not called  # no example row read into numpy
    assert by_sql["description"].tolist() == expected["description"].tolist()
    assert by_sql["n"].tolist() == expected["n"].tolist() and by_sql["errors"].tolist() == expected["errors"].tolist()
