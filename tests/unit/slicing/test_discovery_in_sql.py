"""Discovery evaluates every lattice level with a grouping statement (no example row read into Python): the same
slices, scores, sizes and statistics as SliceLine on the rows in memory (find_slices on encode's matrix), with
missing values, numeric bins, a held-out half and a cohort; and find_slices_from_counts against find_slices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.slicing.discovery import _Cells, _prepared, discover, encode
from analysis.slicing.sliceline import find_slices, find_slices_from_counts
from analysis.sql import slices as Q
from tests.unit.store.recording import recording


def _frame(n=3000, seed=5):
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw", "fr", "de", None], size=n, p=[0.4, 0.2, 0.2, 0.15, 0.05])
    channel = rng.choice(["web", "api", "voice"], size=n)
    tier = rng.choice([1, 2, 3], size=n)
    length = rng.gamma(2.0, 100.0, size=n)  # binned into quantiles
    p = 0.1 + 0.45 * ((lang == "sw") & (channel == "api")) + 0.2 * (length > 400) + 0.05 * (tier == 3)
    return pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n, "lang": lang,
                         "channel": channel, "tier": tier, "length": length, "domain": rng.choice(["a", "b"], n),
                         "correct": rng.random(n) >= p})


BY = ["lang", "channel", "tier", "length"]


def _in_memory(store, run, *, holdout, seed, where, **params):
    """The rows-in-memory search, as discovery ran it before: find_slices on the encoded matrix."""
    codes, errors, labels, prepared, _ = encode(store, run, BY, where=where)
    if holdout:
        sql, qp = Q.codes_sql(store.run(run).table_name, [p.sql for p in prepared], holdout_seed=seed,
                              cohort=None if where is None else (f"({where})", []))
        searched = store.cursor().execute(sql, qp).df()["searched"].to_numpy(dtype=bool)
    else:
        searched = np.ones(len(errors), dtype=bool)
    n = int(searched.sum())
    found = find_slices(codes[searched], errors[searched], min_support=max(1, int(params.pop("min_support") * n)),
                        **params)
    test = ~searched if holdout else searched
    out = []
    for s in found:
        mask = test.copy()
        for f, c in s.predicate:
            mask &= codes[:, f] == c
        out.append(({prepared[f].attribute.name: labels[f][c] for f, c in s.predicate}, s.score, s.size,
                    s.error_sum, int(mask.sum()), int(errors[mask].sum())))
    return out


@pytest.mark.parametrize("holdout", [False, True])
@pytest.mark.parametrize("max_order", [1, 2, 3])
def test_same_as_the_search_on_rows_in_memory(store, holdout, max_order):
    (run,) = store.ingest_frame(_frame(), name="r").added
    params = {"error_weight": 0.9, "k": 8, "max_order": max_order}
    got = discover(store, run.run_id, BY, holdout=holdout, seed=3, min_support=0.02, **params).table
    want = _in_memory(store, run.run_id, holdout=holdout, seed=3, where=None, min_support=0.02, **params)
    assert len(want) > 0
    assert [(r["predicate"], r["sliceline_score"], r["search_n"], r["search_error_sum"], r["n"], r["errors"])
            for r in got.to_dict("records")] == want


def test_cohort_and_no_row_read_into_python(store):
    (run,) = store.ingest_frame(_frame(), name="r").added
    where = 'domain = "a"'
    with recording(store) as log:
        got = discover(store, run.run_id, BY, where=where, min_support=0.02, error_weight=0.9, k=5).table
    statements = " ".join(sql for sql, _ in log)
    assert "example_id, " not in statements and "ORDER BY source_row" not in statements  # no per-example read
    assert "GROUPING SETS" in statements
    codes, errors, labels, prepared, _ = encode(store, run.run_id, BY, where=where)
    found = find_slices(codes, errors, error_weight=0.9, k=5, max_order=3, min_support=max(1, int(0.02 * len(errors))))
    assert got["predicate"].tolist() == [{prepared[f].attribute.name: labels[f][c] for f, c in s.predicate}
                                         for s in found]
    assert got["sliceline_score"].tolist() == [s.score for s in found]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_find_slices_from_counts_equals_find_slices(seed):
    rng = np.random.default_rng(seed)
    n, m = 1500, 5
    codes = np.column_stack([rng.integers(0, c, n) for c in (3, 4, 2, 6, 3)])
    codes[:, 3] = np.where(codes[:, 3] == 2, 5, codes[:, 3])  # a code that no row has: not a category
    errors = (rng.random(n) < 0.1 + 0.4 * ((codes[:, 0] == 1) & (codes[:, 1] == 2))).astype(float)

    def count(tuples):
        out = {}
        for t in tuples:
            cells, inverse = np.unique(codes[:, list(t)], axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            out[t] = cells, np.bincount(inverse), np.bincount(inverse, weights=errors).astype(np.int64)
        return out

    for params in ({"error_weight": 0.95, "k": 5, "max_order": 3, "min_support": 20},
                   {"error_weight": 0.6, "k": 3, "max_order": 4, "min_support": 0.01}):
        want = find_slices(codes, errors, **params)
        got = find_slices_from_counts(count, n=n, error_sum=int(errors.sum()), n_features=m, **params)
        assert got == want


def test_grouping_columns_follow_their_first_appearance_in_the_sets(store, monkeypatch):
    """Spark's grouping_id takes the grouping columns in the order they first appear in GROUPING SETS; discovery's
    statements list GROUPING(a0, a1, ...) in that same order, whatever tuples a level asks for. (On DuckDB without
    a cohort discovery counts in memory: the statements are those it issues on Spark or over a cohort.)"""
    import re

    from analysis.slicing import discovery

    monkeypatch.setattr(discovery, "IN_MEMORY", False)
    (run,) = store.ingest_frame(_frame(), name="r").added
    with recording(store) as log:
        discover(store, run.run_id, BY, holdout=True, max_order=3, min_support=0.02, error_weight=0.9, k=8)
        info = store.run(run.run_id)
        cells = _Cells(store, info.table_name, _prepared(store, info, BY, bins=5, cohort=None), "NOT unscorable", [])
        counted = cells([(0, 3), (1, 2), (0, 1)])  # 0 and 3 appear before 1 and 2
    assert set(counted) == {(0, 3), (1, 2), (0, 1)}
    assert all(int(n.sum()) == 3000 for _, n, _ in counted.values())
    checked = 0
    for sql, _ in log:
        if "GROUPING SETS" not in sql:
            continue
        grouping = re.search(r"GROUPING\(([^)]*)\)", sql).group(1).replace(" ", "").split(",")
        sets = sql[sql.index("GROUPING SETS"):]
        first = []
        for column in re.findall(r"\ba\d+\b", sets):
            if column not in first:
                first.append(column)
        assert first == grouping, sql
        checked += 1
    assert checked >= 3  # the searched half's levels and the tested half's slices
