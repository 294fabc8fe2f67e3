"""OpenAI evals run logs (JSONL).

A ``{"spec": ...}`` line, a ``{"final_report": ...}`` line, then events
``{run_id, event_id, sample_id, type, data}``. ``sampling`` events give the prompt and the
sampled output; ``match`` events give ``correct``, ``expected`` and ``picked``; ``metrics``
events (model-graded evals) give numeric scores. Events are joined on ``sample_id``.
"""

from __future__ import annotations

import json
from pathlib import Path

from analysis.errors import InputError

from ._records import expect, message_text, rows_to_frame, strip_prefixes
from .base import Reported, SourceRun, iter_jsonl


def read_openai_evals(path: Path) -> list[SourceRun]:
    spec: dict = {}
    report: dict = {}
    report_line = 0
    samples: dict[str, dict] = {}
    for lineno, rec in iter_jsonl(path):
        if "spec" in rec:
            spec = expect(rec["spec"], dict, path, f"line {lineno}", "spec", default={})
            continue
        if "final_report" in rec:
            report = rec["final_report"] if isinstance(rec["final_report"], dict) else {}
            report_line = lineno
            continue
        if "sample_id" not in rec or "type" not in rec:
            raise InputError(path, "expected an event with sample_id and type", record=f"line {lineno}",
                             field="sample_id" if "sample_id" not in rec else "type")
        sid = str(rec["sample_id"])
        row = samples.setdefault(sid, {"example_id": sid, "__line": lineno})
        data = expect(rec.get("data"), dict, path, f"line {lineno}", "data", default={})
        kind = expect(rec["type"], str, path, f"line {lineno}", "type")
        if kind == "sampling":
            if "input" not in row:
                row["input"] = message_text(data.get("prompt"))
                sampled = data.get("sampled")
                row["output"] = sampled[0] if isinstance(sampled, list) and sampled else sampled
        elif kind == "match":
            correct = data.get("correct")
            if not isinstance(correct, bool):
                raise InputError(path, f"expected true or false, got {correct!r}", record=f"line {lineno}",
                                 field="data.correct")
            row["correct"] = correct
            expected = data.get("expected")
            row["reference"] = " | ".join(map(str, expected)) if isinstance(expected, list) else expected
            row["meta:picked"] = data.get("picked")
            if "output" not in row and data.get("sampled") is not None:
                row["output"] = data.get("sampled")
        elif kind == "metrics":
            for key, value in data.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    row[f"scores:{key}"] = value
                elif isinstance(value, (str, bool)):
                    row[f"meta:{key}"] = value
        else:
            row[f"meta:{kind}"] = json.dumps(data, ensure_ascii=False, sort_keys=True)[:10_000]
    if not samples:
        raise InputError(path, "is empty: expected OpenAI evals events with sample ids")
    frame = rows_to_frame(samples.values(), order=["example_id", "input", "output", "reference", "correct"])
    roles = {"example_id": "id", "input": "input", "output": "output", "reference": "reference",
             "correct": "correct", "__line": "source_row"}
    for col in frame.columns:
        if col not in roles:
            roles[col] = "scores" if col.startswith("scores:") else "metadata"
    score_cols = [c for c in frame.columns if c.startswith("scores:")]
    if "scores:score" in score_cols:  # a model-graded eval's own score
        roles["scores:score"] = "score"
    elif "correct" not in frame.columns:
        if not score_cols:
            raise InputError(path, "has no match or metrics events; expected one per sample to give the outcome",
                             field="type")
        roles[score_cols[0]] = "score"
    frame, roles = strip_prefixes(frame, roles, ("meta", "scores"))
    model = model_of(spec)
    task = spec.get("eval_name") or spec.get("base_eval")
    notes = f"OpenAI evals run {spec.get('run_id', '?')}"
    if report:
        notes += "; final report: " + ", ".join(f"{k}={v}" for k, v in report.items() if not isinstance(v, (dict, list)))
    reported = _reported(report, path.name, f" (line {report_line})",
                         has_correct="correct" in roles.values(), has_score="score" in roles.values())
    return [SourceRun("openai_evals", [path], f"{task} · {model}" if model else str(task or path.stem), model=model,
                      task=task, frame=frame, roles=roles, record_label="line", notes=notes, tool="OpenAI evals",
                      reported=reported)]


def _reported(report: dict, file: str, line: str, *, has_correct: bool, has_score: bool) -> list[Reported]:
    """The figures of an OpenAI evals ``final_report`` that the stored examples can reproduce.

    >>> _reported({"accuracy": 0.37, "boostrap_std": 0.04}, "log.jsonl", "", has_correct=True, has_score=False)[0].value
    0.37
    >>> r = _reported({"counts/Y": 3, "counts/N": 1, "score": 0.75}, "log.jsonl", "", has_correct=False,
    ...               has_score=True)[0]
    >>> r.basis, r.n
    ('score', 4)
    """
    def number(key: str) -> float | None:
        value = report.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    out = []
    if has_correct and number("accuracy") is not None:
        out.append(Reported("accuracy", number("accuracy"), basis="correct", source=f"{file}: final_report.accuracy{line}"))
    if has_score and number("score") is not None:
        counts = [v for k, v in report.items() if k.startswith("counts/") and isinstance(v, int)]
        out.append(Reported("score", number("score"), basis="score", n=sum(counts) if counts else None,
                            source=f"{file}: final_report.score{line}"))
    return out


def model_of(spec: dict) -> str | None:
    """The model an OpenAI evals run used, from its ``spec`` line, in every layout ``oaieval`` has written.

    Since mid-2023 ``completion_fns``; in early 2023 ``model_name``, ``model_names.completions`` or
    ``run_config.model_specs.completions_[].model``.

    >>> model_of({"completion_fns": ["gpt-4"]}), model_of({"model_name": "gpt-3.5-turbo"})
    ('gpt-4', 'gpt-3.5-turbo')
    >>> model_of({"model_names": {"completions": ["davinci"]}}), model_of({})
    ('davinci', None)
    """
    fns = spec.get("completion_fns") or []
    if fns and isinstance(fns, list):
        return str(fns[0])
    if spec.get("model_name"):
        return str(spec["model_name"])
    names = _get(spec, "model_names", "completions") or []
    if names and isinstance(names, list):
        return str(names[0])
    specs = _get(spec, "run_config", "model_specs", "completions_") or []
    specs = specs if isinstance(specs, list) else []
    found = next((s.get("model") or s.get("name") for s in specs if isinstance(s, dict)), None)
    return str(found) if found else None


def _get(value, *keys):
    """``value[k1][k2]...`` through objects only; None where a key is absent or a value is not an object."""
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
