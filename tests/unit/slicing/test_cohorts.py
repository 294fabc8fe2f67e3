"""Cohorts: a filter applied to every analysis equals the analysis of a store holding only the cohort's rows.

The cohort's rows are selected independently, with pandas on the frame that was ingested, and stored in a second
store; every analysis run with ``where=`` on the full store must equal the same analysis on that second store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import FaultlineError
from analysis.slicing.cohorts import cohort_filter, cohorts, get_cohort, save_cohort
from analysis.slicing.compare import compare_runs
from analysis.slicing.discovery import discover
from analysis.slicing.table import heatmap, slice_examples, slice_table
from analysis.sql.predicates import PredicateError
from analysis.store import Store


def make_frame(n=2400, seed=3, shift=0.0):
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw", "fr"], size=n, p=[0.5, 0.3, 0.2])
    domain = rng.choice(["legal", "medical", "chat"], size=n)
    tokens = rng.integers(1, 800, size=n).astype(float)
    p_err = 0.1 + 0.3 * (lang == "sw") + 0.2 * (domain == "legal") * (tokens > 400) + shift
    correct = rng.random(n) >= p_err
    return pd.DataFrame({
        "example_id": [f"e{i}" for i in range(n)], "prompt": [f"question {i}" + "x" * int(t % 50) for i, t in
                                                              enumerate(tokens)],
        "response": ["An answer."] * n, "correct": correct, "lang": lang, "domain": domain, "tokens": tokens,
    })


@pytest.fixture
def frame():
    return make_frame()


@pytest.fixture
def full(tmp_path, frame):
    store = Store(tmp_path / "full.duckdb")
    store.ingest_frame(frame, name="run")
    yield store
    store.close()


def only(tmp_path, frame, mask, name="run", file="cohort.duckdb"):
    store = Store(tmp_path / file)
    store.ingest_frame(frame[mask].reset_index(drop=True), name=name)
    return store


COHORTS = [
    ('lang = "sw"', lambda f: f["lang"] == "sw"),
    ('domain in ["legal", "medical"] and tokens > 200', lambda f: f["domain"].isin(["legal", "medical"])
     & (f["tokens"] > 200)),
    ('not (lang = "en") or domain = "chat"', lambda f: (f["lang"] != "en") | (f["domain"] == "chat")),
]

COLUMNS = ["description", "n", "errors", "error_rate", "ci_low", "ci_high", "p_value", "q_value", "too_small",
           "finding"]


def comparable(table: pd.DataFrame, columns=COLUMNS) -> pd.DataFrame:
    return table[columns].sort_values(["description"]).reset_index(drop=True)


@pytest.mark.parametrize(("where", "select"), COHORTS)
def test_cohort_slice_table_equals_a_store_of_the_cohort_alone(tmp_path, full, frame, where, select):
    """Binned numbers too: quantile edges are the cohort's, as they are in a store holding only it."""
    by = ["lang", "domain", "tokens"]
    got = slice_table(full, "run", by, min_support=20, where=where)
    with only(tmp_path, frame, select(frame)) as alone:
        want = slice_table(alone, "run", by, min_support=20)
    assert (got.total_n, got.total_errors) == (want.total_n, want.total_errors) == (
        int(select(frame).sum()), int((~frame.loc[select(frame), "correct"]).sum()))
    pd.testing.assert_frame_equal(comparable(got.table), comparable(want.table))
    assert got.edges == want.edges
    assert got.settings["where"] == where


def test_cohort_heatmap_and_examples(tmp_path, full, frame):
    where, mask = COHORTS[1][0], COHORTS[1][1](frame)
    with only(tmp_path, frame, mask) as alone:
        pd.testing.assert_frame_equal(heatmap(full, "run", "lang", "tokens", min_support=10, where=where),
                                      heatmap(alone, "run", "lang", "tokens", min_support=10))
        got = slice_examples(full, "run", {"lang": "sw"}, limit=None, where=where)
        want = slice_examples(alone, "run", {"lang": "sw"}, limit=None)
    expected = frame[mask & (frame["lang"] == "sw")]
    assert sorted(got["example_id"]) == sorted(want["example_id"]) == sorted(expected["example_id"])


def test_cohort_discovery(tmp_path, full, frame):
    where, mask = COHORTS[0][0], COHORTS[0][1](frame)
    got = discover(full, "run", ["domain", "tokens"], min_support=20, where=where)
    with only(tmp_path, frame, mask) as alone:
        want = discover(alone, "run", ["domain", "tokens"], min_support=20)
    cols = ["description", "n", "errors", "error_rate", "q_value"]
    pd.testing.assert_frame_equal(got.table[cols], want.table[cols])


def test_cohort_compare(tmp_path, frame):
    """The cohort is read on the baseline: pairs whose baseline example is in it."""
    cand = make_frame(seed=4, shift=0.05)
    mask = frame["domain"] == "legal"
    with Store(tmp_path / "two.duckdb") as full, Store(tmp_path / "two_alone.duckdb") as alone:
        full.ingest_frame(frame, name="base")
        full.ingest_frame(cand, name="cand")
        alone.ingest_frame(frame[mask].reset_index(drop=True), name="base")
        alone.ingest_frame(cand[cand["example_id"].isin(frame.loc[mask, "example_id"])].reset_index(drop=True),
                           name="cand")
        got = compare_runs(full, "base", "cand", ["lang"], where='domain = "legal"')
        want = compare_runs(alone, "base", "cand", ["lang"])
    cols = ["description", "n", "base_errors", "cand_errors", "b", "c", "p_value", "q_value", "verdict"]
    pd.testing.assert_frame_equal(comparable(got.table, cols), comparable(want.table, cols))
    assert got.matched == want.matched == int(mask.sum())
    # the candidate's examples of the baseline's examples outside the cohort are outside it, not unmatched
    both = set(frame["example_id"]) & set(cand["example_id"])
    assert got.only_candidate == len(set(cand["example_id"]) - set(frame["example_id"]))
    assert got.only_baseline == int((mask & ~frame["example_id"].isin(both)).sum())


@pytest.mark.parametrize(("where", "position", "words"), [
    ('lenguage = "sw"', 1, "unknown field 'lenguage'"),
    ('lang = "sw" and tokens > "many"', 26, "compares the numeric field 'tokens' with 'many', which is a text"),
    ('lang = "sw" and', 16, "expected a field or a value"),
    ('domain contains 3', 17, "expected a text in quotes after 'contains'"),
])
def test_cohort_errors_name_the_position_and_the_field(full, where, position, words):
    with pytest.raises(PredicateError) as caught:
        slice_table(full, "run", ["lang"], where=where)
    assert caught.value.position == position
    assert caught.value.rule == "cohort"
    assert str(caught.value).startswith(f"Rule 'cohort', position {position}: ")
    assert words in str(caught.value)


def test_empty_where_is_every_example(full):
    assert cohort_filter(full.schema("run"), "") is None
    a = slice_table(full, "run", ["lang"], where="  ")
    b = slice_table(full, "run", ["lang"])
    pd.testing.assert_frame_equal(a.table, b.table)


def test_saved_cohorts_are_versioned_not_overwritten(full):
    first = save_cohort(full, "sw legal", 'lang = "sw"', author="ada", run="run", description="first try")
    second = save_cohort(full, "sw legal", 'lang = "sw" and domain = "legal"', author="bo")
    save_cohort(full, "english", 'lang = "en"', author="ada")
    assert (first.version, second.version) == (1, 2)
    latest = cohorts(full)
    assert list(latest["name"]) == ["english", "sw legal"]
    assert list(latest["versions"]) == [1, 2]
    assert len(cohorts(full, history=True)) == 3
    assert get_cohort(full, "sw legal").predicate == 'lang = "sw" and domain = "legal"'
    assert get_cohort(full, "sw legal", version=1).author == "ada"
    assert first.run_id == full.run("run").run_id and second.run_id is None


def test_saving_a_bad_cohort_writes_nothing(full):
    with pytest.raises(PredicateError, match="position 1: unknown field 'lenguage'"):
        save_cohort(full, "bad", 'lenguage = "sw"', author="ada", run="run")
    with pytest.raises(PredicateError, match="is empty"):
        save_cohort(full, "bad", "", author="ada")
    with pytest.raises(FaultlineError, match="needs an author"):
        save_cohort(full, "bad", 'lang = "sw"', author=" ")
    with pytest.raises(FaultlineError, match="needs a name"):
        save_cohort(full, "a;b", 'lang = "sw"', author="ada")
    with pytest.raises(FaultlineError, match="No saved cohort 'bad'; saved cohorts: none"):
        get_cohort(full, "bad")
    assert cohorts(full).empty


def test_cohort_extras_equal_a_store_of_the_cohort_alone(tmp_path):
    """Percentiles, rater agreement and bootstrap intervals of graded scores, over the cohort only."""
    from analysis.slicing.extras import slice_extras

    rng = np.random.default_rng(9)
    n = 900
    frame = pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n,
                          "lang": rng.choice(["en", "sw"], n), "domain": rng.choice(["legal", "chat"], n),
                          "latency_ms": rng.gamma(2, 100, n).round(1), "score": rng.random(n).round(3),
                          "rater_a": rng.choice(["good", "bad"], n), "rater_b": rng.choice(["good", "bad"], n)})
    frame["correct"] = frame["score"] > 0.3
    mapping = {"raters": ["rater_a", "rater_b"], "score": "score", "correct": "correct"}
    mask = frame["domain"] == "legal"
    with Store(tmp_path / "x.duckdb") as full, Store(tmp_path / "y.duckdb") as alone:
        full.ingest_frame(frame, name="run", mapping=mapping)
        alone.ingest_frame(frame[mask].reset_index(drop=True), name="run", mapping=mapping)
        got = slice_extras(full, "run", ["lang"], where='domain = "legal"',
                           costs={"lang": {"sw": 3.0}, "default": 1.0})
        want = slice_extras(alone, "run", ["lang"], costs={"lang": {"sw": 3.0}, "default": 1.0})
    pd.testing.assert_frame_equal(got.sort_values("description").reset_index(drop=True),
                                  want.sort_values("description").reset_index(drop=True))
    assert got.set_index("value").loc["sw", "n"] == int((mask & (frame["lang"] == "sw")).sum())
