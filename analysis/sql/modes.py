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
from analysis.sql.features import graded_expr, length_expr, score_units
from analysis.sql.slices import CohortSQL, and_cohort

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


#: The option letters an input can list (``A)`` to ``J)``).
OPTION_LETTERS = "ABCDEFGHIJ"
#: A line of the input that lists an option: at the start of a line (spaces, ``*`` or ``_`` before it), the letter in
#: either case, alone or in brackets, then ``)`` or ``.`` (``B) Paris``, ``(b) Paris``, ``[B] Paris``, ``B. Paris``,
#: ``**B.** Paris``), spaces and the option's text to the end of the line (group 1). ``{letter}`` is a character
#: class (``Bb``; ``A-Ja-j`` for any option). RE2, Java and Python ``re`` read it alike.
OPTION_LINE = r"(?m)^[ \t]*[*_]*[(\[]?[{letter}][)\].][*_]*[ \t]+(\S[^\n]*)"
#: The start of a line that lists option A (:data:`OPTION_LINE` for the letter A, up to its text's first character).
_A_LINE = r"[ \t]*[*_]*[(\[]?[Aa][)\].][*_]*[ \t]+\S"
#: An input that lists option A on two lines or more: a stem that enumerates its own items with the option letters
#: ("a) ... b) ... e)") above its options ("A. ... D."), or several questions one after the other.
TWO_OPTION_LISTS = rf"(?m)^{_A_LINE}(?s:.*)\n{_A_LINE}"
#: The input from its last line that lists option A to its end (group 1): the options of such an input.
LAST_OPTION_LIST = rf"(?s)(?:.*\n|^)({_A_LINE}.*)"
#: What separates words when an answer is searched for an option's text: anything but a letter or a digit.
NOT_A_WORD = r"[^\pL\pN]+"
#: The example's input, where the options are listed.
INPUT = quote_ident("input")


def option_line_pattern(letter: str | None = None) -> str:
    r""":data:`OPTION_LINE` for one option letter (``"B"``), or for any (None).

    >>> import re
    >>> text = "Capital of France?\nA) Rome\n(b) Paris\n  C. Berlin\nD Madrid"
    >>> [m.group(1) for m in re.finditer(option_line_pattern(), text)]
    ['Rome', 'Paris', 'Berlin']
    >>> re.search(option_line_pattern("B"), text).group(1)
    'Paris'
    """
    return OPTION_LINE.format(letter="A-Ja-j" if letter is None else letter.upper() + letter.lower())


def options_expr(*, listed: str | None = None) -> tuple[str, list]:
    r"""The part of the input that lists its options (``(sql, params)``): the whole input, or, when it lists option A
    on two lines or more (:data:`TWO_OPTION_LISTS`), its last such line and the lines after it: a stem's own
    enumerated items above the options ("a) ... e)" before "A. ... D.") are the question's text, so its "e)" lists
    no option E; of several questions, the last one's options. NULL for a missing input. Only an input that lists
    options (``listed``, a column holding :func:`listed_expr`; default that expression) is read further.

    >>> import re
    >>> stem = "Which are true?\na) one\nb) two\ne) five\n\nA. a, b\nB. b, e\nC. all\nD. none"
    >>> re.search(TWO_OPTION_LISTS, stem) is not None, re.search(LAST_OPTION_LIST, stem).group(1)
    (True, 'A. a, b\nB. b, e\nC. all\nD. none')
    >>> re.search(TWO_OPTION_LISTS, "Capital of France?\nA) Rome\nB) Paris") is None
    True
    """
    listed_sql, listed_params = (listed, []) if listed is not None else listed_expr()
    return (f"CASE WHEN {listed_sql} AND regexp_matches({INPUT}, ?) THEN regexp_extract({INPUT}, ?, 1) "
            f"ELSE {INPUT} END", [*listed_params, TWO_OPTION_LISTS, LAST_OPTION_LIST])


def _words(sql: str, params: Sequence) -> tuple[str, list]:
    """A text as its words, lower case, one space between them and one at each end (``' i would say paris '``):
    ``' <words> '`` contains ``' <option words> '`` when the text contains the option's text as whole words."""
    return f"concat(' ', trim(regexp_replace(lower({sql}), ?, ' ', 'g')), ' ')", [*params, NOT_A_WORD]


def _option_reading(expr: str, params: Sequence, pattern: str, *, listed: str | None = None,
                    options: tuple[str, list] | None = None) -> dict[str, tuple[str, list]]:
    """The parts of the one reading of an answer (``expr``) against the options its input lists (see
    :func:`names_option_expr`), each ``(sql, params)``: ``listed`` (the input lists an option), ``letter`` (the
    letter the answer names by ``pattern``, upper case, ``''`` for none), ``letter_listed`` (the input lists that
    letter), ``texts`` (how many listed options' texts the answer contains as whole words), ``named`` and
    ``listed_letters`` (the letters of those options, and of every listed option, joined by ``', '``). The options
    are read in ``options`` (``(sql, params)``; default :func:`options_expr`)."""
    opts, opts_params = options if options is not None else options_expr()
    answer = f"CAST({expr} AS VARCHAR)"
    groups = re.compile(pattern).groups
    if groups < 1:
        raise ValueError("the option letter pattern needs a group for the letter in each alternative")
    letter = (f"upper(concat({', '.join(f'regexp_extract({answer}, ?, {g})' for g in range(1, groups + 1))}))",
              [p for _ in range(groups) for p in (*params, pattern)])
    words_sql, words_params = _words(answer, params)
    contains, contains_params, names, names_params, lists, lists_params = [], [], [], [], [], []
    letter_cases, letter_params = [], []
    for option in OPTION_LETTERS:
        line = option_line_pattern(option)
        text_sql, text_params = _words(f"regexp_extract({opts}, ?, 1)", [*opts_params, line])
        hit = f"({text_sql} <> '  ' AND strpos({words_sql}, {text_sql}) > 0)"
        hit_params = [*text_params, *words_params, *text_params]
        contains.append(f"CASE WHEN {hit} THEN 1 ELSE 0 END")
        contains_params += hit_params
        names.append(f"CASE WHEN {hit} THEN '{option}' END")
        names_params += hit_params
        lists.append(f"CASE WHEN regexp_matches({opts}, ?) THEN '{option}' END")
        lists_params += [*opts_params, line]
        letter_cases.append(f"WHEN '{option}' THEN regexp_matches({opts}, ?)")
        letter_params += [*opts_params, line]
    return {
        "listed": ((listed, []) if listed is not None else listed_expr()),
        "letter": letter,
        "letter_listed": (f"CASE {letter[0]} {' '.join(letter_cases)} ELSE false END", [*letter[1], *letter_params]),
        "texts": ("(" + " + ".join(contains) + ")", contains_params),
        "named": (f"concat_ws(', ', {', '.join(names)})", names_params),
        "listed_letters": (f"concat_ws(', ', {', '.join(lists)})", lists_params),
        "any_letter": (f"regexp_matches({answer}, ?)", [*params, pattern]),
    }


def listed_expr() -> tuple[str, list]:
    """The input lists at least one option (a line of :data:`OPTION_LINE`); false for a missing input. (Its options,
    :func:`options_expr`, list one then too: they begin with a line that lists option A.)"""
    return f"coalesce(regexp_matches({INPUT}, ?), false)", [option_line_pattern()]


def names_option_expr(expr: str, params: Sequence, pattern: str, *, listed: str | None = None,
                      options: str | None = None) -> tuple[str, list]:
    """The answer (``expr``) names an option of a multiple-choice question: the one reading of an answer that the
    share test (:func:`option_letter_share_sql`) and the ``multiple_choice_format`` detector (:func:`no_option_expr`)
    both use.

    When the input lists options (lines ``B) Paris``, :data:`OPTION_LINE`), the answer names an option when the
    letter it names by ``pattern`` (bare or in disguise: ``B``, ``(B) Paris``, ``Answer: B``) is one the input
    lists, or when it contains the text of exactly one listed option as whole words, case-insensitive ("I would say
    the capital is Paris" names ``B) Paris``). A letter the input does not list (``E`` of ``A``-``D``) names
    nothing; an answer with the texts of several options is ambiguous and names none (unless its letter is
    listed). When the input lists no option, any letter ``pattern`` finds names one. The options are those of
    :func:`options_expr`: a stem's own enumerated items above them ("a) ... e)" before "A. ... D.") list none.

    ``pattern`` has one group per alternative, the letter. ``listed`` and ``options``: columns holding
    :func:`listed_expr` and :func:`options_expr`, when a statement computes them once for several readings. NULL
    when the answer is NULL.
    """
    parts = _option_reading(expr, params, pattern, listed=listed, options=None if options is None else (options, []))
    listed, letter_listed, texts, any_letter = (parts[k] for k in ("listed", "letter_listed", "texts", "any_letter"))
    return (f"CASE WHEN {listed[0]} THEN ({letter_listed[0]} OR {texts[0]} = 1) ELSE {any_letter[0]} END",
            [*listed[1], *letter_listed[1], *texts[1], *any_letter[1]])


def option_letter_share_sql(table: str, expr: str, params: Sequence, pattern: str, *,
                            cohort: CohortSQL = None) -> tuple[str, list]:
    """Share of scored answers (of ``expr``) and of references that name an option (:func:`names_option_expr`),
    over the cohort's examples if one is given; whether the input lists options is read once per example."""
    return _option_reading_sql("avg(CASE WHEN {answer} THEN 1.0 ELSE 0.0 END), "
                               "avg(CASE WHEN {reference} THEN 1.0 ELSE 0.0 END)",
                               table, expr, params, pattern, cohort=cohort)


def option_counts_sql(table: str, expr: str, params: Sequence, pattern: str, *, cohort: CohortSQL = None,
                      rows: tuple[int | None, int | None] = (None, None)) -> tuple[str, list]:
    """The counts behind :func:`option_letter_share_sql` over the rows whose ``source_row`` is in ``rows``
    (``[low, high)``, None for no bound): the scored answers (of ``expr``; of the cohort, if given), those that name
    an option and the references that name one, as integers (0 for none)."""
    low, high = rows
    bounds, bound_params = [], []
    if low is not None:
        bounds.append("source_row >= CAST(? AS BIGINT)")
        bound_params.append(int(low))
    if high is not None:
        bounds.append("source_row < CAST(? AS BIGINT)")
        bound_params.append(int(high))
    return _option_reading_sql("count(*), coalesce(sum(CASE WHEN {answer} THEN 1 ELSE 0 END), 0), "
                               "coalesce(sum(CASE WHEN {reference} THEN 1 ELSE 0 END), 0)",
                               table, expr, params, pattern, cohort=cohort, bounds=bounds, bound_params=bound_params)


def option_rows_sql(table: str, expr: str, params: Sequence, *, cohort: CohortSQL = None) -> tuple[str, list]:
    """The rows :func:`option_counts_sql` reads (scored answers of ``expr``, of the cohort if given): how many, and
    the largest ``source_row`` among them (no text read but the answer's presence)."""
    where, where_params = and_cohort(f"{expr} IS NOT NULL AND NOT unscorable", cohort)
    return (f"SELECT count(*), max(source_row) FROM {quote_ident(table)} WHERE {where}",
            [*params, *where_params])


def _option_reading_sql(select: str, table: str, expr: str, params: Sequence, pattern: str, *,
                        cohort: CohortSQL = None, bounds: Sequence[str] = (),
                        bound_params: Sequence = ()) -> tuple[str, list]:
    """``select`` (with ``{answer}`` and ``{reference}``: whether each names an option, :func:`names_option_expr`)
    over the scored answers of ``expr`` (of the cohort; within ``bounds``, conditions with ``bound_params``), the
    input's listing of options read once per example."""
    answer, answer_params = names_option_expr('"__answer"', [], pattern, listed='"__listed"', options='"__options"')
    reference, reference_params = names_option_expr(quote_ident("reference"), [], pattern, listed='"__listed"',
                                                    options='"__options"')
    listed, listed_params = listed_expr()
    options, options_params = options_expr(listed='"__listed"')
    where, where_params = and_cohort(" AND ".join([f"{expr} IS NOT NULL AND NOT unscorable", *bounds]), cohort)
    return (f"SELECT {select.format(answer=answer, reference=reference)} "  # the options read once per example
            f"FROM (SELECT __answer, {quote_ident('reference')}, __listed, {options} AS __options "
            f"FROM (SELECT CAST({expr} AS VARCHAR) AS __answer, {quote_ident('reference')}, {INPUT}, "
            f"{listed} AS __listed FROM {quote_ident(table)} WHERE {where}))",
            [*answer_params, *reference_params, *options_params, *params, *listed_params, *params, *bound_params,
             *where_params])


def no_option_expr(expr: str, params: Sequence, pattern: str) -> tuple[str, list]:
    """The answer (``expr``) names no option (:func:`names_option_expr`; a missing answer names none)."""
    sql, sql_params = names_option_expr(expr, params, pattern)
    return f"NOT coalesce({sql}, false)", sql_params


def no_option_why_expr(expr: str, params: Sequence, name: str, pattern: str) -> tuple[str, list]:
    """The "why" of an answer that names no option: the source's ``name``, the answer as seen (its first 80
    characters; ``(no answer)`` when missing) and what was found: a letter the input does not list (with the letters
    it lists), the texts of several options (with their letters), or no single option letter or option text."""
    parts = _option_reading(expr, params, pattern)
    listed, letter, letter_listed, texts = (parts[k] for k in ("listed", "letter", "letter_listed", "texts"))
    named, listed_letters = parts["named"], parts["listed_letters"]
    seen = f"concat(?, coalesce(concat('\"', left(CAST({expr} AS VARCHAR), 80), '\"'), '(no answer)')"
    seen_params = [f"{name} (the answer ", *params]
    return (f"CASE WHEN {listed[0]} AND {letter[0]} <> '' AND NOT {letter_listed[0]} "
            f"THEN {seen}, ': the letter ', {letter[0]}, ', which the input does not list; it lists ', "
            f"{listed_letters[0]}, ')') "
            f"WHEN {listed[0]} AND {texts[0]} >= 2 THEN {seen}, ': names several options, ', {named[0]}, ')') "
            f"ELSE {seen}, ?) END",
            [*listed[1], *letter[1], *letter_listed[1], *seen_params, *letter[1], *listed_letters[1],
             *listed[1], *texts[1], *seen_params, *named[1],
             *seen_params, ": no single option letter or option text found)"])


def long_output_expr(min_chars: int, ratio: float) -> tuple[str, list]:
    """The output has at least ``min_chars`` characters and ``ratio`` times the reference's length."""
    out, ref = length_expr("output"), length_expr("reference")
    return (f"{out} >= CAST(? AS BIGINT) AND {ref} > 0 AND {out} >= CAST(? AS DOUBLE) * {ref}",
            [int(min_chars), float(ratio)])


def group_has_correct_expr(expr: str, params: Sequence) -> tuple[str, list]:
    """The example's group (``expr``, e.g. a paraphrase group) is known and has a correct answer."""
    return (f"({expr}) IS NOT NULL AND coalesce(bool_or(correct) OVER (PARTITION BY ({expr})), false)",
            [*params, *params])


def indicators_sql(table: str, columns: Sequence[tuple[str, str, Sequence]], *,
                   cohort: CohortSQL = None) -> tuple[str, list]:
    """Per scored example in log order (of the cohort, if given): ``example_id``, ``correct`` and each
    ``(name, sql, params)`` column."""
    select, params = ["example_id", "correct"], []
    for name, sql, p in columns:
        select.append(f"{sql} AS {quote_ident(name)}")
        params += list(p)
    where, where_params = and_cohort("NOT unscorable", cohort)
    return (f"SELECT {', '.join(select)} FROM {quote_ident(table)} WHERE {where} ORDER BY source_row",
            params + where_params)


def counts_sql(table: str, conditions: Sequence[tuple[str, Sequence]], *,
               cohort: CohortSQL = None) -> tuple[str, list]:
    """Scored examples (of the cohort, if given), and how many satisfy each condition (``(sql, params)``, NULL
    counted as false)."""
    inner, params = ["1 AS __one"], []
    for i, (sql, p) in enumerate(conditions):
        inner.append(f"coalesce(({sql}), false) AS __m{i}")
        params += list(p)
    counts = ", ".join(["count(*)"] + [f"count_if(__m{i})" for i in range(len(conditions))])
    where, where_params = and_cohort("NOT unscorable", cohort)
    return (f"SELECT {counts} FROM (SELECT {', '.join(inner)} FROM {quote_ident(table)} WHERE {where})",
            params + where_params)


def link_rows_sql(table: str, columns: Sequence[tuple[str, str, Sequence]], *,
                  cohort: CohortSQL = None, graded: str | None = None) -> tuple[str, list]:
    """Per scored example in log order (of the cohort, if given): ``correct``, ``score``, whether the run's scores
    are graded (``__graded``, :func:`analysis.sql.features.graded_expr`, or the expression ``graded`` over
    ``table``: the column of :func:`materialise_modes_sql`'s table) and each ``(alias, sql, params)`` column;
    the rows of the link analysis (:mod:`analysis.objective.link`), without the example ids (examples of two runs
    are paired by :func:`paired_positions_sql`)."""
    select, params = ["correct", "score", f"{graded or graded_expr(table)} AS __graded"], []
    for alias, sql, p in columns:
        select.append(f"{sql} AS {quote_ident(alias)}")
        params += list(p)
    where, where_params = and_cohort("NOT unscorable", cohort)
    return (f"SELECT {', '.join(select)} FROM {quote_ident(table)} WHERE {where} ORDER BY source_row",
            params + where_params)


def link_totals_sql(table: str, graded: str, *, cohort: CohortSQL = None) -> tuple[str, list]:
    """The scored examples (of the cohort, if given) and whether the run's scores are graded (``graded``: an
    expression over ``table``, :func:`analysis.sql.features.graded_expr` or an aggregate of the column of
    :func:`materialise_modes_sql`'s table)."""
    where, where_params = and_cohort("NOT unscorable", cohort)
    return f"SELECT count(*), {graded} FROM {quote_ident(table)} WHERE {where}", where_params


def materialise_modes_sql(name: str, table: str, columns: Sequence[tuple[str, str, Sequence]], *,
                          cohort: CohortSQL = None, with_ids: bool = True) -> tuple[str, list]:
    """A temporary table ``name`` of the scored examples (of the cohort, if given) with ``source_row``,
    ``example_id`` (unless ``with_ids`` is False: no statement over the table pairs its rows with another run's),
    ``correct``, ``score``, ``unscorable``, whether the run's scores are graded (``__graded``, over the whole run
    as :func:`analysis.sql.features.graded_expr`) and each ``(name, sql, params)`` column, evaluated once.

    The statements of this module then read the columns from it (a mode's indicator as its sources' columns),
    with no cohort (its rows are the cohort's): every expression is evaluated over the same rows as there (window
    functions too, e.g. :func:`group_has_correct_expr`, partition the scored examples of the cohort). DuckDB
    only: a temporary table lives in one connection (the cursor that made it), which Spark does not see.
    """
    select, params = ["source_row", *(["example_id"] if with_ids else []), "correct", "score", "unscorable",
                      f"{graded_expr(table)} AS __graded"], []
    for col, sql, p in columns:
        select.append(f"{sql} AS {quote_ident(col)}")
        params += list(p)
    where, where_params = and_cohort("NOT unscorable", cohort)
    return (f"CREATE TEMPORARY TABLE {quote_ident(name)} AS SELECT {', '.join(select)} FROM {quote_ident(table)} "
            f"WHERE {where}", params + where_params)


def drop_temporary_sql(name: str) -> str:
    """Drop the temporary table ``name`` of :func:`materialise_modes_sql` (if it is still there)."""
    return f"DROP TABLE IF EXISTS {quote_ident(name)}"


def paired_positions_sql(base_table: str, cand_table: str, *, cohort: CohortSQL = None,
                         base_cohort: CohortSQL = None) -> tuple[str, list]:
    """Per scored example of the candidate run in log order (of ``cohort``, if given), its position among the
    baseline's scored examples in log order (of ``base_cohort``) with the same ``example_id``; NULL when the
    baseline has no such example. Positions count from 0 and are those of the rows
    :func:`link_rows_sql` returns with the same cohorts, so the pairing is made by the engine
    and no example id is read into Python. (Ids are unique within a run; were one repeated, its first example in
    log order is taken.) One column, ``base_pos``."""
    c_where, c_params = and_cohort("NOT unscorable", cohort)
    b_where, b_params = and_cohort("NOT unscorable", base_cohort)
    rank = "row_number() OVER (ORDER BY source_row) - 1"
    return (f"SELECT b.base_pos AS base_pos FROM ("
            f"SELECT example_id, {rank} AS cand_pos FROM {quote_ident(cand_table)} WHERE {c_where}) AS c "
            f"LEFT JOIN (SELECT example_id, min(pos) AS base_pos FROM ("
            f"SELECT example_id, {rank} AS pos FROM {quote_ident(base_table)} WHERE {b_where}) AS b0 "
            f"GROUP BY example_id) AS b ON c.example_id = b.example_id ORDER BY c.cand_pos",
            c_params + b_params)


#: Per group of :func:`separation_sums_sql`, the columns of the result (prefixed ``<group>_``), in this order.
SEPARATION_SUMS = ("n", "pos_sum", "pos_sq", "neg_sum", "neg_sq", "tie_term", "sum", "sq")
#: The columns of the negative sample, once (the correct examples in no mode).
SEPARATION_OK_SUMS = ("ok_n", "ok_sum", "ok_sq")


def separation_sums_sql(table: str, value: tuple[str, Sequence], modes: Sequence[tuple[str, Sequence]], *,
                        cohort: CohortSQL = None) -> tuple[str, list, list[str]]:
    """Exact sums of a signal's separation of each failure mode from the correct examples, in one statement.

    One scan of the scored examples with a finite ``value`` (``(sql, params)``, a DOUBLE), grouped by the distinct
    values; a running count over them (one sort) gives each value's placements, so ranks are never materialised
    per example and no row leaves the engine. The negatives are the correct examples in no mode; for mode ``i``
    (``(sql, params)`` of its indicator, NULL as false) two positive samples: ``o<i>`` (in mode ``i`` and in no
    other) and ``e<i>`` (every example in mode ``i``). For each, in the order of :data:`SEPARATION_SUMS`: its size,
    the sums of :class:`analysis.stats.separation.RankSums` (``pos_*`` of its placements among the negatives,
    ``neg_*`` of the negatives' placements among it, ``tie_term`` over the pooled values) and the fixed-point sums of
    its values and squared values (:func:`analysis.sql.features.score_units`); then the negatives' size and sums
    (:data:`SEPARATION_OK_SUMS`). Every sum is an integer (DECIMAL(38, 0)): the same on every engine. With a
    ``cohort``, over the cohort's examples only.

    Returns the statement, its parameters and the names of its columns.
    """
    v_sql, v_params = value
    inner = [f"CAST(({v_sql}) AS DOUBLE) AS v", "correct"]
    params = list(v_params)
    for i, (sql, p) in enumerate(modes):
        inner.append(f"coalesce(({sql}), false) AS m{i}")
        params += list(p)
    k = len(modes)
    in_modes = " + ".join(f"CASE WHEN m{i} THEN 1 ELSE 0 END" for i in range(k)) or "0"
    groups = [(f"o{i}", f"m{i} AND __k = 1") for i in range(k)] + [(f"e{i}", f"m{i}") for i in range(k)]
    counts = ["v", "SUM(CASE WHEN correct AND __k = 0 THEN 1 ELSE 0 END) AS c_ok"]
    counts += [f"SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS c_{g}" for g, cond in groups]
    run = "OVER (ORDER BY v ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    # a = 2 #{ok below} + #{ok equal}; b_g = 2 #{g above} + #{g equal}
    placed = ["v", "c_ok", f"2 * (SUM(c_ok) {run} - c_ok) + c_ok AS a"]
    for g, _ in groups:
        placed += [f"c_{g}", f"2 * (SUM(c_{g}) OVER () - SUM(c_{g}) {run}) + c_{g} AS b_{g}"]

    def dec(x: str) -> str:
        return f"CAST({x} AS DECIMAL(38, 0))"

    units, squares = score_units("v"), score_units("v * v")
    out, names = [], []
    for g, _ in groups:
        c, b, t = dec(f"c_{g}"), dec(f"b_{g}"), dec(f"(c_{g} + c_ok)")
        out += [f"SUM(c_{g})", f"SUM({c} * {dec('a')})", f"SUM({c} * {dec('a')} * {dec('a')})",
                f"SUM({dec('c_ok')} * {b})", f"SUM({dec('c_ok')} * {b} * {b})", f"SUM({t} * {t} * {t} - {t})",
                f"SUM({c} * {units})", f"SUM({c} * {squares})"]
        names += [f"{g}_{name}" for name in SEPARATION_SUMS]
    out += ["SUM(c_ok)", f"SUM({dec('c_ok')} * {units})", f"SUM({dec('c_ok')} * {squares})"]
    names += list(SEPARATION_OK_SUMS)
    finite = "v > CAST('-Infinity' AS DOUBLE) AND v < CAST('Infinity' AS DOUBLE)"  # no NULL, NaN or infinity
    scored, scored_params = and_cohort("NOT unscorable", cohort)
    params += scored_params
    sql = (f"SELECT {', '.join(f'{e} AS {quote_ident(n)}' for e, n in zip(out, names))} FROM ("
           f"SELECT {', '.join(placed)} FROM ("
           f"SELECT {', '.join(counts)} FROM ("
           f"SELECT v, correct, {', '.join([f'm{i}' for i in range(k)] + [f'{in_modes} AS __k'])} FROM ("
           f"SELECT {', '.join(inner)} FROM {quote_ident(table)} WHERE {scored}) AS r0 "
           f"WHERE {finite}) AS r1 GROUP BY v) AS per_value) AS placed")
    return sql, params, names


def examples_sql(table: str, columns: Sequence[tuple[str, str, Sequence]], why: tuple[str, Sequence],
                 member: tuple[str, Sequence], order: tuple[str, Sequence] | None, *, descending: bool,
                 limit: int | None, cohort: CohortSQL = None) -> tuple[str, list]:
    """The scored examples in a mode (``member``; of the cohort, if given), with the fixed text columns,
    ``columns`` (``(name, sql, params)``), and ``why``; sorted by ``order`` (NULLs last, then log order)
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
    scored, scored_params = and_cohort("NOT unscorable", cohort)
    params += scored_params
    sql = (f"SELECT {', '.join(shown)} FROM (SELECT {', '.join(inner)} FROM {quote_ident(table)} "
           f"WHERE {scored}) WHERE __in ORDER BY {sort}")
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params


def rank_correlation_sums_sql(table: str, values: Sequence[tuple[str, Sequence, bool]], outcome: tuple[str, Sequence],
                              attribute: tuple[str, Sequence] | None, *, nan_as_null: bool = False,
                              cohort: CohortSQL = None) -> tuple[str, list, list[str]]:
    """Exact sums of Spearman's rho of each value against the outcome within every slice of one attribute, in one
    statement; one row per slice, no example row leaves the engine.

    Per value ``i`` (``(sql, params, descending)``, a DOUBLE; ``descending`` ranks it negated) the rows with a finite
    value and a finite ``outcome`` (``(sql, params)``, a DOUBLE) are ranked within their slice: twice the value's
    mid-rank is ``rank() + count(*)`` over the rows up to the row's peers (``2 #{below} + #{equal} + 1``, an integer;
    one window per value, partitioned by the slice's integer code, the rows left out ordered last). The outcome is
    ranked over the rows grouped by (slice, outcome value), where twice the mid-rank is
    ``2 #{up to the value} - #{equal} + 1``: one small window for every value. Per slice the statement returns
    ``n<i>`` (rows ranked) and the integer sums of ``2 rx * 2 ry``, ``(2 rx)^2`` and ``(2 ry)^2`` (``xy<i>``,
    ``xx<i>``, ``yy<i>``; DECIMAL(38, 0): the same on every engine), from which
    :func:`analysis.stats.spearman_from_rank_sums` makes rho and its p-value. ``attribute`` (``(sql, params)``)
    defines the slices, a first column ``slice`` holding its value (``nan_as_null``: a NaN counted as missing, for a
    DOUBLE attribute); None: the whole run as one slice (no ``slice`` column). Over the scored examples (of the
    ``cohort``, if given).

    Returns the statement, its parameters and the names of its columns.
    """
    finite = "({0} > CAST('-Infinity' AS DOUBLE) AND {0} < CAST('Infinity' AS DOUBLE))"  # no NULL, NaN or infinity
    y_sql, y_params = outcome
    inner, params = [f"CAST(({y_sql}) AS DOUBLE) AS y"], list(y_params)
    if attribute is not None:
        a_sql, a_params = attribute
        a_expr = f"CASE WHEN isnan(({a_sql})) THEN NULL ELSE ({a_sql}) END" if nan_as_null else f"({a_sql})"
        inner.insert(0, f"{a_expr} AS a")
        params = list(a_params) * (2 if nan_as_null else 1) + params
    else:
        inner.insert(0, "0 AS a")
    k = len(values)
    for i, (sql, p, _) in enumerate(values):
        inner.append(f"CAST(({sql}) AS DOUBLE) AS v{i}")
        params += list(p)
    scored, scored_params = and_cohort("NOT unscorable", cohort)
    params += scored_params
    kept = ["a", "y"] + [f"CASE WHEN {finite.format('y')} AND {finite.format(f'v{i}')} THEN v{i} END AS x{i}"
                         for i in range(k)]

    def twice_mid_rank(i: int, descending: bool) -> str:
        window = f"PARTITION BY c ORDER BY x{i} {'DESC' if descending else 'ASC'} NULLS LAST"
        return (f"rank() OVER ({window}) + count(*) OVER ({window} RANGE BETWEEN UNBOUNDED PRECEDING AND "
                f"CURRENT ROW)")

    ranked = ["c", "y"] + [f"x{i}" for i in range(k)]
    ranked += [f"{twice_mid_rank(i, desc)} AS rx{i}" for i, (_, _, desc) in enumerate(values)]

    def dec(x: str, digits: int = 38) -> str:
        return f"CAST({x} AS DECIMAL({digits}, 0))"

    # per row an integer of at most 18 digits (4 n^2 for n rows), summed exactly (DECIMAL(38, 0) sums)
    level = ["c", "y"]
    for i in range(k):
        level += [f"COUNT(x{i}) AS n{i}",
                  f"SUM(CASE WHEN x{i} IS NOT NULL THEN {dec(f'rx{i}', 18)} END) AS sx{i}",
                  f"SUM(CASE WHEN x{i} IS NOT NULL THEN {dec(f'rx{i} * rx{i}', 18)} END) AS sxx{i}"]
    up_to = "OVER (PARTITION BY c ORDER BY y ASC NULLS LAST RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    levels = ["c"] + [f"n{i}, sx{i}, sxx{i}, 2 * SUM(n{i}) {up_to} - n{i} + 1 AS ry{i}" for i in range(k)]
    out, names = [], []
    for i in range(k):
        ry = dec(f"ry{i}")
        out += [f"coalesce(SUM(sx{i} * {ry}), {dec('0')})", f"coalesce(SUM(sxx{i}), {dec('0')})",
                f"SUM({dec(f'n{i}')} * {ry} * {ry})", f"SUM(n{i})"]
        names += [f"xy{i}", f"xx{i}", f"yy{i}", f"n{i}"]
    select = [f"{e} AS {quote_ident(n)}" for e, n in zip(out, names)]
    if attribute is not None:
        select.insert(0, "min(codes.a) AS slice")
        names.insert(0, "slice")
    # each slice's integer code (the rows' windows partition by an integer, not by a text)
    codes = ("SELECT a, dense_rank() OVER (ORDER BY a ASC NULLS LAST) AS c FROM (SELECT DISTINCT a FROM r1) AS d"
             if attribute is not None else "SELECT 0 AS a, 0 AS c")
    join = "r1.a IS NOT DISTINCT FROM codes.a" if attribute is not None else "r1.a = codes.a"
    sql = (f"WITH r1 AS (SELECT {', '.join(kept)} FROM ("
           f"SELECT {', '.join(inner)} FROM {quote_ident(table)} WHERE {scored}) AS r0), "
           f"codes AS ({codes}) "
           f"SELECT {', '.join(select)} FROM ("
           f"SELECT {', '.join(levels)} FROM ("
           f"SELECT {', '.join(level)} FROM ("
           f"SELECT {', '.join(ranked)} FROM ("
           f"SELECT codes.c AS c, r1.y AS y, {', '.join(f'r1.x{i} AS x{i}' for i in range(k))} "
           f"FROM r1 JOIN codes ON {join}) AS coded) AS ranked "
           f"GROUP BY c, y) AS per_level) AS ranked_levels JOIN codes ON ranked_levels.c = codes.c "
           f"GROUP BY ranked_levels.c ORDER BY ranked_levels.c")
    return sql, params, names


#: The per-slice columns of :func:`goodhart_sums_sql` besides the per-signal and per-mode ones, in this order.
GOODHART_COUNTS = ("n", "acc_b", "acc_c", "b", "c")
#: Per paired signal ``i`` (suffix ``i``): pairs with both values finite, and the fixed-point sums of the baseline's
#: and the candidate's value, of their difference and of its square.
GOODHART_SIGNAL_SUMS = ("sn", "sb", "sc", "sd", "sdd")
#: Per mode ``j`` (suffix ``j``): pairs that entered the mode, left it, were in it in the baseline, in the candidate.
GOODHART_MODE_COUNTS = ("up", "down", "rb", "rc")


def goodhart_sums_sql(cand_table: str, base_table: str, attributes: Sequence[tuple[str, Sequence, bool]],
                      signals: Sequence[tuple[tuple[str, Sequence], tuple[str, Sequence], bool]],
                      cand_modes: Sequence[tuple[str, Sequence]], base_modes: Sequence[tuple[str, Sequence]], *,
                      cohort: CohortSQL = None, base_cohort: CohortSQL = None) -> tuple[str, list, list[str]]:
    """Exact sums of the Goodhart comparison of two runs within the whole run and every slice of every attribute,
    in one statement (one join, GROUPING SETS); one row per slice, no example row leaves the engine.

    The candidate's scored examples (of ``cohort``) are joined to the baseline's (of ``base_cohort``) on
    ``example_id`` (a LEFT JOIN: a slice whose examples the baseline lacks still has its row, with no pair; a
    repeated id in the baseline pairs its first example in log order, as :func:`paired_positions_sql`). Per slice
    (the whole run, and each value of each of the candidate's ``attributes``, ``(sql, params, nan_as_null)``:
    columns ``a<i>`` holding the value, NULL where not grouped on, and ``gid``, the grouping bitmask of
    :func:`analysis.sql.slices.grouping_mask`, absent without attributes; ``nan_as_null``: a NaN counted as
    missing) the integer counts of
    :data:`GOODHART_COUNTS` (pairs, correct in the baseline, in the candidate, right to wrong, wrong to right); per
    signal ``i`` (``(candidate (sql, params), baseline (sql, params), negated)``, DOUBLEs, ``negated`` orienting
    both by a minus sign) the sums of :data:`GOODHART_SIGNAL_SUMS` over the pairs where both values and their
    difference are finite, as whole numbers of :data:`analysis.sql.features.SCORE_SCALE` units
    (:func:`analysis.sql.features.score_units`; DECIMAL(38, 0), the same on every engine, NULL over no pair); per
    mode ``j`` (its indicator over each run, ``(sql, params)``, NULL as false) the counts of
    :data:`GOODHART_MODE_COUNTS`.

    Returns the statement, its parameters and the names of its columns.
    """
    finite = "({0} > CAST('-Infinity' AS DOUBLE) AND {0} < CAST('Infinity' AS DOUBLE))"  # no NULL, NaN or infinity
    c_cols, c_params = ["example_id", "correct AS cc"], []
    for i, (a_sql, a_params, nan_as_null) in enumerate(attributes):
        a_expr = f"CASE WHEN isnan(({a_sql})) THEN NULL ELSE ({a_sql}) END" if nan_as_null else f"({a_sql})"
        c_cols.append(f"{a_expr} AS a{i}")
        c_params += list(a_params) * (2 if nan_as_null else 1)
    b_cols, b_params = ["example_id", "correct AS bc",
                        "row_number() OVER (PARTITION BY example_id ORDER BY source_row) AS __first"], []
    for i, ((c_sql, c_p), (b_sql, b_p), negated) in enumerate(signals):
        sign = "-" if negated else ""
        c_cols.append(f"{sign}(CAST(({c_sql}) AS DOUBLE)) AS sc{i}")
        c_params += list(c_p)
        b_cols.append(f"{sign}(CAST(({b_sql}) AS DOUBLE)) AS sb{i}")
        b_params += list(b_p)
    for j, (sql, p) in enumerate(cand_modes):
        c_cols.append(f"coalesce(({sql}), false) AS mc{j}")
        c_params += list(p)
    for j, (sql, p) in enumerate(base_modes):
        b_cols.append(f"coalesce(({sql}), false) AS mb{j}")
        b_params += list(p)
    c_where, c_where_params = and_cohort("NOT unscorable", cohort)
    b_where, b_where_params = and_cohort("NOT unscorable", base_cohort)
    joined = ["b.__first IS NOT NULL AS paired", "c.cc AS cc", "b.bc AS bc"]
    joined += [f"c.a{i} AS a{i}" for i in range(len(attributes))]
    for i in range(len(signals)):
        joined += [f"b.sb{i} AS sb{i}", f"c.sc{i} AS sc{i}", f"c.sc{i} - b.sb{i} AS sd{i}"]
    joined += [f"c.mc{j} AS mc{j}" for j in range(len(cand_modes))]
    joined += [f"b.mb{j} AS mb{j}" for j in range(len(base_modes))]

    def count(cond: str) -> str:
        return f"SUM(CASE WHEN paired AND {cond} THEN 1 ELSE 0 END)"

    out = ["SUM(CASE WHEN paired THEN 1 ELSE 0 END)", count("bc"), count("cc"), count("bc AND NOT cc"),
           count("cc AND NOT bc")]
    names = list(GOODHART_COUNTS)
    for i in range(len(signals)):
        keep = f"paired AND {finite.format(f'sb{i}')} AND {finite.format(f'sc{i}')} AND {finite.format(f'sd{i}')}"
        out += [f"SUM(CASE WHEN {keep} THEN 1 ELSE 0 END)"]
        out += [f"SUM(CASE WHEN {keep} THEN {score_units(x)} END)"
                for x in (f"sb{i}", f"sc{i}", f"sd{i}", f"sd{i} * sd{i}")]
        names += [f"{name}{i}" for name in GOODHART_SIGNAL_SUMS]
    for j in range(len(cand_modes)):
        out += [count(f"mc{j} AND NOT mb{j}"), count(f"mb{j} AND NOT mc{j}"), count(f"mb{j}"), count(f"mc{j}")]
        names += [f"{name}{j}" for name in GOODHART_MODE_COUNTS]
    select = [f"{e} AS {quote_ident(n)}" for e, n in zip(out, names)]
    group = ""
    if attributes:
        cols = [f"a{i}" for i in range(len(attributes))]
        select = cols + [f"GROUPING({', '.join(cols)}) AS gid"] + select
        names = cols + ["gid"] + names
        group = f" GROUP BY GROUPING SETS ((), {', '.join(f'({c})' for c in cols)})"
    sql = (f"SELECT {', '.join(select)} FROM ("
           f"SELECT {', '.join(joined)} FROM ("
           f"SELECT {', '.join(c_cols)} FROM {quote_ident(cand_table)} WHERE {c_where}) AS c "
           f"LEFT JOIN (SELECT * FROM ("
           f"SELECT {', '.join(b_cols)} FROM {quote_ident(base_table)} WHERE {b_where}) AS b0 "
           f"WHERE __first = 1) AS b ON c.example_id = b.example_id) AS pairs{group}")
    return sql, c_params + c_where_params + b_params + b_where_params, names
