"""``gate``: a regression gate for CI pipelines (exit 1 when a slice regresses beyond the allowed drop).

The slices a gate tests are fixed by its command (``--by``) or its spec file (``--spec gate.yaml``),
never by what else the store holds; without either, by the baseline's context defaults, which
never include computed columns (clusters, failure-mode labels) or outcome attributes. The gate
prints the attributes it used and a command that pins them. ``--junit FILE`` and ``--markdown FILE``
write the verdict for CI. Exit 0 passed, 1 failed, 2 an error (a bad spec names the file, the line,
the key and what was expected).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click
from click.core import ParameterSource
from pydantic import ValidationError

from analysis.cli import EXIT_GATE_FAILED, EXIT_OK
from analysis.cli.common import echo_json, open_cli_store, slicing_options, where_of
from analysis.cli.compare import two_run_options
from analysis.formats.validation import problems
from analysis.slicing.attributes import default_attributes
from analysis.slicing.compare import METRIC_DIRECTION, compare_runs
from analysis.slicing.compare import gate as gate_result
from analysis.slicing.gate_report import junit_xml, markdown_summary
from analysis.slicing.gate_spec import GateSpec, load_gate_spec

#: Options a gate spec can set (the spec's field -> the command's parameter).
SPEC_FIELDS = ("by", "max_order", "max_drop", "alpha", "min_support", "bins")


def reproduce_command(baseline: str, candidate: str, spec: GateSpec, by: list[str], db: str | None, *,
                      where: str | None = None, cohort: str | None = None) -> str:
    """The command that runs the same gate again, every setting pinned (attributes included)."""
    parts = ["python", "-m", "analysis", "gate", "--baseline", baseline, "--candidate", candidate, "--by", ",".join(by),
             "--max-order", str(spec.max_order), "--max-drop", f"{spec.max_drop:g}", "--alpha", f"{spec.alpha:g}",
             "--min-support", f"{spec.min_support:g}", "--bins", str(spec.bins)]
    if where:
        parts += ["--where", where]
    if cohort:
        parts += ["--cohort", cohort]
    if db:
        parts += ["--db", db]
    return shlex.join(parts)


MSG_ONE_MODE = "Give either --series NAME, or both --baseline and --candidate"


@click.command()
@two_run_options(required=False)
@click.option("--series", "series", default=None, metavar="NAME",
              help="gate a series instead: its newest run against its reference and its previous run")
@click.option("--max-drop", type=float, default=0.02, show_default=True,
              help="largest allowed accuracy drop, a fraction: 0.02 = 2 points (with --series: per run)")
@click.option("--max-drop-total", type=float, default=0.05, show_default=True,
              help="with --series: largest allowed drop from the reference run, a fraction")
@click.option("--alpha", type=float, default=0.05, show_default=True,
              help="significance level after Benjamini-Hochberg adjustment")
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="a gate spec (YAML or JSON: by, max_order, max_drop, alpha, min_support, bins); options given "
                   "on the command line override it")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="write the verdict as JUnit XML (one test case per tested slice)")
@click.option("--markdown", "markdown_path", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="write a Markdown summary for a pull-request comment")
@slicing_options()
@click.pass_context
def gate(ctx: click.Context, baseline: str | None, candidate: str | None, by: list[str] | None, max_order: int,
         series: str | None, max_drop: float, max_drop_total: float, alpha: float, spec_path: str | None,
         junit_path: str | None, markdown_path: str | None, db: str | None, min_support: int | float, fdr: float,
         bins: int, as_json: bool, where: str | None = None, cohort: str | None = None) -> int:
    """A regression gate for CI pipelines.

    Exit 1 when any slice's accuracy drops by more than --max-drop with a Benjamini-Hochberg
    q-value below --alpha, 0 otherwise, 2 on an error. The attributes are --by, the spec's
    ``by``, or the baseline's context defaults (printed, so they can be pinned). With --series
    NAME: the series' newest run against its reference (budget --max-drop-total) and its previous
    run (budget --max-drop per run), and each slice's trend (no steeper than --max-drop per run).
    """
    if series is not None:
        if baseline or candidate or spec_path:
            raise click.UsageError(MSG_ONE_MODE)
        from analysis.cli.series_gate import run_series_gate

        return run_series_gate(series, by=by, max_drop=max_drop, max_drop_total=max_drop_total, alpha=alpha,
                               db=db, min_support=min_support, bins=bins, as_json=as_json, junit=junit_path,
                               markdown=markdown_path, where=where, cohort=cohort)
    if not (baseline and candidate):
        raise click.UsageError(MSG_ONE_MODE)
    given = {"by": by, "max_order": max_order, "max_drop": max_drop, "alpha": alpha, "min_support": min_support,
             "bins": bins}
    spec = load_gate_spec(spec_path) if spec_path else GateSpec()
    explicit = {k: v for k, v in given.items() if ctx.get_parameter_source(k) == ParameterSource.COMMANDLINE}
    if not spec_path:
        explicit = given  # the command's own values (defaults included)
    try:
        spec = GateSpec.model_validate({**spec.model_dump(), **explicit})
    except ValidationError as err:
        first = problems(err)[0]
        raise click.UsageError(f"--{(first.key or 'option').replace('_', '-')}: {first.message}") from None
    with open_cli_store(db) as store:
        base_name, cand_name = store.run(baseline).name, store.run(candidate).name
        cohort_where = where_of(store, where, cohort)
        left_out = ""
        if spec.by is None:
            defaults = default_attributes(store, baseline)
            attributes, origin = [a.name for a in defaults], "the baseline's context defaults"
            left_out = defaults.left_out_line()
        else:
            attributes, origin = list(spec.by), ("--by" if by is not None else f"the spec {spec_path}")
        compared = compare_runs(store, baseline, candidate, attributes, max_order=spec.max_order,
                                min_support=spec.min_support, fdr=fdr, bins=spec.bins, where=cohort_where)
        correctness = store.correctness_note(compared.baseline)
    result = gate_result(compared, max_drop=spec.max_drop, alpha=spec.alpha)
    command = reproduce_command(base_name, cand_name, spec, attributes, db, where=where, cohort=cohort)
    if junit_path:
        Path(junit_path).write_text(junit_xml(result, command=command, baseline=base_name, candidate=cand_name),
                                    encoding="utf-8")
    if markdown_path:
        Path(markdown_path).write_text(markdown_summary(result, command=command, baseline=base_name,
                                                        candidate=cand_name), encoding="utf-8")
    if as_json:
        records = compared.to_records()
        breaking = [r for r, breaks in zip(records, result.breaks) if breaks]
        overall = next((r for r, d in zip(records, compared.table["description"]) if d == "(all examples)"), None)
        echo_json({"passed": result.passed, "metric": "accuracy", "direction": METRIC_DIRECTION,
                   "max_drop": result.max_drop, "alpha": result.alpha, "attributes": attributes,
                   "attributes_from": origin, "tested": len(result.tested), "matched": compared.matched,
                   "only_baseline": compared.only_baseline, "only_candidate": compared.only_candidate,
                   "overall": overall, "breaking": breaking, "command": command})
    else:
        click.echo(result.summary())
        click.echo(f"Attributes ({origin}): {', '.join(attributes) or '(none: the whole run only)'}")
        if left_out:
            click.echo(left_out)
        if correctness:
            click.echo(correctness)
        click.echo(f"Reproduce: {command}")
    return EXIT_OK if result.passed else EXIT_GATE_FAILED
