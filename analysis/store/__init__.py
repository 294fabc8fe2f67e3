"""The evaluation store: every run of every log format in one DuckDB file.

Physical layout (also in README.md):

``runs``
    One row per run: ``run_id`` (``r`` + 10 hex digits of the content key), ``name``
    (unique, renameable), ``model``, ``source_format``, ``task``, ``source_key`` (sha256 of
    the source files' sha256 and the run's key inside them: loading the same file twice is
    recognised by it), ``row_count``, ``n_correct``, ``n_unscorable``, ``ingested_at``
    (UTC), ``faultline_version``, ``notes`` (free text), ``mapping`` (the column roles used,
    JSON), ``table_name``.
``run_files``
    Every source file of a run: ``file_name``, ``file_path``, ``sha256``, ``size_bytes``.
``fields``
    Every stored column of every run with its ``role`` (id, task, input, output, reference,
    score, scores, correct, status, metadata, signal, rater, embedding) and ``kind``
    (text, categorical, numeric, boolean, timestamp, vector), the source column it came
    from, and its missing and distinct counts.
``examples_<run_id>``
    One table per run, one row per example. Fixed columns: ``run_id``, ``example_id``
    (unique in the run), ``source_row`` (the record's number in the source), ``task``,
    ``input``, ``output``, ``reference``, ``score`` (DOUBLE), ``correct`` (BOOLEAN, NULL
    when unscorable), ``unscorable`` (BOOLEAN), ``status`` (``ok``, ``no_answer``,
    ``unscored``, ``error``). Then, named by role: ``score.<scorer>`` (further scores),
    ``meta.<field>`` (metadata, typed), ``signal.<name>`` (objective signals such as
    reward-model scores, KL, length), ``rater.<name>`` (raters' judgements), and
    ``embedding`` (FLOAT[]) when the log has vectors. Metadata stay in their own typed
    columns so any of them can be sliced later without re-ingesting.
``examples``
    A view: the fixed columns of every run, stacked.
``store_info``
    ``schema_version``, ``data_version`` (bumped by every write, so caches key on it).

All writes of one :meth:`Store.ingest` call happen in one transaction: a failure leaves
the store exactly as it was.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analysis.errors import (
    STORE_DAMAGED,
    STORE_READ_ONLY,
    STORE_UNREADABLE,
    FaultlineError,
    RunNotFoundError,
    StoreError,
    StoreVersionError,
)
from analysis.formatting import format_threshold
from analysis.paths import DATA_DIR
from analysis.progress import ProgressCallback
from analysis.sql import DEFAULT_LOCK_TIMEOUT_S, connect
from analysis.sql import catalog as C
from analysis.sql import columns as K
from analysis.sql import features as F
from analysis.sql import lake as L
from analysis.stats import mean_interval, wilson_interval
from analysis.store import ingest as ingestion
from analysis.store import reconcile
from analysis.store import schema as DDL
from analysis.store.engine import EngineCursor, SparkRunner, resolve_engine
from analysis.store.ingest import IngestReport, PlannedRun, sha256_file
from analysis.store.schema import SCHEMA_VERSION

#: Where the store lives unless --db or FAULTLINE_DB says otherwise.
DEFAULT_DB_PATH = DATA_DIR / "faultline.duckdb"
DB_ENV_VAR = "FAULTLINE_DB"


@dataclass
class RunInfo:
    """A run as recorded in the store."""

    run_id: str
    name: str
    model: str | None
    source_format: str
    task: str | None
    row_count: int
    ingested_at: datetime
    notes: str
    table_name: str
    files: list[dict] = field(default_factory=list)


_FIELD_COLUMNS = ("column_name", "source_name", "role", "kind", "n_missing", "n_distinct")


@dataclass(frozen=True)
class RunSchema:
    """A run and its stored columns, read from the catalog in one statement (:meth:`Store.schema`).

    Read it once per analysis and pass it down: every engine function that takes a run
    (``run: str``) also takes a ``RunSchema``, and then reads nothing more from the catalog.
    ``run.files`` is left empty (the source files are not needed to analyse a run).
    """

    run: RunInfo
    """The run as recorded in ``runs``."""
    fields: pd.DataFrame
    """Its stored columns, in order: ``column_name``, ``source_name``, ``role``, ``kind``,
    ``n_missing``, ``n_distinct`` (as :meth:`Store.fields`)."""
    tables: frozenset[str] = frozenset()
    """The optional tables (:data:`analysis.store.schema.OPTIONAL`) the store had when it was read."""

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def table_name(self) -> str:
        return self.run.table_name

    def stored(self) -> list[tuple[str, str, str]]:
        """``(column_name, role, kind)`` of every stored column (for the rule language's fields)."""
        return list(zip(self.fields["column_name"], self.fields["role"], self.fields["kind"]))


_NOT_WRITABLE = re.compile(r"Permission denied|Read-only file system|read-only|Operation not permitted", re.I)
_DAMAGED = re.compile(r"not a valid DuckDB database|Could not read enough bytes|corrupt|checksum|"
                      r"Invalid Input Error|Serialization Error|INTERNAL Error", re.I)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _open_error(path: Path, err: BaseException) -> StoreError:
    """A failure to open a store file, in a sentence: damaged, or why it cannot be opened."""
    template = STORE_DAMAGED if _DAMAGED.search(str(err)) else STORE_UNREADABLE
    return StoreError(template.format(path=path, detail=_first_line(err)))


def resolve_db_path(path: str | os.PathLike | None = None) -> Path:
    """The store path: the argument, else $FAULTLINE_DB, else data/faultline.duckdb."""
    if path:
        return Path(path)
    if os.environ.get(DB_ENV_VAR):
        return Path(os.environ[DB_ENV_VAR])
    return DEFAULT_DB_PATH


class Store:
    """A Faultline evaluation store (one DuckDB file), safe to share between threads.

    Open one per process and keep it: reads use a fresh cursor each, writes are serialised.

    >>> import tempfile, pandas as pd
    >>> store = Store(tempfile.mkdtemp() + "/s.duckdb")
    >>> frame = pd.DataFrame({"question": ["2+2?", "3+3?"], "answer": ["4", "5"], "correct": [True, False]})
    >>> report = store.ingest_frame(frame, name="tiny")
    >>> store.runs()[["name", "rows"]].to_dict("records")
    [{'name': 'tiny', 'rows': 2}]
    >>> store.close()
    """

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False,
                 lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, engine: str | None = None):
        self.path = Path(path)
        #: Where statements over example rows run: "duckdb" or "spark" (argument, else $FAULTLINE_ENGINE).
        self.engine = resolve_engine(engine)
        self._spark = SparkRunner(self) if self.engine == "spark" else None
        self.read_only = read_only
        self.read_only_reason: str | None = "opened for reading" if read_only else None
        self._con = self._open(read_only, lock_timeout_s)
        self._write_lock = threading.RLock()
        try:
            self._check_schema_version()
            if not self.read_only:
                self._ensure_schema()
        except BaseException:
            self._con.close()
            raise

    def _open(self, read_only: bool, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
        """Connect; a file that cannot be written is opened for reading, a damaged file is said to be."""
        try:
            return connect(self.path, read_only=read_only, lock_timeout_s=lock_timeout_s)
        except duckdb.Error as err:
            detail = _first_line(err)
            if not read_only and self.path.is_file() and _NOT_WRITABLE.search(str(err)):
                try:
                    con = connect(self.path, read_only=True, lock_timeout_s=lock_timeout_s)
                except duckdb.Error as again:
                    raise _open_error(self.path, again) from again
                self.read_only = True
                self.read_only_reason = f"the file is not writable: {detail}"
                return con
            raise _open_error(self.path, err) from err

    # ------------------------------------------------------------------ plumbing
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the shared connection (one per thread or query).

        With the Spark engine, an :class:`analysis.store.engine.EngineCursor`: statements over
        example rows run on Spark, the catalog's on DuckDB.
        """
        if self._spark is not None:
            return EngineCursor(self._con.cursor(), self._spark)
        return self._con.cursor()

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction: ``BEGIN``, then ``COMMIT``, or ``ROLLBACK`` on any exception.

        Holds the store's write lock for its whole length (threads of one process never
        interleave writes) and yields the cursor to write with. An exception inside the block
        rolls everything back and propagates unchanged.

        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp() + "/t.duckdb")
        >>> with store.transaction() as cur:
        ...     _ = cur.execute("INSERT INTO store_info VALUES ('colour', 'blue')")
        >>> store.info("colour")
        'blue'
        >>> try:
        ...     with store.transaction() as cur:
        ...         _ = cur.execute("INSERT INTO store_info VALUES ('shape', 'round')")
        ...         raise RuntimeError("changed my mind")
        ... except RuntimeError:
        ...     pass
        >>> store.info("shape") is None
        True
        >>> store.close()
        """
        if self.read_only:
            raise StoreError(STORE_READ_ONLY.format(path=self.path, why=self.read_only_reason))
        with self._write_lock:
            cur = self.cursor()
            if isinstance(cur, EngineCursor):
                cur = cur.duckdb  # writes, and reads inside a transaction, stay on DuckDB
            cur.execute(C.BEGIN)
            try:
                yield cur
                cur.execute(C.COMMIT)
            except BaseException:
                try:
                    cur.execute(C.ROLLBACK)
                except duckdb.Error:  # the transaction may already be gone; the original error matters
                    pass
                raise

    def table_exists(self, name: str) -> bool:
        """Whether the store has a table (or view) of that name."""
        return bool(self.cursor().execute(C.TABLE_EXISTS, [name]).fetchall())

    def ensure_table(self, feature: str) -> None:
        """Create the tables of an optional feature (``annotations``, ``cluster_cache``,
        ``reports``: see :data:`analysis.store.schema.OPTIONAL`) unless they exist."""
        ddl, tables = DDL.OPTIONAL[feature]
        if all(self.table_exists(t) for t in tables):
            return
        with self._write_lock:
            self.cursor().execute(ddl)

    def _check_schema_version(self) -> None:
        """Refuse a store written by a newer Faultline (its ``schema_version`` above
        :data:`~analysis.store.schema.SCHEMA_VERSION`), before anything is read from it or written into it."""
        cur = self.cursor()
        if not cur.execute(C.TABLE_EXISTS, ["store_info"]).fetchall():
            return  # a new store
        rows = cur.execute(C.INFO, ["schema_version"]).fetchall()
        found = rows[0][0] if rows else None
        if found is None:
            return
        try:
            newer = int(found) > SCHEMA_VERSION
        except (TypeError, ValueError):
            newer = True  # not a version this Faultline ever wrote
        if newer:
            raise StoreVersionError(self.path, str(found), SCHEMA_VERSION)

    def _ensure_schema(self) -> None:
        with self._write_lock:
            cur = self.cursor()
            cur.execute(DDL.CORE)
            cur.execute(C.INIT_INFO, [str(SCHEMA_VERSION)])
            if not cur.execute(C.TABLE_EXISTS, ["examples"]).fetchall():
                self.rebuild_examples_view(cur)

    def bump_version(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Bump the data version (inside a :meth:`transaction`, with its cursor): caches keyed on it refresh."""
        cur.execute(C.BUMP_VERSION)

    def append_version(self, feature: str, next_version_sql: str, insert_sql: str, name: str,
                       row: Callable[[int], list]) -> list:
        """Append the next version of ``name`` to an append-only, versioned table (saved cohorts, saved
        objective specs) in one transaction, bumping the data version.

        ``next_version_sql`` gives the next version number of a name (one bound parameter: the name);
        ``row(version)`` the values ``insert_sql`` inserts. Returns those values.
        """
        self.ensure_table(feature)
        with self.transaction() as cur:
            values = row(int(cur.execute(next_version_sql, [name]).fetchall()[0][0]))
            cur.execute(insert_sql, values)
            self.bump_version(cur)
        return values


    def data_version(self) -> int:
        """A number that changes with every write: key caches on it."""
        rows = self.cursor().execute(C.DATA_VERSION).fetchall()
        return int(rows[0][0]) if rows else 0

    def info(self, key: str) -> str | None:
        rows = self.cursor().execute(C.INFO, [key]).fetchall()
        return rows[0][0] if rows else None

    def set_info(self, key: str, value: str) -> None:
        with self.transaction() as cur:
            cur.execute(C.SET_INFO, [key, value])

    def rebuild_examples_view(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Recreate the ``examples`` view over every run's table (inside a :meth:`transaction`, with its cursor)."""
        tables = [r[0] for r in cur.execute(C.RUN_TABLES).fetchall()]
        cur.execute(C.examples_view(tables, DDL.FIXED_COLUMNS))

    # ------------------------------------------------------------------ reading
    def runs(self) -> pd.DataFrame:
        """Every run: id, name, model, format, rows, sha256 of its files, ingested at, notes."""
        return self.cursor().execute(C.RUNS).df()

    def run(self, ref: str | RunSchema) -> RunInfo:
        """A run by id or by name (ids win); a :class:`RunSchema`'s run as it is."""
        if isinstance(ref, RunSchema):
            return ref.run
        cur = self.cursor()
        rows = cur.execute(C.RUN_BY_REF, [ref, ref, ref]).fetchall()
        if not rows:
            known = [r[0] for r in cur.execute(C.RUN_NAMES).fetchall()]
            raise RunNotFoundError(f"No run named or with id {ref!r} in {self.path}. Runs: "
                                   + (", ".join(repr(k) for k in known) if known else "none (load a log first)"))
        info = RunInfo(*rows[0])
        info.files = [dict(zip(("file_name", "file_path", "sha256", "size_bytes"), f))
                      for f in cur.execute(C.RUN_FILES, [info.run_id]).fetchall()]
        return info

    def schema(self, ref: str | RunSchema) -> RunSchema:
        """A run and its stored columns in one statement (a :class:`RunSchema` is returned as it is).

        Raises :class:`analysis.errors.RunNotFoundError` (naming the known runs) when there is no such run.
        """
        if isinstance(ref, RunSchema):
            return ref
        frame = self.cursor().execute(C.RUN_WITH_FIELDS, [ref, ref, ref]).df()
        if frame.empty:
            self.run(ref)  # raises RunNotFoundError with the list of runs
        frame = frame[frame["run_id"] == frame["run_id"].iloc[0]]
        first = frame.iloc[0]

        def text(value) -> str | None:
            return None if value is None or pd.isna(value) else str(value)

        info = RunInfo(str(first["run_id"]), str(first["name"]), text(first["model"]), str(first["source_format"]),
                       text(first["task"]), int(first["row_count"]), pd.Timestamp(first["ingested_at"]).to_pydatetime(),
                       str(first["notes"]), str(first["table_name"]))
        fields = frame.loc[frame["column_name"].notna(), list(_FIELD_COLUMNS)].reset_index(drop=True)
        tables = first["optional_tables"]
        return RunSchema(info, fields, frozenset(tables.split(",")) if isinstance(tables, str) and tables else frozenset())

    def fields(self, ref: str | RunSchema) -> pd.DataFrame:
        """The stored columns of a run with their role and kind."""
        if isinstance(ref, RunSchema):
            return ref.fields.copy()
        run = self.run(ref)
        return self.cursor().execute(C.FIELDS, [run.run_id]).df()

    def examples(self, ref: str, *, columns: Sequence[str] | None = None, limit: int | None = None) -> pd.DataFrame:
        """A run's examples as a DataFrame (all columns, or those named)."""
        schema = self.schema(ref)
        run = schema.run
        # every column in table order: the fixed ones, then the stored ones as recorded
        every = list(DDL.FIXED_COLUMNS) + [c for c in schema.fields["column_name"]
                                                      if c not in DDL.FIXED_COLUMNS]
        cols = list(columns) if columns else every
        for c in cols:
            if c not in every:
                raise FaultlineError(f"Run {run.name!r} has no column {c!r}")
        return self.cursor().execute(*C.examples_sql(run.table_name, cols, limit=limit)).df()

    def headline(self, *, confidence: float = 0.95) -> pd.DataFrame:
        """Per run: its headline figure with an interval, and how it reconciles with the tool's own.

        Returns
        -------
        pandas.DataFrame
            One row per run in load order: ``run_id``, ``name``, ``model``, ``format``, ``rows``, ``scored``,
            ``correct``; ``accuracy`` with its Wilson interval ``ci_low`` / ``ci_high`` (fractions; for graded
            scores, the share reaching ``threshold``, whose origin ``threshold_source`` gives: "default",
            "set by <mapping>" or the reader's reason); ``graded`` (scores graded by the one rule,
            :func:`analysis.sql.features.graded_expr`, and correctness derived from them by the
            threshold rather than given by a column of its own, or headlined by the tool as a mean score),
            ``mean_score`` with its Student-t interval
            ``score_low`` / ``score_high`` (:func:`analysis.stats.mean_interval`); the headline itself:
            ``metric`` ("accuracy", or "mean score" when graded: the figure the tools report), ``value``,
            ``low``, ``high``; ``correct_column`` (the log's own correctness column, None when correctness is
            the score's threshold); ``baseline`` (pairwise logs); ``check`` (the worst reconciliation verdict, None
            for a plain table) and ``check_message`` (its plain words).
        """
        frame = self.cursor().execute(C.HEADLINE).df()
        numeric = ["accuracy", "ci_low", "ci_high", "mean_score", "score_low", "score_high", "value", "low", "high",
                   "threshold"]
        if frame.empty:
            out = frame.drop(columns=["table_name", "mapping"])
            for c in numeric:
                out[c] = pd.Series(dtype=float)
            for c in ("graded",):
                out[c] = pd.Series(dtype=bool)
            for c in ("threshold_source", "metric", "baseline", "correct_column", "check", "check_message"):
                out[c] = pd.Series(dtype="str")
            return out
        correct = frame["correct"].to_numpy(dtype=float)
        scored = frame["scored"].to_numpy(dtype=float)
        low, high = wilson_interval(correct, scored, confidence=confidence)
        with_n = scored > 0
        frame["accuracy"] = [c / n if ok else float("nan") for c, n, ok in zip(correct, scored, with_n)]
        frame["ci_low"] = low
        frame["ci_high"] = high
        summary = self.cursor().execute(F.score_summaries_sql(list(frame["table_name"]))).df().sort_values("k")
        frame["graded"] = summary["graded"].to_numpy(dtype=bool)
        frame["mean_score"] = summary["mean_score"].to_numpy(dtype=float)
        s_low, s_high = mean_interval(summary["mean_score"].to_numpy(dtype=float),
                                      summary["sd_score"].to_numpy(dtype=float),
                                      summary["n_score"].to_numpy(dtype=float), confidence=confidence)
        frame["score_low"], frame["score_high"] = s_low, s_high
        outcome = [json.loads(m) if isinstance(m, str) and m else {} for m in frame["mapping"]]
        frame["threshold"] = [float(o.get("correct_threshold", 0.5)) for o in outcome]
        frame["threshold_source"] = pd.Series([o.get("threshold_source") or "default" for o in outcome], dtype="str")
        frame["baseline"] = pd.Series([o.get("baseline") for o in outcome], dtype="str")
        frame["correct_column"] = pd.Series([next((c for c, r in (o.get("roles") or {}).items() if r == "correct"), None)
                                             for o in outcome], dtype="str")
        # correctness derived from a graded score by a threshold: the mean score is the headline; a run
        # with its own correctness column keeps accuracy (its graded score is a second figure)
        # ... unless the tool's own headline figure (its first reported figure) says which it is
        basis = [o.get("headline_basis") for o in outcome]
        from_threshold = np.array([b == "score" if b in ("score", "correct") else
                                   "correct" not in (o.get("roles") or {}).values() for o, b in zip(outcome, basis)])
        frame["graded"] = frame["graded"].to_numpy(dtype=bool) & from_threshold
        graded = frame["graded"].to_numpy(dtype=bool)
        frame["metric"] = pd.Series(np.where(graded, "mean score", "accuracy"), dtype="str")
        frame["value"] = np.where(graded, frame["mean_score"], frame["accuracy"])
        frame["low"] = np.where(graded, frame["score_low"], frame["ci_low"])
        frame["high"] = np.where(graded, frame["score_high"], frame["ci_high"])
        checks = self.reconciliation()
        worst_check: dict[str, tuple[str, str]] = {}
        for run_id, group in checks.groupby("run_id", sort=False):
            verdict = reconcile.worst(list(group["verdict"]))
            worst_check[run_id] = (verdict, "; ".join(group.loc[group["verdict"] == verdict, "message"]))
        frame["check"] = pd.Series([worst_check.get(r, (None, None))[0] for r in frame["run_id"]], dtype="str")
        frame["check_message"] = pd.Series([worst_check.get(r, (None, None))[1] for r in frame["run_id"]],
                                           dtype="str")
        return frame.drop(columns=["table_name", "mapping"])

    def correctness_note(self, ref: str | RunSchema) -> str | None:
        """What "correct" (and so every error rate) means for a run with graded scores, in plain words; None
        when its scores are 0/1 (correctness needs no explanation).

        >>> import tempfile, pandas as pd
        >>> s = Store(tempfile.mkdtemp() + "/n.duckdb")
        >>> _ = s.ingest_frame(pd.DataFrame({"q": ["a", "b"], "score": [0.2, 0.9]}), name="g")
        >>> s.correctness_note("g")
        "Scores are graded (the headline is their mean); 'correct' means score >= 0.5 (the default threshold; set correct_threshold in a mapping to change it)."
        """
        run_id = self.run(ref).run_id
        row = self.headline().set_index("run_id").loc[run_id]
        if not row["graded"]:
            return None
        column = None if pd.isna(row["correct_column"]) else str(row["correct_column"])
        return (f"Scores are graded (the headline is their mean); "
                f"{format_threshold(float(row['threshold']), str(row['threshold_source']), column)}.")

    def reconciliation(self) -> pd.DataFrame:
        """Every figure a tool reported for a run against the same figure from the stored examples.

        Returns
        -------
        pandas.DataFrame
            One row per reported figure (:mod:`analysis.store.reconcile`): ``run_id``, ``name``, ``tool``,
            ``metric``, ``basis`` ("score" or "correct"), ``tool_value``, ``faultline_value``, ``tool_n``,
            ``faultline_n``, ``verdict`` (matches / differs / partial / not reported), ``source`` (file and key
            the figure was read from), ``message`` (plain words). Runs from plain tables have no row; a store
            that never loaded a tool's log gives an empty frame.
        """
        if not self.table_exists("reconciliation"):
            return pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
                ("run_id", "str"), ("name", "str"), ("tool", "str"), ("metric", "str"), ("basis", "str"),
                ("tool_value", float), ("faultline_value", float), ("tool_n", "Int64"), ("faultline_n", "Int64"),
                ("verdict", "str"), ("source", "str"), ("message", "str"))})
        return self.cursor().execute(C.RECONCILIATION).df()

    # ------------------------------------------------------------------ editing
    def rename_run(self, ref: str, new_name: str) -> RunInfo:
        """Give a run a new (unique, non-empty) name."""
        new_name = (new_name or "").strip()
        if not new_name:
            raise FaultlineError("A run name cannot be empty")
        run = self.run(ref)
        with self.transaction() as cur:
            if cur.execute(C.NAME_CLASH, [new_name, run.run_id]).fetchall():
                raise FaultlineError(f"Another run is already named {new_name!r}; choose another name")
            cur.execute(C.RENAME, [new_name, run.run_id])
            self.bump_version(cur)
        return self.run(run.run_id)

    def set_notes(self, ref: str, notes: str) -> None:
        """Replace a run's free-text notes."""
        run = self.run(ref)
        with self.transaction() as cur:
            cur.execute(C.SET_NOTES, [notes or "", run.run_id])
            self.bump_version(cur)

    def source_paths(self) -> list[Path]:
        """The source file recorded for every run (its provenance on disk), each once."""
        return [Path(p) for (p,) in self.cursor().execute(C.ALL_FILE_PATHS).fetchall()]

    def delete_run(self, ref: str) -> RunInfo:
        """Remove a run and its examples (one transaction)."""
        run = self.run(ref)
        with self.transaction() as cur:
            for table in ("runs", "run_files", "fields"):
                cur.execute(C.delete_run_rows(table), [run.run_id])
            if self.table_exists("reconciliation"):
                cur.execute(C.delete_run_rows("reconciliation"), [run.run_id])
            self.rebuild_examples_view(cur)
            if self._is_view(cur, run.table_name):  # a Parquet-backed run: its views and side table, not its files
                cur.execute(L.drop_view_sql(run.table_name))
                cur.execute(L.drop_view_sql(L.base_view(run.table_name)))
                cur.execute(C.drop_table(L.side_table(run.run_id)))
            else:
                cur.execute(C.drop_table(run.table_name))
            self.bump_version(cur)
        return run

    @staticmethod
    def _is_view(cur, name: str) -> bool:
        rows = cur.execute(L.VIEW_KIND, [name]).fetchall()
        return bool(rows) and rows[0][0] == "VIEW"

    def set_example_column(self, ref: str, column: str, values: pd.DataFrame, *, role: str, kind: str,
                           source_name: str | None = None) -> None:
        """Add (or replace) a computed per-example column of a run, e.g. ``cluster.output``.

        ``values`` has columns ``example_id`` and ``value``; examples not in it get NULL. The
        column is recorded in ``fields`` with its role (``cluster``, ``failure_mode``...) and
        kind, so it can be sliced like any logged field. One transaction.
        """
        if not isinstance(values, pd.DataFrame) or list(values.columns) != ["example_id", "value"]:
            raise FaultlineError("values must be a DataFrame with the columns example_id and value")
        if column in {"run_id", "example_id", "source_row", "task", "input", "output", "reference", "score",
                      "correct", "unscorable", "status", "embedding"}:
            raise FaultlineError(f"{column!r} is a fixed column of every run and cannot be replaced")
        run = self.run(ref)
        with self.transaction() as cur:
            cur.register(K.VALUES_VIEW, values)
            try:
                in_place = self._is_view(cur, run.table_name)
                value_type = cur.execute(K.VALUE_TYPE).fetchall()
                sql_type = value_type[0][0] if value_type else "VARCHAR"
                if sql_type == "NULL":
                    sql_type = "VARCHAR"
                if in_place:  # a Parquet-backed run: the column goes to its side table, joined by its view
                    side = L.side_table(run.run_id)
                    cur.execute(L.create_side_table_sql(side))
                    cur.execute(L.side_drop_column_sql(side, column))
                    cur.execute(L.side_add_column_sql(side, column, sql_type))
                    cur.execute(L.side_insert_ids_sql(side, K.VALUES_VIEW))
                    cur.execute(K.set_values(side, column))
                    extra = [c for (c,) in cur.execute(L.side_columns_sql(), [side]).fetchall() if c != "example_id"]
                    cur.execute(L.examples_view_sql(run.table_name, side, extra))
                else:
                    cur.execute(K.drop_column(run.table_name, column))
                    cur.execute(K.add_column(run.table_name, column, sql_type))
                    cur.execute(K.set_values(run.table_name, column))
                cur.execute(C.DELETE_FIELD, [run.run_id, column])
                stats = cur.execute(K.column_stats(run.table_name, column)).fetchall()[0]
                position = cur.execute(C.NEXT_FIELD_POSITION, [run.run_id]).fetchall()[0][0]
                cur.execute(C.INSERT_FIELD, [run.run_id, position, column, source_name, role, kind, stats[0], stats[1]])
                self.bump_version(cur)
            finally:
                cur.unregister(K.VALUES_VIEW)

    # ------------------------------------------------------------------ loading (analysis.store.ingest)
    def plan(self, paths: str | os.PathLike | Sequence[str | os.PathLike], *, mapping: dict | str | os.PathLike | None = None,
             progress: ProgressCallback | None = None) -> list[PlannedRun]:
        """Read logs and guess column roles without writing anything (the Data page's preview).

        See :func:`analysis.store.ingest.plan`.
        """
        return ingestion.plan(self, paths, mapping=mapping, progress=progress)

    def ingest(self, paths: str | os.PathLike | Sequence[str | os.PathLike] | Sequence[PlannedRun], *,
               name: str | None = None, model: str | None = None,
               mapping: dict | str | os.PathLike | None = None, notes: str | None = None,
               progress: ProgressCallback | None = None) -> IngestReport:
        """Load logs into the store, all or nothing; a file already loaded is reported, not duplicated.

        ``paths`` may also be the result of :meth:`plan` (possibly with roles edited by the user).
        ``name`` and ``model`` override the detected ones (with several runs, the name gets a suffix).
        See :func:`analysis.store.ingest.ingest`.
        """
        return ingestion.ingest(self, paths, name=name, model=model, mapping=mapping, notes=notes, progress=progress)

    def ingest_frame(self, frame: pd.DataFrame, *, name: str, model: str | None = None,
                     mapping: dict | None = None, notes: str | None = None,
                     source_format: str = "dataframe") -> IngestReport:
        """Load a pandas DataFrame (from a notebook) as a run; roles are guessed unless mapped.

        Its provenance is the sha256 of its content (Arrow IPC), recorded as ``<name>.dataframe``.
        See :func:`analysis.store.ingest.ingest_frame`.
        """
        return ingestion.ingest_frame(self, frame, name=name, model=model, mapping=mapping, notes=notes,
                                      source_format=source_format)

    def register_parquet(self, path: str | os.PathLike, *, name: str | None = None, model: str | None = None,
                         mapping: dict | str | os.PathLike | None = None, notes: str | None = None,
                         sha256: bool = False) -> IngestReport:
        """Register Parquet files (a file, a folder or a glob) as a run that stays where it is (no copy).

        Column roles and checks as :meth:`ingest`; every analysis works on the run as on a stored one.
        See :func:`analysis.store.lake.register`.
        """
        from analysis.store import lake

        return lake.register(self, path, name=name, model=model, mapping=mapping, notes=notes, sha256=sha256)


__all__ = ["DB_ENV_VAR", "DEFAULT_DB_PATH", "IngestReport", "PlannedRun", "RunInfo", "RunSchema", "Store",
           "resolve_db_path", "sha256_file"]
