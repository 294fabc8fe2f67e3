"""Every SQL statement of the slicing engine, in one module.

Statistics are computed from aggregates: each query returns counts and sums per slice
(GROUPING SETS over attribute expressions), so the same statements can later run
unchanged on a distributed SQL engine. Python post-processes only the small aggregated
result (see :mod:`analysis.slicing.table`). Values are bound as parameters; identifiers go
through :func:`analysis.store.sql.quote_ident`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.store.sql import quote_ident

#: Phrases that mark an output as a refusal (lower-case regular expression).
REFUSAL_PATTERN = (
    r"(i'?m sorry,? but|i am sorry,? but|i can'?t (help|assist|provide|do that|comply)|i cannot (help|assist|provide|"
    r"comply)|i won'?t be able to|i'?m (not able|unable) to|i am (not able|unable) to|as an ai( language model)?,? i|"
    r"i must decline|i'?m afraid i can'?t|cannot help with (that|this)|can'?t help with (that|this)|"
    r"not able to (help|assist) with)"
)


@dataclass
class AttributeSQL:
    """How one attribute is computed per example, as SQL with its bound parameters."""

    name: str
    expr: str
    params: list = field(default_factory=list)
    labels: dict | None = None
    """For binned numbers: bin index -> label."""


def count_sql(table: str) -> str:
    return f"SELECT count(*) FROM {quote_ident(table)}"


def column_profile_sql(table: str, column: str) -> tuple[str, list]:
    """Distinct count, min, max of one column (to choose bins or periods)."""
    q = quote_ident(column)
    return (f"SELECT approx_count_distinct({q}), min({q}), max({q}), count({q}) FROM {quote_ident(table)}", [])


def quantile_edges_sql(table: str, expr: str, params: list, quantiles: Sequence[float]) -> tuple[str, list]:
    """Quantile cut points of a numeric expression (continuous quantiles)."""
    return (f"SELECT quantile_cont({expr}, ?::DOUBLE[]) FROM {quote_ident(table)} WHERE {expr} IS NOT NULL",
            params + [list(quantiles)] + params)


def binned_expr(expr: str, params: list, edges: Sequence[float]) -> tuple[str, list]:
    """Bin index (0..len(edges)) of a numeric expression; NULL stays NULL (missing)."""
    if not edges:
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE 0 END", list(params)
    parts = [f"WHEN {expr} IS NULL THEN NULL"]
    out_params = list(params)
    for index, edge in enumerate(edges):
        parts.append(f"WHEN {expr} <= ? THEN {index}")
        out_params += params + [float(edge)]
    return f"CASE {' '.join(parts)} ELSE {len(edges)} END", out_params


def length_expr(column: str) -> str:
    return f"length({quote_ident(column)})"


def refusal_expr(column: str) -> tuple[str, list]:
    return f"coalesce(regexp_matches(lower({quote_ident(column)}), ?), false)", [REFUSAL_PATTERN]


def empty_expr(column: str) -> str:
    q = quote_ident(column)
    return f"({q} IS NULL OR trim({q}) = '')"


def turn_expr(column: str) -> str:
    """Conversation turn: user messages in a chat transcript (``user: ...`` blocks), 1 for plain prompts."""
    q = quote_ident(column)
    return f"greatest(1, len(regexp_extract_all(coalesce({q}, ''), '(^|\\n)user: ')))"


def period_expr(column: str, period: str) -> tuple[str, list]:
    return f"date_trunc(?, {quote_ident(column)})", [period]


def grouping_mask(k: int, grouped: Sequence[int]) -> int:
    """DuckDB's GROUPING(a0..ak-1) value for a set: bit (k-1-i) is 1 when attribute i is not grouped on."""
    return sum(1 << (k - 1 - i) for i in range(k) if i not in grouped)


def grouping_sets_sql(table: str, attributes: Sequence[AttributeSQL], sets: Sequence[Sequence[int]],
                      *, with_scores: bool = True, derive_singles: bool = False,
                      where: str = "NOT unscorable", where_params: Sequence = (),
                      outcome: str | None = None, outcome_params: Sequence = ()) -> tuple[str, list]:
    """Counts per slice for every grouping set in one statement.

    Returns rows of: one value column per attribute (NULL when not grouped on, or missing:
    ``gid`` tells them apart), ``gid`` (DuckDB's GROUPING bitmask, see :func:`grouping_mask`),
    ``n``, ``errors``, ``score_sum``, ``score_n``.

    ``outcome``: an SQL boolean over the table (built by Faultline, values in
    ``outcome_params``) counted in ``errors`` instead of ``NOT correct``, e.g. a failure
    mode's indicator (:func:`analysis.objective.modes.mode_slices`).

    ``derive_singles``: ``sets`` are pairs; the single-attribute counts are summed from the
    pair cells (a second aggregation over the small aggregated table, not over the examples),
    which saves one pass over the examples per attribute.
    """
    k = len(attributes)
    cols = [f"a{i}" for i in range(k)]
    inner_select = ", ".join(f"{a.expr} AS {c}" for a, c in zip(attributes, cols))
    params: list = []
    for a in attributes:
        params += a.params
    sets_sql = ", ".join("(" + ", ".join(cols[i] for i in s) + ")" for s in sets)
    score_aggs = ", sum(score) AS score_sum, count(score) AS score_n" if with_scores else \
        ", NULL::DOUBLE AS score_sum, 0::BIGINT AS score_n"
    if outcome is None:
        counted, flag = "NOT correct", ""
    else:
        counted, flag = "__outcome", f", coalesce(({outcome}), false) AS __outcome"
        params += list(outcome_params)
    cells = (f"SELECT {', '.join(cols)}, GROUPING({', '.join(cols)}) AS gid, count(*) AS n, "
             f"count_if({counted}) AS errors{score_aggs} "
             f"FROM (SELECT {inner_select}, correct, score{flag} FROM {quote_ident(table)} WHERE {where}) "
             f"GROUP BY GROUPING SETS ({sets_sql})")
    params += list(where_params)
    if not derive_singles:
        return cells, params
    parts = ["SELECT * FROM cells"]
    for i in range(k):
        partner = 1 if i == 0 else 0
        parts.append(f"SELECT {cols[i]}, ?::INTEGER AS gid, sum(n)::BIGINT AS n, sum(errors)::BIGINT AS errors, "
                     f"sum(score_sum) AS score_sum, sum(score_n)::BIGINT AS score_n FROM cells WHERE gid = ? "
                     f"GROUP BY {cols[i]}")
        params += [grouping_mask(k, [i]), grouping_mask(k, sorted((i, partner)))]
    return f"WITH cells AS ({cells}) " + " UNION ALL BY NAME ".join(parts), params


def scores_differ_sql(table: str) -> str:
    """Whether any scored example's score is not just its correctness as 0/1 (then mean scores are aggregated)."""
    return (f"SELECT count(*) > 0 FROM (SELECT 1 FROM {quote_ident(table)} WHERE NOT unscorable "
            "AND score IS DISTINCT FROM CAST(correct AS DOUBLE) LIMIT 1)")


def totals_sql(table: str, *, where: str = "NOT unscorable") -> str:
    return (f"SELECT count(*), sum(CASE WHEN correct THEN 0 ELSE 1 END), sum(score), sum(score * score), count(score), "
            f"(SELECT count(*) FROM {quote_ident(table)} WHERE unscorable) FROM {quote_ident(table)} WHERE {where}")


def outcomes_sets_sql(table: str, attributes: Sequence[AttributeSQL], sets: Sequence[Sequence[int]],
                      outcomes: Sequence[tuple[str, Sequence]], *, where: str = "NOT unscorable") -> tuple[str, list]:
    """Like :func:`grouping_sets_sql` for several outcomes at once (e.g. every failure mode's
    indicator, SQL built by Faultline with its bound values): rows of the attribute value
    columns, ``gid``, ``n`` and ``errors_0`` ... ``errors_<k-1>`` (examples satisfying each)."""
    cols = [f"a{i}" for i in range(len(attributes))]
    params: list = []
    inner = []
    for a, c in zip(attributes, cols):
        inner.append(f"{a.expr} AS {c}")
        params += a.params
    counts = []
    for i, (sql, p) in enumerate(outcomes):
        inner.append(f"coalesce(({sql}), false) AS __o{i}")
        params += list(p)
        counts.append(f"count_if(__o{i}) AS errors_{i}")
    sets_sql = ", ".join("(" + ", ".join(cols[i] for i in s) + ")" for s in sets)
    sql = (f"SELECT {', '.join(cols)}, GROUPING({', '.join(cols)}) AS gid, count(*) AS n"
           f"{''.join(', ' + c for c in counts)} FROM (SELECT {', '.join(inner)} FROM {quote_ident(table)} "
           f"WHERE {where}) GROUP BY GROUPING SETS ({sets_sql})")
    return sql, params


def outcome_totals_sql(table: str, outcome: str, outcome_params: Sequence = (), *,
                       where: str = "NOT unscorable") -> tuple[str, list]:
    """Examples and how many of them satisfy ``outcome`` (an SQL boolean built by Faultline)."""
    return (f"SELECT count(*), count_if(__outcome) FROM (SELECT coalesce(({outcome}), false) AS __outcome "
            f"FROM {quote_ident(table)} WHERE {where})", list(outcome_params))


def codes_sql(table: str, attributes: Sequence[AttributeSQL], *, where: str = "NOT unscorable") -> tuple[str, list]:
    """Per-example attribute values and the error indicator, for discovery and bootstraps."""
    params: list = []
    parts = []
    for i, a in enumerate(attributes):
        parts.append(f"{a.expr} AS a{i}")
        params += a.params
    sql = (f"SELECT example_id, {', '.join(parts)}, CASE WHEN correct THEN 0.0 ELSE 1.0 END AS err, score "
           f"FROM {quote_ident(table)} WHERE {where} ORDER BY source_row")
    return sql, params


def predicate_where(attributes: Sequence[AttributeSQL], values: Sequence) -> tuple[str, list]:
    """WHERE clause selecting the examples of one slice (a value of None means missing)."""
    parts, params = [], []
    for a, v in zip(attributes, values):
        if v is None:
            parts.append(f"({a.expr}) IS NULL")
            params += a.params
        else:
            parts.append(f"({a.expr}) = ?")
            params += a.params + [v]
    return " AND ".join(parts) if parts else "true", params


def slice_examples_sql(table: str, where: str, params: list, *, limit: int | None) -> tuple[str, list]:
    sql = (f"SELECT example_id, input, output, reference, score, correct, status FROM {quote_ident(table)} "
           f"WHERE NOT unscorable AND {where} ORDER BY correct, source_row")
    if limit is not None:
        sql += " LIMIT ?"
        params = params + [int(limit)]
    return sql, params


def paired_sets_sql(base_table: str, cand_table: str, attributes: Sequence[AttributeSQL],
                    sets: Sequence[Sequence[int]]) -> tuple[str, list]:
    """Paired counts per slice for two runs joined on example id (attributes from the baseline).

    Per slice: n (matched, both scorable), base_errors, cand_errors, b (base right, candidate
    wrong), c (base wrong, candidate right), and score sums of both.
    """
    cols = [f"a{i}" for i in range(len(attributes))]
    params: list = []
    for a in attributes:
        params += a.params
    inner = ", ".join(f"{a.expr} AS {c}" for a, c in zip(attributes, cols))
    sets_sql = ", ".join("(" + ", ".join(cols[i] for i in s) + ")" for s in sets) if sets else "()"
    group_cols = ", ".join(cols)
    select_cols = f"{group_cols}, GROUPING({group_cols}) AS gid, " if cols else "0 AS gid, "
    sql = (f"WITH base AS (SELECT example_id, {inner + ', ' if inner else ''}correct AS bc, score AS bs "
           f"FROM {quote_ident(base_table)} WHERE NOT unscorable), "
           f"cand AS (SELECT example_id, correct AS cc, score AS cs FROM {quote_ident(cand_table)} WHERE NOT unscorable) "
           f"SELECT {select_cols}count(*) AS n, "
           "sum(CASE WHEN bc THEN 0 ELSE 1 END) AS base_errors, sum(CASE WHEN cc THEN 0 ELSE 1 END) AS cand_errors, "
           "sum(CASE WHEN bc AND NOT cc THEN 1 ELSE 0 END) AS b, sum(CASE WHEN cc AND NOT bc THEN 1 ELSE 0 END) AS c, "
           "sum(bs) AS base_score_sum, sum(cs) AS cand_score_sum, count(bs) AS base_score_n, count(cs) AS cand_score_n "
           f"FROM base JOIN cand USING (example_id) GROUP BY GROUPING SETS ({sets_sql})")
    return sql, params


def matching_sql(base_table: str, cand_table: str) -> str:
    """Example-id matching between two runs: both, only baseline, only candidate."""
    b, c = quote_ident(base_table), quote_ident(cand_table)
    return (f"SELECT (SELECT count(*) FROM {b} JOIN {c} USING (example_id)), "
            f"(SELECT count(*) FROM {b} WHERE example_id NOT IN (SELECT example_id FROM {c})), "
            f"(SELECT count(*) FROM {c} WHERE example_id NOT IN (SELECT example_id FROM {b}))")


def paired_values_sql(base_table: str, cand_table: str, attributes: Sequence[AttributeSQL]) -> tuple[str, list]:
    """Per matched example: attribute values (baseline) and both runs' scores, for the paired bootstrap."""
    params: list = []
    parts = []
    for i, a in enumerate(attributes):
        parts.append(f"{a.expr} AS a{i}")
        params += a.params
    sql = (f"WITH base AS (SELECT example_id, source_row, {', '.join(parts) + ', ' if parts else ''}score AS bs "
           f"FROM {quote_ident(base_table)} WHERE NOT unscorable), "
           f"cand AS (SELECT example_id, score AS cs FROM {quote_ident(cand_table)} WHERE NOT unscorable) "
           "SELECT * EXCLUDE (source_row) FROM base JOIN cand USING (example_id) ORDER BY source_row")
    return sql, params
