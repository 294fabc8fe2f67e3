"""A graded outcome: slices of a run by the mean of a stored score (``score``, ``score.f1``, a judge's rating).

Correctness is a proportion (:func:`analysis.slicing.table.slice_table`); a graded score is a mean. Per slice,
from aggregates (count, sum and sum of squares per GROUPING SET, :func:`analysis.sql.slices.moments_sets_sql`):
the mean with a Student-t interval (:func:`analysis.stats.mean_interval`, the interval the run's headline uses for
graded scores), Welch's t test of the slice against the rest of the run (:func:`analysis.stats.welch_t_test`:
unequal variances, which fits bounded and skewed scores better than a pooled test), and Benjamini-Hochberg
q-values over every slice tested. A finding is a slice whose mean is significantly *lower* than the rest's
(higher scores are better).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.slicing.attributes import decode_groups, prepare_attributes, resolve_attributes
from analysis.slicing.cohorts import cohort_filter
from analysis.slicing.grouping import grouping_counts
from analysis.slicing.params import check_slicing_params, support_count
from analysis.sql import quote_ident
from analysis.sql import slices as Q
from analysis.store import Store

MSG_UNKNOWN_OUTCOME = "Run {run!r} has no numeric score {outcome!r}; outcomes: correct, {known}"
#: The roles of the columns an outcome can name.
SCORE_ROLES = ("score", "scores")


def score_columns(schema) -> dict[str, str]:
    """The numeric scores of a run an outcome can name, with the stored column each name stands for.

    Parameters
    ----------
    schema : RunSchema
        The run (:meth:`analysis.Store.schema`).

    Returns
    -------
    dict of str to str
        Full names (``score``, ``score.f1``) and short names (``f1``) -> the stored column; empty when the run
        has no numeric or boolean score.

    Raises
    ------
    AttributeError
        Only when ``schema`` is not a run's schema (it reads the stored columns from it, nothing else).
    """
    out: dict[str, str] = {}
    for column, role, kind in schema.stored():
        if role in SCORE_ROLES and kind in ("numeric", "boolean"):
            out[column] = column
            if "." in column:
                out.setdefault(column.split(".", 1)[1], column)
    return out


def score_slice_table(store: Store, run: str, outcome: str, by: Sequence[str] | None = None, *, max_order: int = 2,
                      min_support: int | float = 30, confidence: float = 0.95, fdr: float = 0.05, bins: int = 5,
                      edges: dict[str, Sequence[float]] | None = None, where: str | None = None):
    """Every slice of a run by the mean of a stored score, with a t interval, Welch's test against the rest and
    Benjamini-Hochberg q-values.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.
    outcome : str
        A numeric score of the run: ``score``, ``score.<scorer>`` or the scorer's short name (``f1``).
    by : sequence of str, optional
        Attributes, as :func:`analysis.slicing.table.slice_table` takes them.
    max_order : {1, 2, 3}, default 2
        Largest conjunction.
    min_support : int or float, default 30
        Least number of scored examples in a slice to be tested (a count, or a fraction of the scored examples).
    confidence : float, default 0.95
        Coverage of the intervals.
    fdr : float, default 0.05
        False discovery rate of ``finding``.
    bins : int, default 5
        Quantile bins of numeric attributes.
    edges : dict of str to sequence of float, optional
        Bin edges of named numeric attributes.
    where : str, optional
        A cohort (:mod:`analysis.slicing.cohorts`).

    Returns
    -------
    SliceResult
        ``table`` (one row per slice, by evidence): ``predicate``, ``attributes``, ``values``, ``order``,
        ``description``, ``n`` (examples with the score), ``mean``, ``sd`` (in the score's unit), ``ci_low``,
        ``ci_high`` (Student t, cut at the least and greatest score of the run or cohort), ``ci_method`` (``t``, or
        ``t, cut at the run's score range`` where it was cut), ``rest_n``, ``rest_mean``, ``difference`` (slice mean
        minus the rest's, in the score's unit), ``p_value``, ``test`` (``welch``, ``""`` when not tested),
        ``q_value``, ``too_small``, ``redundant``, ``finding`` (tested, q < ``fdr``, a lower mean than the rest,
        not redundant). ``total_n`` counts the scored examples, ``total_errors`` is 0 and ``settings`` has
        ``outcome``, ``overall_mean`` and ``overall_sd``.

    Raises
    ------
    FaultlineError
        An outcome the run does not have as a numeric score (:data:`MSG_UNKNOWN_OUTCOME`), an unknown
        attribute, or no attribute to slice by.
    ParameterError
        A parameter outside its range.
    PredicateError
        A ``where`` that does not fit the run.

    References
    ----------
    Student (1908) for the interval; B. L. Welch (1947) for the test; Y. Benjamini and Y. Hochberg (1995).
    """
    from analysis.slicing.table import SliceResult, redundant_from_codes

    check_slicing_params(max_order, min_support, fdr, bins, confidence)
    schema = store.schema(run)
    info = schema.run
    scores = score_columns(schema)
    if outcome not in scores:
        raise FaultlineError(MSG_UNKNOWN_OUTCOME.format(run=info.name, outcome=outcome,
                                                        known=", ".join(sorted(scores)) or "no score"))
    column = scores[outcome]
    value = quote_ident(column)
    found = cohort_filter(schema, where)
    cohort = None if found is None else found.as_sql
    attrs = resolve_attributes(store, schema, by)
    if not attrs:
        raise FaultlineError(f"Run {info.name!r} has no attribute to slice by")
    prepared = prepare_attributes(store, info.table_name, attrs, bins=bins, edges=edges, cohort=cohort)
    if by is None:
        prepared = [p for p in prepared if not p.constant] or prepared
        attrs = [p.attribute for p in prepared]
    cur = store.cursor()
    total_n, total_sum, total_sumsq, least, greatest = cur.execute(*Q.moments_total_sql(
        info.table_name, value, cohort=cohort)).fetchall()[0]
    total_n, total_sum, total_sumsq = int(total_n), float(total_sum or 0.0), float(total_sumsq or 0.0)
    k = len(prepared)
    sets = [s for order in range(1, min(max_order, k) + 1) for s in itertools.combinations(range(k), order)]
    attr_sql = [p.sql for p in prepared]
    raw = grouping_counts(cur, k, sets, lambda used, local: Q.moments_sets_sql(
        info.table_name, [attr_sql[i] for i in used], local, value, cohort=cohort))
    decoded = decode_groups(raw, prepared)
    n = raw["n"].to_numpy(dtype=np.int64)
    s1 = raw["v_sum"].to_numpy(dtype=float)
    s2 = raw["v_sumsq"].to_numpy(dtype=float)
    rest_n = total_n - n
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        sd = np.sqrt(np.maximum(s2 - n * mean ** 2, 0.0) / (n - 1))
        rest_mean = (total_sum - s1) / rest_n
        rest_sd = np.sqrt(np.maximum((total_sumsq - s2) - rest_n * rest_mean ** 2, 0.0) / (rest_n - 1))
    low, high = _stats.mean_interval(mean, sd, n, confidence=confidence)
    # a mean lies within the scores the run holds: a t interval of a few examples can reach past them (a 0/1
    # score's interval above 1), so it is cut there and says so in ci_method
    bounded = least is not None and greatest is not None
    cut = bounded & ((low < least) | (high > greatest))
    if bounded:
        low, high = np.maximum(low, float(least)), np.minimum(high, float(greatest))
    too_small = n < support_count(min_support, total_n)
    _, p = _stats.welch_t_test(mean, sd, n, rest_mean, rest_sd, rest_n)
    tested = ~too_small & np.isfinite(p)
    p_value = np.where(tested, p, np.nan)
    q_value = np.full(len(n), np.nan)
    if tested.any():
        q_value[tested] = _stats.benjamini_hochberg(p_value[tested])
    difference = mean - rest_mean
    redundant = redundant_from_codes(decoded.codes, n)
    finding = tested & (q_value < fdr) & (difference < 0) & ~redundant
    table = pd.DataFrame({
        "predicate": decoded.predicates, "attributes": decoded.attributes, "values": decoded.values,
        "order": decoded.orders, "description": decoded.descriptions, "n": n, "mean": mean, "sd": sd,
        "ci_low": low, "ci_high": high, "ci_method": np.where(cut, "t, cut at the run's score range", "t"),
        "rest_n": rest_n, "rest_mean": rest_mean,
        "difference": difference, "p_value": p_value, "test": np.where(tested, "welch", ""), "q_value": q_value,
        "too_small": too_small, "redundant": redundant, "finding": finding,
    })
    table["_q"] = table["q_value"].fillna(2.0)
    table = table.sort_values(["_q", "difference", "n", "description"], ascending=[True, True, False, True],
                              kind="stable").drop(columns="_q").reset_index(drop=True)
    overall_mean = total_sum / total_n if total_n else float("nan")
    overall_sd = (float(np.sqrt(max(total_sumsq - total_n * overall_mean ** 2, 0.0) / (total_n - 1)))
                  if total_n > 1 else float("nan"))
    settings = {"attributes": [a.name for a in attrs], "max_order": max_order, "min_support": min_support,
                "confidence": confidence, "fdr": fdr, "bins": bins, "outcome": column,
                "overall_mean": overall_mean, "overall_sd": overall_sd,
                "interval": "Student t on the slice's scores, cut at the least and greatest score the run holds",
                "test": "Welch's t test (unequal variances), slice against the rest, two-sided",
                "multiple_testing": "Benjamini-Hochberg over every slice tested in this analysis"}
    if found is not None:
        settings["where"] = found.text
    return SliceResult(table, info.run_id, attrs, settings, total_n, 0, 0,
                       {p.attribute.name: p.edges for p in prepared if p.edges is not None}, prepared)


__all__ = ["MSG_UNKNOWN_OUTCOME", "score_columns", "score_slice_table"]
