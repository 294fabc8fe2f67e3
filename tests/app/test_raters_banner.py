"""The raters banner on Slices says its point in one line (a count and at most three names), also with a cohort in
which every slice is flagged (the trial's banner listed each of them). The slices it counts are checked against
scikit-learn's Cohen's kappa on the stored rater columns of the cohort."""

from __future__ import annotations

import re

import pytest
from sklearn.metrics import cohen_kappa_score
from streamlit.testing.v1 import AppTest

from analysis import open_store
from tests.app._stores import build_demo, point_app_at
from tests.conftest import ROOT

SLICES = str(ROOT / "pages" / "2_Slices.py")
COHORT = 'domain = "legal"'


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "raters_banner", n_prompts=2000)


def banner(at: AppTest) -> str:
    found = [w.value for w in at.warning if w.value.startswith("Raters disagree")]
    assert len(found) == 1, [w.value for w in at.warning]
    return found[0]


def test_with_a_cohort_the_banner_counts_and_names_at_most_three(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        run_id = store.runs()["run_id"].iloc[0]
        frame = store.examples(run_id)
    by = ["language", "channel", "user_segment"]
    at = AppTest.from_file(SLICES, default_timeout=120)
    at.query_params.update({"run": run_id, "by": by, "order": "1", "where": COHORT})
    at = at.run()
    assert not at.exception, at.exception
    text = banner(at)
    # the slices where raters disagree in the cohort, by scikit-learn's kappa on the stored rater labels
    legal = frame[(frame["meta.domain"] == "legal") & ~frame["unscorable"].astype(bool)]
    rater_a, rater_b = (c for c in frame.columns if c.endswith("rater_a") or c.endswith("rater_b"))
    flagged = []
    for attribute in by:
        for value, group in legal.groupby(f"meta.{attribute}"):
            pair = group[[rater_a, rater_b]].dropna()
            if len(pair) and cohen_kappa_score(pair[rater_a].astype(str), pair[rater_b].astype(str)) < 0.4:
                flagged.append(f"{attribute} = {value}")
    assert len(flagged) > 3  # the cohort is where the demo's raters disagree: most slices are flagged
    assert "\n" not in text
    count = re.search(r"in (?:all )?([\d,]+) slices, e\.g\. (.+)$", text)
    assert count, text
    assert int(count.group(1).replace(",", "")) == len(flagged)
    named = count.group(2).split(", ")
    assert len(named) == 3
    assert {re.sub(r"\\(.)", r"\1", n) for n in named} <= set(flagged)
