"""Every statement the engine issues over example rows is in a portable subset: sqlglot reads
it as DuckDB and writes it as Spark SQL with unsupported features raising, and it uses none of
DuckDB's own shorthands (``::`` casts, ``EXCLUDE``, ``UNION ... BY NAME``, list lambdas,
``GROUP BY ALL``, ``SELECT *`` from a run's table).

The statements are not listed by hand: they are recorded from the connection while the engine
runs every analysis (slicing at orders 1-3, heatmap, slice examples, extras, discovery,
comparison, failure modes, annotations, link with the demo objective) on the demo store and on a
store with timestamps, numbers, raters and labels (bins, periods, calibration, agreement).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

from analysis.demo.seed import ensure_demo
from analysis.objective.annotations import add_annotations, annotations
from analysis.objective.link import link
from analysis.objective.modes import compile_modes, mode_counts, mode_examples, mode_indicators, modes_slices
from analysis.objective.spec import parse_objective
from analysis.paths import DATA_DIR
from analysis.series.trajectories import trajectories
from analysis.slicing.compare import comparable_pair, compare_runs
from analysis.slicing.discovery import discover
from analysis.slicing.extras import slice_extras
from analysis.slicing.table import heatmap, slice_examples, slice_table
from analysis.store import Store
from analysis.store.series import create_series, delete_series, list_series
from tests.unit.store.recording import recording

#: Tables that hold no example rows: the catalog, the store's own tables, DuckDB's information schema.
CATALOG_TABLES = {"store_info", "runs", "run_files", "fields", "tables", "columns"}
INTERNAL_TABLES = {"annotations", "cluster_cache", "cluster_labels", "reports", "reconciliation", "series",
                   "series_order"}

#: Statements over example rows that are exempt, and why (a regular expression on the statement).
EXEMPT = {
    r"^DESCRIBE SELECT \* FROM ": "reads the column types of the log being loaded (DuckDB's reader), no example row",
    r"^ALTER TABLE ": "DDL: adds or drops a computed column of a run's table (Store.set_example_column)",
    r"^CREATE OR REPLACE VIEW examples ": "DDL: the examples view (the runs' fixed columns stacked)",
    r"^DROP TABLE IF EXISTS ": "DDL: drops a deleted run's table",
}
#: DuckDB shorthands that Spark SQL (and the portable subset) does not have.
FORBIDDEN = {
    "a '::' cast (write CAST(x AS T))": re.compile(r"::"),
    "EXCLUDE (list the columns)": re.compile(r"\bEXCLUDE\b", re.IGNORECASE),
    "UNION ... BY NAME (list the columns)": re.compile(r"\bBY\s+NAME\b", re.IGNORECASE),
    "a list lambda": re.compile(r"\blambda\b|->", re.IGNORECASE),
    "GROUP BY ALL (name the groups)": re.compile(r"\bGROUP\s+BY\s+ALL\b", re.IGNORECASE),
    "SELECT * from a run's table (list the columns)": re.compile(r"SELECT\s+\*\s+FROM\s+\"examples_", re.IGNORECASE),
}

OBJECTIVE = DATA_DIR / "objective_demo.yaml"
LABELLED = parse_objective("""
objective: labels and detectors
components:
  - {id: rm, name: Reward model, kind: reward_model, why: useful answers, serves: accuracy,
     signals: [{column: confidence, direction: higher_is_better}], can_cause: [reward_hacking]}
labels: [mode_label]
rules:
  - {id: slow_and_wrong, mode: hallucination, when: "not correct and latency_ms > 300 and when_day >= \\"2024-01-05\\""}
detectors:
  paraphrase_disagreement: {group: paraphrase}
  group_disparity: {attributes: [lang]}
  multiple_choice_format: {field: output}
""")


def _rich_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    correct = rng.random(n) < 0.7
    return pd.DataFrame({
        "id": [f"x{i}" for i in range(n)],
        "prompt": [("user: hi\nassistant: hello\n" * (i % 3)) + "user: " + "w" * int(rng.integers(1, 300))
                   for i in range(n)],
        "response": rng.choice(["A", "(b)", "I'm sorry, but I can't help.", "", "The answer is 4"], n),
        "gold": rng.choice(["A", "B", "4"], n),
        "correct": correct,
        "score": np.where(correct, rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.5, n)),
        "lang": rng.choice(["en", "sw", "yo"], n),
        "tokens": rng.integers(1, 2000, n),
        "confidence": rng.uniform(0, 1, n),
        "latency_ms": rng.gamma(2.0, 150.0, n),
        "cost_usd": rng.uniform(0.0, 0.02, n),
        "when_day": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
        "when_week": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
        "when_month": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
        "mode_label": rng.choice(["hallucination", "over_refusal; bias", None, "not a mode"], n),
        "paraphrase": rng.integers(0, n // 4, n).astype(str),
        "rater_a": rng.choice(["good", "bad"], n), "rater_b": rng.choice(["good", "bad"], n),
        "rater_c": rng.choice(["good", "bad"], n),
    })


MAPPING = {"id": "id", "input": "prompt", "output": "response", "reference": "gold", "correct": "correct",
           "score": "score", "raters": ["rater_a", "rater_b"]}


@pytest.fixture(scope="module")
def statements(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("portable")
    demo = Store(folder / "demo.duckdb")
    rich = Store(folder / "rich.duckdb")
    found: list[str] = []
    with recording(demo) as log:
        ensure_demo(demo, n_prompts=600)
        base, cand = demo.runs()["name"].tolist()[:2]
        for order in (1, 2, 3):
            slice_table(demo, cand, max_order=order)
        heatmap(demo, cand, "language", "channel")
        result = slice_table(demo, cand, max_order=2)
        for predicate in result.table["predicate"].head(5):
            slice_examples(demo, cand, predicate, edges=result.edges)
        slice_extras(demo, cand, costs={"language": {"sw": 5.0}, "default": 1.0})
        discover(demo, cand)
        compare_runs(demo, base, cand, max_order=2)
        comparable_pair(demo)
        first = demo.examples(cand, columns=["example_id"], limit=2)["example_id"].tolist()
        add_annotations(demo, cand, [{"author": "ada", "mode": "hallucination", "example_id": first[0]},
                                     {"author": "ada", "mode": "bias", "slice": {"language": "sw"}}])
        annotations(demo, cand)
        link(demo, cand, OBJECTIVE, baseline=base)
        objective = parse_objective(OBJECTIVE.read_text(encoding="utf-8"))
        compiled = compile_modes(demo, cand, objective)
        mode_counts(demo, cand, compiled=compiled)
        mode_indicators(demo, cand, compiled=compiled, with_why=True)
        mode_examples(demo, cand, objective, "hallucination", compiled=compiled, columns=["output_length"],
                      order_by="rm_helpfulness")
        demo.set_example_column(cand, "cluster.output", pd.DataFrame({"example_id": first, "value": ["a", "b"]}),
                                role="cluster", kind="categorical")
        demo.examples(cand, limit=5)
    found += [sql for sql, _ in log]
    with recording(rich) as log:
        rich.ingest_frame(_rich_frame(400, 0), name="two raters", mapping=MAPPING)
        rich.ingest_frame(_rich_frame(400, 0).assign(score=lambda f: f["score"] * 0.9), name="three raters",
                          mapping={**MAPPING, "raters": ["rater_a", "rater_b", "rater_c"]})
        for run in ("two raters", "three raters"):
            slice_table(rich, run, max_order=3, bins=4)
            slice_table(rich, run, ["tokens", "when_day"], edges={"tokens": [10, 100, 1000]})
            for column in ("when_day", "when_week", "when_month", "tokens", "latency_ms"):
                r = slice_table(rich, run, [column], max_order=1, min_support=1)
                slice_examples(rich, run, r.table["predicate"].iloc[0], edges=r.edges)
            slice_extras(rich, run, ["lang", "tokens", "when_week"])  # mode_label has missing values
            compiled = compile_modes(rich, run, LABELLED, strict=False)
            mode_counts(rich, run, compiled=compiled)
            modes_slices(rich, run, LABELLED, compiled=compiled, by=["lang", "when_week"])
        compare_runs(rich, "two raters", "three raters", ["lang", "tokens"])
        link(rich, "three raters", LABELLED, baseline="two raters", strict=False)
        rich.rename_run("two raters", "2 raters")
        rich.set_notes("2 raters", "renamed")
        rich.delete_run("2 raters")
    found += [sql for sql, _ in log]
    series = Store(folder / "series.duckdb")
    with recording(series) as log:
        for k in range(3):  # the same examples (paired) with a numeric attribute, then a run of other examples
            series.ingest_frame(_rich_frame(300, 0).assign(score=lambda f, k=k: f["score"] * (1 - 0.1 * k)),
                                name=f"step-{k + 1}000", mapping=MAPPING)
        series.ingest_frame(_rich_frame(300, 5).assign(id=lambda f: "y" + f["id"]), name="step-4000", mapping=MAPPING)
        create_series(series, "paired", ["step-1000", "step-2000", "step-3000"])
        create_series(series, "mixed", ["step-1000", "step-2000", "step-4000"])
        for name in ("paired", "mixed"):
            trajectories(series, name, ["lang", "tokens", "when_week"], signals=["confidence", "output_length"],
                         min_support=5)
        list_series(series)
        delete_series(series, "mixed")
    found += [sql for sql, _ in log]
    series.close()
    demo.close()
    rich.close()
    return found


def _tables(tree: exp.Expression) -> set[str]:
    return {t.name for t in tree.find_all(exp.Table)}


def test_the_recording_saw_every_kind_of_statement(statements):
    text = "\n".join(statements)
    for needle in ("GROUPING SETS", "quantile_cont", "date_trunc('week'", "date_trunc('month'", "date_trunc('day'",
                   "regexp_matches", "bool_or(correct) OVER", "INSERT INTO annotations", "UPDATE ", "CREATE TABLE",
                   "JOIN cand", "LEFT JOIN (SELECT example_id AS rid", "INSERT INTO series"):
        assert needle in text, needle
    # the leakage check reads its sample's rows (leakage_rows_sql) and counts them in memory; its grouping
    # statement (leakage_sql, with LEAKAGE_IN_MEMORY off) is transpiled in tests/unit/slicing/test_default_attributes.py
    assert re.search(r'AS a\d+, correct FROM "[^"]+" WHERE NOT unscorable', text), "the leakage check's rows"


def test_every_statement_over_example_rows_transpiles_to_spark(statements):
    problems = []
    for sql in dict.fromkeys(statements):
        if any(re.search(pattern, sql.strip()) for pattern in EXEMPT):
            continue
        try:
            (tree,) = sqlglot.parse(sql, read="duckdb")
        except sqlglot.errors.ParseError as err:
            problems.append(f"{sql[:160]}\n    does not parse as DuckDB: {err}")
            continue
        if tree is None or _tables(tree) <= CATALOG_TABLES | INTERNAL_TABLES:
            continue  # transaction control, the catalog and the store's own tables: no example row
        try:
            sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
        except sqlglot.errors.SqlglotError as err:
            problems.append(f"{sql[:160]}\n    does not transpile to Spark: {str(err).splitlines()[0]}")
        problems += [f"{sql[:160]}\n    uses {what}" for what, pattern in FORBIDDEN.items() if pattern.search(sql)]
    assert not problems, "\n".join(problems)


def test_exempt_statements_touch_no_example_row_except_the_listed_ddl(statements):
    exempt = [sql for sql in dict.fromkeys(statements) if any(re.search(p, sql.strip()) for p in EXEMPT)]
    assert exempt, "the exemptions are used"
    for sql in exempt:
        tree = sqlglot.parse_one(sql, read="duckdb")
        assert not isinstance(tree, (exp.Select, exp.Union, exp.Insert, exp.Update, exp.Delete)), sql


def _engine_sources():
    from analysis.paths import PROJECT_ROOT

    for path in sorted((PROJECT_ROOT / "analysis").rglob("*.py")):
        relative = path.relative_to(PROJECT_ROOT).as_posix()
        if not relative.startswith(("analysis/store/", "analysis/sql/")) and relative != "analysis/demo/generator.py":
            yield relative, path.read_text(encoding="utf-8")  # the generator's texts quote SQL as example outputs


def test_no_sql_and_no_write_lock_outside_the_store_layer():
    """SQL text lives in the SQL layer (``analysis/sql``, which the formats may use too) and the store's DDL."""
    statement = re.compile(r"""["'](SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|BEGIN|COMMIT|ROLLBACK|WITH|DESCRIBE)\s""")
    found = [f"{name}: {m.group(0)}" for name, text in _engine_sources() for m in statement.finditer(text)]
    found += [f"{name}: _write_lock" for name, text in _engine_sources() if "_write_lock" in text]
    assert not found, found
