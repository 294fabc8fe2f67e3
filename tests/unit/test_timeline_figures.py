"""The Timeline's figures: the surrogate chart's right-hand axis has its own round ticks (the trial read 0.374,
0.433, 0.67: ticks synced to the accuracy's gridlines), and the small multiples leave room on the right for the
last panel's slanted run label (the trial saw "step 6,000" cut at 1280x720). Drawn in a browser by
tests/browser/test_timeline_trial.py."""

from __future__ import annotations

import pandas as pd

from analysis import figures


def _curves() -> pd.DataFrame:
    labels = [f"step {k:,}" for k in range(1000, 7000, 1000)]
    return pd.DataFrame({"description": "a", "signal": "rm", "k": range(6), "label": labels,
                         "accuracy": [0.69, 0.78, 0.86, 0.77, 0.66, 0.56], "ci_low": 0.5, "ci_high": 0.9,
                         "signal_mean": [0.34, 0.42, 0.49, 0.6, 0.68, 0.76], "signal_low": 0.3,
                         "signal_high": 0.8})


def test_the_signal_axis_has_its_own_round_ticks():
    fig = figures.surrogate_curve(_curves(), description="a", signal="rm", turn_label="step 3,000")
    axis = fig.layout.yaxis2
    assert axis.tickmode == "auto" and axis.nticks and axis.nticks <= 8 and axis.tickformat == "~r"


def test_the_grid_leaves_room_for_the_last_panels_last_label():
    points = _curves().assign(departure_q=0.5, trend_accuracy=0.7, trend_ci_low=0.6, trend_ci_high=0.8)
    for columns in (1, 3):
        fig = figures.trajectory_grid(points, ["a"], columns=columns)
        assert fig.layout.margin.r >= figures.GRID_RIGHT_MARGIN >= 60


def test_the_grid_draws_the_shared_examples_when_asked():
    points = _curves().assign(departure_q=0.5, trend_accuracy=[0.7] * 6, trend_ci_low=0.6, trend_ci_high=0.8)
    assert list(figures.trajectory_grid(points, ["a"], shared=True).data[0].y) == [0.7] * 6
    assert list(figures.trajectory_grid(points, ["a"]).data[0].y) == list(points["accuracy"])


def test_the_surrogate_charts_accuracy_axis_names_the_shared_examples():
    shared = figures.surrogate_curve(_curves(), description="a", signal="rm", shared=True)
    assert shared.layout.yaxis.title.text == "accuracy (shared examples)"
    assert figures.surrogate_curve(_curves(), description="a", signal="rm").layout.yaxis.title.text == "accuracy"
