"""Two runs over the same examples: per-slice paired comparison and a regression gate.

Examples are matched by example id (the unmatched are counted and reported). Slices are
defined on the baseline's attributes. Per slice: the paired counts come from SQL
(:func:`analysis.sql.slices.paired_sets_sql`); correctness is compared with McNemar's
exact test on the discordant pairs, with a Wald interval for the paired difference in
error rate; mean scores (when scores are not just 0/1) get a paired t interval of the mean
score difference, from per-slice aggregates the same statement computes (pairs scored in both
runs, exact fixed-point sums of the difference and its square). Benjamini-Hochberg runs across
every slice compared. The verdict per slice (:func:`slice_verdicts`, the one definition):
``regressed`` (candidate significantly more errors), ``improved``, ``not significant`` (tested, no significant change),
or ``not tested`` (too little support, so outside the BH family, or no test possible).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.formatting import format_count, format_q
from analysis.slicing import counts as _counts
from analysis.slicing.attributes import decode_groups, prepare_attribute, resolve_attributes
from analysis.slicing.cohorts import cohort_filter
from analysis.slicing.grouping import grouping_counts
from analysis.slicing.params import check_slicing_params, support_count
from analysis.sql import features as F
from analysis.sql import slices as Q
from analysis.store import Store

MSG_SAME_RUN = "The baseline and the candidate are the same run ({run!r}); choose two different runs"
MSG_NO_MATCH = ("Runs {base!r} and {cand!r} share no example ids; a paired comparison needs the same examples "
                "in both runs")
MSG_MAX_DROP = "Invalid 'max_drop' parameter: expected a number in [0, 1), got {value!r}"
ALL = "(all examples)"
#: How the interval of a mean score difference is computed, said once (the comparison's settings, the report).
SCORE_INTERVAL_METHOD = ("paired t interval of the mean score difference over the pairs scored in both runs, from "
                         "per-slice sums, when scores are not only 0/1")


def paired_difference_interval(b, c, n, *, confidence: float = 0.95):
    """Wald interval for the paired difference in error rate, (b - c) / n, cut at [-1, 1].

    ``b``: pairs right in the baseline and wrong in the candidate; ``c``: the reverse. A difference of two rates
    lies in [-1, 1] (-100 to +100 points); the Wald interval of a small slice with a large difference can pass
    those bounds (e.g. b = 0, c = 13 of n = 14: -0.93 with a lower end of -1.06), so each end is cut at them
    (the comparison's ``settings["interval"]`` says so).

    >>> lo, hi = paired_difference_interval(30, 10, 200)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.0396, 0.1604)
    """
    b, c, n = (np.asarray(x, dtype=float) for x in (b, c, n))
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (b - c) / n
        se = np.sqrt(np.maximum(b + c - (b - c) ** 2 / n, 0.0)) / n
        low, high = np.clip(d - z * se, -1.0, 1.0), np.clip(d + z * se, -1.0, 1.0)
        return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


#: The verdict of a slice that was not tested: fewer pairs than the minimum support (outside the Benjamini-Hochberg
#: family) or no test possible (a graded score with fewer than two pairs or no variation of the difference).
NOT_TESTED = "not tested"
#: The verdict of a tested slice whose change is not significant (q at or above the FDR): no finding either way, and
#: no claim that nothing changed (its interval says how large a change the data allow).
NOT_SIGNIFICANT = "not significant"
#: Every verdict of a comparison row, in the table's order.
VERDICTS = ("regressed", "improved", NOT_SIGNIFICANT, NOT_TESTED)
#: Why a row's verdict is ``not tested``, said once (the page's help text, the CLI, the report).
NOT_TESTED_WHY = ("not tested: fewer pairs than the minimum support (left out of the Benjamini-Hochberg family), or "
                  "no test possible (a graded score with fewer than two pairs or no variation); it is no finding")


def slice_verdicts(too_small, q_value, worse, *, fdr: float) -> np.ndarray:
    """The verdict of each comparison row: the one definition the page, the CLI, the report and the findings read.

    Parameters
    ----------
    too_small : array_like of bool, shape (n,)
        Rows under the minimum support (never tested).
    q_value : array_like of float, shape (n,)
        Benjamini-Hochberg q-values; NaN for a row outside the family (not tested).
    worse : array_like of float, shape (n,)
        The change signed so that > 0 is worse (error rate: candidate minus baseline; a score: baseline minus
        candidate).
    fdr : float
        False discovery rate of the verdicts, in (0, 1).

    Returns
    -------
    numpy.ndarray of str, shape (n,)
        ``regressed`` (tested, q < ``fdr``, worse), ``improved`` (tested, q < ``fdr``, better),
        :data:`NOT_SIGNIFICANT` (tested, no significant change) or :data:`NOT_TESTED` (too small, or no q-value).

    Raises
    ------
    ValueError
        When the three arrays cannot be broadcast to one shape, or ``q_value`` / ``worse`` hold values that are not
        numbers.

    Examples
    --------
    >>> slice_verdicts([False, False, False, True, False], [0.01, 0.01, 0.5, np.nan, np.nan],
    ...                [0.1, -0.1, 0.1, 0.3, 0.0], fdr=0.05).tolist()
    ['regressed', 'improved', 'not significant', 'not tested', 'not tested']
    """
    q = np.asarray(q_value, dtype=float)
    worse = np.asarray(worse, dtype=float)
    tested = ~np.asarray(too_small, dtype=bool) & np.isfinite(q)
    significant = tested & (q < fdr)
    return np.where(~tested, NOT_TESTED, np.where(significant & (worse > 0), "regressed",
                                                  np.where(significant & (worse < 0), "improved", NOT_SIGNIFICANT)))


def _verdict_rank(table: pd.DataFrame) -> pd.Series:
    """The order of a comparison's rows: regressions, then improvements (the findings), then the slices with no significant change, and
    last the slices not tested."""
    return table["verdict"].map({v: i for i, v in enumerate(VERDICTS)})


@dataclass
class Comparison:
    """The paired comparison of two runs, one row per slice."""

    table: pd.DataFrame
    baseline: str
    candidate: str
    matched: int
    only_baseline: int
    only_candidate: int
    settings: dict = field(default_factory=dict)

    def overall(self) -> pd.Series:
        return self.table[self.table["description"] == ALL].iloc[0]

    def to_records(self) -> list[dict]:
        cols = ["predicate", "n", "base_error_rate", "cand_error_rate", "difference", "ci_low", "ci_high", "b", "c",
                "p_value", "q_value", "verdict", "too_small", "score_difference", "score_ci_low", "score_ci_high"]
        out = []
        for row in self.table[cols].to_dict("records"):
            row["predicate"] = [{"attribute": k, "value": v} for k, v in row["predicate"].items()]
            out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                            (v.item() if isinstance(v, np.generic) else v)) for k, v in row.items()})
        return out


def compare_runs(store: Store, baseline: str, candidate: str, by: Sequence[str] | None = None, *,
                 max_order: int = 1, min_support: int | float = 30, confidence: float = 0.95, fdr: float = 0.05,
                 bins: int = 5, where: str | None = None) -> Comparison:
    """Compare a candidate run with a baseline, slice by slice, on the examples they share.

    Examples are paired on example id (a pair with an unscorable side is left out of the
    per-slice counts); slices are defined on the baseline's attributes. Per slice: McNemar's exact test on the discordant pairs, a Wald
    interval of the paired difference in error rate, and (graded scores only) a paired t interval
    of the mean score difference from the slice's aggregates; Benjamini-Hochberg over every slice.

    Parameters
    ----------
    store : Store
        The store holding both runs.
    baseline, candidate : str
        Run names or ids (two different runs).
    by : sequence of str, optional
        Attribute names of the baseline; default its default attributes without those that
        hold a single value.
    max_order : {1, 2, 3}, default 1
        Largest number of attributes in a conjunction.
    min_support : int or float, default 30
        Least slice size (in scorable pairs) to be tested: a count of examples, or a fraction
        in (0, 1) of the matched example ids.
    confidence : float, default 0.95
        Coverage of the intervals, in (0, 1).
    fdr : float, default 0.05
        False discovery rate of the verdicts, in (0, 1).
    bins : int, default 5
        Quantile bins of numeric attributes (2 to 20).
    where : str, optional
        A cohort (:mod:`analysis.slicing.cohorts`), read on the baseline's fields: only the
        pairs whose baseline example is in it are compared (``matched`` counts them).

    Returns
    -------
    Comparison
        ``baseline``, ``candidate`` (run ids), ``matched``, ``only_baseline``,
        ``only_candidate`` (counts of example ids), ``settings``, and ``table``: one row per
        slice plus one for the whole run (``description`` ``"(all examples)"``), regressions
        first, then improvements, slices with no significant change, slices not tested (:func:`_verdict_rank`), each by
        difference: ``predicate``, ``attributes``, ``values``, ``description``, ``n``
        (matched pairs), ``base_errors``, ``cand_errors``, ``b`` (right in the baseline, wrong
        in the candidate), ``c`` (the reverse), ``base_error_rate``, ``cand_error_rate``
        (fractions in [0, 1]), ``difference`` (candidate minus baseline error rate, a
        difference of fractions: x 100 for percentage points; > 0 is worse), ``ci_low``,
        ``ci_high`` (Wald interval of that difference, same unit), ``p_value`` (McNemar
        exact, two-sided), ``q_value``, ``too_small``, ``verdict`` (:func:`slice_verdicts`: ``regressed``,
        ``improved``, ``not significant``, ``not tested``), ``base_mean_score``, ``cand_mean_score``,
        ``score_difference`` (candidate minus baseline, in the score's unit),
        ``score_ci_low``, ``score_ci_high`` (paired t interval of the mean score difference over
        the pairs scored in both runs, in the score's unit, for every slice with two or more such
        pairs when scores are graded; NaN otherwise).

    Raises
    ------
    ParameterError
        A ``max_order``, ``min_support``, ``fdr``, ``bins`` or ``confidence`` outside its range.
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        The same run twice (:data:`MSG_SAME_RUN`), runs that share no example id
        (:data:`MSG_NO_MATCH`), an attribute the baseline does not have.

    References
    ----------
    .. [1] Q. McNemar, "Note on the sampling error of the difference between correlated
       proportions or percentages", Psychometrika 12 (1947).
    .. [2] Y. Benjamini and Y. Hochberg, "Controlling the false discovery rate", JRSS B 57
       (1995).
    .. [3] Student, "The probable error of a mean", Biometrika 6 (1908): the paired t interval
       of a mean difference (:func:`analysis.stats.paired_mean_difference_from_sums`).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/c.duckdb")
    >>> ids = [f"e{i}" for i in range(400)]
    >>> lang = ["en"] * 200 + ["sw"] * 200
    >>> _ = s.ingest_frame(pd.DataFrame({"id": ids, "prompt": ids, "lang": lang, "correct": [True] * 400}), name="v1")
    >>> _ = s.ingest_frame(pd.DataFrame({"id": ids, "prompt": ids, "lang": lang,
    ...                                  "correct": [True] * 200 + [False] * 60 + [True] * 140}), name="v2")
    >>> c = compare_runs(s, "v1", "v2", ["lang"])
    >>> c.table[["description", "verdict"]].head(2).to_dict("records")
    [{'description': 'lang = sw', 'verdict': 'regressed'}, {'description': '(all examples)', 'verdict': 'regressed'}]
    """
    check_slicing_params(max_order, min_support, fdr, bins, confidence)
    base = store.run(baseline)
    cand = store.run(candidate)
    if base.run_id == cand.run_id:
        raise FaultlineError(MSG_SAME_RUN.format(run=base.name))
    found = cohort_filter(store.schema(base.run_id), where)
    cohort = None if found is None else found.as_sql
    cur = store.cursor()
    if cohort is None:  # kept per data version (a join of both runs)
        matched, only_base, only_cand = _counts.matching(store, base.table_name, cand.table_name)
    else:
        matched, only_base, only_cand = cur.execute(
            *Q.cohort_matching_sql(base.table_name, cand.table_name, cohort)).fetchall()[0]
    if matched == 0:
        raise FaultlineError(MSG_NO_MATCH.format(base=base.name, cand=cand.name))
    attrs = resolve_attributes(store, base.run_id, by)
    if cohort is None:  # one profile statement for the attributes not profiled before (kept per data version)
        kept = _counts.store_cache(store)
        prepared = _counts.prepared_attributes(store, base.table_name, attrs, bins=bins, edges=None, cache=kept)
    else:  # a cohort's bins are its own: computed for it, not kept
        prepared = [prepare_attribute(store, base.table_name, a, bins=bins, edges=None, cohort=cohort) for a in attrs]
    prepared = [p for p in prepared if not p.constant]  # as slice_table: one value (in the cohort), nothing to compare
    k = len(prepared)
    sets = [()] + [s for order in range(1, min(max_order, k) + 1) for s in itertools.combinations(range(k), order)]
    attr_sql = [p.sql for p in prepared]
    raw = None
    # graded scores need the score-difference sums of the grouping statement (the in-memory counter has none)
    graded = any(bool(cur.execute(F.graded_sql(t)).fetchall()[0][0]) for t in (base.table_name, cand.table_name))
    if cohort is None and not graded and max(base.row_count, cand.row_count) <= _counts.IN_MEMORY_MAX_ROWS:
        counter = _counts.paired_counter(store, base.table_name, cand.table_name, prepared, cache=kept)
        if counter is not None:  # in memory from the baseline's kept attribute codes
            with contextlib.suppress(_counts.NeedsSQL):  # else a GROUPING SETS statement
                raw = counter(sets)
    if raw is None:
        raw = grouping_counts(cur, k, sets, lambda used, local: Q.paired_sets_sql(
            base.table_name, cand.table_name, [attr_sql[i] for i in used], local, cohort=cohort))
    table = _post_process(raw, prepared, min_support=support_count(min_support, int(matched)), confidence=confidence,
                          fdr=fdr, graded=graded)
    settings = {"attributes": [p.attribute.name for p in prepared], "max_order": max_order,
                "min_support": min_support, "confidence": confidence, "fdr": fdr, "bins": bins,
                "test": "McNemar exact (two-sided) on discordant pairs",
                "interval": "Wald interval of the paired difference in error rate, cut at -100 and +100 points",
                "scores": SCORE_INTERVAL_METHOD if graded else "no interval of the mean score difference (scores "
                "are only correctness)",
                "multiple_testing": "Benjamini-Hochberg over every slice compared"}
    if found is not None:
        settings["where"] = found.text
    return Comparison(table, base.run_id, cand.run_id, int(matched), int(only_base), int(only_cand), settings)


def _post_process(raw: pd.DataFrame, prepared, *, min_support: int, confidence: float, fdr: float,
                  graded: bool = False) -> pd.DataFrame:
    decoded = decode_groups(raw, prepared, empty=ALL)
    predicates, attributes, values = decoded.predicates, decoded.attributes, decoded.values
    descriptions = decoded.descriptions
    n = raw["n"].to_numpy(dtype=np.int64)
    b = raw["b"].to_numpy(dtype=np.int64)
    c = raw["c"].to_numpy(dtype=np.int64)
    base_e = raw["base_errors"].to_numpy(dtype=np.int64)
    cand_e = raw["cand_errors"].to_numpy(dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        base_rate = base_e / n
        cand_rate = cand_e / n
        # exact sums in units of 1e-15 (analysis.sql.features.score_units)
        base_score = raw["base_score_sum"].to_numpy(dtype=float) / F.SCORE_SCALE / raw["base_score_n"].to_numpy(dtype=float)
        cand_score = raw["cand_score_sum"].to_numpy(dtype=float) / F.SCORE_SCALE / raw["cand_score_n"].to_numpy(dtype=float)
    low, high = paired_difference_interval(b, c, n, confidence=confidence)
    too_small = n < min_support
    p = np.where(too_small, np.nan, _stats.mcnemar_exact(b, c))
    q = _stats.benjamini_hochberg(p)
    diff = cand_rate - base_rate
    verdict = slice_verdicts(too_small, q, diff, fdr=fdr)
    table = pd.DataFrame({
        "predicate": predicates, "attributes": attributes, "values": values,
        "description": descriptions,
        "n": n, "base_errors": base_e, "cand_errors": cand_e, "b": b, "c": c,
        "base_error_rate": base_rate, "cand_error_rate": cand_rate, "difference": diff, "ci_low": low, "ci_high": high,
        "p_value": p, "q_value": q, "too_small": too_small, "verdict": verdict,
        "base_mean_score": base_score, "cand_mean_score": cand_score, "score_difference": cand_score - base_score,
        "score_ci_low": np.nan, "score_ci_high": np.nan,
    })
    if graded:
        table["score_ci_low"], table["score_ci_high"] = _score_interval(raw, confidence=confidence)
    table = table.assign(_rank=_verdict_rank(table), _q=table["q_value"].fillna(2.0))
    table = table.sort_values(["_rank", "difference", "_q", "description"], ascending=[True, False, True, True],
                              kind="stable")
    return table.drop(columns=["_rank", "_q"]).reset_index(drop=True)


def _score_interval(raw: pd.DataFrame, *, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Paired t interval of the mean score difference per row of the grouping statement's result, from its
    aggregates (``d_n``, ``d_sum``, ``d_sq``: :func:`analysis.sql.slices.paired_sets_sql`)."""
    _, low, high, _ = _stats.paired_mean_difference_from_sums(raw["d_n"].to_numpy(), raw["d_sum"].to_numpy(),
                                                              raw["d_sq"].to_numpy(), scale=F.SCORE_SCALE,
                                                              confidence=confidence)
    return low, high


MSG_NO_SCORE = ("Outcome {outcome!r} is not a numeric score of both runs ({base!r}: {base_known}; {cand!r}: "
                "{cand_known})")


def paired_score_column(store: Store, base, cand, outcome: str) -> str:
    """The stored column of the graded outcome ``outcome`` in both runs (``base``, ``cand``: :class:`RunInfo` of
    :meth:`Store.run`); raises :class:`FaultlineError` (:data:`MSG_NO_SCORE`) when it is not a numeric score of
    both, or names different columns in them."""
    from analysis.slicing.outcome import score_columns

    base_scores, cand_scores = score_columns(store.schema(base.run_id)), score_columns(store.schema(cand.run_id))
    column = base_scores.get(outcome)
    if column is None or cand_scores.get(outcome) != column:
        raise FaultlineError(MSG_NO_SCORE.format(outcome=outcome, base=base.name, cand=cand.name,
                                                 base_known=", ".join(sorted(set(base_scores.values()))) or "none",
                                                 cand_known=", ".join(sorted(set(cand_scores.values()))) or "none"))
    return column


def shared_scores(store: Store, baseline: str, candidate: str) -> list[str]:
    """The graded outcomes two runs can be compared on: the numeric scores (``score``, ``score.f1``) both have.

    Parameters
    ----------
    store : Store
        The store holding both runs.
    baseline, candidate : str
        Run names or ids.

    Returns
    -------
    list of str
        Full score names both runs store as numbers, sorted; empty when they share none.

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    """
    from analysis.slicing.outcome import score_columns

    base, cand = score_columns(store.schema(baseline)), score_columns(store.schema(candidate))
    return sorted(name for name in set(base.values()) & set(cand.values()))


def compare_scores(store: Store, baseline: str, candidate: str, outcome: str, by: Sequence[str] | None = None, *,
                   max_order: int = 1, min_support: int | float = 30, confidence: float = 0.95, fdr: float = 0.05,
                   bins: int = 5, where: str | None = None) -> Comparison:
    """Compare a candidate with a baseline on a graded outcome (a stored score), slice by slice, paired on example id.

    Per slice (on the baseline's attributes, as :func:`compare_runs` defines them): the mean score of each run over
    the pairs where both have the score, the mean paired difference with a Student-t interval, and the paired t test
    (:func:`analysis.stats.paired_mean_difference`, equal to ``scipy.stats.ttest_rel``); Benjamini-Hochberg over
    every slice tested. Higher scores are better: a slice ``regressed`` when the candidate's mean is significantly
    lower.

    Parameters
    ----------
    store : Store
        The store holding both runs.
    baseline, candidate : str
        Run names or ids (two different runs).
    outcome : str
        A numeric score both runs store (:func:`shared_scores`: ``score``, ``score.f1``...).
    by : sequence of str, optional
        Attribute names of the baseline; default its default attributes without those holding a single value.
    max_order : {1, 2, 3}, default 1
        Largest number of attributes in a conjunction.
    min_support : int or float, default 30
        Least number of pairs with both scores to be tested (a count, or a fraction of those pairs).
    confidence : float, default 0.95
        Coverage of the intervals.
    fdr : float, default 0.05
        False discovery rate of the verdicts.
    bins : int, default 5
        Quantile bins of numeric attributes.
    where : str, optional
        A cohort read on the baseline's fields.

    Returns
    -------
    Comparison
        ``matched`` counts the pairs with both scores; ``table``: one row per slice plus ``"(all examples)"``,
        regressions first, then improvements, not significant, not tested, each by difference: ``predicate``,
        ``attributes``, ``values``, ``description``, ``n`` (pairs), ``base_mean``, ``cand_mean`` (the score's unit), ``difference`` (candidate minus baseline mean, the
        score's unit; < 0 is worse), ``ci_low``, ``ci_high`` (Student t interval of the paired difference),
        ``p_value`` (paired t, two-sided), ``q_value``, ``too_small``, ``verdict`` (:func:`slice_verdicts`:
        ``regressed``, ``improved``, ``not significant``, ``not tested``). ``settings`` has ``outcome``.

    Raises
    ------
    ParameterError
        A parameter outside its range.
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        The same run twice (:data:`MSG_SAME_RUN`), an outcome that is not a numeric score of both runs
        (:data:`MSG_NO_SCORE`), no pair with both scores (:data:`MSG_NO_MATCH`), an unknown attribute.
    PredicateError
        A ``where`` that does not fit the baseline.

    References
    ----------
    Student (1908), the paired t test; Y. Benjamini and Y. Hochberg (1995).
    """
    check_slicing_params(max_order, min_support, fdr, bins, confidence)
    base, cand = store.run(baseline), store.run(candidate)
    if base.run_id == cand.run_id:
        raise FaultlineError(MSG_SAME_RUN.format(run=base.name))
    column = paired_score_column(store, base, cand, outcome)
    found = cohort_filter(store.schema(base.run_id), where)
    cohort = None if found is None else found.as_sql
    attrs = resolve_attributes(store, base.run_id, by)
    if cohort is None:  # the attributes' profile kept per data version, as compare_runs reads it
        prepared = _counts.prepared_attributes(store, base.table_name, attrs, bins=bins, edges=None,
                                               cache=_counts.store_cache(store))
    else:  # a cohort's bins are its own
        prepared = [prepare_attribute(store, base.table_name, a, bins=bins, edges=None, cohort=cohort) for a in attrs]
    prepared = [p for p in prepared if not p.constant]  # as slice_table: one value (in the cohort), nothing to compare
    k = len(prepared)
    sql, params = Q.paired_values_sql(base.table_name, cand.table_name, [p.sql for p in prepared], cohort=cohort,
                                      score=column)
    values = store.cursor().execute(sql, params).df()
    values = values[values["bs"].notna() & values["cs"].notna()].reset_index(drop=True)
    if values.empty:
        raise FaultlineError(MSG_NO_MATCH.format(base=base.name, cand=cand.name))
    diffs = (values["cs"].astype(float) - values["bs"].astype(float)).to_numpy()
    bs, cs = values["bs"].to_numpy(dtype=float), values["cs"].to_numpy(dtype=float)
    sets = [()] + [s for order in range(1, min(max_order, k) + 1) for s in itertools.combinations(range(k), order)]
    attr_codes = [pd.factorize(values[f"a{i}"], use_na_sentinel=False) for i in range(k)]
    rows, stats = [], []
    for used in sets:
        key = np.zeros(len(values), dtype=np.int64)
        for i in used:  # the set's cells as one integer per pair
            key = key * max(len(attr_codes[i][1]), 1) + attr_codes[i][0]
        codes, uniques = pd.factorize(key)
        n, mean, low, high, p = _stats.paired_mean_difference(diffs, codes, len(uniques), confidence=confidence)
        with np.errstate(invalid="ignore", divide="ignore"):
            counts = np.bincount(codes, minlength=len(uniques))
            base_mean = np.bincount(codes, weights=bs, minlength=len(uniques)) / counts
            cand_mean = np.bincount(codes, weights=cs, minlength=len(uniques)) / counts
        first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
        gid = sum(1 << (k - 1 - i) for i in range(k) if i not in used)
        for g in range(len(uniques)):
            row = [values[f"a{i}"].iloc[first[g]] if i in used else None for i in range(k)]
            rows.append([*row, gid])
            stats.append((n[g], base_mean[g], cand_mean[g], mean[g], low[g], high[g], p[g]))
    raw = pd.DataFrame(rows, columns=[f"a{i}" for i in range(k)] + ["gid"])
    decoded = decode_groups(raw, prepared, empty=ALL)
    n, base_mean, cand_mean, diff, low, high, p = (np.array(c, dtype=float) for c in zip(*stats))
    too_small = n < support_count(min_support, len(values))
    p = np.where(too_small, np.nan, p)
    q = _stats.benjamini_hochberg(p)
    verdict = slice_verdicts(too_small, q, -diff, fdr=fdr)  # a lower mean score is worse
    table = pd.DataFrame({"predicate": decoded.predicates, "attributes": decoded.attributes,
                          "values": decoded.values, "description": decoded.descriptions, "n": n.astype(np.int64),
                          "base_mean": base_mean, "cand_mean": cand_mean, "difference": diff, "ci_low": low,
                          "ci_high": high, "p_value": p, "q_value": q, "too_small": too_small, "verdict": verdict})
    table = table.assign(_rank=_verdict_rank(table), _q=table["q_value"].fillna(2.0)).sort_values(
        ["_rank", "difference", "_q", "description"], ascending=[True, True, True, True], kind="stable")
    table = table.drop(columns=["_rank", "_q"]).reset_index(drop=True)
    settings = {"attributes": [p.attribute.name for p in prepared], "max_order": max_order, "outcome": column,
                "min_support": min_support, "confidence": confidence, "fdr": fdr, "bins": bins,
                "test": "paired t test (two-sided) of the mean score difference",
                "interval": "Student t interval of the mean paired difference",
                "multiple_testing": "Benjamini-Hochberg over every slice compared"}
    if found is not None:
        settings["where"] = found.text
    only_base = only_cand = 0
    return Comparison(table, base.run_id, cand.run_id, len(values), only_base, only_cand, settings)


#: What the gate measures and which way is bad, said once for every output of the gate.
METRIC_DIRECTION = ("Metric: accuracy (the share of matched examples correct); higher is better, so a drop in the "
                    "candidate is bad. Differences are in percentage points; the error rate (1 - accuracy) is "
                    "lower-is-better.")


def describe_change(row) -> str:
    """A slice's change from baseline to candidate, in accuracy and points, with its evidence.

    ``row`` has ``base_error_rate``, ``cand_error_rate``, ``difference`` (candidate minus baseline error rate:
    the drop in accuracy, a fraction), ``ci_low``, ``ci_high``, ``n`` and ``q_value`` (a row of
    :attr:`Comparison.table`). A drop is written as a positive "drop", a gain as a "rise" with its interval
    turned round, so the numbers always read in the direction the word says.

    >>> describe_change(pd.Series({"base_error_rate": 0.183, "cand_error_rate": 0.309, "difference": 0.126,
    ...                            "ci_low": 0.118, "ci_high": 0.134, "n": 20000, "q_value": 0.0}))
    'accuracy 81.7% -> 69.1% (drop 12.6 points, 95% CI 11.8 to 13.4 points; n=20,000, q=<1e-300)'
    >>> describe_change(pd.Series({"base_error_rate": 0.309, "cand_error_rate": 0.183, "difference": -0.126,
    ...                            "ci_low": -0.134, "ci_high": -0.118, "n": 20000, "q_value": 1e-5}))
    'accuracy 69.1% -> 81.7% (rise 12.6 points, 95% CI 11.8 to 13.4 points; n=20,000, q=1e-05)'
    """
    base, cand = 1 - float(row["base_error_rate"]), 1 - float(row["cand_error_rate"])
    drop, low, high = (float(row[k]) * 100 for k in ("difference", "ci_low", "ci_high"))
    word = "drop" if drop >= 0 else "rise"
    if drop < 0:
        drop, low, high = -drop, -high, -low
    return (f"accuracy {base:.1%} -> {cand:.1%} ({word} {drop:.1f} points, 95% CI {low:.1f} to {high:.1f} points; "
            f"n={int(row['n']):,}, q={format_q(row['q_value'])})")


@dataclass
class GateResult:
    """The verdict of a regression gate: which slices break it."""

    passed: bool
    breaking: pd.DataFrame
    max_drop: float
    alpha: float
    comparison: Comparison
    breaks: np.ndarray | None = None
    """Per row of ``comparison.table``: whether it breaks the gate (the rows of ``breaking``)."""

    @property
    def tested(self) -> pd.DataFrame:
        """The rows of ``comparison.table`` that were tested (large enough), with a ``breaks`` column."""
        t = self.comparison.table
        breaks = self.breaks if self.breaks is not None else np.zeros(len(t), dtype=bool)
        return t.assign(breaks=breaks)[~t["too_small"].to_numpy(dtype=bool)]

    def headline(self) -> str:
        """``Gate FAILED: 12 of 85 tested slices drop accuracy by more than 2.0 points ...`` (one line)."""
        return (f"Gate {'PASSED' if self.passed else 'FAILED'}: {len(self.breaking):,} of {len(self.tested):,} "
                f"tested slices drop accuracy by more than {self.max_drop * 100:.1f} points with a "
                f"Benjamini-Hochberg q-value below {self.alpha:g} ({self.comparison.matched:,} matched examples)")

    def summary(self) -> str:
        """The verdict, the metric and its bad direction, the overall change first, then each breaking slice."""
        lines = [self.headline(), METRIC_DIRECTION]
        t = self.comparison.table
        overall = t[t["description"] == ALL]
        if not overall.empty:
            row = overall.iloc[0]
            lines.append(f"Overall: {describe_change(row)}")
            if not self.passed and row["difference"] < 0:
                lines.append(f"The candidate is better overall, yet {format_count(len(self.breaking), 'slice')} got worse beyond "
                             "the allowed drop:")
        for row in self.breaking.to_dict("records"):
            lines.append(f"  BREAKS  {row['description']}: {describe_change(row)}")
        return "\n".join(lines)


def gate(comparison: Comparison, *, max_drop: float = 0.02, alpha: float = 0.05) -> GateResult:
    """Slices whose accuracy dropped by more than ``max_drop`` with a BH q-value below ``alpha``.

    A slice breaks the gate when the candidate's error rate exceeds the baseline's by more
    than ``max_drop`` and the drop is significant; too-small slices never break it.

    Parameters
    ----------
    comparison : Comparison
        The result of :func:`compare_runs`.
    max_drop : float, default 0.02
        Largest allowed rise in error rate (drop in accuracy), a fraction in [0, 1):
        0.02 is 2 percentage points.
    alpha : float, default 0.05
        Significance level the slice's Benjamini-Hochberg q-value must be below (the q-values
        of ``comparison``, McNemar exact tests).

    Returns
    -------
    GateResult
        ``passed`` (no slice breaks the gate), ``breaking`` (the rows of ``comparison.table``
        that break it, same columns), ``max_drop`` (fraction), ``alpha``, ``comparison``;
        ``summary()`` gives the text the CLI prints (exit code 1 when it failed).

    Raises
    ------
    FaultlineError
        A ``max_drop`` that is not a number in [0, 1) (:data:`MSG_MAX_DROP`).

    References
    ----------
    McNemar (1947) and Benjamini-Hochberg (1995), through :func:`compare_runs`.

    Examples
    --------
    >>> table = pd.DataFrame({"description": ["(all examples)", "lang = sw"], "too_small": [False, False],
    ...                       "q_value": [0.01, 0.001], "difference": [0.01, 0.15]})
    >>> result = gate(Comparison(table, "v1", "v2", 400, 0, 0), max_drop=0.02)
    >>> result.passed, result.breaking["description"].tolist()
    (False, ['lang = sw'])
    """
    if isinstance(max_drop, bool) or not isinstance(max_drop, (int, float)) or not 0 <= max_drop < 1:
        raise FaultlineError(MSG_MAX_DROP.format(value=max_drop))
    t = comparison.table
    breaks = ((~t["too_small"]) & (t["q_value"] < alpha) & (t["difference"] > max_drop)).to_numpy(dtype=bool)
    breaking = t[breaks]
    return GateResult(breaking.empty, breaking.reset_index(drop=True), float(max_drop), float(alpha), comparison,
                      breaks)


def comparable_pair(store: Store, run_ids: Sequence[str] | None = None) -> tuple[str, str] | None:
    """The pair of runs a comparison starts from: two runs that share example ids.

    Runs are taken in the order given (default: the store's listing, oldest first); the first
    candidate (from the second run on) that shares an example id with an earlier run is paired
    with the nearest such earlier run, so a run and its re-evaluation, loaded one after the other,
    are the default baseline and candidate.

    Parameters
    ----------
    store : Store
        The store holding the runs.
    run_ids : sequence of str, optional
        Run ids in the order to consider them; default every run, in listing order.

    Returns
    -------
    tuple of (str, str) or None
        ``(baseline, candidate)`` run ids, the baseline the earlier; None when no two runs share
        an example id.

    Raises
    ------
    RunNotFoundError
        A run id the store does not hold.
    """
    ids = list(store.runs()["run_id"]) if run_ids is None else list(run_ids)
    tables = [store.run(r).table_name for r in ids]
    cur = store.cursor()
    for j in range(1, len(ids)):
        for i in range(j - 1, -1, -1):
            if cur.execute(Q.shares_examples_sql(tables[i], tables[j])).fetchall()[0][0]:
                return ids[i], ids[j]
    return None
