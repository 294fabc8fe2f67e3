"""The audit report: a PDF a reviewer can trust without opening the app, and its HTML twin.

A report is defined by a :class:`ReportSpec` (runs, settings, sections). :func:`build_report`
computes its content from the store with the same engine as the app; :func:`render_html`
writes one self-contained HTML document (inline CSS and SVG charts, no network needed);
:func:`render_pdf` lays that same document out with WeasyPrint as an archival PDF (PDF/A-3b,
tagged, fonts embedded; page numbers, a running header with the report id, a contents page with
page numbers, landscape pages for wide tables) with the engine's complete tables, the report spec
and the objective spec attached inside it (:func:`report_attachments`). :func:`generate_report` does all of it and records the report in the store's
``reports`` audit table with the spec, its hash and the content hash: regenerating from the
same spec and data gives the same numbers and the same content hash.

Sections for analyses that were not run are not faked: the report says what it covers and
what it does not.

Modules: ``spec`` (:class:`ReportSpec`, a pydantic model), ``content`` (:func:`build_report`: every
number, from the engine), ``text`` (how numbers and user text are worded), ``charts`` (plotly
figures to SVG), ``html`` and ``templates/`` (:func:`render_html`: Jinja2, autoescape on), ``pdf``
(:func:`render_pdf`, WeasyPrint), ``attachments`` (the attached data), ``audit`` (the ``reports`` table: :func:`report_history`,
:func:`report_spec`, :func:`record_report`), ``generate`` (:func:`generate_report`).
"""

from analysis.report.attachments import report_attachments
from analysis.report.audit import ReportRecord, record_report, report_history, report_spec
from analysis.report.charts import export_server
from analysis.report.content import Report, build_report, git_commit
from analysis.report.generate import generate_report
from analysis.report.html import render_html
from analysis.report.pdf import AttachedFile, PdfMetadata, chromium_path, render_pdf
from analysis.report.spec import (
    MSG_SECTION,
    SECTION_TITLES,
    SECTIONS,
    DiscoverySettings,
    GateSettings,
    ReportSpec,
    ReportSpecError,
)
from analysis.report.text import EXCERPT, excerpt

__all__ = ["EXCERPT", "MSG_SECTION", "AttachedFile", "DiscoverySettings", "GateSettings", "PdfMetadata", "Report",
           "ReportRecord", "ReportSpec", "ReportSpecError",
           "SECTIONS", "SECTION_TITLES", "build_report", "chromium_path", "excerpt", "export_server", "generate_report",
           "git_commit", "record_report", "render_html", "render_pdf", "report_attachments", "report_history", "report_spec"]
