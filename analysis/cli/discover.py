"""``discover``: find problematic slices automatically (SliceLine), each with its statistics."""

from __future__ import annotations

import math

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import by_option, cohort_options, echo_json, open_cli_store, slicing_options, where_of
from analysis.formatting import format_count, format_q
from analysis.slicing.attributes import default_attributes
from analysis.slicing.discovery import discover as discover_slices


@click.command()
@click.option("--run", required=True, help="run id or name")
@by_option("comma-separated attributes (default: the run's default attributes)")
@click.option("--error-weight", type=float, default=0.99, show_default=True,
              help="SliceLine's weight of a slice's error against its size (the paper's alpha), in (0, 1]")
@click.option("--k", type=int, default=10, show_default=True, help="slices to return")
@click.option("--max-order", type=click.IntRange(min=1), default=3, show_default=True,
              help="most predicates per slice")
@click.option("--holdout", is_flag=True, help="discover on half the examples, test on the other half")
@click.option("--seed", type=int, default=0, show_default=True, help="random seed of the holdout split")
@cohort_options
@slicing_options(0.01, fractions=True,
                 min_support_help="least examples per slice: a count, or a fraction < 1 of the examples searched")
def discover(run: str, by: list[str] | None, error_weight: float, k: int, max_order: int, holdout: bool, seed: int,
             db: str | None, min_support: int | float, fdr: float, bins: int, as_json: bool, where: str | None = None,
             cohort: str | None = None) -> int:
    """SliceLine search for the slices with the highest error.

    Each slice is reported with its interval and q-value. --holdout discovers on one half and tests
    on the other.
    """
    with open_cli_store(db) as store:
        result = discover_slices(store, run, by, error_weight=error_weight, k=k, max_order=max_order,
                                 min_support=min_support, holdout=holdout, seed=seed, fdr=fdr, bins=bins,
                                 where=where_of(store, where, cohort))
        if as_json:
            echo_json({"run_id": result.run_id, "settings": result.settings, "slices": result.to_records()})
            return EXIT_OK
        click.echo(f"SliceLine on {store.run(result.run_id).name}: {format_count(len(result.table), 'slice')} "
                   f"(statistics on {result.settings['statistics_on']})")
        if by is None and (left_out := default_attributes(store, result.run_id).left_out_line()):
            click.echo(left_out)
        for row in result.table.itertuples():
            q = "" if math.isnan(row.q_value) else f"q={format_q(row.q_value)}"
            click.echo(f"[group {row.group}] {row.description}: n={row.n:,}, error {row.error_rate:.1%} "
                       f"({row.ci_low:.1%}-{row.ci_high:.1%}), {q}, SliceLine score {row.sliceline_score:.3g}"
                       + ("" if row.confirmed else "  (not confirmed)"))
    return EXIT_OK
