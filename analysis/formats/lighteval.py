"""Hugging Face lighteval details (``details_<task>_<date>.parquet``) and their results JSON.

lighteval (0.10 and later) writes one row per document with three structs: ``doc`` (``query``,
``choices``, ``gold_index``, ``id``, ``task_name``, ...), ``metric`` (one number per sample-level
metric) and ``model_response`` (``text``, ``text_post_processed``, ``logprobs``, ...). Earlier
versions wrote flat columns (``full_prompt``, ``predictions``, ``gold``) and a ``metrics``
struct; those are read too. A details file of neither layout is read as a plain Parquet table.

The columns are read by DuckDB straight from the file: ``doc.query`` is the input, the first
generated text (else, for log-likelihood tasks, the choice with the highest log-probability)
the output, ``doc.choices[gold_index]`` the reference, the run's first metric the score and the
others ``score.<metric>``. The results JSON of the run (beside the details, or where lighteval
puts it: ``results/<model>/results_<date>.json`` next to ``details/<model>/<date>/``) gives the
model, the primary metric (the first the results list for the task) and the tool's own figure
for it (when its corpus-level aggregation is the mean).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from analysis.errors import InputError
from analysis.sql import lighteval as S
from analysis.sql import quote_ident

from .base import Reported, SourceRun, read_json_document
from .flat import read_flat

_DATE = re.compile(r"_(\d{4}-\d{2}-\d{2}T[0-9.:\-]+)\.parquet$")
#: The struct columns of lighteval's details since 0.10.
STRUCTS = ("doc", "metric", "model_response")


def _kind(t: pa.DataType) -> str:
    """``text``, ``texts``, ``number``, ``numbers``, ``struct`` or ``other``."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_struct(t):
        return "struct"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = _kind(t.value_type)
        return inner + "s" if inner in ("text", "number") else "other"
    return "other"


def _fields(schema: pa.Schema, name: str) -> dict[str, str]:
    """The kinds of a struct column's fields (empty when the column is not a struct)."""
    if name not in schema.names or not pa.types.is_struct(schema.field(name).type):
        return {}
    return {f.name: _kind(f.type) for f in schema.field(name).type}


def _schema(path: Path) -> pa.Schema | None:
    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError):
        return None


def _layout(schema: pa.Schema | None, path: Path) -> str | None:
    """``"0.10"`` (doc / metric / model_response structs), ``"0.4"`` (a ``metrics`` struct), or None."""
    if schema is None:
        return None
    if all(_fields(schema, s) for s in STRUCTS):
        return "0.10"
    if path.name.startswith("details_") and _fields(schema, "metrics"):
        return "0.4"
    return None


def is_lighteval_details(path: Path) -> bool:
    """Whether a Parquet file is lighteval details: its ``doc`` / ``metric`` / ``model_response`` structs,
    or a ``details_*.parquet`` name with a ``metrics`` struct (the layout before 0.10)."""
    return _layout(_schema(path), path) is not None


def _date_and_task(path: Path) -> tuple[str | None, str | None]:
    """``details_<task>_<date>.parquet`` -> (date, task)."""
    found = _DATE.search(path.name)
    if not found or not path.name.startswith("details_"):
        return None, None
    return found.group(1), path.name[len("details_"): found.start()]


def _results_file(path: Path, date: str | None, task: str | None) -> Path | None:
    """The run's results JSON: beside the details, else in lighteval's ``results/<model>/`` folder."""
    candidates = []
    if date:
        candidates.append(path.with_name(f"results_{date}.json"))
        for parent in path.parents:
            if parent.name == "details":
                model_dir = path.parent.parent.relative_to(parent)
                candidates.append(parent.parent / "results" / model_dir / f"results_{date}.json")
                break
    candidates += sorted(path.parent.glob("results_*.json"))
    for candidate in candidates:
        if candidate.is_file() and candidate.stat().st_size:
            try:
                doc = read_json_document(candidate)
            except InputError:
                continue
            if isinstance(doc, dict) and isinstance(doc.get("results"), dict) and (
                    task is None or task in doc["results"] or candidate.name == f"results_{date}.json"):
                return candidate
    return None


def _items_0_10(path: Path, schema: pa.Schema) -> tuple[list[tuple[str, str, str]], list[str], str | None]:
    """(expression, column, role) of the 0.10+ layout; the numeric metric fields; the first doc.task_name."""

    doc, metric, response = (_fields(schema, s) for s in STRUCTS)
    items: list[tuple[str, str, str]] = []
    task = None
    if doc.get("id") == "text":
        ids = pq.read_table(path, columns=["doc.id"]).column(0)
        ids = pc.if_else(pc.equal(ids, ""), pa.scalar(None, pa.string()), ids)
        unique = ids.null_count == 0 and pc.count_distinct(ids).as_py() == len(ids)
    else:
        unique = False
    items.append((S.field("doc", "id") if unique else S.row_number_text(), "example_id", "id"))
    if doc.get("task_name") == "text":
        items.append((S.field("doc", "task_name"), "task", "task"))
        with pq.ParquetFile(path) as handle:
            first = handle.read_row_group(0, columns=["doc.task_name"]).column(0) if handle.num_row_groups else []
        task = first[0].as_py() if len(first) else None
    if doc.get("query") == "text":
        items.append((S.field("doc", "query"), "input", "input"))
    choices = doc.get("choices") == "texts"
    outputs = []
    if response.get("text") == "texts":
        outputs.append(S.first_text("model_response", "text"))
    if choices and response.get("logprobs") == "numbers":
        outputs.append(S.most_likely_choice("doc", "choices", "model_response", "logprobs"))
    if outputs:
        items.append((f"coalesce({', '.join(outputs)})" if len(outputs) > 1 else outputs[0], "output", "output"))
    if choices and doc.get("gold_index") in ("number", "numbers"):
        items.append((S.choice_at("doc", "choices", "gold_index", several=doc["gold_index"] == "numbers"),
                      "reference", "reference"))
    if response.get("text_post_processed") == "texts":
        items.append((S.first_text("model_response", "text_post_processed"), "extracted_prediction", "metadata"))
    if choices:
        items.append((S.joined("doc", "choices"), "choices", "metadata"))
    if doc.get("specific") == "struct":
        items.append((S.field("doc", "specific"), "specific", "metadata"))
    for name in ("truncated_tokens_count", "padded_tokens_count"):
        if response.get(name) == "number":
            items.append((S.field("model_response", name), name, "metadata"))
    return items, [f for f, k in metric.items() if k == "number"], task


def _items_0_4(schema: pa.Schema) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(expression, column, role) of the layout before 0.10 (flat columns and a ``metrics`` struct)."""

    kinds = {f.name: _kind(f.type) for f in schema}
    items = [(S.row_number_text(), "example_id", "id")]
    source = next((c for c in ("full_prompt", "example") if kinds.get(c) == "text"), None)
    if source:
        items.append((quote_ident(source), "input", "input"))
    for name, role in (("predictions", "output"), ("gold", "reference")):
        if kinds.get(name) == "texts":
            items.append((f"{quote_ident(name)}[1]", role, role))
    return items, [f for f, k in _fields(schema, "metrics").items() if k == "number"]


#: Diagnostics lighteval logs beside its metrics (a failed answer extraction): never a headline.
_DIAGNOSTIC = re.compile(r"(^|_)(fail|failed|failure|invalid|error|freq|frequency|count|len|length)s?($|_)",
                         re.IGNORECASE)
#: Names of correctness-like metrics, preferred as the headline when no results JSON says which it is.
_STANDARD = re.compile(r"(^|_)(acc|accuracy|em|exact_match|pass@1|f1|score)($|_|@)", re.IGNORECASE)


def _primary(metrics: list[str], results: dict | None, task: str | None) -> str | None:
    """The run's headline metric: the first the results JSON lists for the task, else the first metric in the file
    that is not a diagnostic (``extract_fail`` counts failed extractions: a lower-is-better count, not a score)."""
    listed = (results or {}).get("results", {}).get(task) if task else None
    if isinstance(listed, dict):
        for name in listed:
            if name in metrics:
                return name
    scores = [m for m in metrics if not _DIAGNOSTIC.search(m)]
    standard = [m for m in scores if _STANDARD.search(m)]
    return (standard or scores or metrics)[0] if metrics else None


def _corpus_function(results: dict, task: str, metric: str) -> str | None:
    config = (results.get("config_tasks") or {}).get(task) or {}
    for entry in config.get("metrics") or []:
        functions = entry.get("corpus_level_fn") if isinstance(entry, dict) else None
        if isinstance(functions, dict) and metric in functions:
            return str(functions[metric])
    return None


def read_lighteval(path: Path) -> list[SourceRun]:
    """Read a lighteval details Parquet file (and its results JSON, when found) into one run."""

    schema = _schema(path)
    layout = _layout(schema, path)
    if layout is None:  # a details_ file of a layout this reader does not know: a plain table, roles guessed
        runs = read_flat(path, "parquet")
        runs[0].notes = "a details_*.parquet file without lighteval's doc / metric / model_response structs"
        return runs
    if layout == "0.10":
        struct = "metric"
        items, metrics, first_task = _items_0_10(path, schema)
    else:
        struct = "metrics"
        (items, metrics), first_task = _items_0_4(schema), None
    if not metrics:
        raise InputError(path, f"has no numeric sample-level metric; expected numbers in the {struct} struct",
                         field=struct)
    date, task = _date_and_task(path)
    task = task or first_task
    results_path = _results_file(path, date, task)
    results = read_json_document(results_path) if results_path else None
    if results is not None and task not in (results.get("results") or {}):
        named = [k for k in results["results"] if k != "all"]
        task = named[0] if len(named) == 1 else task
    primary = _primary(metrics, results, task)
    taken = {name for _, name, _ in items}
    for name in [primary] + [m for m in metrics if m != primary]:
        column = name if name not in taken else f"metric.{name}"  # a clash with a fixed column keeps a prefix
        items.append((S.as_double(S.field(struct, name)), column, "score" if name == primary else "scores"))
    roles = {column: role for _, column, role in items}
    roles["file_row_number"] = "source_row"
    sql = S.details_source([(expr, column) for expr, column, _ in items])
    general = (results or {}).get("config_general") or {}
    model = general.get("model_name") or ((general.get("model_config") or {}).get("model_name"))
    if not model:
        for parent in path.parents:
            if parent.name == "details":
                model = str(path.parent.parent.relative_to(parent)) or None
                break
    reported = _reported(results, results_path, task, primary) if results is not None else []
    files = [path] + ([results_path] if results_path else [])
    notes = f"lighteval details of {task or '?'}" + (f", {date}" if date else "") + (
        f"; primary metric {primary}" if results_path else
        f"; no results JSON found beside it: primary metric {primary}, the first correctness-like metric in the file (a mapping's score: "
        "chooses another)")
    return [SourceRun("lighteval", files, f"{task} · {model}" if model else str(task or path.stem), model=model,
                      task=task, sql_source=(sql, [str(path)]), roles=roles, record_label="row",
                      extra={"row_column": "file_row_number", "row_base": 0}, identity_files=1, notes=notes,
                      tool="lighteval", reported=reported)]


def _reported(results: dict, results_path: Path, task: str | None, primary: str | None) -> list[Reported]:
    figures = (results.get("results") or {}).get(task) if task else None
    if not isinstance(figures, dict) or primary is None:
        return []
    value = figures.get(primary)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return []
    function = _corpus_function(results, task, primary)
    if function not in (None, "mean"):
        return []  # a corpus-level figure (f1, bleu...) that no mean of the samples reproduces
    config = (results.get("config_tasks") or {}).get(task) or {}
    n = config.get("effective_num_docs")
    n = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None
    return [Reported(primary, float(value), basis="score", n=n,
                     source=f"{results_path.name}: results.{json.dumps(task)}.{primary}")]
