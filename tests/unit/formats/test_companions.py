"""A summary loaded together with its log is read by the log's reader, not planned as a run of its own."""

from __future__ import annotations

import json
import shutil

import pytest

from analysis import InputError
from analysis.formats import is_companion
from tests.conftest import REAL

pytestmark = pytest.mark.real_logs

TWO_FILTERS = REAL / "lm_eval" / "two_filters"


def test_lm_eval_samples_and_results_together_give_the_runs_with_model(store, tmp_path):
    # as the app stages an upload: every file of the batch in one folder
    for f in TWO_FILTERS.iterdir():
        shutil.copy(f, tmp_path / f.name)
    samples = sorted(tmp_path.glob("samples_*.jsonl"))
    results = sorted(tmp_path.glob("results_*.json"))
    assert samples and results
    assert is_companion(results[0], samples + results) and not is_companion(samples[0], samples + results)
    report = store.ingest(samples + results)
    doc = json.loads(results[0].read_text())
    model = doc.get("model_name") or doc["config"]["model_args"]
    assert len(report.added) == 2 and all(r.model and r.model in model for r in report.added)
    assert {r.source_format for r in report.added} == {"lm_eval"}


def test_a_summary_alone_is_refused_saying_which_file_to_load(store):
    (results,) = sorted(TWO_FILTERS.glob("results_*.json"))
    with pytest.raises(InputError, match="load the samples"):
        store.ingest(results)


def test_a_helm_stats_file_uploaded_with_its_run_is_part_of_the_run(store, tmp_path):
    run = REAL / "helm" / "narrative_qa"
    folder = tmp_path / "upload"
    shutil.copytree(run, folder)
    assert (folder / "stats.json").exists()
    report = store.ingest([folder, folder / "stats.json"])
    assert report.added and all(r.source_format == "helm" for r in report.added)


def test_a_folder_of_logs_loads_each_log_with_its_summary(store, tmp_path):
    lm_eval = REAL / "lm_eval"
    report = store.ingest(lm_eval / "two_filters")  # samples + results + SOURCE.txt
    assert len(report.added) == 2 and {r.source_format for r in report.added} == {"lm_eval"}
    checks = store.reconciliation()
    assert set(checks["verdict"]) == {"matches"}  # each filter against results_*.json
    with pytest.raises(InputError, match="no evaluation log"):
        empty = tmp_path / "notes"
        empty.mkdir()
        (empty / "README.md").write_text("nothing here")
        store.ingest(empty)


def test_every_eval_ever_runs_are_found_deep_in_the_converters_layout(store):
    report = store.ingest(REAL / "every_eval_ever" / "agentic")
    assert [r.source_format for r in report.added] == ["every_eval_ever"]


def test_the_tools_headline_decides_the_runs_headline(store):
    # NarrativeQA: HELM headlines f1_score (a mean of graded scores), though the log also has exact_match
    stats = json.loads((REAL / "helm" / "narrative_qa" / "stats.json").read_text())
    f1 = next(s["mean"] for s in stats if s["name"] == {"name": "f1_score", "split": "test"})
    store.ingest(REAL / "helm" / "narrative_qa")
    row = store.headline().set_index("name").loc["narrative_qa · openai/gpt2"]
    assert row["metric"] == "mean score" and row["value"] == pytest.approx(f1)
    assert row["correct_column"] == "exact_match"
