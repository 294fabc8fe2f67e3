"""Per-slice extras where the columns exist: calibration, latency and cost percentiles, cost-weighted
error, rater agreement, and intervals of mean scores.

Computed for every value of each attribute (single-attribute slices):

- **ECE** (expected calibration error, 10 equal-width bins) when a confidence column exists
  (``confidence``, ``prob``, ``p_correct``...): per-bin sums in SQL (:func:`analysis.sql.extras.calibration_bins_sql`),
  then :func:`analysis.stats.expected_calibration_error_from_bin_sums`; no example row is read into Python. The confidence must be a probability in [0, 1]: a column outside it (e.g. logged in percent, which
  would give ``ece = 76.7``) raises a :class:`FaultlineError` naming the column, rather than being rescaled by a
  guess (a 0-100 column could as well be a score on another scale).
- **Latency and cost percentiles** (p50, p90, p99) of numeric metadata named like
  ``latency*`` / ``*_ms`` / ``cost*``: ``quantile_cont`` per slice in SQL.
- **Cost-weighted error**: ``sum(cost of each failure) / n`` with costs per attribute value from
  a config (``{"domain": {"medical": 5}, "default": 1}``): SQL sums with bound costs.
- **Rater agreement**: with two rater columns, Cohen's kappa per slice
  (:func:`analysis.stats.grouped_cohen_kappa` on the SQL contingency counts of their labels); with three or more,
  Krippendorff's alpha (nominal) per slice from the rater matrix. A slice whose raters agree less than
  ``kappa < 0.4`` ("fair" or worse on the Landis-Koch scale) is flagged: a slice where raters disagree is a finding.
- **Interval of the mean score** when scores are graded, not 0/1: the Student-t interval of the mean from the
  slice's count, mean and standard deviation, aggregated in SQL (:func:`analysis.stats.mean_interval`), named in
  the ``score_ci_method`` column. It replaced a percentile bootstrap, which needed every score in Python; for a
  mean both are large-sample intervals (the t interval is the standard one, and needs only sums).
- Krippendorff's alpha (three raters or more) still reads each example's labels into Python.

Examples whose attribute value is missing form a slice of their own (``"(missing)"``, as in the slice table).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.slicing.attributes import describe_condition, prepare_attributes, resolve_attributes, value_label
from analysis.slicing.cohorts import cohort_filter
from analysis.sql import extras as X
from analysis.sql import features as F
from analysis.store import RunSchema, Store

#: Coverage of the mean-score interval, and how it is computed (the ``score_ci_method`` column).
SCORE_CONFIDENCE = 0.95
SCORE_CI_METHOD = "Student t (count, mean, sd summed in SQL)"
#: Below this agreement (kappa or alpha) raters are said to disagree in a slice.
DISAGREEMENT_THRESHOLD = 0.4
_CONFIDENCE = re.compile(r"^(confidence|conf|prob|probability|p_correct|model_confidence)$", re.IGNORECASE)
_LATENCY = re.compile(r"(latency|_ms$|duration|time_s$|response_time)", re.IGNORECASE)
_COST = re.compile(r"(^cost|_cost$|cost_usd|price)", re.IGNORECASE)
MSG_CONFIDENCE_RANGE = ("Run {run!r}: confidence column {column!r} must hold probabilities in [0, 1], got values "
                        "from {low!r} to {high!r} ({count} of {n} rows outside [0, 1]); a confidence logged in "
                        "percent must be divided by 100, or another column named with confidence_column")


def _numeric_meta(store: Store, run: str | RunSchema) -> list[str]:
    fields = store.fields(run)
    return [c for c, r, k in zip(fields["column_name"], fields["role"], fields["kind"])
            if r == "metadata" and k == "numeric"]


def _group_codes(values: pd.Series) -> tuple[np.ndarray, list]:
    """Group codes of slice values and the slice keys, a missing value being a group of its own."""
    codes, uniques = pd.factorize(values.map(_key), use_na_sentinel=False)
    return codes, [_key(u) for u in uniques]


def _check_confidence_range(run_name: str, column: str, found: tuple) -> None:
    """``found``: the row of :func:`analysis.sql.extras.confidence_range_sql` (count, outside [0, 1], min, max)."""
    n, outside, low, high = found
    if outside:
        raise FaultlineError(MSG_CONFIDENCE_RANGE.format(
            run=run_name, column=column.split(".", 1)[-1], low=float(low), high=float(high), count=int(outside), n=n))


def slice_extras(store: Store, run: str, by: Sequence[str] | None = None, *, costs: dict | None = None,
                 confidence_column: str | None = None, n_bins: int = 10, bins: int = 5, where: str | None = None) -> pd.DataFrame:
    """Extras for every single-attribute slice of a run (one row per attribute value).

    See the module docstring for what is computed and when.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.
    by : sequence of str, optional
        Attribute names; default :func:`~analysis.slicing.attributes.default_attributes`.
    costs : dict, optional
        Failure cost per attribute value, ``{"domain": {"medical": 5}, "default": 1}``
        (``default``: the cost of any other failure, 1 if not given); enables
        ``cost_weighted_error``.
    confidence_column : str, optional
        The stored numeric column holding the model's confidence (a probability in [0, 1]),
        e.g. ``meta.conf``. Default: a numeric metadata column named ``confidence``,
        ``conf``, ``prob``, ``probability``, ``p_correct`` or ``model_confidence``.
    n_bins : int, default 10
        Equal-width confidence bins of the ECE.
    bins : int, default 5
        Quantile bins of numeric attributes.
    where : str, optional
        A cohort (:mod:`analysis.slicing.cohorts`): every extra is computed over its examples only.

    Returns
    -------
    pandas.DataFrame
        One row per (attribute, value), sorted by attribute then value label: ``description``,
        ``attribute``, ``value`` (label), ``n`` (scorable examples), and,
        only when their inputs exist: ``ece`` (in [0, 1]); ``<metric>_p50``, ``_p90``,
        ``_p99`` for each latency or cost column (in that column's unit, e.g. ms or USD);
        ``cost_weighted_error`` (sum of the failures' costs / n, in cost units per example);
        ``rater_agreement`` (Cohen's kappa or Krippendorff's alpha, at most 1),
        ``agreement_measure`` and ``raters_disagree`` (agreement below 0.4);
        ``score_ci_low`` / ``score_ci_high`` (Student-t interval of the mean score at 95%, in the
        score's unit, NaN below two scores) and ``score_ci_method``, when scores are graded. Empty when nothing is sliced.

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        An attribute the run does not have; a ``confidence_column`` that is not a numeric
        column of the run; confidence values outside [0, 1] (:data:`MSG_CONFIDENCE_RANGE`);
        a ``costs`` entry that does not map values to costs.

    References
    ----------
    .. [1] M. P. Naeini, G. Cooper and M. Hauskrecht, "Obtaining well calibrated probabilities
       using Bayesian binning", AAAI (2015): expected calibration error.
    .. [2] J. Cohen, "A coefficient of agreement for nominal scales", Educational and
       Psychological Measurement 20 (1960); K. Krippendorff, Content Analysis (1980).
    .. [3] J. R. Landis and G. G. Koch, "The measurement of observer agreement for categorical
       data", Biometrics 33 (1977): the 0.4 threshold.
    .. [4] Student, "The probable error of a mean", Biometrika 6 (1908): the t interval of a mean.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/x.duckdb")
    >>> df = pd.DataFrame({"prompt": ["q"] * 4, "lang": ["en", "en", "sw", "sw"], "correct": [True, False, True, True],
    ...                    "latency_ms": [100.0, 300.0, 50.0, 70.0]})
    >>> _ = s.ingest_frame(df, name="r")
    >>> slice_extras(s, "r", ["lang"])[["description", "latency_ms_p50"]].to_dict("records")
    [{'description': 'lang = en', 'latency_ms_p50': 200.0}, {'description': 'lang = sw', 'latency_ms_p50': 60.0}]
    """
    schema = store.schema(run)
    info = schema.run
    found_cohort = cohort_filter(schema, where)
    cohort = None if found_cohort is None else found_cohort.as_sql
    attrs = resolve_attributes(store, schema, by)
    prepared = prepare_attributes(store, info.table_name, attrs, bins=bins, edges=None, cohort=cohort)
    table = info.table_name
    cur = store.cursor()
    conf_col, metric_cols, raters = _extra_columns(store, schema, confidence_column)
    graded = bool(cur.execute(F.graded_sql(table)).fetchall()[0][0])
    if conf_col is not None:
        edges = _stats.calibration_bin_edges(n_bins)
        _check_confidence_range(info.name, conf_col, cur.execute(*X.confidence_range_sql(table, conf_col,
                                                                                         cohort=cohort)).fetchall()[0])
    rows: list[dict] = []
    for p in prepared:
        expr, params = p.sql.expr, p.sql.params
        base = cur.execute(*X.value_counts_sql(table, expr, params, cohort=cohort)).fetchall()
        found = _Found({_key(v): {"description": describe_condition(p.attribute.name, value_label(p, v),
                                                                    binned=p.labels is not None),
                                  "attribute": p.attribute.name, "value": value_label(p, v), "n": int(n)}
                        for v, n in base})
        if conf_col is not None:
            binned = cur.execute(*X.calibration_bins_sql(table, expr, params, conf_col, edges, cohort=cohort)).fetchall()
            keys = list(dict.fromkeys(_key(v) for v, *_ in binned))
            sums = np.zeros((3, len(keys), n_bins))
            for v, b, n, conf_sum, ok_sum in binned:
                sums[:, keys.index(_key(v)), int(b)] = (n, conf_sum, ok_sum)
            ece = _stats.expected_calibration_error_from_bin_sums(*sums)
            for g, k in enumerate(keys):
                found[k]["ece"] = float(ece[g])
        for col in metric_cols:
            name = col.split(".", 1)[1]
            pct = cur.execute(*X.percentiles_sql(table, expr, params, col, cohort=cohort)).fetchall()
            for v, *qs in pct:
                if qs[0] is not None:
                    found[_key(v)].update({f"{name}_p50": qs[0], f"{name}_p90": qs[1], f"{name}_p99": qs[2]})
        if costs:
            cost_expr, cost_params = _cost_expr(costs, prepared, store, schema)
            weighted = cur.execute(*X.cost_weighted_sql(table, expr, params, cost_expr, cost_params, cohort=cohort)).fetchall()
            for v, w in weighted:
                found[_key(v)]["cost_weighted_error"] = float(w)
        if len(raters) == 2:
            pairs = cur.execute(*X.rater_pairs_sql(table, expr, params, raters[0], raters[1], cohort=cohort)).fetchall()
            _cohen_kappa(pairs, found)
        elif len(raters) >= 3:
            _krippendorff(cur, table, expr, params, raters, found, cohort=cohort)
        if graded:
            moments = cur.execute(*X.score_moments_sql(table, expr, params, cohort=cohort)).fetchall()
            low, high = _stats.mean_interval([m[2] for m in moments],
                                             [np.nan if m[3] is None else m[3] for m in moments],
                                             [m[1] for m in moments], confidence=SCORE_CONFIDENCE)
            for (v, *_), lo, hi in zip(moments, low, high):
                found[_key(v)].update({"score_ci_low": float(lo), "score_ci_high": float(hi),
                                       "score_ci_method": SCORE_CI_METHOD})
        rows.extend(found.values())
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    if "rater_agreement" in out:
        out["raters_disagree"] = out["rater_agreement"] < DISAGREEMENT_THRESHOLD
    return out.sort_values(["attribute", "value"], kind="stable").reset_index(drop=True)


class _Found(dict):
    """The slices of one attribute by value; a value seen only among unscorable examples (the rater and
    other queries that do not leave them out) is no slice of scored examples: what is written to it is dropped."""

    def __missing__(self, key):
        return {}


def _extra_columns(store: Store, schema: RunSchema, confidence_column: str | None) -> tuple[str | None, list, list]:
    """The columns the extras read: confidence, latency and cost metrics, raters."""
    numeric = _numeric_meta(store, schema)
    conf_col = confidence_column or next((c for c in numeric if _CONFIDENCE.match(c.split(".", 1)[1])), None)
    if conf_col is not None and conf_col not in numeric:
        raise FaultlineError(f"Run {schema.run.name!r} has no numeric column {conf_col!r} for confidence")
    metric_cols = [c for c in numeric if c != conf_col and (_LATENCY.search(c.split(".", 1)[1])
                                                            or _COST.search(c.split(".", 1)[1]))]
    fields = schema.fields
    raters = [c for c, r in zip(fields["column_name"], fields["role"]) if r == "rater"]
    return conf_col, metric_cols, raters


def extras_available(store: Store, run: str) -> bool:
    """Whether :func:`slice_extras` has anything beyond counts for a run.

    That is a confidence, latency or cost column, raters, or graded scores (one cheap query; the app
    asks before computing the extras).

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.

    Returns
    -------
    bool
        True when :func:`slice_extras` would add a column beyond ``n``.

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    """
    schema = store.schema(run)
    conf_col, metric_cols, raters = _extra_columns(store, schema, None)
    if conf_col is not None or metric_cols or raters:
        return True
    return bool(store.cursor().execute(F.graded_sql(schema.run.table_name)).fetchall()[0][0])


def _key(value):
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return value.item() if isinstance(value, np.generic) else value


def _cost_expr(costs: dict, prepared, store: Store, schema: RunSchema) -> tuple[str, list]:
    """CASE expression giving each example's failure cost from per-attribute-value costs (bound values)."""
    default = float(costs.get("default", 1.0))
    conditions = []
    known = {p.attribute.name: p for p in prepared}

    for attr_name, table in costs.items():
        if attr_name == "default":
            continue
        if not isinstance(table, dict):
            raise FaultlineError(f"costs[{attr_name!r}] must map values to costs, got {table!r}")
        if attr_name in known:
            p = known[attr_name]
        else:
            (attr,) = resolve_attributes(store, schema, [attr_name])
            (p,) = prepare_attributes(store, schema.table_name, [attr], bins=5, edges=None)
        for value, cost in table.items():
            conditions.append((p.sql.expr, p.sql.params, str(value), float(cost)))
    return X.cost_expr(conditions, default)


def _krippendorff(cur, table, expr, params, raters, found, *, cohort=None) -> None:
    """Krippendorff's alpha (nominal) per slice from the coincidence sums of one aggregate statement
    (:func:`analysis.sql.extras.rater_coincidences_sql`): no example's labels are read into Python."""
    rows = cur.execute(*X.rater_coincidences_sql(table, expr, params, raters, cohort=cohort)).fetchall()
    labels = sorted({r[2] for r in rows} | {r[3] for r in rows})
    index = {lab: i for i, lab in enumerate(labels)}
    keys = list(found)
    group = {k: g for g, k in enumerate(keys)}
    coinc = np.zeros((len(keys), len(labels), len(labels)))
    # summed in one order (slice, m, labels) whatever order the engine returns the rows in: the same float sums
    for v, m, c, k, total in sorted(rows, key=lambda r: (repr(_key(r[0])), int(r[1]), r[2], r[3])):
        g = group.get(_key(v))
        if g is not None:  # a value seen only among unscorable examples is no slice
            coinc[g, index[c], index[k]] += float(total) / (int(m) - 1)
    alpha = _stats.krippendorff_alpha_from_coincidences(coinc, level="nominal") if labels else \
        np.full(len(keys), np.nan)
    for g, k in enumerate(keys):
        found[k].update({"rater_agreement": float(alpha[g]), "agreement_measure": "Krippendorff's alpha"})


def _cohen_kappa(pairs: list[tuple], found: dict) -> None:
    """Cohen's kappa per slice from ``(slice value, label a, label b, count)`` rows of the two raters' labels."""
    if not pairs:
        return
    labels = sorted({x for _, la, lb, _ in pairs for x in (la, lb)})
    index = {lab: i for i, lab in enumerate(labels)}
    n = np.array([c for *_, c in pairs], dtype=np.int64)
    codes_a = np.repeat(np.array([index[la] for _, la, _, _ in pairs], dtype=np.int64), n)
    codes_b = np.repeat(np.array([index[lb] for _, _, lb, _ in pairs], dtype=np.int64), n)
    groups, keys = _group_codes(pd.Series([v for v, *_ in pairs], dtype=object))
    kappa = _stats.grouped_cohen_kappa(codes_a, codes_b, len(labels), np.repeat(groups, n), len(keys))
    for g, k in enumerate(keys):
        found[k].update({"rater_agreement": float(kappa[g]), "agreement_measure": "Cohen's kappa"})
