"""The Timeline's mix view is computed in the background (ui.jobs.precompute_next, kind "timeline") into the caches
its click reads: the steps of the series and the default pair's decomposition, equal to a fresh computation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import open_store
from tests.app._stores import spy_engine


def _frame(k: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(k)
    hard = 0.2 if k < 2 else 0.6  # the mix moves to the hard domain at the third run
    domain = np.where(rng.random(n) < hard, "hard", "easy")
    correct = rng.random(n) < np.where(domain == "hard", 0.4, 0.9)
    return pd.DataFrame({"prompt": [f"r{k}q{i}" for i in range(n)], "domain": domain, "correct": correct})


def _series_store(tmp_path, monkeypatch, runs: int, *, reward: bool = False):
    """A store holding a series "s" of ``runs`` runs (with a ``reward`` signal rising along it when asked), with the
    app's demo and precompute set for the test, once other tests' background work is done; its path."""
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "1")
    import analysis
    from ui import jobs

    db = tmp_path / "series.duckdb"
    with open_store(db, seed_demo=False) as store:
        for k in range(runs):
            frame, mapping = _frame(k), None
            if reward:
                frame = frame.assign(reward=np.random.default_rng(10 + k).normal(0.2 * k, 0.3, len(frame)))
                mapping = {"input": "prompt", "correct": "correct", "signals": ["reward"]}
            store.ingest_frame(frame, name=f"step-{k + 1}", mapping=mapping)
        analysis.create_series(store, "s", [f"step-{k + 1}" for k in range(runs)])
    assert jobs._background().wait_idle(timeout=120)  # other tests' work first
    return db


def test_the_mix_view_is_ready_before_the_click(tmp_path, monkeypatch):
    db = _series_store(tmp_path, monkeypatch, 4)
    import analysis
    from ui import cache, jobs

    real = analysis.mix_shift
    calls = spy_engine(monkeypatch, db, "mix_shift")["mix_shift"]
    path = str(db)
    version = cache._open(path).data_version()
    jobs.precompute_next(path, version, "timeline", "s", None, "drift", None, "", 30, 0.05)  # no spec: no surrogate
    assert jobs._background().wait_idle(timeout=120)
    assert not [e for e in jobs._next_views()["errors"] if path in e]
    assert calls == [("step-2", "step-3")]  # the first step whose mix moved the headline
    run_a, run_b = cache.series_mix_default(path, version, "s", None)
    got = cache.series_mix(path, version, run_a, run_b, None)  # the click: no engine call
    assert len(calls) == 1
    fresh = real(cache._open(path), run_a, run_b)
    pd.testing.assert_frame_equal(got.attributes, fresh.attributes)
    assert got.top()["verdict"] in ("composition", "both")


def test_each_series_first_view_is_precomputed_at_start_up(tmp_path, monkeypatch):
    db = _series_store(tmp_path, monkeypatch, 3)
    import analysis
    from ui import cache, jobs

    real = analysis.trajectories
    calls = spy_engine(monkeypatch, db, "trajectories")["trajectories"]
    path = str(db)
    version = cache._open(path).data_version()
    state = jobs.start_precompute(path, version)
    assert jobs._background().wait_idle(timeout=300)
    assert "timeline s" in state["done"], state["errors"]
    computed = len(calls)
    assert computed == 1
    got = cache.series_trajectories(path, version, "s", 30, 0.05, None)  # the page's first call: a cache hit
    assert len(calls) == computed
    fresh = real(cache._open(path), "s", min_support=30, fdr=0.05)
    pd.testing.assert_frame_equal(got.slices, fresh.slices)


SPEC = """
objective: toy
components:
  - {id: rm, name: Reward model, kind: reward_model, why: helpful answers, serves: accuracy,
     signals: [{column: reward, direction: higher_is_better}]}
"""


def test_the_surrogate_view_is_ready_before_the_click(tmp_path, monkeypatch):
    db = _series_store(tmp_path, monkeypatch, 4, reward=True)
    import analysis
    from ui import cache, jobs

    real = analysis.over_optimisation
    spied = spy_engine(monkeypatch, db, "over_optimisation", "mix_shift")
    calls, mixes = spied["over_optimisation"], spied["mix_shift"]
    path = str(db)
    version = cache._open(path).data_version()
    # the page shows the mix view: the surrogate curves are computed, the mix view is not (it is on screen)
    jobs.precompute_next(path, version, "timeline", "s", None, "mix", SPEC, "toy.yaml", 30, 0.05)
    assert jobs._background().wait_idle(timeout=120)
    assert not [e for e in jobs._next_views()["errors"] if path in e]
    assert len(calls) == 1 and mixes == []
    got = cache.series_surrogate(path, version, "s", SPEC, "toy.yaml", 30, 0.05, None)  # the click: a cache hit
    assert len(calls) == 1
    fresh = real(cache._open(path), "s", analysis.parse_objective(SPEC, source="toy.yaml"), min_support=30,
                 fdr=0.05)
    pd.testing.assert_frame_equal(got.turns, fresh.turns)
