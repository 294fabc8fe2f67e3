"""A Parquet-backed run on Spark is read where it lies, and every number is the one DuckDB gives.

Two Parquet files (of different lengths, with missing values and graded scores) are registered as one run
(:meth:`Store.register_parquet`); the slice table (orders 1 and 2), discovery and the record numbering are
computed with statements over example rows on DuckDB and on Spark (local[2]) and compared field by field. Spark
reads the same files (nothing is exported to the staging folder). Needs Java 17 and pyspark: fails, never skips.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.slicing.discovery import discover
from analysis.slicing.table import slice_table
from analysis.sql.spark import spark_session, stop_spark_session
from analysis.store import Store
from tests.unit.engine.identical import assert_identical

pytestmark = [pytest.mark.spark, pytest.mark.timeout(1800)]

MAPPING = {"id": "id", "input": "prompt", "score": "score", "correct": "correct",
           "metadata": ["lang", "domain", "tokens"]}


def _part(rng, start: int, n: int) -> pd.DataFrame:
    frame = pd.DataFrame({"id": [f"e{i}" for i in range(start, start + n)],
                          "prompt": [f"question {i % 97}" for i in range(start, start + n)],
                          "lang": rng.choice(["en", "sw", "fr", None], n, p=[0.5, 0.2, 0.25, 0.05]),
                          "domain": rng.choice(["law", "med", "code"], n),
                          "tokens": rng.integers(5, 400, n).astype("float64"),
                          "score": np.round(rng.random(n), 4)})
    frame["correct"] = frame["score"] + 0.2 * (frame["lang"] == "sw") < 0.65
    frame.loc[rng.random(n) < 0.03, "tokens"] = np.nan
    return frame


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lake")
    rng = np.random.default_rng(11)
    (folder / "parts").mkdir()
    _part(rng, 0, 2500).to_parquet(folder / "parts" / "a.parquet", index=False)
    _part(rng, 2500, 1700).to_parquet(folder / "parts" / "b.parquet", index=False)
    path = folder / "lake.duckdb"
    with Store(path) as writer:
        writer.register_parquet(folder / "parts", name="lake", mapping=MAPPING)
    spark_session()  # no pyspark or no Java: the test errors here (it never skips)
    duck = Store(path, read_only=True)
    spark = Store(path, read_only=True, engine="spark")
    yield duck, spark
    duck.close()
    spark.close()
    stop_spark_session()


def test_spark_reads_the_files_in_place_and_numbers_rows_as_duckdb(stores):
    duck, spark = stores
    table = duck.run("lake").table_name
    sql = f'SELECT example_id, source_row, "meta.lang", "meta.tokens", score, correct, unscorable FROM "{table}" ORDER BY source_row'
    a = duck.cursor().execute(sql).df()
    b = spark.cursor().execute(sql).df()
    assert len(a) == 4200 and a["source_row"].tolist() == list(range(1, 4201))
    assert_identical(a, b, "rows")
    assert not spark._spark.staging().exists() or not any(spark._spark.staging().iterdir())


@pytest.mark.parametrize("order", [1, 2])
def test_slices_of_a_registered_run_are_identical(stores, order):
    duck, spark = stores
    a, b = (slice_table(s, "lake", max_order=order) for s in (duck, spark))
    assert len(a.table) > 5
    assert_identical(a, b, f"slice_table(order={order})")


def test_discovery_of_a_registered_run_is_identical(stores):
    duck, spark = stores
    a, b = (discover(s, "lake", holdout=True) for s in (duck, spark))
    assert_identical(a, b, "discover")
    assert not spark._spark.staging().exists() or not any(spark._spark.staging().iterdir())
