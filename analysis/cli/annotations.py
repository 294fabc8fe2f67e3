"""``annotate`` and ``annotations``: researchers' labels on examples and slices."""

from __future__ import annotations

import json

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import db_option, echo_json, json_option, open_cli_store
from analysis.errors import FaultlineError
from analysis.objective.annotations import MSG_BAD_SLICE, add_annotation, export_annotations, retract_annotation
from analysis.objective.annotations import annotations as annotation_table
from analysis.objective.spec import Objective, load_objective

MSG_ONE_TARGET = "Give exactly one of --example or --slice"


@click.command()
@click.option("--run", help="run id or name (default: every run)")
@click.option("--export", metavar="FILE", help="write them to FILE (.csv, .json or .jsonl)")
@json_option()
@db_option
def annotations(run: str | None, export: str | None, as_json: bool, db: str | None) -> int:
    """List the annotations of a run (or of every run), or export them to CSV, JSON or JSONL with --export.

    Retracted annotations are listed and exported too.
    """
    with open_cli_store(db) as store:
        if export:
            n = export_annotations(store, export, run)
            click.echo(f"Exported {n:,} annotations to {export}")
            return EXIT_OK
        frame = annotation_table(store, run)
    if as_json:
        records = frame.assign(created_at=[t.isoformat() for t in frame["created_at"]]).to_dict("records")
        echo_json(records, ensure_ascii=False)
        return EXIT_OK
    if frame.empty:
        click.echo("No annotations yet")
        return EXIT_OK
    for row in frame.itertuples():
        target = f"example {row.example_id}" if row.example_id is not None else f"slice {row.slice}"
        flag = " (retracted)" if row.retracted else (f" (retracts {row.retracts})" if row.retracts else "")
        click.echo(f"{row.created_at:%Y-%m-%d %H:%M} {row.author}: {row.run_name} {target} "
                   f"{row.mode or ''} {row.note or ''}{flag}".rstrip())
    return EXIT_OK


@click.command()
@click.option("--run", required=True, help="run id or name")
@click.option("--example", help="example id")
@click.option("--slice", "slice_", metavar="JSON", help='slice as JSON, e.g. \'{"language": "sw"}\'')
@click.option("--mode", help="failure mode id or name")
@click.option("--note", default="", help="free text")
@click.option("--author", required=True, help="who writes it")
@click.option("--objective", metavar="SPEC", help="objective spec whose modes the mode must be one of")
@db_option
def annotate(run: str, example: str | None, slice_: str | None, mode: str | None, note: str, author: str,
             objective: str | None, db: str | None) -> int:
    """Append an annotation to an example (--example) or a slice (--slice); nothing is ever overwritten.

    It counts as a label in every analysis.
    """
    if (example is None) == (slice_ is None):
        raise click.UsageError(MSG_ONE_TARGET)
    spec = load_objective(objective) if objective else Objective.default()
    known = [m.id for m in spec.modes]
    if mode is not None:
        mode = spec.find_mode(mode) or mode
    target = None
    if slice_ is not None:
        try:
            target = json.loads(slice_)
        except json.JSONDecodeError as err:
            raise FaultlineError(MSG_BAD_SLICE.format(value=slice_)) from err
    with open_cli_store(db) as store:
        made = add_annotation(store, run, author=author, mode=mode, note=note, example_id=example, slice=target,
                              known_modes=known)
        click.echo(f"Annotation {made.annotation_id} added to run {store.run(made.run_id).name} by {made.author}")
    return EXIT_OK


@click.command()
@click.option("--run", required=True, help="run id or name")
@click.option("--annotation", "annotation_id", required=True, help="id of the annotation to withdraw (see `annotations`)")
@click.option("--author", required=True, help="who withdraws it")
@click.option("--note", default="", help="why (default: retracted)")
@db_option
def withdraw(run: str, annotation_id: str, author: str, note: str, db: str | None) -> int:
    """Withdraw an annotation: it stops counting as a label in every analysis.

    Nothing is deleted: a retraction naming it is appended, and both stay listed and exported.
    """
    with open_cli_store(db) as store:
        made = retract_annotation(store, run, annotation_id, author=author, note=note)
        click.echo(f"Annotation {annotation_id} withdrawn from run {store.run(made.run_id).name} by {made.author} "
                   f"(retraction {made.annotation_id})")
    return EXIT_OK
