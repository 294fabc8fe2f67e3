"""``compare``: a paired, per-slice comparison of two runs."""

from __future__ import annotations

import json
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
    split_list,
    where_of,
)
from analysis.errors import FaultlineError
from analysis.formatting import format_q
from analysis.slicing.attributes import describe_predicate
from analysis.slicing.compare import compare_runs


def two_run_options(required: bool) -> Callable[[Callable], Callable]:
    """The options that name and slice two runs, and their cohort; ``required=False`` where another option can
    stand for them (``gate --series``)."""

    def decorate(f: Callable) -> Callable:
        for option in (max_order_option(1),
                       by_option("comma-separated attributes of the baseline (default: its context defaults)"),
                       click.option("--candidate", required=required, help="the run under test (id or name)"),
                       cohort_options,
                       click.option("--baseline", required=required, help="the run compared against (id or name)")):
            f = option(f)
        return f

    return decorate


paired_options = two_run_options(True)
"""The options that name and slice two runs (``compare``)."""


MSG_EXAMPLES_JSON = ("SLICE must be a JSON object such as '{{\"language\": \"sw\"}}' ({{}} for every pair); "
                     "got {value!r}")


@click.command()
@paired_options
@click.option("--examples", "examples_of", metavar="SLICE",
              help='instead of the table, the paired examples of one slice, e.g. \'{"language": "sw"}\' ({} for all)')
@click.option("--verdict", callback=split_list, metavar="VERDICT,...",
              help="with --examples: only regressed, fixed, still_wrong and/or still_right pairs")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="with --examples: pairs to show at most")
@slicing_options()
def compare(baseline: str, candidate: str, by: list[str] | None, max_order: int, db: str | None, min_support: int,
            fdr: float, bins: int, as_json: bool, where: str | None = None, cohort: str | None = None,
            examples_of: str | None = None, verdict: list[str] | None = None, limit: int = 20) -> int:
    """Compare a candidate run with a baseline on the examples they share.

    McNemar exact test per slice, Benjamini-Hochberg across slices, verdict regressed, improved,
    not significant or not tested (fewer pairs than --min-support: outside the BH family). With --examples SLICE: that slice's pairs (regressed, fixed, still wrong, still right) with both
    outputs.
    """
    if examples_of is not None:
        return _drill_down(baseline, candidate, examples_of, verdict, limit, db, bins, as_json, where, cohort)
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
        q = "" if math.isnan(row.q_value) else format_q(row.q_value)
        click.echo(f"{row.description[:50]:<50} {row.n:>7,} {row.base_error_rate:9.1%} {row.cand_error_rate:9.1%} "
                   f"{row.difference * 100:+6.1f} ({row.ci_low * 100:+.1f}, {row.ci_high * 100:+.1f}){'':4} {q:>9}  {row.verdict}")
    return EXIT_OK


def _drill_down(baseline: str, candidate: str, examples_of: str, verdicts: list[str] | None, limit: int,
                db: str | None, bins: int, as_json: bool, where: str | None, cohort: str | None) -> int:
    from analysis.slicing.drilldown import comparison_examples, verdict_counts

    try:
        predicate = json.loads(examples_of)
    except json.JSONDecodeError:
        predicate = None
    if not isinstance(predicate, dict):
        raise FaultlineError(MSG_EXAMPLES_JSON.format(value=examples_of))
    with open_cli_store(db) as store:
        where = where_of(store, where, cohort)
        counts = verdict_counts(store, baseline, candidate, predicate, where=where, bins=bins)
        pairs = comparison_examples(store, baseline, candidate, predicate, verdicts=verdicts, where=where, bins=bins,
                                    limit=limit)
    if as_json:
        records = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                   for r in pairs.astype(object).where(pairs.notna(), None).to_dict("records")]
        echo_json({"slice": predicate, "where": where, "counts": counts, "pairs": records}, ensure_ascii=False)
        return EXIT_OK
    name = describe_predicate(predicate)
    click.echo(f"{name}: " + ", ".join(f"{n:,} {v.replace('_', ' ')}" for v, n in counts.items()))
    for row in pairs.itertuples():
        click.echo(f"[{row.verdict}] {row.example_id}")
        click.echo(f"    input:     {_short(row.input)}")
        click.echo(f"    baseline:  {_short(row.base_output)}  (score {row.base_score})")
        click.echo(f"    candidate: {_short(row.cand_output)}  (score {row.cand_score})")
    return EXIT_OK


def _short(text, width: int = 100) -> str:
    flat = " ".join(str(text).split()) if text is not None else "(missing)"
    return flat if len(flat) <= width else flat[:width - 1] + "…"
