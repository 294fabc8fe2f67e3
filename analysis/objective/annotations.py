"""Researchers' annotations: failure-mode labels and notes on examples and slices, kept forever.

Table ``annotations`` in the store (created on first use):

``annotation_id`` (unique), ``run_id``, ``example_id`` (an example's annotation) or ``slice``
(a slice's annotation: its predicate as JSON, ``{"attribute": "value label"}``), ``mode``
(a failure-mode id or name, or NULL for a note only), ``note``, ``author``, ``created_at``
(UTC), ``retracts`` (the id of an earlier annotation this one withdraws, or NULL).

Nothing a researcher wrote is ever lost:

* The table is append-only. There is no update and no delete: withdrawing an annotation
  is a new annotation that ``retracts`` it (both stay, and both are exported).
* Every write is one transaction (a batch is all or nothing), under the store's write
  lock, so threads of one process (the app's sessions) never interleave half-rows.
* A crash in the middle of a write (the process killed before ``COMMIT``) leaves the
  annotations committed before it intact and no partial row: DuckDB replays its
  write-ahead log on the next open and drops the unfinished transaction.
* DuckDB lets one process write to a store at a time. While the app holds the store,
  another process (the CLI) waits a few seconds for the lock and then fails with the
  store-busy message, writing nothing; annotate through the app, or stop it first.

Annotations count as labels in every analysis (:func:`analysis.objective.modes.compile_modes`):
an annotated example is in its mode whatever its correctness; a slice annotation puts the
slice's wrong answers in the mode.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from analysis.errors import FaultlineError
from analysis.export import safe_csv
from analysis.slicing.attributes import label_to_raw, prepare_attributes, resolve_attributes
from analysis.sql import annotation as A
from analysis.store import RunSchema, Store

MSG_AUTHOR = "An annotation needs an author (who wrote it)"
MSG_TARGET = "An annotation is about one example or one slice: give example_id or slice, not {what}"
MSG_EMPTY = "An annotation needs a failure mode or a note (both are empty)"
MSG_NO_EXAMPLE = "Run {run!r} has no example {example_id!r}"
MSG_BAD_SLICE = "A slice is a mapping of attribute to value, e.g. {{\"language\": \"sw\"}}; got {value!r}"
MSG_UNKNOWN_MODE = "Unknown failure mode {mode!r}; modes: {known}"
MSG_NO_ANNOTATION = "No annotation {annotation_id!r} in run {run!r}"
MSG_SLICE_VALUE = ("A slice names each attribute's value as the text the slice table shows (e.g. \"sw\", \"≤ 12\", "
                   "\"(missing)\"); got {value!r} ({kind}) for {attribute!r}")

COLUMNS = ("annotation_id", "run_id", "example_id", "slice", "mode", "note", "author", "created_at", "retracts")
@dataclass(frozen=True)
class Annotation:
    """One annotation as written (see the module docstring for the fields)."""

    annotation_id: str
    run_id: str
    example_id: str | None
    slice: dict | None
    mode: str | None
    note: str
    author: str
    created_at: datetime
    retracts: str | None = None


def slice_where(store: Store, run: str | RunSchema, table: str, predicate: Mapping) -> tuple[str, list]:
    """The WHERE clause (and its parameters) of a slice annotation's predicate on a run.

    Every value must be a value label (text, as the slice table shows it) of an attribute the run has; it is
    turned into the column's own stored value, read from the run (so the parameter has the column's type: a
    number given for a text column can never make DuckDB cast the column).

    Raises
    ------
    FaultlineError
        A value that is not text (:data:`MSG_SLICE_VALUE`), an attribute the run does not have, or a value the
        attribute does not take.
    """
    from analysis.sql import slices as Q

    for attribute, value in predicate.items():
        if value is not None and not isinstance(value, str):
            raise FaultlineError(MSG_SLICE_VALUE.format(value=value, kind=type(value).__name__, attribute=attribute))
    attrs = resolve_attributes(store, run, list(predicate))
    prepared = prepare_attributes(store, table, attrs, bins=5, edges=None)
    raw = [label_to_raw(store, table, p, predicate.get(p.attribute.name, predicate.get(p.attribute.column)))
           for p in prepared]
    return Q.predicate_where([p.sql for p in prepared], raw)


def _table_exists(store: Store) -> bool:
    return store.table_exists("annotations")


def _commit(store: Store, cur) -> None:
    """The last write of an annotation transaction, right before its COMMIT (its own function
    so a test can crash a process there)."""
    store.bump_version(cur)


def _clean(store: Store, run_id: str, run_name: str, table: str, item: Mapping,
           known_modes: Iterable[str] | None) -> list:
    author = str(item.get("author") or "").strip()
    if not author:
        raise FaultlineError(MSG_AUTHOR)
    example_id, slice_ = item.get("example_id"), item.get("slice")
    if (example_id is None) == (slice_ is None):
        raise FaultlineError(MSG_TARGET.format(what="both" if example_id is not None else "neither"))
    mode = item.get("mode")
    mode = str(mode).strip() if mode is not None and str(mode).strip() else None
    note = str(item.get("note") or "").strip()
    if mode is None and not note and not item.get("retracts"):
        raise FaultlineError(MSG_EMPTY)
    if mode is not None and known_modes is not None:
        known = list(known_modes)
        if mode not in known:
            raise FaultlineError(MSG_UNKNOWN_MODE.format(mode=mode, known=", ".join(known)))
    slice_text = None
    if slice_ is not None:
        if not isinstance(slice_, Mapping) or not slice_ or not all(isinstance(k, str) for k in slice_):
            raise FaultlineError(MSG_BAD_SLICE.format(value=slice_))

        if not item.get("retracts"):  # a retraction repeats its target's slice, which may no longer fit
            slice_where(store, run_name, table, slice_)  # text values of attributes the run has, values they take
        slice_text = json.dumps({k: slice_[k] for k in sorted(slice_)}, ensure_ascii=False)
    return [uuid.uuid4().hex, run_id, None if example_id is None else str(example_id), slice_text, mode, note, author,
            datetime.now(UTC).replace(tzinfo=None), item.get("retracts")]


def add_annotations(store: Store, run: str, items: Iterable[Mapping], *,
                    known_modes: Iterable[str] | None = None) -> list[Annotation]:
    """Append several annotations in one transaction: all are written, or none.

    Each item has ``author`` and ``example_id`` or ``slice``, and ``mode`` and/or ``note``
    (``retracts`` to withdraw an earlier one). ``known_modes`` (e.g. an objective's mode ids)
    rejects a mode that is not among them.

    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/a.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "correct": [True, False]}), name="r")
    >>> added = add_annotations(s, "r", [{"example_id": "2", "mode": "hallucination", "author": "ada"},
    ...                                   {"slice": {"input_length": "1"}, "note": "short prompts", "author": "ada"}])
    >>> annotations(s, "r")[["example_id", "mode", "note", "author"]].to_dict("records")
    [{'example_id': '2', 'mode': 'hallucination', 'note': '', 'author': 'ada'}, {'example_id': None, 'mode': None, 'note': 'short prompts', 'author': 'ada'}]
    """
    info = store.run(run)
    items = list(items)
    rows = [_clean(store, info.run_id, info.name, info.table_name, item, known_modes) for item in items]
    if not rows:
        return []
    store.ensure_table("annotations")
    with store.transaction() as cur:
        examples = [r[2] for r in rows if r[2] is not None]
        if examples:
            wanted = sorted(set(examples))
            found = {v for (v,) in cur.execute(A.found_examples_sql(info.table_name, len(wanted)), wanted).fetchall()}
            missing = next((e for e in examples if e not in found), None)
            if missing is not None:
                raise FaultlineError(MSG_NO_EXAMPLE.format(run=info.name, example_id=missing))
        retracted = [r[8] for r in rows if r[8]]
        if retracted:
            found = {v for (v,) in cur.execute(A.found_ids_sql(len(retracted)), [info.run_id, *retracted]).fetchall()}
            missing = next((a for a in retracted if a not in found), None)
            if missing is not None:
                raise FaultlineError(MSG_NO_ANNOTATION.format(annotation_id=missing, run=info.name))
        cur.executemany(A.INSERT, rows)
        _commit(store, cur)
    return [Annotation(r[0], r[1], r[2], json.loads(r[3]) if r[3] else None, r[4], r[5], r[6], r[7], r[8])
            for r in rows]


def add_annotation(store: Store, run: str, *, author: str, mode: str | None = None, note: str = "",
                   example_id: str | None = None, slice: Mapping | None = None,
                   known_modes: Iterable[str] | None = None) -> Annotation:
    """Append one annotation (of an example or of a slice); returns it with its id and time.

    One transaction under the store's write lock (see the module docstring); nothing is
    written when it raises.

    Parameters
    ----------
    store : Store
        The store holding the run (opened for writing).
    run : str
        Run name or id.
    author : str
        Who wrote it (required, not blank).
    mode : str, optional
        A failure-mode id or name the example or slice is in; None for a note only.
    note : str, default ""
        Free text. At least one of ``mode`` and ``note`` must be given.
    example_id : str, optional
        The example annotated. Exactly one of ``example_id`` and ``slice``.
    slice : mapping of str to str, optional
        The slice annotated, attribute name -> value label (``{"language": "sw"}``).
    known_modes : iterable of str, optional
        Accepted modes (e.g. an objective's mode ids); a ``mode`` not among them is refused.

    Returns
    -------
    Annotation
        ``annotation_id`` (32 hex digits), ``run_id``, ``example_id``, ``slice`` (dict or
        None), ``mode``, ``note``, ``author``, ``created_at`` (UTC, naive) and ``retracts``
        (None).

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        No author (:data:`MSG_AUTHOR`); both or neither of ``example_id`` and ``slice``
        (:data:`MSG_TARGET`); neither mode nor note (:data:`MSG_EMPTY`); a mode not in
        ``known_modes`` (:data:`MSG_UNKNOWN_MODE`); a slice that is not a non-empty mapping
        (:data:`MSG_BAD_SLICE`) or names an attribute the run does not have; an example the
        run does not have (:data:`MSG_NO_EXAMPLE`).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/one.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "correct": [True, False]}), name="r")
    >>> a = add_annotation(s, "r", author="ada", example_id="2", mode="hallucination")
    >>> a.example_id, a.mode, len(a.annotation_id)
    ('2', 'hallucination', 32)
    """
    item = {"author": author, "mode": mode, "note": note, "example_id": example_id, "slice": slice}
    return add_annotations(store, run, [item], known_modes=known_modes)[0]


def retract_annotation(store: Store, run: str, annotation_id: str, *, author: str, note: str = "") -> Annotation:
    """Withdraw an annotation by appending one that retracts it (nothing is deleted).

    Both rows stay, and exports show the retraction.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.
    annotation_id : str
        The annotation to withdraw (as :func:`annotations` lists it).
    author : str
        Who withdraws it.
    note : str, optional
        Why (default "retracted").

    Returns
    -------
    Annotation
        The retraction, pointing at the withdrawn annotation (``retracts``).

    Raises
    ------
    FaultlineError
        The run has no annotation with that id.
    RunNotFoundError
        The store has no such run.
    """
    info = store.run(run)
    target = annotations(store, info.run_id, include_retracted=True)
    row = target[target["annotation_id"] == annotation_id]
    if row.empty:
        raise FaultlineError(MSG_NO_ANNOTATION.format(annotation_id=annotation_id, run=info.name))
    first = row.iloc[0]
    item = {"author": author, "note": note or "retracted", "retracts": annotation_id,
            "example_id": first["example_id"] if pd.notna(first["example_id"]) else None,
            "slice": json.loads(first["slice"]) if pd.notna(first["slice"]) else None}
    return add_annotations(store, info.run_id, [item])[0]


def annotations(store: Store, run: str | RunSchema | None = None, *, include_retracted: bool = True) -> pd.DataFrame:
    """Every annotation (of one run, or all runs), oldest first, with a ``retracted`` flag.

    Parameters
    ----------
    store : Store
        The store.
    run : str or RunSchema, optional
        Run name or id, or its schema (then whether the store has annotations at all is taken
        from it, read with the run's catalog, no statement of its own); None for every run.
    include_retracted : bool, default True
        With False, leave out retracted annotations and the retractions (the annotations that
        count as labels).

    Returns
    -------
    pandas.DataFrame
        One row per annotation, ordered by ``created_at`` then id: ``annotation_id``,
        ``run_id``, ``example_id``, ``slice`` (JSON text of the predicate, or None), ``mode``,
        ``note``, ``author``, ``created_at`` (UTC), ``retracts``, ``run_name`` and
        ``retracted`` (bool). Empty, with these columns, when nothing was annotated.

    Raises
    ------
    RunNotFoundError
        When ``run`` is given and the store has no such run (and has an annotations table).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/list.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "correct": [True, False]}), name="r")
    >>> list(annotations(s, "r").columns)[-2:], len(annotations(s))
    (['run_name', 'retracted'], 0)
    """
    empty = pd.DataFrame({c: pd.Series(dtype="object") for c in (*COLUMNS, "run_name", "retracted")})
    exists = "annotations" in run.tables if isinstance(run, RunSchema) else _table_exists(store)
    if not exists:
        return empty
    params = [store.run(run).run_id] if run is not None else []
    frame = store.cursor().execute(A.annotations_sql(one_run=run is not None), params).df()
    frame = frame.astype({"example_id": "object", "slice": "object", "mode": "object", "retracts": "object"})
    frame = frame.where(frame.notna(), None)
    if not include_retracted:
        frame = frame[~frame["retracted"].astype(bool) & frame["retracts"].isna()]
    return frame.reset_index(drop=True)


def active_annotations(store: Store, run: str) -> pd.DataFrame:
    """Annotations of a run that count as labels: not retracted, and not retractions."""
    return annotations(store, run, include_retracted=False)


def export_annotations(store: Store, path, run: str | None = None) -> int:
    """Write annotations (of a run, or all) to CSV, JSON or JSONL (by the file's extension); returns the rows.

    Retracted annotations and retractions are exported too, with the ``retracted`` flag.
    """
    from pathlib import Path

    path = Path(path)
    frame = annotations(store, run)
    frame = frame.assign(created_at=[t.isoformat() if hasattr(t, "isoformat") else t for t in frame["created_at"]])
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        path.write_text(json.dumps(frame.to_dict("records"), indent=1, ensure_ascii=False, default=str),
                        encoding="utf-8")
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n"
                                for r in frame.to_dict("records")), encoding="utf-8")
    else:
        path.write_bytes(safe_csv(frame))
    return len(frame)


__all__ = ["Annotation", "COLUMNS", "active_annotations", "add_annotation",
           "add_annotations", "annotations", "export_annotations", "retract_annotation"]
