"""Every SQL statement of the slicing engine, in one module.

Statistics are computed from aggregates: each query returns counts and sums per slice
(GROUPING SETS over attribute expressions), so the same statements can later run
unchanged on a distributed SQL engine. Python post-processes only the small aggregated
result (see :mod:`analysis.slicing.table`). Values are bound as parameters; identifiers go
through :func:`analysis.sql.quote_ident`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from analysis.sql import quote_ident
from analysis.sql.features import graded_expr, score_units


@dataclass
class AttributeSQL:
    """How one attribute is computed per example, as SQL with its bound parameters."""

    name: str
    expr: str
    params: list = field(default_factory=list)
    labels: dict | None = None
    """For binned numbers: bin index -> label."""
    n_values: int | None = None
    """How many distinct non-missing values it takes over the run, when known (exact up to
    :data:`PROFILE_DISTINCT_CAP`; that cap or None: possibly many). Lets pairs be counted from
    a few wider grouping sets (:func:`pair_blocks`)."""


#: A cohort filter: an SQL boolean over a run's table (built by :func:`analysis.sql.predicates.compile_predicate`)
#: and its bound values, or None for every example.
CohortSQL = tuple[str, Sequence] | None


def and_cohort(where: str, cohort: CohortSQL) -> tuple[str, list]:
    """``where`` restricted to a cohort: ``(where) AND (cohort)`` and the cohort's values (none without a cohort).

    >>> and_cohort("NOT unscorable", ('("meta.lang") = ?', ["sw"]))
    ('(NOT unscorable) AND (("meta.lang") = ?)', ['sw'])
    """
    if cohort is None:
        return where, []
    return f"({where}) AND ({cohort[0]})", list(cohort[1])


def count_sql(table: str) -> str:
    return f"SELECT count(*) FROM {quote_ident(table)}"


def count_where_sql(table: str, where: str, params: Sequence) -> tuple[str, list]:
    """How many examples of a run's table satisfy ``where`` (SQL built by Faultline, values bound)."""
    return f"SELECT count(*) FROM {quote_ident(table)} WHERE {where}", list(params)


def column_profile_sql(table: str, column: str) -> tuple[str, list]:
    """Distinct count, min, max of one column (to choose bins or periods)."""
    q = quote_ident(column)
    return (f"SELECT approx_count_distinct({q}), min({q}), max({q}), count({q}) FROM {quote_ident(table)}", [])


#: The default cap of a distinct count in :func:`profile_sql` (every decision slicing takes on a
#: distinct count compares it with a smaller number).
PROFILE_DISTINCT_CAP = 64


def capped_distinct_sql(table: str, expr: str, params: Sequence, cap: int, *, where: str = "true",
                        where_params: Sequence = ()) -> tuple[str, list]:
    """An exact count of the distinct non-missing values of ``expr``, capped at ``cap``, as a scalar subquery.

    ``min(count(DISTINCT expr), cap)`` computed as the count of a ``LIMIT``-ed ``SELECT DISTINCT``:
    exact up to the cap (not an approximate sketch), and the engine may stop reading as soon as
    ``cap`` values are found (DuckDB does: on 10M rows of distinct ids, 0.4 s against 18 s for
    ``count(DISTINCT id)``). A decision on a distinct count (``> 60 values``, ``<= 12 values``)
    needs no more than the cap one above its threshold.

    >>> capped_distinct_sql("t", '"lang"', [], 61)
    ('(SELECT count(*) FROM (SELECT DISTINCT "lang" AS v FROM "t" WHERE ("lang") IS NOT NULL AND (true) LIMIT 61))', [])
    """
    if int(cap) < 1:
        raise ValueError(f"cap must be a positive count of values, got {cap!r}")
    return (f"(SELECT count(*) FROM (SELECT DISTINCT {expr} AS v FROM {quote_ident(table)} "
            f"WHERE ({expr}) IS NOT NULL AND ({where}) LIMIT {int(cap)}))",
            list(params) * 2 + list(where_params))


def distinct_counts_sql(table: str, columns: Sequence[str], cap: int) -> tuple[str, list]:
    """Per column (quoted identifiers), its exact distinct non-missing values capped at ``cap``
    (:func:`capped_distinct_sql`), in one row."""
    parts, params = [], []
    for column in columns:
        sql, p = capped_distinct_sql(table, quote_ident(column), [], cap)
        parts.append(sql)
        params += p
    return f"SELECT {', '.join(parts) or '0'}", params


@dataclass
class ProfileRequest:
    """What to measure of one attribute expression in :func:`profile_sql`."""

    expr: str
    params: list
    value_range: bool = False
    """Also its minimum and maximum."""
    quantiles: Sequence[float] = ()
    """Also these continuous quantiles (numbers)."""
    day_distinct: bool = False
    """Also its distinct days (timestamps)."""
    distinct_cap: int = PROFILE_DISTINCT_CAP
    """Distinct counts (values and days) are exact up to this many, and this many beyond."""
    distinct_in_pass: bool = False
    """Count the distinct values in the shared pass (``least(count(DISTINCT v), cap)``: the same number) rather
    than in a capped subquery. For an expression computed from the texts (a derived feature) or of few values (a
    boolean): a capped subquery stops early only once it has found ``cap`` values, so over such an expression it
    computes it again for every example (a refusal's regular expression over a million outputs: 2.8 s CPU, against
    0.1 s for the count in the pass that computes it anyway)."""
    distinct_known: int | None = None
    """The exact count of distinct non-missing values, already known over the same rows and below
    ``distinct_cap`` (e.g. from :func:`distinct_counts_sql`): bound as the distinct column instead of counting."""
    values_seen: bool = False
    """Only whether the expression takes more than one value, a missing value counting as one (a boolean: no
    range, no bins): its distinct column is then the count of values seen, missing included, capped at 2, from a
    subquery that stops at the second value found (:func:`values_seen_sql`; a refusal's regular expression over a
    million outputs: 0.01 s, where the pass computes it for every example: 1.4 s), and its missing column is 0.
    The expression is left out of the shared pass. (Constant, it is still read whole, once.)"""


def values_seen_sql(table: str, expr: str, params: Sequence, *, where: str = "true",
                    where_params: Sequence = ()) -> tuple[str, list]:
    """How many values ``expr`` takes, a missing value counting as one, capped at 2, as a scalar subquery that
    stops once it has seen two (:func:`capped_distinct_sql` without leaving missing values out).

    >>> values_seen_sql("t", '"b"', [])
    ('(SELECT count(*) FROM (SELECT DISTINCT "b" AS v FROM "t" WHERE (true) LIMIT 2))', [])
    """
    return (f"(SELECT count(*) FROM (SELECT DISTINCT {expr} AS v FROM {quote_ident(table)} WHERE ({where}) LIMIT 2))",
            list(params) + list(where_params))


def profile_sql(table: str, requests: Sequence[ProfileRequest], *, cohort: CohortSQL = None) -> tuple[str, list]:
    """Everything slicing needs to know of its attributes before counting.

    Per request, in order: distinct values (exact, capped at the request's ``distinct_cap``:
    :func:`capped_distinct_sql`), missing values, then (as asked) min, max, the quantiles
    (exact: one ``quantile_cont`` over the list of them, a list; NULL without values; measured on
    10M rows, four quantiles: 3.3 s and 536 MB as four aggregates, 0.5 s and 280 MB as one) and
    the distinct days (capped likewise). Over every example of the run (of the cohort, if given).
    The aggregates share one pass in which each expression is computed once per example, in a
    subquery, however many aggregates read it (a derived feature such as a refusal's regular
    expression over the output is most of the cost); each capped distinct count is a scalar
    subquery that stops once it has found its cap of values.
    """
    parts: list[str] = []
    params: list = []
    inner: list[str] = []
    inner_params: list = []
    where, where_params = and_cohort("true", cohort)
    for i, r in enumerate(requests):
        e = f"v{i}"
        if r.values_seen:
            seen, seen_params = values_seen_sql(table, r.expr, r.params, where=where, where_params=where_params)
            parts += [seen, "0"]
            params += seen_params
            continue
        inner.append(f"{r.expr} AS {e}")
        inner_params += list(r.params)
        if r.distinct_known is not None:
            parts += ["CAST(? AS BIGINT)", f"count(*) - count({e})"]
            params.append(int(r.distinct_known))
        elif r.distinct_in_pass:
            parts += [f"least(count(DISTINCT {e}), {int(r.distinct_cap)})", f"count(*) - count({e})"]
        else:
            distinct, distinct_params = capped_distinct_sql(table, r.expr, r.params, r.distinct_cap, where=where,
                                                            where_params=where_params)
            parts += [distinct, f"count(*) - count({e})"]
            params += distinct_params
        if r.value_range:
            parts += [f"min({e})", f"max({e})"]
        if r.quantiles:  # one list of quantiles: one sorted copy of the values, not one per quantile
            parts.append(f"quantile_cont({e}, [{', '.join('CAST(? AS DOUBLE)' for _ in r.quantiles)}])")
            params += [float(q) for q in r.quantiles]
        if r.day_distinct:
            day = f"date_trunc('day', {r.expr})"
            days, days_params = capped_distinct_sql(table, day, r.params, r.distinct_cap, where=where,
                                                    where_params=where_params)
            parts.append(days)
            params += days_params
    source = f"(SELECT {', '.join(inner) or '1 AS v'} FROM {quote_ident(table)} WHERE {where})"
    return (f"SELECT {', '.join(parts) or 'count(*)'} FROM {source} AS profiled",
            params + inner_params + list(where_params))


def grouping_mask(k: int, grouped: Sequence[int]) -> int:
    """DuckDB's GROUPING(a0..ak-1) value for a set: bit (k-1-i) is 1 when attribute i is not grouped on."""
    return sum(1 << (k - 1 - i) for i in range(k) if i not in grouped)


def grouping_sets_sql(table: str, attributes: Sequence[AttributeSQL], sets: Sequence[Sequence[int]],
                      *, with_scores: bool = True, derive_singles: bool = False,
                      where: str = "NOT unscorable", where_params: Sequence = (),
                      outcome: str | None = None, outcome_params: Sequence = (),
                      rows: int | None = None) -> tuple[str, list]:
    """Counts per slice for every grouping set in one statement.

    Returns rows of: one value column per attribute (NULL when not grouped on, or missing:
    ``gid`` tells them apart), ``gid`` (DuckDB's GROUPING bitmask, see :func:`grouping_mask`),
    ``n``, ``errors``, ``score_sum`` (exact, in units of 1e-15: :func:`analysis.sql.features.score_units`),
    ``score_n``.

    ``outcome``: an SQL boolean over the table (built by Faultline, values in
    ``outcome_params``) counted in ``errors`` instead of ``NOT correct``, e.g. a failure
    mode's indicator (:func:`analysis.objective.modes.mode_slices`).

    ``derive_singles``: ``sets`` are pairs; the single-attribute counts are summed from the
    pair cells (a second aggregation over the small aggregated table, not over the examples),
    which saves one pass over the examples per attribute. When the attributes' value counts are
    known (``AttributeSQL.n_values``), the pairs themselves are counted per block of attributes
    (:func:`pair_blocks`) and summed from the block cells: the same rows, fewer grouping sets
    over the examples. How the blocks are counted (:func:`block_counting`): in two stages when the attributes'
    combinations of values (the product of their value counts, a missing value counting as one) are few and
    ``rows`` (how many examples the statement reads at most, e.g. the run's row count) many times more, else in
    one GROUPING SETS pass over the examples.
    """
    k = len(attributes)
    cols = [f"a{i}" for i in range(k)]
    inner_select = ", ".join(f"{a.expr} AS {c}" for a, c in zip(attributes, cols))
    params: list = []
    for a in attributes:
        params += a.params
    sets_sql = ", ".join("(" + ", ".join(cols[i] for i in s) + ")" for s in sets)
    # a score's fixed-point units are computed once per example, in the subquery every grouping set reads, not once
    # per grouping set (measured on 10M rows, 10 blocks: the statement's CPU time 9.4-10.5 s -> 7.2-8.1 s)
    score_aggs = ", sum(__score_units) AS score_sum, count(score) AS score_n" if with_scores else \
        ", CAST(NULL AS DECIMAL(38, 0)) AS score_sum, CAST(0 AS BIGINT) AS score_n"
    units = f", {score_units('score')} AS __score_units" if with_scores else ""
    if outcome is None:
        counted, flag = "NOT correct", units
    else:
        counted, flag = "__outcome", f"{units}, coalesce(({outcome}), false) AS __outcome"
        params += list(outcome_params)
    cells = (f"SELECT {', '.join(cols)}, GROUPING({', '.join(cols)}) AS gid, count(*) AS n, "
             f"count_if({counted}) AS errors{score_aggs} "
             f"FROM (SELECT {inner_select}, correct, score{flag} FROM {quote_ident(table)} WHERE {where}) "
             f"GROUP BY GROUPING SETS ({sets_sql})")
    params += list(where_params)
    if not derive_singles:
        return cells, params
    blocks = pair_blocks([a.n_values for a in attributes])
    if len(blocks) < len(sets):
        return _blocks_sql(attributes, blocks, counted, flag, score_aggs, table, where, list(where_params),
                           list(outcome_params) if outcome is not None else [], rows=rows)
    parts = [f"SELECT {', '.join(cols)}, gid, n, errors, score_sum, score_n FROM cells"]
    for i in range(k):
        partner = 1 if i == 0 else 0
        values = ", ".join(c if j == i else f"NULL AS {c}" for j, c in enumerate(cols))
        parts.append(f"SELECT {values}, CAST(? AS BIGINT) AS gid, CAST(sum(n) AS BIGINT) AS n, "
                     f"CAST(sum(errors) AS BIGINT) AS errors, sum(score_sum) AS score_sum, "
                     f"CAST(sum(score_n) AS BIGINT) AS score_n FROM cells WHERE gid = ? GROUP BY {cols[i]}")
        params += [grouping_mask(k, [i]), grouping_mask(k, sorted((i, partner)))]
    return f"WITH cells AS ({cells}) " + " UNION ALL ".join(parts), params


#: Most cells of one block of :func:`pair_blocks` (the product of its attributes' value counts, a
#: missing value counting as one): a hash table this small stays in the CPU's caches.
BLOCK_CELLS = 50_000
#: Most attributes in one block.
BLOCK_SIZE = 4


def pair_blocks(n_values: Sequence[int | None], *, max_cells: int = BLOCK_CELLS,
                size: int = BLOCK_SIZE) -> list[tuple[int, ...]]:
    """Groups of attributes (blocks) covering every pair of attributes, each block with few cells.

    Counting all pairs of ``k`` attributes with ``GROUPING SETS`` builds one hash table per pair,
    and each example row goes into every one of them: the cost grows with the number of sets.
    Counted per block instead (a block of 4 attributes holds 6 pairs), each pair's and each
    attribute's counts are then summed from its block's cells, a small table: integer counts
    and exact score sums (:func:`analysis.sql.features.score_units`), so every number is the one
    the pair's own grouping set gives. Measured on 1M rows, 10 attributes (2 cores, loaded):
    45 pair sets 7.3-7.9 s, 9 blocks of 4 attributes 2.7-3.1 s.

    Greedy: the block (of 2 to ``size`` attributes, at most ``max_cells`` cells, the value counts
    plus one for a missing value) covering most pairs not yet covered; an attribute of unknown or
    many values (``None``, or at :data:`PROFILE_DISTINCT_CAP`) only in blocks of two.

    >>> pair_blocks([3, 5, 8, 12, 20, 4])
    [(0, 1, 2, 5), (0, 3, 4, 5), (1, 2, 3, 4)]
    >>> pair_blocks([None, 2, 2])
    [(0, 1), (0, 2), (1, 2)]
    """
    import itertools

    k = len(n_values)
    cells = [None if v is None or v >= PROFILE_DISTINCT_CAP else int(v) + 1 for v in n_values]
    left = set(itertools.combinations(range(k), 2))
    blocks: list[tuple[int, ...]] = []
    while left:
        best: tuple | None = None
        for m in range(min(size, k), 2, -1):
            for block in itertools.combinations(range(k), m):
                if any(cells[i] is None for i in block):
                    continue
                product = 1
                for i in block:
                    product *= cells[i]
                if product > max_cells:
                    continue
                got = sum(1 for pair in itertools.combinations(block, 2) if pair in left)
                if got > 1 and (best is None or (got, -product) > best[:2]):
                    best = (got, -product, block)
        block = best[2] if best is not None else min(left)
        blocks.append(block)
        left -= set(itertools.combinations(block, 2))
    return blocks


#: Two-stage counting (:func:`_blocks_sql`) when the examples are at least this many times the attributes'
#: combinations of values: the first stage's table is then at most this share of the examples.
COMBO_RATIO = 8
#: ... and the combinations at most this many: the first stage's hash table, keyed on every attribute, then stays
#: in the CPU's caches as a block's does (:data:`BLOCK_CELLS`). Measured on 10M rows (DuckDB on Parquet, 2 cores,
#: load 19-21): 6 attributes, 15,120 combinations, 3 blocks: two stages 1.1-1.2 CPU s, one pass 1.4-1.5 CPU s;
#: 7 attributes, 136,080 combinations, 5 blocks: two stages 2.5-2.7 CPU s, one pass 2.1-2.3 CPU s.
COMBO_CELLS = 50_000


def combinations_bound(n_values: Sequence[int | None]) -> int | None:
    """At most how many combinations of values the attributes take together: the product of their value
    counts, a missing value counting as one (None when a count is unknown or at :data:`PROFILE_DISTINCT_CAP`).

    >>> combinations_bound([3, 1, 4])
    40
    >>> combinations_bound([3, None]) is None
    True
    """
    product = 1
    for v in n_values:
        if v is None or v >= PROFILE_DISTINCT_CAP:
            return None
        product *= int(v) + 1
    return product


def block_counting(attributes: Sequence[AttributeSQL], rows: int | None) -> str:
    """How :func:`_blocks_sql` counts the blocks' cells: ``"combinations"`` (two stages: one GROUP BY of every
    attribute over the examples, then the blocks' GROUPING SETS over that table, summing its counts and sums)
    or ``"grouping_sets"`` (one pass over the examples, a hash table per block).

    Two stages when the combinations the attributes can take (:func:`combinations_bound`, from the exact
    distinct counts of the profile) are at most :data:`COMBO_CELLS` and the examples at least
    :data:`COMBO_RATIO` times as many: every example is then hashed into one small table instead of into every
    block's table. Otherwise (an id-like attribute, or many independent attributes, as in
    ``bench/bench_scale.py``: 10 attributes, about 4e8 combinations) the first stage's table would be large
    (nearly a row per example): one pass.

    >>> block_counting([AttributeSQL("a", '"a"', n_values=3), AttributeSQL("b", '"b"', n_values=4)], 1000)
    'combinations'
    >>> block_counting([AttributeSQL("a", '"a"', n_values=3), AttributeSQL("b", '"b"', n_values=4)], 100)
    'grouping_sets'
    >>> block_counting([AttributeSQL("a", '"a"', n_values=3), AttributeSQL("id", '"id"')], 10**9)
    'grouping_sets'
    """
    bound = combinations_bound([a.n_values for a in attributes])
    if bound is not None and bound <= COMBO_CELLS and rows is not None and int(rows) >= COMBO_RATIO * bound:
        return "combinations"
    return "grouping_sets"


def _blocks_sql(attributes: Sequence[AttributeSQL], blocks: list[tuple[int, ...]], counted: str, flag: str,
                score_aggs: str, table: str, where: str, where_params: list, flag_params: list, *,
                rows: int | None) -> tuple[str, list]:
    """The rows of :func:`grouping_sets_sql` (singles and pairs), counted per block of :func:`pair_blocks`.

    The blocks' cells (``cells``: every block's attribute values, ``gid``, ``n``, ``errors``, ``score_sum``,
    ``score_n``) are counted as :func:`block_counting` chooses; every count is a sum of integers and every
    score sum a sum of fixed-point integers (:func:`analysis.sql.features.score_units`), so both ways give
    identical numbers. Each pair and single is then summed from its block's cells.
    """
    import itertools

    k = len(attributes)
    cols = [f"a{i}" for i in range(k)]
    how = block_counting(attributes, rows)

    def source(used: Sequence[int]) -> tuple[str, list]:
        """The examples with the attributes ``used`` (their values as ``a<i>``), correctness and score."""
        select = "".join(f"{attributes[i].expr} AS {cols[i]}, " for i in used)
        params = [p for i in used for p in attributes[i].params] + list(flag_params) + list(where_params)
        return f"(SELECT {select}correct, score{flag} FROM {quote_ident(table)} WHERE {where})", params

    counts = f"count(*) AS n, count_if({counted}) AS errors{score_aggs}"
    sums = ("CAST(sum(n) AS BIGINT) AS n, CAST(sum(errors) AS BIGINT) AS errors, sum(score_sum) AS score_sum, "
            "CAST(sum(score_n) AS BIGINT) AS score_n")
    blocks_sql = ", ".join("(" + ", ".join(cols[i] for i in b) + ")" for b in blocks)
    examples, params = source(range(k))
    if how == "combinations":
        cells = (f"WITH combos AS (SELECT {', '.join(cols)}, {counts} FROM {examples} GROUP BY {', '.join(cols)}), "
                 f"cells AS (SELECT {', '.join(cols)}, GROUPING({', '.join(cols)}) AS gid, {sums} FROM combos "
                 f"GROUP BY GROUPING SETS ({blocks_sql})) ")
    else:
        cells = (f"WITH cells AS (SELECT {', '.join(cols)}, GROUPING({', '.join(cols)}) AS gid, {counts} "
                 f"FROM {examples} GROUP BY GROUPING SETS ({blocks_sql})) ")
    done: set[tuple[int, ...]] = set()
    parts = []
    for block in blocks:
        mine = [p for p in itertools.combinations(block, 2) if p not in done]
        mine += [(i,) for i in block if (i,) not in done]
        done.update(mine)
        used = sorted({i for s in mine for i in s})
        values = ", ".join(cols[i] if i in used else f"NULL AS {cols[i]}" for i in range(k))
        local = ", ".join(cols[i] for i in used)
        cases = " ".join(f"WHEN {grouping_mask(len(used), [used.index(i) for i in s])} THEN "
                         f"{grouping_mask(k, s)}" for s in mine)
        sets_sql = ", ".join("(" + ", ".join(cols[i] for i in s) + ")" for s in mine)
        parts.append(f"SELECT {values}, CAST(CASE GROUPING({local}) {cases} END AS BIGINT) AS gid, {sums} "
                     f"FROM cells WHERE gid = CAST(? AS BIGINT) GROUP BY GROUPING SETS ({sets_sql})")
        params.append(grouping_mask(k, block))
    return cells + " UNION ALL ".join(parts), params


def totals_sql(table: str, *, where: str = "NOT unscorable") -> str:
    """Examples, errors, score sums, scored examples, unscorable examples, and whether scores
    are graded (:func:`analysis.sql.features.graded_expr`), in one row."""
    return (f"SELECT count(*), sum(CASE WHEN correct THEN 0 ELSE 1 END), sum(score), sum(score * score), count(score), "
            f"(SELECT count(*) FROM {quote_ident(table)} WHERE unscorable), {graded_expr(table)} "
            f"FROM {quote_ident(table)} WHERE {where}")


def moments_sets_sql(table: str, attributes: Sequence[AttributeSQL], sets: Sequence[Sequence[int]], value: str, *,
                     cohort: CohortSQL = None) -> tuple[str, list]:
    """Per slice, the moments of a numeric column (``value``, a quoted identifier) over the examples that have it:
    the attribute value columns, ``gid``, ``n``, ``v_sum`` and ``v_sumsq`` (for means, variances and Welch tests
    from aggregates, as :func:`grouping_sets_sql` gives counts)."""
    cols = [f"a{i}" for i in range(len(attributes))]
    params: list = []
    inner = []
    for a, c in zip(attributes, cols):
        inner.append(f"{a.expr} AS {c}")
        params += a.params
    where, where_params = and_cohort(f"{value} IS NOT NULL", cohort)
    sets_sql = ", ".join("(" + ", ".join(cols[i] for i in s) + ")" for s in sets)
    sql = (f"SELECT {', '.join(cols)}, GROUPING({', '.join(cols)}) AS gid, count(*) AS n, sum(v) AS v_sum, "
           f"sum(v * v) AS v_sumsq FROM (SELECT {', '.join(inner)}, CAST({value} AS DOUBLE) AS v "
           f"FROM {quote_ident(table)} WHERE {where}) GROUP BY GROUPING SETS ({sets_sql})")
    return sql, params + where_params


def moments_total_sql(table: str, value: str, *, cohort: CohortSQL = None) -> tuple[str, list]:
    """The count, sum, sum of squares, least and greatest value of a numeric column (a quoted identifier) over the
    examples that have it."""
    where, params = and_cohort(f"{value} IS NOT NULL", cohort)
    return (f"SELECT count(*), sum(CAST({value} AS DOUBLE)), sum(CAST({value} AS DOUBLE) * CAST({value} AS DOUBLE)), "
            f"min(CAST({value} AS DOUBLE)), max(CAST({value} AS DOUBLE)) "
            f"FROM {quote_ident(table)} WHERE {where}", params)


def cohort_totals_sql(table: str, cohort: CohortSQL = None) -> tuple[str, list]:
    """:func:`totals_sql` over a cohort's examples (the unscorable count too), with its bound values."""
    scored, scored_params = and_cohort("NOT unscorable", cohort)
    unscorable, unscorable_params = and_cohort("unscorable", cohort)
    return (f"SELECT count(*), sum(CASE WHEN correct THEN 0 ELSE 1 END), sum(score), sum(score * score), count(score), "
            f"(SELECT count(*) FROM {quote_ident(table)} WHERE {unscorable}), {graded_expr(table)} "
            f"FROM {quote_ident(table)} WHERE {scored}", unscorable_params + scored_params)


def outcomes_sets_sql(table: str, attributes: Sequence[AttributeSQL], sets: Sequence[Sequence[int]],
                      outcomes: Sequence[tuple[str, Sequence]], *, where: str = "NOT unscorable",
                      where_params: Sequence = ()) -> tuple[str, list]:
    """Like :func:`grouping_sets_sql` for several outcomes at once (e.g. every failure mode's
    indicator, SQL built by Faultline with its bound values): rows of the attribute value
    columns, ``gid``, ``n`` and ``errors_0`` ... ``errors_<k-1>`` (examples satisfying each);
    ``where`` (with its values ``where_params``, e.g. a cohort by :func:`and_cohort`) selects the examples."""
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
    return sql, params + list(where_params)


def outcome_totals_sql(table: str, outcome: str, outcome_params: Sequence = (), *,
                       where: str = "NOT unscorable", where_params: Sequence = ()) -> tuple[str, list]:
    """Examples and how many of them satisfy ``outcome`` (an SQL boolean built by Faultline), over the examples
    ``where`` selects (its values ``where_params``)."""
    return (f"SELECT count(*), count_if(__outcome) FROM (SELECT coalesce(({outcome}), false) AS __outcome "
            f"FROM {quote_ident(table)} WHERE {where})", list(outcome_params) + list(where_params))


def holdout_expr() -> str:
    """Whether an example is in the searched half of a held-out split (one parameter: the seed, as text).

    The first hex digit of ``md5('<seed>:<example_id>')`` below 8: half the examples in expectation,
    the same split in any row order and on any engine (DuckDB and Spark share ``md5``).
    """
    return "(substr(md5(CAST(? AS VARCHAR) || ':' || example_id), 1, 1) < '8')"


def holdout_in_order_sql(table: str, seed: int) -> tuple[str, list]:
    """Per scorable example, in log order (as :func:`values_in_order_sql` reads them): ``searched``, whether it
    is in the searched half of a held-out split (:func:`holdout_expr`; NULL without an example id)."""
    return (f"SELECT {holdout_expr()} AS searched FROM {quote_ident(table)} WHERE NOT unscorable ORDER BY source_row",
            [str(int(seed))])


def codes_sql(table: str, attributes: Sequence[AttributeSQL], *, where: str = "NOT unscorable",
              holdout_seed: int | None = None, cohort: CohortSQL = None) -> tuple[str, list]:
    """Per-example attribute values and the error indicator, for discovery and bootstraps; with
    ``holdout_seed``, also ``searched`` (:func:`holdout_expr`); with ``cohort``, only the cohort's examples."""
    params: list = []
    parts = []
    for i, a in enumerate(attributes):
        parts.append(f"{a.expr} AS a{i}")
        params += a.params
    split = ""
    if holdout_seed is not None:
        split = f", {holdout_expr()} AS searched"
        params.append(str(int(holdout_seed)))
    where, where_params = and_cohort(where, cohort)
    sql = (f"SELECT example_id, {', '.join(parts)}, CASE WHEN correct THEN 0.0 ELSE 1.0 END AS err, score{split} "
           f"FROM {quote_ident(table)} WHERE {where} ORDER BY source_row")
    return sql, params + where_params


def distinct_values_sql(table: str, attribute: AttributeSQL) -> tuple[str, list]:
    """The distinct values of an attribute over the run (to find a value from its label)."""
    return f"SELECT DISTINCT {attribute.expr} AS v FROM {quote_ident(table)}", list(attribute.params)


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


def slice_examples_sql(table: str, where: str, params: list, *, limit: int | None,
                       cohort: CohortSQL = None) -> tuple[str, list]:
    """The scorable examples matching ``where`` (and the cohort), failures first, then in log order."""
    where, extra = and_cohort(f"NOT unscorable AND {where}", cohort)
    params = list(params) + extra
    sql = (f"SELECT example_id, input, output, reference, score, correct, status FROM {quote_ident(table)} "
           f"WHERE {where} ORDER BY correct, source_row")
    if limit is not None:
        sql += " LIMIT ?"
        params = params + [int(limit)]
    return sql, params


def paired_sets_sql(base_table: str, cand_table: str, attributes: Sequence[AttributeSQL],
                    sets: Sequence[Sequence[int]], *, cohort: CohortSQL = None) -> tuple[str, list]:
    """Paired counts per slice for two runs joined on example id (attributes from the baseline).

    Per slice: n (matched, both scorable), base_errors, cand_errors, b (base right, candidate
    wrong), c (base wrong, candidate right), score sums of both, and of the pairs scored by both
    the count ``d_n`` and the exact fixed-point sums of the score difference (candidate minus
    baseline) and of its square, ``d_sum`` and ``d_sq`` (:func:`score_units`): a paired t interval
    from aggregates, no example read into Python.
    """
    cols = [f"a{i}" for i in range(len(attributes))]
    params: list = []
    for a in attributes:
        params += a.params
    inner = ", ".join(f"{a.expr} AS {c}" for a, c in zip(attributes, cols))
    sets_sql = ", ".join("(" + ", ".join(cols[i] for i in s) + ")" for s in sets) if sets else "()"
    group_cols = ", ".join(cols)
    select_cols = f"{group_cols}, GROUPING({group_cols}) AS gid, " if cols else "0 AS gid, "
    base_where, base_params = and_cohort("NOT unscorable", cohort)
    params += base_params
    sql = (f"WITH base AS (SELECT example_id, {inner + ', ' if inner else ''}correct AS bc, score AS bs "
           f"FROM {quote_ident(base_table)} WHERE {base_where}), "
           f"cand AS (SELECT example_id, correct AS cc, score AS cs FROM {quote_ident(cand_table)} WHERE NOT unscorable) "
           f"SELECT {select_cols}count(*) AS n, "
           "sum(CASE WHEN bc THEN 0 ELSE 1 END) AS base_errors, sum(CASE WHEN cc THEN 0 ELSE 1 END) AS cand_errors, "
           "sum(CASE WHEN bc AND NOT cc THEN 1 ELSE 0 END) AS b, sum(CASE WHEN cc AND NOT bc THEN 1 ELSE 0 END) AS c, "
           "sum(u_bs) AS base_score_sum, sum(u_cs) AS cand_score_sum, "
           "count(bs) AS base_score_n, count(cs) AS cand_score_n, count(cs - bs) AS d_n, "
           "sum(u_d) AS d_sum, sum(u_dd) AS d_sq "
           # the fixed-point units once per pair, in the subquery every grouping set reads
           f"FROM (SELECT {group_cols + ', ' if cols else ''}bc, cc, bs, cs, {score_units('bs')} AS u_bs, "
           f"{score_units('cs')} AS u_cs, {score_units('cs - bs')} AS u_d, "
           f"{score_units('(cs - bs) * (cs - bs)')} AS u_dd FROM base JOIN cand USING (example_id)) "
           f"GROUP BY GROUPING SETS ({sets_sql})")
    return sql, params


def matching_sql(base_table: str, cand_table: str) -> str:
    """Example-id matching between two runs: both, only baseline, only candidate."""
    b, c = quote_ident(base_table), quote_ident(cand_table)
    return (f"SELECT (SELECT count(*) FROM {b} JOIN {c} USING (example_id)), "
            f"(SELECT count(*) FROM {b} WHERE example_id NOT IN (SELECT example_id FROM {c})), "
            f"(SELECT count(*) FROM {c} WHERE example_id NOT IN (SELECT example_id FROM {b}))")


def shares_examples_sql(base_table: str, cand_table: str) -> str:
    """Whether two runs share at least one example id (one boolean)."""
    b, c = quote_ident(base_table), quote_ident(cand_table)
    return f"SELECT EXISTS (SELECT 1 FROM {b} JOIN {c} ON {b}.example_id = {c}.example_id)"


def cohort_matching_sql(base_table: str, cand_table: str, cohort: CohortSQL) -> tuple[str, list]:
    """:func:`matching_sql` with the baseline's examples restricted to a cohort (read on the baseline's fields):
    matched, only in the baseline's cohort, and only in the candidate: its examples the baseline does not hold at
    all (their cohort cannot be read; the candidate's examples of the baseline's other examples are outside the
    cohort, not unmatched)."""
    b, c = quote_ident(base_table), quote_ident(cand_table)
    where, params = and_cohort("true", cohort)
    return (f"WITH bc AS (SELECT example_id FROM {b} WHERE {where}) "
            f"SELECT (SELECT count(*) FROM bc JOIN {c} USING (example_id)), "
            f"(SELECT count(*) FROM bc WHERE example_id NOT IN (SELECT example_id FROM {c})), "
            f"(SELECT count(*) FROM {c} WHERE example_id NOT IN (SELECT example_id FROM {b}))", params)


def paired_values_sql(base_table: str, cand_table: str, attributes: Sequence[AttributeSQL], *,
                      cohort: CohortSQL = None, score: str = "score") -> tuple[str, list]:
    """Per matched example: attribute values (baseline) and both runs' scores, for the paired bootstrap and the
    paired t test of a graded outcome (``score``: the score column read in both runs, ``score`` by default)."""
    params: list = []
    parts = []
    for i, a in enumerate(attributes):
        parts.append(f"{a.expr} AS a{i}")
        params += a.params
    out = ", ".join(["base.example_id"] + [f"base.a{i}" for i in range(len(attributes))] + ["base.bs", "cand.cs"])
    base_where, base_params = and_cohort("NOT unscorable", cohort)
    params += base_params
    column = "score" if score == "score" else f"CAST({quote_ident(score)} AS DOUBLE)"
    sql = (f"WITH base AS (SELECT example_id, source_row, {', '.join(parts) + ', ' if parts else ''}{column} AS bs "
           f"FROM {quote_ident(base_table)} WHERE {base_where}), "
           f"cand AS (SELECT example_id, {column} AS cs FROM {quote_ident(cand_table)} WHERE NOT unscorable) "
           f"SELECT {out} FROM base JOIN cand ON base.example_id = cand.example_id ORDER BY base.source_row")
    return sql, params


def _cell_entropy(n: str, e: str) -> str:
    """n times the binary entropy (nats) of a cell with ``e`` errors among ``n`` examples (0 for a pure cell)."""
    return (f"CASE WHEN {e} > 0 AND {e} < {n} THEN -({e} * ln(CAST({e} AS DOUBLE) / {n}) "
            f"+ ({n} - {e}) * ln(CAST({n} - {e} AS DOUBLE) / {n})) ELSE CAST(0 AS DOUBLE) END")


def _leakage_sample(sample_modulus: int) -> tuple[str, list]:
    """The leakage check's deterministic sample: the examples whose example-id hash is a multiple of
    ``sample_modulus`` (every example at 1), as a condition to AND to a WHERE clause."""
    if sample_modulus > 1:
        return " AND hash(example_id) % CAST(? AS BIGINT) = 0", [int(sample_modulus)]
    return "", []


def leakage_rows_sql(table: str, attributes: Sequence[AttributeSQL], *, sample_modulus: int = 1) -> tuple[str, list]:
    """The examples :func:`leakage_sql` counts (scored, in its sample): each attribute's value (``a0``, ``a1``,
    ...) and ``correct``, for the leakage check counted in memory (a few tens of thousands of rows, where the
    grouping sets of every pair over them cost more than reading them)."""
    params: list = []
    for a in attributes:
        params += a.params
    sample, sample_params = _leakage_sample(sample_modulus)
    values = "".join(f"{a.expr} AS a{i}, " for i, a in enumerate(attributes))
    return (f"SELECT {values}correct FROM {quote_ident(table)} WHERE NOT unscorable{sample}",
            params + sample_params)


def leakage_sql(table: str, attributes: Sequence[AttributeSQL], sets: Sequence[Sequence[int]], *,
                min_cell: int, sample_modulus: int = 1) -> tuple[str, list]:
    """How much of the uncertainty about correctness each grouping of attributes removes, in one statement.

    For the whole run (the empty set, always added) and every grouping set (single attributes and
    pairs), one row: ``gid`` (:func:`grouping_mask`), ``n`` (scored examples), ``cond_entropy``
    (the conditional entropy of correctness given the set's cells, in nats per example: for the
    empty set, the entropy of correctness itself), ``cells`` (cells with at least ``min_cell``
    examples), ``min_rate`` and ``max_rate`` (lowest and highest error rate of those cells).
    Cells smaller than ``min_cell`` are pooled into one cell per set before the entropy is taken,
    so that small cells, which are pure by chance, cannot make a set look as if it fixed
    correctness. A missing value is a cell like any other. ``sample_modulus`` above 1 reads a
    deterministic sample: the examples whose example-id hash is a multiple of it (about one in
    ``sample_modulus``).
    """
    cols = [f"a{i}" for i in range(len(attributes))]
    params: list = []
    for a in attributes:
        params += a.params
    inner = "".join(f"{a.expr} AS {c}, " for a, c in zip(attributes, cols))
    all_sets = [()] + [tuple(s) for s in sets if tuple(s)]
    sets_sql = ", ".join("(" + ", ".join(cols[i] for i in s) + ")" for s in all_sets)
    gid = f"GROUPING({', '.join(cols)})" if cols else "0"
    big = "n >= CAST(? AS BIGINT)"
    sample, sample_params = _leakage_sample(sample_modulus)
    params += sample_params
    sql = (f"WITH cells AS (SELECT {gid} AS gid, count(*) AS n, count_if(NOT correct) AS e "
           f"FROM (SELECT {inner}correct FROM {quote_ident(table)} WHERE NOT unscorable{sample}) "
           f"GROUP BY GROUPING SETS ({sets_sql})), "
           "sets AS (SELECT gid, sum(n) AS n, "
           f"sum(CASE WHEN {big} THEN {_cell_entropy('n', 'e')} ELSE CAST(0 AS DOUBLE) END) AS h_big, "
           f"sum(CASE WHEN {big} THEN 0 ELSE n END) AS n_small, sum(CASE WHEN {big} THEN 0 ELSE e END) AS e_small, "
           f"sum(CASE WHEN {big} THEN 1 ELSE 0 END) AS cells, "
           f"min(CASE WHEN {big} THEN CAST(e AS DOUBLE) / n END) AS min_rate, "
           f"max(CASE WHEN {big} THEN CAST(e AS DOUBLE) / n END) AS max_rate "
           "FROM cells GROUP BY gid) "
           f"SELECT gid, n, (h_big + {_cell_entropy('n_small', 'e_small')}) / n AS cond_entropy, cells, min_rate, "
           "max_rate FROM sets ORDER BY gid")
    params += [int(min_cell)] * 6
    return sql, params


def values_in_order_sql(table: str, attributes: Sequence[AttributeSQL]) -> tuple[str, list]:
    """Per scorable example, in log order (``source_row``): each attribute's value (``a0``, ``a1``, ...),
    ``correct`` and ``score``; the examples a slice table counts, for counting in memory."""
    params: list = []
    for a in attributes:
        params += a.params
    values = "".join(f"{a.expr} AS a{i}, " for i, a in enumerate(attributes))
    return (f"SELECT {values}correct, score FROM {quote_ident(table)} WHERE NOT unscorable ORDER BY source_row",
            params)


def paired_outcomes_sql(base_table: str, cand_table: str) -> str:
    """Per pair of examples matched on example id (both scorable): the baseline example's position
    among the baseline's scorable examples in log order (as :func:`values_in_order_sql` reads them),
    both runs' correctness (``bc``, ``cc``) and scores (``bs``, ``cs``); the rows
    :func:`paired_sets_sql` counts, for counting in memory."""
    return (f"WITH base AS (SELECT row_number() OVER (ORDER BY source_row) - 1 AS pos, example_id, correct AS bc, "
            f"score AS bs FROM {quote_ident(base_table)} WHERE NOT unscorable), "
            f"cand AS (SELECT example_id, correct AS cc, score AS cs FROM {quote_ident(cand_table)} "
            f"WHERE NOT unscorable) "
            f"SELECT pos, bc, cc, bs, cs FROM base JOIN cand USING (example_id)")
