"""How the report overlaps its work (issue #13, the 1M report within 20 s), changing nothing it holds.

- The failure-modes thread makes the run's attribute choice first while the caller's thread makes the baseline's:
  each run's choice is made once per report, each in its own thread, and the slice table waits for the run's.
- The charts of the other sections are exported while the failure-modes section is computed
  (``build_report(while_waiting=...)``): the report's charts are those exported all at the end, in the same order.
"""

from __future__ import annotations

import threading

import pytest

from analysis import open_store
from analysis.demo.seed import ensure_demo
from analysis.objective import modes as modes_module
from analysis.report import ReportSpec, build_report
from analysis.report import charts as charts_module
from analysis.report import content as content_module
from analysis.report.content import _canonical
from analysis.slicing import attributes as A
from analysis.slicing import counts as C
from tests.conftest import ROOT

SPEC = dict(run="after-objective-change", baseline="baseline", analyst="test",
            objective=str(ROOT / "data" / "objective_demo.yaml"))


def _forget(store) -> None:
    """Nothing kept from a previous build: the attribute choice, every kept count and profile, the kept
    multiple-choice shares."""
    A._CHOSEN.pop(store, None)
    A._PROFILED.pop(store, None)
    C.clear(store)
    modes_module._SHARES.pop(store, None)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("schedule") / "d.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=1500)
    yield store
    store.close()


def test_each_runs_attribute_choice_is_made_once_the_runs_in_the_failure_modes_thread(demo_store, monkeypatch):
    made = []
    real = A._choose_now

    def recording(store, run):
        schema = store.schema(run)
        made.append((schema.run.name, threading.current_thread()))
        return real(store, run)

    monkeypatch.setattr(A, "_choose_now", recording)
    _forget(demo_store)
    report = build_report(demo_store, ReportSpec(**SPEC))
    _forget(demo_store)
    assert sorted(name for name, _ in made) == ["after-objective-change", "baseline"]
    where = dict(made)
    assert where["baseline"] is threading.current_thread()
    assert where["after-objective-change"] is not threading.current_thread()
    assert report.data["failure_modes"]["cells"] and report.data["comparison"]["rows"]


def test_the_schedule_changes_no_number(demo_store, monkeypatch):
    """The report with the failure modes in their thread equals the report computing everything in turn, from
    nothing kept (the choice made by whichever thread comes first)."""
    _forget(demo_store)
    threaded = build_report(demo_store, ReportSpec(**SPEC))

    class InPlace:
        def __init__(self, *args, **kwargs) -> None:
            pass

        def submit(self, call, *args):
            from concurrent.futures import Future

            done = Future()
            done.set_result(call(*args))
            return done

        def shutdown(self, wait: bool = True) -> None:
            pass

    monkeypatch.setattr(content_module, "ThreadPoolExecutor", InPlace)
    _forget(demo_store)
    in_turn = build_report(demo_store, ReportSpec(**SPEC))
    _forget(demo_store)
    assert _canonical(threaded.data) == _canonical(in_turn.data)
    assert threaded.content_hash == in_turn.content_hash


def test_while_waiting_sees_every_section_but_the_failure_modes(demo_store):
    seen = []

    def waiting(data):
        seen.append((threading.current_thread(), sorted(data), _canonical(
            {k: v for k, v in data.items() if k in ("runs", "slices", "heatmap", "discovery", "comparison")})))

    report = build_report(demo_store, ReportSpec(**SPEC), while_waiting=waiting)
    assert len(seen) == 1
    thread, keys, before = seen[0]
    assert thread is threading.current_thread()
    assert "failure_modes" not in keys and {"slices", "heatmap", "comparison"} <= set(keys)
    # what it saw is what the report holds: nothing of those sections changes once the failure modes are in
    assert before == _canonical({k: v for k, v in report.data.items()
                                 if k in ("runs", "slices", "heatmap", "discovery", "comparison")})
    assert "failure_modes" in report.data


def test_charts_drawn_while_waiting_are_the_charts_drawn_at_the_end(demo_store, monkeypatch):
    exported = []

    def fake_svg(fig):  # the figure's own JSON stands for its SVG: equal figures, equal charts
        exported.append(fig.layout.title.text if fig.layout.title else "")
        return "<svg>" + fig.to_json() + "</svg>"

    monkeypatch.setattr(charts_module, "_svg", fake_svg)
    drawn = {}
    report = build_report(demo_store, ReportSpec(**SPEC), while_waiting=lambda data: drawn.update(
        charts_module.section_charts(data, skip=("failure_modes",))))
    assert "failure_modes" not in drawn and {"runs", "slices", "heatmap", "comparison"} <= set(drawn)
    exported.clear()
    reused = charts_module.report_charts(report, drawn=drawn)
    assert len(exported) == 1  # only the failure modes' chart is exported after the section
    at_the_end = charts_module.report_charts(report)
    assert list(reused) == list(at_the_end) and "failure_modes" in reused
    assert reused == at_the_end
