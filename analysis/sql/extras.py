"""Statements of the per-slice extras (:mod:`analysis.slicing.extras`): counts, calibration
bin sums, percentiles, cost-weighted errors, raters' labels and score moments per attribute value.

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


def confidence_range_sql(table: str, confidence: str, *, cohort: CohortSQL = None) -> tuple[str, list]:
    """Over the scored examples with a confidence: their count, how many lie outside [0, 1], the least and
    the greatest (one row ``n, outside, low, high``), to refuse a confidence that is not a probability."""
    q = f"CAST({quote_ident(confidence)} AS DOUBLE)"
    where, extra = and_cohort(f"NOT unscorable AND {quote_ident(confidence)} IS NOT NULL", cohort)
    return (f"SELECT count(*), count_if(c < CAST(0 AS DOUBLE) OR c > CAST(1 AS DOUBLE)), min(c), max(c) "
            f"FROM (SELECT {q} AS c FROM {quote_ident(table)} WHERE {where})", extra)


def calibration_bins_sql(table: str, expr: str, params: Sequence, confidence: str, edges: Sequence[float], *,
                         cohort: CohortSQL = None) -> tuple[str, list]:
    """Per attribute value and confidence bin: scored examples, sum of confidences, correct examples
    (rows ``v, bin, n, confidence_sum, correct_sum``), for the ECE from bin sums of :mod:`analysis.stats`.

    ``edges`` are the bins' edges (:func:`analysis.stats.calibration_bin_edges`): bin i holds
    ``edges[i] <= confidence < edges[i+1]``, the last also 1.0, compared with the same floats (bound).
    """
    q = quote_ident(confidence)
    inner_edges = [float(e) for e in list(edges)[1:-1]]
    cases = " ".join(f"WHEN c < CAST(? AS DOUBLE) THEN {i}" for i in range(len(inner_edges)))
    binned = f"CASE {cases} ELSE {len(inner_edges)} END" if inner_edges else "0"
    where, extra = and_cohort(f"NOT unscorable AND {q} IS NOT NULL", cohort)
    return (f"SELECT v, b, count(*) AS n, sum(c) AS confidence_sum, count_if(ok) AS correct_sum FROM "
            f"(SELECT v, c, ok, {binned} AS b FROM (SELECT {expr} AS v, CAST({q} AS DOUBLE) AS c, correct AS ok "
            f"FROM {quote_ident(table)} WHERE {where})) GROUP BY v, b", inner_edges + list(params) + extra)


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


def rater_coincidences_sql(table: str, expr: str, params: Sequence, raters: Sequence[str], *,
                           cohort: CohortSQL = None) -> tuple[str, list]:
    """Krippendorff's coincidences per attribute value, as integer sums (rows ``v, m, c, k, s``).

    An example is a unit; ``N_uc`` is how many of the ``raters`` (columns) gave it label ``c`` (as text) and
    ``m_u`` how many labels it has. Per attribute value ``v``, per ``m`` (2 or more: a unit with one label pairs
    with nothing) and per pair of labels ``(c, k)``: ``s = sum_u (N_uc N_uk - [c = k] N_uc)`` over the examples
    with ``m`` labels, an exact integer. The coincidence matrix of the value is ``o_ck = sum_m s / (m - 1)``
    (:func:`analysis.stats.krippendorff_alpha_from_coincidences`): the examples' labels are counted here, none
    read into Python. Over every example (of the cohort, if given), scorable or not.
    """
    where, extra = and_cohort("true", cohort)
    cols = ", ".join(f"CAST({quote_ident(r)} AS VARCHAR) AS r{i}" for i, r in enumerate(raters))
    labels = " UNION ALL ".join(f"SELECT u, v, r{i} AS l FROM rated WHERE r{i} IS NOT NULL"
                                for i in range(len(raters)))
    sql = (f"WITH rated AS (SELECT example_id AS u, {expr} AS v, {cols} FROM {quote_ident(table)} WHERE {where}), "
           f"labels AS ({labels}), "
           "counted AS (SELECT u, v, l, count(*) AS n FROM labels GROUP BY u, v, l), "
           "units AS (SELECT u, sum(n) AS m FROM counted GROUP BY u), "
           "pairable AS (SELECT counted.u, counted.v, counted.l, counted.n, units.m FROM counted "
           "JOIN units ON counted.u = units.u WHERE units.m >= 2) "
           "SELECT a.v, a.m, a.l AS c, b.l AS k, "
           "sum(a.n * b.n - CASE WHEN a.l = b.l THEN a.n ELSE 0 END) AS s "
           "FROM pairable a JOIN pairable b ON a.u = b.u GROUP BY a.v, a.m, a.l, b.l")
    return sql, list(params) + extra


def score_moments_sql(table: str, expr: str, params: Sequence, *, cohort: CohortSQL = None) -> tuple[str, list]:
    """Per attribute value, over its scored examples with a score: their count, the mean score and its
    sample standard deviation (rows ``v, n, mean, sd``; ``sd`` NULL below two scores), for the Student-t
    interval of :func:`analysis.stats.mean_interval`."""
    where, extra = and_cohort("NOT unscorable AND score IS NOT NULL", cohort)
    return (f"SELECT v, count(*) AS n, avg(score) AS mean, stddev_samp(score) AS sd FROM "
            f"(SELECT {expr} AS v, score FROM {quote_ident(table)} WHERE {where}) GROUP BY v", list(params) + extra)
