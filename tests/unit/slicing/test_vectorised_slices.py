"""The vectorised slice decoding and redundancy marking equal the per-slice loops they replaced.

The reference implementations below are the row-by-row code ``decode_groups`` and ``redundant_mask`` used before
they were vectorised (kept here, not in the engine, as the independent implementation the fast path is checked
against): on the seeded demo, over every attribute (strings, booleans, binned numbers, missing values) and orders
1 to 3, every predicate, raw value (with its Python type), order, description and redundancy flag is the same.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from analysis.slicing import attributes as A
from analysis.slicing import table as T


def reference_decode(raw, prepared, *, empty=""):
    """The row-by-row decoding (the engine's code before vectorisation)."""
    k = len(prepared)
    gid = raw["gid"].to_numpy() if k else np.zeros(len(raw), dtype=np.int64)
    columns = [list(raw.iloc[:, i]) for i in range(k)]
    out = {"predicates": [], "attributes": [], "values": [], "orders": [], "descriptions": []}
    for row in range(len(raw)):
        g = int(gid[row])
        used = [i for i in range(k) if not (g >> (k - 1 - i)) & 1]
        pred, names, vals, words = {}, [], [], []
        for i in used:
            v = columns[i][row]
            label = A.value_label(prepared[i], v)
            pred[prepared[i].attribute.name] = label
            names.append(prepared[i].attribute.name)
            vals.append(A.raw_value(v))
            words.append(A.describe_condition(prepared[i].attribute.name, label, binned=prepared[i].labels is not None))
        out["predicates"].append(pred)
        out["attributes"].append(tuple(names))
        out["values"].append(tuple(vals))
        out["orders"].append(len(used))
        out["descriptions"].append(" AND ".join(words) or empty)
    return out


def reference_redundant(attributes, values, n):
    """The per-slice dictionary lookup of each conjunction's parents."""
    n_of = {(a, v): int(c) for a, v, c in zip(attributes, values, n)}
    out = []
    for names, vals, size in zip(attributes, values, n):
        out.append(len(names) >= 2 and any(
            n_of.get((names[:d] + names[d + 1:], vals[:d] + vals[d + 1:])) == size for d in range(len(names))))
    return np.array(out, dtype=bool)


def typed(values):
    return [tuple((type(v).__name__, v) for v in row) for row in values]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from analysis import open_store
    from analysis.demo.seed import ensure_demo

    store = open_store(tmp_path_factory.mktemp("vec") / "demo.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=1500)
    yield store
    store.close()


@pytest.mark.parametrize("order", [1, 2, 3])
def test_vectorised_decoding_equals_the_row_loop(demo, monkeypatch, order):
    from analysis import list_attributes

    run = list(demo.runs()["run_id"])[0]
    names = [a.name for a in list_attributes(demo, run)][:9]
    seen = []
    real = T.decode_groups

    caller = threading.current_thread()

    def spy(raw, prepared, **kw):
        decoded = real(raw, prepared, **kw)
        if threading.current_thread() is caller:  # not an app test's background precompute left in this process
            seen.append((raw, prepared, decoded))
        return decoded

    monkeypatch.setattr(T, "decode_groups", spy)
    result = T.slice_table(demo, run, names, max_order=order, min_support=5)
    (raw, prepared, decoded), = seen
    expected = reference_decode(raw, prepared)
    assert decoded.predicates == expected["predicates"]
    assert decoded.attributes == expected["attributes"]
    assert typed(decoded.values) == typed(expected["values"])
    assert decoded.orders == expected["orders"]
    assert decoded.descriptions == expected["descriptions"]
    n = raw["n"].to_numpy()
    fast = T.redundant_from_codes(decoded.codes, n)
    slow = reference_redundant(expected["attributes"], expected["values"], n)
    assert fast.tolist() == slow.tolist()
    if order > 1:
        assert slow.any() or not (result.table["order"] > 1).any()  # the demo has redundant conjunctions to find
    # the table the engine builds marks the same rows
    by_description = dict(zip(expected["descriptions"], slow))
    assert result.table["redundant"].tolist() == [bool(by_description[d]) for d in result.table["description"]]
    # missing values and several kinds of attribute are exercised
    kinds = {type(v).__name__ for row in expected["values"] for v in row}
    assert {"str", "int", "NoneType"} <= kinds
    assert any("(missing)" in d for d in expected["descriptions"])
    assert any(p.labels is not None for p in prepared)  # binned numbers


def test_redundant_from_codes_falls_back_beyond_63_bits():
    rng = np.random.default_rng(0)
    k = 40
    codes = np.zeros((6, k), dtype=np.int64)
    codes[:, 0] = 2
    codes[0, :] = 0
    codes[0, 0] = 2
    codes[1:, 1:] = rng.integers(900, 1000, size=(5, k - 1)) * (rng.random((5, k - 1)) < 0.05)
    codes[1, 1:] = 0
    codes[1, 5] = 999
    codes[2:, 2] = [900, 901, 902, 903]  # every slice distinct (a table never holds one twice)
    n = np.array([10, 10, 3, 4, 5, 6])
    attributes = [tuple(np.flatnonzero(r)) for r in codes]
    values = [tuple(r[r > 0]) for r in codes]
    assert T.redundant_from_codes(codes, n).tolist() == reference_redundant(attributes, values, n).tolist()
    assert T.redundant_from_codes(codes, n)[1]


def test_the_table_is_in_the_order_pandas_sorts_it(demo):
    from analysis import list_attributes

    run = list(demo.runs()["run_id"])[0]
    names = [a.name for a in list_attributes(demo, run)][:9]
    table = T.slice_table(demo, run, names, max_order=2, min_support=5).table
    shuffled = table.sample(frac=1.0, random_state=0).reset_index(drop=True)
    expected = shuffled.assign(_q=shuffled["q_value"].fillna(2.0)).sort_values(
        ["_q", "difference", "n", "description"], ascending=[True, False, False, True], kind="stable")
    assert table["description"].tolist() == expected["description"].tolist()
    assert table["q_value"].isna().any()  # untested slices (too small) go last
