"""At 1280x720 the essential columns come first and nothing secondary takes their room (the trial): on Failure modes
the modes table's "Harms" comes last, after its sources, each mode's dimension named in the "Failure mode" help; on
Compare with a graded outcome the table holds the essential columns only (slice, verdict, q, change and its
interval, n) and a row's two means are in its summary under the table. The browser check of the widths is
tests/browser/test_projector_columns.py."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from analysis import compare_scores, open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "secondary_columns", n_prompts=1500)


def _columns(grid) -> dict:
    return json.loads(grid.proto.columns)


def test_the_modes_table_puts_harms_last_and_names_it_in_help(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    at = AppTest.from_file(str(ROOT / "pages" / "5_Failure_modes.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    grid = next(d for d in at.dataframe if "sources_text" in d.value.columns)
    modes = grid.value
    assert list(modes.columns) == ["name", "n", "share", "where", "sources_text", "dimension"]
    config = _columns(grid)
    assert config["dimension"]["label"] == "Harms"
    said = config["name"]["help"]
    for name, dimension in zip(modes["name"], modes["dimension"]):
        assert f"{name}: {dimension}" in said.replace("\\", "")


def test_a_graded_comparison_table_holds_the_essential_columns_and_the_row_its_means(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    at = AppTest.from_file(str(ROOT / "pages" / "3_Compare.py"), default_timeout=TIMEOUT)
    at.query_params.update({"outcome": "score", "row": json.dumps({"domain": "medical"})})
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["description", "verdict", "q", "change", "ci_low", "ci_high", "n"]
    with open_store(demo_db, seed_demo=False) as store:
        base, cand = store.runs()["run_id"].tolist()[:2]
        settings = {"attributes": at.multiselect(key="compare_by").value, "max_order": at.radio(key="compare_order").value}
        expected = compare_scores(store, base, cand, "score", settings["attributes"], max_order=settings["max_order"],
                                  min_support=30)
    medical = expected.table[expected.table["description"] == "domain = medical"].iloc[0]
    (summary,) = [c.value for c in at.caption if " in the baseline, " in c.value]
    assert (f"mean score {medical['base_mean']:.3f} in the baseline, {medical['cand_mean']:.3f} in the candidate "
            f"over {int(medical['n']):,} pairs") in summary.replace("\\", "")
    assert f"change {medical['difference']:+.3f} score units" in summary.replace("\\", "")
