"""Inspect AI logs: the primary scorer, score values as Inspect's value_to_float reads them, graded
scores kept graded, and the tool's own figures (results.scores) for reconciliation.

Expected values come from the logs' own results (read here with zipfile/json) or from a few lines
of independent code over the samples, never from Faultline's output.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from analysis.errors import InputError
from analysis.formats import read_sources
from analysis.formats.roles import validate_mapping
from tests.conftest import INSPECT


def value_to_float(value):
    """Inspect's default value_to_float, written out independently."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    if value == "C":
        return 1.0
    if value == "P":
        return 0.5
    if value in ("I", "N"):
        return 0.0
    if value.lower() in ("yes", "true"):
        return 1.0
    if value.lower() in ("no", "false"):
        return 0.0
    return float(value)


def _eval_parts(path):
    with zipfile.ZipFile(path) as z:
        header = json.loads(z.read("header.json"))
        samples = [json.loads(z.read(n)) for n in z.namelist() if n.startswith("samples/")]
    return header, samples


REAL = ["2025-02-11T15-18-04-05-00_popularity_mj7khqpMM4GBCfVQozKgzB.eval", "log_formats.eval",
        "log_read_sample.eval", "mmlu-summary-choices.eval", "2025-05-12T20-28-13-04-00_popularity.json",
        "2025-05-12T20-28-26-04-00_security-guide.json"]


@pytest.mark.real_logs
@pytest.mark.parametrize("name", REAL)
def test_reported_is_the_primary_scorers_accuracy(name):
    path = INSPECT / name
    if path.suffix == ".eval":
        header, samples = _eval_parts(path)
    else:
        header = json.loads(path.read_text())
        samples = header["samples"]
    results = header["results"]
    first = results["scores"][0]
    (source,) = read_sources(path)
    (reported,) = source.reported
    assert source.tool == "Inspect"
    assert reported.metric == "accuracy" and reported.basis == "score"
    assert reported.value == first["metrics"]["accuracy"]["value"]
    assert reported.n == results["completed_samples"]
    assert first["scorer"] in reported.source
    # the stored primary score's mean reproduces it
    mine = [value_to_float(s["scores"][first["scorer"]]["value"]) for s in samples]
    primary = next(c for c, r in source.roles.items() if r == "score")
    assert primary == first["scorer"]
    assert source.frame[primary].mean() == pytest.approx(sum(mine) / len(mine)) == pytest.approx(reported.value)
    assert "correct" not in source.roles.values()  # the store derives it; the adapter never binarises


@pytest.mark.real_logs
def test_log_without_scores_reports_nothing():
    path = INSPECT / "2025-02-11T15-17-00-05-00_popularity_dPiJifoWeEQBrfWsAopzWr.eval"
    header, _ = _eval_parts(path)
    assert header["results"]["scores"] == []
    (source,) = read_sources(path)
    assert source.reported == []


@pytest.mark.real_logs
def test_graded_mean_metric_of_a_real_log(real_logs):
    path = next((real_logs / "every_eval_ever" / "single_turn" / "source_log").glob("*.eval"))
    header, samples = _eval_parts(path)
    first = header["results"]["scores"][0]
    (source,) = read_sources(path)
    (reported,) = source.reported
    assert (reported.metric, reported.value, reported.n) == ("mean", first["metrics"]["mean"]["value"], 23)
    values = sorted(float(s["scores"][first["scorer"]]["value"]) for s in samples)
    assert sorted(source.frame[first["scorer"]]) == pytest.approx(values)


def _log(samples, scores=None, **extra):
    doc = {"version": 2, "status": "success",
           "eval": {"task": "toy", "model": "m", "run_id": "r1", "created": "2026-01-01"},
           "results": {"total_samples": len(samples), "completed_samples": len(samples), "scores": scores or []},
           "samples": samples}
    doc.update(extra)
    return doc


def _sample(i, scores, **extra):
    return {"id": i, "epoch": 1, "input": f"q{i}", "target": "t", "output": {"completion": f"a{i}"},
            "scores": {k: {"value": v} for k, v in scores.items()}, **extra}


def _write(tmp_path, doc, name="log.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def test_a_secondary_scorers_no_answer_leaves_the_primary_outcome(tmp_path, store):
    scores = [{"name": "match", "scorer": "match", "metrics": {"accuracy": {"name": "accuracy", "value": 0.5}}},
              {"name": "judge", "scorer": "judge", "metrics": {"accuracy": {"name": "accuracy", "value": 0.0}}}]
    doc = _log([_sample(1, {"match": "C", "judge": "N"}), _sample(2, {"match": "N", "judge": "C"})], scores)
    (run,) = store.ingest(_write(tmp_path, doc)).added
    frame = store.examples(run.run_id).set_index("example_id")
    assert bool(frame.loc["1", "correct"]) and frame.loc["1", "status"] == "ok"
    assert not bool(frame.loc["2", "correct"]) and frame.loc["2", "status"] == "no_answer"
    assert list(frame["score.judge"]) == [0.0, 1.0]


def test_primary_scorer_is_the_first_result_not_the_first_key(tmp_path):
    scores = [{"name": "b", "scorer": "b", "metrics": {"mean": {"name": "mean", "value": 0.25}}}]
    doc = _log([_sample(1, {"a": 1, "b": 0.5}), _sample(2, {"a": 1, "b": 0.0})], scores)
    (source,) = read_sources(_write(tmp_path, doc))
    assert source.roles["b"] == "score" and source.roles["a"] == "scores"
    assert source.reported[0].value == 0.25 == source.frame["b"].mean()


def test_graded_scores_stay_graded(tmp_path, store):
    doc = _log([_sample(1, {"judge": 0.65}), _sample(2, {"judge": 0.2})],
               [{"name": "judge", "scorer": "judge", "metrics": {"mean": {"name": "mean", "value": 0.425}}}])
    (source,) = read_sources(_write(tmp_path, doc))
    assert list(source.frame["judge"]) == [0.65, 0.2]
    assert "correct" not in source.roles.values()
    (run,) = store.ingest(_write(tmp_path, doc, "again.json")).added
    assert sorted(store.examples(run.run_id)["score"]) == [0.2, 0.65]


def test_value_to_float_defaults(tmp_path):
    values = ["C", "P", "I", "N", "yes", "No", "true", "FALSE", "0.25", 3, True]
    doc = _log([_sample(i, {"s": v}) for i, v in enumerate(values)])
    (source,) = read_sources(_write(tmp_path, doc))
    assert list(source.frame["s"]) == [value_to_float(v) for v in values]


def test_custom_string_values_need_the_mapping_and_map_through_it(tmp_path, store):
    doc = _log([_sample(1, {"grade": "A"}), _sample(2, {"grade": "B"}), _sample(3, {"grade": "C"}),
                _sample(4, {"grade": "F"})])
    path = _write(tmp_path, doc)
    with pytest.raises(InputError) as err:
        read_sources(path)
    message = str(err.value)
    assert "'A', 'B', 'F'" in message and "score_values" in message and "sample 1" in message
    mapping = {"score_values": {"A": 1, "B": 0.5, "C": 0.25, "F": 0}}  # C overridden here
    (source,) = read_sources(path, score_values=mapping["score_values"])
    assert list(source.frame["grade"]) == [1.0, 0.5, 0.25, 0.0]
    (run,) = store.ingest(path, mapping=mapping).added
    assert sorted(store.examples(run.run_id)["score"]) == [0.0, 0.25, 0.5, 1.0]


def test_score_values_mapping_key_is_validated():
    assert validate_mapping({"score_values": {"A": 1, "B": 0.5}}) == {"score_values": {"A": 1.0, "B": 0.5}}
    with pytest.raises(InputError, match="score_values"):
        validate_mapping({"score_values": {"A": "good"}})


def test_dict_valued_scorer_primary_key(tmp_path):
    scores = [{"name": "f1", "scorer": "qa", "metrics": {"mean": {"name": "mean", "value": 0.75}}},
              {"name": "em", "scorer": "qa", "metrics": {"mean": {"name": "mean", "value": 0.5}}}]
    samples = [_sample(1, {}), _sample(2, {})]
    samples[0]["scores"] = {"qa": {"value": {"em": 1, "f1": 1.0}}}
    samples[1]["scores"] = {"qa": {"value": {"em": 0, "f1": 0.5}}}
    (source,) = read_sources(_write(tmp_path, _log(samples, scores)))
    assert source.roles["qa.f1"] == "score" and source.roles["qa.em"] == "scores"
    assert source.reported[0].value == 0.75 == source.frame["qa.f1"].mean()


def test_journal_only_eval_has_no_figures_and_takes_the_first_samples_scorer(tmp_path):
    path = tmp_path / "running.eval"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("_journal/start.json", json.dumps({"version": 2, "eval": {"task": "toy", "model": "m"}}))
        z.writestr("samples/1_epoch_1.json", json.dumps(_sample(1, {"x": "N", "y": "C"})))
        z.writestr("samples/2_epoch_1.json", json.dumps(_sample(2, {"x": "C", "y": "N"})))
    (source,) = read_sources(path)
    assert source.reported == [] and source.roles["x"] == "score"
    assert list(source.frame["status"].fillna("")) == ["no_answer", ""]
