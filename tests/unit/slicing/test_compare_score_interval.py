"""The paired t interval of the mean score difference of a comparison, from the grouping statement's sums, against
scipy.stats.ttest_rel and statsmodels' DescrStatsW on the paired differences of every slice (orders 1 and 2), with
examples scored in one run only and unscorable examples; and the aggregate statistic itself on tied and offset
data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from statsmodels.stats.weightstats import DescrStatsW

from analysis import stats as S
from analysis.slicing.compare import ALL, SCORE_INTERVAL_METHOD, compare_runs


def _runs(store, n=1500, seed=4):
    rng = np.random.default_rng(seed)
    ids = [f"x{i}" for i in range(n)]
    lang = rng.choice(["en", "sw", "fr"], size=n, p=[0.5, 0.3, 0.2])
    domain = rng.choice(["chat", "code"], size=n)
    base_ok = rng.random(n) > 0.2
    cand_ok = np.where(lang == "sw", rng.random(n) > 0.35, base_ok)
    sb = np.round(np.clip(base_ok * 0.8 + rng.normal(0.1, 0.15, n), 0, 1), 3)
    sc = np.round(np.clip(cand_ok * 0.8 + rng.normal(0.1, 0.15, n), 0, 1), 3)
    sb_missing = rng.random(n) < 0.05  # scored in the candidate only: not a pair of scores
    base = pd.DataFrame({"example_id": ids, "prompt": ids, "lang": lang, "domain": domain, "correct": base_ok,
                         "score": np.where(sb_missing, np.nan, sb)})
    cand = pd.DataFrame({"example_id": ids, "prompt": ids, "lang": lang, "domain": domain, "correct": cand_ok,
                         "score": sc})
    store.ingest_frame(base, name="base", mapping={"correct": "correct", "score": "score"})
    store.ingest_frame(cand, name="cand", mapping={"correct": "correct", "score": "score"})
    return base.merge(cand[["example_id", "score"]], on="example_id", suffixes=("_b", "_c"))


def test_every_slice_matches_scipy_ttest_rel_and_statsmodels(store):
    merged = _runs(store)
    comparison = compare_runs(store, "base", "cand", ["lang", "domain"], max_order=2, confidence=0.9)
    assert comparison.settings["scores"] == SCORE_INTERVAL_METHOD
    table = comparison.table
    checked = 0
    for row in table.to_dict("records"):
        mask = np.ones(len(merged), dtype=bool)
        for attribute, value in row["predicate"].items():
            mask &= (merged[attribute] == value).to_numpy()
        sub = merged[mask].dropna(subset=["score_b", "score_c"])
        if len(sub) < 2:
            assert math.isnan(row["score_ci_low"]) and math.isnan(row["score_ci_high"])
            continue
        ci = scipy.stats.ttest_rel(sub["score_c"], sub["score_b"]).confidence_interval(confidence_level=0.9)
        assert row["score_ci_low"] == pytest.approx(ci.low, abs=1e-12)
        assert row["score_ci_high"] == pytest.approx(ci.high, abs=1e-12)
        low, high = DescrStatsW((sub["score_c"] - sub["score_b"]).to_numpy()).tconfint_mean(alpha=0.1)
        assert (row["score_ci_low"], row["score_ci_high"]) == (pytest.approx(low, abs=1e-12),
                                                               pytest.approx(high, abs=1e-12))
        checked += 1
    assert checked == 1 + 3 + 2 + 6  # the whole run, singles and pairs: every slice gets its interval
    assert table.loc[table["description"] == ALL, "score_ci_high"].iloc[0] < 0  # the candidate scores lower


def test_correctness_only_runs_have_no_score_interval(store):
    ids = [f"x{i}" for i in range(200)]
    for name, ok in (("base", [True] * 200), ("cand", [True] * 150 + [False] * 50)):
        store.ingest_frame(pd.DataFrame({"example_id": ids, "prompt": ids, "correct": ok}), name=name)
    comparison = compare_runs(store, "base", "cand")
    assert comparison.table["score_ci_low"].isna().all() and comparison.table["score_ci_high"].isna().all()
    assert "only correctness" in comparison.settings["scores"]


@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_paired_mean_difference_from_sums_matches_scipy(offset):
    rng = np.random.default_rng(9)
    d = np.round(rng.normal(0.05, 0.3, 400), 2) + offset  # ties; a large mean against a small spread
    codes = rng.integers(0, 3, d.size)
    k = np.round(d * 100).astype(np.int64)  # d in hundredths; in units of 1e-4 d is 100 k and d^2 is k^2: exact
    scale = 10_000
    n = np.bincount(codes, minlength=4)
    total = [int((100 * k[codes == g]).sum()) for g in range(4)]
    squares = [int((k[codes == g] ** 2).sum()) for g in range(4)]
    mean, low, high, p = S.paired_mean_difference_from_sums(n, total, squares, scale=scale, confidence=0.95)
    for g in range(3):
        res = scipy.stats.ttest_1samp(d[codes == g], 0.0)
        ci = res.confidence_interval(0.95)
        assert mean[g] == pytest.approx(d[codes == g].mean(), rel=1e-13)
        assert (low[g], high[g]) == (pytest.approx(ci.low, rel=1e-9), pytest.approx(ci.high, rel=1e-9))
        assert p[g] == pytest.approx(res.pvalue, rel=1e-9, abs=1e-300)
    assert n[3] == 0 and all(math.isnan(v[3]) for v in (mean, low, high, p))
