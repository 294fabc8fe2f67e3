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

import copy
import math
import os
import re
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd

from analysis.errors import FaultlineError
from analysis.slicing.grouping import batches
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
    """A list of attributes; ``note`` says when the default list was capped (empty otherwise); ``left_out``
    (attribute name -> why, in plain words) what the default list left out and why, ``left_out_kind`` (name ->
    ``output-derived``, ``leaks the outcome``, ``a single value``, ``too many values``, ``computed``, ``beyond the
    cap``) the same in a word (:func:`default_attributes`)."""

    note: str = ""
    left_out: dict[str, str]
    left_out_kind: dict[str, str]

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.left_out, self.left_out_kind = {}, {}

    def left_out_line(self) -> str:
        """What the defaults left out, grouped by why, in one line (empty when nothing was).

        ``Left out of the default attributes (name them to slice by them): output-derived: cost_usd, latency_ms;
        too many values: paraphrase_group``; an attribute that leaks the outcome with the share it removes.
        """
        if not self.left_out:
            return ""
        groups: dict[str, list[str]] = {}
        for name, why in self.left_out.items():
            kind = self.left_out_kind.get(name, "")
            shown = name
            if kind == LEFT_LEAKS:
                found = re.search(r"(together with \S+)?: knowing (?:it|both) removes (\d+%)", why)
                if found:
                    shown += f" ({(found.group(1) or '').removeprefix('together ') + ', ' if found.group(1) else ''}"
                    shown += f"removes {found.group(2)} of the uncertainty about correctness)"
            groups.setdefault(kind or "other", []).append(shown)
        return ("Left out of the default attributes (name them to slice by them): "
                + "; ".join(f"{kind}: {', '.join(names)}" for kind, names in groups.items()))


LEFT_OUTCOME, LEFT_LEAKS, LEFT_CONSTANT = "output-derived", "leaks the outcome", "a single value"
LEFT_CARDINALITY, LEFT_COMPUTED, LEFT_CAP = "too many values", "computed", "beyond the cap"


MSG_UNKNOWN_ATTRIBUTE = "Run {run!r} has no attribute {name!r}; attributes: {known}"


AttributeRole = Literal["context", "outcome"]


@dataclass(frozen=True)
class Attribute:
    """Something to slice by: a metadata field, an objective signal, or a derived context feature."""

    name: str
    """Name used by the CLI, the pages and predicates (``language``, ``input_length``)."""
    column: str | None
    """Stored column it reads (``meta.language``); None for derived attributes."""
    kind: AttributeKind
    source: Literal["metadata", "signal", "derived", "cluster", "failure_mode"]
    """Where it comes from: a logged field, an objective signal, derived from the texts, a clustering, or a
    failure-mode label."""
    description: str = ""
    role: AttributeRole = "context"
    """``context``: where a model fails (a subgroup, metadata of the input, the task or the population, the
    input's length, the turn); a default attribute. ``outcome``: what a failure looks like (derived from the
    output, the reference or correctness: lengths of the output, cost, latency, confidence, refusal, a score,
    a judge's verdict, the label or the prediction); opt-in, never a default (:func:`classify_attribute`,
    and the leakage check of :func:`attribute_notes`)."""
    reason: str = ""
    """Why it is an outcome attribute, in plain words (empty for a context attribute)."""


#: Derived features sliced by (a subset of :data:`analysis.sql.features.FEATURES`, defined there).
DERIVED_ATTRIBUTES = ("input_length", "output_length", "turn", "is_refusal", "output_empty")


_SLICING_KIND = {"number": "numeric", "boolean": "boolean"}


DERIVED = {name: (_SLICING_KIND[F.FEATURES[name].kind], F.FEATURES[name].description) for name in DERIVED_ATTRIBUTES}


# ---------------------------------------------------------------------------- context or outcome
#: Words of an attribute's name that place it on the input side (``prompt_tokens``, ``input_chars``,
#: ``question_type``): they win over the words below.
_CONTEXT_WORDS = frozenset({"input", "inputs", "prompt", "prompts", "question", "questions", "query", "queries",
                            "instruction", "instructions", "context", "system", "history", "conversation", "turn",
                            "turns", "doc", "document", "passage", "topic", "subject", "category", "domain",
                            "language", "lang", "locale", "user", "segment", "group", "population", "split",
                            "subset", "task", "difficulty", "level"})

#: Words of an attribute's name that say it describes the outcome, by what they say it is.
_OUTCOME_WORDS: dict[str, frozenset[str]] = {
    "describes the model's output": frozenset({
        "output", "outputs", "response", "responses", "completion", "completions", "generation", "generated",
        "answer", "answers", "sampled", "reply", "resps", "length", "len", "chars", "characters", "words", "bytes"}),
    "holds or comes from the prediction, the label or the reference": frozenset({
        "pred", "preds", "prediction", "predictions", "predicted", "picked", "chosen", "label", "labels", "target",
        "targets", "gold", "reference", "references", "expected", "ideal", "truth", "outcome"}),
    "is a score, a grade or correctness": frozenset({
        "correct", "correctness", "incorrect", "accuracy", "acc", "exact", "em", "f1", "bleu", "rouge", "score",
        "scores", "pass", "passed", "fail", "failed", "failure", "success", "error", "errors", "wrong", "match",
        "matched", "metric", "metrics", "reward", "rm", "kl", "loss", "penalty", "win", "winner", "preferred",
        "preference"}),
    "is a judge's or a grader's output": frozenset({
        "judge", "judged", "judgement", "judgment", "grader", "grade", "graded", "grading", "rating", "rated",
        "rater", "verdict", "feedback", "critique", "annotator"}),
    "is the model's confidence in its output": frozenset({
        "confidence", "conf", "prob", "probs", "probability", "logprob", "logprobs", "logit", "logits", "entropy",
        "perplexity", "ppl", "certainty", "uncertainty"}),
    "is what producing the output cost (time, money or tokens)": frozenset({
        "cost", "costs", "price", "usd", "latency", "duration", "elapsed", "seconds", "secs", "ms", "runtime",
        "tokens"}),
    "describes the output (a refusal, an empty or cut-off answer)": frozenset({
        "refusal", "refusals", "refused", "refuse", "empty", "truncated", "finish", "stop", "stopped", "abstain",
        "abstained", "abstention"}),
}


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def classify_attribute(name: str, *, source: str, column: str | None = None,
                       kind: str | None = None) -> tuple[AttributeRole, str]:
    """Whether an attribute is context (where a model fails) or outcome (what its failure looks like), and why.

    The one definition of the classification, from what Faultline knows before reading the data
    (the data's part is the leakage check of :func:`attribute_notes`):

    - objective signals, failure-mode labels and clusters of the outputs are outcome;
    - derived features are outcome when they read the output or the reference
      (:attr:`analysis.sql.features.Feature.reads`: ``output_length``, ``is_refusal``, ``output_empty``);
    - a logged field is outcome when a word of its name says it describes the output, the
      prediction, the label or the reference, a score or correctness, a judge's verdict, the
      model's confidence, or what the output cost (time, money, tokens), unless a word places it
      on the input side (``prompt_tokens``, ``question_type``); timestamps are context.

    Parameters
    ----------
    name : str
        The attribute's name (``cost_usd``; the stored column's prefix left out).
    source : {"metadata", "signal", "derived", "cluster", "failure_mode"}
        Where it comes from (:attr:`Attribute.source`).
    column : str, optional
        The stored column (``cluster.output``), for clusters.
    kind : str, optional
        ``categorical``, ``numeric``, ``boolean`` or ``timestamp``.

    Returns
    -------
    tuple of (str, str)
        ``("context", "")`` or ``("outcome", reason in plain words)``.

    Raises
    ------
    KeyError
        A derived ``name`` that :data:`analysis.sql.features.FEATURES` does not define.

    Examples
    --------
    >>> classify_attribute("language", source="metadata")
    ('context', '')
    >>> classify_attribute("latency_ms", source="metadata")
    ('outcome', "output-derived: its name ('latency') says it is what producing the output cost (time, money or tokens)")
    >>> classify_attribute("prompt_tokens", source="metadata")[0], classify_attribute("output_length", source="derived")
    ('context', ('outcome', 'output-derived: computed from the output'))
    """
    if source == "signal":
        return "outcome", "output-derived: an objective signal (a reward, a penalty, a divergence) of the output"
    if source == "failure_mode":
        return "outcome", "output-derived: a failure-mode label, computed from the outcome"
    if source == "cluster":
        if (column or name).rsplit(".", 1)[-1] == "input":
            return "context", ""
        return "outcome", "output-derived: clusters computed over the outputs"
    if source == "derived":
        read = [r for r in F.FEATURES[name].reads if r != "input"]
        return ("outcome", f"output-derived: computed from the {' and the '.join(read)}") if read else ("context", "")
    if kind == "timestamp":
        return "context", ""
    words = _words(name)
    if any(w in _CONTEXT_WORDS for w in words):
        return "context", ""
    for why, vocabulary in _OUTCOME_WORDS.items():
        hit = next((w for w in words if w in vocabulary), None)
        if hit is not None:
            return "outcome", f"output-derived: its name ({hit!r}) says it {why}"
    return "context", ""


def list_attributes(store: Store, run: str | RunSchema) -> list[Attribute]:
    """Every attribute a run can be sliced by, metadata first, then signals, then derived ones.

    Free-text and vector columns are left out (free text can still be sliced by when named,
    see :func:`resolve_attributes`). A logged field named like a derived feature (``turn``)
    replaces the derived one. Each is marked context or outcome by :func:`classify_attribute`
    (from names, roles and derived features; :func:`attribute_notes` adds the leakage check).

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
        labels), then the derived features of :data:`DERIVED_ATTRIBUTES`. Each has
        ``name``, ``column`` (None for derived ones), ``kind`` (categorical, numeric, boolean,
        timestamp), ``source``, ``description``, ``role`` (context or outcome) and ``reason``.

    Raises
    ------
    RunNotFoundError
        When the store has no such run (the message lists the runs).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/a.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "correct": [True, False], "lang": ["en", "sw"]}), name="r")
    >>> [(a.name, a.role) for a in list_attributes(s, "r")][:3]
    [('lang', 'context'), ('input_length', 'context'), ('output_length', 'outcome')]
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
        role, reason = classify_attribute(row.column_name.split(".", 1)[-1], source=row.role, column=row.column_name,
                                          kind=row.kind)
        out.append(Attribute(name, row.column_name, row.kind, row.role, role=role, reason=reason))
    for name, (kind, description) in DERIVED.items():
        if name not in taken:  # a logged field of the same name (e.g. turn) is the better source
            role, reason = classify_attribute(name, source="derived", kind=kind)
            out.append(Attribute(name, None, kind, "derived", description, role=role, reason=reason))
    return out


# ------------------------------------------------------------------------------- the leakage check
#: An attribute whose values (alone, or with one other attribute) remove at least this share of the uncertainty
#: about correctness (the uncertainty coefficient, Theil's U: mutual information / entropy of correctness) is
#: left out of the defaults as leaking the outcome. Half is far from both sides: a real subgroup, even a strong
#: one (the demo's ``language = sw``, 52% errors against 16%), removes a few percent, because it is one part of
#: the run; the label, the prediction, or a column computed with them removes nearly all of it.
LEAKAGE_THRESHOLD = 0.5

#: Cells (values, or pairs of values) with fewer examples than this are pooled into one before the leakage
#: check: a small cell is often pure by chance, and pairs of many values would otherwise look leaking. In a run of
#: fewer than 20 x 30 examples the limit is a twentieth of the run, at least :data:`LEAKAGE_MIN_CELL_SMALL`
#: (:func:`leakage_min_cell`), so that a label and a prediction of three values each still show in 100 examples.
LEAKAGE_MIN_CELL = 30
LEAKAGE_MIN_CELL_SMALL = 10

#: The leakage check reads at most about this many examples (a deterministic sample by example-id hash beyond it):
#: a share of uncertainty of one half is a gross property, and 50,000 examples measure it to well under a point,
#: while every pair of attributes over a million examples would take seconds.
LEAKAGE_SAMPLE = 50_000


def leakage_min_cell(n: int) -> int:
    """The least cell size the leakage check keeps apart, for a run of ``n`` examples.

    >>> leakage_min_cell(100), leakage_min_cell(400), leakage_min_cell(20_000)
    (10, 20, 30)
    """
    return max(LEAKAGE_MIN_CELL_SMALL, min(LEAKAGE_MIN_CELL, int(n) // 20))

#: Quantile bins of numbers in the leakage check and the constant check (the slicing default).
DEFAULT_BINS = 5

MSG_LEAKS = ("leaks the outcome: knowing it removes {share:.0%} of the uncertainty about whether an example is "
             "correct (error rate {low:.0%} to {high:.0%} across its values; threshold {threshold:.0%})")
MSG_LEAKS_WITH = ("leaks the outcome together with {other}: knowing both removes {share:.0%} of the uncertainty "
                  "about whether an example is correct (error rate {low:.0%} to {high:.0%} across their values; "
                  "threshold {threshold:.0%})")
MSG_COMPUTED = ("computed by {what}: never a default, so the defaults do not change with what has been computed; "
                "name it to slice by it")
MSG_CONSTANT = "a single value over the run: nothing to compare"
MSG_CARDINALITY = "{n:,} distinct values (more than {limit})"


@dataclass(frozen=True)
class Leakage:
    """How much of the uncertainty about correctness a set of attributes removes (:func:`leakage`)."""

    attributes: tuple[str, ...]
    """One attribute, or a pair."""
    uncertainty_removed: float
    """Uncertainty coefficient (Theil's U) of correctness given the attributes' cells: 1 - H(correct | cells) /
    H(correct), a fraction in [0, 1]; cells below :data:`LEAKAGE_MIN_CELL` examples pooled into one."""
    min_rate: float
    """Lowest error rate of a cell of at least :data:`LEAKAGE_MIN_CELL` examples (NaN when there is none)."""
    max_rate: float
    """Highest error rate of such a cell."""


def leakage(store: Store, table: str, prepared: Sequence[PreparedAttribute], *,
            pairs: Sequence[tuple[int, int]] = (), min_cell: int = LEAKAGE_MIN_CELL,
            sample_modulus: int = 1) -> list[Leakage]:
    """How much of the uncertainty about correctness each attribute, and each pair given, removes.

    One statement per batch of at most :data:`~analysis.slicing.grouping.BATCH_ATTRIBUTES`
    attributes (:func:`analysis.sql.slices.leakage_sql`; one for any run with fewer), over the
    scored examples; a missing value is a cell like any other.

    Parameters
    ----------
    store : Store
        The store holding the run.
    table : str
        The run's table.
    prepared : sequence of PreparedAttribute
        The attributes, as sliced (numbers in bins).
    pairs : sequence of (int, int)
        Pairs of indices into ``prepared`` to check together.
    min_cell : int, default LEAKAGE_MIN_CELL
        Cells with fewer examples are pooled into one.
    sample_modulus : int, default 1
        Above 1, read only the examples whose example-id hash is a multiple of it (a deterministic sample).

    Returns
    -------
    list of Leakage
        One per attribute (in order), then one per pair; ``uncertainty_removed`` is NaN when
        correctness does not vary over the run (nothing to remove).

    References
    ----------
    .. [1] H. Theil, "On the estimation of relationships involving qualitative variables", American
       Journal of Sociology 76 (1970): the uncertainty coefficient.
    """
    k = len(prepared)
    if k == 0:
        return []
    sets = [(i,) for i in range(k)] + [tuple(sorted(p)) for p in pairs]
    found: dict[frozenset, tuple] = {}
    cur = store.cursor()
    if LEAKAGE_IN_MEMORY:
        found = _leakage_in_memory(cur, table, prepared, sets, min_cell=min_cell, sample_modulus=sample_modulus)
    else:
        for used, local in batches(k, sets):
            rows = cur.execute(*Q.leakage_sql(table, [prepared[i].sql for i in used], local, min_cell=min_cell,
                                              sample_modulus=sample_modulus)).fetchall()
            width = len(used)
            for gid, n, cond, _cells, low, high in rows:
                grouped = frozenset(used[j] for j in range(width) if not (int(gid) >> (width - 1 - j)) & 1)
                found[grouped] = (int(n), float(cond), low, high)
    total = found[frozenset()][1]
    out = []
    for s in sets:
        n, cond, low, high = found[frozenset(s)]
        share = max(0.0, 1.0 - cond / total) if total > 1e-12 else float("nan")
        out.append(Leakage(tuple(prepared[i].attribute.name for i in s), share,
                           float("nan") if low is None else float(low), float("nan") if high is None else float(high)))
    return out


#: Count the leakage check's cells in memory (:func:`_leakage_in_memory`); False: with the grouping statement
#: :func:`analysis.sql.slices.leakage_sql` (the tests compare both).
LEAKAGE_IN_MEMORY = True


def _cell_entropy(n: np.ndarray, e: np.ndarray) -> np.ndarray:
    """n times the binary entropy (nats) of cells of ``e`` errors among ``n`` examples (0 for a pure cell), as
    :func:`analysis.sql.slices.leakage_sql` computes it."""
    n = np.asarray(n, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    mixed = (e > 0) & (e < n)
    out = np.zeros(len(n))
    ne, nn = e[mixed], n[mixed]
    out[mixed] = -(ne * np.log(ne / nn) + (nn - ne) * np.log((nn - ne) / nn))
    return out


def _leakage_in_memory(cur, table: str, prepared: Sequence[PreparedAttribute], sets: list[tuple[int, ...]], *,
                       min_cell: int, sample_modulus: int) -> dict[frozenset, tuple]:
    """What :func:`analysis.sql.slices.leakage_sql` gives per grouping set (``n``, conditional entropy, lowest and
    highest error rate of the cells of at least ``min_cell`` examples), from the sample's rows read once
    (:func:`analysis.sql.slices.leakage_rows_sql`) and counted with numpy: at 1M examples (a sample of 50,000,
    16 attributes, 75 pairs) 0.5 s CPU against 2 s for the grouping sets of every pair."""
    import pyarrow.compute as pc

    sql, params = Q.leakage_rows_sql(table, [p.sql for p in prepared], sample_modulus=sample_modulus)
    rows = cur.sql(sql, params=params).to_arrow_table()
    size = rows.num_rows
    codes, dims = [], []
    for i in range(len(prepared)):
        column = rows.column(f"a{i}")
        encoded = pc.dictionary_encode(column.combine_chunks() if hasattr(column, "combine_chunks") else column)
        missing = len(encoded.dictionary)  # a missing value is a cell like any other
        codes.append(encoded.indices.fill_null(missing).to_numpy(zero_copy_only=False).astype(np.int64))
        dims.append(missing + 1)
    # an error is "NOT correct" (count_if: unknown correctness is no error)
    errors = pc.fill_null(pc.invert(rows.column("correct")), False).to_numpy(zero_copy_only=False).astype(np.int64)
    found: dict[frozenset, tuple] = {}
    for s in [(), *sets]:
        combined = np.zeros(size, dtype=np.int64)
        total = 1
        for i in s:
            combined = combined * dims[i] + codes[i]
            total *= dims[i]
        if total > 4 * size + 1024:  # many possible cells: number the occupied ones
            combined = np.unique(combined, return_inverse=True)[1].reshape(-1)
            total = int(combined.max()) + 1 if size else 1
        both = np.bincount(combined * 2 + errors, minlength=2 * total).reshape(total, 2)
        n = both.sum(axis=1)
        occupied = n > 0
        n, e = n[occupied], both[occupied, 1]
        big = n >= min_cell
        h = _cell_entropy(n[big], e[big]).sum() + _cell_entropy([n[~big].sum()], [e[~big].sum()])[0]
        rates = e[big] / n[big] if big.any() else None
        found[frozenset(s)] = (int(size), float(h / size) if size else float("nan"),
                               None if rates is None else float(rates.min()),
                               None if rates is None else float(rates.max()))
    return found


@dataclass(frozen=True)
class AttributeNote:
    """One attribute of a run: its role, whether it is a default, and why not (:func:`attribute_notes`)."""

    attribute: Attribute
    """The attribute, its ``role`` and ``reason`` including what the leakage check found."""
    default: bool
    """Whether it is one of the run's default attributes."""
    why: str
    """Why it is not a default, in plain words (empty for a default)."""
    uncertainty_removed: float = float("nan")
    """Share of the uncertainty about correctness its values remove (:class:`Leakage`); NaN when not checked."""

    @property
    def name(self) -> str:
        return self.attribute.name

    @property
    def role(self) -> AttributeRole:
        return self.attribute.role


#: The attribute choice of each run, per store (held weakly), kept while the store's data version is unchanged.
_CHOSEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: The profiles the attribute choice made, per store (held weakly): (run table, data version) -> attribute ->
#: its :class:`PreparedAttribute` (:func:`prepare_attributes` with :data:`DEFAULT_BINS`, no edges, no cohort).
_PROFILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CHOSEN_LOCK = threading.Lock()


def _choose(store: Store, run: str | RunSchema) -> tuple[list[AttributeNote], AttributeList]:
    """:func:`_choose_now`, kept per run at the store's data version: an analysis of several parts (a report: the
    slices, the comparison, discovery, the roles of attributes) profiles the run and checks leakage once, not once
    per part. Anything written to the store changes its data version and so computes the choice again. The
    profiles it made are kept too (:func:`chosen_profiles`): slicing the same attributes profiles them no more."""
    schema = store.schema(run)
    version = store.data_version()
    key = (schema.run_id, version, max_default_attributes())
    with _CHOSEN_LOCK:
        kept = _CHOSEN.get(store, {}).get(key)
    if kept is None:
        notes, defaults, profiled = _choose_now(store, schema)
        kept = notes, defaults
        table_key = (schema.run.table_name, version)
        with _CHOSEN_LOCK:
            _CHOSEN[store] = {k: v for k, v in _CHOSEN.get(store, {}).items() if k[1] == key[1]} | {key: kept}
            _PROFILED[store] = {k: v for k, v in _PROFILED.get(store, {}).items() if k[1] == version} | {
                table_key: {p.attribute: p for p in profiled}}
    notes, defaults = kept
    return list(notes), copy.copy(defaults)  # callers may change their lists, never the kept ones


def chosen_profiles(store: Store, table: str, *, version: int) -> dict[Attribute, PreparedAttribute]:
    """The profiles the attribute choice of a run (:func:`attribute_notes`, :func:`default_attributes`) made of its
    attributes, if that choice was made at the store's data version ``version`` (else empty; nothing is computed).

    Each is what :func:`prepare_attributes` gives for the attribute over the run's table with ``bins`` =
    :data:`DEFAULT_BINS`, no ``edges`` and no cohort (one statement profiles each attribute alone: the same
    numbers whichever attributes share it), so an analysis that slices by these attributes takes them from here
    (:func:`analysis.slicing.counts.prepared_attributes`) instead of profiling the run again.

    Parameters
    ----------
    store : Store
        The store holding the run.
    table : str
        The run's examples table (:attr:`RunInfo.table_name`).
    version : int
        The store's data version (:meth:`Store.data_version`) the caller works at.

    Returns
    -------
    dict
        Attribute -> :class:`PreparedAttribute` (shared: callers must not change them); empty when the choice
        was not made at ``version``.
    """
    with _CHOSEN_LOCK:
        return dict(_PROFILED.get(store, {}).get((table, version), {}))


def _choose_now(store: Store, run: str | RunSchema
                ) -> tuple[list[AttributeNote], AttributeList, list[PreparedAttribute]]:
    """The attribute choice of a run (:func:`attribute_notes`), and the profiles it made (every attribute it
    profiled, as :func:`prepare_attributes` with :data:`DEFAULT_BINS` gives it)."""
    schema = store.schema(run)
    fields = schema.fields.set_index("column_name")
    listed = list_attributes(store, schema)
    why: dict[str, str] = {}
    kinds: dict[str, str] = {}
    candidates = []
    exact = _exact_distinct(store, schema, [a for a in listed if a.source not in ("cluster", "failure_mode")
                                            and a.column is not None and a.kind == "categorical"])
    for attr in listed:
        if attr.source in ("cluster", "failure_mode"):
            why[attr.name] = MSG_COMPUTED.format(what="a clustering" if attr.source == "cluster" else
                                                 "the failure-mode rules")
            kinds[attr.name] = LEFT_COMPUTED
            continue
        if attr.column is not None and attr.kind == "categorical":
            distinct = exact[attr.column]
            if distinct > MAX_DEFAULT_CARDINALITY:
                recorded = fields.loc[attr.column, "n_distinct"]  # approximate, recorded at ingest: shown if larger
                shown = int(recorded) if pd.notna(recorded) and recorded > distinct else distinct
                why[attr.name] = attr.reason or MSG_CARDINALITY.format(n=shown, limit=MAX_DEFAULT_CARDINALITY)
                kinds[attr.name] = LEFT_OUTCOME if attr.reason else LEFT_CARDINALITY
                continue
        candidates.append(attr)
    # An outcome boolean (a refusal, an empty output) is left out with its reason whether or not it varies, and a
    # constant attribute changes no leakage share (its pairs are the other attribute alone): it goes to the
    # leakage check unprofiled, where a constant one removes nothing (share 0). Profiling it would read the run
    # whole for a constant one (an empty output's trim over a million outputs: 1.5 s CPU).
    unprofiled = {a.name for a in candidates if a.kind == "boolean" and a.role == "outcome" and a.reason}
    # the exact distinct counts just made are the profile's (each at most MAX_DEFAULT_CARDINALITY, below the
    # profile's cap): not counted twice
    profiles = prepare_attributes(store, schema.run.table_name, [a for a in candidates if a.name not in unprofiled],
                                  bins=DEFAULT_BINS, edges=None,
                                  distinct={c: n for c, n in exact.items() if n <= MAX_DEFAULT_CARDINALITY})
    profiled = iter(profiles)
    live = []
    for attr in candidates:  # in the order listed: the leakage messages name partners in that order
        if attr.name in unprofiled:
            expr, params = _base_expr(attr)
            live.append(PreparedAttribute(attr, Q.AttributeSQL(attr.name, expr, params), None))
            continue
        p = next(profiled)
        if p.constant:
            why[p.attribute.name] = p.attribute.reason or MSG_CONSTANT
            kinds[p.attribute.name] = LEFT_OUTCOME if p.attribute.reason else LEFT_CONSTANT
        else:
            live.append(p)
    context = [i for i, p in enumerate(live) if p.attribute.role == "context"]
    pairs = [(i, j) for i in range(len(live)) for j in range(i + 1, len(live)) if i in context or j in context]
    rows = int(schema.run.row_count)
    modulus = max(1, -(-rows // LEAKAGE_SAMPLE))
    checked = leakage(store, schema.run.table_name, live, pairs=pairs if context else [],
                      min_cell=leakage_min_cell(min(rows, LEAKAGE_SAMPLE)), sample_modulus=modulus)
    single = {c.attributes[0]: c for c in checked[:len(live)]}
    leaks: dict[str, str] = {}
    for c in checked:
        share = c.uncertainty_removed
        if not (share >= LEAKAGE_THRESHOLD):
            continue
        values = {"share": share, "low": c.min_rate, "high": c.max_rate, "threshold": LEAKAGE_THRESHOLD}
        if len(c.attributes) == 1:
            leaks.setdefault(c.attributes[0], MSG_LEAKS.format(**values))
        elif all(not (single[a].uncertainty_removed >= LEAKAGE_THRESHOLD) for a in c.attributes):
            a, b = c.attributes
            role = {p.attribute.name: p.attribute.role for p in live}
            for this, other in ((a, b), (b, a)):
                # A context attribute paired with an outcome one leaks only by what it adds to it: a label beside
                # its prediction adds everything; a language beside is_refusal adds little, and stays a subgroup.
                added = share - single[other].uncertainty_removed
                if role[this] == "outcome" or role[other] == "context" or added >= LEAKAGE_THRESHOLD:
                    leaks.setdefault(this, MSG_LEAKS_WITH.format(other=other, **values))
    notes, defaults = [], AttributeList()
    for attr in listed:
        if attr.name in leaks:
            kinds.setdefault(attr.name, LEFT_OUTCOME if attr.role == "outcome" else LEFT_LEAKS)
            attr = replace(attr, role="outcome", reason="; ".join(r for r in (attr.reason, leaks[attr.name]) if r))
        if attr.name not in why and attr.role == "outcome":
            why[attr.name] = attr.reason
            kinds.setdefault(attr.name, LEFT_OUTCOME)
        share = single[attr.name].uncertainty_removed if attr.name in single else float("nan")
        notes.append(AttributeNote(attr, attr.name not in why, why.get(attr.name, ""), share))
        if attr.name not in why:
            defaults.append(attr)
    cap = max_default_attributes()
    if len(defaults) > cap:
        capped = AttributeList(defaults[:cap])
        capped.note = MSG_DEFAULT_CAPPED.format(cap=cap, total=len(defaults), env=MAX_DEFAULT_ATTRIBUTES_ENV)
        for i, note in enumerate(notes):
            if note.default and note.attribute not in capped:
                notes[i] = replace(note, default=False, why=capped.note)
                kinds[note.name] = LEFT_CAP
        defaults = capped
    defaults.left_out = {n.name: n.why for n in notes if not n.default}
    defaults.left_out_kind = {n.name: kinds.get(n.name, "") for n in notes if not n.default}
    return notes, defaults, profiles


def attribute_notes(store: Store, run: str | RunSchema) -> list[AttributeNote]:
    """Every attribute of a run, whether it is a default, and why not: what pages and the CLI show beside it.

    The defaults are where a model fails, not what its failure looks like. Left out, each with
    a reason in plain words: outcome attributes (:func:`classify_attribute`: output-derived
    features, signals, scores, judges, confidence, cost, latency, the label or prediction);
    attributes whose values, alone or with one other attribute, nearly fix correctness (the
    leakage check: :func:`leakage` at or above :data:`LEAKAGE_THRESHOLD`; such an attribute
    becomes ``role="outcome"``); attributes with a single value over the run; categorical fields
    with more than :data:`MAX_DEFAULT_CARDINALITY` values; clusters and failure-mode labels
    (computed columns: the defaults never depend on what has been computed); beyond the cap
    (:func:`max_default_attributes`). The check reads only the run's logged fields and derived
    features, never computed columns, so it gives the same answer before and after clustering
    or annotating.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str or RunSchema
        Run name or id, or its schema.

    Returns
    -------
    list of AttributeNote
        In the order of :func:`list_attributes`: ``attribute`` (with ``role`` and ``reason``),
        ``default``, ``why`` (empty for a default) and ``uncertainty_removed`` (a fraction).

    Raises
    ------
    RunNotFoundError
        When the store has no such run.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/n.duckdb")
    >>> wrong = [i % 3 == 0 for i in range(300)]
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["q"] * 300, "correct": [not w for w in wrong],
    ...     "lang": ["en", "sw"] * 150, "verdict_code": ["bad" if w else "ok" for w in wrong]}), name="r")
    >>> {n.name: n.default for n in attribute_notes(s, "r")}["lang"]
    True
    >>> [n.why[:40] for n in attribute_notes(s, "r") if n.name == "verdict_code"]
    ["output-derived: its name ('verdict') say"]
    """
    return _choose(store, run)[0]


def default_attributes(store: Store, run: str | RunSchema) -> AttributeList:
    """Attributes worth slicing by default: the context of a run, where a model fails.

    The attributes :func:`attribute_notes` marks as defaults: context attributes (subgroups,
    metadata of the input, task or population, the input's length, the turn) that do not leak
    the outcome, have more than one value and at most :data:`MAX_DEFAULT_CARDINALITY` values
    (categorical), never computed columns; at most :func:`max_default_attributes` of them.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str or RunSchema
        Run name or id, or its schema.

    Returns
    -------
    AttributeList
        A subset of :func:`list_attributes`, in the same order (a list; ``.note`` names the cap when it
        applied, ``.left_out`` maps each attribute left out to why, ``.left_out_line()`` says it in one line).

    Raises
    ------
    RunNotFoundError
        When the store has no such run (the message lists the runs).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/d.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "bb"], "correct": [True, False], "lang": ["en", "sw"],
    ...                                  "conf": [0.9, 0.4]}), name="r")
    >>> [a.name for a in default_attributes(s, "r")]
    ['lang', 'input_length']
    """
    return _choose(store, run)[1]


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
                       edges: dict[str, Sequence[float]] | None,
                       cohort: Q.CohortSQL = None, distinct: dict[str, int] | None = None) -> list[PreparedAttribute]:
    """How each attribute is sliced (its SQL, bins of numbers, periods of timestamps), from one
    statement over the run (:func:`analysis.sql.slices.profile_sql`).

    Numbers with more than :data:`FEW_DISTINCT` values are cut at quantiles into ``bins``
    bins (or at the ``edges`` given for them); timestamps are grouped by
    :func:`analysis.sql.features.period_for_span`. With a ``cohort`` (``(sql, params)``, see
    :mod:`analysis.slicing.cohorts`), bins and periods are the cohort's. A boolean is profiled
    only for whether it takes more than one value (a missing value counting as one): its
    ``sql.n_values`` counts a missing value as one of at most two. ``distinct``: exact counts of distinct
    non-missing values already made over the same rows (column -> count, as :func:`_exact_distinct` gives them),
    used for a categorical column's attribute instead of counting again when below the profile's cap
    (:data:`analysis.sql.slices.PROFILE_DISTINCT_CAP`); never with a cohort.
    """
    if distinct and cohort is not None:
        raise ValueError("distinct counts of the whole run cannot stand for a cohort's")
    quantiles = [i / bins for i in range(1, bins)]
    requests = []
    for attr in attrs:
        expr, params = _base_expr(attr)
        numeric, temporal = attr.kind == "numeric", attr.kind == "timestamp"
        given = (edges or {}).get(attr.name) if numeric else None
        # A boolean needs only whether it takes more than one value (missing counted as one): a subquery that stops
        # at the second value seen (for a refusal's regular expression over the outputs, at once). A derived
        # number (computed from the texts): its distinct values counted in the one pass that computes it anyway.
        known = (distinct or {}).get(attr.column) if attr.kind == "categorical" and attr.column else None
        requests.append(Q.ProfileRequest(expr, params, value_range=numeric or temporal,
                                         quantiles=quantiles if numeric and given is None else (),
                                         day_distinct=temporal, values_seen=attr.kind == "boolean",
                                         distinct_in_pass=attr.column is None,
                                         distinct_known=known if known is not None
                                         and known < Q.PROFILE_DISTINCT_CAP else None))
    if not requests:
        return []
    row = list(store.cursor().execute(*Q.profile_sql(table, requests, cohort=cohort)).fetchall()[0])
    out = []
    for attr, req in zip(attrs, requests):
        distinct, missing = row.pop(0), row.pop(0)
        lo, hi = (row.pop(0), row.pop(0)) if req.value_range else (None, None)
        found = list(row.pop(0) or []) if req.quantiles else []
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
            out.append(PreparedAttribute(attr, Q.AttributeSQL(attr.name, expr, params, n_values=int(distinct)), None,
                                         constant=_at_most_one(distinct, missing)))
            continue
        if given is not None:
            cut = sorted(float(e) for e in given)
        else:
            cut = sorted({float(e) for e in found if e is not None and math.isfinite(e)})
        bexpr, bparams = F.binned_expr(expr, params, cut)
        labels = {i: _bin_label(cut, i) for i in range(len(cut) + 1)}
        n_bins = 0 if lo is None else (1 if _bin_of(lo, cut) == _bin_of(hi, cut) else 2)
        out.append(PreparedAttribute(attr, Q.AttributeSQL(attr.name, bexpr, bparams, labels, n_values=len(labels)),
                                     labels, cut,
                                     constant=_at_most_one(n_bins, missing)))
    return out


def _exact_distinct(store: Store, schema: RunSchema, attrs: Sequence[Attribute]) -> dict[str, int]:
    """Each attribute column's exact count of distinct values, capped one above :data:`MAX_DEFAULT_CARDINALITY`
    (the ingest's recorded count is approximate: the default-attribute rule must not hinge on it)."""
    columns = list(dict.fromkeys(a.column for a in attrs))
    if not columns:
        return {}
    sql, params = Q.distinct_counts_sql(schema.run.table_name, columns, MAX_DEFAULT_CARDINALITY + 1)
    row = store.cursor().execute(sql, params).fetchall()[0]
    return {c: int(n) for c, n in zip(columns, row)}


def _at_most_one(distinct: int, missing: int) -> bool:
    return distinct + (1 if missing else 0) <= 1


def _bin_of(value, cut: Sequence[float]) -> int:
    """The bin :func:`analysis.sql.features.binned_expr` puts a value in (bins are monotone in the value)."""
    return next((i for i, edge in enumerate(cut) if value <= edge), len(cut))


def prepare_attribute(store: Store, table: str, attr: Attribute, *, bins: int,
                      edges: dict[str, Sequence[float]] | None, cohort: Q.CohortSQL = None) -> PreparedAttribute:
    return prepare_attributes(store, table, [attr], bins=bins, edges=edges, cohort=cohort)[0]


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


_BIN_LABEL = re.compile(r"(?:≤|>) \S+|-?[\d.,]+(?:e[-+]?\d+)? – -?[\d.,]+(?:e[-+]?\d+)?")


def is_bin_label(label) -> bool:
    """Whether ``label`` has the shape of a numeric bin's label as :func:`_bin_label` writes it (``≤ 12``,
    ``> 380``, ``12 – 57``), for a predicate that carries its labels but not whether they are bins.

    >>> is_bin_label("> 380"), is_bin_label("12 – 57"), is_bin_label("sw"), is_bin_label(3)
    (True, True, False, False)
    """
    return isinstance(label, str) and _BIN_LABEL.fullmatch(label) is not None


def describe_condition(name: str, label: str, *, binned: bool | None = False) -> str:
    """``language = sw``; for binned numbers ``tokens ≤ 12``, ``tokens > 300``, ``tokens in 12 – 57``. With
    ``binned=None`` a label is taken as a bin's when it has a bin label's shape (:func:`is_bin_label`). Every view
    that writes a slice's condition in words (tables, findings, the CLI, the pages) writes it through here, so an
    operator is never doubled (``input_length = > 380``).

    >>> describe_condition("tokens", "≤ 12", binned=True), describe_condition("lang", "sw")
    ('tokens ≤ 12', 'lang = sw')
    >>> describe_condition("input_length", "> 380", binned=None)
    'input_length > 380'
    """
    if binned is None:
        binned = is_bin_label(label)
    if binned and label != MISSING:
        if label.startswith(("≤ ", "> ")):
            return f"{name} {label}"
        return f"{name} in {label}"
    return f"{name} = {label}"


def describe_predicate(predicate, *, empty: str = "(all examples)") -> str:
    """A slice's predicate in words, each condition written by :func:`describe_condition`.

    Parameters
    ----------
    predicate : mapping of str to str
        Attribute -> value label, as the slice tables, findings and comparison rows keep a slice. A numeric bin's
        label (``≤ 12``, ``> 380``, ``12 – 57``) is recognised by its shape (:func:`is_bin_label`).
    empty : str, default "(all examples)"
        What a predicate with no condition reads.

    Returns
    -------
    str
        The conditions joined by ``AND`` in the predicate's order (``language = sw AND input_length > 380``).

    Raises
    ------
    TypeError, ValueError
        ``predicate`` is not a mapping (nor pairs of attribute and label).

    Examples
    --------
    >>> describe_predicate({"language": "sw", "input_length": "> 380"})
    'language = sw AND input_length > 380'
    >>> describe_predicate({})
    '(all examples)'
    """
    return " AND ".join(describe_condition(str(k), v if isinstance(v, str) else str(v), binned=None)
                        for k, v in dict(predicate).items()) or empty


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
    codes: np.ndarray | None = field(default=None, repr=False)
    """Shape ``(n_rows, k)``, int64: per row and attribute, 0 when the row does not group on it, 1 for a missing
    value, ``2 + j`` for its ``j``-th distinct value; equal codes are equal slices' conditions
    (:func:`analysis.slicing.table.slice_statistics` marks redundant conjunctions with them)."""


def decode_groups(raw: pd.DataFrame, prepared: Sequence[PreparedAttribute], *, empty: str = "") -> DecodedSlices:
    """Read which attributes each row groups on (its ``gid`` bitmask) and label their values.

    ``empty`` describes the row that groups on nothing (the whole run), when there is one.

    Vectorised: each attribute's column is factorised once and every distinct value labelled once; rows are then
    handled per grouping set (a few hundred at most) with array operations, so tens of thousands of slices take
    tens of milliseconds (a loop over rows took over a second for the 24,774 slices of a triples table at 1M).
    """
    k = len(prepared)
    n_rows = len(raw)
    gid = raw["gid"].to_numpy() if k else np.zeros(n_rows, dtype=np.int64)
    names = [p.attribute.name for p in prepared]
    codes = np.zeros((n_rows, k), dtype=np.int64)
    labels, raws, words = [], [], []  # per attribute: object arrays indexed by code
    missing_rows: list[np.ndarray] = []
    for i, p in enumerate(prepared):
        column = raw.iloc[:, i]
        found, uniques = pd.factorize(column, use_na_sentinel=True)
        found = np.asarray(found, dtype=np.int64)
        distinct = pd.Series(uniques, dtype=object).tolist() if len(uniques) else []  # Python scalars
        lab = [MISSING] + [value_label(p, v) for v in distinct]
        binned = p.labels is not None
        labels.append(np.array([None, *lab], dtype=object))
        raws.append(np.array([None, None, *(raw_value(v) for v in distinct)], dtype=object))
        words.append(np.array([None, *(describe_condition(p.attribute.name, x, binned=binned) for x in lab)],
                              dtype=object))
        codes[:, i] = found + 2  # missing (or not grouped on) -> 1 for now
        missing_rows.append(found < 0)
    # which attributes each row groups on, per distinct grouping id
    group_ids, inverse = (np.unique(gid, return_inverse=True) if n_rows else (np.array([], dtype=np.int64),
                                                                               np.array([], dtype=np.int64)))
    inverse = np.asarray(inverse).reshape(-1)
    predicates: list = [None] * n_rows
    attributes: list = [None] * n_rows
    values: list = [None] * n_rows
    orders = np.zeros(n_rows, dtype=np.int64)
    descriptions = np.empty(n_rows, dtype=object)
    for j, g in enumerate(group_ids.tolist()):
        g = int(g)
        used = [i for i in range(k) if not (g >> (k - 1 - i)) & 1]
        rows = np.flatnonzero(inverse == j)
        for i in range(k):
            if i not in used:
                codes[rows, i] = 0
        used_names = tuple(names[i] for i in used)
        orders[rows] = len(used)
        if not used:
            for r in rows.tolist():
                predicates[r], attributes[r], values[r] = {}, (), ()
            descriptions[rows] = empty
            continue
        lab_cols = [labels[i][codes[rows, i]] for i in used]
        raw_cols = [raws[i][codes[rows, i]] for i in used]
        text = words[used[0]][codes[rows, used[0]]]
        for i in used[1:]:
            text = text + " AND " + words[i][codes[rows, i]]
        descriptions[rows] = text
        for r, labs, vals in zip(rows.tolist(), zip(*lab_cols), zip(*raw_cols)):
            predicates[r] = dict(zip(used_names, labs))
            attributes[r] = used_names
            values[r] = vals
    return DecodedSlices(predicates, attributes, values, orders.tolist(), descriptions.tolist(), codes)


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
