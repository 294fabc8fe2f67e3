"""Mix shift within a cohort (against Kitagawa computed by hand with pandas on the cohort's rows) and ``mix_along`` from
one statement over the whole series (against the two-run ``mix_shift`` of every step and against pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from analysis.errors import FaultlineError
from analysis.series.mix import mix_along, mix_shift
from analysis.store import Store
from analysis.store.series import create_series

RUNS = 4
COHORT = 'lang = "en"'


def _frames(seed: int = 3) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(RUNS):
        n = 1500 + 100 * k
        p_code = 0.15 if k < 2 else 0.45  # the mix moves to code at the third run
        domain = rng.choice(["code", "chat", "math"], n, p=[p_code, (1 - p_code) * 0.6, (1 - p_code) * 0.4])
        lang = rng.choice(["en", "fr"], n, p=[0.6, 0.4])
        acc = np.select([domain == "code", domain == "chat"], [0.5, 0.9], 0.7) - np.where(lang == "fr", 0.03 * k, 0)
        frames.append(pd.DataFrame({"prompt": [f"r{k}q{i}" for i in range(n)], "domain": domain, "lang": lang,
                                    "correct": rng.random(n) < acc}))
    return frames


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    frames = _frames()
    store = Store(tmp_path_factory.mktemp("mixc") / "m.duckdb")
    names = [f"step-{k + 1}" for k in range(RUNS)]
    for name, frame in zip(names, frames):
        store.ingest_frame(frame, name=name)
    create_series(store, "s", names)
    yield store, frames, names
    store.close()


def _kitagawa(a: pd.DataFrame, b: pd.DataFrame, attr: str) -> dict:
    """The symmetric Kitagawa decomposition of ``b`` minus ``a`` over ``attr``, by hand."""
    ga = a.groupby(attr)["correct"].agg(["size", "mean"])
    gb = b.groupby(attr)["correct"].agg(["size", "mean"])
    ga, gb = ga.align(gb, fill_value=0)
    wa, wb = ga["size"] / ga["size"].sum(), gb["size"] / gb["size"].sum()
    return {"composition": float(((wb - wa) * (ga["mean"] + gb["mean"]) / 2).sum()),
            "within": float(((gb["mean"] - ga["mean"]) * (wa + wb) / 2).sum()),
            "total": float(b["correct"].mean() - a["correct"].mean()),
            "chi2": scipy.stats.chi2_contingency(np.vstack([ga["size"], gb["size"]]), correction=False).statistic}


def test_mix_shift_in_a_cohort_is_kitagawa_on_the_cohort_rows(series):
    store, frames, names = series
    m = mix_shift(store, names[1], names[2], ["domain"], where=COHORT)
    a, b = (f[f["lang"] == "en"] for f in frames[1:3])
    expected = _kitagawa(a, b, "domain")
    row = m.attributes.set_index("attribute").loc["domain"]
    for key in ("composition", "within", "total", "chi2"):
        assert row[key] == pytest.approx(expected[key], abs=1e-12)
    assert m.accuracy_a == pytest.approx(a["correct"].mean()) and m.accuracy_b == pytest.approx(b["correct"].mean())
    values = m.values.set_index("value")
    assert values.loc["code", "n_a"] == (a["domain"] == "code").sum()
    assert m.settings["where"] == COHORT
    # and it is not the whole runs' decomposition
    whole = _kitagawa(frames[1], frames[2], "domain")
    assert abs(whole["within"] - expected["within"]) > 1e-4


def test_mix_along_equals_mix_shift_step_by_step_with_and_without_a_cohort(series):
    store, frames, names = series
    for where in (None, COHORT):
        steps = mix_along(store, "s", ["domain", "lang"], where=where)
        assert list(steps["k"]) == list(range(1, RUNS))
        for row in steps.itertuples():
            m = mix_shift(store, names[row.k - 1], names[row.k], ["domain", "lang"], where=where)
            top = m.top()
            assert row.attribute == top["attribute"] and row.verdict == top["verdict"]
            for key in ("composition", "composition_low", "composition_high", "within", "within_low", "within_high",
                        "psi"):
                assert getattr(row, key) == pytest.approx(top[key], abs=1e-12)
            assert row.total == pytest.approx(m.accuracy_b - m.accuracy_a, abs=1e-12)
            assert row.sentence == m.sentence()


def test_mix_along_in_a_cohort_against_pandas(series):
    store, frames, names = series
    steps = mix_along(store, "s", ["domain"], where=COHORT).set_index("k")
    cohort = [f[f["lang"] == "en"] for f in frames]
    for k in range(1, RUNS):
        expected = _kitagawa(cohort[k - 1], cohort[k], "domain")
        assert steps.loc[k, "composition"] == pytest.approx(expected["composition"], abs=1e-12)
        assert steps.loc[k, "within"] == pytest.approx(expected["within"], abs=1e-12)
        assert steps.loc[k, "total"] == pytest.approx(expected["total"], abs=1e-12)
    assert bool(steps.loc[2, "mix_shift"]) and steps.loc[2, "verdict"] in ("composition", "both")


def test_mix_along_runs_one_statement_over_the_series(series, monkeypatch):
    store, _, _ = series
    import analysis.sql.series as S

    calls = []
    real = S.trajectory_sql
    monkeypatch.setattr(S, "trajectory_sql", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    mix_along(store, "s", ["domain"], bins=4)
    # the trajectories' statement over every run (a second one when the runs, paired by position at first, turn
    # out not to be in the reference's example order), never one per step
    assert 1 <= len(calls) <= 2 and all(len(tables) == RUNS for tables in calls)
    calls.clear()
    mix_along(store, "s", ["domain"], bins=4)  # the series' cells are kept: nothing is counted again
    assert calls == []


def test_a_cohort_naming_a_missing_field_is_an_error(series):
    store, _, names = series
    with pytest.raises(FaultlineError, match="nosuch"):
        mix_shift(store, names[0], names[1], ["domain"], where='nosuch = "x"')
