"""The Failure modes page's views are the ones the start-up precompute computes, and a baseline is used only where a
spec has a component (ui.cache.link_baseline): without one, choosing a baseline re-uses the run's own result."""

from __future__ import annotations

import numpy as np
import pandas as pd

import analysis
from analysis import open_store

NO_COMPONENT_SPEC = "objective: tiny\ncomponents: []\nrules:\n  - {id: pad, mode: reward_hacking, when: 'not correct'}"


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    correct = rng.random(n) < 0.7
    return pd.DataFrame({"id": [f"e{i}" for i in range(n)], "prompt": [f"p{i}" for i in range(n)],
                         "response": np.where(rng.random(n) < 0.2, "I'm sorry, but I can't help with that.", "ok"),
                         "lang": rng.choice(["en", "sw", "de"], size=n), "domain": rng.choice(["law", "med"], size=n),
                         "correct": correct})


def _store(tmp_path) -> tuple[str, str, str]:
    db = tmp_path / "fm.duckdb"
    with open_store(db, seed_demo=False) as store:
        first = store.ingest_frame(_frame(800, 1), name="a").added[0].run_id
        second = store.ingest_frame(_frame(800, 2), name="b").added[0].run_id
    return str(db), first, second


def test_link_baseline_only_with_a_component(tmp_path):
    from ui import cache

    demo = cache.demo_spec_text()
    assert analysis.parse_objective(demo, source="demo").components  # the demo spec has components
    assert cache.link_baseline("r2", demo, "demo") == "r2"
    assert cache.link_baseline(None, demo, "demo") is None
    assert cache.link_baseline("r2", "", "no spec") is None  # no spec: the built-in taxonomy has no component
    parsed = analysis.parse_objective(NO_COMPONENT_SPEC, source="modes.yaml")
    assert parsed.rules and not parsed.components
    assert cache.link_baseline("r2", NO_COMPONENT_SPEC, "modes.yaml") is None
    assert cache.link_baseline("r2", "objective: [unclosed", "bad.yaml") == "r2"  # the link raises the spec's error


def test_without_a_component_the_baseline_changes_nothing_shown(tmp_path):
    path, first, second = _store(tmp_path)
    with open_store(path, seed_demo=False) as store:
        alone = analysis.link(store, first, None, strict=False)
        paired = analysis.link(store, first, None, baseline=second, strict=False)
    assert paired.goodhart is not None and paired.mode_change is not None  # the engine did compute the pairing
    assert alone.cells.empty and paired.cells.empty  # no component: no cell, no Goodhart plot
    pd.testing.assert_frame_equal(alone.counts, paired.counts)
    pd.testing.assert_frame_equal(alone.display_cells(), paired.display_cells())
    assert alone.concentration.keys() == paired.concentration.keys()
    for mode, conc in alone.concentration.items():
        left, right = conc.table.drop(columns=["predicate"]), paired.concentration[mode].table.drop(columns=["predicate"])
        pd.testing.assert_frame_equal(left, right)


def test_the_first_views_of_the_page_are_precomputed(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "1")
    path, first, second = _store(tmp_path)
    from ui import cache, jobs
    from ui.session import NO_SPEC_NAME

    assert jobs._background().wait_idle(timeout=120)  # work of other tests' stores is done first
    calls = []
    real = analysis.link

    def spy(store, run, *a, **k):
        if str(store.path) == path:
            calls.append((run, k.get("baseline")))
        return real(store, run, *a, **k)

    monkeypatch.setattr(analysis, "link", spy)
    version = cache._open(path).data_version()
    state = jobs.start_precompute(path, version)
    assert jobs._background().wait_idle(timeout=120)
    assert not [e for e in state["errors"] if e.startswith("link")]
    computed = len(calls)
    assert computed == 2 and {run for run, _ in calls} == {first, second}  # each run once, without a baseline
    # the page's calls for a run of a log (no spec), with and without the baseline chosen: all cache hits
    for run, other in ((first, second), (second, first)):
        for chosen in (None, other):
            baseline = cache.link_baseline(chosen, "", NO_SPEC_NAME)
            result = cache.link_result(path, version, run, baseline, "", NO_SPEC_NAME, *jobs.LINK_DEFAULTS)
            assert result.run_id == run
    assert len(calls) == computed


def test_the_page_says_a_baseline_is_not_used_without_a_component(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.app._stores import point_app_at
    from tests.conftest import ROOT, shown

    path, first, second = _store(tmp_path)
    point_app_at(monkeypatch, path)
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "0")
    at = AppTest.from_file(str(ROOT / "pages" / "5_Failure_modes.py"), default_timeout=90)
    at.session_state["chosen_run"] = second
    at.run()
    assert not at.exception, at.exception
    alone = {m.label: m.value for m in at.metric}
    box = at.selectbox(key=f"fm_baseline_{second}")
    assert box.value == first  # the earlier run shares the examples: the page's default baseline
    assert any("this spec has no component" in shown(c.value) for c in at.caption)
    box.set_value("(none)")
    at.run()
    assert not at.exception, at.exception
    assert not any("this spec has no component" in shown(c.value) for c in at.caption)
    assert {m.label: m.value for m in at.metric} == alone  # the same numbers with or without the baseline
