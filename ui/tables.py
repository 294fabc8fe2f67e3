"""Tables as the app shows them: numbers formatted for reading (rates as percentages, differences in
points, q-values) and the columns each page's table shows, with their headings.

The frames returned are for display (and CSV download) only: every number in them comes from the
engine's table they are given.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

# the Styler (``styled``) compiles its templates when first imported: at the app's start, not in the first page that
# shows a q-value (0.2-0.8 s)
import pandas.io.formats.style  # noqa: F401
import streamlit as st

import analysis
from ui.session import md


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


#: One precision per kind of number, on every page (the trial saw "0.49" beside "0.490"): a score or a mean of
#: scores (and their differences) with three decimals, a preference AUC and its interval with two.
SCORE_DIGITS = 3
AUC_DIGITS = 2
SCORE_FORMAT = f"%.{SCORE_DIGITS}f"
AUC_FORMAT = f"%.{AUC_DIGITS}f"

fmt_q = analysis.format_q


def q_text(q: float | None) -> str:
    """A q-value in running text: "q = 0.012"; "q < 1e-300" where it underflows (never "q = <1e-300"); "not
    tested" for a slice too small to test (:func:`analysis.format_q` writes the number)."""
    text = fmt_q(q)
    if text == "not tested":
        return text
    return f"q < {text[1:]}" if text.startswith("<") else f"q = {text}"
"""A q-value for display (:func:`analysis.format_q`)."""


def fmt_points(difference: float) -> str:
    """A difference of two rates in points: 0.034 -> '+3.4 pts'; one that rounds to zero -> '0.0 pts' (never '-0.0'
    nor '+0.0': no change has no sign); NaN -> ''."""
    if difference != difference:
        return ""
    shown = round(difference * 100, 1)
    return "0.0 pts" if shown == 0 else f"{shown:+.1f} pts"


def points_delta(difference: float) -> dict:
    """``st.metric`` keyword arguments for a change of a rate shown in points (:func:`fmt_points`): no arrow and no
    colour when it rounds to zero (identical runs read "0.0 pts", not a red "-0.0")."""
    text = fmt_points(difference)
    return {"delta": text, **({"delta_color": "off", "delta_arrow": "off"} if text == "0.0 pts" else {})}


# ------------------------------------------------------------------ start page
RUN_COLUMNS = {
    "name": st.column_config.TextColumn("Run"), "model": "Model", "format": "Format",
    "rows": st.column_config.NumberColumn("Examples", format="localized"),
    "scored": st.column_config.NumberColumn("Scored", format="localized",
                                            help="Examples with an outcome (unscorable ones excluded)"),
    "correct": st.column_config.NumberColumn("Correct", format="localized"),
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


# ------------------------------------------------------------------ numbers that sort as numbers
# Tables hold numbers (rates and intervals in percent, differences in points, q-values as they are) and the grid
# formats them, so a click on a heading sorts 9.9% below 81.2%. Downloads hold the engine's columns instead
# (fractions, as ``--json`` gives them): :func:`export_frame`.

def percent(label: str, help: str | None = None, width: int | None = None):
    """A column of percentages (numbers x 100) shown with one decimal: 12.3%; ``width`` in pixels (default: the
    grid's)."""
    return st.column_config.NumberColumn(label, format="%.1f%%", help=help, width=width)


def points(label: str, help: str | None = None):
    """A column of differences in percentage points shown signed: +3.4 pts."""
    return st.column_config.NumberColumn(label, format="%+.1f pts", help=help)


def q_column(label: str = "q-value", family: str | None = None, *, family_in_label: bool = True):
    """A column of q-values: numbers, so a click on the heading sorts by evidence, written as
    :func:`analysis.format_q` writes them once the frame goes through :func:`styled` (two significant digits,
    ``<1e-300`` when the test's p-value underflows, never a bare 0; ``not tested`` for a slice too small to test,
    sorted after every tested one). With ``family`` (:func:`q_family`), the heading and its help name the
    Benjamini-Hochberg family the q-values were adjusted over, and the column is as wide as its heading; without
    ``family_in_label`` only the help names it (a table too wide for a projector: its caption names it then)."""
    help_text = ("Benjamini-Hochberg adjusted p-value" + (f", adjusted over {family} (a q-value depends on its "
                                                          "family: the same group can have another q on another page)"
                                                          if family else "")
                 + ", two significant digits (more where two would round a q below 1 up to 1); '<1e-300' when "
                 "it underflows; 'not tested': too small "
                 "to test (sorted last). The table is sorted by evidence, smallest q first.")
    if family and family_in_label:
        label = f"{label} (BH over {family})"
    # never narrower than its widest number ("<1e-300"): a short heading ("q") left "1e-31" drawn as "e-31"
    return st.column_config.NumberColumn(label, width=max(header_width(label), Q_TEXT_WIDTH) if family else "small",
                                         help=help_text)


def q_family(q_values_, noun: str) -> str:
    """A q-value column's Benjamini-Hochberg family in words: how many were tested (``q_values_`` not missing),
    of what: ``q_family([0.1, None, 0.3], "clusters")`` -> ``"2 clusters"``."""
    return f"{analysis.bh_family_size(_num(q_values_)):,} {noun}"


#: The one-line caption under the Slices table: its q-values' family, by name and size (the engine's count).
SLICES_Q_FAMILY = ("q: Benjamini-Hochberg over the {n:,} slices tested on this page (every slice of the attributes "
                   "chosen, up to order {order}, with at least {support} examples). The Clusters page adjusts a "
                   "cluster's q over the clusters of its run instead, so the same group can read another q there.")
#: ... under the Clusters table.
CLUSTERS_Q_FAMILY = ("q: Benjamini-Hochberg over the {n:,} groups of this clustering tested (its clusters, and noise "
                     "or empty texts as groups of their own). Opened as a slice on the Slices page, a cluster is one "
                     "of every slice tested there, so its q there is adjusted over that larger family and differs.")


def slices_q_family(n: int, order: int, support: int) -> str:
    """:data:`SLICES_Q_FAMILY` for a family of ``n`` slices (``SliceResult.q_family_size``)."""
    return SLICES_Q_FAMILY.format(n=n, order=order, support=support)


def clusters_q_family(n: int) -> str:
    """:data:`CLUSTERS_Q_FAMILY` for a family of ``n`` groups (``ClusterResult.q_family_size``)."""
    return CLUSTERS_Q_FAMILY.format(n=n)


def with_q_family(columns: dict, family: str, key: str = "q", label: str = "q", *, in_label: bool = True) -> dict:
    """A copy of a table's ``column_config`` whose q-value column ``key`` names its BH ``family`` (in its heading and
    help, or in its help only without ``in_label``)."""
    return {**columns, key: q_column(label, family, family_in_label=in_label)}


#: Pixels per character of a grid heading (14 px Source Sans, measured in chromium: 5.5 px on average, 5.6 for
#: "q (BH over 375 slices)") and the room the grid adds around it (padding and the sort and menu icons).
HEADER_CHAR_PX, HEADER_PAD_PX = 6.0, 26


def header_width(label: str) -> int:
    """A column width (pixels) that shows ``label`` whole as a grid heading (never "q-val...")."""
    return int(round(len(label) * HEADER_CHAR_PX + HEADER_PAD_PX))


#: The width (pixels) of a q-value column whose heading is shorter than its widest number (``<1e-300``).
Q_TEXT_WIDTH = header_width("<1e-300")


def q_values(values) -> np.ndarray:
    """q-values for a sortable column (shape (n,)): the numbers, with a slice that was not tested (None or NaN) as
    +inf so that it sorts after every tested slice; :func:`styled` writes it ``not tested``."""
    q = _num(values)
    return np.where(np.isnan(q), np.inf, q)


#: Names of the display columns that hold q-values (:func:`q_column`): :func:`styled` writes them.
Q_COLUMNS = ("q", "q_s", "q_o")


def styled(frame: pd.DataFrame, q_columns: tuple[str, ...] = Q_COLUMNS):
    """A display frame for ``st.dataframe`` with its q-value columns (those of ``q_columns`` it has) written by
    :func:`analysis.format_q` while their values stay numbers: the grid sorts a styled column by value and shows
    the text. A q that is missing (not tested) becomes +inf in the copy shown, so it sorts last."""
    present = [c for c in q_columns if c in frame.columns]
    if not present:
        return frame
    shown = frame.assign(**{c: q_values(frame[c]) for c in present})
    return shown.style.format(fmt_q, subset=present)


#: The width (pixels) of a slice's description in a table: long conjunctions stay readable at 1280x720 and the
#: essential columns after it (status, q-value, verdict) still fit beside it. (Not pinned: the grid greys pinned
#: text, too faint on a projector.)
SLICE_WIDTH = 260


def slice_column(label: str = "Slice", width: int = SLICE_WIDTH):
    """The column of a slice's description, :data:`SLICE_WIDTH` wide unless ``width`` (pixels) is given."""
    return st.column_config.TextColumn(label, width=width)


#: A narrower slice column for the tables whose every essential column must fit beside it at 1280x720 (the main
#: area is 818 px wide there): a longer description is read whole in the selected row's summary below the table.
NARROW_SLICE_WIDTH = 205
#: A percentage column as wide as "95% high" and "100.0%" need (the grid's default left them 72 px).
RATE_WIDTH = 66


#: How counts read in the tables: with the browser's thousands separators ("36,421", not "36421"), still numbers.
COUNT_FORMAT = "localized"


def count(label: str, help: str | None = None, width: int | None = None):
    """A column of counts, with thousands separators; ``width`` in pixels (default: the grid's)."""
    return st.column_config.NumberColumn(label, format=COUNT_FORMAT, help=help, width=width)


#: A count column as wide as "1,000,000" needs (a slice of a run of a million examples).
COUNT_WIDTH = 76


#: How the grid sizes a table (pixels): a header row, the rows, and a 1 px border above and below them.
GRID_HEADER_PX, GRID_ROW_PX, GRID_BORDERS_PX = 35, 35, 2
#: The most an examples grid takes of a page (about eight rows); more rows scroll inside it.
EXAMPLES_MAX_PX = 320


def grid_height(n_rows: int, *, cap: int = EXAMPLES_MAX_PX, row_height: int = GRID_ROW_PX) -> int:
    """A grid's height (pixels) sized to its rows, at most ``cap``: a short list of examples shows no empty rows
    under it (a fixed height did), a long one scrolls inside the grid."""
    return int(min(cap, GRID_HEADER_PX + max(n_rows, 1) * row_height + GRID_BORDERS_PX))


def _pct(values) -> pd.Series:
    """Fractions -> percentages (x 100), NaN kept (the grid's grey "None"), a negative zero made zero (a signed
    format writes it "-0.0")."""
    return pd.to_numeric(pd.Series(list(values), dtype="float64"), errors="coerce").mul(100).to_numpy() + 0.0


def _num(values) -> pd.Series:
    return pd.to_numeric(pd.Series(list(values), dtype="float64"), errors="coerce").to_numpy()


def export_frame(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """What a download holds: the slice in words and the engine's numeric columns as ``--json`` gives them
    (rates as fractions, differences as differences of fractions, q-values unrounded), never display strings.
    Pass the result through :func:`analysis.export.safe_csv`."""
    present = [c for c in columns if c in table.columns]
    return table[(["description"] if "description" in table.columns else []) + present].reset_index(drop=True)


#: The numeric columns of ``faultline slices --json`` (:meth:`SliceResult.to_records`), in its order.
SLICE_EXPORT = ["order", "n", "errors", "error_rate", "ci_low", "ci_high", "ci_method", "mean_score",
                "rest_error_rate", "difference", "p_value", "test", "q_value", "too_small", "finding"]
#: ... of ``faultline compare --json`` (:meth:`Comparison.to_records`).
COMPARISON_EXPORT = ["n", "base_error_rate", "cand_error_rate", "difference", "ci_low", "ci_high", "b", "c",
                     "p_value", "q_value", "verdict", "too_small", "score_difference", "score_ci_low", "score_ci_high"]
#: ... of ``faultline discover --json``.
DISCOVERY_EXPORT = ["order", "sliceline_score", "n", "errors", "error_rate", "ci_low", "ci_high", "p_value",
                    "q_value", "group", "confirmed"]
#: ... of ``faultline clusters --json`` (the per-cluster statistics).
CLUSTER_EXPORT = ["cluster", "size", "errors", "error_rate", "ci_low", "ci_high", "rest_error_rate", "difference",
                  "p_value", "q_value", "finding"]


# ------------------------------------------------------------------ slices
#: The help of a Status column (slices, clusters): what each word and a blank mean.
STATUS_HELP = ("worse / better: the error rate (or mean score) differs from the rest's with q below the false "
               "discovery rate; blank: no significant difference; too small: below the minimum support, not tested")


def status_column():
    """The Status column of slice and cluster tables, with :data:`STATUS_HELP` (a blank reads as "no difference")."""
    return st.column_config.TextColumn("Status", help=STATUS_HELP)


SLICE_COLUMNS = {"description": slice_column(width=NARROW_SLICE_WIDTH),
                 "status": status_column(), "n": count("n", width=COUNT_WIDTH), "errors": count("errors"),
                 "rate": percent("Error rate", width=RATE_WIDTH + 6),
                 "ci_low": percent("95% low", width=RATE_WIDTH), "ci_high": percent("95% high", width=RATE_WIDTH),
                 "ci_method": "Interval method",
                 "vs_rest": points("vs rest", help="Error rate minus the rest of the run's, in points"),
                 "q": q_column()}


def statuses(table: pd.DataFrame, fdr: float | None, *, better_sign: int = -1) -> list[str]:
    """A table's Status words (:data:`STATUS_HELP`): "too small" (below the minimum support, where the table has
    ``too_small``), "worse" (a finding), "better" (with ``fdr``: q below it and the difference to the rest of the sign
    ``better_sign``, -1 for an error rate, +1 for a mean score), else blank."""
    small = table["too_small"] if "too_small" in table else [False] * len(table)
    q, d = _num(table["q_value"]), _num(table["difference"])
    return ["too small" if s else ("worse" if f else ("better" if fdr is not None and qi < fdr and di * better_sign > 0
                                                      else ""))
            for s, f, qi, di in zip(small, table["finding"], q, d)]


def slices_display(view: pd.DataFrame, fdr: float | None = None) -> pd.DataFrame:
    """Slices of a slice table, the essential columns first (in view at 1280x720): status (a "too small" slice must
    not read as a finding; with ``fdr``, a slice significantly better than the rest says so too), q-value and the
    difference to the rest in points, then n, rate and its interval in percent; the error count and the interval
    method after them (secondary: in the selected slice's summary too)."""
    return pd.DataFrame({
        "description": view["description"].to_numpy(),
        "status": statuses(view, fdr),
        "q": q_values(view["q_value"]), "vs_rest": _pct(view["difference"]),  # the effect beside its evidence
        "n": view["n"].to_numpy(), "rate": _pct(view["error_rate"]),
        "ci_low": _pct(view["ci_low"]), "ci_high": _pct(view["ci_high"]), "errors": view["errors"].to_numpy(),
        "ci_method": view["ci_method"].to_numpy()})


#: ... of a slice table by a graded score (``slices --outcome score.NAME --json``).
GRADED_EXPORT = ["order", "n", "mean", "sd", "ci_low", "ci_high", "ci_method", "rest_n", "rest_mean", "difference",
                 "p_value", "test", "q_value", "too_small", "finding"]
GRADED_COLUMNS = {"description": slice_column(width=NARROW_SLICE_WIDTH), "status": status_column(),
                  "n": count("n", help="Examples with the score", width=COUNT_WIDTH),
                  "mean": st.column_config.NumberColumn("Mean score", format="%.3f"),
                  "ci_low": st.column_config.NumberColumn("95% low", format="%.3f", help="Student t interval"),
                  "ci_high": st.column_config.NumberColumn("95% high", format="%.3f", help="Student t interval"),
                  "vs_rest": st.column_config.NumberColumn("vs rest", format="%+.3f",
                                                           help="Mean minus the rest of the run's, in the score's "
                                                                "unit; lower is worse"),
                  "q": q_column(), "ci_method": "Interval method"}


def graded_display(view: pd.DataFrame, fdr: float | None = None) -> pd.DataFrame:
    """Slices of a slice table by a graded score (:func:`analysis.slice_table` with ``outcome=``): status first
    ("worse" is a mean significantly lower than the rest's; with ``fdr`` "better" a significantly higher one), n, the
    mean with its t interval; the q-value and the difference to the rest (in the score's unit) beside the status."""
    return pd.DataFrame({
        "description": view["description"].to_numpy(),
        "status": statuses(view, fdr, better_sign=1),
        "q": q_values(view["q_value"]), "vs_rest": _num(view["difference"]),  # the effect beside its evidence
        "n": view["n"].to_numpy(), "mean": _num(view["mean"]), "ci_low": _num(view["ci_low"]),
        "ci_high": _num(view["ci_high"]),
        "ci_method": view["ci_method"].to_numpy()})


DISCOVERY_COLUMNS = {"group": st.column_config.NumberColumn("Group", help="a slice and its refinements"),
                     "description": slice_column(), "n": count("n"),
                     "rate": percent("Error rate"), "ci_low": percent("95% low"), "ci_high": percent("95% high"),
                     "q": q_column(), "status": "Status",
                     "sliceline_score": st.column_config.NumberColumn("SliceLine score", format="%.3f")}


def discovery_display(table: pd.DataFrame) -> pd.DataFrame:
    """Slices found by SliceLine, grouped (a slice and its refinements), best score first in a group."""
    ordered = table.sort_values(["group", "sliceline_score"], ascending=[True, False])
    return pd.DataFrame({
        "group": ordered["group"].to_numpy(), "description": ordered["description"].to_numpy(),
        "status": ["confirmed" if c else "not confirmed" for c in ordered["confirmed"]],
        "q": q_values(ordered["q_value"]),
        "n": ordered["n"].to_numpy(), "rate": _pct(ordered["error_rate"]), "ci_low": _pct(ordered["ci_low"]),
        "ci_high": _pct(ordered["ci_high"]), "sliceline_score": _num(ordered["sliceline_score"])})


EXAMPLE_COLUMNS = {"input": st.column_config.TextColumn("Input", width="large"),
                   "output": st.column_config.TextColumn("Output", width="large")}


# ------------------------------------------------------------------ compare
def verdict_column():
    """The column of a comparison row's verdict (:func:`analysis.slice_verdicts`), its help saying what each verdict
    means and why a row was not tested (:data:`analysis.NOT_TESTED_WHY`)."""
    return st.column_config.TextColumn(
        "Verdict", help="regressed / improved: a significant change (q below the significance); not significant: "
                        "tested, no significant change (no claim that nothing changed: see its interval); "
                        f"{analysis.NOT_TESTED_WHY}.")


COMPARISON_COLUMNS = {"description": slice_column(), "n": count("n"),
                      "baseline": percent("Baseline error"), "candidate": percent("Candidate error"),
                      "change": points("Error change", help="Candidate minus baseline error rate, in points; > 0 is "
                                       "worse (accuracy moves the other way: the headline's accuracy change has the "
                                       "opposite sign)"),
                      "ci_low": points("low", help="95% interval of the change"),
                      "ci_high": points("high", help="95% interval of the change"), "b": count("New errors"), "c": count("Fixed"), "q": q_column(), "verdict": verdict_column()}


def comparison_display(table: pd.DataFrame) -> pd.DataFrame:
    """Slices of a comparison, the essential columns first (in view at 1280x720): verdict, McNemar q, the change and
    its interval in points (empty for a slice not tested, the grid's grey "None": with a handful of pairs the interval says nothing); then n,
    both error rates in percent, new errors and fixed ones."""
    tested = (table["verdict"] != analysis.NOT_TESTED).to_numpy()
    return pd.DataFrame({
        "description": table["description"].to_numpy(), "verdict": table["verdict"].to_numpy(),
        "q": q_values(table["q_value"]), "change": _pct(table["difference"]),
        "ci_low": np.where(tested, _pct(table["ci_low"]), np.nan),
        "ci_high": np.where(tested, _pct(table["ci_high"]), np.nan), "n": table["n"].to_numpy(),
        "baseline": _pct(table["base_error_rate"]), "candidate": _pct(table["cand_error_rate"]),
        "b": table["b"].to_numpy(), "c": table["c"].to_numpy()})


# ------------------------------------------------------------------ timeline
def drift_order(slices: pd.DataFrame) -> pd.DataFrame:
    """A series' slices by evidence, as the Slices table: the trend's q-value first (untested, NaN, last), then the
    effect size (the absolute trend, points per run, largest first), then the description."""
    return slices.assign(_q=slices["trend_q"].fillna(np.inf), _effect=-slices["slope"].abs().fillna(0.0)).sort_values(
        ["_q", "_effect", "description"], kind="stable").drop(columns=["_q", "_effect"])


# ------------------------------------------------------------------ clusters
CLUSTER_COLUMNS = {"cluster": "Cluster", "terms_text": st.column_config.TextColumn("Top terms", width="medium"),
                   "size": count("Examples"), "errors": count("Errors"), "rate": percent("Error rate"),
                   "ci_low": percent("95% low"), "ci_high": percent("95% high"),
                   "vs_rest": points("vs rest", help="Error rate minus the rest of the run's, in points"),
                   "q": q_column(), "status": status_column()}


def clusters_display(table: pd.DataFrame, fdr: float | None = None) -> pd.DataFrame:
    """Clusters by evidence, the essential columns first (in view at 1280x720): status and q-value, then top terms,
    size, error rate and interval, difference to the rest."""
    return pd.DataFrame({
        "cluster": table["cluster"].to_numpy(),
        "status": statuses(table, fdr),
        "q": q_values(table["q_value"]), "terms_text": [", ".join(t[:6]) for t in table["terms"]],
        "size": table["size"].to_numpy(), "errors": table["errors"].to_numpy(), "rate": _pct(table["error_rate"]),
        "ci_low": _pct(table["ci_low"]), "ci_high": _pct(table["ci_high"]), "vs_rest": _pct(table["difference"])})


# ------------------------------------------------------------------ failure modes
#: The failure modes table at 1280x720: the mode, its count and share and where it concentrates (the finding) in
#: view; its sources (detectors, rules, labels) and the dimension it harms after them, off-screen to the right there
#: (the dimension is also in the "Failure mode" help, :func:`mode_columns`, and the selected cell's caption; the
#: matrix below shows the components).
MODE_COLUMNS = {"name": st.column_config.TextColumn("Failure mode", width=210), "n": count("Examples"),
                "share": percent("Share", width=58),
                "where": st.column_config.TextColumn("Concentrates in", width=440),
                "sources_text": st.column_config.TextColumn("Sources", width="medium"),
                "dimension": st.column_config.TextColumn("Harms", help="the alignment dimension the mode harms")}


def mode_columns(shown: pd.DataFrame) -> dict:
    """The failure modes table's columns (:data:`MODE_COLUMNS`), the "Failure mode" help naming the dimension each
    mode harms: the table's last column, off-screen at 1280x720."""
    harms = "; ".join(f"{md(n)}: {md(d)}" for n, d in zip(shown["name"], shown["dimension"]))  # from a spec
    return {**MODE_COLUMNS, "name": st.column_config.TextColumn(
        "Failure mode", width=210, help=f"The dimension each mode harms (the Harms column, last): {harms}")}


#: Characters of "Concentrates in" that fit its one line (14 px Source Sans, about 6.2 px each, 440 px less padding); a longer text
#: makes the rows two lines high (the grid wraps text in rows taller than 64 px).
MODE_WHERE_CHARS = 66
#: Row heights of the failure modes table: one line, or two where a "Concentrates in" text is longer than a line.
MODE_ROW_PX, MODE_ROW_WRAPPED_PX = 35, 66


def modes_row_height(shown: pd.DataFrame) -> int:
    """The failure modes table's row height (pixels): two lines when some "Concentrates in" text needs them."""
    longest = max((len(str(w)) for w in shown["where"]), default=0)
    return MODE_ROW_WRAPPED_PX if longest > MODE_WHERE_CHARS else MODE_ROW_PX


def modes_table_height(shown: pd.DataFrame) -> int:
    """The failure modes table's height (pixels): every mode in view without scrolling inside the table (a spec
    declares a dozen or so), at most 640."""
    return grid_height(len(shown), cap=640, row_height=modes_row_height(shown))


def modes_display(result) -> pd.DataFrame:
    """The failure modes of a :class:`~analysis.objective.link.LinkResult`: share, sources, and the two
    slices where each concentrates most."""
    counts = result.counts
    where = ["; ".join(f"{r.description} ({r.mode_rate:.0%} vs {r.rest_mode_rate:.0%})"
                       for r in result.concentrates_in(m).itertuples()) for m in counts["mode"]]
    return counts.assign(
        share=_pct(counts["rate"]),
        sources_text=[", ".join(f"{k} ({v:,})" for k, v in s.items() if v) for s in counts["sources"]],
        where=where,
    )[["name", "n", "share", "where", "sources_text", "dimension"]]  # the essential columns first


SEPARATION_COLUMNS = {"n_fail": count("failures", help="in this mode and no other"),
                      "n_ok": count("correct"), "auc": st.column_config.NumberColumn(
                          "AUC", format=AUC_FORMAT, help="preference AUC: the chance the signal scores a failure of "
                                                         "this mode above a correct answer (0.5 is no preference)"),
                      "auc_low": st.column_config.NumberColumn("95% low", format=AUC_FORMAT),
                      "auc_high": st.column_config.NumberColumn("95% high", format=AUC_FORMAT),
                      "smd": st.column_config.NumberColumn("d", format="%.2f"), "q": q_column()}


def separation_display(sep: pd.DataFrame) -> pd.DataFrame:
    """A cell's separation per signal: counts, preference AUC with its interval, Cohen's d, q-value."""
    return sep.assign(auc_low=_num(sep["auc_low"]), auc_high=_num(sep["auc_high"]), q=q_values(sep["q_value"]))[
        ["signal", "q", "auc", "auc_low", "auc_high", "n_fail", "n_ok", "smd"]]


CONCENTRATION_COLUMNS = {"description": slice_column(width=NARROW_SLICE_WIDTH),
                         # as wide as its longest word ("more frequent" was cut to "more fr..." at 1280x720)
                         "status": st.column_config.TextColumn("Status", width=header_width("more frequent")),
                         "n": count("n"),
                         "in_mode": count("In the mode"), "rate": percent("Share", width=58),
                         "ci_low": percent("95% low", width=RATE_WIDTH), "ci_high": percent("95% high", width=RATE_WIDTH),
                         "rest": percent("Rest of run", width=header_width("Rest of run")), "q": q_column()}


def concentration_display(table: pd.DataFrame, *, limit: int = 30, fdr: float | None = None) -> pd.DataFrame:
    """Where a mode concentrates: the tested, non-redundant slices, those where it is more frequent first; with
    ``fdr``, a slice where it is significantly less frequent than in the rest says so too."""
    view = table[~table["redundant"] & ~table["too_small"]]
    view = pd.concat([view[view["finding"]], view[~view["finding"]]]).head(limit)
    less = ([fdr is not None and q < fdr and r < rest for q, r, rest in
             zip(_num(view["q_value"]), _num(view["mode_rate"]), _num(view["rest_mode_rate"]))] if len(view) else [])
    return view.assign(
        rate=_pct(view["mode_rate"]), ci_low=_pct(view["ci_low"]), ci_high=_pct(view["ci_high"]),
        rest=_pct(view["rest_mode_rate"]), q=q_values(view["q_value"]),
        status=["more frequent" if f else ("less frequent" if lf else "") for f, lf in zip(view["finding"], less)],
    )[["description", "status", "q", "rate", "ci_low", "ci_high", "rest", "n", "in_mode"]]


DIVERGENCE_COLUMNS = {"rho": st.column_config.NumberColumn("Spearman rho", format="%.3f"), "q": q_column(),
                      "mode_concentrates": "mode concentrates here"}


def divergence_display(div: pd.DataFrame) -> pd.DataFrame:
    """The slices where a signal ranks answers against the outcome."""
    return div.assign(q=q_values(div["q_value"]))[["signal", "description", "q", "rho", "n", "mode_concentrates"]]


def extras_columns(columns) -> dict:
    """Headings and one precision per kind of number for the Slices page's per-slice extras
    (:func:`analysis.slice_extras`): ECE and agreement with three decimals, latencies with one decimal in their
    unit, costs with three significant digits, score intervals with three decimals, counts with separators."""
    number = st.column_config.NumberColumn
    config = {"n": count("n", width=COUNT_WIDTH)}
    for c in columns:
        if c == "ece":
            config[c] = number("ECE", format="%.3f", help="expected calibration error (a fraction, 0 is calibrated)")
        elif c == "rater_agreement":
            config[c] = number("agreement", format="%.3f", help="Cohen's kappa (two raters) or Krippendorff's alpha")
        elif c in ("score_ci_low", "score_ci_high"):
            config[c] = number("score 95% " + c.rsplit("_", 1)[1], format="%.3f")
        elif c.endswith(("_p50", "_p90", "_p99")) or c == "cost_weighted_error":
            # a cost per example is small (USD): three significant digits; a latency one decimal in its unit
            config[c] = number(c.replace("_", " "), format="%.3g" if "cost" in c else "%.1f")
    return config


#: The caption under the Goodhart slices table: the family of each of its q-values (the headings stay short so the
#: table fits a 1280x720 projector).
GOODHART_Q_FAMILIES = ("q signal: Benjamini-Hochberg over the signal's slices (its change between the runs, paired t); "
                       "q outcome: over the same slices for the accuracy change (McNemar).")


def goodhart_columns(mode_name: str) -> dict:
    """Headings of the Goodhart slices table."""
    return {"d_signal": st.column_config.NumberColumn("signal change", format="%+.3f"), "q_s": q_column("q (signal)"),
            "acc": points("accuracy change"), "q_o": q_column("q (outcome)"),
            "mode_change": points(f"{mode_name} change")}


def goodhart_display(points_: pd.DataFrame) -> pd.DataFrame:
    """The Goodhart slices of a cell: signal change, accuracy change and mode rate change in points."""
    flagged = points_[points_["goodhart"].astype(bool)]
    return flagged.assign(
        q_s=q_values(flagged["q_signal"]), q_o=q_values(flagged["q_outcome"]), acc=_pct(flagged["d_accuracy"]),
        mode_change=_pct(flagged["d_rate"]),
    )[["description", "n", "d_signal", "q_s", "acc", "q_o", "mode_change"]]


def annotations_display(notes: pd.DataFrame) -> pd.DataFrame:
    """Annotations with their target (an example or a slice) in words."""
    return notes.assign(target=[f"example {e}" if e is not None else f"slice {json.loads(s)}"
                                for e, s in zip(notes["example_id"], notes["slice"])])[
        ["created_at", "author", "target", "mode", "note", "retracted"]]
