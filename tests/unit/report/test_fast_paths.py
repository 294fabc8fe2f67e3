"""The report's fast paths change no number: the demo's report content (every number, table and sentence: its
content hash) and its attached tables are the same with every fast path on as with the older paths.

The fast paths (issue #13, the 1M report within 20 s): the attribute choice profiles a boolean only for whether it
takes a second value and counts a derived feature's distinct values in the profile's one pass
(:class:`analysis.sql.slices.ProfileRequest` ``values_seen`` / ``distinct_in_pass``), counts the leakage check's
cells in memory (:data:`analysis.slicing.attributes.LEAKAGE_IN_MEMORY`), and discovery counts its lattice in memory
(:data:`analysis.slicing.discovery.IN_MEMORY`). The older paths: capped distinct subqueries, the grouping statements.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from analysis import open_store
from analysis.demo.seed import ensure_demo
from analysis.report import ReportSpec, build_report
from analysis.report.content import _canonical
from analysis.slicing import attributes as A
from analysis.slicing import counts as C
from analysis.slicing import discovery as D
from analysis.sql import slices as Q

PROFILE_REQUEST = Q.ProfileRequest


def _old_profile_request(*args, **kwargs) -> Q.ProfileRequest:
    request = PROFILE_REQUEST(*args, **kwargs)
    return dataclasses.replace(request, values_seen=False, distinct_in_pass=False)


def _forget(store) -> None:
    """Nothing kept from a previous build: the attribute choice and every kept count and profile."""
    A._CHOSEN.pop(store, None)
    C.clear(store)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("fast") / "d.duckdb", seed_demo=False)
    ensure_demo(store)
    yield store
    store.close()


def test_the_demo_report_is_the_same_with_the_fast_paths(demo_store, monkeypatch):
    spec = dict(run="after-objective-change", baseline="baseline", analyst="test")
    _forget(demo_store)
    fast = build_report(demo_store, ReportSpec(**spec))
    with monkeypatch.context() as m:
        m.setattr(A.Q, "ProfileRequest", _old_profile_request)
        m.setattr(A, "LEAKAGE_IN_MEMORY", False)
        m.setattr(D, "IN_MEMORY", False)
        _forget(demo_store)
        old = build_report(demo_store, ReportSpec(**spec))
    _forget(demo_store)
    assert "discovery" in fast.data and fast.data["discovery"]["rows"]
    assert _canonical(fast.data) == _canonical(old.data)  # NaN as null: NaN != NaN in a plain comparison
    assert fast.content_hash == old.content_hash
    assert fast.tables.keys() == old.tables.keys()
    for name in fast.tables:
        pd.testing.assert_frame_equal(fast.tables[name], old.tables[name])
