"""What a fresh-user trial left on the pages (issue #14, H2): the Slices caption names the chosen outcome, a graded
comparison says its unit (the score's, never points), and every q-value column names the Benjamini-Hochberg family
its q-values were adjusted over, a family checked against statsmodels' BH on the engine's own p-values."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from streamlit.testing.v1 import AppTest

from analysis import compare_scores, open_store, slice_table
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "trial_items", n_prompts=1500)


def _page(name: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, at.exception
    return at


def _columns(frame) -> dict:
    """The column_config a dataframe was drawn with (labels, help, widths), as the browser receives it."""
    return json.loads(frame.proto.columns)


def _family(label: str) -> int:
    found = re.fullmatch(r"(?:\w+ )?q (?:\w+ )?\(BH over ([\d,]+) [\w ]+\)", label)
    assert found, label
    return int(found.group(1).replace(",", ""))


def _bh_family(p_values, q_values) -> int:
    """How many p-values statsmodels' BH must adjust together to give the engine's q-values (asserted equal)."""
    p, q = np.asarray(p_values, dtype=float), np.asarray(q_values, dtype=float)
    tested = ~np.isnan(p)
    assert np.allclose(multipletests(p[tested], method="fdr_bh")[1], q[tested])
    return int(tested.sum())


@pytest.mark.parametrize("outcome", ["correct", "score"])
def test_the_slices_caption_names_the_outcome(demo_db, monkeypatch, outcome):
    point_app_at(monkeypatch, demo_db)
    at = _page("2_Slices.py", {"outcome": outcome, "by": ["language", "domain"], "order": "1"})
    head = at.caption[0].value  # the page's subtitle, under its title
    if outcome == "correct":
        assert head.startswith("Error rate per slice")
    else:
        assert head.startswith("Mean score per slice") and "Error rate" not in head


@pytest.mark.parametrize("outcome", ["correct", "score"])
def test_the_slices_q_column_names_its_family(demo_db, monkeypatch, outcome):
    point_app_at(monkeypatch, demo_db)
    at = _page("2_Slices.py", {"outcome": outcome, "by": ["language", "domain"], "order": "2"})
    label = _columns(at.dataframe[0])["q"]["label"]
    with open_store(demo_db, seed_demo=False) as store:
        run = store.runs()["run_id"].iloc[0]
        table = slice_table(store, run, ["language", "domain"], max_order=2, min_support=30, outcome=outcome).table
    assert _family(label) == _bh_family(table["p_value"], table["q_value"])
    assert "adjusted over" in _columns(at.dataframe[0])["q"]["help"]


def test_a_graded_comparison_names_the_scores_unit_and_the_q_family(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    at = _page("3_Compare.py", {"outcome": "score", "compare_by": ["domain"], "compare_order": "1"})
    columns = _columns(next(d for d in at.dataframe if "change" in d.value.columns))
    assert columns["change"]["label"] == "Change (score)"  # the unit where it is read (trial 7), help too
    assert "mean score" in columns["change"]["help"]
    assert "score units" in columns["change"]["help"] and "not points" in columns["change"]["help"]
    assert all("score units" in columns[c]["help"] for c in ("ci_low", "ci_high"))
    assert any("score units" in c.value for c in at.caption)
    with open_store(demo_db, seed_demo=False) as store:
        base, cand = store.runs()["run_id"].tolist()[:2]
        table = compare_scores(store, base, cand, "score", ["domain"], max_order=1, min_support=30).table
    assert _family(columns["q"]["label"]) == _bh_family(table["p_value"], table["q_value"])


@pytest.fixture(scope="module")
def series_db(tmp_path_factory):
    from analysis.demo.seed import ensure_demo_series

    path = tmp_path_factory.mktemp("trial_series") / "series.duckdb"
    with open_store(path, seed_demo=False) as store:
        ensure_demo_series(store)
    return path


def test_the_timeline_q_columns_name_their_family(series_db, monkeypatch):
    from analysis import trajectories
    from analysis.demo.series import SERIES_NAME

    point_app_at(monkeypatch, series_db)
    at = _page("7_Timeline.py", {"series": SERIES_NAME})
    slices = next(d for d in at.dataframe if "trend_q" in d.value.columns)
    with open_store(series_db, seed_demo=False) as store:
        found = trajectories(store, SERIES_NAME, min_support=30, fdr=0.05)
    assert _family(_columns(slices)["trend_q"]["label"]) == _bh_family(found.slices["trend_p"], found.slices["trend_q"])
