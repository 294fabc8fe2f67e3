"""The leakage check counted in memory (the sample's rows read once, cells counted with numpy) gives what the
grouping statement :func:`analysis.sql.slices.leakage_sql` gives, for every attribute and pair: the same share of
uncertainty removed and the same extreme error rates, with missing values, pooled small cells and a sample.
(The statistic itself is tested against scikit-learn in ``test_default_attributes.py``.)"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.slicing import attributes as A

N = 4000


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    lang = rng.choice(["en", "sw", "yo", "rare", None], N, p=[0.5, 0.3, 0.15, 0.004, 0.046])
    tier = rng.choice(["a", "b", "c"], N)
    hops = rng.integers(1, 5, N).astype("float64")
    hops[rng.random(N) < 0.05] = np.nan
    size = rng.lognormal(2, 1, N)
    wrong = (rng.random(N) < 0.2) | ((lang == "sw") & (tier == "c"))
    label = np.where(wrong, "bad", "good")  # leaks the outcome entirely
    return pd.DataFrame({"id": [f"x{i}" for i in range(N)], "prompt": [f"q{i}" for i in range(N)], "lang": lang,
                         "tier": tier, "hops": hops, "size": size, "bucket": label, "correct": ~wrong})


@pytest.mark.parametrize("sample_modulus", [1, 3])
@pytest.mark.parametrize("min_cell", [1, 30, 400])
def test_in_memory_leakage_is_the_statement(store, monkeypatch, sample_modulus, min_cell):
    store.ingest_frame(_frame(), name="r")
    schema = store.schema("r")
    attrs = A.resolve_attributes(store, schema, ["lang", "tier", "hops", "size", "bucket", "input_length"])
    prepared = A.prepare_attributes(store, schema.run.table_name, attrs, bins=5, edges=None)
    pairs = [(i, j) for i in range(len(prepared)) for j in range(i + 1, len(prepared))]
    got = {}
    for memory in (False, True):
        monkeypatch.setattr(A, "LEAKAGE_IN_MEMORY", memory)
        got[memory] = A.leakage(store, schema.run.table_name, prepared, pairs=pairs, min_cell=min_cell,
                                sample_modulus=sample_modulus)
    assert len(got[True]) == len(prepared) + len(pairs)
    for sql, memory in zip(got[False], got[True]):
        assert memory.attributes == sql.attributes
        for a, b in ((memory.uncertainty_removed, sql.uncertainty_removed), (memory.min_rate, sql.min_rate),
                     (memory.max_rate, sql.max_rate)):
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)
    label = next(r for r in got[True] if r.attributes == ("bucket",))
    assert label.uncertainty_removed == pytest.approx(1.0)  # it fixes correctness: all of it removed


def test_outcome_booleans_are_left_out_with_their_reason_unprofiled(store):
    """An outcome boolean is not profiled for the choice (a constant one would be read whole): it is left out with
    its reason whether it varies (``is_refusal`` here) or not (``output_empty``: no empty output), a constant one
    removes no uncertainty (share 0), and the defaults are the context attributes that vary."""
    frame = _frame().drop(columns=["bucket"])
    frame["output"] = ["I'm sorry, but I can't help with that." if i % 9 == 0 else f"answer {i}" for i in range(N)]
    frame["flag"] = True  # a constant context attribute: left out as constant
    store.ingest_frame(frame, name="r")
    notes = {n.name: n for n in A.attribute_notes(store, "r")}
    chosen = A.default_attributes(store, "r")
    for name in ("is_refusal", "output_empty"):
        assert not notes[name].default and notes[name].why == notes[name].attribute.reason != ""
        assert chosen.left_out_kind[name] == A.LEFT_OUTCOME
    assert notes["output_empty"].uncertainty_removed == 0.0
    assert 0.0 <= notes["is_refusal"].uncertainty_removed <= 1.0
    assert chosen.left_out["flag"] == A.MSG_CONSTANT and chosen.left_out_kind["flag"] == A.LEFT_CONSTANT
    assert [a.name for a in chosen] == [n for n in ("lang", "tier", "hops", "size", "input_length")
                                        if notes[n].default]
    assert {"lang", "tier"} <= {a.name for a in chosen}
