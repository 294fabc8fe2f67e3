"""The audit report: a PDF a reviewer can trust without opening the app, and its HTML twin.

A report is defined by a :class:`ReportSpec` (runs, settings, sections). :func:`build_report`
computes its content from the store with the same engine as the app; :func:`render_html`
writes one self-contained HTML document (inline CSS and SVG charts, no network needed);
:func:`render_pdf` prints that same document with Debian's chromium (page numbers, a running
header with the report id, a contents page with page numbers found by reading the first
print back). :func:`generate_report` does all of it and records the report in the store's
``reports`` audit table with the spec, its hash and the content hash: regenerating from the
same spec and data gives the same numbers and the same content hash.

Sections for analyses that were not run are not faked: the report says what it covers and
what it does not.
"""


from analysis.report.audit import ReportRecord, record_report, report_history, report_spec
from analysis.report.charts import export_server
from analysis.report.content import Report, build_report, git_commit
from analysis.report.generate import generate_report
from analysis.report.html import render_html
from analysis.report.pdf import MSG_NO_CHROMIUM, PdfPrinter, chromium_path, render_pdf
from analysis.report.spec import MSG_SECTION, SECTION_TITLES, SECTIONS, ReportSpec
from analysis.report.text import MAX_TEXT, cut

__all__ = ["MAX_TEXT", "MSG_NO_CHROMIUM", "MSG_SECTION", "PdfPrinter", "Report", "ReportRecord", "ReportSpec",
           "SECTIONS", "SECTION_TITLES", "build_report", "chromium_path", "cut", "export_server", "generate_report",
           "git_commit", "record_report", "render_html", "render_pdf", "report_history", "report_spec"]
