"""The same analyses on DuckDB and on Spark (local[2]) give identical results: every field, same row order.

The demo store (two runs of 20,000 examples) is analysed by the slice table at orders 1-3, discovery,
the comparison, the gate and the link, once with statements over example rows on DuckDB and once on
Spark (transpiled by :func:`analysis.sql.spark.to_spark`, the run exported to Parquet). This test needs
Java 17 and pyspark (``make test`` installs both): without them it fails, it never skips.

One Spark session for the module; each analysis once per engine.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.demo.seed import ensure_demo
from analysis.objective.link import link
from analysis.paths import DATA_DIR
from analysis.slicing.compare import compare_runs, gate
from analysis.slicing.discovery import discover
from analysis.slicing.extras import slice_extras
from analysis.slicing.table import slice_table
from analysis.sql.spark import spark_session, stop_spark_session
from analysis.store import Store
from tests.unit.engine.identical import assert_identical

pytestmark = [pytest.mark.spark, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    path = tmp_path_factory.mktemp("parity") / "demo.duckdb"
    with Store(path) as writer:
        ensure_demo(writer)
    spark_session()  # no pyspark or no Java: the test errors here (it never skips)
    duck = Store(path, read_only=True)
    spark = Store(path, read_only=True, engine="spark")
    yield duck, spark
    duck.close()
    spark.close()
    stop_spark_session()


@pytest.fixture(scope="module")
def runs(stores):
    base, cand = stores[0].runs()["name"].tolist()[:2]
    return base, cand


def test_the_spark_store_runs_example_rows_on_spark(stores, runs):
    duck, spark = stores
    assert duck.engine == "duckdb" and spark.engine == "spark"
    assert spark._spark.handles(f'SELECT count(*) FROM "{duck.run(runs[1]).table_name}"')
    assert not spark._spark.handles("SELECT name FROM runs")


@pytest.mark.parametrize("order", [1, 2, 3])
def test_slices_are_identical(stores, runs, order):
    duck, spark = stores
    a, b = (slice_table(s, runs[1], max_order=order) for s in (duck, spark))
    assert len(a.table) > 10
    assert_identical(a, b, f"slice_table(order={order})")


def test_discovery_is_identical(stores, runs):
    duck, spark = stores
    a, b = (discover(s, runs[1], holdout=True) for s in (duck, spark))
    assert len(a.table) > 0
    assert_identical(a, b, "discover")


def test_comparison_and_gate_are_identical(stores, runs):
    duck, spark = stores
    a, b = (compare_runs(s, *runs, max_order=2) for s in (duck, spark))
    assert len(a.table) > 10
    assert_identical(a, b, "compare_runs")
    assert_identical(gate(a), gate(b), "gate")


def test_link_is_identical(stores, runs):
    duck, spark = stores
    a, b = (link(s, runs[1], DATA_DIR / "objective_demo.yaml", baseline=runs[0]) for s in (duck, spark))
    assert len(a.cells) > 0
    assert_identical(a, b, "link")


def test_slice_extras_agree(stores, runs):
    """The extras' statements over example rows (ECE bin sums, score moments, percentiles, costs, raters' pairs) on
    both engines. Equal to 1e-12, not bit for bit: the ECE's confidence sums and the score's standard deviation are
    double-precision aggregates, whose last bits depend on the order each engine adds in."""
    duck, spark = stores
    costs = {"channel": {"voice": 5.0}, "default": 1.0}
    a, b = (slice_extras(s, runs[1], costs=costs) for s in (duck, spark))
    assert {"ece", "score_ci_low", "cost_weighted_error", "rater_agreement"} <= set(a.columns) and len(a) > 5
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12, atol=0.0, obj="slice_extras")
