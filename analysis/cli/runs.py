"""``runs``: list the runs in the store, each with its headline and how it reconciles with its tool."""

from __future__ import annotations

import click
import pandas as pd

from analysis.cli import EXIT_OK
from analysis.cli.common import db_option, echo_json, json_option, open_cli_store
from analysis.formatting import format_headline, format_threshold
from analysis.store.reconcile import FLAGGED


@click.command()
@db_option
@json_option("print a JSON list of objects (run_id, name, model, format, rows, metric, value, reconciliation, ...)")
def runs(db: str | None, as_json: bool) -> int:
    """List the runs in the store.

    The headline is the accuracy, or the mean score (with a t interval) when scores are graded;
    the correctness threshold and where it came from are stated. A run whose examples do not
    reproduce the figure its tool reported, or that holds fewer examples than the tool
    evaluated, is flagged in plain words.
    """
    with open_cli_store(db) as store:
        headline = store.headline()
        listing = store.runs().set_index("run_id")
        checks = store.reconciliation()
        if as_json:
            out = []
            for row in headline.itertuples():
                extra = listing.loc[row.run_id]
                mine = checks[checks["run_id"] == row.run_id]
                out.append({"run_id": row.run_id, "name": row.name, "model": row.model, "format": row.format,
                            "rows": int(row.rows), "scored": int(row.scored), "correct": int(row.correct),
                            "metric": row.metric, "value": _rounded(row.value), "low": _rounded(row.low),
                            "high": _rounded(row.high), "graded": bool(row.graded),
                            "accuracy": _rounded(row.accuracy), "ci_low": _rounded(row.ci_low),
                            "ci_high": _rounded(row.ci_high), "mean_score": _rounded(row.mean_score),
                            "threshold": float(row.threshold), "threshold_source": row.threshold_source,
                            "baseline": _text(row.baseline), "check": _text(row.check),
                            "reconciliation": [
                                {"tool": c.tool, "metric": _text(c.metric), "basis": _text(c.basis),
                                 "tool_value": _rounded(c.tool_value), "faultline_value": _rounded(c.faultline_value),
                                 "tool_n": None if pd.isna(c.tool_n) else int(c.tool_n),
                                 "faultline_n": int(c.faultline_n), "verdict": c.verdict, "source": _text(c.source),
                                 "message": c.message} for c in mine.itertuples()],
                            "sha256": list(extra["sha256"]), "files": list(extra["files"]),
                            "ingested_at": row.ingested_at.isoformat(), "notes": extra["notes"]})
            echo_json(out)
            return EXIT_OK
        if headline.empty:
            click.echo(f"No runs in {store.path}. Load one with: python -m analysis ingest PATH")
            return EXIT_OK
        click.echo(f"{'run_id':<12} {'rows':>8} {'headline (95% CI)':<34} {'check':<13} {'format':<13} name")
        for row in headline.itertuples():
            click.echo(f"{row.run_id:<12} {row.rows:>8,} {format_headline(row.metric, row.value, row.low, row.high):<34} {_text(row.check) or '-':<13} "
                       f"{row.format:<13} {row.name}")
        for row in headline.itertuples():
            if _text(row.check) in FLAGGED:
                click.echo(f"! {row.name}: {row.check}: {row.check_message}")
            if row.graded:
                click.echo(f"  {row.name}: scores are graded; {format_threshold(row.threshold, row.threshold_source, _text(row.correct_column))}")
    return EXIT_OK


def _text(value) -> str | None:
    """Text of a catalog value; None for a missing one (None, NaN, pandas NA)."""
    return None if value is None or pd.isna(value) else str(value)


def _rounded(value: float) -> float | None:
    """A rate rounded to 6 decimals for JSON, ``None`` for NaN (no scored example)."""
    return None if value is None or pd.isna(value) else round(float(value), 6)
