"""``gate --series NAME``: the series gate's printing and files (the engine is :mod:`analysis.series.gate`)."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.cli import EXIT_GATE_FAILED, EXIT_OK
from analysis.cli.common import echo_json, open_cli_store, where_of
from analysis.export import json_value
from analysis.series.gate import junit_xml, markdown_summary, series_gate


def run_series_gate(series: str, *, by: list[str] | None, max_drop: float, max_drop_total: float, alpha: float,
                    db: str | None, min_support: int | float, bins: int, as_json: bool, junit: str | None,
                    markdown: str | None, where: str | None = None, cohort: str | None = None) -> int:
    """Run the series gate, print it (text or JSON), write JUnit / Markdown when asked; the exit code.

    ``where`` (a condition in the rule language) or ``cohort`` (a saved cohort's name) restricts every run of the
    series to the cohort (:func:`analysis.cli.common.where_of`).
    """
    if isinstance(min_support, float):
        raise click.BadParameter("with --series, a count of examples (an integer >= 1)", param_hint="--min-support")
    with open_cli_store(db) as store:
        cohort_where = where_of(store, where, cohort)
        result = series_gate(store, series, by, max_drop_per_run=max_drop, max_drop_total=max_drop_total,
                             alpha=alpha, min_support=min_support, bins=bins, where=cohort_where)
    if junit:
        Path(junit).write_text(junit_xml(f"faultline series gate: {series}", result.cases()) + "\n", encoding="utf-8")
    if markdown:
        Path(markdown).write_text(markdown_summary(f"Series gate: {series}", result.passed, result.cases()) + "\n",
                                  encoding="utf-8")
    if as_json:
        echo_json({"passed": result.passed, "series": series, **result.settings,
                   "max_drop_per_run": result.max_drop_per_run, "max_drop_total": result.max_drop_total,
                   "alpha": result.alpha,
                   "breaking": [{k: json_value(v) for k, v in row.items()}
                                for row in result.breaking.to_dict("records")]})
    else:
        click.echo(result.summary())
    return EXIT_OK if result.passed else EXIT_GATE_FAILED
