"""A graded outcome compared between two runs: per slice the paired t test and its interval are scipy's
``ttest_rel`` on the slice's pairs, the q-values statsmodels' Benjamini-Hochberg, and the verdicts follow them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from analysis import FaultlineError
from analysis.slicing.compare import ALL, MSG_SAME_RUN, compare_scores, shared_scores
from analysis.store import Store


@pytest.fixture
def runs(tmp_path):
    rng = np.random.default_rng(7)
    n = 900
    ids = [f"e{i}" for i in range(n)]
    lang = rng.choice(["en", "sw", "fr"], size=n, p=[0.5, 0.3, 0.2])
    domain = rng.choice(["legal", "chat"], size=n)
    base = np.clip(rng.normal(0.7, 0.15, size=n), 0, 1)
    cand = np.clip(base + rng.normal(0.0, 0.1, size=n) - 0.12 * (lang == "sw"), 0, 1)
    cand[:5] = np.nan  # unscored in the candidate: left out of every pair
    s = Store(tmp_path / "g.duckdb")
    common = {"id": ids, "prompt": ids, "lang": lang, "domain": domain}
    s.ingest_frame(pd.DataFrame({**common, "score": base, "correct": base > 0.5}), name="v1")
    s.ingest_frame(pd.DataFrame({**common, "score": cand, "correct": cand > 0.5}), name="v2")
    frame = pd.DataFrame({"lang": lang, "domain": domain, "b": base, "c": cand}).dropna()
    yield s, frame
    s.close()


def test_every_slice_is_scipy_ttest_rel_and_bh(runs):
    store, frame = runs
    assert shared_scores(store, "v1", "v2") == ["score"]
    result = compare_scores(store, "v1", "v2", "score", ["lang", "domain"], max_order=2, min_support=30)
    table = result.table
    assert result.matched == len(frame)
    for row in table.to_dict("records"):
        mask = np.ones(len(frame), dtype=bool)
        for attribute, value in row["predicate"].items():
            mask &= (frame[attribute] == value).to_numpy()
        sub = frame[mask]
        assert row["n"] == len(sub)
        test = sps.ttest_rel(sub["c"], sub["b"])
        low, high = test.confidence_interval(0.95)
        assert row["difference"] == pytest.approx((sub["c"] - sub["b"]).mean())
        assert row["base_mean"] == pytest.approx(sub["b"].mean()) and row["cand_mean"] == pytest.approx(sub["c"].mean())
        assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low), pytest.approx(high))
        if not row["too_small"]:
            assert row["p_value"] == pytest.approx(test.pvalue, rel=1e-6, abs=1e-300)
    tested = table[~table["too_small"]]
    expected_q = multipletests(tested["p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(tested["q_value"], expected_q, rtol=1e-9)
    sw = table[table["description"] == "lang = sw"].iloc[0]
    assert sw["verdict"] == "regressed" and table.iloc[0]["verdict"] == "regressed"
    assert (table["description"] == ALL).sum() == 1


def test_an_outcome_both_runs_lack_and_the_same_run_are_refused(runs):
    store, _ = runs
    with pytest.raises(FaultlineError, match="not a numeric score of both runs"):
        compare_scores(store, "v1", "v2", "score.f1", ["lang"])
    with pytest.raises(FaultlineError) as err:
        compare_scores(store, "v1", "v1", "score", ["lang"])
    assert str(err.value) == MSG_SAME_RUN.format(run="v1")
