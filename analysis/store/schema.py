"""Every table of a Faultline store, as DDL in one place, with the schema version.

The core tables (``store_info``, ``runs``, ``run_files``, ``fields``) are created when a
store is opened for writing. The tables of optional features (annotations, the cluster
cache, the report history) are created on first use by :meth:`analysis.store.Store.ensure_table`,
so a store that never used a feature has no empty table for it, and a read-only store
reports "nothing yet" instead of failing. The per-run tables ``examples_<run_id>`` are
created by ingest (their columns depend on the log); see :mod:`analysis.store`.

None of these statements touches example rows: they are DuckDB DDL, not part of the
portable subset checked by ``tests/unit/store/test_sql_portable.py``.
"""

from __future__ import annotations

#: Version of the layout below; recorded in ``store_info`` when a store is created.
SCHEMA_VERSION = 1

#: The catalog: store settings, runs, their source files and their stored columns.
CORE = """
CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, model VARCHAR,
    source_format VARCHAR NOT NULL, task VARCHAR, source_key VARCHAR NOT NULL UNIQUE,
    row_count BIGINT NOT NULL, n_correct BIGINT, n_unscorable BIGINT,
    ingested_at TIMESTAMP NOT NULL, faultline_version VARCHAR NOT NULL,
    notes VARCHAR NOT NULL DEFAULT '', mapping VARCHAR, table_name VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS run_files (
    run_id VARCHAR NOT NULL, position INTEGER NOT NULL, file_name VARCHAR NOT NULL,
    file_path VARCHAR, sha256 VARCHAR NOT NULL, size_bytes BIGINT);
CREATE TABLE IF NOT EXISTS fields (
    run_id VARCHAR NOT NULL, position INTEGER NOT NULL, column_name VARCHAR NOT NULL,
    source_name VARCHAR, role VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    n_missing BIGINT, n_distinct BIGINT);
"""

#: Researchers' annotations, append-only (see :mod:`analysis.objective.annotations`).
ANNOTATIONS = """
CREATE TABLE IF NOT EXISTS annotations (
    annotation_id VARCHAR PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    example_id VARCHAR,
    slice VARCHAR,
    mode VARCHAR,
    note VARCHAR NOT NULL DEFAULT '',
    author VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    retracts VARCHAR,
    CHECK ((example_id IS NULL) <> (slice IS NULL))
)
"""

#: Cached clusterings and their per-example labels (see :mod:`analysis.clusters.pipeline`).
CLUSTER_CACHE = """
CREATE TABLE IF NOT EXISTS cluster_cache (
    cache_key VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, field VARCHAR NOT NULL,
    embedder VARCHAR NOT NULL, params_json VARCHAR NOT NULL, data_fingerprint VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL, faultline_version VARCHAR NOT NULL,
    settings_json VARCHAR NOT NULL, table_json VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS cluster_labels (
    cache_key VARCHAR NOT NULL, example_id VARCHAR NOT NULL, cluster VARCHAR NOT NULL,
    x FLOAT, y FLOAT);
"""

#: The audit trail of generated reports (see :mod:`analysis.report`).
REPORTS = """
CREATE TABLE IF NOT EXISTS reports (
    report_id VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, spec_json VARCHAR NOT NULL,
    spec_sha256 VARCHAR NOT NULL, content_hash VARCHAR NOT NULL, analyst VARCHAR, reviewer VARCHAR,
    run_ids VARCHAR, pdf_path VARCHAR, pdf_sha256 VARCHAR, html_path VARCHAR, html_sha256 VARCHAR,
    pages INTEGER, faultline_version VARCHAR, git_commit VARCHAR)
"""

#: What each run's evaluation tool reported against what Faultline recomputes from the stored
#: examples (see :mod:`analysis.store.reconcile`); written by ingest, one row per reported figure.
RECONCILIATION = """
CREATE TABLE IF NOT EXISTS reconciliation (
    run_id VARCHAR NOT NULL, position INTEGER NOT NULL, tool VARCHAR NOT NULL, metric VARCHAR,
    basis VARCHAR, tool_value DOUBLE, faultline_value DOUBLE, tool_n BIGINT, faultline_n BIGINT,
    verdict VARCHAR NOT NULL, source VARCHAR, message VARCHAR NOT NULL)
"""

#: Series of runs (checkpoints, releases): one row per member run, in order, one of them the reference
#: (see :mod:`analysis.store.series`).
SERIES = """
CREATE TABLE IF NOT EXISTS series (
    series_name VARCHAR NOT NULL, position INTEGER NOT NULL, run_id VARCHAR NOT NULL, step DOUBLE,
    is_reference BOOLEAN NOT NULL, order_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (series_name, position))
"""

#: Whether a run holds a reference's examples in the same order, checked when a series is created (``misplaced``
#: rows; valid while both runs keep the row counts they had then; see :func:`analysis.store.series.order_checks`).
SERIES_ORDER = """
CREATE TABLE IF NOT EXISTS series_order (
    run_id VARCHAR NOT NULL, reference_id VARCHAR NOT NULL, run_rows BIGINT NOT NULL, reference_rows BIGINT NOT NULL,
    misplaced BIGINT NOT NULL, PRIMARY KEY (run_id, reference_id))
"""

#: Saved cohorts (named filters in the rule language), append-only versions (see :mod:`analysis.slicing.cohorts`).
COHORTS = """
CREATE TABLE IF NOT EXISTS cohorts (
    cohort_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, version INTEGER NOT NULL,
    predicate VARCHAR NOT NULL, run_id VARCHAR, description VARCHAR NOT NULL DEFAULT '',
    author VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, UNIQUE (name, version))
"""

#: Pinned findings, append-only like annotations (see :mod:`analysis.objective.findings`).
FINDINGS = """
CREATE TABLE IF NOT EXISTS findings (
    finding_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, baseline_run_id VARCHAR, kind VARCHAR NOT NULL,
    target_json VARCHAR NOT NULL, cohort VARCHAR, title VARCHAR NOT NULL, note VARCHAR NOT NULL DEFAULT '',
    evidence_json VARCHAR NOT NULL, settings_json VARCHAR NOT NULL, author VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL, withdraws VARCHAR)
"""

#: Saved objective specs (YAML text and its sha256), append-only versions (see :mod:`analysis.objective.spec`).
OBJECTIVE_SPECS = """
CREATE TABLE IF NOT EXISTS objective_specs (
    spec_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, version INTEGER NOT NULL, sha256 VARCHAR NOT NULL,
    text VARCHAR NOT NULL, author VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, UNIQUE (name, version))
"""

#: Optional tables by feature: the DDL that creates them and the tables it creates.
OPTIONAL: dict[str, tuple[str, tuple[str, ...]]] = {
    "annotations": (ANNOTATIONS, ("annotations",)),
    "cluster_cache": (CLUSTER_CACHE, ("cluster_cache", "cluster_labels")),
    "reports": (REPORTS, ("reports",)),
    "reconciliation": (RECONCILIATION, ("reconciliation",)),
    "series": (SERIES, ("series",)),
    "series_order": (SERIES_ORDER, ("series_order",)),
    "cohorts": (COHORTS, ("cohorts",)),
    "findings": (FINDINGS, ("findings",)),
    "objective_specs": (OBJECTIVE_SPECS, ("objective_specs",)),
}

#: The columns every run's examples table starts with, in order.
FIXED_COLUMNS = ("run_id", "example_id", "source_row", "task", "input", "output", "reference", "score", "correct",
                 "unscorable", "status")

__all__ = ["ANNOTATIONS", "CLUSTER_CACHE", "COHORTS", "CORE", "FINDINGS", "FIXED_COLUMNS", "OBJECTIVE_SPECS", "OPTIONAL", "RECONCILIATION",
           "REPORTS", "SCHEMA_VERSION", "SERIES", "SERIES_ORDER"]
