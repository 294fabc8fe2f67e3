"""The report's charts: plotly figures exported to inline SVG through kaleido."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from analysis import figures
from analysis.report.content import Report
from analysis.report.pdf import NO_NETWORK_PROXY, chromium_path
from analysis.report.timeline import timeline_figures

#: Width (pixels) at which the report exports a figure: the projector-sized text of
#: :mod:`analysis.figures` then prints at about 9 pt across the page's 190 mm.
REPORT_FIGURE_WIDTH = 1000


def kaleido_options() -> dict:
    """How kaleido's chromium is started: no MathJax (kaleido fetches it from a CDN by default; no chart uses
    LaTeX), plotly.js from the installed plotly, Debian's chromium when present, and every request that would
    leave the machine sent to a dead local proxy."""
    options: dict = {"mathjax": False, "proxy_server": NO_NETWORK_PROXY}
    if Path(chromium_path()).exists():
        options["path"] = chromium_path()
    return options


def _svg(fig) -> str:
    import kaleido

    # through kaleido itself: plotly's to_image cannot turn MathJax off (it drops a False option)
    svg = kaleido.calc_fig_sync(fig.to_dict(), opts={"format": "svg", "width": REPORT_FIGURE_WIDTH,
                                                     "height": fig.layout.height}, kopts=kaleido_options())
    svg = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def report_charts(report: Report, *, drawn: dict[str, str] | None = None) -> dict[str, str]:
    """Charts as inline SVG (vector: sharp when printed), drawn by :mod:`analysis.figures` (the app's own
    figures) from the report's records and exported by plotly through kaleido.

    Parameters
    ----------
    report : Report
        The computed content.
    drawn : dict, optional
        Charts already exported (:func:`section_charts` of the same data, e.g. while the failure-modes section was
        still computed), taken as they are; the others are exported now.

    Returns
    -------
    dict
        Chart name (``runs``, ``slices``, ``heatmap``, ``failure_modes``, ``comparison``, the timeline's) -> SVG
        text, in the report's order.

    Raises
    ------
    Exception
        Whatever kaleido raises when a chart cannot be exported (its chromium missing or failing).
    """
    return section_charts(report.data, drawn=drawn)


def section_charts(data: dict, *, drawn: dict[str, str] | None = None,
                   skip: Sequence[str] = ()) -> dict[str, str]:
    """The charts of a report's data (:attr:`Report.data`, or the part of it computed so far) as inline SVG.

    Parameters
    ----------
    data : dict
        The report's data, or the part of it computed so far (the sections present are drawn).
    drawn : dict, optional
        Charts already exported, taken from it (not exported again).
    skip : sequence of str
        Charts left out (e.g. ``failure_modes`` while that section is computed).

    Returns
    -------
    dict
        Chart name (``runs``, ``slices``, ``heatmap``, ``failure_modes``, ``comparison``, the timeline's, each
        when its section has something to draw) -> SVG text, in the report's order.

    Raises
    ------
    Exception
        Whatever kaleido raises when a chart cannot be exported (its chromium missing or failing).
    """
    drawn = drawn or {}
    charts: dict[str, str] = {}

    def put(key: str, make) -> None:
        if key not in skip:
            charts[key] = drawn[key] if key in drawn else _svg(make())

    runs = pd.DataFrame(data["runs"])
    # a headline outside [0, 1] (a 1-10 rating) is not drawn on the rates' axis: the summary states it
    if ((runs["scored"] > 0) & runs["value"].between(0, 1)).any():
        graded = bool(runs["graded"].any())
        put("runs", lambda: figures.headline_forest(
            runs, title="Headline per run: accuracy" + (" or mean score" if graded else "") + " (95% interval)"))
    sl = data["slices"]
    if any(not r["too_small"] for r in sl["rows"]):
        put("slices", lambda: figures.slice_forest(
            pd.DataFrame(sl["rows"]), overall_error_rate=sl["overall_error_rate"], top=15,
            title="Top slices by evidence (orange: worse than the rest; dashed: the run's error rate)"))
    hm = data.get("heatmap")
    if hm and hm["cells"]:
        put("heatmap", lambda: figures.slice_heatmap(pd.DataFrame(hm["cells"]), hm["x"], hm["y"]))
    fm = data.get("failure_modes")
    if fm and fm.get("cells"):
        put("failure_modes", lambda: figures.modes_matrix(pd.DataFrame(fm["cells"])))
    comp = data.get("comparison")
    if comp and comp["rows"]:
        put("comparison", lambda: figures.comparison_forest(
            pd.DataFrame(comp["rows"]), max_drop=comp["gate"]["max_drop"], top=20,
            title="Change in error rate, candidate minus baseline (dashed: gate)"))
    if data.get("timeline"):
        for key, fig in timeline_figures(data["timeline"]).items():
            put(key, lambda fig=fig: fig)
    return charts


def warm_export() -> None:
    """Export a tiny figure so the export server's chromium is running when the real charts come."""
    import warnings

    import plotly.graph_objects as go

    with contextlib.suppress(Exception), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _svg(go.Figure(go.Scatter(x=[0], y=[0])))


@contextlib.contextmanager
def export_server():
    """A persistent kaleido (chromium) export server for the duration of a report: charts in ~0.3 s each."""
    import warnings

    import kaleido

    started = False
    try:
        kaleido.start_sync_server(silence_warnings=True, **kaleido_options())
        started = True
    except Exception:  # noqa: BLE001 - a server already running (or none possible) still lets charts export
        started = False
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            yield
    finally:
        if started:
            kaleido.stop_sync_server(silence_warnings=True)
