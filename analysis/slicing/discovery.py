"""Automatic slice discovery: SliceLine on the store, with intervals, q-values and a held-out check.

SliceLine (Sagadeeva and Boehm, SIGMOD 2021) searches the lattice of attribute-value
conjunctions for slices with a high error and enough support; it scores them but gives no
statistics. Faultline adds them: every discovered slice carries its error rate with an
interval, a test against the rest of the run and a Benjamini-Hochberg q-value across the
discovered slices. Because a search picks the slices that look worst, those q-values are
optimistic; ``holdout=True`` discovers on one random half of the examples and tests on the
other half, so a reported slice is not an artefact of the search. Overlapping findings are
grouped: a slice and its refinements share a ``group``.

No example row is read into Python: SliceLine's lattice is evaluated level by level with one grouping statement
per level (:func:`analysis.sql.slices.grouping_sets_sql` over the candidates' attribute tuples, through
:func:`~analysis.slicing.sliceline.find_slices_from_counts`), the held-out split is an md5 of the example id in SQL,
and the tested half's counts come from one more grouping statement. :func:`encode` still reads the rows (codes per
example) for callers that want the matrix.

References
----------
.. [1] S. Sagadeeva and M. Boehm, "SliceLine: Fast, Linear-Algebra-based Slice Finding for ML
   Model Debugging", SIGMOD 2021, https://doi.org/10.1145/3448016.3457323
.. [2] Y. Benjamini and Y. Hochberg, "Controlling the False Discovery Rate", JRSS B 57(1), 1995.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.formatting import format_count
from analysis.slicing import counts as _counts
from analysis.slicing.attributes import (
    MISSING,
    PreparedAttribute,
    describe_condition,
    prepare_attribute,
    resolve_attributes,
    value_label,
)
from analysis.slicing.cohorts import cohort_filter
from analysis.slicing.grouping import BATCH_ATTRIBUTES
from analysis.slicing.params import check_min_support, support_count
from analysis.slicing.sliceline import Slice, find_slices_from_counts
from analysis.sql import slices as Q
from analysis.store import Store


@dataclass
class Discovery:
    """Discovered slices, best SliceLine score first, with their statistics."""

    table: pd.DataFrame
    """One row per discovered slice; columns as :func:`discover` lists them."""
    run_id: str
    """The run searched."""
    settings: dict = field(default_factory=dict)
    """The parameters used, the attributes searched and where the statistics come from."""

    def to_records(self) -> list[dict]:
        """JSON-ready rows (predicate as attribute/value pairs, NaN as None)."""
        cols = ["predicate", "order", "sliceline_score", "n", "errors", "error_rate", "ci_low", "ci_high", "p_value", "q_value",
                "group", "confirmed"]
        out = []
        for row in self.table[cols].to_dict("records"):
            row["predicate"] = [{"attribute": k, "value": v} for k, v in row["predicate"].items()]
            out.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                            (v.item() if isinstance(v, np.generic) else v)) for k, v in row.items()})
        return out


#: Count discovery's lattice in memory where it can (:func:`_in_memory`); False: every level in SQL (the tests
#: compare both).
IN_MEMORY = True

MSG_HOLDOUT_TOO_FEW = ("The run has {examples}: too few to search one half and confirm on the other; "
                       "turn off the held-out half")


def encode(store: Store, run: str, by: Sequence[str] | None = None, *, bins: int = 5, where: str | None = None):
    """The run as an integer matrix for discovery: one column of codes per attribute ('missing' a code).

    The rows are read as Arrow columns and each attribute's raw values are dictionary-encoded
    (``pyarrow.compute.dictionary_encode``); only its distinct values are labelled (as the slice
    table labels them), and codes number the labels in sorted order (``MISSING`` included).

    Returns
    -------
    codes : ndarray of int32, shape (n, m)
        Example ``i``'s code of attribute ``j`` (scored examples, in source order).
    errors : ndarray of float, shape (n,)
        1.0 for an incorrect example, 0.0 for a correct one.
    labels : list of m lists of str
        ``labels[j][c]`` is the label of code ``c`` of attribute ``j``.
    prepared : list of m PreparedAttribute
        The attributes searched.
    example_ids : ndarray, shape (n,)
        The examples' ids.

    Raises
    ------
    FaultlineError
        With ``holdout``, a run of fewer than two scored examples (:data:`MSG_HOLDOUT_TOO_FEW`).
    FaultlineError
        If the run has no attribute to search.
    """
    codes, errors, labels, prepared, ids = _encode(store, run, by, bins=bins, where=where)
    return codes, errors, labels, prepared, ids


def _encode(store: Store, run: str, by: Sequence[str] | None = None, *, bins: int = 5, where: str | None = None,
            holdout_seed: int | None = None):
    """:func:`encode`; with ``holdout_seed``, the last item is the searched half (bool, shape (n,),
    :func:`analysis.sql.slices.holdout_expr`) instead of the ids."""
    info = store.run(run)
    found = cohort_filter(store.schema(info.run_id), where)
    cohort = None if found is None else found.as_sql
    prepared = _prepared(store, info, by, bins=bins, cohort=cohort)
    sql, params = Q.codes_sql(info.table_name, [p.sql for p in prepared], holdout_seed=holdout_seed, cohort=cohort)
    cur = store.cursor()
    rows = cur.sql(sql, params=params).to_arrow_table()
    codes = np.empty((rows.num_rows, len(prepared)), dtype=np.int32)
    labels = []
    for j, p in enumerate(prepared):
        encoded = pc.dictionary_encode(rows.column(f"a{j}")).combine_chunks()
        raw_codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        # the distinct values as pandas sees them from DuckDB (as the slice table reads them)
        distinct = cur.from_arrow(pa.table({"v": encoded.dictionary})).df()["v"].tolist()
        codes[:, j], names = _factorize(raw_codes, distinct, p)
        labels.append(names)
    errors = rows.column("err").to_numpy().astype(float)
    if holdout_seed is not None:
        return codes, errors, labels, prepared, rows.column("searched").to_numpy(zero_copy_only=False).astype(bool)
    return codes, errors, labels, prepared, rows.column("example_id").to_numpy()


def _prepared(store: Store, info, by: Sequence[str] | None, *, bins: int, cohort) -> list[PreparedAttribute]:
    """The attributes searched (default: those with more than one value); FaultlineError when there is none."""
    attrs = resolve_attributes(store, info.run_id, by)
    if cohort is None:  # the profiles the slice table keeps (one statement for those not profiled before)
        prepared = _counts.prepared_attributes(store, info.table_name, attrs, bins=bins, edges=None)
    else:  # a cohort's bins are its own
        prepared = [prepare_attribute(store, info.table_name, a, bins=bins, edges=None, cohort=cohort) for a in attrs]
    if by is None:
        prepared = [p for p in prepared if not p.constant]
    if not prepared:
        left_out = attrs.left_out_line() if by is None and hasattr(attrs, "left_out_line") else ""
        raise FaultlineError(f"Run {info.name!r} has no attribute to search" + (f". {left_out}" if left_out else ""))
    return prepared


def _factorize(raw_codes: np.ndarray, distinct: list, prepared: PreparedAttribute) -> tuple[np.ndarray, list[str]]:
    """Codes numbering one attribute's labels in sorted order, from codes of its raw values.

    raw_codes: (n,) int, index of each example's raw value in ``distinct`` (-1 for NULL).
    Each distinct value is labelled once (:func:`value_label`, the labels the slice table shows); values
    with the same label share a code; NULL, NaN and NaT are labelled ``MISSING``.

    >>> from analysis.slicing.attributes import Attribute
    >>> lang = PreparedAttribute(Attribute("lang", "lang", "categorical", "metadata"), None, None)
    >>> _factorize(np.array([0, 1, -1, 0, 2]), ["sw", "en", float("nan")], lang)
    (array([2, 1, 0, 2, 0]), ['(missing)', 'en', 'sw'])
    """
    names = [value_label(prepared, v) for v in distinct]
    names.append(MISSING)  # raw code -1 (NULL) reads the last entry
    label_codes, sorted_labels = pd.factorize(pd.Series(names, dtype=object), sort=True)
    used = np.zeros(len(names), dtype=bool)
    used[raw_codes] = True
    if not used.all():  # keep only the labels some example has (MISSING is often unused)
        keep = np.unique(label_codes[used])
        remap = np.full(len(sorted_labels), -1)
        remap[keep] = np.arange(keep.size)
        return remap[label_codes[raw_codes]], [sorted_labels[c] for c in keep.tolist()]
    return label_codes[raw_codes], list(sorted_labels)


class _Cells:
    """Discovery's counts from grouping statements over the run's rows (one per lattice level): the
    :data:`~analysis.slicing.sliceline.CellCounter` of :func:`~analysis.slicing.sliceline.find_slices_from_counts`.

    Codes number each attribute's labels (:func:`value_label`, as the slice table shows them) in sorted order over
    the examples counted, as :func:`encode` numbers them; values sharing a label share a code. ``where`` selects
    the examples (scorable, the cohort, the searched or the tested half).
    """

    def __init__(self, store: Store, table: str, prepared: list[PreparedAttribute], where: str, params: list,
                 memory: _InMemory | None = None):
        self.cur = store.cursor()
        self.table, self.prepared, self.where, self.params = table, prepared, where, list(params)
        self.memory = memory
        """Counts the same examples in memory (:class:`_InMemory`), or None: every level counted in SQL."""
        self.k = len(prepared)
        self.labels: list[list[str]] = []
        self._code: list[dict[str, int]] = []
        singles = self._labelled([(j,) for j in range(self.k)])
        for j in range(self.k):
            ordered = list(pd.factorize(pd.Series(sorted(set(singles[(j,)][0])), dtype=object), sort=True)[1])
            self.labels.append(ordered)
            self._code.append({label: c for c, label in enumerate(ordered)})
        self.singles = singles

    def _labelled(self, tuples: list[tuple[int, ...]]) -> dict[tuple[int, ...], tuple[list, np.ndarray, np.ndarray]]:
        """Per tuple: the labels of its cells (tuples of labels; a single's as labels), sizes, error counts, cells
        with the same labels merged."""
        out = {}
        for chunk in _chunks(tuples, BATCH_ATTRIBUTES):
            # local numbering by first appearance in the sets: Spark's grouping_id takes its columns in that order
            local: dict[int, int] = {}
            for t in chunk:
                for j in t:
                    local.setdefault(j, len(local))
            attrs = list(local)
            sets = [tuple(sorted(local[j] for j in t)) for t in chunk]
            raw = None
            if self.memory is not None:
                try:
                    raw = self.memory(attrs, sets)
                except _counts.NeedsSQL:  # a set of too many cells: this chunk in SQL
                    raw = None
            if raw is None:
                sql, params = Q.grouping_sets_sql(self.table, [self.prepared[j].sql for j in attrs], sets,
                                                  with_scores=False, where=self.where, where_params=self.params)
                raw = self.cur.execute(sql, params).df()
            self._decode(raw, chunk, local, out)
        return out

    def _decode(self, raw: pd.DataFrame, tuples: list[tuple[int, ...]], local: dict[int, int], out: dict) -> None:
        gids = raw["gid"].tolist()
        n = raw["n"].to_numpy(dtype=np.int64)
        errors = raw["errors"].to_numpy(dtype=np.int64)
        values = {j: raw[f"a{i}"].tolist() for j, i in local.items()}
        by_gid: dict[int, list[int]] = {}
        for r, g in enumerate(gids):
            by_gid.setdefault(int(g), []).append(r)
        for t in tuples:
            rows = by_gid.get(Q.grouping_mask(len(local), [local[j] for j in t]), [])
            merged: dict[tuple, list[int]] = {}
            for r in rows:
                key = tuple(value_label(self.prepared[j], values[j][r]) for j in t)
                cell = merged.setdefault(key, [0, 0])
                cell[0] += int(n[r])
                cell[1] += int(errors[r])
            keys = list(merged)
            out[t] = ([key[0] for key in keys] if len(t) == 1 else keys,
                      np.array([merged[key][0] for key in keys], dtype=np.int64),
                      np.array([merged[key][1] for key in keys], dtype=np.int64))

    def __call__(self, tuples):
        found = {t: self.singles[t] for t in tuples if t in self.singles}
        rest = [t for t in tuples if t not in self.singles]
        if rest:
            found.update(self._labelled(rest))
        out = {}
        for t, (keys, n, errors) in found.items():
            keys = [(key,) if len(t) == 1 else key for key in keys]
            codes = np.array([[self._code[j].get(label, -1) for j, label in zip(t, key)] for key in keys],
                             dtype=np.int64).reshape(-1, len(t))
            known = (codes >= 0).all(axis=1)  # a label no counted example has in a single: none here
            out[t] = codes[known], n[known], errors[known]
        return out

    def slice_counts(self, slices: list[Slice], labels: list[list[str]]) -> list[tuple[int, int]]:
        """Size and errors of each slice (predicates on codes of ``labels``) among the examples counted here."""
        tuples = sorted({tuple(f for f, _ in s.predicate) for s in slices})
        counted = self._labelled(tuples) if tuples else {}
        lookup = {}
        for t, (keys, n, errors) in counted.items():
            for key, size, err in zip(keys, n.tolist(), errors.tolist()):
                lookup[(t, (key,) if len(t) == 1 else key)] = (size, err)
        out = []
        for s in slices:
            t = tuple(f for f, _ in s.predicate)
            out.append(lookup.get((t, tuple(labels[f][c] for f, c in s.predicate)), (0, 0)))
        return out


class _InMemory:
    """Discovery's grouping counts of the examples ``selected`` counted in memory: the run's attribute codes kept
    by :mod:`analysis.slicing.counts` (read once per run and data version, and already read when the slice table
    of the same attributes was counted: a report reads its examples once), one :func:`numpy.bincount` per
    grouping set. Returns the frame the grouping statement gives (``a0``.., ``gid``, ``n``, ``errors``) over the
    same examples: the same counts, without a pass over the run per lattice level (at 1M examples, five passes of
    0.6 s CPU each, the held-out split's md5 included)."""

    def __init__(self, load, selected: np.ndarray):
        self.load = load
        self.selected = selected
        """Per scorable example in log order (as the codes are kept): whether it is counted."""

    def __call__(self, attrs: list[int], sets: list[tuple[int, ...]]) -> pd.DataFrame:
        cols, (errors, _scores) = self.load(attrs)
        rows = self.selected
        size = int(rows.sum())
        err = np.asarray(errors, dtype=bool)[rows].astype(np.int64)
        codes = [(c[rows], values) for c, values in cols]
        k = len(attrs)
        frames = []
        for s in sets:
            combined, dims, total = _counts._combine(codes, tuple(s), size)  # raises TooManyCells (NeedsSQL)
            both = np.bincount(combined * 2 + err, minlength=2 * total).reshape(total, 2)
            n = both.sum(axis=1)
            cells = np.flatnonzero(n)
            frame = {f"a{i}": np.full(len(cells), None, dtype=object) for i in range(k)}
            for i, idx in zip(s, np.unravel_index(cells, dims)):
                values = np.empty(len(codes[i][1]), dtype=object)
                values[:] = codes[i][1]
                frame[f"a{i}"] = values[idx]
            frame["gid"] = np.full(len(cells), Q.grouping_mask(k, list(s)), dtype=np.int64)
            frame["n"] = n[cells].astype(np.int64)
            frame["errors"] = both[cells, 1].astype(np.int64)
            frames.append(pd.DataFrame(frame))
        return pd.concat(frames, ignore_index=True)


def _in_memory(store: Store, info, prepared: list[PreparedAttribute], *, holdout: bool,
               seed: int) -> tuple[_InMemory | None, _InMemory | None]:
    """The in-memory counters of the searched and the tested examples (:class:`_InMemory`), or (None, None)
    where discovery counts in SQL: another engine than DuckDB, timestamps, a run above
    :data:`analysis.slicing.counts.IN_MEMORY_MAX_ROWS`. Without a cohort only (the caller's check)."""
    if (getattr(store, "engine", "duckdb") != "duckdb" or any(p.attribute.kind == "timestamp" for p in prepared)
            or info.row_count > _counts.IN_MEMORY_MAX_ROWS):
        return None, None
    load = _counts._column_loader(store, info.table_name, prepared, _counts.store_cache(store))
    _, (errors, _scores) = load([])
    if not holdout:
        return _InMemory(load, np.ones(len(errors), dtype=bool)), None
    sql, params = Q.holdout_in_order_sql(info.table_name, seed)
    split = store.cursor().sql(sql, params=params).to_arrow_table().column("searched")
    searched = pc.fill_null(split, False).to_numpy(zero_copy_only=False).astype(bool)
    tested = pc.fill_null(pc.invert(split), False).to_numpy(zero_copy_only=False).astype(bool)
    return _InMemory(load, searched), _InMemory(load, tested)


def _chunks(tuples: list[tuple[int, ...]], size: int) -> list[list[tuple[int, ...]]]:
    """The tuples in order, cut so that no chunk groups on more than ``size`` attributes (one statement each).

    >>> _chunks([(0, 1), (0, 2), (3, 4), (5,)], 3)
    [[(0, 1), (0, 2)], [(3, 4), (5,)]]
    """
    out: list[list[tuple[int, ...]]] = []
    used: set[int] = set()
    for t in tuples:
        if out and len(used | set(t)) <= size:
            out[-1].append(t)
            used |= set(t)
        else:
            out.append([t])
            used = set(t)
    return out


def discover(store: Store, run: str, by: Sequence[str] | None = None, *, error_weight: float = 0.99, k: int = 10,
             max_order: int = 3, min_support: int | float = 0.01, holdout: bool = False, seed: int = 0,
             confidence: float = 0.95, fdr: float = 0.05, bins: int = 5, where: str | None = None) -> Discovery:
    """Find the top-k problematic slices of a run with SliceLine, each with interval and q-value.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run id or name.
    by : sequence of str, optional
        Attributes to search (default: every attribute of the run with more than one value).
        Numbers with many values are binned into ``bins`` quantile bins; a missing value is a
        category of its own.
    error_weight : float, default 0.99
        SliceLine's ``alpha`` [1]_, in (0, 1]: weight of a slice's error rate against its size in
        the score (1.0 ignores the size).
    k : int, default 10
        Number of slices (>= 1); slices tying with the k-th score are returned too.
    max_order : int, default 3
        Most conditions per slice (>= 1).
    min_support : int or float, default 0.01
        Least examples per slice: a count (an integer >= 1) or a fraction of the examples
        searched (in (0, 1); ``int(min_support * n)``, at least 1). With ``holdout`` the examples
        searched are one half.
    holdout : bool, default False
        Search a random half of the examples (drawn with ``seed``) and compute every statistic on
        the other half, so that q-values are not optimistic after the search.
    seed : int, default 0
        Seed of the split: an example is searched when the md5 of ``"<seed>:<example_id>"`` starts with a
        hex digit below 8 (computed in SQL: half the examples in expectation, the same split in any row
        order and on any engine).
    confidence : float, default 0.95
        Level of the error-rate intervals, in (0, 1).
    fdr : float, default 0.05
        False discovery rate, in (0, 1), at which a slice is ``confirmed`` (Benjamini-Hochberg
        q-value below it [2]_, and an error rate above the rest's).
    bins : int, default 5
        Quantile bins for numeric attributes.
    where : str, optional
        A cohort (:mod:`analysis.slicing.cohorts`): only its examples are searched and tested.

    Returns
    -------
    Discovery
        ``.table`` has one row per slice, best ``sliceline_score`` first: ``predicate`` (dict
        attribute -> value label), ``description``, ``order`` (number of conditions),
        ``sliceline_score`` (SliceLine's score on the examples searched; > 0), ``search_n`` and
        ``search_error_sum`` (the slice's examples and errors among those searched), ``n`` and
        ``errors`` (among the examples tested: all, or the other half with ``holdout``),
        ``error_rate`` and ``rest_error_rate`` (fractions in [0, 1]), ``ci_low``, ``ci_high``,
        ``ci_method`` (Wilson or Clopper-Pearson), ``p_value``, ``test`` (fisher / z, slice
        against the rest), ``q_value`` (Benjamini-Hochberg over the discovered slices),
        ``confirmed`` and ``group`` (a slice and its refinements share a group, numbered from 1).
        ``.settings`` records the parameters, ``min_support_rows`` and the attributes searched.

    Raises
    ------
    FaultlineError
        If the run is unknown, has no attribute to search or no scored example.
    analysis.slicing.params.ParameterError
        If ``min_support`` is invalid.
    ValueError
        If ``error_weight``, ``k`` or ``max_order`` is out of range (texts in
        :mod:`analysis.slicing.sliceline`).

    References
    ----------
    .. [1] S. Sagadeeva and M. Boehm, "SliceLine: Fast, Linear-Algebra-based Slice Finding for
       ML Model Debugging", SIGMOD 2021, https://doi.org/10.1145/3448016.3457323
    .. [2] Y. Benjamini and Y. Hochberg, "Controlling the False Discovery Rate", JRSS B 57(1), 1995.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/d.duckdb")
    >>> df = pd.DataFrame({"prompt": ["q"] * 400, "lang": ["en", "sw"] * 200, "ch": ["web"] * 200 + ["api"] * 200,
    ...                    "correct": [True] * 200 + [True, False] * 100})
    >>> _ = s.ingest_frame(df, name="r")
    >>> d = discover(s, "r", ["lang", "ch"], k=1, min_support=10)
    >>> d.table[["description", "n", "error_rate"]].to_dict("records")
    [{'description': 'lang = sw AND ch = api', 'n': 100, 'error_rate': 1.0}]
    """
    check_min_support(min_support)
    info = store.run(run)
    found_cohort = cohort_filter(store.schema(info.run_id), where)
    cohort = None if found_cohort is None else found_cohort.as_sql
    prepared = _prepared(store, info, by, bins=bins, cohort=cohort)
    scored, scored_params = Q.and_cohort("NOT unscorable", cohort)
    cur = store.cursor()
    n = int(cur.execute(*Q.count_where_sql(info.table_name, scored, scored_params)).fetchall()[0][0])
    if n == 0:
        raise FaultlineError("The run has no scored examples to search")
    if holdout:
        half = [str(int(seed))]
        search_where, search_params = f"{scored} AND {Q.holdout_expr()}", scored_params + half
        test_where, test_params = f"{scored} AND NOT {Q.holdout_expr()}", scored_params + half
        n_search = int(cur.execute(*Q.count_where_sql(info.table_name, search_where, search_params)).fetchall()[0][0])
        if n < 2 or n_search in (0, n):
            raise FaultlineError(MSG_HOLDOUT_TOO_FEW.format(examples=format_count(n, "scored example")))
    else:
        search_where, search_params, n_search = scored, scored_params, n
    # every lattice level counted by a grouping statement where the rows are, or (no cohort, DuckDB) in memory
    # from the attribute codes the slice table keeps
    memory_search, memory_tested = (_in_memory(store, info, prepared, holdout=holdout, seed=seed)
                                    if cohort is None and IN_MEMORY else (None, None))
    search = _Cells(store, info.table_name, prepared, search_where, search_params, memory_search)
    search_errors = int(sum(search.singles[(0,)][2]))
    min_support_rows = support_count(min_support, n_search)
    found = find_slices_from_counts(search, n=n_search, error_sum=search_errors, n_features=len(prepared),
                                    error_weight=error_weight, k=k, max_order=max_order, min_support=min_support_rows)
    labels = search.labels
    if holdout:
        tested = _Cells(store, info.table_name, prepared, test_where, test_params, memory_tested)
        total_n, total_e = n - n_search, int(sum(tested.singles[(0,)][2]))
        counts = tested.slice_counts(found, labels)
    else:
        total_n, total_e = n_search, search_errors
        counts = [(s.size, int(round(s.error_sum))) for s in found]
    rows = []
    for s, (size, errors) in zip(found, counts):
        pred = {prepared[f].attribute.name: labels[f][c] for f, c in s.predicate}
        words = [describe_condition(prepared[f].attribute.name, labels[f][c], binned=prepared[f].labels is not None)
                 for f, c in s.predicate]
        rows.append({"predicate": pred, "description": " AND ".join(words), "order": len(s.predicate),
                     "sliceline_score": s.score, "search_n": s.size, "search_error_sum": s.error_sum,
                     "n": int(size), "errors": int(errors)})
    table = pd.DataFrame(rows, columns=["predicate", "description", "order", "sliceline_score", "search_n",
                                        "search_error_sum", "n", "errors"])
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
        table["group"] = _groups(table["predicate"].tolist(), table["sliceline_score"].tolist())
    else:
        for col in ("error_rate", "rest_error_rate", "ci_low", "ci_high", "ci_method", "p_value", "test", "q_value",
                    "confirmed", "group"):
            table[col] = pd.Series(dtype=float)
    settings = {"error_weight": error_weight, "k": k, "max_order": max_order, "min_support": min_support,
                "min_support_rows": int(min_support_rows),
                "holdout": holdout, "seed": seed, "confidence": confidence, "fdr": fdr, "bins": bins,
                "attributes": [p.attribute.name for p in prepared],
                "statistics_on": "held-out half" if holdout else "all examples (q-values optimistic after a search)",
                "algorithm": "SliceLine (Sagadeeva and Boehm, SIGMOD 2021), exact lattice enumeration with pruning"}
    if where is not None and str(where).strip():
        settings["where"] = str(where)
    return Discovery(table, info.run_id, settings)


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
