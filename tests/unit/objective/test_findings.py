"""Findings: evidence captured at pin time (checked against pandas and statsmodels), append-only withdrawal,
recomputation from the kept settings, export, and the figure rows and sentences made from the evidence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from analysis import FaultlineError
from analysis.objective.findings import (
    evidence_frame,
    export_findings,
    finding_sentence,
    findings,
    get_finding,
    pin_comparison,
    pin_finding,
    pin_slice,
    recompute_finding,
    withdraw_finding,
)
from analysis.store import Store


def frame(seed=0, n=1200, shift=0.0):
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw"], size=n, p=[0.7, 0.3])
    domain = rng.choice(["legal", "chat"], size=n)
    correct = rng.random(n) >= 0.15 + 0.25 * (lang == "sw") + shift * (domain == "legal")
    return pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n, "lang": lang,
                         "domain": domain, "correct": correct})


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "f.duckdb")
    s.ingest_frame(frame(0), name="base")
    s.ingest_frame(frame(0).assign(correct=frame(1, shift=0.2)["correct"]), name="cand")
    yield s
    s.close()


def test_slice_evidence_matches_pandas_and_statsmodels(store):
    f = frame(0)
    pinned = pin_slice(store, "base", {"lang": "sw"}, author="ada", note="sw is worse",
                       where='domain = "legal"', settings={"min_support": 20})
    part = f[f["domain"] == "legal"]
    inside = part[part["lang"] == "sw"]
    n, errors = len(inside), int((~inside["correct"]).sum())
    rest_errors = int((~part["correct"]).sum()) - errors
    e = pinned.evidence
    assert (e["n"], e["errors"]) == (n, errors)
    assert e["error_rate"] == pytest.approx(errors / n)
    assert e["rest_error_rate"] == pytest.approx(rest_errors / (len(part) - n))
    assert (e["ci_low"], e["ci_high"]) == pytest.approx(proportion_confint(errors, n, method="wilson"))
    assert pinned.cohort == 'domain = "legal"' and pinned.settings["min_support"] == 20
    assert recompute_finding(store, pinned.finding_id) == e


def test_comparison_evidence_counts_match_pandas(store):
    base, cand = frame(0), frame(1, shift=0.2)
    pinned = pin_comparison(store, "base", "cand", {"domain": "legal"}, author="ada")
    legal = base["domain"] == "legal"
    b = int((base["correct"] & ~cand["correct"] & legal).sum())
    c = int((~base["correct"] & cand["correct"] & legal).sum())
    assert (pinned.evidence["b"], pinned.evidence["c"], pinned.evidence["n"]) == (b, c, int(legal.sum()))
    assert pinned.baseline_run_id == store.run("base").run_id and pinned.kind == "comparison"
    whole = pin_comparison(store, "base", "cand", {}, author="ada")
    assert whole.evidence["n"] == len(base) and whole.title == "(all examples)"
    assert recompute_finding(store, whole.finding_id) == whole.evidence


def test_withdraw_is_append_only(store, tmp_path):
    kept = pin_finding(store, "base", kind="cluster", target={"cluster": "3"}, author="ada",
                       evidence={"n": 40, "errors": 20, "error_rate": 0.5, "ci_low": 0.35, "ci_high": 0.65,
                                 "q_value": 0.01, "finding": True}, note="refusals")
    gone = pin_finding(store, "base", kind="cell", target={"mode": "hallucination", "component": "rm"},
                       author="ada", evidence={"auc": 0.81, "verdict": "implicated"})
    back = withdraw_finding(store, gone.finding_id, author="bo", note="a duplicate")
    assert back.withdraws == gone.finding_id
    listed = findings(store)
    assert list(listed["finding_id"]) == [kept.finding_id]
    everything = findings(store, include_withdrawn=True)
    assert len(everything) == 3 and bool(everything.set_index("finding_id").loc[gone.finding_id, "withdrawn"])
    assert get_finding(store, gone.finding_id).title == "hallucination x rm"
    with pytest.raises(FaultlineError, match="cannot be recomputed"):
        recompute_finding(store, kept.finding_id)
    path = tmp_path / "out" / "findings.json"
    assert export_findings(store, path) == 3
    rows = json.loads(path.read_text(encoding="utf-8"))
    assert {r["finding_id"] for r in rows} == {kept.finding_id, gone.finding_id, back.finding_id}
    assert export_findings(store, tmp_path / "f.csv") == 3


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"author": " "}, "needs an author"),
    ({"kind": "bar"}, "a slice, a cluster, a cell or a comparison"),
    ({"target": {}}, "non-empty mapping"),
    ({"evidence": {}}, "needs its evidence numbers"),
    ({"kind": "comparison"}, "needs its baseline run"),
])
def test_bad_findings_write_nothing(store, kwargs, message):
    args = {"kind": "cluster", "target": {"cluster": "1"}, "author": "ada", "evidence": {"n": 1}, **kwargs}
    with pytest.raises(FaultlineError, match=message):
        pin_finding(store, "base", **args)
    assert findings(store).empty


def test_a_slice_that_is_not_in_the_analysis(store):
    with pytest.raises(FaultlineError, match="has no slice"):
        pin_slice(store, "base", {"lang": "sw", "domain": "legal"}, author="ada", settings={"max_order": 1,
                                                                                             "attributes": ["lang"]})


def test_sentence_and_figure_rows(store):
    pinned = pin_slice(store, "base", {"lang": "sw"}, author="ada")
    text = finding_sentence(pinned.kind, pinned.title, pinned.evidence)
    e = pinned.evidence
    assert text.startswith(f"lang = sw: {e['errors']:,} of {e['n']:,} answers wrong ({100 * e['error_rate']:.1f}%")
    assert "points worse" in text
    row = evidence_frame(pinned.kind, pinned.title, pinned.evidence)
    assert row[["n", "error_rate"]].iloc[0].tolist() == [e["n"], e["error_rate"]]
    compared = pin_comparison(store, "base", "cand", {"domain": "legal"}, author="ada")
    row = evidence_frame(compared.kind, compared.title, compared.evidence)
    assert row["verdict"].iloc[0] == compared.evidence["verdict"]
    assert "newly wrong" in finding_sentence("comparison", compared.title, compared.evidence, cohort="x = 1")
    assert evidence_frame("cell", "a x b", {"auc": 0.8}).empty


def test_a_matrix_cell_finding_reads_as_a_sentence_not_a_dump():
    from analysis import finding_sentence

    evidence = {"verdict": "implicated", "relation": "rewards_failure", "rule": "the component rewards this failure",
                "signal": "reward.helpfulness", "auc": 0.970089123, "auc_low": 0.951, "auc_high": 0.983,
                "smd": 1.234567, "q_value": 6.9e-42, "n_fail": 1234.0, "n_ok": 16432.0}
    text = finding_sentence("cell", "Reward hacking x helpfulness RM", evidence)
    assert text.startswith("Reward hacking x helpfulness RM: implicated (the component rewards this failure).")
    assert "probability 0.97 (preference AUC, 95% interval 0.95 to 0.98; Cohen's d 1.23)" in text
    assert "1,234 failing and 16,432 passing examples (q = 6.9e-42)" in text
    assert "0.970089" not in text and "16432.0" not in text and "n_ok" not in text
    # a rule stored by its id reads in words (the trial's review mode showed "not implicated (not_rewarded)")
    from analysis.objective.link import RULE_WORDS, RULES

    for rule, verdict in RULES.items():
        said = finding_sentence("cell", "m x c", {**evidence, "verdict": verdict, "rule": rule})
        assert said.startswith(f"m x c: {verdict} ({RULE_WORDS[rule]}).") and "_" not in said.split(".")[0]
