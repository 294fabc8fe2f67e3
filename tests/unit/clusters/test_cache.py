"""The result cache: identical results from the store, keys that cover every setting, pruning, the report's lookup."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.clusters import cache as K
from analysis.clusters import pipeline as C


def test_cached_result_is_identical_and_fast(demo):
    store, result, _ = demo
    again = C.cluster_run(store, "baseline", field="input")
    assert again.from_cache and not result.from_cache
    assert again.cache_key == result.cache_key
    pd.testing.assert_frame_equal(again.labels[["example_id", "cluster"]], result.labels[["example_id", "cluster"]])
    np.testing.assert_allclose(again.labels[["x", "y"]].to_numpy(), result.labels[["x", "y"]].to_numpy(), rtol=1e-6)
    pd.testing.assert_frame_equal(again.table, result.table, check_exact=False, rtol=1e-12)
    assert sum(again.timings.values()) < 1.0, again.timings
    assert C.cached_result(store, "baseline", field="input").cache_key == result.cache_key
    assert C.cached_result(store, "baseline", field="input", seed=1) is None


def test_cache_key_covers_field_embedder_parameters_and_data(store, topics):
    run, frame = topics
    base = C.cluster_run(store, run.run_id, embedder="tfidf", save_column=False)
    keys = {base.cache_key,
            C.cluster_run(store, run.run_id, embedder="tfidf", seed=1, save_column=False).cache_key,
            C.cluster_run(store, run.run_id, embedder="tfidf", min_cluster_size=6, save_column=False).cache_key,
            C.cluster_run(store, run.run_id, embedder="tfidf", field="both", save_column=False).cache_key,
            C.cluster_run(store, run.run_id, embedder="model2vec", save_column=False).cache_key}
    assert len(keys) == 5
    changed = frame.assign(correct=~frame["correct"])  # same texts, other outcomes: other data
    other = store.ingest_frame(changed, name="topics flipped").added[0]
    assert C.cluster_run(store, other.run_id, embedder="tfidf", save_column=False).cache_key != base.cache_key
    assert C.cluster_run(store, run.run_id, embedder="tfidf", save_column=False).from_cache
    assert K.clear_cache(store, run.run_id) >= 5
    assert not C.cluster_run(store, run.run_id, embedder="tfidf", save_column=False).from_cache


def test_cache_rows_of_a_deleted_run_are_dropped(store, topics):
    run, frame = topics
    C.cluster_run(store, run.run_id, embedder="tfidf")
    store.delete_run(run.run_id)
    other = store.ingest_frame(frame.assign(question=frame["question"] + "?"), name="again").added[0]
    C.cluster_run(store, other.run_id, embedder="tfidf")
    runs = {r[0] for r in store.cursor().execute("SELECT DISTINCT run_id FROM cluster_cache").fetchall()}
    assert runs == {other.run_id}


def test_the_key_changes_with_the_algorithm_version(store, topics, monkeypatch):
    run, _ = topics
    before = C.cluster_run(store, run.run_id, embedder="tfidf", save_column=False)
    monkeypatch.setattr(K, "ALGORITHM_VERSION", K.ALGORITHM_VERSION + "-next")
    after = C.cluster_run(store, run.run_id, embedder="tfidf", save_column=False)
    assert after.cache_key != before.cache_key and not after.from_cache


def test_records_round_trip_the_table(store, topics):
    run, _ = topics
    table = C.cluster_run(store, run.run_id, embedder="tfidf", save_column=False).table
    table.loc[0, "q_value"] = np.nan  # a group that was not tested
    rows = K.records(table)
    assert rows[0]["q_value"] is None and all(type(v) is not np.float64 for v in rows[0].values())
    pd.testing.assert_frame_equal(K.table_from_records(rows), table)


def test_latest_result_is_the_newest_clustering(store, topics):
    run, _ = topics
    assert K.latest_result(store, run.run_id) is None
    C.cluster_run(store, run.run_id, embedder="tfidf", save_column=False)
    newest = C.cluster_run(store, run.run_id, embedder="tfidf", seed=3, save_column=False)
    latest = K.latest_result(store, run.run_id)
    assert latest.settings["seed"] == 3
    pd.testing.assert_frame_equal(latest.table, newest.table)
