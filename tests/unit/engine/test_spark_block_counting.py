"""The two-stage count of the slice blocks (:func:`analysis.sql.slices.block_counting`) runs on Spark (local[2])
and gives the slice table DuckDB gives, every field (the demo, statements over example rows on each engine).
Needs Java 17 and pyspark, as the other parity tests: without them it fails, it never skips."""

from __future__ import annotations

import pytest

from analysis.demo.seed import ensure_demo
from analysis.slicing import counts as C
from analysis.slicing.table import slice_table
from analysis.sql import slices as Q
from analysis.sql.spark import spark_session, stop_spark_session
from analysis.store import Store
from tests.unit.engine.identical import assert_identical

pytestmark = [pytest.mark.spark, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    path = tmp_path_factory.mktemp("blocks-spark") / "demo.duckdb"
    with Store(path) as writer:
        ensure_demo(writer, n_prompts=2000)
    spark_session()  # no pyspark or no Java: the test errors here (it never skips)
    duck = Store(path, read_only=True)
    spark = Store(path, read_only=True, engine="spark")
    yield duck, spark
    duck.close()
    spark.close()
    stop_spark_session()


@pytest.mark.parametrize("where", [None, "confidence > 0.5"])
def test_two_stage_slices_are_identical_on_spark(stores, monkeypatch, where):
    duck, spark = stores
    monkeypatch.setattr(Q, "COMBO_RATIO", 0)  # every block statement in two stages
    monkeypatch.setattr(Q, "COMBO_CELLS", float("inf"))
    monkeypatch.setattr(C, "IN_MEMORY_MAX_ROWS", 0)  # counted by the SQL statement, not in memory
    calls = []
    original = Q.block_counting
    monkeypatch.setattr(Q, "block_counting", lambda a, r: calls.append(original(a, r)) or calls[-1])
    run = duck.runs()["name"].tolist()[0]
    tables = []
    for store in (duck, spark):
        C.clear(store)
        tables.append(slice_table(store, run, max_order=2, where=where).table)
    assert calls and set(calls) == {"combinations"}
    assert_identical(tables[0], tables[1])


def test_rater_coincidences_are_identical_on_spark(stores):
    """Krippendorff's coincidence sums (:func:`analysis.sql.extras.rater_coincidences_sql`) on both engines: the
    same integer sums (the demo's two raters, read as three columns to have units with 2 and 3 labels)."""
    from analysis.sql import extras as X

    duck, spark = stores
    info = duck.run(duck.runs()["name"].tolist()[0])
    raters = ["rater.rater_a", "rater.rater_b", "rater.rater_a"]
    sql, params = X.rater_coincidences_sql(info.table_name, '"meta.language"', [], raters)
    assert spark._spark.handles(sql)
    got = [sorted(store.cursor().execute(sql, params).fetchall(), key=repr) for store in (duck, spark)]
    assert got[0] and got[0] == got[1]
    assert {int(r[1]) for r in got[0]} <= {2, 3}


def test_a_spark_slice_table_reads_no_per_example_codes(stores, monkeypatch):
    """Below the in-memory bound DuckDB counts from per-example codes; Spark must never pull them into Python."""
    _, spark = stores

    def refuse(*args, **kwargs):
        raise AssertionError("per-example attribute codes read on Spark")

    monkeypatch.setattr(C, "_column_loader", refuse)
    C.clear(spark)
    run = spark.runs()["name"].tolist()[0]
    assert len(slice_table(spark, run, max_order=2).table) > 0
