"""What every format adapter hands to the store, and the limits that keep reading safe."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.errors import FIELD_TOO_LARGE, NESTED_TOO_DEEPLY, NOT_UTF8, TRUNCATED_JSON, InputError

from .validation import env_limit


def max_field_bytes() -> int:
    """Largest single field (or JSON record) Faultline reads, in bytes (env FAULTLINE_MAX_FIELD_MB)."""
    return env_limit("FAULTLINE_MAX_FIELD_MB", 64 * 2**20, scale=2**20)


def max_document_bytes() -> int:
    """Largest whole-document JSON log parsed in memory (env FAULTLINE_MAX_DOCUMENT_MB)."""
    return env_limit("FAULTLINE_MAX_DOCUMENT_MB", 512 * 2**20, scale=2**20)


def max_archive_bytes() -> int:
    """Most bytes decompressed from one zip log (.eval), counted as they are read (env FAULTLINE_MAX_ARCHIVE_MB)."""
    return env_limit("FAULTLINE_MAX_ARCHIVE_MB", 2048 * 2**20, scale=2**20)


def max_compression_ratio() -> int:
    """Largest expanded/compressed ratio of a zip member above 1 MiB (env FAULTLINE_MAX_COMPRESSION_RATIO)."""
    return env_limit("FAULTLINE_MAX_COMPRESSION_RATIO", 200)


def max_columns() -> int:
    """Most columns a log may have (env FAULTLINE_MAX_COLUMNS)."""
    return env_limit("FAULTLINE_MAX_COLUMNS", 2000)


#: Python's JSON parser recurses once per level; about this many levels fit its default stack.
JSON_DEPTH = 900


def json_loads(text: str | bytes, path: Path | str | None, *, record: str | None = None) -> object:
    """``json.loads`` that says a document nested too deeply is (instead of a RecursionError)."""
    try:
        return json.loads(text)
    except RecursionError as err:
        raise InputError(path, NESTED_TOO_DEEPLY.format(depth=JSON_DEPTH), record=record) from err


@dataclass(frozen=True)
class Reported:
    """A figure the evaluation tool itself reported for a run, to reconcile the stored examples with.

    The store recomputes the same figure from the examples it loaded (the mean of ``basis``
    over the scored examples) and records both with a verdict (matches / differs / partial /
    not reported); see :mod:`analysis.store.reconcile`.
    """

    metric: str
    """The tool's own name for the figure, e.g. ``"exact_match,strict-match"`` or ``"acc"``."""
    value: float | None
    """The figure in the stored outcome's unit (a rate as a fraction, not a percentage);
    None when the log names the metric but gives no value."""
    basis: str = "score"
    """Which stored column's mean over scored examples reproduces it: ``"score"`` or ``"correct"``."""
    n: int | None = None
    """How many examples the tool says it evaluated (None: not said). Fewer stored ones: partial."""
    source: str = ""
    """Where the figure was read, in plain words: ``"results_2024-01-01.json: results.gsm8k"``."""
    tolerance: float = 1e-6
    """Largest absolute difference still called a match (a figure the tool rounded needs more)."""


#: The threshold of pairwise preference logs and its reason: the score is a win (1), tie (0.5) or loss (0).
PAIRWISE_THRESHOLD = 0.5
PAIRWISE_THRESHOLD_SOURCE = ("a pairwise judgment: a win or a tie (score >= 0.5) counts as correct, a loss as an error; "
                             "the headline is the win rate, ties counting half")


@dataclass
class SourceRun:
    """One run found in a log, before it enters the store.

    A structured adapter fills ``frame`` and fixes every column's role in ``roles``;
    a flat file (CSV, Parquet...) instead gives ``sql_source``, a DuckDB table function
    with bound parameters, and leaves the roles to be guessed (and confirmed).
    """

    format: str
    """Detected format id, e.g. ``"inspect_eval"`` or ``"csv"``."""
    files: list[Path]
    """Every file the run was read from (their sha256 are stored)."""
    name: str
    """Suggested run name."""
    model: str | None = None
    task: str | None = None
    sub_key: str = ""
    """Tells apart several runs read from the same files (HELM folders, promptfoo providers)."""
    frame: pd.DataFrame | None = None
    sql_source: tuple[str, list] | None = None
    """``("read_parquet(?)", [path])``: a FROM clause and its parameters."""
    sql_fallback: tuple[str, list] | None = None
    """A slower ``sql_source`` that infers column types from the whole file, tried when a
    value does not fit the types inferred from a sample."""
    roles: dict[str, str] | None = None
    """Roles fixed by the adapter; None means guess from names."""
    record_label: str = "record"
    """How a row is named in errors: ``line`` for JSONL, ``row`` for CSV..."""
    record_offset: int = 0
    """Added to a 1-based row number to give the record number shown (a CSV header line: 1)."""
    notes: str = ""
    identity_files: int | None = None
    """How many of ``files`` (from the first) define the run's identity; None: all of them.
    lm-eval's results summary beside the samples is provenance, not identity."""
    extra: dict = field(default_factory=dict)
    tool: str = ""
    """The tool that wrote the log, as users name it (``"lm-eval"``, ``"HELM"``); used in messages."""
    reported: list[Reported] | None = None
    """The tool's own figures for the run. None: this format carries none (a plain table);
    an empty list: a tool's log that reported nothing for this run (verdict "not reported")."""
    missing_values: dict[str, list] = field(default_factory=dict)
    """Per source column, values that mean "not scored" (a judge's ``-1``): those rows are unscorable."""
    threshold: float | None = None
    """A threshold the adapter fixed for ``correct = score >= threshold`` (with its reason in
    ``threshold_source``); None: the default or the user's mapping."""
    threshold_source: str = ""
    baseline: str | None = None
    """For pairwise preference logs, the model the one under test was compared with."""


def read_json_document(path: Path) -> object:
    """Parse a whole-document JSON log, refusing files too large to parse in memory."""
    size = path.stat().st_size
    if size == 0:
        raise InputError(path, "is empty: expected an evaluation log with at least one example")
    if size > max_document_bytes():
        raise InputError(path, f"is {size / 2**20:.0f} MB, more than the {max_document_bytes() / 2**20:.0f} MB "
                         "limit for a whole-document JSON log; expected a smaller file (or raise "
                         "FAULTLINE_MAX_DOCUMENT_MB)")
    raw = path.read_bytes()
    return parse_json_bytes(raw, path)


def parse_json_bytes(raw: bytes, path: Path | str, *, member: str | None = None) -> object:
    """Decode and parse JSON bytes with errors that name the file (and zip member) and line."""
    where = f"member {member}" if member else None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InputError(path, NOT_UTF8.format(detail=f"byte 0x{raw[err.start]:02x} at line {line}"),
                         record=where) from err
    try:
        return json_loads(text, path, record=where)
    except json.JSONDecodeError as err:
        record = f"{where + ', ' if where else ''}line {err.lineno} column {err.colno}"
        if err.pos >= len(text.rstrip()) - 1:
            raise InputError(path, TRUNCATED_JSON.format(detail=err.msg).replace(
                "one JSON object per line", "a complete JSON document"), record=record) from err
        raise InputError(path, f"is not valid JSON: {err.msg}", record=record) from err


def iter_text_lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Yield (line number, text, complete) for each line of a UTF-8 text file, with bounded memory per line.

    ``complete`` is False only for a last line that has no newline (a file cut off mid-record, or one that simply
    does not end with a newline). A byte-order mark on line 1 is dropped.

    Raises
    ------
    InputError
        Naming the line: a line larger than the field limit (:func:`max_field_bytes`), bytes that are not UTF-8.
    """
    limit = max_field_bytes()
    with open(path, "rb") as handle:
        lineno = 0
        while True:
            raw = handle.readline(limit + 1)
            if not raw:
                break
            lineno += 1
            complete = raw.endswith(b"\n")
            if len(raw) > limit and not complete:
                raise InputError(path, FIELD_TOO_LARGE.format(limit_mb=limit // 2**20), record=f"line {lineno}")
            try:
                text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as err:
                raise InputError(path, NOT_UTF8.format(detail=f"byte 0x{raw[err.start]:02x} at column {err.start + 1}"),
                                 record=f"line {lineno}") from err
            yield lineno, text, complete


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-blank line, with bounded memory per line.

    Errors name the line: bytes that are not UTF-8, a line that is not JSON (a cut-off last
    line is called truncated), a line larger than the field limit, a line that is not an object.
    """
    for lineno, text, complete in iter_text_lines(path):
        if not text.strip():
            continue
        try:
            obj = json_loads(text, path, record=f"line {lineno}")
        except json.JSONDecodeError as err:
            if not complete:
                raise InputError(path, TRUNCATED_JSON.format(detail=err.msg), record=f"line {lineno}") from err
            raise InputError(path, f"is not valid JSON: {err.msg} at column {err.colno}; expected one "
                             "JSON object per line", record=f"line {lineno}") from err
        if not isinstance(obj, dict):
            raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", record=f"line {lineno}")
        yield lineno, obj
