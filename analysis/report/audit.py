"""The store's ``reports`` audit table: every generated report with its spec and hashes (its SQL is in
:mod:`analysis.sql.audit`, its DDL in :mod:`analysis.store.schema`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from analysis._version import __version__
from analysis.errors import FaultlineError
from analysis.report.content import Report
from analysis.report.spec import ReportSpec
from analysis.sql import audit as Q
from analysis.store import Store

MSG_NO_REPORT = "No report {report_id!r} in the store's history"

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
    store.ensure_table("reports")


def report_history(store: Store) -> pd.DataFrame:
    """Every report generated from this store, newest first.

    Creates the ``reports`` table if the store does not have it yet.

    Parameters
    ----------
    store : Store
        The store (opened for writing the first time, when the table is created).

    Returns
    -------
    pandas.DataFrame
        One row per generated report: ``report_id``, ``created_at`` (timestamp), ``analyst``,
        ``reviewer``, ``run_ids`` (comma-separated), ``pages``, ``content_hash``,
        ``spec_sha256``, ``pdf_path``, ``pdf_sha256``, ``html_path``, ``html_sha256`` (SHA-256
        hex digests), ``faultline_version``, ``git_commit``. Empty when no report was made.

    Raises
    ------
    duckdb.Error
        When the ``reports`` table does not exist and the store is read-only (it cannot be
        created).

    Examples
    --------
    >>> import tempfile
    >>> store = Store(tempfile.mkdtemp() + "/r.duckdb")
    >>> history = report_history(store)
    >>> len(history), list(history.columns[:3])
    (0, ['report_id', 'created_at', 'analyst'])
    """
    _ensure_audit_table(store)
    return store.cursor().execute(Q.HISTORY).df()


def report_spec(store: Store, report_id: str) -> ReportSpec:
    """The spec a report was generated from (to regenerate it)."""
    _ensure_audit_table(store)
    rows = store.cursor().execute(Q.SPEC, [report_id]).fetchall()
    if not rows:
        raise FaultlineError(MSG_NO_REPORT.format(report_id=report_id))
    return ReportSpec.from_json(rows[0][0])



def record_report(store: Store, report: Report, record: ReportRecord, created: datetime) -> None:
    """Add a generated report to the audit table (and bump the store's data version)."""
    _ensure_audit_table(store)
    spec = report.spec
    with store.transaction() as cur:
        cur.execute(Q.INSERT,
                    [record.report_id, created, spec.canonical(), spec.sha256, record.content_hash, spec.analyst,
                     spec.reviewer, ",".join(r["run_id"] for r in report.data["runs"]), record.pdf_path,
                     record.pdf_sha256, record.html_path, record.html_sha256, record.pages, __version__,
                     report.data["git_commit"]])
        store.bump_version(cur)
