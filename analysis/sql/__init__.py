"""The SQL layer: every statement of the engine is built by a module of this package.

By concern: :mod:`.catalog` (runs, files, fields, store settings), :mod:`.ingest` (loading a
log), :mod:`.columns` (computed columns), :mod:`.features` (the one definition of each derived
feature, bins, periods and the graded-scores rule), :mod:`.slices` (slicing, comparison,
discovery), :mod:`.extras` (per-slice extras), :mod:`.modes` (failure modes), :mod:`.annotation`,
:mod:`.clusters` (the cluster cache) and :mod:`.audit` (report history). The DDL is in
:mod:`analysis.store.schema`; transactions are :meth:`analysis.store.Store.transaction`.

Statements over example rows are written in a portable subset (``CAST(x AS T)``, explicit
column lists, no ``EXCLUDE``, ``UNION ... BY NAME`` or list lambdas) that sqlglot transpiles
from DuckDB to Spark SQL (``tests/unit/store/test_sql_portable.py``).

Every value is bound as a parameter (``?``). Identifiers cannot be bound, and user column
names may contain quotes, semicolons or SQL keywords, so every identifier goes through
:func:`quote_ident`; nothing else builds SQL from user text. This module also opens DuckDB
connections (:func:`connect`).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import duckdb

from analysis.errors import StoreBusyError

#: How long opening a store waits for another process to release its lock, in seconds.
DEFAULT_LOCK_TIMEOUT_S = 3.0

_LOCK_PATTERN = re.compile(r"(Could not set lock|Conflicting lock|lock on file)", re.IGNORECASE)
_PID_PATTERN = re.compile(r"PID (\d+)")


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (table or column name) for DuckDB.

    >>> quote_ident('score')
    '"score"'
    >>> quote_ident('a"b; DROP TABLE runs')
    '"a""b; DROP TABLE runs"'
    """
    if not isinstance(name, str) or name == "":
        raise ValueError(f"An SQL identifier must be a non-empty string, got {name!r}")
    if "\x00" in name:
        raise ValueError("An SQL identifier cannot contain a NUL character")
    return '"' + name.replace('"', '""') + '"'


def quote_qualified(*parts: str) -> str:
    """Quote a dotted name such as ``alias.column``: ``quote_qualified('s', 'a.b')`` -> ``"s"."a.b"``."""
    return ".".join(quote_ident(p) for p in parts)


def connect(path: str | os.PathLike, *, read_only: bool = False,
            lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file, waiting up to ``lock_timeout_s`` if another process holds it.

    DuckDB lets one read-write process own a file; a second process gets a lock error. We
    retry briefly (a CLI load finishing) and then raise :class:`StoreBusyError`, which says
    what to do, instead of DuckDB's raw message.
    """
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + max(lock_timeout_s, 0.0)
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as err:
            if not _LOCK_PATTERN.search(str(err)):
                raise
            if time.monotonic() >= deadline:
                pid = _PID_PATTERN.search(str(err))
                raise StoreBusyError(path, int(pid.group(1)) if pid else None) from err
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
