"""DuckDB statements the Spark engine needs: exporting a stored run to Parquet.

A run's examples live in a table ``examples_<run_id>`` (:data:`RUN_TABLE_PREFIX`); the engine
(:mod:`analysis.store.engine`) sends statements over those tables only to Spark, and gives
Spark the examples as Parquet written by DuckDB (:func:`export_parquet_sql`) or, for a
Parquet-backed run, the run's own files.
"""

from __future__ import annotations

from analysis.sql import quote_ident
from analysis.sql.spark import literal

#: Every run's examples table (or view) is named this prefix and the run's id.
RUN_TABLE_PREFIX = "examples_"


def export_parquet_sql(table: str, path: str) -> str:
    """Write a run's examples, in log order, to one Parquet file (zstd)."""
    return (f"COPY (SELECT * FROM {quote_ident(table)} ORDER BY source_row) TO {literal(path)} "
            "(FORMAT parquet, COMPRESSION zstd)")


__all__ = ["RUN_TABLE_PREFIX", "export_parquet_sql"]
