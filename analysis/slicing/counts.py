"""Counts per slice kept per grouping set, so that a new analysis counts only the sets it has not seen.

An analysis of a run counts its examples per grouping set (one attribute, a pair, a triple) in
one GROUPING SETS statement. The counts of a set do not depend on which other sets are asked
for: dropping an attribute, going back from triples to pairs or drawing a heatmap of two
attributes already counted needs no pass over the examples. This module keeps them, per store
(held weakly), keyed on the store's data version, the run's table, each attribute's SQL (with its
bins) and whether scores are aggregated, and keeps the attribute profiles of
:func:`~analysis.slicing.attributes.prepare_attributes` the same way. Only counts live here: the
statistics (intervals, tests, q-values over the sets of one analysis) are computed afresh each
time, so every number is the one a single statement would give.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analysis.slicing.attributes import (
    DEFAULT_BINS,
    Attribute,
    PreparedAttribute,
    chosen_profiles,
    prepare_attributes,
)
from analysis.sql import features as F
from analysis.sql import slices as Q
from analysis.store import Store

#: Most grouping sets kept per store (the least recently used go first).
MAX_SETS = 20_000
#: Most attribute profiles kept per store.
MAX_PROFILES = 2_000

_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


class _StoreCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: int | None = None
        self.sets: OrderedDict = OrderedDict()
        self.profiles: OrderedDict = OrderedDict()
        self.columns: OrderedDict = OrderedDict()
        """(table, attribute key) -> (codes, values); (table, None) -> (errors, scores): for counting in memory."""
        self.computing: dict[str, threading.Lock] = {}
        """One lock per run table: two analyses of a run count one after the other, the second from the cache."""

    def compute_lock(self, table: str) -> threading.Lock:
        with self.lock:
            return self.computing.setdefault(table, threading.Lock())

    def at_version(self, version: int) -> _StoreCache:
        with self.lock:
            if self.version != version:  # anything written: nothing kept is trusted
                self.version = version
                self.sets.clear()
                self.profiles.clear()
                self.columns.clear()
        return self


def store_cache(store: Store) -> _StoreCache:
    """What is kept for ``store`` at its current data version (one query for the version): pass it as
    ``cache=`` to the functions of this module for one analysis."""
    return _cache(store)


def _cache(store: Store) -> _StoreCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = _StoreCache()
    return cache.at_version(store.data_version())


def clear(store: Store) -> None:
    """Forget every count and profile kept for ``store``."""
    with _CACHES_LOCK:
        _CACHES.pop(store, None)


def _attr_key(p: PreparedAttribute) -> tuple:
    return (p.attribute.name, p.sql.expr, tuple(map(repr, p.sql.params)))


def prepared_attributes(store: Store, table: str, attrs: Sequence[Attribute], *, bins: int,
                        edges: dict[str, Sequence[float]] | None,
                        cache: _StoreCache | None = None) -> list[PreparedAttribute]:
    """:func:`~analysis.slicing.attributes.prepare_attributes`, profiling only the attributes not seen
    before in this run at this data version (with these bins and edges): profiled by an analysis before, or by
    the run's attribute choice (:func:`~analysis.slicing.attributes.chosen_profiles`: default bins, no edges)."""
    cache = cache or _cache(store)

    def key(attr: Attribute) -> tuple:
        given = (edges or {}).get(attr.name)
        return (table, attr, bins, None if given is None else tuple(float(e) for e in given))

    with cache.lock:
        known = {i: cache.profiles[key(a)] for i, a in enumerate(attrs) if key(a) in cache.profiles}
        for i in known:
            cache.profiles.move_to_end(key(attrs[i]))
    if bins == DEFAULT_BINS and len(known) < len(attrs):
        chosen = chosen_profiles(store, table, version=cache.version)
        found = {i: chosen[a] for i, a in enumerate(attrs)
                 if i not in known and a in chosen and (edges or {}).get(a.name) is None}
        with cache.lock:
            for i, prepared in found.items():
                cache.profiles[key(attrs[i])] = prepared
        known.update(found)
    missing = [a for i, a in enumerate(attrs) if i not in known]
    fresh = prepare_attributes(store, table, missing, bins=bins, edges=edges) if missing else []
    with cache.lock:
        for attr, prepared in zip(missing, fresh):
            cache.profiles[key(attr)] = prepared
        while len(cache.profiles) > MAX_PROFILES:
            cache.profiles.popitem(last=False)
    by_missing = iter(fresh)
    return [known[i] if i in known else next(by_missing) for i in range(len(attrs))]


def counts(store: Store, table: str, prepared: Sequence[PreparedAttribute], sets: Sequence[tuple[int, ...]], *,
           graded: bool, compute: Callable[[list[int], list[tuple[int, ...]]], pd.DataFrame],
           cache: _StoreCache | None = None) -> pd.DataFrame:
    """The GROUPING SETS counts of ``sets`` over ``prepared``, in the shape one statement gives
    (``a0`` .. ``a<k-1>``, ``gid``, ``n``, ``errors``, ``score_sum``, ``score_n``).

    Sets counted before (same run, data version, attribute SQL and ``graded``) are taken from the
    cache. ``compute(used, local_sets)`` counts the others in one go: ``used`` the indices of the
    attributes they involve, ``local_sets`` the sets in positions of ``used``; it returns that
    shape over ``len(used)`` attributes.
    """
    k = len(prepared)
    keys = [_attr_key(p) for p in prepared]
    cache = cache or _cache(store)

    def set_key(s: tuple[int, ...]) -> tuple:
        return (table, graded, tuple(keys[i] for i in s))

    def lookup() -> tuple[dict, list]:
        with cache.lock:
            hit = {s: cache.sets[set_key(s)] for s in sets if set_key(s) in cache.sets}
            for s in hit:
                cache.sets.move_to_end(set_key(s))
        return hit, [s for s in dict.fromkeys(sets) if s not in hit]

    found, missing = lookup()
    if missing:
        with cache.compute_lock(table):  # another thread may be counting these sets right now
            found, missing = lookup()
            if missing:
                found.update(_count_missing(cache, missing, set_key, compute))
    return _assemble(k, sets, found)


def _count_missing(cache: _StoreCache, missing: list, set_key, compute) -> dict:
    new = {}
    if missing:
        used = sorted({i for s in missing for i in s})
        local = {g: j for j, g in enumerate(used)}
        local_sets = [tuple(local[i] for i in s) for s in missing]
        raw = compute(used, local_sets)
        if isinstance(raw, dict):  # counted in memory: already one piece per set
            new = {s: raw[ls] for s, ls in zip(missing, local_sets)}
        else:
            gid = np.array([int(g) for g in raw["gid"]], dtype=object)
            for s, ls in zip(missing, local_sets):
                new[s] = _piece(raw[gid == Q.grouping_mask(len(used), list(ls))], ls)
        with cache.lock:
            for s, piece in new.items():
                cache.sets[set_key(s)] = piece
            while len(cache.sets) > MAX_SETS:
                cache.sets.popitem(last=False)
    return new


_STAT_COLUMNS = ["n", "errors", "score_sum", "score_n"]


def _piece(rows: pd.DataFrame, local_set: tuple[int, ...]) -> dict:
    """The rows of one set: its attributes' values (in the set's order, object arrays) and the counts."""
    return {"values": [rows[f"a{i}"].to_numpy(dtype=object) for i in local_set],
            **{c: rows[c].to_numpy() for c in _STAT_COLUMNS}}


def _assemble(k: int, sets: Sequence[tuple[int, ...]], pieces: dict) -> pd.DataFrame:
    """One frame in the shape of a GROUPING SETS statement over ``k`` attributes, from the pieces of ``sets``."""
    sizes = [len(pieces[s]["n"]) for s in sets]
    total = sum(sizes)
    cols: dict = {f"a{i}": np.full(total, None, dtype=object) for i in range(k)}
    gid = np.empty(total, dtype=np.int64 if k < 63 else object)
    stats = {c: [] for c in _STAT_COLUMNS}
    start = 0
    for s, size in zip(sets, sizes):
        piece = pieces[s]
        for i, values in zip(s, piece["values"]):
            cols[f"a{i}"][start:start + size] = values
        gid[start:start + size] = Q.grouping_mask(k, list(s))
        for c in _STAT_COLUMNS:
            stats[c].append(piece[c])
        start += size
    cols["gid"] = gid
    for c, parts in stats.items():
        cols[c] = np.concatenate(parts) if parts else np.array([], dtype=np.float64 if c == "score_sum" else np.int64)
    return pd.DataFrame(cols)


#: Most attribute columns kept in memory per store (each one small integer per example).
MAX_COLUMNS = 256
#: Most cells of one grouping set counted in memory (the product of its attributes' value counts).
MAX_CELLS = 20_000_000


def _codes(values) -> tuple[np.ndarray, list]:
    """Dictionary codes of an Arrow column: (codes, values), a missing value last as None."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(values.combine_chunks() if hasattr(values, "combine_chunks") else values)
    dictionary = encoded.dictionary.to_pylist()
    missing = len(dictionary)
    indices = encoded.indices.fill_null(missing).to_numpy(zero_copy_only=False)
    width = np.int16 if missing < 32_000 else np.int32
    return indices.astype(width, copy=False), [*dictionary, None]


#: Runs above this many examples are counted in SQL only: the in-memory path keeps a code per example and
#: attribute (about 1 GB for 10 attributes at 100M examples), where the grouping statement streams.
IN_MEMORY_MAX_ROWS = 20_000_000


def in_memory_counter(store: Store, table: str, prepared: Sequence[PreparedAttribute], *, graded: bool,
                      cache: _StoreCache | None = None):
    """A ``compute`` for :func:`counts` that counts in memory with numpy, or None when it cannot.

    The run's attribute values are read once (one statement, in log order) and kept as small
    integer codes per attribute, with the outcome per example; a grouping set is then counted with
    :func:`numpy.bincount` over the combined codes: the same counts as the GROUPING SETS statement,
    without a hash aggregation per set (triples over many attributes in seconds, not minutes).
    Timestamps (periods) and attributes with very many values are left to SQL, and so are graded
    scores (their sums are exact only in SQL: :func:`analysis.sql.features.score_units`) and any
    engine but DuckDB (the statements then run where the engine runs them).

    Score sums are in the SQL's units (1e-15 of a score): with scores of 0 or 1 only, the count of
    ones times :data:`~analysis.sql.features.SCORE_SCALE`, the double the SQL's exact sum converts to.
    """
    if graded or getattr(store, "engine", "duckdb") != "duckdb" or any(p.attribute.kind == "timestamp"
                                                                        for p in prepared):
        return None
    load = _column_loader(store, table, prepared, cache)

    def compute(used: list[int], local_sets: list[tuple[int, ...]]) -> dict:
        cols, (errors, scores) = load(used)
        err = np.asarray(errors, dtype=np.float64)
        err01 = np.asarray(errors, dtype=bool).astype(np.int64)
        has_score = ~np.isnan(scores)
        score_values = np.where(has_score, scores, 0.0)
        pieces = {}
        for ls in local_sets:
            combined, dims, total = _combine(cols, ls, len(err))
            # one integer bincount over (cell, error): examples and errors per cell at once
            both = np.bincount(combined * 2 + err01, minlength=2 * total).reshape(total, 2)
            n = both.sum(axis=1)
            cells = np.flatnonzero(n)
            parts = np.unravel_index(cells, dims)
            piece = {"values": [], "n": n[cells].astype(np.int64), "errors": both[cells, 1].astype(np.int64)}
            for j, idx in zip(ls, parts):
                values = np.empty(len(cols[j][1]), dtype=object)
                values[:] = cols[j][1]
                piece["values"].append(values[idx])
            if graded:
                piece["score_sum"] = np.bincount(combined, weights=score_values, minlength=total)[cells] * F.SCORE_SCALE
                piece["score_n"] = np.bincount(combined, weights=has_score.astype(np.float64),
                                               minlength=total)[cells].astype(np.int64)
            else:
                piece["score_sum"] = np.full(len(cells), np.nan)
                piece["score_n"] = np.zeros(len(cells), dtype=np.int64)
            pieces[ls] = piece
        return pieces

    return compute


def _combine(cols: list, local_set: tuple[int, ...], size: int):
    """One cell number per example for a grouping set (mixed radix over the attributes' codes)."""
    dims = [len(cols[j][1]) for j in local_set]
    total = int(np.prod(dims, dtype=np.float64))
    if total > MAX_CELLS:
        raise TooManyCells(total)
    combined = np.zeros(size, dtype=np.int64)
    for j, d in zip(local_set, dims):
        combined *= d
        combined += cols[j][0]
    return combined, dims, max(total, 1)


def _column_loader(store: Store, table: str, prepared: Sequence[PreparedAttribute], cache: _StoreCache | None):
    """``load(indices)`` -> (the (codes, values) of those attributes, (errors, scores)), read once per run
    and data version (one statement for the attributes not read before) and kept."""
    cache = cache or _cache(store)
    keys = [_attr_key(p) for p in prepared]

    def read(needed: list[int]) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        sql, params = Q.values_in_order_sql(table, [prepared[i].sql for i in needed])
        arrow = store.cursor().sql(sql, params=params).to_arrow_table()
        fresh = {(table, keys[i]): _codes(arrow.column(f"a{j}")) for j, i in enumerate(needed)}
        # an error is "NOT correct"; unknown correctness is no error (as count_if(NOT correct) in SQL)
        errors = pc.fill_null(pc.invert(arrow.column("correct")), False).to_numpy(zero_copy_only=False)
        scores = arrow.column("score").cast(pa.float64()).to_numpy(zero_copy_only=False)
        fresh[(table, None)] = (errors, scores)
        with cache.lock:
            cache.columns.update(fresh)
            while len(cache.columns) > MAX_COLUMNS:
                cache.columns.popitem(last=False)

    def load(indices: list[int]):
        for _ in range(2):  # read what is missing (again, if evicted meanwhile)
            with cache.lock:
                cols = [cache.columns.get((table, keys[i])) for i in indices]
                outcome = cache.columns.get((table, None))
            if outcome is not None and all(c is not None for c in cols):
                return cols, outcome
            read([i for i, c in zip(indices, cols) if c is None])
        raise RuntimeError("attribute columns evicted while counting")  # more columns at once than MAX_COLUMNS

    return load


#: Outcome classes of a matched pair: baseline and candidate correctness (NULL, false, true) x their scores
#: (missing, 0, 1): 3 ** 4 classes, so one :func:`numpy.bincount` per grouping set gives every paired count.
_PAIR_CLASSES = 81
#: Most cells x classes counted densely for one grouping set (beyond: the occupied cells only, via np.unique).
_DENSE_PAIRED_CELLS = 1 << 23
_PAIRED_COLUMNS = ["n", "base_errors", "cand_errors", "b", "c", "base_score_sum", "base_score_n", "cand_score_sum",
                   "cand_score_n"]


def _paired_outcomes(store: Store, base_table: str, cand_table: str, cache: _StoreCache):
    """(positions of the matched pairs among the baseline's scorable examples, outcome class per pair), read once
    per pair of runs and data version; :class:`NeedsSQL` when a score is graded (not only 0/1)."""
    key = ("paired", base_table, cand_table)
    with cache.lock:
        kept = cache.columns.get(key)
    if kept is not None:
        if isinstance(kept, NeedsSQL):
            raise kept
        return kept
    import pyarrow as pa

    pairs = store.cursor().sql(Q.paired_outcomes_sql(base_table, cand_table)).to_arrow_table()
    rows = pairs.column("pos").to_numpy(zero_copy_only=False).astype(np.int64)
    cls = np.zeros(len(rows), dtype=np.int64)
    try:
        for name in ("bc", "cc", "bs", "cs"):  # 0: NULL / missing, 1: false / 0, 2: true / 1
            column = pairs.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
            known = ~np.isnan(column)
            if name in ("bs", "cs") and not np.isin(column[known], (0.0, 1.0)).all():
                raise NeedsSQL("graded scores")
            cls = cls * 3 + np.where(known, np.where(column == 1.0, 2, 1), 0)
        found = (rows, cls)
    except NeedsSQL as err:
        found = err
    with cache.lock:
        cache.columns[key] = found
    if isinstance(found, NeedsSQL):
        raise found
    return found


def _paired_piece(combined: np.ndarray, dims: list, total: int, cls: np.ndarray) -> tuple[np.ndarray, dict]:
    """The paired counts of one grouping set from its cell per pair: (occupied cells, counts by column)."""
    if total * _PAIR_CLASSES > _DENSE_PAIRED_CELLS:  # many possible cells: count the occupied ones only
        occupied, combined = np.unique(combined, return_inverse=True)
        combined = np.asarray(combined).reshape(-1)
        total = len(occupied)
    else:
        occupied = None
    table = np.bincount(combined * _PAIR_CLASSES + cls, minlength=total * _PAIR_CLASSES).reshape(total, 3, 3, 3, 3)
    n = table.sum(axis=(1, 2, 3, 4))
    cells = np.flatnonzero(n)
    t = table[cells]  # (cells, bc, cc, bs, cs)
    bc = t.sum(axis=(3, 4))  # (cells, bc state, cc state)
    base_by = bc.sum(axis=2)
    cand_by = bc.sum(axis=1)
    bs = t.sum(axis=(1, 2, 4))
    cs = t.sum(axis=(1, 2, 3))
    counts = {
        "n": n[cells].astype(np.int64),
        # as the SQL: an error is "not correct" (NULL included); b and c need both sides known
        "base_errors": (base_by[:, 0] + base_by[:, 1]).astype(np.int64),
        "cand_errors": (cand_by[:, 0] + cand_by[:, 1]).astype(np.int64),
        "b": bc[:, 2, 1].astype(np.int64),
        "c": bc[:, 1, 2].astype(np.int64),
        "base_score_sum": bs[:, 2].astype(np.float64) * F.SCORE_SCALE,
        "base_score_n": (bs[:, 1] + bs[:, 2]).astype(np.int64),
        "cand_score_sum": cs[:, 2].astype(np.float64) * F.SCORE_SCALE,
        "cand_score_n": (cs[:, 1] + cs[:, 2]).astype(np.int64),
    }
    return (cells if occupied is None else occupied[cells]), counts


def paired_counter(store: Store, base_table: str, cand_table: str, prepared: Sequence[PreparedAttribute], *,
                   cache: _StoreCache | None = None):
    """Paired counts per grouping set (the shape of :func:`analysis.sql.slices.paired_sets_sql`) counted in
    memory: the baseline's attribute codes (kept, as for :func:`in_memory_counter`) at the matched
    pairs, with :func:`numpy.bincount`. None when the attributes need SQL (timestamps) or the engine is not
    DuckDB; :class:`NeedsSQL` when a run's scores are graded (their sums are exact only in SQL). Score sums
    are in the SQL's units, as for :func:`in_memory_counter`.

    Kept per data version, as the counts of :func:`counts`: the matched pairs and their outcomes (one class
    of 81 per pair, so a grouping set is one ``bincount``), and each grouping set's paired counts, so a
    comparison of the same two runs counts only the sets it has not counted before.
    """
    if getattr(store, "engine", "duckdb") != "duckdb" or any(p.attribute.kind == "timestamp" for p in prepared):
        return None
    cache = cache or _cache(store)
    load = _column_loader(store, base_table, prepared, cache)
    keys = [_attr_key(p) for p in prepared]

    def compute(sets: list[tuple[int, ...]]) -> pd.DataFrame:
        k = len(prepared)

        def set_key(s: tuple[int, ...]) -> tuple:
            return ("paired", base_table, cand_table, tuple(keys[i] for i in s))

        with cache.lock:
            pieces = {s: cache.sets[set_key(s)] for s in sets if set_key(s) in cache.sets}
        missing = [s for s in dict.fromkeys(sets) if s not in pieces]
        if missing:
            rows, cls = _paired_outcomes(store, base_table, cand_table, cache)
            used = sorted({i for s in missing for i in s})
            loaded, _ = load(used)
            cols = dict(zip(used, [(codes[rows], values) for codes, values in loaded]))  # codes at the pairs
            for s in missing:
                local = [cols[i] for i in s]
                combined, dims, total = _combine(local, tuple(range(len(s))), len(rows))
                cells, counted = _paired_piece(combined, dims, total, cls)
                parts = np.unravel_index(cells, dims) if s else []
                values = []
                for (_, labels), idx in zip(local, parts):
                    as_objects = np.empty(len(labels), dtype=object)
                    as_objects[:] = labels
                    values.append(as_objects[idx])
                pieces[s] = {"values": values, **counted}
            with cache.lock:
                for s in missing:
                    cache.sets[set_key(s)] = pieces[s]
                while len(cache.sets) > MAX_SETS:
                    cache.sets.popitem(last=False)
        out: dict = {name: [] for name in [f"a{i}" for i in range(k)] + ["gid", *_PAIRED_COLUMNS]}
        for s in sets:
            piece = pieces[s]
            size = len(piece["n"])
            grouped = dict(zip(s, piece["values"]))
            for i in range(k):
                out[f"a{i}"].append(grouped[i] if i in grouped else np.full(size, None, dtype=object))
            out["gid"].append(np.full(size, Q.grouping_mask(k, list(s)), dtype=np.int64 if k < 63 else object))
            for name in _PAIRED_COLUMNS:
                out[name].append(piece[name])
        names = [f"a{i}" for i in range(k)] + ["gid", "n", "base_errors", "cand_errors", "b", "c"] + [
            f"{prefix}_score_{part}" for prefix in ("base", "cand") for part in ("sum", "n")]
        return pd.DataFrame({name: np.concatenate(out[name]) for name in names})

    return compute


def matching(store: Store, base_table: str, cand_table: str, cache: _StoreCache | None = None) -> tuple[int, int, int]:
    """(matched, only in the baseline, only in the candidate) example ids of two runs
    (:func:`analysis.sql.slices.matching_sql`), kept per data version (a join of both runs: seconds at 1M)."""
    cache = cache or _cache(store)
    key = ("matching", base_table, cand_table)
    with cache.lock:
        kept = cache.columns.get(key)
    if kept is None:
        kept = tuple(int(x or 0) for x in store.cursor().execute(Q.matching_sql(base_table, cand_table)).fetchall()[0])
        with cache.lock:
            cache.columns[key] = kept
    return kept


class NeedsSQL(Exception):
    """What the in-memory counter does not count exactly as the SQL does: counted in SQL instead."""


class TooManyCells(NeedsSQL):
    """A grouping set with more cells than :data:`MAX_CELLS`: counted in SQL instead."""
