"""One example in full: its input (a chat transcript as turns), output, reference, every score, signal, rater and
metadata field, the failure modes it is in and why, its annotations, and its neighbours within a cohort.

The engine side of the Example page (``pages/9_Example.py``, reached by ``?run=...&example=...&cohort=...``):
everything the page shows comes from :func:`example_view`, a dataclass of plain values. Log text is returned as
it is; the page escapes it (``ui.md``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from analysis.errors import FaultlineError
from analysis.export import json_value
from analysis.objective.annotations import annotations as annotation_table
from analysis.objective.modes import compile_modes
from analysis.objective.spec import Objective
from analysis.slicing.cohorts import cohort_filter
from analysis.sql import example as X
from analysis.store import Store

MSG_NO_EXAMPLE = "Run {run!r} has no example {example_id!r}"

#: Roles of chat messages recognised in a transcript.
ROLES = ("system", "user", "assistant", "tool", "developer", "human", "ai", "model", "bot", "function")
_LINE_TURN = re.compile(r"(?im)^(system|user|assistant|tool|developer|human|ai|model|bot|function)\s*:\s?")
#: The fields of an example that are not shown among its other fields.
_FIXED = ("run_id", "example_id", "source_row", "task", "input", "output", "reference", "score", "correct",
          "unscorable", "status")
_GROUPS = {"scores": "scores", "signal": "signals", "rater": "raters", "metadata": "metadata"}


@dataclass
class ExampleView:
    """One example in full (what :func:`example_view` returns)."""

    run_id: str
    run_name: str
    example_id: str
    source_row: int
    task: str | None
    input: str | None
    output: str | None
    reference: str | None
    input_turns: list[dict] | None
    """The input as chat turns (``role``, ``content``), or None when it is not a transcript."""
    output_turns: list[dict] | None
    score: float | None
    correct: bool | None
    """None when unscorable."""
    unscorable: bool
    status: str
    scores: dict = field(default_factory=dict)
    """Further scores (``score.<scorer>``) by name."""
    signals: dict = field(default_factory=dict)
    raters: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    other: dict = field(default_factory=dict)
    """Computed columns (clusters, failure-mode labels) and any other stored field."""
    modes: list[dict] = field(default_factory=list)
    """The failure modes the example is in: ``id``, ``name``, ``why`` (the sources, e.g. ``detector:refusal``)."""
    annotations: list[dict] = field(default_factory=list)
    """Its annotations, oldest first (withdrawn ones flagged ``retracted``)."""
    cohort: str | None = None
    in_cohort: bool = True
    position: int | None = None
    """1-based position within the cohort in log order (None when the example is not in it)."""
    cohort_size: int = 0
    previous_id: str | None = None
    next_id: str | None = None




def chat_turns(text: str | None) -> list[dict] | None:
    """The turns of a chat transcript, or None when the text is not one.

    Recognised: a JSON list of messages (``{"role": ..., "content": ...}``, content as text or as a list of
    parts with ``text``), a JSON object holding such a list under ``messages``, ``conversation`` or ``turns``,
    and plain text in ``role: text`` blocks (``user: ...`` / ``assistant: ...``, as the ``turn`` feature counts
    them) with at least two blocks.

    Parameters
    ----------
    text : str or None
        An input or output as stored.

    Returns
    -------
    list of dict or None
        ``[{"role": "user", "content": "..."}, ...]`` in order; None when ``text`` is not a transcript.

    Raises
    ------
    Nothing
        Text that cannot be read as a transcript gives None.

    Examples
    --------
    >>> chat_turns('[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]')
    [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'hello'}]
    >>> chat_turns("user: hi\\nassistant: hello\\nuser: bye")[2]
    {'role': 'user', 'content': 'bye'}
    >>> chat_turns("What is 2 + 2?") is None
    True
    """
    if not isinstance(text, str) or not text.strip():
        return None
    stripped = text.strip()
    if stripped[0] in "[{":
        try:
            data = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):
            data = None
        if isinstance(data, dict):
            data = next((data[k] for k in ("messages", "conversation", "turns") if isinstance(data.get(k), list)),
                        None)
        if isinstance(data, list) and data and all(isinstance(m, dict) and "role" in m for m in data):
            turns = []
            for m in data:
                content = m.get("content", m.get("text", ""))
                if isinstance(content, list):
                    content = "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
                turns.append({"role": str(m["role"]), "content": "" if content is None else str(content)})
            return turns
    marks = list(_LINE_TURN.finditer(text))
    if len(marks) < 2 or text[:marks[0].start()].strip():
        return None
    turns = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        turns.append({"role": m.group(1).lower(), "content": text[m.end():end].strip()})
    return turns


def example_view(store: Store, run: str, example_id: str, *, where: str | None = None,
                 objective: Objective | None = None) -> ExampleView:
    """One example in full, with its failure modes, annotations and neighbours within a cohort.

    Parameters
    ----------
    store : Store
        The store holding the run.
    run : str
        Run name or id.
    example_id : str
        The example's id.
    where : str, optional
        A cohort (:mod:`analysis.slicing.cohorts`): previous / next and the position are within it (the example
        itself need not be in it: ``in_cohort`` says).
    objective : Objective, optional
        The objective spec whose failure modes are checked; None uses the built-in taxonomy and detectors, the
        label columns and the annotations (:func:`analysis.objective.modes.compile_modes`, lenient).

    Returns
    -------
    ExampleView
        The example's fixed fields, ``input_turns`` / ``output_turns`` (:func:`chat_turns`), every other field by
        role (``scores``, ``signals``, ``raters``, ``metadata``, ``other``: name -> value, short names without
        the role prefix), ``modes`` (``id``, ``name``, ``why``), ``annotations``, and ``cohort``, ``in_cohort``,
        ``position`` (1-based), ``cohort_size``, ``previous_id``, ``next_id`` (log order).

    Raises
    ------
    RunNotFoundError
        When the store has no such run.
    FaultlineError
        The run has no such example (:data:`MSG_NO_EXAMPLE`).
    PredicateError
        A ``where`` that does not fit the run (position and field named).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> s = Store(tempfile.mkdtemp() + "/x.duckdb")
    >>> _ = s.ingest_frame(pd.DataFrame({"prompt": ["user: hi\\nassistant: yes?\\nuser: 2+2?", "b", "c"],
    ...     "response": ["I'm sorry, but I can't help.", "4", "5"], "lang": ["sw", "en", "sw"],
    ...     "correct": [False, True, False]}), name="r")
    >>> v = example_view(s, "r", "1", where='lang = "sw"')
    >>> [t["role"] for t in v.input_turns], v.metadata, v.next_id, v.position, v.cohort_size
    (['user', 'assistant', 'user'], {'lang': 'sw'}, '3', 1, 2)
    >>> [m["id"] for m in v.modes]
    ['over_refusal']
    """
    schema = store.schema(run)
    info = schema.run
    columns = list(schema.fields["column_name"])
    roles = dict(zip(schema.fields["column_name"], schema.fields["role"]))
    wanted = [c for c in ("source_row", "unscorable") if c not in columns] + [
        c for c in columns if roles.get(c) != "embedding"]
    cur = store.cursor()
    rows = cur.execute(X.one_example_sql(info.table_name, wanted), [str(example_id)]).fetchall()
    if not rows:
        raise FaultlineError(MSG_NO_EXAMPLE.format(run=info.name, example_id=example_id))
    values = dict(zip(wanted, rows[0]))
    groups: dict[str, dict] = {"scores": {}, "signals": {}, "raters": {}, "metadata": {}, "other": {}}
    for column in wanted:
        if column in _FIXED:
            continue
        group = _GROUPS.get(roles.get(column, ""), "other")
        short = column.split(".", 1)[1] if "." in column and group != "other" else column
        groups[group][short] = json_value(values[column], text_for_other=True)
    found = cohort_filter(schema, where)
    cohort = None if found is None else found.as_sql
    previous_id, next_id, before, inside, size = cur.execute(
        *X.neighbours_sql(info.table_name, int(values["source_row"]), cohort)).fetchall()[0]
    compiled = compile_modes(store, schema, objective, strict=False)
    # a mode whose sources read other rows (a paraphrase group's answers) is evaluated over the run's rows, then
    # the example picked; the others on the example's row alone (a regular expression over a million outputs
    # is not evaluated for one example)
    got = {}
    for over_run in (False, True):
        flags = []
        for mode in compiled.modes:
            if compiled.reads_other_rows(mode.id) == over_run:
                flags.append((f"in.{mode.id}", *compiled.mode_sql(mode.id)))
                flags.append((f"why.{mode.id}", *compiled.why_sql(mode.id)))
        if flags:
            sql, params = X.example_flags_sql(compiled.table, flags, over_run=over_run)
            got.update(zip([a for a, _, _ in flags], cur.execute(sql, [*params, str(example_id)]).fetchall()[0]))
    modes = [{"id": m.id, "name": m.name, "why": got[f"why.{m.id}"] or ""} for m in compiled.modes
             if got.get(f"in.{m.id}")]
    notes = annotation_table(store, schema)
    notes = notes[notes["example_id"] == str(example_id)] if len(notes) else notes
    annotations = [{k: json_value(v, text_for_other=True) for k, v in r.items()} for r in notes.to_dict("records")]
    correct = values.get("correct")
    return ExampleView(
        run_id=info.run_id, run_name=info.name, example_id=str(values["example_id"]),
        source_row=int(values["source_row"]), task=json_value(values.get("task"), text_for_other=True), input=values.get("input"),
        output=values.get("output"), reference=values.get("reference"),
        input_turns=chat_turns(values.get("input")), output_turns=chat_turns(values.get("output")),
        score=json_value(values.get("score"), text_for_other=True), correct=None if correct is None else bool(correct),
        unscorable=bool(values.get("unscorable")), status=str(values.get("status") or ""),
        scores=groups["scores"], signals=groups["signals"], raters=groups["raters"], metadata=groups["metadata"],
        other=groups["other"], modes=modes, annotations=annotations,
        cohort=found.text if found is not None else None, in_cohort=bool(inside),
        position=int(before) + 1 if inside else None, cohort_size=int(size),
        previous_id=previous_id, next_id=next_id)


__all__ = ["ExampleView", "MSG_NO_EXAMPLE", "chat_turns", "example_view"]
