"""Two-run comparison and the regression gate, against statsmodels' McNemar and direct computations."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from analysis import FaultlineError
from analysis.slicing.compare import ALL, compare_runs, gate
from tests.conftest import OPENAI_EVALS, ROOT

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


def two_runs(store, n=2000, seed=1, drop_ids=0):
    rng = np.random.default_rng(seed)
    ids = [f"x{i}" for i in range(n)]
    lang = rng.choice(["en", "sw", "fr"], size=n, p=[0.6, 0.2, 0.2])
    base_ok = rng.random(n) > 0.15
    cand_ok = base_ok.copy()
    flip = (lang == "sw") & (rng.random(n) < 0.25)
    cand_ok[flip] = False
    fixed = (lang == "fr") & (rng.random(n) < 0.5)
    cand_ok[fixed] = True
    scores_b = np.clip(base_ok + rng.normal(0, 0.2, n), 0, 1)
    scores_c = np.clip(cand_ok + rng.normal(0, 0.2, n), 0, 1)
    base = pd.DataFrame({"example_id": ids, "prompt": ids, "lang": lang, "correct": base_ok, "score": scores_b})
    cand = pd.DataFrame({"example_id": ids, "prompt": ids, "lang": lang, "correct": cand_ok, "score": scores_c})
    cand = cand.iloc[drop_ids:]
    store.ingest_frame(base, name="base", mapping={"correct": "correct", "score": "score"})
    store.ingest_frame(cand, name="cand", mapping={"correct": "correct", "score": "score"})
    return base, cand


def test_min_support_as_a_fraction_of_the_matched_pairs(store):
    two_runs(store, drop_ids=50)
    as_fraction = compare_runs(store, "base", "cand", ["lang"], min_support=0.2)  # of 1,950 pairs: 390
    as_count = compare_runs(store, "base", "cand", ["lang"], min_support=390)
    pd.testing.assert_frame_equal(as_fraction.table, as_count.table)
    rows = as_fraction.table.set_index("description")
    assert rows.loc["lang = sw", "too_small"] and not rows.loc["lang = fr", "too_small"]  # 383 and 396 pairs
    assert as_fraction.settings["min_support"] == 0.2


def test_paired_counts_tests_and_verdicts(store):
    base, cand = two_runs(store, drop_ids=50)
    comparison = compare_runs(store, "base", "cand", ["lang"], min_support=30)
    assert (comparison.matched, comparison.only_baseline, comparison.only_candidate) == (1950, 50, 0)
    merged = base.merge(cand[["example_id", "correct", "score"]], on="example_id", suffixes=("_b", "_c"))
    rows = comparison.table.set_index("description")
    p_values = {}
    for name, sub in [(ALL, merged)] + [(f"lang = {v}", g) for v, g in merged.groupby("lang")]:
        row = rows.loc[name]
        b = int((sub["correct_b"] & ~sub["correct_c"]).sum())
        c = int((~sub["correct_b"] & sub["correct_c"]).sum())
        assert (row["n"], row["b"], row["c"]) == (len(sub), b, c)
        expected_p = mcnemar([[0, b], [c, 0]], exact=True).pvalue
        assert row["p_value"] == pytest.approx(expected_p, rel=1e-10)
        p_values[name] = expected_p
        assert row["difference"] == pytest.approx((~sub["correct_c"]).mean() - (~sub["correct_b"]).mean())
        # Wald interval of the paired difference, computed directly
        d = (b - c) / len(sub)
        se = np.sqrt(b + c - (b - c) ** 2 / len(sub)) / len(sub)
        assert row["ci_low"] == pytest.approx(d - 1.959963984540054 * se, abs=1e-12)
        assert row["ci_high"] == pytest.approx(d + 1.959963984540054 * se, abs=1e-12)
    names = list(p_values)
    q = multipletests([p_values[k] for k in names], method="fdr_bh")[1]
    for name, expected_q in zip(names, q):
        assert rows.loc[name, "q_value"] == pytest.approx(expected_q, rel=1e-10)
    assert rows.loc["lang = sw", "verdict"] == "regressed"
    assert rows.loc["lang = fr", "verdict"] == "improved"
    assert comparison.table.iloc[0]["verdict"] == "regressed"  # ordered by regression


def test_the_paired_interval_never_leaves_the_range_of_a_difference_of_rates():
    from analysis.slicing.compare import paired_difference_interval

    b, c, n = np.array([0, 13, 5, 30]), np.array([13, 0, 5, 10]), np.array([14, 14, 40, 200])
    low, high = paired_difference_interval(b, c, n)
    d = (b - c) / n
    se = np.sqrt(b + c - (b - c) ** 2 / n) / n
    wald_low, wald_high = d - 1.959963984540054 * se, d + 1.959963984540054 * se
    assert wald_low[0] < -1 and wald_high[1] > 1  # the plain Wald interval passes the bounds here
    assert low == pytest.approx(np.clip(wald_low, -1, 1)) and high == pytest.approx(np.clip(wald_high, -1, 1))
    assert (low >= -1).all() and (high <= 1).all() and (low <= d).all() and (d <= high).all()

def test_rows_come_findings_first_and_untested_last(store):
    two_runs(store)
    for min_support, expected in [(100, {"regressed", "improved", "not significant"}),
                                  (500, {"regressed", "not significant", "not tested"})]:
        table = compare_runs(store, "base", "cand", ["lang"], min_support=min_support).table
        assert set(table["verdict"]) == expected and table["too_small"].any() == (min_support == 500)
        assert (table["verdict"] == "not tested").tolist() == table["too_small"].tolist()
        rank = table["verdict"].map({"regressed": 0, "improved": 1, "not significant": 2, "not tested": 3})
        assert (np.diff(rank) >= 0).all()  # regressions, improvements, unchanged, not tested

def test_gate(store):
    two_runs(store)
    comparison = compare_runs(store, "base", "cand", ["lang"])
    strict = gate(comparison, max_drop=0.02)
    assert not strict.passed and "lang = sw" in set(strict.breaking["description"])
    assert "lang = fr" not in set(strict.breaking["description"])  # improved slices never break a gate
    lenient = gate(comparison, max_drop=0.5)
    assert lenient.passed and lenient.breaking.empty
    with pytest.raises(FaultlineError, match="Invalid 'max_drop' parameter"):
        gate(comparison, max_drop=1.5)


def test_same_run_and_no_shared_examples(store):
    store.ingest(OPENAI_EVALS / "examples_crossword-turbo.jsonl")
    store.ingest(OPENAI_EVALS / "examples_us-tort-law-turbo.jsonl")
    runs = store.runs()
    with pytest.raises(FaultlineError, match="same run"):
        compare_runs(store, runs.run_id[0], runs.run_id[0])
    with pytest.raises(FaultlineError, match="share no example ids"):
        compare_runs(store, runs.run_id[0], runs.run_id[1])


def test_real_run_versus_run_openai_evals(store):
    a = store.ingest(OPENAI_EVALS / "examples_crossword-turbo-0301.jsonl").added[0]
    b = store.ingest(OPENAI_EVALS / "examples_crossword-turbo.jsonl").added[0]
    comparison = compare_runs(store, a.run_id, b.run_id, [], min_support=10)
    overall = comparison.overall()
    ea = store.examples(a.run_id).set_index("example_id")["correct"]
    eb = store.examples(b.run_id).set_index("example_id")["correct"]
    assert overall["n"] == 100
    assert overall["b"] == int((ea & ~eb.loc[ea.index]).sum())
    assert overall["c"] == int((~ea & eb.loc[ea.index]).sum())


def test_demo_planted_regression_is_flagged(tmp_path):
    from analysis import open_store
    from analysis.demo.seed import demo_truth_path, ensure_demo

    with open_store(tmp_path / "demo.duckdb", seed_demo=False) as store:
        ensure_demo(store, n_prompts=6000)
        truth = json.loads(demo_truth_path(store).read_text())
        comparison = compare_runs(store, truth["regression"]["baseline"], truth["regression"]["candidate"],
                                  ["domain", "channel"])
        verdicts = dict(zip(comparison.table["description"], comparison.table["verdict"]))
        for planted in truth["regression"]["slices"]:
            (attr, value), = planted.items()
            assert verdicts[f"{attr} = {value}"] == "regressed"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_cli_compare_and_gate_exit_codes(tmp_path):
    from analysis import open_store

    db = tmp_path / "g.duckdb"
    with open_store(db, seed_demo=False) as store:
        two_runs(store)
    out = cli("compare", "--baseline", "base", "--candidate", "cand", "--by", "lang", "--db", str(db), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["matched"] == 2000 and {s["verdict"] for s in data["slices"]} == {"regressed", "improved", "not significant"}
    failing = cli("gate", "--baseline", "base", "--candidate", "cand", "--by", "lang", "--max-drop", "0.02",
                  "--db", str(db))
    assert failing.returncode == 1 and "BREAKS  lang = sw" in failing.stdout
    passing = cli("gate", "--baseline", "base", "--candidate", "cand", "--by", "lang", "--max-drop", "0.5",
                  "--db", str(db), "--json")
    assert passing.returncode == 0 and json.loads(passing.stdout)["passed"] is True
    missing = cli("gate", "--baseline", "nope", "--candidate", "cand", "--db", str(db))
    assert missing.returncode == 2 and "No run named" in missing.stderr


def test_cli_slices_json(tmp_path):
    from analysis import open_store

    db = tmp_path / "s.duckdb"
    with open_store(db, seed_demo=False) as store:
        two_runs(store)
    out = cli("slices", "--run", "base", "--by", "lang", "--db", str(db), "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["slices"]
    for row in rows:
        assert {"predicate", "n", "errors", "error_rate", "ci_low", "ci_high", "p_value", "q_value"} <= set(row)
    assert {tuple(p["value"] for p in r["predicate"]) for r in rows} == {("en",), ("sw",), ("fr",)}


@pytest.mark.parametrize("confidence", [1.5, 0, 1, True, "0.95"])
def test_a_confidence_outside_0_1_is_refused_not_turned_into_nan_intervals(store, confidence):
    from analysis.slicing.params import MSG_CONFIDENCE

    two_runs(store, n=200)
    with pytest.raises(FaultlineError) as info:
        compare_runs(store, "base", "cand", ["lang"], confidence=confidence)
    assert str(info.value) == MSG_CONFIDENCE.format(value=confidence)
