"""``findings``: list, add (pin), withdraw and export findings."""

from __future__ import annotations

import json

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import (
    by_option,
    cohort_options,
    db_option,
    echo_listing,
    json_option,
    open_cli_store,
    where_of,
)
from analysis.errors import FaultlineError
from analysis.objective.findings import (
    export_findings,
    finding_sentence,
    pin_comparison,
    pin_finding,
    pin_slice,
    withdraw_finding,
)
from analysis.objective.findings import findings as finding_table

MSG_ONE_TARGET = "Give exactly one of --slice, --cluster or --cell (a comparison row is --slice with --baseline)"
MSG_JSON = "{option} must be a JSON object, e.g. {example}; got {value!r}"
MSG_EVIDENCE_NEEDED = "--cluster and --cell need --evidence (the numbers the page shows, as a JSON object)"


def _object(option: str, value: str | None, example: str) -> dict | None:
    if value is None:
        return None
    try:
        found = json.loads(value)
    except json.JSONDecodeError:
        found = None
    if not isinstance(found, dict):
        raise FaultlineError(MSG_JSON.format(option=option, example=example, value=value))
    return found


@click.group()
def findings() -> None:
    """Findings: slices, clusters, matrix cells or comparison rows pinned with a note (append-only)."""


def _finding_lines(row) -> str:
    flag = " (withdrawn)" if row.withdrawn else (f" (withdraws {row.withdraws})" if row.withdraws else "")
    lines = [f"{row.finding_id}  {row.created_at:%Y-%m-%d %H:%M} {row.author} [{row.kind}] {row.title}{flag}"]
    if not row.withdraws:
        lines.append("    " + finding_sentence(row.kind, row.title, row.evidence, cohort=row.cohort))
    if row.note:
        lines.append(f"    note: {row.note}")
    return "\n".join(lines)


@findings.command("list")
@click.option("--run", help="run id or name (default: every run)")
@click.option("--all", "include_withdrawn", is_flag=True, help="also withdrawn findings and the withdrawals")
@json_option()
@db_option
def list_(run: str | None, include_withdrawn: bool, as_json: bool, db: str | None) -> int:
    """List findings, oldest first, each with its plain-words sentence."""
    with open_cli_store(db) as store:
        frame = finding_table(store, run, include_withdrawn=include_withdrawn)
    echo_listing(frame, as_json=as_json,
                 empty="No findings yet: findings add --run RUN --slice '{\"language\": \"sw\"}' --author YOU",
                 line=_finding_lines)
    return EXIT_OK


@findings.command()
@click.option("--run", required=True, help="the run (a comparison's candidate), id or name")
@click.option("--slice", "slice_", metavar="JSON", help='a slice, e.g. \'{"language": "sw"}\' ({} with --baseline: '
                                                        'the whole run)')
@click.option("--baseline", help="pin the comparison row of --slice between this baseline and --run")
@click.option("--cluster", help="a cluster id (with --evidence)")
@click.option("--cell", metavar="JSON", help='a matrix cell, e.g. \'{"mode": "hallucination", "component": "rm"}\'')
@click.option("--evidence", metavar="JSON", help="the numbers of a cluster or a cell, as a JSON object")
@click.option("--note", default="", help="why it matters")
@click.option("--title", help="a short title (default from the target)")
@click.option("--author", required=True, help="who pins it")
@by_option("the analysis' attributes (default the slice's own)")
@click.option("--min-support", type=int, help="the analysis' minimum support (default the engine's)")
@cohort_options
@db_option
def add(run: str, slice_: str | None, baseline: str | None, cluster: str | None, cell: str | None,
        evidence: str | None, note: str, title: str | None, author: str, by: list[str] | None,
        min_support: int | None, where: str | None, cohort: str | None, db: str | None) -> int:
    """Pin a finding; a slice's or a comparison row's numbers are computed now and kept with the settings."""
    if sum(x is not None for x in (slice_, cluster, cell)) != 1:
        raise click.UsageError(MSG_ONE_TARGET)
    settings = {k: v for k, v in (("attributes", by), ("min_support", min_support)) if v}
    with open_cli_store(db) as store:
        where = where_of(store, where, cohort)
        if slice_ is not None:
            target = _object("--slice", slice_, '\'{"language": "sw"}\'')
            if baseline:
                found = pin_comparison(store, baseline, run, target, author=author, note=note, settings=settings,
                                       where=where, title=title)
            else:
                found = pin_slice(store, run, target, author=author, note=note, settings=settings, where=where,
                                  title=title)
        else:
            numbers = _object("--evidence", evidence, '\'{"n": 120, "error_rate": 0.3}\'')
            if numbers is None:
                raise click.UsageError(MSG_EVIDENCE_NEEDED)
            target = {"cluster": cluster} if cluster is not None else _object("--cell", cell, '\'{"mode": "m"}\'')
            found = pin_finding(store, run, kind="cluster" if cluster is not None else "cell", target=target,
                                author=author, evidence=numbers, settings=settings, note=note, title=title,
                                where=where)
    click.echo(f"Pinned finding {found.finding_id}: {finding_sentence(found.kind, found.title, found.evidence, cohort=found.cohort)}")
    return EXIT_OK


@findings.command()
@click.argument("finding_id")
@click.option("--author", required=True, help="who withdraws it")
@click.option("--note", default="", help="why")
@db_option
def withdraw(finding_id: str, author: str, note: str, db: str | None) -> int:
    """Withdraw a finding (a new row withdraws it; both are kept and exported)."""
    with open_cli_store(db) as store:
        done = withdraw_finding(store, finding_id, author=author, note=note)
    click.echo(f"Withdrew finding {finding_id} ({done.finding_id})")
    return EXIT_OK


@findings.command()
@click.argument("path")
@click.option("--run", help="run id or name (default: every run)")
@db_option
def export(path: str, run: str | None, db: str | None) -> int:
    """Export findings to PATH (.csv, .json or .jsonl), withdrawn ones and withdrawals included."""
    with open_cli_store(db) as store:
        n = export_findings(store, path, run)
    click.echo(f"Exported {n:,} findings to {path}")
    return EXIT_OK
