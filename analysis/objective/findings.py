"""Findings: a slice, cluster, matrix cell or comparison row pinned with a note, to share and to present.

Table ``findings`` in the store (created on first use), append-only like annotations
(:mod:`analysis.objective.annotations`): withdrawing a finding appends a row that ``withdraws``
it; nothing is updated or deleted, and exports show both.

Each finding keeps:

``finding_id`` (32 hex digits), ``run_id`` (the run; for a comparison the candidate),
``baseline_run_id`` (a comparison's baseline, else NULL), ``kind`` (``slice``, ``cluster``,
``cell``, ``comparison``), ``target`` (JSON: what was pinned: a slice's or a comparison row's
predicate ``{"attribute": "value label"}``, a cluster's ``{"cluster": "3"}``, a matrix cell's
``{"mode": ..., "component": ...}``), ``cohort`` (the cohort condition the analysis ran on, or
NULL), ``title``, ``note``, ``evidence`` (JSON: the numbers shown when it was pinned: counts,
rates as fractions, differences as fractions, intervals, p- and q-values), ``settings`` (JSON:
the analysis settings that recompute them: attributes, bins, minimum support, FDR, ...),
``author``, ``created_at`` (UTC), ``withdraws`` (the finding this row withdraws, or NULL).

:func:`pin_slice` and :func:`pin_comparison` compute the evidence themselves (with
:func:`~analysis.slicing.table.slice_table` and :func:`~analysis.slicing.compare.compare_runs`);
clusters and matrix cells are pinned with :func:`pin_finding` and the numbers the page shows.
:func:`recompute_finding` recomputes a slice's or a comparison row's numbers from the stored
settings (the store may have changed since).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from analysis.errors import AlreadyPinnedError, FaultlineError
from analysis.export import json_value, safe_csv
from analysis.formatting import format_count, format_q, score_unit
from analysis.objective.link import RULE_WORDS
from analysis.slicing.attributes import describe_predicate
from analysis.sql import finding as S
from analysis.store import Store

Kind = Literal["slice", "cluster", "cell", "comparison"]
KINDS: tuple[str, ...] = ("slice", "cluster", "cell", "comparison")

MSG_AUTHOR = "A finding needs an author (who pins it)"
MSG_KIND = "A finding is a slice, a cluster, a cell or a comparison; got {kind!r}"
MSG_TARGET = "A finding's target is a non-empty mapping of names to values (e.g. {{\"language\": \"sw\"}}); got {value!r}"
MSG_EVIDENCE = "A {kind} finding needs its evidence numbers (a mapping such as {{\"n\": 120, \"error_rate\": 0.3}})"
MSG_NO_SLICE = "Run {run!r} has no slice {target} in this analysis (attributes {attributes})"
MSG_NO_FINDING = "No finding {finding_id!r}"
MSG_NO_RECOMPUTE = "A {kind} finding cannot be recomputed here; its numbers are those captured when it was pinned"
MSG_BASELINE = "A comparison finding needs its baseline run"
MSG_ALREADY_PINNED = ("{title} is already pinned: finding {finding_id} by {author} on {when} UTC (same run, baseline, "
                      "cohort and outcome). Nothing was pinned again. Findings are kept as written (append-only, with "
                      "no notes added later), so a new note cannot be added to it: withdraw it on the Findings page "
                      "first to pin it again with another note")

#: The evidence a slice finding keeps (columns of the slice table).
SLICE_EVIDENCE = ("n", "errors", "error_rate", "ci_low", "ci_high", "ci_method", "rest_n", "rest_error_rate",
                  "difference", "p_value", "test", "q_value", "too_small", "finding")
#: The evidence a slice finding keeps when the outcome is a graded score (columns of its slice table).
GRADED_EVIDENCE = ("n", "mean", "sd", "ci_low", "ci_high", "ci_method", "rest_n", "rest_mean", "difference",
                   "p_value", "test", "q_value", "too_small", "finding")
#: The evidence a comparison finding keeps (columns of the comparison table).
COMPARISON_EVIDENCE = ("n", "base_errors", "cand_errors", "b", "c", "base_error_rate", "cand_error_rate",
                       "difference", "ci_low", "ci_high", "p_value", "q_value", "too_small", "verdict")
#: The evidence kept for a comparison row by a graded outcome (a stored score, :func:`analysis.compare_scores`):
#: the pairs, both means, the mean paired difference (candidate minus baseline, in the score's unit) with its
#: Student t interval, the paired t test's p and q, and the verdict; ``outcome`` names the score.
GRADED_COMPARISON_EVIDENCE = ("n", "base_mean", "cand_mean", "difference", "ci_low", "ci_high", "p_value", "q_value",
                              "too_small", "verdict")

COLUMNS = ("finding_id", "run_id", "baseline_run_id", "kind", "target", "cohort", "title", "note", "evidence",
           "settings", "author", "created_at", "withdraws")


@dataclass(frozen=True)
class Finding:
    """One finding as written (see the module docstring for the fields)."""

    finding_id: str
    run_id: str
    baseline_run_id: str | None
    kind: str
    target: dict
    cohort: str | None
    title: str
    note: str
    evidence: dict
    settings: dict
    author: str
    created_at: datetime
    withdraws: str | None = None




def _title(kind: str, target: Mapping) -> str:
    if kind == "cluster":
        return f"Cluster {target.get('cluster', '?')}"
    if kind == "cell":
        return " x ".join(f"{v}" for v in target.values())
    return describe_predicate(target, empty="")


def _same_target(a: Mapping, b: Mapping) -> bool:
    """Two targets name the same slice, cluster, cell or comparison row (order of the attributes aside)."""
    return {str(k): str(v) for k, v in a.items()} == {str(k): str(v) for k, v in b.items()}


def _outcome(outcome: str | None) -> str | None:
    """None for correctness (the default outcome, also written ``correct``), else the score's name."""
    return None if not outcome or str(outcome) == "correct" else str(outcome)


def _cohort(where: str | None) -> str | None:
    return str(where).strip() if where and str(where).strip() else None


def pinned_finding(store: Store, run: str, *, kind: Kind, target: Mapping, baseline: str | None = None,
                   where: str | None = None, outcome: str | None = None) -> Finding | None:
    """The finding (not withdrawn) that already pins this target, if any.

    The same target is the same ``kind``, ``target`` (attribute order aside), run, ``baseline``, cohort (``where``)
    and ``outcome`` (a stored score; None: correctness).

    Parameters
    ----------
    store : Store
        The store.
    run : str
        The run (a comparison's candidate), name or id.
    kind : {"slice", "cluster", "cell", "comparison"}
        What would be pinned.
    target : mapping
        What identifies it (see the module docstring); a comparison of the whole run is ``{}``.
    baseline : str, optional
        A comparison's (or a cell's) baseline run.
    where : str, optional
        The cohort the analysis ran on.
    outcome : str, optional
        The outcome the numbers are of (a stored score); None for correctness.

    Returns
    -------
    Finding or None
        The oldest such finding, or None when the target is not pinned.

    Raises
    ------
    RunNotFoundError
        An unknown run or baseline.
    """
    if kind == "comparison" and not target:
        target = WHOLE_RUN
    run_id = store.run(run).run_id
    base_id = store.run(baseline).run_id if baseline is not None else None
    if not store.table_exists("findings"):
        return None
    cohort = _cohort(where)
    for row in store.cursor().execute(S.PINNED, [run_id, kind]).fetchall():  # one run's, one kind's: a few rows
        held = _finding(row)
        if (held.baseline_run_id == base_id and _cohort(held.cohort) == cohort and _same_target(held.target, target)
                and _outcome(held.evidence.get("outcome")) == _outcome(outcome)):
            return held
    return None


#: A comparison row of the whole run, as its finding's target.
WHOLE_RUN = {"(all examples)": "all"}


def pin_finding(store: Store, run: str, *, kind: Kind, target: Mapping, author: str, evidence: Mapping,
                settings: Mapping | None = None, note: str = "", title: str | None = None,
                baseline: str | None = None, where: str | None = None) -> Finding:
    """Pin a finding with the evidence numbers given (as the page shows them).

    Parameters
    ----------
    store : Store
        The store (opened for writing).
    run : str
        The run (a comparison's candidate), name or id.
    kind : {"slice", "cluster", "cell", "comparison"}
        What is pinned.
    target : mapping
        What identifies it (see the module docstring).
    author : str
        Who pins it (required).
    evidence : mapping
        The numbers to keep: counts, rates and differences as fractions, intervals, p- and q-values.
    settings : mapping, optional
        The analysis settings that recompute them.
    note : str, default ""
        Why it matters, in the researcher's words.
    title : str, optional
        A short title (default from the target: ``language = sw``).
    baseline : str, optional
        A comparison's baseline run.
    where : str, optional
        The cohort the analysis ran on.

    Returns
    -------
    Finding

    Raises
    ------
    FaultlineError
        No author (:data:`MSG_AUTHOR`), an unknown kind (:data:`MSG_KIND`), an empty target
        (:data:`MSG_TARGET`) or no evidence (:data:`MSG_EVIDENCE`); a comparison without baseline.
    AlreadyPinnedError
        The target is already pinned (:func:`pinned_finding`, with ``evidence["outcome"]`` as the outcome):
        :data:`MSG_ALREADY_PINNED` names who pinned it and when; nothing is written.
    RunNotFoundError
        An unknown run or baseline.
    """
    author = str(author or "").strip()
    if not author:
        raise FaultlineError(MSG_AUTHOR)
    if kind not in KINDS:
        raise FaultlineError(MSG_KIND.format(kind=kind))
    if not isinstance(target, Mapping) or not target:
        raise FaultlineError(MSG_TARGET.format(value=target))
    if not isinstance(evidence, Mapping) or not evidence:
        raise FaultlineError(MSG_EVIDENCE.format(kind=kind))
    if kind == "comparison" and baseline is None:
        raise FaultlineError(MSG_BASELINE)
    info = store.run(run)
    base_id = store.run(baseline).run_id if baseline is not None else None
    target = {str(k): json_value(v) for k, v in target.items()}
    _refuse_a_second_pin(store, info.run_id, kind=kind, target=target, baseline=base_id, where=where,
                         outcome=evidence.get("outcome"))
    row = [uuid.uuid4().hex, info.run_id, base_id, kind, json.dumps(target, ensure_ascii=False),
           str(where).strip() if where and str(where).strip() else None,
           str(title).strip() if title and str(title).strip() else _title(kind, target), str(note or "").strip(),
           json.dumps(json_value(dict(evidence)), ensure_ascii=False),
           json.dumps(json_value(dict(settings or {})), ensure_ascii=False, default=str), author,
           datetime.now(UTC).replace(tzinfo=None), None]
    store.ensure_table("findings")
    with store.transaction() as cur:
        cur.execute(S.INSERT, row)
        store.bump_version(cur)
    return _finding(row)


def _refuse_a_second_pin(store: Store, run: str, *, kind: str, target: Mapping, baseline: str | None,
                         where: str | None, outcome: str | None) -> None:
    held = pinned_finding(store, run, kind=kind, target=target, baseline=baseline, where=where, outcome=outcome)
    if held is not None:
        raise AlreadyPinnedError(MSG_ALREADY_PINNED.format(
            title=held.title, finding_id=held.finding_id[:8], author=held.author,
            when=f"{held.created_at:%Y-%m-%d %H:%M}"), finding_id=held.finding_id, author=held.author,
            created_at=held.created_at)


def _finding(row) -> Finding:
    values = dict(zip(COLUMNS, row))
    return Finding(values["finding_id"], values["run_id"], values["baseline_run_id"], values["kind"],
                   json.loads(values["target"]), values["cohort"], values["title"], values["note"],
                   json.loads(values["evidence"]), json.loads(values["settings"]), values["author"],
                   values["created_at"], values["withdraws"])


def _row_of(table: pd.DataFrame, target: Mapping) -> pd.Series | None:
    wanted = {str(k): str(v) for k, v in target.items()}
    for i, predicate in enumerate(table["predicate"]):
        if {str(k): str(v) for k, v in predicate.items()} == wanted:
            return table.iloc[i]
    return None


def slice_evidence(store: Store, run: str, target: Mapping, *, settings: Mapping | None = None,
                   where: str | None = None) -> tuple[dict, dict]:
    """The evidence of one slice and the settings that computed it (:func:`slice_table` over its attributes).

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.
    target : mapping of str to str
        The slice (attribute -> value label).
    settings : mapping, optional
        ``attributes``, ``max_order``, ``min_support``, ``confidence``, ``fdr``, ``bins``, ``edges``, and
        ``outcome`` (``"correct"`` by default; a numeric score: the slice's mean, see :data:`GRADED_EVIDENCE`).
    where : str, optional
        The cohort.

    Returns
    -------
    evidence : dict
        :data:`SLICE_EVIDENCE` (counts, rates and differences as fractions, interval, p and q),
        ``description``, ``overall_error_rate`` and ``total_n``; for a graded ``outcome``
        :data:`GRADED_EVIDENCE` (means, t interval and differences in the score's unit), ``outcome`` (the
        score's column) and ``overall_mean`` instead of the rates.
    settings : dict
        The settings used (to recompute).

    Raises
    ------
    FaultlineError
        The analysis has no such slice (:data:`MSG_NO_SLICE`).
    """
    from analysis.slicing.table import slice_table

    settings = dict(settings or {})
    attributes = list(settings.get("attributes") or list(target))
    kwargs = {k: settings[k] for k in ("min_support", "confidence", "fdr", "bins") if k in settings}
    max_order = int(settings.get("max_order", max(len(target), 1)))
    outcome = str(settings.get("outcome") or "correct")
    result = slice_table(store, run, attributes, max_order=max(max_order, len(target)), where=where,
                         edges=settings.get("edges") or None, outcome=outcome, **kwargs)
    row = _row_of(result.table, target)
    if row is None:
        raise FaultlineError(MSG_NO_SLICE.format(run=run, target=dict(target), attributes=", ".join(attributes)))
    graded = outcome != "correct"
    evidence = {k: json_value(row[k]) for k in (GRADED_EVIDENCE if graded else SLICE_EVIDENCE)}
    evidence["description"] = row["description"]
    if graded:
        evidence["outcome"] = result.settings["outcome"]
        evidence["overall_mean"] = json_value(result.settings["overall_mean"])
    else:
        evidence["overall_error_rate"] = json_value(result.overall_error_rate)
    evidence["total_n"] = result.total_n
    used = {"attributes": attributes, "max_order": max(max_order, len(target)), "edges": result.edges,
            **{k: result.settings[k] for k in ("min_support", "confidence", "fdr", "bins")}}
    if graded:
        used["outcome"] = result.settings["outcome"]
    return evidence, used


def comparison_evidence(store: Store, baseline: str, candidate: str, target: Mapping, *,
                        settings: Mapping | None = None, where: str | None = None) -> tuple[dict, dict]:
    """The evidence of one comparison row (``{}`` for the whole run) and the settings that computed it.

    Parameters
    ----------
    store : Store
        The store holding both runs.
    baseline, candidate : str
        Run names or ids.
    target : mapping of str to str
        The row's slice.
    settings : mapping, optional
        As :func:`pin_comparison`; an ``outcome`` in it (a stored score) compares that score instead of
        correctness (:func:`analysis.slicing.compare.compare_scores`).
    where : str, optional
        The cohort.

    Returns
    -------
    evidence : dict
        :data:`COMPARISON_EVIDENCE` and ``description``; with an ``outcome``,
        :data:`GRADED_COMPARISON_EVIDENCE`, ``outcome`` and ``description``.
    settings : dict
        The settings used.

    Raises
    ------
    FaultlineError
        No such row.
    """
    from analysis.slicing.compare import compare_runs, compare_scores

    settings = dict(settings or {})
    attributes = list(settings.get("attributes") or list(target))
    kwargs = {k: settings[k] for k in ("min_support", "confidence", "fdr", "bins") if k in settings}
    max_order = max(int(settings.get("max_order", 1)), len(target))
    outcome = settings.get("outcome") or None
    if outcome:
        result = compare_scores(store, baseline, candidate, str(outcome), attributes or None, max_order=max_order,
                                where=where, **kwargs)
    else:
        result = compare_runs(store, baseline, candidate, attributes or None, max_order=max_order, where=where,
                              **kwargs)
    row = _row_of(result.table, target)
    if row is None:
        raise FaultlineError(MSG_NO_SLICE.format(run=candidate, target=dict(target), attributes=", ".join(attributes)))
    evidence = {k: json_value(row[k]) for k in (GRADED_COMPARISON_EVIDENCE if outcome else COMPARISON_EVIDENCE)}
    evidence["description"] = row["description"]
    used = {"attributes": attributes, "max_order": max_order,
            **{k: result.settings[k] for k in ("min_support", "confidence", "fdr", "bins") if k in result.settings}}
    if outcome:
        evidence["outcome"] = used["outcome"] = str(outcome)
    return evidence, used


def pin_slice(store: Store, run: str, predicate: Mapping, *, author: str, note: str = "",
              settings: Mapping | None = None, where: str | None = None, title: str | None = None) -> Finding:
    """Pin a slice: its numbers are computed now (:func:`slice_evidence`) and kept with the settings.

    Parameters
    ----------
    store : Store
        The store (opened for writing).
    run : str
        Run name or id.
    predicate : mapping of str to str
        The slice as the slice table names it (attribute -> value label).
    author : str
        Who pins it.
    note : str, default ""
        Why it matters.
    settings : mapping, optional
        The analysis' settings (``attributes``, ``max_order``, ``min_support``, ``fdr``, ``bins``,
        ``confidence``; default the slice's own attributes and the defaults of :func:`slice_table`).
    where : str, optional
        The cohort the analysis ran on.
    title : str, optional
        A short title (default ``attribute = value``).

    Returns
    -------
    Finding
        With ``evidence`` (see :func:`slice_evidence`) and ``settings``.

    Raises
    ------
    FaultlineError
        The analysis has no such slice; no author.
    PredicateError
        A ``where`` that does not fit the run.

    Examples
    --------

    >>> import tempfile
    >>> s = Store(tempfile.mkdtemp() + "/f.duckdb")
    >>> df = pd.DataFrame({"prompt": ["q"] * 200, "lang": ["en"] * 100 + ["sw"] * 100,
    ...                    "correct": [True] * 90 + [False] * 10 + [True] * 50 + [False] * 50})
    >>> _ = s.ingest_frame(df, name="r")
    >>> f = pin_slice(s, "r", {"lang": "sw"}, author="ada", note="half wrong")
    >>> f.evidence["n"], f.evidence["error_rate"], f.title
    (100, 0.5, 'lang = sw')
    """
    _refuse_a_second_pin(store, run, kind="slice", target=predicate, baseline=None, where=where,
                         outcome=(settings or {}).get("outcome") or None)
    evidence, used = slice_evidence(store, run, predicate, settings=settings, where=where)
    return pin_finding(store, run, kind="slice", target=predicate, author=author, evidence=evidence, settings=used,
                       note=note, title=title, where=where)


def pin_comparison(store: Store, baseline: str, candidate: str, predicate: Mapping, *, author: str, note: str = "",
                   settings: Mapping | None = None, where: str | None = None, title: str | None = None) -> Finding:
    """Pin a comparison row (``{}`` is the whole run): its numbers computed now and kept with the settings.

    Parameters
    ----------
    store : Store
        The store holding both runs (opened for writing).
    baseline, candidate : str
        Run names or ids.
    predicate : mapping of str to str
        The comparison row's slice (``{}`` for the whole run).
    author : str
        Who pins it.
    note : str, default ""
        Why it matters.
    settings : mapping, optional
        The comparison's settings (``attributes``, ``max_order``, ``min_support``, ``fdr``, ``bins``; an
        ``n_resamples`` kept by an older finding is ignored: the score interval is no longer a bootstrap); with
        ``outcome`` (a stored score, as the Compare page's outcome) the row of that score's comparison is pinned:
        its mean paired difference with the Student t interval, not the correctness row.
    where : str, optional
        The cohort (read on the baseline).
    title : str, optional
        A short title (default the row's description).

    Returns
    -------
    Finding
        ``kind`` ``comparison``, ``evidence`` :data:`COMPARISON_EVIDENCE` (with ``outcome``,
        :data:`GRADED_COMPARISON_EVIDENCE` and ``outcome``) and ``description``.

    Raises
    ------
    FaultlineError
        The comparison has no such row; no author; runs that share no example.
    """
    _refuse_a_second_pin(store, candidate, kind="comparison", target=predicate, baseline=baseline, where=where,
                         outcome=(settings or {}).get("outcome") or None)
    evidence, used = comparison_evidence(store, baseline, candidate, predicate, settings=settings, where=where)
    return pin_finding(store, candidate, kind="comparison", target=predicate or WHOLE_RUN,
                       author=author, evidence=evidence, settings=used, note=note,
                       title=title or (evidence["description"]), baseline=baseline, where=where)


def findings(store: Store, run: str | None = None, *, include_withdrawn: bool = False) -> pd.DataFrame:
    """Findings (of one run, or all), oldest first.

    Parameters
    ----------
    store : Store
        The store.
    run : str, optional
        Run name or id (a comparison is listed under its candidate); None for every run.
    include_withdrawn : bool, default False
        Also the withdrawn findings and the withdrawals.

    Returns
    -------
    pandas.DataFrame
        One row per finding: the columns of the module docstring (``target``, ``evidence`` and
        ``settings`` as dicts), ``run_name``, ``baseline_name`` and ``withdrawn`` (bool). Without
        ``include_withdrawn``, withdrawn findings and the withdrawals are left out. Empty, with
        these columns, when nothing is pinned.

    Raises
    ------
    RunNotFoundError
        ``run`` is given and the store has no such run.
    """
    columns = [*COLUMNS, "run_name", "baseline_name", "withdrawn"]
    if not store.table_exists("findings"):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    params = [store.run(run).run_id] if run is not None else []
    frame = store.cursor().execute(S.findings_sql(one_run=run is not None), params).df()
    frame = frame.astype({c: "object" for c in ("baseline_run_id", "cohort", "withdraws", "baseline_name")})
    frame = frame.where(frame.notna(), None)
    for column in ("target", "evidence", "settings"):
        frame[column] = [json.loads(v) for v in frame[column]]
    frame["withdrawn"] = frame["withdrawn"].astype(bool)
    if not include_withdrawn:
        frame = frame[~frame["withdrawn"] & frame["withdraws"].isna()]
    return frame.reset_index(drop=True)


def get_finding(store: Store, finding_id: str) -> Finding:
    """One finding by id (withdrawn or not).

    Parameters
    ----------
    store : Store
        The store.
    finding_id : str
        The finding's id.

    Returns
    -------
    Finding

    Raises
    ------
    FaultlineError
        No such finding (:data:`MSG_NO_FINDING`).
    """
    frame = findings(store, include_withdrawn=True)
    rows = frame[frame["finding_id"] == finding_id]
    if rows.empty:
        raise FaultlineError(MSG_NO_FINDING.format(finding_id=finding_id))
    r = rows.iloc[0]
    return Finding(*(r[c] if c not in ("target", "evidence", "settings") else dict(r[c]) for c in COLUMNS))


def withdraw_finding(store: Store, finding_id: str, *, author: str, note: str = "") -> Finding:
    """Withdraw a finding by appending a row that ``withdraws`` it (both stay, both are exported).

    Parameters
    ----------
    store : Store
        The store (opened for writing).
    finding_id : str
        The finding to withdraw.
    author : str
        Who withdraws it.
    note : str, default ""
        Why (default "withdrawn").

    Returns
    -------
    Finding
        The withdrawal (``withdraws`` is the withdrawn finding's id).

    Raises
    ------
    FaultlineError
        No such finding, or no author.
    """
    return _withdraw(store, get_finding(store, finding_id), author, note)


def _withdraw(store: Store, target: Finding, author: str, note: str) -> Finding:
    author = str(author or "").strip()
    if not author:
        raise FaultlineError(MSG_AUTHOR)
    row = [uuid.uuid4().hex, target.run_id, target.baseline_run_id, target.kind,
           json.dumps(target.target, ensure_ascii=False), target.cohort, f"Withdrawn: {target.title}",
           str(note or "withdrawn").strip(), json.dumps({}), json.dumps({}), author,
           datetime.now(UTC).replace(tzinfo=None), target.finding_id]
    with store.transaction() as cur:
        cur.execute(S.INSERT, row)
        store.bump_version(cur)
    return _finding(row)


def recompute_finding(store: Store, finding_id: str) -> dict:
    """A slice's or comparison row's evidence recomputed now from the settings kept with it.

    Parameters
    ----------
    store : Store
        The store.
    finding_id : str
        A slice or comparison finding.

    Returns
    -------
    dict
        The evidence as :func:`slice_evidence` or :func:`comparison_evidence` compute it.

    Raises
    ------
    FaultlineError
        A cluster or cell finding (:data:`MSG_NO_RECOMPUTE`); the slice no longer exists.
    """
    f = get_finding(store, finding_id)
    if f.kind == "slice":
        return slice_evidence(store, f.run_id, f.target, settings=f.settings, where=f.cohort)[0]
    if f.kind == "comparison":
        target = {} if list(f.target) == ["(all examples)"] else f.target
        return comparison_evidence(store, f.baseline_run_id, f.run_id, target, settings=f.settings,
                                   where=f.cohort)[0]
    raise FaultlineError(MSG_NO_RECOMPUTE.format(kind=f.kind))


def _n(x, noun: str | None = None) -> str:
    """A count in a sentence with thousands separators (``7,032``), with ``noun`` in its number when given
    (:func:`analysis.format_count`); ``?`` when the evidence lacks it."""
    try:
        if np.isfinite(float(x)):
            return format_count(int(x), noun) if noun else f"{int(x):,}"
    except (TypeError, ValueError):
        pass
    shown = "?" if x is None or isinstance(x, float) else str(x)
    return f"{shown} {noun}s" if noun else shown


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * float(x):.1f}%"


def _points(x) -> str:
    return "n/a" if x is None else f"{100 * float(x):+.1f}"


def _mean(x) -> str:
    return "n/a" if x is None else f"{float(x):.3f}"


def _signed(x) -> str:
    return "n/a" if x is None else f"{float(x):+.3f}"


def finding_sentence(kind: str, title: str, evidence: Mapping, *, cohort: str | None = None,
                     confidence: float = 0.95, q_words: Callable[[float], str] | None = None) -> str:
    """The finding in plain words, from its evidence.

    Rates read as percentages, differences of rates in points, differences of a graded score's means in the score's
    units, named (:func:`score_unit`).

    Parameters
    ----------
    kind : str
        ``slice``, ``cluster``, ``cell`` or ``comparison``.
    title : str
        The finding's title.
    evidence : mapping
        Its evidence numbers.
    cohort : str, optional
        The cohort, named in the sentence.
    confidence : float, default 0.95
        The intervals' coverage, named in the sentence.
    q_words : callable, optional
        How the q-value reads (a report's prose: ``q far below 0.001``); default ``q = `` and
        :func:`analysis.format_q` (``<1e-300`` when it underflows).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        Evidence numbers that are not numbers.

    Examples
    --------

    >>> finding_sentence("slice", "lang = sw", {"n": 100, "errors": 50, "error_rate": 0.5, "ci_low": 0.4,
    ...     "ci_high": 0.6, "rest_error_rate": 0.1, "difference": 0.4, "q_value": 0.0001})
    'lang = sw: 50 of 100 answers wrong (50.0%, 95% interval 40.0% to 60.0%) against 10.0% in the rest of the run, 40.0 points worse (q = 0.0001).'
    >>> finding_sentence("slice", "lang = sw", {"n": 80, "mean": 0.42, "ci_low": 0.36, "ci_high": 0.48,
    ...     "rest_mean": 0.61, "difference": -0.19, "q_value": 0.002, "outcome": "score.f1"})
    'lang = sw: mean score.f1 0.42 over 80 examples (95% interval 0.36 to 0.48) against 0.61 in the rest of the run, 0.19 score.f1 units lower (q = 0.002).'
    """
    e = dict(evidence)
    level = f"{round(confidence * 100):d}%"
    where = f"In the cohort {cohort}," if cohort else ""
    rest = "the rest of the cohort" if cohort else "the rest of the run"
    q = e.get("q_value")
    q_text = ("not tested: too few examples" if q is None else
              q_words(float(q)) if q_words is not None else f"q = {format_q(float(q))}")
    if kind == "slice" and "mean" in e:  # a slice by a graded score (``outcome``): means in the score's unit
        diff = e.get("difference")
        direction = "no difference measured" if diff is None else (
            f"{abs(float(diff)):.3g} {score_unit(e.get('outcome'))} {'lower' if float(diff) < 0 else 'higher'}")
        text = (f"{title}: mean {e.get('outcome', 'score')} {float(e['mean']):.3g} over {_n(e.get('n'), 'example')} "
                f"({level} interval {float(e.get('ci_low', np.nan)):.3g} to {float(e.get('ci_high', np.nan)):.3g}) "
                f"against {float(e.get('rest_mean', np.nan)):.3g} in {rest}, {direction} ({q_text}).")
    elif kind in ("slice", "cluster"):
        diff = e.get("difference")
        if diff is None:
            direction = "no difference measured"
        else:
            direction = f"{abs(100 * float(diff)):.1f} points {'worse' if float(diff) > 0 else 'better'}"
        text = (f"{title}: {_n(e.get('errors'))} of {_n(e.get('n'))} answers wrong ({_pct(e.get('error_rate'))}, "
                f"{level} interval {_pct(e.get('ci_low'))} to {_pct(e.get('ci_high'))}) against "
                f"{_pct(e.get('rest_error_rate'))} in {rest}, {direction} ({q_text}).")
    elif kind == "comparison" and "base_mean" in e:  # a graded outcome: mean paired difference, t interval
        diff = e.get("difference")
        unit = score_unit(e.get("outcome"))  # the score's own units, as the Compare table shows them
        change = "no change measured" if diff is None else (
            f"{'up' if float(diff) > 0 else 'down'} {abs(float(diff)):.3f} {unit}")
        text = (f"{title}: mean {e.get('outcome', 'score')} {_mean(e.get('base_mean'))} in the baseline and "
                f"{_mean(e.get('cand_mean'))} in the candidate, {change} ({level} t interval "
                f"{_signed(e.get('ci_low'))} to {_signed(e.get('ci_high'))} {unit}; "
                f"{_n(e.get('n'), 'pair')}; {q_text}); verdict: {e.get('verdict', '?')}.")
    elif kind == "comparison":
        diff = e.get("difference")
        change = "no change measured" if diff is None else (
            f"{'up' if float(diff) > 0 else 'down'} {abs(100 * float(diff)):.1f} points")
        text = (f"{title}: error rate {_pct(e.get('base_error_rate'))} in the baseline and "
                f"{_pct(e.get('cand_error_rate'))} in the candidate, {change} "
                f"({level} interval {_points(e.get('ci_low'))} to {_points(e.get('ci_high'))} points; "
                f"{_n(e.get('b'))} newly wrong, {_n(e.get('c'))} fixed, of {_n(e.get('n'), 'pair')}; {q_text}); "
                f"verdict: {e.get('verdict', '?')}.")
    elif kind == "cell" and "verdict" in e:  # a failure mode x objective component cell of the link
        text = f"{title}: {str(e['verdict']).replace('_', ' ')}"
        text += f" ({RULE_WORDS.get(e['rule'], str(e['rule']).replace('_', ' '))})." if e.get("rule") else "."
        if e.get("auc") is not None:
            signal = f"The signal {e['signal']}" if e.get("signal") else "The component's signal"
            details = ["preference AUC"]
            if e.get("auc_low") is not None and e.get("auc_high") is not None:
                details[0] += f", {level} interval {float(e['auc_low']):.2f} to {float(e['auc_high']):.2f}"
            if e.get("smd") is not None:
                details.append(f"Cohen's d {float(e['smd']):.2f}")
            text += (f" {signal} scores a failing example above a passing one with probability {float(e['auc']):.2f} "
                     f"({'; '.join(details)})")
            if e.get("n_fail") is not None and e.get("n_ok") is not None:
                text += f" over {int(e['n_fail']):,} failing and {int(e['n_ok']):,} passing examples"
            text += f" ({q_text})." if q is not None else "."
    else:
        parts = ", ".join(f"{k} {v}" for k, v in e.items() if not isinstance(v, (dict, list)))
        text = f"{title}: {parts}."
    return f"{where} {text}" if where else text


def evidence_frame(kind: str, title: str, evidence: Mapping) -> pd.DataFrame:
    """One row shaped for the figure of a finding (empty when the evidence has no rate to draw).

    Parameters
    ----------
    kind : str
        ``slice``, ``cluster``, ``cell`` or ``comparison``.
    title : str
        The row's label.
    evidence : mapping
        The finding's evidence numbers.

    Returns
    -------
    pandas.DataFrame
        For :func:`analysis.figures.slice_forest` (a slice or a cluster): ``description``, ``n``,
        ``error_rate``, ``ci_low``, ``ci_high``, ``q_value``, ``finding``, ``too_small``; for
        :func:`analysis.figures.comparison_forest` (a comparison row by correctness): ``description``, ``n``,
        ``difference``, ``ci_low``, ``ci_high``, ``q_value``, ``b``, ``c``, ``verdict``, ``too_small``; empty
        for a comparison by a graded score (a mean difference is not a change in error rate).

    Raises
    ------
    ValueError
        Never for evidence made by this module; a non-mapping ``evidence``.

    Examples
    --------

    >>> evidence_frame("slice", "lang = sw", {"n": 100, "error_rate": 0.5, "ci_low": 0.4, "ci_high": 0.6,
    ...                                       "q_value": 0.01, "finding": True})[["description", "n"]].to_dict("records")
    [{'description': 'lang = sw', 'n': 100}]
    """
    e = {k: (np.nan if v is None else v) for k, v in dict(evidence).items()}
    if kind == "comparison" and "base_mean" in e:  # a graded score: no error rate to draw
        return pd.DataFrame()
    if kind == "comparison" and "difference" in e:
        keys = ("n", "difference", "ci_low", "ci_high", "q_value", "b", "c")
        return pd.DataFrame([{"description": title, **{k: e.get(k, np.nan) for k in keys},
                              "verdict": e.get("verdict", "not significant"), "too_small": bool(e.get("too_small", False))}])
    if "error_rate" in e and "ci_low" in e:
        keys = ("n", "error_rate", "ci_low", "ci_high", "q_value")
        return pd.DataFrame([{"description": title, **{k: e.get(k, np.nan) for k in keys},
                              "finding": bool(e.get("finding", False)) is True,
                              "too_small": bool(e.get("too_small", False)) is True}])
    return pd.DataFrame()


def export_findings(store: Store, path, run: str | None = None) -> int:
    """Write findings (withdrawn ones and withdrawals too) to CSV, JSON or JSONL, by the file's extension.

    Parameters
    ----------
    store : Store
        The store.
    path : str or os.PathLike
        The file (its folder is created).
    run : str, optional
        Only this run's findings.

    Returns
    -------
    int
        The rows written.

    Raises
    ------
    OSError
        The file cannot be written.
    """
    path = Path(path)
    frame = findings(store, run, include_withdrawn=True)
    frame = frame.assign(created_at=[t.isoformat() if hasattr(t, "isoformat") else t for t in frame["created_at"]],
                         sentence=[finding_sentence(k, t, e, cohort=c) if not w else ""
                                   for k, t, e, c, w in zip(frame["kind"], frame["title"], frame["evidence"],
                                                            frame["cohort"], frame["withdraws"])])
    path.parent.mkdir(parents=True, exist_ok=True)
    records = frame.to_dict("records")
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(json.dumps(records, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records),
                        encoding="utf-8")
    else:
        flat = frame.assign(**{c: [json.dumps(v, ensure_ascii=False) for v in frame[c]]
                               for c in ("target", "evidence", "settings")})
        path.write_bytes(safe_csv(flat))
    return len(frame)


__all__ = ["COLUMNS", "Finding", "KINDS", "comparison_evidence", "evidence_frame", "export_findings", "finding_sentence", "findings", "score_unit",
           "get_finding", "pin_comparison", "pin_finding", "pin_slice", "recompute_finding", "slice_evidence",
           "withdraw_finding"]
