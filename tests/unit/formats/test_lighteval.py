"""lighteval details (doc / metric / model_response structs) and their results JSON.

Expected values are read here from the Parquet file (pandas) and the results JSON (json), and
from SOURCE.txt, never from Faultline's output.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pandas as pd
import pytest

from analysis import detect_format
from analysis.errors import InputError
from analysis.formats import read_sources

TASK = "community|synthetic-mcq|0"
DATE = "2026-11-29T12-00-00.000000"


@pytest.fixture
def details(real_logs):
    folder = real_logs / "lighteval" / "synthetic_mcq"
    return folder / f"details_{TASK}_{DATE}.parquet", folder / f"results_{DATE}.json"


def test_detected_and_read_like_the_file_says(details, store):
    path, results_path = details
    assert detect_format(path) == "lighteval"
    raw = pd.read_parquet(path)
    results = json.loads(results_path.read_text())
    (source,) = read_sources(path)
    assert source.tool == "lighteval" and source.model == results["config_general"]["model_name"]
    assert source.task == TASK and source.files == [path, results_path]
    assert source.roles["trad_score"] == "score"  # the first metric the results list for the task
    assert {c for c, r in source.roles.items() if r == "scores"} == {"idk_score", "idk_freq", "extract_fail"}
    (reported,) = source.reported
    assert (reported.metric, reported.basis) == ("trad_score", "score")
    assert reported.value == results["results"][TASK]["trad_score"] == 0.825  # SOURCE.txt
    (run,) = store.ingest(path).added
    frame = store.examples(run.run_id).set_index("example_id")
    assert run.row_count == len(raw) == 40
    for _, row in raw.iterrows():
        doc, response = row["doc"], row["model_response"]
        mine = frame.loc[doc["id"]]
        assert mine["input"] == doc["query"]
        assert mine["output"] == response["text"][0]
        assert mine["reference"] == doc["choices"][doc["gold_index"]]
        assert mine["score"] == row["metric"]["trad_score"]
        assert mine["score.idk_score"] == row["metric"]["idk_score"]
        assert mine["task"] == TASK
    for metric, value in results["results"][TASK].items():  # SOURCE.txt: the mean of metric.* over the rows
        stored = frame["score"] if metric == "trad_score" else frame[f"score.{metric}"]
        assert stored.mean() == pytest.approx(value)


def test_results_found_where_lighteval_writes_them(details, tmp_path):
    path, results_path = details
    run_dir = tmp_path / "details" / "example-org" / "example-model" / DATE
    run_dir.mkdir(parents=True)
    shutil.copy(path, run_dir / path.name)
    results_dir = tmp_path / "results" / "example-org" / "example-model"
    results_dir.mkdir(parents=True)
    shutil.copy(results_path, results_dir / results_path.name)
    (source,) = read_sources(run_dir / path.name)
    assert source.files[1] == results_dir / results_path.name
    assert source.reported[0].value == 0.825


def test_without_results_nothing_is_reported(details, tmp_path):
    path, _ = details
    alone = tmp_path / path.name
    shutil.copy(path, alone)
    (source,) = read_sources(alone)
    assert source.reported == [] and source.files == [alone]
    assert "no results JSON" in source.notes
    assert source.model is None and source.task == TASK


def test_a_corpus_level_metric_that_is_not_a_mean_is_not_reported(details, tmp_path):
    path, results_path = details
    shutil.copy(path, tmp_path / path.name)
    results = json.loads(results_path.read_text())
    results["config_tasks"][TASK]["metrics"][0]["corpus_level_fn"]["trad_score"] = "f1_corpus"
    (tmp_path / results_path.name).write_text(json.dumps(results))
    (source,) = read_sources(tmp_path / path.name)
    assert source.reported == []


def test_the_results_summary_alone_points_to_the_details(details):
    _, results_path = details
    with pytest.raises(InputError, match="details_"):
        detect_format(results_path)


def test_log_likelihood_output_is_the_most_likely_choice(tmp_path):
    path = tmp_path / f"details_lighteval|toy|0_{DATE}.parquet"
    duckdb.execute(f"""COPY (SELECT
        {{'id': i::VARCHAR, 'query': 'q' || i, 'choices': ['a', 'b', 'c'], 'gold_index': i % 3,
          'task_name': 'lighteval|toy|0'}} AS doc,
        {{'acc': CASE WHEN i % 3 = 1 THEN 1.0 ELSE 0.0 END}} AS metric,
        {{'text': []::VARCHAR[], 'logprobs': [-3.0, -1.0, -2.0]}} AS model_response
        FROM range(6) t(i)) TO '{path}' (FORMAT parquet)""")
    assert detect_format(path) == "lighteval"
    (source,) = read_sources(path)
    frame = duckdb.execute(f"SELECT * FROM {source.sql_source[0]}", source.sql_source[1]).df()
    assert list(frame["output"]) == ["b"] * 6
    assert list(frame["reference"]) == ["a", "b", "c", "a", "b", "c"]
    assert source.roles["acc"] == "score" and frame["acc"].mean() == pytest.approx(1 / 3)


def test_details_before_0_10_with_a_metrics_struct(tmp_path):
    path = tmp_path / f"details_leaderboard|arc|25_{DATE}.parquet"
    duckdb.execute(f"""COPY (SELECT 'prompt ' || i AS full_prompt, ['answer ' || i] AS predictions,
        ['answer ' || (i % 2)] AS gold, {{'em': CASE WHEN i < 2 THEN 1.0 ELSE 0.0 END}} AS metrics
        FROM range(4) t(i)) TO '{path}' (FORMAT parquet)""")
    assert detect_format(path) == "lighteval"
    (source,) = read_sources(path)
    frame = duckdb.execute(f"SELECT * FROM {source.sql_source[0]}", source.sql_source[1]).df()
    assert list(frame["input"]) == [f"prompt {i}" for i in range(4)]
    assert list(frame["output"]) == [f"answer {i}" for i in range(4)]
    assert source.roles["em"] == "score" and list(frame["em"]) == [1.0, 1.0, 0.0, 0.0]


def test_a_details_file_of_another_layout_is_a_plain_table(tmp_path):
    path = tmp_path / f"details_x_{DATE}.parquet"
    duckdb.execute(f"COPY (SELECT 1 AS a, true AS correct) TO '{path}' (FORMAT parquet)")
    assert detect_format(path) == "parquet"
    path2 = tmp_path / "other.parquet"
    duckdb.execute(f"COPY (SELECT 1 AS a, true AS correct) TO '{path2}' (FORMAT parquet)")
    assert detect_format(path2) == "parquet"


def test_ids_that_are_not_unique_give_way_to_row_numbers(tmp_path):
    path = tmp_path / f"details_lighteval|toy|0_{DATE}.parquet"
    duckdb.execute(f"""COPY (SELECT {{'id': '', 'query': 'q' || i, 'task_name': 'lighteval|toy|0'}} AS doc,
        {{'acc': 1.0}} AS metric, {{'text': ['x']}} AS model_response FROM range(3) t(i))
        TO '{path}' (FORMAT parquet)""")
    (source,) = read_sources(path)
    frame = duckdb.execute(f"SELECT * FROM {source.sql_source[0]}", source.sql_source[1]).df()
    assert list(frame["example_id"]) == ["0", "1", "2"] and list(frame["output"]) == ["x"] * 3


def test_without_its_results_json_a_diagnostic_is_never_the_headline(tmp_path, real_logs):
    import shutil

    from analysis.formats import read_sources

    (details,) = (real_logs / "lighteval" / "synthetic_mcq").glob("details_*.parquet")
    alone = tmp_path / details.name
    shutil.copy(details, alone)
    (run,) = read_sources(alone)
    primary = next(c for c, r in run.roles.items() if r == "score") if run.roles else None
    assert primary is not None and "fail" not in primary and "freq" not in primary
    assert run.reported == [] and "no results JSON" in run.notes
