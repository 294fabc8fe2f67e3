"""Statements that add a computed column to a run's examples table (clusters, failure modes).

See :meth:`analysis.store.Store.set_example_column`. ``faultline_values`` is a DataFrame
registered on the cursor (``example_id``, ``value``).
"""

from __future__ import annotations

from analysis.sql import quote_ident

VALUES_VIEW = "faultline_values"
VALUE_TYPE = f"SELECT typeof(value) FROM {VALUES_VIEW} LIMIT 1"


def drop_column(table: str, column: str) -> str:
    return f"ALTER TABLE {quote_ident(table)} DROP COLUMN IF EXISTS {quote_ident(column)}"


def add_column(table: str, column: str, sql_type: str) -> str:
    if sql_type not in _TYPES:
        raise ValueError(f"Unexpected column type {sql_type!r}; expected one of {', '.join(_TYPES)}")
    return f"ALTER TABLE {quote_ident(table)} ADD COLUMN {quote_ident(column)} {sql_type}"


def set_values(table: str, column: str) -> str:
    """Copy ``faultline_values.value`` into the column, matched on example id (others stay NULL)."""
    t = quote_ident(table)
    return (f"UPDATE {t} SET {quote_ident(column)} = v.value FROM {VALUES_VIEW} v "
            f"WHERE {t}.example_id = CAST(v.example_id AS VARCHAR)")


def column_stats(table: str, column: str) -> str:
    """Missing values and (approximate) distinct values of one column."""
    q = quote_ident(column)
    return f"SELECT count(*) - count({q}), approx_count_distinct({q}) FROM {quote_ident(table)}"


#: Column types a computed column may have (what DuckDB's ``typeof`` gives for pandas columns).
_TYPES = ("VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "FLOAT", "BOOLEAN", "TIMESTAMP", "TIMESTAMP_NS", "DATE",
          "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "HUGEINT")
