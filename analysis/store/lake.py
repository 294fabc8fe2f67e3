"""Parquet-backed runs: a run that stays in its Parquet files (a file, a folder or a glob), never copied.

:func:`register` reads the files' schema, guesses or applies the column roles exactly as an
ingest does (:mod:`analysis.store.ingest`: the same mapping files, the same checks on ids,
scores and correctness), and records the run in the catalog. Instead of a table, the run's
``examples_<run_id>`` is a view: ``examples_<run_id>_base`` maps the Parquet columns to the
run's columns (over ``read_parquet``, the files listed explicitly), and computed columns
(clusters, failure modes) live in a side table ``extra_<run_id>`` keyed by example id, joined
in by the view. Every analysis reads the view as it reads a stored run's table.

Provenance (``run_files``): each file's path and size; its modification time (in the run's
``mapping`` JSON, ``parquet.files``); its sha256 only when asked (``sha256=True``), since
hashing a lake means reading all of it. The run's identity is the sha256 of the files' paths,
sizes and modification times (or of their sha256 when computed).

A source row is numbered in file order: the files sorted by path, each file's rows in order
(Parquet's ``file_row_number``), so ``source_row`` is stable without a window over all rows.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from analysis.errors import FaultlineError, InputError
from analysis.formats import SourceRun
from analysis.sql import lake as L
from analysis.store import ingest as ingestion

if TYPE_CHECKING:
    from analysis.store import IngestReport, Store

LAKE_FORMAT = "parquet-lake"
MSG_NO_FILES = "no Parquet file matches {path!r} (a .parquet file, a folder of them, or a glob such as 'runs/*.parquet')"
MSG_ROW_COLUMN = "has a column named {name!r}, which Faultline uses to number rows: rename it in the files"


def parquet_files(path: str | os.PathLike) -> list[Path]:
    """The Parquet files of a file, a folder (every ``*.parquet`` below it) or a glob, sorted by path.

    Raises
    ------
    InputError
        If nothing matches.
    """
    text = os.fspath(path)
    if any(ch in text for ch in "*?["):
        found = [Path(p) for p in _glob.glob(text, recursive=True) if Path(p).is_file()]
    elif Path(text).is_dir():
        found = [p for p in Path(text).rglob("*.parquet") if p.is_file()]
    elif Path(text).is_file():
        found = [Path(text)]
    else:
        found = []
    if not found:
        raise InputError(text, MSG_NO_FILES.format(path=text))
    return sorted(p.resolve() for p in found)


def register(store: Store, path: str | os.PathLike, *, name: str | None = None, model: str | None = None,
             mapping: dict | str | os.PathLike | None = None, notes: str | None = None,
             sha256: bool = False) -> IngestReport:
    """Register Parquet files as a run that stays where it is (no copy into the store).

    Parameters
    ----------
    store : Store
        The store whose catalog records the run.
    path : str or os.PathLike
        A ``.parquet`` file, a folder (every ``*.parquet`` below it) or a glob.
    name, model, notes : str, optional
        As for :meth:`Store.ingest`; the name defaults to the file's or folder's name.
    mapping : dict or path, optional
        Column roles (a dict, or a YAML/JSON mapping file), as for an ingest; guessed otherwise.
    sha256 : bool, default False
        Hash every file (reads all of them) for provenance and identity.

    Returns
    -------
    IngestReport
        The run added, or the run already registered with the same files.

    Raises
    ------
    InputError
        No file matches, the files' schemas differ, or a value is bad (naming file, row and field).
    """
    files = parquet_files(path)
    hashes: dict[Path, tuple[str, int]] = {}
    described = []
    for f in files:
        stat = f.stat()
        digest = ingestion.sha256_file(f) if sha256 else ""
        hashes[f] = (digest, stat.st_size)
        described.append({"path": str(f), "size_bytes": stat.st_size,
                          "modified": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(), "sha256": digest or None})
    identity = json.dumps([[d["path"], d["size_bytes"], d["modified"], d["sha256"]] for d in described])
    counts = row_counts(files)
    label = Path(os.fspath(path)).stem if Path(os.fspath(path)).is_file() else Path(os.fspath(path)).name or "parquet"
    source = SourceRun(LAKE_FORMAT, files, name or label, record_label="row",
                       sql_source=L.numbered_parquet_source([str(f) for f in files], counts),
                       extra={"row_column": L.ROW_COLUMN, "row_base": 1, "in_place": True,
                              "parquet": {"files": described, "sha256": sha256}},
                       notes=f"Parquet in place: {len(files)} file{'s' if len(files) != 1 else ''}, "
                             f"{sum(counts):,} rows, under {os.path.commonpath([str(f.parent) for f in files])}")
    source.identity_files = None
    mapping_dict = ingestion._mapping_dict(mapping)
    planned = ingestion._plan_source(store, source, mapping_dict, hashes)
    if L.ROW_COLUMN in planned.columns and planned.guess.roles.get(L.ROW_COLUMN) != "source_row":
        raise InputError(str(files[0]), MSG_ROW_COLUMN.format(name=L.ROW_COLUMN))
    planned.source_key = hashlib.sha256(json.dumps(["parquet-lake", identity]).encode()).hexdigest()
    return ingestion.ingest(store, [planned], name=name, model=model, mapping=mapping, notes=notes)


def row_counts(files: list[Path]) -> list[int]:
    """Rows per file, from the Parquet footers (nothing else is read).

    Raises
    ------
    FaultlineError
        If a file cannot be read as Parquet.
    """
    import pyarrow.parquet as pq

    try:
        return [pq.ParquetFile(f).metadata.num_rows for f in files]
    except Exception as err:  # pyarrow raises several types for a file that is not Parquet
        raise FaultlineError(f"{files[0]}: could not be read as Parquet: {err}") from err


__all__ = ["LAKE_FORMAT", "parquet_files", "register", "row_counts"]
