"""Where statements over example rows run: DuckDB (embedded, the default) or Apache Spark.

The catalog (runs, files, fields, annotations, caches) always stays in the store's DuckDB file.
With the Spark engine, :meth:`analysis.store.Store.cursor` returns an :class:`EngineCursor`: a
read-only statement whose tables are all runs' example tables (``examples_<run_id>``) is sent
to Spark, everything else to DuckDB. The analysis code does not know which engine ran it.

On Spark a run's examples are Parquet: a run loaded into the store is exported once per data
version (``<store>.spark/<table>-v<version>.parquet``, or under ``$FAULTLINE_SPARK_STAGING``, a
folder the cluster can read); a Parquet-backed run (:func:`analysis.store.lake.register`) is
read where it lies: Spark reads the same files (``read.parquet``, numbered in the same order with
``_metadata.row_index``) and maps their columns with the run's base view transpiled to Spark SQL
(:func:`analysis.sql.lake.spark_base_sql`), unless computed columns (clusters, failure modes) are
joined from its side table, in which case it is exported as a stored run is. The statement is transpiled by :func:`analysis.sql.spark.to_spark`; its
result is cast to the column types DuckDB plans for the same statement (a ``LIMIT 0`` on the
DuckDB side, no row read) and handed back through DuckDB's own Arrow reader, so the rows, their
order and their pandas types are the ones a DuckDB run of the same statement gives.
"""

from __future__ import annotations

import functools
import os
import threading
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from analysis.errors import FaultlineError
from analysis.sql import engine as E
from analysis.sql import lake as L
from analysis.sql import spark as S

#: Which engine runs statements over example rows: ``duckdb`` (default) or ``spark``.
ENGINE_ENV_VAR = "FAULTLINE_ENGINE"
ENGINES = ("duckdb", "spark")
#: A folder both this machine and the Spark cluster can read, for runs exported from the store.
STAGING_ENV_VAR = "FAULTLINE_SPARK_STAGING"

MSG_UNKNOWN_ENGINE = "Unknown engine {name!r} (from {origin}); choose one of: duckdb, spark"


def resolve_engine(name: str | None = None) -> str:
    """The engine's name: the argument, else ``$FAULTLINE_ENGINE``, else ``duckdb``.

    >>> resolve_engine("Spark")
    'spark'
    >>> resolve_engine("oracle")
    Traceback (most recent call last):
    ...
    analysis.errors.FaultlineError: Unknown engine 'oracle' (from the argument); choose one of: duckdb, spark
    """
    origin = "the argument"
    if not name:
        name, origin = os.environ.get(ENGINE_ENV_VAR) or "duckdb", f"${ENGINE_ENV_VAR}"
    value = name.strip().lower()
    if value not in ENGINES:
        raise FaultlineError(MSG_UNKNOWN_ENGINE.format(name=name, origin=origin))
    return value


@functools.lru_cache(maxsize=4096)
def _run_tables_of(sql: str) -> frozenset[str] | None:
    """The tables a read-only statement reads (CTE names left out); None for anything else."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    if not isinstance(tree, (exp.Select, exp.Union)):
        return None
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return frozenset(t.name for t in tree.find_all(exp.Table) if t.name not in ctes)


class SparkRunner:
    """Runs a store's statements over example rows on Spark (one per store; thread-safe)."""

    def __init__(self, store):
        self._store = store
        self._lock = threading.Lock()
        self._views: dict[str, tuple[int, str]] = {}  # table -> (data version, Spark view)

    @property
    def session(self):
        return S.spark_session()

    def staging(self) -> Path:
        folder = os.environ.get(STAGING_ENV_VAR)
        return Path(folder) if folder else self._store.path.with_name(self._store.path.name + ".spark")

    def handles(self, sql: str) -> bool:
        """Whether a statement runs on Spark: read-only, over runs' example tables only."""
        tables = _run_tables_of(sql)
        return bool(tables) and all(t.startswith(E.RUN_TABLE_PREFIX) for t in tables)

    def view(self, cur: duckdb.DuckDBPyConnection, table: str) -> str:
        """The Spark view of a run's examples (registered on first use, per data version)."""
        version = self._store.data_version()
        with self._lock:
            known = self._views.get(table)
            if known and known[0] == version:
                return known[1]
            frame = self._in_place(cur, table, version)
            if frame is None:  # a stored run (or computed columns joined): export it (once per data version)
                folder = self.staging()
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / f"{table}-v{version}.parquet"
                if not target.exists():
                    for old in folder.glob(f"{table}-v*.parquet"):
                        old.unlink()
                    partial = target.with_suffix(".partial")
                    cur.execute(E.export_parquet_sql(table, str(partial)))
                    partial.rename(target)
                frame = self.session.read.parquet(str(target)).cache()
            name = f"{table}_v{version}"
            frame.createOrReplaceTempView(name)
            self._views[table] = (version, name)
            return name

    def _in_place(self, cur: duckdb.DuckDBPyConnection, table: str, version: int):
        """A Parquet-backed run's examples as Spark reads them where they lie (the same files, numbered in
        the same order as :func:`analysis.sql.lake.numbered_parquet_source`), or None for any other run,
        and for a Parquet-backed run whose side table joins computed columns (exported instead)."""
        kind = cur.execute(L.VIEW_KIND, [table]).fetchall()
        own = cur.execute(L.VIEW_SQL, [table]).fetchall()
        if not kind or kind[0][0] != "VIEW" or not own or not L.plain_examples_view(table, own[0][0]):
            return None
        from pyspark.sql import functions as fn

        from analysis.store.lake import row_counts

        source = f"faultline_src_{table}_v{version}"
        files, spark_sql = L.spark_base_sql(cur.execute(L.VIEW_SQL, [L.base_view(table)]).fetchall()[0][0], source)
        offset, total = None, 0
        for f, n in zip(files, row_counts([Path(f) for f in files])):
            # Spark names a local file by its URI ("file:/a/b.parquet" or "file:///a/b.parquet", quoted)
            where = fn.col("_metadata.file_path")
            match = where.endswith(f) | where.endswith(Path(f).as_uri().removeprefix("file://"))
            offset = fn.when(match, fn.lit(total)) if offset is None else offset.when(match, fn.lit(total))
            total += int(n)
        raw = self.session.read.option("mergeSchema", "true").parquet(*files)
        raw.select("*", (fn.col("_metadata.row_index") + offset + fn.lit(1)).alias(L.ROW_COLUMN)) \
            .createOrReplaceTempView(source)
        return self.session.sql(spark_sql)

    def run(self, cur: duckdb.DuckDBPyConnection, sql: str, params) -> pa.Table:
        """The statement's rows from Spark, as an Arrow table typed and named as DuckDB would give them."""
        tables = _run_tables_of(sql) or frozenset()
        views = {t: self.view(cur, t) for t in tables}
        planned = cur.sql(sql, params=list(params) if params is not None else None).limit(0).to_arrow_table()
        session = self.session
        steps = S.to_spark_steps(sql, params, tables=views, prefix=f"faultline_cte_{uuid.uuid4().hex[:12]}")
        made = []
        try:
            for view, text in steps[:-1]:  # each CTE computed once, as DuckDB does (Spark would inline it)
                session.sql(text).localCheckpoint(eager=True).createOrReplaceTempView(view)
                made.append(view)
            result = session.sql(steps[-1][1]).toArrow()
        finally:
            for view in made:
                session.catalog.dropTempView(view)
        if result.num_columns != planned.num_columns:
            raise FaultlineError(f"Spark returned {result.num_columns} columns where DuckDB plans "
                                 f"{planned.num_columns}: {sql[:200]}")
        columns = [_cast(result.column(i), planned.schema.field(i).type) for i in range(planned.num_columns)]
        return pa.Table.from_arrays(columns, schema=planned.schema)


def _cast(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if column.type == target:
        return column
    if pa.types.is_timestamp(column.type) and pa.types.is_timestamp(target) and column.type.tz and not target.tz:
        column = column.cast(pa.timestamp(column.type.unit))  # the UTC session's instants, as DuckDB's naive ones
    return column.cast(target)


class _SparkResult:
    """A Spark result read back through DuckDB (``df``, ``fetchall``, ``fetchone``, Arrow)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, table: pa.Table):
        self._table = table
        self._rel = cur.from_arrow(table)
        self._rows: list | None = None

    def df(self):
        return self._rel.df()

    fetchdf = df

    def fetchall(self):
        rows, self._rows = (self._rows if self._rows is not None else self._rel.fetchall()), []
        return rows

    def fetchone(self):
        if self._rows is None:
            self._rows = self._rel.fetchall()
        return self._rows.pop(0) if self._rows else None

    def to_arrow_table(self) -> pa.Table:
        return self._table

    fetch_arrow_table = arrow = to_arrow_table


class EngineCursor:
    """A DuckDB cursor whose statements over example rows run on Spark (see the module's text)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, runner: SparkRunner):
        self._cursor = cursor
        self._runner = runner
        self._result: _SparkResult | None = None

    @property
    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB cursor underneath (every statement on DuckDB)."""
        return self._cursor

    def execute(self, sql, parameters=None):
        if self._runner.handles(sql):
            self._result = _SparkResult(self._cursor, self._runner.run(self._cursor, sql, parameters))
            return self._result
        self._result = None
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    def sql(self, sql, params=None):
        if self._runner.handles(sql):
            return _SparkResult(self._cursor, self._runner.run(self._cursor, sql, params))
        return self._cursor.sql(sql, params=params)

    def _current(self):
        return self._result if self._result is not None else self._cursor

    def df(self):
        return self._current().df()

    fetchdf = df

    def fetchall(self):
        return self._current().fetchall()

    def fetchone(self):
        return self._current().fetchone()

    def __getattr__(self, name):
        return getattr(self._cursor, name)


__all__ = ["ENGINES", "ENGINE_ENV_VAR", "STAGING_ENV_VAR", "EngineCursor", "SparkRunner", "resolve_engine"]
