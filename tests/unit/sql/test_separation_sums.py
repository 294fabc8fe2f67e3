"""The separation sums statement (analysis.sql.modes.separation_sums_sql) against the same sums from numpy and
its statistics against scikit-learn and scipy: missing, NaN and infinite values, unscorable rows, overlapping
modes, heavy ties."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
import scipy.stats

from analysis import stats as S
from analysis.sql import features as F
from analysis.sql import modes as M

sk_metrics = pytest.importorskip("sklearn.metrics")


@pytest.fixture
def table():
    rng = np.random.default_rng(12)
    n = 3000
    v = np.round(rng.normal(0, 1, n), 1)  # ties
    v[rng.random(n) < 0.02] = np.nan
    v[:3] = [np.inf, -np.inf, np.nan]
    frame = pd.DataFrame({
        "v": v,
        "correct": rng.random(n) < 0.6,
        "unscorable": rng.random(n) < 0.05,
        "m_a": rng.random(n) < 0.2,
        "m_b": rng.random(n) < 0.15,
    })
    frame.loc[frame["correct"], ["m_a", "m_b"]] = False
    frame["v"] = frame["v"] + np.where(frame["m_a"], 0.4, 0.0)  # mode a is preferred
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute('CREATE TABLE "examples_t" AS SELECT v, correct, unscorable, '
                "CASE WHEN m_a THEN true ELSE NULL END AS m_a, m_b FROM frame")  # NULL counts as false
    yield con, frame
    con.close()


def _statement(con, sign=1.0):
    value = ("CAST(? AS DOUBLE) * v", [sign])
    sql, params, names = M.separation_sums_sql("examples_t", value, [("m_a", []), ("m_b", [])])
    row = con.execute(sql, params).fetchone()
    return {n: int(x) for n, x in zip(names, row)}


def test_sums_equal_numpy_rank_sums_and_fixed_point_sums(table):
    con, frame = table
    got = _statement(con)
    f = frame[~frame["unscorable"] & np.isfinite(frame["v"])]
    both = f["m_a"] & f["m_b"]
    ok = f["correct"] & ~f["m_a"] & ~f["m_b"]
    groups = {"o0": f["m_a"] & ~both, "e0": f["m_a"], "o1": f["m_b"] & ~both, "e1": f["m_b"]}
    y = f.loc[ok, "v"].to_numpy()
    for g, mask in groups.items():
        x = f.loc[mask, "v"].to_numpy()
        r = S.rank_sums(x, y)
        assert (got[f"{g}_n"], got[f"{g}_pos_sum"], got[f"{g}_pos_sq"], got[f"{g}_neg_sum"], got[f"{g}_neg_sq"],
                got[f"{g}_tie_term"]) == (r.n_pos, r.pos_sum, r.pos_sq, r.neg_sum, r.neg_sq, r.tie_term)
        # round half away from zero, as both engines' round()
        units = np.sign(x) * np.floor(np.abs(x) * F.SCORE_SCALE + 0.5)
        assert got[f"{g}_sum"] == sum(int(u) for u in units)
    assert got["ok_n"] == y.size


def test_statistics_from_the_statement_match_sklearn_and_scipy(table):
    con, frame = table
    for sign in (1.0, -1.0):
        got = _statement(con, sign)
        f = frame[~frame["unscorable"] & np.isfinite(frame["v"])]
        ok = f["correct"] & ~f["m_a"] & ~f["m_b"]
        x = sign * f.loc[f["m_a"] & ~f["m_b"], "v"].to_numpy()
        y = sign * f.loc[ok, "v"].to_numpy()
        sums = S.RankSums(got["o0_n"], got["ok_n"], got["o0_pos_sum"], got["o0_pos_sq"], got["o0_neg_sum"],
                          got["o0_neg_sq"], got["o0_tie_term"])
        st = S.separation_from_sums(sums, sum_fail=got["o0_sum"], sum_ok=got["ok_sum"], sq_fail=got["o0_sq"],
                                    sq_ok=got["ok_sq"], scale=F.SCORE_SCALE)
        labels = np.r_[np.ones(x.size), np.zeros(y.size)]
        assert st["auc"] == pytest.approx(sk_metrics.roc_auc_score(labels, np.r_[x, y]), abs=1e-15)
        assert st["p_value"] == pytest.approx(scipy.stats.mannwhitneyu(x, y, method="asymptotic").pvalue,
                                              rel=1e-12)
        pooled = math.sqrt(((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / (x.size + y.size - 2))
        assert st["smd"] == pytest.approx((x.mean() - y.mean()) / pooled, rel=1e-12)
        assert st["mean_fail"] == pytest.approx(x.mean(), rel=1e-12)
        assert (sign > 0) == (st["auc"] > 0.6)


def test_no_rows_and_no_modes():
    con = duckdb.connect()
    con.execute('CREATE TABLE "examples_t" (v DOUBLE, correct BOOLEAN, unscorable BOOLEAN)')
    sql, params, names = M.separation_sums_sql("examples_t", ("v", []), [])
    assert names == list(M.SEPARATION_OK_SUMS)
    assert con.execute(sql, params).fetchone() == (None, None, None)


def test_statement_transpiles_to_spark_without_duckdb_shorthands():
    from analysis.sql.spark import to_spark

    sql, params, _ = M.separation_sums_sql("examples_t", ("CAST(? AS DOUBLE) * v", [-1.0]), [("m_a", []), ("m_b", [])])
    assert "::" not in sql and "EXCLUDE" not in sql.upper()
    spark = to_spark(sql, params)
    assert "DECIMAL(38, 0)" in spark and "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW" in spark
    assert "?" not in spark  # every value bound as a typed literal
