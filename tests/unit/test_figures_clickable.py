"""The Failure modes page's clickable matrix (:func:`analysis.figures.clickable_matrix`): one invisible point per cell
at the cell's own position, carrying its mode and component ids, so that a click selects exactly that cell; the chosen
cell framed; the heatmaps leave their hover to the points (a click picks the point under the mouse)."""

from __future__ import annotations

import pandas as pd

from analysis import figures

CELLS = pd.DataFrame({
    "mode": ["m1", "m1", "m2", "m2", "m3", "m3"], "component": ["c1", "c2"] * 3,
    "mode_name": ["Mode one", "Mode one", "Mode two", "Mode two", "Mode three", "Mode three"],
    "component_name": ["Comp one", "Comp two"] * 3,
    "verdict": ["implicated", "not implicated", "insufficient evidence", "no signal", "not implicated", "implicated"],
    "rule": ["r"] * 6, "relation": ["can_cause"] * 6,
    "auc": [0.9, 0.4, None, None, 0.45, 0.8], "auc_low": [0.8, 0.3, None, None, 0.35, 0.7],
    "auc_high": [0.95, 0.5, None, None, 0.55, 0.9]})


def test_each_cell_has_one_point_at_its_own_position_with_its_ids():
    fig = figures.clickable_matrix(figures.modes_matrix(CELLS), CELLS)
    heat, points = fig.data[1], fig.data[-1]
    assert points.type == "scatter" and len(points.x) == len(CELLS)
    for x, y, (mode, comp, _) in zip(points.x, points.y, points.customdata):
        i = list(dict.fromkeys(CELLS["mode"])).index(mode)
        j = list(dict.fromkeys(CELLS["component"])).index(comp)
        assert (x, y) == (heat.x[j], heat.y[i])  # the same category as the heatmap's cell
    assert {tuple(c[:2]) for c in points.customdata} == set(zip(CELLS["mode"], CELLS["component"]))
    assert all(t.hoverinfo == "skip" for t in fig.data if t.type == "heatmap")
    assert fig.layout.xaxis.fixedrange and fig.layout.yaxis.fixedrange and not fig.layout.shapes


def test_the_chosen_cell_is_framed_and_an_unknown_one_is_not():
    fig = figures.clickable_matrix(figures.modes_matrix(CELLS), CELLS, selected=("m3", "c2"))
    (frame,) = fig.layout.shapes
    assert (frame.x0, frame.x1, frame.y0, frame.y1) == (0.5, 1.5, 1.5, 2.5)  # column 1, row 2 of the category grid
    assert not figures.clickable_matrix(figures.modes_matrix(CELLS), CELLS, selected=("m9", "c1")).layout.shapes
