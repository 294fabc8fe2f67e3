"""Statements of the failure modes (:mod:`analysis.objective.modes`): label columns, the
built-in detectors' SQL, and the per-example indicators and counts of compiled modes.

A mode's indicator is an SQL boolean built by Faultline from its sources (bound values,
quoted identifiers); these functions only assemble statements around it. Portable subset:
every statement transpiles from DuckDB to Spark SQL (no list lambdas, no ``::`` casts, no
``EXCLUDE``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from analysis.sql import quote_ident
from analysis.sql.features import length_expr

#: Characters separating several labels in one cell (``hallucination; refusal``).
LABEL_SEPARATORS = ",;|"


def label_values_sql(table: str, expr: str, params: Sequence) -> tuple[str, list]:
    """Every distinct label in a label column (cells split at :data:`LABEL_SEPARATORS`, trimmed)."""
    return (f"SELECT DISTINCT trim(label) FROM (SELECT unnest(regexp_split_to_array(CAST({expr} AS VARCHAR), "
            f"'[{LABEL_SEPARATORS}]')) AS label FROM {quote_ident(table)})", list(params))


def label_match_expr(expr: str, params: Sequence, labels: Sequence[str]) -> tuple[str, list]:
    """True when one of a cell's labels (split at :data:`LABEL_SEPARATORS`, spaces trimmed) is one of ``labels``.

    ``labels`` are values found by :func:`label_values_sql` (trimmed, without separators);
    the test is one regular expression with the labels escaped, bound as a value.

    >>> import re
    >>> sql, (pattern,) = label_match_expr('"meta.mode"', [], ["hallucination", "a.b"])
    >>> [bool(re.search(pattern, c)) for c in ["hallucination", "x; hallucination |y", "hallucinations", "a.b", "axb"]]
    [True, True, False, True, False]
    """
    sep = re.escape(LABEL_SEPARATORS)
    alternatives = "|".join(re.escape(v) for v in labels)
    pattern = f"(^|[{sep}]) *({alternatives}) *($|[{sep}])"
    return f"regexp_matches(CAST({expr} AS VARCHAR), ?)", [*params, pattern]


def ids_expr(ids: Sequence[str]) -> tuple[str, list]:
    """The example's id is one of ``ids`` (each bound)."""
    if not ids:
        return "false", []
    return f"example_id IN ({', '.join('?' for _ in ids)})", [str(i) for i in ids]


def option_letter_share_sql(table: str, expr: str, params: Sequence, pattern: str) -> tuple[str, list]:
    """Share of scored answers (of ``expr``) and of references that are an option letter (``pattern``)."""
    return (f"SELECT avg(CASE WHEN regexp_matches(CAST({expr} AS VARCHAR), ?) THEN 1.0 ELSE 0.0 END), "
            f"avg(CASE WHEN regexp_matches({quote_ident('reference')}, ?) THEN 1.0 ELSE 0.0 END) "
            f"FROM {quote_ident(table)} WHERE {expr} IS NOT NULL AND NOT unscorable",
            [*params, pattern, pattern, *params])


def not_option_letter_expr(expr: str, params: Sequence, pattern: str) -> tuple[str, list]:
    """The answer is not an option letter."""
    return f"NOT coalesce(regexp_matches(CAST({expr} AS VARCHAR), ?), false)", [*params, pattern]


def long_output_expr(min_chars: int, ratio: float) -> tuple[str, list]:
    """The output has at least ``min_chars`` characters and ``ratio`` times the reference's length."""
    out, ref = length_expr("output"), length_expr("reference")
    return (f"{out} >= CAST(? AS BIGINT) AND {ref} > 0 AND {out} >= CAST(? AS DOUBLE) * {ref}",
            [int(min_chars), float(ratio)])


def group_has_correct_expr(expr: str, params: Sequence) -> tuple[str, list]:
    """The example's group (``expr``, e.g. a paraphrase group) is known and has a correct answer."""
    return (f"({expr}) IS NOT NULL AND coalesce(bool_or(correct) OVER (PARTITION BY ({expr})), false)",
            [*params, *params])


def indicators_sql(table: str, columns: Sequence[tuple[str, str, Sequence]]) -> tuple[str, list]:
    """Per scored example in log order: ``example_id``, ``correct`` and each ``(name, sql, params)`` column."""
    select, params = ["example_id", "correct"], []
    for name, sql, p in columns:
        select.append(f"{sql} AS {quote_ident(name)}")
        params += list(p)
    return (f"SELECT {', '.join(select)} FROM {quote_ident(table)} WHERE NOT unscorable ORDER BY source_row",
            params)


def counts_sql(table: str, conditions: Sequence[tuple[str, Sequence]]) -> tuple[str, list]:
    """Scored examples, and how many satisfy each condition (``(sql, params)``, NULL counted as false)."""
    inner, params = ["1 AS __one"], []
    for i, (sql, p) in enumerate(conditions):
        inner.append(f"coalesce(({sql}), false) AS __m{i}")
        params += list(p)
    counts = ", ".join(["count(*)"] + [f"count_if(__m{i})" for i in range(len(conditions))])
    return (f"SELECT {counts} FROM (SELECT {', '.join(inner)} FROM {quote_ident(table)} WHERE NOT unscorable)",
            params)


def examples_sql(table: str, columns: Sequence[tuple[str, str, Sequence]], why: tuple[str, Sequence],
                 member: tuple[str, Sequence], order: tuple[str, Sequence] | None, *, descending: bool,
                 limit: int | None) -> tuple[str, list]:
    """The scored examples in a mode (``member``), with the fixed text columns, ``columns``
    (``(name, sql, params)``), and ``why``; sorted by ``order`` (NULLs last, then log order)
    or in log order."""
    fixed = ["example_id", "input", "output", "reference", "correct"]
    inner, params = list(fixed), []
    for name, sql, p in columns:
        inner.append(f"{sql} AS {quote_ident(name)}")
        params += list(p)
    if order is not None:
        inner.append(f"{order[0]} AS __order")
        params += list(order[1])
    inner += [f"{why[0]} AS why", f"{member[0]} AS __in", "source_row"]
    params += list(why[1]) + list(member[1])
    shown = fixed + [quote_ident(name) for name, _, _ in columns] + ["why"]
    sort = f"__order {'DESC' if descending else 'ASC'} NULLS LAST, source_row" if order is not None else "source_row"
    sql = (f"SELECT {', '.join(shown)} FROM (SELECT {', '.join(inner)} FROM {quote_ident(table)} "
           f"WHERE NOT unscorable) WHERE __in ORDER BY {sort}")
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params
