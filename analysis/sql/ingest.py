"""Statements that load a log into the store (:meth:`analysis.store.Store.ingest`).

The source is read through DuckDB's readers (``read_csv``, ``read_json``, ``read_parquet``)
or a registered DataFrame (``from_sql``); the run's table is created from it in one
``CREATE TABLE ... AS SELECT`` and then checked. Expressions that cast a source column to
the store's types (:func:`as_text`, :func:`as_double`, :func:`as_bool`, :func:`keep_type`)
live here too. Casts are written ``CAST(x AS T)``; values are bound as ``?``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from analysis.sql import quote_ident

#: Words read as true / false in a correctness column (lower-cased, trimmed).
TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0", "pass", "passed", "correct", "c", "right", "ok")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0", "fail", "failed", "incorrect", "i", "wrong")
#: DuckDB column types read as numbers.
NUMERIC_TYPES = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|"
                           r"UHUGEINT|FLOAT|DOUBLE|DECIMAL.*|REAL)$")
#: The record number given to each source row.
ROW = "__faultline_row"
#: True on a source row whose outcome holds a value that means "not scored" (a judge's -1).
MISSING = "__faultline_missing"


def internal_names(columns) -> tuple[str, str]:
    """Names for the record number and the "not scored" flag that no source column has.

    ``__faultline_row`` and ``__faultline_missing``, with a suffix when the log has a column
    of that name (compared without case, as DuckDB does).

    >>> internal_names(["id", "__FAULTLINE_ROW", "__faultline_row_1"])
    ('__faultline_row_2', '__faultline_missing')
    """
    taken = {str(c).lower() for c in columns}
    out = []
    for base in (ROW, MISSING):
        name, n = base, 0
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name.lower())
        out.append(name)
    return out[0], out[1]


def describe_sql(from_sql: str) -> str:
    """The source's columns and types (DuckDB's DESCRIBE of the reader)."""
    return f"DESCRIBE SELECT * FROM {from_sql}"


def row_number_expr(row_column: str | None, row_base: int) -> str:
    """The record number of a source row: the reader's own row column made 1-based, or the file order."""
    return f"({quote_ident(row_column)} + {1 - int(row_base)})" if row_column else "row_number() OVER ()"


def numbered_source(from_sql: str, row_expr: str, *, row: str = ROW) -> str:
    """The source with each row's record number (``row``, see :func:`internal_names`);
    ``row_number() OVER ()`` keeps the file order."""
    return f"SELECT *, {row_expr} AS {quote_ident(row)} FROM {from_sql}"


def flag_missing_source(inner: str, checks: Sequence[tuple[str, Sequence[object]]], *,
                        missing: str = MISSING) -> tuple[str, list]:
    """``inner`` with a column ``__faultline_missing``: true where a column holds one of its "not scored" values.

    ``checks`` gives ``(source column, values)``; a number matches any numeric spelling
    (``-1``, ``-1.0``), other values match their trimmed text (booleans as ``true`` / ``false``).
    Returns the statement and its bound values (which come before the source's own).
    """
    conditions, params = [], []
    for column, values in checks:
        q = quote_ident(column)
        for value in values:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                conditions.append(f"TRY_CAST(trim(CAST({q} AS VARCHAR)) AS DOUBLE) = ?")
                params.append(float(value))
            else:
                conditions.append(f"trim(CAST({q} AS VARCHAR)) = ?")
                params.append(str(value).lower() if isinstance(value, bool) else str(value).strip())
    flag = f"coalesce({' OR '.join(conditions)}, false)" if conditions else "false"
    return f"SELECT *, {flag} AS {quote_ident(missing)} FROM ({inner})", params


def first_bad_number_sql(inner: str, column: str, *, row: str = ROW, missing: str = MISSING) -> str:
    """The first source row whose non-empty value is not a number (rows flagged "not scored" aside)."""
    q, r, m = quote_ident(column), quote_ident(row), quote_ident(missing)
    return (f"SELECT {r}, CAST({q} AS VARCHAR) FROM ({inner}) WHERE {q} IS NOT NULL AND NOT {m} "
            f"AND trim(CAST({q} AS VARCHAR)) <> '' AND TRY_CAST(CAST({q} AS VARCHAR) AS DOUBLE) IS NULL "
            f"ORDER BY {r} LIMIT 1")


def first_bad_word_sql(inner: str, column: str, n_words: int, *, row: str = ROW, missing: str = MISSING) -> str:
    """The first source row whose non-empty value is none of ``n_words`` words (bound after the source's values)."""
    q, r, m = quote_ident(column), quote_ident(row), quote_ident(missing)
    words = ", ".join("?" for _ in range(n_words))
    return (f"SELECT {r}, CAST({q} AS VARCHAR) FROM ({inner}) WHERE {q} IS NOT NULL AND NOT {m} "
            f"AND trim(CAST({q} AS VARCHAR)) <> '' AND lower(trim(CAST({q} AS VARCHAR))) NOT IN ({words}) "
            f"ORDER BY {r} LIMIT 1")


def single_value_sql(inner: str, column: str) -> str:
    """How many distinct non-empty values a source column holds (up to 2), and one of them."""
    q = quote_ident(column)
    return (f"SELECT count(*), min(v) FROM (SELECT DISTINCT CAST({q} AS VARCHAR) AS v FROM ({inner}) "
            f"WHERE {q} IS NOT NULL AND trim(CAST({q} AS VARCHAR)) <> '' LIMIT 2)")


def wide_integer_columns_sql(from_sql: str, columns: Sequence[str]) -> str:
    """Per column (read as text), whether any value is a whole number that does not fit in a signed 64-bit integer."""
    parts = []
    for column in columns:
        v = f"trim(CAST({quote_ident(column)} AS VARCHAR))"
        parts.append(f"coalesce(bool_or(regexp_full_match({v}, '-?[0-9]+') AND TRY_CAST({v} AS BIGINT) IS NULL), false)")
    return f"SELECT {', '.join(parts)} FROM {from_sql}"


def embedding_expr(column: str) -> str:
    return f"CAST({quote_ident(column)} AS FLOAT[]) AS embedding"


def create_run_table_sql(table: str, select: Sequence[str], inner: str) -> str:
    """The run's examples table from the numbered source (``select``: its columns as expressions)."""
    return f"CREATE TABLE {quote_ident(table)} AS SELECT {', '.join(select)} FROM ({inner})"


def count_sql(table: str) -> str:
    return f"SELECT count(*) FROM {quote_ident(table)}"


def first_missing_id_sql(table: str) -> str:
    return f"SELECT source_row FROM {quote_ident(table)} WHERE example_id IS NULL ORDER BY source_row LIMIT 1"


def id_hashes_sql(table: str) -> str:
    """A run's example ids as 64-bit hashes (DuckDB's ``hash``), one row per example: streamed from the store into
    the duplicate-id check's own database (:data:`ID_HASHES`), where :func:`distinct_hashes_sql` counts them."""
    return f"SELECT hash(example_id) AS h FROM {quote_ident(table)}"


#: The name under which the duplicate-id check's own database sees the streamed hashes (:func:`id_hashes_sql`).
ID_HASHES = "faultline_id_hashes"


def distinct_hashes_sql(name: str = ID_HASHES) -> str:
    """The rows and the distinct hashes of the example-id hashes ``name`` holds (:func:`id_hashes_sql`).

    Equal counts prove every id distinct (equal ids hash alike); fewer hashes mean a duplicate id
    or, rarely, two ids sharing a hash, which :func:`first_duplicate_id_sql` tells apart. Counting
    distinct 64-bit hashes needs a fraction of the memory of grouping the ids' text, and DuckDB's
    distinct aggregate spills to its temporary folder past the memory limit.
    """
    return f"SELECT count(*), count(DISTINCT h) FROM {quote_ident(name)}"


def ids_sql(table: str) -> str:
    """A run's example ids and record numbers: streamed into the check's own database when hashes repeat."""
    return f"SELECT example_id, source_row FROM {quote_ident(table)}"


#: The check's own table of ids and record numbers (:func:`ids_sql`), read by :func:`first_duplicate_id_sql`.
ID_ROWS = "faultline_ids"


def copy_ids_sql(source: str = ID_HASHES, target: str = ID_ROWS) -> str:
    """Keep the streamed ids (``source``) as a table of the check's own database (it may spill to disk)."""
    return f"CREATE TABLE {quote_ident(target)} AS SELECT example_id, source_row FROM {quote_ident(source)}"


def first_duplicate_id_sql(table: str) -> str:
    """The first example id held by two rows, with its first and last row.

    Only ids whose hash appears twice are grouped (run after :func:`distinct_id_hashes_sql` found
    fewer hashes than rows), so the grouping holds the duplicates alone, not every id.
    """
    t = quote_ident(table)
    return (f"SELECT example_id, min(source_row), max(source_row) FROM {t} WHERE hash(example_id) IN "
            f"(SELECT hash(example_id) FROM {t} GROUP BY hash(example_id) HAVING count(*) > 1) "
            "GROUP BY example_id HAVING count(*) > 1 ORDER BY min(source_row) LIMIT 1")


#: The memory the duplicate-id check's own in-memory database may use before spilling to its temporary folder
#: (a bound, not a reservation). It is that database's own limit: the store's limit, shared by every query of
#: the store, is never changed.
ID_CHECK_MEMORY = "256MB"
MEMORY_LIMIT_SQL = "SELECT current_setting('memory_limit')"


def set_memory_limit_sql(limit: str) -> str:
    """Set DuckDB's memory limit (a size such as ``'256MB'``; DuckDB's SET takes no bound parameter)."""
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*[KMGT]i?B", limit.strip()):
        raise ValueError(f"expected a memory size such as '256MB', got {limit!r}")
    return f"SET memory_limit = '{limit.strip()}'"


def first_nonfinite_sql(table: str, column: str, *, try_cast: bool = False) -> str:
    """The first row whose number is not finite (NaN or infinite)."""
    q = quote_ident(column)
    if try_cast:
        return (f"SELECT source_row, example_id, {q} FROM {quote_ident(table)} "
                f"WHERE NOT isfinite(TRY_CAST({q} AS DOUBLE)) ORDER BY source_row LIMIT 1")
    return (f"SELECT source_row, example_id, {q} FROM {quote_ident(table)} "
            f"WHERE {q} IS NOT NULL AND NOT isfinite({q}) ORDER BY source_row LIMIT 1")


def outcome_means_sql(table: str) -> str:
    """A run's scored examples, all its examples, and the means of its score and correctness over the scored."""
    return (f"SELECT count(*) FILTER (WHERE NOT unscorable), count(*), "
            f"avg(score) FILTER (WHERE NOT unscorable), "
            f"avg(CAST(correct AS DOUBLE)) FILTER (WHERE NOT unscorable) FROM {quote_ident(table)}")


def outcome_counts_sql(table: str) -> str:
    """Correct and unscorable examples of a run."""
    return (f"SELECT count(*) FILTER (WHERE correct), count(*) FILTER (WHERE unscorable) "
            f"FROM {quote_ident(table)}")


def column_stats_sql(table: str, columns: Sequence[tuple[str, bool]]) -> str:
    """Per ``(column, is_text)``: missing values, approximate distinct values, mean length (text only)."""
    parts = []
    for column, is_text in columns:
        q = quote_ident(column)
        length = f"avg(length({q}))" if is_text else "CAST(NULL AS DOUBLE)"
        parts.append(f"count(*) - count({q}), approx_count_distinct({q}), {length}")
    return f"SELECT {', '.join(parts)} FROM {quote_ident(table)}"


#: Time-zone-aware types: stored as UTC without a zone (fetching a zone-aware value needs pytz in Python).
_ZONED = ("TIMESTAMP WITH TIME ZONE", "TIME WITH TIME ZONE")


def in_utc(col: str, dtype: str) -> str:
    """A time-zone-aware column normalised to UTC, as a plain ``TIMESTAMP`` / ``TIME``; others as they are."""
    q = quote_ident(col)
    if dtype == "TIMESTAMP WITH TIME ZONE":
        return f"CAST(timezone('UTC', {q}) AS TIMESTAMP)"
    if dtype == "TIME WITH TIME ZONE":
        return f"CAST(timezone('UTC', {q}) AS TIME)"
    return q


def id_text(col: str, dtype: str) -> str:
    """An example id as text: its exact digits for a number, UTC for a zone-aware time."""
    if dtype in _ZONED:
        return f"CAST({in_utc(col, dtype)} AS VARCHAR)"
    return f"CAST({quote_ident(col)} AS VARCHAR)"


def as_text(col: str, dtype: str) -> str:
    q = quote_ident(col)
    if dtype == "VARCHAR":
        return q
    if dtype in _ZONED:  # the same text whatever the session's time zone
        return f"CAST({in_utc(col, dtype)} AS VARCHAR)"
    if dtype.startswith("STRUCT") or dtype.startswith("MAP") or dtype.endswith("[]") or dtype == "JSON":
        return f"CAST(to_json({q}) AS VARCHAR)"
    return f"CAST({q} AS VARCHAR)"


def as_double(col: str, dtype: str) -> str:
    q = quote_ident(col)
    if NUMERIC_TYPES.match(dtype):
        return f"CAST({q} AS DOUBLE)"
    if dtype == "BOOLEAN":
        return f"CAST(CAST({q} AS INTEGER) AS DOUBLE)"
    return f"TRY_CAST(nullif(trim(CAST({q} AS VARCHAR)), '') AS DOUBLE)"


def as_bool(col: str, dtype: str, threshold: float) -> str:
    q = quote_ident(col)
    if dtype == "BOOLEAN":
        return q
    if NUMERIC_TYPES.match(dtype):
        return f"(CAST({q} AS DOUBLE) >= {float(threshold)!r})"
    true_words = ", ".join(f"'{w}'" for w in TRUE_WORDS)
    false_words = ", ".join(f"'{w}'" for w in FALSE_WORDS)
    v = f"lower(trim(CAST({q} AS VARCHAR)))"
    return f"(CASE WHEN {v} IN ({true_words}) THEN true WHEN {v} IN ({false_words}) THEN false ELSE NULL END)"


#: Integer types wider than 64 bits (and DECIMALs of whole numbers wider than 18 digits): kept as exact digits.
WIDE_INTEGER_TYPES = re.compile(r"^(HUGEINT|UHUGEINT|BIGNUM|VARINT|DECIMAL\((19|[2-9][0-9]|1[0-9]{2}),\s*0\))$")


def keep_type(col: str, dtype: str, role: str) -> str:
    q = quote_ident(col)
    if role == "scores":
        return as_double(col, dtype)
    if WIDE_INTEGER_TYPES.match(dtype) and role != "signal":
        # an id-like number beyond 64 bits: its exact digits (a float would merge neighbouring values)
        return f"CAST({q} AS VARCHAR)"
    if dtype.startswith("STRUCT") or dtype.startswith("MAP") or dtype == "JSON" or \
            (dtype.endswith("[]") and role != "embedding"):
        return f"CAST(to_json({q}) AS VARCHAR)"
    return in_utc(col, dtype)


def fixed_columns_select(*, run_id: str, id_column: str | None, id_type: str = "VARCHAR", task_column: str | None, task: str | None,
                         texts: dict[str, tuple[str, str] | None], score: tuple[str, str] | None,
                         correct: tuple[str, str] | None, threshold: float,
                         status_column: str | None, row: str = ROW, missing: str = MISSING) -> tuple[list[str], list]:
    """The select list of a run table's fixed columns (``run_id`` .. ``status``) and its bound values.

    ``texts``, ``score`` and ``correct`` give ``(source column, DuckDB type)`` or None. Without a
    correctness column, correct is ``score >= threshold``; without a score, the score is the
    correctness as 0/1. A ``no_answer`` status is wrong, never unscorable; an example with no
    outcome is ``unscorable`` with status ``unscored``, and so is a row the source flags with
    ``missing`` (see :func:`flag_missing_source`); ``row`` is the record number (:func:`internal_names`).
    """
    select: list[str] = ["? AS run_id"]
    params: list = [run_id]
    r, m = quote_ident(row), quote_ident(missing)
    select.append(f"{id_text(id_column, id_type)} AS example_id" if id_column
                  else f"CAST({r} AS VARCHAR) AS example_id")
    select.append(f"CAST({r} AS BIGINT) AS source_row")
    if task_column:
        select.append(f"CAST({quote_ident(task_column)} AS VARCHAR) AS task")
    else:
        select.append("CAST(? AS VARCHAR) AS task")
        params.append(task)
    for role in ("input", "output", "reference"):
        found = texts.get(role)
        select.append(f"{as_text(*found)} AS {role}" if found else f"CAST(NULL AS VARCHAR) AS {role}")
    if score:
        score_expr = as_double(*score)
    else:
        score_expr = f"CAST({as_bool(*correct, threshold)} AS DOUBLE)"
    score_expr = f"CASE WHEN {m} THEN NULL ELSE {score_expr} END"
    if correct:
        correct_expr = f"CASE WHEN {m} THEN NULL ELSE {as_bool(*correct, threshold)} END"
    else:
        correct_expr = f"({score_expr}) >= {float(threshold)!r}"
    status_expr = f"CAST({quote_ident(status_column)} AS VARCHAR)" if status_column else "CAST(NULL AS VARCHAR)"
    select.append(f"{score_expr} AS score")
    select.append(f"CASE WHEN {status_expr} = 'no_answer' THEN false ELSE {correct_expr} END AS correct")
    select.append(f"({correct_expr}) IS NULL AND coalesce({status_expr}, '') <> 'no_answer' AS unscorable")
    select.append(f"CASE WHEN {status_expr} IN ('no_answer', 'error') THEN {status_expr} "
                  f"WHEN ({correct_expr}) IS NULL THEN 'unscored' ELSE 'ok' END AS status")
    return select, params


def stored_column(col: str, dtype: str, role: str, stored_name: str) -> str:
    """A select-list item keeping a source column under its stored name (``meta.<col>``, ``signal.<col>`` ...)."""
    return f"{keep_type(col, dtype, role)} AS {quote_ident(stored_name)}"
