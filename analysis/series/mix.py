"""Mix shift against model change: how much of a headline change between two runs comes from a changed evaluation mix.

For each attribute, the change in accuracy from run A to run B is split (Kitagawa 1955,
:func:`analysis.stats.kitagawa`) into **composition** (the shares of the attribute's values changed) and **within**
(accuracy changed inside the values), with intervals; the attribute's distribution shift is tested (chi-square) and
measured (population stability index). The counts of every attribute in both runs come from one grouping statement
(:func:`analysis.sql.series.trajectory_sql`). :meth:`MixShift.sentence` says in plain words when a drop is all
composition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.slicing.attributes import decode_groups, prepare_attributes, resolve_attributes
from analysis.slicing.cohorts import cohort_sql
from analysis.slicing.params import check_slicing_params
from analysis.sql import series as S
from analysis.store import Store

MSG_SAME_RUN = "Mix shift compares two different runs; got {run!r} twice"
MSG_NOT_IN_BOTH = "Attribute {name!r} is not in run {run!r}; a mix shift needs an attribute both runs have"

#: PSI at or above this is called a large shift (the usual rule of thumb); 0.1 to 0.25 is moderate.
PSI_LARGE = 0.25


@dataclass
class MixShift:
    """The change in accuracy between two runs, decomposed over each attribute."""

    run_a: str
    """The first run's name."""
    run_b: str
    """The second run's name."""
    accuracy_a: float
    accuracy_b: float
    attributes: pd.DataFrame
    """One row per attribute, the strongest composition first: ``attribute``, ``total`` (accuracy B minus A, a
    difference of fractions), ``composition`` with ``composition_low`` / ``composition_high``, ``within`` with
    ``within_low`` / ``within_high``, ``total_low``, ``total_high``, ``chi2``, ``dof``, ``shift_p``, ``psi``,
    ``verdict`` ("composition", "within", "both", "none")."""
    values: pd.DataFrame
    """One row per attribute value: ``attribute``, ``value``, ``n_a``, ``n_b``, ``share_a``, ``share_b``,
    ``accuracy_a``, ``accuracy_b`` (fractions), ``composition``, ``within`` (its parts of the change)."""
    settings: dict = field(default_factory=dict)

    def top(self) -> pd.Series | None:
        """The attribute whose mix explains most of the change (largest composition part), or None."""
        return None if self.attributes.empty else self.attributes.iloc[0]

    def sentence(self) -> str:
        """The headline change and what it comes from, in plain words (points are percentage points)."""
        top = self.top()
        total = self.accuracy_b - self.accuracy_a
        moved = "fell" if total < 0 else "rose"
        head = (f"Accuracy {moved} {abs(total) * 100:.1f} points from {self.run_a} ({self.accuracy_a:.1%}) to "
                f"{self.run_b} ({self.accuracy_b:.1%}).")
        if top is None:
            return head
        values = self.values[self.values["attribute"] == top["attribute"]]
        grew = values.assign(d=values["share_b"] - values["share_a"]).sort_values("d", ascending=False).iloc[0]
        mix = (f"the share of {top['attribute']} = {grew['value']} went from {grew['share_a']:.0%} to "
               f"{grew['share_b']:.0%} (PSI {top['psi']:.2f})")
        parts = (f"composition {top['composition'] * 100:+.1f} points (95% CI {top['composition_low'] * 100:+.1f} to "
                 f"{top['composition_high'] * 100:+.1f}), within {top['attribute']} values "
                 f"{top['within'] * 100:+.1f} points (95% CI {top['within_low'] * 100:+.1f} to "
                 f"{top['within_high'] * 100:+.1f})")
        verdict = top["verdict"]
        if verdict == "composition":
            what = ("all composition: " if abs(top["within"]) < abs(top["composition"]) else "composition: ")
            return (f"{head} The change is {what}{mix}, while accuracy within each {top['attribute']} stayed "
                    f"the same ({parts}). The evaluation mix changed, not the model.")
        if verdict == "within":
            return (f"{head} The mix did not explain it: accuracy changed within {top['attribute']} values ({parts}).")
        if verdict == "both":
            if abs(top["composition"]) > 2 * abs(top["within"]):
                return (f"{head} Most of the change is composition: {mix}; accuracy within {top['attribute']} values "
                        f"changed too, but less ({parts}).")
            return f"{head} Both the mix and the model changed: {mix}; {parts}."
        return f"{head} Neither the mix of any attribute nor accuracy within its values changed significantly ({parts})."


def _verdict(d: _stats.Decomposition) -> str:
    comp = not (d.composition_low <= 0 <= d.composition_high)
    within = not (d.within_low <= 0 <= d.within_high)
    return {(True, False): "composition", (False, True): "within", (True, True): "both"}.get((comp, within), "none")


def mix_shift(store: Store, run_a: str, run_b: str, by: Sequence[str] | None = None, *, confidence: float = 0.95,
              bins: int = 5, where: str | None = None) -> MixShift:
    """Decompose the change in accuracy from ``run_a`` to ``run_b`` into mix (composition) and model (within) parts.

    Parameters
    ----------
    store : Store
        The store holding both runs.
    run_a, run_b : str
        Run names or ids (the change is B minus A); their examples may differ.
    by : sequence of str, optional
        Attributes to decompose over; default run A's default attributes that run B has too, without the attributes
        of the model's output (outcome attributes, :func:`analysis.slicing.attributes.classify_attribute`: they are not the mix).
    confidence : float, default 0.95
        Coverage of the intervals.
    bins : int, default 5
        Quantile bins of numeric attributes, cut on run A (the same edges for run B); in the cohort when ``where``
        is given.
    where : str, optional
        A cohort in the rule language (:mod:`analysis.slicing.cohorts`), applied to both runs: accuracies, shares
        and the decomposition are the cohort's, as if the runs held nothing else.

    Returns
    -------
    MixShift
        Per attribute the decomposition and distribution shift; per value the shares and accuracies;
        :meth:`MixShift.sentence` in plain words.

    Raises
    ------
    FaultlineError
        The same run twice (:data:`MSG_SAME_RUN`), a named attribute one run lacks (:data:`MSG_NOT_IN_BOTH`), a
        cohort that does not compile on a run (names the field).
    RunNotFoundError
        A run not in the store.

    References
    ----------
    Kitagawa, E. M. (1955), JASA 50, 1168-1194; Pearson's chi-square of homogeneity; the population stability
    index (Yurdakul 2018).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/m.duckdb")
    >>> def run(n_hard, tag):
    ...     hard = [i < n_hard for i in range(400)]
    ...     return pd.DataFrame({"prompt": [f"{tag}{i}" for i in range(400)],
    ...                          "domain": ["code" if h else "chat" for h in hard],
    ...                          "correct": [(i % 2 == 0) if h else (i % 10 != 0) for i, h in enumerate(hard)]})
    >>> _ = s.ingest_frame(run(40, "a"), name="v1")
    >>> _ = s.ingest_frame(run(200, "b"), name="v2")
    >>> m = mix_shift(s, "v1", "v2", ["domain"])
    >>> m.top()["verdict"]
    'composition'
    """
    check_slicing_params(1, 1, 0.05, bins, confidence)
    a, b = store.schema(run_a), store.schema(run_b)
    if a.run_id == b.run_id:
        raise FaultlineError(MSG_SAME_RUN.format(run=a.name))
    attrs = resolve_attributes(store, a, by)
    if by is None:  # the model's own output is not part of the evaluation mix
        attrs = [x for x in attrs if x.role != "outcome"]
    columns_b = set(b.fields["column_name"])
    kept = []
    for attr in attrs:
        if attr.column is not None and attr.column not in columns_b:
            if by is not None:
                raise FaultlineError(MSG_NOT_IN_BOTH.format(name=attr.name, run=b.name))
            continue
        kept.append(attr)
    cohorts = _cohorts(store, [a.run_id, b.run_id], where)
    prepared = [p for p in prepare_attributes(store, a.table_name, kept, bins=bins, edges=None,
                                              cohort=None if cohorts is None else cohorts[0])
                if by is not None or not p.constant]
    frame = _counts(store, [a.table_name, b.table_name], prepared, cohorts)
    return _decompose(frame, [p.attribute.name for p in prepared], 0, 1, a.name, b.name, confidence=confidence,
                      bins=bins, where=where)


def _cohorts(store: Store, run_ids: Sequence[str], where: str | None) -> list | None:
    """The cohort's ``(sql, params)`` on each run (None without a cohort)."""
    if where is None or not str(where).strip():
        return None
    return [cohort_sql(store, run_id, where) for run_id in run_ids]


def _counts(store: Store, tables: Sequence[str], prepared, cohorts) -> pd.DataFrame:
    """Examples and correct ones per run (``k``, its position in ``tables``) and attribute value, and per run
    (``attribute`` None), from one grouping statement over every run (:func:`analysis.sql.series.trajectory_sql`)."""
    sql_attrs = [p.sql for p in prepared]
    sql, params = S.trajectory_sql(list(tables), [sql_attrs] * len(tables), [[] for _ in tables], cohorts=cohorts,
                                   with_scores=False)
    raw = store.cursor().execute(sql, params).df()
    raw = raw.sort_values(["gid", "k"] + [f"a{i}" for i in range(len(prepared))], kind="stable").reset_index(drop=True)
    decoded = decode_groups(raw, prepared)
    return pd.DataFrame({"attribute": [x[0] if x else None for x in decoded.attributes],
                         "value": [next(iter(p.values())) if p else None for p in decoded.predicates],
                         "k": raw["k"].to_numpy(dtype=np.int64), "n": raw["n"].to_numpy(dtype=np.int64),
                         "correct": (raw["n"] - raw["errors"]).to_numpy(dtype=np.int64)})


def _split(frame: pd.DataFrame, names: Sequence[str]) -> dict:
    """Per attribute, its rows of ``frame`` as arrays: the distinct values (in order of first appearance), each row's
    value code (-1 missing), run, examples and correct ones (read once for every step of a series)."""
    out = {}
    attribute = frame["attribute"]
    for name in names:
        sub = frame[attribute == name]
        codes, uniques = pd.factorize(sub["value"], sort=False)
        out[name] = (np.asarray(uniques, dtype=object), np.asarray(codes), sub["k"].to_numpy(dtype=np.int64),
                     sub["n"].to_numpy(dtype=np.int64), sub["correct"].to_numpy(dtype=np.int64))
    return out


def _two_runs(part, ka: int, kb: int):
    """One attribute's values present in run ``ka`` or ``kb`` (in order of first appearance among their rows) with
    the examples and correct ones of each run (0 where absent): ``values, n1, n2, c1, c2``."""
    uniques, codes, k, n, c = part
    mask = ((k == ka) | (k == kb)) & (codes >= 0)
    present = codes[mask]
    order = present[np.sort(np.unique(present, return_index=True)[1])]
    position = np.full(len(uniques), -1, dtype=np.int64)
    position[order] = np.arange(len(order))
    out = []
    for run in (ka, kb):
        rows = mask & (k == run)
        for what in (n, c):
            total = np.zeros(len(order), dtype=np.int64)
            np.add.at(total, position[codes[rows]], what[rows])
            out.append(total)
    n1, c1, n2, c2 = out
    return uniques[order], n1, n2, c1, c2


def _decompose(frame: pd.DataFrame, names: Sequence[str], ka: int, kb: int, name_a: str, name_b: str, *,
               confidence: float, bins: int, where: str | None, parts: dict | None = None) -> MixShift:
    """The mix shift from run ``ka`` to run ``kb`` of the counts of :func:`_counts` (``parts``: :func:`_split` of
    ``frame``, when already made)."""
    parts = _split(frame, names) if parts is None else parts
    whole = frame[frame["attribute"].isna() & frame["k"].isin([ka, kb])].set_index("k")
    acc_a = float(whole.loc[ka, "correct"] / whole.loc[ka, "n"]) if ka in whole.index and whole.loc[ka, "n"] else \
        float("nan")
    acc_b = float(whole.loc[kb, "correct"] / whole.loc[kb, "n"]) if kb in whole.index and whole.loc[kb, "n"] else \
        float("nan")
    rows, value_rows = [], []
    for name in names:
        values, n1, n2, c1, c2 = _two_runs(parts[name], ka, kb)
        if n1.sum() == 0 or n2.sum() == 0:
            continue
        d = _stats.kitagawa(c1, n1, c2, n2, confidence=confidence)
        shift = _stats.distribution_shift(n1, n2)
        rows.append({"attribute": name, "total": d.total, "total_low": d.total_low, "total_high": d.total_high,
                     "composition": d.composition, "composition_low": d.composition_low,
                     "composition_high": d.composition_high, "within": d.within, "within_low": d.within_low,
                     "within_high": d.within_high, "chi2": shift.chi2, "dof": shift.dof, "shift_p": shift.p_value,
                     "psi": shift.psi, "verdict": _verdict(d)})
        with np.errstate(invalid="ignore", divide="ignore"):
            for i, value in enumerate(values):
                value_rows.append({"attribute": name, "value": value, "n_a": int(n1[i]), "n_b": int(n2[i]),
                                   "share_a": n1[i] / n1.sum(), "share_b": n2[i] / n2.sum(),
                                   "accuracy_a": c1[i] / n1[i] if n1[i] else np.nan,
                                   "accuracy_b": c2[i] / n2[i] if n2[i] else np.nan,
                                   "composition": d.slice_composition[i], "within": d.slice_within[i]})
    table = pd.DataFrame(rows, columns=["attribute", "total", "total_low", "total_high", "composition",
                                        "composition_low", "composition_high", "within", "within_low", "within_high",
                                        "chi2", "dof", "shift_p", "psi", "verdict"])
    if len(table):
        significant = table["verdict"].isin(["composition", "both"])
        table = table.assign(_s=~significant, _c=-table["composition"].abs())
        table = table.sort_values(["_s", "_c", "attribute"], kind="stable").drop(columns=["_s", "_c"])
    settings = {"attributes": list(names), "confidence": confidence, "bins": bins,
                "where": where,
                "decomposition": "Kitagawa (symmetric), delta-method intervals, runs independent",
                "shift": "Pearson chi-square of homogeneity; population stability index (shares floored at 1e-4)"}
    return MixShift(name_a, name_b, acc_a, acc_b, table.reset_index(drop=True), pd.DataFrame(value_rows), settings)


def mix_along(store: Store, series, by: Sequence[str] | None = None, *, confidence: float = 0.95,
              bins: int = 5, where: str | None = None) -> pd.DataFrame:
    """The mix shift between each run of a series and the one before it, from one statement over the whole series.

    The counts of every run and attribute value are those of :func:`analysis.series.trajectories.trajectories` over
    the same attributes, bins and cohort (one statement over all the runs, :func:`analysis.sql.series.trajectory_sql`;
    none when the series' cells are kept from an earlier call, :mod:`analysis.series.cells`); each step is then
    decomposed as :func:`mix_shift` does. The
    attributes are the series' (:func:`analysis.series.trajectories.series_attributes`: the reference run's,
    present in every run), numeric ones cut into bins on the reference run (in the cohort), the same edges for
    every step, so a step's decomposition equals :func:`mix_shift` of its two runs over the same attributes and
    bins.

    Parameters
    ----------
    store : Store
        The store holding the series.
    series : str or SeriesInfo
        The series.
    by : sequence of str, optional
        Attributes (default: the reference run's default attributes every run has, without outcome attributes and
        those holding one value).
    confidence : float, default 0.95
        Coverage of the intervals.
    bins : int, default 5
        Quantile bins of numeric attributes (cut on the reference run).
    where : str, optional
        A cohort in the rule language (:mod:`analysis.slicing.cohorts`), applied to every run: each step's
        decomposition is the cohort's.

    Returns
    -------
    pandas.DataFrame
        One row per step (run ``k`` against run ``k - 1``): ``k``, ``label``, ``run``, ``previous``, ``total``
        (accuracy change, fraction), ``attribute`` (the one whose mix explains most), ``composition``,
        ``composition_low``, ``composition_high``, ``within``, ``within_low``, ``within_high``, ``psi``,
        ``verdict``, ``mix_shift`` (the verdict is "composition" or "both": the mix changed significantly and moved
        the headline), ``sentence``.

    Raises
    ------
    FaultlineError
        No such series; a named attribute one run lacks; a cohort that does not compile on a run.
    """
    from analysis.series.trajectories import trajectories
    from analysis.store.series import get_series

    check_slicing_params(1, 1, 0.05, bins, confidence)
    info = get_series(store, series)
    # the counts per run and attribute value are the trajectories' (the same attributes, bins and cohort): when the
    # series' cells are kept (analysis.series.cells) nothing is counted again
    traj = trajectories(store, info, by, min_support=1, confidence=confidence, bins=bins, max_drivers=0, where=where)
    points = traj.points
    frame = pd.DataFrame({"attribute": points["attribute"], "value": points["value"],
                          "k": points["k"].to_numpy(dtype=np.int64), "n": points["n"].to_numpy(dtype=np.int64),
                          "correct": (points["n"] - points["errors"]).to_numpy(dtype=np.int64)})
    names = list(traj.settings["attributes"])
    parts = _split(frame, names)
    rows = []
    for k in range(1, len(info.run_ids)):
        m = _decompose(frame, names, k - 1, k, info.run_names[k - 1], info.run_names[k], confidence=confidence,
                       bins=bins, where=where, parts=parts)
        top = m.top()
        row = {"k": k, "label": info.labels[k], "run": info.run_names[k], "previous": info.run_names[k - 1],
               "total": m.accuracy_b - m.accuracy_a}
        keys = ("attribute", "composition", "composition_low", "composition_high", "within", "within_low",
                "within_high", "psi", "verdict")
        row.update({key: (top[key] if top is not None else None) for key in keys})
        row["mix_shift"] = top is not None and top["verdict"] in ("composition", "both")
        row["sentence"] = m.sentence()
        rows.append(row)
    return pd.DataFrame(rows)
