"""Tables as the app shows them: numbers formatted for reading (rates as percentages, differences in
points, q-values) and the columns each page's table shows, with their headings.

The frames returned are for display (and CSV download) only: every number in them comes from the
engine's table they are given.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

import analysis


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """0.1234 -> '12.3%'; NaN or None -> 'n/a'."""
    if value is None or value != value:
        return "n/a"
    return f"{value * 100:.{digits}f}%"


def fmt_interval(low: float | None, high: float | None, digits: int = 1) -> str:
    """'[10.2%, 14.9%]' or 'n/a'."""
    if low is None or high is None or low != low or high != high:
        return "n/a"
    return f"[{fmt_pct(low, digits)}, {fmt_pct(high, digits)}]"


fmt_q = analysis.format_q
"""A q-value for display (:func:`analysis.format_q`)."""


def fmt_points(difference: float) -> str:
    """A difference of two rates in points: 0.034 -> '+3.4 pts'; NaN -> ''."""
    return f"{difference * 100:+.1f} pts" if difference == difference else ""


def _intervals(frame: pd.DataFrame, low: str = "ci_low", high: str = "ci_high") -> list[str]:
    return [fmt_interval(lo, hi) for lo, hi in zip(frame[low], frame[high])]


# ------------------------------------------------------------------ start page
RUN_COLUMNS = {
    "name": st.column_config.TextColumn("Run"), "model": "Model", "format": "Format",
    "rows": st.column_config.NumberColumn("Examples", format="%d"),
    "scored": st.column_config.NumberColumn("Scored", format="%d",
                                            help="Examples with an outcome (unscorable ones excluded)"),
    "correct": st.column_config.NumberColumn("Correct", format="%d"),
    "headline_text": st.column_config.TextColumn(
        "Headline (95% interval)", width="medium",
        help="Accuracy with its Wilson interval; for graded scores the mean score with its t interval"),
    "check_text": st.column_config.TextColumn(
        "Checked against the tool", help="Whether these examples reproduce the figure the tool itself reported"),
    "run_id": "Run id",
}

#: How a reconciliation verdict reads in a table.
CHECK_WORDS = {"matches": "matches", "differs": "⚠ differs", "partial": "⚠ partial", "not reported": "not reported"}


def runs_display(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs of :meth:`analysis.Store.headline` with the headline and the reconciliation verdict as text."""
    return runs.assign(
        headline_text=[analysis.format_headline(m, v, lo, hi)
                       for m, v, lo, hi in zip(runs["metric"], runs["value"], runs["low"], runs["high"])],
        check_text=["" if pd.isna(c) else CHECK_WORDS.get(c, c) for c in runs["check"]])[
        ["name", "model", "format", "rows", "scored", "correct", "headline_text", "check_text", "run_id"]]


def reconciliation_display(checks: pd.DataFrame) -> pd.DataFrame:
    """:meth:`analysis.Store.reconciliation` for reading, the runs that need attention first: verdict, run, the
    plain words, tool, metric, both figures, n, source."""
    def figure(v):
        return "" if pd.isna(v) else f"{v:.4g}"

    order = {v: k for k, v in enumerate(analysis.RECONCILIATION_VERDICTS)}
    checks = checks.iloc[sorted(range(len(checks)), key=lambda i: order.get(checks["verdict"].iloc[i], 9))]
    return checks.assign(
        tool_figure=[figure(v) for v in checks["tool_value"]],
        our_figure=[figure(v) for v in checks["faultline_value"]],
        n=[f"{int(f):,}" + ("" if pd.isna(t) else f" of {int(t):,}") for f, t in zip(checks["faultline_n"],
                                                                                     checks["tool_n"])],
        verdict_text=[CHECK_WORDS.get(v, v) for v in checks["verdict"]])[
        ["verdict_text", "name", "message", "tool", "metric", "tool_figure", "our_figure", "n", "source"]]


RECONCILIATION_COLUMNS = {"name": "Run", "tool": "Tool", "metric": "Tool's metric", "tool_figure": "Tool reports",
                          "our_figure": "These examples give", "n": "Examples (of the tool's)",
                          "verdict_text": "Verdict", "message": st.column_config.TextColumn("In words", width="large"),
                          "source": "Read from"}


# ------------------------------------------------------------------ slices
SLICE_COLUMNS = {"description": st.column_config.TextColumn("Slice", width="large"), "rate": "Error rate",
                 "interval": "95% interval", "ci_method": "Interval method", "vs_rest": "vs rest", "q": "q-value",
                 "status": "Status"}


def slices_display(view: pd.DataFrame) -> pd.DataFrame:
    """Slices of a slice table: status first (a "too small" slice must not read as a finding at 1280 px), then
    n, rate, interval, difference to the rest in points, q-value, interval method."""
    return view.assign(
        rate=[fmt_pct(r) for r in view["error_rate"]], interval=_intervals(view),
        vs_rest=[fmt_points(d) for d in view["difference"]], q=[fmt_q(q) for q in view["q_value"]],
        status=["too small" if s else ("worse" if f else "") for s, f in zip(view["too_small"], view["finding"])],
    )[["description", "status", "n", "errors", "rate", "interval", "vs_rest", "q", "ci_method"]]


DISCOVERY_COLUMNS = {"group": st.column_config.NumberColumn("Group", help="a slice and its refinements"),
                     "description": st.column_config.TextColumn("Slice", width="large"),
                     "sliceline_score": st.column_config.NumberColumn("SliceLine score", format="%.3f")}


def discovery_display(table: pd.DataFrame) -> pd.DataFrame:
    """Slices found by SliceLine, grouped (a slice and its refinements), best score first in a group."""
    return table.assign(
        rate=[fmt_pct(r) for r in table["error_rate"]], interval=_intervals(table),
        q=[fmt_q(q) for q in table["q_value"]],
        status=["confirmed" if c else "not confirmed" for c in table["confirmed"]],
    ).sort_values(["group", "sliceline_score"], ascending=[True, False])[
        ["group", "description", "n", "rate", "interval", "q", "sliceline_score", "status"]]


EXAMPLE_COLUMNS = {"input": st.column_config.TextColumn("Input", width="large"),
                   "output": st.column_config.TextColumn("Output", width="large")}


# ------------------------------------------------------------------ compare
COMPARISON_COLUMNS = {"description": st.column_config.TextColumn("Slice", width="large"),
                      "baseline": "Baseline error", "candidate": "Candidate error",
                      "interval": "95% interval (pts)", "b": st.column_config.NumberColumn("New errors"),
                      "c": st.column_config.NumberColumn("Fixed"), "q": "q-value", "verdict": "Verdict"}


def comparison_display(table: pd.DataFrame) -> pd.DataFrame:
    """Slices of a comparison: both error rates, the change and its interval in points, McNemar q."""
    return table.assign(
        baseline=[fmt_pct(r) for r in table["base_error_rate"]],
        candidate=[fmt_pct(r) for r in table["cand_error_rate"]],
        change=[f"{d * 100:+.1f} pts" for d in table["difference"]],
        interval=[f"[{lo * 100:+.1f}, {hi * 100:+.1f}]" for lo, hi in zip(table["ci_low"], table["ci_high"])],
        q=[fmt_q(q) for q in table["q_value"]],
    )[["description", "n", "baseline", "candidate", "change", "interval", "b", "c", "q", "verdict"]]


# ------------------------------------------------------------------ clusters
CLUSTER_COLUMNS = {"cluster": "Cluster", "terms_text": st.column_config.TextColumn("Top terms", width="large"),
                   "size": "Examples", "errors": "Errors", "rate": "Error rate", "interval": "95% interval",
                   "vs_rest": "vs rest", "q": "q-value", "status": "Status"}


def clusters_display(table: pd.DataFrame) -> pd.DataFrame:
    """Clusters by evidence: top terms, size, error rate and interval, difference to the rest, q-value."""
    return table.assign(
        terms_text=[", ".join(t[:6]) for t in table["terms"]], rate=[fmt_pct(r) for r in table["error_rate"]],
        interval=_intervals(table), vs_rest=[fmt_points(d) for d in table["difference"]],
        q=[fmt_q(q) for q in table["q_value"]], status=["worse" if f else "" for f in table["finding"]],
    )[["cluster", "terms_text", "size", "errors", "rate", "interval", "vs_rest", "q", "status"]]


# ------------------------------------------------------------------ failure modes
MODE_COLUMNS = {"name": "Failure mode", "dimension": "Harms", "n": "Examples", "rate_text": "Share",
                "sources_text": st.column_config.TextColumn("Sources", width="medium"),
                "where": st.column_config.TextColumn("Concentrates in", width="large")}


def modes_display(result) -> pd.DataFrame:
    """The failure modes of a :class:`~analysis.objective.link.LinkResult`: share, sources, and the two
    slices where each concentrates most."""
    counts = result.counts
    where = ["; ".join(f"{r.description} ({r.mode_rate:.0%} vs {r.rest_mode_rate:.0%})"
                       for r in result.concentrates_in(m).itertuples()) for m in counts["mode"]]
    return counts.assign(
        rate_text=[fmt_pct(r) for r in counts["rate"]],
        sources_text=[", ".join(f"{k} ({v:,})" for k, v in s.items() if v) for s in counts["sources"]],
        where=where,
    )[["name", "dimension", "n", "rate_text", "sources_text", "where"]]


SEPARATION_COLUMNS = {"n_fail": st.column_config.NumberColumn("failures", help="in this mode and no other"),
                      "n_ok": "correct", "auc": st.column_config.NumberColumn("preference AUC", format="%.3f"),
                      "smd": st.column_config.NumberColumn("d", format="%.2f")}


def separation_display(sep: pd.DataFrame) -> pd.DataFrame:
    """A cell's separation per signal: counts, preference AUC with its interval, Cohen's d, q-value."""
    return sep.assign(
        interval=[f"[{lo:.2f}, {hi:.2f}]" if lo == lo else "n/a" for lo, hi in zip(sep["auc_low"], sep["auc_high"])],
        q=[fmt_q(q) for q in sep["q_value"]])[["signal", "n_fail", "n_ok", "auc", "interval", "smd", "q"]]


CONCENTRATION_COLUMNS = {"description": st.column_config.TextColumn("Slice", width="large"),
                         "in_mode": "In the mode", "rate": "Share", "interval": "95% interval",
                         "rest": "Rest of the run", "q": "q-value"}


def concentration_display(table: pd.DataFrame, *, limit: int = 30) -> pd.DataFrame:
    """Where a mode concentrates: the tested, non-redundant slices, those where it is more frequent first."""
    view = table[~table["redundant"] & ~table["too_small"]]
    view = pd.concat([view[view["finding"]], view[~view["finding"]]]).head(limit)
    return view.assign(
        rate=[fmt_pct(r) for r in view["mode_rate"]], interval=_intervals(view),
        rest=[fmt_pct(r) for r in view["rest_mode_rate"]], q=[fmt_q(q) for q in view["q_value"]],
        status=["more frequent" if f else "" for f in view["finding"]],
    )[["description", "n", "in_mode", "rate", "interval", "rest", "q", "status"]]


DIVERGENCE_COLUMNS = {"rho": st.column_config.NumberColumn("Spearman rho", format="%.3f"),
                      "mode_concentrates": "mode concentrates here"}


def divergence_display(div: pd.DataFrame) -> pd.DataFrame:
    """The slices where a signal ranks answers against the outcome."""
    return div.assign(q=[fmt_q(q) for q in div["q_value"]])[
        ["signal", "description", "n", "rho", "q", "mode_concentrates"]]


def goodhart_columns(mode_name: str) -> dict:
    """Headings of the Goodhart slices table."""
    return {"d_signal": st.column_config.NumberColumn("signal change", format="%+.3f"), "q_s": "q (signal)",
            "acc": "accuracy change", "q_o": "q (outcome)", "mode_change": f"{mode_name} change"}


def goodhart_display(points: pd.DataFrame) -> pd.DataFrame:
    """The Goodhart slices of a cell: signal change, accuracy change and mode rate change in points."""
    flagged = points[points["goodhart"].astype(bool)]
    return flagged.assign(
        q_s=[fmt_q(q) for q in flagged["q_signal"]], q_o=[fmt_q(q) for q in flagged["q_outcome"]],
        acc=[f"{d * 100:+.1f} pts" for d in flagged["d_accuracy"]],
        mode_change=[fmt_points(d) for d in flagged["d_rate"]],
    )[["description", "n", "d_signal", "q_s", "acc", "q_o", "mode_change"]]


def annotations_display(notes: pd.DataFrame) -> pd.DataFrame:
    """Annotations with their target (an example or a slice) in words."""
    return notes.assign(target=[f"example {e}" if e is not None else f"slice {json.loads(s)}"
                                for e, s in zip(notes["example_id"], notes["slice"])])[
        ["created_at", "author", "target", "mode", "note", "retracted"]]
