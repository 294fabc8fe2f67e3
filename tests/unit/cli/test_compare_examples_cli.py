"""``compare --examples SLICE``: the drill-down from the command line, counts checked with pandas."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.cli import EXIT_ERROR, EXIT_OK, main
from analysis.store import Store


@pytest.fixture
def db(tmp_path):
    rng = np.random.default_rng(1)
    n = 500
    base = pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n,
                         "lang": rng.choice(["en", "sw"], size=n), "correct": rng.random(n) > 0.3})
    cand = base.assign(correct=rng.random(n) > 0.4)
    path = tmp_path / "c.duckdb"
    with Store(path) as store:
        store.ingest_frame(base, name="base")
        store.ingest_frame(cand, name="cand")
    return str(path), base, cand


def test_examples_json_counts_match_pandas(db, capsys):
    path, base, cand = db
    argv = ["compare", "--db", path, "--baseline", "base", "--candidate", "cand", "--examples", '{"lang": "sw"}',
            "--verdict", "regressed", "--limit", "1000", "--json"]
    assert main(argv) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    sw = base["lang"] == "sw"
    regressed = base["correct"] & ~cand["correct"] & sw
    assert out["counts"]["regressed"] == int(regressed.sum())
    assert out["counts"]["fixed"] == int((~base["correct"] & cand["correct"] & sw).sum())
    assert sorted(p["example_id"] for p in out["pairs"]) == sorted(base.loc[regressed, "example_id"])
    assert main(argv[:-1] + []) == EXIT_OK
    assert "regressed" in capsys.readouterr().out


@pytest.mark.parametrize(("extra", "message"), [
    (["--examples", "sw"], "SLICE must be a JSON object"),
    (["--examples", "{}", "--verdict", "worse"], "Unknown verdict 'worse'"),
])
def test_errors(db, capsys, extra, message):
    assert main(["compare", "--db", db[0], "--baseline", "base", "--candidate", "cand", *extra]) == EXIT_ERROR
    assert message in capsys.readouterr().err
