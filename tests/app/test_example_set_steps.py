"""Next / Previous on the Example page step through the set the example was opened from (a slice's examples, a
cluster's, a failure mode's, a comparison row's pairs of some verdicts), in that table's order, and the URL keeps the
set (a shared link steps the same way). Before: they stepped through the whole cohort in log order. The expected
neighbours are read from the engine's own listing of each set (analysis.slice_examples, comparison_examples,
mode_examples), never from the page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from analysis import comparison_examples, mode_examples, open_store, slice_examples
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

TIMEOUT = 120
EXAMPLE = str(ROOT / "pages" / "9_Example.py")
SLICES = str(ROOT / "pages" / "2_Slices.py")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "example_sets", n_prompts=1200)


@pytest.fixture
def runs(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        return list(store.runs()["run_id"])[:2]


def _set(kind: str, **spec) -> str:
    """The page's own encoding of a set (ui.example_set), so the test reads the URL as a link would hold it."""
    import json

    return json.dumps({"kind": kind, **spec}, sort_keys=True, separators=(",", ":"), default=str)


def _open(run: str, example: str, set_text: str | None = None, cohort: str | None = None) -> AppTest:
    at = AppTest.from_file(EXAMPLE, default_timeout=TIMEOUT)
    at.query_params.update({"run": run, "example": example, **({"set": set_text} if set_text else {}),
                            **({"cohort": cohort} if cohort else {})})
    at.run()
    assert not at.exception, at.exception
    return at


def _step(at: AppTest, key: str) -> AppTest:
    at = at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _walk(run: str, ids: list[str], set_text: str, cohort: str | None = None) -> None:
    """From the second of ``ids``: Next gives the third, Previous from there the second, then the first; the set
    stays in the URL; the first has no Previous, the last no Next."""
    assert len(ids) >= 3
    at = _open(run, ids[1], set_text, cohort)
    assert any(f"2 of {len(ids):,} in" in m.value for m in at.markdown)
    at = _step(at, "example_next")
    assert at.query_params["example"] in (ids[2], [ids[2]]) and at.query_params["set"] in (set_text, [set_text])
    at = _step(at, "example_previous")
    at = _step(at, "example_previous")
    assert at.query_params["example"] in (ids[0], [ids[0]]) and at.button(key="example_previous").disabled
    assert _open(run, ids[-1], set_text, cohort).button(key="example_next").disabled


def test_a_slice_steps_through_its_examples_not_the_run(demo_db, runs):
    run = runs[0]
    with open_store(demo_db, seed_demo=False) as store:
        ids = [str(i) for i in slice_examples(store, run, {"language": "sw"}, limit=2000)["example_id"]]
        in_log = [str(i) for i in store.examples(run, columns=["example_id"])["example_id"]]
    assert in_log[in_log.index(ids[1]) + 1] != ids[2]  # the run's next example is another one: the bug shows
    _walk(run, ids, _set("slice", predicate={"language": "sw"}, bins=5))


def test_a_slice_within_a_cohort(demo_db, runs):
    run, cohort = runs[0], 'domain = "legal"'
    with open_store(demo_db, seed_demo=False) as store:
        ids = [str(i) for i in slice_examples(store, run, {"language": "en"}, limit=2000, where=cohort)["example_id"]]
    _walk(run, ids, _set("slice", predicate={"language": "en"}, bins=5), cohort)


def test_a_comparison_rows_pairs_of_a_verdict(demo_db, runs):
    base, cand = runs
    with open_store(demo_db, seed_demo=False) as store:
        pairs = comparison_examples(store, base, cand, {"domain": "medical"}, verdicts=["regressed", "fixed"],
                                    limit=500)
    ids = list(dict.fromkeys(str(i) for i in pairs["example_id"]))
    _walk(cand, ids, _set("comparison", baseline=base, candidate=cand, predicate={"domain": "medical"},
                          verdicts=["regressed", "fixed"]))


def test_a_graded_comparison_rows_pairs_in_the_order_of_their_scores_change(demo_db, runs):
    base, cand = runs
    with open_store(demo_db, seed_demo=False) as store:
        pairs = comparison_examples(store, base, cand, {"domain": "medical"}, verdicts=["score_fell"], limit=500,
                                    outcome="score")
    ids = list(dict.fromkeys(str(i) for i in pairs["example_id"]))
    _walk(cand, ids, _set("comparison", baseline=base, candidate=cand, predicate={"domain": "medical"},
                          verdicts=["score_fell"], outcome="score"))


def test_a_list_cut_at_its_cap_says_so(demo_db, runs):
    base, cand = runs
    with open_store(demo_db, seed_demo=False) as store:
        pairs = comparison_examples(store, base, cand, {}, limit=500)
        total = sum(__import__("analysis").verdict_counts(store, base, cand, {}).values())
    assert total > 500
    at = _open(cand, str(pairs["example_id"].iloc[1]), _set("comparison", baseline=base, candidate=cand, predicate={},
                                                            verdicts=[]))
    said = "2 of 500 in the pairs of every example \\(the first 500 of " + f"{total:,}".replace(",", "\\,")
    assert any(said in m.value
               for m in at.markdown), [m.value for m in at.markdown][:3]


def test_a_failure_modes_examples(demo_db, runs):
    run = runs[1]
    with open_store(demo_db, seed_demo=False) as store:
        ids = [str(i) for i in mode_examples(store, run, None, "reward_hacking")["example_id"]]
    _walk(run, ids, _set("mode", mode="reward_hacking", spec="none", columns=[], order_by=None, descending=True))


def test_an_unreadable_set_falls_back_to_the_cohort(demo_db, runs):
    run = runs[0]
    with open_store(demo_db, seed_demo=False) as store:
        in_log = [str(i) for i in store.examples(run, columns=["example_id"])["example_id"]]
    at = _step(_open(run, in_log[1], "not json"), "example_next")
    assert at.query_params["example"] in (in_log[2], [in_log[2]])


def test_the_slices_page_links_carry_the_set(demo_db, runs):
    run = runs[0]
    at = AppTest.from_file(SLICES, default_timeout=TIMEOUT)
    at.query_params.update({"run": run, "by": ["language"], "order": "1", "slice": '{"language": "sw"}'})
    at.run()
    assert not at.exception, at.exception
    examples = next(d.value for d in at.dataframe if "open" in d.value.columns)
    query = parse_qs(urlparse(examples["open"].iloc[0]).query)
    assert query["set"] == [_set("slice", predicate={"language": "sw"}, bins=5)]
