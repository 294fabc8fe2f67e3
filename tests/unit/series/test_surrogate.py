"""The over-optimisation turn against a direct computation: statsmodels' ordinal association test for the rise and
the fall of accuracy, statsmodels OLS with HC3 for the signal after the turn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.contingency_tables import Table

from analysis.objective.spec import parse_objective
from analysis.series.surrogate import over_optimisation
from analysis.store import Store
from analysis.store.series import create_series

SPEC = parse_objective("""
objective: toy
components:
  - {id: rm, name: Reward model, kind: reward_model, why: helpful answers, serves: accuracy,
     signals: [{column: reward, direction: higher_is_better}]}
  - {id: kl, name: KL penalty, kind: kl_penalty, why: stay close, serves: quality,
     signals: [{column: kl, direction: lower_is_better}]}
""")
WRONG = {"peaked": (0.40, 0.25, 0.10, 0.25, 0.40), "falling": (0.10, 0.17, 0.24, 0.31, 0.38), "flat": (0.2,) * 5}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 1500
    ids = [f"e{i}" for i in range(n)]
    group = rng.choice(list(WRONG), n)
    own = rng.random(n)
    store = Store(tmp_path_factory.mktemp("surrogate") / "s.duckdb")
    frames = []
    for k in range(5):
        draw = np.where(rng.random(n) < 0.8, own, rng.random(n))
        wrong = draw < np.array([WRONG[g][k] for g in group])
        frame = pd.DataFrame({"id": ids, "prompt": [f"q{i} {k}" for i in range(n)], "group": group,
                              "reward": rng.normal(0.1 * k, 0.3, n), "kl": rng.normal(0.2 * k, 0.3, n),
                              "correct": ~wrong})
        store.ingest_frame(frame, name=f"step-{k + 1}00",
                           mapping={"id": "id", "input": "prompt", "correct": "correct", "signals": ["reward", "kl"]})
        frames.append(frame)
    create_series(store, "s", [f"step-{k + 1}00" for k in range(5)])
    yield store, frames
    store.close()


def _ca_p(frames, mask_of, runs):
    n = [int(mask_of(f).sum()) for f in (frames[k] for k in runs)]
    x = [int(f.loc[mask_of(f), "correct"].sum()) for f in (frames[k] for k in runs)]
    table = np.column_stack([np.subtract(n, x), x])
    r = Table(table, shift_zeros=False).test_ordinal_association(row_scores=np.arange(len(runs), dtype=float),
                                                                  col_scores=np.array([0.0, 1.0]))
    z = r.zscore * np.sqrt(sum(n) / (sum(n) - 1))
    return z, 2 * __import__("scipy").stats.norm.sf(abs(z))


def test_the_turn_and_its_tests_match_a_direct_computation(case):
    store, frames = case
    o = over_optimisation(store, "s", SPEC, by=["group"])
    found = o.found()
    # the whole run peaks at the third run too (the peaked group's turn dominates it)
    assert set(zip(found["description"], found["signal"])) <= {("group = peaked", "reward"), ("(all examples)", "reward")}
    assert found["description"].iloc[0] == "group = peaked"
    row = found.iloc[0]
    assert row["turn"] == 2 and row["turn_label"] == "step 300" and row["component"] == "rm"
    in_slice = lambda f: f["group"] == "peaked"  # noqa: E731
    z_rise, p_rise = _ca_p(frames, in_slice, [0, 1, 2])
    z_fall, p_fall = _ca_p(frames, in_slice, [2, 3, 4])
    assert z_rise > 0 and row["rise_p"] == pytest.approx(p_rise, rel=1e-8)
    assert z_fall < 0 and row["fall_p"] == pytest.approx(p_fall, rel=1e-8)
    y = np.concatenate([frames[k].loc[in_slice(frames[k]), "reward"] for k in (2, 3, 4)])
    x = np.concatenate([np.full(int(in_slice(frames[k]).sum()), float(i)) for i, k in enumerate((2, 3, 4))])
    fit = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HC3")
    assert row["signal_slope"] == pytest.approx(fit.params[1], rel=1e-8)
    assert row["signal_p"] == pytest.approx(fit.pvalues[1], rel=1e-6, abs=1e-300)
    expected = min(1.0, max(row["rise_p"], row["fall_p"], row["signal_p"]) * 3)  # three candidate peaks
    assert row["p_value"] == pytest.approx(expected)


def test_a_penalty_rising_is_not_a_turn_and_a_steady_fall_has_no_peak(case):
    store, _ = case
    turns = over_optimisation(store, "s", SPEC, by=["group"]).turns.set_index(["description", "signal"])
    # kl rises, but the objective pushes it down: oriented, it falls after the peak
    assert not turns.loc[("group = peaked", "kl"), "over_optimised"]
    # accuracy falls from the first run: no peak inside the series, nothing tested
    assert turns.loc[("group = falling", "reward"), "turn"] == -1
    assert np.isnan(turns.loc[("group = falling", "reward"), "p_value"])
    assert not turns.loc[("group = flat", "reward"), "over_optimised"]


def test_the_link_evidence_carries_the_specs_names_of_the_mode_and_the_component(case):
    store, _ = case
    spec = parse_objective("""
objective: toy
components:
  - {id: rm, name: Reward model, kind: reward_model, why: helpful answers, serves: accuracy,
     signals: [{column: reward, direction: higher_is_better}], can_cause: [reward_hacking]}
modes:
  rename: {reward_hacking: {id: proxy_gaming, name: Gaming the reward}}
""")
    o = over_optimisation(store, "s", spec, by=["group"])
    evidence = o.link_evidence(spec)
    assert len(evidence) and list(evidence["description"]) == list(o.found()["description"])
    assert set(evidence["mode_name"]) == {"Gaming the reward"}  # the spec's name of reward_hacking
    assert set(evidence["mode"]) == {"proxy_gaming"} and evidence["can_cause"].all()  # its id after the rename
    assert set(evidence["component_name"]) == {"Reward model"} and set(evidence["signal"]) == {"reward"}
