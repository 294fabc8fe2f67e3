"""promptfoo results JSON (``promptfoo eval -o results.json``, results version 3).

One example per test and prompt; **each provider becomes its own run** (two providers on
the same tests are two models to compare, like two runs of any other tool). Results are
keyed on (testIdx, promptIdx), not on their completion order. ``vars`` become metadata
``var.<name>``, test metadata becomes metadata, ``namedScores`` become signals,
``success`` gives correctness and ``score`` the score; ``failureReason`` 2 (an error) flags
the example as ``error``.
"""

from __future__ import annotations

import json
from pathlib import Path

from analysis.errors import InputError

from ._records import flatten, message_text, rows_to_frame, strip_prefixes
from .base import SourceRun, read_json_document

_REFERENCE_ASSERTS = ("equals", "contains", "icontains", "starts-with", "contains-any", "similar", "regex")


def _reference(test_case: dict) -> str | None:
    asserts = test_case.get("assert") or []
    for kind in _REFERENCE_ASSERTS:
        for a in asserts:
            if isinstance(a, dict) and a.get("type") == kind and a.get("value") is not None:
                value = a["value"]
                return value if isinstance(value, str) else json.dumps(value)
    if asserts:
        return "; ".join(f"{a.get('type')}: {a.get('value')}" for a in asserts if isinstance(a, dict))
    return None


def read_promptfoo(path: Path) -> list[SourceRun]:
    doc = read_json_document(path)
    body = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise InputError(path, "expected promptfoo output with results.results (a list)", field="results.results")
    prompts = body.get("prompts") or []
    by_provider: dict[str, list[dict]] = {}
    labels: dict[str, str] = {}
    for i, res in enumerate(body["results"]):
        record = f"results[{i}]"
        if not isinstance(res, dict) or "testIdx" not in res:
            raise InputError(path, "expected a result with testIdx and promptIdx", record=record, field="testIdx")
        provider = res.get("provider") or {}
        pid = provider.get("id") if isinstance(provider, dict) else str(provider)
        label = (provider.get("label") if isinstance(provider, dict) else None) or pid
        prompt_idx = int(res.get("promptIdx", 0))
        if prompt_idx < len(prompts) and prompts[prompt_idx].get("provider"):
            label = prompts[prompt_idx]["provider"]
        key = f"{pid}|{label}"
        labels[key] = label
        prompt = res.get("prompt") or {}
        response = res.get("response") or {}
        test_case = res.get("testCase") or {}
        score = res.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise InputError(path, f"expected a number for the score, got {score!r}", record=record, field="score")
        success = res.get("success")
        if success is not None and not isinstance(success, bool):
            raise InputError(path, f"expected true or false, got {success!r}", record=record, field="success")
        output = response.get("output")
        row = {"__order": (int(res["testIdx"]), prompt_idx), "test_idx": int(res["testIdx"]),
               "prompt_label": prompt.get("label"),
               "input": prompt.get("raw"), "output": output if isinstance(output, str) or output is None else message_text(output),
               "reference": _reference(test_case), "score": score, "correct": success,
               "status": "error" if res.get("failureReason") == 2 or res.get("error") and response.get("error") else None,
               "meta:description": test_case.get("description"),
               "meta:grader_reason": (res.get("gradingResult") or {}).get("reason"),
               "meta:latency_ms": res.get("latencyMs"), "meta:cost": res.get("cost"),
               "meta:is_refusal": response.get("isRefusal")}
        for name, value in (res.get("vars") or {}).items():
            row[f"meta:var.{name}"] = value
        meta: dict = {}
        flatten("", {k: v for k, v in (res.get("metadata") or test_case.get("metadata") or {}).items()
                     if not str(k).startswith("_")}, meta)
        row.update({f"meta:{k}": v for k, v in meta.items()})
        for name, value in (res.get("namedScores") or {}).items():
            row[f"signal:{name}"] = value
        by_provider.setdefault(key, []).append(row)
    if not by_provider:
        raise InputError(path, "is empty: expected at least one promptfoo result")
    runs = []
    for key, rows in by_provider.items():
        rows.sort(key=lambda r: r["__order"])
        several_prompts = len({r["prompt_label"] for r in rows}) > 1
        for row in rows:
            row["example_id"] = f"test-{row['test_idx']}" + (f":{row['prompt_label']}" if several_prompts else "")
            del row["__order"]
        frame = rows_to_frame(rows, order=["example_id", "input", "output", "reference", "score", "correct", "status"])
        frame = frame.dropna(axis=1, how="all")
        roles = {"example_id": "id", "input": "input", "output": "output", "reference": "reference",
                 "score": "score", "correct": "correct", "status": "status"}
        for col in frame.columns:
            if col not in roles:
                roles[col] = "signal" if col.startswith("signal:") else "metadata"
        roles = {c: r for c, r in roles.items() if c in frame.columns}
        frame, roles = strip_prefixes(frame, roles, ("meta", "signal"))
        pid, label = key.split("|", 1)
        runs.append(SourceRun("promptfoo", [path], f"promptfoo · {label}", model=label if label else pid,
                              task=(doc.get("config") or {}).get("description") or "promptfoo eval",
                              frame=frame, roles=roles, record_label="result", sub_key=key,
                              notes=f"promptfoo eval {doc.get('evalId', '?')}, provider {pid}"))
    return runs
