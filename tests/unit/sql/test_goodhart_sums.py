"""The Goodhart sums statement (analysis.sql.modes.goodhart_sums_sql) on a small pair of runs against the same
counts and sums made here with a pandas merge on example id (unpaired examples on both sides, a repeated baseline
id, a NULL and a NaN attribute value, missing and infinite signal values, a cohort), and its Spark form (no JVM)."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.sql import modes as M
from analysis.sql.spark import to_spark

SCALE = 10**15


def _tables(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(5)
    n = 300
    cand = pd.DataFrame({"source_row": np.arange(n), "example_id": [f"e{i}" for i in range(n)],
                         "correct": rng.random(n) < 0.6, "unscorable": rng.random(n) < 0.05,
                         "v": np.round(rng.normal(0, 1, n), 2), "m": rng.random(n) < 0.2,
                         "tier": rng.choice([1.0, 2.0, np.nan], n), "region": rng.choice(["n", "s", None], n)})
    cand.loc[:5, "v"] = [np.nan, np.inf, -np.inf, 0.5, -0.5, 0.0]
    base = cand.sample(frac=1.0, random_state=2).iloc[30:].copy()  # 30 candidate ids unpaired
    base["source_row"] = np.arange(len(base))
    base["correct"] = rng.random(len(base)) < 0.7
    base["unscorable"] = rng.random(len(base)) < 0.05
    base["v"] = np.round(rng.normal(0.2, 1, len(base)), 2)
    base["m"] = rng.random(len(base)) < 0.1
    repeated = base.iloc[:1].copy()  # a repeated id, later in log order: the first one is paired
    repeated["source_row"] = len(base)
    repeated["v"] = 1e6
    extra = base.iloc[1:11].copy()  # baseline ids the candidate lacks
    extra["example_id"] = [f"x{i}" for i in range(10)]
    extra["source_row"] = np.arange(len(base) + 1, len(base) + 11)
    base = pd.concat([base, repeated, extra], ignore_index=True)
    con.register("c_df", cand)
    con.register("b_df", base)
    con.execute('CREATE TABLE "examples_c" AS SELECT * FROM c_df')
    con.execute('CREATE TABLE "examples_b" AS SELECT * FROM b_df')
    return base, cand


def _units(x: np.ndarray) -> list[int]:
    """Half away from zero, as Python integers (exact), the test's own rounding."""
    out = []
    for v in (x * float(SCALE)).tolist():
        whole = math.trunc(v)
        out.append(int(whole) + (int(math.copysign(1, v)) if abs(v - whole) >= 0.5 else 0))
    return out


@pytest.mark.parametrize("cohort", [None, ('"region" = ?', ["n"])])
def test_sums_equal_a_pandas_merge(cohort):
    con = duckdb.connect()
    base, cand = _tables(con)
    attributes = [('"tier"', [], True), ('"region"', [], False)]
    sql, params, names = M.goodhart_sums_sql("examples_c", "examples_b", attributes, [(('"v"', []), ('"v"', []), True)],
                                             [('"m"', [])], [('"m"', [])], cohort=cohort)
    got = [dict(zip(names, r)) for r in con.execute(sql, params).fetchall()]
    c = cand[~cand["unscorable"]]
    if cohort is not None:
        c = c[c["region"] == "n"]
    b = base[~base["unscorable"]].sort_values("source_row").drop_duplicates("example_id")
    pairs = c.merge(b, on="example_id", how="inner", suffixes=("_c", "_b"))
    slices = [(3, None, pairs)]  # the whole run: neither attribute grouped (bits 1 and 0 set)
    for i, col in enumerate(["tier", "region"]):
        values = c[col].astype(object).where(c[col].notna(), None).unique()
        for value in values:
            rows = pairs[pairs[f"{col}_c"].isna()] if value is None else pairs[pairs[f"{col}_c"] == value]
            slices.append((3 ^ (1 << (1 - i)), (i, value), rows))
    assert len(got) == len(slices)
    for gid, key, rows in slices:
        match = [r for r in got if r["gid"] == gid and (key is None or (
            r[f"a{key[0]}"] is None if key[1] is None else r[f"a{key[0]}"] == key[1]))]
        assert len(match) == 1, (gid, key)
        r = match[0]
        bc, cc = rows["correct_b"].to_numpy(dtype=bool), rows["correct_c"].to_numpy(dtype=bool)
        mb, mc = rows["m_b"].to_numpy(dtype=bool), rows["m_c"].to_numpy(dtype=bool)
        assert (r["n"], r["acc_b"], r["acc_c"], r["b"], r["c"]) == (
            len(rows), bc.sum(), cc.sum(), (bc & ~cc).sum(), (~bc & cc).sum())
        assert (r["up0"], r["down0"], r["rb0"], r["rc0"]) == ((~mb & mc).sum(), (mb & ~mc).sum(), mb.sum(), mc.sum())
        sb, sc = -rows["v_b"].to_numpy(dtype=float), -rows["v_c"].to_numpy(dtype=float)  # negated: lower is better
        keep = np.isfinite(sb) & np.isfinite(sc)
        d = sc[keep] - sb[keep]
        assert r["sn0"] == keep.sum()
        want = [sum(_units(x)) for x in (sb[keep], sc[keep], d, d * d)]
        assert [int(r[k] or 0) for k in ("sb0", "sc0", "sd0", "sdd0")] == want


def test_without_attributes_one_row_and_the_statement_transpiles_to_spark():
    con = duckdb.connect()
    _tables(con)
    sql, params, names = M.goodhart_sums_sql("examples_c", "examples_b", [], [(('"v"', []), ('"v"', []), False)],
                                             [], [])
    assert "gid" not in names and len(con.execute(sql, params).fetchall()) == 1
    sql, params, _ = M.goodhart_sums_sql("examples_c", "examples_b", [('"tier"', [], True), ('"region"', [], False)],
                                         [(('"v"', []), ('"v"', []), True)], [('"m"', [])], [('"m"', [])],
                                         cohort=('"region" = ?', ["n"]), base_cohort=('"v" > ?', [0.0]))
    spark = to_spark(sql, params)
    assert "GROUPING SETS" in spark.upper() and "?" not in spark and "ISNAN" in spark.upper()
