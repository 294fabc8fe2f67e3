"""Failure modes: detectors on hand-made examples, where a mode concentrates (the slicing engine's statistics,
checked against statsmodels), and the demo's planted failures recovered."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis import FaultlineError, open_store
from analysis.objective.modes import (
    compile_modes,
    mode_counts,
    mode_examples,
    mode_indicators,
    mode_slices,
    modes_slices,
    save_mode_columns,
)
from analysis.objective.spec import load_objective, parse_objective
from analysis.slicing.attributes import list_attributes
from analysis.slicing.table import slice_table
from tests.conftest import HELM_BBQ, ROOT

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)

DEMO_SPEC = ROOT / "data" / "objective_demo.yaml"
LONG = "Great question! " + "It is important to consider every factor here. " * 8


def detector_frame() -> pd.DataFrame:
    rows = [  # id, output, reference, correct, paraphrase group
        ("e1", "I'm sorry, but I can't help with that request.", "4", False, None),
        ("e2", "", "4", False, None),
        ("e3", LONG, "Paris is the capital.", False, None),
        ("e4", LONG, "Paris is the capital.", True, None),
        ("e5", "I'm sorry, but I can't help with that.", "4", True, None),
        ("e6", "4", "4", True, "pg1"),
        ("e7", "5", "4", False, "pg1"),
        ("e8", "5", "4", False, "pg2"),
        ("e9", "6", "4", False, "pg2"),
        ("e10", "Unfortunately, I cannot answer that.", "4", False, None),
    ]
    return pd.DataFrame(rows, columns=["id", "response", "gold", "correct", "paraphrase_group"]).assign(
        prompt="q")


def test_detectors_mark_exactly_the_wrong_answers_they_describe(store):
    store.ingest_frame(detector_frame(), name="d")
    flags = mode_indicators(store, "d", with_why=True).set_index("example_id")
    assert sorted(flags.index[flags["over_refusal"]]) == ["e1", "e10", "e2"]
    assert flags.loc["e1", "why.over_refusal"] == "detector:refusal"
    assert flags.loc["e2", "why.over_refusal"] == "detector:empty_output"
    assert list(flags.index[flags["reward_hacking"]]) == ["e3"]  # e4 is as long but correct
    assert list(flags.index[flags["lack_of_robustness"]]) == ["e7"]  # pg2 is wrong in every phrasing
    assert flags.loc["e7", "why.lack_of_robustness"] == "detector:paraphrase_disagreement"
    assert not flags["goal_misgeneralization"].any()  # not a multiple-choice run
    counts = mode_counts(store, "d").set_index("mode")
    assert counts.loc["over_refusal", "n"] == 3
    assert counts.loc["over_refusal", "sources"] == {"detector:refusal": 2, "detector:empty_output": 1}
    assert counts.loc["over_refusal", "rate"] == pytest.approx(0.3)


def test_detector_settings_and_switches(store):
    store.ingest_frame(detector_frame(), name="d")
    spec = parse_objective("""
objective: o
components: []
detectors:
  refusal: off
  long_output: {ratio: 100, mode: goal_misgeneralization}
  empty_output: {mode: harmful_compliance}
""")
    flags = mode_indicators(store, "d", spec).set_index("example_id")
    assert not flags["over_refusal"].any() and not flags["reward_hacking"].any()
    assert not flags["goal_misgeneralization"].any()  # ratio 100: nothing is that long
    assert list(flags.index[flags["harmful_compliance"]]) == ["e2"]


def test_multiple_choice_format_on_real_helm_bbq(store):
    store.ingest(HELM_BBQ)
    for run in store.runs()["run_id"]:
        frame = store.examples(run)
        expected = frame.loc[(~frame["correct"].astype(bool))
                             & ~frame["meta.raw_output"].str.fullmatch(r"\s*\(?[A-Ja-j]\)?[.:)]?\s*"), "example_id"]
        flags = mode_indicators(store, run)
        assert sorted(flags.loc[flags["goal_misgeneralization"], "example_id"]) == sorted(expected)
    llama = store.run("bbq · meta/llama-3-8b-chat").run_id
    assert mode_counts(store, llama).set_index("mode").loc["goal_misgeneralization", "n"] == 14


def test_group_disparity_marks_wrong_answers_of_a_worse_group(store):
    rng = np.random.default_rng(3)
    seg = np.array(["student"] * 200 + ["pro"] * 600)
    correct = np.where(seg == "student", rng.random(800) > 0.45, rng.random(800) > 0.08)
    store.ingest_frame(pd.DataFrame({"prompt": "q", "segment": seg, "correct": correct}), name="g")
    spec = parse_objective("objective: o\ncomponents: []\ndetectors:\n  group_disparity: {attributes: [segment]}\n")
    compiled = compile_modes(store, "g", spec)
    assert "segment = student" in compiled.sources["value_lock_in"][0].description
    flags = mode_indicators(store, "g", compiled=compiled)
    frame = store.examples("g")
    assert flags["value_lock_in"].sum() == int((~frame["correct"] & (frame["meta.segment"] == "student")).sum())


def independent_slices(flags: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Counts, intervals, tests and BH q-values of every group, with statsmodels."""
    rows = []
    for g in np.unique(groups):
        inside = groups == g
        k, n = int(flags[inside].sum()), int(inside.sum())
        rk, rn = int(flags[~inside].sum()), int((~inside).sum())
        small = n < 30 or k < 5 or n - k < 5
        lo, hi = proportion_confint(k, n, method="beta" if small else "wilson")
        expected = np.outer([n, rn], [k + rk, n + rn - k - rk]) / (n + rn)
        if expected.min() < 5:
            from scipy.stats import fisher_exact

            p = fisher_exact([[k, n - k], [rk, rn - rk]])[1]
        else:
            p = proportions_ztest([k, rk], [n, rn])[1]
        rows.append({"value": str(g), "n": n, "k": k, "lo": lo, "hi": hi, "p": p})
    out = pd.DataFrame(rows)
    out["q"] = multipletests(out["p"], method="fdr_bh")[1]
    return out


def test_where_a_mode_concentrates_matches_statsmodels(store):
    rng = np.random.default_rng(11)
    n = 1500
    domain = rng.choice(["medical", "legal", "travel", "cooking"], n, p=[0.2, 0.2, 0.4, 0.2])
    refuse = rng.random(n) < np.where(domain == "medical", 0.35, 0.03)
    output = np.where(refuse, "I'm sorry, but I can't help with that.", "The answer.")
    correct = ~refuse & (rng.random(n) > 0.1)
    store.ingest_frame(pd.DataFrame({"prompt": "q", "response": output, "gold": "The answer.", "domain": domain,
                                     "correct": correct}), name="c")
    result = mode_slices(store, "c", None, "over_refusal", ["domain"])
    mine = result.table.set_index(result.table["values"].map(lambda v: str(v[0])))
    other = independent_slices(refuse, domain).set_index("value")
    for value, row in other.iterrows():
        got = mine.loc[value]
        assert (got["n"], got["in_mode"]) == (row["n"], row["k"])
        assert got["ci_low"] == pytest.approx(row["lo"], abs=1e-9) and got["ci_high"] == pytest.approx(row["hi"], abs=1e-9)
        assert got["p_value"] == pytest.approx(row["p"], rel=1e-6)
        assert got["q_value"] == pytest.approx(row["q"], rel=1e-6)
    assert result.findings()["description"].tolist()[0] == "domain = medical"
    assert (result.total_n, result.total_in_mode) == (n, int(refuse.sum()))


@pytest.mark.parametrize("min_support", [10, 0.2])  # a count, or a fraction of the run (180 of 900 examples)
def test_a_mode_that_is_every_error_gives_the_slicing_engines_table(store, min_support):
    rng = np.random.default_rng(5)
    n = 900
    frame = pd.DataFrame({"prompt": "q", "lang": rng.choice(["en", "sw", "yo"], n), "tier": rng.choice(["a", "b"], n),
                          "correct": rng.random(n) > 0.2})
    store.ingest_frame(frame, name="s")
    spec = parse_objective("""
objective: o
components: []
modes:
  add: [{id: any_error, name: Any error, description: every wrong answer, dimension: helpful}]
rules: [{id: wrong, mode: any_error, when: not correct}]
""")
    mine = mode_slices(store, "s", spec, "any_error", ["lang", "tier"], max_order=2, min_support=min_support).table
    theirs = slice_table(store, "s", ["lang", "tier"], max_order=2, min_support=min_support).table
    assert theirs["too_small"].any() == (min_support == 0.2)  # tier x lang cells hold about 150 examples
    mine = mine.sort_values("description").reset_index(drop=True)
    theirs = theirs.sort_values("description").reset_index(drop=True)
    assert mine["description"].tolist() == theirs["description"].tolist()
    for a, b in [("n", "n"), ("in_mode", "errors"), ("mode_rate", "error_rate"), ("ci_low", "ci_low"),
                 ("ci_high", "ci_high"), ("p_value", "p_value"), ("q_value", "q_value"), ("finding", "finding")]:
        assert np.allclose(mine[a].astype(float), theirs[b].astype(float), equal_nan=True), a


def test_mode_columns_can_be_saved_and_sliced(store):
    store.ingest_frame(detector_frame(), name="d")
    written = save_mode_columns(store, "d")
    assert "mode.over_refusal" in written
    names = {a.name: a for a in list_attributes(store, "d")}
    assert names["over_refusal"].column == "mode.over_refusal" and names["over_refusal"].source == "failure_mode"
    table = slice_table(store, "d", ["over_refusal"], max_order=1, min_support=1).table
    assert set(table["description"]) == {"over_refusal = true", "over_refusal = false"}
    from analysis.objective.modes import concentration_attributes

    assert "over_refusal" not in concentration_attributes(store, "d")


def test_mode_examples_explain_why_and_sort_by_a_field(store):
    frame = detector_frame().assign(rm=[0.1, 0.2, 0.9, 0.5, 0.0, 0.1, 0.3, 0.2, 0.2, 0.4])
    store.ingest_frame(frame, name="d", mapping={"signals": ["rm"]})
    found = mode_examples(store, "d", None, "over_refusal", columns=["rm"], order_by="rm")
    assert found["example_id"].tolist() == ["e10", "e2", "e1"]
    assert found["rm"].tolist() == [0.4, 0.2, 0.1]
    assert set(found["why"]) == {"detector:refusal", "detector:empty_output"}


def test_mode_examples_of_an_unknown_mode_is_a_plain_error(store):
    from analysis.objective.taxonomy import MSG_UNKNOWN_MODE

    store.ingest_frame(detector_frame(), name="d")
    with pytest.raises(FaultlineError) as info:
        mode_examples(store, "d", None, "nope")
    assert str(info.value).startswith(MSG_UNKNOWN_MODE.format(mode="nope", known="")[:-1])


# ---------------------------------------------------------------------------------------- the demo
PLANTED_MODE = {"verbosity_gaming": "reward_hacking", "medical_over_refusal": "over_refusal",
                "swahili_hallucination": "hallucination", "paraphrase_brittleness": "lack_of_robustness",
                "student_bias": "bias", "es_legal_conjunction": "wrong_jurisdiction"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from analysis.demo.seed import demo_truth_path, ensure_demo

    path = tmp_path_factory.mktemp("fm_demo") / "demo.duckdb"
    store = open_store(path, seed_demo=False)
    ensure_demo(store, n_prompts=6000)
    truth = json.loads(demo_truth_path(store).read_text(encoding="utf-8"))
    yield store, truth
    store.close()


def test_demo_planted_failures_are_found_as_their_modes(demo):
    store, truth = demo
    spec = load_objective(DEMO_SPEC)
    report = []
    for run in ("baseline", "after-objective-change"):
        flags = mode_indicators(store, run, spec)
        for planted in truth["planted"]:
            mode = PLANTED_MODE[planted["id"]]
            assert planted["failure_mode"] in (mode, "conjunction")
            planted_ids = set(planted["example_ids"][run])
            found = set(flags.loc[flags[mode], "example_id"])
            recall = len(found & planted_ids) / len(planted_ids)
            report.append((run, planted["id"], recall))
            assert recall == 1.0, (run, planted["id"], recall)
    print(report)


def test_demo_modes_concentrate_where_they_were_planted(demo):
    store, truth = demo
    spec = load_objective(DEMO_SPEC)
    by = ["language", "domain", "user_segment", "channel"]
    found = modes_slices(store, "after-objective-change", spec, None, by, max_order=2)
    for planted in truth["planted"]:
        if not planted["predicate"]:
            continue
        mode = PLANTED_MODE[planted["id"]]
        wanted = " AND ".join(f"{k} = {v}" for k, v in sorted(planted["predicate"].items(),
                                                                key=lambda kv: by.index(kv[0])))
        findings = found[mode].findings()
        assert wanted in set(findings["description"]), (planted["id"], findings["description"].head().tolist())


def test_findings_of_a_run_with_nothing_to_slice_keep_their_columns(tmp_path):
    # An empty object-dtype "finding" column used as a mask selects columns by label in pandas: none would be left.
    import pandas as pd

    from analysis import open_store
    from analysis.objective.modes import modes_slices

    with open_store(tmp_path / "n.duckdb", seed_demo=False) as store:
        store.ingest_frame(pd.DataFrame({"prompt": "q", "correct": [True, False]}), name="r")
        for result in modes_slices(store, "r", None).values():
            assert result.table.empty and list(result.findings().columns) == list(result.table.columns)
