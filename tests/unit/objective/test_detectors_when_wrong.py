"""A detector's condition on the wrong examples only, written as a CASE (the engine evaluates the detector's
expression on the wrong examples only), marks exactly the examples ``correct = false AND expression`` marks, on
every example of the run (unscorable and unknown correctness included): the demo's detectors and a multiple-choice
run's."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import open_store
from analysis.objective import modes as M
from analysis.objective.spec import load_objective
from analysis.sql import quote_ident
from tests.conftest import ROOT

PREFIX, SUFFIX = "CASE WHEN correct = false THEN (", ") ELSE false END"


def _direct(sql: str) -> str:
    """The same condition as a plain conjunction."""
    assert sql.startswith(PREFIX) and sql.endswith(SUFFIX)
    return f"correct = false AND ({sql[len(PREFIX):-len(SUFFIX)]})"


def _assert_same(store, compiled) -> int:
    table = quote_ident(store.schema(compiled.run_id).run.table_name)
    checked = 0
    for parts in compiled.sources.values():
        for src in parts:
            if not src.sql.startswith(PREFIX):
                continue
            got = store.cursor().execute(
                f"SELECT count(*), count_if(coalesce(({src.sql}), false)), "
                f"count_if(coalesce(({src.sql}), false) IS DISTINCT FROM coalesce(({_direct(src.sql)}), false)) "
                f"FROM {table}", list(src.params) * 3).fetchall()[0]
            assert got[2] == 0, src.name
            checked += 1
    return checked


@pytest.fixture
def demo(tmp_path):
    from analysis.demo.seed import ensure_demo

    store = open_store(tmp_path / "demo.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=1500)
    yield store
    store.close()


def test_demo_detectors_mark_what_the_conjunction_marks(demo):
    compiled = M.compile_modes(demo, "after-objective-change", load_objective(ROOT / "data" / "objective_demo.yaml"),
                               strict=False)
    assert _assert_same(demo, compiled) >= 3  # refusal, empty output, long output
    counts = M.mode_counts(demo, "after-objective-change", compiled=compiled).set_index("mode")["n"]
    assert counts["over_refusal"] > 0 and counts["reward_hacking"] > 0


def test_multiple_choice_and_hostile_outputs(tmp_path):
    store = open_store(tmp_path / "mc.duckdb", seed_demo=False)
    try:
        outputs = ["B", "(c)", "I'm sorry, but I can't help.", "", "   ", None, "The answer is D because", "A."] * 10
        correct = [True, False, False, False, None, False, False, True] * 10
        store.ingest_frame(pd.DataFrame({"prompt": ["q"] * 80, "response": outputs, "gold": ["B"] * 80,
                                         "correct": correct}), name="r")
        compiled = M.compile_modes(store, "r")
        assert _assert_same(store, compiled) >= 3
        assert any(s.name == "detector:multiple_choice_format" for p in compiled.sources.values() for s in p)
    finally:
        store.close()
