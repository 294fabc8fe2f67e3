"""Whether a run is multiple choice (a reading of every answer, reference and input) is decided once per run at the
store's data version: compiling the modes again reads it, a call made while another decides it waits for that one,
a write to the store decides it again, an error reaches every caller and leaves nothing kept, and a report
prefetches it beside the attribute choices. The decision reads the first part of the rows and the rest only when
needed: it equals the share over every row against the threshold, at and around the threshold, with a cohort."""

from __future__ import annotations

import tempfile
import threading
import time

import pandas as pd
import pytest

from analysis.objective import modes as modes_module
from analysis.objective.modes import (
    MULTIPLE_CHOICE_SHARE,
    OPTION_LETTER_PATTERN,
    compile_modes,
    is_multiple_choice,
    prefetch_option_shares,
)
from analysis.objective.spec import parse_objective
from analysis.slicing.cohorts import cohort_filter
from analysis.sql import modes as M
from analysis.store import Store

SPEC = parse_objective("""
objective: mc
components:
  - {id: sft, name: SFT, kind: sft_demonstrations, why: format, serves: accuracy, can_cause: [goal_misgeneralization]}
detectors:
  multiple_choice_format: {}
""")
QUESTION = "Which city is the capital of France?\nA) Lyon\nB) Paris\nC) Nice\nD) Lille"
ANSWERS = ["B", "Answer: C", "I would say the capital is Paris", "E", "No idea", "(A) Lyon", "B.", "Paris or Lyon"]


def _store() -> Store:
    store = Store(tempfile.mkdtemp() + "/mc.duckdb")
    n = len(ANSWERS)
    store.ingest_frame(pd.DataFrame({"prompt": [QUESTION] * n, "response": ANSWERS, "gold": ["B"] * n,
                                     "correct": [a == "B" for a in ANSWERS],
                                     "group": ["x", "y"] * (n // 2)}), name="mc")
    return store


def _count_statements(monkeypatch, delay: float = 0.0) -> list[int]:
    calls = [0]
    real = M.option_rows_sql

    def counted(*args, **kwargs):
        calls[0] += 1
        time.sleep(delay)  # a slow scan: a second caller arrives while it runs
        return real(*args, **kwargs)

    monkeypatch.setattr(M, "option_rows_sql", counted)
    return calls


def _field(store: Store):
    schema = store.schema("mc")
    return schema, modes_module.fields_from_table(schema.stored())["output"]


def test_decided_once_per_data_version(monkeypatch):
    store = _store()
    calls = _count_statements(monkeypatch)
    schema, f = _field(store)
    assert is_multiple_choice(store, schema.run.table_name, f.sql, f.params, None)  # every reference is "B"
    compile_modes(store, schema, SPEC, strict=False)
    compile_modes(store, schema, SPEC, strict=False)
    assert calls[0] == 1
    store.ingest_frame(pd.DataFrame({"prompt": ["q"], "response": ["a"], "gold": ["a"], "correct": [True]}),
                       name="another")  # a write changes the data version: the share is computed again
    compile_modes(store, schema, SPEC, strict=False)
    assert calls[0] == 2
    # a cohort is a share of its own
    compile_modes(store, schema, SPEC, strict=False, where='group = "x"')
    assert calls[0] == 3
    store.close()


def test_a_caller_arriving_during_the_scan_waits_for_it(monkeypatch):
    store = _store()
    calls = _count_statements(monkeypatch, delay=0.5)
    schema, f = _field(store)
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        is_multiple_choice(store, schema.run.table_name, f.sql, f.params, cohort_filter(schema, None))))
        for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls[0] == 1 and len(results) == 3 and len(set(results)) == 1
    store.close()


def test_an_error_reaches_every_caller_and_nothing_is_kept(monkeypatch):
    store = _store()
    schema, f = _field(store)

    def broken(*args, **kwargs):
        time.sleep(0.3)
        return "SELECT no_such_function(1), 2", []

    monkeypatch.setattr(M, "option_rows_sql", broken)
    errors = []

    def call():
        try:
            is_multiple_choice(store, schema.run.table_name, f.sql, f.params, None)
        except Exception as err:  # noqa: BLE001 - the test collects what each caller got
            errors.append(err)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 2 and all("no_such_function" in str(e) for e in errors)
    monkeypatch.undo()
    assert is_multiple_choice(store, schema.run.table_name, f.sql, f.params, None)
    store.close()


def test_a_prefetch_is_what_the_compilation_reads(monkeypatch):
    store = _store()
    calls = _count_statements(monkeypatch)
    prefetch_option_shares(store, SPEC, [("mc", None), ("mc", 'group = "y"'), ("no such run", None)])
    assert calls[0] == 2  # the run and its cohort; an unknown run is left for the compilation to report
    compiled = compile_modes(store, "mc", SPEC, strict=False, where='group = "y"')
    assert calls[0] == 2 and compiled.sources["goal_misgeneralization"]
    store.close()


@pytest.mark.parametrize("naming", [0, 1, 49, 50, 51, 55, 56, 99, 100])
@pytest.mark.parametrize("where_first", [True, False])
def test_the_early_decision_is_the_share_of_every_row(naming, where_first):
    """100 answers, ``naming`` of them an option letter (first in log order, or last), references never: the
    decision equals the share over every row (option_letter_share_sql) against the threshold, at 49, 50 and 51
    (the threshold's edge) and where the first part settles it (0, 1, 55+, 99, 100)."""
    n = 100
    answers = ["B"] * naming + ["No idea at all"] * (n - naming)
    if not where_first:
        answers = answers[::-1]
    store = Store(tempfile.mkdtemp() + "/edge.duckdb")
    store.ingest_frame(pd.DataFrame({"prompt": [QUESTION] * n, "response": answers, "gold": ["Paris or Lyon"] * n,
                                     "correct": [False] * n, "group": ["x", "y", "x", "x"] * (n // 4)}), name="e")
    schema, f = store.schema("e"), None
    f = modes_module.fields_from_table(schema.stored())["output"]
    table = schema.run.table_name
    for where in (None, 'group = "x"'):
        cohort = cohort_filter(schema, where)
        share = store.cursor().execute(*M.option_letter_share_sql(
            table, f.sql, f.params, OPTION_LETTER_PATTERN,
            cohort=None if cohort is None else cohort.as_sql)).fetchall()[0]
        assert is_multiple_choice(store, table, f.sql, f.params, cohort) == (
            max(share[0] or 0.0, share[1] or 0.0) >= MULTIPLE_CHOICE_SHARE)
    store.close()


def test_the_early_decision_reads_the_rest_only_when_it_must(monkeypatch):
    """The rest is read only at the threshold's edge (50 answers naming an option, the last 50 in log order); the
    first part settles the rest (none, all, or the 50 first)."""
    read = []
    real = M.option_counts_sql

    def counted(*args, **kwargs):
        read.append(kwargs.get("rows"))
        return real(*args, **kwargs)

    monkeypatch.setattr(M, "option_counts_sql", counted)
    for naming, last, parts in ((0, False, 1), (100, False, 1), (50, False, 1), (50, True, 2)):
        read.clear()
        store = Store(tempfile.mkdtemp() + "/parts.duckdb")
        answers = ["B"] * naming + ["No idea at all"] * (100 - naming)
        if last:
            answers = answers[::-1]
        store.ingest_frame(pd.DataFrame({"prompt": [QUESTION] * 100, "response": answers,
                                         "gold": ["none"] * 100, "correct": [False] * 100}), name="p")
        schema, f = _field_of(store, "p")
        is_multiple_choice(store, schema.run.table_name, f.sql, f.params, None)
        assert len(read) == parts, (naming, read)
        store.close()


def _field_of(store: Store, run: str):
    schema = store.schema(run)
    return schema, modes_module.fields_from_table(schema.stored())["output"]
