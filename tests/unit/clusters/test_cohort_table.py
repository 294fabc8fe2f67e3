"""cluster_table over a cohort: the statistics of every cluster are those of a store holding only the cohort's
examples (counts by pandas, the test by scipy / statsmodels, q-values by statsmodels' Benjamini-Hochberg)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from analysis import PredicateError, cluster_table
from analysis.clusters.pipeline import cluster_run
from tests.unit.clusters.topics import topic_frame


@pytest.fixture
def clustered(store):
    frame = topic_frame(160, seed=3)
    frame["batch"] = np.random.default_rng(5).choice(["a", "b"], len(frame), p=[0.6, 0.4])
    run = store.ingest_frame(frame, name="topics").added[0]
    return frame, cluster_run(store, run.run_id, embedder="tfidf", save_column=False)


def test_without_a_cohort_the_table_is_the_clusterings(store, clustered):
    _, result = clustered
    assert cluster_table(store, result) is result.table
    assert cluster_table(store, result, where="  ") is result.table


def test_the_statistics_are_those_of_the_cohorts_examples_alone(store, clustered):
    frame, result = clustered
    table = cluster_table(store, result, where='batch = "a"')
    merged = frame.merge(result.labels[["example_id", "cluster"]], on="example_id")
    inside = merged[merged["batch"] == "a"]
    total_n, total_errors = len(inside), int((~inside["correct"]).sum())
    assert sorted(table["cluster"]) == sorted(inside["cluster"].astype(str).unique())
    p_values = []
    for _, row in table.iterrows():
        members = inside[inside["cluster"].astype(str) == row["cluster"]]
        errors = int((~members["correct"]).sum())
        assert row["size"] == row["n"] == len(members) and row["errors"] == errors
        assert np.isclose(row["error_rate"], errors / len(members))
        rest_n, rest_errors = total_n - len(members), total_errors - errors
        assert np.isclose(row["rest_error_rate"], rest_errors / rest_n)
        if row["test"] == "fisher":
            expected = stats.fisher_exact([[errors, len(members) - errors], [rest_errors, rest_n - rest_errors]])[1]
        else:
            expected = proportions_ztest([errors, rest_errors], [len(members), rest_n])[1]
        assert np.isclose(row["p_value"], expected, rtol=1e-6)
        p_values.append(row["p_value"])
    assert np.allclose(table["q_value"], multipletests(p_values, method="fdr_bh")[1])
    assert table["finding"].tolist() == list((table["q_value"] < result.settings["fdr"]) & (table["difference"] > 0))
    for ids in table["failing_ids"]:
        assert set(ids) <= set(inside["example_id"])


def test_a_cohort_that_does_not_fit_names_the_field(store, clustered):
    _, result = clustered
    with pytest.raises(PredicateError, match="unknown field 'batchh'"):
        cluster_table(store, result, where='batchh = "a"')


def test_sorted_by_evidence(store, clustered):
    _, result = clustered
    table = cluster_table(store, result, where='batch = "b"')
    q = pd.Series(table["q_value"]).fillna(2.0).to_numpy()
    assert (np.diff(q) >= 0).all()
