"""``cohorts``: list, save and show cohorts (named filters in the rule language, saved in the store)."""

from __future__ import annotations

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import db_option, echo_json, echo_listing, json_option, open_cli_store
from analysis.slicing.cohorts import check_cohort, get_cohort, save_cohort
from analysis.slicing.cohorts import cohorts as cohort_table


@click.group()
def cohorts() -> None:
    """Saved cohorts: list them, save one (a new version when the name exists), show one.

    Use one in an analysis with --cohort NAME (slices, compare, gate, discover), or write the condition
    directly with --where.
    """


@cohorts.command("list")
@click.option("--history", is_flag=True, help="every version, not only the latest of each name")
@json_option()
@db_option
def list_(history: bool, as_json: bool, db: str | None) -> int:
    """List the saved cohorts (the latest version of each name)."""
    with open_cli_store(db) as store:
        frame = cohort_table(store, history=history)
    echo_listing(frame, as_json=as_json,
                 empty='No saved cohorts yet: cohorts save --name NAME --where \'language = "sw"\' --author YOU',
                 line=lambda row: f"{row.name} v{row.version} ({row.author}, {row.created_at:%Y-%m-%d %H:%M}): "
                                  f"{row.predicate}")
    return EXIT_OK


@cohorts.command()
@click.option("--name", required=True, help="the cohort's name")
@click.option("--where", required=True, metavar="CONDITION", help='the condition, e.g. \'language = "sw"\'')
@click.option("--author", required=True, help="who saves it")
@click.option("--run", help="check the condition on this run (id or name) and record it")
@click.option("--description", default="", help="what the cohort is for")
@db_option
def save(name: str, where: str, author: str, run: str | None, description: str, db: str | None) -> int:
    """Save a cohort (append-only: saving a name again adds a version; older ones stay)."""
    with open_cli_store(db) as store:
        saved = save_cohort(store, name, where, author=author, run=run, description=description)
        size = f"; {check_cohort(store, run, where):,} examples of {run}" if run else ""
    click.echo(f"Saved cohort {saved.name} v{saved.version}{size}")
    return EXIT_OK


@cohorts.command()
@click.argument("name")
@click.option("--version", type=int, help="a given version (default the latest)")
@click.option("--run", help="also count its examples in this run (id or name)")
@json_option()
@db_option
def show(name: str, version: int | None, run: str | None, as_json: bool, db: str | None) -> int:
    """Show a saved cohort (and, with --run, how many examples of that run it holds)."""
    with open_cli_store(db) as store:
        found = get_cohort(store, name, version=version)
        size = check_cohort(store, run, found.predicate) if run else None
    record = {**found.__dict__, "created_at": str(found.created_at), "examples": size}
    if as_json:
        echo_json(record, ensure_ascii=False)
        return EXIT_OK
    click.echo(f"{found.name} v{found.version} by {found.author}, {found.created_at:%Y-%m-%d %H:%M}")
    click.echo(f"  where: {found.predicate}")
    if found.description:
        click.echo(f"  {found.description}")
    if size is not None:
        click.echo(f"  {size:,} examples in {run}")
    return EXIT_OK
