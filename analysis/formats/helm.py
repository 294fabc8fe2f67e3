"""HELM run folders: ``scenario_state.json`` + ``per_instance_stats.json`` + ``run_spec.json``.

One row per request state (instance x train trial x perturbation), joined to the instance's
statistics in ``per_instance_stats.json`` on instance id, train trial index and perturbation.
The rules, in the order they apply:

Statistics
    Every entry for the same key is merged (HELM v4 safety runs list each instance twice: the
    judged scores, then the token counts); a statistic given twice with different values keeps
    the first and is counted in the notes. Each statistic becomes a column named as HELM names
    it, so a mapping ``score: rouge_l`` can pick another one. Evaluation statistics are kept as
    ``score.<name>``; HELM's bookkeeping (token counts, runtimes, finish reasons, costs, ...)
    becomes metadata (``logprob`` and ``max_prob`` signals), dropped when constant over the run.

Primary score (role ``score``)
    The scenario's main metric: ``environment.main_name`` of the run's group (``run_spec.groups``)
    in a ``schema.json`` beside the run (HELM's ``helm-summarize`` writes it into the suite
    folder, the run folder's parent), else in HELM's own schemas
    (:mod:`analysis.formats._helm_main_metrics`). A main metric that HELM computes over the whole
    run maps to its per-instance form: ``bbq_accuracy`` is ``exact_match``; a ``*_score`` that the
    run lacks (the safety schema's ``safety_score`` in runs that wrote ``art_score``) is the run's
    annotator score. When no group is known: an annotator score (``X_score`` judged by
    ``X_<judge>_score``), then ``exact_match`` for multiple-choice methods, then the first
    ``*_score`` that is not a judge's (``f1_score``, ``safety_score``), then ``exact_match`` /
    ``quasi_exact_match`` / ``prefix_exact_match`` / ``quasi_prefix_exact_match``, then the first
    other evaluation statistic. The notes say which rule chose it.

Correct
    A graded primary (not 0/1, or named ``*_score``, ``rouge*``, ``bleu*``) stays the score; the
    run's ``exact_match`` (else ``quasi_exact_match``), HELM's own per-instance correctness,
    becomes the ``correct`` column when there is one. Without it (safety scenarios) the store
    derives correct from the score and its threshold.

Judges
    ``X_<judge>_score`` beside ``X_score`` (``art_gpt_score`` / ``art_claude_score`` beside
    ``art_score``) are raters, so their agreement is analysed; the annotators' text fields
    (``gpt_reasoning`` ...) are metadata.

Splits
    The run holds HELM's evaluation split only: the group's ``main_split`` when the run has it,
    else ``test`` when present, else ``valid``. Instances of another split (MMLU's few ``valid``
    ones) form a second run named ``<run> · valid``, so that the headline is the number HELM
    reports and the other split is still there to look at. ``split`` is a metadata column of both.

Perturbations
    A perturbed request (HELM's robustness / fairness augmentations) is a row of the same run,
    its id suffixed ``#<perturbation>``, with the perturbation's name in the metadata column
    ``perturbation`` (empty for the original): slice on it to compare. HELM's headline is on the
    originals only, so with perturbations the stored mean pools what HELM keeps apart.

Reported
    HELM's own aggregate, ``stats.json`` beside the run: the mean of the main metric on the run's
    split (no perturbation), with ``num_instances`` of that split as n; and the mean of the
    correct column's statistic when there is one. No ``stats.json``: nothing reported (``[]``).

Folders
    A folder whose sub-folders are HELM runs loads as one run per sub-folder (and split). A run
    that cannot be read is skipped and named in ``extra["skipped"]`` (``(folder, message)`` pairs,
    the same list on every run read from that folder; :func:`skipped_runs` gathers them); when no
    run can be read the error names each one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path

from analysis.errors import InputError
from analysis.formatting import format_count

from ._helm_main_metrics import MAIN_METRICS
from ._records import expect, rows_to_frame, strip_prefixes
from .base import Reported, SourceRun, read_json_document

REQUIRED = ("scenario_state.json", "per_instance_stats.json", "run_spec.json")
AGGREGATE = "stats.json"
TOOL = "HELM"

#: Main metrics HELM computes over the whole run, and the per-instance statistic they count.
_AGGREGATE_ALIASES = {"bbq_accuracy": "exact_match"}
_EXACT_FAMILY = ("exact_match", "quasi_exact_match", "prefix_exact_match", "quasi_prefix_exact_match")
_CORRECT_STATS = ("exact_match", "quasi_exact_match")
_SIGNALS = ("logprob", "max_prob")
#: HELM's bookkeeping statistics (basic metrics, efficiency, general information).
_BOOKKEEPING = {"num_references", "num_train_trials", "num_train_instances", "num_prompt_tokens",
                "num_completion_tokens", "num_output_tokens", "num_perplexity_tokens", "num_bytes",
                "num_completions", "num_requests", "num_instances", "max_num_output_tokens", "batch_size",
                "prompt_truncated", "inference_runtime", "inference_denoised_runtime",
                "inference_idealized_runtime", "estimated_num_tokens_cost", "predicted_index", *_SIGNALS}
_BOOKKEEPING_PREFIXES = ("finish_reason_", "training_", "num_prompt_", "num_output_")
_KEPT_BOOKKEEPING = {"num_prompt_tokens", "num_output_tokens", "inference_runtime", *_SIGNALS}
_JUDGE = re.compile(r"^(?P<base>.+)_(?P<judge>[a-z0-9]+)_score$")
_MC_METHOD = "multiple_choice"


def helm_run_dirs(path: Path) -> list[Path]:
    """The HELM run folders at ``path``: itself, or those of its immediate sub-folders holding a HELM file."""
    if (path / "scenario_state.json").is_file() or (path / "run_spec.json").is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and any((p / n).is_file() for n in REQUIRED))


def skipped_runs(sources: Iterable[SourceRun]) -> list[tuple[str, str]]:
    """The HELM run folders that were skipped while reading ``sources``, each once, with the reason.

    >>> s = SourceRun("helm", [], "a", extra={"skipped": [("runs/b", "b: bad")]})
    >>> skipped_runs([s, s])
    [('runs/b', 'b: bad')]
    """
    seen: dict[str, str] = {}
    for source in sources:
        for folder, message in source.extra.get("skipped") or []:
            seen.setdefault(str(folder), str(message))
    return list(seen.items())


def read_helm_dir(path: Path) -> list[SourceRun]:
    """Every run in a HELM run folder, or in a folder of run folders.

    Parameters
    ----------
    path
        A run folder (``scenario_state.json``, ``per_instance_stats.json``, ``run_spec.json``) or
        a folder whose sub-folders are run folders (HELM's ``runs/<suite>``).

    Returns
    -------
    list of SourceRun
        One per run folder and split (see the module's rules). Run folders that could not be
        read are listed in each run's ``extra["skipped"]``.

    Raises
    ------
    analysis.errors.InputError
        The folder holds no HELM run, its only run cannot be read, or none of its runs can
        (the message names each run folder and why).
    """
    dirs = helm_run_dirs(path)
    if not dirs:
        raise InputError(path, "is a folder without HELM runs: expected scenario_state.json, "
                         "per_instance_stats.json and run_spec.json in it or in its sub-folders")
    if dirs == [path]:
        return read_helm_run(path)
    runs: list[SourceRun] = []
    skipped: list[tuple[str, str]] = []
    for folder in dirs:
        try:
            runs.extend(read_helm_run(folder, multi=True))
        except InputError as err:
            skipped.append((str(folder), str(err)))
    if not runs:
        reasons = "; ".join(f"{Path(f).name}: {m}" for f, m in skipped)
        raise InputError(path, f"holds {format_count(len(dirs), 'HELM run folder')} and none could be read: {reasons}")
    if skipped:
        for run in runs:
            run.extra["skipped"] = skipped
            run.notes += f"; {format_count(len(skipped), 'other run folder')} here could not be read: " + ", ".join(
                Path(f).name for f, _ in skipped)
    return runs


# ------------------------------------------------------------------ reading one run folder


def _perturbation(obj: dict) -> str:
    pert = obj.get("perturbation")
    if isinstance(pert, dict):
        return str(pert.get("name", ""))
    return "" if pert is None else str(pert)


def _trial(obj: dict, file: Path, record: str) -> int:
    value = obj.get("train_trial_index", 0)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        raise InputError(file, f"expected an integer train trial index, got {value!r}", record=record,
                         field="train_trial_index") from None


def _number(value) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _read_stats(folder: Path) -> tuple[dict[tuple, dict[str, float]], list[str], int, int]:
    """Per key, every statistic's mean (entries with the same key merged); names in file order; merges; conflicts."""
    file = folder / "per_instance_stats.json"
    stats = read_json_document(file)
    if not isinstance(stats, list):
        raise InputError(file, f"expected a list of per-instance statistics, got {type(stats).__name__}")
    by_key: dict[tuple, dict[str, float]] = {}
    names: dict[str, None] = {}
    merged = conflicts = 0
    for i, entry in enumerate(stats):
        record = f"entry {i + 1}"
        if not isinstance(entry, dict) or "instance_id" not in entry:
            raise InputError(file, "expected an object with instance_id", record=record, field="instance_id")
        if not isinstance(entry.get("stats") or [], list):
            raise InputError(file, "expected a list of statistics", record=record, field="stats")
        key = (str(entry["instance_id"]), _trial(entry, file, record), _perturbation(entry))
        values = by_key.get(key)
        if values is None:
            values = by_key[key] = {}
        else:
            merged += 1
        for j, stat in enumerate(entry.get("stats") or []):
            stat = expect(stat, dict, file, record, f"stats[{j}]", default={})
            name = expect(stat.get("name"), dict, file, record, f"stats[{j}].name", default={}).get("name")
            if not isinstance(name, str) or not stat.get("count"):
                continue
            value = _number(stat.get("mean", stat.get("sum")))
            if value is None:
                continue
            names.setdefault(name, None)
            if name in values:
                conflicts += values[name] != value
                continue
            values[name] = value
    return by_key, list(names), merged, conflicts


def _is_bookkeeping(name: str) -> bool:
    return name in _BOOKKEEPING or name.startswith(_BOOKKEEPING_PREFIXES) or name.endswith("_annotator_success")


def _judges(names: Iterable[str]) -> dict[str, str]:
    """Judge statistic -> the combined score it feeds (``art_gpt_score`` -> ``art_score``)."""
    present = set(names)
    out = {}
    for name in present:
        m = _JUDGE.match(name)
        if m and f"{m['base']}_score" in present:
            out[name] = f"{m['base']}_score"
    return out


def _schema_main(folder: Path, groups: list[str]) -> tuple[list[str], str | None, str]:
    """Main metric names, main split and where they were found, for the run's groups."""
    for where in (folder / "schema.json", folder.parent / "schema.json"):
        if not where.is_file():
            continue
        try:
            schema = read_json_document(where)
        except InputError:
            continue
        run_groups = schema.get("run_groups") if isinstance(schema, dict) else None
        for group in groups:
            for entry in run_groups if isinstance(run_groups, list) else []:
                if not isinstance(entry, dict) or entry.get("name") != group:
                    continue
                env = entry.get("environment")
                if isinstance(env, dict) and env.get("main_name"):
                    return [str(env["main_name"])], env.get("main_split"), f"group {group!r} in {where.name} beside the run"
    for group in groups:
        if group in MAIN_METRICS:
            names, split = MAIN_METRICS[group]
            return list(names), split, f"group {group!r} in HELM's schema"
    return [], None, ""


def _choose_primary(names: list[str], groups: list[str], method: str, folder: Path
                    ) -> tuple[str, str, str | None, str | None]:
    """(primary statistic, why, HELM's main metric name, HELM's main split)."""
    judges = _judges(names)
    annotator = [n for n in names if n in set(judges.values())]
    metrics = [n for n in names if not _is_bookkeeping(n) and n not in judges]
    known, split, where = _schema_main(folder, groups)
    for main in known:
        if main in metrics:
            return main, f"HELM's main metric ({where})", main, split
        alias = _AGGREGATE_ALIASES.get(main)
        if alias in metrics:
            return alias, (f"HELM's main metric {main} ({where}) is computed over the whole run; "
                           f"per instance it is {alias}"), main, split
        if main.endswith("_score") and annotator:
            return annotator[0], (f"HELM's main metric {main} ({where}) is the annotators' combined score, "
                                  f"here {annotator[0]}"), main, split
    if not metrics:
        raise InputError(folder / "per_instance_stats.json", "has no evaluation statistic (only bookkeeping "
                         f"such as {', '.join(names[:4]) or 'nothing'}); expected a metric such as exact_match, "
                         "f1_score or an annotator's score", field="stats.name.name")
    if annotator:
        return annotator[0], f"the annotators' combined score (judged by {', '.join(sorted(judges))})", None, split
    if method.startswith(_MC_METHOD) and "exact_match" in metrics:
        return "exact_match", "exact_match, as for every multiple-choice run", None, split
    scores = [n for n in metrics if n.endswith("_score")]
    if scores:
        return scores[0], f"the run's graded score {scores[0]} (no known main metric for its group)", None, split
    exact = next((n for n in _EXACT_FAMILY if n in metrics), None)
    if exact:
        return exact, f"{exact} (no known main metric for its group)", None, split
    return metrics[0], f"the first evaluation statistic, {metrics[0]} (no known main metric for its group)", None, split


def _is_graded(name: str, values: Iterable[float | None]) -> bool:
    if name.endswith("_score") or name.startswith(("rouge", "bleu")):
        return True
    return any(v is not None and v not in (0.0, 1.0) for v in values)


def _eval_split(splits: list[str | None], main_split: str | None) -> str | None:
    present = {s for s in splits if s}
    for choice in (main_split, "test", "valid"):
        if choice and choice in present:
            return choice
    return next((s for s in splits if s), None)


def _annotation_texts(rs: dict) -> dict[str, str]:
    out = {}
    annotations = rs.get("annotations")
    if not isinstance(annotations, dict):
        return out
    for fields in annotations.values():
        if not isinstance(fields, dict):
            continue
        for key, value in fields.items():
            if isinstance(value, str) and "prompt" not in key:
                out.setdefault(key, value)
    return out


def _reported(folder: Path, split: str | None, metrics: list[tuple[str, str]]) -> list[Reported]:
    """HELM's own means from stats.json beside the run: ``metrics`` = (statistic names to try, basis)."""
    file = folder / AGGREGATE
    if not file.is_file():
        return []
    try:
        stats = read_json_document(file)
    except InputError:
        return []
    if not isinstance(stats, list):
        return []
    table: dict[str, dict] = {}
    for stat in stats:
        name = stat.get("name") if isinstance(stat, dict) else None
        if not isinstance(name, dict) or name.get("perturbation") or name.get("sub_split"):
            continue
        if name.get("split") == split and isinstance(name.get("name"), str):
            table.setdefault(name["name"], stat)
    n_stat = table.get("num_instances")
    n = int(n_stat["mean"]) if n_stat and _number(n_stat.get("mean")) is not None else None
    out = []
    for candidates, basis in metrics:
        name = next((c for c in candidates if c in table), None)
        if name is None:
            continue
        value = _number(table[name].get("mean"))
        out.append(Reported(metric=name, value=value, basis=basis, n=n,
                            source=f"{AGGREGATE}: {name} (split {split}, no perturbation)"))
    return out


def read_helm_run(folder: Path, *, multi: bool = False) -> list[SourceRun]:
    """The runs of one HELM run folder: its evaluation split, and any other split as a second run.

    Parameters
    ----------
    folder
        The run folder.
    multi
        True when the folder is one of several read together (the runs get a ``sub_key``).

    Returns
    -------
    list of SourceRun
        The evaluation split's run first.

    Raises
    ------
    analysis.errors.InputError
        A file is missing, is not what HELM writes, or the run has no evaluation statistic.
    """
    missing = [n for n in REQUIRED if not (folder / n).is_file()]
    if missing:
        raise InputError(folder, f"is a HELM run folder without {', '.join(missing)}; expected all of "
                         f"{', '.join(REQUIRED)}")
    state = read_json_document(folder / "scenario_state.json")
    spec = read_json_document(folder / "run_spec.json")
    if not isinstance(state, dict) or not isinstance(state.get("request_states"), list):
        raise InputError(folder / "scenario_state.json", "expected a list 'request_states'", field="request_states")
    if not isinstance(spec, dict):
        raise InputError(folder / "run_spec.json", f"expected a JSON object, got {type(spec).__name__}")
    by_key, names, merged, conflicts = _read_stats(folder)
    adapter = spec.get("adapter_spec") if isinstance(spec.get("adapter_spec"), dict) else {}
    state_adapter = expect(state.get("adapter_spec"), dict, folder / "scenario_state.json", None, "adapter_spec",
                           default={})
    method = str(adapter.get("method") or state_adapter.get("method") or "")
    groups = [str(g) for g in spec.get("groups") or [] if g]
    primary, why, helm_main, main_split = _choose_primary(names, groups, method, folder)
    judges = _judges(names)

    # One request state per key (multiple_choice_separate_* methods send one per reference).
    states: dict[tuple, tuple[int, dict]] = {}
    repeated = 0
    file = folder / "scenario_state.json"
    for i, rs in enumerate(state["request_states"]):
        record = f"request_states[{i}]"
        inst = rs.get("instance") if isinstance(rs, dict) else None
        if not isinstance(inst, dict) or "id" not in inst:
            raise InputError(file, "expected instance.id", record=record, field="instance.id")
        key = (str(inst["id"]), _trial(rs, file, record), _perturbation(inst))
        if key in states:
            repeated += 1
            if states[key][1].get("reference_index") is None or rs.get("reference_index") is not None:
                continue
        states[key] = (i, rs)
    if not states:
        raise InputError(file, "is empty: expected at least one request state")
    multi_trial = len({k[1] for k in states}) > 1
    all_tags: set[str] = set()
    for i, rs in states.values():
        record = f"request_states[{i}]"
        references = expect(rs["instance"].get("references"), list, file, record, "instance.references", default=[])
        for j, ref in enumerate(references):
            ref = expect(ref, dict, file, record, f"instance.references[{j}]", default={})
            tags = expect(ref.get("tags"), list, file, record, f"instance.references[{j}].tags", default=[])
            all_tags.update(t for t in tags if isinstance(t, str))
    paired = sorted(t for t in all_tags if f"non-{t}" in all_tags)

    rows, row_splits = [], []
    unmatched = 0
    for key, (i, rs) in sorted(states.items(), key=lambda kv: kv[1][0]):
        inst = rs["instance"]
        record = f"request_states[{i}]"
        iid, trial, pert = key
        values = by_key.get(key)
        if values is None:
            unmatched += 1
            values = {}
        result = expect(rs.get("result"), dict, file, record, "result", default={})
        completions = expect(result.get("completions"), list, file, record, "result.completions", default=[])
        raw = completions[0].get("text") if completions and isinstance(completions[0], dict) else None
        mapping = expect(rs.get("output_mapping"), dict, file, record, "output_mapping", default={})
        output = mapping.get(raw.strip(), raw) if isinstance(raw, str) else raw
        numbered = [(j, r) for j, r in enumerate(inst.get("references") or []) if isinstance(r, dict)]
        correct_refs = [expect(expect(r.get("output"), dict, file, record, f"instance.references[{j}].output",
                                      default={}).get("text"), str, file, record,
                               f"instance.references[{j}].output.text")
                        for j, r in numbered if "correct" in (r.get("tags") or [])]
        ref_tags = {t for _, r in numbered for t in r.get("tags") or [] if isinstance(t, str)}
        for part in ("split", "sub_split"):
            expect(inst.get(part), str, file, record, f"instance.{part}")
        text_in = expect(inst.get("input"), dict, file, record, "instance.input", default={}).get("text")
        example_id = iid + (f"#trial{trial}" if multi_trial else "") + (f"#{pert}" if pert else "")
        row = {"example_id": example_id, "input": text_in, "output": output,
               "reference": " | ".join(t for t in correct_refs if t) or None,
               "meta:instance_id": iid, "meta:split": inst.get("split"), "meta:sub_split": inst.get("sub_split"),
               "meta:raw_output": raw, "meta:perturbation": pert or None, "meta:train_trial_index": trial}
        for tag in paired:
            row[f"meta:{tag}"] = tag if tag in ref_tags else (f"non-{tag}" if f"non-{tag}" in ref_tags else None)
        for name, text in _annotation_texts(rs).items():
            row[f"meta:{name}"] = text
        for name in names:
            row[f"stat:{name}"] = values.get(name)
        rows.append(row)
        row_splits.append(inst.get("split"))

    graded = _is_graded(primary, (r[f"stat:{primary}"] for r in rows))
    correct = next((c for c in _CORRECT_STATS if c in names and c != primary), None) if graded else None
    roles = {"example_id": "id", "input": "input", "output": "output", "reference": "reference"}
    for name in names:
        col = f"stat:{name}"
        if name == primary:
            roles[col] = "score"
        elif name == correct:
            roles[col] = "correct"
        elif name in judges:
            roles[col] = "rater"
        elif _is_bookkeeping(name):
            roles[col] = "signal" if name in _SIGNALS else "metadata"
        else:
            roles[col] = "scores"

    eval_split = _eval_split(row_splits, main_split)
    parts: dict[str | None, list[dict]] = {}
    for row, split in zip(rows, row_splits):
        parts.setdefault(eval_split if split is None or split == eval_split else split, []).append(row)

    model = adapter.get("model")
    scenario_spec = expect(spec.get("scenario_spec"), dict, folder / "run_spec.json", None, "scenario_spec", default={})
    scenario = str(scenario_spec.get("class_name") or "").rsplit(".", 1)[-1]
    task = groups[0] if groups else (scenario or None)
    base_name = f"{task or scenario} · {model}" if model else folder.name
    notes = [f"HELM run {spec.get('name') or folder.name}", f"score = {primary}: {why}"]
    if correct:
        notes.append(f"correct = {correct} (HELM's per-instance correctness; {primary} is graded)")
    if judges:
        notes.append(f"judges {', '.join(sorted(judges))} are raters")
    if merged:
        notes.append(f"{merged} repeated per-instance entries merged")
    if conflicts:
        notes.append(f"{format_count(conflicts, 'statistic')} given twice with different values: the first kept")
    if repeated:
        notes.append(f"{format_count(repeated, 'further request state')} of the same instances (one per reference) not shown")
    if unmatched:
        notes.append(f"{format_count(unmatched, 'request')} had no per-instance statistics (unscorable)")
    if any(r["meta:perturbation"] for r in rows):
        notes.append("perturbed requests are rows of this run (column perturbation); HELM's headline is on "
                     "the originals only")
    other = [s for s in parts if s != eval_split]
    runs = []
    for split in [eval_split, *other]:
        part = parts[split]
        frame = rows_to_frame(part, order=["example_id", "input", "output", "reference"])
        outcome = {f"stat:{primary}", f"stat:{correct}"}
        empty = [c for c in frame.columns if c not in outcome and frame[c].isna().all()]
        constant = [c for c in frame.columns if c.startswith("stat:") and _is_bookkeeping(c[5:])
                    and c[5:] not in _KEPT_BOOKKEEPING and frame[c].nunique(dropna=False) <= 1]
        frame = frame.drop(columns=sorted(set(empty + constant), key=list(frame.columns).index))
        part_roles = {c: roles.get(c, "metadata") for c in frame.columns}
        frame, part_roles = strip_prefixes(frame, part_roles, ("meta", "stat"))
        split_note = (f"split {split} (HELM's evaluation split)" if split == eval_split
                      else f"split {split}, apart from HELM's evaluation split {eval_split}")
        if split == eval_split and other:
            split_note += "; the " + ", ".join(f"{len(parts[s]):,} {s}" for s in other) + \
                (" instance is" if sum(len(parts[s]) for s in other) == 1 else " instances are") + " the run" + \
                ("s" if len(other) > 1 else "") + " " + \
                ", ".join(f"'{base_name} · {s}'" for s in other)
        asked = [([helm_main, primary] if helm_main else [primary], "score")]
        if correct:
            asked.append(([correct], "correct"))
        suffix = "" if split == eval_split else f" · {split}"
        sub_key = (folder.name if multi else "") + ("" if split == eval_split else f"#{split}")
        runs.append(SourceRun(
            "helm", [*(folder / n for n in REQUIRED), *([folder / AGGREGATE] if (folder / AGGREGATE).is_file() else [])],
            base_name + suffix, model=model, task=task, frame=frame, roles=part_roles, record_label="request",
            sub_key=sub_key, notes="; ".join([*notes, split_note]), identity_files=len(REQUIRED), tool=TOOL,
            reported=_reported(folder, split, asked)))
    return runs
