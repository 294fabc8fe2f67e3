"""Fixtures of the cluster tests.

UMAP compiles its numba code once per process (and numba keeps it on disk), so the session
fixture clusters the demo first and later tests reuse the compiled code on small data.
"""

from __future__ import annotations

import json

import pytest

from analysis import open_store
from analysis.clusters.pipeline import cluster_run
from analysis.demo.seed import demo_truth_path, ensure_demo
from tests.unit.clusters.topics import DEMO_PROMPTS, topic_frame


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """A small demo store and the baseline's input clusters (the first UMAP of the session)."""
    path = tmp_path_factory.mktemp("clusters") / "demo.duckdb"
    store = open_store(path, seed_demo=False)
    ensure_demo(store, n_prompts=DEMO_PROMPTS)
    truth = json.loads(demo_truth_path(store).read_text())
    result = cluster_run(store, "baseline", field="input")
    yield store, result, truth
    store.close()


@pytest.fixture
def topics(store):
    """The four-topic run of :func:`topic_frame` in the test store: (run, frame)."""
    frame = topic_frame()
    run = store.ingest_frame(frame, name="topics").added[0]
    return run, frame
