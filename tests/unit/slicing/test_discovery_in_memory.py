"""Discovery's lattice counted in memory (the attribute codes the slice table keeps) gives the table the grouping
statements give: every level, the searched and the tested half of a held-out split, missing values, bins,
booleans. The SQL path is the independent computation (:data:`analysis.slicing.discovery.IN_MEMORY` off)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from analysis.slicing import discovery as D
from analysis.slicing.table import slice_table

N = 3000


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(13)
    lang = rng.choice(["en", "sw", "yo", None], N, p=[0.5, 0.25, 0.2, 0.05])
    hops = rng.integers(1, 4, N).astype("float64")
    hops[rng.random(N) < 0.05] = np.nan
    size = rng.lognormal(3, 1, N)
    flag = rng.random(N) < 0.4
    wrong = (rng.random(N) < 0.15) | ((lang == "sw") & (hops == 3) & (rng.random(N) < 0.6)) | (flag & (size > 40))
    return pd.DataFrame({"id": [f"e{i}" for i in range(N)], "prompt": [f"q{i} " * (i % 7 + 1) for i in range(N)],
                         "lang": lang, "hops": hops, "size": size, "flag": flag, "correct": ~wrong})


@pytest.mark.parametrize("holdout", [True, False])
@pytest.mark.parametrize("max_order", [1, 3])
def test_the_lattice_counted_in_memory_is_the_grouping_statements(store, monkeypatch, holdout, max_order):
    store.ingest_frame(_frame(), name="r")
    by = ["lang", "hops", "size", "flag", "input_length"]
    slice_table(store, "r", by)  # the codes a report has kept by the time discovery runs
    tables = {}
    for memory in (False, True):
        monkeypatch.setattr(D, "IN_MEMORY", memory)
        found = D.discover(store, "r", by, holdout=holdout, max_order=max_order, k=8, min_support=30, seed=3)
        tables[memory] = found.table
    assert not tables[True].empty
    pd.testing.assert_frame_equal(tables[True], tables[False])


def test_the_split_in_memory_is_the_sql_split(store, monkeypatch):
    """Searched and tested halves read in log order (the ids given are the example ids): each slice's searched
    and tested counts as the SQL's."""
    store.ingest_frame(_frame(), name="r")
    counted = []

    real = D._InMemory.__call__

    def spy(self, attrs, sets):
        counted.append(int(self.selected.sum()))
        return real(self, attrs, sets)

    monkeypatch.setattr(D._InMemory, "__call__", spy)
    found = D.discover(store, "r", ["lang", "hops"], holdout=True, max_order=2, k=5, min_support=20, seed=5)
    monkeypatch.setattr(D, "IN_MEMORY", False)
    again = D.discover(store, "r", ["lang", "hops"], holdout=True, max_order=2, k=5, min_support=20, seed=5)
    # the halves counted are the split's, computed here with hashlib (md5 of "<seed>:<example id>" below 8)
    searched = sum(hashlib.md5(f"5:e{i}".encode()).hexdigest()[0] < "8" for i in range(N))
    assert counted and set(counted) == {searched, N - searched}
    pd.testing.assert_frame_equal(found.table[["search_n", "n", "errors"]], again.table[["search_n", "n", "errors"]])
