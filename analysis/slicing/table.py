"""Stratified slicing: which slices of a run are really worse, with intervals and FDR control.

Counts per slice come from one GROUPING SETS query (see :mod:`analysis.store.sql.slices`);
this module turns them into error rates, intervals (Wilson, or Clopper-Pearson for small
counts, the method stated per row), a test against the rest of the run (Fisher exact for
small expected counts, two-proportion z otherwise) and Benjamini-Hochberg q-values across
every slice tested in one analysis. Slices below the minimum support are reported as too
small, never as findings, and are not tested.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.errors import FaultlineError
from analysis.slicing.params import check_min_support, support_count
from analysis.store import RunSchema, Store
from analysis.store.sql import features as F
from analysis.store.sql import quote_ident
from analysis.store.sql import slices as Q

MISSING = "(missing)"
AttributeKind = Literal["categorical", "numeric", "boolean", "timestamp"]

#: Numbers with at most this many distinct values stay categorical (codes, 0/1 flags, turns).
FEW_DISTINCT = 12
#: Categorical fields with more distinct values than this are left out of the default attributes.
MAX_DEFAULT_CARDINALITY = 60

MSG_UNKNOWN_ATTRIBUTE = "Run {run!r} has no attribute {name!r}; attributes: {known}"
MSG_ORDER = "Invalid 'max_order' parameter: expected 1, 2 or 3, got {value!r}"
MSG_FDR = "Invalid 'fdr' parameter: expected a number in (0, 1), got {value!r}"
MSG_BINS = "Invalid 'bins' parameter: expected an integer from 2 to 20, got {value!r}"


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


#: Derived features sliced by (a subset of :data:`analysis.store.sql.features.FEATURES`, defined there).
DERIVED_ATTRIBUTES = ("input_length", "output_length", "turn", "is_refusal", "output_empty")
_SLICING_KIND = {"number": "numeric", "boolean": "boolean"}
DERIVED = {name: (_SLICING_KIND[F.FEATURES[name].kind], F.FEATURES[name].description) for name in DERIVED_ATTRIBUTES}


def list_attributes(store: Store, run: str | RunSchema) -> list[Attribute]:
    """Every attribute a run can be sliced by, metadata first, then signals, then derived ones.

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
    """Attributes worth slicing by default: metadata of modest cardinality and the derived context."""
    run = store.schema(run)
    fields = run.fields.set_index("column_name")
    chosen = []
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
    statement over the run (:func:`analysis.store.sql.slices.profile_sql`).

    Numbers with more than :data:`FEW_DISTINCT` values are cut at quantiles into ``bins``
    bins (or at the ``edges`` given for them); timestamps are grouped by
    :func:`analysis.store.sql.features.period_for_span`.
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
    """The bin :func:`analysis.store.sql.features.binned_expr` puts a value in (bins are monotone in the value)."""
    return next((i for i, edge in enumerate(cut) if value <= edge), len(cut))


def _prepare(store: Store, table: str, attr: Attribute, *, bins: int,
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


@dataclass
class SliceResult:
    """A slice table with the settings and totals it was computed with."""

    table: pd.DataFrame
    """One row per slice (see :func:`slice_table` for the columns)."""
    run_id: str
    attributes: list[Attribute]
    settings: dict
    total_n: int
    total_errors: int
    unscorable: int
    edges: dict[str, list[float]] = field(default_factory=dict)
    prepared: list[PreparedAttribute] = field(default_factory=list, repr=False)
    """How each attribute was sliced (its SQL and bins), to select a slice's examples without reading the run again."""

    @property
    def overall_error_rate(self) -> float:
        return self.total_errors / self.total_n if self.total_n else float("nan")

    def findings(self) -> pd.DataFrame:
        """Slices significantly worse than the rest of the run (q below the FDR level)."""
        return self.table[self.table["finding"]]

    def to_records(self) -> list[dict]:
        """JSON-ready rows (predicate as attribute/value pairs)."""
        cols = ["predicate", "order", "n", "errors", "error_rate", "ci_low", "ci_high", "ci_method", "mean_score",
                "rest_error_rate", "difference", "p_value", "test", "q_value", "too_small", "finding"]
        out = []
        for row in self.table[cols].to_dict("records"):
            row["predicate"] = [{"attribute": k, "value": v} for k, v in row["predicate"].items()]
            out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()})
        return out


def _check(max_order, min_support, fdr, bins) -> None:
    if max_order not in (1, 2, 3):
        raise FaultlineError(MSG_ORDER.format(value=max_order))
    check_min_support(min_support)
    if isinstance(fdr, bool) or not isinstance(fdr, (int, float)) or not 0 < fdr < 1:
        raise FaultlineError(MSG_FDR.format(value=fdr))
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 20:
        raise FaultlineError(MSG_BINS.format(value=bins))


def slice_table(store: Store, run: str, by: Sequence[str] | None = None, *, max_order: int = 2,
                min_support: int | float = 30, confidence: float = 0.95, fdr: float = 0.05, bins: int = 5,
                edges: dict[str, Sequence[float]] | None = None) -> SliceResult:
    """Every slice of a run over the given attributes, alone and in conjunctions up to ``max_order``.

    Columns of ``.table``: ``predicate`` (dict attribute -> value label), ``attributes``,
    ``values`` (raw values, for selecting examples), ``order``, ``n``, ``errors``,
    ``error_rate``, ``ci_low``, ``ci_high``, ``ci_method``, ``mean_score``, ``rest_n``,
    ``rest_errors``, ``rest_error_rate``, ``difference`` (slice minus rest), ``p_value``,
    ``test`` (fisher / z), ``q_value`` (Benjamini-Hochberg over every tested slice),
    ``too_small`` (n below ``min_support``, a count of examples or a fraction of the run's: not tested), ``finding`` (worse than the rest at
    the FDR level), sorted by evidence (q-value, then effect).

    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/d.duckdb")
    >>> df = pd.DataFrame({"prompt": ["q"] * 200, "lang": ["en"] * 100 + ["sw"] * 100,
    ...                    "correct": [True] * 90 + [False] * 10 + [True] * 50 + [False] * 50})
    >>> _ = s.ingest_frame(df, name="demo")
    >>> r = slice_table(s, "demo", ["lang"], min_support=10)
    >>> r.table[["predicate", "n", "error_rate", "finding"]].head(2).to_dict("records")
    [{'predicate': {'lang': 'sw'}, 'n': 100, 'error_rate': 0.5, 'finding': True}, {'predicate': {'lang': 'en'}, 'n': 100, 'error_rate': 0.1, 'finding': False}]
    """
    _check(max_order, min_support, fdr, bins)
    schema = store.schema(run)
    info = schema.run
    attrs = resolve_attributes(store, schema, by)
    if not attrs:
        raise FaultlineError(f"Run {info.name!r} has no attribute to slice by")
    prepared = prepare_attributes(store, info.table_name, attrs, bins=bins, edges=edges)
    if by is None:  # by default, leave out attributes with a single value (nothing to compare)
        prepared = [p for p in prepared if not p.constant] or prepared
        attrs = [p.attribute for p in prepared]
    cur = store.cursor()
    total = cur.execute(Q.totals_sql(info.table_name)).fetchall()[0]
    total_n, total_errors = int(total[0]), int(total[1] or 0)
    k = len(prepared)
    graded = bool(total[6])
    if max_order == 2 and k >= 2:
        # pairs from the examples, singles summed from the pair cells (one pass fewer per attribute)
        sets = list(itertools.combinations(range(k), 2))
        sql, params = Q.grouping_sets_sql(info.table_name, [p.sql for p in prepared], sets, with_scores=graded,
                                          derive_singles=True)
    else:
        sets = [s for order in range(1, min(max_order, k) + 1) for s in itertools.combinations(range(k), order)]
        sql, params = Q.grouping_sets_sql(info.table_name, [p.sql for p in prepared], sets, with_scores=graded)
    raw = cur.execute(sql, params).df()
    table = _post_process(raw, prepared, total_n, total_errors, min_support=support_count(min_support, total_n),
                          confidence=confidence, fdr=fdr)
    settings = {"attributes": [a.name for a in attrs], "max_order": max_order, "min_support": min_support,
                "confidence": confidence, "fdr": fdr, "bins": bins,
                "interval": "Wilson; Clopper-Pearson when n < 30 or fewer than 5 errors or successes",
                "test": "Fisher exact when an expected count < 5, else two-proportion z (pooled), two-sided",
                "multiple_testing": "Benjamini-Hochberg over every slice tested in this analysis"}
    return SliceResult(table, info.run_id, attrs, settings, total_n, total_errors, int(total[5] or 0),
                       {p.attribute.name: p.edges for p in prepared if p.edges is not None}, prepared)


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


def _is_constant(store: Store, table: str, prepared: PreparedAttribute) -> bool:
    """Whether an attribute has at most one value over the run (measured when it was prepared)."""
    return prepared.constant


def _label(prepared: PreparedAttribute, value) -> str:
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


def _raw(value):
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
    for row_index in range(len(raw)):
        g = int(gid[row_index])
        used = [i for i in range(k) if not (g >> (k - 1 - i)) & 1]
        pred, names, vals, words = {}, [], [], []
        for i in used:
            v = raw.iat[row_index, i]
            label = _label(prepared[i], v)
            pred[prepared[i].attribute.name] = label
            names.append(prepared[i].attribute.name)
            vals.append(_raw(v))
            words.append(describe_condition(prepared[i].attribute.name, label, binned=prepared[i].labels is not None))
        out.predicates.append(pred)
        out.attributes.append(tuple(names))
        out.values.append(tuple(vals))
        out.orders.append(len(used))
        out.descriptions.append(" AND ".join(words) or empty)
    return out


def _post_process(raw: pd.DataFrame, prepared: Sequence[PreparedAttribute], total_n: int, total_errors: int, *,
                  min_support: int, confidence: float, fdr: float) -> pd.DataFrame:
    decoded = decode_groups(raw, prepared)
    predicates, attributes, values = decoded.predicates, decoded.attributes, decoded.values
    orders, descriptions = decoded.orders, decoded.descriptions
    n = raw["n"].to_numpy(dtype=np.int64)
    errors = raw["errors"].to_numpy(dtype=np.int64)
    rest_n = total_n - n
    rest_errors = total_errors - errors
    too_small = n < min_support
    vs_rest = _stats.slice_vs_rest(errors, n, total_errors, total_n, tested=~too_small, confidence=confidence)
    low, high, method = vs_rest.ci_low, vs_rest.ci_high, vs_rest.ci_method
    p_value, test, q_value = vs_rest.p_value, vs_rest.test, vs_rest.q_value
    rate, rest_rate, difference = vs_rest.error_rate, vs_rest.rest_error_rate, vs_rest.difference
    with np.errstate(invalid="ignore", divide="ignore"):
        score_n = raw["score_n"].to_numpy(dtype=float)
        score_sum = raw["score_sum"].to_numpy(dtype=float)
        # scores equal to correctness are not aggregated separately: their mean is the accuracy
        mean_score = np.where(score_n > 0, score_sum / np.maximum(score_n, 1), 1.0 - errors / np.maximum(n, 1))
    # A conjunction holding exactly the examples of one of its parts adds nothing: mark it.
    n_of = {(a, v): int(c) for a, v, c in zip(attributes, values, n)}
    redundant = np.zeros(len(n), dtype=bool)
    for i, (names, vals) in enumerate(zip(attributes, values)):
        if len(names) < 2:
            continue
        for drop in range(len(names)):
            parent = (names[:drop] + names[drop + 1:], vals[:drop] + vals[drop + 1:])
            if n_of.get(parent) == n[i]:
                redundant[i] = True
                break
    finding = (~too_small) & (q_value < fdr) & (difference > 0) & ~redundant
    table = pd.DataFrame({
        "predicate": predicates, "attributes": attributes, "values": values, "order": orders,
        "description": descriptions,
        "n": n, "errors": errors, "error_rate": rate, "ci_low": low, "ci_high": high, "ci_method": method,
        "mean_score": mean_score, "rest_n": rest_n, "rest_errors": rest_errors, "rest_error_rate": rest_rate,
        "difference": difference, "p_value": p_value, "test": test, "q_value": q_value,
        "too_small": too_small, "redundant": redundant, "finding": finding,
    })
    table["_q"] = table["q_value"].fillna(2.0)
    # description last: ties come out of the hash aggregation in any order; the table must not
    table = table.sort_values(["_q", "difference", "n", "description"], ascending=[True, False, False, True],
                              kind="stable")
    return table.drop(columns="_q").reset_index(drop=True)


def heatmap(store: Store, run: str, x: str, y: str, *, min_support: int | float = 30, confidence: float = 0.95,
            bins: int = 5) -> pd.DataFrame:
    """Error rate over two attributes: one row per cell with n, errors, rate and interval.

    Cells come from the same analysis as :func:`slice_table` (q-values are over the two
    attributes and their conjunction).
    """
    result = slice_table(store, run, [x, y], max_order=2, min_support=min_support, confidence=confidence, bins=bins)
    return heatmap_cells(result, x, y).drop(columns="finding")


def heatmap_cells(result: SliceResult, x: str, y: str) -> pd.DataFrame:
    """The cells of a heatmap over two attributes: the pairs of ``result`` (an analysis by ``x`` and ``y``
    with ``max_order >= 2``), one row per pair of values present in the run.

    Returns a frame with a column ``x`` and a column ``y`` (the value labels), ``n``, ``errors``,
    ``error_rate``, ``ci_low``, ``ci_high`` (fractions in [0, 1]), ``q_value``, ``too_small`` and
    ``finding`` (worse than the rest at the analysis' FDR), in the analysis' order (by evidence).
    Empty when ``result`` has no pair of these two attributes.

    >>> result = SliceResult(table=pd.DataFrame({"predicate": [{"a": "1"}, {"a": "1", "b": "x"}], "order": [1, 2],
    ...     "n": [40, 20], "errors": [4, 3], "error_rate": [0.1, 0.15], "ci_low": [0.04, 0.05], "ci_high": [0.23, 0.36],
    ...     "q_value": [0.5, 0.4], "too_small": [False, True], "finding": [False, False]}),
    ...     run_id="r", attributes=[], settings={}, total_n=40, total_errors=4, unscorable=0)
    >>> heatmap_cells(result, "a", "b")[["a", "b", "n", "error_rate"]].to_dict("records")
    [{'a': '1', 'b': 'x', 'n': 20, 'error_rate': 0.15}]
    """
    pairs = result.table[result.table["order"] == 2]
    cells = pairs[[set(p) == {x, y} for p in pairs["predicate"]]] if len(pairs) else pairs
    return pd.DataFrame({
        x: [p[x] for p in cells["predicate"]], y: [p[y] for p in cells["predicate"]],
        "n": cells["n"].to_numpy(), "errors": cells["errors"].to_numpy(), "error_rate": cells["error_rate"].to_numpy(),
        "ci_low": cells["ci_low"].to_numpy(), "ci_high": cells["ci_high"].to_numpy(),
        "q_value": cells["q_value"].to_numpy(), "too_small": cells["too_small"].to_numpy(),
        "finding": cells["finding"].to_numpy(),
    }).reset_index(drop=True)


def slice_examples(store: Store, run: str, predicate: dict, *, limit: int | None = 500,
                   bins: int = 5, edges: dict[str, Sequence[float]] | None = None) -> pd.DataFrame:
    """The examples of one slice, failures first. ``predicate`` maps attribute names to value labels.

    Labels are those of :func:`slice_table` (``"(missing)"`` for missing values, bin labels for numbers).
    """
    schema = store.schema(run)
    info = schema.run
    attrs = resolve_attributes(store, schema, list(predicate))
    prepared = prepare_attributes(store, info.table_name, attrs, bins=bins, edges=edges)
    raw_values = []
    for p in prepared:
        label = predicate[p.attribute.name] if p.attribute.name in predicate else predicate[p.attribute.column]
        raw_values.append(_label_to_raw(store, info.table_name, p, label))
    where, params = Q.predicate_where([p.sql for p in prepared], raw_values)
    sql, params = Q.slice_examples_sql(info.table_name, where, params, limit=limit)
    return store.cursor().execute(sql, params).df()


def _label_to_raw(store: Store, table: str, prepared: PreparedAttribute, label):
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
        if _label(prepared, value) == label:
            return _raw(value)
    raise FaultlineError(f"{prepared.attribute.name} has no value {label!r}")


def settings_dict(result: SliceResult) -> dict:
    return {**result.settings, "attributes_detail": [asdict(a) for a in result.attributes]}
