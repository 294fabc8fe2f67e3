"""One call that computes, renders (PDF and/or HTML) and records a report."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import FaultlineError
from analysis.progress import ProgressCallback, scaled
from analysis.report.audit import ReportRecord, record_report
from analysis.report.charts import export_server, report_charts, warm_export
from analysis.report.content import build_report
from analysis.report.html import render_html
from analysis.report.pdf import MSG_NO_CHROMIUM, chromium_path, print_with_contents
from analysis.report.spec import SECTIONS, ReportSpec
from analysis.store import Store

MSG_NOTHING_TO_WRITE = "Nothing to write: give a PDF path, an HTML path or both"

def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def generate_report(store: Store, spec: ReportSpec, *, pdf: str | Path | None, html_out: str | Path | None = None,
                    progress: ProgressCallback | None = None, chromium: str | None = None) -> ReportRecord:
    """Compute, render (PDF and/or HTML) and record a report. Nothing is written unless it completes.

    Parameters
    ----------
    store : Store
        The store holding the runs; the report is recorded in its ``reports`` audit table.
    spec : ReportSpec
        What the report holds.
    pdf, html_out : str or Path, optional
        Where to write the PDF (printed by chromium) and its self-contained HTML twin; at least one.
    progress : ProgressCallback, optional
        Called with (fraction in [0, 1], message).
    chromium : str, optional
        Path of chromium (default :func:`~analysis.report.pdf.chromium_path`).

    Returns
    -------
    ReportRecord
        The report id, the spec and content hashes, the files written with their sha256, the pages and the seconds.

    Raises
    ------
    FaultlineError
        When nothing is to be written, chromium is missing for a PDF, or the content cannot be computed.
    """
    if pdf is None and html_out is None:
        raise FaultlineError(MSG_NOTHING_TO_WRITE)
    chromium = chromium or chromium_path()
    if pdf is not None and not Path(chromium).exists():
        raise FaultlineError(MSG_NO_CHROMIUM.format(path=chromium))
    start = time.perf_counter()
    say = scaled(progress, 0.0, 1.0)
    with export_server():
        # The export server's chromium starts while the content is computed.
        warm = threading.Thread(target=warm_export, daemon=True)
        warm.start()
        report = build_report(store, spec, progress=scaled(progress, 0.0, 0.6))
        say(0.62, "Exporting charts")
        warm.join()
        charts = report_charts(report)
    pdf_path = Path(pdf) if pdf else None
    html_path = Path(html_out) if html_out else None
    pages = None
    if pdf_path is not None:
        say(0.75, "Printing the PDF")
        tmp = pdf_path.with_name(pdf_path.name + ".part")
        try:
            document, pages = print_with_contents(
                lambda page_numbers: render_html(report, page_numbers=page_numbers, charts=charts), tmp,
                sections=[x for x in SECTIONS if x in spec.sections], report_id=report.report_id, chromium=chromium,
                progress=say)
            tmp.replace(pdf_path)
        finally:
            tmp.unlink(missing_ok=True)  # a print that failed leaves no half-written file behind
    else:
        document = render_html(report, charts=charts)
    if html_path is not None:
        html_path.write_text(document, encoding="utf-8")
    created = datetime.now(UTC).replace(tzinfo=None)
    record = ReportRecord(report.report_id, created.isoformat(timespec="seconds"), spec.sha256, report.content_hash,
                          str(pdf_path.resolve()) if pdf_path else None, _sha256(pdf_path) if pdf_path else None,
                          str(html_path.resolve()) if html_path else None, _sha256(html_path) if html_path else None,
                          pages, time.perf_counter() - start)
    record_report(store, report, record, created)
    say(1.0, f"Report {record.report_id} written")
    return record
