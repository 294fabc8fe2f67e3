"""The Spark dialect without a JVM: typed literals, Faultline's transforms, routing of statements."""

from __future__ import annotations

import datetime as dt
import struct

import duckdb
import numpy as np
import pytest
import sqlglot

from analysis.errors import FaultlineError
from analysis.sql.spark import bind_literals, literal, to_spark, to_spark_steps
from analysis.store.engine import _run_tables_of, resolve_engine


def test_float_literals_round_trip_exactly_through_duckdb():
    rng = np.random.default_rng(0)
    values = list(rng.standard_normal(200) * 10.0 ** rng.integers(-300, 300, 200)) + [0.1, 1 / 3, 5e-324, -0.0,
                                                                                      1.7976931348623157e308]
    con = duckdb.connect()
    got = con.execute("SELECT " + ", ".join(literal(v) for v in values)).fetchall()[0]
    assert [struct.pack("<d", g) for g in got] == [struct.pack("<d", float(v)) for v in values]
    nan, inf = con.execute(f"SELECT {literal(float('nan'))}, {literal(float('-inf'))}").fetchall()[0]
    assert nan != nan and inf == float("-inf")


def test_other_literals_read_back_as_their_values():
    values = [None, True, False, 0, -7, 2**62, "it's a '?' \\ test", dt.datetime(2024, 2, 29, 23, 59, 1, 5),
              dt.date(2024, 1, 5), [1, 2]]
    got = duckdb.connect().execute("SELECT " + ", ".join(literal(v) for v in values)).fetchall()[0]
    assert list(got) == values


def test_placeholders_inside_strings_and_names_are_not_values():
    assert bind_literals('SELECT "a?b", \'?\', ? FROM t WHERE x = ?', [1, "y"]) == \
        'SELECT "a?b", \'?\', 1 FROM t WHERE x = \'y\''
    with pytest.raises(FaultlineError, match="placeholders"):
        bind_literals("SELECT ?, ?", [1])
    with pytest.raises(FaultlineError, match="placeholders"):
        bind_literals("SELECT ?", [1, 2])
    with pytest.raises(FaultlineError, match="Cannot bind"):
        literal(object())


def test_faultline_transforms():
    sql = to_spark("SELECT GROUPING(a, b) AS g, GROUPING(a) AS h, quantile_cont(x, 0.5) AS q FROM t "
                   "GROUP BY GROUPING SETS ((a), (a, b))")
    assert "(CAST(GROUPING(a) AS BIGINT) * 2 + CAST(GROUPING(b) AS BIGINT) * 1) AS g" in sql
    assert "GROUPING(a) AS h" in sql and "PERCENTILE(x, 0.5)" in sql
    union = to_spark("SELECT 1 AS a, 2 AS b UNION ALL BY NAME SELECT 3 AS b, 4 AS a")
    assert union == "SELECT 1 AS a, 2 AS b UNION ALL SELECT 4 AS a, 3 AS b"
    assert "NULLS LAST" in to_spark("SELECT a FROM t ORDER BY a")  # DuckDB's NULL placement, explicit
    steps = to_spark_steps('WITH c AS (SELECT a FROM "examples_r1") SELECT a FROM c UNION ALL SELECT a FROM c',
                           tables={"examples_r1": "v1"}, prefix="p")
    assert steps == [("p_0", "SELECT a FROM `v1`"), (None, "SELECT a FROM `p_0` AS c UNION ALL SELECT a FROM `p_0` AS c")]
    for _view, text in steps:
        sqlglot.parse_one(text, read="spark")


def test_only_read_only_statements_over_run_tables_are_routed():
    assert _run_tables_of('SELECT count(*) FROM "examples_r1"') == {"examples_r1"}
    assert _run_tables_of('WITH c AS (SELECT a FROM "examples_r1") SELECT a FROM c') == {"examples_r1"}
    assert _run_tables_of('UPDATE "examples_r1" SET a = 1') is None
    assert _run_tables_of("CREATE TABLE x AS SELECT 1") is None


def test_engine_choice(monkeypatch):
    monkeypatch.delenv("FAULTLINE_ENGINE", raising=False)
    assert resolve_engine() == "duckdb"
    monkeypatch.setenv("FAULTLINE_ENGINE", "SPARK")
    assert resolve_engine() == "spark" and resolve_engine("duckdb") == "duckdb"
    monkeypatch.setenv("FAULTLINE_ENGINE", "ray")
    with pytest.raises(FaultlineError, match=r"Unknown engine 'ray' \(from \$FAULTLINE_ENGINE\)"):
        resolve_engine()
