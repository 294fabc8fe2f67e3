"""The series gate: its checks against a direct computation, its budgets, JUnit and Markdown output, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from analysis.demo.seed import DEMO_MAPPING, ensure_demo_series
from analysis.demo.series import SERIES_NAME, generate_series_demo
from analysis.errors import FaultlineError
from analysis.series.gate import MSG_BUDGET, series_gate
from analysis.store import Store
from analysis.store.series import create_series
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("gate") / "demo.duckdb"
    with Store(path) as store:
        ensure_demo_series(store)
        # a series that holds still: the first checkpoint twice (the same answers, loaded under two names)
        first = generate_series_demo().runs["rlhf step-1000"]
        store.ingest_frame(first.assign(input=first["input"] + " "), name="copy step-9000",
                           mapping={**DEMO_MAPPING, "raters": []})
        create_series(store, "still", ["rlhf step-1000", "copy step-9000"])
    return path


def test_the_drifting_demo_fails_on_the_planted_slices(demo_db):
    with Store(demo_db, read_only=True) as store:
        result = series_gate(store, SERIES_NAME, ["domain", "language", "channel"])
        frames = {n: store.examples(n, columns=["example_id", "correct"]).set_index("example_id")
                  for n in ("rlhf step-1000", "rlhf step-6000")}
    assert not result.passed
    breaking = set(zip(result.breaking["description"], result.breaking["check"]))
    assert ("domain = medical", "total") in breaking and ("language = hi", "total") in breaking
    assert ("domain = medical", "per run") in breaking  # 32% -> 42% errors from step 5,000 to 6,000
    assert not {d for d, _ in breaking} & {"language = fr", "channel = api", "domain = code"}
    # the total check's drop is the paired difference on the shared examples, its p-value McNemar's
    both = frames["rlhf step-1000"].merge(frames["rlhf step-6000"], left_index=True, right_index=True,
                                          suffixes=("_ref", "_new"))
    row = result.checks[(result.checks["description"] == "(all examples)") & (result.checks["check"] == "total")]
    assert row["drop"].iloc[0] == pytest.approx(both["correct_ref"].mean() - both["correct_new"].mean())
    table = pd.crosstab(both["correct_ref"], both["correct_new"]).reindex(index=[True, False], columns=[True, False],
                                                                         fill_value=0).to_numpy()
    assert mcnemar(table, exact=True).pvalue < 0.05


def test_a_still_series_passes_and_budgets_are_checked(demo_db):
    with Store(demo_db, read_only=True) as store:
        assert series_gate(store, "still", ["domain", "language"]).passed
        with pytest.raises(FaultlineError) as err:
            series_gate(store, "still", max_drop_total=5)
    assert str(err.value) == MSG_BUDGET.format(name="max_drop_total", value=5)


def cli(*args):
    env = {**os.environ, "FAULTLINE_DEMO": "0"}
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env=env)


def test_cli_exit_codes_junit_and_markdown(demo_db, tmp_path):
    junit, md = tmp_path / "gate.xml", tmp_path / "gate.md"
    failed = cli("gate", "--series", SERIES_NAME, "--by", "domain,language", "--db", str(demo_db), "--junit",
                 str(junit), "--markdown", str(md))
    assert failed.returncode == 1, failed.stderr
    assert failed.stdout.startswith("Series gate FAILED") and "BREAKS  domain = medical [total]" in failed.stdout
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert root.tag == "testsuites" and int(suite.get("failures")) >= 2
    assert int(suite.get("tests")) == len(list(suite.iter("testcase")))
    assert int(suite.get("failures")) == sum(case.find("failure") is not None for case in suite.iter("testcase"))
    assert any(case.find("failure") is not None and case.get("name").startswith("domain = medical")
               for case in suite.iter("testcase"))
    assert md.read_text(encoding="utf-8").startswith("### Series gate: rlhf-checkpoints: FAILED")
    passed = cli("gate", "--series", "still", "--by", "domain", "--db", str(demo_db))
    assert passed.returncode == 0 and passed.stdout.startswith("Series gate PASSED")
    both = cli("gate", "--series", "still", "--baseline", "a", "--candidate", "b", "--db", str(demo_db))
    assert both.returncode == 2 and "Give either --series NAME, or both --baseline and --candidate" in both.stderr
    neither = cli("gate", "--db", str(demo_db))
    assert neither.returncode == 2
