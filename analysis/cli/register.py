"""``register``: a run that stays in its Parquet files (a file, a folder or a glob), never copied into the store."""

from __future__ import annotations

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import db_option, echo_json, json_option, open_cli_store
from analysis.cli.ingest import run_json


@click.command()
@click.argument("path", metavar="PATH")
@db_option
@click.option("--name", help="run name (default: the file's or folder's name)")
@click.option("--model", help="model name")
@click.option("--mapping", metavar="FILE", help="YAML or JSON file naming the column of each role (as for ingest)")
@click.option("--sha256", "sha256", is_flag=True, help="hash every file for provenance (reads all of them)")
@json_option("print the result as JSON")
def register(path: str, db: str | None, name: str | None, model: str | None, mapping: str | None, sha256: bool,
             as_json: bool) -> int:
    """Register Parquet files as a run that stays where it is: the store keeps only the catalog.

    PATH: a .parquet file, a folder (every *.parquet below it) or a glob in quotes ('runs/*.parquet'). Column
    roles are guessed or taken from --mapping, and checked, as by ingest; the files' paths, sizes and
    modification times are recorded (and their sha256 with --sha256). Every analysis reads the files in place.
    """
    with open_cli_store(db, create=True) as store:
        report = store.register_parquet(path, name=name, model=model, mapping=mapping, sha256=sha256)
        if as_json:
            echo_json({"added": [run_json(r) for r in report.added],
                       "already_loaded": [run_json(r) for r in report.already_loaded]})
        else:
            click.echo(report.summary())
    return EXIT_OK
