"""Every Eval Ever (EEE, the EvalEval coalition's shared schema, 0.3): instance-level samples.

An evaluation is an aggregate JSON ``<uuid>.json`` (``evaluation_results[]``, one per metric,
each with ``evaluation_result_id``, ``evaluation_name``, ``metric_config`` and
``score_details.score``) and, beside it, ``<uuid>_samples.jsonl`` with one row per sample and
metric: ``evaluation_id, evaluation_result_id, evaluation_name, model_id, sample_id,
interaction_type (single_turn | multi_turn | agentic), input {raw, reference[]},
output {raw[]} (single_turn) or messages[] (multi_turn, agentic), answer_attribution[],
evaluation {score, is_correct, num_turns, tool_calls_count}, token_usage, performance, error,
metadata`` (string values). Either file can be loaded; the other is found beside it.

A sample scored by k metrics is k rows: here it is **one example**, whose score and
``correct`` come from the evaluation's primary metric (its first result in the aggregate)
and whose other metrics are extra scores ``score.<metric>``. Each ``evaluation_name`` is one
run. The primary metric's ``score_details.score`` (with ``num_samples``) is the reported
figure; the sha256 ``checksum`` and ``total_rows`` the aggregate gives for the samples file
are checked and the result is put in the run notes.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from analysis.errors import InputError

from ._records import expect, rows_to_frame, strip_prefixes
from .base import Reported, SourceRun, iter_jsonl, read_json_document

SAMPLES_SUFFIX = "_samples.jsonl"


def _is_aggregate(doc: object) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("evaluation_results"), list)


def locate(path: Path) -> tuple[Path, Path | None, dict | None]:
    """The samples file, the aggregate file beside it (or None) and the parsed aggregate, from either one."""
    if not path.name.endswith(".jsonl"):
        doc = read_json_document(path)
        if _is_aggregate(doc):
            detailed = doc.get("detailed_evaluation_results") or {}
            names = [Path(str(detailed["file_path"])).name] if isinstance(detailed, dict) and \
                detailed.get("file_path") else []
            names.append(path.stem + SAMPLES_SUFFIX)
            samples = next((path.with_name(n) for n in names if path.with_name(n).is_file()), None)
            if samples is None:
                raise InputError(path, "is an Every Eval Ever aggregate with no instance-level samples beside it: "
                                 f"expected {names[0]} in the same folder", field="detailed_evaluation_results")
            return samples, path, doc
    aggregate = path.with_name(path.name.removesuffix(SAMPLES_SUFFIX) + ".json") \
        if path.name.endswith(SAMPLES_SUFFIX) else None
    if aggregate is None or not aggregate.is_file():
        aggregate = next((p for p in sorted(path.parent.glob("*.json"))[:200] if _names_samples(p, path)), None)
    if aggregate is None:
        return path, None, None
    doc = read_json_document(aggregate)
    return path, aggregate, doc if _is_aggregate(doc) else None


def _names_samples(candidate: Path, samples: Path) -> bool:
    try:
        doc = read_json_document(candidate)
    except InputError:
        return False
    detailed = doc.get("detailed_evaluation_results") if _is_aggregate(doc) else None
    return isinstance(detailed, dict) and Path(str(detailed.get("file_path", ""))).name == samples.name


def _text_list(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        parts = [str(v) for v in value if v is not None]
        return " | ".join(parts) if parts else None
    return str(value)


def _final_message(messages: object) -> str | None:
    if not isinstance(messages, list):
        return None
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "assistant" and msg.get("content"):
            return str(msg["content"])
    return None


def _metric_names(result_ids: list[str]) -> dict[str, str]:
    """Column names for metrics: the part after the scorer (``mean`` of ``starsim_scorer:mean``) when unique.

    >>> _metric_names(["s:mean", "s:acc", "t:acc"])
    {'s:mean': 'mean', 's:acc': 's.acc', 't:acc': 't.acc'}
    """
    short = {rid: rid.rsplit(":", 1)[-1] for rid in result_ids}
    counts: dict[str, int] = {}
    for name in short.values():
        counts[name] = counts.get(name, 0) + 1
    return {rid: name if counts[name] == 1 else rid.replace(":", ".") for rid, name in short.items()}


def read_every_eval_ever(path: Path) -> list[SourceRun]:
    """The runs in an Every Eval Ever evaluation: one per ``evaluation_name``, one example per sample.

    Parameters
    ----------
    path : Path
        The instance-level ``<uuid>_samples.jsonl`` or the aggregate ``<uuid>.json`` beside it.

    Returns
    -------
    list of SourceRun
        Score and correct from the primary metric (the evaluation's first result in the
        aggregate, else the first seen), other metrics as ``score.<metric>``, the primary
        metric's aggregate figure as ``reported`` (``[]`` without an aggregate).

    Raises
    ------
    InputError
        When a row misses a required field, a score is not a number, or a sample appears
        twice for one metric.
    """
    samples_path, aggregate_path, aggregate = locate(path)
    results = [r for r in (aggregate or {}).get("evaluation_results", []) if isinstance(r, dict)]
    name_of = {str(r.get("evaluation_result_id")): str(r.get("evaluation_name")) for r in results
               if r.get("evaluation_result_id") is not None}
    evaluations: dict[str, dict] = {}  # evaluation_name -> {"ids": [...], "samples": {key: {rid: row}}}
    n_rows = 0
    epochs: dict[str, set] = {}
    for lineno, rec in iter_jsonl(samples_path):
        n_rows += 1
        for key in ("sample_id", "evaluation"):
            if key not in rec:
                raise InputError(samples_path, f"expected an Every Eval Ever instance row with {key!r}",
                                 record=f"line {lineno}", field=key)
        evaluation = expect(rec.get("evaluation"), dict, samples_path, f"line {lineno}", "evaluation", default={})
        score = evaluation.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
            raise InputError(samples_path, f"expected a number, got {score!r}", record=f"line {lineno}",
                             field="evaluation.score")
        rid = rec.get("evaluation_result_id")
        rid = None if rid is None else str(rid)
        ename = str(rec.get("evaluation_name") or name_of.get(rid or "", "") or "evaluation")
        meta = rec.get("metadata") if isinstance(rec.get("metadata"), dict) else {}
        epoch = meta.get("epoch")
        entry = evaluations.setdefault(ename, {"ids": [], "samples": {}})
        if rid not in entry["ids"]:
            entry["ids"].append(rid)
        sample_key = (str(rec["sample_id"]), None if epoch is None else str(epoch))
        epochs.setdefault(ename, set()).add(sample_key[1])
        per_metric = entry["samples"].setdefault(sample_key, {})
        if rid in per_metric:
            raise InputError(samples_path, f"sample {sample_key[0]!r} appears twice for metric "
                             f"{rid or '(no evaluation_result_id)'} (first on line {per_metric[rid][0]})",
                             record=f"line {lineno}", field="sample_id")
        per_metric[rid] = (lineno, rec)
    if not evaluations:
        raise InputError(samples_path, "is empty: expected Every Eval Ever instance rows, one per line")
    checks = _integrity(samples_path, aggregate, n_rows)
    runs = []
    for ename, entry in evaluations.items():
        ordered = [str(r["evaluation_result_id"]) for r in results if r.get("evaluation_name") == ename
                   and r.get("evaluation_result_id") is not None and str(r["evaluation_result_id"]) in entry["ids"]]
        ordered += [rid for rid in entry["ids"] if rid not in ordered]
        primary = ordered[0]
        names = _metric_names([rid or "score" for rid in ordered[1:]])
        several_epochs = len(epochs[ename]) > 1
        rows = []
        for (sid, epoch), per_metric in entry["samples"].items():
            lineno, first = per_metric.get(primary) or next(iter(per_metric.values()))
            ev = (per_metric[primary][1].get("evaluation") or {}) if primary in per_metric else {}
            rows.append(_row(sid, epoch, several_epochs, first, ev, per_metric, ordered[1:], names, lineno,
                             primary in per_metric))
        frame = rows_to_frame(rows, order=["example_id", "input", "output", "reference", "score", "correct"])
        frame = frame.dropna(axis=1, how="all")
        roles = {"example_id": "id", "input": "input", "output": "output", "reference": "reference",
                 "score": "score", "correct": "correct", "__line": "source_row"}
        for col in frame.columns:
            if col not in roles:
                roles[col] = {"scores": "scores", "signal": "signal"}.get(col.split(":", 1)[0], "metadata")
        roles = {c: r for c, r in roles.items() if c in frame.columns}
        if "score" not in roles and "correct" not in roles:
            frame["score"] = float("nan")
            roles["score"] = "score"
        frame, roles = strip_prefixes(frame, roles, ("meta", "scores", "signal"))
        result = next((r for r in results if str(r.get("evaluation_result_id")) == primary), None)
        model = _model(aggregate, entry)
        runs.append(SourceRun(
            "every_eval_ever", [samples_path] + ([aggregate_path] if aggregate_path else []),
            f"EEE · {ename}" + (f" · {model}" if model else ""), model=model, task=ename, sub_key=ename, frame=frame,
            roles=roles, record_label="line", identity_files=1, tool="EEE",
            reported=_reported(result, primary, aggregate_path, results) if aggregate else [],
            notes=_notes(aggregate, aggregate_path, primary, ordered[1:], names, checks)))
    return runs


def _row(sid, epoch, several_epochs, first, ev, per_metric, others, names, lineno, has_primary) -> dict:
    inp = first.get("input") if isinstance(first.get("input"), dict) else {}
    out = first.get("output") if isinstance(first.get("output"), dict) else {}
    raw_out = out.get("raw")
    output = (raw_out[0] if len(raw_out) == 1 else "\n\n".join(map(str, raw_out))) \
        if isinstance(raw_out, list) and raw_out else raw_out if isinstance(raw_out, str) else None
    if output is None:
        output = _final_message(first.get("messages"))
    terminal = [a for a in (first.get("answer_attribution") or []) if isinstance(a, dict)]
    extracted = next((a.get("extracted_value") for a in reversed(terminal) if a.get("is_terminal")),
                     terminal[-1].get("extracted_value") if terminal else None)
    full_ev = first.get("evaluation") or {}
    usage = first.get("token_usage") if isinstance(first.get("token_usage"), dict) else {}
    perf = first.get("performance") if isinstance(first.get("performance"), dict) else {}
    row = {"example_id": f"{sid}#{epoch}" if several_epochs else sid, "input": inp.get("raw"),
           "output": output, "reference": _text_list(inp.get("reference")),
           "score": ev.get("score") if has_primary else None,
           "correct": ev.get("is_correct") if has_primary and isinstance(ev.get("is_correct"), bool) else None,
           "meta:sample_id": sid if several_epochs else None, "meta:interaction_type": first.get("interaction_type"),
           "meta:extracted_value": None if extracted is None else str(extracted),
           "meta:error": first.get("error"),
           "signal:num_turns": full_ev.get("num_turns"), "signal:tool_calls_count": full_ev.get("tool_calls_count"),
           "signal:input_tokens": usage.get("input_tokens"), "signal:output_tokens": usage.get("output_tokens"),
           "signal:reasoning_tokens": usage.get("reasoning_tokens"), "signal:latency_ms": perf.get("latency_ms"),
           "__line": lineno}
    meta = first.get("metadata") if isinstance(first.get("metadata"), dict) else {}
    for key, value in meta.items():
        row[f"meta:{key}"] = value if value is None or isinstance(value, (str, int, float, bool)) else \
            json.dumps(value, ensure_ascii=False)
    for rid in others:
        value = ((per_metric.get(rid) or (0, {}))[1].get("evaluation") or {}).get("score")
        row[f"scores:{names[rid or 'score']}"] = value if isinstance(value, (int, float)) and \
            not isinstance(value, bool) else None
    return row


def _model(aggregate: dict | None, entry: dict) -> str | None:
    info = (aggregate or {}).get("model_info") or {}
    if info.get("id") or info.get("name"):
        return str(info.get("id") or info.get("name"))
    for per_metric in entry["samples"].values():
        for _, rec in per_metric.values():
            if rec.get("model_id"):
                return str(rec["model_id"])
    return None


def _reported(result: dict | None, primary: str | None, aggregate_path: Path | None,
              results: list[dict]) -> list[Reported]:
    if result is None:
        return []
    details = result.get("score_details") or {}
    value = details.get("score")
    value = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and \
        math.isfinite(value) else None
    uncertainty = details.get("uncertainty") or {}
    n = uncertainty.get("num_samples") if isinstance(uncertainty, dict) else None
    if not isinstance(n, int):
        n = (result.get("source_data") or {}).get("samples_number")
    index = results.index(result)
    return [Reported(str(primary), value, basis="score", n=n if isinstance(n, int) else None,
                     source=f"{aggregate_path.name if aggregate_path else '?'}: evaluation_results[{index}]"
                     ".score_details.score", tolerance=1e-6)]


def _integrity(samples: Path, aggregate: dict | None, n_rows: int) -> str:
    detailed = (aggregate or {}).get("detailed_evaluation_results")
    if not isinstance(detailed, dict):
        return ""
    parts = []
    total = detailed.get("total_rows")
    if isinstance(total, int):
        parts.append(f"{n_rows} of the {total} rows the aggregate lists" if total != n_rows
                     else f"all {total} rows the aggregate lists")
    checksum = detailed.get("checksum")
    if checksum and str(detailed.get("hash_algorithm", "sha256")).lower() == "sha256":
        digest = hashlib.sha256()
        with open(samples, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        parts.append("sha256 matches the aggregate's checksum" if digest.hexdigest() == str(checksum).lower()
                     else "sha256 differs from the aggregate's checksum (the samples file was changed)")
    return "Samples file: " + "; ".join(parts) + "." if parts else ""


def _notes(aggregate, aggregate_path, primary, others, names, checks) -> str:
    library = (aggregate or {}).get("eval_library") or {}
    parts = [f"Every Eval Ever {(aggregate or {}).get('schema_version', '')} evaluation"
             + (f" {aggregate.get('evaluation_id')}" if aggregate and aggregate.get("evaluation_id") else "")
             + (f", converted from {library.get('name')} ({library.get('version')})" if library.get("name") else "")
             + ".",
             f"Score and correct from the primary metric {primary}"
             + (f"; other metrics as {', '.join('score.' + names[r or 'score'] for r in others)}" if others else "")
             + ".",
             "Reported: the aggregate's figure for the primary metric." if aggregate_path else
             "No aggregate JSON beside the samples: no reported figure.",
             checks]
    return " ".join(p for p in parts if p)
