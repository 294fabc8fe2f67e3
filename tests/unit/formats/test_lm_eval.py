"""lm-evaluation-harness samples, every layout: the real logs in ../shared/fixtures/lm_eval and the minimal
cases M07-M10, plus small files written here for the paths the real logs do not take.

Expected values come from the files themselves, read here with ``json`` (lm-eval's own figures in
``results*.json``, the samples' own metric values), or from the cases' README / SOURCE.txt; never from
Faultline's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis import detect_format
from analysis.errors import InputError
from analysis.formats import read_sources
from analysis.formats.lm_eval import read_lm_eval

# ------------------------------------------------------------------ helpers


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _results(folder: Path) -> tuple[dict, Path]:
    (path,) = [p for p in folder.glob("results*.json")]
    return json.loads(path.read_text(encoding="utf-8")), path


def _one(runs):
    assert len(runs) == 1, [r.name for r in runs]
    return runs[0]


def _score_column(run) -> str:
    (col,) = [c for c, r in run.roles.items() if r == "score"]
    return col


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values)


def _mc_answer(sample: dict) -> tuple[str, str]:
    """(chosen choice, gold choice) of a 0.4.3+ multiple-choice sample, by hand."""
    args = sample["arguments"]
    logprobs = [float(r[0]) for r in sample["filtered_resps"]]
    best = logprobs.index(max(logprobs))
    return args[f"gen_args_{best}"]["arg_1"].strip(), args[f"gen_args_{int(sample['target'])}"]["arg_1"].strip()


def _sample(doc_id: int, *, filt: str = "none", metrics: dict | None = None, doc: dict | None = None,
            target="1", generate: bool = False) -> dict:
    metrics = {"acc": 1.0} if metrics is None else metrics
    if generate:
        args = {"gen_args_0": {"arg_0": f"Q{doc_id}", "arg_1": {"until": ["\n"]}}}
        resps, filtered = [[f"answer {doc_id}"]], [f"{doc_id}"]
    else:
        args = {f"gen_args_{k}": {"arg_0": f"Q{doc_id}", "arg_1": f" choice {k}"} for k in range(3)}
        resps = [[[str(-k - 1.0), "False"]] for k in range(3)]
        filtered = [[str(-k - 1.0), "False"] for k in range(3)]
    return {"doc_id": doc_id, "doc": doc if doc is not None else {"group": "ab"[doc_id % 2], "n": doc_id},
            "target": target, "arguments": args, "resps": resps, "filtered_resps": filtered, "filter": filt,
            "metrics": list(metrics), **metrics}


def _write_jsonl(path: Path, samples: list[dict]) -> Path:
    path.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the real logs


@pytest.fixture
def lm(real_logs) -> Path:
    return real_logs / "lm_eval"


def test_bbq_0_4_13_reconciles_with_its_results(lm):
    path = lm / "samples_bbq_local_2026-11-22T14-06-03.710369.jsonl"
    results, results_path = _results(lm)
    samples = _lines(path)
    run = _one(read_lm_eval(path))
    assert run.tool == "lm-eval"
    assert run.model == results["model_name"]
    assert run.files == [path, results_path]
    (reported,) = run.reported
    assert reported.metric == "acc,none"
    assert reported.value == results["results"]["bbq_local"]["acc,none"] == 0.34
    assert reported.basis == "score" and _score_column(run) == "acc"
    assert reported.n == results["n-samples"]["bbq_local"]["effective"] == len(samples) == 100
    assert run.frame["acc"].mean() == pytest.approx(_mean(s["acc"] for s in samples))
    frame = run.frame.set_index("example_id")
    for sample in samples:
        row = frame.loc[str(sample["doc_id"])]
        assert (row["output"], row["reference"]) == _mc_answer(sample)
        assert row["input"] == sample["arguments"]["gen_args_0"]["arg_0"]
        assert row["context_condition"] == sample["doc"]["context_condition"]


def test_v0_4_2_array_is_recognised(lm):
    folder = lm / "v0.4.2_array"
    path = folder / "pretrained__example-org__example-7b_hellaswag.jsonl"
    assert detect_format(path) == "lm_eval"
    samples = json.loads(path.read_text(encoding="utf-8"))
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    run = _one(read_sources(path))
    assert run.format == "lm_eval" and run.task == "hellaswag"
    assert run.model == results["config"]["model_args"].removeprefix("pretrained=") == "example-org/example-7b"
    assert run.record_label == "record"
    assert run.roles["acc"] == "score" and run.roles["acc_norm"] == "scores"
    (reported,) = run.reported
    assert (reported.metric, reported.value) == ("acc,none", results["results"]["hellaswag"]["acc,none"])
    assert run.frame["acc"].mean() == pytest.approx(reported.value)
    assert run.frame["acc_norm"].mean() == pytest.approx(results["results"]["hellaswag"]["acc_norm,none"])
    for row, sample in zip(run.frame.itertuples(), samples, strict=True):
        logprobs = [r[0] for r in sample["filtered_resps"]]
        assert row.example_id == str(sample["doc_id"])
        assert row.input == sample["arguments"][0][0]
        assert row.output == sample["arguments"][logprobs.index(max(logprobs))][1].strip()
        assert row.reference == sample["arguments"][sample["target"]][1].strip()
        assert row.activity_label == sample["doc"]["activity_label"]


def test_two_filters_make_two_runs_each_equal_to_lm_evals_figure(lm):
    folder = lm / "two_filters"
    path = next(folder.glob("samples_*.jsonl"))
    results, _ = _results(folder)
    samples = _lines(path)
    runs = read_lm_eval(path)
    assert [r.sub_key for r in runs] == ["strict-match", "flexible-extract"]
    for run in runs:
        mine = [s for s in samples if s["filter"] == run.sub_key]
        expected = results["results"]["gsm8k"][f"exact_match,{run.sub_key}"]
        assert run.name == f"gsm8k · {run.sub_key} · example-org/example-7b"
        assert run.frame["example_id"].tolist() == [str(s["doc_id"]) for s in mine]
        assert run.frame["exact_match"].mean() == pytest.approx(expected)
        assert run.frame["output"].tolist() == [s["filtered_resps"][0] for s in mine]
        assert run.frame["response"].tolist() == [s["resps"][0][0] for s in mine]
        assert run.frame["reference"].tolist() == [s["target"] for s in mine]
        (reported,) = run.reported
        assert (reported.metric, reported.value, reported.n) == (
            f"exact_match,{run.sub_key}", expected, results["n-samples"]["gsm8k"]["effective"])


def test_two_filters_load_as_two_runs_in_the_store(lm, store):
    path = next((lm / "two_filters").glob("samples_*.jsonl"))
    report = store.ingest(path)
    assert sorted(r.name for r in report.added) == ["gsm8k · flexible-extract · example-org/example-7b",
                                                    "gsm8k · strict-match · example-org/example-7b"]
    assert [r.row_count for r in report.added] == [6, 6]
    assert len({r.run_id for r in report.added}) == 2
    assert store.ingest(path).already_loaded  # the same file again: both runs are already loaded


def test_ifeval_list_metrics_load_with_the_prompt_level_metric_primary(lm):
    folder = lm / "ifeval_list_metrics"
    path = next(folder.glob("samples_*.jsonl"))
    results, _ = _results(folder)
    samples = _lines(path)
    run = _one(read_lm_eval(path))
    assert _score_column(run) == "prompt_level_strict_acc"
    assert run.roles["inst_level_strict_acc"] == "scores"
    assert run.frame["prompt_level_strict_acc"].tolist() == [float(s["prompt_level_strict_acc"]) for s in samples]
    assert run.frame["inst_level_strict_acc"].tolist() == pytest.approx(
        [_mean(s["inst_level_strict_acc"]) for s in samples])
    assert run.frame["reference"].tolist() == ["0"] * len(samples)  # target 0 of a generation task: text
    (reported,) = run.reported
    figure = results["results"]["leaderboard_ifeval"]["prompt_level_strict_acc,none"]
    assert (reported.metric, reported.value) == ("prompt_level_strict_acc,none", figure)
    assert run.frame["prompt_level_strict_acc"].mean() == pytest.approx(figure)
    # lm-eval pools every instruction of every prompt: the flattened mean, which the notes quote
    flat = [v for s in samples for v in s["inst_level_strict_acc"]]
    assert results["results"]["leaderboard_ifeval"]["inst_level_strict_acc,none"] == pytest.approx(_mean(flat))


def test_partial_samples_file_reports_the_tools_n(lm):
    folder = lm / "partial_math"
    path = next(folder.glob("samples_*.jsonl"))
    results, _ = _results(folder)
    run = _one(read_lm_eval(path))
    (reported,) = run.reported
    assert reported.n == results["n-samples"]["math_perturbed_full"]["effective"] == 5000
    assert len(run.frame) == len(_lines(path)) == 10  # fewer than the tool evaluated: partial
    assert "10 of the 5,000 samples" in run.notes
    assert reported.value == results["results"]["math_perturbed_full"]["exact_match,none"]
    assert run.model == results["model_name"]


def test_limit_run_is_complete_when_every_evaluated_sample_is_stored(lm):
    folder = lm / "partial_limit10"
    path = next(folder.glob("samples_*.jsonl"))
    results, _ = _results(folder)
    samples = _lines(path)
    run = _one(read_lm_eval(path))
    (reported,) = run.reported
    assert (reported.metric, reported.value) == ("exact_match,get-answer", 0.3)
    assert reported.n == results["n-samples"]["winogrande"]["effective"] == len(run.frame) == 10  # not partial
    assert "partial" not in run.notes and "10 of the task's 1,267 documents" in run.notes
    assert run.frame["exact_match"].mean() == pytest.approx(0.3)
    assert run.model == "gpt-4o"
    assert run.frame["reference"].tolist() == [s["target"] for s in samples]
    # a chat request: the prompt is the JSON text of the messages, rendered as "role: content"
    messages = json.loads(samples[0]["arguments"]["gen_args_0"]["arg_0"][0])
    assert run.frame["input"].iloc[0] == "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)


# ------------------------------------------------------------------ the minimal cases


def test_m07_old_array_layout(real_logs):
    path = next((real_logs / "minimal" / "M07-lmeval-042-array").glob("*.jsonl"))
    run = _one(read_sources(path))
    assert run.model == "example-org/model" and run.task == "toy"  # from <model_args>_<task>.jsonl
    assert run.frame["input"].tolist() == ["q0", "q1"]
    assert run.frame["output"].tolist() == ["a", "a"]
    assert run.frame["reference"].tolist() == ["a", "b"]
    assert run.frame["subject"].tolist() == ["algebra", "biology"]
    assert _score_column(run) == "acc"
    assert run.reported == []  # no results file beside it


def test_m08_one_run_per_filter(real_logs):
    path = next((real_logs / "minimal" / "M08-lmeval-two-filters").glob("*.jsonl"))
    runs = read_lm_eval(path)
    assert {r.sub_key: r.frame["exact_match"].mean() for r in runs} == {"strict-match": 0.0, "flexible-extract": 1.0}
    assert all(r.frame["example_id"].tolist() == ["0", "1"] for r in runs)
    assert [r.name for r in runs] == ["toy_gsm · strict-match", "toy_gsm · flexible-extract"]


def test_m09_list_metric_is_its_mean(real_logs):
    path = next((real_logs / "minimal" / "M09-lmeval-list-metric").glob("*.jsonl"))
    run = _one(read_lm_eval(path))
    assert _score_column(run) == "prompt_level_strict_acc"
    assert run.frame["prompt_level_strict_acc"].tolist() == [0.0]
    assert run.frame["inst_level_strict_acc"].tolist() == [0.5]


def test_m10_generation_target_zero_stays_text(real_logs):
    path = next((real_logs / "minimal" / "M10-lmeval-target-zero").glob("*.jsonl"))
    run = _one(read_lm_eval(path))
    assert run.frame["reference"].tolist() == ["0", "4", "0"]
    assert run.frame["output"].tolist() == [" 0", " 4", " 1"]


# ------------------------------------------------------------------ written here


def _old_layout(samples: list[dict]) -> str:
    """The 0.4.0-0.4.2 writer: list-valued arguments, no filter / metrics keys, one indented array."""
    old = []
    for s in samples:
        args = [[a["arg_0"], a["arg_1"]] for a in s["arguments"].values()]
        record = {k: v for k, v in s.items() if k not in ("filter", "metrics", "arguments")}
        old.append({"doc_id": record.pop("doc_id"), "doc": record.pop("doc"), "target": record.pop("target"),
                    "arguments": args, **record})
    return json.dumps(old, indent=2)


def test_old_layout_with_two_filters_names_them_from_the_results(tmp_path):
    samples = ([_sample(i, generate=True, metrics={"exact_match": 0.0}) for i in range(3)]
               + [_sample(i, generate=True, metrics={"exact_match": 1.0}) for i in range(3)])
    path = tmp_path / "pretrained__org__m7b_gsm8k.jsonl"
    path.write_text(_old_layout(samples), encoding="utf-8")
    (tmp_path / "results.json").write_text(json.dumps({
        "results": {"gsm8k": {"exact_match,strict-match": 0.0, "exact_match_stderr,strict-match": 0.0,
                              "exact_match,flexible-extract": 1.0, "exact_match_stderr,flexible-extract": 0.0}},
        "config": {"model": "hf", "model_args": "pretrained=org/m7b"}}), encoding="utf-8")
    runs = read_sources(path)
    assert [(r.sub_key, r.frame["exact_match"].mean()) for r in runs] == [("strict-match", 0.0),
                                                                         ("flexible-extract", 1.0)]
    assert [r.reported[0].metric for r in runs] == ["exact_match,strict-match", "exact_match,flexible-extract"]
    assert all(r.frame["example_id"].tolist() == ["0", "1", "2"] for r in runs)
    assert runs[0].model == "org/m7b" and runs[0].task == "gsm8k"
    assert runs[0].frame["reference"].tolist() == ["1", "1", "1"]  # a generation target stays text


def test_old_layout_without_results_numbers_its_filters(tmp_path):
    samples = [_sample(i) for i in range(2)] * 2
    path = tmp_path / "pretrained__org__m7b,dtype__float16_arc_easy.jsonl"
    path.write_text(_old_layout(samples), encoding="utf-8")
    runs = read_lm_eval(path)
    assert [r.sub_key for r in runs] == ["filter 1", "filter 2"]
    assert runs[0].task == "arc_easy" and runs[0].model == "org/m7b"
    assert all(r.reported == [] for r in runs)


def _jsonl(tmp_path: Path, samples: list[dict], name: str = "samples_t_2026-01-01T00-00-00.000000.jsonl") -> Path:
    return _write_jsonl(tmp_path / name, samples)


def test_a_bad_metric_value_far_down_names_its_line_and_field(tmp_path):
    samples = [_sample(i) for i in range(300)]
    samples[249]["acc"] = "yes"
    with pytest.raises(InputError) as info:
        read_lm_eval(_jsonl(tmp_path, samples))
    assert info.value.record == "line 250" and info.value.field == "acc"
    assert "expected a number for metric 'acc'" in str(info.value)


def test_a_missing_doc_id_far_down_names_its_line(tmp_path):
    samples = [_sample(i) for i in range(300)]
    del samples[279]["doc_id"]
    with pytest.raises(InputError) as info:
        read_lm_eval(_jsonl(tmp_path, samples))
    assert (info.value.record, info.value.field) == ("line 280", "doc_id")


def test_broken_json_far_down_names_its_line(tmp_path):
    path = _jsonl(tmp_path, [_sample(i) for i in range(300)])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[259] = lines[259].replace('"target"', "target", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_lm_eval(path)
    assert info.value.record == "line 260" and "not valid JSON" in str(info.value)


def test_truncated_last_line_far_down_is_called_cut_off(tmp_path):
    path = _jsonl(tmp_path, [_sample(i) for i in range(300)])
    path.write_bytes(path.read_bytes()[:-60])
    with pytest.raises(InputError) as info:
        read_lm_eval(path)
    assert info.value.record == "line 300" and "cut off" in str(info.value)


def test_metrics_and_fields_first_seen_far_down_are_kept(tmp_path):
    samples = [_sample(i) for i in range(300)]
    samples[260] = _sample(260, metrics={"acc": 0.0, "f1": 0.25}, doc={"group": "a", "n": 260, "late.key": "x",
                                                                      'odd "key"': "q"})
    run = _one(read_lm_eval(_jsonl(tmp_path, samples)))
    assert run.roles["f1"] == "scores" and run.frame["f1"].count() == 1 and run.frame["f1"].iloc[260] == 0.25
    assert run.frame["late.key"].iloc[260] == "x" and run.frame['odd "key"'].iloc[260] == "q"
    assert run.frame["late.key"].isna().sum() == 299


def test_corpus_pair_and_text_metrics_are_metadata_not_a_refusal(tmp_path):
    samples = [_sample(i, generate=True, metrics={"exact_match": float(i % 2), "bleu": ["ref", f"pred {i}"],
                                                  "verdict": "ok"}) for i in range(4)]
    run = _one(read_lm_eval(_jsonl(tmp_path, samples)))
    assert _score_column(run) == "exact_match"
    assert run.roles["bleu"] == "metadata" and run.roles["verdict"] == "metadata"
    assert json.loads(run.frame["bleu"].iloc[1]) == ["ref", "pred 1"]


def test_only_corpus_level_metrics_is_refused_saying_so(tmp_path):
    samples = [_sample(i, generate=True, metrics={"bleu": ["ref", "pred"]}) for i in range(3)]
    with pytest.raises(InputError, match="no per-sample metric to score"):
        read_lm_eval(_jsonl(tmp_path, samples))


def test_booleans_and_numbers_types_of_the_dataset_row(tmp_path):
    samples = [_sample(i, doc={"flag": bool(i % 2), "n": i, "x": i / 2, "tags": ["a", i], "mixed": i if i else "z"})
               for i in range(4)]
    frame = _one(read_lm_eval(_jsonl(tmp_path, samples))).frame
    assert frame["flag"].tolist() == [False, True, False, True]
    assert frame["n"].tolist() == [0, 1, 2, 3] and str(frame["n"].dtype) == "Int64"
    assert frame["x"].tolist() == [0.0, 0.5, 1.0, 1.5]
    assert frame["tags"].map(json.loads).tolist() == [["a", i] for i in range(4)]
    assert frame["mixed"].tolist() == ["z", "1", "2", "3"]


def test_single_loglikelihood_request_has_no_output(tmp_path):
    sample = _sample(0, target=" the end")
    sample["arguments"] = {"gen_args_0": {"arg_0": "Once upon a time", "arg_1": " the end"}}
    sample["resps"], sample["filtered_resps"] = [[[-1.5, True]]], [[-1.5, True]]
    run = _one(read_lm_eval(_jsonl(tmp_path, [sample])))
    assert run.frame["output"].isna().all()
    assert run.frame["reference"].tolist() == [" the end"]


def test_results_of_another_date_are_used_only_when_they_are_the_one_for_the_task(tmp_path):
    path = _jsonl(tmp_path, [_sample(i, metrics={"acc": float(i % 2)}) for i in range(4)])
    summary = {"results": {"t": {"acc,none": 0.5}}, "n-samples": {"t": {"original": 4, "effective": 4}},
               "model_name": "org/m"}
    (tmp_path / "results_2025-05-05T00-00-00.000000.json").write_text(json.dumps(summary), encoding="utf-8")
    run = _one(read_lm_eval(path))
    assert (run.model, run.reported[0].value, run.reported[0].n) == ("org/m", 0.5, 4)
    (tmp_path / "results_2025-06-06T00-00-00.000000.json").write_text(json.dumps(summary), encoding="utf-8")
    run = _one(read_lm_eval(path))  # two candidates, neither of the same date: neither is trusted
    assert run.model is None and run.reported == []


def test_plain_json_array_is_not_taken_for_lm_eval(tmp_path):
    path = tmp_path / "table.json"
    path.write_text(json.dumps([{"id": 1, "doc": "x", "correct": True}]), encoding="utf-8")
    assert detect_format(path) == "json"


def test_blank_lines_keep_line_numbers_right(tmp_path):
    samples = [_sample(i) for i in range(5)]
    samples[3]["acc"] = "yes"
    path = tmp_path / "samples_t_2026-01-01T00-00-00.000000.jsonl"
    body = [json.dumps(s) for s in samples]
    path.write_text("\n".join(body[:2] + ["", "   "] + body[2:]), encoding="utf-8")  # no newline at the end
    with pytest.raises(InputError) as info:
        read_lm_eval(path)
    assert info.value.record == "line 6"
    samples[3]["acc"] = 0.0
    path.write_text("\n".join([json.dumps(s) for s in samples[:2]] + [""] + [json.dumps(s) for s in samples[2:]]),
                    encoding="utf-8")
    run = _one(read_lm_eval(path))
    assert run.frame["__line"].tolist() == [1, 2, 4, 5, 6]
