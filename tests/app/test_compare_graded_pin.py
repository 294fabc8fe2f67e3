"""Pinning on Compare with a graded outcome (issue #14): the finding is the score's row the table shows (its mean
paired difference and t interval, as :func:`analysis.compare_scores` computes it), not the correctness row."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from analysis import compare_scores, findings, open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120
PAGE = str(ROOT / "pages" / "3_Compare.py")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "compare_graded_pin", n_prompts=2000)


def test_pinning_a_graded_row_keeps_the_scores_comparison(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"outcome": "score", "row": json.dumps({"domain": "medical"})})
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="compare_outcome").value == "score"
    at.text_input(key="compare_pin_author").input("ada")
    at.text_input(key="compare_pin_note").input("medical scores fell")
    next(b for b in at.button if b.label == "Pin as finding").click()
    at.run()
    assert not at.exception, at.exception
    with open_store(demo_db, seed_demo=False) as store:
        base, cand = store.runs()["run_id"].tolist()[:2]
        pinned = findings(store, cand)
        row = pinned[pinned["note"] == "medical scores fell"].iloc[0]
        expected = compare_scores(store, base, cand, "score", row["settings"]["attributes"],
                                  max_order=row["settings"]["max_order"], min_support=row["settings"]["min_support"])
    medical = expected.table[expected.table["description"] == "domain = medical"].iloc[0]
    e = row["evidence"]
    assert e["outcome"] == "score" and "base_error_rate" not in e
    assert e["difference"] == pytest.approx(medical["difference"])
    assert (e["ci_low"], e["ci_high"]) == (pytest.approx(medical["ci_low"]), pytest.approx(medical["ci_high"]))
