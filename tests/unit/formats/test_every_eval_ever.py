"""Every Eval Ever (EEE 0.3) instance-level samples with the aggregate JSON beside them.

Expected numbers come from the aggregate JSON and SOURCE.txt, and the single_turn numbers are
cross-checked against the Inspect log the EEE converter read (source_log/), with zipfile/json.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from analysis import detect_format
from analysis.errors import InputError
from analysis.formats import read_sources
from tests.conftest import REAL

EEE = REAL / "every_eval_ever"
SINGLE_DIR = EEE / "single_turn" / "data" / "starsim" / "anthropic" / "claude-opus-4-6"
SINGLE_AGG = SINGLE_DIR / "e854d8a1-c754-40ef-adaf-726c5f6f8e08.json"
SINGLE_SAMPLES = SINGLE_DIR / "e854d8a1-c754-40ef-adaf-726c5f6f8e08_samples.jsonl"
INSPECT_LOG = EEE / "single_turn" / "source_log" / "2026-02-20T05-28-38+00-00_starsim-benchmark_ZLCP7ftbVUCYkyJGemYV6a.eval"
AGENTIC_DIR = EEE / "agentic" / "data" / "browser" / "openai" / "gpt-4o-mini-2024-07-18"
AGENTIC_AGG = AGENTIC_DIR / "bf490864-36f4-40e5-8a33-2575fc42ed8a.json"
AGENTIC_SAMPLES = AGENTIC_DIR / "bf490864-36f4-40e5-8a33-2575fc42ed8a_samples.jsonl"

pytestmark = pytest.mark.real_logs


@pytest.mark.parametrize("path", [SINGLE_AGG, SINGLE_SAMPLES, AGENTIC_AGG, AGENTIC_SAMPLES])
def test_detected_by_content(path):
    assert detect_format(path) == "every_eval_ever"


def test_one_example_per_sample_primary_metric_as_score():
    (run,) = read_sources(SINGLE_SAMPLES)
    aggregate = json.loads(SINGLE_AGG.read_text())
    results = aggregate["evaluation_results"]
    assert run.format == "every_eval_ever" and run.tool == "EEE"
    assert run.model == aggregate["model_info"]["id"] == "anthropic/claude-opus-4-6"
    assert run.task == "starsim_benchmark"
    assert run.files == [SINGLE_SAMPLES, SINGLE_AGG] and run.identity_files == 1
    frame = run.frame
    assert len(frame) == results[0]["score_details"]["uncertainty"]["num_samples"] == 23  # 69 rows / 3 metrics
    assert frame["example_id"].is_unique
    assert run.roles["score"] == "score" and run.roles["correct"] == "correct"
    assert run.roles["sub_step_accuracy"] == run.roles["test_pass_rate"] == "scores"
    assert frame["score"].mean() == pytest.approx(results[0]["score_details"]["score"], abs=1e-12)
    assert int(frame["correct"].sum()) == 16  # SOURCE.txt: 16 of 23 is_correct


def test_reported_is_the_aggregate_figure():
    (run,) = read_sources(SINGLE_SAMPLES)
    results = json.loads(SINGLE_AGG.read_text())["evaluation_results"]
    (reported,) = run.reported
    assert reported.metric == results[0]["evaluation_result_id"] == "starsim_scorer:mean"
    assert reported.value == results[0]["score_details"]["score"]
    assert reported.n == 23 and reported.basis == "score"
    assert reported.source == f"{SINGLE_AGG.name}: evaluation_results[0].score_details.score"
    assert "sha256 matches" in run.notes and "all 69 rows" in run.notes


def test_rows_against_the_raw_samples():
    (run,) = read_sources(SINGLE_SAMPLES)
    frame = run.frame.set_index("example_id")
    rows = [json.loads(line) for line in SINGLE_SAMPLES.read_text().splitlines() if line.strip()]
    for row in rows:
        column = {"starsim_scorer:mean": "score", "starsim_scorer:sub_step_accuracy": "sub_step_accuracy",
                  "starsim_scorer:test_pass_rate": "test_pass_rate"}[row["evaluation_result_id"]]
        assert frame.loc[row["sample_id"], column] == row["evaluation"]["score"]
        assert frame.loc[row["sample_id"], "output"] == row["output"]["raw"][0]
        assert frame.loc[row["sample_id"], "reference"] == row["input"]["reference"][0]


def test_single_turn_cross_checked_against_the_inspect_log():
    (run,) = read_sources(SINGLE_SAMPLES)
    frame = run.frame.set_index("example_id")
    with zipfile.ZipFile(INSPECT_LOG) as log:
        header = json.loads(log.read("header.json"))
        samples = [json.loads(log.read(n)) for n in log.namelist() if n.startswith("samples/")]
    assert {s["id"] for s in samples} == set(frame.index)
    for sample in samples:
        assert frame.loc[sample["id"], "score"] == sample["scores"]["starsim_scorer"]["value"]
    metrics = header["results"]["scores"][0]["metrics"]
    assert frame["score"].mean() == pytest.approx(metrics["mean"]["value"], abs=1e-12)
    # test_pass_rate pools the tests of every sample (score metadata the EEE rows do not carry), so the
    # mean of its per-sample rows is not the figure: it stays an extra score, never the reported one.
    passed = sum(s["scores"]["starsim_scorer"]["metadata"]["tests_passed"] for s in samples)
    total = sum(s["scores"]["starsim_scorer"]["metadata"]["tests_total"] for s in samples)
    assert passed / total == pytest.approx(metrics["test_pass_rate"]["value"], abs=1e-12)
    assert frame["test_pass_rate"].mean() != pytest.approx(metrics["test_pass_rate"]["value"], abs=1e-6)


def test_the_aggregate_loads_the_same_run():
    (from_samples,) = read_sources(SINGLE_SAMPLES)
    (from_aggregate,) = read_sources(SINGLE_AGG)
    assert from_aggregate.files == from_samples.files
    assert from_aggregate.reported == from_samples.reported
    assert from_aggregate.frame.equals(from_samples.frame)


def test_agentic_final_answer_and_agent_signals():
    (run,) = read_sources(AGENTIC_AGG)
    (row,) = [json.loads(line) for line in AGENTIC_SAMPLES.read_text().splitlines() if line.strip()]
    frame = run.frame
    assert len(frame) == 1 and run.model == "openai/gpt-4o-mini-2024-07-18"
    final = [m for m in row["messages"] if m["role"] == "assistant" and m["content"]][-1]["content"]
    assert frame["output"][0] == final
    assert frame["input"][0] == row["input"]["raw"]
    assert frame["num_turns"][0] == row["evaluation"]["num_turns"] == 10
    assert frame["tool_calls_count"][0] == row["evaluation"]["tool_calls_count"] == 4
    assert run.roles["num_turns"] == "signal"
    assert frame["interaction_type"][0] == "agentic"
    (reported,) = run.reported
    assert (reported.metric, reported.value, reported.n) == ("includes:accuracy", 1.0, 1)


def test_store_loads_it(store):
    (run,) = store.ingest(SINGLE_SAMPLES).added
    frame = store.examples(run.run_id)
    assert len(frame) == 23
    assert {"score.sub_step_accuracy", "score.test_pass_rate"} <= set(frame.columns)
    assert frame["score"].mean() == pytest.approx(0.6956521739130435, abs=1e-12)


def test_an_aggregate_without_its_samples_is_refused(tmp_path):
    lone = tmp_path / "e854d8a1-c754-40ef-adaf-726c5f6f8e08.json"
    lone.write_text(SINGLE_AGG.read_text())
    with pytest.raises(InputError, match="no instance-level samples beside it"):
        read_sources(lone)


def test_samples_without_an_aggregate_report_nothing(tmp_path):
    lone = tmp_path / SINGLE_SAMPLES.name
    lone.symlink_to(SINGLE_SAMPLES)
    (run,) = read_sources(lone)
    assert run.reported == [] and len(run.frame) == 23
    assert "No aggregate JSON" in run.notes


def test_several_epochs_are_told_apart(write):
    def row(sid, epoch, score):
        return {"schema_version": "0.3.0", "evaluation_id": "e", "model_id": "m", "evaluation_name": "t",
                "evaluation_result_id": "s:accuracy", "sample_id": sid, "interaction_type": "single_turn",
                "input": {"raw": "q", "reference": ["a"]}, "output": {"raw": ["a"]}, "answer_attribution": [],
                "evaluation": {"score": score, "is_correct": score == 1}, "metadata": {"epoch": str(epoch)}}
    path = write("x_samples.jsonl", "\n".join(json.dumps(row(s, e, v)) for s, e, v in
                                              [("1", 1, 1.0), ("1", 2, 0.0), ("2", 1, 1.0)]) + "\n")
    (run,) = read_sources(path)
    assert list(run.frame["example_id"]) == ["1#1", "1#2", "2#1"]
    dup = write("y_samples.jsonl", "\n".join(json.dumps(row("1", 1, 1.0)) for _ in range(2)) + "\n")
    with pytest.raises(InputError, match="appears twice") as err:
        read_sources(dup)
    assert err.value.record == "line 2"


def test_samples_and_aggregate_together_are_one_run(store):
    (run,) = store.ingest([SINGLE_SAMPLES, SINGLE_AGG]).added
    assert run.row_count == 23
