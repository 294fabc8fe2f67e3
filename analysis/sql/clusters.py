"""Statements over the cluster cache (``cluster_cache``, ``cluster_labels``; DDL in
:mod:`analysis.store.schema`). ``faultline_cluster_labels`` is a DataFrame registered on the
cursor (``example_id``, ``cluster``, ``x``, ``y``).
"""

from __future__ import annotations

LABELS_VIEW = "faultline_cluster_labels"
SETTINGS = "SELECT settings_json, table_json FROM cluster_cache WHERE cache_key = ?"
LABELS = "SELECT example_id, cluster, x, y FROM cluster_labels WHERE cache_key = ?"
DELETE_LABELS = "DELETE FROM cluster_labels WHERE cache_key = ?"
DELETE_ENTRY = "DELETE FROM cluster_cache WHERE cache_key = ?"
INSERT_ENTRY = ("INSERT INTO cluster_cache (cache_key, run_id, field, embedder, params_json, "
                "data_fingerprint, created_at, faultline_version, settings_json, "
                "table_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_LABELS = (f"INSERT INTO cluster_labels (cache_key, example_id, cluster, x, y) SELECT ?, example_id, cluster, CAST(x AS FLOAT), CAST(y AS FLOAT) "
                 f"FROM {LABELS_VIEW}")
#: Forget clusterings of deleted runs, and all but the newest few (second ``?``) of a run (first ``?``).
PRUNE = ("DELETE FROM cluster_cache WHERE run_id NOT IN (SELECT run_id FROM runs) OR cache_key IN ("
         "SELECT cache_key FROM (SELECT cache_key, row_number() OVER (ORDER BY created_at DESC, "
         "cache_key) AS k FROM cluster_cache WHERE run_id = ?) WHERE k > ?)")
DELETE_ORPHAN_LABELS = "DELETE FROM cluster_labels WHERE cache_key NOT IN (SELECT cache_key FROM cluster_cache)"
LATEST_KEY = "SELECT cache_key FROM cluster_cache WHERE run_id = ? ORDER BY created_at DESC LIMIT 1"


def count_sql(*, one_run: bool) -> str:
    return "SELECT count(*) FROM cluster_cache" + (" WHERE run_id = ?" if one_run else "")


def clear_sql(*, one_run: bool) -> str:
    return "DELETE FROM cluster_cache" + (" WHERE run_id = ?" if one_run else "")
