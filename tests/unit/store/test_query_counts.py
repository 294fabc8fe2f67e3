"""A run's catalog is read once per analysis (a RunSchema passed down): statement counts, and
Store.transaction's all-or-nothing writes under the write lock."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from analysis.demo.seed import ensure_demo
from analysis.objective.link import link
from analysis.paths import DATA_DIR
from analysis.slicing.table import heatmap, slice_table
from analysis.sql import catalog as C
from analysis.store import RunSchema, Store
from tests.unit.store.recording import recording

OBJECTIVE = DATA_DIR / "objective_demo.yaml"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("counts") / "demo.duckdb")
    ensure_demo(store, n_prompts=600)
    yield store
    store.close()


@pytest.mark.parametrize("max_order", [1, 2, 3])
def test_slice_table_issues_at_most_nine_statements(demo, max_order):
    run = demo.runs()["name"].iloc[-1]
    with recording(demo) as log:
        result = slice_table(demo, run, max_order=max_order)
    assert len(result.table) > 0
    # the catalog, the default attributes' profile and leakage check, the data version, the slicing profile (kept
    # per data version: the first call only), the totals and the counts; since the default choice is kept per data
    # version (one more data-version read) and its "> 60 values" rule reads exact capped distinct counts (one
    # LIMIT-ed statement that stops early), two cheap statements more
    assert len(log) <= 9, [sql[:80] for sql, _ in log]
    assert sum(sql == C.RUN_WITH_FIELDS for sql, _ in log) == 1  # the catalog, once


def test_heatmap_reads_the_catalog_once(demo):
    run = demo.runs()["name"].iloc[-1]
    with recording(demo) as log:
        heatmap(demo, run, "language", "channel")
    assert len(log) <= 6 and sum(sql == C.RUN_WITH_FIELDS for sql, _ in log) == 1


def test_link_issues_a_bounded_number_of_statements(demo):
    baseline, run = demo.runs()["name"].tolist()[:2]
    with recording(demo) as log:
        result = link(demo, run, OBJECTIVE, baseline=baseline)
    assert not result.cells.empty
    # Per run: the catalog, the detectors' profile, the group-disparity detector's slice table (profile, totals, one
    # grouping statement), the multiple-choice decision (its rows, then the first part of them: the rest is read only
    # at the threshold's edge), data-version reads; for the candidate also the attribute choice (2-3), its scored
    # count (whether the baseline's rows are read), the mode indicators materialised once (CREATE ... DROP: load,
    # slices, counts, one separation statement per signal), and the pairing with the baseline: 29 on this demo after
    # the module's other tests (33 on a fresh store), none of them per slice or per example.
    assert len(log) <= 29, [sql[:80] for sql, _ in log]
    assert sum(sql == C.RUN_WITH_FIELDS for sql, _ in log) == 2  # the run and the baseline, once each
    assert sum(sql.startswith("CREATE TEMPORARY TABLE") for sql, _ in log) == 1  # the detectors evaluated once


def test_a_run_schema_is_the_catalog_as_store_run_and_fields_give_it(demo):
    for name in demo.runs()["name"]:
        schema = demo.schema(name)
        info = demo.run(name)
        info.files = []
        assert schema.run == info
        pd.testing.assert_frame_equal(schema.fields, demo.fields(name))
        assert demo.schema(schema) is schema and demo.run(schema) is schema.run
        assert isinstance(schema, RunSchema) and schema.table_name == info.table_name


def test_a_transaction_commits_or_rolls_back_everything(tmp_path):
    store = Store(tmp_path / "t.duckdb")
    store.ingest_frame(pd.DataFrame({"q": ["a", "b"], "correct": [True, False]}), name="r")
    version = store.data_version()
    with pytest.raises(RuntimeError, match="boom"), store.transaction() as cur:
        cur.execute(C.SET_NOTES, ["half-written", store.run("r").run_id])
        store.bump_version(cur)
        raise RuntimeError("boom")
    assert store.run("r").notes == "" and store.data_version() == version
    store.set_notes("r", "kept")
    assert store.run("r").notes == "kept" and store.data_version() == version + 1
    store.close()


def test_a_transaction_holds_the_write_lock(tmp_path):
    store = Store(tmp_path / "l.duckdb")
    store.ingest_frame(pd.DataFrame({"q": ["a", "b"], "correct": [True, False]}), name="r")
    inside, release, order = threading.Event(), threading.Event(), []

    def first():
        with store.transaction():
            inside.set()
            release.wait(5)
            order.append("first")

    def second():
        inside.wait(5)
        store.set_notes("r", "second")
        order.append("second")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    inside.wait(5)
    time.sleep(0.3)  # without the lock, the second write would be done by now
    release.set()
    for t in threads:
        t.join(10)
    assert order == ["first", "second"] and store.run("r").notes == "second"
    store.close()
