"""One definition of each derived feature: the slicing attributes, the rule language and the
detectors count the same examples, and the definitions say what their docstrings say."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.objective.modes import compile_modes, mode_counts
from analysis.objective.predicates import compile_predicate, run_fields
from analysis.slicing.attributes import DERIVED
from analysis.slicing.table import slice_examples, slice_table
from analysis.sql import features as F
from analysis.sql import quote_ident
from analysis.store import Store

# Refusals a reader counts as such: the first ten were all the slicing pattern once knew;
# the next ten only the rule language's pattern caught (20 vs 30 on the same outputs).
NARROW = ["I'm sorry, but I can't help with that.", "I cannot assist with this request.",
          "As an AI language model, I cannot do that.", "I must decline.", "I won't be able to do that.",
          "I'm unable to provide this.", "I am not able to answer.", "I'm afraid I can't.",
          "Sorry, but I can't help with that.", "I can't comply with this."]
WIDE = ["I'd rather not say.", "I can't answer that.", "I cannot share this information.",
        "Unfortunately, I can't do this.", "I'm not allowed to discuss it.", "As an AI assistant, I won't.",
        "Sorry, I cannot help.", "I am not permitted to reveal that.", "I can't discuss politics.",
        "I cannot give medical advice."]
ANSWERS = ["Paris", "42", "The answer is 4.", "It depends on the season, mostly spring.", "Blue", "No",
           "Yes, because the integral converges.", "7", "London is larger.", "x" * 120]


def _frame() -> pd.DataFrame:
    outputs = NARROW + WIDE + ANSWERS + ["", "   ", None, "N/A", "placeholder"]
    n = len(outputs)
    status = ["ok"] * n
    status[-2:] = ["no_answer", "no_answer"]  # a placeholder output, but the model gave no answer
    correct = [i % 3 == 0 and status[i] == "ok" for i in range(n)]
    inputs = [("user: hi\nassistant: hello\n" * (i % 3)) + f"user: question {i} " + "w" * (i * 7 % 50)
              for i in range(n)]
    return pd.DataFrame({
        "id": [f"e{i:02d}" for i in range(n)], "prompt": inputs, "response": outputs,
        "gold": ["Paris" if i % 4 else "a much longer reference answer" for i in range(n)],
        "correct": correct, "status": status,
    })


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(tmp_path_factory.mktemp("features") / "f.duckdb")
    s.ingest_frame(_frame(), name="r", mapping={"id": "id", "input": "prompt", "output": "response",
                                                "reference": "gold", "correct": "correct"})
    # Only some log formats (Inspect's "N") give a status: set it as such an adapter would.
    frame = _frame()
    no_answer = frame.loc[frame["status"] == "no_answer", "id"].tolist()
    with s.transaction() as cur:
        cur.execute(f"UPDATE {quote_ident(s.run('r').table_name)} SET status = 'no_answer', correct = false "
                    "WHERE list_contains(CAST(? AS VARCHAR[]), example_id)", [no_answer])
    assert sorted(s.examples("r").query("status == 'no_answer'")["example_id"]) == sorted(no_answer)
    yield s
    s.close()


def _rule_ids(store: Store, condition: str) -> list[str]:
    sql, params = compile_predicate(condition, run_fields(store, "r"), rule="test")
    table = quote_ident(store.run("r").table_name)
    rows = store.cursor().execute(f"SELECT example_id FROM {table} WHERE NOT unscorable AND ({sql}) "
                                  "ORDER BY example_id", params).fetchall()
    return [r[0] for r in rows]


def _slice_ids(store: Store, predicate: dict, **kwargs) -> list[str]:
    return sorted(slice_examples(store, "r", predicate, limit=None, **kwargs)["example_id"])


def test_the_refusal_pattern_finds_every_refusal_and_no_answer():
    import re

    pattern = re.compile(F.REFUSAL_PATTERN)
    assert [bool(pattern.search(t.lower())) for t in NARROW + WIDE] == [True] * 20
    assert not any(pattern.search(t.lower()) for t in ANSWERS)


def test_is_refusal_counts_the_same_refusals_in_slicing_rules_and_the_detector(store):
    frame = _frame()
    refusals = sorted(frame.loc[frame["response"].isin(NARROW + WIDE), "id"])
    assert len(refusals) == 20
    result = slice_table(store, "r", ["is_refusal"], max_order=1, min_support=1)
    row = result.table[[p == {"is_refusal": "true"} for p in result.table["predicate"]]]
    assert row["n"].tolist() == [20]
    assert _slice_ids(store, {"is_refusal": "true"}) == refusals == _rule_ids(store, "is_refusal")
    wrong = sorted(frame.loc[frame["response"].isin(NARROW + WIDE) & ~frame["correct"], "id"])
    counts = mode_counts(store, "r", compiled=compile_modes(store, "r"))
    marked = {k: v for sources in counts["sources"] for k, v in sources.items()}
    assert marked["detector:refusal"] == len(wrong) == len(_rule_ids(store, "not correct and is_refusal"))


def test_output_empty_includes_no_answer_everywhere(store):
    frame = _frame()
    blank = frame["response"].fillna("").str.strip().eq("") | frame["status"].eq("no_answer")
    expected = sorted(frame.loc[blank, "id"])
    assert len(expected) == 5
    assert _slice_ids(store, {"output_empty": "true"}) == expected == _rule_ids(store, "output_empty")
    counts = mode_counts(store, "r", compiled=compile_modes(store, "r"))
    marked = {k: v for sources in counts["sources"] for k, v in sources.items()}
    assert marked["detector:empty_output"] == len(_rule_ids(store, "not correct and output_empty")) == \
        int((blank & ~frame["correct"]).sum())


@pytest.mark.parametrize("name", [n for n, (kind, _) in DERIVED.items() if kind == "numeric"])
def test_numeric_slices_hold_the_examples_the_rule_language_selects(store, name):
    result = slice_table(store, "r", [name], max_order=1, min_support=1, bins=4)
    edges = result.edges.get(name)
    assert len(result.table) >= 2
    for row in result.table.itertuples():
        (value,), label = row.values, row.predicate[name]
        if edges is None:
            condition = f"{name} = {value}"
        elif value is None:
            condition = f"{name} is null"
        else:
            low = edges[value - 1] if value > 0 else None
            high = edges[value] if value < len(edges) else None
            condition = " and ".join(([f"{name} > {low}"] if low is not None else [])
                                     + ([f"{name} <= {high}"] if high is not None else []))
        assert _slice_ids(store, {name: label}, bins=4, edges=result.edges) == _rule_ids(store, condition), \
            (name, label, condition)


def test_every_feature_is_defined_once_and_described_alike():
    from analysis.objective.predicates import DERIVED_FIELDS, derived_field

    assert set(DERIVED) <= set(F.FEATURES) == set(DERIVED_FIELDS)
    for name in F.FEATURES:
        sql, params = F.feature_sql(name)
        assert (derived_field(name).sql, list(derived_field(name).params)) == (sql, params)
        assert DERIVED_FIELDS[name][1].lower() == F.FEATURES[name].description.lower()
        if name in DERIVED:
            assert DERIVED[name][1] == F.FEATURES[name].description


def test_scores_are_graded_by_one_rule(tmp_path):
    s = Store(tmp_path / "g.duckdb")
    s.ingest_frame(pd.DataFrame({"q": ["a", "b", "c"], "correct": [True, False, True], "score": [1.0, 0.0, None]}),
                   name="binary", mapping={"input": "q", "correct": "correct", "score": "score"})
    s.ingest_frame(pd.DataFrame({"q": ["a", "b", "c"], "correct": [True, False, True], "score": [0.9, 0.1, 1.0]}),
                   name="graded", mapping={"input": "q", "correct": "correct", "score": "score"})
    graded = {n: bool(s.cursor().execute(F.graded_sql(s.run(n).table_name)).fetchall()[0][0])
              for n in ("binary", "graded")}
    assert graded == {"binary": False, "graded": True}
    s.close()
