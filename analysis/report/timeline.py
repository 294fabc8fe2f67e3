"""The report's Timeline section: a series of runs (checkpoints, releases) told in the report.

The section holds the drifting slices of the series with their trend and its interval (points per run), the first run
that departs from the reference, the over-optimisation turns of the objective's signals (the surrogate-versus-outcome
curve of the strongest, the turn marked) and the mix-shift sentence of the step whose evaluation mix moved the
headline (else the newest step). Every number is the engine's own (:func:`analysis.series.trajectories.trajectories`,
:func:`analysis.series.surrogate.over_optimisation`, :func:`analysis.series.mix.mix_along` and
:func:`analysis.series.mix.mix_shift`); the charts are :mod:`analysis.figures`' (the Timeline page's).
"""

from __future__ import annotations

import math

import pandas as pd

from analysis import figures
from analysis.errors import FaultlineError
from analysis.objective.spec import Objective, load_objective, parse_objective
from analysis.series.mix import mix_along, mix_shift
from analysis.series.surrogate import over_optimisation
from analysis.series.trajectories import trajectories
from analysis.store import Store
from analysis.store.series import get_series

#: Drifting slices listed (and drawn: at most 6 panels) in the section.
DRIFTING_SHOWN = 12
PANELS = 6

DRIFT_COLUMNS = ["description", "n_min", "first", "last", "slope", "slope_low", "slope_high", "trend_q",
                 "first_departure_label", "departure_direction", "direction", "explained_by"]
TURN_COLUMNS = ["description", "signal", "component_name", "turn_label", "peak_accuracy", "last_accuracy", "q_value",
                "evidence"]


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    out = []
    for row in frame[columns].to_dict("records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()})
    return out


def _objective(objective: str | None, objective_yaml: str | None) -> Objective | None:
    if objective_yaml is not None:
        return parse_objective(objective_yaml, source=objective or "objective spec")
    return load_objective(objective) if objective else None


def timeline_section(store: Store, series: str, *, objective: str | None = None, objective_yaml: str | None = None,
                     attributes: list[str] | None = None, min_support: int = 30, confidence: float = 0.95,
                     fdr: float = 0.05, bins: int = 5) -> dict | str:
    """The Timeline section's data for a series, or why it cannot be computed (plain words).

    Parameters
    ----------
    store : Store
        The store holding the series.
    series : str
        The series' name.
    objective, objective_yaml : str, optional
        The report's objective spec (a path, or its YAML text): its signals are followed for over-optimisation;
        without one the section says so and keeps the rest.
    attributes : list of str, optional
        Attributes to slice by; default the series' defaults.
    min_support, confidence, fdr, bins
        As in :func:`analysis.series.trajectories.trajectories` (the report's own settings).

    Returns
    -------
    dict or str
        ``series``, ``labels`` (run labels in order), ``reference``, ``paired``, ``settings``, ``slices_followed``,
        ``drifting`` (records, strongest evidence first: accuracy ``first`` / ``last`` as fractions, ``slope`` with
        ``slope_low`` / ``slope_high`` in fractions per run, ``trend_q``, the first departure), ``explained``
        (how many flagged slices another slice's drift explains), ``points`` (the drawn slices' accuracy per run),
        ``turns`` (the over-optimisation turns found, records), ``curve`` (the strongest turn's curves, or None),
        ``objective`` (whether one was given), ``mix`` (``sentence``, ``run_a``, ``run_b``, ``shifted``: whether the
        mix moved the headline at that step) -- or a string saying why there is no section (no such series).

    Raises
    ------
    FaultlineError
        A bad objective spec, a named attribute missing from a run.
    """
    try:
        info = get_series(store, series)
    except FaultlineError as err:
        return f"the series {series!r} cannot be read: {err}"
    traj = trajectories(store, info, attributes, min_support=min_support, confidence=confidence, fdr=fdr, bins=bins)
    drifting = traj.drifting()
    shown = drifting.head(DRIFTING_SHOWN)
    drawn = list(shown["description"])[:PANELS]
    points = traj.points[traj.points["description"].isin(drawn)]
    data: dict = {
        "series": info.name, "labels": list(info.labels), "runs": list(info.run_names),
        "reference": info.run_names[info.reference_index], "paired": traj.paired, "settings": traj.settings,
        "slices_followed": len(traj.slices), "drifting_total": len(drifting),
        "explained": int((traj.slices["explained_by"] != "").sum()),
        "drifting": _records(shown, DRIFT_COLUMNS), "drawn": drawn,
        "points": _records(points, ["description", "k", "label", "accuracy", "ci_low", "ci_high", "departure_q"]),
        "turns": [], "curve": None, "objective": False,
    }
    spec = _objective(objective, objective_yaml)
    if spec is not None:
        data["objective"] = True
        o = over_optimisation(store, info, spec, by=attributes, min_support=min_support,
                              confidence=confidence, fdr=fdr, bins=bins)
        found = o.found()
        data["turns"] = _records(found, TURN_COLUMNS)
        if len(found):
            top = found.iloc[0]
            curve = o.curves[(o.curves["description"] == top["description"]) & (o.curves["signal"] == top["signal"])]
            data["curve"] = {"description": top["description"], "signal": top["signal"],
                             "turn_label": top["turn_label"], "rows": _records(curve, list(curve.columns))}
    steps = mix_along(store, info, confidence=confidence)
    if len(steps):
        shifted = steps[steps["mix_shift"]]
        step = shifted.iloc[0] if len(shifted) else steps.iloc[-1]
        mix = mix_shift(store, step["previous"], step["run"], confidence=confidence)
        data["mix"] = {"sentence": mix.sentence(), "run_a": step["previous"], "run_b": step["run"],
                       "shifted": bool(len(shifted)),
                       "steps": [f"{r.previous} → {r.run} ({r.attribute})" for r in shifted.itertuples()]}
    else:
        data["mix"] = None
    return data


def timeline_figures(data: dict) -> dict:
    """The section's plotly figures (:mod:`analysis.figures`): ``timeline_drift`` (small multiples of the drawn
    drifting slices) and ``timeline_surrogate`` (the strongest turn's curves with the turn marked), when there is
    something to draw."""
    out = {}
    if data.get("drawn"):
        out["timeline_drift"] = figures.trajectory_grid(pd.DataFrame(data["points"]), data["drawn"])
    curve = data.get("curve")
    if curve:
        out["timeline_surrogate"] = figures.surrogate_curve(pd.DataFrame(curve["rows"]),
                                                            description=curve["description"],
                                                            signal=curve["signal"], turn_label=curve["turn_label"])
    return out
