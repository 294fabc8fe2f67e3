"""Without a JVM: a Parquet-backed run's base view as Spark reads it, and DuckDB's ``len`` of a list on Spark."""

from __future__ import annotations

import duckdb
import pandas as pd
import sqlglot

from analysis.sql import lake as L
from analysis.sql.features import turn_expr
from analysis.sql.spark import to_spark
from analysis.store import Store


def test_the_turn_feature_counts_list_items_on_spark():
    text = to_spark(f"SELECT {turn_expr()} AS turn, length(output) AS n, quantile_cont({turn_expr()}, 0.5) FROM t")
    assert text.count("SIZE(REGEXP_EXTRACT_ALL(") == 2 and "LENGTH(output)" in text  # inside percentile too
    con = duckdb.connect()  # and DuckDB's own reading of the expression counts items
    rows = con.execute(f"SELECT {turn_expr()} FROM (SELECT unnest(['user: a\nassistant: b\nuser: c', 'plain', NULL])"
                       " AS input)").fetchall()
    assert [r[0] for r in rows] == [2, 1, 1]


def test_a_registered_runs_view_reads_the_same_files_on_spark(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, n in enumerate((3, 4)):
        pd.DataFrame({"id": [f"e{i}{j}" for j in range(n)], "prompt": ["q"] * n,
                      "correct": [j % 2 == 0 for j in range(n)]}).to_parquet(folder / f"p{i}.parquet", index=False)
    with Store(tmp_path / "s.duckdb") as store:
        store.register_parquet(folder, name="r")
        table = store.run("r").table_name
        cur = store.cursor()
        own = cur.execute(L.VIEW_SQL, [table]).fetchone()[0]
        base = cur.execute(L.VIEW_SQL, [L.base_view(table)]).fetchone()[0]
    assert L.plain_examples_view(table, own)
    assert not L.plain_examples_view(table, L.examples_view_sql(table, "extra_x", ["cluster.input"]))
    files, spark_sql = L.spark_base_sql(base, "faultline_src")
    assert files == [str((folder / "p0.parquet").resolve()), str((folder / "p1.parquet").resolve())]
    tree = sqlglot.parse_one(spark_sql, read="spark")
    assert {t.name for t in tree.find_all(sqlglot.exp.Table)} == {"faultline_src"}
    assert "read_parquet" not in spark_sql.lower() and "example_id" in spark_sql
