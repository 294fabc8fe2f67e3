"""``--engine`` on a command: duckdb runs as before, an unknown engine is a usage error (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from analysis.store import Store
from tests.conftest import ROOT


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env)


def test_engine_option(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.ingest_frame(pd.DataFrame({"q": ["a", "b"] * 50, "lang": ["en", "sw"] * 50,
                                         "correct": [True, False, True, True] * 25}), name="r")
    done = _run("slices", "--db", str(db), "--run", "r", "--by", "lang", "--engine", "duckdb", "--json")
    assert done.returncode == 0, done.stderr
    slices = json.loads(done.stdout)["slices"]
    assert {(row["predicate"][0]["value"], row["n"], row["errors"]) for row in slices} == {("sw", 50, 25), ("en", 50, 0)}
    wrong = _run("slices", "--db", str(db), "--run", "r", "--engine", "oracle")
    assert wrong.returncode == 2 and "oracle" in wrong.stderr
