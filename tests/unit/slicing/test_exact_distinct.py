"""Decisions on a count of distinct values are exact, never the approximate count recorded at ingest.

The "more than 60 values" rule of the default attributes and the "at most 12 values stay categorical" rule of
bins read an exact count capped one above the threshold (:func:`analysis.sql.slices.capped_distinct_sql`).
The value sets below were chosen so that DuckDB's ``approx_count_distinct`` (a HyperLogLog sketch) lands on the
wrong side of 60: 61 values it counts as 60, 60 values it counts as 62. The expected counts come from pandas.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.slicing.attributes import MAX_DEFAULT_CARDINALITY, default_attributes
from analysis.sql import slices as Q

N = 1220
#: 61 values DuckDB's sketch counts as 60, and 60 values it counts as 62.
SIXTY_ONE = [f"v0_{i}" for i in range(61)]
SIXTY = [f"v1_{i}" for i in range(60)]


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"prompt": [f"q{i}" for i in range(N)],
                         "region": [SIXTY_ONE[i % 61] for i in range(N)],
                         "site": [SIXTY[i % 60] for i in range(N)],
                         "correct": rng.random(N) < 0.7})


def test_the_chosen_values_fool_the_sketch():
    con = duckdb.connect()
    approx = [con.execute("SELECT approx_count_distinct(x) FROM (SELECT unnest(?) AS x)", [v]).fetchone()[0]
              for v in (SIXTY_ONE, SIXTY)]
    assert approx[0] <= MAX_DEFAULT_CARDINALITY < approx[1]
    assert (pd.Series(SIXTY_ONE).nunique(), pd.Series(SIXTY).nunique()) == (61, 60)


def test_the_more_than_60_values_rule_is_exact_where_the_recorded_count_is_not(store):
    frame = _frame()
    store.ingest_frame(frame, name="r")
    recorded = store.fields("r").set_index("column_name")["n_distinct"]
    # the count recorded at ingest is the sketch's: wrong on both sides of the rule
    assert recorded["meta.region"] <= MAX_DEFAULT_CARDINALITY < recorded["meta.site"]
    chosen = default_attributes(store, "r")
    names = [a.name for a in chosen]
    assert (frame["region"].nunique() > MAX_DEFAULT_CARDINALITY) == ("region" not in names)
    assert (frame["site"].nunique() > MAX_DEFAULT_CARDINALITY) == ("site" not in names)
    assert "region" in chosen.left_out and "site" not in chosen.left_out
    assert chosen.left_out["region"] == f"61 distinct values (more than {MAX_DEFAULT_CARDINALITY})"


@pytest.mark.parametrize("cap", [1, 12, 13, 60, 61, 500])
def test_a_capped_distinct_count_is_the_exact_count_up_to_the_cap(cap):
    rng = np.random.default_rng(cap)
    frame = pd.DataFrame({"x": rng.integers(0, 80, 2000).astype("float64"), "g": rng.integers(0, 2, 2000)})
    frame.loc[rng.random(2000) < 0.1, "x"] = np.nan  # missing values are not values
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE t AS SELECT x, g FROM frame")
    sql, params = Q.capped_distinct_sql("t", '"x"', [], cap)
    assert con.execute(f"SELECT {sql}", params).fetchone()[0] == min(frame["x"].nunique(), cap)
    sql, params = Q.capped_distinct_sql("t", '"x"', [], cap, where="g = ?", where_params=[1])
    assert con.execute(f"SELECT {sql}", params).fetchone()[0] == min(frame.loc[frame["g"] == 1, "x"].nunique(), cap)


def test_bins_follow_the_exact_count_of_values(store):
    """A number with 13 values is binned, one with 12 stays categorical (the profile's count is exact)."""
    from analysis.slicing.attributes import FEW_DISTINCT, prepare_attributes, resolve_attributes

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"prompt": [f"q{i}" for i in range(N)],
                          "turns": [float(i % (FEW_DISTINCT + 1)) for i in range(N)],
                          "hops": [float(i % FEW_DISTINCT) for i in range(N)],
                          "correct": rng.random(N) < 0.7})
    store.ingest_frame(frame, name="r")
    schema = store.schema("r")
    prepared = prepare_attributes(store, schema.run.table_name, resolve_attributes(store, schema, ["turns", "hops"]),
                                  bins=5, edges=None)
    binned = {p.attribute.name: p.edges is not None for p in prepared}
    assert binned == {"turns": frame["turns"].nunique() > FEW_DISTINCT, "hops": frame["hops"].nunique() > FEW_DISTINCT}


def test_bin_edges_are_exact_percentiles_from_one_list_of_quantiles():
    """The profile asks for every quantile of a number in one ``quantile_cont`` (one sorted copy of the values);
    each edge is numpy's linear-interpolation percentile, missing values left out."""
    rng = np.random.default_rng(5)
    values = rng.normal(size=2001)
    values[rng.random(2001) < 0.05] = np.nan
    con = duckdb.connect()
    con.register("frame", pd.DataFrame({"x": values}))
    con.execute("CREATE TABLE t AS SELECT x FROM frame")
    quantiles = [0.2, 0.4, 0.6, 0.8]
    sql, params = Q.profile_sql("t", [Q.ProfileRequest('"x"', [], value_range=True, quantiles=quantiles)])
    row = con.execute(sql, params).fetchone()
    expected = np.percentile(values[~np.isnan(values)], [100 * q for q in quantiles])
    assert row[-1] == pytest.approx(list(expected), rel=1e-12, abs=1e-12)
    assert row[2:4] == (np.nanmin(values), np.nanmax(values))
