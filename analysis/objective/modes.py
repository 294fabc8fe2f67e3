"""Failure modes: the default taxonomy, built-in detectors, per-example mode indicators, and
where each mode concentrates.

An example gets a failure mode from four sources, all compiled to SQL over the run's table
(values bound, identifiers quoted):

``label``
    A column of the log (or a rater's column) named under ``labels`` in the objective spec,
    holding mode ids or names (several may be separated by ``,``, ``;`` or ``|``).
``rule``
    A rule of the spec: a condition in the predicate language (:mod:`analysis.objective.predicates`).
    The condition is taken as written: include ``not correct`` when a rule is about failures.
``detector``
    The built-in detectors of :data:`DETECTORS` (each marks *wrong* answers only; which mode
    each one gives, and its settings, can be changed under ``detectors`` in the spec).
``annotation``
    Researchers' annotations (:mod:`analysis.objective.annotations`): an annotated example is in the
    mode whatever its correctness; a slice annotation puts the slice's wrong answers in it.

With a cohort (``where=``, a condition in the rule language: :mod:`analysis.slicing.cohorts`) every
statement runs over the cohort's examples only, as if the run held nothing else (as
:func:`analysis.slicing.table.slice_table` does): the detectors that look at other examples
(``group_disparity``, ``paraphrase_disagreement``, ``multiple_choice_format``) look within the
cohort, and counts, rates, bins, tests and q-values are the cohort's.

"Where a mode concentrates" is the slicing engine run on the mode's indicator instead of on
correctness: the same grouping-sets counts, intervals (Wilson / Clopper-Pearson), tests
against the rest of the run (Fisher / two-proportion z) and Benjamini-Hochberg q-values as
:func:`analysis.slicing.table.slice_table`, over subgroups (metadata), context (input length,
turn) and clusters. Features of the output itself (output length, refusal phrasing, empty
output) are left out by default: they describe the failure, not where it happens.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
import uuid
import weakref
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Literal

import numpy as np
import pandas as pd

from analysis.errors import FaultlineError
from analysis.objective.annotations import active_annotations, slice_where
from analysis.objective.predicates import compile_predicate, fields_from_table
from analysis.objective.spec import Objective, check_against_run
from analysis.objective.taxonomy import DETECTORS, MSG_UNKNOWN_MODE, FailureMode
from analysis.slicing import counts as _counts
from analysis.slicing.attributes import default_attributes, prepare_attributes, resolve_attributes
from analysis.slicing.cohorts import CohortFilter, cohort_filter
from analysis.slicing.grouping import grouping_counts
from analysis.slicing.params import check_slicing_params, support_count
from analysis.slicing.table import slice_statistics, slice_table
from analysis.sql import features as F
from analysis.sql import modes as M
from analysis.sql import quote_ident
from analysis.sql import slices as Q
from analysis.store import RunSchema, Store

SourceKind = Literal["label", "rule", "detector", "annotation"]


#: An option letter in a multiple-choice answer, bare or in disguise (a regular expression, searched: RE2, Java and
#: Python ``re`` read it alike; each alternative's one group is the letter). Bare: "B", "(b)", "C.", " D) ", "**B**",
#: "[C]". Leading the option's text: "B. Paris", "(B) Paris", "B) Paris", "**B.** Paris", "b) Paris", "(b) Paris". Announced: "Answer: B",
#: "The answer is (B)", "ANSWER: C", "**Answer:** D", "the correct option is C", "Answer: b) Paris". One definition: the share test (is
#: the run multiple choice?) and the ``multiple_choice_format`` detector (a wrong answer with no option identifiable)
#: both read answers with :func:`analysis.sql.modes.names_option_expr`: a letter counts when the input lists that
#: option (or lists none), the text of exactly one listed option names it too.
OPTION_LETTER_PATTERN = (r"^\s*[*_]*[(\[]?\s*([A-Ja-j])\s*[)\]]?[*_]*\s*[.:)]?[*_]*\s*$"
                         r"|^\s*[*_]*[(\[]([A-J])[)\]][*_]*[.:]?\s+\S"
                         r"|^\s*[*_]*([A-J])[*_]*[.:)][*_]*\s+\S"
                         r"|^\s*[*_]+([A-J])[*_]+\s+\S"
                         r"|^\s*[*_]*[(\[]?([a-j])[)\]][*_]*\s+\S"
                         r"|(?i:answer|option|choice)[*_]*\s*(?:(?i:is)\s*)?[:=]?[*_]*\s*[(\[]?\s*([A-J])\b"
                         r"|(?i:answer|option|choice)[*_]*\s*(?:(?i:is)\s*)?[:=]?[*_]*\s*[(\[]?([a-j])[)\]]")
#: Share of option letters among answers (or references) above which a run is multiple choice.
MULTIPLE_CHOICE_SHARE = 0.5


# ------------------------------------------------------------------------------------ compiling
@dataclass
class Source:
    """One reason an example can be in a mode, as SQL over the run's table."""

    kind: SourceKind
    name: str
    """``rule:<id>``, ``detector:<name>``, ``label:<column>``, ``annotation``."""
    sql: str
    params: list = field(default_factory=list)
    description: str = ""
    why: tuple[str, list] | None = None
    """What the example's "why" says when this source marks it: ``(sql, params)`` of a text over the run's table
    (e.g. the answer a detector saw), or None for the source's ``name``."""
    reads_other_rows: bool = False
    """Whether ``sql`` reads other rows than the example's (a window: "another paraphrase of it is answered
    correctly"), so it must be evaluated over the run's rows before one example is picked."""


@dataclass
class CompiledModes:
    """Every mode's sources for one run (what :func:`compile_modes` returns)."""

    run_id: str
    table: str
    modes: list[FailureMode]
    sources: dict[str, list[Source]]
    notes: list[str] = field(default_factory=list)
    """Things worth knowing that are not errors (label values that name no mode, detectors left off)."""
    fdr: float = 0.05
    cohort: CohortFilter | None = None
    """The cohort the modes were compiled for (every statement over them is kept to its examples), or None."""
    cursor: object = field(default=None, repr=False, compare=False)
    """With :func:`materialise_modes`: the cursor whose temporary table ``table`` holds the cohort's scored rows
    with every source's indicator (statements over the modes must run on it); None for the run's own table."""

    @property
    def cohort_sql(self) -> tuple[str, tuple] | None:
        """``(sql, params)`` of the cohort, as the statements of :mod:`analysis.sql.modes` take it; None for none,
        and None once materialised (the temporary table holds the cohort's rows only)."""
        return None if self.cohort is None or self.cursor is not None else self.cohort.as_sql

    def cursor_of(self, store: Store):
        """The cursor to run statements over these modes on: the materialised table's, else a new one."""
        return self.cursor if self.cursor is not None else store.cursor()

    def sources_of(self, mode: str) -> list[Source]:
        """The sources of ``mode``; :class:`FaultlineError` (``MSG_UNKNOWN_MODE``) for a mode the run does not have."""
        if mode not in self.sources:
            raise FaultlineError(MSG_UNKNOWN_MODE.format(mode=mode, known=", ".join(self.sources)))
        return self.sources[mode]

    def mode_sql(self, mode: str) -> tuple[str, list]:
        """``(sql, params)``: true when the example is in ``mode`` (never NULL)."""
        parts = self.sources_of(mode)
        if not parts:
            return "false", []
        sql = " OR ".join(f"coalesce(({s.sql}), false)" for s in parts)
        params = [p for s in parts for p in s.params]
        return f"({sql})", params

    def reads_other_rows(self, mode: str) -> bool:
        """Whether ``mode``'s SQL reads other rows than the example's (:attr:`Source.reads_other_rows`): it must
        then be evaluated over the run's rows before one example is picked."""
        return any(s.reads_other_rows for s in self.sources_of(mode))

    def why_sql(self, mode: str) -> tuple[str, list]:
        """``(sql, params)``: the names of the sources that put the example in ``mode``, comma-separated."""
        parts = self.sources_of(mode)
        if not parts:
            return "''", []
        cases = ", ".join(f"CASE WHEN coalesce(({s.sql}), false) THEN {'?' if s.why is None else s.why[0]} END"
                          for s in parts)
        params = [p for s in parts for p in [*s.params, *([s.name] if s.why is None else s.why[1])]]
        return f"concat_ws(', ', {cases})", params


def compile_modes(store: Store, run: str, objective: Objective | None = None, *, fdr: float = 0.05,
                  strict: bool = True, where: str | None = None) -> CompiledModes:
    """Compile every mode's sources for a run: labels, rules, detectors and annotations.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str or RunSchema
        Run name or id (or its schema).
    objective : Objective, optional
        The objective spec; None uses the default taxonomy and detectors only.
    fdr : float, default 0.05
        False discovery rate of the ``group_disparity`` detector (slices significantly worse
        than the rest: :func:`analysis.slicing.table.slice_table` with ``min_support=30``).
    strict : bool, default True
        Raise on the first problem of the spec against the run (a rule naming a missing
        field...); with False the broken source is left out and the problem is listed in
        ``notes``.
    where : str, optional
        A cohort: a condition in the rule language (``language = "sw"``, :mod:`analysis.slicing.cohorts`).
        The detectors that look at other examples look within it, and every count, indicator and
        example computed from the result (:func:`mode_counts`, :func:`mode_indicators`,
        :func:`modes_slices`, :func:`mode_examples`, :func:`analysis.objective.link.link`) is the
        cohort's. None or empty: every example.

    Returns
    -------
    CompiledModes
        ``run_id``, ``table``, ``modes`` (every failure mode), ``sources`` (mode id -> list of
        :class:`Source`: ``kind``, ``name`` such as ``detector:refusal``, ``sql``, ``params``,
        ``description``), ``notes`` (strings), ``fdr`` and ``cohort``; ``mode_sql(mode)`` and
        ``why_sql(mode)`` give SQL over the run's table.

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    SpecError
        With ``strict``, the first problem of :func:`analysis.objective.spec.check_against_run`
        (naming the spec, its line and key). Without ``strict`` nothing about the spec raises:
        problems, and slice annotations that no longer fit the run, go to ``notes``.
    PredicateError
        A ``where`` that cannot be read or does not fit the run (its position and field named).

    References
    ----------
    The ``group_disparity`` detector uses :func:`analysis.slicing.table.slice_table`: Fisher
    exact or two-proportion z tests with Benjamini-Hochberg (1995) q-values.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/m.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "response": ["I'm sorry, but I can't help.", "4"],
    ...                                  "gold": ["1", "4"], "correct": [False, True]}), name="r")
    >>> [src.name for src in compile_modes(s, "r").sources["over_refusal"]]
    ['detector:refusal', 'detector:empty_output']
    """
    objective = objective or Objective.default()
    schema = store.schema(run)
    info = schema.run
    fields = fields_from_table(schema.stored())
    cohort = cohort_filter(schema, where)
    problems = check_against_run(objective, store, schema)
    notes: list[str] = []
    bad_keys: set[str] = set()
    for problem in problems:
        if strict:
            raise problem
        notes.append(str(problem))
        bad_keys.add(problem.key or "")
    sources: dict[str, list[Source]] = {m.id: [] for m in objective.modes}

    # labels (a column holding mode ids or names)
    for index, column in enumerate(objective.labels):
        if f"labels[{index}]" in bad_keys:
            continue
        f = fields[column]
        values = store.cursor().execute(*M.label_values_sql(info.table_name, f.sql, f.params)).fetchall()
        by_mode: dict[str, list[str]] = {}
        unknown = []
        for (value,) in values:
            if value is None or value == "":
                continue
            mode = objective.find_mode(value)
            if mode is None:
                unknown.append(value)
            else:
                by_mode.setdefault(mode, []).append(value)
        if unknown:
            notes.append(f"Label column {column!r} has values that name no failure mode (ignored): "
                         + ", ".join(repr(u) for u in sorted(unknown)[:10]))
        for mode, raw in by_mode.items():
            sql, params = M.label_match_expr(f.sql, f.params, raw)
            sources[mode].append(Source("label", f"label:{column}", sql, params, f"the column {column} says so"))

    # rules
    for index, rule in enumerate(objective.rules):
        if f"rules[{index}].when" in bad_keys:
            continue
        sql, params = compile_predicate(rule.when, fields, rule=rule.id)
        sources[rule.mode].append(Source("rule", f"rule:{rule.id}", sql, params, rule.when))

    # detectors
    for name, settings in objective.detectors.items():
        if settings is None or any(k.startswith(f"detectors.{name}.") for k in bad_keys):
            continue
        made = _detector_sql(store, schema, fields, name, settings, fdr=fdr, notes=notes, cohort=cohort)
        if made is not None:
            sources[settings["mode"]].append(made)

    # annotations

    active = active_annotations(store, schema)
    if not active.empty:
        _annotation_sources(store, schema, objective, active, sources, notes)
    return CompiledModes(info.run_id, info.table_name, list(objective.modes), sources, notes, fdr, cohort)


def _answer_field(settings: dict, fields) -> str:
    """The field the ``multiple_choice_format`` detector reads the answer from: its ``field`` setting, else the
    raw output when the log kept one, else the output."""
    column = settings.get("field")
    if column is None:
        column = "meta.raw_output" if "meta.raw_output" in fields else "output"
    return column


#: Whether each run is multiple choice, per store (held weakly): (table, data version, answer SQL, cohort SQL) -> a
#: Future of the decision (:func:`is_multiple_choice`), kept while the data version is unchanged.
_SHARES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_SHARES_LOCK = threading.Lock()
#: The part of a run's rows (in log order, by ``source_row``) read first by :func:`is_multiple_choice`; the rest only
#: when those rows leave the decision open.
FIRST_PART = 0.55


def is_multiple_choice(store: Store, table: str, expr: str, params: Sequence, cohort: CohortFilter | None) -> bool:
    """Whether a run is multiple choice: the share of its scored answers (``expr`` over the run's ``table``) or of
    its references that name an option (:func:`analysis.sql.modes.option_letter_share_sql`, one reading of every
    answer, reference and input) is at least :data:`MULTIPLE_CHOICE_SHARE`, over the cohort's examples if one is
    given; False without a row.

    Decided exactly, reading no more rows than it must: the first :data:`FIRST_PART` of the rows in log order are
    counted first, and the rest only when they leave the decision open (at least half of every row naming an option
    already, or too few left for the share to reach it, settles it: the same answer as counting every row). Kept per
    run at the store's data version: the run's modes compiled again (a report's failure-modes section and its
    baseline, the pages) do not read again, and a call made while another decides the same run waits for it
    (:func:`prefetch_option_shares` starts them early). Anything written to the store changes the data version.

    Raises
    ------
    duckdb.Error
        What a statement raises (every caller waiting for it gets the same error; nothing is kept).
    """
    key = (table, store.data_version(), expr, tuple(params),
           None if cohort is None else (cohort.as_sql[0], tuple(cohort.as_sql[1])))
    with _SHARES_LOCK:
        kept = _SHARES.get(store, {})
        future = kept.get(key)
        mine = future is None
        if mine:
            future = Future()
            _SHARES[store] = {k: v for k, v in kept.items() if k[1] == key[1]} | {key: future}
    if mine:
        try:
            future.set_result(_multiple_choice_now(store, table, expr, params,
                                                   None if cohort is None else cohort.as_sql))
        except BaseException as err:
            with _SHARES_LOCK:
                _SHARES.get(store, {}).pop(key, None)
            future.set_exception(err)
    return future.result()


def _multiple_choice_now(store: Store, table: str, expr: str, params: Sequence, cohort) -> bool:
    cursor = store.cursor()
    total, last = cursor.execute(*M.option_rows_sql(table, expr, params, cohort=cohort)).fetchall()[0]
    if not total:
        return False
    need = Fraction(MULTIPLE_CHOICE_SHARE) * int(total)  # rows naming an option that make the run multiple choice
    split = int(last * FIRST_PART) + 1
    read, answers, references = cursor.execute(*M.option_counts_sql(
        table, expr, params, OPTION_LETTER_PATTERN, cohort=cohort, rows=(None, split))).fetchall()[0]
    most = max(int(answers), int(references))
    if most >= need:
        return True
    if most + (int(total) - int(read)) < need:
        return False
    rest = cursor.execute(*M.option_counts_sql(
        table, expr, params, OPTION_LETTER_PATTERN, cohort=cohort, rows=(split, None))).fetchall()[0]
    return max(int(answers) + int(rest[1]), int(references) + int(rest[2])) >= need


def prefetch_option_shares(store: Store, objective: Objective, runs: Sequence[tuple[str, str | None]]) -> None:
    """Decide (and keep, :func:`is_multiple_choice`) whether each ``(run, cohort condition)`` is multiple choice, as
    the ``multiple_choice_format`` detector of ``objective`` will ask when the run's modes are compiled: a caller
    with a spare thread starts them before it compiles the modes. Nothing when the objective does not use the
    detector. Errors are left for the compilation to raise (it decides again).
    """
    settings = objective.detectors.get("multiple_choice_format")
    if settings is None:
        return
    for run, where in runs:
        try:
            schema = store.schema(run)
            fields = fields_from_table(schema.stored())
            f = fields.get(_answer_field(settings, fields))
            if f is None:
                continue
            is_multiple_choice(store, schema.run.table_name, f.sql, f.params, cohort_filter(schema, where))
        except Exception:  # noqa: BLE001 - the compilation raises it, in the caller's words
            continue


def _when_wrong(sql: str) -> str:
    """A detector's condition on the wrong examples only: ``correct = false AND (sql)`` where it matters (every
    source is read as ``coalesce(source, false)``: the same truth value for every example), written as a ``CASE`` so
    the engine evaluates ``sql`` (a regular expression over the output...) on the wrong examples only, where its
    ``AND`` evaluates it on every example (a refusal's expression over a million outputs: 1.0 s against 1.5 s CPU)."""
    return f"CASE WHEN correct = false THEN ({sql}) ELSE false END"


def _detector_sql(store: Store, schema: RunSchema, fields, name: str, settings: dict, *, fdr: float,
                  notes: list[str], cohort: CohortFilter | None = None) -> Source | None:
    info = schema.run
    wrong = "correct = false"
    d = DETECTORS[name]
    if name == "refusal":
        sql, params = F.feature_sql("is_refusal")
        return Source("detector", "detector:refusal", _when_wrong(sql), params, d.description)
    if name == "empty_output":
        sql, params = F.feature_sql("output_empty")
        return Source("detector", "detector:empty_output", _when_wrong(sql), params, d.description)
    if name == "long_output":
        sql, params = M.long_output_expr(int(settings["min_chars"]), float(settings["ratio"]))
        return Source("detector", "detector:long_output", _when_wrong(sql), params, d.description)
    if name == "multiple_choice_format":
        column = _answer_field(settings, fields)
        f = fields[column]
        if not is_multiple_choice(store, info.table_name, f.sql, f.params, cohort):
            return None  # not a multiple-choice run: the detector has nothing to say
        # marked: a wrong answer that names no option, neither by a letter the input lists (OPTION_LETTER_PATTERN,
        # in disguise too; any letter when the input lists no option) nor by the text of exactly one listed option
        # (at most a format slip); the texts of several options name none (ambiguous)
        sql, params = M.no_option_expr(f.sql, f.params, OPTION_LETTER_PATTERN)
        why = M.no_option_why_expr(f.sql, f.params, "detector:multiple_choice_format", OPTION_LETTER_PATTERN)
        return Source("detector", "detector:multiple_choice_format", _when_wrong(sql), params,
                      d.description + f" (field {column})", why)
    if name == "paraphrase_disagreement":
        group = settings.get("group")
        if group is None:
            group = next((n for n in fields if fields[n].column == n and "paraphrase" in n.lower()), None)
            if group is None:
                notes.append("The paraphrase detector is off: the run has no paraphrase group field "
                             "(set detectors.paraphrase_disagreement.group in the spec)")
                return None
        f = fields[group]
        sql, params = M.group_has_correct_expr(f.sql, f.params)
        return Source("detector", "detector:paraphrase_disagreement", f"{wrong} AND {sql}", params,
                      d.description + f" (group {group})", reads_other_rows=True)
    if name == "group_disparity":
        attributes = list(settings.get("attributes") or [])
        if not attributes:
            return None

        result = slice_table(store, schema, attributes, max_order=1, min_support=30, fdr=fdr,
                             where=None if cohort is None else cohort.text)
        worse = result.findings()
        if worse.empty:
            return None
        prepared_by_name = {p.attribute.name: p for p in result.prepared}
        parts, params, shown = [], [], []
        for row in worse.itertuples():
            (name_,), (raw,) = row.attributes, row.values
            where, p = Q.predicate_where([prepared_by_name[name_].sql], [raw])
            parts.append(f"({where})")
            params += p
            shown.append(row.description)
        return Source("detector", "detector:group_disparity", f"{wrong} AND ({' OR '.join(parts)})", params,
                      d.description + " (" + "; ".join(shown) + ")")
    raise KeyError(name)  # pragma: no cover - the spec validates detector names


def _annotation_sources(store: Store, schema: RunSchema, objective, active: pd.DataFrame, sources: dict,
                        notes: list[str]) -> None:
    info = schema.run
    unknown = sorted({m for m in active["mode"].dropna() if objective.find_mode(m) is None})
    if unknown:
        notes.append("Annotations name modes the spec does not know (ignored): " + ", ".join(map(repr, unknown)))
    labelled = active[active["mode"].notna()]
    for mode_name, group in labelled.groupby("mode"):
        mode = objective.find_mode(mode_name)
        if mode is None:
            continue
        ids = group.loc[group["example_id"].notna(), "example_id"].tolist()
        if ids:
            sql, params = M.ids_expr(ids)
            sources[mode].append(Source("annotation", "annotation", sql, params, "a researcher labelled the example"))
        for text in group.loc[group["slice"].notna(), "slice"]:
            try:
                predicate = json.loads(text)
                if not isinstance(predicate, dict):
                    raise FaultlineError(f"not a mapping of attribute to value: {predicate!r}")
                where, params = slice_where(store, schema, info.table_name, predicate)
            except (FaultlineError, ValueError) as err:  # written by an older Faultline, or the run changed
                notes.append(f"A slice annotation ({text}) no longer fits the run and is ignored: {err}")
                continue
            sources[mode].append(Source("annotation", "annotation", f"correct = false AND ({where})", params,
                                        "a researcher labelled the slice"))


#: A ``where=`` beside a ``compiled=`` made for another cohort.
MSG_COHORT_MISMATCH = ("The failure modes were compiled for the cohort {compiled!r}, not for {where!r}: compile them "
                       "with where={where!r}, or leave where out")


def materialise_modes(store: Store, compiled: CompiledModes, columns: Sequence[tuple[str, str, Sequence]] = (), *,
                      with_ids: bool = True) -> CompiledModes:
    """Evaluate every source of ``compiled`` (and ``columns``, ``(name, sql, params)``) once, into a temporary
    table of the cohort's scored rows on a cursor of its own; the returned modes' sources read its columns.

    For an analysis that runs several statements over the same modes (the link: its rows, counts, where each mode
    concentrates, separation per signal): the detectors (regular expressions, window functions) are evaluated by
    one statement instead of one per statement. Pass the returned modes (and its cursor, :meth:`CompiledModes.
    cursor_of`) to :func:`mode_counts`, :func:`modes_slices`; drop the table with :func:`release_modes`. Every
    count is the same as over the run's table (:func:`analysis.sql.modes.materialise_modes_sql`). DuckDB only
    (a temporary table is one connection's): with the Spark engine, ``compiled`` is returned as it is.

    Parameters
    ----------
    store : Store
        The store holding the run.
    compiled : CompiledModes
        The run's modes (with a cohort, only the cohort's rows are kept).
    columns : sequence of (str, str, list)
        Further columns (name, SQL over the run's table, parameters), e.g. signals and attributes; names must
        not start with ``__src``.
    with_ids : bool, default True
        Keep the example ids in the table (a statement pairing its rows with another run's needs them; without,
        the table is smaller: at 1M examples ~0.3 GB and ~0.3 CPU-s less).

    Returns
    -------
    CompiledModes
        The same modes, ``table`` the temporary table, each source's SQL a boolean column ``__src<j>`` of it
        (never NULL), ``cursor`` the cursor holding it.
    """
    if compiled.cursor is not None or getattr(store, "engine", "duckdb") != "duckdb":
        return compiled
    cols = list(columns)
    sources: dict[str, list[Source]] = {}
    for mode, parts in compiled.sources.items():
        sources[mode] = []
        for src in parts:
            col = f"__src{sum(len(v) for v in sources.values())}"
            cols.append((col, f"coalesce(({src.sql}), false)", src.params))
            why = None
            if src.why is not None:  # the text of its why, evaluated once too
                cols.append((f"{col}_why", src.why[0], src.why[1]))
                why = (quote_ident(f"{col}_why"), [])
            sources[mode].append(Source(src.kind, src.name, quote_ident(col), [], src.description, why))
    name = f"__faultline_modes_{uuid.uuid4().hex[:12]}"
    cursor = store.cursor()
    cursor.execute(*M.materialise_modes_sql(name, compiled.table, cols, cohort=compiled.cohort_sql, with_ids=with_ids))
    return replace(compiled, table=name, sources=sources, cursor=cursor)


def release_modes(compiled: CompiledModes) -> None:
    """Drop the temporary table of :func:`materialise_modes` and close its cursor (nothing for other modes)."""
    if compiled.cursor is None:
        return
    try:
        compiled.cursor.execute(M.drop_temporary_sql(compiled.table))
    finally:
        compiled.cursor.close()


def _compiled_for(store: Store, run, objective: Objective | None, compiled: CompiledModes | None,
                  where: str | None, **kwargs) -> CompiledModes:
    """``compiled``, or the run's modes compiled for the cohort ``where``; :class:`FaultlineError`
    (:data:`MSG_COHORT_MISMATCH`) when both are given and ``compiled`` is another cohort's."""
    if compiled is None:
        return compile_modes(store, run, objective, where=where, **kwargs)
    asked = str(where).strip() if where is not None else ""
    have = compiled.cohort.text.strip() if compiled.cohort is not None else ""
    if asked and asked != have:
        raise FaultlineError(MSG_COHORT_MISMATCH.format(compiled=have or "(every example)", where=asked))
    return compiled


# ---------------------------------------------------------------------------------- indicators
def mode_indicators(store: Store, run: str, objective: Objective | None = None, *,
                    compiled: CompiledModes | None = None, with_why: bool = False,
                    where: str | None = None) -> pd.DataFrame:
    """One row per scored example (of the cohort ``where``, if given; see :func:`compile_modes`): ``example_id``,
    ``correct``, one boolean column per mode (and ``why.<mode>`` naming the sources, with ``with_why``), in log
    order.

    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/i.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "response": ["I'm sorry, but I can't help.", "4"],
    ...                                  "gold": ["1", "4"], "correct": [False, True]}), name="r")
    >>> mode_indicators(s, "r")[["example_id", "correct", "over_refusal"]].to_dict("records")
    [{'example_id': '1', 'correct': False, 'over_refusal': True}, {'example_id': '2', 'correct': True, 'over_refusal': False}]
    """
    compiled = _compiled_for(store, run, objective, compiled, where)
    columns = []
    for mode in compiled.modes:
        columns.append((mode.id, *compiled.mode_sql(mode.id)))
        if with_why:
            columns.append(("why." + mode.id, *compiled.why_sql(mode.id)))
    return store.cursor().execute(*M.indicators_sql(compiled.table, columns, cohort=compiled.cohort_sql)).df()


def mode_counts(store: Store, run: str, objective: Objective | None = None, *,
                compiled: CompiledModes | None = None, where: str | None = None) -> pd.DataFrame:
    """Per mode: examples in it, their share of the scored examples, and how many each source marks.

    Columns: ``mode``, ``name``, ``dimension``, ``n``, ``rate``, ``scored``, ``sources`` (dict
    source name -> examples it marks). With a cohort (``where``, or the one ``compiled`` was made
    for) every count is over the cohort's scored examples; ``rate`` is a fraction of them.

    Raises
    ------
    FaultlineError
        ``where`` differs from the cohort ``compiled`` was made for (:data:`MSG_COHORT_MISMATCH`).
    PredicateError
        A ``where`` that cannot be read or does not fit the run.
    """
    compiled = _compiled_for(store, run, objective, compiled, where)
    conditions, keys = [], []
    for mode in compiled.modes:
        conditions.append(compiled.mode_sql(mode.id))
        keys.append((mode.id, None))
        for src in compiled.sources[mode.id]:
            conditions.append((src.sql, src.params))
            keys.append((mode.id, src.name))
    values = compiled.cursor_of(store).execute(*M.counts_sql(compiled.table, conditions,
                                                             cohort=compiled.cohort_sql)).fetchall()[0]
    scored = int(values[0])
    found: dict[tuple, int] = {key: int(v) for key, v in zip(keys, values[1:])}
    rows = []
    for mode in compiled.modes:
        by_source: dict[str, int] = {}
        for (m, name), v in found.items():
            if m == mode.id and name is not None:
                by_source[name] = by_source.get(name, 0) + v
        n = found[(mode.id, None)]
        rows.append({"mode": mode.id, "name": mode.name, "dimension": mode.dimension, "n": n,
                     "rate": n / scored if scored else float("nan"), "scored": scored, "sources": by_source})
    return pd.DataFrame(rows)


def save_mode_columns(store: Store, run: str, objective: Objective | None = None) -> list[str]:
    """Store each mode's indicator as a boolean column ``mode.<id>`` (role ``failure_mode``) of the run,
    so the Slices page and predicates can use it. Returns the columns written."""
    compiled = compile_modes(store, run, objective)
    flags = mode_indicators(store, run, compiled=compiled)
    written = []
    for mode in compiled.modes:
        values = pd.DataFrame({"example_id": flags["example_id"].astype(str), "value": flags[mode.id].astype(bool)})
        store.set_example_column(compiled.run_id, f"mode.{mode.id}", values, role="failure_mode", kind="boolean",
                                 source_name=f"failure mode {mode.name}")
        written.append(f"mode.{mode.id}")
    return written


# -------------------------------------------------------------------------------- concentration
@dataclass
class ModeSlices:
    """Where one failure mode concentrates: one row per slice, as :func:`analysis.slicing.table.slice_table`
    with the mode's indicator in place of errors.

    Columns of ``table``: ``predicate``, ``attributes``, ``values``, ``order``, ``description``,
    ``n``, ``in_mode``, ``mode_rate``, ``ci_low``, ``ci_high``, ``ci_method``, ``rest_n``,
    ``rest_in_mode``, ``rest_mode_rate``, ``difference``, ``p_value``, ``test``, ``q_value``,
    ``too_small``, ``redundant``, ``finding`` (the mode is more frequent than in the rest, at
    the FDR level), sorted by evidence.
    """

    mode: str
    run_id: str
    table: pd.DataFrame
    total_n: int
    total_in_mode: int
    settings: dict = field(default_factory=dict)

    @property
    def overall_rate(self) -> float:
        return self.total_in_mode / self.total_n if self.total_n else float("nan")

    def findings(self) -> pd.DataFrame:
        return self.table.loc[self.table["finding"].astype(bool)]

    def to_records(self, limit: int | None = None) -> list[dict]:
        cols = ["description", "order", "n", "in_mode", "mode_rate", "ci_low", "ci_high", "rest_mode_rate",
                "difference", "q_value", "too_small", "finding"]
        rows = self.table[~self.table["redundant"]][cols]
        if limit is not None:
            rows = rows.head(limit)
        out = []
        for row in rows.to_dict("records"):
            out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                            (v.item() if isinstance(v, np.generic) else v)) for k, v in row.items()})
        return out


def concentration_attributes(store: Store, run: str, by: Sequence[str] | None = None) -> list[str]:
    """Attribute names for "where a mode concentrates": ``by``, or the run's default slicing
    attributes (its context: never output features, clusters or mode columns)."""
    if by is not None:
        return list(by)
    return [a.name for a in default_attributes(store, run)
            if a.role != "outcome" and not (a.column or "").startswith("mode.")]


def mode_slices(store: Store, run: str, objective: Objective | None, mode: str, by: Sequence[str] | None = None, *,
                compiled: CompiledModes | None = None, max_order: int = 2, min_support: int | float = 30,
                confidence: float = 0.95, fdr: float = 0.05, bins: int = 5, where: str | None = None) -> ModeSlices:
    """Where ``mode`` concentrates in a run: every slice's share of examples in the mode, tested
    against the rest of the run, with BH q-values (the statistics of :func:`analysis.slicing.table.slice_table`).

    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/c.duckdb")
    >>> out = ["I'm sorry, but I can't help."] * 40 + ["4"] * 160
    >>> df = pd.DataFrame({"prompt": ["q"] * 200, "response": out, "gold": ["4"] * 200,
    ...                    "domain": ["medical"] * 50 + ["travel"] * 150, "correct": [o == "4" for o in out]})
    >>> _ = s.ingest_frame(df, name="r")
    >>> top = mode_slices(s, "r", None, "over_refusal", ["domain"], min_support=10).table.iloc[0]
    >>> top["description"], int(top["in_mode"]), bool(top["finding"])
    ('domain = medical', 40, True)
    """
    return modes_slices(store, run, objective, [mode], by, compiled=compiled, max_order=max_order,
                        min_support=min_support, confidence=confidence, fdr=fdr, bins=bins, where=where)[mode]


def modes_slices(store: Store, run: str, objective: Objective | None, modes: Sequence[str] | None = None,
                 by: Sequence[str] | None = None, *, compiled: CompiledModes | None = None, prepared=None,
                 max_order: int = 2, min_support: int | float = 30, confidence: float = 0.95, fdr: float = 0.05,
                 bins: int = 5, where: str | None = None) -> dict[str, ModeSlices]:
    """:func:`mode_slices` for several modes (default: all) with one query over the examples.

    ``prepared``: attributes already prepared by :func:`analysis.slicing.table.prepare_attributes` (internal;
    for a cohort, prepared with it). ``where``: a cohort (see :func:`compile_modes`): bins, totals, rates, tests
    and q-values are the cohort's.
    """
    check_slicing_params(max_order, min_support, fdr, bins, confidence)
    schema = store.schema(run)
    info = schema.run
    compiled = _compiled_for(store, schema, objective, compiled, where, fdr=fdr)
    cohort = compiled.cohort_sql
    scored, scored_params = Q.and_cohort("NOT unscorable", cohort)
    modes = list(modes) if modes is not None else [m.id for m in compiled.modes]
    outcomes = [compiled.mode_sql(m) for m in modes]
    if prepared is None:
        names = concentration_attributes(store, schema, by)
        attrs = resolve_attributes(store, schema, names)
        if cohort is None:  # the profiles the attribute choice made, not made again
            prepared = _counts.prepared_attributes(store, info.table_name, attrs, bins=bins, edges=None)
        else:
            prepared = prepare_attributes(store, info.table_name, attrs, bins=bins, edges=None, cohort=cohort)
        if by is None:
            prepared = [p for p in prepared if not p.constant] or prepared
    settings = {"attributes": [p.attribute.name for p in prepared], "max_order": max_order,
                "min_support": min_support, "confidence": confidence, "fdr": fdr, "bins": bins}
    if compiled.cohort is not None:
        settings["where"] = compiled.cohort.text
    cur = compiled.cursor_of(store)
    if not prepared:
        out = {}
        for m, (sql, params) in zip(modes, outcomes):
            total = cur.execute(*Q.outcome_totals_sql(compiled.table, sql, params, where=scored,
                                                      where_params=scored_params)).fetchall()[0]
            out[m] = ModeSlices(m, info.run_id, _empty_mode_table(), int(total[0]), int(total[1] or 0),
                                {**settings, "mode": m})
        return out
    k = len(prepared)
    sets = [s for order in range(1, min(max_order, k) + 1) for s in itertools.combinations(range(k), order)]
    attr_sql = [p.sql for p in prepared]
    raw = grouping_counts(cur, k, sets, lambda used, local: Q.outcomes_sets_sql(
        compiled.table, [attr_sql[i] for i in used], local, outcomes, where=scored, where_params=scored_params))
    first = raw[raw["gid"] == Q.grouping_mask(k, [0])]  # every example has one value of the first attribute
    total_n = int(first["n"].sum())
    out = {}
    for i, m in enumerate(modes):
        total_in = int(first[f"errors_{i}"].sum())
        one = raw[[f"a{j}" for j in range(k)] + ["gid", "n"]].assign(
            errors=raw[f"errors_{i}"], score_sum=np.nan, score_n=0)
        table = slice_statistics(one, prepared, total_n, total_in, min_support=support_count(min_support, total_n),
                              confidence=confidence, fdr=fdr)
        table = table.drop(columns=["mean_score"]).rename(columns={
            "errors": "in_mode", "error_rate": "mode_rate", "rest_errors": "rest_in_mode",
            "rest_error_rate": "rest_mode_rate"})
        out[m] = ModeSlices(m, info.run_id, table, total_n, total_in, {**settings, "mode": m})
    return out


def _empty_mode_table() -> pd.DataFrame:
    cols = ["predicate", "attributes", "values", "order", "description", "n", "in_mode", "mode_rate", "ci_low",
            "ci_high", "ci_method", "rest_n", "rest_in_mode", "rest_mode_rate", "difference", "p_value", "test",
            "q_value", "too_small", "redundant", "finding"]
    return pd.DataFrame({c: [] for c in cols})


def mode_examples(store: Store, run: str, objective: Objective | None, mode: str, *,
                  compiled: CompiledModes | None = None, columns: Sequence[str] = (),
                  order_by: str | None = None, descending: bool = True, limit: int | None = 200,
                  where: str | None = None) -> pd.DataFrame:
    """The examples in ``mode`` with the sources that put them there (``why``), plus ``columns``.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.
    objective : Objective or None
        The objective spec; None for the default taxonomy and detectors.
    mode : str
        A failure-mode id of the objective (e.g. ``over_refusal``).
    compiled : CompiledModes, optional
        The run's compiled modes, if already at hand (otherwise :func:`compile_modes`, strict).
    columns : sequence of str, default ()
        Extra fields to show: any field a predicate can name (``rm_helpfulness``,
        ``meta.language``, ``output_length``).
    order_by : str, optional
        Such a field to sort by (e.g. a signal, most rewarded first); log order otherwise.
    descending : bool, default True
        Sort ``order_by`` from the largest value (missing values last).
    limit : int or None, default 200
        Most examples returned; None for all.
    where : str, optional
        A cohort (see :func:`compile_modes`): only its examples are returned. With ``compiled``, the
        cohort it was compiled for applies (a different ``where`` raises).

    Returns
    -------
    pandas.DataFrame
        One row per scorable example in the mode: ``example_id``, ``input``, ``output``,
        ``reference``, ``correct``, the ``columns`` asked for, and ``why`` (the names of the
        sources that put it there, comma-separated).

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        A ``columns`` or ``order_by`` field the run does not have, or a ``mode`` that is not one of the
        objective's (``MSG_UNKNOWN_MODE``); a ``where`` other than the cohort of ``compiled``
        (:data:`MSG_COHORT_MISMATCH`).
    PredicateError
        A ``where`` that cannot be read or does not fit the run.
    SpecError
        When ``compiled`` is not given and the spec does not fit the run (see :func:`compile_modes`).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/e.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "response": ["I'm sorry, but I can't help.", "4"],
    ...                                  "gold": ["1", "4"], "correct": [False, True]}), name="r")
    >>> found = mode_examples(s, "r", None, "over_refusal", columns=["output_length"])
    >>> found[["example_id", "why", "output_length"]].to_dict("records")
    [{'example_id': '1', 'why': 'detector:refusal', 'output_length': 28}]
    """
    schema = store.schema(run)
    info = schema.run
    compiled = _compiled_for(store, schema, objective, compiled, where)
    fields = fields_from_table(schema.stored())
    extra = []
    for name in columns:
        if name not in fields:
            raise FaultlineError(f"Run {info.name!r} has no field {name!r}")
        if name not in ("example_id", "input", "output", "reference", "correct"):
            extra.append((name, fields[name].sql, fields[name].params))
    order = None
    if order_by is not None:
        if order_by not in fields:
            raise FaultlineError(f"Run {info.name!r} has no field {order_by!r}")
        order = (fields[order_by].sql, fields[order_by].params)
    sql, params = M.examples_sql(info.table_name, extra, compiled.why_sql(mode), compiled.mode_sql(mode), order,
                                 descending=descending, limit=limit, cohort=compiled.cohort_sql)
    return store.cursor().execute(sql, params).df()


def slugify(text: str) -> str:
    """A mode id from a name: lower case, words joined by ``_``.

    >>> slugify("Wrong jurisdiction!")
    'wrong_jurisdiction'
    """
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


__all__ = ["MSG_COHORT_MISMATCH", "CompiledModes", "ModeSlices", "Source", "compile_modes", "concentration_attributes", "mode_counts", "mode_examples",
           "mode_indicators", "mode_slices", "modes_slices", "materialise_modes", "release_modes", "save_mode_columns",
           "slugify"]
