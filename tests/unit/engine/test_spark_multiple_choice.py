"""The multiple-choice detector reads answers alike on DuckDB (RE2) and on Spark (Java's regular expressions): its
option lines (``(?m)^``), words (``\\pL``, ``\\pN``), the letter extracted from each alternative and its why, on the
hand-written cases of ``tests/unit/objective/test_multiple_choice_format.py``. Java 17 and pyspark needed (``make
test`` installs both): without them it fails, it never skips."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.objective.modes import mode_indicators
from analysis.sql.spark import spark_session, stop_spark_session
from analysis.store import Store
from analysis.store.engine import SparkRunner
from tests.unit.objective.test_multiple_choice_format import CASES, MODE, reading

pytestmark = [pytest.mark.spark, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    path = tmp_path_factory.mktemp("spark-mc") / "mc.duckdb"
    frame = pd.DataFrame({"prompt": [c[0] for c in CASES], "response": [c[1] for c in CASES],
                          "gold": ["Z"] * len(CASES), "correct": [False] * len(CASES)})
    with Store(path) as writer:
        writer.ingest_frame(frame, name="cases")
    spark_session()  # no pyspark or no Java: the test errors here (it never skips)
    duck = Store(path, read_only=True)
    spark = Store(path, read_only=True, engine="spark")
    yield duck, spark
    duck.close()
    spark.close()
    stop_spark_session()


def test_the_detector_marks_and_says_the_same_on_spark(stores, monkeypatch):
    duck, spark = stores
    on_spark: list[str] = []
    run = SparkRunner.run

    def recorded(self, cur, sql, params):
        on_spark.append(sql)
        return run(self, cur, sql, params)

    monkeypatch.setattr(SparkRunner, "run", recorded)
    a = mode_indicators(duck, "cases", with_why=True).set_index("example_id")
    assert not on_spark
    b = mode_indicators(spark, "cases", with_why=True).set_index("example_id")
    assert any("regexp_extract" in sql for sql in on_spark)  # the detector's reading ran on Spark
    assert a[MODE].any()
    pd.testing.assert_series_equal(a[MODE], b[MODE])
    pd.testing.assert_series_equal(a[f"why.{MODE}"], b[f"why.{MODE}"])
    examples = duck.examples("cases").set_index("example_id")
    assert set(a.index[a[MODE]]) == {i for i, r in examples.iterrows() if not reading(r["output"], r["input"])[0]}
