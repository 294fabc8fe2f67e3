"""The rank correlation sums statement (analysis.sql.modes.rank_correlation_sums_sql) and
analysis.stats.spearman_from_rank_sums against ``scipy.stats.spearmanr`` on every slice: heavy ties, missing, NaN and
infinite values, -0.0 beside 0.0, a NaN attribute value beside a missing one, a descending (penalty) value, unscorable
rows and a cohort; and the statement transpiles to Spark SQL."""

from __future__ import annotations

import math
import warnings

import duckdb
import numpy as np
import pandas as pd
import pytest
import scipy.stats

from analysis import stats as S
from analysis.sql import modes as M
from analysis.sql.spark import to_spark


@pytest.fixture
def table():
    rng = np.random.default_rng(7)
    n = 4000
    v = np.round(rng.normal(0, 1, n), 1)  # ties, and -0.0 beside 0.0
    v[rng.random(n) < 0.03] = np.nan
    v[:3] = [np.inf, -np.inf, -0.0]
    y = rng.integers(0, 5, n).astype(float)
    y[rng.random(n) < 0.02] = np.nan
    tier = rng.choice([1.0, 2.0, np.nan], n)
    frame = pd.DataFrame({"v": v, "w": np.round(rng.gamma(2.0, 1.0, n), 0), "y": y, "tier": tier,
                          "region": rng.choice(np.array(["n", "s", "e", None], dtype=object), n),
                          "unscorable": rng.random(n) < 0.05})
    con = duckdb.connect()
    con.register("frame", frame)
    # tier: NaN kept as NaN beside NULL (pandas' NaN made NULL in half the rows)
    con.execute('CREATE TABLE "examples_t" AS SELECT v, w, y, region, unscorable, '
                "CASE WHEN tier = 1.0 AND v > 0 THEN NULL WHEN tier = 1.0 THEN CAST('NaN' AS DOUBLE) "
                "ELSE tier END AS tier FROM frame")
    yield con, con.execute('SELECT * FROM "examples_t"').df()
    con.close()


def _scipy(x: np.ndarray, y: np.ndarray) -> tuple[int, float, float]:
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 2:
        return int(x.size), math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant slice: scipy warns and returns NaN
        res = scipy.stats.spearmanr(x, y)
    return int(x.size), float(res.statistic), float(res.pvalue)


def _stats(row: dict, i: int) -> tuple[int, float, float]:
    n = int(row[f"n{i}"] or 0)
    dev = [(int(row[f"{name}{i}"] or 0) - n * (n + 1) ** 2) / 4.0 for name in ("xy", "xx", "yy")]
    rho, p = S.spearman_from_rank_sums([n], *[[d] for d in dev])
    return n, float(rho[0]), float(p[0])


@pytest.mark.parametrize("attribute", [None, "region", "tier"])
@pytest.mark.parametrize("cohort", [None, ("w >= ?", [2.0])])
def test_sums_give_scipy_spearman_in_every_slice(table, attribute, cohort):
    con, frame = table
    values = [("v", [], False), ("CAST(? AS DOUBLE) * w", [1.0], True)]
    sql, params, names = M.rank_correlation_sums_sql(
        "examples_t", values, ("y", []), None if attribute is None else (quote(attribute), []),
        nan_as_null=attribute == "tier", cohort=cohort)
    rows = [dict(zip(names, r)) for r in con.execute(sql, params).fetchall()]
    f = frame[~frame["unscorable"]]
    if cohort is not None:
        f = f[f["w"] >= 2.0]
    if attribute is None:
        slices = [(None, f)]
    else:
        key = f[attribute].astype(object).where(f[attribute].notna(), None)  # NaN and NULL: the missing slice
        slices = [(value, f[key.isna()] if value is None else f[key == value]) for value in
                  sorted(key.dropna().unique().tolist()) + [None]]
    assert len(rows) == len(slices)
    for row, (value, part) in zip(rows, slices):
        if attribute is not None:
            assert row["slice"] == value
        for i, sign in ((0, 1.0), (1, -1.0)):
            want = _scipy(sign * part["v" if i == 0 else "w"].to_numpy(dtype=float), part["y"].to_numpy(dtype=float))
            got = _stats(row, i)
            assert got[0] == want[0] > 100
            np.testing.assert_allclose(got[1:], want[1:], rtol=1e-10, atol=1e-13)


def quote(name: str) -> str:
    return f'"{name}"'


def test_a_constant_slice_and_a_slice_of_two_rows_give_nan_as_scipy():
    con = duckdb.connect()
    con.execute('CREATE TABLE "examples_c" AS SELECT * FROM (VALUES (1.0, 1.0, \'a\', false), (1.0, 2.0, \'a\', false),'
                " (1.0, 3.0, 'a', false), (1.0, 2.0, 'b', false), (3.0, 1.0, 'b', false)) AS t(v, y, g, unscorable)")
    sql, params, names = M.rank_correlation_sums_sql("examples_c", [("v", [], False)], ("y", []), ('"g"', []))
    rows = [dict(zip(names, r)) for r in con.execute(sql, params).fetchall()]
    (n_a, rho_a, p_a), (n_b, rho_b, p_b) = (_stats(r, 0) for r in rows)
    assert (n_a, n_b) == (3, 2) and math.isnan(rho_a) and math.isnan(p_a)  # v constant in slice a
    assert rho_b == pytest.approx(scipy.stats.spearmanr([1.0, 3.0], [2.0, 1.0]).statistic) and math.isnan(p_b)


def test_the_statement_transpiles_to_spark():
    sql, params, _ = M.rank_correlation_sums_sql("examples_t", [("v", [], False), ("w", [], True)], ("y", []),
                                                 ('"tier"', []), nan_as_null=True, cohort=("w >= ?", [2.0]))
    spark = to_spark(sql, params)
    assert "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW" in spark and "?" not in spark
    assert "ISNAN" in spark.upper()


def test_rank_sums_of_other_lengths_are_refused():
    with pytest.raises(ValueError, match="sxx"):
        S.spearman_from_rank_sums([3, 2], [2.0, -0.5], [2.0], [2.0, 0.5])
