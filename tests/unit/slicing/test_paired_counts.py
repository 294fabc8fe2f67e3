"""Paired counts in memory (one bincount per grouping set over 81 outcome classes, kept per set) equal the SQL's.

The SQL (:func:`analysis.sql.slices.paired_sets_sql`, a GROUPING SETS statement over the join of both runs) is
the independent implementation: every count, mean score and q-value of ``compare_runs`` is the same whichever
way it was counted, whatever was counted before, and with the sparse path for sets with very many cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import compare_runs, open_store
from analysis.slicing import counts

ATTRS = ["lang", "domain", "flag", "level"]
COLUMNS = ["n", "base_errors", "cand_errors", "b", "c", "base_error_rate", "cand_error_rate", "base_mean_score",
           "cand_mean_score", "p_value", "q_value", "ci_low", "ci_high"]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    correct = rng.random(n) < 0.7
    score = np.where(rng.random(n) < 0.15, np.nan, correct.astype(float))  # 0/1 scores, some missing
    return pd.DataFrame({
        "id": [f"e{i}" for i in range(n)], "prompt": [f"p{i % 50}" for i in range(n)],
        "lang": pd.array(rng.choice(["en", "sw", "de", None], size=n, p=[0.5, 0.2, 0.2, 0.1]), dtype="str"),
        "domain": rng.choice(["law", "med", "code"], size=n),
        "flag": rng.random(n) < 0.3,
        "level": rng.integers(1, 4, size=n),
        "score": score,
        "correct": correct,
    })


@pytest.fixture
def store(tmp_path):
    mapping = {"id": "id", "input": "prompt", "score": "score", "correct": "correct"}
    with open_store(tmp_path / "p.duckdb", seed_demo=False) as opened:
        opened.ingest_frame(_frame(3000, 1), name="r", mapping=mapping)
        opened.ingest_frame(_frame(2800, 2), name="r2", mapping=mapping)  # the last 200 ids only in r
        yield opened


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a["description"].tolist() == b["description"].tolist()
    for column in COLUMNS:
        assert np.array_equal(a[column].to_numpy(float), b[column].to_numpy(float), equal_nan=True), column
    assert a["verdict"].tolist() == b["verdict"].tolist()


def _by_sql(store, monkeypatch, order: int) -> pd.DataFrame:
    with monkeypatch.context() as patch:
        patch.setattr(counts, "paired_counter", lambda *args, **kwargs: None)
        return compare_runs(store, "r", "r2", ATTRS, max_order=order, min_support=1).table


@pytest.mark.parametrize("order", [1, 2, 3])
def test_in_memory_paired_counts_equal_the_sql(store, monkeypatch, order):
    used = []
    real = counts.paired_counter

    def spy(*args, **kwargs):
        counter = real(*args, **kwargs)
        used.append(counter is not None)
        return counter

    monkeypatch.setattr(counts, "paired_counter", spy)
    in_memory = compare_runs(store, "r", "r2", ATTRS, max_order=order, min_support=1).table
    assert used == [True]
    monkeypatch.setattr(counts, "paired_counter", real)
    _same(in_memory, _by_sql(store, monkeypatch, order))
    assert in_memory["base_mean_score"].notna().all()


def test_kept_sets_and_the_sparse_path_give_the_same_table(store, monkeypatch):
    expected = _by_sql(store, monkeypatch, 2)
    compare_runs(store, "r", "r2", ATTRS[:2], max_order=1, min_support=1)  # some sets kept first
    _same(compare_runs(store, "r", "r2", ATTRS, max_order=2, min_support=1).table, expected)
    counts.clear(store)
    monkeypatch.setattr(counts, "_DENSE_PAIRED_CELLS", 0)  # every set through np.unique
    _same(compare_runs(store, "r", "r2", ATTRS, max_order=2, min_support=1).table, expected)


def test_a_write_forgets_the_kept_pairs(store):
    before = compare_runs(store, "r", "r2", ATTRS, max_order=1, min_support=1)
    frame = _frame(3000, 5)
    store.ingest_frame(frame, name="r3", mapping={"id": "id", "input": "prompt", "score": "score", "correct": "correct"})
    after = compare_runs(store, "r", "r3", ATTRS, max_order=1, min_support=1)
    assert after.matched == 3000 and before.matched == 2800
    assert not after.table["b"].equals(before.table["b"])
