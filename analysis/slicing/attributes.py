"""The attribute layer: what a run can be sliced by, and how each attribute becomes SQL and labels.

An :class:`Attribute` is a metadata field, an objective signal, a computed column (clusters,
failure-mode labels) or a derived context feature (defined once in
:mod:`analysis.sql.features`). :func:`prepare_attributes` decides, from one statement over
the run, how each is sliced: categorical values as they are, numbers with many values in
quantile bins, timestamps by period, a missing value as its own slice (:data:`MISSING`). Every
analysis (slice tables, heatmaps, discovery, comparisons, failure modes, the objective link)
labels values with :func:`value_label` and reads grouping-sets rows with :func:`decode_groups`,
so the same example carries the same slice description everywhere.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from analysis.errors import FaultlineError
from analysis.sql import features as F
from analysis.sql import quote_ident
from analysis.sql import slices as Q
from analysis.store import RunSchema, Store

MISSING = "(missing)"


AttributeKind = Literal["categorical", "numeric", "boolean", "timestamp"]


#: Numbers with at most this many distinct values stay categorical (codes, 0/1 flags, turns).
FEW_DISTINCT = 12


#: Categorical fields with more distinct values than this are left out of the default attributes.
MAX_DEFAULT_CARDINALITY = 60


#: Environment variable capping the default attribute list (default 24): with more candidates, the first that many.
MAX_DEFAULT_ATTRIBUTES_ENV = "FAULTLINE_MAX_DEFAULT_ATTRIBUTES"
MSG_DEFAULT_CAPPED = ("By default the first {cap} of {total} attributes are sliced ({env}={cap}); "
                      "name others to slice by them (any number can be named)")


def max_default_attributes() -> int:
    """The cap on the default attribute list (:data:`MAX_DEFAULT_ATTRIBUTES_ENV`, default 24, at least 1)."""
    raw = os.environ.get(MAX_DEFAULT_ATTRIBUTES_ENV, "24")
    try:
        value = int(raw)
    except ValueError:
        raise FaultlineError(f"{MAX_DEFAULT_ATTRIBUTES_ENV} must be a whole number of attributes, got {raw!r}") from None
    if value < 1:
        raise FaultlineError(f"{MAX_DEFAULT_ATTRIBUTES_ENV} must be at least 1, got {value}")
    return value


class AttributeList(list):
    """A list of attributes; ``note`` says when the default list was capped (empty otherwise)."""

    note: str = ""


MSG_UNKNOWN_ATTRIBUTE = "Run {run!r} has no attribute {name!r}; attributes: {known}"


@dataclass(frozen=True)
class Attribute:
    """Something to slice by: a metadata field, an objective signal, or a derived context feature."""

    name: str
    """Name used by the CLI, the pages and predicates (``language``, ``input_length``)."""
    column: str | None
    """Stored column it reads (``meta.language``); None for derived attributes."""
    kind: AttributeKind
    source: Literal["metadata", "signal", "derived", "cluster"]
    """Where it comes from: a logged field, an objective signal, derived from the texts, or a clustering."""
    description: str = ""


#: Derived features sliced by (a subset of :data:`analysis.sql.features.FEATURES`, defined there).
DERIVED_ATTRIBUTES = ("input_length", "output_length", "turn", "is_refusal", "output_empty")


_SLICING_KIND = {"number": "numeric", "boolean": "boolean"}


DERIVED = {name: (_SLICING_KIND[F.FEATURES[name].kind], F.FEATURES[name].description) for name in DERIVED_ATTRIBUTES}


def list_attributes(store: Store, run: str | RunSchema) -> list[Attribute]:
    """Every attribute a run can be sliced by, metadata first, then signals, then derived ones.

    Free-text and vector columns are left out (free text can still be sliced by when named,
    see :func:`resolve_attributes`). A logged field named like a derived feature (``turn``)
    replaces the derived one.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str or RunSchema
        Run name or id, or its schema (read once per analysis, :meth:`Store.schema`).

    Returns
    -------
    list of Attribute
        In order: metadata fields, objective signals, computed columns (clusters, failure-mode
        labels), then the derived context features of :data:`DERIVED_ATTRIBUTES`. Each has
        ``name``, ``column`` (None for derived ones), ``kind`` (categorical, numeric, boolean,
        timestamp), ``source`` and ``description``.

    Raises
    ------
    RunNotFoundError
        When the store has no such run (the message lists the runs).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/a.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "correct": [True, False], "lang": ["en", "sw"]}), name="r")
    >>> [a.name for a in list_attributes(s, "r")]
    ['lang', 'input_length', 'output_length', 'turn', 'is_refusal', 'output_empty']
    """
    fields = store.schema(run).fields
    out: list[Attribute] = []
    taken = set()
    for row in fields.itertuples():
        if row.role not in ("metadata", "signal", "cluster", "failure_mode") or row.kind in ("text", "vector"):
            continue
        # metadata and signals by their own name; computed columns keep their prefix (cluster.output)
        name = row.column_name.split(".", 1)[1] if row.role != "cluster" else row.column_name
        if name in taken:
            name = row.column_name
        taken.add(name)
        out.append(Attribute(name, row.column_name, row.kind, row.role if row.role != "metadata" else "metadata"))
    for name, (kind, description) in DERIVED.items():
        if name not in taken:  # a logged field of the same name (e.g. turn) is the better source
            out.append(Attribute(name, None, kind, "derived", description))
    return out


def default_attributes(store: Store, run: str | RunSchema) -> list[Attribute]:
    """Attributes worth slicing by default: metadata of modest cardinality and the derived context.

    From :func:`list_attributes`, leaves out objective signals, categorical fields with more than
    :data:`MAX_DEFAULT_CARDINALITY` distinct values, and categorical fields with a single value and
    no missing value (nothing to compare); at most :func:`max_default_attributes` of them (the first,
    metadata before derived features), the list's ``note`` then saying so.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str or RunSchema
        Run name or id, or its schema.

    Returns
    -------
    AttributeList
        A subset of :func:`list_attributes`, in the same order (a list; ``.note`` names the cap when it applied).

    Raises
    ------
    RunNotFoundError
        When the store has no such run (the message lists the runs).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/d.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "correct": [True, False], "lang": ["en", "sw"],
    ...                                  "conf": [0.9, 0.4]}), name="r")
    >>> [a.name for a in default_attributes(s, "r")][:2]
    ['lang', 'conf']
    """
    run = store.schema(run)
    fields = run.fields.set_index("column_name")
    chosen = AttributeList()
    for attr in list_attributes(store, run):
        if attr.source == "signal":
            continue
        if attr.column is not None and attr.kind == "categorical":
            distinct = fields.loc[attr.column, "n_distinct"]
            if pd.notna(distinct) and distinct > MAX_DEFAULT_CARDINALITY:
                continue
            missing = fields.loc[attr.column, "n_missing"]
            if pd.notna(distinct) and distinct <= 1 and not (pd.notna(missing) and missing > 0):
                continue
        chosen.append(attr)
    cap = max_default_attributes()
    if len(chosen) > cap:
        capped = AttributeList(chosen[:cap])
        capped.note = MSG_DEFAULT_CAPPED.format(cap=cap, total=len(chosen), env=MAX_DEFAULT_ATTRIBUTES_ENV)
        return capped
    return chosen


def resolve_attributes(store: Store, run: str | RunSchema, names: Sequence[str] | None) -> list[Attribute]:
    """Attributes by name (``language`` or ``meta.language``); None gives the defaults."""
    label = run if isinstance(run, str) else run.run_id
    run = store.schema(run)
    if names is None:
        return default_attributes(store, run)
    available = list_attributes(store, run)
    by_name = {a.name: a for a in available} | {a.column: a for a in available if a.column}
    # Free-text metadata is left out of the lists, but slicing by it is allowed when asked by name.
    for row in run.fields.itertuples():
        if row.role == "metadata" and row.kind == "text":
            short = row.column_name.split(".", 1)[1]
            attr = Attribute(short if short not in by_name else row.column_name, row.column_name, "categorical",
                             "metadata", "free text, sliced by exact value")
            by_name.setdefault(attr.name, attr)
            by_name.setdefault(row.column_name, attr)
    out = []
    for name in names:
        name = name.strip()
        if name not in by_name:
            raise FaultlineError(MSG_UNKNOWN_ATTRIBUTE.format(run=label, name=name,
                                                              known=", ".join(a.name for a in available)))
        if by_name[name] not in out:
            out.append(by_name[name])
    return out


@dataclass
class PreparedAttribute:
    attribute: Attribute
    sql: Q.AttributeSQL
    labels: dict | None  # raw value -> label, for binned numbers
    edges: list[float] | None = None
    constant: bool = False
    """At most one value (a missing value counts as one) over the run: nothing to compare."""


def _base_expr(attr: Attribute) -> tuple[str, list]:
    if attr.column is None:
        return F.feature_sql(attr.name)
    return quote_ident(attr.column), []


def prepare_attributes(store: Store, table: str, attrs: Sequence[Attribute], *, bins: int,
                       edges: dict[str, Sequence[float]] | None) -> list[PreparedAttribute]:
    """How each attribute is sliced (its SQL, bins of numbers, periods of timestamps), from one
    statement over the run (:func:`analysis.sql.slices.profile_sql`).

    Numbers with more than :data:`FEW_DISTINCT` values are cut at quantiles into ``bins``
    bins (or at the ``edges`` given for them); timestamps are grouped by
    :func:`analysis.sql.features.period_for_span`.
    """
    quantiles = [i / bins for i in range(1, bins)]
    requests = []
    for attr in attrs:
        expr, params = _base_expr(attr)
        numeric, temporal = attr.kind == "numeric", attr.kind == "timestamp"
        given = (edges or {}).get(attr.name) if numeric else None
        requests.append(Q.ProfileRequest(expr, params, value_range=numeric or temporal,
                                         quantiles=quantiles if numeric and given is None else (),
                                         day_distinct=temporal))
    if not requests:
        return []
    row = list(store.cursor().execute(*Q.profile_sql(table, requests)).fetchall()[0])
    out = []
    for attr, req in zip(attrs, requests):
        distinct, missing = row.pop(0), row.pop(0)
        lo, hi = (row.pop(0), row.pop(0)) if req.value_range else (None, None)
        found = [row.pop(0) for _ in req.quantiles]
        days = row.pop(0) if req.day_distinct else None
        expr, params = req.expr, req.params
        if attr.kind == "timestamp":
            span_days = (hi - lo).days if lo is not None and hi is not None else 0
            period = F.period_for_span(span_days)
            texpr, tparams = F.period_expr(expr, params, period)
            # a period longer than a day is chosen only when the values span several of them
            n_periods = days if period == "day" else distinct
            out.append(PreparedAttribute(attr, Q.AttributeSQL(attr.name, texpr, tparams), None,
                                         constant=_at_most_one(n_periods, missing)))
            continue
        given = (edges or {}).get(attr.name) if attr.kind == "numeric" else None
        if attr.kind != "numeric" or (given is None and distinct <= FEW_DISTINCT):
            out.append(PreparedAttribute(attr, Q.AttributeSQL(attr.name, expr, params), None,
                                         constant=_at_most_one(distinct, missing)))
            continue
        if given is not None:
            cut = sorted(float(e) for e in given)
        else:
            cut = sorted({float(e) for e in found if e is not None and math.isfinite(e)})
        bexpr, bparams = F.binned_expr(expr, params, cut)
        labels = {i: _bin_label(cut, i) for i in range(len(cut) + 1)}
        n_bins = 0 if lo is None else (1 if _bin_of(lo, cut) == _bin_of(hi, cut) else 2)
        out.append(PreparedAttribute(attr, Q.AttributeSQL(attr.name, bexpr, bparams, labels), labels, cut,
                                     constant=_at_most_one(n_bins, missing)))
    return out


def _at_most_one(distinct: int, missing: int) -> bool:
    return distinct + (1 if missing else 0) <= 1


def _bin_of(value, cut: Sequence[float]) -> int:
    """The bin :func:`analysis.sql.features.binned_expr` puts a value in (bins are monotone in the value)."""
    return next((i for i, edge in enumerate(cut) if value <= edge), len(cut))


def prepare_attribute(store: Store, table: str, attr: Attribute, *, bins: int,
             edges: dict[str, Sequence[float]] | None) -> PreparedAttribute:
    return prepare_attributes(store, table, [attr], bins=bins, edges=edges)[0]


def _fmt(x: float) -> str:
    if x == int(x) and abs(x) < 1e12:
        return f"{int(x):,}"
    return f"{x:,.3g}" if abs(x) >= 1 else f"{x:.3g}"


def _bin_label(edges: Sequence[float], index: int) -> str:
    if not edges:
        return "all"
    if index == 0:
        return f"≤ {_fmt(edges[0])}"
    if index == len(edges):
        return f"> {_fmt(edges[-1])}"
    return f"{_fmt(edges[index - 1])} – {_fmt(edges[index])}"


def describe_condition(name: str, label: str, *, binned: bool = False) -> str:
    """``language = sw``; for binned numbers ``tokens ≤ 12``, ``tokens > 300``, ``tokens in 12 – 57``.

    >>> describe_condition("tokens", "≤ 12", binned=True), describe_condition("lang", "sw")
    ('tokens ≤ 12', 'lang = sw')
    """
    if binned and label != MISSING:
        if label.startswith(("≤ ", "> ")):
            return f"{name} {label}"
        return f"{name} in {label}"
    return f"{name} = {label}"


def value_label(prepared: PreparedAttribute, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return MISSING
    if prepared.labels is not None:
        return prepared.labels[int(value)]
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, datetime):  # pd.Timestamp from a DataFrame, datetime from fetchall
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def raw_value(value):
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


@dataclass
class DecodedSlices:
    """The slice of every row of a GROUPING SETS result: predicates, raw values and descriptions."""

    predicates: list[dict]
    attributes: list[tuple]
    values: list[tuple]
    orders: list[int]
    descriptions: list[str]


def decode_groups(raw: pd.DataFrame, prepared: Sequence[PreparedAttribute], *, empty: str = "") -> DecodedSlices:
    """Read which attributes each row groups on (its ``gid`` bitmask) and label their values.

    ``empty`` describes the row that groups on nothing (the whole run), when there is one.
    """
    k = len(prepared)
    gid = raw["gid"].to_numpy() if k else np.zeros(len(raw), dtype=np.int64)
    out = DecodedSlices([], [], [], [], [])
    columns = [list(raw.iloc[:, i]) for i in range(k)]  # column lists: no per-cell DataFrame lookups
    used_of: dict[int, list[int]] = {}
    seen: list[dict] = [{} for _ in range(k)]  # per attribute: value -> (label, raw value, words)

    def decode(i: int, v) -> tuple:
        try:
            return seen[i][(type(v), v)]
        except (KeyError, TypeError):  # a new or unhashable value (NaN is never equal: decoded each time)
            label = value_label(prepared[i], v)
            found = (label, raw_value(v), describe_condition(prepared[i].attribute.name, label,
                                                             binned=prepared[i].labels is not None))
            with contextlib.suppress(TypeError):
                seen[i][(type(v), v)] = found
            return found

    for row_index in range(len(raw)):
        g = int(gid[row_index])
        used = used_of.get(g)
        if used is None:
            used = used_of[g] = [i for i in range(k) if not (g >> (k - 1 - i)) & 1]
        pred, names, vals, words = {}, [], [], []
        for i in used:
            label, value, word = decode(i, columns[i][row_index])
            pred[prepared[i].attribute.name] = label
            names.append(prepared[i].attribute.name)
            vals.append(value)
            words.append(word)
        out.predicates.append(pred)
        out.attributes.append(tuple(names))
        out.values.append(tuple(vals))
        out.orders.append(len(used))
        out.descriptions.append(" AND ".join(words) or empty)
    return out


def label_to_raw(store: Store, table: str, prepared: PreparedAttribute, label):
    if label is None or label == MISSING:
        return None
    if prepared.labels is not None:
        for raw, text in prepared.labels.items():
            if text == label:
                return raw
        raise FaultlineError(f"{label!r} is not a bin of {prepared.attribute.name}; bins: "
                             + ", ".join(prepared.labels.values()))
    if not isinstance(label, str):
        return label
    values = store.cursor().execute(*Q.distinct_values_sql(table, prepared.sql)).fetchall()
    for (value,) in values:
        if value_label(prepared, value) == label:
            return raw_value(value)
    raise FaultlineError(f"{prepared.attribute.name} has no value {label!r}")
