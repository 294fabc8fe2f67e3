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

import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analysis import errors as E
from analysis._version import __version__
from analysis.errors import FaultlineError, InputError, RunNotFoundError
from analysis.formats import SourceRun, diagnose_text_file, frame_source, read_sources
from analysis.formats.roles import RoleGuess, apply_mapping, guess_roles, load_mapping, validate_mapping
from analysis.paths import DATA_DIR
from analysis.progress import ProgressCallback, report_progress
from analysis.stats import wilson_interval
from analysis.store import schema as DDL
from analysis.store.schema import SCHEMA_VERSION
from analysis.store.sql import DEFAULT_LOCK_TIMEOUT_S, connect, quote_ident
from analysis.store.sql import catalog as C
from analysis.store.sql import columns as K
from analysis.store.sql import ingest as I

#: Where the store lives unless --db or FAULTLINE_DB says otherwise.
DEFAULT_DB_PATH = DATA_DIR / "faultline.duckdb"
DB_ENV_VAR = "FAULTLINE_DB"


_STATUS_VALUES = ("ok", "no_answer", "unscored", "error")
_TEMPORAL_TYPES = re.compile(r"^(DATE|TIME|TIMESTAMP.*|TIMESTAMP WITH TIME ZONE)$")
_ROLE_PREFIX = {"metadata": "meta.", "signal": "signal.", "rater": "rater.", "scores": "score."}
_TEXT_AVG_LENGTH = 60


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


@dataclass
class IngestReport:
    """What one ingest did: runs added, and runs skipped because they were already loaded."""

    added: list[RunInfo] = field(default_factory=list)
    already_loaded: list[RunInfo] = field(default_factory=list)

    def summary(self) -> str:
        """Plain-words summary, as the CLI prints it."""
        lines = [f"Loaded run {r.run_id} '{r.name}' ({r.source_format}, {r.row_count:,} examples"
                 f"{', model ' + r.model if r.model else ''})" for r in self.added]
        lines += [f"Already loaded: '{r.name}' ({r.run_id}) has the same source file(s); not loaded again"
                  for r in self.already_loaded]
        return "\n".join(lines) if lines else "Nothing loaded"


@dataclass
class PlannedRun:
    """A run found in a log with its guessed roles, shown to the user before loading."""

    source: SourceRun
    columns: dict[str, str]
    guess: RoleGuess
    source_key: str
    file_hashes: list[tuple[Path, str, int]]
    already_loaded: RunInfo | None = None


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file, read in chunks (bounded memory).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


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
                 lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S):
        self.path = Path(path)
        self.read_only = read_only
        self._con = connect(self.path, read_only=read_only, lock_timeout_s=lock_timeout_s)
        self._write_lock = threading.RLock()
        if not read_only:
            self._ensure_schema()

    # ------------------------------------------------------------------ plumbing
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor on the shared connection (one per thread or query)."""
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
        with self._write_lock:
            cur = self.cursor()
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

    def _ensure_schema(self) -> None:
        with self._write_lock:
            cur = self.cursor()
            cur.execute(DDL.CORE)
            cur.execute(C.INIT_INFO, [str(SCHEMA_VERSION)])
            if not cur.execute(C.TABLE_EXISTS, ["examples"]).fetchall():
                self._rebuild_examples_view(cur)

    def bump_version(self, cur: duckdb.DuckDBPyConnection) -> None:
        """Bump the data version (inside a :meth:`transaction`, with its cursor): caches keyed on it refresh."""
        cur.execute(C.BUMP_VERSION)


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

    def _rebuild_examples_view(self, cur) -> None:
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
        """Per run: examples, scored examples, correct, accuracy and its Wilson interval."""
        frame = self.cursor().execute(C.HEADLINE).df()
        if frame.empty:
            return frame.assign(accuracy=pd.Series(dtype=float), ci_low=pd.Series(dtype=float),
                                ci_high=pd.Series(dtype=float))
        correct = frame["correct"].to_numpy(dtype=float)
        scored = frame["scored"].to_numpy(dtype=float)
        low, high = wilson_interval(correct, scored, confidence=confidence)
        with_n = scored > 0
        frame["accuracy"] = [c / n if ok else float("nan") for c, n, ok in zip(correct, scored, with_n)]
        frame["ci_low"] = low
        frame["ci_high"] = high
        return frame

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

    def delete_run(self, ref: str) -> RunInfo:
        """Remove a run and its examples (one transaction)."""
        run = self.run(ref)
        with self.transaction() as cur:
            for table in ("runs", "run_files", "fields"):
                cur.execute(C.delete_run_rows(table), [run.run_id])
            self._rebuild_examples_view(cur)
            cur.execute(C.drop_table(run.table_name))
            self.bump_version(cur)
        return run

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
                cur.execute(K.drop_column(run.table_name, column))
                value_type = cur.execute(K.VALUE_TYPE).fetchall()
                sql_type = value_type[0][0] if value_type else "VARCHAR"
                if sql_type == "NULL":
                    sql_type = "VARCHAR"
                cur.execute(K.add_column(run.table_name, column, sql_type))
                cur.execute(K.set_values(run.table_name, column))
                cur.execute(C.DELETE_FIELD, [run.run_id, column])
                stats = cur.execute(K.column_stats(run.table_name, column)).fetchall()[0]
                position = cur.execute(C.NEXT_FIELD_POSITION, [run.run_id]).fetchall()[0][0]
                cur.execute(C.INSERT_FIELD, [run.run_id, position, column, source_name, role, kind, stats[0], stats[1]])
                self.bump_version(cur)
            finally:
                cur.unregister(K.VALUES_VIEW)

    # ------------------------------------------------------------------ loading
    def plan(self, paths: str | os.PathLike | Sequence[str | os.PathLike], *, mapping: dict | str | os.PathLike | None = None,
             progress: ProgressCallback | None = None) -> list[PlannedRun]:
        """Read logs and guess column roles without writing anything (the Data page's preview)."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        mapping_dict = _mapping_dict(mapping)
        planned: list[PlannedRun] = []
        hashes: dict[Path, tuple[str, int]] = {}
        total = len(paths)
        for index, path in enumerate(paths):
            path = Path(path)
            report_progress(progress, index / max(total, 1) * 0.5, f"Reading {path.name}")
            for source in read_sources(path):
                planned.append(self._plan_source(source, mapping_dict, hashes))
        return planned

    def _plan_source(self, source: SourceRun, mapping: dict, hashes: dict) -> PlannedRun:
        file_hashes = []
        for f in source.files:
            f = Path(f)
            if f not in hashes:
                hashes[f] = (sha256_file(f), f.stat().st_size)
            file_hashes.append((f, *hashes[f]))
        if source.frame is not None and not source.files:
            frame_sha = _frame_sha256(source.frame)
            key_material = ["frame", frame_sha]
            # A DataFrame has no file: its content hash stands in for one, for provenance.
            file_hashes.append((Path(f"{source.name}.dataframe"), frame_sha,
                                int(source.frame.memory_usage(deep=True).sum())))
        else:
            key_material = sorted(h for _, h, _ in file_hashes[: source.identity_files])
        source_key = hashlib.sha256(json.dumps([key_material, source.sub_key]).encode()).hexdigest()
        columns = self._describe(source)
        if source.roles is not None:
            guess = RoleGuess({c: source.roles.get(c, "metadata") for c in columns},
                              {c: f"{source.format} field" for c in columns})
        else:
            guess = guess_roles({c: t for c, t in columns.items()})
        row_column = source.extra.get("row_column")
        if row_column in columns and source.roles is None:
            guess.roles[row_column] = "source_row"
            guess.reasons[row_column] = "the record number the reader gives each row"
        if mapping:
            source_label = mapping.get("__source__", "mapping")
            guess = apply_mapping(guess, {k: v for k, v in mapping.items() if k != "__source__"}, source=source_label)
        existing = self.cursor().execute(C.RUN_BY_SOURCE_KEY, [source_key]).fetchall()
        return PlannedRun(source, columns, guess, source_key, file_hashes,
                          self.run(existing[0][0]) if existing else None)

    def _describe(self, source: SourceRun) -> dict[str, str]:
        cur = self.cursor()
        try:
            from_sql, params = self._register(cur, source)
            rows = cur.execute(I.describe_sql(from_sql), params).fetchall()
        except duckdb.Error as err:
            raise self._translate_read_error(source, err) from err
        return {r[0]: r[1] for r in rows}

    @staticmethod
    def _register(cur, source: SourceRun) -> tuple[str, list]:
        if source.frame is not None:
            cur.register("faultline_source", source.frame)
            return "faultline_source", []
        assert source.sql_source is not None
        return source.sql_source

    @staticmethod
    def _translate_read_error(source: SourceRun, err: Exception) -> FaultlineError:
        if source.files and source.format in ("csv", "tsv", "jsonl", "json"):
            return diagnose_text_file(Path(source.files[0]), source.format, str(err))
        where = source.files[0] if source.files else None
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return InputError(where, f"could not be read as {source.format}: {first}")

    def ingest(self, paths: str | os.PathLike | Sequence[str | os.PathLike] | Sequence[PlannedRun], *,
               name: str | None = None, model: str | None = None,
               mapping: dict | str | os.PathLike | None = None, notes: str | None = None,
               progress: ProgressCallback | None = None) -> IngestReport:
        """Load logs into the store, all or nothing; a file already loaded is reported, not duplicated.

        ``paths`` may also be the result of :meth:`plan` (possibly with roles edited by the user).
        ``name`` and ``model`` override the detected ones (with several runs, the name gets a suffix).
        """
        if isinstance(paths, (list, tuple)) and paths and isinstance(paths[0], PlannedRun):
            planned = list(paths)
        else:
            planned = self.plan(paths, mapping=mapping, progress=progress)
        mapping_dict = _mapping_dict(mapping)
        name = name or mapping_dict.get("name")
        model = model or mapping_dict.get("model")
        notes = notes if notes is not None else mapping_dict.get("notes")
        report = IngestReport()
        todo = []
        for p in planned:
            existing = self.cursor().execute(C.RUN_BY_SOURCE_KEY, [p.source_key]).fetchall()
            if existing:
                report.already_loaded.append(self.run(existing[0][0]))
            else:
                todo.append(p)
        if not todo:
            report_progress(progress, 1.0, "Already loaded")
            return report
        for _attempt in range(1 + len(todo)):
            try:
                added_ids = self._write_runs(todo, name=name, model=model, notes=notes, progress=progress)
                break
            except _WholeFileRetry as retry:
                # A value further down did not fit the types inferred from a sample:
                # read that file again with types inferred from all of it.
                source = retry.planned.source
                source.sql_source, source.sql_fallback = source.sql_fallback, None
                retry.planned.columns = self._describe(source)
        else:  # pragma: no cover - each retry removes a fallback, so the loop ends
            raise FaultlineError("The logs could not be loaded")
        report.added = [self.run(r) for r in added_ids]
        report_progress(progress, 1.0, "Done")
        return report

    def _write_runs(self, todo: list[PlannedRun], *, name, model, notes, progress) -> list[str]:
        """Write planned runs in one transaction; roll everything back on any failure."""
        try:
            with self.transaction() as cur:
                added_ids = []
                used_names = {r[0] for r in cur.execute(C.ALL_RUN_NAMES).fetchall()}
                for index, p in enumerate(todo):
                    report_progress(progress, 0.5 + 0.45 * index / len(todo), f"Loading {p.source.name}")
                    run_name = name if name and len(todo) == 1 else (
                        f"{name} · {p.source.sub_key or index + 1}" if name else p.source.name)
                    run_name = _unique_name(run_name, used_names)
                    used_names.add(run_name)
                    added_ids.append(self._load_one(cur, p, run_name, model or p.source.model,
                                                    notes if notes is not None else p.source.notes))
                self._rebuild_examples_view(cur)
                self.bump_version(cur)
        except duckdb.Error as err:
            raise FaultlineError(f"The store could not be written ({str(err).splitlines()[0]}); "
                                 "nothing was changed") from err
        return added_ids

    def ingest_frame(self, frame: pd.DataFrame, *, name: str, model: str | None = None,
                     mapping: dict | None = None, notes: str | None = None,
                     source_format: str = "dataframe") -> IngestReport:
        """Load a pandas DataFrame (from a notebook) as a run; roles are guessed unless mapped.

        Its provenance is the sha256 of its content (Arrow IPC), recorded as ``<name>.dataframe``.
        """
        source = frame_source(frame, name)
        source.model = model
        source.format = source_format
        planned = [self._plan_source(source, _mapping_dict(mapping), {})]
        return self.ingest(planned, name=name, model=model, mapping=mapping, notes=notes)

    # ------------------------------------------------------------------ the load itself
    def _load_one(self, cur, planned: PlannedRun, run_name: str, model: str | None, notes: str | None) -> str:
        source, guess, columns = planned.source, planned.guess, planned.columns
        run_id = "r" + planned.source_key[:10]
        table = f"examples_{run_id}"
        try:
            from_sql, params = self._register(cur, source)
        except duckdb.Error as err:
            raise self._translate_read_error(source, err) from err
        file_label = source.files[0] if source.files else f"DataFrame {source.name!r}"
        roles = guess.roles
        for col in roles:
            if col not in columns:
                raise InputError(file_label, f"names column {col!r}, which is not in the log", field=col)
        correct_col = guess.column_for("correct")
        score_col = guess.column_for("score")
        if correct_col is None and score_col is None:
            shown = ", ".join(columns) if len(columns) <= 30 else ", ".join(list(columns)[:30]) + ", ..."
            raise InputError(file_label, E.NO_OUTCOME.format(columns=shown))
        row_col = next((c for c, r in roles.items() if r == "source_row"), None)
        row_base = source.extra.get("row_base", 1) if row_col == source.extra.get("row_column") else 1
        row_expr = I.row_number_expr(row_col, int(row_base))
        inner = I.numbered_source(from_sql, row_expr)

        def record(row_number: int, example_id: str | None = None) -> str:
            if source.format in ("csv", "tsv"):
                text = f"row {row_number} (line {row_number + 1})"
            elif source.format == "jsonl" or (row_col and source.record_label == "line"):
                text = f"line {row_number}"
            else:
                text = f"{source.record_label} {row_number}"
            return text + (f", example {example_id}" if example_id and not text.startswith("example") else "")

        # Values that must be checked before they are cast (wrong types, words).
        try:
            if score_col and not I.NUMERIC_TYPES.match(columns[score_col]) and columns[score_col] != "BOOLEAN":
                bad = cur.execute(I.first_bad_number_sql(inner, score_col), params).fetchall()
                if bad:
                    raise InputError(file_label, E.BAD_SCORE.format(value=repr(bad[0][1])), record=record(bad[0][0]),
                                     field=score_col)
            if correct_col and columns[correct_col] not in ("BOOLEAN",) and not I.NUMERIC_TYPES.match(columns[correct_col]):
                words = list(I.TRUE_WORDS + I.FALSE_WORDS)
                bad = cur.execute(I.first_bad_word_sql(inner, correct_col, len(words)), params + words).fetchall()
                if bad:
                    raise InputError(file_label, E.BAD_CORRECT.format(value=repr(bad[0][1])), record=record(bad[0][0]),
                                     field=correct_col)
        except duckdb.Error as err:
            if isinstance(err, duckdb.ConversionException) and source.sql_fallback:
                raise _WholeFileRetry(planned) from err
            raise self._translate_read_error(source, err) from err

        threshold = guess.correct_threshold
        select: list[str] = ["? AS run_id"]
        select_params: list = [run_id]
        id_col = guess.column_for("id")
        select.append(f"CAST({quote_ident(id_col)} AS VARCHAR) AS example_id" if id_col
                      else "CAST(__faultline_row AS VARCHAR) AS example_id")
        select.append("CAST(__faultline_row AS BIGINT) AS source_row")
        task_col = guess.column_for("task")
        if task_col:
            select.append(f"CAST({quote_ident(task_col)} AS VARCHAR) AS task")
        else:
            select.append("CAST(? AS VARCHAR) AS task")
            select_params.append(source.task)
        for role in ("input", "output", "reference"):
            col = guess.column_for(role)
            select.append(f"{I.as_text(col, columns[col])} AS {role}" if col else f"CAST(NULL AS VARCHAR) AS {role}")
        if score_col:
            score_expr = I.as_double(score_col, columns[score_col])
        else:
            score_expr = f"CAST({I.as_bool(correct_col, columns[correct_col], threshold)} AS DOUBLE)"
        if correct_col:
            correct_expr = I.as_bool(correct_col, columns[correct_col], threshold)
        else:
            correct_expr = f"({score_expr}) >= {float(threshold)!r}"
        status_col = guess.column_for("status")
        status_expr = f"CAST({quote_ident(status_col)} AS VARCHAR)" if status_col else "CAST(NULL AS VARCHAR)"
        select.append(f"{score_expr} AS score")
        select.append(f"CASE WHEN {status_expr} = 'no_answer' THEN false ELSE {correct_expr} END AS correct")
        select.append(f"({correct_expr}) IS NULL AND coalesce({status_expr}, '') <> 'no_answer' AS unscorable")
        select.append(f"CASE WHEN {status_expr} IN ('no_answer', 'error') THEN {status_expr} "
                      f"WHEN ({correct_expr}) IS NULL THEN 'unscored' ELSE 'ok' END AS status")
        stored: list[tuple[str, str, str]] = []  # (stored column, source column, role)
        for col, role in roles.items():
            if role in _ROLE_PREFIX:
                stored_name = _ROLE_PREFIX[role] + col
                select.append(f"{I.keep_type(col, columns[col], role)} AS {quote_ident(stored_name)}")
                stored.append((stored_name, col, role))
            elif role == "embedding":
                select.append(I.embedding_expr(col))
                stored.append(("embedding", col, role))
        create = I.create_run_table_sql(table, select, inner)
        try:
            cur.execute(create, select_params + params)
        except duckdb.Error as err:
            if isinstance(err, duckdb.ConversionException) and source.sql_fallback:
                raise _WholeFileRetry(planned) from err
            if isinstance(err, (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.IOException)):
                raise self._translate_read_error(source, err) from err
            raise
        # Checks on what was loaded (still inside the transaction).
        n_rows = cur.execute(I.count_sql(table)).fetchall()[0][0]
        if n_rows == 0:
            raise InputError(file_label, E.NO_EXAMPLES)
        if id_col:
            missing = cur.execute(I.first_missing_id_sql(table)).fetchall()
            if missing:
                raise InputError(file_label, "expected an example id, got an empty value", record=record(missing[0][0]),
                                 field=id_col)
        dup = cur.execute(I.first_duplicate_id_sql(table)).fetchall()
        if dup:
            raise InputError(file_label, E.DUPLICATE_ID.format(value=repr(dup[0][0]), first=record(dup[0][1]),
                                                               second=record(dup[0][2])), field=id_col or "row number")
        bad = cur.execute(I.first_nonfinite_sql(table, "score")).fetchall()
        if bad:
            raise InputError(file_label, E.NONFINITE_SCORE.format(value=bad[0][2]), record=record(bad[0][0], bad[0][1]),
                             field=score_col or correct_col)
        for stored_name, col, role in stored:
            if role == "scores" or (role == "signal" and I.NUMERIC_TYPES.match(columns[col])):
                bad = cur.execute(I.first_nonfinite_sql(table, stored_name, try_cast=True)).fetchall()
                if bad:
                    raise InputError(file_label, f"expected a finite number, got {bad[0][2]}",
                                     record=record(bad[0][0], bad[0][1]), field=col)
        counts = cur.execute(I.outcome_counts_sql(table)).fetchall()[0]
        self._record_fields(cur, run_id, table, stored, roles, columns, n_rows)
        cur.execute(C.INSERT_RUN,
                    [run_id, run_name, model, source.format, source.task, planned.source_key, n_rows, counts[0],
                     counts[1], datetime.now(UTC).replace(tzinfo=None), __version__, notes or "",
                     json.dumps({"roles": guess.roles, "correct_threshold": threshold}), table])
        for position, (path, digest, size) in enumerate(planned.file_hashes):
            cur.execute(C.INSERT_RUN_FILE,
                        [run_id, position, path.name, str(path.resolve()) if path.exists() else None, digest, size])
        if source.frame is not None:
            cur.unregister("faultline_source")
        return run_id

    def _record_fields(self, cur, run_id, table, stored, roles, columns, n_rows) -> None:
        fixed = [("example_id", guess_col(roles, "id"), "id"), ("task", guess_col(roles, "task"), "task"),
                 ("input", guess_col(roles, "input"), "input"), ("output", guess_col(roles, "output"), "output"),
                 ("reference", guess_col(roles, "reference"), "reference"), ("score", guess_col(roles, "score"), "score"),
                 ("correct", guess_col(roles, "correct"), "correct"), ("status", guess_col(roles, "status"), "status")]
        types = dict(cur.execute(C.COLUMN_TYPES, [table]).fetchall())
        stats_cols = [s for s, _, r in stored if r != "embedding"]
        stats: dict[str, tuple[int, int, float | None]] = {}
        if stats_cols:
            values = cur.execute(I.column_stats_sql(table, [(c, types[c] == "VARCHAR") for c in stats_cols])
                                 ).fetchall()[0]
            for i, c in enumerate(stats_cols):
                stats[c] = (values[3 * i], values[3 * i + 1], values[3 * i + 2])
        rows = []
        for position, (name, src, role) in enumerate(fixed + stored):
            n_missing, n_distinct, avg_len = stats.get(name, (None, None, None))
            kind = _kind(types.get(name, "VARCHAR"), role, n_distinct, avg_len, n_rows)
            rows.append([run_id, position, name, src, role, kind, n_missing, n_distinct])
        cur.executemany(C.INSERT_FIELD, rows)


class _WholeFileRetry(Exception):
    """Internal: re-read ``planned`` with column types inferred from the whole file."""

    def __init__(self, planned: PlannedRun):
        super().__init__(planned.source.name)
        self.planned = planned


def _frame_sha256(frame: pd.DataFrame) -> str:
    """Content hash of a DataFrame (values, column names and types), via Arrow IPC."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    table = table.replace_schema_metadata(None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def guess_col(roles: dict[str, str], role: str) -> str | None:
    return next((c for c, r in roles.items() if r == role), None)


def _kind(dtype: str, role: str, n_distinct, avg_len, n_rows: int) -> str:
    if role in ("input", "output", "reference", "id", "task"):
        return "text" if role != "task" else "categorical"
    if role == "embedding" or dtype.endswith("[]"):
        return "vector"
    if dtype == "BOOLEAN":
        return "boolean"
    if I.NUMERIC_TYPES.match(dtype):
        return "numeric"
    if _TEMPORAL_TYPES.match(dtype):
        return "timestamp"
    if avg_len is not None and avg_len > _TEXT_AVG_LENGTH:
        return "text"
    if n_distinct is not None and n_rows >= 200 and n_distinct > 0.5 * n_rows:
        return "text"
    return "categorical"


def _unique_name(name: str, used: set[str]) -> str:
    name = (name or "run").strip() or "run"
    if name not in used:
        return name
    n = 2
    while f"{name} ({n})" in used:
        n += 1
    return f"{name} ({n})"


def _mapping_dict(mapping) -> dict:
    """A validated mapping; ``__source__`` names where it came from, for error messages."""
    if mapping is None:
        return {}
    if isinstance(mapping, dict):
        clean = {k: v for k, v in mapping.items() if k != "__source__"}
        return {**validate_mapping(clean), "__source__": mapping.get("__source__", "mapping")}
    return {**load_mapping(mapping), "__source__": Path(mapping).name}


