"""lm-evaluation-harness ``--log_samples`` output, in every layout it has written.

Layouts
-------
0.4.3 and later
    ``samples_<task>_<date>.jsonl``, one JSON object per line: ``doc_id``, ``doc`` (the dataset
    row), ``target``, ``arguments`` (``gen_args_N.arg_0`` is the prompt; ``arg_1`` is a choice's
    continuation for log-likelihood requests, the generation settings for ``generate_until``),
    ``resps`` / ``filtered_resps``, ``filter``, ``metrics`` (the names of the metric keys on the
    line), hashes, and one key per metric. ``results_<date>.json`` lies beside it.
0.4.0 to 0.4.2
    ``<model_args>_<task>.jsonl`` (``/`` and ``=`` of the model arguments written as ``__``):
    ONE pretty-printed JSON array of the same samples, ``arguments`` as a list of
    ``[context, continuation]`` lists, no ``filter`` and no ``metrics`` key (every other key is a
    metric). ``results.json`` lies beside it.

A task with several filters (gsm8k's ``strict-match`` and ``flexible-extract``) logs each
document once per filter; lm-eval reports each filter's figure on its own, so each filter
becomes its own run (``sub_key`` = the filter) whose example ids stay the ``doc_id``. The old
layout names no filter: the k-th time a document appears is the k-th filter, in the order the
results file lists them (lm-eval wrote filter after filter).

Outcome: the task's first correctness metric (``acc``, ``exact_match``..., else the first
metric on the line) is the score; the other metrics are ``score.*``. A metric whose value is a
list (IFEval's ``inst_level_*``: one verdict per instruction) is stored as its mean; a scalar
metric is preferred as the primary one. Corpus-level metrics logged per sample as pairs
(``bleu``, ``word_perplexity``...) and text values are kept as metadata.

Output: for multiple choice, the choice with the highest log-likelihood; for generation, the
filtered answer (the raw generation is kept as ``response`` when a filter changed it). The
reference is the target as text, except that a multiple-choice target that is an index names
its choice.

Reconciliation: lm-eval's own figure for the run is ``results[task]["<metric>,<filter>"]`` of the
results file beside the samples, over ``n-samples[task].effective`` documents (``--limit`` runs
evaluate fewer than the ``original``; a samples file cut short holds fewer than ``effective``).

The file is read by DuckDB (``read_json`` with explicit JSON columns, the extraction in SQL);
the first records are read in Python to learn the metric names, and a file DuckDB cannot parse
is read again in Python to name the line and the fault.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from analysis.errors import EMPTY_FILE, InputError
from analysis.sql import connect
from analysis.sql import lm_eval as Q

from ._records import strip_prefixes
from .base import Reported, SourceRun, iter_jsonl, max_field_bytes, parse_json_bytes, read_json_document

TOOL = "lm-eval"
#: Metrics preferred as the run's score, in this order; otherwise the first metric on the line.
_CORRECT_METRICS = ("acc", "exact_match", "acc_norm", "em", "pass@1", "correct")
#: Keys of a sample that are not metrics (what the 0.4.0-0.4.2 layout wrote besides them, and later keys).
_SAMPLE_KEYS = frozenset({"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter",
                          "metrics", "doc_hash", "prompt_hash", "target_hash"})
#: Metrics logged per sample as a pair that only the corpus-level aggregation turns into a figure.
_PAIR_METRICS = frozenset({"word_perplexity", "byte_perplexity", "bits_per_byte", "bleu", "chrf", "ter"})
_SAMPLES_NAME = re.compile(r"^samples_(?P<task>.+?)_(?P<date>\d{4}-\d{2}-\d{2}T[\d\-.]+)\.jsonl?$")
_HEAD_RECORDS = 200
_NUMBER_TYPES = frozenset({"BOOLEAN", "BIGINT", "UBIGINT", "DOUBLE"})
_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


@dataclass(frozen=True)
class _Layout:
    """Where one lm-eval layout keeps the prompt and the choices."""

    name: str
    read_format: str
    record_label: str
    prompt: str
    """JSON path of the first request's context inside ``arguments``."""
    continuation: str
    """JSON path of the first request's second argument (a choice, or the generation settings)."""
    choices: str
    """JSON path of every request's second argument."""


_JSONL = _Layout("0.4.3+ samples_*.jsonl", "newline_delimited", "line",
                 "$.gen_args_0.arg_0", "$.gen_args_0.arg_1", "$.*.arg_1")
_ARRAY = _Layout("0.4.0-0.4.2 JSON array", "array", "record", "$[0][0]", "$[0][1]", "$[*][1]")


# ------------------------------------------------------------------ the first records, in Python


def _layout_of(path: Path) -> _Layout:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if not text:
        raise InputError(path, EMPTY_FILE)
    return _ARRAY if text.startswith("[") else _JSONL


def _head(path: Path, layout: _Layout) -> list[tuple[int, dict]]:
    """The first records, checked to be lm-eval samples (errors name the record)."""
    records: list[tuple[int, dict]] = []
    if layout is _JSONL:
        for number, record in iter_jsonl(path):
            records.append((number, record))
            if len(records) >= _HEAD_RECORDS:
                break
    else:
        records = _array_head(path)
    if not records:
        raise InputError(path, "is empty: expected an evaluation log with at least one example")
    for number, record in records:
        if not isinstance(record, dict):
            raise InputError(path, f"expected a JSON object (an lm-eval sample), got {type(record).__name__}",
                             record=f"{layout.record_label} {number}")
        if "doc_id" not in record:
            raise InputError(path, "expected lm-eval sample fields (doc_id, doc, arguments, resps)",
                             record=f"{layout.record_label} {number}", field="doc_id")
    return records


def _array_head(path: Path) -> list[tuple[int, object]]:
    limit = max_field_bytes()
    with open(path, "rb") as handle:
        raw = handle.read(limit + 1)
    whole = len(raw) <= limit
    if whole:
        document = parse_json_bytes(raw, path)  # errors name the line and column
        if not isinstance(document, list):
            raise InputError(path, "expected a JSON array of lm-eval samples")
        return list(enumerate(document[:_HEAD_RECORDS], start=1))
    text = raw.decode("utf-8", errors="ignore").lstrip("\ufeff")
    decoder = json.JSONDecoder()
    position = text.index("[") + 1
    records: list[tuple[int, object]] = []
    while len(records) < _HEAD_RECORDS:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            break
        try:
            record, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            break  # the read stopped inside a record: the records so far are enough
        records.append((len(records) + 1, record))
    if not records:
        raise InputError(path, f"has a first sample larger than {limit // 2**20} MB; expected smaller records "
                         "(or raise FAULTLINE_MAX_FIELD_MB)", record="record 1")
    return records


def _metric_names(records: list[tuple[int, dict]]) -> list[str]:
    """Metric keys, in the order the samples name them (``metrics``, else every non-sample key)."""
    names: dict[str, None] = {}
    for _, record in records:
        listed = record.get("metrics")
        keys = listed if isinstance(listed, list) else [k for k in record if k not in _SAMPLE_KEYS]
        for key in keys:
            if isinstance(key, str) and key not in _SAMPLE_KEYS:
                names.setdefault(key, None)
    return _usable_names(list(names))


def _usable_names(names: list[str]) -> list[str]:
    # DuckDB column names ignore case: keep the first of names that differ only by case.
    seen = {k.lower() for k in _SAMPLE_KEYS}
    kept = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            kept.append(name)
    return kept


# ------------------------------------------------------------------ the whole file, in DuckDB


def _load(con, path: Path, layout: _Layout, metrics: list[str]) -> None:

    columns = dict.fromkeys(["doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter",
                             "metrics", *metrics], "JSON")
    con.execute(Q.DROP)
    try:
        con.execute(Q.load(metrics, named_filters=layout is _JSONL),
                    [[layout.prompt, layout.continuation], layout.choices, str(path), layout.read_format,
                     columns, max_field_bytes()])
    except duckdb.Error as err:
        raise _diagnose(path, layout, err) from err


def _renumber_lines(con, path: Path) -> None:
    """Record numbers are line numbers unless the file has blank lines (DuckDB skips them): then
    each record is given the number of the line it is on."""

    records = _first(con, Q.COUNT)[0]
    if _count_lines(path) == records:
        return
    with open(path, "rb") as handle:
        numbers = [number for number, raw in enumerate(handle, start=1) if raw.strip()]
    if len(numbers) == records:
        con.execute(Q.RENUMBER, [numbers])


def _count_lines(path: Path) -> int:
    """Lines in a file (a last line without a newline counts), read in blocks."""
    lines, last = 0, b"\n"
    block = bytearray(1 << 22)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(block):
            view = memoryview(block)[:size]
            lines += bytes(view).count(b"\n") if size < len(block) else block.count(b"\n")
            last = bytes(view[-1:])
    return lines + (last != b"\n")


def _diagnose(path: Path, layout: _Layout, err: Exception) -> InputError:
    """Read the file again in Python to name the line and the fault DuckDB stopped at."""
    if layout is _JSONL:
        for _ in iter_jsonl(path):  # raises, naming the line, on what it finds first
            pass
    else:
        read_json_document(path)
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return InputError(path, f"could not be read as lm-eval samples: {first}")


def _first(con, sql: str, params: list | None = None) -> tuple:
    """The first row of a query (fetched whole: DuckDB keeps an unfinished result open)."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else ()


def _metric_kinds(con, path: Path, layout: _Layout, metrics: list[str]) -> dict[str, str]:
    """Each metric's kind: ``number``, ``list`` (stored as its mean), ``text`` (kept as metadata) or
    ``absent`` (no record gives it a value; left out)."""

    kinds: dict[str, str] = {}
    for i, name in enumerate(metrics):
        types = {t: line for t, line in con.execute(Q.metric_types(i)).fetchall() if t != "NULL"}
        numbers = {t: line for t, line in types.items() if t in _NUMBER_TYPES}
        others = {t: line for t, line in types.items() if t not in _NUMBER_TYPES}
        if not types:
            kinds[name] = "absent"
        elif numbers and others:
            bad_line = min(others.values())
            value = _first(con, Q.metric_value(i), [bad_line])[0]
            raise InputError(path, f"expected a number for metric {name!r} (as on {layout.record_label} "
                             f"{min(numbers.values())}), got {value}", record=f"{layout.record_label} {bad_line}",
                             field=name)
        elif numbers:
            kinds[name] = "number"
        elif set(types) == {"ARRAY"} and name not in _PAIR_METRICS:
            items = {r[0] for r in con.execute(Q.list_element_types(i)).fetchall()}
            kinds[name] = "list" if items <= _NUMBER_TYPES | {"NULL"} else "text"
        else:
            kinds[name] = "text"
    return kinds


def _doc_fields(con, head: list[tuple[int, dict]]) -> list[tuple[str, str]]:
    """The dataset row's top-level keys with the SQL type each is read as.

    Keys come in the order of the first records (read in Python), then any key first seen
    further down; a key whose value is null wherever it appears is left out.
    """

    order: dict[str, None] = {}
    for _, record in head:
        if isinstance(record.get("doc"), dict):
            order.update(dict.fromkeys(record["doc"]))
    order.update(dict.fromkeys(r[0] for r in con.execute(Q.DOC_KEYS).fetchall()))
    keys = list(order)
    if not keys:
        return []
    kinds = _first(con, Q.doc_types(len(keys)), [_doc_paths(keys)])
    fields = []
    for key, types in zip(keys, kinds, strict=True):
        found = set(types or ()) - {"NULL", None}
        if not found:
            continue
        if found <= {"BIGINT", "UBIGINT"}:
            sql_type = "BIGINT"
        elif found <= {"BIGINT", "UBIGINT", "DOUBLE"}:
            sql_type = "DOUBLE"
        elif found == {"BOOLEAN"}:
            sql_type = "BOOLEAN"
        else:
            sql_type = "VARCHAR"  # text, and lists, objects or mixed values as JSON text
        fields.append((key, sql_type))
    return fields


def _doc_paths(keys: list[str]) -> list[str]:
    """JSON paths of top-level keys (quoted, so dots and spaces in a key are kept)."""
    return ['$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in keys]


def _filters(con, layout: _Layout, result_filters: list[str]) -> list[str]:
    """The run's filters in the order lm-eval applied them; the old layout's are given by position."""

    if layout is _JSONL:
        return [r[0] for r in con.execute(Q.FILTERS).fetchall()]
    copies = _first(con, Q.DOC_COPIES)[0] or 1
    names = result_filters if len(result_filters) == copies else (
        ["none"] if copies == 1 else [f"filter {k}" for k in range(1, copies + 1)])
    con.execute(Q.ASSIGN_FILTERS, [names])
    return names


def _frame(con, run_filter: str, metrics: list[str], kinds: dict[str, str],
           doc_fields: list[tuple[str, str]]) -> pd.DataFrame:
    """One filter's samples as a typed table (``metric:``, ``doc:`` and ``resp:`` prefixed columns)."""

    multiple_choice, response = _first(con, Q.RUN_SHAPE, [run_filter])
    sql = Q.run_rows([(i, f"metric:{m}", kinds[m]) for i, m in enumerate(metrics) if kinds[m] != "absent"],
                     [(f"doc:{key}", sql_type) for key, sql_type in doc_fields],
                     multiple_choice=bool(multiple_choice), response=bool(response))
    params = ([_doc_paths([key for key, _ in doc_fields])] if doc_fields else []) + [run_filter]
    # Through Arrow: text stays Arrow-backed (pandas' str), integers and booleans keep their nulls.
    table = con.sql(sql, params=params).to_arrow_table()
    return table.to_pandas(types_mapper=_NULLABLE.get)


# ------------------------------------------------------------------ the results file beside the samples


def _results_beside(path: Path, layout: _Layout) -> tuple[dict, Path] | None:
    """The results summary of the same run: ``results_<date>.json`` of the same date, else the one
    summary beside the samples whose tasks the file name ends with."""
    match = _SAMPLES_NAME.match(path.name)
    if match:
        same = path.parent / f"results_{match.group('date')}.json"
        doc = _read_results(same)
        if doc is not None:
            return doc, same
    candidates = [path.parent / "results.json"] if layout is _ARRAY else []
    candidates += sorted(p for p in path.parent.glob("results*.json") if p not in candidates)
    found = []
    for candidate in candidates:
        doc = _read_results(candidate)
        if doc is not None and _task_in(path, layout, doc) is not None:
            found.append((doc, candidate))
    if layout is _ARRAY and found and found[0][1].name == "results.json":
        return found[0]
    return found[0] if len(found) == 1 else None


def _read_results(candidate: Path) -> dict | None:
    if not candidate.is_file():
        return None
    try:
        doc = read_json_document(candidate)
    except InputError:
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("results"), dict) else None


def _task_in(path: Path, layout: _Layout, results: dict | None) -> str | None:
    """The task of ``path`` among the tasks a results file reports."""
    tasks = list((results or {}).get("results") or {})
    match = _SAMPLES_NAME.match(path.name)
    if match:
        return match.group("task") if match.group("task") in tasks else None
    stem = path.name.removesuffix(".jsonl").removesuffix(".json")
    ends = [t for t in tasks if stem == t or stem.endswith("_" + t)]
    return max(ends, key=len) if ends else None


def _task_from_name(path: Path, layout: _Layout) -> tuple[str, str | None]:
    """(task, model) from the file name alone: ``samples_<task>_<date>`` or ``<model_args>_<task>``."""
    match = _SAMPLES_NAME.match(path.name)
    if match:
        return match.group("task"), None
    stem = path.name.removesuffix(".jsonl").removesuffix(".json")
    if layout is _ARRAY and "__" in stem:
        head, _, tail = stem.rpartition("__")
        model_part, sep, task = tail.partition("_")
        if sep and task:
            return task, _model_from_args(f"{head}__{model_part}")
    return stem.removeprefix("samples_"), None


def _model_from_args(model_args: str) -> str | None:
    """The model named in lm-eval's ``model_args`` (``pretrained=org/name,dtype=...``), also in the
    file-name form where ``=`` and ``/`` became ``__``."""
    pairs = {}
    for part in model_args.split(","):
        if "=" in part:
            key, _, value = part.partition("=")
        elif "__" in part:
            key, _, value = part.partition("__")
            value = value.replace("__", "/")
        else:
            continue
        pairs[key.strip()] = value.strip()
    for key in ("pretrained", "model", "model_name", "engine", "path", "peft"):
        if pairs.get(key):
            return pairs[key]
    return None


def _model(results: dict | None) -> str | None:
    if not results:
        return None
    if isinstance(results.get("model_name"), str) and results["model_name"].strip():
        return results["model_name"].strip()
    config = results.get("config") or {}
    args = config.get("model_args")
    if isinstance(args, dict):
        name = next((args[k] for k in ("pretrained", "model", "model_name", "engine", "path") if args.get(k)), None)
        if isinstance(name, str):
            return name
    elif isinstance(args, str):
        name = _model_from_args(args)
        if name:
            return name
    return config.get("model") if isinstance(config.get("model"), str) else None


def _result_filters(task_results: dict) -> list[str]:
    """Filters in the order the results list ``<metric>,<filter>`` keys."""
    names: dict[str, None] = {}
    for key in task_results:
        metric, sep, name = key.partition(",")
        if sep and not metric.endswith("_stderr"):
            names.setdefault(name, None)
    return list(names)


def _n_evaluated(results: dict, task: str) -> tuple[int | None, int | None]:
    """(effective, original): documents lm-eval evaluated, and the task's size before --limit."""
    counts = (results.get("n-samples") or {}).get(task) or {}
    effective, original = counts.get("effective"), counts.get("original")
    if not isinstance(effective, int):
        sample_len = ((results.get("results") or {}).get(task) or {}).get("sample_len")
        effective = sample_len if isinstance(sample_len, int) else None
    return effective, original if isinstance(original, int) else None


# ------------------------------------------------------------------ the reader


def read_lm_eval(path: Path) -> list[SourceRun]:
    """Read lm-eval samples: one run per filter, one example per document.

    Parameters
    ----------
    path
        A ``samples_<task>_<date>.jsonl`` file (0.4.3+), or a ``<model_args>_<task>.jsonl``
        JSON array (0.4.0-0.4.2); the results summary beside it is read when found.

    Returns
    -------
    list of SourceRun
        One per filter, each with lm-eval's own figure for it in ``reported``.

    Raises
    ------
    analysis.errors.InputError
        The file is not lm-eval samples or a value is wrong, naming the line (or record) and field.
    """
    path = Path(path)
    layout = _layout_of(path)
    head = _head(path, layout)
    metrics = _metric_names(head)
    found = _results_beside(path, layout)
    results, results_path = found if found else (None, None)
    task_from_name, model_from_name = _task_from_name(path, layout)
    task = _task_in(path, layout, results) or task_from_name
    task_results = ((results or {}).get("results") or {}).get(task) or {}

    con = connect(":memory:")
    try:
        _load(con, path, layout, metrics)
        if layout is _JSONL:
            listed = _usable_names([r[0] for r in con.execute(Q.LISTED_METRICS).fetchall()])
            extra = [m for m in listed if m not in metrics]
            if extra:  # metrics first named further down than the records read in Python
                metrics += extra
                _load(con, path, layout, metrics)
        if layout is _JSONL:
            _renumber_lines(con, path)
        missing = _first(con, Q.MISSING_DOC_ID)[0]
        if missing is not None:
            raise InputError(path, "expected lm-eval sample fields (doc_id, doc, arguments, resps)",
                             record=f"{layout.record_label} {missing}", field="doc_id")
        kinds = _metric_kinds(con, path, layout, metrics)
        scored = [m for m in metrics if kinds[m] == "number"] or [m for m in metrics if kinds[m] == "list"]
        if not scored:
            found_names = ", ".join(metrics) or "none"
            raise InputError(path, "has no per-sample metric to score (metrics found: "
                             f"{found_names}); expected numbers under the keys named in each line's 'metrics' "
                             "list (e.g. acc, exact_match)", record=f"{layout.record_label} 1", field="metrics")
        primary = next((m for m in _CORRECT_METRICS if m in scored), scored[0])
        doc_fields = _doc_fields(con, head)
        filters = _filters(con, layout, _result_filters(task_results))
        frames = {f: _frame(con, f, metrics, kinds, doc_fields) for f in filters}
    finally:
        con.close()
    model = _model(results) or model_from_name
    files = [path] + ([results_path] if results_path else [])
    runs = []
    for run_filter, frame in frames.items():
        frame, roles = _roles(frame, primary, kinds)
        reported, notes = _reconcile(results, results_path, task, run_filter, primary, kinds, len(frame))
        several = len(frames) > 1
        name = " · ".join([task] + ([run_filter] if several else []) + ([model] if model else []))
        runs.append(SourceRun("lm_eval", files, name, model=model, task=task,
                              sub_key=run_filter if several else "", frame=frame, roles=roles,
                              record_label=layout.record_label, notes=notes, identity_files=1,
                              tool=TOOL, reported=reported,
                              extra={"layout": layout.name, "filter": run_filter}))
    return runs


def _roles(frame: pd.DataFrame, primary: str, kinds: dict[str, str]) -> tuple[pd.DataFrame, dict[str, str]]:
    roles = {"example_id": "id", "input": "input", "output": "output", "reference": "reference",
             "__line": "source_row"}
    for col in frame.columns:
        if col in roles:
            continue
        if col == f"metric:{primary}":
            roles[col] = "score"
        elif col.startswith("metric:") and kinds.get(col.removeprefix("metric:")) != "text":
            roles[col] = "scores"
        else:
            roles[col] = "metadata"
    return strip_prefixes(frame, roles, ("doc", "metric", "resp"))


def _reconcile(results: dict | None, results_path: Path | None, task: str, run_filter: str, primary: str,
               kinds: dict[str, str], stored: int) -> tuple[list[Reported], str]:
    """lm-eval's own figure for one filter's run, and a note of its other figures."""
    if not results or results_path is None:
        return [], ""
    task_results = (results.get("results") or {}).get(task) or {}
    effective, original = _n_evaluated(results, task)
    key = f"{primary},{run_filter}"
    value = task_results.get(key)
    reported = []
    notes = []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if kinds.get(primary) == "list":
            notes.append(f"lm-eval's {key} = {value:.4g} pools every item of every sample; the stored score is "
                         "each sample's mean, so the two are not compared")
        else:
            reported.append(Reported(metric=key, value=float(value), basis="score", n=effective,
                                     source=f"{results_path.name}: results.{task}.{key}"))
    figures = [f"{k}={v:.4g}" for k, v in task_results.items()
               if k.endswith(f",{run_filter}") and "_stderr" not in k
               and isinstance(v, (int, float)) and not isinstance(v, bool)]
    if figures:
        notes.insert(0, "lm-eval reported: " + ", ".join(figures))
    if effective is not None and original is not None and effective < original:
        notes.append(f"lm-eval evaluated {effective:,} of the task's {original:,} documents (--limit)")
    if effective is not None and stored < effective:
        notes.append(f"partial: the samples file holds {stored:,} of the {effective:,} samples lm-eval evaluated")
    return reported, "; ".join(notes)
