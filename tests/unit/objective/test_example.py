"""The example view: every field as ingested (checked against the frame), neighbours within a cohort (checked
with pandas), failure modes equal to the bulk indicators, annotations, and chat transcripts read as turns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis import FaultlineError
from analysis.objective.annotations import add_annotation, retract_annotation
from analysis.objective.example import chat_turns, example_view
from analysis.objective.modes import mode_indicators
from analysis.sql.predicates import PredicateError
from analysis.store import Store


def make_frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    refusal = rng.random(n) < 0.1
    return pd.DataFrame({
        "example_id": [f"x{i}" for i in range(n)],
        "prompt": [f"user: question {i}\nassistant: which one?\nuser: the first" if i % 3 == 0 else f"q {i}"
                   for i in range(n)],
        "response": np.where(refusal, "I'm sorry, but I can't help with that.", "An answer."),
        "gold": ["An answer."] * n, "lang": rng.choice(["en", "sw"], n), "tokens": rng.integers(1, 99, n),
        "rm": rng.normal(size=n).round(3), "correct": ~refusal & (rng.random(n) > 0.2),
    })


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "x.duckdb")
    s.ingest_frame(make_frame(), name="r", mapping={"signals": ["rm"]})
    yield s
    s.close()


def test_fields_match_the_ingested_row(store):
    frame = make_frame()
    row = frame.iloc[7]
    v = example_view(store, "r", "x7")
    assert (v.example_id, v.input, v.output, v.reference) == ("x7", row["prompt"], row["response"], row["gold"])
    assert v.correct == bool(row["correct"])
    assert v.metadata == {"lang": row["lang"], "tokens": int(row["tokens"])}
    assert v.signals == {"rm": pytest.approx(float(row["rm"]))}
    assert v.input_turns is None and v.output_turns is None
    assert [t["role"] for t in example_view(store, "r", "x6").input_turns] == ["user", "assistant", "user"]


def test_neighbours_within_a_cohort_match_pandas(store):
    frame = make_frame()
    cohort = frame[(frame["lang"] == "sw") & (frame["tokens"] > 30)]["example_id"].tolist()
    for i in (0, 5, len(cohort) - 1):
        v = example_view(store, "r", cohort[i], where='lang = "sw" and tokens > 30')
        assert v.in_cohort and v.position == i + 1 and v.cohort_size == len(cohort)
        assert v.previous_id == (cohort[i - 1] if i > 0 else None)
        assert v.next_id == (cohort[i + 1] if i + 1 < len(cohort) else None)
    outside = frame[frame["lang"] == "en"]["example_id"].iloc[3]
    v = example_view(store, "r", outside, where='lang = "sw"')
    assert not v.in_cohort and v.position is None
    sw = frame[frame["lang"] == "sw"]
    before = sw[sw.index < frame.index[frame["example_id"] == outside][0]]
    assert v.previous_id == (before["example_id"].iloc[-1] if len(before) else None)


def test_modes_agree_with_the_bulk_indicators(store):
    bulk = mode_indicators(store, "r", with_why=True).set_index("example_id")
    frame = make_frame()
    for example in frame["example_id"].iloc[:40]:
        v = example_view(store, "r", example)
        mode_ids = [c for c in bulk.columns if c not in ("correct",) and not c.startswith("why.")]
        expected = [m for m in mode_ids if bool(bulk.loc[example, m])]
        assert [m["id"] for m in v.modes] == expected
        for m in v.modes:
            assert m["why"] == bulk.loc[example, f"why.{m['id']}"]


def test_annotations_and_errors(store):
    a = add_annotation(store, "r", author="ada", example_id="x3", note="odd reference")
    retract_annotation(store, "r", a.annotation_id, author="bo")
    notes = example_view(store, "r", "x3").annotations
    assert [n["note"] for n in notes] == ["odd reference", "retracted"] and notes[0]["retracted"]
    with pytest.raises(FaultlineError, match="Run 'r' has no example 'nope'"):
        example_view(store, "r", "nope")
    with pytest.raises(PredicateError, match="position 1: unknown field 'language'"):
        example_view(store, "r", "x1", where='language = "sw"')


@pytest.mark.parametrize(("text", "roles"), [
    (json.dumps([{"role": "system", "content": "be kind"}, {"role": "user", "content": [{"type": "text",
                                                                                          "text": "hi"}]}]),
     ["system", "user"]),
    (json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": None}]}),
     ["user", "assistant"]),
    ("Human: hi\n\nAI: hello", ["human", "ai"]),
    ("user: only one block", None),
    ("Intro line\nuser: a\nassistant: b", None),
    ("[1, 2, 3]", None),
    ('{"role": "user"', None),
])
def test_chat_turns(text, roles):
    turns = chat_turns(text)
    assert (None if turns is None else [t["role"] for t in turns]) == roles


def test_a_paraphrase_disagreement_is_seen_from_one_example(tmp_path):
    """The trial opened an example from the lack-of-robustness list ("1 of 52 in the failure mode") and read "In no
    failure mode": the paraphrase detector's window saw the example's row alone. Checked against pandas: a wrong
    answer whose paraphrase group has a correct answer is in the mode, and the view agrees with the bulk indicators."""
    rng = np.random.default_rng(7)
    n = 120
    frame = pd.DataFrame({"example_id": [f"p{i}" for i in range(n)], "prompt": [f"q {i}" for i in range(n)],
                          "response": ["a"] * n, "gold": ["a"] * n, "paraphrase_group": [f"g{i // 4}" for i in range(n)],
                          "correct": rng.random(n) < 0.5})
    s = Store(tmp_path / "p.duckdb")
    s.ingest_frame(frame, name="p")
    has_correct = frame.groupby("paraphrase_group")["correct"].transform("any")
    expected = set(frame.loc[~frame["correct"] & has_correct, "example_id"])
    assert expected  # the case exists
    bulk = mode_indicators(s, "p", with_why=True).set_index("example_id")
    assert set(bulk.index[bulk["lack_of_robustness"].astype(bool)]) == expected
    for example in frame["example_id"].iloc[:32]:  # eight groups, both kinds of example
        v = example_view(s, "p", example)
        assert ("lack_of_robustness" in [m["id"] for m in v.modes]) == (example in expected), example
    s.close()
