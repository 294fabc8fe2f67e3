"""Cohorts: a filter in the rule language applied to a whole analysis, and cohorts saved by name.

A cohort is a condition such as ``language = "sw" and domain = "legal"``, written in the rule
language of objective specs (:mod:`analysis.sql.predicates`: the same parser, the same
compilation to SQL with bound values, the same errors naming the position and the field).
Every analysis that takes ``where=`` (:func:`~analysis.slicing.table.slice_table`,
:func:`~analysis.slicing.table.slice_examples`, :func:`~analysis.slicing.compare.compare_runs`,
:func:`~analysis.slicing.discovery.discover`) computes over the cohort's examples only, as if the
store held nothing else: bins, totals, rates, tests and q-values are the cohort's.

Saved cohorts live in the store's ``cohorts`` table (created on first use). It is append-only:
saving a name again appends a new **version** (the old ones stay and are listed with
``history=True``); :func:`get_cohort` returns the latest. Each version has ``name``,
``version``, ``predicate`` (the condition's text), ``run_id`` (the run it was written for, or
NULL for any run), ``description``, ``author`` and ``created_at`` (UTC).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from analysis.errors import FaultlineError
from analysis.sql import cohort as S
from analysis.sql.predicates import PredicateError, compile_predicate, fields_from_table, parse
from analysis.store import RunSchema, Store

#: The rule name shown in a cohort's errors ("Rule 'cohort', position 9: ...").
COHORT_RULE = "cohort"

MSG_NAME = "A cohort needs a name (letters, digits, spaces, '-', '_' or '.'; at most 80 characters); got {name!r}"
MSG_AUTHOR = "A cohort needs an author (who saved it)"
MSG_UNKNOWN = "No saved cohort {name!r}; saved cohorts: {known}"


@dataclass(frozen=True)
class CohortFilter:
    """A cohort compiled for one run: its text and the SQL boolean selecting its examples."""

    text: str
    """The condition as written."""
    sql: str
    """An SQL boolean over the run's table (never NULL), values as ``?``."""
    params: tuple
    """The bound values of ``sql``, in order."""

    @property
    def as_sql(self) -> tuple[str, tuple]:
        """``(sql, params)``, as the SQL builders of :mod:`analysis.sql.slices` take a cohort."""
        return self.sql, self.params


@dataclass(frozen=True)
class Cohort:
    """One version of a saved cohort (see the module docstring for the fields)."""

    cohort_id: str
    name: str
    version: int
    predicate: str
    run_id: str | None
    description: str
    author: str
    created_at: datetime


def cohort_filter(schema: RunSchema, where: str | None) -> CohortFilter | None:
    """Compile a cohort's condition against a run's fields; None (every example) when ``where`` is empty.

    Parameters
    ----------
    schema : RunSchema
        The run (:meth:`analysis.store.Store.schema`).
    where : str or None
        A condition in the rule language, e.g. ``language = "sw" and not correct``.

    Returns
    -------
    CohortFilter or None

    Raises
    ------
    PredicateError
        The condition cannot be read, or names a field the run does not have, or compares a
        field with a value of another type; the message names the position (1-based character)
        and the field (e.g. ``Rule 'cohort', position 1: unknown field 'lang'; fields: ...``).

    Examples
    --------
    >>> import tempfile
    >>> s = Store(tempfile.mkdtemp() + "/c.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "lang": ["sw", "en"], "correct": [True, False]}), name="r")
    >>> cohort_filter(s.schema("r"), 'lang = "sw"').params
    ('sw',)
    >>> cohort_filter(s.schema("r"), "  ") is None
    True
    """
    if where is None or not str(where).strip():
        return None
    sql, params = compile_predicate(str(where), fields_from_table(schema.stored()), rule=COHORT_RULE)
    return CohortFilter(str(where), sql, tuple(params))


def cohort_sql(store: Store, run: str | RunSchema, where: str | None) -> tuple[str, tuple] | None:
    """``(sql, params)`` of a cohort on a run (see :func:`cohort_filter`), or None without a cohort."""
    if where is None or not str(where).strip():
        return None
    found = cohort_filter(store.schema(run), where)
    return None if found is None else found.as_sql


def check_cohort(store: Store, run: str | RunSchema, where: str) -> int:
    """Check a cohort's condition on a run and count its examples (scorable or not).

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str or RunSchema
        Run name or id (or its schema).
    where : str
        The condition in the rule language.

    Returns
    -------
    int
        How many examples of the run satisfy it (all of them for an empty condition).

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    PredicateError
        As :func:`cohort_filter`.
    """
    from analysis.sql import slices as Q

    schema = store.schema(run)
    found = cohort_filter(schema, where)
    cohort = None if found is None else found.as_sql
    where_sql, params = Q.and_cohort("true", cohort)
    return int(store.cursor().execute(*Q.count_where_sql(schema.table_name, where_sql, params)).fetchall()[0][0])


def cohort_fields(store: Store, run: str | RunSchema) -> pd.DataFrame:
    """The fields a cohort's condition can name on a run, for completion and help.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str or RunSchema
        Run name or id (or its schema).

    Returns
    -------
    pandas.DataFrame
        One row per field, in the order the rule language resolves them (the fixed fields, the
        stored columns by full name, short names, derived features): ``name``, ``kind``
        (``number``, ``text``, ``boolean`` or ``timestamp``) and ``column`` (the stored column a
        short name stands for; the name itself otherwise, empty for a derived feature).

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    """
    fields = fields_from_table(store.schema(run).stored())
    return pd.DataFrame({"name": list(fields), "kind": [f.kind for f in fields.values()],
                         "column": [f.column or "" for f in fields.values()]}).astype(
        {"name": "str", "kind": "str", "column": "str"})


def _check_name(name) -> str:
    text = str(name or "").strip()
    if not text or len(text) > 80 or not all(c.isalnum() or c in " -_." for c in text):
        raise FaultlineError(MSG_NAME.format(name=name))
    return text


def save_cohort(store: Store, name: str, predicate: str, *, author: str, run: str | None = None,
                description: str = "") -> Cohort:
    """Save a cohort by name (a new version when the name exists; nothing is overwritten).

    Parameters
    ----------
    store : Store
        The store (opened for writing).
    name : str
        The cohort's name (letters, digits, spaces, ``-``, ``_``, ``.``; at most 80 characters).
    predicate : str
        The condition in the rule language. Checked: it must parse, and with ``run`` it must fit that
        run's fields.
    author : str
        Who saved it (required).
    run : str, optional
        The run it was written for (name or id); None for any run (checked when used).
    description : str, default ""
        What the cohort is for.

    Returns
    -------
    Cohort
        The saved version (``version`` 1 for a new name).

    Raises
    ------
    FaultlineError
        A bad name (:data:`MSG_NAME`) or no author (:data:`MSG_AUTHOR`).
    PredicateError
        The condition cannot be read, or does not fit ``run``'s fields (position and field named).
    RunNotFoundError
        ``run`` is given and the store has no such run.

    Examples
    --------
    >>> import tempfile
    >>> s = Store(tempfile.mkdtemp() + "/c.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "lang": ["sw", "en"], "correct": [True, False]}), name="r")
    >>> save_cohort(s, "swahili", 'lang = "sw"', author="ada", run="r").version
    1
    >>> save_cohort(s, "swahili", 'lang = "sw" and not correct', author="ada").version
    2
    >>> get_cohort(s, "swahili").predicate
    'lang = "sw" and not correct'
    """
    name = _check_name(name)
    author = str(author or "").strip()
    if not author:
        raise FaultlineError(MSG_AUTHOR)
    predicate = str(predicate or "")
    parse(predicate, rule=COHORT_RULE)  # an empty or unreadable condition is refused whatever the run
    run_id = None
    if run is not None:
        schema = store.schema(run)
        cohort_filter(schema, predicate)
        run_id = schema.run_id
    return Cohort(*store.append_version("cohorts", S.NEXT_VERSION, S.INSERT, name, lambda version: [
        uuid.uuid4().hex, name, version, predicate, run_id, str(description or "").strip(), author,
        datetime.now(UTC).replace(tzinfo=None)]))


def cohorts(store: Store, *, history: bool = False) -> pd.DataFrame:
    """Saved cohorts: the latest version of each name (every version with ``history=True``).

    Parameters
    ----------
    store : Store
        The store.
    history : bool, default False
        Every version of every name, not only the latest.

    Returns
    -------
    pandas.DataFrame
        One row per cohort (or version), by name then version: ``cohort_id``, ``name``,
        ``version``, ``predicate``, ``run_id``, ``description``, ``author``, ``created_at`` (UTC),
        ``versions`` (how many versions the name has). Empty, with these columns, when none is saved.

    Raises
    ------
    duckdb.Error
        Only when the store itself cannot be read.
    """
    columns = ["cohort_id", "name", "version", "predicate", "run_id", "description", "author", "created_at",
               "versions"]
    if not store.table_exists("cohorts"):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frame = store.cursor().execute(S.ALL_VERSIONS).df()
    if not history:
        frame = frame[frame["version"] == frame["versions"]]
    frame = frame.astype({"run_id": "object"})
    return frame.where(frame.notna(), None).reset_index(drop=True)


def get_cohort(store: Store, name: str, *, version: int | None = None) -> Cohort:
    """A saved cohort by name: its latest version, or the version asked for.

    Parameters
    ----------
    store : Store
        The store.
    name : str
        The cohort's name.
    version : int, optional
        A given version (default the latest).

    Returns
    -------
    Cohort
        ``cohort_id``, ``name``, ``version``, ``predicate`` (the condition's text), ``run_id`` (or None),
        ``description``, ``author``, ``created_at`` (UTC).

    Raises
    ------
    FaultlineError
        No cohort of that name (or version) is saved (:data:`MSG_UNKNOWN`, listing the saved names).
    """
    frame = cohorts(store, history=True)
    rows = frame[frame["name"] == str(name).strip()]
    if version is not None:
        rows = rows[rows["version"] == int(version)]
    if rows.empty:
        known = ", ".join(sorted(set(frame["name"]))) or "none"
        raise FaultlineError(MSG_UNKNOWN.format(name=name if version is None else f"{name} v{version}", known=known))
    r = rows.iloc[-1]
    return Cohort(str(r["cohort_id"]), str(r["name"]), int(r["version"]), str(r["predicate"]),
                  None if r["run_id"] is None else str(r["run_id"]), str(r["description"]), str(r["author"]),
                  r["created_at"].to_pydatetime() if hasattr(r["created_at"], "to_pydatetime") else r["created_at"])


__all__ = ["COHORT_RULE", "Cohort", "CohortFilter", "PredicateError", "check_cohort", "cohort_fields", "cohort_filter", "cohort_sql",
           "cohorts", "get_cohort", "save_cohort"]
