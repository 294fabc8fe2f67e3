"""Statements of the per-slice extras (:mod:`analysis.slicing.extras`): counts, calibration
rows, percentiles, cost-weighted errors, raters' labels and scores per attribute value.

Each reads one attribute expression (``expr`` with its bound ``params``, from the slicing
layer) as ``v`` in a subquery and aggregates over it, so no statement groups by an alias or
an ordinal. Portable subset: they transpile from DuckDB to Spark SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.sql import quote_ident
from analysis.sql.slices import CohortSQL, and_cohort

#: The percentiles of latency and cost columns reported per slice.
PERCENTILES = (0.5, 0.9, 0.99)


def value_counts_sql(table: str, expr: str, params: Sequence, *, cohort: CohortSQL = None) -> tuple[str, list]:
    """Scored examples per attribute value: rows ``v, n``."""
    where, extra = and_cohort("NOT unscorable", cohort)
    return (f"SELECT v, count(*) AS n FROM (SELECT {expr} AS v FROM {quote_ident(table)} WHERE {where}) "
            "GROUP BY v", list(params) + extra)


def calibration_rows_sql(table: str, expr: str, params: Sequence, confidence: str, *,
                         cohort: CohortSQL = None) -> tuple[str, list]:
    """Per scored example with a confidence: the attribute value, the confidence (as a double) and
    the outcome as 1.0 / 0.0 (rows ``v, confidence, ok``), for the grouped ECE of :mod:`analysis.stats`."""
    q = quote_ident(confidence)
    where, extra = and_cohort(f"NOT unscorable AND {q} IS NOT NULL", cohort)
    return (f"SELECT {expr} AS v, CAST({q} AS DOUBLE) AS confidence, CASE WHEN correct THEN 1.0 ELSE 0.0 END AS ok "
            f"FROM {quote_ident(table)} WHERE {where}", list(params) + extra)


def percentiles_sql(table: str, expr: str, params: Sequence, column: str, *,
                    cohort: CohortSQL = None) -> tuple[str, list]:
    """Per attribute value: the :data:`PERCENTILES` of a numeric column (continuous quantiles)."""
    parts = ", ".join(f"quantile_cont(x, {p!r})" for p in PERCENTILES)
    where, extra = and_cohort("NOT unscorable", cohort)
    return (f"SELECT v, {parts} FROM (SELECT {expr} AS v, {quote_ident(column)} AS x FROM {quote_ident(table)} "
            f"WHERE {where}) GROUP BY v", list(params) + extra)


def cost_expr(conditions: Sequence[tuple[str, Sequence, str, float]], default: float) -> tuple[str, list]:
    """Each example's failure cost: the cost of the first ``(expr, params, value, cost)`` whose
    attribute value (as text) matches, else ``default``."""
    if not conditions:
        return "CAST(? AS DOUBLE)", [float(default)]
    parts, out = [], []
    for expr, params, value, cost in conditions:
        parts.append(f"WHEN CAST({expr} AS VARCHAR) = ? THEN CAST(? AS DOUBLE)")
        out += list(params) + [str(value), float(cost)]
    return f"(CASE {' '.join(parts)} ELSE CAST(? AS DOUBLE) END)", out + [float(default)]


def cost_weighted_sql(table: str, expr: str, params: Sequence, cost: str, cost_params: Sequence, *,
                      cohort: CohortSQL = None) -> tuple[str, list]:
    """Per attribute value: the mean failure cost over its scored examples (0 for a correct one)."""
    where, extra = and_cohort("NOT unscorable", cohort)
    return (f"SELECT v, sum(CASE WHEN correct THEN 0 ELSE cost END) / count(*) FROM (SELECT {expr} AS v, correct, "
            f"{cost} AS cost FROM {quote_ident(table)} WHERE {where}) GROUP BY v",
            list(params) + list(cost_params) + extra)


def rater_pairs_sql(table: str, expr: str, params: Sequence, a: str, b: str, *,
                    cohort: CohortSQL = None) -> tuple[str, list]:
    """Per attribute value: how often two raters gave each pair of labels (both present)."""
    qa, qb = quote_ident(a), quote_ident(b)
    where, extra = and_cohort(f"{qa} IS NOT NULL AND {qb} IS NOT NULL", cohort)
    return (f"SELECT v, la, lb, count(*) AS n FROM (SELECT {expr} AS v, CAST({qa} AS VARCHAR) AS la, "
            f"CAST({qb} AS VARCHAR) AS lb FROM {quote_ident(table)} WHERE {where}) "
            "GROUP BY v, la, lb", list(params) + extra)


def rater_labels_sql(table: str, expr: str, params: Sequence, raters: Sequence[str], *,
                     cohort: CohortSQL = None) -> tuple[str, list]:
    """Per example: the attribute value and every rater's label (as text)."""
    cols = ", ".join(f"CAST({quote_ident(r)} AS VARCHAR) AS {quote_ident(r)}" for r in raters)
    where, extra = and_cohort("true", cohort)
    return f"SELECT {expr} AS v, {cols} FROM {quote_ident(table)} WHERE {where}", list(params) + extra


def scores_sql(table: str, expr: str, params: Sequence, *, cohort: CohortSQL = None) -> tuple[str, list]:
    """Per scored example with a score, in log order: the attribute value and the score."""
    where, extra = and_cohort("NOT unscorable AND score IS NOT NULL", cohort)
    return (f"SELECT {expr} AS v, score FROM {quote_ident(table)} WHERE {where} "
            "ORDER BY source_row", list(params) + extra)
