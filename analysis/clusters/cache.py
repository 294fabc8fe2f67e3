"""The result cache: clusterings kept in the store, keyed by everything that decides them.

A clustering is stored (tables ``cluster_cache`` and ``cluster_labels``, SQL in
:mod:`analysis.sql.clusters`) under a key made of :data:`ALGORITHM_VERSION`, the run, the
text field, the embedder and its version, every parameter, and a fingerprint of the data
(:func:`fingerprint`), so a user never waits twice for the same clustering and never gets a
stale one. The newest :data:`MAX_CACHED_PER_RUN` clusterings of each run are kept.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pandas as pd

from analysis._version import __version__
from analysis.clusters.embedders import EmbedderInfo
from analysis.export import json_value
from analysis.sql import clusters as K
from analysis.store import Store

#: Cached clusterings kept per run (the oldest go first).
MAX_CACHED_PER_RUN = 12
#: Bumped when the algorithm changes, so older cached results are not reused.
ALGORITHM_VERSION = "2"


def cache_tables_exist(store: Store) -> bool:
    return store.table_exists("cluster_cache") and store.table_exists("cluster_labels")


def fingerprint(frame: pd.DataFrame, texts: pd.Series, modes: pd.DataFrame, vectors: np.ndarray | None) -> str:
    parts = pd.DataFrame({"example_id": frame["example_id"].astype(str), "text": texts.astype(str),
                          "correct": frame["correct"].astype("string").fillna("<NA>"),
                          "unscorable": frame["unscorable"].astype("string").fillna("<NA>")})
    digest = hashlib.sha256(pd.util.hash_pandas_object(parts, index=False).to_numpy().tobytes())
    digest.update(json.dumps(list(map(str, modes.columns))).encode())
    digest.update(np.ascontiguousarray(modes.to_numpy(dtype=bool)).tobytes())
    if vectors is not None:
        digest.update(np.ascontiguousarray(vectors).tobytes())
    return digest.hexdigest()


def cache_key(run_id: str, field_name: str, embedder: EmbedderInfo, params: dict, fingerprint: str) -> str:
    material = json.dumps([ALGORITHM_VERSION, run_id, field_name, embedder.name, embedder.version, params, fingerprint],
                          sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def records(table: pd.DataFrame) -> list[dict]:
    """JSON-ready rows of a table (:func:`analysis.export.json_value`)."""
    return [json_value(row) for row in table.to_dict("records")]


_FLOAT_COLUMNS = ("error_rate", "ci_low", "ci_high", "rest_error_rate", "difference", "p_value", "q_value")


def table_from_records(records: list[dict]) -> pd.DataFrame:
    """A cluster table from its :func:`records` (rates back to float with NaN, counts to int64, findings to bool)."""
    table = pd.DataFrame(records)
    for c in _FLOAT_COLUMNS:
        if c in table:
            table[c] = pd.to_numeric(table[c], errors="coerce").astype(float)
    for c in ("size", "n", "errors"):
        if c in table:
            table[c] = table[c].astype(np.int64)
    if "finding" in table:
        table["finding"] = table["finding"].astype(bool)
    return table


def read_cache(store: Store, key: str) -> tuple[dict, pd.DataFrame, pd.DataFrame] | None:
    """The cached clustering under ``key``: (settings, cluster table, labels with ``example_id``, ``cluster``,
    ``x``, ``y``), or None when there is none."""
    if not cache_tables_exist(store):
        return None
    rows = store.cursor().execute(K.SETTINGS, [key]).fetchall()
    if not rows:
        return None
    labels = store.cursor().execute(K.LABELS, [key]).df()
    return json.loads(rows[0][0]), table_from_records(json.loads(rows[0][1])), labels


def write_cache(store: Store, key: str, run_id: str, field_name: str, embedder: EmbedderInfo, params: dict,
                 fingerprint: str, settings: dict, table: pd.DataFrame, labels: pd.DataFrame) -> None:
    """Store a clustering under ``key`` (replacing any entry of that key) and prune the run's older ones.

    Keeps the newest :data:`MAX_CACHED_PER_RUN` clusterings of each run and forgets those of deleted runs,
    in one transaction.
    """
    store.ensure_table("cluster_cache")
    frame = labels[["example_id", "cluster", "x", "y"]].copy()
    frame["example_id"] = frame["example_id"].astype(str)
    frame["cluster"] = frame["cluster"].astype(str)
    with store.transaction() as cur:
        cur.register(K.LABELS_VIEW, frame)
        try:
            cur.execute(K.DELETE_LABELS, [key])
            cur.execute(K.DELETE_ENTRY, [key])
            cur.execute(K.INSERT_ENTRY,
                        [key, run_id, field_name, f"{embedder.name}:{embedder.version}",
                         json.dumps(params, sort_keys=True, default=str), fingerprint,
                         datetime.now(UTC).replace(tzinfo=None), __version__,
                         json.dumps(settings, default=str), json.dumps(records(table), default=str)])
            cur.execute(K.INSERT_LABELS, [key])
            # Forget clusterings of deleted runs, and all but the newest few of this run.
            cur.execute(K.PRUNE, [run_id, MAX_CACHED_PER_RUN])
            cur.execute(K.DELETE_ORPHAN_LABELS)
        finally:
            cur.unregister(K.LABELS_VIEW)


def clear_cache(store: Store, run: str | None = None) -> int:
    """Forget cached clusterings (of one run, or all); returns how many were dropped."""
    if not cache_tables_exist(store):
        return 0
    run_id = store.run(run).run_id if run is not None else None
    params = [run_id] if run_id else []
    with store.transaction() as cur:
        n = cur.execute(K.count_sql(one_run=bool(run_id)), params).fetchall()[0][0]
        cur.execute(K.clear_sql(one_run=bool(run_id)), params)
        cur.execute(K.DELETE_ORPHAN_LABELS)
    return int(n)


def latest_result(store: Store, run: str) -> SimpleNamespace | None:
    """The most recent clustering cached for a run (settings and cluster table), or None (for the report)."""
    if not cache_tables_exist(store):
        return None
    run_id = store.run(run).run_id
    rows = store.cursor().execute(K.LATEST_KEY, [run_id]).fetchall()
    if not rows:
        return None
    cached = read_cache(store, rows[0][0])
    if cached is None:
        return None
    settings, table, _labels = cached
    return SimpleNamespace(settings=settings, table=table)


__all__ = ["ALGORITHM_VERSION", "MAX_CACHED_PER_RUN", "cache_key", "cache_tables_exist", "clear_cache",
           "fingerprint", "latest_result", "read_cache", "records", "table_from_records", "write_cache"]
