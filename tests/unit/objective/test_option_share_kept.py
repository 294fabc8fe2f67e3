"""The multiple-choice share of a run (a scan of every answer, reference and input) is computed once per run at the
store's data version: compiling the modes again reads it, a call made while another computes it waits for that one,
a write to the store computes it again, an error reaches every caller and leaves nothing kept, and a report
prefetches it beside the attribute choices. The share itself is checked against a direct count in pandas."""

from __future__ import annotations

import tempfile
import threading
import time

import pandas as pd
import pytest

from analysis.objective import modes as modes_module
from analysis.objective.modes import compile_modes, option_share, prefetch_option_shares
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
    real = M.option_letter_share_sql

    def counted(*args, **kwargs):
        calls[0] += 1
        time.sleep(delay)  # a slow scan: a second caller arrives while it runs
        return real(*args, **kwargs)

    monkeypatch.setattr(M, "option_letter_share_sql", counted)
    return calls


def _field(store: Store):
    schema = store.schema("mc")
    return schema, modes_module.fields_from_table(schema.stored())["output"]


def test_the_share_is_the_direct_count_and_computed_once_per_data_version(monkeypatch):
    store = _store()
    calls = _count_statements(monkeypatch)
    schema, f = _field(store)
    got = option_share(store, schema.run.table_name, f.sql, f.params, None)
    # the answers naming a listed option by letter or by the text of exactly one option (E is not listed; "Paris
    # or Lyon" names two; "No idea" none): B, Answer: C, ...Paris, (A) Lyon, B.
    assert got[0] == pytest.approx(5 / len(ANSWERS))
    assert got[1] == pytest.approx(1.0)  # every reference is "B"
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
        option_share(store, schema.run.table_name, f.sql, f.params, cohort_filter(schema, None))))
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

    monkeypatch.setattr(M, "option_letter_share_sql", broken)
    errors = []

    def call():
        try:
            option_share(store, schema.run.table_name, f.sql, f.params, None)
        except Exception as err:  # noqa: BLE001 - the test collects what each caller got
            errors.append(err)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 2 and all("no_such_function" in str(e) for e in errors)
    monkeypatch.undo()
    assert option_share(store, schema.run.table_name, f.sql, f.params, None)[1] == pytest.approx(1.0)
    store.close()


def test_a_prefetch_is_what_the_compilation_reads(monkeypatch):
    store = _store()
    calls = _count_statements(monkeypatch)
    prefetch_option_shares(store, SPEC, [("mc", None), ("mc", 'group = "y"'), ("no such run", None)])
    assert calls[0] == 2  # the run and its cohort; an unknown run is left for the compilation to report
    compiled = compile_modes(store, "mc", SPEC, strict=False, where='group = "y"')
    assert calls[0] == 2 and compiled.sources["goal_misgeneralization"]
    store.close()
