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


def review_tiles(at) -> dict[str, str]:
    """Review mode's numbers, label -> value: metric tiles, and values too long for one (a caption, then the value as
    a heading; the first such heading is the finding's sentence)."""
    tiles = {m.label: m.value for m in at.metric}
    heads = [m.value.removeprefix("#### ").replace("\\", "") for m in at.markdown if m.value.startswith("#### ")][1:]
    labels = [c.value.replace("\\", "") for c in at.caption][: len(heads)]
    return tiles | dict(zip(labels, heads))


def test_review_mode_shows_a_graded_comparison_in_the_scores_unit(demo_db, monkeypatch):
    """Review mode of a graded comparison finding: the means and the mean difference with its t interval, no error
    rates, and a chart of that difference in the score's units, not a 'change in error rate' chart."""
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        base, cand = store.runs()["run_id"].tolist()[:2]
        if not (findings(store, cand)["note"] == "medical scores fell").any():
            from analysis import pin_comparison
            pin_comparison(store, base, cand, {"domain": "medical"}, note="medical scores fell", author="ada",
                           settings={"outcome": "score", "attributes": ["domain"]})
        pinned = findings(store, cand)
        row = pinned[pinned["note"] == "medical scores fell"].iloc[0]
    at = AppTest.from_file(str(ROOT / "pages" / "8_Findings.py"), default_timeout=TIMEOUT)
    at.query_params.update({"view": "review", "finding": str(row["finding_id"])})
    at.run()
    assert not at.exception, at.exception
    tiles = review_tiles(at)
    e = row["evidence"]
    assert tiles["Candidate mean"] == format(e["cand_mean"], ".3g")
    assert tiles["Change in score units (95% t interval)"].startswith(format(e["difference"], "+.3g"))
    assert not {"Baseline error", "Candidate error", "Newly wrong / fixed"} & set(tiles)
    # the chart is the mean difference with its t interval (never a change in error rate: a fall in mean score drawn
    # as a fall in error rate read as a fix), its labels at least 16 px for a projector
    (chart,) = at.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["data"][0]["x"][0] == pytest.approx(e["difference"])
    bar = spec["data"][0]["error_x"]
    assert e["difference"] + bar["array"][0] == pytest.approx(e["ci_high"])
    assert e["difference"] - bar["arrayminus"][0] == pytest.approx(e["ci_low"])
    title = spec["layout"]["xaxis"]["title"]["text"]
    assert "score units" in title and "error rate" not in title
    assert spec["layout"]["font"]["size"] >= 16 and spec["layout"]["xaxis"]["tickfont"]["size"] >= 16
