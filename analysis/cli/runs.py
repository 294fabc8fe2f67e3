"""``runs``: list the runs in the store."""

from __future__ import annotations

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import db_option, echo_json, json_option, open_cli_store


@click.command()
@db_option
@json_option("print a JSON list of objects (run_id, name, model, format, rows, sha256, ...)")
def runs(db: str | None, as_json: bool) -> int:
    """List the runs in the store."""
    with open_cli_store(db) as store:
        headline = store.headline()
        listing = store.runs().set_index("run_id")
        if as_json:
            out = []
            for row in headline.itertuples():
                extra = listing.loc[row.run_id]
                out.append({"run_id": row.run_id, "name": row.name, "model": row.model, "format": row.format,
                            "rows": int(row.rows), "scored": int(row.scored), "correct": int(row.correct),
                            "accuracy": _rounded(row.accuracy), "ci_low": _rounded(row.ci_low),
                            "ci_high": _rounded(row.ci_high), "sha256": list(extra["sha256"]),
                            "files": list(extra["files"]), "ingested_at": row.ingested_at.isoformat(),
                            "notes": extra["notes"]})
            echo_json(out)
            return EXIT_OK
        if headline.empty:
            click.echo(f"No runs in {store.path}. Load one with: python -m analysis ingest PATH")
            return EXIT_OK
        click.echo(f"{'run_id':<12} {'rows':>8} {'accuracy (95% CI)':<24} {'format':<13} name")
        for row in headline.itertuples():
            acc = "n/a" if row.scored == 0 else f"{row.accuracy:.1%} ({row.ci_low:.1%}-{row.ci_high:.1%})"
            click.echo(f"{row.run_id:<12} {row.rows:>8,} {acc:<24} {row.format:<13} {row.name}")
    return EXIT_OK


def _rounded(value: float) -> float | None:
    """A rate rounded to 6 decimals for JSON, ``None`` for NaN (no scored example)."""
    return None if value != value else round(float(value), 6)
