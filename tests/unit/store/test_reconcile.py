"""Reconciliation with the tool's own figures, "not scored" values, a run's model from its column,
and the graded headline (mean score with a t interval, threshold stated)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.formats.base import Reported, SourceRun
from analysis.store import reconcile
from analysis.store.ingest import _plan_source
from tests.conftest import REAL

M06 = REAL / "minimal" / "M06-jsonl-score-sentinel"


def _load(store, frame, reported, *, tool="ToyTool", **extra):
    roles = {"id": "id", "score": "score"} | {c: "metadata" for c in frame.columns if c not in ("id", "score")}
    source = SourceRun("toy", [], "toy run", frame=frame, roles=roles, tool=tool, reported=reported, **extra)
    planned = _plan_source(store, source, {}, {})
    (run,) = store.ingest([planned]).added
    return run


@pytest.mark.parametrize(("reported", "verdict", "words"), [
    (Reported("acc", 0.75, n=4), "matches", "ToyTool reports 0.75 for acc; these 4 examples agree"),
    (Reported("acc", 0.5), "differs", "ToyTool reports 0.5 for acc; these 4 examples give 0.75"),
    (Reported("acc", 0.75, n=5000), "partial", "the log holds 4 of the 5,000 examples ToyTool evaluated"),
    (Reported("acc", 0.75, n=2), "differs", "the log holds 4 examples where ToyTool counted 2"),
    (Reported("acc", None), "not reported", "names acc but gives no value"),
    (Reported("acc", 0.7501, tolerance=5e-4), "matches", "agree"),
])
def test_verdicts_are_recorded_in_plain_words(store, reported, verdict, words):
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "score": [1.0, 1.0, 1.0, 0.0]})
    run = _load(store, frame, [reported])
    checks = store.reconciliation()
    assert list(checks["verdict"]) == [verdict] and words in checks["message"].iloc[0]
    assert checks["faultline_value"].iloc[0] == pytest.approx(0.75) and checks["faultline_n"].iloc[0] == 4
    row = store.headline().set_index("run_id").loc[run.run_id]
    assert row["check"] == verdict


def test_a_tool_log_without_a_figure_says_not_reported_and_a_plain_table_has_no_row(store):
    _load(store, pd.DataFrame({"id": ["a"], "score": [1.0]}), [])
    store.ingest_frame(pd.DataFrame({"q": ["x"], "correct": [True]}), name="plain")
    checks = store.reconciliation()
    assert list(checks["verdict"]) == ["not reported"] and list(checks["name"]) == ["toy run"]
    assert store.headline()["check"].isna().tolist() == [False, True]


def test_deleting_a_run_deletes_its_checks(store):
    run = _load(store, pd.DataFrame({"id": ["a"], "score": [1.0]}), [Reported("acc", 1.0)])
    store.delete_run(run.run_id)
    assert store.reconciliation().empty


def test_graded_headline_is_the_mean_score_with_a_t_interval(store):
    rng = np.random.default_rng(3)
    scores = rng.uniform(0, 1, 40)
    run = _load(store, pd.DataFrame({"id": [f"x{i}" for i in range(40)], "score": scores}), [])
    row = store.headline().set_index("run_id").loc[run.run_id]
    low, high = sps.t.interval(0.95, 39, loc=scores.mean(), scale=sps.sem(scores))
    assert row["graded"] and row["metric"] == "mean score"
    assert row["value"] == pytest.approx(scores.mean()) and row["low"] == pytest.approx(low)
    assert row["high"] == pytest.approx(high) and row["threshold_source"] == "default"
    assert row["accuracy"] == pytest.approx((scores >= 0.5).mean())  # still there, and labelled as a threshold


def test_binary_headline_stays_accuracy(store):
    run = _load(store, pd.DataFrame({"id": ["a", "b"], "score": [1.0, 0.0]}), [])
    row = store.headline().set_index("run_id").loc[run.run_id]
    assert not row["graded"] and row["metric"] == "accuracy" and row["value"] == pytest.approx(0.5)


def test_an_adapters_threshold_and_missing_values_are_kept(store):
    frame = pd.DataFrame({"id": ["a", "b", "c"], "score": [8.0, -1.0, 3.0]})
    run = _load(store, frame, [], threshold=7.0, threshold_source="MT-Bench convention",
                missing_values={"score": [-1]})
    row = store.headline().set_index("run_id").loc[run.run_id]
    assert (row["scored"], row["correct"], row["threshold"]) == (2, 1, 7.0)
    assert row["threshold_source"] == "MT-Bench convention" and row["value"] == pytest.approx(5.5)


def test_worst_verdict():
    assert reconcile.worst(["matches", "not reported"]) == "not reported"
    assert reconcile.worst([]) is None


@pytest.mark.real_logs
def test_m06_judge_sentinel_is_unscorable_not_wrong(store):
    (run,) = store.ingest(M06 / "judgments.jsonl").added  # read as MT-Bench single-answer judgments
    raw = [json.loads(line) for line in (M06 / "judgments.jsonl").read_text().splitlines() if line.strip()]
    rated = [r["score"] for r in raw if r["score"] != -1]
    row = store.headline().set_index("run_id").loc[run.run_id]
    assert row["scored"] == len(rated) == 3 and row["rows"] - row["scored"] == 3
    assert row["metric"] == "mean score" and row["value"] == pytest.approx(np.mean(rated))
    assert run.model == "example-7b"
    roles = dict(zip(store.fields(run.run_id)["column_name"], store.fields(run.run_id)["role"]))
    assert not any(r == "rater" for r in roles.values())


@pytest.mark.real_logs
def test_missing_values_in_a_mapping_make_a_plain_tables_rows_unscorable(store, tmp_path):
    raw = [json.loads(line) for line in (M06 / "judgments.jsonl").read_text().splitlines() if line.strip()]
    plain = tmp_path / "plain.jsonl"  # the same judgments as a plain table (no MT-Bench layout)
    plain.write_text("\n".join(json.dumps({k: v for k, v in r.items() if k != "question_id"} | {"qid": r["question_id"]})
                               for r in raw))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text((M06 / "mapping.yaml").read_text().replace("question_id", "qid") + "missing_values: {score: [-1]}\n")
    (run,) = store.ingest(plain, mapping=mapping).added
    rated = [r["score"] for r in raw if r["score"] != -1]
    row = store.headline().set_index("run_id").loc[run.run_id]
    assert row["scored"] == len(rated) == 3 and row["correct"] == sum(s >= 8 for s in rated) == 3
    assert row["threshold"] == 8 and row["threshold_source"] == "set by mapping.yaml"
    assert run.model == "example-7b"  # the model column holds one value
    roles = dict(zip(store.fields(run.run_id)["source_name"], store.fields(run.run_id)["role"]))
    assert roles["judge"] == "metadata"  # names the judge; not a rater's verdict


def test_missing_values_must_name_the_outcome(store, tmp_path):
    from analysis import InputError

    with pytest.raises(InputError, match="missing_values names 'q'"):
        store.ingest_frame(pd.DataFrame({"q": ["x"], "correct": [True]}), name="p",
                           mapping={"missing_values": {"q": ["x"]}})
