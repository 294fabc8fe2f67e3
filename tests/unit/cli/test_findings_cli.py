"""``findings``: add (pin), list, withdraw and export from the command line, with exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.cli import EXIT_ERROR, EXIT_OK, main
from analysis.store import Store
from tests.conftest import ROOT


@pytest.fixture
def db(tmp_path):
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n,
                          "lang": rng.choice(["en", "sw"], size=n), "correct": rng.random(n) > 0.3})
    path = tmp_path / "f.duckdb"
    with Store(path) as store:
        store.ingest_frame(frame, name="base")
        store.ingest_frame(frame.assign(correct=rng.random(n) > 0.4), name="cand")
    return str(path), frame


def test_add_list_withdraw_export(db, capsys, tmp_path):
    path, frame = db
    assert main(["findings", "add", "--db", path, "--run", "base", "--slice", '{"lang": "sw"}', "--author", "ada",
                 "--note", "look"]) == EXIT_OK
    out = capsys.readouterr().out
    sw = frame[frame["lang"] == "sw"]
    assert f"lang = sw: {int((~sw['correct']).sum())} of {len(sw)} answers wrong" in out
    assert main(["findings", "add", "--db", path, "--run", "cand", "--baseline", "base", "--slice", "{}",
                 "--author", "ada"]) == EXIT_OK
    assert main(["findings", "add", "--db", path, "--run", "base", "--cluster", "2", "--evidence",
                 '{"n": 10, "errors": 5, "error_rate": 0.5}', "--author", "ada"]) == EXIT_OK
    capsys.readouterr()
    assert main(["findings", "list", "--db", path, "--json"]) == EXIT_OK
    listed = json.loads(capsys.readouterr().out)
    assert [r["kind"] for r in listed] == ["slice", "comparison", "cluster"]
    assert main(["findings", "withdraw", listed[2]["finding_id"], "--author", "bo", "--db", path]) == EXIT_OK
    capsys.readouterr()
    assert main(["findings", "list", "--db", path]) == EXIT_OK
    text = capsys.readouterr().out
    assert "[cluster]" not in text and "[slice] lang = sw" in text and "note: look" in text
    assert main(["findings", "export", str(tmp_path / "all.jsonl"), "--db", path]) == EXIT_OK
    assert len((tmp_path / "all.jsonl").read_text(encoding="utf-8").splitlines()) == 4


@pytest.mark.parametrize(("argv", "message"), [
    (["findings", "add", "--run", "base", "--author", "a"], "Give exactly one of --slice, --cluster or --cell"),
    (["findings", "add", "--run", "base", "--author", "a", "--slice", "[1]"], "--slice must be a JSON object"),
    (["findings", "add", "--run", "base", "--author", "a", "--cluster", "1"], "need --evidence"),
    (["findings", "withdraw", "nope", "--author", "a"], "No finding 'nope'"),
])
def test_errors_exit_2(db, capsys, argv, message):
    assert main([*argv, "--db", db[0]]) == EXIT_ERROR
    assert message in capsys.readouterr().err


def test_subprocess(db):
    out = subprocess.run([sys.executable, "-m", "analysis", "findings", "list", "--db", db[0]], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert out.returncode == EXIT_OK and "No findings yet" in out.stdout
