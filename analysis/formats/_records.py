"""Turning parsed log records into one typed table, driven by column specs.

Each structured format describes its mapping as data: a list of :class:`ColumnSpec`
(target column, path inside the record, role). :func:`records_to_frame` is the one generic
extractor, so a new format is mostly a new list of specs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.errors import InputError

_MISSING = object()


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a format's table."""

    name: str
    """Column name in the extracted table."""
    path: tuple[str, ...] | Callable[[dict], Any]
    """Keys leading to the value inside a record, or a function of the record."""
    role: str
    """Role in the store (see :mod:`analysis.formats.roles`)."""
    required: bool = False
    """When True a record without the value is an error naming the record and path."""


def get_path(record: Any, path: Sequence[str]) -> Any:
    """Follow ``path`` into nested dicts/lists; ``_MISSING`` when absent.

    >>> get_path({"a": {"b": [5, 6]}}, ("a", "b", "1"))
    6
    """
    value = record
    for key in path:
        if isinstance(value, dict):
            if key not in value:
                return _MISSING
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return _MISSING
    return value


def is_missing(value: Any) -> bool:
    return value is _MISSING


def flatten(prefix: str, value: Any, out: dict[str, Any], *, depth: int = 0, max_depth: int = 2) -> None:
    """Flatten nested dicts into dotted keys (``meta.nested.foo``); lists become JSON text."""
    if isinstance(value, dict) and depth < max_depth:
        for key, sub in value.items():
            flatten(f"{prefix}.{key}" if prefix else str(key), sub, out, depth=depth + 1, max_depth=max_depth)
    else:
        out[prefix] = value


def json_kind(value: Any) -> str:
    """How a JSON value is named in an error: ``text 'abc'``, ``a list``, ``the number 3``, ``null``...

    >>> json_kind("abc"), json_kind([1]), json_kind(None), json_kind(3)
    ("text 'abc'", 'a list', 'null', 'the number 3')
    """
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "an object"


def expect(value: Any, kind: type | tuple[type, ...], file, record: str | None, field: str, *, default: Any = None):
    """``value`` when it is of ``kind``, ``default`` when absent (None), else an InputError naming file, record
    and field (``kind`` dict: an object, list: a list, str: text)."""
    if value is None:
        return default
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
        return value
    wanted = " or ".join({dict: "an object", list: "a list", str: "text", int: "a whole number",
                          float: "a number"}.get(k, k.__name__) for k in kinds)
    raise InputError(file, f"expected {wanted}, got {json_kind(value)}", record=record, field=field)


def message_text(value: Any) -> str | None:
    """Text of a prompt that may be a string, a chat message list, or content parts."""
    if value is None or value is _MISSING:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "content" in value:
            role = value.get("role")
            text = message_text(value["content"])
            return f"{role}: {text}" if role and text is not None else text
        if "text" in value:
            return message_text(value["text"])
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        parts = [message_text(v) for v in value]
        return "\n\n".join(p for p in parts if p)
    return str(value)


_INT64 = (-(2**63), 2**63 - 1)


def _column_kind(values: list[Any]) -> str:
    kinds = set()
    for v in values:
        if v is None:
            continue
        if isinstance(v, float) and math.isnan(v):
            continue
        if isinstance(v, (bool, np.bool_)):
            kinds.add("bool")
        elif isinstance(v, (int, np.integer)):
            kinds.add("int")
        elif isinstance(v, (float, np.floating)):
            kinds.add("float")
        elif isinstance(v, str):
            kinds.add("str")
        else:
            kinds.add("json")
    if not kinds:
        return "str"
    if kinds == {"bool"}:
        return "bool"
    if kinds <= {"int"}:  # integers beyond 64 bits (no column type holds them exactly) are kept as text
        return "int" if all(_INT64[0] <= v <= _INT64[1] for v in values if v is not None) else "mixed"
    if kinds <= {"int", "float"}:
        return "float" if all(_INT64[0] <= v <= _INT64[1] for v in values if isinstance(v, int)) else "mixed"
    if kinds == {"str"}:
        return "str"
    return "mixed"


def typed_series(values: list[Any]) -> pd.Series:
    """One column with a single consistent type, so DuckDB sees a clean schema.

    Mixed columns (a number in one record, text in another) become text; nested values
    become JSON text.
    """
    kind = _column_kind(values)
    if kind == "bool":
        return pd.Series([None if v is None else bool(v) for v in values], dtype="boolean")
    if kind == "int":
        return pd.Series(values, dtype="Int64")
    if kind == "float":
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    if kind == "str":
        return pd.Series(values, dtype="str")
    out = []
    for v in values:
        if v is None:
            out.append(None)
        elif isinstance(v, str):
            out.append(v)
        else:
            out.append(json.dumps(v, ensure_ascii=False, sort_keys=True, default=str))
    return pd.Series(out, dtype="str")


def rows_to_frame(rows: Iterable[dict[str, Any]], order: Sequence[str] = ()) -> pd.DataFrame:
    """Build a typed DataFrame from dict rows whose keys may differ from row to row."""
    rows = list(rows)
    columns: list[str] = list(order)
    seen = set(columns)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    data = {c: typed_series([row.get(c) for row in rows]) for c in columns}
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))


def strip_prefixes(frame: pd.DataFrame, roles: dict[str, str], prefixes: Sequence[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Drop ``prefix:`` from column names where that causes no clash (``doc:polarity`` -> ``polarity``).

    A clashing name keeps its prefix, written with a dot (``doc.input``).
    """
    taken = {c for c in frame.columns if ":" not in c}
    renames: dict[str, str] = {}
    for col in frame.columns:
        head, sep, tail = col.partition(":")
        if not sep or head not in prefixes:
            continue
        new = tail if tail not in taken else f"{head}.{tail}"
        while new in taken:
            new += "_"
        taken.add(new)
        renames[col] = new
    frame = frame.rename(columns=renames)
    return frame, {renames.get(c, c): r for c, r in roles.items()}
