"""Pinning a comparison row by a graded outcome (issue #14): the finding keeps the score's row (the mean paired
difference with its Student t interval, checked against scipy's ``ttest_rel`` on the pairs), not the correctness row;
its sentence says the difference in the score's units (named) with the t interval, and recomputing it gives the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.objective.findings import finding_sentence, pin_comparison, recompute_finding
from analysis.store import Store


@pytest.fixture
def runs(tmp_path):
    rng = np.random.default_rng(11)
    n = 600
    ids = [f"e{i}" for i in range(n)]
    lang = rng.choice(["en", "sw"], size=n, p=[0.6, 0.4])
    base = np.clip(rng.normal(0.7, 0.15, size=n), 0, 1)
    cand = np.clip(base + rng.normal(0.0, 0.1, size=n) - 0.1 * (lang == "sw"), 0, 1)
    s = Store(tmp_path / "g.duckdb")
    common = {"id": ids, "prompt": ids, "lang": lang}
    s.ingest_frame(pd.DataFrame({**common, "score": base, "correct": base > 0.5}), name="v1")
    s.ingest_frame(pd.DataFrame({**common, "score": cand, "correct": cand > 0.5}), name="v2")
    yield s, pd.DataFrame({"lang": lang, "b": base, "c": cand})
    s.close()


def test_a_graded_pin_keeps_the_scores_row_with_its_t_interval(runs):
    store, frame = runs
    made = pin_comparison(store, "v1", "v2", {"lang": "sw"}, author="ada", note="sw scores fell",
                          settings={"attributes": ["lang"], "outcome": "score"})
    e = made.evidence
    sw = frame[frame["lang"] == "sw"]
    test = sps.ttest_rel(sw["c"], sw["b"])
    low, high = test.confidence_interval(0.95)
    assert e["outcome"] == "score" and e["n"] == len(sw)
    assert e["difference"] == pytest.approx((sw["c"] - sw["b"]).mean())
    assert (e["ci_low"], e["ci_high"]) == (pytest.approx(low), pytest.approx(high))
    assert e["base_mean"] == pytest.approx(sw["b"].mean()) and "base_error_rate" not in e
    assert e["verdict"] == "regressed"
    sentence = finding_sentence("comparison", made.title, e)
    # a difference of means in the score's own units, named (as the Compare table shows it), never "points"
    assert f"down {abs(e['difference']):.3f} score units" in sentence
    assert f"95% t interval {low:+.3f} to {high:+.3f} score units" in sentence
    assert "points" not in sentence
    assert sentence.startswith(f"lang = sw: mean score {sw['b'].mean():.3f} in the baseline and {sw['c'].mean():.3f}")
    assert recompute_finding(store, made.finding_id) == e


def test_without_an_outcome_the_correctness_row_is_pinned(runs):
    store, frame = runs
    made = pin_comparison(store, "v1", "v2", {"lang": "sw"}, author="ada", settings={"attributes": ["lang"]})
    sw = frame[frame["lang"] == "sw"]
    assert "outcome" not in made.evidence and made.evidence["n"] == len(sw)
    assert made.evidence["base_error_rate"] == pytest.approx((sw["b"] <= 0.5).mean())
