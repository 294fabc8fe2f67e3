"""The compare drill-down: verdict counts and pairs per slice against pandas, and against the comparison's b and c."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import FaultlineError
from analysis.slicing.compare import compare_runs, shared_scores
from analysis.slicing.drilldown import VERDICTS, comparison_examples, verdict_counts
from analysis.store import Store


def frames(n=1500):
    rng = np.random.default_rng(5)
    lang = rng.choice(["en", "sw", "fr"], size=n)
    domain = rng.choice(["legal", "chat"], size=n)
    base = pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": [f"q{i}" for i in range(n)],
                         "response": [f"b{i}" for i in range(n)], "lang": lang, "domain": domain,
                         "correct": rng.random(n) > 0.25})
    correct = (rng.random(n) > 0.25 + 0.2 * (lang == "sw")).astype(object)
    correct[:40] = None
    cand = base.assign(response=[f"c{i}" for i in range(n)], correct=correct)  # unscorable in the candidate: left out of every pair
    return base, cand.iloc[20:].reset_index(drop=True)  # 20 examples only in the baseline


def pair_store(path, made) -> Store:
    """A store at ``path`` holding the two frames of ``made()`` as runs ``base`` and ``cand``."""
    base, cand = made()
    s = Store(path)
    s.ingest_frame(base, name="base")
    s.ingest_frame(cand, name="cand")
    return s


@pytest.fixture
def store(tmp_path):
    s = pair_store(tmp_path / "d.duckdb", frames)
    yield s
    s.close()


def expected(mask_of=lambda f: pd.Series(True, index=f.index)):
    base, cand = frames()
    pairs = base.merge(cand.dropna(subset=["correct"]), on="example_id", suffixes=("_b", "_c"))
    pairs = pairs[mask_of(pairs.rename(columns={"lang_b": "lang", "domain_b": "domain"})).to_numpy()]
    b, c = pairs["correct_b"].astype(bool), pairs["correct_c"].astype(bool)
    verdict = np.select([b & ~c, ~b & c, ~b & ~c], ["regressed", "fixed", "still_wrong"], "still_right")
    return pairs.assign(verdict=verdict)


@pytest.mark.parametrize(("predicate", "where", "mask"), [
    ({"lang": "sw"}, None, lambda f: f["lang"] == "sw"),
    ({}, None, lambda f: pd.Series(True, index=f.index)),
    ({"domain": "legal"}, 'lang in ["sw", "fr"]', lambda f: (f["domain"] == "legal") & f["lang"].isin(["sw", "fr"])),
])
def test_counts_and_pairs_match_pandas(store, predicate, where, mask):
    want = expected(mask)
    counts = verdict_counts(store, "base", "cand", predicate, where=where)
    assert counts == {v: int((want["verdict"] == v).sum()) for v in VERDICTS}
    got = comparison_examples(store, "base", "cand", predicate, where=where, limit=None)
    assert sorted(zip(got["example_id"], got["verdict"])) == sorted(zip(want["example_id"], want["verdict"]))
    row = got.set_index("example_id").loc[want["example_id"].iloc[0]]
    assert (row["base_output"], row["cand_output"]) == (want["response_b"].iloc[0], want["response_c"].iloc[0])
    order = [VERDICTS.index(v) for v in got["verdict"]]
    assert order == sorted(order)


def test_regressed_and_fixed_are_the_comparisons_b_and_c(store):
    comparison = compare_runs(store, "base", "cand", ["lang"], where='domain = "chat"')
    for row in comparison.table.itertuples():
        counts = verdict_counts(store, "base", "cand", row.predicate, where='domain = "chat"')
        assert (counts["regressed"], counts["fixed"]) == (row.b, row.c)
        assert sum(counts.values()) == row.n


def test_filter_by_verdict_and_limit(store):
    got = comparison_examples(store, "base", "cand", {"lang": "sw"}, verdicts=["fixed", "still_wrong"], limit=5)
    assert len(got) == 5 and set(got["verdict"]) <= {"fixed", "still_wrong"}
    with pytest.raises(FaultlineError, match="Unknown verdict 'worse'"):
        comparison_examples(store, "base", "cand", verdicts=["worse"])
    with pytest.raises(FaultlineError, match="Compare two different runs"):
        verdict_counts(store, "base", "base")
    with pytest.raises(FaultlineError, match="has no value 'xx'"):
        verdict_counts(store, "base", "cand", {"lang": "xx"})


# ------------------------------------------------------------------------------------ graded
def graded_frames(n=900):
    rng = np.random.default_rng(11)
    lang = rng.choice(["en", "sw"], size=n)
    base = pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": [f"q{i}" for i in range(n)],
                         "response": [f"b{i}" for i in range(n)], "lang": lang, "correct": rng.random(n) > 0.3,
                         "score": rng.integers(0, 5, n) / 4})  # coarse: many ties
    score = (rng.integers(0, 5, n) / 4).astype(object)
    score[:30] = None  # no score in the candidate: not a pair of the graded drill-down
    return base, base.assign(response=[f"c{i}" for i in range(n)], score=score, correct=rng.random(n) > 0.3)


@pytest.fixture
def graded_store(tmp_path):
    s = pair_store(tmp_path / "g.duckdb", graded_frames)
    yield s
    s.close()


def test_graded_verdicts_are_the_scores_change_and_match_pandas(graded_store):
    from analysis.slicing.compare import compare_scores
    from analysis.slicing.drilldown import GRADED_VERDICTS

    assert shared_scores(graded_store, "base", "cand") == ["score"]
    outcome = "score"
    base, cand = graded_frames()
    pairs = base.merge(cand, on="example_id", suffixes=("_b", "_c"))
    pairs = pairs[(pairs["lang_b"] == "sw") & pairs["score_c"].notna()]
    change = pairs["score_c"].astype(float) - pairs["score_b"].astype(float)
    want = pd.Series(np.select([change < 0, change > 0], ["score_fell", "score_rose"], "score_same"),
                     index=pairs.index)
    counts = verdict_counts(graded_store, "base", "cand", {"lang": "sw"}, outcome=outcome)
    assert counts == {v: int((want == v).sum()) for v in GRADED_VERDICTS}
    row = compare_scores(graded_store, "base", "cand", outcome, ["lang"]).table.set_index("description")
    assert sum(counts.values()) == row.loc["lang = sw", "n"]  # the pairs the row's paired t test used
    got = comparison_examples(graded_store, "base", "cand", {"lang": "sw"}, outcome=outcome, limit=None)
    assert dict(zip(got["example_id"], got["verdict"])) == dict(zip(pairs["example_id"], want))
    assert np.allclose(got["cand_score"] - got["base_score"],
                       change.set_axis(pairs["example_id"]).loc[got["example_id"]].to_numpy())
    # the largest falls first, then the largest rises, then the unchanged
    moved = (got["cand_score"] - got["base_score"]).to_numpy()
    rank = [GRADED_VERDICTS.index(v) for v in got["verdict"]]
    assert rank == sorted(rank)
    fell, rose = moved[got["verdict"] == "score_fell"], moved[got["verdict"] == "score_rose"]
    assert list(fell) == sorted(fell) and list(rose) == sorted(rose, reverse=True) and len(fell) and len(rose)
    only = comparison_examples(graded_store, "base", "cand", verdicts=["score_rose"], outcome=outcome, limit=None)
    assert set(only["verdict"]) == {"score_rose"} and len(only) == int(
        (base.merge(cand, on="example_id").eval("score_y > score_x")).sum())


def test_graded_drilldown_refuses_correctness_verdicts_and_unknown_scores(graded_store):
    outcome = "score"
    with pytest.raises(FaultlineError, match="Unknown verdict 'regressed'; verdicts: score_fell, score_rose"):
        comparison_examples(graded_store, "base", "cand", verdicts=["regressed"], outcome=outcome)
    with pytest.raises(FaultlineError, match="Unknown verdict 'score_fell'; verdicts: regressed, fixed"):
        comparison_examples(graded_store, "base", "cand", verdicts=["score_fell"])
    with pytest.raises(FaultlineError, match="is not a numeric score of both runs"):
        verdict_counts(graded_store, "base", "cand", outcome="bleu")
