"""Per-slice extras against independent computations (sklearn, krippendorff, numpy, pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from analysis.errors import FaultlineError
from analysis.slicing.attributes import MISSING
from analysis.slicing.extras import DISAGREEMENT_THRESHOLD, MSG_CONFIDENCE_RANGE, SCORE_CI_METHOD, slice_extras


def frame(n=1200, seed=3, raters=2):
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw", "fr"], size=n)
    correct = rng.random(n) > 0.2
    conf = np.clip(np.where(correct, 0.8, 0.6) + rng.normal(0, 0.15, n), 0, 1)
    data = {"prompt": ["q"] * n, "lang": lang, "correct": correct, "confidence": conf,
            "latency_ms": rng.gamma(2.0, 300.0, n), "cost_usd": rng.random(n) / 1000,
            "score": np.clip(correct * 0.8 + rng.random(n) * 0.2, 0, 1).round(3)}
    for r in range(raters):
        flip = rng.random(n) < np.where(lang == "fr", 0.45, 0.05)
        data[f"rater_{r}"] = np.where(flip, ~correct, correct)
    return pd.DataFrame(data)


@pytest.fixture
def run(store):
    df = frame()
    (r,) = store.ingest_frame(df, name="extras", mapping={"correct": "correct", "score": "score",
                                                          "raters": ["rater_0", "rater_1"]}).added
    return r, df


def test_ece_percentiles_kappa_against_independent_code(store, run):
    r, df = run
    extras = slice_extras(store, r.run_id, ["lang"]).set_index("value")
    for lang, sub in df.groupby("lang"):
        row = extras.loc[lang]
        # ECE with 10 equal-width bins, computed directly
        bins = np.minimum((sub["confidence"] * 10).astype(int), 9)
        ece = sum(abs(g["correct"].mean() - g["confidence"].mean()) * len(g) / len(sub) for _, g in sub.groupby(bins))
        assert row["ece"] == pytest.approx(ece, abs=1e-9)
        for col in ("latency_ms", "cost_usd"):
            for q, name in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
                assert row[f"{col}_{name}"] == pytest.approx(np.quantile(sub[col], q), rel=1e-9)
        kappa = cohen_kappa_score(sub["rater_0"], sub["rater_1"])
        assert row["rater_agreement"] == pytest.approx(kappa, abs=1e-12)
        assert row["agreement_measure"] == "Cohen's kappa"
        assert bool(row["raters_disagree"]) == (kappa < DISAGREEMENT_THRESHOLD)
    assert extras.loc["fr", "raters_disagree"] and not extras.loc["en", "raters_disagree"]


def test_cost_weighted_error(store, run):
    r, df = run
    extras = slice_extras(store, r.run_id, ["lang"], costs={"lang": {"sw": 5.0}, "default": 2.0}).set_index("value")
    for lang, sub in df.groupby("lang"):
        cost = 5.0 if lang == "sw" else 2.0
        assert extras.loc[lang, "cost_weighted_error"] == pytest.approx((~sub["correct"]).sum() * cost / len(sub))


def test_mean_score_interval_is_the_student_t_interval_of_statsmodels(store, run):
    """The interval from SQL sums against statsmodels' t interval over each slice's own scores."""
    from statsmodels.stats.weightstats import DescrStatsW

    r, df = run
    extras = slice_extras(store, r.run_id, ["lang"]).set_index("value")
    for lang, sub in df.groupby("lang"):
        low, high = DescrStatsW(sub["score"].to_numpy(float)).tconfint_mean(alpha=0.05)
        assert extras.loc[lang, "score_ci_low"] == pytest.approx(low, rel=1e-9, abs=1e-12)
        assert extras.loc[lang, "score_ci_high"] == pytest.approx(high, rel=1e-9, abs=1e-12)
    assert set(extras["score_ci_method"]) == {SCORE_CI_METHOD}


def test_krippendorff_for_three_raters(store):
    krippendorff = pytest.importorskip("krippendorff")
    df = frame(n=600, raters=3)
    (r,) = store.ingest_frame(df, name="three", mapping={"raters": ["rater_0", "rater_1", "rater_2"],
                                                         "correct": "correct"}).added
    extras = slice_extras(store, r.run_id, ["lang"]).set_index("value")
    for lang, sub in df.groupby("lang"):
        matrix = sub[["rater_0", "rater_1", "rater_2"]].astype(float).to_numpy().T
        expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
        assert extras.loc[lang, "rater_agreement"] == pytest.approx(expected, abs=1e-9)
        assert extras.loc[lang, "agreement_measure"] == "Krippendorff's alpha"


def test_no_extra_columns_without_inputs(store):
    (r,) = store.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "lang": ["x", "y"], "correct": [True, False]}),
                              name="plain").added
    extras = slice_extras(store, r.run_id, ["lang"])
    assert list(extras.columns) == ["description", "attribute", "value", "n"]


def test_ece_is_the_stats_function_on_each_slice_also_on_bin_edges(store):
    from tests.parity.stats.test_calibration import _slow_ece

    df = frame(n=600, seed=5)
    # confidences on the bin edges, with calibration gaps of both signs: the float 0.3 lies below 3/10 and so
    # shares bin 2 with 0.2 (as in the tested statistic), where the former SQL binning put it in bin 3
    df["confidence"] = np.where(df["correct"], 0.2, np.where(df.index % 2 == 0, 0.3, 0.7))
    (r,) = store.ingest_frame(df, name="rounded", mapping={"correct": "correct"}).added
    extras = slice_extras(store, r.run_id, ["lang"]).set_index("value")
    for lang, sub in df.groupby("lang"):
        expected = _slow_ece(list(sub["confidence"]), list(sub["correct"].astype(float)), 10)
        assert extras.loc[lang, "ece"] == pytest.approx(expected, abs=1e-12)


def test_confidence_in_percent_is_refused_naming_the_column(store):
    df = frame(n=200)
    df["confidence"] = df["confidence"] * 100
    (r,) = store.ingest_frame(df, name="percent", mapping={"correct": "correct"}).added
    outside = int(((df["confidence"] < 0) | (df["confidence"] > 1)).sum())
    expected = MSG_CONFIDENCE_RANGE.format(run="percent", column="confidence", low=float(df["confidence"].min()),
                                           high=float(df["confidence"].max()), count=outside, n=len(df))
    with pytest.raises(FaultlineError) as err:
        slice_extras(store, r.run_id, ["lang"])
    assert str(err.value) == expected
    assert "'confidence' must hold probabilities in [0, 1]" in str(err.value)


def test_missing_attribute_values_are_a_slice_of_their_own(store):
    krippendorff = pytest.importorskip("krippendorff")
    df = frame(n=900, raters=3)
    df["lang"] = df["lang"].astype(object)
    df.loc[df.index % 7 == 0, "lang"] = None
    (r,) = store.ingest_frame(df, name="gaps", mapping={"correct": "correct", "score": "score",
                                                       "raters": ["rater_0", "rater_1", "rater_2"]}).added
    extras = slice_extras(store, r.run_id, ["lang"]).set_index("value")
    assert MISSING in extras.index
    missing = df[df["lang"].isna()]
    row = extras.loc[MISSING]
    assert row["n"] == len(missing)
    bins = np.minimum((missing["confidence"] * 10).astype(int), 9)
    ece = sum(abs(g["correct"].mean() - g["confidence"].mean()) * len(g) / len(missing) for _, g in missing.groupby(bins))
    assert row["ece"] == pytest.approx(ece, abs=1e-9)
    matrix = missing[["rater_0", "rater_1", "rater_2"]].astype(float).to_numpy().T
    assert row["rater_agreement"] == pytest.approx(
        krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"), abs=1e-9)
    assert row["score_ci_low"] < missing["score"].mean() < row["score_ci_high"]


def test_missing_attribute_values_with_two_raters_get_their_kappa(store):
    df = frame(n=900)
    df["lang"] = df["lang"].astype(object)
    df.loc[df.index % 5 == 0, "lang"] = None
    (r,) = store.ingest_frame(df, name="gaps2", mapping={"correct": "correct",
                                                        "raters": ["rater_0", "rater_1"]}).added
    extras = slice_extras(store, r.run_id, ["lang"]).set_index("value")
    missing = df[df["lang"].isna()]
    assert extras.loc[MISSING, "rater_agreement"] == pytest.approx(
        cohen_kappa_score(missing["rater_0"], missing["rater_1"]), abs=1e-12)
