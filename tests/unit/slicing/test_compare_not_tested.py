"""A comparison row that was not tested (too little support, outside the BH family; or no test possible) has the
verdict "not tested", never "not significant" (issue #12/#14 trial): in the table, the JSON of the CLI and its text, the
forest chart and the gate. Verdicts are recomputed here with statsmodels' McNemar and Benjamini-Hochberg."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ttest_rel
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from analysis import NOT_TESTED, compare_scores, figures, gate, slice_verdicts
from analysis.slicing.compare import compare_runs
from tests.unit.slicing.test_compare import cli, two_runs

pytestmark = pytest.mark.real_logs  # two_runs lives in a module that reads ../shared/fixtures


def _expected_verdicts(base: pd.DataFrame, cand: pd.DataFrame, min_support: int, fdr: float = 0.05) -> dict:
    """Per slice of ``lang`` (and the whole run): statsmodels' exact McNemar, BH over the tested rows only."""
    merged = base.merge(cand[["example_id", "correct"]], on="example_id", suffixes=("_b", "_c"))
    groups = [("(all examples)", merged)] + [(f"lang = {v}", g) for v, g in merged.groupby("lang")]
    rows = []
    for name, g in groups:
        b = int((g["correct_b"] & ~g["correct_c"]).sum())
        c = int((~g["correct_b"] & g["correct_c"]).sum())
        p = mcnemar([[0, b], [c, 0]], exact=True).pvalue if len(g) >= min_support else np.nan
        rows.append((name, len(g), (c - b) / len(g) * -1, p))
    tested = [r for r in rows if np.isfinite(r[3])]
    q = dict(zip([r[0] for r in tested], multipletests([r[3] for r in tested], method="fdr_bh")[1]))
    out = {}
    for name, _n, worse, _p in rows:
        if name not in q:
            out[name] = "not tested"
        elif q[name] < fdr:
            out[name] = "regressed" if worse > 0 else "improved"
        else:
            out[name] = "not significant"
    return out


@pytest.mark.parametrize("min_support", [30, 500])
def test_untested_rows_say_not_tested(store, min_support):
    base, cand = two_runs(store)
    table = compare_runs(store, "base", "cand", ["lang"], min_support=min_support).table
    got = dict(zip(table["description"], table["verdict"]))
    assert got == _expected_verdicts(base, cand, min_support)
    untested = table[table["verdict"] == NOT_TESTED]
    assert (min_support == 500) == (not untested.empty)
    assert untested["too_small"].all() and untested["q_value"].isna().all()
    assert "not significant" not in set(untested["verdict"])
    # the forest chart draws tested rows only; the gate never counts an untested row
    fig = figures.comparison_forest(table, max_drop=0.02)
    drawn = {y for trace in fig.data for y in trace.y}
    assert not any(d in drawn for d in untested["description"])
    result = gate(compare_runs(store, "base", "cand", ["lang"], min_support=min_support), max_drop=0.02)
    assert set(result.tested["verdict"]) <= {"regressed", "improved", "not significant"}


def test_a_graded_row_with_no_test_possible_is_not_tested(store):
    """A slice of a single scored pair has no paired t test (scipy gives NaN): not tested, even above min_support."""
    ids = [f"e{i}" for i in range(61)]
    lang = ["en"] * 30 + ["fr"] * 30 + ["sw"]
    rng = np.random.default_rng(3)
    b = rng.random(61)
    c = np.clip(b + np.where(np.array(lang) == "fr", -0.3, 0.0) + rng.normal(0, 0.05, 61), 0, 1)
    for name, s in (("b", b), ("c", c)):
        store.ingest_frame(pd.DataFrame({"example_id": ids, "prompt": ids, "lang": lang, "correct": s > 0.5,
                                         "score": s}), name=name, mapping={"correct": "correct", "score": "score"})
    table = compare_scores(store, "b", "c", "score", ["lang"], min_support=1).table.set_index("description")
    assert np.isnan(ttest_rel(c[-1:], b[-1:]).pvalue)  # the independent test has nothing to say either
    assert table.loc["lang = sw", "verdict"] == NOT_TESTED and not table.loc["lang = sw", "too_small"]
    fr = np.array(lang) == "fr"
    assert ttest_rel(c[fr], b[fr]).pvalue < 0.01 and table.loc["lang = fr", "verdict"] == "regressed"
    assert list(table["verdict"]).index(NOT_TESTED) == len(table) - 1  # not tested rows come last


def test_slice_verdicts_directly():
    got = slice_verdicts([False, True, False, False], [0.001, 0.001, np.nan, 0.2], [0.1, 0.1, 0.1, -0.1], fdr=0.05)
    assert got.tolist() == ["regressed", NOT_TESTED, NOT_TESTED, "not significant"]


def test_cli_json_and_text_say_not_tested(tmp_path):
    from analysis import open_store

    db = tmp_path / "n.duckdb"
    with open_store(db, seed_demo=False) as store:
        base, cand = two_runs(store)
    out = cli("compare", "--baseline", "base", "--candidate", "cand", "--by", "lang", "--min-support", "500",
              "--db", str(db), "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["slices"]
    expected = _expected_verdicts(base, cand, 500)
    assert sorted(r["verdict"] for r in rows) == sorted(expected.values())
    assert all(r["verdict"] == NOT_TESTED for r in rows if r["too_small"])
    text = cli("compare", "--baseline", "base", "--candidate", "cand", "--by", "lang", "--min-support", "500",
               "--db", str(db))
    assert text.returncode == 0 and "not tested" in text.stdout
