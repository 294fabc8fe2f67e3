"""Trajectories: every single-attribute slice's outcome along a series of runs, its trend and its departure.

One grouping statement (:func:`analysis.sql.series.trajectory_sql`) counts every slice of every run at once; the
statistics run on that small table:

- per slice and run: accuracy (fraction) with its interval (:func:`analysis.stats.rate_interval`), the mean score,
  each objective signal's mean;
- per slice: a trend across the runs, Cochran-Armitage on correctness (:func:`analysis.stats.cochran_armitage`), or
  the HC3 slope of the mean score when scores are graded (:func:`analysis.stats.slope_hc3`), with
  Benjamini-Hochberg over slices;
- per slice and run: departure from the reference run, McNemar's exact test on discordant pairs when the run shares
  example ids with the reference (the one :func:`analysis.stats.mcnemar_exact`, as in the two-run comparison of
  :mod:`analysis.slicing.compare`), the two-proportion test otherwise; Benjamini-Hochberg over every (slice, run)
  test; the first run that departs.

When the runs share their examples with the reference (a paired series), the trend is measured on the shared
examples only, so a change of the evaluation mix (new examples, dropped ones) never reads as a model's drift; the
all-examples accuracy is kept beside it, and :func:`analysis.series.mix.mix_shift` says how much of a headline
change the mix explains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.series.cells import Cells
from analysis.slicing import counts as _counts
from analysis.slicing.attributes import Attribute, decode_groups, prepare_attributes, resolve_attributes
from analysis.slicing.cohorts import cohort_sql
from analysis.slicing.params import check_slicing_params
from analysis.sql import features as F
from analysis.sql import quote_ident
from analysis.sql import series as S
from analysis.sql import slices as Q
from analysis.store import Store
from analysis.store.series import SeriesInfo, get_series, order_checks, series_fields

ALL = "(all examples)"

#: Share of a run's scorable examples that must be found in the reference for the series to count as paired.
PAIRED_SHARE = 0.5

# Outcome attributes (the model's output) are left out of a series' default attributes: they change with the model,
# so a slice of them holds other examples at every run (the long answers of a checkpoint are not those of the
# reference), and a paired test within it would compare what the outcome itself selected.

MSG_ATTRIBUTE_NOT_IN_RUN = ("Attribute {name!r} is not in run {run!r} of series {series!r}; slice a series only by "
                            "attributes every run has")


@dataclass
class Trajectories:
    """Every single-attribute slice of a series, run by run, with its trend and its departure from the reference."""

    series: SeriesInfo
    """The series (runs in order, reference)."""
    points: pd.DataFrame
    """One row per slice and run: ``description``, ``attribute`` (None for the whole run), ``value`` (label), ``k``
    (the run's position), ``run``, ``label``, ``n``, ``errors``, ``accuracy`` with ``ci_low`` / ``ci_high``
    (fractions), ``mean_score``, ``n_paired`` (examples shared with the reference), ``b`` (right in the reference,
    wrong here), ``c`` (the reverse), ``paired_accuracy`` (on the shared examples), ``departure`` (accuracy minus
    the reference's on the compared examples, a difference of fractions), ``departure_p``, ``departure_q``,
    ``departure_test`` ("McNemar" or "two-proportion"), ``trend_n``, ``trend_correct``, ``trend_accuracy`` with ``trend_ci_low`` /
    ``trend_ci_high`` (on the examples the trend is fitted on: those shared with the reference when :attr:`paired`,
    else every example; what to draw beside the trend), and ``signal:<name>`` means."""
    slices: pd.DataFrame
    """One row per slice, drifting ones first (by q-value): ``description``, ``attribute``, ``value``, ``n_min``
    (smallest size over the runs), ``too_small``, ``first``/``last`` accuracy (every example of the run),
    ``first_trend``/``last_trend`` (accuracy on the trend's examples: shared with the reference when paired), ``slope`` (accuracy points per run
    of the trend, x 100 for points), ``slope_low``, ``slope_high``, ``trend_test``, ``trend_p``, ``trend_q``,
    ``drifting`` (significant trend at the FDR), ``direction`` ("down", "up" or ""), ``first_departure`` (the run's
    position, -1 when none), ``first_departure_label``, ``departure_direction``, ``evidence`` (the smallest of the
    trend and departure q-values); with graded scores (``settings["graded"]``) the mean score's trend too:
    ``score_slope`` (score units per run) with ``score_slope_low`` / ``score_slope_high`` (HC3), ``score_trend_z``,
    ``score_trend_p``, ``score_trend_q`` (Benjamini-Hochberg over slices), ``score_drifting``, ``score_direction``
    (NaN, False and "" when scores are 0/1); a slice is ``flagged`` by any of the three."""
    signals: list[str]
    """The objective signals measured (their names, as in the ``signal:<name>`` columns)."""
    paired: bool
    """Whether runs share their examples with the reference (trends then use the shared examples)."""
    settings: dict = field(default_factory=dict)

    def drifting(self, *, explained: bool = False) -> pd.DataFrame:
        """The slices with a significant trend or departure, strongest evidence first; without those explained by
        another slice's drift unless ``explained``."""
        t = self.slices
        keep = t["flagged"] & (explained | (t["explained_by"] == ""))
        return t[keep].reset_index(drop=True)

    def trajectory(self, description: str) -> pd.DataFrame:
        """One slice's rows of :attr:`points`, in run order."""
        return self.points[self.points["description"] == description].sort_values("k").reset_index(drop=True)


def _signal_sql(fields: pd.DataFrame, column: str) -> tuple[str, list] | None:
    """A signal (stored column, short name or derived feature) as SQL over a run with these stored columns, or None
    when it lacks it."""
    for candidate in (column, f"signal.{column}", f"meta.{column}"):
        hit = fields[fields["column_name"] == candidate]
        if len(hit) and hit["kind"].iloc[0] in ("numeric", "boolean"):
            return quote_ident(candidate), []
    if column in F.FEATURES and F.FEATURES[column].kind in ("number", "boolean"):
        return F.feature_sql(column)
    return None


def series_attributes(store: Store, info: SeriesInfo, by: Sequence[str] | None, *,
                      fields: Sequence[pd.DataFrame] | None = None) -> list[Attribute]:
    """The attributes a series is sliced by: the reference run's (its defaults without the attributes of the model's
    output, :func:`analysis.slicing.attributes.classify_attribute`; or those named), each present in every run (a default attribute missing from a
    run is left out; a named one is an error). ``fields``: :func:`analysis.store.series.series_fields` of the series,
    when already read."""
    columns = [set(f["column_name"]) for f in (series_fields(store, info) if fields is None else fields)]
    ref = store.schema(info.run_ids[info.reference_index])
    attrs = resolve_attributes(store, ref, by)
    if by is None:
        attrs = [a for a in attrs if a.role != "outcome"]  # the defaults' own rule (classify_attribute); kept explicit
    out = []
    for attr in attrs:
        missing = next((k for k, cols in enumerate(columns) if attr.column is not None and attr.column not in cols),
                       None)
        if missing is None:
            out.append(attr)
        elif by is not None:
            raise FaultlineError(MSG_ATTRIBUTE_NOT_IN_RUN.format(name=attr.name, run=info.run_names[missing],
                                                                 series=info.name))
    return out


def trajectories(store: Store, series: str | SeriesInfo, by: Sequence[str] | None = None, *,
                 signals: Sequence[str] = (), min_support: int = 30, confidence: float = 0.95, fdr: float = 0.05,
                 bins: int = 5, paired: bool | None = None, max_drivers: int = 3,
                 where: str | None = None) -> Trajectories:
    """Outcome per run of every single-attribute slice of a series, with trend and departure tests.

    Parameters
    ----------
    store : Store
        The store holding the series.
    series : str or SeriesInfo
        The series' name (:func:`analysis.store.series.create_series`) or the series.
    by : sequence of str, optional
        Attributes of the reference run; default its default attributes (as slicing,
        :func:`analysis.slicing.attributes.default_attributes`), without those missing from a run or holding one
        value.
    signals : sequence of str, default ()
        Objective signals (stored columns, short names or derived features) whose mean per slice and run is
        measured too (see :mod:`analysis.series.surrogate`).
    min_support : int, default 30
        Least examples a slice must have in every run to be tested.
    confidence : float, default 0.95
        Coverage of the intervals.
    fdr : float, default 0.05
        False discovery rate: trend tests are adjusted over slices, departure tests over slices x runs
        (Benjamini-Hochberg).
    bins : int, default 5
        Quantile bins of numeric attributes (cut on the reference run, the same edges for every run).
    paired : bool, optional
        Whether runs share example ids with the reference; default: measured (at least :data:`PAIRED_SHARE` of each
        run's scorable examples found in the reference).
    max_drivers : int, default 3
        Most drifting slices tested as the cause of others' drift: the strongest drifting slice is left out of every
        run and the others tested again (summed in memory from the series' cells, :mod:`analysis.series.cells`;
        one more statement over all runs per driver when the attributes have too many cells); a slice that no
        longer drifts without it is ``explained_by`` it (a drift in ``lang = sw`` shows in every channel that has Swahili
        examples). 0 turns this off.
    where : str, optional
        A cohort in the rule language (:mod:`analysis.slicing.cohorts`), applied to every run and to the reference:
        everything (bins, counts, pairs, tests, q-values) is the cohort's, as if the store held nothing else.

    Returns
    -------
    Trajectories
        ``points`` (slice x run), ``slices`` (one row per slice, drifting first), ``signals``, ``paired``,
        ``settings``.

    Raises
    ------
    FaultlineError
        No such series, a named attribute missing from a run.
    ParameterError
        A ``min_support``, ``fdr``, ``bins`` or ``confidence`` out of range.

    References
    ----------
    Cochran (1954) and Armitage (1955) for the trend; McNemar (1947) for paired departures; Benjamini and Hochberg
    (1995).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from analysis.store.series import create_series
    >>> s = Store(tempfile.mkdtemp() + "/t.duckdb")
    >>> ids = [f"e{i}" for i in range(400)]
    >>> for step, wrong in ((1000, 10), (2000, 40), (3000, 80)):
    ...     frame = pd.DataFrame({"id": ids, "prompt": ids, "lang": ["en", "sw"] * 200,
    ...                           "correct": [not (i % 2 and i < 2 * wrong) for i in range(400)]})
    ...     _ = s.ingest_frame(frame, name=f"step-{step}")
    >>> _ = create_series(s, "train", ["step-1000", "step-2000", "step-3000"])
    >>> t = trajectories(s, "train", ["lang"])
    >>> sorted(t.drifting()["description"]), t.slices.set_index("description").loc["lang = sw", "direction"]
    (['(all examples)', 'lang = sw'], 'down')
    >>> t.slices.set_index("description").loc["lang = sw", "first_departure_label"]
    'step 2,000'
    """
    check_slicing_params(1, min_support, fdr, bins, confidence)
    info = get_series(store, series)
    fields = series_fields(store, info)  # every run's stored columns, read once
    attrs = series_attributes(store, info, by, fields=fields)
    ref_table = info.tables[info.reference_index]
    cohorts = None
    if where is not None and str(where).strip():
        cohorts = [cohort_sql(store, run_id, where) for run_id in info.run_ids]
    if cohorts is None and store.engine == "duckdb":  # the reference's profile, kept per data version
        prepared = _counts.prepared_attributes(store, ref_table, attrs, bins=bins, edges=None)
    else:  # a cohort's bins are its own: computed for it, not kept
        prepared = prepare_attributes(store, ref_table, attrs, bins=bins, edges=None,
                                      cohort=None if cohorts is None else cohorts[info.reference_index])
    if by is None:
        prepared = [p for p in prepared if not p.constant]
    signal_sql = [[_signal_sql(f, s) for s in signals] for f in fields]
    attr_sql = [p.sql for p in prepared]
    cur = store.cursor()
    # A run stored in the reference's example order is paired with it row by row (no hash join on example ids: half
    # the statement's time on a large series); the others by example id. (DuckDB's POSITIONAL JOIN: with another
    # engine every run is paired by example id.) Whether a run is in that order is checked on every row, once per
    # data version (analysis.slicing.counts.store_cache, as the two-run comparison keeps its matching): later calls
    # read no example id of it.
    # With few cells (analysis.sql.series.cells_form) the statement returns the runs' cells, kept per data version
    # (with the settings that shape them): the grouping sets and the explanation passes (the same sets without some
    # slices' examples) are summed from them in memory, and a later call (other support or FDR, the mix shift along
    # the series) counts no row again.
    use_cells = bool(prepared) and S.cells_form(attr_sql)
    runs = len(info.tables)
    kept = _counts.store_cache(store) if store.engine == "duckdb" else None
    cells_key = None
    if kept is not None and use_cells:
        cells_key = _cells_key(info, ref_table, prepared, signal_sql, cohorts)
        with kept.lock:
            hit = kept.columns.get(cells_key)
            if hit is not None:
                kept.columns.move_to_end(cells_key)
    else:
        hit = None
    aligned = [False] * runs
    verified = [False] * runs
    if hit is not None:
        cells, graded = hit
    else:
        cells = None
        if kept is not None:
            with kept.lock:
                verified = [bool(kept.columns.get(("series aligned", t, ref_table))) for t in info.tables]
            known_bad: set[int] = set()
            if not all(verified):  # checked when the series was created (every row, once)
                stored = order_checks(store, info)
                for k, run_id in enumerate(info.run_ids):
                    if run_id in stored and stored[run_id] == 0:
                        verified[k] = True
                    elif run_id in stored:
                        known_bad.add(k)
            aligned = list(verified)
            if not all(v or k in known_bad for k, v in enumerate(verified)):
                head = cur.execute(*S.aligned_head_sql(info.tables, ref_table)).df()  # a cheap first look
                aligned = [v or (k not in known_bad and bool(m == 0))
                           for k, (v, m) in enumerate(zip(verified, head.sort_values("k")["misplaced"]))]
            # the runs whose first rows agree: every row checked, in one ungrouped statement (not a column carried
            # through the grouping)
            check = [k for k in range(runs) if aligned[k] and not verified[k]]
            bad: set[int] = set()
            if check:
                found = cur.execute(*S.misplaced_sql([info.tables[k] for k in check], ref_table)).df()
                bad = {check[int(i)] for i, m in zip(found["k"], found["misplaced"]) if m > 0}
                aligned = [a and k not in bad for k, a in enumerate(aligned)]
            with kept.lock:  # kept per data version
                for k, table in enumerate(info.tables):
                    if aligned[k]:
                        kept.columns[("series aligned", table, ref_table)] = True
        # graded scores (the one rule, analysis.sql.features.graded_expr) in any run: their sums are counted too
        # (kept per data version)
        graded_key = ("series graded", tuple(info.tables))
        graded = None if kept is None else kept.columns.get(graded_key)
        if graded is None:
            graded = bool(cur.execute(S.graded_sql(info.tables)).df()["g"].any())
            if kept is not None:
                with kept.lock:
                    kept.columns[graded_key] = graded

    def statement(exclude, as_cells: bool) -> pd.DataFrame:
        sql, params = S.trajectory_sql(info.tables, [attr_sql] * runs, signal_sql, reference=ref_table,
                                       exclude=exclude, aligned=aligned, cohorts=cohorts, with_scores=graded,
                                       check_positions=False, cells=as_cells)
        return cur.execute(sql, params).df()

    def count(drivers: Sequence[str] = ()) -> tuple[pd.DataFrame, object]:
        nonlocal cells
        if use_cells:
            if cells is None:
                cells = Cells.from_frame(statement(None, True), len(prepared))
                if cells_key is not None:
                    with kept.lock:
                        kept.columns[cells_key] = (cells, graded)
                        _evict_cells(kept)
            names = [p.attribute.name for p in prepared]
            raw = cells.grouping_sets(runs, [(names.index(raw_of[d][0][0]), raw_of[d][1][0]) for d in drivers])
        else:
            raw = statement(_exclude_sql(drivers, raw_of, prepared) if drivers else None, False)
        raw = raw.sort_values(["gid", "k"] + [f"a{i}" for i in range(len(prepared))], kind="stable")
        raw = raw.reset_index(drop=True)
        return raw, decode_groups(raw, prepared, empty=ALL)

    raw_of: dict = {}
    raw, decoded = count()
    k_attr = len(prepared)
    overall = raw[raw["gid"] == (1 << k_attr) - 1] if k_attr else raw
    n_run = overall.set_index("k")["n"].reindex(range(len(info.run_ids))).fillna(0).to_numpy(dtype=float)
    n_pair = overall.set_index("k")["n_paired"].reindex(range(len(info.run_ids))).fillna(0).to_numpy(dtype=float)
    if paired is None:
        paired = bool(np.all(n_pair >= PAIRED_SHARE * np.maximum(n_run, 1)))

    def analyse(raw, decoded):
        points = _trend_counts(_points(raw, decoded, info, signals, confidence=confidence), paired=paired)
        slices = _slice_table(points, info, paired=paired, min_support=min_support, confidence=confidence, fdr=fdr,
                              graded=graded)
        points = _departures(points, slices, info, paired=paired, fdr=fdr, confidence=confidence)
        return points, _first_departures(points, slices, info, fdr=fdr)

    points, slices = analyse(raw, decoded)
    raw_of.update({d: (a, v) for d, a, v in zip(decoded.descriptions, decoded.attributes, decoded.values)})
    slices = _explain(slices, raw_of, lambda drivers: analyse(*count(drivers))[1], max_drivers)
    settings = {"attributes": [p.attribute.name for p in prepared], "signals": list(signals),
                "min_support": min_support, "confidence": confidence, "fdr": fdr, "bins": bins, "paired": paired,
                "where": where, "graded": graded,
                "score_trend": ("least-squares slope of the score on run positions 0, 1, 2... over every scored "
                                "example, HC3 interval, Benjamini-Hochberg over slices" if graded else ""),
                "trend": ("Cochran-Armitage on correctness over run positions 0, 1, 2..."
                          + (" on the examples shared with the reference" if paired else "")),
                "departure": ("McNemar exact on the discordant pairs with the reference" if paired
                              else "two-proportion test (Fisher / z) against the reference"),
                "multiple_testing": "Benjamini-Hochberg: trends over slices, departures over slices x runs"}
    return Trajectories(info, points, slices, list(signals), paired, settings)


def _points(raw: pd.DataFrame, decoded, info: SeriesInfo, signals: Sequence[str], *,
            confidence: float) -> pd.DataFrame:
    attribute = [a[0] if a else None for a in decoded.attributes]
    value = [next(iter(p.values())) if p else None for p in decoded.predicates]
    n = raw["n"].to_numpy(dtype=np.int64)
    errors = raw["errors"].to_numpy(dtype=np.int64)
    correct = n - errors
    low, high, _ = _stats.rate_interval(correct, n, confidence=confidence)
    k = raw["k"].to_numpy(dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = correct / n
        score_n = raw["score_n"].to_numpy(dtype=float)
        mean_score = np.where(score_n > 0, raw["score_sum"].to_numpy(dtype=float) / score_n, accuracy)
    out = pd.DataFrame({
        "description": decoded.descriptions, "attribute": pd.Series(attribute, dtype=object),
        "value": pd.Series(value, dtype=object), "k": k,
        "run": [info.run_names[i] for i in k], "label": [info.labels[i] for i in k],
        "n": n, "errors": errors, "accuracy": accuracy, "ci_low": low, "ci_high": high, "mean_score": mean_score,
        "score_sum": raw["score_sum"].to_numpy(dtype=float), "score_sq": raw["score_sq"].to_numpy(dtype=float),
        "score_n": raw["score_n"].to_numpy(dtype=np.int64),
        "n_paired": raw["n_paired"].to_numpy(dtype=np.int64),
        "errors_paired": raw["errors_paired"].to_numpy(dtype=np.int64), "b": raw["b"].to_numpy(dtype=np.int64),
        "c": raw["c"].to_numpy(dtype=np.int64),
    })
    for i, name in enumerate(signals):
        with np.errstate(invalid="ignore", divide="ignore"):
            sn = raw[f"s{i}_n"].to_numpy(dtype=float)
            out[f"signal:{name}"] = np.where(sn > 0, raw[f"s{i}_sum"].to_numpy(dtype=float) / sn, np.nan)
            out[f"signal_sq:{name}"] = raw[f"s{i}_sq"].to_numpy(dtype=float)
            out[f"signal_n:{name}"] = sn.astype(np.int64)
    return out


def _wide(points: pd.DataFrame, column: str, order: list[str], runs: int) -> np.ndarray:
    """``column`` as a slices x runs array (rows in ``order``; summed over duplicate rows, 0 where missing)."""
    row = pd.Index(order).get_indexer(points["description"])
    k = points["k"].to_numpy(dtype=np.int64)
    keep = (row >= 0) & (k >= 0) & (k < runs)
    out = np.zeros((len(order), runs))
    np.add.at(out, (row[keep], k[keep]), np.nan_to_num(points[column].to_numpy(dtype=float))[keep])
    return out


def _trend_counts(points: pd.DataFrame, *, paired: bool) -> pd.DataFrame:
    """``points`` with the examples the trend is fitted on and how many are correct (``trend_n``,
    ``trend_correct``): those shared with the reference in a paired series (the reference's rows are all shared),
    else every example. The one definition the trend, the panels and the first / newest columns read."""
    n = points["n_paired" if paired else "n"].fillna(0).to_numpy(dtype=np.int64)
    errors = points["errors_paired" if paired else "errors"].fillna(0).to_numpy(dtype=np.int64)
    return points.assign(trend_n=n, trend_correct=np.clip(n - errors, 0, n))


def _slice_table(points: pd.DataFrame, info: SeriesInfo, *, paired: bool, min_support: int, confidence: float,
                 fdr: float, graded: bool = False) -> pd.DataFrame:
    runs = len(info.run_ids)
    first = points.drop_duplicates("description")
    order = list(first["description"])
    n = _wide(points, "n", order, runs).astype(np.int64)
    errors = _wide(points, "errors", order, runs).astype(np.int64)
    ref = info.reference_index
    n_t = _wide(points, "trend_n", order, runs).astype(np.int64)  # the trend's examples (_trend_counts)
    correct_t = _wide(points, "trend_correct", order, runs).astype(np.int64)
    trend = _stats.cochran_armitage(correct_t, n_t, confidence=confidence)
    n_min = n.min(axis=1)
    too_small = n_min < min_support
    p = np.where(too_small, np.nan, trend.p_value)
    q = _stats.benjamini_hochberg(p)
    drifting = ~too_small & (q < fdr)
    if graded:  # the mean score's least-squares slope over the example rows, HC3 interval; BH over slices
        score = _stats.slope_hc3(_wide(points, "score_n", order, runs).astype(np.int64),
                                 _wide(points, "score_sum", order, runs), _wide(points, "score_sq", order, runs),
                                 confidence=confidence)
        score_p = np.where(too_small, np.nan, score.p_value)
    else:
        nan = np.full(len(order), np.nan)
        score = _stats.Trend(nan, nan, nan, nan, nan)
        score_p = nan
    score_q = _stats.benjamini_hochberg(score_p)
    score_drifting = ~too_small & (score_q < fdr)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = (n - errors) / n
        acc_t = np.where(n_t > 0, correct_t / np.maximum(n_t, 1), np.nan)
    direction = np.where(drifting & (trend.slope < 0), "down", np.where(drifting & (trend.slope > 0), "up", ""))
    return pd.DataFrame({
        "description": order, "attribute": first["attribute"].to_numpy(), "value": first["value"].to_numpy(),
        "n_min": n_min, "too_small": too_small, "first": acc[:, 0], "last": acc[:, -1],
        "first_trend": acc_t[:, 0], "last_trend": acc_t[:, -1],
        "reference": acc[:, ref], "slope": trend.slope, "slope_low": trend.ci_low, "slope_high": trend.ci_high,
        "trend_test": "Cochran-Armitage", "trend_z": trend.z, "trend_p": p, "trend_q": q, "drifting": drifting,
        "direction": direction, "score_slope": score.slope, "score_slope_low": score.ci_low,
        "score_slope_high": score.ci_high, "score_trend_z": score.z, "score_trend_p": score_p,
        "score_trend_q": score_q, "score_drifting": score_drifting,
        "score_direction": np.where(score_drifting & (score.slope < 0), "down",
                                    np.where(score_drifting & (score.slope > 0), "up", "")),
    })


def _departures(points: pd.DataFrame, slices: pd.DataFrame, info: SeriesInfo, *, paired: bool,
                fdr: float, confidence: float = 0.95) -> pd.DataFrame:
    ref = info.reference_index
    small = dict(zip(slices["description"], slices["too_small"]))
    ref_rows = points[points["k"] == ref].set_index("description")
    ref_n = points["description"].map(ref_rows["n"]).fillna(0).to_numpy(dtype=np.int64)
    ref_e = points["description"].map(ref_rows["errors"]).fillna(0).to_numpy(dtype=np.int64)
    n = points["n"].to_numpy(dtype=np.int64)
    e = points["errors"].to_numpy(dtype=np.int64)
    b = points["b"].to_numpy(dtype=np.int64)
    c = points["c"].to_numpy(dtype=np.int64)
    n_pair = points["n_paired"].to_numpy(dtype=np.int64)
    tested = (points["k"].to_numpy() != ref) & ~points["description"].map(small).to_numpy(dtype=bool)
    if paired:
        p = np.where(tested & (n_pair > 0), _stats.mcnemar_exact(b, c), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            departure = np.where(n_pair > 0, (c - b) / n_pair, np.nan)
        test = "McNemar"
    else:
        p_two, _ = _stats.two_proportion_test(e, n, ref_e, ref_n)
        p = np.where(tested, p_two, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            departure = (n - e) / n - (ref_n - ref_e) / np.maximum(ref_n, 1)
        test = "two-proportion"
    q = _stats.benjamini_hochberg(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        paired_acc = np.where(n_pair > 0, (n_pair - points["errors_paired"].to_numpy()) / n_pair, np.nan)
    # the accuracy on the examples the trend is fitted on (the shared ones in a paired series), with its interval:
    # what a panel or a first/newest column beside the trend must show for the two to agree
    n_t = points["trend_n"].to_numpy(dtype=np.int64)
    correct_t = points["trend_correct"].to_numpy(dtype=np.int64)
    t_low, t_high, _ = _stats.rate_interval(correct_t, n_t, confidence=confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_acc = np.where(n_t > 0, correct_t / np.maximum(n_t, 1), np.nan)
    return points.assign(paired_accuracy=paired_acc, trend_accuracy=t_acc, trend_ci_low=t_low,
                         trend_ci_high=t_high,
                         departure=np.where(points["k"].to_numpy() == ref, 0.0, departure), departure_p=p,
                         departure_q=q, departure_test=np.where(tested, test, ""))


def _first_departures(points: pd.DataFrame, slices: pd.DataFrame, info: SeriesInfo, *, fdr: float) -> pd.DataFrame:
    ref = info.reference_index
    hits = points[(points["departure_q"] < fdr) & (points["k"] != ref)].sort_values("k", kind="stable")
    first = hits.drop_duplicates("description").set_index("description")
    k = slices["description"].map(first["k"]).fillna(-1).to_numpy(dtype=np.int64)
    sign = slices["description"].map(first["departure"]).to_numpy(dtype=float)
    best_q = points.groupby("description", sort=False)["departure_q"].min()
    dq = slices["description"].map(best_q).to_numpy(dtype=float)
    evidence = np.fmin(np.fmin(slices["trend_q"].to_numpy(dtype=float), dq),
                       slices["score_trend_q"].to_numpy(dtype=float))
    out = slices.assign(
        first_departure=k,
        first_departure_label=[info.labels[i] if i >= 0 else "" for i in k],
        departure_direction=np.where(k < 0, "", np.where(sign < 0, "worse", "better")),
        departure_q=dq, evidence=evidence)
    out = out.assign(flagged=(out["drifting"] | out["score_drifting"] | (out["first_departure"] >= 0))
                     & ~out["too_small"])
    out = out.assign(_e=out["evidence"].fillna(2.0), _flag=~out["flagged"])
    out = out.sort_values(["_flag", "_e", "description"], kind="stable").drop(columns=["_e", "_flag"])
    return out.reset_index(drop=True)


def _exclude_sql(drivers: Sequence[str], raw_of: dict, prepared) -> tuple[str, list]:
    """An SQL boolean of the examples of any of these slices (to leave them out of every run)."""
    by_name = {p.attribute.name: p for p in prepared}
    conditions, params = [], []
    for d in drivers:
        names, values = raw_of[d]
        where, p = Q.predicate_where([by_name[names[0]].sql], list(values))
        conditions.append(f"({where})")
        params += p
    return " OR ".join(conditions), params


#: Most series' cells kept per store (each a few MB at most: :data:`analysis.sql.series.FEW_CELLS` per run).
MAX_CELLS = 8


def _cells_key(info: SeriesInfo, ref_table: str, prepared, signal_sql, cohorts) -> tuple:
    """What the cells of a series depend on besides the data version: its runs and reference, the attributes' SQL
    (bins included), the signals' SQL and the cohort."""
    attrs = tuple((p.attribute.name, p.sql.expr, tuple(map(repr, p.sql.params))) for p in prepared)
    return ("series cells", tuple(info.tables), ref_table, attrs, repr(signal_sql), repr(cohorts))


def forget_cells(store: Store) -> None:
    """Forget the series' cells kept for ``store`` (the runs found in the reference's example order stay known): the
    next :func:`trajectories` counts the example rows again (a benchmark's repeated call, a test)."""
    kept = _counts.store_cache(store)
    with kept.lock:
        for key in [key for key in kept.columns if isinstance(key, tuple) and key and key[0] == "series cells"]:
            del kept.columns[key]


def _evict_cells(kept) -> None:
    """Drop the least recently used series' cells beyond :data:`MAX_CELLS` (the caller holds ``kept.lock``)."""
    keys = [key for key in kept.columns if isinstance(key, tuple) and key and key[0] == "series cells"]
    for key in keys[: max(len(keys) - MAX_CELLS, 0)]:
        del kept.columns[key]


def _explain(slices: pd.DataFrame, raw_of: dict, reanalyse, max_drivers: int) -> pd.DataFrame:
    """Mark flagged slices whose drift disappears once the strongest drifting slices are left out (greedy).

    ``reanalyse(drivers)`` gives the slice table again with the examples of the driver slices left out of every
    run (summed from the series' cells in memory when they are few, one more statement otherwise)."""
    flagged = slices.loc[slices["flagged"] & (slices["description"] != ALL), "description"].tolist()
    drivers: list[str] = []
    explained: dict[str, str] = {}
    remaining = list(flagged)
    while remaining and len(drivers) < max_drivers:
        driver = remaining[0]  # slices are ordered by evidence
        drivers.append(driver)
        again = reanalyse(list(drivers)).set_index("description")
        still = set(again.index[again["flagged"]])
        for d in remaining:
            if d not in drivers and d not in still:
                # a driver of the slice's own attribute holds none of its examples: it explains nothing there
                explained[d] = ", ".join(x for x in drivers if raw_of[x][0][0] != raw_of[d][0][0])
        remaining = [d for d in remaining if d not in drivers and d not in explained]
    return slices.assign(driver=slices["description"].isin(drivers),
                         explained_by=pd.Series([explained.get(d, "") for d in slices["description"]], dtype="str",
                                               index=slices.index))
