"""Statements of series of runs: the ``series`` table (catalog-like, no example row) and the one grouping
statement that counts every slice of every run of a series at once (:func:`trajectory_sql`).

The trajectory statement stacks the runs' scorable rows (``UNION ALL``, each tagged with its position ``k``),
optionally joins them with the reference run on example id (paired counts for McNemar), and groups by
``GROUPING SETS ((k), (a0, k), (a1, k), ...)``: one pass over all runs, whatever the number of slices (with few
cells, :data:`FEW_CELLS`, the rows are first counted per run and every attribute together, and the grouping sets
summed from those cells). It is in the portable subset (``tests/unit/store/test_sql_portable.py`` transpiles it to Spark SQL).
"""

from __future__ import annotations

from collections.abc import Sequence

from analysis.sql import quote_ident
from analysis.sql.features import graded_expr
from analysis.sql.slices import PROFILE_DISTINCT_CAP, AttributeSQL

INSERT_MEMBER = ("INSERT INTO series (series_name, position, run_id, step, is_reference, order_by, created_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)")
DELETE_SERIES = "DELETE FROM series WHERE series_name = ?"
#: Every member of every series, with its run's name (NULL when the run was deleted).
MEMBERS = ("SELECT s.series_name, s.position, s.run_id, r.name AS run_name, s.step, s.is_reference, s.order_by, "
           "s.created_at, r.table_name FROM series s LEFT JOIN runs r ON r.run_id = s.run_id "
           "ORDER BY s.series_name, s.position")
MEMBERS_OF = ("SELECT s.series_name, s.position, s.run_id, r.name AS run_name, s.step, s.is_reference, s.order_by, "
              "s.created_at, r.table_name FROM series s LEFT JOIN runs r ON r.run_id = s.run_id "
              "WHERE s.series_name = ? ORDER BY s.position")

#: Whether runs hold a reference's examples in the same order, as checked when a series was created (only the checks
#: whose two runs still have the row counts they had then).
ORDER_OF = ("SELECT o.run_id, o.misplaced FROM series_order o JOIN runs r ON r.run_id = o.run_id "
            "JOIN runs f ON f.run_id = o.reference_id WHERE o.reference_id = ? AND o.run_rows = r.row_count "
            "AND o.reference_rows = f.row_count")
DELETE_ORDER = "DELETE FROM series_order WHERE run_id = ? AND reference_id = ?"
INSERT_ORDER = ("INSERT INTO series_order (run_id, reference_id, run_rows, reference_rows, misplaced) "
                "VALUES (?, ?, ?, ?, ?)")

#: The stored columns of every run of a series, in one statement (instead of one catalog read per run).
SERIES_FIELDS = ("SELECT s.position, f.column_name, f.role, f.kind FROM series s JOIN fields f ON f.run_id = s.run_id "
                 "WHERE s.series_name = ? ORDER BY s.position, f.position")


def trajectory_sql(tables: Sequence[str], attributes: Sequence[Sequence[AttributeSQL]],
                   signals: Sequence[Sequence[tuple[str, Sequence] | None]], *,
                   reference: str | None = None, exclude: tuple[str, Sequence] | None = None,
                   aligned: Sequence[bool] | None = None,
                   cohorts: Sequence[tuple[str, Sequence] | None] | None = None,
                   with_scores: bool = True, check_positions: bool | Sequence[bool] = True,
                   cells: bool = False) -> tuple[str, list]:
    """Counts and sums per run and single-attribute slice, for every run of a series in one statement.

    Parameters
    ----------
    tables : sequence of str
        The runs' example tables, in series order (their position is ``k``).
    attributes : sequence (per run) of sequence of AttributeSQL
        The same attributes for every run (each run's expression over its own table; binned numbers cut at the same
        edges).
    signals : sequence (per run) of sequence of (str, params) or None
        Each objective signal as an SQL expression over the run's table with its bound values (a quoted stored
        column, or a derived feature of :mod:`analysis.sql.features`); None when the run lacks it.
    reference : str, optional
        The reference run's table: when given, rows are joined with it on example id and the paired counts
        ``n_paired``, ``errors_paired`` (errors among them), ``b`` (right in the reference, wrong here), ``c`` (the
        reverse) are returned.
    exclude : (str, params), optional
        An SQL boolean (built by Faultline) of examples to leave out of every run, e.g. a drifting slice's
        examples (to see whether another slice drifts without them).
    aligned : sequence of bool, optional
        Per run, whether its rows are taken to be stored in the reference's example order: such a
        run is paired with the reference row by row (DuckDB's ``POSITIONAL JOIN``, no hash table of example ids,
        about half the statement's time on a large paired series); the others, or all when omitted, by the portable
        join on example id. Both forms count the same pairs (example ids are unique within a run). The positional
        form is DuckDB's own; a backend without it passes no ``aligned``.
    cohorts : sequence (per run) of (str, params) or None, optional
        A cohort's SQL boolean on each run (:func:`analysis.slicing.cohorts.cohort_sql`): only its examples are
        counted, in every run and in the reference (an example of the reference outside the cohort pairs with
        nothing), as if the store held nothing else. When given, ``reference`` must be one of ``tables``.
    with_scores : bool, default True
        Whether to sum the scores (graded scores, :func:`analysis.sql.features.graded_expr`); without them
        ``score_sum`` / ``score_sq`` are NULL and ``score_n`` 0, three aggregates fewer over every row (about 15% of
        the statement at 20 runs x 1M examples).
    check_positions : bool or sequence (per run) of bool, default True
        Whether the runs paired by position have their example ids compared with the reference's (``misplaced``).
        False (for every run, or for the runs given False) only when a statement over the same runs already found
        none misplaced at the same data version (a later pass leaving examples out keeps a subset of the rows it
        checked): no example id of such a run is read at all, and its ``misplaced`` is 0.

    Returns
    -------
    (str, list)
        The statement and its bound parameters. Rows: ``a0`` ... (NULL when not grouped on), ``gid`` (GROUPING
        bitmask over the attributes), ``k``, ``n``, ``errors``, ``score_sum``, ``score_sq``, ``score_n``, per signal
        ``s<i>_sum``, ``s<i>_sq``, ``s<i>_n``, and ``n_paired``, ``errors_paired``, ``b``, ``c`` (0 without a reference).
        With runs paired by position and checked (``check_positions``), ``misplaced`` too: the run's kept rows whose
        example id is not the reference's
        at the same position; where it is not 0 the paired counts of that run are wrong and the run must be paired
        by example id instead (:func:`analysis.series.trajectories.trajectories` does so).
    """
    n_attr = len(attributes[0]) if attributes else 0
    cols = [f"a{i}" for i in range(n_attr)]
    n_sig = len(signals[0]) if signals else 0
    names = ["k", *cols, *(f"s{i}" for i in range(n_sig)), "correct"] + (["score"] if with_scores else [])
    positional = [reference is not None and aligned is not None and bool(aligned[k]) for k in range(len(tables))]
    checks = ([bool(check_positions)] * len(tables) if isinstance(check_positions, bool)
              else [bool(c) for c in check_positions])
    ref_cohort = cohorts[list(tables).index(reference)] if cohorts is not None and reference is not None else None
    ref_out, ref_params = "unscorable", []  # reference rows that pair with nothing
    if ref_cohort is not None:
        ref_out, ref_params = f"(unscorable OR NOT coalesce(({ref_cohort[0]}), false))", list(ref_cohort[1])
    params: list = []
    by_id, by_position = [], []
    for k, table in enumerate(tables):
        run_params: list = [k]
        select = ["CAST(? AS INTEGER) AS k"]
        for a, c in zip(attributes[k], cols):
            select.append(f"{a.expr} AS {c}")
            run_params += a.params
        for i, signal in enumerate(signals[k]):
            if signal is None:
                select.append(f"CAST(NULL AS DOUBLE) AS s{i}")
            else:
                select.append(f"CAST({signal[0]} AS DOUBLE) AS s{i}")
                run_params += list(signal[1])
        select += ["correct", "score"] if with_scores else ["correct"]
        where = "NOT unscorable"
        if exclude is not None:
            where += f" AND NOT coalesce(({exclude[0]}), false)"
            run_params += list(exclude[1])
        if cohorts is not None and cohorts[k] is not None:
            where += f" AND coalesce(({cohorts[k][0]}), false)"
            run_params += list(cohorts[k][1])
        if positional[k]:
            # row i of the run is paired with row i of the reference (the same example); an unscorable reference
            # row pairs with nothing; the run's filter applies after pairing, so the positions stay aligned
            # (pairs are counted from a boolean, never from the example id: no string is carried to the grouping)
            if checks[k]:
                by_position.append((f"SELECT {', '.join(names)}, NOT ru AS paired, "
                                    f"CASE WHEN NOT ru THEN rc END AS rc, run_id IS DISTINCT FROM rid AS misplaced "
                                    f"FROM (SELECT {', '.join(select)}, example_id AS run_id, {where} AS keep "
                                    f"FROM {quote_ident(table)}) run POSITIONAL JOIN (SELECT example_id AS rid, "
                                    f"correct AS rc, {ref_out} AS ru FROM {quote_ident(reference)}) ref WHERE keep",
                                    run_params + ref_params))
            else:  # no example id is read
                by_position.append((f"SELECT {', '.join(names)}, NOT ru AS paired, "
                                    f"CASE WHEN NOT ru THEN rc END AS rc, false AS misplaced "
                                    f"FROM (SELECT {', '.join(select)}, {where} AS keep FROM {quote_ident(table)}) "
                                    f"run POSITIONAL JOIN (SELECT correct AS rc, {ref_out} AS ru "
                                    f"FROM {quote_ident(reference)}) ref WHERE keep", run_params + ref_params))
        else:
            by_id.append((f"SELECT {', '.join(select)}, example_id FROM {quote_ident(table)} WHERE {where}",
                          run_params))
    aggs = ["count(*) AS n", "count_if(NOT correct) AS errors"]
    aggs += (["sum(score) AS score_sum", "sum(score * score) AS score_sq", "count(score) AS score_n"] if with_scores
             else ["CAST(NULL AS DOUBLE) AS score_sum", "CAST(NULL AS DOUBLE) AS score_sq",
                   "CAST(0 AS BIGINT) AS score_n"])
    for i in range(n_sig):
        aggs += [f"sum(s{i}) AS s{i}_sum", f"sum(s{i} * s{i}) AS s{i}_sq", f"count(s{i}) AS s{i}_n"]
    if reference is not None:
        aggs += ["count_if(paired) AS n_paired", "count_if(paired AND NOT correct) AS errors_paired",
                 "count_if(rc AND NOT correct) AS b", "count_if(NOT rc AND correct) AS c"]
        if any(positional[k] and checks[k] for k in range(len(tables))):  # only when a run's ids are compared
            aggs.append("count_if(misplaced) AS misplaced")
    else:
        aggs += ["CAST(0 AS BIGINT) AS n_paired", "CAST(0 AS BIGINT) AS errors_paired", "CAST(0 AS BIGINT) AS b",
                 "CAST(0 AS BIGINT) AS c"]
    sources = []
    if by_id:
        stacked = " UNION ALL ".join(sql for sql, _ in by_id)
        params += [v for _, run_params in by_id for v in run_params]
        if reference is not None:
            # the stacked runs probe a hash table of the reference (measured 25% faster than the RIGHT JOIN form)
            sources.append(f"SELECT {', '.join(names)}, rid IS NOT NULL AS paired, rc, false AS misplaced FROM "
                           f"({stacked}) rows LEFT "
                           f"JOIN (SELECT example_id "
                           f"AS rid, correct AS rc FROM {quote_ident(reference)} WHERE NOT {ref_out}) ref "
                           f"ON rows.example_id = ref.rid")
            params += ref_params
        else:
            sources.append(stacked)
    sources += [sql for sql, _ in by_position]
    params += [v for _, run_params in by_position for v in run_params]
    sets = ["(k)"] + [f"({c}, k)" for c in cols]
    head = (", ".join(cols) + f", GROUPING({', '.join(cols)}) AS gid, ") if cols else "CAST(0 AS BIGINT) AS gid, "
    union = " UNION ALL ".join(sources)
    if cells:
        group = ", ".join(["k", *cols])
        return f"WITH rows AS ({union}) SELECT {group}, {', '.join(aggs)} FROM rows GROUP BY {group}", params
    if _few_cells(attributes[0] if attributes else []):
        # every row goes into one hash table keyed by run and all the attributes (a few thousand cells), and the
        # grouping sets are summed from those cells: each row is hashed once, not once per grouping set
        outer = []
        for agg in aggs:
            expr, name = agg.rsplit(" AS ", 1)
            if expr.startswith("CAST("):  # a constant (a count or sum that does not apply)
                outer.append(agg)
            elif expr.startswith("count"):
                outer.append(f"CAST(sum({name}) AS BIGINT) AS {name}")
            else:
                outer.append(f"sum({name}) AS {name}")
        sql = (f"WITH rows AS ({union}), cells AS (SELECT k, {''.join(c + ', ' for c in cols)}{', '.join(aggs)} "
               f"FROM rows GROUP BY k{''.join(', ' + c for c in cols)}) SELECT {head}k, {', '.join(outer)} "
               f"FROM cells GROUP BY GROUPING SETS ({', '.join(sets)})")
    else:
        sql = (f"WITH rows AS ({union}) SELECT {head}k, {', '.join(aggs)} FROM rows "
               f"GROUP BY GROUPING SETS ({', '.join(sets)})")
    return sql, params


#: Most cells (combinations of every attribute's values, a missing value counting as one) per run for which the
#: trajectory statement counts all the attributes' cells first and sums its grouping sets from them (20 runs x 1M
#: rows, 5 attributes of 4 to 10 values: 1.73 -> 1.41 s of CPU); with more cells, or a count not known, it groups
#: the rows by each grouping set directly.
FEW_CELLS = 100_000


def _few_cells(attributes: Sequence[AttributeSQL]) -> bool:
    if len(attributes) < 2:
        return False
    cells = 1
    for a in attributes:
        if a.n_values is None or a.n_values >= PROFILE_DISTINCT_CAP:
            return False
        cells *= a.n_values + 1
    return cells <= FEW_CELLS


def cells_form(attributes: Sequence[AttributeSQL]) -> bool:
    """Whether a series cut by these attributes has few cells (at most :data:`FEW_CELLS` combinations of their values
    per run, a missing value counting as one, every count known; one attribute's cells are its grouping set):
    then its statement returns the cells (``trajectory_sql(..., cells=True)``) and the grouping sets, the
    explanation passes and the mix shift are summed from them in memory."""
    return len(attributes) == 1 or _few_cells(attributes)


def attribute_counts_sql(tables: Sequence[str], attribute: Sequence[AttributeSQL]) -> tuple[str, list]:
    """Examples and errors per value of one attribute in each of several runs (the mix-shift table).

    Rows: ``k`` (the run's position in ``tables``), ``v`` (the value), ``n``, ``errors``.
    """
    params: list = []
    parts = []
    for k, (table, a) in enumerate(zip(tables, attribute)):
        parts.append(f"SELECT CAST(? AS INTEGER) AS k, {a.expr} AS v, correct FROM {quote_ident(table)} "
                     f"WHERE NOT unscorable")
        params += [k] + list(a.params)
    sql = (f"SELECT k, v, count(*) AS n, count_if(NOT correct) AS errors FROM ({' UNION ALL '.join(parts)}) "
           f"GROUP BY k, v ORDER BY k, v")
    return sql, params



def aligned_head_sql(tables: Sequence[str], reference: str, rows: int = 64) -> tuple[str, list]:
    """Whether each run's first rows hold the reference's examples in the same order (a cheap first look).

    Rows: ``k`` (the run's position in ``tables``) and ``misplaced``: of the first ``rows`` rows, those whose example
    id differs from the reference's at the same position. A run with 0 is worth pairing row by row
    (``trajectory_sql(..., aligned=...)``, whose ``misplaced`` count checks every row); the others are paired by
    example id at once. DuckDB's ``POSITIONAL JOIN``.
    """
    parts, params = [], []
    for k, table in enumerate(tables):
        parts.append(f"SELECT CAST(? AS INTEGER) AS k, count_if(run.example_id IS DISTINCT FROM ref.example_id) "
                     f"AS misplaced FROM (SELECT example_id FROM {quote_ident(table)} LIMIT ?) run POSITIONAL JOIN "
                     f"(SELECT example_id FROM {quote_ident(reference)} LIMIT ?) ref")
        params += [k, rows, rows]
    return " UNION ALL ".join(parts) + " ORDER BY k", params


def misplaced_sql(tables: Sequence[str], reference: str) -> tuple[str, list]:
    """Whether each run holds the reference's examples in the same order, every row checked.

    Rows: ``k`` (the run's position in ``tables``) and ``misplaced``: the run's rows whose example id is not the
    reference's at the same position (a run shorter than the reference that is its first rows has none; a longer one
    has its extra rows). A run with 0 is paired with the reference row by row (``trajectory_sql(..., aligned=...)``)
    without reading its example ids. One ungrouped aggregate per run, not a column carried through the grouping.
    DuckDB's ``POSITIONAL JOIN``.
    """
    parts, params = [], []
    for k, table in enumerate(tables):
        parts.append(f"SELECT CAST(? AS INTEGER) AS k, count_if(present AND run.example_id IS DISTINCT FROM "
                     f"ref.example_id) AS misplaced FROM (SELECT example_id, true AS present FROM {quote_ident(table)}) "
                     f"run POSITIONAL JOIN (SELECT example_id FROM {quote_ident(reference)}) ref")
        params.append(k)
    return " UNION ALL ".join(parts) + " ORDER BY k", params


def graded_sql(tables: Sequence[str]) -> str:
    """Whether each run's scores are graded (:func:`analysis.sql.features.graded_expr`, the one rule), one row per
    run in the order given: ``g`` (bool)."""
    return " UNION ALL ".join(f"SELECT {graded_expr(t)} AS g" for t in tables)
