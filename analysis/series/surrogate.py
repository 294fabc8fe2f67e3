"""Surrogate against outcome along a series: the over-optimisation turn.

A training objective pushes a surrogate (a reward model's score, a penalty) that stands for what users need. Past
some point the surrogate keeps improving while the outcome it stands for gets worse (reward over-optimisation; Gao,
Schulman and Hilton, "Scaling Laws for Reward Model Overoptimization", ICML 2023). Per slice and per objective
signal of the spec, this module finds the turn: the run where the outcome peaks, after which

1. the outcome falls significantly (Cochran-Armitage over the runs from the peak on, :func:`analysis.stats.
   cochran_armitage`), having risen significantly up to it (the same test over the runs up to the peak);
2. the signal, oriented the way the objective pushes it, keeps rising significantly (HC3 slope over the runs
   from the peak on, :func:`analysis.stats.slope_hc3`).

All three must hold, so the turn's p-value is the largest of the three (an intersection-union test), multiplied by
the number of candidate peaks (Bonferroni over where the turn could be: the peak is chosen from the data); q-values
are Benjamini-Hochberg over every (slice, signal). The per-slice signal means and outcomes come from the same one
statement over all runs as :func:`analysis.series.trajectories.trajectories`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis import stats as _stats
from analysis.objective.spec import Objective, load_objective
from analysis.series.trajectories import ALL, Trajectories, trajectories
from analysis.store import Store
from analysis.store.series import SeriesInfo, get_series

#: The failure mode an over-optimisation turn is evidence of (see :mod:`analysis.objective.taxonomy`).
OVER_OPTIMISATION_MODE = "reward_hacking"


@dataclass
class OverOptimisation:
    """Per slice and objective signal: the signal's mean and the outcome per run, and the turn when there is one."""

    series: SeriesInfo
    turns: pd.DataFrame
    """One row per (slice, signal), turns first: ``description``, ``attribute``, ``value``, ``signal``,
    ``component`` (id), ``component_name``, ``direction``, ``turn`` (position of the peak run, -1 when no peak
    inside the series), ``turn_label``, ``peak_accuracy``, ``last_accuracy``, ``first_accuracy`` (fractions),
    ``fall`` (peak minus last, fraction), ``rise_p``, ``fall_p``, ``signal_slope`` (oriented signal per run after
    the turn), ``signal_p``, ``p_value`` (the turn's: the largest of the three, times the candidate peaks), ``q_value``,
    ``over_optimised`` (q below the FDR), ``evidence`` (plain words: "over-optimised after step N")."""
    curves: pd.DataFrame
    """One row per slice, signal and run: ``description``, ``signal``, ``k``, ``label``, ``accuracy``, ``ci_low``,
    ``ci_high`` (the outcome, on the examples shared with the reference when the series is paired),
    ``signal_mean``, ``signal_low``, ``signal_high`` (normal interval of the mean, the signal's unit)."""
    trajectories: Trajectories
    settings: dict = field(default_factory=dict)

    def found(self) -> pd.DataFrame:
        """The (slice, signal) pairs with a significant over-optimisation turn."""
        return self.turns[self.turns["over_optimised"]].reset_index(drop=True)

    def link_evidence(self, objective: Objective, *, mode: str = OVER_OPTIMISATION_MODE) -> pd.DataFrame:
        """The turns as evidence for the Failure modes link: one row per turn, with the failure mode it supports.

        Parameters
        ----------
        objective : Objective
            The spec the turns were found with (for the components' ``can_cause``).
        mode : str, default "reward_hacking"
            The failure mode an over-optimisation turn is evidence of (when the component can cause it).

        Returns
        -------
        pandas.DataFrame
            ``mode`` (its id in the spec, renamed as the spec says), ``mode_name`` (the spec's name), ``component``,
            ``component_name``, ``kind`` ("over-optimisation"), ``description`` (the slice), ``signal``,
            ``turn_label``, ``q_value``, ``evidence`` ("over-optimised after step N: ..."), ``can_cause`` (the spec
            lists the mode among the component's effects).
        """
        causes = {c.id: set(c.can_cause) for c in objective.components}
        names = {m.id: m.name for m in objective.modes}
        mode = objective.aliases.get(mode, mode)  # a mode the spec renamed: its new id (the one can_cause lists)
        found = self.found()
        return pd.DataFrame({
            "mode": mode, "mode_name": names.get(mode, mode), "component": found["component"],
            "component_name": found["component_name"], "kind": "over-optimisation",
            "description": found["description"], "signal": found["signal"], "turn_label": found["turn_label"],
            "q_value": found["q_value"], "evidence": found["evidence"],
            "can_cause": [mode in causes.get(c, set()) for c in found["component"]]})


def _signals(objective: Objective) -> list[tuple[str, str, str, str]]:
    """(column, direction, component id, component name) of every signal of the spec, in order, each column once."""
    out, seen = [], set()
    for comp in objective.components:
        for sig in comp.signals:
            if sig.column not in seen:
                seen.add(sig.column)
                out.append((sig.column, sig.direction, comp.id, comp.name))
    return out


def over_optimisation(store: Store, series: str | SeriesInfo, objective: Objective | str | os.PathLike, *,
                      by: Sequence[str] | None = None, traj: Trajectories | None = None, min_support: int = 30,
                      confidence: float = 0.95, fdr: float = 0.05, bins: int = 5,
                      where: str | None = None) -> OverOptimisation:
    """Find, per slice and objective signal, the run after which the signal keeps rising while the outcome falls.

    Parameters
    ----------
    store : Store
        The store holding the series.
    series : str or SeriesInfo
        The series.
    objective : Objective or path
        The objective spec (:func:`analysis.objective.spec.load_objective`): its components' signals are measured.
    by : sequence of str, optional
        Attributes (default: as :func:`analysis.series.trajectories.trajectories`).
    traj : Trajectories, optional
        Trajectories already computed with the spec's signals (saves the statement).
    min_support : int, default 30
        Least examples a slice must have in every run to be tested.
    confidence : float, default 0.95
        Coverage of the intervals.
    fdr : float, default 0.05
        False discovery rate over every (slice, signal).
    bins : int, default 5
        Quantile bins of numeric attributes.
    where : str, optional
        A cohort in the rule language (:mod:`analysis.slicing.cohorts`): signals and outcomes are the cohort's
        (:func:`analysis.series.trajectories.trajectories` over it). Ignored when ``traj`` is given.

    Returns
    -------
    OverOptimisation
        ``turns`` (one row per slice and signal, turns first), ``curves`` (per run), ``trajectories``.

    Raises
    ------
    FaultlineError
        No such series; an objective spec that does not validate (with its file and line).

    References
    ----------
    Gao, L., Schulman, J. and Hilton, J. (2023), "Scaling Laws for Reward Model Overoptimization", ICML; Berger,
    R. L. (1982), "Multiparameter hypothesis testing and acceptance sampling", Technometrics 24 (the
    intersection-union test); Cochran (1954), Armitage (1955); MacKinnon and White (1985).
    """
    spec = objective if isinstance(objective, Objective) else load_objective(objective)
    info = get_series(store, series)
    signals = _signals(spec)
    columns = [s[0] for s in signals]
    if traj is None:
        traj = trajectories(store, info, by, signals=columns, min_support=min_support, confidence=confidence,
                            fdr=fdr, bins=bins, max_drivers=0, where=where)
    points = traj.points
    runs = len(info.run_ids)
    descriptions = list(traj.slices["description"])
    small = dict(zip(traj.slices["description"], traj.slices["too_small"]))
    meta = traj.slices.set_index("description")
    n_col, e_col = ("n_paired", "errors_paired") if traj.paired else ("n", "errors")
    rows, curves = [], []
    z = float(norm.ppf(0.5 + confidence / 2))
    for desc in descriptions:
        sub = points[points["description"] == desc].set_index("k").reindex(range(runs))
        n = sub[n_col].fillna(0).to_numpy(dtype=np.int64)
        correct = n - sub[e_col].fillna(0).to_numpy(dtype=np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            acc = correct / n
        low, high, _ = _stats.rate_interval(correct, n, confidence=confidence)
        finite = np.where(np.isfinite(acc), acc, -np.inf)
        peak = int(np.argmax(finite[:-1])) if runs > 1 else 0
        for column, direction, comp_id, comp_name in signals:
            if f"signal:{column}" not in sub:
                continue
            mean = sub[f"signal:{column}"].to_numpy(dtype=float)
            sn = sub[f"signal_n:{column}"].fillna(0).to_numpy(dtype=np.int64)
            ssum = np.nan_to_num(mean) * sn
            ssq = sub[f"signal_sq:{column}"].fillna(0).to_numpy(dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                sd = np.sqrt(np.maximum(ssq / sn - mean ** 2, 0) * sn / np.maximum(sn - 1, 1))
                half = z * sd / np.sqrt(sn)
            for k in range(runs):
                curves.append({"description": desc, "signal": column, "k": k, "label": info.labels[k],
                               "accuracy": acc[k], "ci_low": low[k], "ci_high": high[k], "signal_mean": mean[k],
                               "signal_low": mean[k] - half[k], "signal_high": mean[k] + half[k]})
            sign = 1.0 if direction == "higher_is_better" else -1.0
            tested = not small.get(desc, True) and 1 <= peak <= runs - 2 and (sn > 1).sum() == runs
            rise_p = fall_p = sig_p = slope = np.nan
            if tested:
                rise = _stats.cochran_armitage(correct[: peak + 1], n[: peak + 1])
                fall = _stats.cochran_armitage(correct[peak:], n[peak:])
                after = _stats.slope_hc3(sn[peak:], sign * ssum[peak:], ssq[peak:])
                rise_p = float(rise.p_value[0]) if rise.z[0] > 0 else 1.0
                fall_p = float(fall.p_value[0]) if fall.z[0] < 0 else 1.0
                slope = float(after.slope[0])
                sig_p = float(after.p_value[0]) if after.z[0] > 0 else 1.0
            p = min(1.0, max(rise_p, fall_p, sig_p) * max(runs - 2, 1)) if tested else np.nan
            rows.append({"description": desc, "attribute": meta.loc[desc, "attribute"],
                         "value": meta.loc[desc, "value"], "signal": column, "component": comp_id,
                         "component_name": comp_name, "direction": direction,
                         "turn": peak if tested else -1, "turn_label": info.labels[peak] if tested else "",
                         "peak_accuracy": acc[peak], "last_accuracy": acc[-1], "first_accuracy": acc[0],
                         "fall": acc[peak] - acc[-1], "rise_p": rise_p, "fall_p": fall_p, "signal_slope": slope,
                         "signal_p": sig_p, "p_value": p})
    turns = pd.DataFrame(rows, columns=["description", "attribute", "value", "signal", "component", "component_name",
                                        "direction", "turn", "turn_label", "peak_accuracy", "last_accuracy",
                                        "first_accuracy", "fall", "rise_p", "fall_p", "signal_slope", "signal_p",
                                        "p_value"])
    turns["q_value"] = _stats.benjamini_hochberg(turns["p_value"].to_numpy(dtype=float)) if len(turns) else []
    turns["over_optimised"] = turns["q_value"] < fdr
    turns["evidence"] = pd.Series([f"over-optimised after {label}: {sig} kept rising while accuracy fell "
                                   f"{fall * 100:.1f} points from its peak" if hit else ""
                                   for hit, label, sig, fall in zip(turns["over_optimised"], turns["turn_label"],
                                                                    turns["signal"], turns["fall"])], dtype="str")
    turns = turns.assign(_o=~turns["over_optimised"], _q=turns["q_value"].fillna(2.0), _all=turns["description"] == ALL)
    turns = turns.sort_values(["_o", "_q", "_all", "description"], kind="stable").drop(columns=["_o", "_q", "_all"])
    settings = {"signals": columns, "fdr": fdr, "confidence": confidence, "min_support": min_support,
                "test": ("intersection-union of: accuracy rising to the peak and falling after it (Cochran-Armitage), "
                         "the oriented signal rising after it (HC3 slope); Bonferroni over the candidate peaks; "
                         "Benjamini-Hochberg over slices x signals")}
    return OverOptimisation(info, turns.reset_index(drop=True), pd.DataFrame(curves), traj, settings)
