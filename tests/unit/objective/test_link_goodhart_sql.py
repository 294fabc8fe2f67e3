"""The link's Goodhart tables and their evidence computed by the engine (``_goodhart_by_slice``: the two runs joined
on example id in SQL, exact integer sums per slice; the evidence's local separations by ``separation_sums_sql`` kept
to the slice) against the numpy path (both runs' rows read, the same sums made in numpy): identical link output on the
demo (with and without a cohort) and on a generated pair of runs with ties, missing and infinite signal values,
unpaired examples on both sides, a signal the baseline lacks and a cohort; on the engine path with a baseline no
example row is read (``_load`` and ``_paired_positions`` are never called). The statistics are checked against
scipy's ``ttest_rel`` and statsmodels' exact McNemar test on pairs made here with pandas, and the local AUC against
scipy's Mann-Whitney U."""

from __future__ import annotations

import tempfile

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from statsmodels.stats.contingency_tables import mcnemar

from analysis import open_store
from analysis.objective import link as L
from analysis.objective.link import ALL, link
from analysis.objective.spec import load_objective, parse_objective
from analysis.store import Store
from tests.unit.objective._specs import DEMO_SPEC, PADDED
from tests.unit.objective._specs import TWO_SIGNAL_SPEC as SPEC

RUN, BASE = "after-objective-change", "baseline"
FRAMES = ("cells", "separation", "divergence", "goodhart", "mode_change", "goodhart_evidence", "counts")


def _identical(a: L.LinkResult, b: L.LinkResult) -> None:
    for name in FRAMES:
        if getattr(a, name) is None:
            assert getattr(b, name) is None, name
            continue
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    assert (a.notes, a.settings, a.problems) == (b.notes, b.settings, b.problems)


def _engine_reading_no_row(monkeypatch, store, run, spec, **kw) -> L.LinkResult:
    """The link on the engine's path (any number of rows), failing if an example row is read into Python."""
    def refuse(*args, **kwargs):
        raise AssertionError("example rows were read into Python")

    with monkeypatch.context() as patch:
        patch.setattr(L, "ROWS_RANKED_IN_MEMORY", -1)
        patch.setattr(L, "_load", refuse)
        patch.setattr(L, "_paired_positions", refuse)
        return link(store, run, spec, **kw)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from analysis.demo.seed import ensure_demo

    store = open_store(tmp_path_factory.mktemp("goodhart_demo") / "demo.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=3000)
    yield store
    store.close()


@pytest.mark.parametrize("where", [None, 'domain = "legal"'])
def test_demo_engine_goodhart_equals_numpy_and_reads_no_row(demo, monkeypatch, where):
    spec = load_objective(DEMO_SPEC)
    memory = link(demo, RUN, spec, baseline=BASE, where=where)
    engine = _engine_reading_no_row(monkeypatch, demo, RUN, spec, baseline=BASE, where=where)
    assert len(engine.goodhart) > 20 and engine.goodhart["p_signal"].notna().sum() > 10
    assert engine.mode_change["p_value"].notna().sum() > 10
    _identical(engine, memory)


def _runs(n: int = 1800, seed: int = 16) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A baseline and a candidate: padded wrong answers spread on the web channel after the change, where the RM
    rewards them (a Goodhart slice); ties (rounded signals), missing and infinite values, a judge signal the
    baseline lacks, a penalty, a numeric attribute with NaN, unpaired examples on both sides."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["web", "api"], n)
    tier = rng.choice([1.0, 2.0, np.nan], n)
    region = rng.choice(np.array(["north", "south", None], dtype=object), n)
    web = channel == "web"
    padded = web & (rng.random(n) < 0.3) | (~web & (rng.random(n) < 0.05))
    wrong_after = padded | (rng.random(n) < 0.1)
    wrong_before = rng.random(n) < 0.15
    rm_after = np.round(np.where(padded & web, rng.normal(2.5, 1, n), rng.normal(0, 1, n)) + 0.3 * web, 1)
    rm_before = np.round(rng.normal(0, 1, n), 1)
    for rm in (rm_after, rm_before):
        rm[rng.random(n) < 0.04] = np.nan
    rm_after[:3] = [np.inf, -np.inf, 0.0]
    rm_before[3:5] = [np.inf, -0.0]
    common = {"id": [f"g{i}" for i in range(n)], "prompt": "q", "gold": "A short reference.", "channel": channel,
              "tier": tier, "region": region}
    after = pd.DataFrame({**common, "response": np.where(padded, PADDED, np.where(wrong_after, "Wrong.",
                                                                                 "A short reference.")),
                          "correct": ~wrong_after, "rm": rm_after, "judge": rng.integers(0, 3, n).astype(float),
                          "penalty": np.round(rng.gamma(2.0, 1.0, n), 0)})
    before = pd.DataFrame({**common, "response": np.where(wrong_before, "Wrong.", "A short reference."),
                           "correct": ~wrong_before, "rm": rm_before, "penalty": np.round(rng.gamma(2.0, 1.2, n), 0)})
    # unpaired: the baseline lacks the first 60 examples, and has 40 examples the candidate lacks
    before = before.iloc[60:].copy()
    extra = before.iloc[:40].copy()
    extra["id"] = [f"extra{i}" for i in range(40)]
    before = pd.concat([before, extra], ignore_index=True).sample(frac=1.0, random_state=1)  # shuffled log order
    return before, after


@pytest.fixture(scope="module")
def generated():
    before, after = _runs()
    store = Store(tempfile.mkdtemp() + "/goodhart.duckdb")
    store.ingest_frame(before, name="before", mapping={"id": "id"})  # signals as plain columns: infinities kept
    store.ingest_frame(after, name="after", mapping={"id": "id"})
    yield store, before, after
    store.close()


BY = ["channel", "tier", "region"]


@pytest.mark.parametrize("where", [None, 'region = "north" or channel = "web"'])
def test_generated_engine_goodhart_equals_numpy_and_reads_no_row(generated, monkeypatch, where):
    store, _, _ = generated
    spec = parse_objective(SPEC)
    kw = {"baseline": "before", "by": BY, "where": where, "strict": False, "min_support": 10}
    memory = link(store, "after", spec, **kw)
    engine = _engine_reading_no_row(monkeypatch, store, "after", spec, **kw)
    _identical(engine, memory)
    good = engine.goodhart
    assert set(good["signal"]) == {"rm", "penalty"}  # the judge is the candidate's only
    assert any("no column 'judge'" in n for n in engine.notes)
    assert (good["description"] == "tier = (missing)").any()  # NaN and NULL: one slice
    if where is None:  # the planted Goodhart slice, implicated from the evidence either way
        ev = engine.goodhart_evidence
        web = ev[(ev["description"] == "channel = web") & (ev["signal"] == "rm")]
        assert len(web) == 1 and bool(web["rewards"].iloc[0])


def _pairs(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    return after.merge(before, on="id", how="inner", suffixes=("_c", "_b"))


@pytest.mark.parametrize("description", [ALL, "channel = web", "channel = api", "region = north"])
def test_generated_goodhart_against_scipy_and_statsmodels(generated, monkeypatch, description):
    store, before, after = generated
    spec = parse_objective(SPEC)
    engine = _engine_reading_no_row(monkeypatch, store, "after", spec, baseline="before", by=BY, strict=False,
                                    min_support=10)
    pairs = _pairs(before, after)
    if description != ALL:
        column, value = description.split(" = ")
        pairs = pairs[pairs[f"{column}_c"] == value]
    for signal, sign in (("rm", 1.0), ("penalty", -1.0)):
        row = engine.goodhart[(engine.goodhart["signal"] == signal)
                              & (engine.goodhart["description"] == description)].iloc[0]
        b = sign * pairs[f"{signal}_b"].to_numpy(dtype=float)
        c = sign * pairs[f"{signal}_c"].to_numpy(dtype=float)
        keep = np.isfinite(b) & np.isfinite(c)
        test = scipy.stats.ttest_rel(c[keep], b[keep])
        interval = test.confidence_interval(0.95)
        assert row["d_signal"] == pytest.approx(np.mean(c[keep] - b[keep]), rel=1e-12, abs=1e-15)
        assert row["p_signal"] == pytest.approx(test.pvalue, rel=1e-9)
        assert (row["d_signal_low"], row["d_signal_high"]) == pytest.approx((interval.low, interval.high), rel=1e-9)
        assert row["signal_base"] == pytest.approx(sign * b[keep].mean(), rel=1e-12, abs=1e-15)
        assert row["signal_cand"] == pytest.approx(sign * c[keep].mean(), rel=1e-12, abs=1e-15)
    bc, cc = pairs["correct_b"].to_numpy(dtype=bool), pairs["correct_c"].to_numpy(dtype=bool)
    table = [[np.sum(bc & cc), np.sum(bc & ~cc)], [np.sum(~bc & cc), np.sum(~bc & ~cc)]]
    assert row["n"] == len(pairs)
    assert row["p_outcome"] == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-9)
    assert row["d_accuracy"] == pytest.approx(cc.mean() - bc.mean(), rel=1e-12)
    assert (row["acc_base"], row["acc_cand"]) == pytest.approx((bc.mean(), cc.mean()), rel=1e-12)


def test_generated_local_auc_against_mann_whitney(generated, monkeypatch):
    """The evidence's local AUC on the web channel: the padded wrong answers (the reward-hacking mode alone) against
    the correct answers in no mode, by the RM, as scipy's U / (n_fail n_ok) over the candidate's rows there."""
    store, _, after = generated
    spec = parse_objective(SPEC)
    engine = _engine_reading_no_row(monkeypatch, store, "after", spec, baseline="before", by=BY, strict=False,
                                    min_support=10)
    ev = engine.goodhart_evidence
    row = ev[(ev["description"] == "channel = web") & (ev["signal"] == "rm") & (ev["mode"] == "reward_hacking")].iloc[0]
    web = after[after["channel"] == "web"]
    rm = web["rm"].to_numpy(dtype=float)
    finite = np.isfinite(rm)
    fail = rm[finite & (web["response"] == PADDED).to_numpy()]
    ok = rm[finite & web["correct"].to_numpy(dtype=bool)]
    assert (row["n_fail"], row["n_ok"]) == (fail.size, ok.size)
    u = scipy.stats.mannwhitneyu(fail, ok).statistic
    assert row["local_auc"] == pytest.approx(u / (fail.size * ok.size), rel=1e-12)


@pytest.mark.parametrize("values", [
    [0.5e-15, -0.5e-15, 1.5e-15, -2.5e-15, 0.1, -0.1, 1 / 3, 2.675, -7.5e-16, 123.456, 0.0, -0.0],
    [9.1e3, -9.2e3, 3.0e7, 1.0e10, -1.5e11, 2.0e4 * 1.000000001],  # squares beyond 2**62 units (below 1e38)
])
def test_round_units_and_their_sums_equal_the_engines(values):
    """numpy's fixed-point units (rounded half away from zero) and their exact grouped sums equal DuckDB's
    ``score_units`` summed as DECIMAL(38, 0), for halves, negatives and values whose units pass int64."""
    from analysis.sql.features import score_units

    x = np.array(values, dtype=float)
    store = Store(tempfile.mkdtemp() + "/units.duckdb")
    try:
        cur = store.cursor()
        cur.execute("CREATE TEMPORARY TABLE v (x DOUBLE, g INTEGER)")
        codes = np.arange(x.size) % 2
        cur.executemany("INSERT INTO v VALUES (?, ?)", [[float(a), int(g)] for a, g in zip(x, codes)])
        per_row = [int(r[0]) for r in cur.execute(f"SELECT {score_units('x')} FROM v ORDER BY rowid").fetchall()]
        sums = dict(cur.execute(f"SELECT g, SUM({score_units('x * x')}) FROM v GROUP BY g").fetchall())
    finally:
        store.close()
    assert [int(u) for u in L._round_units(x)] == per_row
    got = L._grouped_int_sums(L._round_units(x * x), codes, 3)
    assert got[:2] == [int(sums[0]), int(sums[1])] and got[2] == 0
    assert got == [sum(int(u) for u, g in zip(L._round_units(x * x), codes) if g == k) for k in range(3)]
    # the whole sum (one group, as the local separation of a Goodhart slice takes it) equals DuckDB's
    assert L._IntLimbs(L._round_units(x * x)).total() == int(sums[0]) + int(sums[1])


@pytest.mark.parametrize("n", [1, 7, 2**20 - 1, 2**20 + 3])
def test_int_limbs_sum_exactly_at_the_largest_values_for_a_million_rows(n):
    """The limbs' float sums stay exact over a million rows of one sign (no cancellation) whose every limb is near
    its largest: values with all low bits set (``2**52 - 1`` less a little: integers float64 holds) and values near
    the int64 limbs' bound (2**62); compared with Python's integer sums of the same values."""
    rng = np.random.default_rng(n)
    low_bits = float(2**52 - 1) - np.floor(rng.random(n) * 2**20)
    near_bound = float(2**62 - 2**10) - 1024.0 * np.floor(rng.random(n) * 2**8)
    values = np.where(np.arange(n) % 2 == 0, low_bits, near_bound)
    codes = (np.arange(n) % 3).astype(np.int64)
    exact = [0, 0, 0]
    for v, g in zip(values.astype(np.int64).tolist(), codes.tolist()):
        exact[g] += v
    assert L._grouped_int_sums(values, codes, 3) == exact
    assert L._IntLimbs(values).total() == sum(exact)
