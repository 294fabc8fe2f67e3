"""The one definition of every derived feature of an example, as SQL over a run's table.

Slicing attributes (:mod:`analysis.slicing.table`), the rule language
(:mod:`analysis.objective.predicates`), the failure-mode detectors
(:mod:`analysis.objective.modes`) and the link analysis all take a derived feature from
:func:`feature_sql`, so the Slices page, a rule and a detector count the same examples.

Features (``kind`` is the rule language's type):

``input_length``, ``output_length``, ``reference_length`` (number)
    Length of the text in characters; NULL when the text is missing.
``length_ratio`` (number)
    Output length / reference length; NULL when the reference is empty or missing.
``turn`` (number)
    Conversation turn: ``user:`` blocks in the input, at least 1 (a single prompt is turn 1).
``is_refusal`` (boolean)
    The output matches :data:`REFUSAL_PATTERN` (lower-cased); false when the output is missing.
``output_empty`` (boolean)
    The output is missing or blank, **or** the example's status is ``no_answer``.

Two derived groupings of stored columns live here too: bins of a number
(:func:`binned_expr`, cut at :func:`quantile_edges_sql`) and periods of a timestamp
(:func:`period_for_span`, :func:`period_expr`). And the one "graded scores" rule
(:func:`graded_sql`).

Every expression is in the portable subset (``CAST(x AS DOUBLE)``, no ``::``), so it
transpiles from DuckDB to Spark SQL with sqlglot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from analysis.sql import quote_ident

#: Phrases that mark an output as a refusal (a regular expression over the lower-cased output).
#:
#: One pattern for slicing, rules and the refusal detector. It is the wider of the two that
#: Faultline once had (the rule language's): besides "I'm sorry, but", "I can't help/assist",
#: "as an AI language model", it catches "I can't answer/share/discuss", "I'd rather not",
#: "I'm not allowed to" and "unfortunately, I can't". Those are refusals as a reader counts
#: them, and the narrower pattern missed them (on the demo's 40 refusals it found 20).
REFUSAL_PATTERN = (
    r"(i'?m sorry,? but|i am sorry,? but|i can'?t (help|assist|provide|do that|comply)|i cannot (help|assist|provide|"
    r"comply)|i won'?t be able to|i'?m (not able|unable) to|i am (not able|unable) to|as an ai( language model)?,? i|"
    r"i must decline|i'?m afraid i can'?t|cannot help with (that|this)|can'?t help with (that|this)|"
    r"not able to (help|assist) with"
    r"|i can'?t (give|offer|answer|share|discuss)|i cannot (give|offer|answer|share|discuss)|i'?d rather not|"
    r"as an ai (assistant|model),? i|i'?m not (allowed|permitted) to|i am not (allowed|permitted) to|"
    r"(unfortunately|sorry),? i (can'?t|cannot|am unable|'?m unable))"
)

FeatureKind = Literal["number", "boolean"]


@dataclass(frozen=True)
class Feature:
    """A derived feature: its type and what it means."""

    name: str
    kind: FeatureKind
    """``number`` or ``boolean`` (the rule language's types)."""
    description: str
    """What it means, in words (shown in the attribute lists and in the rule language's help)."""
    reads: tuple[str, ...] = ("input",)
    """The texts it is computed from (``input``, ``output``, ``reference``): a feature of the output or the
    reference describes what a failure looks like, not where it happens (an opt-in slicing attribute)."""


#: Every derived feature, by name (the order is the order they are listed in).
FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("input_length", "number", "Length of the input in characters"),
    Feature("output_length", "number", "Length of the output in characters", ("output",)),
    Feature("reference_length", "number", "Length of the reference in characters", ("reference",)),
    Feature("length_ratio", "number", "Output length / reference length (missing when the reference is empty)",
            ("output", "reference")),
    Feature("turn", "number", "Conversation turn: user messages in the input (1 for a single prompt)"),
    Feature("is_refusal", "boolean", "The output reads as a refusal (phrases such as \"I'm sorry, but I can't\")",
            ("output",)),
    Feature("output_empty", "boolean", "The output is empty, or the example has no answer", ("output",)),
)}


def length_expr(column: str) -> str:
    """Length of a text column in characters (NULL when missing)."""
    return f"length({quote_ident(column)})"


def turn_expr(column: str = "input") -> str:
    """Conversation turn: user messages in a chat transcript (``user: ...`` blocks), 1 for plain prompts."""
    q = quote_ident(column)
    return f"greatest(1, len(regexp_extract_all(coalesce({q}, ''), '(^|\\n)user: ')))"


def refusal_expr(column: str = "output") -> tuple[str, list]:
    """Whether a text reads as a refusal (:data:`REFUSAL_PATTERN`); false when missing."""
    return f"coalesce(regexp_matches(lower({quote_ident(column)}), ?), false)", [REFUSAL_PATTERN]


def blank_expr(column: str) -> str:
    """A text column is missing or only white space: ``trim(text) = ''``.

    Written ``CASE WHEN trim(left(text, 1)) = '' THEN trim(text) = '' ELSE false END``, the same truth value for
    every text (a text that trims to nothing begins with a character that trims to nothing, and the whole text is
    still trimmed to decide), but the whole text is trimmed only when its first character is white space or it is
    empty: ``trim`` reads a text whole (to find its last character), 1.6 s CPU over a million outputs of 300
    characters against 0.2 s.
    """
    q = quote_ident(column)
    return f"({q} IS NULL OR CASE WHEN trim(left({q}, 1)) = '' THEN trim({q}) = '' ELSE false END)"


def output_empty_expr() -> str:
    """The output is missing or blank, or the example's status is ``no_answer``.

    A ``no_answer`` example (the model gave none: Inspect's ``N``, an abstention) has no
    output to read, whatever the log put in the output column (often a placeholder), so it
    counts as an empty output everywhere: in slicing, in rules and in the empty-output detector.
    """
    return f"({blank_expr('output')} OR coalesce({quote_ident('status')} = 'no_answer', false))"


def feature_sql(name: str) -> tuple[str, list]:
    """The SQL expression of a derived feature (see :data:`FEATURES`) and its bound values.

    >>> feature_sql("length_ratio")[0]
    'CAST(length("output") AS DOUBLE) / nullif(length("reference"), 0)'
    >>> feature_sql("output_empty")[0]
    '(("output" IS NULL OR CASE WHEN trim(left("output", 1)) = \\'\\' THEN trim("output") = \\'\\' ELSE false END) OR coalesce("status" = \\'no_answer\\', false))'
    """
    if name == "input_length":
        return length_expr("input"), []
    if name == "output_length":
        return length_expr("output"), []
    if name == "reference_length":
        return length_expr("reference"), []
    if name == "length_ratio":
        return f"CAST({length_expr('output')} AS DOUBLE) / nullif({length_expr('reference')}, 0)", []
    if name == "turn":
        return turn_expr("input"), []
    if name == "is_refusal":
        return refusal_expr("output")
    if name == "output_empty":
        return output_empty_expr(), []
    raise KeyError(f"No derived feature {name!r}; features: {', '.join(FEATURES)}")


# ------------------------------------------------------------------------------------ bins
def quantile_edges_sql(table: str, expr: str, params: Sequence, quantiles: Sequence[float]) -> tuple[str, list]:
    """Quantile cut points of a numeric expression (continuous quantiles), one column per quantile."""
    parts = ", ".join(f"quantile_cont({expr}, CAST(? AS DOUBLE))" for _ in quantiles)
    out: list = []
    for q in quantiles:
        out += list(params) + [float(q)]
    return (f"SELECT {parts} FROM {quote_ident(table)} WHERE {expr} IS NOT NULL", out + list(params))


def binned_expr(expr: str, params: Sequence, edges: Sequence[float]) -> tuple[str, list]:
    """Bin index (0..len(edges)) of a numeric expression; NULL stays NULL (missing).

    Bin ``i`` holds the values in ``(edges[i-1], edges[i]]``; the last bin the values above the last edge.
    """
    if not edges:
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE 0 END", list(params)
    parts = [f"WHEN {expr} IS NULL THEN NULL"]
    out_params = list(params)
    for index, edge in enumerate(edges):
        parts.append(f"WHEN {expr} <= CAST(? AS DOUBLE) THEN {index}")
        out_params += list(params) + [float(edge)]
    return f"CASE {' '.join(parts)} ELSE {len(edges)} END", out_params


# ---------------------------------------------------------------------------------- periods
Period = Literal["day", "week", "month"]


def period_for_span(span_days: int) -> Period:
    """The period a timestamp is grouped by: days up to two months, weeks up to ~13 months, else months.

    >>> period_for_span(10), period_for_span(100), period_for_span(1000)
    ('day', 'week', 'month')
    """
    return "day" if span_days <= 62 else ("week" if span_days <= 400 else "month")


def period_expr(expr: str, params: Sequence, period: Period) -> tuple[str, list]:
    """The start of the period (day, ISO week from Monday, month) holding a timestamp."""
    if period not in ("day", "week", "month"):
        raise ValueError(f"Invalid period {period!r}: expected day, week or month")
    return f"date_trunc('{period}', {expr})", list(params)


def span_sql(table: str, expr: str, params: Sequence) -> tuple[str, list]:
    """Earliest and latest value of an expression (to choose a period)."""
    return f"SELECT min({expr}), max({expr}) FROM {quote_ident(table)}", list(params) + list(params)


# ------------------------------------------------------------------------------ graded scores
def graded_expr(table: str) -> str:
    """Whether a run's scores are graded, as a boolean scalar subquery: some scored example has
    a score other than its correctness as 0/1.

    The one rule for "scores are graded", used by slicing (mean scores), the extras
    (bootstrap intervals of the mean score), the comparison (paired t interval of mean scores) and
    the link analysis (score as the outcome). Missing scores say nothing either way.
    """
    return (f"(SELECT count(*) > 0 FROM (SELECT 1 FROM {quote_ident(table)} WHERE NOT unscorable "
            "AND score IS NOT NULL AND score <> CAST(correct AS DOUBLE) LIMIT 1))")


#: Score sums are exact, so identical on every engine, in any order, on any number of threads: each score is
#: rounded to a whole number of 1e-15 (:func:`score_units`) and these integers are summed as DECIMAL(38, 0).
#: Divide a sum by this to get scores back.
SCORE_SCALE = 10**15


def score_units(expr: str) -> str:
    """A score expression as a whole number of 1e-15 (DECIMAL(38, 0)): summed exactly by DuckDB and Spark alike.

    Both engines multiply in IEEE doubles (the same product) and round half away from zero; a score's
    error is at most 5e-16 (below a double's own rounding for |score| >= 9; larger scores are kept as they are).
    """
    return f"CAST(round(({expr}) * CAST({SCORE_SCALE} AS DOUBLE)) AS DECIMAL(38, 0))"


def graded_sql(table: str) -> str:
    """:func:`graded_expr` as a statement (one row, one boolean)."""
    return f"SELECT {graded_expr(table)}"


def score_summaries_sql(tables: Sequence[str]) -> str:
    """Per run table (in the order given, numbered ``k``): whether its scores are graded, and the mean,
    sample standard deviation and count of its scores over the scored examples."""
    parts = [f"SELECT {k} AS k, {graded_expr(t)} AS graded, "
             "avg(score) FILTER (WHERE NOT unscorable) AS mean_score, "
             "stddev_samp(score) FILTER (WHERE NOT unscorable) AS sd_score, "
             f"count(score) FILTER (WHERE NOT unscorable) AS n_score FROM {quote_ident(t)}"
             for k, t in enumerate(tables)]
    return " UNION ALL ".join(parts)


__all__ = ["FEATURES", "Feature", "REFUSAL_PATTERN", "binned_expr", "blank_expr", "feature_sql", "graded_expr", "graded_sql",
           "SCORE_SCALE", "length_expr", "score_units", "output_empty_expr", "period_expr", "period_for_span", "quantile_edges_sql",
           "refusal_expr", "span_sql", "turn_expr"]
