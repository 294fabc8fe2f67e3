"""OpenAI evals logs: the tool's own final_report figures for reconciliation.

Expected values are read from the logs' final_report lines and match events here (json), or from
SOURCE.txt / README, never from Faultline's output.
"""

from __future__ import annotations

import json

import pytest

from analysis.formats import read_sources
from tests.conftest import OPENAI_EVALS


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.real_logs
@pytest.mark.parametrize("name", ["examples_crossword-turbo.jsonl", "examples_crossword-turbo-0301.jsonl",
                                  "examples_us-tort-law-turbo.jsonl", "early_2023/medmcqa.jsonl"])
def test_final_report_accuracy_is_reported_on_correct(name):
    path = OPENAI_EVALS / name
    lines = _lines(path)
    report = next(rec["final_report"] for rec in lines if "final_report" in rec)
    matches = [rec["data"]["correct"] for rec in lines if rec.get("type") == "match"]
    (source,) = read_sources(path)
    (reported,) = source.reported
    assert source.tool == "OpenAI evals"
    assert (reported.metric, reported.basis, reported.n) == ("accuracy", "correct", None)
    assert reported.value == report["accuracy"] == pytest.approx(sum(matches) / len(matches))
    assert reported.source.startswith(f"{path.name}: final_report.accuracy (line ")
    assert source.frame["correct"].mean() == pytest.approx(reported.value)


@pytest.mark.real_logs
def test_early_2023_medmcqa_accuracy(real_logs):
    (source,) = read_sources(real_logs / "openai_evals" / "early_2023" / "medmcqa.jsonl")
    assert source.reported[0].value == 0.56  # SOURCE.txt / MANIFEST: final_report accuracy 0.56, 300 samples
    assert len(source.frame) == 300


@pytest.mark.real_logs
def test_minimal_m05(real_logs):
    (source,) = read_sources(real_logs / "minimal" / "M05-openai-evals-2023-spec" / "log.jsonl")
    assert source.model == "example-model" and source.reported[0].value == 0.5


def _write(tmp_path, records):
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_model_graded_score_is_the_primary_score(tmp_path):
    spec = {"spec": {"completion_fns": ["gpt-4"], "eval_name": "graded.dev.v0", "run_id": "R"}}
    events = []
    for i, (choice, score) in enumerate([("Y", 1.0), ("N", 0.0), ("Y", 1.0), ("Y", 1.0)]):
        events.append({"run_id": "R", "event_id": 2 * i, "sample_id": f"s.{i}", "type": "sampling",
                       "data": {"prompt": f"q{i}", "sampled": f"a{i}"}})
        events.append({"run_id": "R", "event_id": 2 * i + 1, "sample_id": f"s.{i}", "type": "metrics",
                       "data": {"choice": choice, "score": score, "sampled": f"a{i}"}})
    report = {"final_report": {"counts/Y": 3, "counts/N": 1, "score": 0.75}}
    (source,) = read_sources(_write(tmp_path, [spec, report, *events]))
    assert source.roles["score"] == "score"
    (reported,) = source.reported
    assert (reported.metric, reported.value, reported.basis, reported.n) == ("score", 0.75, "score", 4)
    assert source.frame["score"].mean() == 0.75


def test_no_final_report_reports_nothing(tmp_path):
    records = [{"spec": {"completion_fns": ["m"], "eval_name": "e"}},
               {"run_id": "R", "event_id": 0, "sample_id": "s.0", "type": "match",
                "data": {"correct": True, "expected": "a", "picked": "a"}}]
    (source,) = read_sources(_write(tmp_path, records))
    assert source.reported == []
