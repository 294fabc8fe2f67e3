"""The link with its failure modes, signals and attributes materialised once per call (a temporary table read by
its statements) gives exactly the result of the statements over the run's table (the path the Spark engine
keeps): on the demo with a baseline, and under a cohort."""

from __future__ import annotations

import duckdb
import pytest

from analysis import open_store
from analysis.objective import link as link_module
from analysis.objective.spec import load_objective, parse_objective
from tests.conftest import ROOT
from tests.unit.engine.identical import assert_identical
from tests.unit.objective.test_cohort_modes import SPEC, WHERE, frame, ingest

DEMO_SPEC = ROOT / "data" / "objective_demo.yaml"


def both(monkeypatch, call):
    """``call()`` materialised (recording the temporary modes), then with materialisation turned off."""
    made = []
    real = link_module.materialise_modes

    def recording(store, compiled, columns=(), **kwargs):
        out = real(store, compiled, columns, **kwargs)
        made.append((compiled, out))
        return out

    monkeypatch.setattr(link_module, "materialise_modes", recording)
    fast = call()
    monkeypatch.setattr(link_module, "materialise_modes", lambda store, compiled, columns=(), **kwargs: compiled)
    plain = call()
    return fast, plain, made


def assert_materialised_and_released(made) -> None:
    assert len(made) == 1
    compiled, rows = made[0]
    assert rows is not compiled and rows.table != compiled.table  # the statements read the temporary table
    assert all(src.params == [] for parts in rows.sources.values() for src in parts)
    with pytest.raises(duckdb.ConnectionException):  # released: its cursor (and the temporary table) is gone
        rows.cursor.execute("SELECT 1")


def test_demo_link_is_identical_materialised(tmp_path, monkeypatch):
    from analysis.demo.seed import ensure_demo

    store = open_store(tmp_path / "demo.duckdb", seed_demo=False)
    try:
        ensure_demo(store, n_prompts=2000)
        spec = load_objective(DEMO_SPEC)
        fast, plain, made = both(monkeypatch, lambda: link_module.link(store, "after-objective-change", spec,
                                                                      baseline="baseline"))
    finally:
        store.close()
    assert_materialised_and_released(made)
    assert_identical(fast, plain, "link")
    assert fast.counts["n"].sum() > 0 and fast.separation["auc"].notna().any()
    # a store opened read-only still takes a temporary table (DuckDB keeps it in memory)
    monkeypatch.undo()
    with open_store(tmp_path / "demo.duckdb", read_only=True, seed_demo=False) as ro:
        again = link_module.link(ro, "after-objective-change", spec, baseline="baseline")
    assert_identical(again, fast, "read-only link")


def test_link_under_a_cohort_is_identical_materialised(tmp_path, monkeypatch):
    store = open_store(tmp_path / "cohort.duckdb", seed_demo=False)
    try:
        ingest(store, frame(), "r")
        spec = parse_objective(SPEC)
        fast, plain, made = both(monkeypatch, lambda: link_module.link(store, "r", spec, where=WHERE, by=["region"],
                                                                      min_support=20))
        whole = link_module.link(store, "r", spec, by=["region"], min_support=20)
    finally:
        store.close()
    assert_materialised_and_released(made)
    assert_identical(fast, plain, "link")
    assert fast.settings.get("where") == plain.settings.get("where")
    assert (fast.counts["n"] != whole.counts["n"]).any()  # the cohort is kept in the temporary table
