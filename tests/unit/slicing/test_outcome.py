"""A graded outcome (``slice_table(outcome="score.f1")``) against pandas, scipy's Welch test and t interval, and
statsmodels' Benjamini-Hochberg."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis import FaultlineError
from analysis.slicing.table import slice_table
from analysis.store import Store


def make_frame(n=1600, seed=2):
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw", "fr"], size=n, p=[0.5, 0.3, 0.2])
    domain = rng.choice(["legal", "chat"], size=n)
    f1 = np.clip(rng.beta(5, 2, size=n) - 0.25 * (lang == "sw") * (domain == "legal"), 0, 1).round(4)
    f1 = f1.astype(object)
    f1[rng.random(n) < 0.05] = None  # unscored examples are left out of the score's slices
    return pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n, "lang": lang,
                         "domain": domain, "correct": rng.random(n) > 0.2, "f1": f1})


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "o.duckdb")
    s.ingest_frame(make_frame(), name="r", mapping={"score": "f1", "correct": "correct"})
    yield s
    s.close()


def independent(frame, attrs, min_support, mask=None):
    frame = frame if mask is None else frame[mask]
    scored = frame.dropna(subset=["f1"]).assign(f1=lambda f: f["f1"].astype(float))
    least, greatest = scored["f1"].min(), scored["f1"].max()  # intervals are cut at the scores the run holds
    rows = []
    for k in (1, 2):
        for combo in itertools.combinations(attrs, k):
            for values, part in scored.groupby(list(combo)):
                values = values if isinstance(values, tuple) else (values,)
                rest = scored.drop(part.index)
                x, y = part["f1"].to_numpy(), rest["f1"].to_numpy()
                low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
                low, high = max(low, least), min(high, greatest)
                tested = len(x) >= min_support
                rows.append({"predicate": dict(zip(combo, values)), "n": len(x), "mean": x.mean(),
                             "ci_low": low, "ci_high": high, "rest_mean": y.mean(),
                             "p_value": stats.ttest_ind(x, y, equal_var=False).pvalue if tested else np.nan})
    table = pd.DataFrame(rows)
    tested = table["p_value"].notna()
    table["q_value"] = np.nan
    table.loc[tested, "q_value"] = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    return table


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:One or more sample arguments is too small")  # an empty rest
@pytest.mark.parametrize(("outcome", "where", "mask"), [
    ("score", None, None),
    ("score", 'domain = "legal"', lambda f: f["domain"] == "legal"),
])
def test_graded_slices_match_scipy_and_statsmodels(store, outcome, where, mask):
    frame = make_frame()
    result = slice_table(store, "r", ["lang", "domain"], outcome=outcome, min_support=40, where=where)
    got = result.table
    want = independent(frame, ["lang", "domain"], 40, None if mask is None else mask(frame))
    key = lambda t: [tuple(sorted(p.items())) for p in t["predicate"]]  # noqa: E731
    got = got.assign(_k=key(got)).set_index("_k")
    want = want.assign(_k=key(want)).set_index("_k")
    want = want[want["n"] > 0]
    assert sorted(got.index) == sorted(want.index)
    got = got.loc[want.index]
    for column in ("n", "mean", "ci_low", "ci_high", "rest_mean", "p_value", "q_value"):
        np.testing.assert_allclose(got[column].to_numpy(dtype=float), want[column].to_numpy(dtype=float),
                                   rtol=1e-7, equal_nan=True, err_msg=column)
    assert result.settings["outcome"] == "score"
    findings = got[got["finding"]]
    assert (findings["difference"] < 0).all() and (findings["q_value"] < 0.05).all()


def test_lower_is_worse_and_the_planted_slice_is_found(store):
    table = slice_table(store, "r", ["lang", "domain"], outcome="score", min_support=40).table
    top = table.iloc[0]
    assert top["predicate"] == {"lang": "sw", "domain": "legal"} and top["finding"]


def test_unknown_outcome(store):
    with pytest.raises(FaultlineError, match="Run 'r' has no numeric score 'bleu'; outcomes: correct, score"):
        slice_table(store, "r", ["lang"], outcome="bleu")


def test_score_columns_names_further_scores_by_full_and_short_name():
    from types import SimpleNamespace

    from analysis.slicing.outcome import score_columns

    schema = SimpleNamespace(stored=lambda: [("score", "score", "numeric"), ("score.f1", "scores", "numeric"),
                                             ("score.judge", "scores", "text"), ("meta.f1", "metadata", "numeric")])
    assert score_columns(schema) == {"score": "score", "score.f1": "score.f1", "f1": "score.f1"}


def test_a_t_interval_is_cut_at_the_scores_the_run_holds(tmp_path):
    # three examples scored 1, 1, 0 in slice "a": scipy's t interval reaches far past [0, 1]
    frame = pd.DataFrame({"prompt": ["q"] * 40, "grp": ["a"] * 3 + ["b"] * 37,
                          "f1": [1.0, 1.0, 0.0] + [0.0, 1.0] * 18 + [1.0], "correct": [True] * 40})
    with Store(tmp_path / "cut.duckdb") as s:
        s.ingest_frame(frame, name="r", mapping={"score": "f1", "correct": "correct"})
        table = slice_table(s, "r", ["grp"], max_order=1, min_support=1, outcome="score").table
    row = table[table["description"] == "grp = a"].iloc[0]
    low, high = stats.t.interval(0.95, 2, loc=2 / 3, scale=stats.sem([1.0, 1.0, 0.0]))
    assert low < 0 and high > 1  # what the cut is for
    assert (row["ci_low"], row["ci_high"]) == (0.0, 1.0) and row["ci_method"] == "t, cut at the run's score range"
    other = table[table["description"] == "grp = b"].iloc[0]
    assert other["ci_method"] == "t" and 0 < other["ci_low"] < other["ci_high"] < 1
