"""On a store of many runs (a series of checkpoints), the background computes the Slices views of the runs a user
opens first and of the runs next to the one shown, not of every run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import open_store


def _store(tmp_path, runs: int) -> tuple[str, list[str]]:
    db = tmp_path / "many.duckdb"
    ids = []
    with open_store(db, seed_demo=False) as store:
        for seed in range(runs):
            rng = np.random.default_rng(seed)
            frame = pd.DataFrame({"id": [f"e{i}" for i in range(300)], "prompt": [f"p{i}" for i in range(300)],
                                  "lang": rng.choice(["en", "sw"], size=300), "correct": rng.random(300) < 0.7})
            ids.append(store.ingest_frame(frame, name=f"step-{seed}").added[0].run_id)
    return str(db), ids


def test_neighbours_are_the_runs_beside_the_one_shown_in_the_pickers_order():
    from ui.jobs import neighbours

    ids = [f"r{i}" for i in range(6)]
    assert neighbours(ids, "r0") == ["r1"]
    assert neighbours(ids, "r3") == ["r4", "r2"]
    assert neighbours(ids, "r5") == ["r4"]
    assert neighbours(ids, "r3", k=2) == ["r4", "r5", "r2", "r1"]
    assert neighbours(["r0"], "r0") == []


def test_start_up_computes_the_slices_of_the_first_runs_only(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "1")
    path, _ = _store(tmp_path, 6)
    from ui import cache, jobs

    assert jobs._background().wait_idle(timeout=120)
    version = cache._open(path).data_version()
    listed = list(cache.run_listing(path, version)["run_id"])  # the pickers' order
    state = jobs.start_precompute(path, version)
    assert jobs._background().wait_idle(timeout=300)
    sliced = [name.split()[1] for name in state["done"] if name.startswith("slices ")]
    assert sliced == listed[:jobs.STARTUP_RUNS]
    tripled = [name.split()[1] for name in state["done"] if name.startswith("triples ")]
    assert tripled == listed[:jobs.STARTUP_RUNS]
    assert not state["errors"]


def _after_other_work(tmp_path, monkeypatch, runs: int) -> tuple[str, int, list[str], dict]:
    """A store of ``runs`` runs, the background idle: (path, data version, the run ids in the pickers' order, the
    registry of next views)."""
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "1")
    path, _ = _store(tmp_path, runs)
    from ui import cache, jobs

    assert jobs._background().wait_idle(timeout=120)  # other tests' work first
    version = cache._open(path).data_version()
    return path, version, list(cache.run_listing(path, version)["run_id"]), jobs._next_views()


def test_a_slices_render_precomputes_the_runs_next_to_it(tmp_path, monkeypatch):
    from ui import jobs

    path, version, listed, registry = _after_other_work(tmp_path, monkeypatch, 5)
    jobs.precompute_next(path, version, "slices", listed[2], ("lang",), 2, 30, 0.05, 5, tuple(listed))
    assert jobs._background().wait_idle(timeout=300)
    done = [key for key in registry["done"] if key[0] == "slices" and key[1] == path]
    runs = {key[3] for key in done}
    assert runs == {listed[2], listed[3], listed[1]}  # its other orders, and the runs on either side of it


def test_a_failure_modes_render_precomputes_the_link_of_the_runs_next_to_it(tmp_path, monkeypatch):
    from ui import cache, jobs

    path, version, listed, registry = _after_other_work(tmp_path, monkeypatch, 4)
    settings = jobs.LINK_DEFAULTS
    jobs.precompute_next(path, version, "failure_modes", listed[1], tuple(listed), "", "", settings, None)
    assert jobs._background().wait_idle(timeout=300)
    done = {key[3] for key in registry["done"] if key[0] == "_run_link" and key[1] == path}
    assert done == {listed[0], listed[2]}
    assert not [e for e in registry["errors"] if "_run_link" in e]
    # in the page's cache: the call the page makes for that run returns at once, the same object
    hits = []
    monkeypatch.setattr(cache.analysis, "link", lambda *a, **k: hits.append(a) or None)
    assert cache.link_result(path, version, listed[2], None, "", "", *settings) is not None
    assert not hits
