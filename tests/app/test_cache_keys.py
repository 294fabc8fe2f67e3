"""A view the background computed is the view a page asks for: Streamlit keys a cached call on its arguments as
passed, so ``ui.cache`` gives one key to a call with its keyword arguments spelled out (as the pages call) and to the
same call without them (as ``ui.jobs`` precomputes it)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import analysis
from analysis import open_store


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": [f"e{i}" for i in range(n)], "lang": rng.choice(["en", "sw", "de"], size=n),
                         "domain": rng.choice(["law", "med"], size=n), "correct": rng.random(n) < 0.7})


def test_a_precomputed_view_is_the_one_the_page_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    db = tmp_path / "keys.duckdb"
    with open_store(db, seed_demo=False) as store:
        first = store.ingest_frame(_frame(400, 1), name="a").added[0].run_id
        second = store.ingest_frame(_frame(400, 2), name="b").added[0].run_id
    from ui import cache

    calls = []
    for name in ("slice_table", "compare_runs"):
        real = getattr(analysis, name)
        monkeypatch.setattr(analysis, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    path = str(db)
    version = cache._open(path).data_version()
    by = ("lang", "domain")
    # as ui.jobs computes them
    background = cache.slices(path, version, first, by, 2, 5, 0.05, 5)
    compared = cache.comparison(path, version, first, second, by, 1, 5, 0.05)
    assert calls == ["slice_table", "compare_runs"]
    # as the pages ask for them: the same objects, no engine call
    assert cache.slices(path, version, first, list(by), 2, 5, 0.05, 5, where=None, outcome="correct") is background
    assert cache.comparison(path, version, first, second, by, 1, 5, 0.05, where=None) is compared
    assert calls == ["slice_table", "compare_runs"]
    # a different view is computed
    cache.slices(path, version, first, by, 1, 5, 0.05, 5, where=None)
    assert calls == ["slice_table", "compare_runs", "slice_table"]


def test_compare_rows_read_in_the_background_are_the_ones_a_click_reads(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "1")
    db = tmp_path / "rows.duckdb"
    with open_store(db, seed_demo=False) as store:
        first = store.ingest_frame(_frame(400, 1), name="a").added[0].run_id
        second = store.ingest_frame(_frame(400, 2), name="b").added[0].run_id
    from ui import cache, jobs

    assert jobs._background().wait_idle(timeout=120)  # other tests' work first
    calls = []
    for name in ("verdict_counts", "comparison_examples"):
        real = getattr(analysis, name)
        monkeypatch.setattr(analysis, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    path = str(db)
    version = cache._open(path).data_version()
    rows = [(("lang", "sw"),), (("domain", "law"), ("lang", "en"))]
    verdicts = ("regressed", "fixed", "still_wrong")
    jobs.precompute_next(path, version, "drilldowns", first, second, rows, verdicts)
    assert jobs._background().wait_idle(timeout=120)
    assert calls == ["verdict_counts", "comparison_examples"] * 2
    with open_store(db, seed_demo=False) as store:  # the numbers of a direct call
        expected = analysis.verdict_counts(store, first, second, {"lang": "sw"})
    del calls[:]
    counts, pairs = cache.comparison_drilldown(path, version, first, second, rows[0], verdicts, where=None)
    cache.comparison_drilldown(path, version, first, second, rows[1], list(verdicts), where=None)
    assert calls == [] and counts == expected
    assert set(pairs["verdict"]) <= set(verdicts) and len(pairs) == sum(expected[v] for v in verdicts)
