"""analysis.comparable_pair: the default pair of Compare shares example ids (checked against set intersections)."""

from __future__ import annotations

import itertools

import pandas as pd

from analysis import comparable_pair


def _frame(ids, shift=0):
    return pd.DataFrame({"id": ids, "prompt": "q", "correct": [(i + shift) % 3 == 0 for i in range(len(ids))]})


def test_the_pair_shares_example_ids_and_none_when_no_two_runs_do(store):
    id_sets = {"a": [f"a{i}" for i in range(20)], "b": [f"b{i}" for i in range(20)],
               "c": [f"c{i}" for i in range(20)]}
    runs = {}
    for name, ids in id_sets.items():
        runs[name] = store.ingest_frame(_frame(ids), name=name, mapping={"id": "id"}).added[0].run_id
    assert comparable_pair(store) is None
    overlap = [f"b{i}" for i in range(5)] + [f"z{i}" for i in range(5)]
    runs["d"] = store.ingest_frame(_frame(overlap), name="d", mapping={"id": "id"}).added[0].run_id
    pair = comparable_pair(store)
    assert pair == (runs["b"], runs["d"])
    sets = {runs[k]: set(v) for k, v in {**id_sets, "d": overlap}.items()}
    sharing = [(x, y) for x, y in itertools.combinations(runs.values(), 2) if sets[x] & sets[y]]
    assert pair in sharing


def test_the_nearest_earlier_run_is_the_baseline(store):
    ids = [f"e{i}" for i in range(20)]
    first = store.ingest_frame(_frame(ids), name="first", mapping={"id": "id"}).added[0].run_id
    second = store.ingest_frame(_frame(ids, 1), name="second", mapping={"id": "id"}).added[0].run_id
    third = store.ingest_frame(_frame(ids, 2), name="third", mapping={"id": "id"}).added[0].run_id
    assert comparable_pair(store) == (first, second)
    assert comparable_pair(store, [third, first]) == (third, first)
