"""The mix shift's per-value counts of two runs, read from arrays made once per series (``mix._two_runs``), are those
of a pandas pivot table of the same rows (values in order of first appearance, 0 where a run lacks a value), for
every pair of runs, values missing from some runs included."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from analysis.series.mix import _split, _two_runs


def test_two_runs_equal_a_pivot_table_for_every_pair():
    rng = np.random.default_rng(11)
    rows = []
    for k in range(5):
        present = rng.choice(list("abcdef"), size=rng.integers(2, 6), replace=False)
        for value in present:
            rows.append({"attribute": "x", "value": value, "k": k, "n": int(rng.integers(1, 50)),
                         "correct": 0})
        rows.append({"attribute": None, "value": None, "k": k, "n": 1, "correct": 0})
    frame = pd.DataFrame(rows)
    frame["correct"] = (frame["n"] * rng.random(len(frame))).astype(int)
    parts = _split(frame, ["x"])
    for ka, kb in itertools.permutations(range(5), 2):
        values, n1, n2, c1, c2 = _two_runs(parts["x"], ka, kb)
        sub = frame[(frame["attribute"] == "x") & frame["k"].isin([ka, kb])]
        wide = sub.pivot_table(index="value", columns="k", values=["n", "correct"], aggfunc="sum", fill_value=0,
                               sort=False)
        assert list(values) == list(wide.index)
        for got, (what, k) in zip((n1, n2, c1, c2), (("n", ka), ("n", kb), ("correct", ka), ("correct", kb))):
            want = wide[(what, k)].to_numpy() if (what, k) in wide else np.zeros(len(wide), dtype=np.int64)
            assert got.tolist() == want.tolist()
