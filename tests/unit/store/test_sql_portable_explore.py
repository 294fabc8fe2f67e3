"""The statements of cohorts, findings, the example view and the compare drill-down transpile to Spark SQL.

Recorded as :mod:`tests.unit.store.test_sql_portable` records the engine's statements, and checked by its own
test function (imported here, so it runs on this module's recording).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.objective.example import example_view
from analysis.objective.findings import findings, pin_comparison, pin_slice, withdraw_finding
from analysis.slicing.cohorts import check_cohort, cohorts, save_cohort
from analysis.slicing.compare import compare_runs
from analysis.slicing.discovery import discover
from analysis.slicing.drilldown import comparison_examples, verdict_counts
from analysis.slicing.extras import slice_extras
from analysis.slicing.table import heatmap, slice_examples, slice_table
from analysis.store import Store
from tests.unit.store.recording import recording
from tests.unit.store.test_sql_portable import (  # noqa: F401 - collected here, on this module's recording
    test_every_statement_over_example_rows_transpiles_to_spark,
)

WHERE = 'lang in ["sw", "en"] and tokens > 10 and not is_refusal and input contains "q"'


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": [f"q{i}" for i in range(n)],
                         "response": ["user: hi\nassistant: hello"] * n, "lang": rng.choice(["en", "sw", "fr"], n),
                         "tokens": rng.integers(1, 100, n).astype(float), "correct": rng.random(n) > 0.3})


@pytest.fixture(scope="module")
def statements(tmp_path_factory) -> list[str]:
    store = Store(tmp_path_factory.mktemp("portable_explore") / "s.duckdb")
    store.ingest_frame(_frame(300, 0), name="a")
    store.ingest_frame(_frame(300, 1), name="b")
    with recording(store) as log:
        r = slice_table(store, "a", ["lang", "tokens"], where=WHERE, min_support=5)
        slice_examples(store, "a", r.table["predicate"].iloc[0], where=WHERE)
        heatmap(store, "a", "lang", "tokens", where=WHERE)
        discover(store, "a", ["lang", "tokens"], where=WHERE)
        compare_runs(store, "a", "b", ["lang", "tokens"], where=WHERE)
        check_cohort(store, "a", WHERE)
        save_cohort(store, "c", WHERE, author="ada", run="a")
        cohorts(store)
        slice_extras(store, "a", ["lang", "tokens"], where=WHERE, costs={"lang": {"sw": 2.0}, "default": 1.0})
        slice_table(store, "a", ["lang", "tokens"], where=WHERE, outcome="score", min_support=5)
        f = pin_slice(store, "a", {"lang": "sw"}, author="ada", where=WHERE)
        pin_comparison(store, "a", "b", {"lang": "sw"}, author="ada", where=WHERE)
        withdraw_finding(store, f.finding_id, author="bo")
        findings(store)
        example_view(store, "a", "e3", where=WHERE)
        verdict_counts(store, "a", "b", {"tokens": r.table["predicate"].iloc[0].get("tokens", "(missing)")}
                       if "tokens" in r.table["predicate"].iloc[0] else {"lang": "sw"}, where=WHERE)
        comparison_examples(store, "a", "b", {"lang": "sw"}, verdicts=["regressed"], where=WHERE, limit=5)
    store.close()
    return [sql for sql, _ in log]
