"""One precision per kind of number on a page (the trial saw "0.49" beside "0.490"): on Compare with a graded
outcome, the pairs' scores as the row's means above them; on Failure modes, a preference AUC as its interval."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

PAGE = str(ROOT / "pages" / "3_Compare.py")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "one_precision", n_prompts=1500)


def formats(grid) -> dict[str, str]:
    """Column -> its number format, as the page sent it to the grid."""
    return {name: c.get("type_config", {}).get("format") for name, c in json.loads(grid.proto.columns).items()}


def test_compare_writes_scores_and_means_with_one_precision(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params.update({"outcome": "score", "row": json.dumps({"domain": "medical"})})
    at.run()
    assert not at.exception, at.exception
    pairs = formats(at.dataframe[1])
    assert pairs["base_score"] and pairs["base_score"] == pairs["cand_score"]
    digits = int(re.search(r"\.(\d)f", pairs["base_score"]).group(1))
    # the row's means, in its summary under the table (the table holds the essential columns only)
    (summary,) = [c.value for c in at.caption if " in the baseline, " in c.value]
    assert re.search(rf"mean score \d+\.\d{{{digits}}} in the baseline, \d+\.\d{{{digits}}} in the candidate", summary)
    # the side-by-side pair writes its score as the tables do
    said = [m.value for m in at.markdown if ", score " in m.value]
    assert said and all(re.search(rf", score -?\d+\.\d{{{digits}}}\)", s) for s in said), said


def test_a_preference_auc_and_its_interval_share_a_precision():
    import ui.tables as T

    auc = {k: T.SEPARATION_COLUMNS[k]["type_config"]["format"] for k in ("auc", "auc_low", "auc_high")}
    assert len(set(auc.values())) == 1, auc


def test_per_slice_extras_have_one_precision_per_kind(demo_db, monkeypatch):
    """The trial read ECE 0.1263 beside 0.157 and latency 820.4 / 1222.48 / 1761.664 in the per-slice extras: on
    the demo's Slices page every extras column of a kind has one format, counts have separators."""
    point_app_at(monkeypatch, demo_db)
    at = AppTest.from_file(str(ROOT / "pages" / "2_Slices.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    grid = next(d for d in at.dataframe if "ece" in d.value.columns)
    got = formats(grid)
    assert got["n"] == "localized" and got["ece"] == "%.3f"
    latency = [c for c in grid.value.columns if c.startswith("latency")]
    cost = [c for c in grid.value.columns if c.startswith("cost")]
    assert latency and cost, list(grid.value.columns)
    assert {got[c] for c in latency} == {"%.1f"} and {got[c] for c in cost} == {"%.3g"}
