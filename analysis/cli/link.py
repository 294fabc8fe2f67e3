"""``link``: link failure modes to the objective components they implicate."""

from __future__ import annotations

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import by_option, cohort_options, echo_json, open_cli_store, slicing_options, where_of
from analysis.objective.link import STRENGTH
from analysis.objective.link import link as link_modes

MARKS = {"implicated": "IMPLICATED", "not implicated": "not", "insufficient evidence": "?", "no signal": "-"}
"""How each verdict is written in the text matrix."""


@click.command()
@click.option("--run", required=True, help="run id or name")
@click.option("--baseline", help="a run before the objective change (paired on example id)")
@click.option("--objective", required=True, metavar="SPEC", help="the objective spec (YAML)")
@by_option("comma-separated attributes for the slices (default: metadata, context, clusters)")
@click.option("--lenient", is_flag=True,
              help="carry on when the spec does not fit the run (missing signals say 'no signal')")
@click.option("--min-failures", type=int, default=20, show_default=True,
              help="least examples in a mode to judge a cell")
@cohort_options
@slicing_options()
def link(run: str, baseline: str | None, objective: str, by: list[str] | None, lenient: bool, min_failures: int,
         db: str | None, min_support: int, fdr: float, bins: int, as_json: bool, where: str | None = None,
         cohort: str | None = None) -> int:
    """For every failure mode and objective component: relation, evidence and a verdict.

    The declared relation, the measured evidence (separation AUC, divergent slices, Goodhart slices
    with --baseline) and a verdict: implicated, not implicated, insufficient evidence or no signal. With --where or
    --cohort, over the cohort's examples only.
    """
    with open_cli_store(db) as store:
        where = where_of(store, where, cohort)
        result = link_modes(store, run, objective, baseline=baseline, by=by, strict=not lenient,
                            min_support=min_support, min_failures=min_failures, fdr=fdr, bins=bins, where=where)
        if as_json:
            echo_json(result.to_dict())
            return EXIT_OK
        head = f"Objective {result.objective.name!r} on run {store.run(result.run_id).name}"
        if result.baseline_id:
            head += f" (baseline {store.run(result.baseline_id).name})"
        if where:
            head += f"; cohort: {where}"
    click.echo(head)
    for problem in result.problems:
        click.echo(f"  spec problem: {problem}")
    for note in result.notes:
        click.echo(f"  note: {note}")
    click.echo("\nFailure modes")
    for row in result.counts.itertuples():
        conc = result.concentration[row.mode].findings()
        where = ", ".join(conc[~conc["redundant"]]["description"].head(3)) if not conc.empty else "-"
        click.echo(f"  {row.mode:<24} {row.n:>7,} ({row.rate:6.1%})  concentrates in: {where}")
    comps = [c.id for c in result.objective.components]
    width = max([len(c) for c in comps] + [10])
    click.echo("\nMatrix (IMPLICATED, not, ? insufficient evidence, - no signal)")
    click.echo(" " * 26 + " ".join(f"{c[:width]:<{width}}" for c in comps))
    for mode_id, row in result.matrix().iterrows():
        click.echo(f"  {mode_id:<24}" + " ".join(f"{MARKS[v]:<{width}}" for v in row))
    click.echo("\nCells")
    for row in result.cells.sort_values("verdict", key=lambda s: s.map(STRENGTH), kind="stable").itertuples():
        if row.verdict == "no signal" and row.relation == "none":
            continue
        click.echo(f"  [{row.verdict}] {row.mode} x {row.component} (declared: {row.relation}): {row.sentence}")
    return EXIT_OK
