"""The attribute choice of a run (profile and leakage check) is computed once per data version of the store: a
report's parts (slices, comparison, discovery, the roles of attributes) reuse it; a write computes it again."""

from __future__ import annotations

import pandas as pd

from analysis.slicing import attributes as A
from analysis.store import Store


def _store(tmp_path) -> Store:
    store = Store(tmp_path / "k.duckdb")
    wrong = [i % 3 == 0 for i in range(300)]
    store.ingest_frame(pd.DataFrame({"prompt": ["q"] * 300, "correct": [not w for w in wrong],
                                     "lang": ["en", "sw", "fr"] * 100, "tier": ["a", "b"] * 150}), name="r")
    return store


def test_the_choice_is_kept_at_one_data_version_and_computed_again_after_a_write(tmp_path, monkeypatch):
    store = _store(tmp_path)
    calls = []
    real = A._choose_now
    monkeypatch.setattr(A, "_choose_now", lambda s, run: calls.append(run) or real(s, run))
    first = A.default_attributes(store, "r")
    notes = A.attribute_notes(store, "r")
    again = A.default_attributes(store, "r")
    assert len(calls) == 1
    assert [a.name for a in first] == [a.name for a in again] == [n.name for n in notes if n.default]
    assert again.left_out == first.left_out and again is not first
    again.clear()  # a caller changing its list does not change the kept one
    assert [a.name for a in A.default_attributes(store, "r")] == [a.name for a in first]
    store.ingest_frame(pd.DataFrame({"prompt": ["q"] * 10, "correct": [True] * 10}), name="other")
    A.default_attributes(store, "r")
    assert len(calls) == 2  # the store's data version changed
    # the kept choice is the one computed afresh
    assert [a.name for a in real(store, "r")[1]] == [a.name for a in first]
    store.close()
