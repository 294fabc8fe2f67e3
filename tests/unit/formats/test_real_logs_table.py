"""Every real log in ../shared/fixtures, one row of a table each (issue #10, "Done when").

Each case ingests one log (a file, or a HELM run folder) into a fresh store and checks, per run:
the rows and the scored rows, the headline (metric and value), the model, a few metadata columns a
user slices by (stored as ``meta.*`` with the values the raw file holds, and offered by
:func:`analysis.list_attributes`), and the reconciliation verdict with the tool's own figure.

The expected values never come from Faultline: each ``expect`` function reads the raw file with
json / zipfile / pandas in a few lines, and the tool's own figures from its summary (lm-eval's
``results_*.json``, HELM's ``stats.json``, Inspect's ``results``, OpenAI evals' ``final_report``,
promptfoo's ``prompts[*].metrics`` / ``stats``, lighteval's results JSON, the EEE aggregate) or
from the fixture's SOURCE.txt. A case where Faultline disagrees is a strict xfail naming the
evidence, never a weakened expectation.

Not here: ``hostile/`` (issue #11) and ``minimal/`` (each of M01-M11 has its own test: M01-M03 and
M11 in test_helm.py, M04 in test_promptfoo.py, M05 in test_openai_evals.py and
test_formats_real.py, M06 in tests/unit/store/test_reconcile.py, M07-M10 in test_lm_eval.py).
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from analysis import list_attributes, open_store

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


# ------------------------------------------------------------------ the shape of a row


@dataclass(frozen=True)
class Run:
    """What one run of a log must look like once loaded, read from the raw file, not from Faultline."""

    model: str | None
    rows: int
    scored: int
    metric: str  # the headline: "accuracy", or "mean score" for a graded run
    value: float | None  # None: nothing scored, no figure
    verdict: str | None  # reconciliation: matches / partial / not reported / differs; None: a plain table
    reported: dict = field(default_factory=dict)  # the tool's own figures the reconciliation compares with:
    # its metric's name (as the tool's summary keys it; None where the tool names none) -> value
    slices: dict[str, set] = field(default_factory=dict)  # meta column -> the values the raw file holds (None: missing)
    part: str | None = None  # a " · " part of the run name that tells apart runs of one model (filter, split)
    score: float | None = None  # the mean primary score, when it is not the headline (HELM's main metric)


@dataclass(frozen=True)
class Case:
    log: str  # under shared/fixtures
    expect: Callable[[Path], list[Run]]
    xfail: str = ""  # why Faultline is known to disagree (a strict xfail)


# ------------------------------------------------------------------ independent readings, per tool


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values)


def inspect_log(*slices: str) -> Callable[[Path], list[Run]]:
    """An Inspect log (.eval zip or .json): header ``eval.model``, ``results.scores[0]``, samples' first scorer."""

    def expect(path: Path) -> list[Run]:
        if path.suffix == ".eval":
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                header = json.loads(z.read("header.json" if "header.json" in names else "_journal/start.json"))
                samples = [json.loads(z.read(n)) for n in names if n.startswith("samples/")]
        else:
            header = json.loads(path.read_text(encoding="utf-8"))
            samples = header["samples"]
        scorers = (header.get("results") or {}).get("scores") or []
        values = [s["scores"][scorers[0]["name"]]["value"] for s in samples if scorers and s.get("scores")]
        first = next(iter(scorers[0]["metrics"].items())) if scorers else None  # the first scorer's first metric
        reported = {first[0]: first[1]["value"]} if first else {}
        return [Run(model=header["eval"]["model"], rows=len(samples), scored=len(values), metric="accuracy",
                    value=_mean(v in ("C", 1, 1.0) for v in values) if values else None,
                    verdict="matches" if scorers else "not reported", reported=reported,
                    slices={f"meta.{k}": {s["metadata"][k] for s in samples} for k in slices})]

    return expect


def openai_evals(*slices: str) -> Callable[[Path], list[Run]]:
    """An ``oaieval`` log: spec, final_report, one ``match`` event per sample."""

    def expect(path: Path) -> list[Run]:
        events = _lines(path)
        spec = next(e["spec"] for e in events if "spec" in e)
        report = next(e["final_report"] for e in events if "final_report" in e)
        matches = [e["data"] for e in events if e.get("type") == "match"]
        model = (spec.get("completion_fns") or [spec.get("model_name")])[0]
        return [Run(model=model, rows=len(matches), scored=len(matches), metric="accuracy",
                    value=_mean(m["correct"] for m in matches), verdict="matches",
                    reported={"accuracy": report["accuracy"]},
                    slices={f"meta.{k}": {m[k] for m in matches} for k in slices})]

    return expect


def lm_eval(metric: str, *slices: str) -> Callable[[Path], list[Run]]:
    """lm-eval samples (JSONL, or the 0.4.0-0.4.2 JSON array) and the results JSON beside them; a run per filter."""

    def expect(path: Path) -> list[Run]:
        text = path.read_text(encoding="utf-8")
        samples = json.loads(text) if text.lstrip().startswith("[") else _lines(path)
        (results_path,) = path.parent.glob("results*.json")
        results = json.loads(results_path.read_text(encoding="utf-8"))
        task = next(t for t in results["results"] if f"_{t}_" in path.name or path.stem.endswith(f"_{t}"))
        model = results.get("model_name")  # 0.4.3+; before it, the model_args string "pretrained=..."
        if not model:
            model = dict(kv.split("=", 1) for kv in results["config"]["model_args"].split(","))["pretrained"]
        evaluated = (results.get("n-samples") or {}).get(task, {}).get("effective")
        filters = list(dict.fromkeys(s.get("filter", "none") for s in samples))
        runs = []
        for name in filters:
            mine = [s for s in samples if s.get("filter", "none") == name]
            runs.append(Run(model=model, rows=len(mine), scored=len(mine), metric="accuracy",
                            value=_mean(s[metric] for s in mine),
                            verdict="partial" if evaluated and evaluated > len(mine) else "matches",
                            reported={f"{metric},{name}": results["results"][task][f"{metric},{name}"]},
                            slices={f"meta.{k}": {s["doc"][k] for s in mine} for k in slices},
                            part=name if len(filters) > 1 else None))
        return runs

    return expect


def _helm_run(folder: Path, stat: str, reported: tuple[str, ...], graded: bool, tags: bool,
              score: str | None) -> list[Run]:
    """One HELM run folder: a run per split, its figure from ``stats.json`` when HELM left one."""
    model = json.loads((folder / "run_spec.json").read_text())["adapter_spec"]["model"]
    states = json.loads((folder / "scenario_state.json").read_text())["request_states"]
    value: dict[str, dict] = {n: {} for n in (stat, score) if n}  # statistic -> instance -> mean (any entry)
    for entry in json.loads((folder / "per_instance_stats.json").read_text()):
        for s in entry["stats"]:
            if s["name"]["name"] in value:
                value[s["name"]["name"]][entry["instance_id"]] = s["mean"]
    stats_path = folder / "stats.json"
    summary = json.loads(stats_path.read_text()) if stats_path.is_file() else []
    splits = list(dict.fromkeys(rs["instance"]["split"] for rs in states))
    main = "test" if "test" in splits else splits[0]
    runs = []
    for split in splits:
        mine = [rs for rs in states if rs["instance"]["split"] == split]
        figures = {name: s["mean"] for name in reported for s in summary
                   if s["name"] == {"name": name, "split": split}}
        slices = {"meta.split": {split}}
        if tags:  # BBQ: the reference tags name the subgroup
            every = [{t for r in rs["instance"]["references"] for t in r["tags"]} for rs in mine]
            slices["meta.ambiguous"] = {"ambiguous" if "ambiguous" in t else "non-ambiguous" for t in every}
            slices["meta.negative"] = {"negative" if "negative" in t else "non-negative" for t in every}
        values = [value[stat][rs["instance"]["id"]] for rs in mine]
        # a graded headline is the mean score; scores that happen to be all 0 or 1 read as an accuracy
        shown_graded = graded and any(v not in (0, 1) for v in values)
        runs.append(Run(model=model, rows=len(mine), scored=len(mine),
                        metric="mean score" if shown_graded else "accuracy",
                        value=_mean(values),
                        verdict="matches" if figures else "not reported", reported=figures, slices=slices,
                        part=None if split == main else split,
                        score=_mean(value[score][rs["instance"]["id"]] for rs in mine) if score else None))
    return runs


def helm(stat: str = "exact_match", *, reported: tuple[str, ...] = ("exact_match",), graded: bool = False,
         tags: bool = False, score: str | None = None) -> Callable[[Path], list[Run]]:
    """A HELM run folder, or a folder of them (each subfolder with a run_spec.json).

    ``stat`` gives the headline (accuracy, or the mean when ``graded``); ``score`` names the main metric
    when it is not the headline (f1_score beside exact_match); ``reported`` the figures read from stats.json.
    """

    def expect(path: Path) -> list[Run]:
        folders = [path] if (path / "run_spec.json").is_file() else sorted(
            p for p in path.iterdir() if (p / "run_spec.json").is_file())
        return [run for f in folders for run in _helm_run(f, stat, reported, graded, tags, score)]

    return expect


def promptfoo(*slices: str) -> Callable[[Path], list[Run]]:
    """promptfoo v3 results: a run per provider; its figure from the provider's ``prompts[*].metrics``."""

    def expect(path: Path) -> list[Run]:
        doc = json.loads(path.read_text(encoding="utf-8"))["results"]
        runs = []
        for model in dict.fromkeys(r["provider"].get("label") or r["provider"]["id"] for r in doc["results"]):
            mine = [r for r in doc["results"] if (r["provider"].get("label") or r["provider"]["id"]) == model]
            metrics = [doc["prompts"][i]["metrics"] for i in sorted({r["promptIdx"] for r in mine})]
            passed = sum(m["testPassCount"] for m in metrics)
            total = sum(m["testPassCount"] + m["testFailCount"] + m["testErrorCount"] for m in metrics)
            seen = {"prompt_label": lambda r: doc["prompts"][r["promptIdx"]]["label"],
                    "language": lambda r: r["metadata"]["language"], "category": lambda r: r["metadata"]["category"],
                    "var.niche": lambda r: r["vars"]["niche"]}
            runs.append(Run(model=model, rows=len(mine), scored=len(mine), metric="accuracy",
                            value=_mean(r["success"] for r in mine), verdict="matches", reported={None: passed / total},
                            slices={f"meta.{k}": {seen[k](r) for r in mine} for k in slices}))
        return runs

    return expect


def promptfoo_v1(path: Path) -> list[Run]:
    """promptfoo results format 1 (2023): a top-level results list and ``stats``; no provider named."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    stats = doc["stats"]
    return [Run(model=None, rows=len(doc["results"]), scored=len(doc["results"]), metric="accuracy",
                value=_mean(r["success"] for r in doc["results"]), verdict="matches",
                reported={None: stats["successes"] / (stats["successes"] + stats["failures"])},
                slices={"meta.var.language": {r["vars"]["language"] for r in doc["results"]}})]


def promptfoo_csv(path: Path) -> list[Run]:
    """promptfoo's CSV export: a run per ``[provider] prompt`` column, its Status giving pass / fail."""
    table = pd.read_csv(path)  # pandas names the second provider's columns "Score.1", "Status.1"...
    columns = [c for c in table.columns if c.startswith("[")]
    runs = []
    for k, column in enumerate(columns):
        status = table["Status" + (f".{k}" if k else "")]
        runs.append(Run(model=column[1:column.index("]")], rows=len(table), scored=len(table), metric="accuracy",
                        value=float((status == "PASS").mean()), verdict="not reported",  # the export has no summary
                        slices={"meta.var.question": set(table["question"])}))
    return runs


def mtbench_single(path: Path) -> list[Run]:
    """FastChat single-answer judgments: score -1 = no rating (FastChat's show_result drops it)."""
    rows = _lines(path)
    (model,) = {r["model"] for r in rows}
    rated = [r["score"] for r in rows if r["score"] != -1]
    return [Run(model=model, rows=len(rows), scored=len(rated), metric="mean score", value=_mean(rated),
                verdict="not reported",  # FastChat keeps no aggregate on disk
                slices={"meta.turn": {r["turn"] for r in rows}, "meta.judge_prompt": {r["judge"][1] for r in rows}})]


def mtbench_pair(path: Path) -> list[Run]:
    """FastChat pairwise judgments, by show_result.py's rule: drop errors, position-inconsistent = tie."""
    rows = _lines(path)
    category = {q["question_id"]: q["category"] for q in _lines(path.with_name("question.jsonl"))}
    kept = [r for r in rows if "error" not in (r["g1_winner"], r["g2_winner"])]
    winner = [r["g1_winner"] if r["g1_winner"] == r["g2_winner"] else "tie" for r in kept]
    runs = []
    for side in ("model_1", "model_2"):
        (model,) = {r[side] for r in rows}
        win, tie = winner.count(side), winner.count("tie")
        runs.append(Run(model=model, rows=len(rows), scored=len(kept), metric="mean score",
                        value=(win + tie / 2) / len(kept), verdict="not reported",
                        slices={"meta.category": {category[r["question_id"]] for r in rows}}))
    # SOURCE.txt (FastChat's display_result_pairwise): phi-3-dpo 20 wins, 18 losses, 35 ties over 73 rows
    assert (winner.count("model_2"), winner.count("model_1"), winner.count("tie")) == (20, 18, 35)
    return runs


def alpaca_eval(path: Path) -> list[Run]:
    """AlpacaEval annotations: win rate = mean(preference) - 1 (SOURCE.txt: the leaderboard's 2.5915 %)."""
    records = json.loads(path.read_text(encoding="utf-8"))
    (model,) = {r["generator_2"] for r in records}
    value = _mean(r["preference"] for r in records) - 1
    assert value * 100 == pytest.approx(2.591450540223603)  # leaderboard win_rate, quoted in SOURCE.txt
    return [Run(model=model, rows=len(records), scored=len(records), metric="mean score", value=value,
                verdict="not reported",  # the leaderboard figure is not in the annotations file
                slices={"meta.dataset": {r["dataset"] for r in records}})]


def lighteval(path: Path) -> list[Run]:
    """lighteval details Parquet and the results JSON beside it."""
    details = pd.read_parquet(path)
    (results_path,) = path.parent.glob("results_*.json")
    results = json.loads(results_path.read_text(encoding="utf-8"))
    task = details["doc"].iloc[0]["task_name"]
    return [Run(model=results["config_general"]["model_name"], rows=len(details), scored=len(details),
                metric="accuracy", value=_mean(m["trad_score"] for m in details["metric"]), verdict="matches",
                reported={"trad_score": results["results"][task]["trad_score"]},
                slices={"meta.extracted_prediction": {d["specific"]["extracted_predictions"][0]
                                                      for d in details["doc"]}})]


def every_eval_ever(path: Path) -> list[Run]:
    """EEE samples (one row per sample per result id) with the aggregate: the first result is the primary one."""
    rows = _lines(path)
    aggregate = json.loads(path.with_name(path.name.replace("_samples.jsonl", ".json")).read_text())
    first = aggregate["evaluation_results"][0]
    mine = [r for r in rows if r["evaluation_result_id"] == first["evaluation_result_id"]]
    (model,) = {r["model_id"] for r in rows}
    return [Run(model=model, rows=len(mine), scored=len(mine), metric="accuracy",
                value=_mean(r["evaluation"]["is_correct"] for r in mine), verdict="matches",
                reported={first["evaluation_result_id"]: first["score_details"]["score"]},
                slices={"meta.stop_reason": {r["metadata"]["stop_reason"] for r in mine}})]


# ------------------------------------------------------------------ the table

EEE_SINGLE = "every_eval_ever/single_turn/data/starsim/anthropic/claude-opus-4-6/e854d8a1-c754-40ef-adaf-726c5f6f8e08"
EEE_SOURCE_LOG = ("every_eval_ever/single_turn/source_log/"
                  "2026-02-20T05-28-38+00-00_starsim-benchmark_ZLCP7ftbVUCYkyJGemYV6a.eval")
EEE_AGENTIC = "every_eval_ever/agentic/data/browser/openai/gpt-4o-mini-2024-07-18/bf490864-36f4-40e5-8a33-2575fc42ed8a"

CASES = [
    # Inspect AI
    Case("inspect/2025-02-11T15-17-00-05-00_popularity_dPiJifoWeEQBrfWsAopzWr.eval", inspect_log("label_confidence")),
    Case("inspect/2025-02-11T15-18-04-05-00_popularity_mj7khqpMM4GBCfVQozKgzB.eval", inspect_log("label_confidence")),
    Case("inspect/2025-05-12T20-28-13-04-00_popularity.json", inspect_log("label_confidence")),
    Case("inspect/2025-05-12T20-28-26-04-00_security-guide.json", inspect_log()),
    Case("inspect/log_formats.eval", inspect_log("label_confidence")),
    Case("inspect/log_read_sample.eval", inspect_log("label_confidence")),
    Case("inspect/mmlu-summary-choices.eval", inspect_log("subject")),
    Case(EEE_SOURCE_LOG, inspect_log("problem_id", "sub_step_id")),  # the Inspect log the EEE files came from
    # OpenAI evals
    Case("openai_evals/examples_crossword-turbo.jsonl", openai_evals("picked")),
    Case("openai_evals/examples_crossword-turbo-0301.jsonl", openai_evals("picked")),
    Case("openai_evals/examples_us-tort-law-turbo.jsonl", openai_evals("picked")),
    Case("openai_evals/early_2023/medmcqa.jsonl", openai_evals()),  # no field to slice by: the subject is in the prompt
    # lm-evaluation-harness
    Case("lm_eval/samples_bbq_local_2026-11-22T14-06-03.710369.jsonl", lm_eval("acc", "context_condition", "polarity")),
    Case("lm_eval/two_filters/samples_gsm8k_2026-11-29T10-00-00.000000.jsonl", lm_eval("exact_match")),
    Case("lm_eval/v0.4.2_array/pretrained__example-org__example-7b_hellaswag.jsonl", lm_eval("acc", "activity_label")),
    Case("lm_eval/ifeval_list_metrics/samples_leaderboard_ifeval_2026-11-29T11-00-00.000000.jsonl",
         lm_eval("prompt_level_strict_acc")),
    Case("lm_eval/partial_math/samples_math_perturbed_full_2026-01-21T03-44-18.458309.jsonl",
         lm_eval("exact_match", "level", "type")),
    Case("lm_eval/partial_limit10/samples_winogrande_2024-12-23T14-29-31.806745.jsonl",
         lm_eval("exact_match", "answer")),
    # HELM
    Case("helm/bbq", helm(tags=True)),
    Case("helm/anthropic_red_team", helm("art_score", graded=True)),
    # the headline stays exact_match accuracy (a correctness of its own); f1_score, HELM's main metric, is the score
    # HELM headlines NarrativeQA by f1_score (its main metric), though the log also has exact_match
    Case("helm/narrative_qa", helm("f1_score", graded=True, score="f1_score", reported=("f1_score", "exact_match"))),
    Case("helm/mixed_splits", helm()),
    # promptfoo
    Case("promptfoo/results.json", promptfoo("language", "category", "prompt_label")),
    Case("promptfoo/results.csv", promptfoo_csv),  # the CSV export: no summary in it to reconcile
    Case("promptfoo/v1/output.json", promptfoo_v1),
    Case("promptfoo/llm_rubric/results.json", promptfoo("prompt_label", "var.niche")),
    # judgments
    Case("judgments/mtbench_single/gpt-4_single.jsonl", mtbench_single),
    Case("judgments/mtbench_pair/gpt-4_pair.jsonl", mtbench_pair),
    Case("alpaca_eval/alpaca-7b/annotations.json", alpaca_eval),
    # lighteval, Every Eval Ever
    Case("lighteval/synthetic_mcq/details_community|synthetic-mcq|0_2026-11-29T12-00-00.000000.parquet", lighteval),
    Case(f"{EEE_SINGLE}_samples.jsonl", every_eval_ever),
    Case(f"{EEE_AGENTIC}_samples.jsonl", every_eval_ever),
]


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.log, marks=marks)


# ------------------------------------------------------------------ the test


def _parts(name: str) -> set[str]:
    return set(name.split(" · "))


def _same_model(a, b) -> bool:
    return (a is None or pd.isna(a)) and (b is None or pd.isna(b)) or a == b


def _norm(value):
    """A stored or raw value, comparable across types (1 == 1.0, numpy scalars as Python ones)."""
    if hasattr(value, "item"):
        value = value.item()
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _pick(head: pd.DataFrame, run: Run, runs: list[Run]) -> pd.Series:
    """The loaded run this expectation is about: same model, and its name part when runs of one model differ."""
    others = {r.part for r in runs if r.part and _same_model(r.model, run.model)}
    found = [row for _, row in head.iterrows() if _same_model(row["model"], run.model)
             and (run.part in _parts(row["name"]) if run.part else not (others & _parts(row["name"])))]
    assert len(found) == 1, f"expected one run of model {run.model!r} (part {run.part!r}) in {list(head['name'])}"
    return found[0]


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_real_log(case: Case, real_logs: Path, tmp_path: Path):
    path = real_logs / case.log
    expected = case.expect(path)
    store = open_store(tmp_path / "s.duckdb", seed_demo=False)
    try:
        store.ingest(path)
        head = store.headline()
        checks = store.reconciliation()
        problems: list[str] = []

        def check(ok: bool, what: str) -> None:
            if not ok:
                problems.append(what)

        check(len(head) == len(expected), f"{len(head)} runs loaded ({list(head['name'])}), expected {len(expected)}")
        for run in expected:
            row = _pick(head, run, expected)
            name = row["name"]
            check((row["rows"], row["scored"]) == (run.rows, run.scored),
                  f"{name}: rows/scored {row['rows']}/{row['scored']}, expected {run.rows}/{run.scored}")
            check(row["metric"] == run.metric, f"{name}: headline metric {row['metric']!r}, expected {run.metric!r}")
            if run.value is None:
                check(math.isnan(row["value"]), f"{name}: headline {row['value']}, expected none (nothing scored)")
            else:
                check(row["value"] == pytest.approx(run.value, rel=1e-9, abs=1e-12),
                      f"{name}: headline {row['metric']} {row['value']!r}, expected {run.value!r}")
            if run.score is not None:
                check(row["mean_score"] == pytest.approx(run.score, rel=1e-9, abs=1e-12),
                      f"{name}: mean score {row['mean_score']!r}, expected {run.score!r}")
            mine = checks[checks["run_id"] == row["run_id"]]
            if run.verdict is None:
                check(mine.empty, f"{name}: a plain table has no reconciliation, got {list(mine['verdict'])}")
            else:
                check(set(mine["verdict"]) == {run.verdict},
                      f"{name}: reconciliation {list(mine['verdict'])} ({'; '.join(mine['message'])}), "
                      f"expected {run.verdict!r}")
                tool = [(m, v) for m, v in zip(mine["metric"], mine["tool_value"]) if not pd.isna(v)]
                check(len(tool) == len(run.reported) and all(
                      any((metric is None or m == metric) and v == pytest.approx(value, rel=1e-9, abs=1e-12)
                          for m, v in tool) for metric, value in run.reported.items()),
                      f"{name}: the tool's figures {tool}, expected {run.reported}")
            fields = store.fields(row["run_id"]).set_index("column_name")
            offered = {a.column for a in list_attributes(store, row["run_id"])}
            for column, values in run.slices.items():
                if column not in fields.index:
                    check(False, f"{name}: no column {column} (stored: {list(fields.index)})")
                    continue
                check(fields.loc[column, "role"] == "metadata",
                      f"{name}: {column} has role {fields.loc[column, 'role']!r}, expected metadata")
                check(column in offered, f"{name}: {column} ({fields.loc[column, 'kind']}) is not offered to slice by")
                stored = {_norm(v) for v in store.examples(row["run_id"], columns=[column])[column].dropna()}
                raw = {_norm(v) for v in values if v is not None}
                check(stored == raw, f"{name}: {column} lacks {sorted(map(str, raw - stored))}, "
                                     f"has besides {sorted(map(str, stored - raw))}")
        assert not problems, "\n".join(problems)
    finally:
        store.close()
