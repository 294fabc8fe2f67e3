"""``series create/list/show/delete`` run as a user would, in a subprocess: output and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from analysis.store import Store
from tests.conftest import ROOT


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FAULTLINE_DEMO": "0"}
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env=env)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "series.duckdb"
    with Store(path) as s:
        for step in (3000, 1000, 2000):
            s.ingest_frame(pd.DataFrame({"q": [f"q{i} {step}" for i in range(4)], "lang": ["en", "sw"] * 2,
                                         "correct": [True, step > 1000, True, False]}), name=f"step-{step}")
    return path


def test_create_list_show_delete(db):
    made = cli("series", "create", "train", "--runs", "step-3000,step-1000,step-2000", "--db", str(db))
    assert made.returncode == 0, made.stderr
    assert "3 runs ordered by step; reference 'step-1000'" in made.stdout
    listing = cli("series", "list", "--db", str(db), "--json")
    assert [r["name"] for r in json.loads(listing.stdout)] == ["train"]
    shown = json.loads(cli("series", "show", "train", "--db", str(db), "--json").stdout)
    assert [r["name"] for r in shown["runs"]] == ["step-1000", "step-2000", "step-3000"]
    assert shown["reference"] == "step-1000"
    text = cli("series", "show", "train", "--db", str(db)).stdout
    assert "step-1000  (reference)" in text
    assert cli("series", "delete", "train", "--db", str(db)).returncode == 0
    assert "No series yet" in cli("series", "list", "--db", str(db)).stdout


def test_errors_exit_2_with_one_line(db):
    result = cli("series", "create", "x", "--runs", "step-1000", "--db", str(db))
    assert result.returncode == 2
    assert result.stderr.strip() == "error: A series needs at least two runs, got 1: 'step-1000'"
    result = cli("series", "show", "nope", "--db", str(db))
    assert result.returncode == 2 and "No series named 'nope'" in result.stderr
    result = cli("series", "create", "x", "--runs", "step-1000,step-2000", "--order-by", "size", "--db", str(db))
    assert result.returncode == 2
