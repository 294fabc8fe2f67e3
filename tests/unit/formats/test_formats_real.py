"""Every supported format, loaded from the real third-party logs in ../shared/fixtures/ (read where they lie).

Expected values are read from the log files directly with json/zipfile here (an
independent reading), never copied from Faultline's own output.
"""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest

from analysis import detect_format
from tests.conftest import HELM_BBQ, INSPECT, LM_EVAL_SAMPLES, OPENAI_EVALS, PROMPTFOO_JSON

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


@pytest.mark.parametrize(("path", "expected"), [
    (LM_EVAL_SAMPLES, "lm_eval"),
    (HELM_BBQ, "helm"),
    (HELM_BBQ / "openai_gpt-4o-2024-05-13", "helm"),
    (INSPECT / "mmlu-summary-choices.eval", "inspect_eval"),
    (INSPECT / "2025-02-11T15-17-00-05-00_popularity_dPiJifoWeEQBrfWsAopzWr.eval", "inspect_eval"),
    (INSPECT / "2025-05-12T20-28-13-04-00_popularity.json", "inspect_json"),
    (OPENAI_EVALS / "examples_crossword-turbo.jsonl", "openai_evals"),
    (PROMPTFOO_JSON, "promptfoo"),
    (PROMPTFOO_JSON.with_name("results.csv"), "promptfoo_csv"),
])
def test_detects_format_by_content(path, expected):
    assert detect_format(path) == expected


def test_detection_ignores_misleading_extension(tmp_path):
    disguised = tmp_path / "log.csv"
    disguised.write_bytes(LM_EVAL_SAMPLES.read_bytes())
    assert detect_format(disguised) == "lm_eval"


def test_lm_eval_samples(store):
    report = store.ingest(LM_EVAL_SAMPLES)
    (run,) = report.added
    lines = [json.loads(line) for line in LM_EVAL_SAMPLES.read_text().splitlines() if line.strip()]
    assert run.source_format == "lm_eval"
    assert run.row_count == len(lines) == 100
    assert {f["file_name"] for f in run.files} == {LM_EVAL_SAMPLES.name, "results_2026-11-22T14-06-03.710369.json"}
    frame = store.examples(run.run_id).set_index("example_id")
    for line in lines:
        row = frame.loc[str(line["doc_id"])]
        assert row["score"] == line["acc"]
        assert bool(row["correct"]) == (line["acc"] == 1.0)
        assert row["meta.context_condition"] == line["doc"]["context_condition"]
        assert row["meta.polarity"] == line["doc"]["polarity"]
        assert row["input"] == line["arguments"]["gen_args_0"]["arg_0"]
        # multiple choice: the answer is the choice with the highest log-likelihood
        logprobs = [float(r[0]) for r in line["filtered_resps"]]
        best = logprobs.index(max(logprobs))
        assert row["output"] == line["arguments"][f"gen_args_{best}"]["arg_1"].strip()
        assert row["reference"] == line["arguments"][f"gen_args_{int(line['target'])}"]["arg_1"].strip()
    results = json.loads(LM_EVAL_SAMPLES.with_name("results_2026-11-22T14-06-03.710369.json").read_text())
    assert frame["correct"].mean() == pytest.approx(results["results"]["bbq_local"]["acc,none"])
    kinds = store.fields(run.run_id).set_index("column_name")["kind"]
    assert kinds["meta.context_condition"] == "categorical"


@pytest.mark.parametrize("name", sorted(p.name for p in INSPECT.glob("*.eval")))
def test_inspect_eval_both_layouts(store, name):
    path = INSPECT / name
    (run,) = store.ingest(path).added
    with zipfile.ZipFile(path) as archive:
        head = "header.json" if "header.json" in archive.namelist() else "_journal/start.json"
        header = json.loads(archive.read(head))
        samples = [json.loads(archive.read(n)) for n in archive.namelist() if n.startswith("samples/")]
    assert run.model == header["eval"]["model"]
    assert run.row_count == len(samples)
    frame = store.examples(run.run_id).set_index("example_id")
    letter = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
    for sample in samples:
        row = frame.loc[str(sample["id"])]
        if sample["scores"]:
            value = next(iter(sample["scores"].values()))["value"]
            assert row["score"] == letter[value]
            assert bool(row["correct"]) == (value == "C")
            assert not row["unscorable"]
        else:  # the 2025-02 log without scores: every sample is unscorable, none is called wrong
            assert row["unscorable"] and row["status"] == "unscored"
            assert pd.isna(row["correct"])
        for key, value in (sample.get("metadata") or {}).items():
            if not isinstance(value, dict):
                assert row[f"meta.{key}"] == value


def test_inspect_json_with_nested_metadata_and_chat_input(store):
    (pop,) = store.ingest(INSPECT / "2025-05-12T20-28-13-04-00_popularity.json").added
    doc = json.loads((INSPECT / "2025-05-12T20-28-13-04-00_popularity.json").read_text())
    frame = store.examples(pop.run_id).set_index("example_id")
    first = doc["samples"][0]
    assert frame.loc[str(first["id"]), "meta.nested.foo"] == first["metadata"]["nested"]["foo"]
    assert frame["correct"].sum() == sum(s["scores"]["match"]["value"] == "C" for s in doc["samples"])
    (guide,) = store.ingest(INSPECT / "2025-05-12T20-28-26-04-00_security-guide.json").added
    guide_doc = json.loads((INSPECT / "2025-05-12T20-28-26-04-00_security-guide.json").read_text())
    text = store.examples(guide.run_id)["input"].iloc[0]
    first_message = guide_doc["samples"][0]["input"][0]["content"]
    assert isinstance(guide_doc["samples"][0]["input"], list) and first_message in text


def test_inspect_epochs_kept_apart(store, tmp_path):
    source = INSPECT / "mmlu-summary-choices.eval"
    target = tmp_path / "two-epochs.eval"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, data)
            if info.filename.startswith("samples/"):
                sample = json.loads(data)
                sample["epoch"] = 2
                sample["scores"]["choice"]["value"] = "C"
                dst.writestr(info.filename.replace("epoch_1", "epoch_2"), json.dumps(sample))
    (run,) = store.ingest(target).added
    frame = store.examples(run.run_id).set_index("example_id")
    assert sorted(frame.index) == ["1#1", "1#2"]
    assert frame.loc["1#1", "score"] == 0.0 and frame.loc["1#2", "score"] == 1.0


def test_helm_folder_of_two_runs(store):
    report = store.ingest(HELM_BBQ)
    assert len(report.added) == 2
    for run in report.added:
        folder = next(p for p in HELM_BBQ.iterdir() if (p / "run_spec.json").is_file()
                      and json.loads((p / "run_spec.json").read_text())["adapter_spec"]["model"] == run.model)
        stats = json.loads((folder / "per_instance_stats.json").read_text())
        state = json.loads((folder / "scenario_state.json").read_text())
        exact = {s["instance_id"]: next(x["mean"] for x in s["stats"] if x["name"]["name"] == "exact_match")
                 for s in stats}
        frame = store.examples(run.run_id).set_index("example_id")
        assert run.row_count == len(state["request_states"])
        for rs in state["request_states"]:
            iid = rs["instance"]["id"]
            row = frame.loc[iid]
            assert row["score"] == exact[iid]
            tags = {t for r in rs["instance"]["references"] for t in r["tags"]}
            assert row["meta.ambiguous"] == ("ambiguous" if "ambiguous" in tags else "non-ambiguous")
            assert row["meta.negative"] == ("negative" if "negative" in tags else "non-negative")
            correct_ref = [r["output"]["text"] for r in rs["instance"]["references"] if "correct" in r["tags"]]
            assert row["reference"] == correct_ref[0]
            raw = rs["result"]["completions"][0]["text"]
            assert row["output"] == rs["output_mapping"].get(raw.strip(), raw)
        assert {f["file_name"] for f in run.files} == {"scenario_state.json", "per_instance_stats.json", "run_spec.json"}


@pytest.mark.parametrize("name", sorted(p.name for p in OPENAI_EVALS.glob("*.jsonl")))
def test_openai_evals(store, name):
    path = OPENAI_EVALS / name
    (run,) = store.ingest(path).added
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    spec = events[0]["spec"]
    report = events[1]["final_report"]
    matches = {e["sample_id"]: e["data"] for e in events[2:] if e.get("type") == "match"}
    frame = store.examples(run.run_id).set_index("example_id")
    assert run.model == (spec.get("completion_fns") or [spec.get("model_name")])[0]
    assert run.row_count == len(matches)
    assert frame["correct"].mean() == pytest.approx(report["accuracy"])
    for sid, data in matches.items():
        assert bool(frame.loc[sid, "correct"]) == data["correct"]
        assert frame.loc[sid, "reference"] == data["expected"]


def test_openai_evals_of_early_2023_keep_the_model(store, real_logs):
    """oaieval of March 2023 wrote spec.model_name / model_names and final_report as the last line."""
    path = real_logs / "openai_evals" / "early_2023" / "medmcqa.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    spec = next(e["spec"] for e in events if "spec" in e)
    report = next(e["final_report"] for e in events if "final_report" in e)
    matches = {e["sample_id"]: e["data"]["correct"] for e in events if e.get("type") == "match"}
    (run,) = store.ingest(path).added
    assert run.model == spec["model_name"] == "gpt-3.5-turbo"
    assert run.row_count == len(matches) == 300
    assert store.examples(run.run_id)["correct"].mean() == pytest.approx(report["accuracy"]) == 0.56
    minimal = real_logs / "minimal" / "M05-openai-evals-2023-spec" / "log.jsonl"
    (small,) = store.ingest(minimal).added
    assert small.model == "example-model" and small.row_count == 2


def test_openai_evals_two_model_versions_share_example_ids(store):
    a = store.ingest(OPENAI_EVALS / "examples_crossword-turbo.jsonl").added[0]
    b = store.ingest(OPENAI_EVALS / "examples_crossword-turbo-0301.jsonl").added[0]
    ids_a = set(store.examples(a.run_id)["example_id"])
    ids_b = set(store.examples(b.run_id)["example_id"])
    assert ids_a == ids_b and len(ids_a) == 100


def test_promptfoo_one_run_per_provider(store):
    report = store.ingest(PROMPTFOO_JSON)
    doc = json.loads(PROMPTFOO_JSON.read_text())
    results = doc["results"]["results"]
    assert len(report.added) == 2
    assert sum(r.row_count for r in report.added) == len(results) == 40
    total_pass = 0
    for run in report.added:
        frame = store.examples(run.run_id).set_index("example_id")
        mine = [r for r in results if (r["provider"].get("label") or r["provider"]["id"]) == run.model
                or r["provider"]["id"] == run.model]
        assert len(mine) == 20
        for r in mine:
            row = frame.loc[f"test-{r['testIdx']}"]
            assert bool(row["correct"]) == r["success"]
            assert row["score"] == r["score"]
            assert row["meta.language"] == r["metadata"]["language"]
            assert row["meta.var.question"] == r["vars"]["question"]
            assert row["output"] == r["response"]["output"]
        total_pass += int(frame["correct"].sum())
    assert total_pass == doc["results"]["stats"]["successes"] == 18


def test_promptfoo_csv_export_loads_a_run_per_provider(store):
    runs = store.ingest(PROMPTFOO_JSON.with_name("results.csv")).added
    assert [r.source_format for r in runs] == ["promptfoo_csv"] * 2 and [r.row_count for r in runs] == [20, 20]
