"""Statements over the ``reports`` audit table (DDL in :mod:`analysis.store.schema`): every
generated report with its spec and hashes (:mod:`analysis.report.audit`)."""

from __future__ import annotations

INSERT = ("INSERT INTO reports (report_id, created_at, spec_json, spec_sha256, content_hash, "
          "analyst, reviewer, run_ids, pdf_path, pdf_sha256, html_path, html_sha256, pages, "
          "faultline_version, git_commit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
HISTORY = ("SELECT report_id, created_at, analyst, reviewer, run_ids, pages, content_hash, spec_sha256, pdf_path, "
           "pdf_sha256, html_path, html_sha256, faultline_version, git_commit FROM reports ORDER BY created_at DESC")
SPEC = "SELECT spec_json FROM reports WHERE report_id = ? ORDER BY created_at DESC LIMIT 1"
