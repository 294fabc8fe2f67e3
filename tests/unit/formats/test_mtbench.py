"""MT-Bench judgments (FastChat llm_judge): pairwise as win/tie/loss against the other model, single as ratings.

Expected numbers come from the fixtures' SOURCE.txt (FastChat's show_result.py rule run on the
file) or from a few lines of independent code over the raw JSONL.
"""

from __future__ import annotations

import json

import pytest

from analysis import detect_format
from analysis.errors import InputError
from analysis.formats import read_sources
from tests.conftest import REAL

PAIR = REAL / "judgments" / "mtbench_pair" / "gpt-4_pair.jsonl"
QUESTIONS = REAL / "judgments" / "mtbench_pair" / "question.jsonl"
SINGLE = REAL / "judgments" / "mtbench_single" / "gpt-4_single.jsonl"

pytestmark = pytest.mark.real_logs


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def pair_runs():
    return {run.model: run for run in read_sources(PAIR)}


def test_detected_by_content():
    assert detect_format(PAIR) == "mtbench_pairwise"
    assert detect_format(SINGLE) == "mtbench_single"
    assert detect_format(QUESTIONS) == "jsonl"


def test_pairwise_reproduces_fastchat_counts(pair_runs):
    # SOURCE.txt: show_result.py (errors dropped, position-inconsistent = tie) on this file
    assert set(pair_runs) == {"phi-3", "phi-3-dpo"}
    dpo, phi = pair_runs["phi-3-dpo"], pair_runs["phi-3"]
    assert dpo.baseline == "phi-3" and phi.baseline == "phi-3-dpo"
    assert dpo.frame["outcome"].value_counts().to_dict() == {"tie": 35, "win": 20, "loss": 18, "error": 2}
    assert phi.frame["outcome"].value_counts().to_dict() == {"tie": 35, "win": 18, "loss": 20, "error": 2}
    assert dpo.frame["win"].notna().sum() == 73  # rows used 73
    assert dpo.frame["win"].mean() == pytest.approx(0.513699, abs=1e-6)  # win_rate_adjusted
    assert phi.frame["win"].mean() == pytest.approx(0.486301, abs=1e-6)
    assert (dpo.frame["win"] == 1).mean() * 75 / 73 == pytest.approx(0.273973, abs=1e-6)  # win_rate


def test_pairwise_each_judgment_by_fastchat_rule():
    (run,) = [r for r in read_sources(PAIR) if r.model == "phi-3-dpo"]
    frame = run.frame.set_index("example_id")
    for rec in _lines(PAIR):
        g1, g2 = rec["g1_winner"], rec["g2_winner"]
        if "error" in (g1, g2):
            expected = None
        elif g1 == "tie" or g1 != g2:
            expected = 0.5
        else:
            expected = 1.0 if rec[g1] == "phi-3-dpo" else 0.0
        score = frame.loc[f"{rec['question_id']}/turn{rec['turn']}", "win"]
        assert (score != score and expected is None) or score == expected


def test_pairwise_roles_metadata_and_reported(pair_runs):
    run = pair_runs["phi-3-dpo"]
    assert run.format == "mtbench_pairwise" and run.tool == "MT-Bench"
    assert run.reported == []  # FastChat persists no aggregate (SOURCE.txt)
    assert run.roles["win"] == "score"
    assert run.roles["judge"] == "metadata"  # who judged: not a verdict
    # the judge's verdicts in each order are raters' (not attributes); the outcome word is the score itself
    assert {c for c, r in run.roles.items() if r == "rater"} == {"g1_winner", "g2_winner"}
    assert run.roles["outcome"] == "ignore"
    assert run.files == [PAIR, QUESTIONS] and run.identity_files == 1
    questions = {str(q["question_id"]): q for q in _lines(QUESTIONS)}
    frame = run.frame.set_index("example_id")
    for rec in _lines(PAIR):
        row = frame.loc[f"{rec['question_id']}/turn{rec['turn']}"]
        question = questions[str(rec["question_id"])]
        assert row["category"] == question["category"]
        assert row["input"] == question["turns"][rec["turn"] - 1]
        assert row["judge"] == rec["judge"][0] and row["judge_prompt"] == rec["judge"][1]
        # phi-3-dpo is model_2: Assistant B in the g1 prompt
        assert row["output"] in rec["g1_user_prompt"] and row["output"] in rec["g2_user_prompt"]
        assert rec["g1_user_prompt"].rindex(row["output"]) > rec["g1_user_prompt"].index("[The Start of Assistant B")


def test_pairwise_loads_into_the_store(store):
    runs = store.ingest(PAIR).added
    assert len(runs) == 2
    (dpo,) = [r for r in runs if r.model == "phi-3-dpo"]
    frame = store.examples(dpo.run_id)
    scored = frame[~frame["unscorable"]]
    assert len(scored) == 73
    assert scored["score"].mean() == pytest.approx(0.513699, abs=1e-6)
    by_category = scored.groupby("meta.category")["score"].mean()
    raw = {str(q["question_id"]): q["category"] for q in _lines(QUESTIONS)}
    writing = [1.0 if r["g1_winner"] == r["g2_winner"] == "model_2" else 0.0 if r["g1_winner"] == r["g2_winner"]
               == "model_1" else 0.5 for r in _lines(PAIR)
               if raw[str(r["question_id"])] == "writing" and "error" not in (r["g1_winner"], r["g2_winner"])]
    assert by_category["writing"] == pytest.approx(sum(writing) / len(writing))


def test_single_one_run_per_model_with_ratings():
    (run,) = read_sources(SINGLE)
    lines = _lines(SINGLE)
    assert run.format == "mtbench_single" and run.tool == "MT-Bench"
    assert run.model == "granite-7b-lab"
    assert run.missing_values == {"score": [-1]}
    assert run.reported == []
    assert run.roles["score"] == "score"
    assert run.roles["judge"] == "metadata" and run.roles["turn"] == "metadata"
    assert "rater" not in run.roles.values() and "model" not in run.frame.columns
    frame = run.frame
    assert len(frame) == 160
    assert (frame["score"] == -1).sum() == 120  # SOURCE.txt: 120 of 160 without a parseable rating
    rated = [rec["score"] for rec in lines if rec["score"] != -1]
    assert frame.loc[frame["score"] != -1, "score"].mean() == pytest.approx(sum(rated) / len(rated))
    assert set(frame["judge"]) == {"gpt-4"}
    assert set(frame["judge_prompt"]) == {rec["judge"][1] for rec in lines}
    by_id = frame.set_index("example_id")
    for rec in lines:
        row = by_id.loc[f"{rec['question_id']}/turn{rec['turn']}"]
        assert row["score"] == rec["score"] and row["turn"] == rec["turn"]
        assert row["output"] and row["output"] in rec["user_prompt"]
        assert row["input"] in rec["user_prompt"]


def test_single_answer_of_the_judged_turn():
    (run,) = read_sources(SINGLE)
    row = run.frame.set_index("example_id").loc["143/turn2"]
    assert row["input"].startswith("How much energy can a tree produce")  # the second turn's question
    assert row["output"].startswith("Calculating the total energy produced by a tree")


def test_pairwise_baseline_mode_gives_the_baseline_no_run(write):
    rows = [{"question_id": q, "model_1": m, "model_2": "gpt-3.5-turbo", "g1_winner": w, "g2_winner": w,
             "judge": ["gpt-4", "pair-v2"], "turn": 1}
            for q, m, w in [(81, "a", "model_1"), (82, "a", "model_2"), (81, "b", "tie"), (82, "b", "model_1")]]
    path = write("gpt-4_pair.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    runs = {r.model: r for r in read_sources(path)}
    assert set(runs) == {"a", "b"}
    assert runs["a"].baseline == runs["b"].baseline == "gpt-3.5-turbo"
    assert list(runs["a"].frame["win"]) == [1.0, 0.0]
    assert list(runs["b"].frame["win"]) == [0.5, 1.0]
    assert "No question.jsonl" in runs["a"].notes


def test_an_unknown_verdict_is_refused(write):
    path = write("gpt-4_pair.jsonl", json.dumps({"question_id": 1, "model_1": "a", "model_2": "b",
                                                 "g1_winner": "A", "g2_winner": "tie"}) + "\n")
    with pytest.raises(InputError, match="expected one of model_1, model_2, tie, error") as err:
        read_sources(path)
    assert err.value.record == "line 1" and err.value.field == "g1_winner"
