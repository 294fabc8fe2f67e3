"""The cluster table: statistics as the slicing engine's, terms, representative and failing examples, failure modes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control, fisher_exact

from analysis.clusters import describe as D
from analysis.clusters import pipeline as C
from analysis.slicing.attributes import list_attributes
from analysis.slicing.table import slice_table
from tests.unit.clusters.topics import topic_frame


def test_a_hand_worked_table():
    """Counts, rates, Fisher p-values with BH q-values, examples nearest the centre and mode shares, by hand."""
    labels = pd.DataFrame({
        "example_id": ["a0", "a1", "a2", "a3", "b0", "b1", "b2", "c0", "c1"],
        "cluster": ["0", "0", "0", "0", "1", "1", "1", D.NOISE, D.NOISE],
        "correct": pd.array([False, True, False, True, False, False, None, True, True], dtype="boolean"),
        "scored": [True] * 6 + [False, True, True],
        "text": ["ibuprofen dose", "ibuprofen dose adult", "dose of ibuprofen", "adult dose", "git merge",
                 "merge conflict", "git branch", "hello there", "hi"]})
    unit = np.array([[1, 0], [1, 0], [0.6, 0.8], [0, 1], [0, 1], [0, 1], [0, 1], [1, 0], [1, 0]], dtype=np.float32)
    modes = pd.DataFrame({"x": [True, False, True] + [False] * 6, "y": [True] + [False] * 8})
    table = D.describe_clusters(labels, unit, "cluster.input", modes=modes, confidence=0.95, fdr=0.05)
    rows = table.set_index("cluster")
    assert rows.loc[["0", "1", D.NOISE], ["size", "n", "errors"]].to_numpy().tolist() == [[4, 4, 2], [3, 2, 2],
                                                                                            [2, 2, 0]]
    np.testing.assert_allclose(rows["error_rate"], rows["errors"] / rows["n"], rtol=1e-12)
    # centre of cluster 0 is (0.65, 0.45): a2 (0.75) is nearest, then a0 and a1 (0.65, by position), then a3
    assert rows.loc["0", "representative_ids"] == ["a2", "a0", "a1", "a3"]
    assert rows.loc["0", "failing_ids"] == ["a2", "a0"]
    assert rows.loc["0", "failure_modes"] == {"x": 1.0, "y": 0.5}
    assert rows.loc["1", "failure_modes"] == {} and rows.loc[D.NOISE, "failure_modes"] == {}
    assert rows.loc["1", "description"] == "cluster.input = 1"
    expected = {}
    for name in ("0", "1", D.NOISE):
        n, errors = int(rows.loc[name, "n"]), int(rows.loc[name, "errors"])
        rest_n, rest_errors = 8 - n, 4 - errors
        expected[name] = fisher_exact([[errors, n - errors], [rest_errors, rest_n - rest_errors]]).pvalue
    np.testing.assert_allclose(rows.loc[list(expected), "p_value"], list(expected.values()), rtol=1e-9)
    np.testing.assert_allclose(rows.loc[list(expected), "q_value"],
                               false_discovery_control(list(expected.values()), method="bh"), rtol=1e-9)
    assert list(table["cluster"]) == list(table.sort_values(["q_value", "difference", "size"],
                                                            ascending=[True, False, False], kind="stable")["cluster"])


def test_statistics_are_the_slicing_engines(demo):
    """Each cluster's n, errors, interval, p-value and q-value equal a slice table over cluster.input."""
    store, result, _ = demo
    assert "cluster.input" in [a.name for a in list_attributes(store, "baseline")]
    slices = slice_table(store, "baseline", ["cluster.input"], max_order=1, min_support=1).table
    by_value = {p["cluster.input"]: row for p, row in zip(slices["predicate"], slices.itertuples())}
    assert set(by_value) == set(result.table["cluster"])
    for row in result.table.itertuples():
        s = by_value[row.cluster]
        assert (row.n, row.errors) == (s.n, s.errors)
        assert row.ci_method == s.ci_method
        np.testing.assert_allclose([row.error_rate, row.ci_low, row.ci_high, row.p_value, row.q_value],
                                   [s.error_rate, s.ci_low, s.ci_high, s.p_value, s.q_value], rtol=1e-12)
        assert row.finding == s.finding


def test_representatives_and_typical_failures(demo):
    store, result, _ = demo
    labels = result.labels.set_index("example_id")
    for row in result.table.itertuples():
        assert 1 <= len(row.representative_ids) <= D.N_REPRESENTATIVE
        assert (labels.loc[row.representative_ids, "cluster"] == row.cluster).all()
        assert len(row.failing_ids) == min(D.N_FAILING, row.errors)
        assert (labels.loc[row.failing_ids, "correct"] == False).all()  # noqa: E712 - nullable booleans
        assert row.representative_texts[0] == labels.loc[row.representative_ids[0], "text"][:D.TEXT_CHARS]


def test_a_cluster_of_stop_words_is_still_described(store):
    """A cluster of truncated outputs ("The") has no word but stop words: its terms keep them."""
    rng = np.random.default_rng(4)
    centres = rng.normal(size=(2, 8)) * 5
    group = np.arange(60) % 2
    frame = pd.DataFrame({"prompt": np.where(group == 0, "git merge conflict", "The"), "correct": group == 0,
                          "embedding": [list(centres[g] + rng.normal(size=8) * 0.1) for g in group]})
    run = store.ingest_frame(frame, name="cut").added[0]
    result = C.cluster_run(store, run.run_id, min_cluster_size=10)
    assert C.purity_and_ari(result.labels["cluster"], group)["ari"] == 1.0
    terms = dict(zip(result.table["cluster"], result.table["terms"]))
    assert sorted(map(tuple, terms.values())) == [("conflict", "git", "merge"), ("the",)]


def test_failure_mode_shares(store, topics):
    run, frame = topics
    modes = pd.DataFrame({"example_id": frame["example_id"],
                          "value": np.where(frame["correct"], None, np.where(frame.index % 2 == 0, "a", "b"))})
    store.set_example_column(run.run_id, "failure_mode.label", modes, role="failure_mode", kind="categorical")
    result = C.cluster_run(store, run.run_id, embedder="tfidf")
    assert "failure_mode" in result.labels
    for row in result.table.itertuples():
        if row.errors:
            assert set(row.failure_modes) <= {"a", "b"} and abs(sum(row.failure_modes.values()) - 1) < 1e-3


def test_class_tfidf_matches_a_direct_computation():
    """c-TF-IDF as BERTopic defines it, from sklearn's CountVectorizer on the concatenated documents."""
    from sklearn.feature_extraction.text import CountVectorizer

    frame = topic_frame(60)
    docs = (frame["question"] + " " + frame["response"]).tolist()
    classes = frame["topic"].tolist()
    names, vocabulary, weights = D.class_tfidf_weights(docs, classes, stop_words=None)
    joined = [" ".join(d for d, c in zip(docs, classes) if c == name) for name in names]
    counts = CountVectorizer(token_pattern=D.TOKEN_PATTERN).fit(docs)
    tf = counts.transform(joined).toarray().astype(float)
    assert list(counts.get_feature_names_out()) == list(vocabulary)
    idf = np.log(1 + tf.sum(axis=1).mean() / tf.sum(axis=0))
    expected = tf / tf.sum(axis=1, keepdims=True) * idf
    np.testing.assert_allclose(weights, expected, rtol=1e-12)
    top = D.class_tfidf(docs, classes, top=3, stop_words=None)
    for i, name in enumerate(names):
        best = sorted(range(len(vocabulary)), key=lambda j: (-expected[i, j], vocabulary[j]))[:3]
        assert top[name] == [vocabulary[j] for j in best]
