"""The report's charts: plotly figures exported to inline SVG through kaleido."""

from __future__ import annotations

import contextlib

from analysis.report.content import Report


def _svg(fig) -> str:
    svg = fig.to_image(format="svg").decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def _charts(report: Report) -> dict[str, str]:
    """Charts as inline SVG (vector: sharp when printed), exported by plotly through kaleido."""
    import plotly.graph_objects as go

    data = report.data
    charts: dict[str, str] = {}
    layout = {"font": {"family": "DejaVu Sans, Arial", "size": 12}, "paper_bgcolor": "white",
              "plot_bgcolor": "white", "margin": {"l": 10, "r": 20, "t": 40, "b": 40}}
    runs = data["runs"]
    fig = go.Figure(go.Scatter(
        x=[r["accuracy"] for r in runs], y=[r["name"] for r in runs], mode="markers", marker={"size": 11, "color": "#C2410C"},
        error_x={"type": "data", "symmetric": False, "array": [r["ci_high"] - r["accuracy"] for r in runs],
                 "arrayminus": [r["accuracy"] - r["ci_low"] for r in runs]}))
    fig.update_layout(**layout, width=700, height=90 + 45 * len(runs), title="Accuracy per run (95% Wilson interval)",
                      xaxis={"tickformat": ".0%", "range": [0, 1], "gridcolor": "#E2E8F0"},
                      yaxis={"automargin": True})
    charts["runs"] = _svg(fig)
    top = [r for r in data["slices"]["rows"] if not r["too_small"]][:15]
    if top:
        fig = go.Figure(go.Scatter(
            x=[r["error_rate"] for r in top], y=[r["description"] for r in top], mode="markers",
            marker={"size": 9, "color": ["#C2410C" if r["finding"] else "#64748B" for r in top]},
            error_x={"type": "data", "symmetric": False, "array": [r["ci_high"] - r["error_rate"] for r in top],
                     "arrayminus": [r["error_rate"] - r["ci_low"] for r in top]}))
        fig.add_vline(x=data["slices"]["overall_error_rate"], line_dash="dash", line_color="#0F172A")
        fig.update_layout(**layout, width=700, height=120 + 26 * len(top),
                          title="Top slices by evidence (dashed: the run's error rate)",
                          xaxis={"tickformat": ".0%", "gridcolor": "#E2E8F0"},
                          yaxis={"autorange": "reversed", "automargin": True})
        charts["slices"] = _svg(fig)
    hm = data.get("heatmap")
    if hm and hm["cells"]:
        xs = sorted({c[hm["x"]] for c in hm["cells"]})
        ys = sorted({c[hm["y"]] for c in hm["cells"]})
        lookup = {(c[hm["x"]], c[hm["y"]]): c for c in hm["cells"]}
        z = [[lookup[(a, b)]["error_rate"] if (a, b) in lookup else None for b in ys] for a in xs]
        text = [[f"{lookup[(a, b)]['error_rate']:.0%}<br>n={lookup[(a, b)]['n']}" if (a, b) in lookup else ""
                 for b in ys] for a in xs]
        fig = go.Figure(go.Heatmap(z=z, x=ys, y=xs, text=text, texttemplate="%{text}", colorscale="OrRd", zmin=0,
                                   colorbar={"tickformat": ".0%"}))
        fig.update_layout(**layout, width=700, height=120 + 34 * len(xs), title=f"Error rate: {hm['x']} x {hm['y']}",
                          xaxis={"type": "category", "title": hm["y"]},
                          yaxis={"type": "category", "title": hm["x"], "automargin": True})
        charts["heatmap"] = _svg(fig)
    comp = data.get("comparison")
    if comp and comp["rows"]:
        rows = comp["rows"][:20]
        colors = {"regressed": "#B91C1C", "improved": "#15803D", "unchanged": "#64748B"}
        fig = go.Figure(go.Scatter(
            x=[r["difference"] for r in rows], y=[r["description"] for r in rows], mode="markers",
            marker={"size": 9, "color": [colors[r["verdict"]] for r in rows]},
            error_x={"type": "data", "symmetric": False, "array": [r["ci_high"] - r["difference"] for r in rows],
                     "arrayminus": [r["difference"] - r["ci_low"] for r in rows]}))
        fig.add_vline(x=0, line_color="#0F172A")
        fig.add_vline(x=comp["gate"]["max_drop"], line_dash="dash", line_color="#B91C1C")
        fig.update_layout(**layout, width=700, height=120 + 26 * len(rows),
                          title="Change in error rate, candidate minus baseline (95% interval; dashed: gate)",
                          xaxis={"tickformat": "+.0%", "gridcolor": "#E2E8F0"},
                          yaxis={"autorange": "reversed", "automargin": True})
        charts["comparison"] = _svg(fig)
    return charts


def _warm_export() -> None:
    """Export a tiny figure so the export server's chromium is running when the real charts come."""
    import warnings

    import plotly.graph_objects as go

    with contextlib.suppress(Exception), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        go.Figure(go.Scatter(x=[0], y=[0])).to_image(format="svg")


@contextlib.contextmanager
def export_server():
    """A persistent kaleido (chromium) export server for the duration of a report: charts in ~0.3 s each."""
    import warnings

    import kaleido

    started = False
    try:
        kaleido.start_sync_server(silence_warnings=True)
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
