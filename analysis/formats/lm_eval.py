"""lm-evaluation-harness ``--log_samples`` output.

``samples_<task>_<date>.jsonl`` holds one line per document and filter: ``doc_id``,
``doc`` (the dataset row, which becomes metadata), ``target``, ``arguments`` (the prompt as
``gen_args_N.arg_0`` and, for multiple choice, each choice as ``arg_1``), ``resps`` /
``filtered_resps``, ``filter``, ``metrics`` (names of the metric keys present on the line).
A ``results_<date>.json`` beside it gives the model name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from analysis.errors import InputError

from ._records import flatten, rows_to_frame, strip_prefixes
from .base import SourceRun, iter_jsonl, read_json_document

_CORRECT_METRICS = ("acc", "exact_match", "acc_norm", "em", "pass@1", "correct")
_SAMPLES_NAME = re.compile(r"^samples_(?P<task>.+?)_(?P<date>\d{4}-\d{2}-\d{2}T[\d\-.]+)\.jsonl$")


def _chosen_output(record: dict) -> tuple[str | None, dict]:
    """The model's answer: the highest-loglikelihood choice for multiple choice, else the text."""
    extra: dict = {}
    resps = record.get("filtered_resps", record.get("resps"))
    args = record.get("arguments") or {}
    if isinstance(resps, list) and resps and all(isinstance(r, list) and len(r) == 2 for r in resps):
        try:
            logprobs = [float(r[0]) for r in resps]
        except (TypeError, ValueError):
            logprobs = []
        if logprobs:
            best = max(range(len(logprobs)), key=logprobs.__getitem__)
            choice = (args.get(f"gen_args_{best}") or {}).get("arg_1")
            extra["chosen_index"] = best
            extra["chosen_logprob"] = logprobs[best]
            return (choice.strip() if isinstance(choice, str) else str(best)), extra
    if isinstance(resps, list) and resps:
        first = resps[0]
        while isinstance(first, list) and first:
            first = first[0]
        return (first if isinstance(first, str) else json.dumps(first)), extra
    return None, extra


def _reference(record: dict) -> str | None:
    target = record.get("target")
    args = record.get("arguments") or {}
    index = None
    if isinstance(target, int) and not isinstance(target, bool):
        index = target
    elif isinstance(target, str) and target.strip().isdigit():
        index = int(target.strip())
    if index is not None and f"gen_args_{index}" in args and "arg_1" in args[f"gen_args_{index}"]:
        return str(args[f"gen_args_{index}"]["arg_1"]).strip()
    if target is None:
        return None
    return target if isinstance(target, str) else json.dumps(target)


def _results_beside(path: Path) -> dict | None:
    match = _SAMPLES_NAME.match(path.name)
    candidates = []
    if match:
        candidates.append(path.parent / f"results_{match.group('date')}.json")
    candidates += sorted(path.parent.glob("results_*.json"))
    for candidate in candidates:
        if candidate.is_file():
            try:
                doc = read_json_document(candidate)
            except InputError:
                continue
            if isinstance(doc, dict) and "results" in doc:
                return doc | {"__path__": candidate}
    return None


def read_lm_eval(path: Path) -> list[SourceRun]:
    """Read lm-eval samples into one run (one example per doc_id and filter)."""
    match = _SAMPLES_NAME.match(path.name)
    task = match.group("task") if match else path.stem.removeprefix("samples_")
    rows = []
    filters = set()
    for lineno, rec in iter_jsonl(path):
        if "doc_id" not in rec:
            raise InputError(path, "expected lm-eval sample fields (doc_id, doc, arguments, resps)", record=f"line {lineno}", field="doc_id")
        output, extra = _chosen_output(rec)
        args = rec.get("arguments") or {}
        first_args = args.get("gen_args_0") or {}
        filt = str(rec.get("filter", "none"))
        filters.add(filt)
        row = {"doc_id": str(rec["doc_id"]), "filter": filt, "input": first_args.get("arg_0"),
               "output": output, "reference": _reference(rec), "__line": lineno}
        metrics = rec.get("metrics") or [k for k in rec if k in _CORRECT_METRICS]
        for metric in metrics:
            value = rec.get(metric)
            if isinstance(value, bool):
                value = float(value)
            if value is not None and not isinstance(value, (int, float)):
                raise InputError(path, f"expected a number for metric {metric!r}, got {value!r}",
                                 record=f"line {lineno}", field=metric)
            row[f"metric:{metric}"] = value
        meta: dict = {}
        flatten("", rec.get("doc") or {}, meta, max_depth=1)
        for key, value in meta.items():
            row[f"doc:{key}"] = value
        row.update({f"resp:{k}": v for k, v in extra.items()})
        rows.append(row)
    if not rows:
        raise InputError(path, "is empty: expected an evaluation log with at least one example")
    several_filters = len(filters) > 1
    for row in rows:
        row["example_id"] = f"{row['doc_id']}:{row['filter']}" if several_filters else row["doc_id"]
    frame = rows_to_frame(rows, order=["example_id", "input", "output", "reference"])
    metric_cols = [c for c in frame.columns if c.startswith("metric:")]
    primary = next((c for m in _CORRECT_METRICS for c in metric_cols if c == f"metric:{m}"),
                   metric_cols[0] if metric_cols else None)
    if primary is None:
        raise InputError(path, "has no metric values; expected keys named in each line's 'metrics' list (e.g. acc)",
                         record="line 1", field="metrics")
    roles = {"example_id": "id", "input": "input", "output": "output", "reference": "reference",
             "__line": "source_row"}
    for col in frame.columns:
        if col in roles:
            continue
        if col == primary:
            roles[col] = "score"
        elif col.startswith("metric:"):
            roles[col] = "scores"
        else:
            roles[col] = "metadata"
    frame, roles = strip_prefixes(frame, roles, ("doc", "metric", "resp"))
    results = _results_beside(path)
    files = [path]
    model = None
    notes = ""
    if results:
        files.append(results.pop("__path__"))
        model = results.get("model_name") or (results.get("config") or {}).get("model")
        task_result = (results.get("results") or {}).get(task) or {}
        reported = {k: v for k, v in task_result.items() if isinstance(v, (int, float)) and "," in k}
        if reported:
            notes = "lm-eval reported: " + ", ".join(f"{k}={v:.4g}" for k, v in reported.items())
    return [SourceRun("lm_eval", files, f"{task}" + (f" · {model}" if model else ""), model=model, task=task,
                      frame=frame, roles=roles, record_label="line", notes=notes,
                      identity_files=1)]
