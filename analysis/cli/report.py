"""``report`` and ``reports``: write the audit report, list the report history."""

from __future__ import annotations

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import by_option, db_option, json_option, min_support_option, open_cli_store, split_list
from analysis.cli.progress_bar import ProgressBar
from analysis.errors import FaultlineError
from analysis.report import SECTIONS, ReportSpec, generate_report, report_history, report_spec

MSG_NO_OUTPUT = "Give --out report.pdf, --html report.html, or both"


@click.command()
@db_option
@click.option("--run", required=True, help="the run analysed (id or name)")
@click.option("--baseline", help="a baseline run for the comparison and the gate")
@click.option("--objective", metavar="SPEC", help="objective spec (YAML) for the failure modes section")
@click.option("--cohort", metavar="CONDITION", help="analyse only this cohort: a condition (e.g. 'language = \"sw\"') "
              "or a saved cohort's name; stated on the cover and in the methods")
@click.option("--series", metavar="NAME", help="a series of runs for the Timeline section (runs over time)")
@click.option("--out", metavar="PDF", help="PDF to write")
@click.option("--html", metavar="HTML", help="HTML to write (the same report, self-contained)")
@click.option("--analyst", default="", help="name of the analyst (cover and sign-off)")
@click.option("--reviewer", default="", help="name of the reviewer (cover and sign-off)")
@click.option("--title", default="Faultline audit report", show_default=True, help="title on the cover")
@by_option("comma-separated attributes (default: the run's default attributes)")
@click.option("--sections", callback=split_list, metavar="SECTION,...",
              help=f"comma-separated sections (default: all of {', '.join(SECTIONS)})")
@min_support_option(30)
@click.option("--fdr", type=float, default=0.05, show_default=True,
              help="false discovery rate for Benjamini-Hochberg (also the gate's significance level)")
@click.option("--max-drop", type=float, default=0.02, show_default=True,
              help="the gate's largest allowed accuracy drop, a fraction: 0.02 = 2 points")
@click.option("--from-report", metavar="REPORT_ID", help="regenerate from the spec of an earlier report")
def report(db: str | None, run: str, baseline: str | None, objective: str | None, cohort: str | None,
           series: str | None, out: str | None, html: str | None,
           analyst: str, reviewer: str, title: str, by: list[str] | None, sections: list[str] | None,
           min_support: int, fdr: float, max_drop: float, from_report: str | None) -> int:
    """Write the audit report of a run (and its comparison with a baseline).

    As a PDF and/or a self-contained HTML file, recorded in the store's report history. Exits
    non-zero with a clear message if it cannot produce a complete report.
    """
    if not out and not html:
        raise FaultlineError(MSG_NO_OUTPUT)
    with open_cli_store(db) as store:
        if from_report:
            spec = report_spec(store, from_report)
        else:
            spec = ReportSpec(run=run, baseline=baseline, objective=objective, cohort=cohort, series=series,
                              analyst=analyst, reviewer=reviewer,
                              title=title, min_support=min_support, fdr=fdr, attributes=by,
                              gate={"max_drop": max_drop, "alpha": fdr},
                              sections=sections if sections else list(SECTIONS))
        with ProgressBar() as progress:
            record = generate_report(store, spec, pdf=out, html_out=html, progress=progress)
    click.echo(f"Report {record.report_id}: {record.pages or 'no'} PDF pages in {record.seconds:.1f} s; content hash "
               f"{record.content_hash}")
    for path, digest in ((record.pdf_path, record.pdf_sha256), (record.html_path, record.html_sha256)):
        if path:
            click.echo(f"  {path} (sha256 {digest})")
    return EXIT_OK


@click.command()
@db_option
@json_option()
def reports(db: str | None, as_json: bool) -> int:
    """List the reports generated from this store, newest first."""
    with open_cli_store(db) as store:
        history = report_history(store)
    if as_json:
        click.echo(history.to_json(orient="records", date_format="iso", indent=2))
    elif history.empty:
        click.echo("No reports yet: python -m analysis report --run RUN --out report.pdf")
    else:
        for row in history.itertuples():
            click.echo(f"{row.report_id}  {row.created_at:%Y-%m-%d %H:%M}  runs {row.run_ids}  {row.pages or '-'} "
                       f"pages  content {row.content_hash[:12]}  {row.pdf_path or row.html_path}")
    return EXIT_OK
