"""Faultline's SQL on Apache Spark: one statement written in DuckDB's dialect, run by Spark SQL.

A statement over example rows is written once, in the portable subset of DuckDB's dialect
(:mod:`analysis.sql`). For Spark it is

1. bound: every ``?`` becomes a typed literal (:func:`bind_literals`): floats as
   ``CAST('<repr>' AS DOUBLE)``, which both engines parse to the same double (``repr`` is the
   shortest text that round-trips), strings quoted, timestamps as ``CAST('<iso>' AS TIMESTAMP)``;
2. parsed by SQLGlot as DuckDB and rewritten by Faultline's own transforms (:func:`to_spark`),
   the few things SQLGlot writes in a form Spark runs differently:

   - ``GROUPING(a, b, ...)`` with several arguments is the sum of Spark's one-argument ``grouping``
     of each, shifted to DuckDB's bit (the first argument is the highest bit), as a BIGINT. Spark's
     ``grouping_id(a, b, ...)`` computes the same only when its arguments are the grouping columns
     in the order they first appear in ``GROUPING SETS``; the sum holds in any order (the blocks of
     :func:`analysis.sql.slices.grouping_sets_sql` list their sets in another);
   - ``quantile_cont(x, p)`` is Spark's exact ``percentile(x, p)`` (linear interpolation between
     the order statistics, as DuckDB); SQLGlot writes ``percentile_cont``, which Spark reads only
     as an ordered-set aggregate;
   - ``UNION ALL BY NAME`` is rewritten as a positional ``UNION ALL`` with the right-hand columns
     reordered by name (when both sides name their columns);
   - ``regexp_matches(s, p)`` stays a search (``RLIKE``) as SQLGlot writes it;
   - ``len(list)`` (e.g. of ``regexp_extract_all``, the turn feature) is Spark's ``size``; SQLGlot
     writes ``LENGTH``, a string length in Spark;
3. written as Spark SQL with unsupported features raising.

ORDER BY keeps DuckDB's NULL placement (SQLGlot writes ``NULLS LAST`` where Spark's default
differs). The session runs in UTC (:data:`SESSION_CONF`), so timestamps, ``date_trunc`` and
periods agree with DuckDB, whose stored timestamps carry no zone.

The Spark session itself (:func:`spark_session`) is local PySpark (``local[2]``) or Spark Connect
when ``FAULTLINE_SPARK_REMOTE`` names a server (``sc://host:15002``). ``pyspark`` and ``sqlglot``
are imported only here and only when Spark is used (``pip install -r requirements-spark.txt``).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import os
import threading
from collections.abc import Sequence

import numpy as np

from analysis.errors import FaultlineError

#: Where a Spark Connect server is (``sc://host:15002``); unset: local PySpark.
SPARK_REMOTE_ENV_VAR = "FAULTLINE_SPARK_REMOTE"
#: The local master when no remote is set (two cores: the CI machines' size).
SPARK_MASTER_ENV_VAR = "FAULTLINE_SPARK_MASTER"
DEFAULT_MASTER = "local[2]"
#: Session settings that make Spark compute what DuckDB computes.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",  # timestamps without a zone, as DuckDB stores them
    "spark.sql.ansi.enabled": "false",  # NULL (not an error) for a failed cast, as TRY_CAST-free DuckDB SQL expects
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",  # DuckDB's TIMESTAMP is a timestamp without zone
    "spark.sql.shuffle.partitions": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}

MSG_NO_PYSPARK = ("The Spark engine needs pyspark and sqlglot (pip install -r requirements-spark.txt) and Java 17 for a local session: {detail}")
MSG_UNBINDABLE = "Cannot bind a value of type {kind} ({value!r}) as a Spark SQL literal"
MSG_PLACEHOLDERS = "The statement has {found} placeholders but {given} values were given: {sql}"

_session = None
_session_lock = threading.Lock()


def spark_session(*, remote: str | None = None, master: str | None = None):
    """The process's Spark session, started on first use with :data:`SESSION_CONF`.

    Parameters
    ----------
    remote : str, optional
        A Spark Connect address (``sc://host:15002``); default ``$FAULTLINE_SPARK_REMOTE``.
        Without one, a local session on ``master`` (default ``$FAULTLINE_SPARK_MASTER`` or
        ``local[2]``), which needs Java 17.
    master : str, optional
        The local master (``local[N]``).

    Raises
    ------
    FaultlineError
        If pyspark is not installed or the session cannot start (no Java, a server unreachable).
    """
    global _session
    with _session_lock:
        if _session is not None:
            return _session
        try:
            from pyspark.sql import SparkSession
        except ImportError as err:
            raise FaultlineError(MSG_NO_PYSPARK.format(detail=err)) from err
        remote = remote or os.environ.get(SPARK_REMOTE_ENV_VAR) or None
        builder = SparkSession.builder.appName("faultline")
        if remote:
            builder = builder.remote(remote)
        else:
            builder = builder.master(master or os.environ.get(SPARK_MASTER_ENV_VAR) or DEFAULT_MASTER)
        for key, value in SESSION_CONF.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as err:  # py4j / grpc errors: the JVM or the server did not start
            raise FaultlineError(MSG_NO_PYSPARK.format(detail=str(err).splitlines()[0] if str(err) else err)) from err
        if not remote:
            session.sparkContext.setLogLevel("ERROR")
        for key, value in SESSION_CONF.items():  # a session that already existed keeps its own settings
            if not key.startswith("spark.ui"):
                session.conf.set(key, value)
        _session = session
        return session


def stop_spark_session() -> None:
    """Stop the process's Spark session (the next use starts a new one)."""
    global _session
    with _session_lock:
        if _session is not None:
            _session.stop()
            _session = None


# ---------------------------------------------------------------------------------------------- binding
def literal(value) -> str:
    """A value as a typed literal in DuckDB's dialect (read back identically by both engines).

    >>> literal(0.1), literal(3), literal(True), literal("it's"), literal(None)
    ("CAST('0.1' AS DOUBLE)", '3', 'TRUE', "'it''s'", 'NULL')
    >>> float(eval(literal(2 / 3).split("'")[1])) == 2 / 3
    True
    >>> literal(_dt.datetime(2024, 1, 5, 12, 30))
    "CAST('2024-01-05 12:30:00' AS TIMESTAMP)"
    """
    if value is None:
        return "NULL"
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value)) if value >= 0 else f"({int(value)})"
    if isinstance(value, (float, np.floating)):
        x = float(value)
        if math.isnan(x):
            return "CAST('NaN' AS DOUBLE)"
        if math.isinf(x):
            return "CAST('Infinity' AS DOUBLE)" if x > 0 else "CAST('-Infinity' AS DOUBLE)"
        return f"CAST('{x!r}' AS DOUBLE)"
    if isinstance(value, decimal.Decimal):
        return f"CAST('{value}' AS DECIMAL(38, {max(0, -value.as_tuple().exponent)}))"
    if isinstance(value, str):
        if "\x00" in value:
            raise FaultlineError(MSG_UNBINDABLE.format(kind="str with NUL", value=value))
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.UTC).replace(tzinfo=None)
        return f"CAST('{value.isoformat(sep=' ')}' AS TIMESTAMP)"
    if isinstance(value, _dt.date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    raise FaultlineError(MSG_UNBINDABLE.format(kind=type(value).__name__, value=value))


def bind_literals(sql: str, params: Sequence | None) -> str:
    """The statement with every ``?`` replaced by its value as a typed :func:`literal`.

    A ``?`` inside a string (``'...'``) or a quoted name (``"..."``) is left alone. Used for
    Spark, and for DuckDB views (a view cannot hold bound parameters).

    >>> bind_literals("SELECT '?' AS q, x + ? FROM t WHERE s = ?", [0.5, "a'b"])
    "SELECT '?' AS q, x + CAST('0.5' AS DOUBLE) FROM t WHERE s = 'a''b'"
    """
    params = list(params or [])
    out: list[str] = []
    quote: str | None = None
    used = 0
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None  # a doubled quote closes and reopens: the same text results
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            if used >= len(params):
                raise FaultlineError(MSG_PLACEHOLDERS.format(found=f"more than {len(params)}", given=len(params),
                                                             sql=sql[:200]))
            out.append(literal(params[used]))
            used += 1
            continue
        out.append(ch)
    if used != len(params):
        raise FaultlineError(MSG_PLACEHOLDERS.format(found=used, given=len(params), sql=sql[:200]))
    return "".join(out)


# ---------------------------------------------------------------------------------------------- transforms
def _transform(node):
    from sqlglot import exp

    if isinstance(node, exp.Grouping) and len(node.expressions) > 1:
        k = len(node.expressions)
        bits = [exp.Mul(this=exp.Cast(this=exp.Anonymous(this="grouping", expressions=[e.copy().transform(_transform)]),
                                      to=exp.DataType.build("BIGINT")),
                        expression=exp.Literal.number(1 << (k - 1 - i))) for i, e in enumerate(node.expressions)]
        total = bits[0]
        for bit in bits[1:]:
            total = exp.Add(this=total, expression=bit)
        return exp.Paren(this=total)
    if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup):
        return exp.Anonymous(this="percentile", expressions=[node.this.copy().transform(_transform),
                                                              node.expression.copy().transform(_transform)])
    if isinstance(node, exp.Union) and node.args.get("by_name"):
        return _positional_union(node)
    if isinstance(node, exp.Length) and isinstance(node.this, (exp.RegexpExtractAll, exp.Array, exp.Split)):
        return exp.ArraySize(this=node.this.copy())  # DuckDB's len of a list is Spark's size, not a string length
    return node


def _positional_union(node):
    """``a UNION ALL BY NAME b`` as ``a UNION ALL (b's columns in a's order)``, when both sides name them."""
    from sqlglot import exp

    left, right = node.left, node.right
    if not (isinstance(left, exp.Select) and isinstance(right, exp.Select)):
        raise FaultlineError("UNION BY NAME needs both sides to be plain SELECTs to run on Spark")
    names = [e.alias_or_name for e in left.expressions]
    by_name = {e.alias_or_name: e for e in right.expressions}
    if sorted(names) != sorted(by_name):
        raise FaultlineError("UNION BY NAME with different column sets does not run on Spark")
    right = right.copy()
    right.set("expressions", [by_name[n].copy() for n in names])
    union = node.copy()
    union.set("by_name", None)
    union.set("expression", right)
    return union


def to_spark_steps(sql: str, params: Sequence | None = None, *, tables: dict[str, str] | None = None,
                   prefix: str = "faultline_cte") -> list[tuple[str | None, str]]:
    """The statement as Spark SQL steps: each common table expression first, then the query.

    Spark inlines a CTE into every place that names it (a CTE named twice is computed twice);
    DuckDB computes it once. So each CTE is its own step, ``(view name, its query)``, to be
    materialised by the caller as a view named ``<prefix>_<i>``, and the last step
    ``(None, the query)`` reads those views. A statement without CTEs is one step.

    >>> to_spark_steps("WITH c AS (SELECT a FROM t) SELECT a FROM c UNION ALL SELECT a FROM c", prefix="v")
    [('v_0', 'SELECT a FROM t'), (None, 'SELECT a FROM `v_0` AS c UNION ALL SELECT a FROM `v_0` AS c')]
    """
    import sqlglot
    from sqlglot import exp

    tree = _spark_tree(sql, params, tables)
    with_ = tree.args.get("with_") or tree.args.get("with")
    if with_ is None:
        return [(None, tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE))]
    steps: list[tuple[str | None, str]] = []
    names: dict[str, str] = {}

    def rename(node):
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names:
            return exp.Table(this=exp.to_identifier(names[node.name], quoted=True),
                             alias=exp.TableAlias(this=exp.to_identifier(node.alias or node.name)))
        return node

    for i, cte in enumerate(with_.expressions):
        body = cte.this.copy().transform(rename)
        view = f"{prefix}_{i}"
        steps.append((view, body.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)))
        names[cte.alias_or_name] = view
    main = tree.copy()
    main.set("with_" if "with_" in main.args else "with", None)
    main = main.transform(rename)
    steps.append((None, main.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)))
    return steps


def _spark_tree(sql: str, params: Sequence | None, tables: dict[str, str] | None):
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(bind_literals(sql, params), read="duckdb")
    if tables:
        for table in tree.find_all(exp.Table):
            if table.name in tables:
                table.set("this", exp.to_identifier(tables[table.name], quoted=True))
    return _split_distinct(tree.transform(_transform))


def _split_distinct(tree):
    """A whole-table aggregate with both ``count(DISTINCT ...)`` and exact percentiles, as two.

    Spark plans several distinct counts by expanding each row once per distinct argument, and
    then keeps an exact-percentile buffer for every expanded group: slow far beyond the data's
    size. The distinct counts are computed in their own one-row subquery, cross-joined.

    >>> to_spark("SELECT count(DISTINCT a), quantile_cont(b, 0.5) FROM t")
    'SELECT COALESCE(MAX(faultline_distinct.d0), 0), PERCENTILE(b, 0.5) FROM t CROSS JOIN (SELECT COUNT(DISTINCT a) AS d0 FROM t) AS faultline_distinct'
    """
    from sqlglot import exp

    if not isinstance(tree, exp.Select) or tree.args.get("group") or tree.args.get("joins"):
        return tree
    distinct = [c for c in tree.find_all(exp.Count) if isinstance(c.this, exp.Distinct)]
    heavy = [a for a in tree.find_all(exp.Anonymous) if a.name.lower() == "percentile"]
    if not distinct or not heavy or tree.args.get("from_") is None:
        return tree
    inner = exp.select(*[c.copy().as_(f"d{i}") for i, c in enumerate(distinct)])
    inner.set("from_", tree.args["from_"].copy())
    if tree.args.get("where") is not None:
        inner.set("where", tree.args["where"].copy())
    for i, c in enumerate(distinct):
        c.replace(exp.Coalesce(this=exp.Max(this=exp.column(f"d{i}", table="faultline_distinct")),
                               expressions=[exp.Literal.number(0)]))  # 0, not NULL, over no row
    return tree.join(inner.subquery("faultline_distinct"), join_type="cross")


def to_spark(sql: str, params: Sequence | None = None, *, tables: dict[str, str] | None = None) -> str:
    """A statement in Faultline's DuckDB dialect (with its bound values) as Spark SQL.

    Parameters
    ----------
    sql : str
        One statement, ``?`` placeholders for values.
    params : sequence, optional
        The values, in placeholder order (bound as literals by :func:`bind_literals`).
    tables : dict, optional
        Table names to replace (a run's DuckDB table -> the Spark view over its Parquet).

    Raises
    ------
    FaultlineError
        If a value cannot be bound.
    sqlglot.errors.SqlglotError
        If SQLGlot cannot read the statement or write it for Spark (unsupported features raise).

    Examples
    --------
    >>> to_spark("SELECT GROUPING(a, b) AS gid, quantile_cont(x, CAST(? AS DOUBLE)) AS q FROM \\"t\\" "
    ...          "GROUP BY GROUPING SETS ((a), (b)) ORDER BY a", [0.25])
    "SELECT (CAST(GROUPING(a) AS BIGINT) * 2 + CAST(GROUPING(b) AS BIGINT) * 1) AS gid, PERCENTILE(x, CAST(CAST('0.25' AS DOUBLE) AS DOUBLE)) AS q FROM `t` GROUP BY GROUPING SETS ((a), (b)) ORDER BY a NULLS LAST"
    """
    import sqlglot

    return _spark_tree(sql, params, tables).sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


__all__ = ["DEFAULT_MASTER", "SESSION_CONF", "SPARK_MASTER_ENV_VAR", "SPARK_REMOTE_ENV_VAR", "bind_literals",
           "literal", "spark_session", "stop_spark_session", "to_spark", "to_spark_steps"]
