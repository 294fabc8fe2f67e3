"""Surrogate against outcome within a cohort: the curves are the cohort's (accuracy and each signal's mean per run
against pandas on the cohort's rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.objective.spec import parse_objective
from analysis.series.surrogate import over_optimisation
from analysis.store import Store
from analysis.store.series import create_series

SPEC = parse_objective("""
objective: toy
components:
  - {id: rm, name: Reward model, kind: reward_model, why: helpful answers, serves: accuracy,
     signals: [{column: reward, direction: higher_is_better}]}
""")


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    rng = np.random.default_rng(8)
    n = 900
    group = rng.choice(["a", "b"], n)
    lang = rng.choice(["en", "fr"], n)
    store = Store(tmp_path_factory.mktemp("surc") / "s.duckdb")
    frames = []
    for k in range(4):
        frame = pd.DataFrame({"id": [f"e{i}" for i in range(n)], "prompt": [f"q{i}" for i in range(n)],
                              "group": group, "lang": lang,
                              "reward": rng.normal(0.1 * k + np.where(lang == "fr", 1.0, 0.0), 0.3, n),
                              "correct": rng.random(n) < np.where(lang == "fr", 0.6, 0.8)})
        store.ingest_frame(frame, name=f"step-{k + 1}00",
                           mapping={"id": "id", "input": "prompt", "correct": "correct", "signals": ["reward"]})
        frames.append(frame)
    create_series(store, "s", [f"step-{k + 1}00" for k in range(4)])
    yield store, frames
    store.close()


def test_curves_in_a_cohort_are_the_cohort_rows(case):
    store, frames = case
    result = over_optimisation(store, "s", SPEC, by=["group"], min_support=10, where='lang = "fr"')
    assert result.trajectories.settings["where"] == 'lang = "fr"'
    curves = result.curves
    for k, frame in enumerate(frames):
        fr = frame[frame["lang"] == "fr"]
        for value, rows in fr.groupby("group"):
            got = curves[(curves["description"] == f"group = {value}") & (curves["k"] == k)].iloc[0]
            assert got["accuracy"] == pytest.approx(rows["correct"].mean(), abs=1e-12)
            assert got["signal_mean"] == pytest.approx(rows["reward"].mean(), abs=1e-12)
    whole = over_optimisation(store, "s", SPEC, by=["group"], min_support=10).curves
    assert not np.allclose(whole["signal_mean"].to_numpy(dtype=float), curves["signal_mean"].to_numpy(dtype=float))
