"""A profile's distinct count taken in its one pass (``distinct_in_pass``) is the capped subquery's number.

The report's attribute choice profiles derived features (a refusal's regular expression, the blank-output test)
over every example; counting their distinct values in the pass that computes them anyway, rather than in a capped
subquery that computes them again over the whole run, must give the same profile. Expected counts come from pandas.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.sql import slices as Q


def _table(seed: int) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 3000
    frame = pd.DataFrame({"x": rng.integers(0, 90, n).astype("float64"),
                          "b": rng.random(n) < 0.3,
                          "text": [("sorry, but no" if r < 0.1 else "fine " * int(r * 10)) for r in rng.random(n)],
                          "g": rng.integers(0, 2, n)})
    frame.loc[rng.random(n) < 0.1, "x"] = np.nan
    frame["b"] = frame["b"].astype("object")
    frame.loc[rng.random(n) < 0.05, "b"] = None
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE t AS SELECT x, CAST(b AS BOOLEAN) AS b, text, g FROM frame")
    return con, frame


#: (expression, pandas series of its values) for a number, a boolean with missing values and a derived boolean.
EXPRESSIONS = {
    "number": ('"x"', lambda f: f["x"]),
    "boolean": ('"b"', lambda f: f["b"]),
    "derived": ("regexp_matches(lower(\"text\"), ?)", lambda f: f["text"].str.lower().str.contains("sorry, but")),
}


@pytest.mark.parametrize("kind", list(EXPRESSIONS))
@pytest.mark.parametrize("cap", [1, 2, 61, 500])
def test_the_count_in_the_pass_is_the_exact_count_capped(kind, cap):
    con, frame = _table(cap)
    expr, values = EXPRESSIONS[kind]
    params = ["sorry, but"] if "?" in expr else []
    series = values(frame)
    for in_pass in (False, True):
        request = Q.ProfileRequest(expr, params, distinct_cap=cap, distinct_in_pass=in_pass)
        distinct, missing = con.execute(*Q.profile_sql("t", [request])).fetchone()
        assert distinct == min(series.nunique(dropna=True), cap)
        assert missing == int(series.isna().sum())


def test_the_whole_profile_is_the_same_either_way_over_a_cohort():
    """Every column of a profile of several requests (ranges, quantiles) over a cohort: the same both ways."""
    con, _ = _table(11)
    cohort = ("g = ?", [1])

    def requests(in_pass: bool) -> list[Q.ProfileRequest]:
        return [Q.ProfileRequest('"x"', [], value_range=True, quantiles=[0.25, 0.5, 0.75], distinct_in_pass=in_pass),
                Q.ProfileRequest('"b"', [], distinct_in_pass=in_pass),
                Q.ProfileRequest("regexp_matches(lower(\"text\"), ?)", ["sorry"], distinct_in_pass=in_pass),
                Q.ProfileRequest("length(\"text\")", [], value_range=True, quantiles=[0.5], distinct_in_pass=in_pass)]

    subquery = con.execute(*Q.profile_sql("t", requests(False), cohort=cohort)).fetchone()
    in_pass = con.execute(*Q.profile_sql("t", requests(True), cohort=cohort)).fetchone()
    assert in_pass == subquery


@pytest.mark.parametrize("values", [[True, False, None], [True, True], [None, None], [False, None], [True, False]],
                         ids=["both-and-missing", "constant", "all-missing", "one-and-missing", "both"])
def test_values_seen_counts_a_missing_value_as_one_up_to_two(values):
    """``values_seen``: the count of values taken, a missing value counting as one, capped at 2 (pandas' count
    with missing values kept); an attribute is constant exactly when the old profile said so."""
    frame = pd.DataFrame({"b": pd.array((values * 500)[:1000], dtype="boolean"), "g": np.arange(1000) % 2})
    con = duckdb.connect()
    con.register("frame", frame)
    con.execute("CREATE TABLE t AS SELECT b, g FROM frame")
    seen, zero = con.execute(*Q.profile_sql("t", [Q.ProfileRequest('"b"', [], values_seen=True)])).fetchone()
    assert (seen, zero) == (min(frame["b"].nunique(dropna=False), 2), 0)
    distinct, missing = con.execute(*Q.profile_sql("t", [Q.ProfileRequest('"b"', [])])).fetchone()
    assert (seen <= 1) == (distinct + (1 if missing else 0) <= 1)
    # beside other requests, over a cohort: the others' columns unchanged
    others = [Q.ProfileRequest('"g"', [], value_range=True)]
    cohort = ("g = ?", [0])
    with_seen = con.execute(*Q.profile_sql("t", [Q.ProfileRequest('"b"', [], values_seen=True), *others],
                                           cohort=cohort)).fetchone()
    alone = con.execute(*Q.profile_sql("t", others, cohort=cohort)).fetchone()
    assert with_seen[0] == min(frame.loc[frame["g"] == 0, "b"].nunique(dropna=False), 2)
    assert with_seen[2:] == alone
