"""The audit report: a PDF a reviewer can trust without opening the app, and its HTML twin.

A report is defined by a :class:`ReportSpec` (runs, settings, sections). :func:`build_report`
computes its content from the store with the same engine as the app; :func:`render_html`
writes one self-contained HTML document (inline CSS and SVG charts, no network needed);
:func:`render_pdf` prints that same document with Debian's chromium (page numbers, a running
header with the report id, a contents page with page numbers found by reading the first
print back). :func:`generate_report` does all of it and records the report in the store's
``reports`` audit table with the spec, its hash and the content hash: regenerating from the
same spec and data gives the same numbers and the same content hash.

Sections for analyses that were not run are not faked: the report says what it covers and
what it does not.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import math
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analysis._version import __version__
from analysis.clusters.pipeline import latest_result
from analysis.errors import FaultlineError
from analysis.objective.link import report_section as link_report_section
from analysis.paths import PROJECT_ROOT
from analysis.progress import ProgressCallback, scaled
from analysis.slicing.compare import compare_runs, gate
from analysis.slicing.discovery import discover
from analysis.slicing.table import heatmap, slice_table
from analysis.store import Store

#: Every section a report can hold, in order.
SECTIONS: tuple[str, ...] = ("summary", "provenance", "methods", "slices", "heatmap", "discovery", "clusters",
                             "failure_modes", "comparison", "limitations", "appendix", "signoff")
SECTION_TITLES = {
    "summary": "Executive summary", "provenance": "Scope and provenance", "methods": "Methods",
    "slices": "Slices that are worse than the rest", "heatmap": "Heatmap", "discovery": "Discovered slices",
    "clusters": "Failure clusters", "failure_modes": "Failure modes and objective components",
    "comparison": "Baseline versus candidate", "limitations": "Limitations",
    "appendix": "Appendix: complete slice table", "signoff": "Sign-off",
}
#: Longest user text shown in a cell before it is cut with a marker.
MAX_TEXT = 400
MSG_NO_CHROMIUM = ("The PDF needs Debian's chromium at {path}: install it with `apt-get install -y chromium` "
                   "(`make run` and `make test` do it), or write only the HTML with --html")
MSG_SECTION = "Unknown report section {name!r}; sections: {known}"


def chromium_path() -> str:
    """Debian's chromium, or $FAULTLINE_CHROMIUM."""
    import os

    return os.environ.get("FAULTLINE_CHROMIUM", "/usr/bin/chromium")


@dataclass
class ReportSpec:
    """Everything that defines a report; stored with it, so it can be regenerated."""

    run: str
    """The run analysed (id or name; stored as the id)."""
    baseline: str | None = None
    """A baseline run for the two-run sections, or None."""
    objective: str | None = None
    """Path of the objective spec (YAML), or None."""
    sections: list[str] = field(default_factory=lambda: list(SECTIONS))
    attributes: list[str] | None = None
    """Attributes to slice by; None: the run's defaults."""
    max_order: int = 2
    min_support: int = 30
    confidence: float = 0.95
    fdr: float = 0.05
    bins: int = 5
    discovery: dict = field(default_factory=lambda: {"error_weight": 0.99, "k": 10, "max_order": 3,
                                                     "min_support": 0.01, "holdout": True, "seed": 0})
    gate: dict = field(default_factory=lambda: {"max_drop": 0.02, "alpha": 0.05})
    title: str = "Faultline audit report"
    analyst: str = ""
    reviewer: str = ""

    def canonical(self) -> str:
        """Canonical JSON of the spec (sorted keys)."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), default=str)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> ReportSpec:
        return cls(**json.loads(text))


@dataclass
class Report:
    """The computed content of a report (numbers, tables, sentences), before rendering."""

    spec: ReportSpec
    report_id: str
    generated_at: str
    data: dict
    """Everything the rendered report shows, JSON-ready; its hash is the content hash."""
    covered: list[str]
    not_covered: dict[str, str]
    """Section -> why it is not in this report."""

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(_canonical(self.data).encode()).hexdigest()


def _canonical(value) -> str:
    def clean(v):
        if isinstance(v, float):
            return None if not math.isfinite(v) else float(f"{v:.12g}")
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, np.generic):
            return clean(v.item())
        return v

    return json.dumps(clean(value), sort_keys=True, separators=(",", ":"), default=str)


def git_commit() -> str:
    """The project's git commit, or 'unknown' outside a checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=PROJECT_ROOT, check=False)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[dict]:
    out = []
    for row in frame[list(columns)].to_dict("records"):
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


def build_report(store: Store, spec: ReportSpec, *, progress: ProgressCallback | None = None) -> Report:
    """Compute a report's content from the store (no rendering)."""
    for name in spec.sections:
        if name not in SECTIONS:
            raise FaultlineError(MSG_SECTION.format(name=name, known=", ".join(SECTIONS)))
    say = scaled(progress, 0.0, 1.0)
    run = store.run(spec.run)
    spec.run = run.run_id
    base = store.run(spec.baseline) if spec.baseline else None
    if base is not None:
        spec.baseline = base.run_id
    runs = [r for r in (base, run) if r is not None]
    say(0.05, "Reading the runs")
    listing = store.headline().set_index("run_id")
    run_rows = []
    for r in runs:
        info = store.run(r.run_id)
        row = listing.loc[r.run_id]
        run_rows.append({"run_id": r.run_id, "name": r.name, "model": r.model, "format": r.source_format,
                         "rows": int(row["rows"]), "scored": int(row["scored"]), "correct": int(row["correct"]),
                         "accuracy": float(row["accuracy"]), "ci_low": float(row["ci_low"]),
                         "ci_high": float(row["ci_high"]), "ingested_at": str(row["ingested_at"]),
                         "files": [{"file_name": f["file_name"], "sha256": f["sha256"], "size_bytes": f["size_bytes"]}
                                   for f in info.files], "notes": info.notes})
    data: dict = {"runs": run_rows, "spec": json.loads(spec.canonical()),
                  "faultline_version": __version__, "git_commit": git_commit()}
    not_covered: dict[str, str] = {}
    sections = list(spec.sections)

    say(0.15, "Slicing")
    result = slice_table(store, run.run_id, spec.attributes, max_order=spec.max_order, min_support=spec.min_support,
                         confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins)
    table = result.table[~result.table["redundant"]]
    cols = ["description", "order", "n", "errors", "error_rate", "ci_low", "ci_high", "ci_method", "difference",
            "p_value", "test", "q_value", "too_small", "finding"]
    data["slices"] = {"settings": result.settings, "total_n": result.total_n, "total_errors": result.total_errors,
                      "unscorable": result.unscorable, "overall_error_rate": result.overall_error_rate,
                      "edges": result.edges, "rows": _records(table, cols)}
    attrs = result.settings["attributes"]

    if "heatmap" in sections:
        categorical = [a.name for a in result.attributes if a.kind in ("categorical", "boolean")] or attrs
        if len(categorical) >= 2:
            say(0.3, "Heatmap")
            x, y = categorical[0], categorical[1]
            cells = heatmap(store, run.run_id, x, y, min_support=spec.min_support, confidence=spec.confidence,
                            bins=spec.bins)
            data["heatmap"] = {"x": x, "y": y, "cells": _records(cells, list(cells.columns))}
        else:
            not_covered["heatmap"] = "the run has fewer than two attributes to cross"

    if "discovery" in sections:
        say(0.4, "Discovery (SliceLine)")
        d = spec.discovery
        found = discover(store, run.run_id, spec.attributes, error_weight=d.get("error_weight", 0.99),
                         k=d.get("k", 10), max_order=d.get("max_order", 3), min_support=d.get("min_support", 0.01),
                         holdout=d.get("holdout", True), seed=d.get("seed", 0), confidence=spec.confidence,
                         fdr=spec.fdr, bins=spec.bins)
        data["discovery"] = {"settings": found.settings,
                             "rows": _records(found.table, ["group", "description", "order", "sliceline_score", "n", "errors",
                                                            "error_rate", "ci_low", "ci_high", "q_value", "confirmed"])
                             if not found.table.empty else []}

    if "clusters" in sections:
        data_clusters = _clusters_section(store, run.run_id)
        if data_clusters is None:
            not_covered["clusters"] = ("no clustering has been computed for this run (compute it on the Clusters "
                                       "page or with `python -m analysis clusters`)")
        else:
            data["clusters"] = data_clusters

    if "failure_modes" in sections:
        if not spec.objective:
            not_covered["failure_modes"] = "no objective spec was given (--objective)"
        else:
            say(0.55, "Failure modes and objective components")
            fm = _failure_modes_section(store, run.run_id, base.run_id if base else None, spec.objective)
            if isinstance(fm, str):
                not_covered["failure_modes"] = fm
            else:
                data["failure_modes"] = fm

    if "comparison" in sections:
        if base is None:
            not_covered["comparison"] = "no baseline run was given (--baseline)"
        else:
            say(0.7, "Comparing with the baseline")
            comparison = compare_runs(store, base.run_id, run.run_id, spec.attributes, min_support=spec.min_support,
                                      confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins)
            verdict = gate(comparison, max_drop=spec.gate.get("max_drop", 0.02), alpha=spec.gate.get("alpha", 0.05))
            data["comparison"] = {
                "matched": comparison.matched, "only_baseline": comparison.only_baseline,
                "only_candidate": comparison.only_candidate, "settings": comparison.settings,
                "gate": {"passed": verdict.passed, "max_drop": verdict.max_drop, "alpha": verdict.alpha,
                         "breaking": list(verdict.breaking["description"])},
                "rows": _records(comparison.table[~comparison.table["too_small"]],
                                 ["description", "n", "base_error_rate", "cand_error_rate", "difference", "ci_low",
                                  "ci_high", "b", "c", "p_value", "q_value", "verdict"]),
            }

    data["summary"] = _summary(data)
    data["not_covered"] = not_covered
    covered = [s for s in sections if s not in not_covered]
    fingerprint = hashlib.sha256(_canonical([r["files"] for r in run_rows] + [r["run_id"] for r in run_rows])
                                 .encode()).hexdigest()
    report_id = "FLR-" + hashlib.sha256((spec.canonical() + fingerprint).encode()).hexdigest()[:12].upper()
    say(0.8, "Content computed")
    return Report(spec, report_id, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), data, covered, not_covered)


def _clusters_section(store: Store, run_id: str) -> dict | None:
    """The latest clustering of the run, if the clusters module has one cached."""
    result = latest_result(store, run_id)
    if result is None:
        return None
    table = result.table
    if "representative_texts" in table.columns:
        table = table.assign(representatives=table["representative_texts"])
    keep = [c for c in ("cluster", "size", "errors", "error_rate", "ci_low", "ci_high", "q_value", "terms",
                        "representatives") if c in table.columns]
    return {"settings": getattr(result, "settings", {}), "rows": _records(table, keep)}


def _failure_modes_section(store: Store, run_id: str, baseline: str | None, objective: str) -> dict | str:
    return link_report_section(store, run_id, baseline=baseline, objective=objective)


def _pct(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x * 100:.{digits}f}%"


def _q(q: float | None) -> str:
    if q is None or (isinstance(q, float) and not math.isfinite(q)):
        return "not tested"
    return "<1e-300" if q == 0 else f"{q:.2g}"


def _clip(text: str, limit: int = 160) -> str:
    """A slice description short enough for a sentence, with a marker when cut."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit:,} more characters cut]"


def _summary(data: dict) -> list[str]:
    """The handful of findings that matter, in plain words, each with its number and interval."""
    out = []
    for r in data["runs"]:
        out.append(f"Run {_clip(r['name'])} ({_clip(r['model'] or 'model not recorded')}): accuracy {_pct(r['accuracy'])} "
                   f"(95% CI {_pct(r['ci_low'])} to {_pct(r['ci_high'])}) on {r['scored']:,} scored examples.")
    findings = [row for row in data["slices"]["rows"] if row["finding"]]
    overall = data["slices"]["overall_error_rate"]
    if findings:
        out.append(f"{len(findings)} slices are significantly worse than the rest of the run "
                   f"(Benjamini-Hochberg q < {data['slices']['settings']['fdr']}); the run's error rate is "
                   f"{_pct(overall)}.")
        for row in findings[:4]:
            out.append(f"{_clip(row['description'])}: error rate {_pct(row['error_rate'])} (95% CI {_pct(row['ci_low'])} to "
                       f"{_pct(row['ci_high'])}, n = {row['n']:,}, q = {_q(row['q_value'])}).")
    else:
        out.append(f"No slice is significantly worse than the rest of the run at the chosen false discovery rate "
                   f"(error rate {_pct(overall)}).")
    disc = data.get("discovery", {}).get("rows", [])
    confirmed = [r for r in disc if r["confirmed"] and r["order"] >= 2]
    if confirmed:
        r = confirmed[0]
        out.append(f"Discovery found a conjunction: {_clip(r['description'])} with error rate {_pct(r['error_rate'])} "
                   f"(95% CI {_pct(r['ci_low'])} to {_pct(r['ci_high'])}, n = {r['n']:,}), confirmed on "
                   f"{'a held-out half' if data['discovery']['settings']['holdout'] else 'all examples'}.")
    comp = data.get("comparison")
    if comp:
        gate = comp["gate"]
        regressed = [r for r in comp["rows"] if r["verdict"] == "regressed"]
        out.append(f"Regression gate (largest allowed drop {_pct(gate['max_drop'])}): "
                   f"{'PASSED' if gate['passed'] else 'FAILED'}, {len(gate['breaking'])} slice(s) break it; "
                   f"{len(regressed)} slices regressed significantly.")
        for r in regressed[:3]:
            out.append(f"{_clip(r['description'])}: error rate {_pct(r['base_error_rate'])} -> {_pct(r['cand_error_rate'])} "
                       f"(change {r['difference'] * 100:+.1f} points, 95% CI {r['ci_low'] * 100:+.1f} to "
                       f"{r['ci_high'] * 100:+.1f}, McNemar q = {_q(r['q_value'])}).")
    fm = data.get("failure_modes")
    if fm and fm.get("summary"):
        out.extend(fm["summary"][:3])
    return out


# --------------------------------------------------------------------------- rendering

CSS = """
@page { size: A4; margin: 18mm 15mm 18mm 15mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif, "Noto Color Emoji"; font-size: 10pt;
       color: #111827; line-height: 1.4; margin: 0; font-variant-ligatures: none; }
main { max-width: 190mm; margin: 0 auto; padding: 8mm 0; }
h1 { font-size: 22pt; margin: 0 0 4mm 0; color: #7C2D12; }
h2 { font-size: 14pt; margin: 8mm 0 3mm 0; border-bottom: 1.5px solid #C2410C; padding-bottom: 1mm;
     break-after: avoid; }
h3 { font-size: 11pt; margin: 5mm 0 2mm 0; break-after: avoid; }
p, li { overflow-wrap: anywhere; word-break: break-word; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm 0; font-size: 8.5pt; table-layout: auto; }
th, td { border: 0.5px solid #CBD5E1; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; word-break: break-word; max-width: 70mm; }
th { background: #F1F5F9; white-space: nowrap; }
tr { break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.nowrap, th.nowrap { white-space: nowrap; }
.cover { min-height: 230mm; display: flex; flex-direction: column; justify-content: center; break-after: page; }
.cover .meta td { font-size: 10.5pt; border: none; padding: 1mm 3mm 1mm 0; }
.id { font-family: "DejaVu Sans Mono", monospace; }
.muted { color: #475569; }
.finding { color: #9A3412; font-weight: bold; white-space: nowrap; }
.ok { color: #166534; font-weight: bold; }
.bad { color: #991B1B; font-weight: bold; }
.toc { break-after: page; }
.toc ol { list-style: none; padding-left: 0; }
.toc li { display: flex; border-bottom: 0.5px dotted #94A3B8; padding: 1.2mm 0; }
.toc li span.title { flex: 1; }
.toc a { color: inherit; text-decoration: none; }
figure { margin: 3mm 0; break-inside: avoid; }
figure svg { width: 100%; height: auto; }
.notcovered { background: #FFF7ED; border-left: 3px solid #C2410C; padding: 2mm 3mm; }
.signoff td { height: 12mm; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; }
.fm table { table-layout: fixed; width: 100%; font-size: 7pt; }
.fm th, .fm td { white-space: normal; overflow-wrap: anywhere; max-width: none; }
section.appendix table { font-size: 6.8pt; }
section.appendix td, section.appendix th { padding: 0.5mm 1mm; }
section.appendix td:first-child { min-width: 70mm; }
"""


def esc(value, *, limit: int | None = MAX_TEXT) -> str:
    """HTML-escape user text, cutting it with a marker when it is longer than ``limit``.

    >>> esc("<b>hi</b>")
    '&lt;b&gt;hi&lt;/b&gt;'
    >>> esc("x" * 10, limit=4)
    'xxxx… [6 more characters cut]'
    """
    if value is None:
        return ""
    text = str(value)
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"… [{len(text) - limit:,} more characters cut]"
        text = text[:limit]
    return html.escape(text, quote=True) + cut


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


def _table(rows: list[dict], columns: list[tuple[str, str, Callable]], *, cls: str = "") -> str:
    head = "".join(f"<th>{esc(title)}</th>" for _, title, _ in columns)
    body = []
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            value = fmt(row.get(key))
            numeric = isinstance(row.get(key), (int, float)) and not isinstance(row.get(key), bool)
            cells.append(f"<td class='num'>{value}</td>" if numeric else f"<td>{value}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class=\"{cls}\"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _ci(row: dict, low: str = "ci_low", high: str = "ci_high") -> str:
    return f"[{_pct(row[low])}, {_pct(row[high])}]"


def render_html(report: Report, *, page_numbers: dict[str, int] | None = None,
                charts: dict[str, str] | None = None) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG; no network needed)."""
    data = report.data
    spec = report.spec
    charts = charts if charts is not None else {}
    sections_in_order = [s for s in SECTIONS if s in spec.sections]
    number = {s: i + 1 for i, s in enumerate(sections_in_order)}
    parts: list[str] = []
    run_names = ", ".join(f"{esc(r['name'])} (<span class='id'>{esc(r['run_id'])}</span>)" for r in data["runs"])
    parts.append(f"""<section class="cover"><h1>{esc(spec.title)}</h1>
<p class="muted">Stratified error analysis of model evaluations</p>
<table class="meta"><tr><td>Report id</td><td class="id">{esc(report.report_id)}</td></tr>
<tr><td>Runs covered</td><td>{run_names}</td></tr>
<tr><td>Date</td><td>{esc(report.generated_at)}</td></tr>
<tr><td>Analyst</td><td>{esc(spec.analyst) or '<span class="muted">not given</span>'}</td></tr>
<tr><td>Reviewer</td><td>{esc(spec.reviewer) or '<span class="muted">not given</span>'}</td></tr>
<tr><td>Faultline</td><td>{esc(data['faultline_version'])}, commit <span class="hash">{esc(data['git_commit'])}</span></td></tr>
<tr><td>Content hash</td><td class="hash">{esc(report.content_hash)}</td></tr></table></section>""")
    toc = []
    for s in sections_in_order:
        page = (page_numbers or {}).get(s)
        toc.append(f"<li><span class=\"title\"><a href=\"#{s}\">{number[s]}. {esc(SECTION_TITLES[s])}</a></span>"
                   f"<span class=\"page\">{page if page else ''}</span></li>")
    parts.append(f"<section class=\"toc\"><h2 id=\"contents\">Contents</h2><ol>{''.join(toc)}</ol>"
                 "<p class=\"muted\">This report covers: "
                 + esc(", ".join(SECTION_TITLES[s] for s in sections_in_order if s in report.covered)) + ".</p>"
                 + ("<p class=\"muted\">Not covered: " + esc("; ".join(f"{SECTION_TITLES[s]} ({why})"
                                                                      for s, why in report.not_covered.items()))
                    + ".</p>" if report.not_covered else "") + "</section>")

    def heading(s: str) -> str:
        return f"<h2 id=\"{s}\">{number[s]}. {esc(SECTION_TITLES[s])}</h2>"

    def not_covered(s: str) -> str:
        return f"<p class=\"notcovered\">Not covered in this report: {esc(report.not_covered[s])}.</p>"

    for s in sections_in_order:
        body = [heading(s)]
        if s in report.not_covered:
            body.append(not_covered(s))
        elif s == "summary":
            body.append("<ul>" + "".join(f"<li>{esc(line, limit=None)}</li>" for line in data["summary"]) + "</ul>")
            if "runs" in charts:
                body.append(f"<figure>{charts['runs']}</figure>")
        elif s == "provenance":
            rows = []
            for r in data["runs"]:
                for f in r["files"]:
                    rows.append({"run": f"{r['name']} ({r['run_id']})", "format": r["format"], "file": f["file_name"],
                                 "sha256": f["sha256"], "rows": r["rows"]})
            body.append("<h3>Source files</h3>" + _table(rows, [
                ("run", "Run", esc), ("format", "Format", esc), ("file", "File", esc),
                ("sha256", "sha256", lambda v: f"<span class=\"hash\">{esc(v)}</span>"),
                ("rows", "Rows", lambda v: f"{v:,}")]))
            body.append("<h3>Runs</h3>" + _table(data["runs"], [
                ("run_id", "Run id", lambda v: f"<span class=\"id\">{esc(v)}</span>"), ("name", "Name", esc),
                ("model", "Model", esc), ("rows", "Examples", lambda v: f"{v:,}"),
                ("scored", "Scored", lambda v: f"{v:,}"), ("ingested_at", "Loaded (UTC)", esc),
                ("notes", "Notes", esc)]))
            settings = {
                "attributes": ", ".join(data["slices"]["settings"]["attributes"]),
                "conjunctions up to": spec.max_order, "minimum support": spec.min_support,
                "confidence level": spec.confidence, "false discovery rate": spec.fdr, "bins for numbers": spec.bins,
                "discovery": json.dumps(spec.discovery, sort_keys=True), "gate": json.dumps(spec.gate, sort_keys=True),
                "objective spec": (f"{spec.objective} (sha256 {data['failure_modes']['objective_sha256']})"
                                   if data.get("failure_modes") else (spec.objective or "none")),
                "clustering": json.dumps(data["clusters"]["settings"], sort_keys=True, default=str)
                if data.get("clusters") else "none",
                "Faultline version": data["faultline_version"], "git commit": data["git_commit"],
                "report spec sha256": spec.sha256,
            }
            body.append("<h3>Analysis settings</h3>" + _table(
                [{"k": k, "v": v} for k, v in settings.items()], [("k", "Setting", esc), ("v", "Value", esc)]))
        elif s == "methods":
            body.append(METHODS_HTML)
        elif s == "slices":
            sl = data["slices"]
            body.append(f"<p>{sl['total_n']:,} scored examples, error rate {_pct(sl['overall_error_rate'])}; "
                        f"{sl['unscorable']:,} unscorable examples left out. Slices sorted by evidence (q-value, then "
                        "effect); the first 25 tested slices:</p>")
            tested = [r for r in sl["rows"] if not r["too_small"]][:25]
            body.append(_slice_table(tested))
            if "slices" in charts:
                body.append(f"<figure>{charts['slices']}</figure>")
        elif s == "heatmap":
            hm = data["heatmap"]
            if "heatmap" in charts:
                body.append(f"<figure>{charts['heatmap']}</figure>")
            body.append(_table(hm["cells"], [
                (hm["x"], esc(hm["x"]), esc), (hm["y"], esc(hm["y"]), esc), ("n", "n", lambda v: f"{v:,}"),
                ("error_rate", "Error rate", _pct), ("ci_low", "95% low", _pct), ("ci_high", "95% high", _pct),
                ("q_value", "q", _q)]))
        elif s == "discovery":
            disc = data["discovery"]
            body.append(f"<p>SliceLine with {esc(json.dumps({k: disc['settings'][k] for k in ('error_weight', 'k', 'max_order', 'min_support', 'seed')}))}; "
                        f"statistics on {esc(disc['settings']['statistics_on'])}. Slices in one group overlap "
                        "(a slice and its refinements).</p>")
            body.append(_table(disc["rows"], [
                ("group", "Group", str), ("description", "Slice", esc), ("n", "n", lambda v: f"{v:,}"),
                ("error_rate", "Error rate", _pct), ("ci_low", "95% low", _pct), ("ci_high", "95% high", _pct),
                ("q_value", "q", _q), ("sliceline_score", "SliceLine score", lambda v: f"{v:.3f}"),
                ("confirmed", "Confirmed", lambda v: "yes" if v else "no")]) if disc["rows"] else
                        "<p>No slice with an error above the run's average was found.</p>")
        elif s == "clusters":
            cl = data["clusters"]
            st = cl.get("settings") or {}
            body.append(f"<p>The most recent clustering of this run: texts {esc(st.get('field', '?'))}, embedder "
                        f"{esc(st.get('embedder', st.get('embedder_name', '?')))}, seed {esc(st.get('seed', '?'))}; "
                        "each cluster tested against the rest of the run like a slice. Full settings in Scope and "
                        "provenance.</p>")
            body.append(_table(cl["rows"], [
                ("cluster", "Cluster", esc), ("size", "Size", lambda v: f"{v:,}"), ("error_rate", "Error rate", _pct),
                ("ci_low", "95% low", _pct), ("ci_high", "95% high", _pct), ("q_value", "q", _q),
                ("terms", "Terms", lambda v: esc(", ".join(v) if isinstance(v, list) else v)),
                ("representatives", "Examples", lambda v: "<br>".join(esc(x, limit=160) for x in (v or [])[:3])
                 if isinstance(v, list) else esc(v, limit=300))]))
        elif s == "failure_modes":
            body.append("<div class='fm'>" + data["failure_modes"].get("html", "") + "</div>")
        elif s == "comparison":
            comp = data["comparison"]
            gate = comp["gate"]
            body.append(f"<p>{comp['matched']:,} examples matched by id; {comp['only_baseline']:,} only in the "
                        f"baseline and {comp['only_candidate']:,} only in the candidate were left out. Gate: largest "
                        f"allowed accuracy drop {_pct(gate['max_drop'])}, significance {gate['alpha']} (BH): "
                        + ("<span class='ok'>PASSED</span>" if gate["passed"] else "<span class='bad'>FAILED</span>")
                        + (f"; breaking: {esc(', '.join(gate['breaking']))}" if gate["breaking"] else "") + ".</p>")
            if "comparison" in charts:
                body.append(f"<figure>{charts['comparison']}</figure>")
            body.append(_table(comp["rows"][:40], [
                ("description", "Slice", esc), ("n", "n", lambda v: f"{v:,}"),
                ("base_error_rate", "Baseline error", _pct), ("cand_error_rate", "Candidate error", _pct),
                ("difference", "Change", lambda v: f"{v * 100:+.1f} pts"),
                ("ci_low", "95% low", lambda v: f"{v * 100:+.1f}"), ("ci_high", "95% high", lambda v: f"{v * 100:+.1f}"),
                ("b", "New errors", str), ("c", "Fixed", str), ("q_value", "McNemar q", _q),
                ("verdict", "Verdict", esc)]))
        elif s == "limitations":
            body.append(LIMITATIONS_HTML)
        elif s == "appendix":
            rows = data["slices"]["rows"]
            body.append(f"<p>All {len(rows):,} slices of the analysis (redundant conjunctions left out).</p>")
            body.append("<section class=\"appendix\">" + _slice_table(rows) + "</section>")
        elif s == "signoff":
            body.append("<table class=\"signoff\"><tr><th>Role</th><th>Name</th><th>Date</th><th>Signature</th></tr>"
                        f"<tr><td>Prepared by</td><td>{esc(spec.analyst)}</td><td>{esc(report.generated_at[:10])}</td><td></td></tr>"
                        f"<tr><td>Reviewed by</td><td>{esc(spec.reviewer)}</td><td></td><td></td></tr>"
                        "<tr><td>Decision</td><td colspan=\"3\">&#9744; Approved &nbsp; &#9744; Approved with conditions "
                        "&nbsp; &#9744; Rejected</td></tr></table>")
        parts.append("<section>" + "".join(body) + "</section>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(spec.title)} {esc(report.report_id)}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>")


def _slice_table(rows: list[dict]) -> str:
    return _table(rows, [
        ("description", "Slice", esc), ("n", "n", lambda v: f"{v:,}"), ("errors", "Errors", lambda v: f"{v:,}"),
        ("error_rate", "Error rate", _pct), ("ci_low", "95% low", _pct), ("ci_high", "95% high", _pct),
        ("ci_method", "Interval", esc), ("difference", "vs rest", lambda v: f"{v * 100:+.1f} pts" if v == v else ""),
        ("q_value", "q", _q),
        ("finding", "Status", lambda v: "<span class='finding'>worse</span>" if v else "")])


METHODS_HTML = """
<p><b>Outcome.</b> Each example is correct or not (unscorable examples are left out of every rate and counted
separately). A slice is a set of examples sharing attribute values (a conjunction of up to the configured number of
attributes). Numbers are cut into quantile bins; missing values form their own slice.</p>
<p><b>Intervals.</b> 95% Wilson score intervals for error rates; Clopper-Pearson (exact) intervals when a slice has
fewer than 30 examples or fewer than 5 errors or successes. The method is stated per row.</p>
<p><b>Tests.</b> Each slice is compared with the rest of the run: Fisher's exact test when an expected count is below
5, otherwise the pooled two-proportion z test (two-sided). Slices below the minimum support are reported but not
tested. <b>Multiple testing:</b> Benjamini-Hochberg q-values across every slice tested in one analysis; a finding is
a slice worse than the rest with q below the false discovery rate.</p>
<p><b>Discovery.</b> SliceLine (Sagadeeva and Boehm, SIGMOD 2021): exact enumeration of the lattice of conjunctions
with size and score pruning, scoring error against size with weight alpha. Discovered slices are tested like any
slice; with the held-out option the search runs on a random half and the statistics on the other half, so the
selection does not inflate them.</p>
<p><b>Two runs.</b> Examples are matched by id. Per slice, McNemar's exact test on the discordant pairs, a Wald
interval for the paired difference in error rate, Benjamini-Hochberg across slices. A slice breaks the gate when its
accuracy drops by more than the allowed amount with a q-value below the significance level.</p>
<p><b>Computation.</b> Counts per slice are aggregated in SQL (DuckDB); statistics are computed from them. Every
statistic is tested against an independent implementation (statsmodels, scipy, fairlearn, the sliceline package).</p>
"""

LIMITATIONS_HTML = """
<ul>
<li>Slices describe associations in this evaluation set, not causes; a worse slice may share a cause with another.</li>
<li>q-values control the expected share of false findings among the findings, not the chance of any false finding.
Slices found by a search and tested on the same examples have optimistic q-values; the held-out option addresses it.</li>
<li>Rates are only as good as the correctness labels in the logs (automatic graders, raters).</li>
<li>Slices smaller than the minimum support are not tested and can hide real problems.</li>
<li>The comparison of two runs covers only the examples present in both.</li>
</ul>
"""


# --------------------------------------------------------------------------- PDF

class PdfPrinter:
    """Debian's chromium kept open to print one or more HTML documents to PDF (page numbers, running header)."""

    def __init__(self, *, chromium: str | None = None, report_id: str = ""):
        chromium = chromium or chromium_path()
        if not Path(chromium).exists():
            raise FaultlineError(MSG_NO_CHROMIUM.format(path=chromium))
        self.chromium = chromium
        self.header = (f"<div style=\"font-size:7px;width:100%;padding:0 15mm;color:#475569;font-family:DejaVu Sans\">"
                       f"Faultline audit report <span style=\"float:right\">{html.escape(report_id)}</span></div>")
        self.footer = ("<div style=\"font-size:7px;width:100%;text-align:center;color:#475569;font-family:DejaVu Sans\">"
                       "Page <span class=\"pageNumber\"></span> of <span class=\"totalPages\"></span></div>")

    def __enter__(self) -> PdfPrinter:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=self.chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"])
        return self

    def print(self, document: str, out: Path) -> int:
        """Print ``document`` to ``out``; return the page count."""
        from pypdf import PdfReader

        page = self._browser.new_page()
        try:
            page.set_content(document, wait_until="load")
            page.pdf(path=str(out), format="A4", print_background=True, display_header_footer=True,
                     header_template=self.header, footer_template=self.footer,
                     margin={"top": "18mm", "bottom": "16mm", "left": "0mm", "right": "0mm"})
        finally:
            page.close()
        return len(PdfReader(str(out)).pages)

    def __exit__(self, *exc) -> None:
        self._browser.close()
        self._playwright.stop()


def _outside_event_loop(job):
    """Run ``job`` here, or in a worker thread when this thread runs an asyncio loop (a notebook,
    or another playwright session): playwright's sync API refuses to run inside one."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return job()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(job).result()


def render_pdf(document: str, out: Path, *, report_id: str, chromium: str | None = None) -> int:
    """Print an HTML report to PDF with Debian's chromium; return the page count."""

    def job() -> int:
        with PdfPrinter(chromium=chromium, report_id=report_id) as printer:
            return printer.print(document, out)

    return _outside_event_loop(job)


def _section_pages(pdf: Path, sections: Sequence[str]) -> dict[str, int]:
    """The page of each section, from the named destinations chromium writes for the contents' links."""
    from pypdf import PdfReader

    reader = PdfReader(str(pdf))
    destinations = reader.named_destinations
    pages = {}
    for section in sections:
        dest = destinations.get(f"/{section}") or destinations.get(section)
        if dest is not None:
            pages[section] = reader.get_destination_page_number(dest) + 1
    return pages


@dataclass
class ReportRecord:
    """A generated report as recorded in the audit table."""

    report_id: str
    created_at: str
    spec_sha256: str
    content_hash: str
    pdf_path: str | None
    pdf_sha256: str | None
    html_path: str | None
    html_sha256: str | None
    pages: int | None
    seconds: float


def _ensure_audit_table(store: Store) -> None:
    with store._write_lock:
        store.cursor().execute("""
            CREATE TABLE IF NOT EXISTS reports (
                report_id VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, spec_json VARCHAR NOT NULL,
                spec_sha256 VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, analyst VARCHAR, reviewer VARCHAR,
                run_ids VARCHAR, pdf_path VARCHAR, pdf_sha256 VARCHAR, html_path VARCHAR, html_sha256 VARCHAR,
                pages INTEGER, faultline_version VARCHAR, git_commit VARCHAR)
        """)


def report_history(store: Store) -> pd.DataFrame:
    """Every report generated from this store, newest first."""
    _ensure_audit_table(store)
    return store.cursor().execute(
        "SELECT report_id, created_at, analyst, reviewer, run_ids, pages, content_hash, spec_sha256, pdf_path, "
        "pdf_sha256, html_path, html_sha256, faultline_version, git_commit FROM reports ORDER BY created_at DESC"
    ).df()


def report_spec(store: Store, report_id: str) -> ReportSpec:
    """The spec a report was generated from (to regenerate it)."""
    _ensure_audit_table(store)
    rows = store.cursor().execute("SELECT spec_json FROM reports WHERE report_id = ? ORDER BY created_at DESC LIMIT 1",
                                  [report_id]).fetchall()
    if not rows:
        raise FaultlineError(f"No report {report_id!r} in the store's history")
    return ReportSpec.from_json(rows[0][0])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generate_report(store: Store, spec: ReportSpec, *, pdf: str | Path | None, html_out: str | Path | None = None,
                    progress: ProgressCallback | None = None, chromium: str | None = None) -> ReportRecord:
    """Compute, render (PDF and/or HTML) and record a report. Nothing is written unless it completes."""
    if pdf is None and html_out is None:
        raise FaultlineError("Nothing to write: give a PDF path, an HTML path or both")
    chromium = chromium or chromium_path()
    if pdf is not None and not Path(chromium).exists():
        raise FaultlineError(MSG_NO_CHROMIUM.format(path=chromium))
    start = time.perf_counter()
    say = scaled(progress, 0.0, 1.0)
    with export_server():
        # The export server's chromium starts while the content is computed.
        warm = threading.Thread(target=_warm_export, daemon=True)
        warm.start()
        report = build_report(store, spec, progress=scaled(progress, 0.0, 0.6))
        say(0.62, "Exporting charts")
        warm.join()
        charts = _charts(report)
    document = render_html(report, charts=charts)
    pdf_path = Path(pdf) if pdf else None
    html_path = Path(html_out) if html_out else None
    pages = None
    if pdf_path is not None:
        say(0.75, "Printing the PDF")
        tmp = pdf_path.with_name(pdf_path.name + ".part")

        def print_twice() -> tuple[str, int]:
            with PdfPrinter(chromium=chromium, report_id=report.report_id) as printer:
                printer.print(document, tmp)
                page_numbers = _section_pages(tmp, [x for x in SECTIONS if x in spec.sections])
                say(0.88, "Adding page numbers to the contents")
                final = render_html(report, page_numbers=page_numbers, charts=charts)
                return final, printer.print(final, tmp)

        document, pages = _outside_event_loop(print_twice)
        tmp.replace(pdf_path)
    if html_path is not None:
        if pdf_path is None:
            document = render_html(report, charts=charts)
        html_path.write_text(document, encoding="utf-8")
    _ensure_audit_table(store)
    created = datetime.now(UTC).replace(tzinfo=None)
    record = ReportRecord(report.report_id, created.isoformat(timespec="seconds"), spec.sha256, report.content_hash,
                          str(pdf_path.resolve()) if pdf_path else None, _sha256(pdf_path) if pdf_path else None,
                          str(html_path.resolve()) if html_path else None, _sha256(html_path) if html_path else None,
                          pages, time.perf_counter() - start)
    with store._write_lock:
        cur = store.cursor()
        cur.execute("BEGIN TRANSACTION")
        cur.execute("INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [record.report_id, created, spec.canonical(), spec.sha256, record.content_hash, spec.analyst,
                     spec.reviewer, ",".join(r["run_id"] for r in report.data["runs"]), record.pdf_path,
                     record.pdf_sha256, record.html_path, record.html_sha256, pages, __version__,
                     report.data["git_commit"]])
        cur.execute("UPDATE store_info SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
                    "WHERE key = 'data_version'")
        cur.execute("COMMIT")
    say(1.0, f"Report {record.report_id} written")
    return record
