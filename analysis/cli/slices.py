"""``slices``: the error rate of every slice of a run, with intervals and q-values."""

from __future__ import annotations

import math

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
from analysis.export import json_value
from analysis.formatting import format_q
from analysis.slicing.extras import slice_extras
from analysis.slicing.table import slice_table


@click.command()
@click.option("--run", required=True, help="run id or name")
@by_option("comma-separated attributes (default: the run's context: metadata of modest cardinality, input length, "
           "turn; output-derived and leaking attributes are left out, and the command says which)")
@max_order_option(2)
@click.option("--top", type=int, default=30, show_default=True, help="rows to print without --json")
@click.option("--extras", is_flag=True, help="add per-slice extras (ECE, percentiles, rater agreement, t "
                                            "intervals of mean scores) for single attributes")
@cohort_options
@slicing_options()
def slices(run: str, by: list[str] | None, max_order: int, top: int, extras: bool, db: str | None,
           min_support: int, fdr: float, bins: int, as_json: bool, where: str | None = None,
           cohort: str | None = None) -> int:
    """Every slice of a run over the given attributes (alone and in conjunctions).

    Each with Wilson/Clopper-Pearson intervals, a test against the rest of the run and
    Benjamini-Hochberg q-values, sorted by evidence.
    """
    with open_cli_store(db) as store:
        where = where_of(store, where, cohort)
        result = slice_table(store, run, by, max_order=max_order, min_support=min_support, fdr=fdr, bins=bins,
                             where=where)
        more = slice_extras(store, result.run_id, by, bins=bins, where=where) if extras else None
        if as_json:
            out = {"run_id": result.run_id, "settings": result.settings, "n": result.total_n,
                   "errors": result.total_errors, "unscorable": result.unscorable, "slices": result.to_records()}
            if more is not None:
                out["extras"] = [{k: json_value(v) for k, v in row.items()}
                                 for row in more.to_dict("records")]
            echo_json(out)
            return EXIT_OK
        click.echo(f"Run {store.run(result.run_id).name} ({result.run_id}): {result.total_n:,} scored examples, "
                   f"error rate {result.overall_error_rate:.1%}; {len(result.table):,} slices, "
                   f"{int(result.table['finding'].sum()):,} worse than the rest at FDR {fdr}"
                   + (f"; cohort: {where}" if where else ""))
        if result.settings.get("note"):
            click.echo(result.settings["note"])
        if result.settings.get("left_out"):
            click.echo(result.settings["left_out"])
        note = store.correctness_note(result.run_id)
        if note:
            click.echo(note)
        click.echo(f"{'slice':<58} {'n':>7} {'error rate (95% CI)':<24} {'q':>9}")
        for row in result.table.head(top).itertuples():
            flag = " (too small)" if row.too_small else (" *" if row.finding else "")
            q = "" if math.isnan(row.q_value) else format_q(row.q_value)
            click.echo(f"{row.description[:58]:<58} {row.n:>7,} {row.error_rate:6.1%} "
                       f"({row.ci_low:.1%}-{row.ci_high:.1%}){'':<2} {q:>9}{flag}")
        if more is not None and not more.empty:
            click.echo()
            click.echo(more.to_string(index=False, max_colwidth=40))
    return EXIT_OK
