"""Errors a Faultline user can read and act on.

Every error about input names the file, the record (line or row) and the field, and says
what was expected. The texts are module constants so that tests assert exactly what a
user reads.
"""

from __future__ import annotations

import os
from pathlib import Path

STORE_BUSY = (
    "The store {path} is in use by another process{pid}. DuckDB lets only one process write "
    "to a store at a time. Add the file through the app's Data page, or stop the other process "
    "(usually `streamlit run app.py`) and run the command again, or pass --db to use another store "
    "(to read it while the app runs, for a gate or a slice table, copy the file and pass --db COPY)."
)
EMPTY_FILE = "is empty: expected an evaluation log with at least one example"
NO_EXAMPLES = "has no examples: expected an evaluation log with at least one example"
NO_OUTCOME = (
    "has no column that could be the outcome. Expected a correctness column (named like correct, "
    "is_correct, passed, success, acc, exact_match) or a score column (score, accuracy, reward, "
    "f1); found columns: {columns}. Name the outcome column in a mapping file (correct: COLUMN or "
    "score: COLUMN) or in the Data page."
)
BAD_SCORE = "expected a number for the score, got {value}"
NONFINITE_SCORE = "expected a finite number for the score, got {value}"
BAD_CORRECT = "expected a boolean for correctness (true/false, 1/0, yes/no, pass/fail), got {value}"
DUPLICATE_ID = (
    "example id {value} appears more than once in this run (records {first} and {second}); "
    "expected each example id once per run. Map another id column, or leave the id unmapped to "
    "number the rows."
)
NOT_UTF8 = "contains bytes that are not UTF-8 ({detail}); expected UTF-8 text. Re-save the file as UTF-8."
TRUNCATED_JSON = "is not complete JSON ({detail}); expected one JSON object per line. The file may have been cut off while being written."
NOT_INSPECT_ZIP = (
    "is a zip archive but not an Inspect AI log: expected header.json or _journal/start.json "
    "inside, found {members}"
)
ZIP_BOMB = (
    "was refused: {detail}, beyond the limit of {limit}; this looks like a zip bomb or a corrupted archive"
)
NESTED_TOO_DEEPLY = (
    "is nested too deeply to read (more than about {depth} levels of lists and objects); expected a few levels"
)
NUL_IN_NAME = "has a column whose name contains a NUL character (shown as \\x00); expected column names without NUL characters"
TOO_MANY_COLUMNS = (
    "has {count} columns, more than the limit of {limit}; expected fewer columns. Raise the limit with "
    "FAULTLINE_MAX_COLUMNS if this is intended"
)
STORE_DAMAGED = (
    "The store {path} is damaged or is not a DuckDB file ({detail}). Restore it from a copy, or pass --db "
    "(or set FAULTLINE_DB) to use another store"
)
STORE_UNREADABLE = "The store {path} cannot be opened: {detail}"
STORE_READ_ONLY = (
    "The store {path} is open for reading only ({why}); nothing can be written to it. Make the file writable, "
    "or pass --db to use another store"
)
FIELD_TOO_LARGE = (
    "has a field larger than the limit of {limit_mb} MB; expected smaller texts. Raise the limit "
    "with FAULTLINE_MAX_FIELD_MB if this is intended"
)
UNKNOWN_FORMAT = (
    "is not a format Faultline reads: expected CSV, TSV, Parquet, JSON, JSONL, an Inspect AI log "
    "(.eval or .json), lm-evaluation-harness samples, a HELM run folder, OpenAI evals JSONL, "
    "promptfoo results JSON or lighteval details Parquet"
)


class FaultlineError(Exception):
    """Base class of errors meant for the user's eyes."""


class InputError(FaultlineError):
    """A log (or mapping file) that Faultline cannot load, with where and why.

    >>> str(InputError("log.csv", "expected a number for the score, got 'abc'", record="row 3", field="score"))
    "log.csv, row 3, field 'score': expected a number for the score, got 'abc'"
    """

    def __init__(self, file: str | os.PathLike | None, message: str, *, record: str | None = None,
                 field: str | None = None):
        self.file = str(file) if file is not None else None
        self.record = record
        self.field = field
        self.detail = message
        where = [Path(self.file).name if self.file else "input"]
        if record:
            where.append(record)
        if field:
            where.append(f"field {field!r}")
        sep = ": " if (record or field) else " "
        super().__init__(", ".join(where) + sep + message)


class StoreBusyError(FaultlineError):
    """Another process holds the store's write lock."""

    def __init__(self, path: Path, pid: int | None):
        self.path = path
        self.pid = pid
        super().__init__(STORE_BUSY.format(path=path, pid=f" (PID {pid})" if pid else ""))


class StoreVersionError(FaultlineError):
    """A store whose layout this Faultline does not know (written by a newer one): refused, nothing changed."""

    def __init__(self, path: Path, found: str, supported: int):
        self.path = path
        self.found = found
        self.supported = supported
        super().__init__(
            f"{path} was written by a newer Faultline (store schema version {found}; this Faultline reads versions "
            f"up to {supported}), so it is not opened and nothing in it was changed. Upgrade Faultline to use it, "
            f"or use another store (--db PATH or $FAULTLINE_DB)")


class StoreError(FaultlineError):
    """A store file that cannot be opened or written (damaged, not DuckDB, read-only)."""


class AlreadyPinnedError(FaultlineError):
    """A pin of a target that is already pinned (same kind, target, run, baseline, cohort and outcome): refused,
    nothing written. ``finding_id``, ``author`` and ``created_at`` (UTC) name the finding that holds it."""

    def __init__(self, message: str, *, finding_id: str, author: str, created_at):
        self.finding_id = finding_id
        self.author = author
        self.created_at = created_at
        super().__init__(message)


class RunNotFoundError(FaultlineError):
    """A run id or name that is not in the store."""
