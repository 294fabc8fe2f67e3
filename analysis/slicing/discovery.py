"""Automatic slice discovery: SliceLine on the store, with intervals, q-values and a held-out check.

SliceLine (Sagadeeva and Boehm, SIGMOD 2021) searches the lattice of attribute-value
conjunctions for slices with a high error and enough support; it scores them but gives no
statistics. Faultline adds them: every discovered slice carries its error rate with an
interval, a test against the rest of the run and a Benjamini-Hochberg q-value across the
discovered slices. Because a search picks the slices that look worst, those q-values are
optimistic; ``holdout=True`` discovers on one random half of the examples and tests on the
other half, so a reported slice is not an artefact of the search. Overlapping findings are
grouped: a slice and its refinements share a ``group``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.slicing.sliceline import find_slices
from analysis.slicing.table import MISSING, _is_constant, _label, _prepare, describe_condition, resolve_attributes
from analysis.store import Store
from analysis.store.sql import slices as Q


@dataclass
class Discovery:
    """Discovered slices, best SliceLine score first, with their statistics."""

    table: pd.DataFrame
    run_id: str
    settings: dict = field(default_factory=dict)

    def to_records(self) -> list[dict]:
        cols = ["predicate", "order", "score", "n", "errors", "error_rate", "ci_low", "ci_high", "p_value", "q_value",
                "group", "confirmed"]
        out = []
        for row in self.table[cols].to_dict("records"):
            row["predicate"] = [{"attribute": k, "value": v} for k, v in row["predicate"].items()]
            out.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                            (v.item() if isinstance(v, np.generic) else v)) for k, v in row.items()})
        return out


def encode(store: Store, run: str, by: Sequence[str] | None = None, *, bins: int = 5):
    """The run as an integer matrix for discovery: one column of codes per attribute ('missing' a code).

    Returns (codes (n, m) int32, errors (n,) float, labels: list of per-attribute code -> label,
    attributes, binned flags, example ids).
    """
    info = store.run(run)
    attrs = resolve_attributes(store, info.run_id, by)
    prepared = [_prepare(store, info.table_name, a, bins=bins, edges=None) for a in attrs]
    if by is None:
        prepared = [p for p in prepared if not _is_constant(store, info.table_name, p)]
    if not prepared:
        raise FaultlineError(f"Run {info.name!r} has no attribute to search")
    sql, params = Q.codes_sql(info.table_name, [p.sql for p in prepared])
    frame = store.cursor().execute(sql, params).df()
    codes = np.empty((len(frame), len(prepared)), dtype=np.int32)
    labels = []
    for j, p in enumerate(prepared):
        column = frame[f"a{j}"]
        text = [_label(p, v) for v in column.tolist()]
        code, uniques = pd.factorize(pd.Series(text, dtype=object), sort=True)
        codes[:, j] = code
        labels.append(list(uniques))
    errors = frame["err"].to_numpy(dtype=float)
    return codes, errors, labels, prepared, frame["example_id"].to_numpy()


def discover(store: Store, run: str, by: Sequence[str] | None = None, *, alpha: float = 0.99, k: int = 10,
             max_l: int = 3, min_sup: int | float = 0.01, holdout: bool = False, seed: int = 0,
             confidence: float = 0.95, fdr: float = 0.05, bins: int = 5) -> Discovery:
    """Find the top-k problematic slices of a run with SliceLine, each with interval and q-value.

    ``min_sup``: least examples per slice (an int) or a fraction of the examples (a float < 1).
    ``holdout``: discover on a random half (``seed``), compute every statistic on the other half.

    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/d.duckdb")
    >>> df = pd.DataFrame({"prompt": ["q"] * 400, "lang": ["en", "sw"] * 200, "ch": ["web"] * 200 + ["api"] * 200,
    ...                    "correct": [True] * 200 + [True, False] * 100})
    >>> _ = s.ingest_frame(df, name="r")
    >>> d = discover(s, "r", k=1, min_sup=10)
    >>> d.table[["description", "n", "error_rate"]].to_dict("records")
    [{'description': 'lang = sw AND ch = api', 'n': 100, 'error_rate': 1.0}]
    """
    codes, errors, labels, prepared, _ids = encode(store, run, by, bins=bins)
    n = len(errors)
    if n == 0:
        raise FaultlineError("The run has no scored examples to search")
    search = np.ones(n, dtype=bool)
    if holdout:
        rng = np.random.default_rng(seed)
        search = np.zeros(n, dtype=bool)
        search[rng.permutation(n)[: n // 2]] = True
    test = ~search if holdout else search
    min_sup_rows = int(min_sup * search.sum()) if isinstance(min_sup, float) and min_sup < 1 else min_sup
    found = find_slices(codes[search], errors[search], alpha=alpha, k=k, max_l=max_l, min_sup=min_sup_rows,
                        exact_ids=True)
    rows = []
    test_codes, test_errors = codes[test], errors[test]
    total_n, total_e = int(test.sum()), float(test_errors.sum())
    for s in found:
        mask = np.ones(total_n, dtype=bool)
        for feature, code in s.predicate:
            mask &= test_codes[:, feature] == code
        pred = {prepared[f].attribute.name: labels[f][c] for f, c in s.predicate}
        words = [describe_condition(prepared[f].attribute.name, labels[f][c], binned=prepared[f].labels is not None)
                 for f, c in s.predicate]
        rows.append({"predicate": pred, "description": " AND ".join(words), "order": len(s.predicate),
                     "score": s.score, "search_n": s.size, "search_error_sum": s.error_sum,
                     "n": int(mask.sum()), "errors": int(round(float(test_errors[mask].sum())))})
    table = pd.DataFrame(rows, columns=["predicate", "description", "order", "score", "search_n", "search_error_sum",
                                        "n", "errors"])
    if not table.empty:
        ns = table["n"].to_numpy(dtype=np.int64)
        es = table["errors"].to_numpy(dtype=np.int64)
        low, high, method = _stats.rate_interval(es, ns, confidence=confidence)
        p, test_name = _stats.two_proportion_test(es, ns, int(round(total_e)) - es, total_n - ns)
        q = _stats.benjamini_hochberg(p)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["error_rate"] = es / ns
            table["rest_error_rate"] = (total_e - es) / (total_n - ns)
        table["ci_low"], table["ci_high"], table["ci_method"] = low, high, method
        table["p_value"], table["test"], table["q_value"] = p, test_name, q
        table["confirmed"] = (q < fdr) & (table["error_rate"] > table["rest_error_rate"])
        table["group"] = _groups(table["predicate"].tolist(), table["score"].tolist())
    else:
        for col in ("error_rate", "rest_error_rate", "ci_low", "ci_high", "ci_method", "p_value", "test", "q_value",
                    "confirmed", "group"):
            table[col] = pd.Series(dtype=float)
    settings = {"alpha": alpha, "k": k, "max_l": max_l, "min_sup": min_sup, "min_sup_rows": int(min_sup_rows),
                "holdout": holdout, "seed": seed, "confidence": confidence, "fdr": fdr, "bins": bins,
                "attributes": [p.attribute.name for p in prepared],
                "statistics_on": "held-out half" if holdout else "all examples (q-values optimistic after a search)",
                "algorithm": "SliceLine (Sagadeeva and Boehm, SIGMOD 2021), exact lattice enumeration with pruning"}
    return Discovery(table, store.run(run).run_id, settings)


def _groups(predicates: list[dict], scores: Sequence[float] | None = None) -> list[int]:
    """Group overlapping findings: a refinement joins the group of its best-scoring discovered parent.

    Coarse slices are placed first; a slice with no discovered parent starts its own group.

    >>> _groups([{"a": 1, "b": 2}, {"a": 1}, {"c": 3}, {"b": 2}], [3.0, 2.0, 1.0, 0.5])
    [1, 1, 2, 3]
    """
    scores = list(scores) if scores is not None else [0.0] * len(predicates)
    order = sorted(range(len(predicates)), key=lambda i: (len(predicates[i]), -scores[i]))
    group_of: dict[int, int] = {}
    for i in order:
        items = set(predicates[i].items())
        parents = [j for j in group_of if set(predicates[j].items()) < items]
        if parents:
            group_of[i] = group_of[max(parents, key=lambda j: scores[j])]
        else:
            group_of[i] = i
    # number groups in the order their best member appears (best score first)
    ranked = sorted(range(len(predicates)), key=lambda i: -scores[i])
    numbers: dict[int, int] = {}
    for i in ranked:
        numbers.setdefault(group_of[i], len(numbers) + 1)
    return [numbers[group_of[i]] for i in range(len(predicates))]


__all__ = ["Discovery", "discover", "encode", "MISSING"]
