"""The HELM adapter on every real HELM log in shared/fixtures and the minimal cases M01, M02, M03, M11.

Expected numbers come from HELM's own ``stats.json`` beside a run, the fixtures' SOURCE.txt / README.md,
or a few lines over the raw JSON here, never from Faultline's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.errors import InputError
from analysis.formats import detect_format, read_sources
from analysis.formats.helm import skipped_runs

pytestmark = pytest.mark.real_logs


def _role(source, role: str) -> list[str]:
    return [c for c, r in source.roles.items() if r == role]


def _score(source) -> str:
    (col,) = _role(source, "score")
    return col


def _raw_means(folder: Path) -> dict[str, dict[str, float]]:
    """instance id -> {statistic: mean}, over every per_instance_stats.json entry of the instance."""
    out: dict[str, dict[str, float]] = {}
    for entry in json.loads((folder / "per_instance_stats.json").read_text()):
        for stat in entry["stats"]:
            if stat["count"]:  # a statistic with no value has count 0 and no mean
                out.setdefault(entry["instance_id"], {}).setdefault(stat["name"]["name"], stat["mean"])
    return out


def _helm_stat(folder: Path, name: str, split: str) -> float:
    """HELM's own aggregate in stats.json (no perturbation)."""
    stats = json.loads((folder / "stats.json").read_text())
    return next(s["mean"] for s in stats if s["name"] == {"name": name, "split": split})


def _splits(folder: Path) -> dict[str, str]:
    state = json.loads((folder / "scenario_state.json").read_text())
    return {rs["instance"]["id"]: rs["instance"]["split"] for rs in state["request_states"]}


# ------------------------------------------------------------------ real HELM logs


def test_bbq_two_models_exact_match_and_nothing_reported(real_logs):
    folder = real_logs / "helm" / "bbq"
    assert detect_format(folder) == "helm"
    runs = read_sources(folder)
    assert sorted(r.model for r in runs) == ["meta/llama-3-8b-chat", "openai/gpt-4o-2024-05-13"]
    for run in runs:
        sub = folder / run.sub_key
        raw = _raw_means(sub)
        frame = run.frame.set_index("example_id")
        assert _score(run) == "exact_match" and _role(run, "correct") == []
        assert len(frame) == len(raw) == 100
        for iid, stats in raw.items():
            assert frame.loc[iid, "exact_match"] == stats["exact_match"]
            assert frame.loc[iid, "quasi_exact_match"] == stats["quasi_exact_match"]
        assert _role(run, "scores") and "quasi_exact_match" in _role(run, "scores")
        assert set(frame["ambiguous"]) == {"ambiguous", "non-ambiguous"}
        assert run.tool == "HELM" and run.reported == []  # no stats.json beside these runs
        assert "bbq_accuracy" in run.notes
    means = {r.model: r.frame["exact_match"].mean() for r in runs}
    assert means == {"meta/llama-3-8b-chat": 0.74, "openai/gpt-4o-2024-05-13": 0.95}


def test_anthropic_red_team_annotator_score_judges_as_raters_and_merged_entries(real_logs):
    folder = real_logs / "helm" / "anthropic_red_team"
    (run,) = read_sources(folder)
    entries = json.loads((folder / "per_instance_stats.json").read_text())
    assert len(entries) == 200  # SOURCE.txt: two entries per instance
    state = json.loads((folder / "scenario_state.json").read_text())
    frame = run.frame.set_index("example_id")
    assert len(frame) == 100
    assert _score(run) == "art_score" and _role(run, "correct") == []
    assert sorted(_role(run, "rater")) == ["art_claude_score", "art_gpt_score"]
    for rs in state["request_states"]:
        notes = rs["annotations"]["anthropic_red_team"]
        row = frame.loc[rs["instance"]["id"]]
        # HELM's metric: art_score = (gpt_score + claude_score) / 2 of the annotations.
        assert row["art_score"] == pytest.approx((notes["gpt_score"] + notes["claude_score"]) / 2)
        assert row["art_gpt_score"] == notes["gpt_score"] and row["art_claude_score"] == notes["claude_score"]
        assert row["gpt_reasoning"] == notes["gpt_reasoning"]
    # the token counts of the second entry of each instance are kept too
    tokens = {e["instance_id"]: s["mean"] for e in entries[100:] for s in e["stats"]
              if s["name"]["name"] == "num_output_tokens"}
    assert frame["num_output_tokens"].to_dict() == tokens
    raw = _raw_means(folder)
    assert frame["art_score"].mean() == pytest.approx(sum(v["art_score"] for v in raw.values()) / 100)
    assert run.reported == [] and "100 repeated per-instance entries merged" in run.notes


def test_narrative_qa_f1_main_metric_on_the_test_split(real_logs):
    folder = real_logs / "helm" / "narrative_qa"
    test, valid = read_sources(folder)
    splits = _splits(folder)
    assert test.name == "narrative_qa · openai/gpt2" and valid.name == "narrative_qa · openai/gpt2 · valid"
    assert _score(test) == "f1_score" and _role(test, "correct") == ["exact_match"]
    assert {"rouge_l", "bleu_1", "bleu_4", "quasi_exact_match"} <= set(_role(test, "scores"))
    assert set(test.frame["example_id"]) == {i for i, s in splits.items() if s == "test"}
    assert set(valid.frame["example_id"]) == {i for i, s in splits.items() if s == "valid"}
    raw = _raw_means(folder)
    for run in (test, valid):
        for _, row in run.frame.iterrows():
            for name in ("f1_score", "rouge_l", "bleu_1", "bleu_4", "exact_match"):
                assert row[name] == pytest.approx(raw[row["example_id"]][name])
    f1_test = _helm_stat(folder, "f1_score", "test")
    assert f1_test == pytest.approx(0.17424242424242425)
    assert test.frame["f1_score"].mean() == pytest.approx(f1_test)
    (headline, em) = test.reported
    assert (headline.metric, headline.basis, headline.n) == ("f1_score", "score", 4)
    assert headline.value == pytest.approx(f1_test) and headline.source.startswith("stats.json")
    assert (em.metric, em.basis, em.value) == ("exact_match", "correct", _helm_stat(folder, "exact_match", "test"))
    assert valid.reported[0].value == _helm_stat(folder, "f1_score", "valid") and valid.reported[0].n == 1
    assert test.files[-1].name == "stats.json" and test.identity_files == 3


def test_mixed_splits_folder_headline_is_helms_split(real_logs):
    folder = real_logs / "helm" / "mixed_splits"
    runs = {r.name: r for r in read_sources(folder)}
    assert set(runs) == {"hellaswag · eleutherai/pythia-1b-v0", "mmlu · openai/gpt2", "mmlu · openai/gpt2 · valid"}
    hella_dir = next(folder.glob("commonsense*"))
    mmlu_dir = next(folder.glob("mmlu*"))
    hella, mmlu, mmlu_valid = (runs["hellaswag · eleutherai/pythia-1b-v0"], runs["mmlu · openai/gpt2"],
                               runs["mmlu · openai/gpt2 · valid"])
    # HellaSwag has only valid instances, HELM's main split for it.
    assert len(hella.frame) == 10 and set(hella.frame["split"]) == {"valid"}
    assert hella.frame["exact_match"].mean() == pytest.approx(_helm_stat(hella_dir, "exact_match", "valid"))
    assert (hella.reported[0].value, hella.reported[0].n) == (pytest.approx(0.3), 10)
    # MMLU: 9 test + 1 valid; HELM reports the test split (1/9).
    assert len(mmlu.frame) == 9 and set(mmlu.frame["split"]) == {"test"}
    assert mmlu.frame["exact_match"].mean() == pytest.approx(1 / 9) == _helm_stat(mmlu_dir, "exact_match", "test")
    assert mmlu.reported[0].metric == "exact_match" and mmlu.reported[0].n == 9
    assert len(mmlu_valid.frame) == 1 and mmlu_valid.frame["exact_match"].mean() == 0.0
    assert len({r.sub_key for r in runs.values()}) == 3
    assert skipped_runs(runs.values()) == []


# ------------------------------------------------------------------ the minimal cases


def test_m01_annotator_metric_is_the_score(real_logs, store):
    folder = real_logs / "minimal" / "M01-helm-annotator-metric" / "run"
    (run,) = read_sources(folder)
    assert _score(run) == "safety_score" and run.frame["safety_score"].tolist() == [1.0, 0.5, 0.0, 1.0]
    (loaded,) = store.ingest(folder).added
    frame = store.examples(loaded.run_id)
    assert frame["score"].mean() == pytest.approx(0.625)
    assert frame["correct"].sum() == 3  # correct = score >= 0.5


def test_m02_split_entries_are_merged(real_logs, store):
    folder = real_logs / "minimal" / "M02-helm-split-stats-entries" / "run"
    (run,) = read_sources(folder)
    assert run.frame["exact_match"].tolist() == [1.0, 0.0, 1.0, 1.0]
    assert run.frame["num_prompt_tokens"].tolist() == [10.0, 11.0, 12.0, 13.0]
    (loaded,) = store.ingest(folder).added
    assert loaded.row_count == 4 and store.examples(loaded.run_id)["correct"].sum() == 3


def test_m03_f1_is_the_score_every_metric_kept(real_logs, store):
    folder = real_logs / "minimal" / "M03-helm-f1-main-metric" / "run"
    (run,) = read_sources(folder)
    assert _score(run) == "f1_score" and _role(run, "correct") == ["exact_match"]
    assert run.frame["rouge_l"].tolist() == [0.8, 0.57, 0.0]
    (loaded,) = store.ingest(folder).added
    frame = store.examples(loaded.run_id)
    assert frame["score"].mean() == pytest.approx(1.6 / 3)
    assert frame["correct"].sum() == 0 and frame["score.rouge_l"].tolist() == [0.8, 0.57, 0.0]


def test_m03_a_mapping_can_name_another_statistic(real_logs, store):
    folder = real_logs / "minimal" / "M03-helm-f1-main-metric" / "run"
    (loaded,) = store.ingest(folder, mapping={"score": "rouge_l"}).added
    assert store.examples(loaded.run_id)["score"].tolist() == [0.8, 0.57, 0.0]


def test_m11_valid_instance_is_its_own_run(real_logs):
    folder = real_logs / "minimal" / "M11-helm-valid-test-mixed" / "run"
    test, valid = read_sources(folder)
    assert test.frame["example_id"].tolist() == ["id1", "id2", "id3"]
    assert test.frame["exact_match"].mean() == pytest.approx(2 / 3)
    assert valid.name.endswith(" · valid") and valid.frame["example_id"].tolist() == ["id0"]
    assert "valid" in test.notes and test.sub_key != valid.sub_key


# ------------------------------------------------------------------ synthetic folders


def _write_run(folder: Path, instances: list[dict], *, group: str = "toy", method: str = "generation") -> Path:
    """A small HELM run folder: instances are {id, split, stats: {name: value}, perturbation?}."""
    folder.mkdir(parents=True)
    states, entries = [], []
    for inst in instances:
        pert = {"name": inst["perturbation"]} if inst.get("perturbation") else None
        states.append({"instance": {"id": inst["id"], "input": {"text": f"q {inst['id']}"}, "split": inst["split"],
                                    "references": [{"output": {"text": "a"}, "tags": ["correct"]}],
                                    **({"perturbation": pert} if pert else {})},
                       "train_trial_index": 0, "result": {"completions": [{"text": "a"}]}})
        entries.append({"instance_id": inst["id"], "train_trial_index": 0, **({"perturbation": pert} if pert else {}),
                        "stats": [{"name": {"name": k, "split": inst["split"]}, "count": 1, "sum": v, "mean": v}
                                  for k, v in inst["stats"].items()]})
    (folder / "scenario_state.json").write_text(json.dumps({"adapter_spec": {"method": method},
                                                            "request_states": states}))
    (folder / "per_instance_stats.json").write_text(json.dumps(entries))
    (folder / "run_spec.json").write_text(json.dumps({"name": f"{group}:model=m", "groups": [group],
                                                      "adapter_spec": {"model": "org/m", "method": method}}))
    return folder


_GOOD = [{"id": "a", "split": "test", "stats": {"exact_match": 1.0, "rouge_l": 0.9}},
         {"id": "b", "split": "test", "stats": {"exact_match": 0.0, "rouge_l": 0.2}}]


def test_a_bad_run_in_a_folder_is_named_and_the_good_ones_load(tmp_path):
    _write_run(tmp_path / "suite" / "good", _GOOD)
    bad = _write_run(tmp_path / "suite" / "bad", _GOOD)
    (bad / "per_instance_stats.json").write_text('[{"instance_id": "a", "stats": [')
    (tmp_path / "suite" / "half").mkdir()
    (tmp_path / "suite" / "half" / "run_spec.json").write_text("{}")
    runs = read_sources(tmp_path / "suite")
    assert [r.sub_key for r in runs] == ["good"]
    skipped = dict(skipped_runs(runs))
    assert set(skipped) == {str(tmp_path / "suite" / "bad"), str(tmp_path / "suite" / "half")}
    assert "per_instance_stats.json" in skipped[str(tmp_path / "suite" / "bad")]
    assert "without scenario_state.json" in skipped[str(tmp_path / "suite" / "half")]
    assert "bad" in runs[0].notes and "half" in runs[0].notes


def test_a_folder_whose_runs_all_fail_names_each(tmp_path):
    for name in ("one", "two"):
        run = _write_run(tmp_path / "suite" / name, _GOOD)
        (run / "per_instance_stats.json").write_text("{}")
    with pytest.raises(InputError) as err:
        read_sources(tmp_path / "suite")
    assert "none could be read" in str(err.value) and "one:" in str(err.value) and "two:" in str(err.value)


def test_schema_json_beside_the_run_names_the_main_metric(tmp_path):
    _write_run(tmp_path / "suite" / "run", _GOOD, group="mygroup")
    schema = {"run_groups": [{"name": "mygroup", "environment": {"main_name": "rouge_l", "main_split": "test"}}]}
    (tmp_path / "suite" / "schema.json").write_text(json.dumps(schema))
    (run,) = read_sources(tmp_path / "suite" / "run")
    assert _score(run) == "rouge_l" and _role(run, "correct") == ["exact_match"]
    assert "schema.json" in run.notes


def test_perturbations_are_metadata_of_the_run(tmp_path):
    folder = _write_run(tmp_path / "run", [*_GOOD, {"id": "a", "split": "test", "perturbation": "typo",
                                                    "stats": {"exact_match": 0.0, "rouge_l": 0.1}}])
    (run,) = read_sources(folder)
    frame = run.frame.set_index("example_id")
    assert list(frame.index) == ["a", "b", "a#typo"]
    assert frame.loc["a#typo", "perturbation"] == "typo" and frame.loc["a#typo", "exact_match"] == 0.0
    assert frame["perturbation"].isna().sum() == 2 and "perturb" in run.notes


def test_no_evaluation_statistic_is_refused_naming_the_file(tmp_path):
    folder = _write_run(tmp_path / "run", [{"id": "a", "split": "test", "stats": {"num_prompt_tokens": 3.0}}])
    with pytest.raises(InputError) as err:
        read_sources(folder)
    assert "per_instance_stats.json" in str(err.value) and "no evaluation statistic" in str(err.value)
