"""The cluster table over a cohort: the clusters stay those of the whole run, their statistics are the cohort's.

A clustering is fitted once per run and setting (:func:`analysis.clusters.pipeline.cluster_run`); a cohort
(:mod:`analysis.slicing.cohorts`) does not refit it. Within a cohort each cluster keeps its examples that satisfy
the condition, and everything the table tests is computed over those alone, as if the run held nothing else:
sizes, errors, the error rate with its interval, the test against the rest of the cohort, Benjamini-Hochberg
q-values over the clusters present in the cohort (one definition, :func:`analysis.stats.slice_vs_rest`, as
:func:`analysis.clusters.describe.describe_clusters` uses for the whole run).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.slicing.cohorts import cohort_filter
from analysis.sql import cohort as S
from analysis.sql import slices as Q
from analysis.store import Store

#: The lists of example ids and their texts kept to the cohort's examples.
_LISTS = (("representative_ids", "representative_texts"), ("failing_ids", "failing_texts"))


def cohort_ids(store: Store, run: str, where: str) -> set[str]:
    """The example ids of a run that satisfy a cohort's condition.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.
    where : str
        The condition in the rule language (empty: every example).

    Returns
    -------
    set of str
        The ids of the examples in the cohort.

    Raises
    ------
    PredicateError
        A condition that cannot be read or does not fit the run (as :func:`analysis.cohort_filter`).
    RunNotFoundError
        When the store has no such run.
    """
    schema = store.schema(run)
    found = cohort_filter(schema, where)
    sql, params = S.ids_where_sql(schema.table_name, *Q.and_cohort("true", None if found is None else found.as_sql))
    return {str(r[0]) for r in store.cursor().execute(sql, params).fetchall()}


def cluster_table(store: Store, result, *, where: str | None = None) -> pd.DataFrame:
    """The table of a clustering, its statistics computed over a cohort's examples only.

    Parameters
    ----------
    store : Store
        The store holding the clustered run.
    result : ClusterResult
        A clustering (:func:`analysis.cluster_run` or :func:`analysis.cached_result`).
    where : str, optional
        A cohort: a condition in the rule language. None or empty: ``result.table`` as it is.

    Returns
    -------
    pandas.DataFrame
        The columns of ``result.table`` for the clusters with at least one example in the cohort, sorted by
        evidence (q-value, then difference, then size): ``size`` (the cluster's examples in the cohort), ``n``
        (scored), ``errors`` (counts), ``error_rate``, ``ci_low``, ``ci_high``, ``rest_error_rate`` (fractions in
        [0, 1]), ``difference`` (cluster minus the rest of the cohort, a difference of fractions), ``p_value``,
        ``test``, ``q_value`` (over the clusters present), ``finding`` (q below the clustering's FDR and worse than
        the rest); the representative and failing examples kept to those in the cohort; terms and failure-mode
        shares as fitted on the whole run.

    Raises
    ------
    PredicateError
        A condition that cannot be read or does not fit the run (position and field named).
    RunNotFoundError
        The clustered run is no longer in the store.
    """
    if where is None or not str(where).strip():
        return result.table
    inside = cohort_ids(store, result.run_id, where)
    labels = result.labels
    keep = labels["example_id"].astype(str).isin(inside).to_numpy()
    groups = labels["cluster"].astype(str).to_numpy()[keep]
    scored = labels["scored"].to_numpy(dtype=bool)[keep]
    failing = scored & ~labels["correct"].fillna(False).to_numpy(dtype=bool)[keep]
    table = result.table[result.table["cluster"].astype(str).isin(set(groups))].reset_index(drop=True)
    names = table["cluster"].astype(str).to_numpy()
    size = np.array([(groups == g).sum() for g in names], dtype=np.int64)
    n = np.array([(scored & (groups == g)).sum() for g in names], dtype=np.int64)
    errors = np.array([(failing & (groups == g)).sum() for g in names], dtype=np.int64)
    settings = result.settings
    confidence, fdr = float(settings.get("confidence", 0.95)), float(settings.get("fdr", 0.05))
    vs = _stats.slice_vs_rest(errors, n, int(failing.sum()), int(scored.sum()), tested=len(names) >= 2,
                              confidence=confidence)
    table = table.assign(size=size, n=n, errors=errors, error_rate=vs.error_rate, ci_low=vs.ci_low,
                         ci_high=vs.ci_high, ci_method=[str(m) for m in vs.ci_method],
                         rest_error_rate=vs.rest_error_rate, difference=vs.difference, p_value=vs.p_value,
                         test=[str(t) for t in vs.test], q_value=vs.q_value,
                         finding=[bool(f) for f in (vs.q_value < fdr) & (vs.difference > 0)])
    for ids_col, texts_col in _LISTS:
        pairs = [[(i, t) for i, t in zip(ids, texts) if str(i) in inside]
                 for ids, texts in zip(table[ids_col], table[texts_col])]
        table[ids_col] = [[i for i, _ in p] for p in pairs]
        table[texts_col] = [[t for _, t in p] for p in pairs]
    table["_q"] = table["q_value"].fillna(2.0)
    table = table.sort_values(["_q", "difference", "size"], ascending=[True, False, False], kind="stable")
    return table.drop(columns="_q").reset_index(drop=True)


__all__ = ["cluster_table", "cohort_ids"]
