"""One link call profiles each run's attributes once and counts their distinct values once: the attribute choice's
profiles are taken by the link (and by the slicing of the same attributes), not made again; and the link computed
this way is identical to the link with every attribute profiled afresh by a direct ``prepare_attributes`` call."""

from __future__ import annotations

import threading

import pytest

from analysis import open_store
from analysis.objective import link as link_module
from analysis.objective.spec import load_objective
from analysis.slicing import attributes as A
from analysis.slicing import counts as C
from tests.conftest import ROOT
from tests.unit.engine.identical import assert_identical

DEMO_SPEC = ROOT / "data" / "objective_demo.yaml"
RUN = "after-objective-change"


@pytest.fixture
def demo(tmp_path):
    from analysis.demo.seed import ensure_demo

    store = open_store(tmp_path / "demo.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=1500)
    yield store
    store.close()


def _spy(monkeypatch, module, name, calls):
    real = getattr(module, name)

    def spied(*args, **kwargs):
        calls.append((name, args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spied)


def _prepare_calls(calls, table):
    return [c for c in calls if c[0] == "prepare_attributes" and c[1][1] == table]


def test_one_link_call_profiles_each_run_once(demo, monkeypatch):
    spec = load_objective(DEMO_SPEC)
    table = demo.schema(RUN).run.table_name
    C.clear(demo)
    calls: list = []
    # every module that may profile attributes or count their distinct values during a link
    for module in (A, C, link_module, __import__("analysis.objective.modes", fromlist=["x"]),
                   __import__("analysis.slicing.table", fromlist=["x"])):
        if hasattr(module, "prepare_attributes"):
            _spy(monkeypatch, module, "prepare_attributes", calls)
    _spy(monkeypatch, A, "_exact_distinct", calls)
    _spy(monkeypatch, A, "_choose_now", calls)
    # nothing kept from an earlier analysis of this store (the demo's seeding)
    A._CHOSEN.pop(demo, None)
    A._PROFILED.pop(demo, None)
    link_module.link(demo, RUN, spec, strict=False)
    chosen = [c for c in calls if c[0] == "_choose_now"]
    assert len(chosen) == 1
    assert len([c for c in calls if c[0] == "_exact_distinct"]) == 1
    # the run's attributes are profiled by its attribute choice only (the group-disparity detector's slice table
    # and the link's own attributes take those profiles); each profile of the run's table is one statement
    profiles = _prepare_calls(calls, table)
    assert len(profiles) == 1, [sorted(a.name for a in c[1][2]) for c in profiles]


def test_link_with_kept_profiles_equals_link_profiling_afresh(demo, monkeypatch):
    spec = load_objective(DEMO_SPEC)
    fast = link_module.link(demo, RUN, spec, baseline="baseline", strict=False)
    # the direct computation: nothing kept, every attribute profiled again by prepare_attributes
    monkeypatch.setattr(C, "chosen_profiles", lambda store, table, *, version: {})
    C.clear(demo)
    monkeypatch.setattr(link_module, "_counts", type("Direct", (), {
        "prepared_attributes": staticmethod(lambda store, table, attrs, *, bins, edges: A.prepare_attributes(
            store, table, attrs, bins=bins, edges=edges))}))
    direct = link_module.link(demo, RUN, spec, baseline="baseline", strict=False)
    assert_identical(fast, direct, "link")
    assert fast.settings["attributes"] == direct.settings["attributes"] and fast.settings["attributes"]


def test_chosen_profiles_equal_a_direct_profile_and_expire_with_the_data_version(demo):
    schema = demo.schema(RUN)
    table = schema.run.table_name
    version = demo.data_version()
    A.default_attributes(demo, RUN)
    chosen = A.chosen_profiles(demo, table, version=version)
    assert chosen, "the attribute choice kept its profiles"
    attrs = list(chosen)
    direct = A.prepare_attributes(demo, table, attrs, bins=A.DEFAULT_BINS, edges=None)
    assert [chosen[a] for a in attrs] == direct
    for attr, prepared in zip(attrs, direct):  # each alone: one statement's profile is each attribute's own
        assert A.prepare_attributes(demo, table, [attr], bins=A.DEFAULT_BINS, edges=None) == [prepared]
    assert A.chosen_profiles(demo, table, version=version + 1) == {}
    assert A.chosen_profiles(demo, demo.schema("baseline").run.table_name, version=version) == {}


def test_known_distinct_counts_give_the_profile_counting_gives(demo):
    schema = demo.schema(RUN)
    table = schema.run.table_name
    attrs = [a for a in A.list_attributes(demo, schema) if a.kind == "categorical" and a.column is not None
             and a.source not in ("cluster", "failure_mode")]
    assert attrs
    exact = A._exact_distinct(demo, schema, attrs)
    known = {c: n for c, n in exact.items() if n <= A.MAX_DEFAULT_CARDINALITY}
    assert known
    kept = [a for a in attrs if a.column in known]
    assert (A.prepare_attributes(demo, table, kept, bins=5, edges=None, distinct=known)
            == A.prepare_attributes(demo, table, kept, bins=5, edges=None))
    with pytest.raises(ValueError):
        A.prepare_attributes(demo, table, kept, bins=5, edges=None, distinct=known, cohort=("true", ()))


def test_baseline_side_in_its_own_thread_equals_it_in_place(demo, monkeypatch):
    """The baseline's side, the separation statements and the Goodhart tables (the numpy path: the demo's rows are
    read) each run in a thread of their own; done in place instead, every table of the link is the same."""
    spec = load_objective(DEMO_SPEC)
    threads = []
    real = link_module._Background

    def recording(call, *, threaded, **kwargs):
        made = real(call, threaded=threaded, **kwargs)
        threads.append(made._thread)
        return made

    monkeypatch.setattr(link_module, "_Background", recording)
    threaded = link_module.link(demo, RUN, spec, baseline="baseline", strict=False)
    assert [t.name for t in threads] == ["faultline-link-baseline", "faultline-link-separation",
                                         "faultline-link-goodhart"]
    assert not any(t.is_alive() for t in threads)
    monkeypatch.setattr(link_module, "_Background",
                        lambda call, *, threaded, **kwargs: real(call, threaded=False, **kwargs))
    in_place = link_module.link(demo, RUN, spec, baseline="baseline", strict=False)
    assert_identical(threaded, in_place, "link")
    assert threaded.goodhart is not None and len(threaded.mode_change)


def test_an_error_of_the_separation_thread_reaches_the_caller_after_it_ends(demo, monkeypatch):
    """A separation statement that fails in its thread: the link raises its error, and only once that thread is
    over is the temporary table dropped (its cursor released)."""
    seen = []
    real_release = link_module.release_modes

    def broken(*args, **kwargs):
        raise link_module.FaultlineError("a separation statement failed")

    def release(rows):
        seen.append([t.name for t in threading.enumerate() if t.name == "faultline-link-separation"])
        real_release(rows)

    monkeypatch.setattr(link_module, "separation_by_mode", broken)
    monkeypatch.setattr(link_module, "release_modes", release)
    with pytest.raises(link_module.FaultlineError, match="a separation statement failed"):
        link_module.link(demo, RUN, load_objective(DEMO_SPEC), baseline="baseline", strict=False)
    assert seen == [[]]


def test_an_error_of_the_goodhart_thread_reaches_the_caller(demo, monkeypatch):
    def broken(*args, **kwargs):
        raise link_module.FaultlineError("the Goodhart tables failed")

    monkeypatch.setattr(link_module, "goodhart_tables", broken)
    with pytest.raises(link_module.FaultlineError, match="the Goodhart tables failed"):
        link_module.link(demo, RUN, load_objective(DEMO_SPEC), baseline="baseline", strict=False)
    assert not [t for t in threading.enumerate() if t.name.startswith("faultline-link-")]


def test_an_error_of_the_baseline_side_reaches_the_caller(demo, monkeypatch):
    def broken(*args, **kwargs):
        raise link_module.FaultlineError("the pairing failed")

    monkeypatch.setattr(link_module, "_paired_positions", broken)
    with pytest.raises(link_module.FaultlineError, match="the pairing failed"):
        link_module.link(demo, RUN, load_objective(DEMO_SPEC), baseline="baseline", strict=False)
