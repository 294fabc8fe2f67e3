"""``gate``: a regression gate for CI pipelines (exit 1 when a slice regresses beyond the allowed drop)."""

from __future__ import annotations

import click

from analysis.cli import EXIT_GATE_FAILED, EXIT_OK
from analysis.cli.common import echo_json, open_cli_store, slicing_options, where_of
from analysis.cli.compare import paired_options
from analysis.slicing.compare import compare_runs
from analysis.slicing.compare import gate as gate_result


@click.command()
@paired_options
@click.option("--max-drop", type=float, default=0.02, show_default=True,
              help="largest allowed accuracy drop, a fraction: 0.02 = 2 points")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="significance level after Benjamini-Hochberg adjustment")
@slicing_options()
def gate(baseline: str, candidate: str, by: list[str] | None, max_order: int, max_drop: float, alpha: float,
         db: str | None, min_support: int, fdr: float, bins: int, as_json: bool, where: str | None = None,
         cohort: str | None = None) -> int:
    """A regression gate for CI pipelines.

    Exit 1 when any slice's accuracy drops by more than --max-drop with a Benjamini-Hochberg
    q-value below --alpha, 0 otherwise.
    """
    with open_cli_store(db) as store:
        compared = compare_runs(store, baseline, candidate, by, max_order=max_order, min_support=min_support,
                                fdr=fdr, bins=bins, where=where_of(store, where, cohort))
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
