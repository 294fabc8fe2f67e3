"""Two q-values for one cluster, explained (trial item): the Clusters page names its Benjamini-Hochberg family (the
groups of the clustering) and the Slices page its own (every slice tested there), each with its size as the engine
counts it, under the table and beside the selected group's q. The sizes are checked against the number of groups the
engine tested (a p-value), counted here from the engine's own tables."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store, slice_table
from tests.app._stores import point_app_at
from tests.conftest import ROOT

TIMEOUT = 180
DEFAULTS = {"field": "input", "embedder": "auto", "min_cluster_size": None, "n_neighbors": None, "seed": 0,
            "sample_size": 5000}


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    from analysis.clusters.pipeline import cluster_run
    from analysis.demo.seed import ensure_demo

    path = tmp_path_factory.mktemp("qfamily") / "demo.duckdb"
    with open_store(path, seed_demo=False) as store:
        ensure_demo(store, n_prompts=1500)
        result = cluster_run(store, "baseline", **DEFAULTS)
        tested_groups = int(result.table["p_value"].notna().sum())
        run_id = store.run("baseline").run_id
    return path, run_id, result.column, tested_groups


def _run(at) -> AppTest:
    at = at.run()
    assert not at.exception, at.exception
    return at


def _family(at: AppTest, noun: str) -> int:
    (line,) = [c.value for c in at.caption if c.value.startswith("q: Benjamini-Hochberg over the ")]
    match = re.match(rf"q: Benjamini-Hochberg over the ([\d,]+) {noun}", line)
    assert match, line
    return int(match.group(1).replace(",", ""))


def test_the_clusters_page_names_the_clusterings_family(clustered, monkeypatch):
    path, run_id, column, tested_groups = clustered
    point_app_at(monkeypatch, path)
    at = _run(AppTest.from_file(str(ROOT / "pages" / "4_Clusters.py"), default_timeout=TIMEOUT))
    assert _family(at, "groups of this clustering") == tested_groups
    heading = at.dataframe[0].proto.columns  # the q column's heading names the same family
    assert f"BH over {tested_groups:,} groups" in heading


def test_the_slices_page_names_its_own_larger_family(clustered, monkeypatch):
    path, run_id, column, tested_groups = clustered
    point_app_at(monkeypatch, path)
    at = AppTest.from_file(str(ROOT / "pages" / "2_Slices.py"), default_timeout=TIMEOUT)
    at.query_params.update({"run": run_id, "by": [column, "language"], "order": "2"})
    at = _run(at)
    shown = _family(at, "slices tested on this page")
    with open_store(path, seed_demo=False) as store:  # the engine's own table with the page's settings
        table = slice_table(store, run_id, [column, "language"], max_order=2, min_support=30, fdr=0.05, bins=5).table
    assert shown == int(table["p_value"].notna().sum())
    assert shown > tested_groups  # the same cluster is adjusted over a larger family here: another q
