"""The demo series: its planted effects re-measured directly (pandas, scipy), and what Faultline recovers of them
(each planted effect found at the right run; nothing unrelated flagged)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from analysis.demo.generator import generate_demo
from analysis.demo.seed import demo_series_truth_path, ensure_demo_series
from analysis.demo.series import MIX_FROM, SERIES_NAME, STEPS, generate_series_demo
from analysis.paths import DATA_DIR
from analysis.series.mix import mix_along
from analysis.series.surrogate import over_optimisation
from analysis.series.trajectories import ALL, trajectories
from analysis.store import Store


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("series_demo") / "demo.duckdb")
    assert ensure_demo_series(store)
    assert not ensure_demo_series(store)  # once
    truth = json.loads(demo_series_truth_path(store).read_text(encoding="utf-8"))
    yield store, truth
    store.close()


def test_generation_is_deterministic_and_leaves_the_two_run_demo_alone():
    a, b = generate_series_demo(n_prompts=400), generate_series_demo(n_prompts=400)
    for name in a.runs:
        assert a.runs[name].equals(b.runs[name])
    # the two-run demo does not use this module: same seed, same frames as before
    assert generate_demo(n_prompts=300).runs["baseline"].equals(generate_demo(n_prompts=300).runs["baseline"])


def test_planted_effects_are_there_when_measured_directly():
    demo = generate_series_demo()
    frames = list(demo.runs.values())
    medical = [f.loc[f["domain"] == "medical", "correct"].mean() for f in frames]
    assert int(np.argmax(medical)) == 2
    helpful = [f["rm_helpfulness"].mean() for f in frames]
    assert all(x < y for x, y in zip(helpful, helpful[1:]))
    hindi = [f.loc[f["language"] == "hi", "correct"].mean() for f in frames]
    assert hindi[-1] < hindi[0] - 0.15
    shares = [(f["domain"] == "math").mean() for f in frames]
    assert shares[MIX_FROM] > 0.3 > 0.12 > shares[MIX_FROM - 1]
    before, after = frames[MIX_FROM - 1], frames[MIX_FROM]
    table = np.array([before["domain"].value_counts().sort_index(), after["domain"].value_counts().sort_index()])
    assert chi2_contingency(table).pvalue < 1e-10
    for domain in ("general", "legal", "code", "math"):  # flat within the domain across the mix shift
        ok = [f.loc[(f["domain"] == domain) & (f["language"] != "hi"), "correct"].mean() for f in (before, after)]
        assert abs(ok[1] - ok[0]) < 0.05


def test_the_truth_file_says_what_was_planted(seeded):
    store, truth = seeded
    assert truth["series"] == SERIES_NAME and truth["runs"] == [f"rlhf step-{s}" for s in STEPS]
    assert set(truth["planted"]) == {"over_optimisation", "drift", "mix_shift"}
    assert truth["planted"]["over_optimisation"]["peak_run"] == 2


def test_faultline_recovers_the_drift_and_flags_nothing_unrelated(seeded):
    store, truth = seeded
    t = trajectories(store, SERIES_NAME)
    planted = {f"language = {truth['planted']['drift']['slice']['language']}", "domain = medical"}
    flagged = set(t.drifting()["description"])
    assert planted <= flagged
    assert flagged - planted <= {ALL}, "only the planted slices (and the whole run) are unexplained drifts"
    hindi = t.slices.set_index("description").loc["language = hi"]
    assert hindi["direction"] == "down" and hindi["departure_direction"] == "worse"
    assert truth["planted"]["drift"]["starts_run"] <= hindi["first_departure"] <= 3
    for flat in truth["flat"]["language"]:
        row = t.slices.set_index("description").loc[f"language = {flat}"]
        assert not row["flagged"] or row["explained_by"] != ""


def test_faultline_finds_the_over_optimisation_turn_at_the_third_checkpoint(seeded):
    store, truth = seeded
    planted = truth["planted"]["over_optimisation"]
    o = over_optimisation(store, SERIES_NAME, DATA_DIR / "objective_demo.yaml")
    found = o.found()
    assert list(found["description"]) == ["domain = medical"]
    row = found.iloc[0]
    assert row["signal"] == planted["signal"] and row["component"] == planted["component"]
    assert row["turn"] == planted["peak_run"] and row["turn_label"] == truth["labels"][2]
    assert row["evidence"].startswith("over-optimised after step 3,000")
    from analysis.objective.spec import load_objective

    evidence = o.link_evidence(load_objective(DATA_DIR / "objective_demo.yaml"))
    assert evidence[["mode", "component", "kind"]].values.tolist() == [["reward_hacking", "rm_helpfulness",
                                                                         "over-optimisation"]]
    assert evidence["can_cause"].all()  # the spec says the helpfulness reward model can cause reward hacking


def test_faultline_finds_the_mix_shift_at_the_fifth_checkpoint_and_calls_it_composition(seeded):
    store, truth = seeded
    planted = truth["planted"]["mix_shift"]
    steps = mix_along(store, SERIES_NAME, ["domain", "language", "channel", "user_segment"])
    shifted = steps[steps["mix_shift"]]
    assert list(shifted["k"]) == [planted["run"]]
    row = shifted.iloc[0]
    # the over-optimisation and the drift go on at the fifth checkpoint: a small within part is the model's change
    assert row["attribute"] == planted["attribute"] and row["verdict"] in ("composition", "both")
    assert row["composition_high"] < 0 and abs(row["composition"]) > 2 * abs(row["within"])
    assert "composition" in row["sentence"] and "math went from 9% to 33%" in row["sentence"]
    # at the other steps the prompts are the same: no composition at all
    assert steps.loc[~steps["mix_shift"], "composition"].abs().max() < 1e-12
