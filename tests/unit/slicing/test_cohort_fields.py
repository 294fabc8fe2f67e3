"""cohort_fields: every field it lists is one a cohort's condition can name on the run, and no other."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import PredicateError, check_cohort, cohort_fields


@pytest.fixture
def run(store):
    frame = pd.DataFrame({"prompt": ["a", "bb", "ccc", "dd"], "output": ["x", "yy", "", "zz"],
                          "lang": ["sw", "en", "sw", "en"], "turn": [1, 2, 3, 1], "correct": [True, False, True, False]})
    store.ingest_frame(frame, name="r")
    return store


def test_every_listed_field_compiles_with_a_value_of_its_kind(run):
    fields = cohort_fields(run, "r")
    assert {"example_id", "correct", "input_length", "is_refusal"} <= set(fields["name"])
    values = {"number": "0", "text": '"x"', "boolean": "true", "timestamp": '"2024-01-01"'}
    for name, kind in zip(fields["name"], fields["kind"]):
        check_cohort(run, "r", f"`{name}` = {values[kind]}")  # raises when the field does not exist
    short = fields[fields["name"] == "lang"].iloc[0]
    assert short["column"] != "lang" and short["column"].endswith("lang")


def test_a_field_not_listed_is_refused(run):
    assert "language" not in set(cohort_fields(run, "r")["name"])
    with pytest.raises(PredicateError, match="unknown field 'language'"):
        check_cohort(run, "r", 'language = "sw"')
