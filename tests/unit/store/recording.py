"""Record every SQL statement a store's cursors execute (for query counts and the transpile test)."""

from __future__ import annotations

import contextlib

from analysis.store import Store


class RecordingCursor:
    """A cursor that notes each statement and its parameters before running it."""

    def __init__(self, cursor, log: list):
        self._cursor = cursor
        self._log = log

    def execute(self, sql, parameters=None):
        self._log.append((sql, parameters))
        return self._cursor.execute(sql, parameters) if parameters is not None else self._cursor.execute(sql)

    def sql(self, query, *, params=None, **kwargs):  # a relation (read as Arrow without a copy)
        self._log.append((query, params))
        return self._cursor.sql(query, params=params, **kwargs)

    def executemany(self, sql, parameters=None):
        self._log.append((sql, parameters))
        return self._cursor.executemany(sql, parameters)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


@contextlib.contextmanager
def recording(store: Store):
    """``with recording(store) as log:`` -- ``log`` gets ``(sql, params)`` of every statement run inside."""
    log: list = []
    original = store.cursor
    store.cursor = lambda: RecordingCursor(original(), log)
    try:
        yield log
    finally:
        del store.cursor
