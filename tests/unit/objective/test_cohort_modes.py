"""Failure modes within a cohort (``where=``): every count, indicator, example and statistic of the link is the
cohort's, checked against pandas on the run's rows filtered by the same condition, against sklearn's AUC on those
rows, and against the same analysis of a run that holds only the cohort's rows (a cohort is "as if the run held
nothing else")."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from analysis import FaultlineError, PredicateError
from analysis.cli import EXIT_ERROR, EXIT_OK, main
from analysis.objective.link import link, report_section
from analysis.objective.modes import (
    MSG_COHORT_MISMATCH,
    compile_modes,
    mode_counts,
    mode_examples,
    mode_indicators,
    modes_slices,
)
from analysis.objective.spec import parse_objective
from analysis.slicing.cohorts import save_cohort
from tests.conftest import ROOT
from tests.unit.objective._specs import PADDED
from tests.unit.objective._specs import RM_SPEC as SPEC

REFUSAL = "I'm sorry, but I can't help with that request."
WHERE = 'channel = "web"'


def frame(seed: int = 3) -> pd.DataFrame:
    """900 examples on two channels that differ: on the web, many padded wrong answers the reward model likes;
    through the API, refusals and a reward model that does not prefer the padded answers."""
    rng = np.random.default_rng(seed)
    rows = []
    for channel, n, p_pad, p_refuse, rm_pad in (("web", 500, 0.2, 0.04, 1.8), ("api", 400, 0.05, 0.15, -0.2)):
        kind = rng.choice(["pad", "refuse", "wrong", "ok"], size=n, p=[p_pad, p_refuse, 0.1, 0.9 - p_pad - p_refuse])
        for k in kind:
            rows.append({"channel": channel, "region": str(rng.choice(["north", "south", "east"])),
                         "response": {"pad": PADDED, "refuse": REFUSAL, "wrong": "Wrong.",
                                      "ok": "A short reference."}[k],
                         "correct": k == "ok",
                         "rm": float(rng.normal(rm_pad if k == "pad" else (0.0 if k == "ok" else -0.5), 1))})
    out = pd.DataFrame(rows)
    out.insert(0, "id", [f"x{i}" for i in range(len(out))])
    out["prompt"], out["gold"] = "q", "A short reference."
    return out


def ingest(store, data: pd.DataFrame, name: str) -> None:
    store.ingest_frame(data, name=name, mapping={"id": "id", "signals": ["rm"]})


@pytest.fixture
def run(store):
    data = frame()
    ingest(store, data, "r")
    return store, data


def test_mode_counts_under_a_cohort_equal_pandas_on_the_filtered_rows(run):
    store, data = run
    whole = mode_indicators(store, "r")  # every example, no cohort
    joined = whole.merge(data[["id", "channel"]].rename(columns={"id": "example_id"}), on="example_id")
    kept = joined[joined["channel"] == "web"]  # the cohort, filtered by pandas
    counts = mode_counts(store, "r", where=WHERE).set_index("mode")
    assert (counts["scored"] == len(kept)).all() and len(kept) == int((data["channel"] == "web").sum())
    for mode in counts.index:
        assert counts.loc[mode, "n"] == int(kept[mode].sum()), mode
        assert counts.loc[mode, "rate"] == pytest.approx(kept[mode].mean())
    # the cohort changes something: a test that cannot fail would not
    assert (mode_counts(store, "r").set_index("mode")["n"] != counts["n"]).any()
    inside = mode_indicators(store, "r", where=WHERE)
    pd.testing.assert_frame_equal(inside.reset_index(drop=True),
                                  kept[inside.columns].reset_index(drop=True), check_dtype=False)


def test_mode_examples_under_a_cohort_are_the_cohorts(run):
    store, data = run
    found = mode_examples(store, "r", None, "over_refusal", where=WHERE, limit=None)
    expected = data[(data["channel"] == "web") & (data["response"] == REFUSAL)]["id"]
    assert found["example_id"].tolist() == expected.tolist()
    assert len(mode_examples(store, "r", None, "over_refusal", limit=None)) > len(found)


def test_the_link_under_a_cohort_equals_the_link_of_a_run_holding_only_the_cohort(run):
    store, data = run
    spec = parse_objective(SPEC)
    ingest(store, data[data["channel"] == "web"].reset_index(drop=True), "web_only")
    inside = link(store, "r", spec, where=WHERE, by=["region"], min_support=20)
    alone = link(store, "web_only", spec, by=["region"], min_support=20)
    whole = link(store, "r", spec, by=["region"], min_support=20)
    columns = ["mode", "component", "verdict", "rule", "auc", "auc_low", "auc_high", "smd", "q_value", "n_fail", "n_ok"]
    pd.testing.assert_frame_equal(inside.cells[columns], alone.cells[columns])
    pd.testing.assert_frame_equal(inside.separation, alone.separation)
    pd.testing.assert_frame_equal(inside.counts, alone.counts)
    for mode, conc in inside.concentration.items():
        pd.testing.assert_frame_equal(conc.table.drop(columns="predicate"),
                                      alone.concentration[mode].table.drop(columns="predicate"))
    assert inside.settings["where"] == WHERE and "where" not in whole.settings
    assert not whole.cells[columns].equals(inside.cells[columns])  # the cohort changes the matrix


def test_the_separation_under_a_cohort_is_sklearns_auc_on_the_filtered_rows(run):
    store, data = run
    result = link(store, "r", parse_objective(SPEC), where=WHERE)
    web = data[data["channel"] == "web"]
    own = web["response"] == PADDED  # reward hacking and no other mode (the padded answers are wrong, not refusals)
    ok = web["correct"]
    row = result.cells.set_index(["mode", "component"]).loc[("reward_hacking", "rm")]
    assert (row["n_fail"], row["n_ok"]) == (int(own.sum()), int(ok.sum()))
    y = np.r_[np.ones(int(own.sum())), np.zeros(int(ok.sum()))]
    assert row["auc"] == pytest.approx(roc_auc_score(y, np.r_[web.loc[own, "rm"], web.loc[ok, "rm"]]), abs=1e-12)
    assert row["verdict"] == "implicated"


def test_where_a_mode_concentrates_under_a_cohort_counts_the_cohorts_rows(run):
    store, data = run
    conc = modes_slices(store, "r", None, ["over_refusal"], ["region"], where=WHERE, min_support=10)["over_refusal"]
    web = data[data["channel"] == "web"]
    assert (conc.total_n, conc.total_in_mode) == (len(web), int((web["response"] == REFUSAL).sum()))
    for row in conc.table.itertuples():
        region = row.values[0]
        part = web[web["region"] == region]
        assert (row.n, row.in_mode) == (len(part), int((part["response"] == REFUSAL).sum()))
    assert conc.settings["where"] == WHERE


def test_an_invalid_cohort_raises_the_rule_languages_error(run):
    store, _ = run
    with pytest.raises(PredicateError, match=r"Rule 'cohort', position 1: unknown field 'chanel'"):
        link(store, "r", parse_objective(SPEC), where='chanel = "web"')
    with pytest.raises(PredicateError):
        mode_counts(store, "r", where='channel = ')


def test_compiled_modes_of_another_cohort_are_refused(run):
    store, data = run
    compiled = compile_modes(store, "r", where=WHERE)
    assert mode_counts(store, "r", compiled=compiled, where=WHERE)["scored"].iloc[0] == (data["channel"] == "web").sum()
    with pytest.raises(FaultlineError) as err:
        mode_counts(store, "r", compiled=compiled, where='channel = "api"')
    assert str(err.value) == MSG_COHORT_MISMATCH.format(compiled=WHERE, where='channel = "api"')


def test_the_reports_failure_mode_section_follows_the_cohort(run, tmp_path):
    store, data = run
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    section = report_section(store, "r", objective=path, where=WHERE)
    web = data[data["channel"] == "web"]
    modes = {m["name"]: m for m in section["modes"]}
    refusals = int((web["response"] == REFUSAL).sum())
    over = next(m for name, m in modes.items() if "refus" in name.lower())
    assert over["n"] == refusals and over["rate"] == pytest.approx(refusals / len(web))
    assert section["settings"]["where"] == WHERE


def test_the_link_command_takes_where_and_a_saved_cohort(run, tmp_path, capsys):
    store, data = run
    save_cohort(store, "web", WHERE, author="ada")
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    db = str(store.path)
    store.close()
    base = ["link", "--db", db, "--run", "r", "--objective", str(path), "--json"]
    assert main([*base, "--where", WHERE]) == EXIT_OK
    by_text = json.loads(capsys.readouterr().out)
    assert main([*base, "--cohort", "web"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == by_text
    web = data[data["channel"] == "web"]
    refusals = next(m for m in by_text["modes"] if m["mode"] == "over_refusal")
    assert (refusals["n"], refusals["scored"]) == (int((web["response"] == REFUSAL).sum()), len(web))
    out = subprocess.run([sys.executable, "-m", "analysis", *base, "--where", "chanel = 1"], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert out.returncode == EXIT_ERROR and "unknown field 'chanel'" in out.stderr
