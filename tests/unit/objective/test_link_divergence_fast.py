"""The link's divergence table (all slices of an attribute in one pass, the outcome ranked once per link call)
against a reference written with ``scipy.stats.spearmanr`` per slice and statsmodels' Benjamini-Hochberg: on a
hostile case (ties, a constant signal in a slice, slices of 1-3 rows, missing values) and on every divergence
table of the demo's link."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from statsmodels.stats.multitest import multipletests

from analysis import open_store
from analysis.objective import link as link_module
from analysis.objective.link import ALL, divergence_table
from analysis.objective.spec import load_objective
from tests.conftest import ROOT

DEMO_SPEC = ROOT / "data" / "objective_demo.yaml"


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """scipy's Spearman of one slice; NaN below 2 rows (scipy needs 2)."""
    if x.size < 2:
        return math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: scipy warns and returns NaN
        res = scipy.stats.spearmanr(x, y)
    return float(res.statistic), float(res.pvalue)


def reference_divergence(oriented, outcome, attributes, *, min_support, fdr) -> pd.DataFrame:
    """The divergence table one slice at a time with scipy, BH with statsmodels over the tested slices."""
    keep = np.isfinite(oriented) & np.isfinite(outcome)
    rows = []
    groups = [("", np.zeros(oriented.size, dtype=np.int64), [ALL])] + list(attributes)
    for name, codes, labels in groups:
        for g, label in enumerate(labels):
            inside = keep & (codes == g)
            rho, p = _spearman(oriented[inside], outcome[inside])
            n = int(inside.sum())
            rows.append({"attribute": name, "description": label, "n": n, "rho": rho,
                         "p_value": p if n >= min_support else math.nan})
    table = pd.DataFrame(rows)
    p = table["p_value"].to_numpy(dtype=float)
    q = np.full(p.size, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        q[tested] = multipletests(p[tested], method="fdr_bh")[1]
    table["q_value"] = q
    table["divergent"] = (table["rho"] < 0) & (table["q_value"] < fdr)
    return table


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got["attribute"]) == list(want["attribute"])
    assert list(got["description"]) == list(want["description"])
    assert got["n"].tolist() == want["n"].tolist()
    for col in ("rho", "p_value", "q_value"):
        a, b = got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=1e-10), col
    assert got["divergent"].tolist() == want["divergent"].tolist()


def hostile(seed: int):
    """Heavy ties (a few distinct values), a constant signal in one slice, a constant outcome in another, slices
    of 1, 2 and 3 rows, an empty slice, missing signal values; two attributes."""
    rng = np.random.default_rng(seed)
    n = 400
    signal = rng.integers(0, 4, n).astype(float)
    outcome = rng.integers(0, 3, n).astype(float)
    codes = rng.integers(0, 3, n)
    codes[:1] = 3                     # 1 row
    codes[1:3] = 4                    # 2 rows
    codes[3:6] = 5                    # 3 rows
    codes[6:40] = 6
    signal[6:40] = 2.0                # constant signal in slice 6
    codes[40:80] = 7
    outcome[40:80] = 1.0              # constant outcome in slice 7
    signal[rng.random(n) < 0.05] = np.nan
    labels = [f"g = {i}" for i in range(9)]  # slice 8 is empty
    other = rng.integers(0, 2, n)
    return signal, outcome, [("g", codes, labels), ("h", other, ["h = 0", "h = 1"])]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hostile_slices_match_scipy_per_slice(seed):
    signal, outcome, attributes = hostile(seed)
    got = divergence_table(signal, outcome, attributes, min_support=3, fdr=0.5)
    assert_same(got, reference_divergence(signal, outcome, attributes, min_support=3, fdr=0.5))
    by = got.set_index("description")
    assert math.isnan(by.loc["g = 6", "rho"]) and math.isnan(by.loc["g = 7", "rho"])  # constant: undefined
    assert math.isnan(by.loc["g = 8", "rho"]) and by.loc["g = 8", "n"] == 0


def test_outcome_rank_cache_gives_the_same_table():
    rng = np.random.default_rng(7)
    n = 500
    codes = rng.integers(0, 5, n)
    outcome = rng.integers(0, 2, n).astype(float)
    attributes = [("g", codes, [f"g = {i}" for i in range(5)]), ("h", codes % 2, ["h = 0", "h = 1"])]
    cache: dict = {}
    for k in range(3):  # three signals sharing the cache: the outcome is ranked by the first call
        signal = rng.normal(size=n).round(1) * (k + 1)
        got = divergence_table(signal, outcome, attributes, min_support=30, fdr=0.05, outcome_ranks=cache)
        assert_same(got, reference_divergence(signal, outcome, attributes, min_support=30, fdr=0.05))
    assert len(cache) == 3  # the whole run and each attribute
    signal[::7] = np.nan  # rows missing: the cache is not used (other rows are ranked)
    got = divergence_table(signal, outcome, attributes, min_support=30, fdr=0.05, outcome_ranks=cache)
    assert_same(got, reference_divergence(signal, outcome, attributes, min_support=30, fdr=0.05))


def test_demo_link_divergence_equals_the_scipy_reference(tmp_path, monkeypatch):
    import threading

    from analysis.demo.seed import ensure_demo

    calls = []
    fast = link_module.divergence_table
    me = threading.get_ident()

    def recording(oriented, outcome, attributes, **kw):
        out = fast(oriented, outcome, attributes, **kw)
        if threading.get_ident() == me:  # under xdist an app test's background precompute may call it too
            calls.append((oriented.copy(), outcome.copy(), attributes, kw, out.copy()))
        return out

    store = open_store(tmp_path / "demo.duckdb", seed_demo=False)
    try:
        ensure_demo(store, n_prompts=2000)
        monkeypatch.setattr(link_module, "divergence_table", recording)
        result = link_module.link(store, "after-objective-change", load_objective(DEMO_SPEC), baseline="baseline")
    finally:
        store.close()
    assert len(calls) >= 2 and len(result.divergence) == sum(len(c[4]) for c in calls)
    for oriented, outcome, attributes, kw, out in calls:
        want = reference_divergence(oriented, outcome, attributes, min_support=kw["min_support"], fdr=kw["fdr"])
        assert_same(out.reset_index(drop=True), want)
    assert result.divergence["p_value"].notna().sum() > 0
