"""``--where``, ``--cohort`` and the ``cohorts`` command: exit codes, and the same numbers as the engine."""

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
    n = 600
    frame = pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n,
                          "lang": rng.choice(["en", "sw"], size=n), "domain": rng.choice(["legal", "chat"], size=n),
                          "correct": rng.random(n) > 0.3})
    path = tmp_path / "cli.duckdb"
    with Store(path) as store:
        store.ingest_frame(frame, name="base")
        store.ingest_frame(frame.assign(correct=rng.random(n) > 0.4), name="cand")
    return str(path), frame


def run_json(argv, capsys):
    assert main(argv) == EXIT_OK
    return json.loads(capsys.readouterr().out)


def test_slices_where_and_saved_cohort_agree_with_pandas(db, capsys):
    path, frame = db
    where = 'domain = "legal"'
    assert main(["cohorts", "save", "--db", path, "--name", "legal", "--where", where, "--author", "ada",
                 "--run", "base"]) == EXIT_OK
    assert "Saved cohort legal v1; " in capsys.readouterr().out
    by_text = run_json(["slices", "--db", path, "--run", "base", "--by", "lang", "--where", where, "--json"], capsys)
    by_name = run_json(["slices", "--db", path, "--run", "base", "--by", "lang", "--cohort", "legal", "--json"], capsys)
    assert by_text == by_name
    legal = frame[frame["domain"] == "legal"]
    assert by_text["n"] == len(legal) and by_text["errors"] == int((~legal["correct"]).sum())
    sw = next(r for r in by_text["slices"] if r["predicate"] == [{"attribute": "lang", "value": "sw"}])
    assert sw["n"] == int((legal["lang"] == "sw").sum())
    assert by_text["settings"]["where"] == where


def test_compare_gate_discover_take_a_cohort(db, capsys):
    path, frame = db
    out = run_json(["compare", "--db", path, "--baseline", "base", "--candidate", "cand", "--where",
                    'lang = "sw"', "--json"], capsys)
    assert out["matched"] == int((frame["lang"] == "sw").sum())
    code = main(["gate", "--db", path, "--baseline", "base", "--candidate", "cand", "--where", 'lang = "sw"'])
    assert code in (0, 1)
    capsys.readouterr()
    found = run_json(["discover", "--db", path, "--run", "base", "--where", 'lang = "sw"', "--json"], capsys)
    assert found["settings"]["where"] == 'lang = "sw"'


def test_cohorts_list_and_show(db, capsys):
    path, _ = db
    assert main(["cohorts", "list", "--db", path]) == EXIT_OK
    assert "No saved cohorts yet" in capsys.readouterr().out
    for where in ('lang = "sw"', 'lang = "sw" and domain = "chat"'):
        assert main(["cohorts", "save", "--db", path, "--name", "sw", "--where", where, "--author", "bo"]) == EXIT_OK
    capsys.readouterr()
    listed = run_json(["cohorts", "list", "--db", path, "--json"], capsys)
    assert [(r["name"], r["version"], r["versions"]) for r in listed] == [("sw", 2, 2)]
    assert len(run_json(["cohorts", "list", "--db", path, "--history", "--json"], capsys)) == 2
    shown = run_json(["cohorts", "show", "sw", "--version", "1", "--run", "base", "--db", path, "--json"], capsys)
    assert shown["predicate"] == 'lang = "sw"' and shown["examples"] > 0


@pytest.mark.parametrize(("argv", "message"), [
    (["slices", "--run", "base", "--where", 'lenguage = "sw"'],
     "error: Rule 'cohort', position 1: unknown field 'lenguage'"),
    (["slices", "--run", "base", "--where", "x", "--cohort", "y"], "give --where or --cohort, not both"),
    (["slices", "--run", "base", "--cohort", "nope"], "No saved cohort 'nope'"),
    (["cohorts", "save", "--name", "bad", "--where", 'lang = "sw" and', "--author", "ada", "--run", "base"],
     "position 16: expected a field or a value"),
])
def test_errors_exit_2_with_the_position(db, capsys, argv, message):
    path, _ = db
    assert main([*argv, "--db", path]) == EXIT_ERROR
    assert message in capsys.readouterr().err


def test_subprocess_exit_code(db):
    path, _ = db
    out = subprocess.run([sys.executable, "-m", "analysis", "slices", "--db", path, "--run", "base", "--where",
                          'domain = 3'], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == EXIT_ERROR
    assert "position 10" in out.stderr and "'domain'" in out.stderr
