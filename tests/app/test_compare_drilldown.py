"""The Compare page's drill-down: the pairs behind a row with their verdict counts (the row's b and c), the verdict
filter, links to the Example page, the graded outcome, pinning a row as a finding, and every choice in the URL."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from analysis import compare_runs, compare_scores, findings, open_store, verdict_counts
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120
PAGE = str(ROOT / "pages" / "3_Compare.py")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "compare_drill", n_prompts=3000)


@pytest.fixture
def demo_env(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        base, cand = list(store.runs()["run_id"])[:2]
    return demo_db, base, cand


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_a_row_drills_into_its_pairs_with_the_rows_counts(demo_env):
    db, base, cand = demo_env
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    at.selectbox(key="compare_row").set_value(json.dumps({"domain": "medical"}))
    at.multiselect(key="compare_verdicts").set_value(["regressed"])
    at.run()
    assert not at.exception
    with open_store(db, seed_demo=False) as store:
        row = compare_runs(store, base, cand, None).table.set_index("description").loc["domain = medical"]
        counts = verdict_counts(store, base, cand, {"domain": "medical"})
    assert metric(at, "Regressed") == f"{int(row['b']):,}" and metric(at, "Fixed") == f"{int(row['c']):,}"
    assert metric(at, "Still wrong") == f"{counts['still_wrong']:,}"
    pairs = at.dataframe[1].value
    assert set(pairs["verdict"]) == {"regressed"} and len(pairs) == min(int(row["b"]), 500)
    assert any(": regressions. **Open**" in c.value for c in at.caption)  # the order of what is shown
    at.multiselect(key="compare_verdicts").set_value(["still_wrong", "fixed"])
    at.run()
    assert any(": fixes, then pairs still wrong. **Open**" in c.value for c in at.caption)
    at.multiselect(key="compare_verdicts").set_value(["regressed"])
    at.run()
    pairs = at.dataframe[1].value
    link = urlparse(pairs["open"].iloc[0])
    assert link.path.endswith("Example")
    query = parse_qs(link.query)
    opened_from = json.loads(query.pop("set")[0])  # the set next / previous step through (the row's pairs)
    assert query == {"run": [cand], "example": [pairs["example_id"].iloc[0]]}
    assert opened_from == {"kind": "comparison", "baseline": base, "candidate": cand, "predicate": {"domain": "medical"},
                           "verdicts": ["regressed"]}
    assert at.query_params["row"] == json.dumps({"domain": "medical"})
    assert at.query_params["verdict"] in ("regressed", ["regressed"])


def test_the_url_reopens_the_same_drilldown(demo_env):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"row": json.dumps({"domain": "medical"}), "verdict": ["fixed", "still_wrong"]})
    at.run()
    assert not at.exception
    assert at.selectbox(key="compare_row").value == json.dumps({"domain": "medical"})
    assert at.multiselect(key="compare_verdicts").value == ["fixed", "still_wrong"]
    assert set(at.dataframe[1].value["verdict"]) <= {"fixed", "still wrong"}
    graded = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    graded.query_params.update({"row": json.dumps({"domain": "medical"}), "verdict": ["score_rose", "score_same"],
                                "outcome": "score"})
    graded.run()
    assert not graded.exception
    assert graded.selectbox(key="compare_outcome").value == "score"
    assert graded.multiselect(key="compare_verdicts_graded").value == ["score_rose", "score_same"]
    assert set(graded.dataframe[1].value["verdict"]) <= {"score rose", "score unchanged"}


def test_a_graded_outcome_shows_the_paired_score_comparison(demo_env):
    db, base, cand = demo_env
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    at.selectbox(key="compare_outcome").set_value("score")
    at.run()
    assert not at.exception
    shown = at.dataframe[0].value
    with open_store(db, seed_demo=False) as store:
        expected = compare_scores(store, base, cand, "score", [a for a in at.multiselect(key="compare_by").value])
    merged = shown.merge(expected.table, on="description")
    assert len(merged) == len(expected.table)
    assert merged["change"].to_numpy() == pytest.approx(merged["difference"].to_numpy())
    # q stays a number (sortable), a slice not tested sorts last; the grid writes it with format_q (test_tables)
    expected_q = merged["q_value"].astype(float).fillna(float("inf"))
    assert merged["q"].to_numpy() == pytest.approx(expected_q.to_numpy())
    # the drill-down of a graded outcome: the pairs by how their score moved, as many as the row's paired t test
    at.selectbox(key="compare_row").set_value(json.dumps({"domain": "medical"}))
    at.run()
    assert not at.exception
    with open_store(db, seed_demo=False) as store:
        counts = verdict_counts(store, base, cand, {"domain": "medical"}, outcome="score")
    row = expected.table.set_index("description").loc["domain = medical"]
    assert sum(counts.values()) == int(row["n"]) and counts["score_fell"] > 0
    assert [metric(at, m) for m in ("Score fell", "Score rose", "Score unchanged")] == [
        f"{counts[v]:,}" for v in ("score_fell", "score_rose", "score_same")]
    assert not [m for m in at.metric if m.label in ("Regressed", "Fixed")]  # correctness's verdicts are not shown
    pairs = at.dataframe[1].value
    assert set(pairs["verdict"]) == {"score fell", "score rose"}  # the default: the scores that moved
    assert len(pairs) == min(counts["score_fell"] + counts["score_rose"], 500)
    moved = (pairs["cand_score"] - pairs["base_score"]).to_numpy()
    assert moved[0] == moved.min() < 0  # the largest fall first
    opened_from = json.loads(parse_qs(urlparse(pairs["open"].iloc[0]).query)["set"][0])
    assert opened_from["outcome"] == "score" and opened_from["verdicts"] == ["score_fell", "score_rose"]


def test_pin_the_selected_row_as_a_finding(demo_env):
    db, base, cand = demo_env
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.run()
    at.selectbox(key="compare_row").set_value(json.dumps({"domain": "medical"}))
    at.run()
    at.text_input(key="compare_pin_author").input("ada")
    at.text_input(key="compare_pin_note").input("medical fell apart")
    next(b for b in at.button if b.label == "Pin as finding").click()
    at.run()
    assert not at.exception
    assert any("Findings page" in s.value for s in at.success)
    with open_store(db, seed_demo=False) as store:
        pinned = findings(store, cand)
    row = pinned[pinned["note"] == "medical fell apart"].iloc[0]
    assert row["kind"] == "comparison" and row["author"] == "ada" and row["title"] == "domain = medical"


def test_a_cohort_in_the_url_restricts_the_table_the_drilldown_and_the_pin(demo_env):
    db, base, cand = demo_env
    where = 'language = "fr"'
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"where": where, "row": json.dumps({"domain": "medical"})})
    at.run()
    assert not at.exception
    with open_store(db, seed_demo=False) as store:
        expected = compare_runs(store, base, cand, None, where=where)
        counts = verdict_counts(store, base, cand, {"domain": "medical"}, where=where)
    assert metric(at, "Matched examples") == f"{expected.matched:,}"
    assert at.dataframe[0].value["n"].iloc[0] <= expected.matched
    assert metric(at, "Regressed") == f"{counts['regressed']:,}" and metric(at, "Fixed") == f"{counts['fixed']:,}"
    link = urlparse(at.dataframe[1].value["open"].iloc[0])
    assert parse_qs(link.query)["cohort"] == [where]
    at.text_input(key="compare_pin_author").input("ada")
    at.text_input(key="compare_pin_note").input("french medical")
    next(b for b in at.button if b.label == "Pin as finding").click()
    at.run()
    assert not at.exception
    with open_store(db, seed_demo=False) as store:
        pinned = findings(store, cand)
    row = pinned[pinned["note"] == "french medical"].iloc[0]
    assert row["cohort"] == where and row["evidence"]["b"] == counts["regressed"]
