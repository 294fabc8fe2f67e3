"""Graded scores (the HC3 slope of the mean score, against statsmodels OLS on the example rows) and cohorts (against a
store holding only the cohort's examples) in series trajectories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from analysis.series.trajectories import ALL, trajectories
from analysis.store import Store
from analysis.store.series import create_series

RUNS = 5
N = 500
MAPPING = {"id": "id", "input": "prompt", "score": "score", "correct": "correct"}


def _frames(seed: int = 11) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw", "fr"], N, p=[0.5, 0.25, 0.25])
    domain = rng.choice(["law", "med"], N)
    frames = []
    for k in range(RUNS):
        # graded scores: Swahili loses 0.04 a run, with a spread that grows (heteroskedastic: HC3 matters)
        score = np.clip(0.7 - np.where(lang == "sw", 0.04 * k, 0.0) + rng.normal(0, 0.1 + 0.02 * k, N), 0, 1)
        frames.append(pd.DataFrame({"id": [f"e{i}" for i in range(N)], "prompt": [f"q{i}" for i in range(N)],
                                    "lang": lang, "domain": domain, "score": score, "correct": score >= 0.5}))
    return frames


def _store(path, frames) -> Store:
    store = Store(path)
    for k, frame in enumerate(frames):
        store.ingest_frame(frame, name=f"step-{k + 1}", mapping=MAPPING)
    create_series(store, "s", [f"step-{k + 1}" for k in range(RUNS)])
    return store


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    frames = _frames()
    store = _store(tmp_path_factory.mktemp("graded") / "g.duckdb", frames)
    yield store, frames
    store.close()


def test_graded_slope_and_interval_equal_statsmodels_ols_hc3_and_bh_over_slices(graded):
    store, frames = graded
    t = trajectories(store, "s", ["lang", "domain"], min_support=10, max_drivers=0)
    assert t.settings["graded"]
    rows = pd.concat([f.assign(k=float(k)) for k, f in enumerate(frames)], ignore_index=True)
    slices = t.slices.set_index("description")
    ps = {}
    for attribute in (None, "lang", "domain"):
        for value in ([None] if attribute is None else sorted(rows[attribute].unique())):
            sub = rows if attribute is None else rows[rows[attribute] == value]
            fit = sm.OLS(sub["score"].to_numpy(), sm.add_constant(sub["k"].to_numpy())).fit(cov_type="HC3")
            desc = ALL if attribute is None else f"{attribute} = {value}"
            row = slices.loc[desc]
            low, high = fit.conf_int(0.05)[1]
            assert row["score_slope"] == pytest.approx(fit.params[1], rel=1e-9)
            assert row["score_slope_low"] == pytest.approx(low, rel=1e-7)
            assert row["score_slope_high"] == pytest.approx(high, rel=1e-7)
            assert row["score_trend_p"] == pytest.approx(fit.pvalues[1], rel=1e-6, abs=1e-300)
            ps[desc] = fit.pvalues[1]
    q = multipletests(list(ps.values()), method="fdr_bh")[1]
    for (desc, _), expected in zip(ps.items(), q):
        assert slices.loc[desc, "score_trend_q"] == pytest.approx(expected, rel=1e-6, abs=1e-300)
    assert slices.loc["lang = sw", "score_direction"] == "down" and slices.loc["lang = sw", "flagged"]


def test_binary_scores_have_no_score_trend(tmp_path):
    frames = [f.assign(score=f["correct"].astype(float)) for f in _frames()]
    store = _store(tmp_path / "b.duckdb", frames)
    t = trajectories(store, "s", ["lang"], min_support=10, max_drivers=0)
    assert not t.settings["graded"]
    assert t.slices["score_trend_p"].isna().all() and not t.slices["score_drifting"].any()
    store.close()


COLUMNS = ["description", "n_min", "first", "last", "slope", "slope_low", "slope_high", "trend_z", "trend_p",
           "trend_q", "score_slope", "score_slope_low", "score_slope_high", "score_trend_p", "score_trend_q",
           "first_departure", "departure_q", "flagged"]


@pytest.mark.parametrize("shuffle", [False, True], ids=["same order", "other order"])
def test_a_cohort_gives_what_a_store_of_only_its_examples_gives(tmp_path, shuffle):
    frames = _frames(seed=5)
    if shuffle:  # the runs after the reference stored in another order: paired by example id
        rng = np.random.default_rng(1)
        frames = [frames[0]] + [f.iloc[rng.permutation(N)].reset_index(drop=True) for f in frames[1:]]
    store = _store(tmp_path / "all.duckdb", frames)
    only = _store(tmp_path / "only.duckdb", [f[f["domain"] == "med"].reset_index(drop=True) for f in frames])
    got = trajectories(store, "s", ["lang"], min_support=10, where='domain = "med"')
    expected = trajectories(only, "s", ["lang"], min_support=10)
    assert len(got.slices) == len(expected.slices) == 4
    pd.testing.assert_frame_equal(got.slices[COLUMNS].reset_index(drop=True),
                                  expected.slices[COLUMNS].reset_index(drop=True), rtol=1e-12)
    cols = ["description", "k", "n", "errors", "n_paired", "errors_paired", "b", "c", "mean_score", "departure_p"]
    key = ["description", "k"]
    pd.testing.assert_frame_equal(got.points[cols].sort_values(key).reset_index(drop=True),
                                  expected.points[cols].sort_values(key).reset_index(drop=True), rtol=1e-12)
    store.close()
    only.close()
