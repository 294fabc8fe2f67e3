"""Loading logs into the store: plan (read and guess roles), then ingest (write, all or nothing).

The functions take the :class:`analysis.store.Store` to load into; :meth:`Store.plan`,
:meth:`Store.ingest` and :meth:`Store.ingest_frame` are the public way in and delegate here.
Every write of one :func:`ingest` call happens in one :meth:`Store.transaction`: a failure
leaves the store exactly as it was. The SQL comes from :mod:`analysis.sql.ingest`
(statements over the source) and :mod:`analysis.sql.catalog` (the catalog rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from analysis import errors as E
from analysis._version import __version__
from analysis.errors import FaultlineError, InputError
from analysis.formats import SourceRun, diagnose_text_file, frame_source, is_companion, read_sources
from analysis.formats.base import max_columns
from analysis.formats.flat import json_typed_source
from analysis.formats.helm import skipped_runs
from analysis.formats.roles import RoleGuess, apply_mapping, guess_roles, load_mapping, validate_mapping
from analysis.progress import ProgressCallback, report_progress
from analysis.sql import catalog as C
from analysis.sql import ingest as I
from analysis.sql import lake as L
from analysis.store import reconcile
from analysis.store.schema import RECONCILIATION as RECONCILIATION_DDL

if TYPE_CHECKING:  # the facade imports this module; only its types are needed here
    from analysis.store import RunInfo, Store

#: Sliced by period; a time of day (TIME) is a value like any other (date_trunc has no day of a TIME).
_TEMPORAL_TYPES = re.compile(r"^(DATE|TIMESTAMP.*)$")
_ROLE_PREFIX = {"metadata": "meta.", "signal": "signal.", "rater": "rater.", "scores": "score."}
_TEXT_AVG_LENGTH = 60


@dataclass
class IngestReport:
    """What one ingest did: runs added, and runs skipped because they were already loaded."""

    added: list[RunInfo] = field(default_factory=list)
    already_loaded: list[RunInfo] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """Runs of a folder that could not be read, as ``(folder, reason)``: the others were loaded."""

    def summary(self) -> str:
        """Plain-words summary, as the CLI prints it."""
        lines = [f"Loaded run {r.run_id} '{r.name}' ({r.source_format}, {r.row_count:,} "
                 f"example{'s' if r.row_count != 1 else ''}"
                 f"{', model ' + r.model if r.model else ''})" for r in self.added]
        lines += [f"Already loaded: '{r.name}' ({r.run_id}) has the same source files; not loaded again"
                  for r in self.already_loaded]
        lines += [f"Skipped {folder}: {reason}" for folder, reason in self.skipped]
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


def plan(store: Store, paths: str | os.PathLike | Sequence[str | os.PathLike], *, mapping: dict | str | os.PathLike | None = None,
         progress: ProgressCallback | None = None) -> list[PlannedRun]:
    """Read logs and guess column roles without writing anything (the Data page's preview).

    Parameters
    ----------
    store
        The store the runs would go into (asked which of them are already loaded).
    paths
        One log (file or folder) or several.
    mapping
        Column roles to impose (a dict, or a YAML/JSON mapping file); guessed otherwise.
    progress
        Called with fractions in [0, 0.5] while the files are read.

    Returns
    -------
    list of PlannedRun
        One per run found, in the order read; ``already_loaded`` is set for a run the store has.

    Raises
    ------
    analysis.errors.InputError
        A file cannot be read, naming the file, record and field.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    mapping_dict = _mapping_dict(mapping)
    planned: list[PlannedRun] = []
    hashes: dict[Path, tuple[str, int]] = {}
    total = len(paths)
    for index, path in enumerate(paths):
        path = Path(path)
        if len(paths) > 1 and is_companion(path, paths):
            continue  # a summary beside a log of this batch: read by that log's reader
        report_progress(progress, index / max(total, 1) * 0.5, f"Reading {path.name}")
        for source in read_sources(path, score_values=mapping_dict.get("score_values")):
            run = _plan_source(store, source, mapping_dict, hashes)
            # The same run reached from two of its files (EEE samples and aggregate) is planned once.
            if all(p.source_key != run.source_key for p in planned):
                planned.append(run)
    return planned


def _plan_source(store: Store, source: SourceRun, mapping: dict, hashes: dict) -> PlannedRun:
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
    columns = _describe(store, source)
    if source.roles is not None:
        guess = RoleGuess({c: source.roles.get(c, "metadata") for c in columns},
                          {c: f"{source.format} field" for c in columns})
    else:
        guess = guess_roles({c: t for c, t in columns.items()})
    row_column = source.extra.get("row_column")
    if row_column in columns and source.roles is None:
        guess.roles[row_column] = "source_row"
        guess.reasons[row_column] = "the record number the reader gives each row"
    if source.threshold is not None:
        guess.correct_threshold = float(source.threshold)
        guess.threshold_source = source.threshold_source or f"set by the {source.format} reader"
    if source.missing_values:
        guess.missing_values = {**source.missing_values, **guess.missing_values}
    if mapping:
        source_label = mapping.get("__source__", "mapping")
        guess = apply_mapping(guess, {k: v for k, v in mapping.items() if k != "__source__"}, source=source_label)
    existing = store.cursor().execute(C.RUN_BY_SOURCE_KEY, [source_key]).fetchall()
    return PlannedRun(source, columns, guess, source_key, file_hashes,
                      store.run(existing[0][0]) if existing else None)


def _describe(store: Store, source: SourceRun) -> dict[str, str]:
    columns = _describe_with(store.cursor(), source)
    check_column_names(source.files[0] if source.files else None, list(columns))
    return columns


def check_column_names(file, names: Sequence[str]) -> None:
    """Refuse a log with more columns than :func:`~analysis.formats.base.max_columns` or a column name
    holding a NUL character (no SQL identifier can), naming the column."""
    limit = max_columns()
    if len(names) > limit:
        raise InputError(file, E.TOO_MANY_COLUMNS.format(count=len(names), limit=limit))
    for name in names:
        if "\x00" in str(name):
            raise InputError(file, E.NUL_IN_NAME, field=str(name))


def _register(cur, source: SourceRun) -> tuple[str, list]:
    if source.frame is not None:
        cur.register("faultline_source", source.frame)
        return "faultline_source", []
    assert source.sql_source is not None
    return source.sql_source


def _translate_read_error(source: SourceRun, err: Exception) -> FaultlineError:
    if source.files and source.format in ("csv", "tsv", "jsonl", "json"):
        return diagnose_text_file(Path(source.files[0]), source.format, str(err))
    where = source.files[0] if source.files else None
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return InputError(where, f"could not be read as {source.format}: {first}")


def ingest(store: Store, paths: str | os.PathLike | Sequence[str | os.PathLike] | Sequence[PlannedRun], *,
           name: str | None = None, model: str | None = None,
           mapping: dict | str | os.PathLike | None = None, notes: str | None = None,
           progress: ProgressCallback | None = None) -> IngestReport:
    """Load logs into the store, all or nothing; a file already loaded is reported, not duplicated.

    ``paths`` may also be the result of :func:`plan` (possibly with roles edited by the user).
    ``name`` and ``model`` override the detected ones (with several runs, the name gets a suffix).
    Every run is written in one :meth:`analysis.store.Store.transaction`.

    Returns
    -------
    IngestReport
        The runs added and the runs already loaded.

    Raises
    ------
    analysis.errors.InputError
        A log cannot be read or has a bad value (naming file, record and field); nothing was written.
    analysis.errors.FaultlineError
        The store could not be written; nothing was changed.
    """
    if isinstance(paths, (list, tuple)) and paths and isinstance(paths[0], PlannedRun):
        planned = list(paths)
    else:
        planned = plan(store, paths, mapping=mapping, progress=progress)
    mapping_dict = _mapping_dict(mapping)
    report = IngestReport(skipped=skipped_runs([p.source for p in planned]))
    name = name or mapping_dict.get("name")
    model = model or mapping_dict.get("model")
    notes = notes if notes is not None else mapping_dict.get("notes")
    todo = []
    for p in planned:
        existing = store.cursor().execute(C.RUN_BY_SOURCE_KEY, [p.source_key]).fetchall()
        if existing:
            report.already_loaded.append(store.run(existing[0][0]))
        else:
            todo.append(p)
    if not todo:
        report_progress(progress, 1.0, "Already loaded")
        return report
    for _attempt in range(1 + len(todo)):
        try:
            added_ids = _write_runs(store, todo, name=name, model=model, notes=notes, progress=progress)
            break
        except _WholeFileRetry as retry:
            # A value further down did not fit the types inferred from a sample:
            # read that file again with types inferred from all of it.
            source = retry.planned.source
            source.sql_source, source.sql_fallback = source.sql_fallback, None
            retry.planned.columns = _describe(store, source)
            guess = retry.planned.guess
            for col in retry.planned.columns:  # keys that first appear further down: kept as metadata
                if col not in guess.roles:
                    guess.roles[col] = "metadata"
                    guess.reasons[col] = "first appears after the rows the types were guessed from"
    else:  # pragma: no cover - each retry removes a fallback, so the loop ends
        raise FaultlineError("The logs could not be loaded")
    report.added = [store.run(r) for r in added_ids]
    report_progress(progress, 1.0, "Done")
    return report


def _write_runs(store: Store, todo: list[PlannedRun], *, name, model, notes, progress) -> list[str]:
    """Write planned runs in one transaction; roll everything back on any failure."""
    try:
        with store.transaction() as cur:
            added_ids = []
            used_names = {r[0] for r in cur.execute(C.ALL_RUN_NAMES).fetchall()}
            for index, p in enumerate(todo):
                report_progress(progress, 0.5 + 0.45 * index / len(todo), f"Loading {p.source.name}")
                run_name = name if name and len(todo) == 1 else (
                    f"{name} · {p.source.sub_key or index + 1}" if name else p.source.name)
                run_name = _unique_name(run_name, used_names)
                used_names.add(run_name)
                added_ids.append(_load_one(cur, p, run_name, model or p.source.model,
                                           notes if notes is not None else p.source.notes))
            store.rebuild_examples_view(cur)
            store.bump_version(cur)
    except duckdb.Error as err:
        raise FaultlineError(f"The store could not be written ({str(err).splitlines()[0]}); "
                             "nothing was changed") from err
    return added_ids


def ingest_frame(store: Store, frame: pd.DataFrame, *, name: str, model: str | None = None,
                 mapping: dict | None = None, notes: str | None = None,
                 source_format: str = "dataframe") -> IngestReport:
    """Load a pandas DataFrame (from a notebook) as a run; roles are guessed unless mapped.

    Its provenance is the sha256 of its content (Arrow IPC), recorded as ``<name>.dataframe``.
    """
    source = frame_source(frame, name)
    source.model = model
    source.format = source_format
    planned = [_plan_source(store, source, _mapping_dict(mapping), {})]
    return ingest(store, planned, name=name, model=model, mapping=mapping, notes=notes)


# ------------------------------------------------------------------ the load itself


#: Types DuckDB's JSON reader gives a number that may be a whole number beyond 64 bits (parsed as a float).
_JSON_WIDE_CANDIDATES = ("DOUBLE", "HUGEINT", "UBIGINT", "UHUGEINT")


def _keep_exact_integers(cur, planned: PlannedRun) -> None:
    """Read JSON columns holding whole numbers beyond 64 bits as their exact text (ids, metadata).

    DuckDB's JSON parser reads such a number as a float, merging neighbouring ids into one value.
    The candidate columns are read once as text; when one holds such a number, the file is read
    with every column's type given (from the whole file) and that column as text.
    """
    source = planned.source
    if source.format not in ("json", "jsonl") or not source.sql_source or not source.files or \
            not source.sql_source[0].startswith("read_json(") or source.extra.get("typed"):
        return
    roles = planned.guess.roles
    candidates = [c for c, t in planned.columns.items() if t in _JSON_WIDE_CANDIDATES
                  and roles.get(c) in ("id", "metadata", "task", "input", "output", "reference")]
    if not candidates:
        return
    path, fmt = Path(source.files[0]), source.format
    probe = json_typed_source(path, fmt, {c: "VARCHAR" for c in candidates})
    try:
        flags = cur.execute(I.wide_integer_columns_sql(probe[0], candidates), probe[1]).fetchall()[0]
    except duckdb.Error as err:
        raise _translate_read_error(source, err) from err
    wide = [c for c, flag in zip(candidates, flags) if flag]
    if not wide:
        return
    if source.sql_fallback:  # every key of the file, typed from all of it
        source.sql_source, source.sql_fallback = source.sql_fallback, None
        planned.columns = _describe_with(cur, source)
        for col in planned.columns:
            planned.guess.roles.setdefault(col, "metadata")
    types = {**planned.columns, **{c: "VARCHAR" for c in wide}}
    source.sql_source = json_typed_source(path, fmt, types)
    source.extra["typed"] = True
    planned.columns = types


def _describe_with(cur, source: SourceRun) -> dict[str, str]:
    try:
        from_sql, params = _register(cur, source)
        rows = cur.execute(I.describe_sql(from_sql), params).fetchall()
    except duckdb.Error as err:
        raise _translate_read_error(source, err) from err
    return {r[0]: r[1] for r in rows}


def _load_one(cur, planned: PlannedRun, run_name: str, model: str | None, notes: str | None) -> str:
    _keep_exact_integers(cur, planned)
    source, guess, columns = planned.source, planned.guess, planned.columns
    run_id = "r" + planned.source_key[:10]
    table = f"examples_{run_id}"
    try:
        from_sql, params = _register(cur, source)
    except duckdb.Error as err:
        raise _translate_read_error(source, err) from err
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
    row_name, missing_name = I.internal_names(columns)  # never a name of the log's own columns
    outcome_cols = {c for c in (score_col, correct_col) if c}
    for col in guess.missing_values:
        if col not in outcome_cols:
            raise InputError(file_label, f"missing_values names {col!r}, which is not the score or correct column "
                             f"({', '.join(sorted(outcome_cols))}); values meaning \"not scored\" apply to the outcome",
                             field="missing_values")
    inner, missing_params = I.flag_missing_source(I.numbered_source(from_sql, row_expr, row=row_name),
                                                  list(guess.missing_values.items()), missing=missing_name)
    params = missing_params + list(params)

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
            bad = cur.execute(I.first_bad_number_sql(inner, score_col, row=row_name, missing=missing_name), params).fetchall()
            if bad:
                raise InputError(file_label, E.BAD_SCORE.format(value=repr(bad[0][1])), record=record(bad[0][0]),
                                 field=score_col)
        if correct_col and columns[correct_col] not in ("BOOLEAN",) and not I.NUMERIC_TYPES.match(columns[correct_col]):
            words = list(I.TRUE_WORDS + I.FALSE_WORDS)
            bad = cur.execute(I.first_bad_word_sql(inner, correct_col, len(words), row=row_name,
                                                    missing=missing_name), params + words).fetchall()
            if bad:
                raise InputError(file_label, E.BAD_CORRECT.format(value=repr(bad[0][1])), record=record(bad[0][0]),
                                 field=correct_col)
    except duckdb.Error as err:
        if _sample_missed(err) and source.sql_fallback:
            raise _WholeFileRetry(planned) from err
        raise _translate_read_error(source, err) from err

    threshold = guess.correct_threshold
    id_col = guess.column_for("id")
    if not model:
        model = _single_model(cur, inner, params, roles, columns)

    def typed(role: str) -> tuple[str, str] | None:
        col = guess.column_for(role)
        return (col, columns[col]) if col else None

    select, select_params = I.fixed_columns_select(
        run_id=run_id, id_column=id_col, id_type=columns[id_col] if id_col else "VARCHAR", task_column=guess.column_for("task"), task=source.task,
        texts={role: typed(role) for role in ("input", "output", "reference")},
        score=(score_col, columns[score_col]) if score_col else None,
        correct=(correct_col, columns[correct_col]) if correct_col else None,
        threshold=guess.correct_threshold, status_column=guess.column_for("status"), row=row_name,
        missing=missing_name)
    stored: list[tuple[str, str, str]] = []  # (stored column, source column, role)
    for col, role in roles.items():
        if role in _ROLE_PREFIX:
            stored_name = _ROLE_PREFIX[role] + col
            select.append(I.stored_column(col, columns[col], role, stored_name))
            stored.append((stored_name, col, role))
        elif role == "embedding":
            select.append(I.embedding_expr(col))
            stored.append(("embedding", col, role))
    try:
        if source.extra.get("in_place"):  # a Parquet-backed run: views over its files (analysis.store.lake)
            for statement in L.create_views_sql(table, select, inner, select_params + params):
                cur.execute(statement)
        else:
            cur.execute(I.create_run_table_sql(table, select, inner), select_params + params)
    except duckdb.Error as err:
        if _sample_missed(err) and source.sql_fallback:
            raise _WholeFileRetry(planned) from err
        if isinstance(err, (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.IOException)):
            raise _translate_read_error(source, err) from err
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
    dup = _first_duplicate_id(cur, table, n_rows) if id_col or not _rows_numbered_uniquely(source, row_col) else []
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
    _record_fields(cur, run_id, table, stored, roles, columns, n_rows)
    outcome = {"roles": guess.roles, "correct_threshold": threshold,
               "threshold_source": guess.threshold_source or "default",
               "missing_values": guess.missing_values, "baseline": source.baseline,
               # the tool's own headline figure says which of the two is the run's headline
               "headline_basis": source.reported[0].basis if source.reported else None}
    if source.extra.get("parquet"):
        outcome["parquet"] = source.extra["parquet"]
    cur.execute(C.INSERT_RUN,
                [run_id, run_name, model, source.format, source.task, planned.source_key, n_rows, counts[0],
                 counts[1], datetime.now(UTC).replace(tzinfo=None), __version__, notes or "",
                 json.dumps(outcome, default=str), table])
    if source.reported is not None:
        _record_reconciliation(cur, run_id, table, source)
    for position, (path, digest, size) in enumerate(planned.file_hashes):
        cur.execute(C.INSERT_RUN_FILE,
                    [run_id, position, path.name, str(path.resolve()) if path.exists() else None, digest, size])
    if source.frame is not None:
        cur.unregister("faultline_source")
    return run_id


def _rows_numbered_uniquely(source: SourceRun, row_col: str | None) -> bool:
    """Whether ids made from record numbers are distinct by construction: numbered by ``row_number()``,
    or a Parquet-backed run's ``faultline_row`` (each file's row number plus the rows of the files before it)."""
    return row_col is None or bool(source.extra.get("in_place"))


def _first_duplicate_id(cur, table: str, n_rows: int) -> list[tuple]:
    """The first example id held by two rows (``[(id, first row, last row)]``), or ``[]``.

    The ids' hashes are streamed (an Arrow reader: batches, not a copy of every row) from the store into a
    database of the check's own, in memory, with its own memory limit (:data:`I.ID_CHECK_MEMORY`) and temporary
    folder, where their distinct count spills beyond it: the store's memory limit, which every other query of the
    store shares, is not touched.
    Only when the hashes are fewer than the rows are the ids streamed again and the ids behind a repeated hash
    grouped (there too).
    """
    import tempfile

    import duckdb

    with tempfile.TemporaryDirectory(prefix="faultline-id-check-") as spill:
        check = duckdb.connect(":memory:", config={"memory_limit": I.ID_CHECK_MEMORY, "temp_directory": spill})
        try:
            check.register(I.ID_HASHES, cur.sql(I.id_hashes_sql(table)).to_arrow_reader())
            rows, hashes = check.execute(I.distinct_hashes_sql()).fetchall()[0]
            check.unregister(I.ID_HASHES)
            if hashes == rows == n_rows:
                return []
            check.register(I.ID_HASHES, cur.sql(I.ids_sql(table)).to_arrow_reader())
            check.execute(I.copy_ids_sql())
            check.unregister(I.ID_HASHES)
            return check.execute(I.first_duplicate_id_sql(I.ID_ROWS)).fetchall()
        finally:
            check.close()


#: Column names that say which model answered, for a log with no model recorded elsewhere.
_MODEL_COLUMNS = ("model", "model_name", "model_id", "generator")


def _single_model(cur, inner: str, params: list, roles: dict[str, str], columns: dict[str, str]) -> str | None:
    """The run's model from a metadata column naming it, when the column holds exactly one value."""
    for col in columns:
        if col.lower() in _MODEL_COLUMNS and roles.get(col) == "metadata" and not columns[col].endswith("]"):
            n, value = cur.execute(I.single_value_sql(inner, col), params).fetchall()[0]
            if n == 1:
                return value
    return None


def _record_reconciliation(cur, run_id: str, table: str, source: SourceRun) -> None:
    """Recompute each figure the tool reported from the stored examples and record both (:mod:`.reconcile`)."""
    scored, rows, mean_score, mean_correct = cur.execute(I.outcome_means_sql(table)).fetchall()[0]
    checks = [reconcile.check(source.tool, r, rows=rows, scored=scored, mean_score=mean_score,
                              mean_correct=mean_correct) for r in source.reported]
    if not checks:
        checks = [reconcile.not_reported(source.tool, scored=scored)]
    cur.execute(RECONCILIATION_DDL)
    cur.executemany(C.INSERT_CHECK, [[run_id, position, c.tool or source.format, c.metric, c.basis, c.tool_value,
                                      c.faultline_value, c.tool_n, c.faultline_n, c.verdict, c.source, c.message]
                                     for position, c in enumerate(checks)])


def _record_fields(cur, run_id, table, stored, roles, columns, n_rows) -> None:
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


def _sample_missed(err: Exception) -> bool:
    """Whether DuckDB failed on a value the types inferred from a sample do not fit: a value of
    another type (a conversion error), or a JSON record whose keys or types differ from the
    sample's (DuckDB's "JSON transform error")."""
    if isinstance(err, duckdb.ConversionException):
        return True
    return isinstance(err, duckdb.InvalidInputException) and "JSON transform error" in str(err)


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


