"""Statements over the store's catalog: ``store_info``, ``runs``, ``run_files``, ``fields``.

None of them reads example rows, so they may use DuckDB's own syntax (``list(...)``,
``GROUP BY ALL``); they are listed as exempt in ``tests/unit/store/test_sql_portable.py``.
Values are bound as ``?``; identifiers go through :func:`analysis.sql.quote_ident`.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.sql import quote_ident

BEGIN = "BEGIN TRANSACTION"
COMMIT = "COMMIT"
ROLLBACK = "ROLLBACK"
TABLE_EXISTS = "SELECT 1 FROM information_schema.tables WHERE table_name = ?"
INIT_INFO = "INSERT OR IGNORE INTO store_info (key, value) VALUES ('schema_version', ?), ('data_version', '0')"
BUMP_VERSION = ("UPDATE store_info SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
                "WHERE key = 'data_version'")
DATA_VERSION = "SELECT value FROM store_info WHERE key = 'data_version'"
INFO = "SELECT value FROM store_info WHERE key = ?"
SET_INFO = "INSERT OR REPLACE INTO store_info (key, value) VALUES (?, ?)"
RUN_TABLES = "SELECT table_name FROM runs ORDER BY ingested_at, run_id"
RUNS = """
    SELECT r.run_id, r.name, r.model, r.source_format AS format, r.task, r.row_count AS rows,
           r.n_correct, r.n_unscorable, r.ingested_at, r.faultline_version, r.notes,
           coalesce(list(f.sha256 ORDER BY f.position) FILTER (WHERE f.sha256 IS NOT NULL), []) AS sha256,
           coalesce(list(f.file_name ORDER BY f.position) FILTER (WHERE f.file_name IS NOT NULL), []) AS files
    FROM runs r LEFT JOIN run_files f USING (run_id)
    GROUP BY ALL ORDER BY r.ingested_at, r.run_id
"""
#: A run by id or name (ids win); columns in the order of :class:`analysis.store.RunInfo`.
RUN_BY_REF = ("SELECT run_id, name, model, source_format, task, row_count, ingested_at, notes, table_name "
              "FROM runs WHERE run_id = ? OR name = ? ORDER BY (run_id = ?) DESC")
RUN_NAMES = "SELECT name FROM runs ORDER BY ingested_at"
RUN_FILES = ("SELECT file_name, file_path, sha256, size_bytes FROM run_files WHERE run_id = ? "
             "ORDER BY position")
FIELDS = ("SELECT column_name, source_name, role, kind, n_missing, n_distinct FROM fields "
          "WHERE run_id = ? ORDER BY position")
#: A run's catalog rows (run and fields) in one statement, for :class:`analysis.store.RunSchema`,
#: with the optional tables the store has (comma-separated).
RUN_WITH_FIELDS = (
    "SELECT r.run_id, r.name, r.model, r.source_format, r.task, r.row_count, r.ingested_at, r.notes, r.table_name, "
    "f.column_name, f.source_name, f.role, f.kind, f.n_missing, f.n_distinct, "
    "(SELECT string_agg(table_name, ',') FROM information_schema.tables "
    "WHERE table_name IN ('annotations', 'cluster_cache', 'cluster_labels', 'reports', 'reconciliation')) "
    "AS optional_tables "
    "FROM runs r LEFT JOIN fields f ON f.run_id = r.run_id "
    "WHERE r.run_id = ? OR r.name = ? ORDER BY (r.run_id = ?) DESC, r.run_id, f.position")
HEADLINE = """
    SELECT run_id, name, model, source_format AS format, row_count AS rows,
           row_count - coalesce(n_unscorable, 0) AS scored, coalesce(n_correct, 0) AS correct, ingested_at,
           table_name, mapping
    FROM runs ORDER BY ingested_at, run_id
"""
NAME_CLASH = "SELECT run_id FROM runs WHERE name = ? AND run_id <> ?"
RENAME = "UPDATE runs SET name = ? WHERE run_id = ?"
SET_NOTES = "UPDATE runs SET notes = ? WHERE run_id = ?"
RUN_BY_SOURCE_KEY = "SELECT run_id FROM runs WHERE source_key = ?"
ALL_RUN_NAMES = "SELECT name FROM runs"
ALL_FILE_PATHS = "SELECT DISTINCT file_path FROM run_files WHERE file_path IS NOT NULL ORDER BY file_path"
INSERT_RUN = ("INSERT INTO runs (run_id, name, model, source_format, task, source_key, row_count, "
              "n_correct, n_unscorable, ingested_at, faultline_version, notes, mapping, "
              "table_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_RUN_FILE = ("INSERT INTO run_files (run_id, position, file_name, file_path, sha256, "
                   "size_bytes) VALUES (?, ?, ?, ?, ?, ?)")
INSERT_FIELD = ("INSERT INTO fields (run_id, position, column_name, source_name, role, kind, "
                "n_missing, n_distinct) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_CHECK = ("INSERT INTO reconciliation (run_id, position, tool, metric, basis, tool_value, "
                "faultline_value, tool_n, faultline_n, verdict, source, message) VALUES (?, ?, ?, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?)")
#: Every reconciled figure, runs in load order, a run's figures in the order the tool gave them.
RECONCILIATION = """
    SELECT c.run_id, r.name, c.tool, c.metric, c.basis, c.tool_value, c.faultline_value, c.tool_n, c.faultline_n,
           c.verdict, c.source, c.message
    FROM reconciliation c JOIN runs r USING (run_id) ORDER BY r.ingested_at, c.run_id, c.position
"""
DELETE_FIELD = "DELETE FROM fields WHERE run_id = ? AND column_name = ?"
NEXT_FIELD_POSITION = "SELECT coalesce(max(position), 0) + 1 FROM fields WHERE run_id = ?"
COLUMN_TYPES = "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?"


def examples_sql(table: str, columns: Sequence[str], *, limit: int | None = None) -> tuple[str, list]:
    """A run's examples in log order: the given columns, at most ``limit`` rows."""
    sql = f"SELECT {', '.join(quote_ident(c) for c in columns)} FROM {quote_ident(table)} ORDER BY source_row"
    return (sql + " LIMIT ?", [int(limit)]) if limit is not None else (sql, [])


def delete_run_rows(table: str) -> str:
    """Delete a run's rows from a catalog table (``runs``, ``run_files``, ``fields``, ``reconciliation``)."""
    return f"DELETE FROM {quote_ident(table)} WHERE run_id = ?"


def drop_table(table: str) -> str:
    return f"DROP TABLE IF EXISTS {quote_ident(table)}"


def examples_view(tables: Sequence[str], fixed: Sequence[str]) -> str:
    """The ``examples`` view: the fixed columns of every run's table, stacked."""
    cols = ", ".join(fixed)
    if tables:
        body = " UNION ALL ".join(f"SELECT {cols} FROM {quote_ident(t)}" for t in tables)
    else:
        body = ("SELECT CAST(NULL AS VARCHAR) AS run_id, CAST(NULL AS VARCHAR) AS example_id, "
                "CAST(NULL AS BIGINT) AS source_row, CAST(NULL AS VARCHAR) AS task, CAST(NULL AS VARCHAR) AS input, "
                "CAST(NULL AS VARCHAR) AS output, CAST(NULL AS VARCHAR) AS reference, "
                "CAST(NULL AS DOUBLE) AS score, CAST(NULL AS BOOLEAN) AS correct, "
                "CAST(NULL AS BOOLEAN) AS unscorable, CAST(NULL AS VARCHAR) AS status WHERE false")
    return f"CREATE OR REPLACE VIEW examples AS {body}"


