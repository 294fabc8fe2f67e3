"""Engine errors the browser sweep of issue #12 found, each said in plain words or handled."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from analysis import FaultlineError, discover, slice_extras


def test_a_held_out_half_of_one_example_is_refused_in_plain_words(store):
    store.ingest_frame(pd.DataFrame({"prompt": ["q"], "lang": ["en"], "correct": [False]}), name="one")
    with pytest.raises(FaultlineError, match="too few to search one half"):
        discover(store, "one", ["lang"], holdout=True)
    assert discover(store, "one", ["lang"], holdout=False, min_support=1).settings["holdout"] is False


def test_rater_agreement_skips_a_value_seen_only_among_unscorable_examples(store):
    a = ["x", "y", "x", "y", "x", "x", "y", "y", "x", "y"] * 3
    b = ["x", "y", "y", "y", "x", "x", "y", "x", "x", "y"] * 3
    frame = pd.DataFrame({"prompt": [f"q{i}" for i in range(31)], "lang": ["en"] * 30 + [None],
                          "rater_a": a + ["x"], "rater_b": b + ["y"],
                          "correct": [True, False] * 15 + [None]})
    store.ingest_frame(frame, name="raters", mapping={"raters": ["rater_a", "rater_b"]})
    out = slice_extras(store, "raters", ["lang"])
    assert out["description"].tolist() == ["lang = en"]
    assert out["rater_agreement"].iloc[0] == pytest.approx(cohen_kappa_score(a, b))
