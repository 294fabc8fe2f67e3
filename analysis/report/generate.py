"""One call that computes, renders (PDF and/or HTML), attaches the data and records a report."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import FaultlineError
from analysis.progress import ProgressCallback, scaled
from analysis.report.attachments import attachment_rows, report_attachments
from analysis.report.audit import ReportRecord, record_report
from analysis.report.charts import export_server, report_charts, section_charts, warm_export
from analysis.report.content import Report, build_report
from analysis.report.html import render_html
from analysis.report.pdf import PdfMetadata, render_pdf
from analysis.report.spec import ReportSpec
from analysis.store import Store

MSG_NOTHING_TO_WRITE = "Nothing to write: give a PDF path, an HTML path or both"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data_folder(html_path: Path) -> Path:
    """Where the attached data is written beside the HTML twin: ``<name>-data/`` next to ``<name>.html``."""
    return html_path.with_name(html_path.stem + "-data")


def pdf_metadata(report: Report) -> PdfMetadata:
    """The PDF's document metadata: title, author, subject, keywords with the report id, the content hash and the
    sha256 of every source file, and the same as custom information entries."""
    sources = [f"{f['file_name']} sha256 {f['sha256']}" for r in report.data["runs"] for f in r["files"]]
    return PdfMetadata(
        title=f"{report.spec.title} {report.report_id}", author=report.spec.analyst,
        subject=(f"Faultline audit report {report.report_id} of "
                 + ("run " if len(report.data["runs"]) == 1 else "runs ")
                 + ", ".join(r["run_id"] for r in report.data["runs"])),
        keywords=[f"report id {report.report_id}", f"content sha256 {report.content_hash}",
                  f"spec sha256 {report.spec.sha256}", *(f"source {s}" for s in sources)],
        custom={"FaultlineReportId": report.report_id, "FaultlineContentHash": report.content_hash,
                "FaultlineSpecHash": report.spec.sha256, "FaultlineSourceHashes": "; ".join(sources)})


def generate_report(store: Store, spec: ReportSpec, *, pdf: str | Path | None, html_out: str | Path | None = None,
                    progress: ProgressCallback | None = None, charts: bool = True) -> ReportRecord:
    """Compute, render (PDF and/or HTML) and record a report. Nothing is written unless it completes.

    Parameters
    ----------
    store : Store
        The store holding the runs; the report is recorded in its ``reports`` audit table.
    spec : ReportSpec
        What the report holds.
    pdf, html_out : str or Path, optional
        Where to write the PDF (PDF/A-3b, tagged, the data attached inside) and its self-contained HTML twin
        (the data written beside it, in ``<name>-data/``); at least one.
    progress : ProgressCallback, optional
        Called with (fraction in [0, 1], message).
    charts : bool
        Draw the charts (exported by kaleido); False leaves them out (tests of layout).

    Returns
    -------
    ReportRecord
        The report id, the spec and content hashes, the files written with their sha256, the pages and the seconds.

    Raises
    ------
    FaultlineError
        When nothing is to be written, or the content cannot be computed, or the PDF cannot be written.
    """
    if pdf is None and html_out is None:
        raise FaultlineError(MSG_NOTHING_TO_WRITE)
    start = time.perf_counter()
    say = scaled(progress, 0.0, 1.0)
    if charts:
        with export_server():
            # The export server's chromium starts while the content is computed.
            warm = threading.Thread(target=warm_export, daemon=True)
            warm.start()
            drawn: dict[str, str] = {}

            def draw_the_others(data: dict) -> None:
                # the charts of the sections computed, exported while the failure modes are (the export server's
                # chromium is a process of its own): only the failure modes' chart is left for after them
                warm.join()
                drawn.update(section_charts(data, skip=("failure_modes",)))

            report = build_report(store, spec, progress=scaled(progress, 0.0, 0.6), while_waiting=draw_the_others)
            say(0.62, "Exporting charts")
            warm.join()
            svgs = report_charts(report, drawn=drawn)
    else:
        report = build_report(store, spec, progress=scaled(progress, 0.0, 0.6))
        svgs = {}
    files = report_attachments(report)
    document = render_html(report, charts=svgs, attachments=attachment_rows(files, report))
    pdf_path = Path(pdf) if pdf else None
    html_path = Path(html_out) if html_out else None
    pages = None
    if pdf_path is not None:
        say(0.75, "Laying out the PDF")
        tmp = pdf_path.with_name(pdf_path.name + ".part")
        try:
            pages = render_pdf(document, tmp, metadata=pdf_metadata(report), attachments=files)
            tmp.replace(pdf_path)
        finally:
            tmp.unlink(missing_ok=True)  # a print that failed leaves no half-written file behind
    if html_path is not None:
        html_path.write_text(document, encoding="utf-8")
        folder = data_folder(html_path)
        folder.mkdir(exist_ok=True)
        for f in files:
            (folder / f.name).write_bytes(f.data)
    created = datetime.now(UTC).replace(tzinfo=None)
    record = ReportRecord(report.report_id, created.isoformat(timespec="seconds"), spec.sha256, report.content_hash,
                          str(pdf_path.resolve()) if pdf_path else None, _sha256(pdf_path) if pdf_path else None,
                          str(html_path.resolve()) if html_path else None, _sha256(html_path) if html_path else None,
                          pages, time.perf_counter() - start)
    record_report(store, report, record, created)
    say(1.0, f"Report {record.report_id} written")
    return record
