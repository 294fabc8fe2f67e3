"""Statements of the example view (:mod:`analysis.objective.example`) and of the compare drill-down
(:mod:`analysis.slicing.drilldown`): one example in full, its neighbours within a cohort, and paired examples.
Portable subset (transpiles to Spark SQL)."""

from __future__ import annotations

from collections.abc import Sequence

from analysis.sql import quote_ident
from analysis.sql.slices import CohortSQL, and_cohort


def one_example_sql(table: str, columns: Sequence[str]) -> str:
    """The given columns of one example (bind its id)."""
    return f"SELECT {', '.join(quote_ident(c) for c in columns)} FROM {quote_ident(table)} WHERE example_id = ?"


def neighbours_sql(table: str, source_row: int, cohort: CohortSQL = None) -> tuple[str, list]:
    """Within a cohort, in log order around a source row: the previous example's id, the next one's, how many
    come before it (its position - 1 when it is in the cohort), whether it is in the cohort, and the cohort's size."""
    where, params = and_cohort("true", cohort)
    row = int(source_row)
    sql = (f"WITH c AS (SELECT example_id, source_row FROM {quote_ident(table)} WHERE {where}) "
           "SELECT (SELECT example_id FROM c WHERE source_row < ? ORDER BY source_row DESC LIMIT 1), "
           "(SELECT example_id FROM c WHERE source_row > ? ORDER BY source_row LIMIT 1), "
           "(SELECT count(*) FROM c WHERE source_row < ?), (SELECT count(*) FROM c WHERE source_row = ?), "
           "(SELECT count(*) FROM c)")
    return sql, params + [row, row, row, row]


def example_flags_sql(table: str, columns: Sequence[tuple[str, str, Sequence]], *,
                      over_run: bool = False) -> tuple[str, list]:
    """Each ``(alias, sql, params)`` column (SQL built by Faultline) for one example (its id bound last). With
    ``over_run``, the columns are evaluated over every row of the run before the example is picked: a column that
    reads other rows (a window over the example's paraphrase group) sees them all, not the example's row alone."""
    select, params = [], []
    for alias, sql, p in columns:
        select.append(f"{sql} AS {quote_ident(alias)}")
        params += list(p)
    if over_run:
        names = ", ".join(quote_ident(alias) for alias, _, _ in columns) or "true"
        return (f"SELECT {names} FROM (SELECT example_id AS __example, {', '.join(select) or 'true'} "
                f"FROM {quote_ident(table)}) AS run_rows WHERE __example = ?", params)
    return f"SELECT {', '.join(select) or 'true'} FROM {quote_ident(table)} WHERE example_id = ?", params


def paired_examples_sql(base_table: str, cand_table: str, slice_where: str, slice_params: Sequence,
                        cohort: CohortSQL = None, *, verdicts: Sequence[str] | None = None,
                        limit: int | None = None, score: str | None = None) -> tuple[str, list]:
    """Examples of both runs paired on example id, both scorable, in a slice of the baseline (``slice_where``
    over the baseline's columns) and a cohort: ``example_id``, ``input``, both outputs, the reference, both scores
    and correctness, and ``verdict``.

    By correctness (``score`` None): ``regressed`` (right, then wrong), ``fixed`` (wrong, then right),
    ``still_wrong``, ``still_right``; regressions first, then fixes, then the rest, each in log order; the scores
    are the runs' ``score`` column. By a graded score (``score``: its stored column, both runs): only the pairs with
    both scores, ``base_score`` and ``cand_score`` that column's, and the verdict ``score_fell``, ``score_rose`` or
    ``score_same`` (equal scores); the largest falls first, then the largest rises, then the unchanged, ties in log
    order."""
    where, params = and_cohort(f"NOT unscorable AND ({slice_where})", cohort)
    if score is None:
        column = "score"  # as stored
        verdict = ("CASE WHEN b.correct AND NOT c.correct THEN 'regressed' WHEN c.correct AND NOT b.correct "
                   "THEN 'fixed' WHEN b.correct THEN 'still_right' ELSE 'still_wrong' END")
        order = ("CASE verdict WHEN 'regressed' THEN 0 WHEN 'fixed' THEN 1 WHEN 'still_wrong' THEN 2 ELSE 3 END, "
                 "source_row")
        both = ""
    else:
        column = f"CAST({quote_ident(score)} AS DOUBLE)"
        verdict = ("CASE WHEN c.score < b.score THEN 'score_fell' WHEN c.score > b.score THEN 'score_rose' "
                   "ELSE 'score_same' END")
        order = ("CASE verdict WHEN 'score_fell' THEN 0 WHEN 'score_rose' THEN 1 ELSE 2 END, "
                 "CASE verdict WHEN 'score_rose' THEN base_score - cand_score ELSE cand_score - base_score END, "
                 "source_row")
        both = " WHERE b.score IS NOT NULL AND c.score IS NOT NULL"
    sql = (f"WITH b AS (SELECT example_id, source_row, input, output, reference, "
           f"{column} AS score, correct FROM {quote_ident(base_table)} WHERE {where}), "
           f"c AS (SELECT example_id, output, {column} AS score, correct "
           f"FROM {quote_ident(cand_table)} WHERE NOT unscorable), "
           f"p AS (SELECT b.example_id, b.source_row, b.input, b.reference, b.output AS base_output, "
           f"c.output AS cand_output, b.score AS base_score, c.score AS cand_score, b.correct AS base_correct, "
           f"c.correct AS cand_correct, {verdict} AS verdict FROM b JOIN c ON b.example_id = c.example_id{both}) "
           "SELECT example_id, input, reference, base_output, cand_output, base_score, cand_score, base_correct, "
           "cand_correct, verdict FROM p")
    params = list(slice_params) + params
    if verdicts:
        sql += f" WHERE verdict IN ({', '.join('?' for _ in verdicts)})"
        params += [str(v) for v in verdicts]
    sql += f" ORDER BY {order}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params


def verdict_counts_sql(base_table: str, cand_table: str, slice_where: str, slice_params: Sequence,
                       cohort: CohortSQL = None, *, score: str | None = None) -> tuple[str, list]:
    """How many pairs of a slice (and cohort) have each verdict of :func:`paired_examples_sql` (by correctness, or
    by the graded ``score``)."""
    sql, params = paired_examples_sql(base_table, cand_table, slice_where, slice_params, cohort, score=score)
    inner = sql.rsplit(" ORDER BY ", 1)[0]
    return f"SELECT verdict, count(*) AS n FROM ({inner}) GROUP BY verdict", params
