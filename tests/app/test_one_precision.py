"""One precision per kind of number on a page (the trial saw "0.49" beside "0.490"): on Compare with a graded
outcome, the pairs' scores as the means above them; on Failure modes, a preference AUC as its interval."""

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
    table, pairs = formats(at.dataframe[0]), formats(at.dataframe[1])
    assert table["baseline"] and table["baseline"] == table["candidate"]
    assert pairs["base_score"] == pairs["cand_score"] == table["baseline"]
    digits = int(re.search(r"\.(\d)f", table["baseline"]).group(1))
    # the side-by-side pair writes its score as the tables do
    said = [m.value for m in at.markdown if ", score " in m.value]
    assert said and all(re.search(rf", score -?\d+\.\d{{{digits}}}\)", s) for s in said), said


def test_a_preference_auc_and_its_interval_share_a_precision():
    import ui.tables as T

    auc = {k: T.SEPARATION_COLUMNS[k]["type_config"]["format"] for k in ("auc", "auc_low", "auc_high")}
    assert len(set(auc.values())) == 1, auc
