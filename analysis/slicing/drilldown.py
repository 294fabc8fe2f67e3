"""The compare drill-down: per slice, which examples regressed, were fixed, stayed wrong or stayed right; on a graded
outcome (a stored score), whose score fell, rose or stayed the same.

Examples are paired on example id between a baseline and a candidate (both scorable), as
:func:`~analysis.slicing.compare.compare_runs` pairs them; the slice is read on the baseline's attributes, with the
same bins (the cohort's, with ``where``). So the counts of ``regressed`` and ``fixed`` are the comparison row's
``b`` and ``c``; on a graded outcome the pairs are those with both scores, as
:func:`~analysis.slicing.compare.compare_scores` pairs them (their count is the row's ``n``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import pandas as pd

from analysis.errors import FaultlineError
from analysis.slicing.attributes import label_to_raw, prepare_attributes, resolve_attributes
from analysis.slicing.cohorts import cohort_filter
from analysis.sql import example as X
from analysis.sql import slices as Q
from analysis.store import Store

Verdict = Literal["regressed", "fixed", "still_wrong", "still_right", "score_fell", "score_rose", "score_same"]
#: Every verdict of a pair by correctness, in the order the drill-down lists them.
VERDICTS: tuple[str, ...] = ("regressed", "fixed", "still_wrong", "still_right")
#: Every verdict of a pair by a graded score (candidate's against baseline's), in the order the drill-down lists them.
GRADED_VERDICTS: tuple[str, ...] = ("score_fell", "score_rose", "score_same")
MSG_VERDICT = "Unknown verdict {verdict!r}; verdicts: {known}"
MSG_SAME_RUN = "Compare two different runs (both are {run!r})"


def _slice_where(store: Store, schema, predicate: Mapping, *, bins: int, edges, cohort) -> tuple[str, list]:
    if not predicate:
        return "true", []
    attrs = resolve_attributes(store, schema, list(predicate))
    prepared = prepare_attributes(store, schema.table_name, attrs, bins=bins, edges=edges, cohort=cohort)
    raw = []
    for p in prepared:
        label = predicate[p.attribute.name] if p.attribute.name in predicate else predicate[p.attribute.column]
        raw.append(label_to_raw(store, schema.table_name, p, label))
    return Q.predicate_where([p.sql for p in prepared], raw)


def _check(store: Store, baseline: str, candidate: str, verdicts, outcome: str | None):
    """The two runs' schemas and the stored column of ``outcome`` (None: correctness), the verdicts checked."""
    from analysis.slicing.compare import paired_score_column

    base, cand = store.schema(baseline), store.schema(candidate)
    if base.run_id == cand.run_id:
        raise FaultlineError(MSG_SAME_RUN.format(run=base.name))
    column = None if outcome is None else paired_score_column(store, store.run(base.run_id),
                                                              store.run(cand.run_id), outcome)
    known = VERDICTS if column is None else GRADED_VERDICTS
    for v in verdicts or ():
        if v not in known:
            raise FaultlineError(MSG_VERDICT.format(verdict=v, known=", ".join(known)))
    return base, cand, column


def comparison_examples(store: Store, baseline: str, candidate: str, predicate: Mapping | None = None, *,
                        verdicts: Sequence[Verdict] | None = None, where: str | None = None, bins: int = 5,
                        edges: Mapping[str, Sequence[float]] | None = None, limit: int | None = 500,
                        outcome: str | None = None) -> pd.DataFrame:
    """The paired examples of one slice of a comparison, with both outputs and scores and each pair's verdict.

    Parameters
    ----------
    store : Store
        The store holding both runs.
    baseline, candidate : str
        Run names or ids (two different runs).
    predicate : mapping of str to str, optional
        The slice, as the comparison table names it (attribute of the baseline -> value label); None or ``{}``
        for every pair.
    verdicts : sequence of str, optional
        Only pairs with these verdicts (default all): of :data:`VERDICTS`, or of :data:`GRADED_VERDICTS` with
        ``outcome``.
    where : str, optional
        The cohort the comparison ran on (read on the baseline; its bins are the cohort's).
    bins : int, default 5
        Quantile bins of numeric attributes, as given to the comparison.
    edges : mapping of str to sequence of float, optional
        Bin edges of numeric attributes, as given to the analysis.
    limit : int or None, default 500
        Most pairs returned; None for all.
    outcome : str, optional
        A graded outcome (a numeric score both runs store, as
        :func:`~analysis.slicing.compare.compare_scores` takes it): the verdicts are by that score; default
        correctness.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``example_id``, ``input``, ``reference``, ``base_output``, ``cand_output``,
        ``base_score``, ``cand_score``, ``base_correct``, ``cand_correct`` and ``verdict``. By correctness:
        regressions first, then fixes, then the pairs still wrong, then those still right, each in the baseline's
        log order (``regressed``: right in the baseline, wrong in the candidate; ``fixed``: the reverse;
        ``still_wrong``; ``still_right``); the scores are the runs' ``score``. By a graded ``outcome``: the pairs
        with both scores, the scores that outcome's, ``score_fell`` (the candidate's lower) largest fall first,
        then ``score_rose`` largest rise first, then ``score_same``.

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        The same run twice (:data:`MSG_SAME_RUN`), an unknown verdict (:data:`MSG_VERDICT`), an ``outcome`` that is
        not a numeric score of both runs (:data:`analysis.slicing.compare.MSG_NO_SCORE`), an attribute the
        baseline does not have, or a label that is none of its values or bins.
    PredicateError
        A ``where`` that does not fit the baseline.

    Examples
    --------
    >>> import tempfile
    >>> s = Store(tempfile.mkdtemp() + "/d.duckdb")
    >>> ids = ["a", "b", "c", "d"]
    >>> _ = s.ingest_frame(pd.DataFrame({"id": ids, "prompt": ids, "lang": ["sw", "sw", "en", "sw"],
    ...                                  "correct": [True, False, True, True]}), name="v1")
    >>> _ = s.ingest_frame(pd.DataFrame({"id": ids, "prompt": ids, "lang": ["sw", "sw", "en", "sw"],
    ...                                  "correct": [False, True, False, True]}), name="v2")
    >>> comparison_examples(s, "v1", "v2", {"lang": "sw"})[["example_id", "verdict"]].to_dict("records")
    [{'example_id': 'a', 'verdict': 'regressed'}, {'example_id': 'b', 'verdict': 'fixed'}, {'example_id': 'd', 'verdict': 'still_right'}]
    """
    base, cand, column = _check(store, baseline, candidate, verdicts, outcome)
    found = cohort_filter(base, where)
    cohort = None if found is None else found.as_sql
    slice_sql, slice_params = _slice_where(store, base, predicate or {}, bins=bins, edges=edges, cohort=cohort)
    sql, params = X.paired_examples_sql(base.table_name, cand.table_name, slice_sql, slice_params, cohort,
                                        verdicts=list(verdicts) if verdicts else None, limit=limit, score=column)
    return store.cursor().execute(sql, params).df()


def verdict_counts(store: Store, baseline: str, candidate: str, predicate: Mapping | None = None, *,
                   where: str | None = None, bins: int = 5,
                   edges: Mapping[str, Sequence[float]] | None = None, outcome: str | None = None) -> dict[str, int]:
    """How many pairs of one slice have each verdict, by correctness or by a graded outcome.

    By correctness: how many regressed, were fixed, stayed wrong and stayed right; by a graded ``outcome``: how many
    saw their score fall, rise or stay the same.

    Parameters
    ----------
    store : Store
        The store holding both runs.
    baseline, candidate : str
        Run names or ids.
    predicate : mapping of str to str, optional
        The slice (None or ``{}`` for every pair).
    where : str, optional
        The cohort (read on the baseline).
    bins : int, default 5
        Quantile bins of numeric attributes.
    edges : mapping of str to sequence of float, optional
        Bin edges of numeric attributes.
    outcome : str, optional
        A graded outcome, as :func:`comparison_examples` takes it; default correctness.

    Returns
    -------
    dict of str to int
        Every verdict of :data:`VERDICTS` (of :data:`GRADED_VERDICTS` with ``outcome``) -> its count of pairs (0
        when none); ``regressed`` and ``fixed`` equal the comparison row's ``b`` and ``c``; the graded counts add
        up to the graded row's ``n``.

    Raises
    ------
    RunNotFoundError, FaultlineError, PredicateError
        As :func:`comparison_examples`.
    """
    base, cand, column = _check(store, baseline, candidate, None, outcome)
    found = cohort_filter(base, where)
    cohort = None if found is None else found.as_sql
    slice_sql, slice_params = _slice_where(store, base, predicate or {}, bins=bins, edges=edges, cohort=cohort)
    rows = store.cursor().execute(*X.verdict_counts_sql(base.table_name, cand.table_name, slice_sql, slice_params,
                                                        cohort, score=column)).fetchall()
    counts = dict.fromkeys(VERDICTS if column is None else GRADED_VERDICTS, 0)
    counts.update({str(v): int(n) for v, n in rows})
    return counts


__all__ = ["GRADED_VERDICTS", "VERDICTS", "comparison_examples", "verdict_counts"]
