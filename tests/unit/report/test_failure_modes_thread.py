"""The report computes its failure-modes section (the link) in a thread of its own while the other sections are
computed: the report's content (every number, table and sentence: its content hash) and its attached tables are
those of the report computing every section in turn, and an error of the section reaches the caller."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pandas as pd
import pytest

from analysis import open_store
from analysis.demo.seed import ensure_demo
from analysis.report import ReportSpec, build_report
from analysis.report import content as content_module
from analysis.report.content import _canonical
from tests.conftest import ROOT

SPEC = dict(run="after-objective-change", baseline="baseline", analyst="test",
            objective=str(ROOT / "data" / "objective_demo.yaml"))


class _InPlace:
    """A ThreadPoolExecutor that runs what it is given at once, in the caller's thread."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def submit(self, call, *args):
        done = Future()
        try:
            done.set_result(call(*args))
        except BaseException as err:  # as a pool does: the error is the future's
            done.set_exception(err)
        return done

    def shutdown(self, wait: bool = True) -> None:
        pass


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("fm") / "d.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=1500)
    yield store
    store.close()


def test_the_failure_modes_in_a_thread_give_the_report_in_turn(demo_store, monkeypatch):
    threads = []
    real = content_module._failure_modes_section

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(content_module, "_failure_modes_section", recording)
    threaded = build_report(demo_store, ReportSpec(**SPEC))
    monkeypatch.setattr(content_module, "ThreadPoolExecutor", _InPlace)
    in_turn = build_report(demo_store, ReportSpec(**SPEC))
    assert threads[0] is not threading.main_thread() and threads[1] is threading.current_thread()
    assert threaded.data["failure_modes"]["cells"] and "failure_modes" not in threaded.not_covered
    assert _canonical(threaded.data) == _canonical(in_turn.data)
    assert threaded.content_hash == in_turn.content_hash
    assert list(threaded.not_covered) == list(in_turn.not_covered)
    assert threaded.objective_yaml == in_turn.objective_yaml and threaded.objective_yaml
    assert threaded.tables.keys() == in_turn.tables.keys()
    for name in threaded.tables:
        pd.testing.assert_frame_equal(threaded.tables[name], in_turn.tables[name])


def test_an_error_of_the_failure_modes_section_reaches_the_caller(demo_store, monkeypatch):
    def broken(*args, **kwargs):
        raise content_module.FaultlineError("the link failed")

    monkeypatch.setattr(content_module, "_failure_modes_section", broken)
    with pytest.raises(content_module.FaultlineError, match="the link failed"):
        build_report(demo_store, ReportSpec(**SPEC))
