"""Statements of Parquet-backed runs (:mod:`analysis.store.lake`): the source, the views, the side table.

These are DuckDB DDL and source reads (``read_parquet``), not statements over a run's example rows;
the analyses read the run's view with the portable statements of the other modules.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.sql import quote_ident
from analysis.sql.spark import bind_literals

#: The record number of a Parquet-backed run's row (file order, then row order), 1-based.
ROW_COLUMN = "faultline_row"


def numbered_parquet_source(files: Sequence[str], row_counts: Sequence[int]) -> tuple[str, list]:
    """Every row of the files with its 1-based record number across them (``ROW_COLUMN``).

    DuckDB's ``file_row_number`` numbers each file's rows; the files' row counts (from their
    footers) give each file's offset, so no window over all rows is needed.
    """
    offsets, total = [], 0
    for n in row_counts:
        offsets.append(total)
        total += int(n)
    cases = " ".join("WHEN ? THEN ?" for _ in files)
    params: list = []
    for f, o in zip(files, offsets):
        params += [str(f), int(o)]
    listed = "[" + ", ".join("?" for _ in files) + "]"
    params += [str(f) for f in files]
    sql = (f"(SELECT * EXCLUDE (file_row_number, filename), file_row_number + CASE filename {cases} END + 1 "
           f"AS {quote_ident(ROW_COLUMN)} FROM read_parquet({listed}, file_row_number=true, filename=true, "
           f"union_by_name=true))")
    return sql, params


def base_view(table: str) -> str:
    """The view mapping the Parquet columns to the run's columns."""
    return f"{table}_base"


def side_table(run_id: str) -> str:
    """The side table of a Parquet-backed run's computed columns, keyed by example id."""
    return f"extra_{run_id}"


def create_views_sql(table: str, select: Sequence[str], inner: str, params: Sequence) -> list[str]:
    """The run's base view (its columns over the numbered source, values bound as literals: a view
    holds no parameters) and its examples view (the base, until computed columns join it)."""
    base = bind_literals(f"CREATE VIEW {quote_ident(base_view(table))} AS SELECT {', '.join(select)} "
                         f"FROM ({inner})", params)
    return [base, examples_view_sql(table, None, [])]


def examples_view_sql(table: str, side: str | None, columns: Sequence[str]) -> str:
    """The run's examples: the base view, with the side table's computed columns joined on example id."""
    if side is None or not columns:
        return f"CREATE OR REPLACE VIEW {quote_ident(table)} AS SELECT * FROM {quote_ident(base_view(table))}"
    extra = ", ".join(f"x.{quote_ident(c)}" for c in columns)
    return (f"CREATE OR REPLACE VIEW {quote_ident(table)} AS SELECT b.*, {extra} FROM {quote_ident(base_view(table))} b "
            f"LEFT JOIN {quote_ident(side)} x ON x.example_id = b.example_id")


def create_side_table_sql(side: str) -> str:
    return f"CREATE TABLE IF NOT EXISTS {quote_ident(side)} (example_id VARCHAR PRIMARY KEY)"


def side_drop_column_sql(side: str, column: str) -> str:
    return f"ALTER TABLE {quote_ident(side)} DROP COLUMN IF EXISTS {quote_ident(column)}"


def side_add_column_sql(side: str, column: str, sql_type: str) -> str:
    return f"ALTER TABLE {quote_ident(side)} ADD COLUMN {quote_ident(column)} {sql_type}"


def side_insert_ids_sql(side: str, values_view: str) -> str:
    """Add the example ids of the new values the side table does not have yet."""
    return (f"INSERT INTO {quote_ident(side)} (example_id) SELECT DISTINCT CAST(v.example_id AS VARCHAR) "
            f"FROM {values_view} v WHERE CAST(v.example_id AS VARCHAR) NOT IN (SELECT example_id FROM {quote_ident(side)})")


def side_columns_sql() -> str:
    return "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position"


VIEW_KIND = "SELECT table_type FROM information_schema.tables WHERE table_name = ?"
#: A view's defining statement (DuckDB's catalog).
VIEW_SQL = "SELECT sql FROM duckdb_views() WHERE view_name = ?"


def plain_examples_view(table: str, view_sql: str) -> bool:
    """Whether a run's examples view is its base view alone (no computed column joined from a side table)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(view_sql, read="duckdb")
    select = tree.expression if isinstance(tree, exp.Create) else tree
    if not isinstance(select, exp.Select) or select.args.get("joins") or select.args.get("where"):
        return False
    tables = list(select.find_all(exp.Table))
    return (len(select.expressions) == 1 and isinstance(select.expressions[0], exp.Star)
            and len(tables) == 1 and tables[0].name == base_view(table))


def spark_base_sql(view_sql: str, source: str) -> tuple[list[str], str]:
    """A Parquet-backed run's base view for Spark: the Parquet files it reads and the view's query over
    ``source``, a Spark view of those files' rows with their record number (``ROW_COLUMN``).

    The base view (:func:`create_views_sql`) reads the files through :func:`numbered_parquet_source`
    (DuckDB's ``read_parquet`` with ``file_row_number``); that subquery is replaced by ``source``, and
    the rest (the mapping of the files' columns to the run's columns) is transpiled to Spark SQL as
    any statement is (:func:`analysis.sql.spark.to_spark`).

    Raises
    ------
    FaultlineError
        If the view does not read Parquet files in the form Faultline writes.
    """
    import sqlglot
    from sqlglot import exp

    from analysis.errors import FaultlineError
    from analysis.sql.spark import to_spark

    tree = sqlglot.parse_one(view_sql, read="duckdb")
    select = tree.expression if isinstance(tree, exp.Create) else tree
    reads = list(select.find_all(exp.ReadParquet))
    if len(reads) != 1:
        raise FaultlineError(f"Not a Parquet-backed run's view (expected one read_parquet): {view_sql[:200]}")
    listed = reads[0].expressions[0] if reads[0].expressions else None
    files = [e.this for e in listed.expressions] if isinstance(listed, exp.Array) else []
    if not files or not all(isinstance(e, exp.Literal) and e.is_string for e in listed.expressions):
        raise FaultlineError(f"Not a Parquet-backed run's view (expected a list of files): {view_sql[:200]}")
    numbered = reads[0].find_ancestor(exp.Select)
    numbered.replace(exp.select("*").from_(exp.to_table(source)))
    return files, to_spark(select.sql(dialect="duckdb"))


def drop_view_sql(name: str) -> str:
    return f"DROP VIEW IF EXISTS {quote_ident(name)}"


__all__ = ["ROW_COLUMN", "VIEW_KIND", "VIEW_SQL", "plain_examples_view", "spark_base_sql", "base_view", "create_side_table_sql", "create_views_sql", "drop_view_sql",
           "examples_view_sql", "numbered_parquet_source", "side_add_column_sql", "side_columns_sql",
           "side_drop_column_sql", "side_insert_ids_sql", "side_table"]
