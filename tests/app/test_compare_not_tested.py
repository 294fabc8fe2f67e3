"""Compare: a row whose slice was not tested (fewer pairs than the minimum support, outside the BH family) says
"not tested" in the table, its reason in the Verdict column's help, never "not significant" (a tested slice's word)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from analysis import NOT_TESTED_WHY, compare_runs, open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120
PAGE = str(ROOT / "pages" / "3_Compare.py")
MIN_SUPPORT = 400  # of 1,500 pairs: some languages and domains fall under it


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "compare_not_tested", n_prompts=1500)


@pytest.mark.parametrize("outcome", ["correct", "score"])
def test_untested_rows_say_not_tested_with_the_reason_in_help(demo_db, monkeypatch, outcome):
    point_app_at(monkeypatch, demo_db)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"outcome": outcome, "compare_by": ["language", "domain"]})
    at.run()
    at.number_input(key="compare_min_support").set_value(MIN_SUPPORT)
    at.run()
    assert not at.exception, at.exception
    grid = at.dataframe[0]
    shown = grid.value.data if hasattr(grid.value, "data") else grid.value  # a Styler or a frame
    with open_store(demo_db, seed_demo=False) as store:
        base, cand = list(store.runs()["run_id"])[:2]
        table = compare_runs(store, base, cand, ["language", "domain"], min_support=MIN_SUPPORT).table
    small, descriptions = table["too_small"], dict(enumerate(table["description"]))
    assert small.any()  # the scenario: some slices under the minimum support
    untested = shown[shown["verdict"] == "not tested"]
    assert len(untested) >= 1
    assert "not significant" not in set(shown.loc[shown["description"].isin(untested["description"]), "verdict"])
    config = json.loads(grid.proto.columns)
    assert NOT_TESTED_WHY in config["verdict"]["help"]
    if outcome == "correct":  # exactly the engine's untested rows (the CSV is the engine's table: engine tests)
        assert set(untested["description"]) == set(small.index[small].map(descriptions.get))
