"""``compare``: a paired, per-slice comparison of two runs."""

from __future__ import annotations

import math
from collections.abc import Callable

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import (
    by_option,
    cohort_options,
    echo_json,
    max_order_option,
    open_cli_store,
    slicing_options,
    where_of,
)
from analysis.slicing.compare import compare_runs


def paired_options(f: Callable) -> Callable:
    """The options that name and slice two runs (``compare`` and ``gate``)."""
    for option in (max_order_option(1), by_option("comma-separated attributes of the baseline (default: its metadata)"),
                   click.option("--candidate", required=True, help="the run under test (id or name)"), cohort_options,
                   click.option("--baseline", required=True, help="the run compared against (id or name)")):
        f = option(f)
    return f


@click.command()
@paired_options
@slicing_options()
def compare(baseline: str, candidate: str, by: list[str] | None, max_order: int, db: str | None, min_support: int,
            fdr: float, bins: int, as_json: bool, where: str | None = None, cohort: str | None = None) -> int:
    """Compare a candidate run with a baseline on the examples they share.

    McNemar exact test per slice, Benjamini-Hochberg across slices, verdict regressed, improved or
    unchanged.
    """
    with open_cli_store(db) as store:
        result = compare_runs(store, baseline, candidate, by, max_order=max_order, min_support=min_support, fdr=fdr,
                              bins=bins, where=where_of(store, where, cohort))
    if as_json:
        echo_json({"baseline": result.baseline, "candidate": result.candidate, "matched": result.matched,
                   "only_baseline": result.only_baseline, "only_candidate": result.only_candidate,
                   "settings": result.settings, "slices": result.to_records()})
        return EXIT_OK
    click.echo(f"{result.matched:,} matched examples; {result.only_baseline:,} only in the baseline, "
               f"{result.only_candidate:,} only in the candidate")
    click.echo(f"{'slice':<50} {'n':>7} {'base err':>9} {'cand err':>9} {'change, points (95% CI)':<24} {'q':>9}  verdict")
    for row in result.table.itertuples():
        q = "" if math.isnan(row.q_value) else f"{row.q_value:.2g}"
        click.echo(f"{row.description[:50]:<50} {row.n:>7,} {row.base_error_rate:9.1%} {row.cand_error_rate:9.1%} "
                   f"{row.difference * 100:+6.1f} ({row.ci_low * 100:+.1f}, {row.ci_high * 100:+.1f}){'':4} {q:>9}  {row.verdict}")
    return EXIT_OK
