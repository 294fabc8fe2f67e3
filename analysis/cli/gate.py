"""``gate``: a regression gate for CI pipelines (exit 1 when a slice regresses beyond the allowed drop)."""

from __future__ import annotations

import click

from analysis.cli import EXIT_GATE_FAILED, EXIT_OK
from analysis.cli.common import echo_json, open_cli_store, slicing_options
from analysis.cli.compare import two_run_options
from analysis.slicing.compare import compare_runs
from analysis.slicing.compare import gate as gate_result

MSG_ONE_MODE = "Give either --series NAME, or both --baseline and --candidate"


@click.command()
@two_run_options(required=False)
@click.option("--series", "series", default=None, metavar="NAME",
              help="gate a series instead: its newest run against its reference and its previous run")
@click.option("--max-drop", type=float, default=0.02, show_default=True,
              help="largest allowed accuracy drop, a fraction: 0.02 = 2 points (with --series: per run)")
@click.option("--max-drop-total", type=float, default=0.05, show_default=True,
              help="with --series: largest allowed drop from the reference run, a fraction")
@click.option("--junit", "junit", default=None, metavar="FILE",
              help="with --series: also write the checks as JUnit XML to FILE")
@click.option("--markdown", "markdown", default=None, metavar="FILE",
              help="with --series: also write a Markdown summary to FILE")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="significance level after Benjamini-Hochberg adjustment")
@slicing_options()
def gate(baseline: str | None, candidate: str | None, by: list[str] | None, max_order: int, series: str | None,
         max_drop: float, max_drop_total: float, junit: str | None, markdown: str | None, alpha: float,
         db: str | None, min_support: int, fdr: float, bins: int, as_json: bool) -> int:
    """A regression gate for CI pipelines.

    Exit 1 when any slice's accuracy drops by more than --max-drop with a Benjamini-Hochberg
    q-value below --alpha, 0 otherwise. With --series NAME: the series' newest run against its
    reference (budget --max-drop-total) and its previous run (budget --max-drop per run), and
    each slice's trend (no steeper than --max-drop per run).
    """
    if series is not None:
        if baseline or candidate:
            raise click.UsageError(MSG_ONE_MODE)
        from analysis.cli.series_gate import run_series_gate

        return run_series_gate(series, by=by, max_drop=max_drop, max_drop_total=max_drop_total, alpha=alpha,
                               db=db, min_support=min_support, bins=bins, as_json=as_json, junit=junit,
                               markdown=markdown)
    if not (baseline and candidate):
        raise click.UsageError(MSG_ONE_MODE)
    with open_cli_store(db) as store:
        compared = compare_runs(store, baseline, candidate, by, max_order=max_order, min_support=min_support,
                                fdr=fdr, bins=bins)
    result = gate_result(compared, max_drop=max_drop, alpha=alpha)
    if as_json:
        breaking = [r for r in compared.to_records()
                    if any(r["predicate"] == [{"attribute": k, "value": v} for k, v in p.items()]
                           for p in result.breaking["predicate"])]
        echo_json({"passed": result.passed, "max_drop": result.max_drop, "alpha": result.alpha,
                   "matched": compared.matched, "only_baseline": compared.only_baseline,
                   "only_candidate": compared.only_candidate, "breaking": breaking})
    else:
        click.echo(result.summary())
    return EXIT_OK if result.passed else EXIT_GATE_FAILED
