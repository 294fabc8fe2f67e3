"""The start-up precompute reads a run's stored clustering with the Clusters page's defaults, so the page's first
view makes no engine call; a run never clustered is not read at all."""

from __future__ import annotations

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

import analysis
from analysis import open_store
from tests.conftest import ROOT

TOPICS = {"law": "court judge appeal ruling statute", "med": "dose drug patient symptom clinic",
          "code": "python bug compiler function test"}


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    topic = rng.choice(list(TOPICS), size=n)
    words = [" ".join(rng.choice(TOPICS[t].split(), size=4)) + f" {i % 7}" for i, t in enumerate(topic)]
    return pd.DataFrame({"id": [f"e{i}" for i in range(n)], "prompt": words, "topic": topic,
                         "correct": rng.random(n) < np.where(topic == "code", 0.4, 0.8)})


def test_a_stored_clustering_is_read_before_the_page_asks(tmp_path, monkeypatch):
    from ui import cache, jobs

    db = tmp_path / "clusters.duckdb"
    params = dict(jobs.CLUSTER_DEFAULTS)
    with open_store(db, seed_demo=False) as store:
        first = store.ingest_frame(_frame(600, 1), name="a").added[0].run_id
        second = store.ingest_frame(_frame(600, 2), name="b").added[0].run_id
        analysis.cluster_run(store, first, **{**params, "embedder": "tfidf"})  # stored under other settings first
        analysis.cluster_run(store, first, **params)
    monkeypatch.setenv("FAULTLINE_DB", str(db))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "1")
    assert jobs._background().wait_idle(timeout=120)  # other tests' work first
    calls = []
    real = analysis.cached_result

    def spy(store, run, **kwargs):
        if str(store.path) == str(db):
            calls.append((run, kwargs))
        return real(store, run, **kwargs)

    monkeypatch.setattr(analysis, "cached_result", spy)
    path = str(db)
    version = cache._open(path).data_version()
    state = jobs.start_precompute(path, version)
    assert jobs._background().wait_idle(timeout=300)
    assert not [e for e in state["errors"] if e.startswith("clusters")], state["errors"]
    assert [run for run, _ in calls] == [first]  # the run never clustered is not read
    assert calls[0][1] == params
    # the page, with its sidebar's defaults, finds it ready: no engine call
    at = AppTest.from_file(str(ROOT / "pages" / "4_Clusters.py"), default_timeout=120)
    at.session_state["chosen_run"] = first
    at.run()
    assert not at.exception, at.exception
    assert {m.label for m in at.metric} >= {"Examples", "Clusters"}
    assert len(calls) == 1, calls
    assert second != first
