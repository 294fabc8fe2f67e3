"""Stratified slicing: which slices of a run are really worse, with intervals and FDR control.

Counts per slice come from one GROUPING SETS query (see :mod:`analysis.sql.slices`);
this module turns them into error rates, intervals (Wilson, or Clopper-Pearson for small
counts, the method stated per row), a test against the rest of the run (Fisher exact for
small expected counts, two-proportion z otherwise) and Benjamini-Hochberg q-values across
every slice tested in one analysis. Slices below the minimum support are reported as too
small, never as findings, and are not tested.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.slicing import counts as _counts
from analysis.slicing.attributes import (
    Attribute,
    PreparedAttribute,
    decode_groups,
    label_to_raw,
    prepare_attributes,
    resolve_attributes,
)
from analysis.slicing.cohorts import cohort_filter
from analysis.slicing.grouping import BATCH_ATTRIBUTES, grouping_counts
from analysis.slicing.params import check_slicing_params, support_count
from analysis.sql import features as F
from analysis.sql import slices as Q
from analysis.store import Store


@dataclass
class SliceResult:
    """A slice table with the settings and totals it was computed with."""

    table: pd.DataFrame
    """One row per slice (see :func:`slice_table` for the columns)."""
    run_id: str
    attributes: list[Attribute]
    settings: dict
    total_n: int
    total_errors: int
    unscorable: int
    edges: dict[str, list[float]] = field(default_factory=dict)
    prepared: list[PreparedAttribute] = field(default_factory=list, repr=False)
    """How each attribute was sliced (its SQL and bins), to select a slice's examples without reading the run again."""

    @property
    def overall_error_rate(self) -> float:
        return self.total_errors / self.total_n if self.total_n else float("nan")

    @property
    def q_family_size(self) -> int:
        """The slices the q-values were adjusted over (Benjamini-Hochberg): every slice tested, the rows that hold
        exactly the examples of a shorter slice among them; a row too small to test is not in the family."""
        return _stats.bh_family_size(self.table["q_value"])

    def findings(self) -> pd.DataFrame:
        """Slices significantly worse than the rest of the run (q below the FDR level)."""
        return self.table.loc[self.table["finding"].astype(bool)]

    def to_records(self) -> list[dict]:
        """JSON-ready rows (predicate as attribute/value pairs)."""
        cols = ["predicate", "order", "n", "errors", "error_rate", "ci_low", "ci_high", "ci_method", "mean_score",
                "rest_error_rate", "difference", "p_value", "test", "q_value", "too_small", "finding"]
        out = []
        for row in self.table[cols].to_dict("records"):
            row["predicate"] = [{"attribute": k, "value": v} for k, v in row["predicate"].items()]
            out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()})
        return out


def slice_table(store: Store, run: str, by: Sequence[str] | None = None, *, max_order: int = 2,
                min_support: int | float = 30, confidence: float = 0.95, fdr: float = 0.05, bins: int = 5,
                edges: dict[str, Sequence[float]] | None = None, where: str | None = None,
                outcome: str = "correct") -> SliceResult:
    """Every slice of a run over the given attributes, alone and in conjunctions up to ``max_order``.

    Per slice: the error rate with an interval, a two-sided test against the rest of the run,
    and a Benjamini-Hochberg q-value over every slice tested in this analysis (one definition,
    :func:`analysis.stats.slice_vs_rest`). Unscorable examples are left out of every count.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str or RunSchema
        Run name or id (or its schema).
    by : sequence of str, optional
        Attribute names (``language`` or ``meta.language``, derived features such as
        ``input_length``). Default: :func:`~analysis.slicing.attributes.default_attributes`,
        without those that hold a single value.
    max_order : {1, 2, 3}, default 2
        Largest number of attributes in a conjunction.
    min_support : int or float, default 30
        Least slice size to be tested: a count of examples (an integer >= 1) or a fraction
        of the run's scorable examples (a number in (0, 1)). Smaller slices are reported as
        ``too_small`` and never tested.
    confidence : float, default 0.95
        Coverage of the error-rate intervals, in (0, 1).
    fdr : float, default 0.05
        False discovery rate for ``finding``, in (0, 1).
    bins : int, default 5
        Quantile bins for numeric attributes with more than 12 distinct values (2 to 20).
    edges : dict of str to sequence of float, optional
        Bin edges to use for named numeric attributes instead of quantiles.
    where : str, optional
        A cohort: a condition in the rule language (``language = "sw" and not is_refusal``,
        :mod:`analysis.slicing.cohorts`). Everything (bins, totals, rates, tests, q-values) is
        computed over the cohort's examples only, as if the run held nothing else.
    outcome : str, default "correct"
        ``"correct"``: error rates (proportions), as described here. Any numeric score of the run
        (``score``, ``score.f1``, or its short name ``f1``): the mean score per slice with a t
        interval and Welch's test against the rest, lower is worse
        (:func:`analysis.slicing.outcome.score_slice_table`, whose table has ``mean``, ``sd``,
        ``rest_mean`` instead of the error-rate columns).

    Returns
    -------
    SliceResult
        ``.table`` has one row per slice (shape ``(n_slices, 22)``), sorted by evidence
        (q-value, then difference, then size): ``predicate`` (dict attribute -> value
        label), ``attributes``, ``values`` (raw values, for selecting examples), ``order``,
        ``description``, ``n``, ``errors`` (counts), ``error_rate``, ``ci_low``, ``ci_high``
        (fractions in [0, 1]), ``ci_method`` (``wilson`` / ``clopper-pearson``),
        ``mean_score`` (mean score, the accuracy when scores are only 0/1), ``rest_n``,
        ``rest_errors``, ``rest_error_rate`` (fraction), ``difference`` (slice minus rest
        error rate, a difference of fractions in [-1, 1]: x 100 for percentage points),
        ``p_value``, ``test`` (``fisher`` / ``z``, ``""`` when not tested), ``q_value``
        (NaN when not tested), ``too_small``, ``redundant`` (a conjunction holding exactly
        the examples of one of its parts), ``finding`` (tested, q < ``fdr``, worse than the
        rest, not redundant). Also ``total_n``, ``total_errors``, ``unscorable`` (counts),
        ``overall_error_rate`` (fraction), ``settings``, ``edges`` and ``prepared``.

    Raises
    ------
    ParameterError
        A ``max_order``, ``min_support``, ``fdr``, ``bins`` or ``confidence`` outside its range
        (:data:`~analysis.slicing.params.MSG_ORDER`, ``MSG_MIN_SUPPORT``, ``MSG_FDR``,
        ``MSG_BINS``); a :class:`FaultlineError` and a ``ValueError``.
    ValueError
        A ``confidence`` outside (0, 1) (:data:`analysis.stats._checks.MSG_CONFIDENCE`).
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        An attribute the run does not have (:data:`~analysis.slicing.attributes.MSG_UNKNOWN_ATTRIBUTE`),
        or a run with no attribute to slice by.
    PredicateError
        A ``where`` that cannot be read or does not fit the run (position and field named).

    References
    ----------
    .. [1] E. B. Wilson, "Probable inference, the law of succession, and statistical
       inference", JASA 22 (1927).
    .. [2] C. J. Clopper and E. S. Pearson, "The use of confidence or fiducial limits
       illustrated in the case of the binomial", Biometrika 26 (1934).
    .. [3] R. A. Fisher, exact test of a 2 x 2 table (Statistical Methods for Research
       Workers, 1925); the pooled two-proportion z test otherwise.
    .. [4] Y. Benjamini and Y. Hochberg, "Controlling the false discovery rate", JRSS B 57
       (1995).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/d.duckdb")
    >>> df = pd.DataFrame({"prompt": ["q"] * 200, "lang": ["en"] * 100 + ["sw"] * 100,
    ...                    "correct": [True] * 90 + [False] * 10 + [True] * 50 + [False] * 50})
    >>> _ = s.ingest_frame(df, name="demo")
    >>> r = slice_table(s, "demo", ["lang"], min_support=10)
    >>> r.table[["predicate", "n", "error_rate", "finding"]].head(2).to_dict("records")
    [{'predicate': {'lang': 'sw'}, 'n': 100, 'error_rate': 0.5, 'finding': True}, {'predicate': {'lang': 'en'}, 'n': 100, 'error_rate': 0.1, 'finding': False}]
    """
    if outcome != "correct":
        from analysis.slicing.outcome import score_slice_table

        return score_slice_table(store, run, outcome, by, max_order=max_order, min_support=min_support,
                                 confidence=confidence, fdr=fdr, bins=bins, edges=edges, where=where)
    check_slicing_params(max_order, min_support, fdr, bins, confidence)
    schema = store.schema(run)
    info = schema.run
    found = cohort_filter(schema, where)
    cohort = None if found is None else found.as_sql
    attrs = attrs_default = resolve_attributes(store, schema, by)
    if not attrs:
        left_out = attrs.left_out_line() if by is None and hasattr(attrs, "left_out_line") else ""
        raise FaultlineError(f"Run {info.name!r} has no attribute to slice by" + (f". {left_out}" if left_out else ""))
    if cohort is None:
        kept = _counts.store_cache(store)  # counts and profiles kept for this store at its data version
        prepared = _counts.prepared_attributes(store, info.table_name, attrs, bins=bins, edges=edges, cache=kept)
    else:  # a cohort's bins and counts are its own: computed for it, not kept
        kept = None
        prepared = prepare_attributes(store, info.table_name, attrs, bins=bins, edges=edges, cohort=cohort)
    # leave out attributes with a single value (in the cohort, if one is given): their one slice holds every example,
    # nothing to compare it with (an attribute a cohort fixes, ``domain = "legal"``, would come back as a slice
    # equal to the whole cohort, counted in the BH family); chosen by name or by default alike
    prepared = [p for p in prepared if not p.constant] or prepared
    attrs = [p.attribute for p in prepared]
    cur = store.cursor()
    total = (cur.execute(Q.totals_sql(info.table_name)) if cohort is None else
             cur.execute(*Q.cohort_totals_sql(info.table_name, cohort))).fetchall()[0]
    scored_where, scored_params = Q.and_cohort("NOT unscorable", cohort)
    total_n, total_errors = int(total[0]), int(total[1] or 0)
    k = len(prepared)
    graded = bool(total[6])
    attr_sql = [p.sql for p in prepared]
    if cohort is not None:
        if max_order == 2 and 2 <= k <= BATCH_ATTRIBUTES:
            # pairs from the examples, singles summed from the pair cells (one pass fewer per attribute)
            sets = list(itertools.combinations(range(k), 2))
            raw = cur.execute(*Q.grouping_sets_sql(info.table_name, attr_sql, sets, with_scores=graded,
                                                   derive_singles=True, where=scored_where,
                                                   where_params=scored_params, rows=info.row_count)).df()
        else:
            sets = [s for order in range(1, min(max_order, k) + 1) for s in itertools.combinations(range(k), order)]
            raw = grouping_counts(cur, k, sets, lambda used, local: Q.grouping_sets_sql(
                info.table_name, [attr_sql[i] for i in used], local, with_scores=graded, where=scored_where,
                where_params=scored_params))
    else:
        sets = [s for order in range(1, min(max_order, k) + 1) for s in itertools.combinations(range(k), order)]

        counter = (_counts.in_memory_counter(store, info.table_name, prepared, graded=graded, cache=kept)
                   if info.row_count <= _counts.IN_MEMORY_MAX_ROWS else None)

        def count(used: list[int], local_sets: list[tuple]) -> pd.DataFrame:
            if counter is not None:
                try:
                    return counter(used, local_sets)
                except _counts.NeedsSQL:
                    pass  # a set with very many cells: counted by a GROUPING SETS statement
            sql = [attr_sql[i] for i in used]
            m = len(used)
            if 2 <= m <= BATCH_ATTRIBUTES and set(local_sets) == {
                    s for order in (1, 2) for s in itertools.combinations(range(m), order)}:
                # pairs from the examples, singles summed from the pair cells (one pass fewer per attribute)
                return cur.execute(*Q.grouping_sets_sql(info.table_name, sql, list(itertools.combinations(range(m), 2)),
                                                        with_scores=graded, derive_singles=True,
                                                        rows=info.row_count)).df()
            return grouping_counts(cur, m, local_sets, lambda used_here, local: Q.grouping_sets_sql(
                info.table_name, [sql[i] for i in used_here], local, with_scores=graded))

        # sets counted before for this run (another analysis, a heatmap) are not counted again
        raw = _counts.counts(store, info.table_name, prepared, sets, graded=graded, compute=count, cache=kept)
    table = slice_statistics(raw, prepared, total_n, total_errors, min_support=support_count(min_support, total_n),
                          confidence=confidence, fdr=fdr)
    settings = {"attributes": [a.name for a in attrs], "max_order": max_order, "min_support": min_support,
                "confidence": confidence, "fdr": fdr, "bins": bins,
                "interval": "Wilson; Clopper-Pearson when n < 30 or fewer than 5 errors or successes",
                "test": "Fisher exact when an expected count < 5, else two-proportion z (pooled), two-sided",
                "multiple_testing": "Benjamini-Hochberg over every slice tested in this analysis"}
    if getattr(attrs_default, "note", ""):
        settings["note"] = attrs_default.note
    if by is None and getattr(attrs_default, "left_out", None):
        settings["left_out"] = attrs_default.left_out_line()
    if found is not None:
        settings["where"] = found.text
    return SliceResult(table, info.run_id, attrs, settings, total_n, total_errors, int(total[5] or 0),
                       {p.attribute.name: p.edges for p in prepared if p.edges is not None}, prepared)


def slice_statistics(raw: pd.DataFrame, prepared: Sequence[PreparedAttribute], total_n: int, total_errors: int, *,
                     min_support: int, confidence: float, fdr: float) -> pd.DataFrame:
    """The slice table from grouping-sets counts (``gid``, attribute values, ``n``, ``errors``,
    ``score_n``, ``score_sum``): rates, intervals, tests against the rest, q-values, redundancy
    and findings, ordered by evidence. Used by :func:`slice_table` and by failure-mode
    concentration (:mod:`analysis.objective.modes`), where "errors" counts a mode's examples.
    """
    decoded = decode_groups(raw, prepared)
    predicates, attributes, values = decoded.predicates, decoded.attributes, decoded.values
    orders, descriptions = decoded.orders, decoded.descriptions
    n = raw["n"].to_numpy(dtype=np.int64)
    errors = raw["errors"].to_numpy(dtype=np.int64)
    rest_n = total_n - n
    rest_errors = total_errors - errors
    too_small = n < min_support
    vs_rest = _stats.slice_vs_rest(errors, n, total_errors, total_n, tested=~too_small, confidence=confidence)
    low, high, method = vs_rest.ci_low, vs_rest.ci_high, vs_rest.ci_method
    p_value, test, q_value = vs_rest.p_value, vs_rest.test, vs_rest.q_value
    rate, rest_rate, difference = vs_rest.error_rate, vs_rest.rest_error_rate, vs_rest.difference
    with np.errstate(invalid="ignore", divide="ignore"):
        score_n = raw["score_n"].to_numpy(dtype=float)
        score_sum = raw["score_sum"].to_numpy(dtype=float) / F.SCORE_SCALE  # exact sums in units of 1e-15
        # scores equal to correctness are not aggregated separately: their mean is the accuracy
        mean_score = np.where(score_n > 0, score_sum / np.maximum(score_n, 1), 1.0 - errors / np.maximum(n, 1))
    redundant = redundant_from_codes(decoded.codes, n) if decoded.codes is not None else redundant_mask(
        attributes, values, n)
    finding = (~too_small) & (q_value < fdr) & (difference > 0) & ~redundant
    table = pd.DataFrame({
        "predicate": predicates, "attributes": attributes, "values": values, "order": orders,
        "description": descriptions,
        "n": n, "errors": errors, "error_rate": rate, "ci_low": low, "ci_high": high, "ci_method": method,
        "mean_score": mean_score, "rest_n": rest_n, "rest_errors": rest_errors, "rest_error_rate": rest_rate,
        "difference": difference, "p_value": p_value, "test": test, "q_value": q_value,
        "too_small": too_small, "redundant": redundant, "finding": finding,
    })
    # by q (untested last), difference (descending, NaN last), n (descending), description: ties come out of the
    # hash aggregation in any order; the table must not. One numpy lexsort (as sort_values with these keys, stable)
    rank = pd.factorize(np.asarray(descriptions, dtype=object), sort=True)[0]
    order = np.lexsort((rank, -n, np.where(np.isnan(difference), np.inf, -difference), np.nan_to_num(q_value, nan=2.0)))
    return table.take(order).reset_index(drop=True)


def redundant_mask(attributes: Sequence[tuple], values: Sequence[tuple], n: np.ndarray) -> np.ndarray:
    """Which slices are conjunctions holding exactly the examples of one of their parts (they add nothing).

    >>> redundant_mask([("a",), ("a", "b")], [("x",), ("x", "y")], np.array([5, 5])).tolist()
    [False, True]
    """
    n_of = {(a, v): int(c) for a, v, c in zip(attributes, values, n)}
    redundant = np.zeros(len(n), dtype=bool)
    for i, (names, vals) in enumerate(zip(attributes, values)):
        if len(names) < 2:
            continue
        for drop in range(len(names)):
            parent = (tuple(names[:drop]) + tuple(names[drop + 1:]), tuple(vals[:drop]) + tuple(vals[drop + 1:]))
            if n_of.get(parent) == n[i]:
                redundant[i] = True
                break
    return redundant


def redundant_from_codes(codes: np.ndarray, n: np.ndarray) -> np.ndarray:
    """:func:`redundant_mask` over every slice at once, from the value codes of :func:`decode_groups`.

    ``codes`` has shape ``(n_slices, k)`` (0: the slice does not condition on the attribute, 1: a missing value,
    ``2 + j``: the attribute's ``j``-th value). Each slice is packed into one integer key (mixed radix over the
    attributes); dropping one condition subtracts that attribute's term, so every parent of every slice is looked up
    with one sorted search per attribute. Falls back to :func:`redundant_mask`'s dictionary when the keys would
    not fit in 63 bits (very many attributes with very many values).

    >>> redundant_from_codes(np.array([[2, 0], [2, 3], [3, 0], [3, 2]]), np.array([5, 5, 9, 4])).tolist()
    [False, True, False, False]
    """
    codes = np.asarray(codes, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    size = len(n)
    redundant = np.zeros(size, dtype=bool)
    if size == 0 or codes.shape[1] < 2:
        return redundant
    radix = codes.max(axis=0) + 1
    if float(np.prod(radix.astype(float))) >= 2.0 ** 62:
        attributes = [tuple(np.flatnonzero(row)) for row in codes]
        values = [tuple(row[row > 0]) for row in codes]
        return redundant_mask(attributes, values, n)
    stride = np.ones(codes.shape[1], dtype=np.int64)
    for i in range(codes.shape[1] - 2, -1, -1):
        stride[i] = stride[i + 1] * radix[i + 1]
    key = codes @ stride
    order = np.argsort(key, kind="stable")
    sorted_key, sorted_n = key[order], n[order]
    conj = (codes > 0).sum(axis=1) >= 2
    for i in range(codes.shape[1]):
        rows = np.flatnonzero(conj & (codes[:, i] > 0) & ~redundant)
        if not len(rows):
            continue
        parent = key[rows] - codes[rows, i] * stride[i]
        at = np.minimum(np.searchsorted(sorted_key, parent), size - 1)
        hit = (sorted_key[at] == parent) & (sorted_n[at] == n[rows])
        redundant[rows[hit]] = True
    return redundant


def heatmap(store: Store, run: str, x: str, y: str, *, min_support: int | float = 30, confidence: float = 0.95,
            bins: int = 5, where: str | None = None) -> pd.DataFrame:
    """Error rate over two attributes: one row per cell with n, errors, rate and interval.

    Cells come from the same analysis as :func:`slice_table` (``max_order=2`` over ``[x, y]``,
    q-values over the two attributes and their conjunction).

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.
    x, y : str
        The two attribute names.
    min_support : int or float, default 30
        Least cell size to be tested: a count of examples, or a fraction in (0, 1) of the
        run's scorable examples.
    confidence : float, default 0.95
        Coverage of the error-rate intervals, in (0, 1).
    bins : int, default 5
        Quantile bins for numeric attributes (2 to 20).
    where : str, optional
        A cohort (see :func:`slice_table`).

    Returns
    -------
    pandas.DataFrame
        One row per pair of values present in the run, by evidence: a column named ``x`` and
        one named ``y`` (value labels), ``n``, ``errors`` (counts), ``error_rate``,
        ``ci_low``, ``ci_high`` (fractions in [0, 1]), ``q_value`` and ``too_small``.

    Raises
    ------
    ParameterError
        A ``min_support`` or ``bins`` outside its range (see :func:`slice_table`).
    ValueError
        A ``confidence`` outside (0, 1).
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        An attribute the run does not have.

    References
    ----------
    As :func:`slice_table`: Wilson (1927) and Clopper-Pearson (1934) intervals, Fisher exact
    or two-proportion z tests, Benjamini-Hochberg (1995).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/h.duckdb")
    >>> df = pd.DataFrame({"prompt": ["q"] * 8, "lang": ["en", "sw"] * 4, "web": [True] * 4 + [False] * 4,
    ...                    "correct": [True, False] * 4})
    >>> _ = s.ingest_frame(df, name="r")
    >>> cells = heatmap(s, "r", "lang", "web", min_support=1)
    >>> sorted(zip(cells["lang"], cells["web"], cells["error_rate"]))
    [('en', 'false', 0.0), ('en', 'true', 0.0), ('sw', 'false', 1.0), ('sw', 'true', 1.0)]
    """
    result = slice_table(store, run, [x, y], max_order=2, min_support=min_support, confidence=confidence, bins=bins,
                         where=where)
    return heatmap_cells(result, x, y).drop(columns="finding")


def heatmap_cells(result: SliceResult, x: str, y: str) -> pd.DataFrame:
    """The cells of a heatmap over two attributes: the pairs of ``result``, one row per pair of values present.

    Parameters
    ----------
    result : SliceResult
        An analysis (:func:`slice_table`) by ``x`` and ``y`` with ``max_order >= 2``.
    x, y : str
        The two attribute names.

    Returns
    -------
    pandas.DataFrame
        A column named ``x`` and one named ``y`` (the value labels), ``n``, ``errors``
        (counts), ``error_rate``, ``ci_low``, ``ci_high`` (fractions in [0, 1]), ``q_value``,
        ``too_small`` and ``finding`` (worse than the rest at the analysis' FDR), in the
        analysis' order (by evidence). Empty when ``result`` has no pair of these two
        attributes.

    Examples
    --------
    >>> result = SliceResult(table=pd.DataFrame({"predicate": [{"a": "1"}, {"a": "1", "b": "x"}], "order": [1, 2],
    ...     "n": [40, 20], "errors": [4, 3], "error_rate": [0.1, 0.15], "ci_low": [0.04, 0.05], "ci_high": [0.23, 0.36],
    ...     "q_value": [0.5, 0.4], "too_small": [False, True], "finding": [False, False]}),
    ...     run_id="r", attributes=[], settings={}, total_n=40, total_errors=4, unscorable=0)
    >>> heatmap_cells(result, "a", "b")[["a", "b", "n", "error_rate"]].to_dict("records")
    [{'a': '1', 'b': 'x', 'n': 20, 'error_rate': 0.15}]
    """
    pairs = result.table[result.table["order"] == 2]
    cells = pairs[[set(p) == {x, y} for p in pairs["predicate"]]] if len(pairs) else pairs
    return pd.DataFrame({
        x: [p[x] for p in cells["predicate"]], y: [p[y] for p in cells["predicate"]],
        "n": cells["n"].to_numpy(), "errors": cells["errors"].to_numpy(), "error_rate": cells["error_rate"].to_numpy(),
        "ci_low": cells["ci_low"].to_numpy(), "ci_high": cells["ci_high"].to_numpy(),
        "q_value": cells["q_value"].to_numpy(), "too_small": cells["too_small"].to_numpy(),
        "finding": cells["finding"].to_numpy(),
    }).reset_index(drop=True)


def slice_examples(store: Store, run: str, predicate: dict, *, limit: int | None = 500,
                   bins: int = 5, edges: dict[str, Sequence[float]] | None = None,
                   where: str | None = None) -> pd.DataFrame:
    """The examples of one slice, failures first, then in log order.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.
    predicate : dict of str to str
        Attribute name -> value label, as in :func:`slice_table`'s ``predicate`` column
        (``"(missing)"`` for a missing value, bin labels such as ``"≤ 12"`` for numbers).
    limit : int or None, default 500
        Most examples returned; None for all.
    bins : int, default 5
        Quantile bins of numeric attributes: must match the analysis the labels came from.
    edges : dict of str to sequence of float, optional
        Bin edges of numeric attributes, as given to :func:`slice_table`.
    where : str, optional
        The cohort the analysis was run on (as given to :func:`slice_table`): bins are the
        cohort's, and only the cohort's examples are returned.

    Returns
    -------
    pandas.DataFrame
        One row per scorable example of the slice (at most ``limit``): ``example_id``,
        ``input``, ``output``, ``reference``, ``score``, ``correct``, ``status``.

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        An attribute the run does not have, a label that is not one of the attribute's bins
        or values.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/e.duckdb")
    >>> df = pd.DataFrame({"prompt": ["a", "b", "c"], "lang": ["sw", "en", "sw"], "correct": [True, True, False]})
    >>> _ = s.ingest_frame(df, name="r")
    >>> slice_examples(s, "r", {"lang": "sw"})[["input", "correct"]].to_dict("records")
    [{'input': 'c', 'correct': False}, {'input': 'a', 'correct': True}]
    """
    schema = store.schema(run)
    info = schema.run
    found = cohort_filter(schema, where)
    cohort = None if found is None else found.as_sql
    attrs = resolve_attributes(store, schema, list(predicate))
    if cohort is None:
        prepared = _counts.prepared_attributes(store, info.table_name, attrs, bins=bins, edges=edges)
    else:
        prepared = prepare_attributes(store, info.table_name, attrs, bins=bins, edges=edges, cohort=cohort)
    raw_values = []
    for p in prepared:
        label = predicate[p.attribute.name] if p.attribute.name in predicate else predicate[p.attribute.column]
        raw_values.append(label_to_raw(store, info.table_name, p, label))
    in_slice, params = Q.predicate_where([p.sql for p in prepared], raw_values)
    sql, params = Q.slice_examples_sql(info.table_name, in_slice, params, limit=limit, cohort=cohort)
    return store.cursor().execute(sql, params).df()


def settings_dict(result: SliceResult) -> dict:
    return {**result.settings, "attributes_detail": [asdict(a) for a in result.attributes]}
