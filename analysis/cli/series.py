"""``series``: create, list and show series of runs (checkpoints, releases)."""

from __future__ import annotations

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import db_option, echo_json, json_option, open_cli_store, split_list
from analysis.store.series import ORDER_CHOICES, create_series, delete_series, get_series, list_series


@click.group()
def series() -> None:
    """Series of runs: checkpoints of a training run or successive releases, in order, with a reference run."""


@series.command("create")
@click.argument("name")
@click.option("--runs", "runs", callback=split_list, required=True, metavar="RUN,RUN,...",
              help="the runs (names or ids), at least two")
@click.option("--order-by", type=click.Choice(ORDER_CHOICES), default="auto", show_default=True,
              help="step: the training step in each run's name (step-12000); date: a date in the name, else load "
                   "time; given: as listed; auto: step when every run names one, else given")
@click.option("--reference", default=None, metavar="RUN", help="the reference run (default: the first in order)")
@db_option
def create(name: str, runs: list[str], order_by: str, reference: str | None, db: str | None) -> int:
    """Create series NAME of the runs listed."""
    with open_cli_store(db) as store:
        info = create_series(store, name, runs, order_by=order_by, reference=reference)
    click.echo(f"Series {info.name!r}: {len(info.run_ids)} runs ordered by {info.order_by}; reference "
               f"{info.run_names[info.reference_index]!r}")
    for label, run in zip(info.labels, info.run_names):
        click.echo(f"  {label:<24} {run}")
    return EXIT_OK


@series.command("list")
@db_option
@json_option("print a JSON list of objects (name, runs, first, last, reference, order_by, created_at)")
def list_(db: str | None, as_json: bool) -> int:
    """List the series in the store."""
    with open_cli_store(db) as store:
        table = list_series(store)
    if as_json:
        echo_json(table.to_dict("records"))
        return EXIT_OK
    if table.empty:
        click.echo("No series yet. Create one with: python -m analysis series create NAME --runs A,B,C")
        return EXIT_OK
    click.echo(f"{'name':<24} {'runs':>4}  {'order':<6} {'reference':<24} first -> last")
    for row in table.itertuples():
        click.echo(f"{row.name:<24} {row.runs:>4}  {row.order_by:<6} {row.reference!s:<24} {row.first} -> {row.last}")
    return EXIT_OK


@series.command("show")
@click.argument("name")
@db_option
@json_option("print the series as a JSON object (runs in order, reference, order_by)")
def show(name: str, db: str | None, as_json: bool) -> int:
    """Show series NAME: its runs in order and its reference."""
    with open_cli_store(db) as store:
        info = get_series(store, name)
    if as_json:
        echo_json({"name": info.name, "order_by": info.order_by, "reference": info.run_names[info.reference_index],
                   "runs": [{"run_id": r, "name": n, "label": label, "order_key": s}
                            for r, n, label, s in zip(info.run_ids, info.run_names, info.labels, info.steps)]})
        return EXIT_OK
    click.echo(f"Series {info.name!r}: {len(info.run_ids)} runs ordered by {info.order_by}")
    for i, (label, run) in enumerate(zip(info.labels, info.run_names)):
        mark = "  (reference)" if i == info.reference_index else ""
        click.echo(f"  {i + 1:>2}. {label:<24} {run}{mark}")
    return EXIT_OK


@series.command("delete")
@click.argument("name")
@db_option
def delete(name: str, db: str | None) -> int:
    """Delete series NAME (its runs stay in the store)."""
    with open_cli_store(db) as store:
        delete_series(store, name)
    click.echo(f"Deleted series {name!r}")
    return EXIT_OK
