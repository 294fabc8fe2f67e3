"""``ingest``: load evaluation logs into the store."""

from __future__ import annotations

import click

from analysis import RunInfo
from analysis.cli import EXIT_OK
from analysis.cli.common import db_option, echo_json, json_option, open_cli_store
from analysis.cli.progress_bar import ProgressBar
from analysis.store.reconcile import FLAGGED


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@db_option
@click.option("--name", help="run name (default: from the log)")
@click.option("--model", help="model name (default: from the log)")
@click.option("--mapping", metavar="FILE", help="YAML or JSON file naming the column of each role")
@json_option("print the result as JSON")
def ingest(paths: tuple[str, ...], db: str | None, name: str | None, model: str | None, mapping: str | None,
           as_json: bool) -> int:
    """Load evaluation logs (files, HELM run folders, or folders of logs) into the store, all or nothing.

    The format is detected from the content. A file already loaded is reported and not loaded twice.
    A summary the tool wrote beside its log (lm-eval's results_*.json, HELM's stats.json) is read with
    the log and checked against its examples; a run that does not reproduce the tool's figure, or
    holds fewer examples than the tool evaluated, is reported. PATH: log files or folders.
    """
    with open_cli_store(db, create=True) as store:
        with ProgressBar() as progress:
            report = store.ingest(list(paths), name=name, model=model, mapping=mapping, progress=progress)
        added = {r.run_id for r in report.added}
        checks = store.reconciliation()
        checks = checks[checks["run_id"].isin(added)]
        if as_json:
            echo_json({"added": [run_json(r) for r in report.added],
                       "already_loaded": [run_json(r) for r in report.already_loaded],
                       "skipped": [{"path": folder, "reason": reason} for folder, reason in report.skipped],
                       "reconciliation": [{"run_id": c.run_id, "verdict": c.verdict, "message": c.message}
                                          for c in checks.itertuples()]})
        else:
            click.echo(report.summary())
            for c in checks.itertuples():
                if c.verdict in FLAGGED:
                    click.echo(f"! {c.name}: {c.verdict}: {c.message}")
    return EXIT_OK


def run_json(run: RunInfo) -> dict:
    """A loaded run as JSON: id, name, model, format, rows, and the sha256 and name of each file."""
    return {"run_id": run.run_id, "name": run.name, "model": run.model, "format": run.source_format,
            "rows": run.row_count, "sha256": [f["sha256"] for f in run.files],
            "files": [f["file_name"] for f in run.files]}
