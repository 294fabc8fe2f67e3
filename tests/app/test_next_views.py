"""The likely next views (ui.jobs.precompute_next) are computed in the background into the caches a click reads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import open_store
from tests.app._stores import spy_engine


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": [f"e{i}" for i in range(n)], "prompt": [f"p{i}" for i in range(n)],
                         "lang": rng.choice(["en", "sw", "de"], size=n), "domain": rng.choice(["law", "med"], size=n),
                         "level": rng.choice(["a", "b", "c"], size=n), "correct": rng.random(n) < 0.7})


def _wait() -> None:
    from ui import jobs

    assert jobs._background().wait_idle(timeout=120)  # everything submitted before has run


def test_the_next_views_are_ready_before_the_click(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "1")
    db = tmp_path / "next.duckdb"
    with open_store(db, seed_demo=False) as store:
        first = store.ingest_frame(_frame(600, 1), name="a").added[0].run_id
        second = store.ingest_frame(_frame(600, 2), name="b").added[0].run_id
    import analysis
    from ui import cache, jobs

    _wait()  # work queued by other tests of this process (other stores) is done first
    real_slices = analysis.slice_table
    spied = spy_engine(monkeypatch, db, "slice_table", "compare_runs")  # this test's store only

    def calls() -> list:
        return spied["slice_table"] + spied["compare_runs"]
    path = str(db)
    version = cache._open(path).data_version()
    by = ("lang", "domain", "level")
    jobs.precompute_next(path, version, "slices", first, by, 2, 5, 0.05, 5, (first, second))
    jobs.precompute_next(path, version, "comparison", first, second, by, 1, 5, 0.05)
    registry = jobs._next_views()
    _wait()
    assert not [e for e in registry["errors"] if path in e]
    computed = len(calls())
    assert computed == 5  # triples and singles of the run, pairs of the other run; pairs and the swapped comparison
    # the clicks find them: no engine call, and the numbers a fresh computation gives
    triples = cache.slices(path, version, first, by, 3, 5, 0.05, 5)
    cache.slices(path, version, first, by, 1, 5, 0.05, 5)
    cache.slices(path, version, second, by, 2, 5, 0.05, 5)
    pairs = cache.comparison(path, version, first, second, by, 2, 5, 0.05)
    cache.comparison(path, version, second, first, by, 1, 5, 0.05)
    assert len(calls()) == computed
    fresh = real_slices(cache._open(path), first, list(by), max_order=3, min_support=5, fdr=0.05, bins=5)
    pd.testing.assert_frame_equal(triples.table.drop(columns=["predicate"]), fresh.table.drop(columns=["predicate"]))
    assert list(triples.table["predicate"]) == list(fresh.table["predicate"])
    assert pairs.table["n"].sum() > 0
    # asked again (a rerun of the page): nothing is queued twice
    jobs.precompute_next(path, version, "slices", first, by, 2, 5, 0.05, 5, (first, second))
    _wait()
    assert len(calls()) == computed


def test_precompute_off_queues_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "0")
    from ui import jobs

    before = set(jobs._next_views()["asked"])
    jobs.precompute_next(str(tmp_path / "none.duckdb"), 1, "slices", "r", ("a",), 2, 5, 0.05, 5, ("r", "s"))
    assert set(jobs._next_views()["asked"]) == before


def test_background_work_runs_one_at_a_time_the_last_render_first():
    import threading

    from ui.jobs import NEXT, STARTUP, _Background

    worker = _Background()
    release, ran, running, overlap = threading.Event(), [], [], []

    def job(name):
        def run():
            running.append(name)
            overlap.append(len(running) > 1)
            ran.append(name)
            running.remove(name)
        return run

    busy = threading.Event()

    def hold():  # keeps the thread busy while the rest is queued
        busy.set()
        release.wait(30)

    worker.submit(STARTUP, hold)
    assert busy.wait(30)  # the worker has taken the first job: nothing else can start before all are queued
    for priority, name in ((STARTUP, "start 1"), (STARTUP, "start 2"), (NEXT, "render 1"), (NEXT, "render 2")):
        worker.submit(priority, job(name))
    release.set()
    assert worker.wait_idle(30)
    assert ran == ["render 2", "render 1", "start 1", "start 2"]
    assert not any(overlap)
