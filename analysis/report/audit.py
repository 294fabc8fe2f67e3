"""The store's ``reports`` audit table: every generated report with its spec and hashes (all its SQL is here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from analysis._version import __version__
from analysis.errors import FaultlineError
from analysis.report.content import Report
from analysis.report.spec import ReportSpec
from analysis.store import Store


@dataclass
class ReportRecord:
    """A generated report as recorded in the audit table."""

    report_id: str
    created_at: str
    spec_sha256: str
    content_hash: str
    pdf_path: str | None
    pdf_sha256: str | None
    html_path: str | None
    html_sha256: str | None
    pages: int | None
    seconds: float


def _ensure_audit_table(store: Store) -> None:
    with store._write_lock:
        store.cursor().execute("""
            CREATE TABLE IF NOT EXISTS reports (
                report_id VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, spec_json VARCHAR NOT NULL,
                spec_sha256 VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, analyst VARCHAR, reviewer VARCHAR,
                run_ids VARCHAR, pdf_path VARCHAR, pdf_sha256 VARCHAR, html_path VARCHAR, html_sha256 VARCHAR,
                pages INTEGER, faultline_version VARCHAR, git_commit VARCHAR)
        """)


def report_history(store: Store) -> pd.DataFrame:
    """Every report generated from this store, newest first."""
    _ensure_audit_table(store)
    return store.cursor().execute(
        "SELECT report_id, created_at, analyst, reviewer, run_ids, pages, content_hash, spec_sha256, pdf_path, "
        "pdf_sha256, html_path, html_sha256, faultline_version, git_commit FROM reports ORDER BY created_at DESC"
    ).df()


def report_spec(store: Store, report_id: str) -> ReportSpec:
    """The spec a report was generated from (to regenerate it)."""
    _ensure_audit_table(store)
    rows = store.cursor().execute("SELECT spec_json FROM reports WHERE report_id = ? ORDER BY created_at DESC LIMIT 1",
                                  [report_id]).fetchall()
    if not rows:
        raise FaultlineError(f"No report {report_id!r} in the store's history")
    return ReportSpec.from_json(rows[0][0])



def record_report(store: Store, report: Report, record: ReportRecord, created: datetime) -> None:
    """Add a generated report to the audit table (and bump the store's data version)."""
    _ensure_audit_table(store)
    spec = report.spec
    with store._write_lock:
        cur = store.cursor()
        cur.execute("BEGIN TRANSACTION")
        cur.execute("INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [record.report_id, created, spec.canonical(), spec.sha256, record.content_hash, spec.analyst,
                     spec.reviewer, ",".join(r["run_id"] for r in report.data["runs"]), record.pdf_path,
                     record.pdf_sha256, record.html_path, record.html_sha256, record.pages, __version__,
                     report.data["git_commit"]])
        cur.execute("UPDATE store_info SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) "
                    "WHERE key = 'data_version'")
        cur.execute("COMMIT")
