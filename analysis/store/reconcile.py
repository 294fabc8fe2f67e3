"""Reconciliation: what the evaluation tool reported for a run against what its stored examples give.

Every structured adapter hands the store the tool's own figures for a run
(:class:`analysis.formats.base.Reported`: lm-eval's ``results_*.json`` per filter, HELM's
``stats.json``, Inspect's ``results.scores``, OpenAI evals' ``final_report``, promptfoo's
``stats``...). At ingest the store recomputes each figure from the examples it loaded (the
mean of the stored ``score`` or ``correct`` over the scored examples) and records both, with a
verdict, in the ``reconciliation`` table:

``matches``
    the two agree within the figure's tolerance, over as many examples as the tool counted;
``differs``
    they disagree: the examples are not what the tool scored (a pooled filter, a lost split,
    a misread field), and every number drawn from them is suspect;
``partial``
    the log holds fewer examples than the tool says it evaluated ("10 of 5,000 samples");
``not reported``
    the tool's log carries no figure for this run, so nothing could be checked.

A plain table (CSV, Parquet...) has nothing to reconcile and gets no row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.formats.base import Reported

#: Verdicts, from the one that needs attention most.
VERDICTS: tuple[str, ...] = ("differs", "partial", "not reported", "matches")
#: Verdicts that flag a run wherever runs are listed.
FLAGGED: tuple[str, ...] = ("differs", "partial")


@dataclass(frozen=True)
class Check:
    """One reconciled figure, as stored in the ``reconciliation`` table."""

    tool: str
    metric: str | None
    basis: str | None
    tool_value: float | None
    faultline_value: float | None
    tool_n: int | None
    faultline_n: int
    verdict: str
    source: str
    message: str


def _figure(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"


def check(tool: str, reported: Reported, *, rows: int, scored: int, mean_score: float | None,
          mean_correct: float | None) -> Check:
    """Reconcile one reported figure with the stored examples.

    Parameters
    ----------
    tool
        The tool's name as users say it ("lm-eval"), for the message.
    reported
        The tool's figure: metric, value, basis (``"score"`` or ``"correct"``), n, source, tolerance.
    rows, scored
        Examples stored for the run, and how many of them are scored.
    mean_score, mean_correct
        Means of the stored score and of correctness (0/1) over the scored examples (None: no scored example).

    Returns
    -------
    Check
        Both figures, the verdict and a plain-words message, e.g.
        "lm-eval reports 0.167 for exact_match,strict-match; these 6 examples give 0.417".
    """
    ours = mean_correct if reported.basis == "correct" else mean_score
    label = tool or "the tool"
    if reported.value is None or (isinstance(reported.value, float) and math.isnan(reported.value)):
        verdict = "not reported"
        message = f"{label} names {reported.metric} but gives no value for it; nothing to check against"
    elif reported.n is not None and rows < reported.n:
        verdict = "partial"
        message = (f"the log holds {rows:,} of the {reported.n:,} examples {label} evaluated: "
                   f"{label} reports {_figure(reported.value)} for {reported.metric} on all of them; "
                   f"these {rows:,} give {_figure(ours)}")
    elif ours is None or abs(ours - reported.value) > reported.tolerance:
        verdict = "differs"
        message = (f"{label} reports {_figure(reported.value)} for {reported.metric}; "
                   f"these {scored:,} examples give {_figure(ours)}")
    else:
        verdict = "matches"
        message = f"{label} reports {_figure(reported.value)} for {reported.metric}; these {scored:,} examples agree"
    if reported.n is not None and verdict in ("differs", "matches") and rows > reported.n:
        verdict = "differs"
        message += f" (but the log holds {rows:,} examples where {label} counted {reported.n:,})"
    return Check(tool, reported.metric, reported.basis, reported.value, ours, reported.n, scored, verdict,
                 reported.source, message)


def not_reported(tool: str, *, scored: int) -> Check:
    """The row recorded for a tool's run whose log carries no figure to check against."""
    label = tool or "the tool"
    return Check(tool, None, None, None, None, None, scored, "not reported", "",
                 f"{label}'s log carries no summary figure for this run; nothing to check against")


def worst(verdicts: list[str]) -> str | None:
    """The verdict that needs attention most among a run's checks (None: no check).

    >>> worst(["matches", "partial"])
    'partial'
    """
    found = [v for v in VERDICTS if v in verdicts]
    return found[0] if found else None


__all__ = ["FLAGGED", "VERDICTS", "Check", "check", "not_reported", "worst"]
