"""Faultline's figures: one builder per chart, shared by the app's pages and the audit report.

Each builder takes a table the engine computed (a :class:`pandas.DataFrame`, or the records of
a report turned back into one) and returns a :class:`plotly.graph_objects.Figure`. Nothing here
computes a statistic: the numbers drawn are the engine's numbers, only arranged. Figures are
sized and labelled for a projector at 1280 x 720 (height at most 720 px, 16 px text); the app
stretches them to its column, the report exports them as SVG (:mod:`analysis.report`).

Units: rates (error rate, accuracy, share) are fractions in [0, 1] drawn as percentages
(``tickformat=".0%"``); differences of rates are drawn in percentage points (the fraction
times 100), and their axes say "points".

A builder given an empty table returns a figure with a single centred note (no traces), so a
page or a report can always draw what it gets.

>>> import pandas as pd
>>> runs = pd.DataFrame({"name": ["a"], "accuracy": [0.8], "ci_low": [0.7], "ci_high": [0.88], "scored": [100]})
>>> fig = headline_forest(runs)
>>> [float(v) for v in fig.data[0].x], round(float(fig.data[0].error_x.array[0]), 2)
([0.8], 0.08)
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.clusters.describe import EMPTY, NOISE
from analysis.formatting import format_q

#: The size figures are made for (a projector); the height never exceeds it.
PROJECTOR_WIDTH, PROJECTOR_HEIGHT = 1280, 720
#: The smallest height of a figure, in pixels.
MIN_HEIGHT = 320
#: Base text size (pixels) and the font, also used when the report exports figures.
FONT = {"family": "DejaVu Sans, Arial, sans-serif", "size": 16, "color": "#0F172A"}
#: Points drawn on the cluster map at most (a seeded sample beyond; SVG markers, so they are drawn in order).
MAP_POINTS = 5_000

FINDING = "#C2410C"
NEUTRAL = "#64748B"
INK = "#0F172A"
#: The colour of the points a highlight leaves in the background (:func:`cluster_highlight_css`).
FADED = "#CBD5E1"
GRID = "#E2E8F0"
VERDICT_COLORS = {"regressed": "#B91C1C", "improved": "#15803D", "not significant": NEUTRAL,
                  "unchanged": NEUTRAL}  # "unchanged": the same verdict in findings pinned before it was renamed
PALETTE = ["#2563EB", "#C2410C", "#059669", "#7C3AED", "#DB2777", "#0891B2", "#CA8A04", "#4F46E5", "#65A30D",
           "#DC2626", "#0D9488", "#9333EA", "#EA580C", "#16A34A", "#78350F", "#BE123C"]
#: Marker symbols of groups past the palette's length (the 17th group a square in the first colour, ...): no two
#: groups of a map are drawn alike.
GROUP_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "star"]
#: Text of a matrix cell's verdict.
VERDICT_TEXT = {"implicated": "<b>IMPLICATED</b>", "not implicated": "not implicated",
                "insufficient evidence": "insufficient", "no signal": "no signal"}
#: Short text of a declared relation in a matrix cell.
RELATION_TEXT = {"guards against": "guards against", "can cause": "can cause", "none": "",
                 "guards against and can cause": "guards + can cause"}
#: The same texts for a matrix of many components (narrow columns at 1280x720).
VERDICT_TEXT_SHORT = {"implicated": "<b>implicated</b>", "not implicated": "not impl.",
                      "insufficient evidence": "insuff.", "no signal": "no signal"}
RELATION_TEXT_SHORT = {"guards against": "guards", "can cause": "can cause", "none": "",
                       "guards against and can cause": "guards+cause"}
#: From this many components on, matrix cells use the short texts and the column headers stand upright (read
#: bottom to top), so that at 1280x720 no header overlaps its neighbour and no cell's text is cut.
NARROW_MATRIX = 5
#: Characters per line of a failure mode's name beside the matrix (long names wrap, leaving the columns room).
MODE_LABEL_WIDTH = 18

MSG_EMPTY = "Nothing to draw: {what}"


def label(value) -> str:
    """Text from a log or a spec as plotly shows it: ``<``, ``>`` and ``&`` escaped, so a value such as
    ``<a href=...>`` or ``<b>`` is drawn as those characters, never as plotly's markup (a link, bold text).
    Every label, tick, legend name, hover and title that carries such text goes through here.

    >>> label('<a href="https://x.example">click</a> & more')
    '&lt;a href="https://x.example"&gt;click&lt;/a&gt; &amp; more'
    """
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _labels(values) -> list[str]:
    return [label(v) for v in values]


def _with_q_text(*columns, q_at: tuple[int, ...] = (1,)) -> np.ndarray:
    """A hover's customdata (shape (n, len(columns)), object): numbers as floats, the columns at ``q_at`` as
    :func:`analysis.format_q` writes them (a d3 ``.2g`` would show a q of 0.9964 as "1.0")."""
    cols = [[format_q(float(v)) for v in np.asarray(c, dtype=float)] if i in q_at
            else [float(v) for v in np.asarray(c, dtype=float)] for i, c in enumerate(columns)]
    return np.array(list(zip(*cols)), dtype=object).reshape(len(cols[0]), len(cols))


def _height(rows: int, *, per_row: float, base: float) -> int:
    """A height in pixels for ``rows`` rows, between :data:`MIN_HEIGHT` and the projector's height."""
    return int(min(PROJECTOR_HEIGHT, max(MIN_HEIGHT, base + per_row * rows)))


def _style(fig: go.Figure, *, title: str | None, height: int, **layout) -> go.Figure:
    """The layout every figure shares: fonts, white background, margins, the title."""
    fig.update_layout(
        height=height, font=FONT, paper_bgcolor="white", plot_bgcolor="white",
        margin={"l": 10, "r": 20, "t": 60 if title else 20, "b": 50},
        title={"text": title, "font": {"size": 18}, "x": 0.01, "xanchor": "left"} if title else None,
        hoverlabel={"font": {"size": 14}}, **layout)
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID, automargin=True)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID, automargin=True)
    return fig


#: Text sizes (pixels) of a figure drawn with ``size="large"`` (review mode on a 1280x720 projector).
LARGE_FONT, LARGE_TICKS, LARGE_TITLE = 20, 18, 24
#: Marker symbols that carry a verdict or a finding besides its colour (``size="large"``).
VERDICT_SYMBOLS = {"regressed": "triangle-up", "improved": "triangle-down", "not significant": "circle",
                   "unchanged": "circle"}


def _enlarge(fig: go.Figure, size: str) -> go.Figure:
    """Every text of a figure at a size readable on a projector (``size="large"``: at least 16 px), markers bigger.

    >>> fig = _enlarge(go.Figure(go.Scatter(x=[1], y=["a"])), "large")
    >>> fig.layout.font.size, fig.layout.yaxis.tickfont.size
    (20, 18)
    """
    if size == "normal":
        return fig
    if size != "large":
        raise ValueError(f"size must be 'normal' or 'large', got {size!r}")
    fig.update_layout(font={**FONT, "size": LARGE_FONT}, hoverlabel={"font": {"size": LARGE_TICKS}},
                      legend={"font": {"size": LARGE_TICKS}})
    if fig.layout.title and fig.layout.title.text:
        fig.update_layout(title={"font": {"size": LARGE_TITLE}})
    fig.update_xaxes(tickfont={"size": LARGE_TICKS}, title_font={"size": LARGE_FONT})
    fig.update_yaxes(tickfont={"size": LARGE_TICKS}, title_font={"size": LARGE_FONT})
    fig.update_traces(marker={"size": 18}, selector={"type": "scatter"})
    fig.update_annotations(font={"size": LARGE_TICKS})
    return fig


def _capped(fig: go.Figure, shown: int, total: int, what: str) -> go.Figure:
    """Say under a chart's title when the chart draws only the first ``shown`` of ``total`` rows (by evidence), the
    top margin made room for it; a chart that draws every row is left as it is.

    >>> fig = _capped(_style(go.Figure(), title="Change", height=300), 30, 41, "tested slices")
    >>> fig.layout.title.subtitle.text, fig.layout.margin.t
    ('The first 30 of 41 tested slices, by evidence', 80)
    >>> _capped(go.Figure(), 12, 12, "tested slices").layout.title.subtitle.text is None
    True
    """
    if shown < total:
        fig.update_layout(title={"subtitle": {"text": f"The first {shown:,} of {total:,} {what}, by evidence",
                                              "font": {"size": 13}}},
                          margin={"t": (fig.layout.margin.t or 60) + 20})
    return fig


def _empty(what: str, *, title: str | None = None) -> go.Figure:
    """A figure with no trace and a centred note saying there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(text=MSG_EMPTY.format(what=what), x=0.5, y=0.5, xref="paper", yref="paper",
                       showarrow=False, font={"size": 18, "color": NEUTRAL})
    _style(fig, title=title, height=MIN_HEIGHT)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _error_bars(value: pd.Series, low: pd.Series, high: pd.Series, *, thickness: float = 2) -> dict:
    """Asymmetric error bars from an interval around ``value`` (same units)."""
    return {"type": "data", "symmetric": False, "array": (high - value).to_numpy(dtype=float),
            "arrayminus": (value - low).to_numpy(dtype=float), "thickness": thickness, "width": 5}


def _wrap(text: str, width: int = 14) -> str:
    """A label cut into lines of about ``width`` characters at spaces (plotly's ``<br>``)."""
    lines = [""]
    for word in str(text).split():
        if lines[-1] and len(lines[-1]) + len(word) >= width:
            lines.append("")
        lines[-1] = (lines[-1] + " " + word).strip()
    return "<br>".join(lines)


def _span(values: pd.Series, scale: float, *, default: float) -> float:
    """Half the width of a symmetric axis: the largest absolute value times ``scale`` (``default``
    when there is no finite, non-zero value)."""
    finite = np.abs(values.to_numpy(dtype=float))
    finite = finite[np.isfinite(finite)]
    span = float(finite.max()) * scale if finite.size else 0.0
    return span if span > 0 else default


# ------------------------------------------------------------------------------------ the forests
def headline_forest(runs: pd.DataFrame, *, title: str = "Headline per run") -> go.Figure:
    """Each run's headline with its interval: the start page's chart and the report's summary chart.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run, as :meth:`analysis.Store.headline` returns it (or the report's run
        records): ``name``, ``scored`` (examples with an outcome), and the headline ``metric``
        ("accuracy", or "mean score" for graded scores), ``value``, ``low``, ``high`` (a frame
        with only ``accuracy``, ``ci_low``, ``ci_high`` is read as accuracies). Runs with no
        scored example are left out, and so are mean scores outside [0, 1] (a 1-10 rating
        cannot share the axis with rates; the table lists them).
    title : str
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        One marker per run (x: the headline as a percentage, y: the run's name, top to bottom
        in the table's order) with the 95% interval as error bars; a note when no run is shown.
    """
    if len(runs) and "value" not in runs.columns:
        runs = runs.assign(metric="accuracy", value=runs["accuracy"], low=runs["ci_low"], high=runs["ci_high"])
    shown = runs[(runs["scored"] > 0) & runs["value"].between(0, 1)] if len(runs) else runs
    drawn = set(shown["name"]) if len(shown) else set()
    unscored = [str(r.name) for r in runs.itertuples() if r.name not in drawn and not r.scored > 0] if len(runs) else []
    other_unit = [str(r.name) for r in runs.itertuples() if r.name not in drawn and r.scored > 0] if len(runs) else []
    if shown.empty:
        return _empty("no run has a headline in [0, 1] to draw", title=title)
    # a t interval of a mean of scores in [0, 1] may reach past the scale: drawn up to its edge
    low, high = shown["low"].clip(0, 1), shown["high"].clip(0, 1)
    fig = go.Figure(go.Scatter(
        x=shown["value"], y=_labels(shown["name"]), mode="markers", marker={"size": 14, "color": FINDING},
        error_x=_error_bars(shown["value"], low, high),
        customdata=np.column_stack([shown["scored"].to_numpy(), low.to_numpy(), high.to_numpy(),
                                    shown["metric"].to_numpy(dtype=object)]),
        hovertemplate="%{y}<br>%{customdata[3]} %{x:.1%}<br>95% CI %{customdata[1]:.1%} to %{customdata[2]:.1%}"
                      "<br>n = %{customdata[0]:,}<extra></extra>"))
    graded = set(shown["metric"]) - {"accuracy"}
    axis = "Accuracy (95% Wilson interval)" if not graded else \
        "Accuracy (Wilson interval) or mean score (t interval), 95%"
    if other_unit:
        axis += f"<br>not drawn, a mean score outside [0, 1] (see the table): {_label_list(other_unit)}"
    if unscored:
        axis += f"<br>not drawn, nothing scored: {_label_list(unscored)}"
    notes = bool(other_unit) + bool(unscored)
    return _style(fig, title=title, height=_height(len(shown), per_row=56, base=140 + 20 * notes),
                  xaxis={"title": axis, "tickformat": ".0%", "range": [0, 1.02]},
                  yaxis={"autorange": "reversed", "type": "category"})


def _label_list(names: list[str], limit: int = 4) -> str:
    """Names for a chart note, escaped (log text is never markup) and cut after ``limit``."""
    shown = ", ".join(label(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def slice_forest(table: pd.DataFrame, *, overall_error_rate: float | None = None, top: int = 25,
                 title: str = "Top slices by evidence (orange: worse than the rest)",
                 size: Literal["normal", "large"] = "normal") -> go.Figure:
    """Error rate of the slices with the strongest evidence, with their intervals: the Slices page's
    chart and the report's.

    Parameters
    ----------
    table : pandas.DataFrame
        Slices sorted by evidence, as :attr:`analysis.slicing.table.SliceResult.table` (redundant
        rows already left out by the caller): ``description``, ``n``, ``error_rate``, ``ci_low``,
        ``ci_high`` (fractions in [0, 1]), ``q_value``, ``finding`` and ``too_small``. Slices
        below the minimum support are never drawn.
    overall_error_rate : float, optional
        The run's error rate (a fraction), drawn as a dashed line.
    top : int
        How many slices to draw at most (the first of the table).
    title : str
        The figure's title.
    size : {"normal", "large"}
        ``"large"``: every text at least 18 px (review mode on a projector), and a finding also
        drawn as a diamond and named on its label ("worse than the rest"), so colour is not
        the only carrier of meaning.

    Returns
    -------
    plotly.graph_objects.Figure
        One marker per slice (x: error rate as a percentage; orange for a finding, grey
        otherwise) with error bars from ``ci_low`` to ``ci_high``; a note when no slice is
        large enough to test.
    """
    tested = table[~table["too_small"].astype(bool)] if len(table) else table
    shown = tested.head(top)
    if shown.empty:
        return _empty("no slice reaches the minimum support", title=title)
    large = size == "large"
    names = [label(d) + (" (worse than the rest)" if large and f else "")
             for d, f in zip(shown["description"], shown["finding"])]
    fig = go.Figure(go.Scatter(
        x=shown["error_rate"], y=names if large else _labels(shown["description"]), mode="markers",
        marker={"size": 12, "color": [FINDING if f else NEUTRAL for f in shown["finding"]],
                **({"symbol": ["diamond" if f else "circle" for f in shown["finding"]]} if large else {})},
        error_x=_error_bars(shown["error_rate"], shown["ci_low"], shown["ci_high"], thickness=1.5),
        customdata=_with_q_text(shown["n"], shown["q_value"]),
        hovertemplate="%{y}<br>error rate %{x:.1%}<br>n = %{customdata[0]:,}<br>q = %{customdata[1]}"
                      "<extra></extra>"))
    if overall_error_rate is not None and overall_error_rate == overall_error_rate:
        fig.add_vline(x=overall_error_rate, line_dash="dash", line_color=INK,
                      annotation_text=f"whole run: {overall_error_rate:.1%}", annotation_position="top")
    fig = _style(fig, title=title, height=_height(len(shown), per_row=60 if large else 26, base=140),
                 xaxis={"title": "Error rate (95% interval)", "tickformat": ".0%"},
                 yaxis={"autorange": "reversed", "type": "category", "tickfont": {"size": 14}})
    return _enlarge(fig, size)


def comparison_forest(table: pd.DataFrame, *, max_drop: float | None = None, top: int = 30,
                      title: str = "Change in error rate per slice, candidate minus baseline",
                      size: Literal["normal", "large"] = "normal") -> go.Figure:
    """The change in error rate of each slice between two runs, in points: the Compare page's chart
    and the report's.

    Parameters
    ----------
    table : pandas.DataFrame
        Slices as :attr:`analysis.slicing.compare.Comparison.table` (sorted by evidence):
        ``description``, ``n``, ``difference``, ``ci_low``, ``ci_high`` (candidate minus
        baseline error rate, fractions in [-1, 1]), ``q_value``, ``b`` (new errors), ``c``
        (fixed) and ``verdict`` (``regressed``, ``improved``, ``not significant`` or ``not tested``).
        Rows not tested (``too_small`` set, or the verdict ``not tested``) are left out.
    max_drop : float, optional
        The regression gate's largest allowed accuracy drop (a fraction): a dashed line at
        ``max_drop * 100`` points.
    top : int
        How many slices to draw at most.
    title : str
        The figure's title.
    size : {"normal", "large"}
        ``"large"``: every text at least 18 px (review mode on a projector), and each verdict
        also carried by the marker's shape (:data:`VERDICT_SYMBOLS`) besides its colour and legend.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per verdict present (in the order regressed, improved, not significant), x in
        percentage points (``difference * 100``) with the interval as error bars, y the slice;
        the slices keep the table's order. A note when no slice is large enough.
    """
    view = table[~table["too_small"].astype(bool)] if len(table) and "too_small" in table else table
    if len(view) and "verdict" in view:
        view = view[view["verdict"].isin(list(VERDICT_COLORS))]  # tested rows only: "not tested" is no finding
    forest = view.head(top)
    if forest.empty:
        return _empty("no slice of the matched examples reaches the minimum support", title=title)
    fig = go.Figure()
    for verdict, color in VERDICT_COLORS.items():
        part = forest[forest["verdict"] == verdict]
        if part.empty:
            continue
        fig.add_trace(go.Scatter(
            x=part["difference"] * 100, y=_labels(part["description"]), mode="markers", name=verdict,
            marker={"size": 12, "color": color,
                    **({"symbol": VERDICT_SYMBOLS[verdict]} if size == "large" else {})},
            error_x=_error_bars(part["difference"] * 100, part["ci_low"] * 100, part["ci_high"] * 100,
                                thickness=1.5),
            customdata=_with_q_text(part["n"], part["q_value"], part["b"], part["c"]),
            hovertemplate="%{y}<br>change in error rate %{x:+.1f} points<br>n = %{customdata[0]:,}"
                          "<br>q = %{customdata[1]}<br>new errors %{customdata[2]:,}, fixed %{customdata[3]:,}"
                          "<extra></extra>"))
    fig.add_vline(x=0, line_color=INK)
    if max_drop is not None:
        fig.add_vline(x=max_drop * 100, line_dash="dash", line_color=VERDICT_COLORS["regressed"],
                      annotation_text="gate", annotation_position="top")
    fig = _style(fig, title=title, height=_height(len(forest), per_row=60 if size == "large" else 26, base=170),
                 xaxis={"title": "Change in error rate (points, 95% interval)", "ticksuffix": " pts"},
                 yaxis={"autorange": "reversed", "type": "category", "categoryorder": "array",
                        "categoryarray": _labels(forest["description"]), "tickfont": {"size": 14}},
                 legend={"orientation": "h", "y": -0.15})
    return _enlarge(_capped(fig, len(forest), len(view), "tested slices"), size)


# ------------------------------------------------------------------------------------ the heatmap
def slice_heatmap(cells: pd.DataFrame, x: str, y: str, *, title: str | None = None) -> go.Figure:
    """Error rate over the values of two attributes: the Slices page's heatmap and the report's.

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per pair of values, as :func:`analysis.slicing.table.heatmap_cells` (or
        :func:`analysis.slicing.table.heatmap`): a column named ``x`` and one named ``y`` (the
        values' labels), ``n``, ``error_rate``, ``ci_low``, ``ci_high`` (fractions) and
        ``q_value``; with a ``finding`` column, cells worse than the rest are marked ``*``.
    x, y : str
        The attributes: ``x``'s values are the rows, ``y``'s the columns (sorted).
    title : str, optional
        The figure's title (default ``Error rate: x x y``).

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap trace: ``z[i][j]`` is the error rate of row value ``i`` and column value
        ``j`` (None where no example has both), coloured from 0; each cell's text gives the
        rate as a percentage and n. A note when there is no cell.
    """
    title = title if title is not None else f"Error rate: {label(x)} x {label(y)}"
    if cells.empty:
        return _empty(f"no example has both {label(x)} and {label(y)}", title=title)
    rows = sorted(set(cells[x]), key=str)
    cols = sorted(set(cells[y]), key=str)
    marked = "finding" in cells
    lookup = {(a, b): r for a, b, r in zip(cells[x], cells[y], cells.to_dict("records"))}
    z, text, hover = [], [], []
    for a in rows:
        zr, tr, hr = [], [], []
        for b in cols:
            r = lookup.get((a, b))
            if r is None:
                zr.append(None), tr.append(""), hr.append("no examples")
                continue
            zr.append(r["error_rate"])
            tr.append(f"{r['error_rate']:.0%}<br>n={r['n']:,}" + (" *" if marked and r["finding"] else ""))
            hr.append(f"{label(x)} = {label(a)}<br>{label(y)} = {label(b)}<br>error rate {r['error_rate']:.1%} [{r['ci_low']:.1%}, "
                      f"{r['ci_high']:.1%}]<br>n = {r['n']:,}<br>q = {format_q(r['q_value'])}")
        z.append(zr), text.append(tr), hover.append(hr)
    fig = go.Figure(go.Heatmap(
        z=z, x=_labels(cols), y=_labels(rows), text=text, texttemplate="%{text}",
        textfont={"size": 14}, customdata=hover, hovertemplate="%{customdata}<extra></extra>", colorscale="OrRd",
        zmin=0, colorbar={"title": {"text": "error rate"}, "tickformat": ".0%"}, xgap=1, ygap=1))
    return _style(fig, title=title, height=_height(len(rows), per_row=56, base=160),
                  xaxis={"title": label(y), "type": "category", "showgrid": False},
                  yaxis={"title": label(x), "type": "category", "autorange": "reversed", "showgrid": False})


# ------------------------------------------------------------------------------- failure modes
def modes_matrix(cells: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """Failure modes (rows) x objective components (columns): the Failure modes page's matrix and the
    report's.

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per (mode, component), as :attr:`analysis.objective.link.LinkResult.cells` (or
        the report's cell records): ``mode``, ``component``, ``verdict``, ``rule``, ``relation``,
        ``auc``, ``auc_low``, ``auc_high`` (the preference AUC, a probability in [0, 1]), and
        optionally ``mode_name`` and ``component_name`` (else the ids label the axes). Modes and
        components keep the order of their first row (the spec's order).
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        Two heatmap traces on the same grid: the first paints the cells with insufficient
        evidence amber and those with no signal grey, with their text (so a matrix with no judged cell, a run
        without a spec, still shows its modes and components); the second (``data[1]``) carries ``z[i][j]``, the preference AUC of
        mode ``i`` and component ``j`` where the verdict was judged (implicated or not
        implicated), None elsewhere, on a blue (penalises the failure) to red (rewards it)
        scale centred on 0.5, and each cell's text: the verdict, the AUC, the declared
        relation. Cells with no signal stay grey. A note when there is no cell.
    """
    if cells.empty:
        return _empty("the spec has no component or no failure mode", title=title)
    modes = list(dict.fromkeys(cells["mode"]))
    comps = list(dict.fromkeys(cells["component"]))
    mode_names = {m: label(n) for m, n in (zip(cells["mode"], cells["mode_name"]) if "mode_name" in cells
                                           else zip(modes, modes))}
    comp_names = {c: n for c, n in (zip(cells["component"], cells["component_name"]) if "component_name" in cells
                                    else zip(comps, comps))}
    height = _height(len(modes), per_row=64, base=150)
    row_px = (height - 150) / max(len(modes), 1)
    lookup = {(r["mode"], r["component"]): r for r in cells.to_dict("records")}
    narrow = len(comps) >= NARROW_MATRIX
    verdict_text = VERDICT_TEXT_SHORT if narrow else VERDICT_TEXT
    relation_text = RELATION_TEXT_SHORT if narrow else RELATION_TEXT
    z, amber, text, hover = [], [], [], []
    for m in modes:
        zr, ar, tr, hr = [], [], [], []
        for c in comps:
            r = lookup[(m, c)]
            auc, low, high = (float("nan") if r[k] is None else float(r[k]) for k in ("auc", "auc_low", "auc_high"))
            judged = r["verdict"] in ("implicated", "not implicated") and auc == auc
            zr.append(auc if judged else None)
            # amber: insufficient evidence; grey (0): no signal, so a matrix with no judged cell still shows its grid
            ar.append(1 if r["verdict"] == "insufficient evidence" else 0 if r["verdict"] == "no signal" else None)
            relation = label(relation_text.get(r["relation"], r["relation"]))
            tr.append(verdict_text[r["verdict"]] + (f"<br>AUC {auc:.2f}" if judged and row_px >= 36 else "")
                      + (f"<br><i>{relation}</i>" if relation and row_px >= 54 else ""))
            hr.append(f"{mode_names[m]} x {label(comp_names[c])}<br>{r['verdict']} (rule {label(r['rule'])})"
                      f"<br>declared: {label(r['relation'])}" + (f"<br>preference AUC {auc:.2f} [{low:.2f}, {high:.2f}]"
                                            if auc == auc else ""))
        z.append(zr), amber.append(ar), text.append(tr), hover.append(hr)
    xs = [_wrap(label(comp_names[c]), 14 if narrow else 12) for c in comps]
    ys = [_wrap(mode_names[m], MODE_LABEL_WIDTH) for m in modes]
    fig = go.Figure()
    fig.add_trace(go.Heatmap(z=amber, x=xs, y=ys, colorscale=[[0, GRID], [1, "#FEF3C7"]], zmin=0, zmax=1,
                             showscale=False, text=text, texttemplate="%{text}",
                             textfont={"size": 11 if narrow else 12}, customdata=hover,
                             hovertemplate="%{customdata}<extra></extra>", xgap=2, ygap=2))
    fig.add_trace(go.Heatmap(
        z=z, x=xs, y=ys, text=text, texttemplate="%{text}", textfont={"size": 11 if narrow else 12}, customdata=hover,
        hovertemplate="%{customdata}<extra></extra>", colorscale=[[0, "#1D4ED8"], [0.5, "#F8FAFC"], [1, "#B91C1C"]],
        zmin=0, zmax=1, zmid=0.5, xgap=2, ygap=2,
        colorbar={"title": {"text": "AUC", "font": {"size": 14}, "side": "right"}, "tickvals": [0, 0.25, 0.5, 0.75, 1],
                  "thickness": 14, "xpad": 4, "tickfont": {"size": 13}}))
    _style(fig, title=title, height=height)
    fig.update_layout(plot_bgcolor=GRID, margin={"t": 110 if title else 80})
    fig.update_xaxes(side="top", type="category", tickangle=-90 if narrow else 0, showgrid=False, automargin=True,
                     tickfont={"size": 12 if narrow else 13})
    fig.update_yaxes(autorange="reversed", type="category", showgrid=False, tickfont={"size": 14})
    return fig


def clickable_matrix(fig: go.Figure, cells: pd.DataFrame, *, selected: tuple[str, str] | None = None) -> go.Figure:
    """The matrix of :func:`modes_matrix` made clickable in the app: a click on a cell selects it.

    A heatmap cannot be selected by a click (plotly selects points of scatter traces only), so an invisible marker
    at each cell's centre takes the clicks (and the cells' hover texts): Streamlit's ``on_select`` then returns the
    marker clicked, whose ``customdata`` is ``[mode id, component id, hover text]``. The selected cell, if any, is
    framed. Zoom and pan are off (a click must select, never move the grid).

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        A figure from :func:`modes_matrix` of the same ``cells`` (modified in place and returned).
    cells : pandas.DataFrame
        The cells it was drawn from: ``mode``, ``component`` (ids, in the figure's order).
    selected : tuple of str, optional
        ``(mode id, component id)`` of the cell to frame.

    Returns
    -------
    plotly.graph_objects.Figure
        ``data[-1]`` is the scatter of cell centres (one point per cell, ``customdata[0:2]`` its mode and component).
    """
    if cells.empty or len(fig.data) < 2:
        return fig
    modes = list(dict.fromkeys(cells["mode"]))
    comps = list(dict.fromkeys(cells["component"]))
    heat = fig.data[1]
    xs, ys = list(heat.x), list(heat.y)
    hover = heat.customdata
    px, py, custom = [], [], []
    for i, m in enumerate(modes):
        for j, c in enumerate(comps):
            px.append(xs[j])
            py.append(ys[i])
            custom.append([m, c, hover[i][j] if hover is not None else f"{m} x {c}"])
    fig.update_traces(hoverinfo="skip", hovertemplate=None, selector={"type": "heatmap"})
    fig.add_trace(go.Scatter(
        x=px, y=py, mode="markers", customdata=custom, hovertemplate="%{customdata[2]}<extra></extra>",
        marker={"symbol": "square", "size": 28, "color": "rgba(0,0,0,0)", "line": {"width": 0}},
        selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}}, showlegend=False))
    if selected is not None and selected[0] in modes and selected[1] in comps:
        i, j = modes.index(selected[0]), comps.index(selected[1])
        fig.add_shape(type="rect", xref="x", yref="y", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                      line={"color": "#111827", "width": 4}, fillcolor="rgba(0,0,0,0)", layer="above")
    fig.update_layout(hoverdistance=-1, clickmode="event+select", dragmode=False)
    fig.update_xaxes(fixedrange=True)
    fig.update_yaxes(fixedrange=True)
    return fig


def goodhart_plot(points: pd.DataFrame, *, component_name: str, mode_name: str) -> go.Figure:
    """The surrogate against the outcome across an objective change, one point per slice: the Failure
    modes page's Goodhart plot.

    Parameters
    ----------
    points : pandas.DataFrame
        The slices of one signal, as :meth:`analysis.objective.link.LinkResult.goodhart_points`:
        ``description``, ``signal``, ``n``, ``d_signal`` (change of the signal, oriented as the
        objective prefers it, in the signal's units), ``d_accuracy`` (change in accuracy, a
        fraction), ``q_signal``, ``q_outcome``, ``goodhart`` (in the Goodhart quadrant), ``up``
        (the mode became more frequent there) and ``d_rate`` (change of the mode's rate, a
        fraction).
    component_name, mode_name : str
        The component and the failure mode, for the title.

    Returns
    -------
    plotly.graph_objects.Figure
        One scatter trace: x the signal change, y the accuracy change in points
        (``d_accuracy * 100``), marker size growing with n; red for a Goodhart slice where the
        mode rose, orange for another Goodhart slice, grey otherwise. The quadrant where the
        surrogate went up and the outcome down is shaded. A note when there is no slice.
    """
    title = f"{label(component_name)}: one point per slice (red: Goodhart slice where {label(mode_name.lower())} rose)"
    if points.empty:
        return _empty("no slice has a signal change in both runs", title=title)
    signal = points["signal"].iloc[0]
    goodhart = points["goodhart"].astype(bool).to_numpy()
    up = points["up"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    colors = np.where(goodhart & up, "#B91C1C", np.where(goodhart, "#F97316", NEUTRAL))
    xmax = _span(points["d_signal"], 1.15, default=1.0)
    ymax = _span(points["d_accuracy"], 115, default=10.0)
    fig = go.Figure()
    fig.add_shape(type="rect", x0=0, x1=xmax, y0=-ymax, y1=0, fillcolor="#FEE2E2", line_width=0, layer="below")
    fig.add_annotation(x=xmax * 0.98, y=-ymax * 0.97, text="Goodhart quadrant: surrogate up, outcome down",
                       showarrow=False, xanchor="right", yanchor="bottom", font={"color": "#991B1B", "size": 14})
    fig.add_trace(go.Scatter(
        x=points["d_signal"], y=points["d_accuracy"] * 100, mode="markers", text=_labels(points["description"]),
        marker={"size": np.clip(np.sqrt(points["n"].to_numpy(dtype=float)) / 3, 8, 32), "color": colors,
                "line": {"width": 0.5, "color": INK}},
        customdata=_with_q_text(points["n"], points["q_signal"], points["q_outcome"], points["d_rate"] * 100,
                                q_at=(1, 2)),
        hovertemplate="%{text}<br>signal change %{x:+.3f}<br>accuracy change %{y:+.1f} points<br>n = "
                      "%{customdata[0]:,}<br>q signal %{customdata[1]}, q outcome %{customdata[2]}<br>mode "
                      "rate change %{customdata[3]:+.1f} points<extra></extra>"))
    fig.add_hline(y=0, line_color=INK, line_width=1)
    fig.add_vline(x=0, line_color=INK, line_width=1)
    return _style(fig, title=title, height=560, showlegend=False,
                  xaxis={"title": f"change in {label(signal)} (as the objective prefers it)", "range": [-xmax, xmax]},
                  yaxis={"title": "change in accuracy (points)", "range": [-ymax, ymax]})


# ------------------------------------------------------------------------------------ clusters
def _cluster_order(name: str) -> tuple:
    return (not str(name).isdigit(), int(name) if str(name).isdigit() else 0, str(name))


def cluster_highlight_css(figure: go.Figure, cluster, scope: str) -> str:
    """CSS that highlights one cluster on a drawn :func:`cluster_map`, without drawing the map again.

    Selecting a cluster then changes a style sheet, not the figure: a browser draws a changed figure anew (about
    0.2 ms per point in a software-rendered chromium: 0.6 s for 2,500 points) and restyles the drawn points in a
    few milliseconds.

    Parameters
    ----------
    figure : plotly.graph_objects.Figure
        The map as :func:`cluster_map` drew it: the cluster's points are the trace whose ``meta`` is its :func:`label`, and
        the browser's plotly draws trace ``k`` as the ``k``-th SVG group of the scatter layer.
    cluster : object
        The cluster to highlight: its points drawn as the figure draws them (an outline or full opacity hid the
        wrong crosses under the correct dots, so that its share of wrong examples no longer read true), every other
        point light grey at 35% opacity, so that the cluster stands out in any colouring, even where points pile up.
    scope : str
        A CSS selector of an element holding the map (the rules apply inside it only).

    Returns
    -------
    str
        CSS rules (no ``<style>`` tag); empty when the map draws none of the cluster's points.
    """
    position = next((k + 1 for k, trace in enumerate(figure.data) if trace.meta == label(cluster)), None)
    if position is None:
        return ""
    return (f"{scope} .scatterlayer > .trace:not(:nth-child({position})) path.point {{fill: {FADED} !important; "
            f"stroke: {FADED} !important; opacity: 0.35 !important;}}")


def cluster_map(labels: pd.DataFrame, *, color_by: Literal["correctness", "cluster", "failure mode"] = "correctness",
                max_points: int = MAP_POINTS, seed: int = 0) -> go.Figure:
    """The 2-D map of a clustering, one point per example: the Clusters page's map.

    Parameters
    ----------
    labels : pandas.DataFrame
        One row per example, as :attr:`analysis.clusters.pipeline.ClusterResult.labels`:
        ``example_id``, ``x``, ``y`` (the UMAP coordinates), ``cluster``, ``correct``, ``scored``,
        ``text`` and, for ``color_by="failure mode"``, ``failure_mode``.
    color_by : {"correctness", "cluster", "failure mode"}
        What the colours tell: right / wrong / unscored, the cluster, or a failing example's
        most common failure mode.
    max_points : int
        Points drawn at most: a larger run is drawn as a sample of this size, seeded with
        ``seed`` (the same sample every time).
    seed : int
        The sample's seed (also of the drawing order by correctness).

    Returns
    -------
    plotly.graph_objects.Figure
        One SVG ``scatter`` trace per cluster whatever the colouring, its ``meta`` the cluster's :func:`label` (so that
        :func:`cluster_highlight_css` can highlight a cluster without a new figure), grey groups (noise, empty
        texts) first, then the legend-only traces. Never WebGL: a page with a WebGL trace starts a WebGL context, 0.3-0.5 s of a
        software-rendered browser's time on every redraw, for at most ``max_points`` points that SVG draws in less.
        By correctness: a cluster's points in a seeded random order, so that neither correct nor wrong examples are
        drawn over the other and the share of wrong points reads true; a wrong point is orange and a cross, a
        correct one a grey dot (colour is not the only carrier). By failure mode: a failing example in its mode's
        colour and symbol, drawn over those not failing. In both, legend-only traces (no point) name the colours.
        By cluster: each cluster's trace its own colour and symbol, named in the legend. Each point's
        ``customdata`` holds its cluster, outcome, text and example id (a box or lasso selection names the
        examples). A note when there is no example.

    Raises
    ------
    ValueError
        When ``color_by`` is not one of the choices, or ``failure mode`` without a
        ``failure_mode`` column.
    """
    if color_by not in ("correctness", "cluster", "failure mode"):
        raise ValueError(f"Invalid 'color_by' parameter: expected 'correctness', 'cluster' or 'failure mode', "
                         f"got {color_by!r}")
    if color_by == "failure mode" and "failure_mode" not in labels:
        raise ValueError("Invalid 'color_by' parameter: 'failure mode' needs a 'failure_mode' column in labels")
    if labels.empty:
        return _empty("the clustering has no example")
    if len(labels) <= max_points:
        shown = labels
    else:  # a seeded sample without a permutation of every row (pandas' sample shuffles all: 0.1 s at 1M)
        shown = labels.iloc[np.sort(np.random.default_rng(seed).choice(len(labels), max_points, replace=False))]
    hover = shown["text"].astype(str).str.slice(0, 160).str.replace("\n", " ", regex=False).map(label)
    outcome = (shown["correct"].map({True: "correct", False: "wrong"}).fillna("unscored")
               .where(shown["scored"].astype(bool), "unscored"))
    ids = (shown["example_id"] if "example_id" in shown else pd.Series(shown.index, index=shown.index)).astype(str)
    clusters = shown["cluster"].astype(str)
    names = sorted(clusters.unique(), key=_cluster_order)
    # an object array (n, 4), not a list of tuples: plotly checks a list item by item (1-2 s for 5,000 points)
    rows = list(zip(_labels(shown["cluster"]), outcome, hover, ids))
    points = np.empty((len(rows), 4), dtype=object)
    points[:] = rows
    template = "cluster %{customdata[0]} · %{customdata[1]}<br>%{customdata[2]}<extra></extra>"

    coloured = [g for g in names if g not in (NOISE, EMPTY)]
    if color_by == "correctness":
        groups = outcome
        legend = [g for g in ("correct", "wrong", "unscored") if (outcome == g).any()]
        colours = {"correct": "#94A3B8", "wrong": FINDING, "unscored": "#CBD5E1"}
        symbols = {"correct": "circle", "wrong": "x", "unscored": "circle-open"}
        # nobody on top: the share reads true. SVG, not WebGL: WebGL draws a trace's markers grouped by symbol
        # (every wrong cross above every correct circle, so a run 17% wrong looked mostly wrong)
        order = np.random.default_rng(seed).permutation(len(shown))
    elif color_by == "failure mode":
        groups = shown["failure_mode"].fillna("(not failing)")
        modes = [g for g in sorted(groups.unique()) if not g.startswith("(")]
        legend = [g for g in ("(not failing)", "(no mode)") if (groups == g).any()] + modes
        colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(modes)}
        colours |= {"(not failing)": "#CBD5E1", "(no mode)": NEUTRAL}
        symbols = {g: GROUP_SYMBOLS[(i // len(PALETTE)) % len(GROUP_SYMBOLS)] for i, g in enumerate(modes)}
        order = np.argsort(~groups.isin(["(not failing)"]).to_numpy(), kind="stable")  # failing ones on top
    else:
        groups, legend = clusters, []
        colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(coloured)} | {
            g: "#CBD5E1" for g in names if g in (NOISE, EMPTY)}
        symbols = {g: GROUP_SYMBOLS[(i // len(PALETTE)) % len(GROUP_SYMBOLS)] for i, g in enumerate(coloured)}
        order = np.arange(len(shown))

    fig = go.Figure()
    grey = (NOISE, EMPTY)
    for name in sorted(names, key=lambda g: (g not in grey, *_cluster_order(g)[1:])):
        drawn = order[(clusters.to_numpy()[order] == name)]
        part, colour = shown.iloc[drawn], groups.iloc[drawn]
        per_cluster = color_by == "cluster"
        fig.add_trace(go.Scatter(
            x=part["x"], y=part["y"], mode="markers", meta=label(name), showlegend=per_cluster,
            name=label(f"cluster {name}" if name not in grey else name),
            marker={"size": 6, "opacity": 0.75 if per_cluster else 0.8,
                    "color": colours.get(name, NEUTRAL) if per_cluster else colour.map(colours).to_numpy(dtype=object),
                    "symbol": symbols.get(name, "circle") if per_cluster else (
                        colour.map(symbols).fillna("circle").to_numpy(dtype=object))},
            customdata=points[drawn], hovertemplate=template))
    for name in legend:  # a legend entry: no point, no range
        share = f" ({(outcome == name).mean():.0%})" if color_by == "correctness" else ""
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label(f"{name}{share}"),
                                 hoverinfo="skip",
                                 marker={"size": 8, "color": colours.get(name, NEUTRAL),
                                         "symbol": symbols.get(name, "circle")}))
    _style(fig, title=None, height=PROJECTOR_HEIGHT - 100, legend={"itemsizing": "constant"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def finding_interval(label: str, value: float, low: float, high: float, *, reference: float | None = None,
                     reference_label: str = "", axis_title: str, title: str | None = None,
                     size: Literal["normal", "large"] = "large") -> go.Figure:
    """One finding's number with its interval against a reference: review mode's chart for the findings the forests
    do not draw (a graded comparison's mean difference, a graded slice's mean, a failure mode's preference AUC).

    Parameters
    ----------
    label : str
        What the number is of (the y label).
    value, low, high : float
        The number and its interval, in the units of ``axis_title`` (NaN bounds: no bar).
    reference : float, optional
        A dashed line for what the number is read against (0 for no change, 0.5 for no separation, the rest of the
        run's mean), named ``reference_label``.
    axis_title : str
        The x axis title, with the unit and the interval's kind.
    title : str, optional
        The figure's title.
    size : {"normal", "large"}, default "large"
        ``"large"``: every text at least 18 px (a projector).

    Returns
    -------
    plotly.graph_objects.Figure
        One marker with asymmetric error bars; a note when ``value`` is missing.

    >>> fig = finding_interval("domain = legal", -0.41, -0.44, -0.39, reference=0.0, reference_label="no change",
    ...                        axis_title="Change in score units")
    >>> fig.data[0].x[0], fig.layout.font.size
    (-0.41, 20)
    """
    if value is None or not np.isfinite(float(value)):
        return _empty("the finding has no number to draw", title=title)
    v = float(value)
    lo = float(low) if low is not None and np.isfinite(float(low)) else v
    hi = float(high) if high is not None and np.isfinite(float(high)) else v
    fig = go.Figure(go.Scatter(x=[v], y=[_wrap(label, 28)], mode="markers", marker={"size": 14, "color": FINDING},
                               error_x={"type": "data", "symmetric": False, "array": [hi - v], "arrayminus": [v - lo],
                                        "thickness": 2, "width": 5},
                               showlegend=False, hovertemplate="%{x:.3g}<extra></extra>"))
    if reference is not None and np.isfinite(float(reference)):
        fig.add_vline(x=float(reference), line_dash="dash", line_color=NEUTRAL, annotation_text=reference_label,
                      annotation_position="top")
    fig = _style(fig, title=title, height=220, xaxis={"title": axis_title}, yaxis={"type": "category"})
    return _enlarge(fig, size)


__all__ = ["FONT", "MAP_POINTS", "PROJECTOR_HEIGHT", "PROJECTOR_WIDTH", "clickable_matrix", "cluster_highlight_css", "cluster_map", "comparison_forest",
           "finding_interval", "goodhart_plot", "headline_forest", "label", "modes_matrix", "slice_forest",
           "slice_heatmap"]



# ------------------------------------------------------------------------------------ series of runs
#: Right margin (pixels) of :func:`trajectory_grid`: a slanted run label ("step 6,000" at 30 degrees, 14 px) under
#: the rightmost panel's last run.
GRID_RIGHT_MARGIN = 70


def trajectory_grid(points: pd.DataFrame, descriptions: list[str], *, columns: int = 3,
                    title: str | None = "Drifting slices: accuracy per run (95% CI)",
                    shared: bool = False) -> go.Figure:
    """Small multiples of slices' accuracy along a series, one panel per slice, with intervals.

    Parameters
    ----------
    points : pandas.DataFrame
        :attr:`analysis.series.trajectories.Trajectories.points`: ``description``, ``k``, ``label``,
        ``accuracy``, ``ci_low``, ``ci_high`` (fractions), ``departure_q``.
    descriptions : list of str
        The slices to draw, in order (at most 12 are drawn).
    columns : int, default 3
        Panels per row.
    title : str, optional
        The figure's title (it should name the examples the panels are over).
    shared : bool, default False
        Draw the accuracy on the examples each run shares with the reference (``trend_accuracy``,
        ``trend_ci_low``, ``trend_ci_high``: those the trend and the departures are measured on in a paired
        series) instead of every example of the run.

    Returns
    -------
    plotly.graph_objects.Figure
        One line with error bars per panel (accuracy as a percentage); a run that departs significantly from
        the reference is drawn red. A note when there is no slice to draw.

    Examples
    --------
    >>> pts = pd.DataFrame({"description": ["a"] * 3, "k": [0, 1, 2], "label": ["s1", "s2", "s3"],
    ...                     "accuracy": [0.8, 0.7, 0.6], "ci_low": [0.75, 0.65, 0.55], "ci_high": [0.85, 0.75, 0.65],
    ...                     "departure_q": [float("nan"), 0.01, 0.001]})
    >>> [round(float(v), 2) for v in trajectory_grid(pts, ["a"]).data[0].y]
    [0.8, 0.7, 0.6]
    """
    from plotly.subplots import make_subplots

    chosen = [d for d in descriptions if d in set(points["description"])][:12]
    if not chosen:
        return _empty("no slice drifts", title=title)
    rows = (len(chosen) + columns - 1) // columns
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[_wrap(d, 40) for d in chosen],
                        vertical_spacing=0.5 / max(rows, 1) if rows > 1 else 0.1, horizontal_spacing=0.06)
    acc, low, high = ("trend_accuracy", "trend_ci_low", "trend_ci_high") if shared else ("accuracy", "ci_low",
                                                                                          "ci_high")
    over = " on the shared examples" if shared else ""
    for i, desc in enumerate(chosen):
        sub = points[points["description"] == desc].sort_values("k")
        departs = (sub["departure_q"].to_numpy(dtype=float) < 0.05)
        fig.add_trace(go.Scatter(
            x=sub["label"], y=sub[acc], mode="lines+markers", name=desc,
            error_y=_error_bars(sub[acc], sub[low], sub[high]),
            marker={"color": np.where(departs, "#B91C1C", INK), "size": 9}, line={"color": NEUTRAL},
            hovertemplate="%{x}: accuracy" + over + " %{y:.1%}<extra>" + desc.replace("<", "&lt;") + "</extra>"),
            row=i // columns + 1, col=i % columns + 1)
    fig.update_yaxes(tickformat=".0%")
    fig.update_annotations(font={"size": 14})
    fig = _style(fig, title=title, height=_height(rows, per_row=230, base=80), showlegend=False)
    # the run labels slant to the right when a panel is narrow: room on the right for the last panel's last label
    # ("step 6,000" was cut at 1280x720; automargin widens only the bottom)
    fig.update_layout(margin={"r": GRID_RIGHT_MARGIN})
    return fig


def surrogate_curve(curves: pd.DataFrame, *, description: str, signal: str, turn_label: str | None = None,
                    title: str | None = None, shared: bool = False) -> go.Figure:
    """A slice's outcome and an objective signal's mean along a series, the over-optimisation turn marked.

    Parameters
    ----------
    curves : pandas.DataFrame
        :attr:`analysis.series.surrogate.OverOptimisation.curves`: ``description``, ``signal``, ``k``, ``label``,
        ``accuracy``, ``ci_low``, ``ci_high`` (fractions), ``signal_mean``, ``signal_low``, ``signal_high``.
    description, signal : str
        The slice and the signal drawn.
    turn_label : str, optional
        The run after which the signal kept rising while accuracy fell (a dashed line there).
    title : str, optional
        Default: "<signal> against accuracy in <slice>".
    shared : bool, default False
        The accuracy is on the examples each run shares with the reference (a paired series' curves): the
        accuracy axis says so.

    Returns
    -------
    plotly.graph_objects.Figure
        Accuracy (left axis, percentage, with its interval) and the signal's mean (right axis, its unit, with a
        normal interval); a note when the slice has no such signal.
    """
    title = title or f"{label(signal)} against accuracy in {description}"
    sub = curves[(curves["description"] == description) & (curves["signal"] == signal)].sort_values("k")
    if sub.empty:
        return _empty("this slice has no such signal", title=title)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=sub["label"], y=sub["accuracy"], name="accuracy", mode="lines+markers",
                             error_y=_error_bars(sub["accuracy"], sub["ci_low"], sub["ci_high"]),
                             line={"color": INK, "width": 3}, hovertemplate="%{x}: accuracy %{y:.1%}<extra></extra>"))
    fig.add_trace(go.Scatter(x=sub["label"], y=sub["signal_mean"], name=label(signal), mode="lines+markers",
                             yaxis="y2", error_y=_error_bars(sub["signal_mean"], sub["signal_low"], sub["signal_high"]),
                             line={"color": "#F97316", "width": 3, "dash": "dot"},
                             hovertemplate="%{x}: mean %{y:.3f}<extra>" + label(signal) + "</extra>"))
    if turn_label:
        fig.add_vline(x=list(sub["label"]).index(turn_label) if turn_label in list(sub["label"]) else 0,
                      line_color="#B91C1C", line_dash="dash", line_width=2)
        fig.add_annotation(x=turn_label, y=1.0, yref="paper", text=f"turn: over-optimised after {turn_label}",
                           showarrow=False, xanchor="left", yanchor="bottom", font={"color": "#991B1B", "size": 14})
    return _style(fig, title=title, height=460, legend={"orientation": "h", "y": -0.2},
                  yaxis={"title": "accuracy (shared examples)" if shared else "accuracy", "tickformat": ".0%"},
                  # its own round ticks (0.4, 0.5...), not ticks synced to the accuracy's gridlines (0.374, 0.433)
                  yaxis2={"title": f"mean {label(signal)}", "overlaying": "y", "side": "right", "showgrid": False,
                          "tickmode": "auto", "nticks": 6, "tickformat": "~r"})


def mix_decomposition(attributes: pd.DataFrame, *, title: str | None = None) -> go.Figure:
    """The change in accuracy between two runs split into composition and within-slice parts, per attribute.

    Parameters
    ----------
    attributes : pandas.DataFrame
        :attr:`analysis.series.mix.MixShift.attributes`: ``attribute``, ``composition``, ``composition_low``,
        ``composition_high``, ``within``, ``within_low``, ``within_high`` (fractions), ``psi``.
    title : str, optional
        The figure's title.

    Returns
    -------
    plotly.graph_objects.Figure
        Two horizontal bar traces (composition: the mix; within: the model) in points with their intervals, one
        row per attribute; a note when there is none.
    """
    title = title or "Where the change comes from: the mix (composition) or the model (within), in points"
    if attributes.empty:
        return _empty("no attribute to decompose over", title=title)
    t = attributes.iloc[::-1]
    fig = go.Figure()
    for part, color, name in (("composition", "#F97316", "composition (mix)"), ("within", INK, "within (model)")):
        fig.add_trace(go.Bar(y=_labels(t["attribute"]), x=t[part] * 100, name=name, orientation="h",
                             marker_color=color,
                             error_x=_error_bars(t[part] * 100, t[f"{part}_low"] * 100, t[f"{part}_high"] * 100),
                             hovertemplate="%{y}: %{x:+.1f} points<extra>" + name + "</extra>"))
    fig.add_vline(x=0, line_color=INK, line_width=1)
    return _style(fig, title=title, height=_height(len(t), per_row=70, base=160), barmode="group",
                  legend={"orientation": "h", "y": -0.25}, xaxis={"title": "points of accuracy"})
