"""Plain tables: CSV, TSV, Parquet, JSON (array of records), JSONL, and pandas DataFrames.

These are read by DuckDB itself (the fast path: a 1M-row Parquet file loads at close to
DuckDB's own speed); the roles of their columns are guessed from names and confirmed by
the user. When DuckDB rejects a file, :func:`diagnose_text_file` re-reads it in Python to
say which line and field are wrong.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from pathlib import Path

import pandas as pd

from analysis.errors import EMPTY_FILE, NOT_UTF8, TOO_MANY_COLUMNS, InputError

from ._records import rows_to_frame
from .base import SourceRun, iter_jsonl, iter_text_lines, json_loads, max_columns, max_document_bytes, max_field_bytes

# Column types are inferred from a sample of rows (fast). When a value further down does not
# fit the inferred type, the store retries once with the whole file as the sample
# (SourceRun.sql_fallback), so a late value can never be silently mis-typed.
_SAMPLE = "sample_size=20480"
_WHOLE = "sample_size=-1"


def _csv_source(path: Path, delim: str, sample: str = _SAMPLE) -> tuple[str, list]:
    limit = max_field_bytes()
    return (f"read_csv(?, delim=?, header=true, skip=0, {sample}, max_line_size={int(limit)}, "
            "quote='\"', escape='\"', null_padding=false)", [str(path), delim])


def _json_source(path: Path, fmt: str, sample: str = _SAMPLE) -> tuple[str, list]:
    if fmt == "jsonl":
        return (f"read_json(?, format='newline_delimited', maximum_object_size={max_field_bytes()}, {sample})",
                [str(path)])
    size = max(max_field_bytes(), path.stat().st_size + 1)
    return f"read_json(?, format='array', maximum_object_size={size}, {sample})", [str(path)]


def json_typed_source(path: Path, fmt: str, columns: dict[str, str]) -> tuple[str, list]:
    """A JSON / JSONL read with every column's type given (``columns``: name -> DuckDB type), nothing inferred.

    Reading a column as ``VARCHAR`` keeps a number's exact text: integers beyond 64 bits, which DuckDB's
    JSON parser would otherwise turn into floats.
    """
    size = max_field_bytes() if fmt == "jsonl" else max(max_field_bytes(), path.stat().st_size + 1)
    layout = "newline_delimited" if fmt == "jsonl" else "array"
    return (f"read_json(?, format='{layout}', maximum_object_size={size}, columns=?)", [str(path), dict(columns)])


def read_flat(path: Path, fmt: str) -> list[SourceRun]:
    """One run read by DuckDB from a flat file."""
    name = path.stem
    if fmt in ("csv", "tsv"):
        delim = "," if fmt == "csv" else "\t"
        _check_header_width(path, delim)
        return [SourceRun(fmt, [path], name, sql_source=_csv_source(path, delim), record_label="row",
                          sql_fallback=_csv_source(path, delim, _WHOLE))]
    if fmt == "parquet":
        if _has_column(path, "file_row_number"):
            # DuckDB's own row number would take the name of the file's column: number the rows in order instead.
            return [SourceRun(fmt, [path], name, sql_source=("read_parquet(?)", [str(path)]), record_label="row")]
        # Parquet numbers its rows itself (0-based): no window over the whole file is needed for them.
        return [SourceRun(fmt, [path], name, sql_source=("read_parquet(?, file_row_number=true)", [str(path)]),
                          record_label="row", extra={"row_column": "file_row_number", "row_base": 0})]
    if fmt == "jsonl" and _unusual_jsonl(path):
        return [SourceRun(fmt, [path], name, frame=_jsonl_frame(path), record_label="line")]
    if fmt in ("jsonl", "json"):
        return [SourceRun(fmt, [path], name, record_label="line" if fmt == "jsonl" else "record",
                          sql_source=_json_source(path, fmt), sql_fallback=_json_source(path, fmt, _WHOLE))]
    raise ValueError(f"not a flat format: {fmt}")


def _has_column(path: Path, name: str) -> bool:
    """Whether a Parquet file has a column of this name (compared without case, as DuckDB does); read from its footer."""
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception:  # noqa: BLE001 - an unreadable file is reported by DuckDB when it is read
        return False
    return any(str(n).lower() == name for n in names)


def _unusual_jsonl(path: Path) -> bool:
    """JSON Lines that DuckDB's reader refuses: a byte order mark, or lines ended by CR alone (old Mac style)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    return head.startswith(codecs.BOM_UTF8) or (b"\r" in head and b"\n" not in head)


_LINE_END = re.compile(r"\r\n|\r|\n")


def _jsonl_frame(path: Path) -> pd.DataFrame:
    """Read JSON Lines with a BOM or CR-only line endings in Python (errors name the line)."""
    size = path.stat().st_size
    if size > max_document_bytes():
        raise InputError(path, f"is {size / 2**20:.0f} MB of JSON Lines with a byte order mark or CR-only line "
                         f"endings, above the {max_document_bytes() / 2**20:.0f} MB limit for reading such a file in "
                         "memory; expected a smaller file (or raise FAULTLINE_MAX_DOCUMENT_MB), or re-save it as "
                         "UTF-8 without a BOM and with LF line endings")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + raw[: err.start].count(b"\r") + 1
        raise InputError(path, NOT_UTF8.format(detail=f"byte 0x{raw[err.start]:02x}"), record=f"near line {line}") from err
    rows = []
    for lineno, line in enumerate(_LINE_END.split(text), start=1):
        if not line.strip():
            continue
        try:
            obj = json_loads(line, path, record=f"line {lineno}")
        except json.JSONDecodeError as err:
            raise InputError(path, f"is not valid JSON: {err.msg} at column {err.colno}; expected one JSON object "
                             "per line", record=f"line {lineno}") from err
        if not isinstance(obj, dict):
            raise InputError(path, f"expected a JSON object, got {type(obj).__name__}", record=f"line {lineno}")
        rows.append(obj)
    if not rows:
        raise InputError(path, EMPTY_FILE)
    return rows_to_frame(rows)


def _check_header_width(path: Path, delim: str) -> None:
    """Refuse a table with more columns than :func:`~analysis.formats.base.max_columns` before DuckDB reads it
    (its reader holds a buffer per column: 50,000 columns take gigabytes)."""
    limit = max_columns()
    with open(path, "rb") as handle:
        head = handle.readline(max_field_bytes() + 1)
    count = head.count(delim.encode()) + 1  # an upper bound (a quoted delimiter counts too): exact when above
    if count > limit:
        text = head.decode("utf-8-sig", errors="replace")
        count = len(next(csv.reader([text], delimiter=delim), []))
        if count > limit:
            raise InputError(path, TOO_MANY_COLUMNS.format(count=count, limit=limit), record="line 1")


def frame_source(frame: pd.DataFrame, name: str) -> SourceRun:
    """A pandas DataFrame given through the Python API (a notebook)."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(None, f"expected a pandas DataFrame, got {type(frame).__name__}")
    frame = frame.rename(columns=str)
    for column in frame.columns:
        if frame[column].dtype == object and any(_wide_int(v) for v in frame[column]):
            # Python ints beyond 64 bits (ids): their exact digits; Arrow and DuckDB cannot hold them as numbers
            frame[column] = frame[column].map(lambda v: str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
    return SourceRun("dataframe", [], name, frame=frame, record_label="row")


def _wide_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63


def diagnose_text_file(path: Path, fmt: str, duckdb_message: str) -> InputError:
    """Find the first line DuckDB could not read, and say what is wrong with it."""
    try:
        if fmt in ("jsonl",):
            for _ in iter_jsonl(path):
                pass
        else:
            for _ in iter_text_lines(path):
                pass
    except InputError as err:
        return err
    if fmt in ("csv", "tsv"):
        err = _diagnose_csv_shape(path, "\t" if fmt == "tsv" else ",")
        if err is not None:
            return err
    first = duckdb_message.strip().splitlines()[0] if duckdb_message.strip() else "unknown error"
    return InputError(path, f"could not be read as {fmt.upper()}: {first}")


def _diagnose_csv_shape(path: Path, delim: str) -> InputError | None:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delim)
        header = next(reader, None)
        if header is None:
            return None
        for index, row in enumerate(reader, start=1):
            if len(row) != len(header) and any(cell.strip() for cell in row):
                return InputError(path, f"has {len(row)} fields where the header has {len(header)}; "
                                  "expected the same number of fields on every row",
                                  record=f"row {index} (line {reader.line_num})")
    return None
