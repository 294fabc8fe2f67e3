"""The CLI, run as a user would: `python -m analysis ...` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import HELM_BBQ, LM_EVAL_SAMPLES, PROMPTFOO_JSON, ROOT

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


def cli(*args: str, env_db=None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "FAULTLINE_DEMO": "0"}
    if env_db:
        env["FAULTLINE_DB"] = str(env_db)
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env=env)


@pytest.mark.parametrize("command", ["ingest", "runs", "demo"])
def test_help_on_each_command(command):
    result = cli(command, "--help")
    assert result.returncode == 0 and "--db" in result.stdout


def test_ingest_then_runs_json(tmp_path):
    db = tmp_path / "cli.duckdb"
    result = cli("ingest", str(HELM_BBQ), str(LM_EVAL_SAMPLES), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Loaded run") == 3
    assert "100.0%|" in result.stderr  # the progress bar, on stderr
    listing = json.loads(cli("runs", "--db", str(db), "--json").stdout)
    assert len(listing) == 3
    for run in listing:
        assert {"run_id", "name", "model", "format", "rows", "sha256"} <= set(run)
    helm = [r for r in listing if r["format"] == "helm"]
    assert {r["model"] for r in helm} == {"openai/gpt-4o-2024-05-13", "meta/llama-3-8b-chat"}
    assert all(len(r["sha256"]) == 3 and all(len(h) == 64 for h in r["sha256"]) for r in helm)
    text = cli("runs", "--db", str(db)).stdout
    assert "bbq · openai/gpt-4o-2024-05-13" in text and "95.0%" in text


def test_ingest_twice_says_already_loaded(tmp_path):
    db = tmp_path / "twice.duckdb"
    assert cli("ingest", str(PROMPTFOO_JSON), "--db", str(db)).returncode == 0
    again = cli("ingest", str(PROMPTFOO_JSON), "--db", str(db))
    assert again.returncode == 0 and again.stdout.count("Already loaded") == 2


def test_ingest_error_exit_code_and_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,prompt,score\n1,a,zero\n")
    result = cli("ingest", str(bad), "--db", str(tmp_path / "e.duckdb"))
    assert result.returncode == 2
    assert "error: bad.csv, row 1 (line 2), field 'score': expected a number for the score, got 'zero'" in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_with_name_model_and_mapping(tmp_path):
    log = tmp_path / "odd.csv"
    log.write_text("qq,said,ok\nx,y,1\nz,w,0\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("input: qq\noutput: said\ncorrect: ok\n")
    db = tmp_path / "m.duckdb"
    result = cli("ingest", str(log), "--db", str(db), "--mapping", str(mapping), "--name", "mine", "--model", "m-1",
                 "--json")
    assert result.returncode == 0, result.stderr
    added = json.loads(result.stdout)["added"]  # stdout holds the JSON alone...
    assert "100.0%|" in result.stderr  # ...and the progress bar goes to stderr
    assert added[0]["name"] == "mine" and added[0]["model"] == "m-1" and added[0]["rows"] == 2


def test_db_from_environment_variable(tmp_path):
    db = tmp_path / "env.duckdb"
    assert cli("ingest", str(LM_EVAL_SAMPLES), env_db=db).returncode == 0
    assert len(json.loads(cli("runs", "--json", env_db=db).stdout)) == 1


def test_runs_on_empty_store(tmp_path):
    from analysis import open_store
    open_store(tmp_path / "empty.duckdb", seed_demo=False).close()
    result = cli("runs", "--db", str(tmp_path / "empty.duckdb"))
    assert result.returncode == 0 and "No runs" in result.stdout


def test_unknown_run_is_a_clear_error(tmp_path):
    from analysis import RunNotFoundError, open_store

    with open_store(tmp_path / "x.duckdb", seed_demo=False) as store, pytest.raises(RunNotFoundError, match="none"):
        store.run("nope")
