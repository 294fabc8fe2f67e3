"""HELM run folders: ``scenario_state.json`` + ``per_instance_stats.json`` + ``run_spec.json``.

Requests and per-instance statistics are joined on instance id, train trial index and
perturbation name. Correctness comes from the ``exact_match`` statistic (or
``quasi_exact_match`` when absent); the model from the run spec. Reference tags become
metadata: a tag ``t`` that appears beside ``non-t`` in the run becomes a column ``t`` (BBQ's
``ambiguous`` / ``non-ambiguous``), and the instance's sub-split is kept. A folder whose
sub-folders are HELM runs loads as one run per sub-folder.
"""

from __future__ import annotations

from pathlib import Path

from analysis.errors import InputError

from ._records import rows_to_frame, strip_prefixes
from .base import SourceRun, read_json_document

REQUIRED = ("scenario_state.json", "per_instance_stats.json", "run_spec.json")
_CORRECT_STATS = ("exact_match", "quasi_exact_match", "prefix_exact_match")
_EXTRA_STATS = {"num_prompt_tokens": "metadata", "num_output_tokens": "metadata",
                "inference_runtime": "metadata", "logprob": "signal", "max_prob": "signal"}


def helm_run_dirs(path: Path) -> list[Path]:
    """The HELM run folders at ``path``: itself, or its immediate sub-folders."""
    if (path / "scenario_state.json").is_file() or (path / "run_spec.json").is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and (p / "scenario_state.json").is_file())


def _perturbation(obj: dict) -> str:
    pert = obj.get("perturbation")
    if isinstance(pert, dict):
        return str(pert.get("name", ""))
    return "" if pert is None else str(pert)


def read_helm_dir(path: Path) -> list[SourceRun]:
    runs = [read_helm_run(d, multi=(d != path)) for d in helm_run_dirs(path)]
    if not runs:
        raise InputError(path, "is a folder without HELM runs: expected scenario_state.json, "
                         "per_instance_stats.json and run_spec.json in it or in its sub-folders")
    return runs


def read_helm_run(folder: Path, *, multi: bool = False) -> SourceRun:
    missing = [n for n in REQUIRED if not (folder / n).is_file()]
    if missing:
        raise InputError(folder, f"is a HELM run folder without {', '.join(missing)}; expected all of "
                         f"{', '.join(REQUIRED)}")
    state = read_json_document(folder / "scenario_state.json")
    stats = read_json_document(folder / "per_instance_stats.json")
    spec = read_json_document(folder / "run_spec.json")
    if not isinstance(state, dict) or not isinstance(state.get("request_states"), list):
        raise InputError(folder / "scenario_state.json", "expected a list 'request_states'", field="request_states")
    if not isinstance(stats, list):
        raise InputError(folder / "per_instance_stats.json", "expected a list of per-instance statistics")
    by_key: dict[tuple, dict[str, float]] = {}
    for i, entry in enumerate(stats):
        if not isinstance(entry, dict) or "instance_id" not in entry:
            raise InputError(folder / "per_instance_stats.json", "expected an object with instance_id",
                             record=f"entry {i + 1}", field="instance_id")
        values = {}
        for stat in entry.get("stats") or []:
            name = (stat.get("name") or {}).get("name")
            if name and stat.get("count"):
                values[name] = stat.get("mean", stat.get("sum"))
        key = (str(entry["instance_id"]), int(entry.get("train_trial_index", 0)), _perturbation(entry))
        by_key[key] = values
    all_tags: set[str] = set()
    for rs in state["request_states"]:
        for ref in (rs.get("instance") or {}).get("references") or []:
            all_tags.update(t for t in ref.get("tags") or [] if isinstance(t, str))
    paired = sorted(t for t in all_tags if f"non-{t}" in all_tags)
    rows = []
    unmatched = 0
    for i, rs in enumerate(state["request_states"]):
        record = f"request_states[{i}]"
        inst = rs.get("instance") or {}
        if "id" not in inst:
            raise InputError(folder / "scenario_state.json", "expected instance.id", record=record, field="instance.id")
        trial = int(rs.get("train_trial_index", 0))
        pert = _perturbation(inst)
        key = (str(inst["id"]), trial, pert)
        values = by_key.get(key)
        if values is None:
            unmatched += 1
            values = {}
        completions = (rs.get("result") or {}).get("completions") or []
        raw = completions[0].get("text") if completions else None
        mapping = rs.get("output_mapping") or {}
        output = mapping.get(raw.strip(), raw) if isinstance(raw, str) else raw
        refs = inst.get("references") or []
        correct_refs = [r.get("output", {}).get("text") for r in refs if "correct" in (r.get("tags") or [])]
        ref_tags = set()
        for r in refs:
            ref_tags.update(r.get("tags") or [])
        multi_trial = len({int(x.get("train_trial_index", 0)) for x in state["request_states"]}) > 1
        example_id = str(inst["id"]) + (f"#trial{trial}" if multi_trial else "") + (f"#{pert}" if pert else "")
        row = {"example_id": example_id, "input": (inst.get("input") or {}).get("text"), "output": output,
               "reference": " | ".join(t for t in correct_refs if t) or None,
               "meta:instance_id": str(inst["id"]), "meta:split": inst.get("split"),
               "meta:sub_split": inst.get("sub_split"), "meta:raw_output": raw,
               "meta:perturbation": pert or None, "meta:train_trial_index": trial}
        for tag in paired:
            row[f"meta:{tag}"] = tag if tag in ref_tags else (f"non-{tag}" if f"non-{tag}" in ref_tags else None)
        correct_stat = next((s for s in _CORRECT_STATS if s in values), None)
        row["score"] = values.get(correct_stat) if correct_stat else None
        for name in _CORRECT_STATS:
            if name in values and name != correct_stat:
                row[f"scores:{name}"] = values[name]
        for name, role in _EXTRA_STATS.items():
            if name in values:
                row[f"{'meta' if role == 'metadata' else 'signal'}:{name}"] = values[name]
        rows.append(row)
    if not rows:
        raise InputError(folder / "scenario_state.json", "is empty: expected at least one request state")
    frame = rows_to_frame(rows, order=["example_id", "input", "output", "reference", "score"])
    frame = frame.dropna(axis=1, how="all")
    roles = {"example_id": "id", "input": "input", "output": "output", "reference": "reference", "score": "score"}
    for col in frame.columns:
        if col not in roles:
            roles[col] = {"meta": "metadata", "scores": "scores", "signal": "signal"}[col.split(":", 1)[0]]
    if "score" not in frame.columns:
        raise InputError(folder / "per_instance_stats.json", "has no exact_match or quasi_exact_match statistic; "
                         "expected one of them to give correctness", field="stats.name.name")
    frame, roles = strip_prefixes(frame, roles, ("meta", "scores", "signal"))
    model = (spec.get("adapter_spec") or {}).get("model") if isinstance(spec, dict) else None
    scenario = ((spec.get("scenario_spec") or {}).get("class_name") or "").rsplit(".", 1)[-1] if isinstance(spec, dict) else ""
    task = (spec.get("groups") or [None])[0] if isinstance(spec, dict) else None
    notes = f"HELM run {spec.get('name') if isinstance(spec, dict) else folder.name}"
    if unmatched:
        notes += f"; {unmatched} request(s) had no per-instance statistics (unscorable)"
    files = [folder / n for n in REQUIRED]
    return SourceRun("helm", files, f"{task or scenario} · {model}" if model else folder.name, model=model,
                     task=task or scenario or None, frame=frame, roles=roles, record_label="request",
                     sub_key=folder.name if multi else "", notes=notes)
