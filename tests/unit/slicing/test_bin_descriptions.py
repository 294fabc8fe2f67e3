"""A numeric attribute's bins are written as one condition with one operator wherever a slice is put in words
(the trial read ``input_length = > 380``): the extras table, a pinned finding's title, the CLI and the pages all
go through :func:`analysis.slicing.attributes.describe_condition`."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis.objective.findings import _title
from analysis.slicing.attributes import describe_predicate, is_bin_label
from analysis.slicing.extras import slice_extras
from analysis.slicing.table import slice_table

DOUBLED = re.compile(r"(=|≤|>|<)\s*(=|≤|>|<)")


@pytest.fixture
def run(store):
    rng = np.random.default_rng(5)
    n = 600
    df = pd.DataFrame({"prompt": ["q"] * n, "tokens": rng.integers(1, 900, n), "lang": rng.choice(["en", "sw"], n),
                       "correct": rng.random(n) > 0.3, "confidence": rng.random(n)})
    (r,) = store.ingest_frame(df, name="bins", mapping={"correct": "correct"}).added
    return r.run_id


def test_extras_write_a_bin_with_its_own_operator(store, run):
    extras = slice_extras(store, run, ["tokens", "lang"], bins=4)
    tokens = extras[extras["attribute"] == "tokens"]
    assert len(tokens) == 4
    for description, label in zip(tokens["description"], tokens["value"]):
        assert not DOUBLED.search(description), description
        if label.startswith(("≤ ", "> ")):
            assert description == f"tokens {label}"
        else:
            assert description == f"tokens in {label}"
    assert set(extras.loc[extras["attribute"] == "lang", "description"]) == {"lang = en", "lang = sw"}


def test_the_slice_tables_labels_read_the_same_in_a_predicate(store, run):
    table = slice_table(store, run, ["tokens"], bins=4).table
    assert sum(bool(p) for p in table["predicate"]) == 4
    for predicate, description in zip(table["predicate"], table["description"]):
        if predicate:  # the table's own words and the words of its predicate (findings, CLI, pages) agree
            assert describe_predicate(predicate) == description
            assert _title("slice", predicate) == description
            assert all(is_bin_label(v) for v in predicate.values())


def test_a_category_that_merely_contains_a_sign_is_not_a_bin():
    assert describe_predicate({"answer": "A > B", "lang": "sw"}) == "answer = A > B AND lang = sw"
    assert describe_predicate({"input_length": "> 380"}) == "input_length > 380"
    assert describe_predicate({"input_length": "1,200 – 3.5e+03"}) == "input_length in 1,200 – 3.5e+03"
