"""The series gate within a cohort (``where=``; ``gate --series NAME --where ... / --cohort NAME``): its checks are the
cohort's (against pandas and statsmodels on the cohort's rows), its exit code and JUnit follow the cohort."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from analysis.series.gate import series_gate
from analysis.slicing.cohorts import save_cohort
from analysis.store import Store
from analysis.store.series import create_series
from tests.conftest import ROOT

RUNS = 4
N = 1200
MAPPING = {"id": "id", "input": "prompt", "correct": "correct"}


def _frames() -> list[pd.DataFrame]:
    rng = np.random.default_rng(5)
    lang = np.where(np.arange(N) % 3 == 0, "fr", "en")
    domain = rng.choice(["law", "med"], N)
    base = rng.random(N) >= 0.15  # the same answers every run ...
    order = rng.permutation(N)
    frames = []
    for k in range(RUNS):
        # ... except French ones, a further tenth of which turn wrong at every run
        broken = np.zeros(N, dtype=bool)
        broken[order[: int(0.1 * k * N)]] = True
        correct = np.where(lang == "fr", base & ~broken, base)
        frames.append(pd.DataFrame({"id": [f"e{i}" for i in range(N)], "prompt": [f"q{i}" for i in range(N)],
                                    "lang": lang, "domain": domain, "correct": correct}))
    return frames


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("gatec") / "g.duckdb"
    frames = _frames()
    with Store(path) as store:
        for k, frame in enumerate(frames):
            store.ingest_frame(frame, name=f"step-{k + 1}", mapping=MAPPING)
        create_series(store, "s", [f"step-{k + 1}" for k in range(RUNS)])
        save_cohort(store, "french", 'lang = "fr"', author="test")
    return path, frames


def test_the_gate_in_a_cohort_checks_the_cohort_rows(db):
    path, frames = db
    with Store(path, read_only=True) as store:
        english = series_gate(store, "s", ["domain"], where='lang = "en"')
        french = series_gate(store, "s", ["domain"], where='lang = "fr"')
        whole = series_gate(store, "s", ["domain"])
    assert english.passed and not french.passed and not whole.passed
    assert english.settings["where"] == 'lang = "en"' and 'within the cohort lang = "en"' in english.summary()
    ref, new = (f[f["lang"] == "fr"].set_index("id")["correct"] for f in (frames[0], frames[-1]))
    checks = french.checks.set_index(["description", "check"])
    total = checks.loc[("(all examples)", "total")]
    assert total["before"] == pytest.approx(ref.mean()) and total["after"] == pytest.approx(new.mean())
    assert total["drop"] == pytest.approx(ref.mean() - new.mean()) and bool(total["breaks"])
    table = pd.crosstab(ref, new).reindex(index=[True, False], columns=[True, False], fill_value=0).to_numpy()
    assert mcnemar(table, exact=True).pvalue < 1e-6
    prev = frames[-2][frames[-2]["lang"] == "fr"].set_index("id")["correct"]
    per_run = checks.loc[("(all examples)", "per run")]
    assert per_run["drop"] == pytest.approx(prev.mean() - new.mean())
    # in English nothing moved: every drop is 0
    assert np.allclose(english.checks["drop"].to_numpy(dtype=float), 0.0)


def cli(*args):
    env = {**os.environ, "FAULTLINE_DEMO": "0"}
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env=env)


def test_cli_exit_code_and_junit_follow_the_cohort(db, tmp_path):
    path, _ = db
    junit = tmp_path / "gate.xml"
    passed = cli("gate", "--series", "s", "--by", "domain", "--where", 'lang = "en"', "--db", str(path), "--junit",
                 str(junit))
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.startswith("Series gate PASSED") and 'within the cohort lang = "en"' in passed.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert int(suite.get("failures")) == 0 and int(suite.get("tests")) > 0
    failed = cli("gate", "--series", "s", "--by", "domain", "--cohort", "french", "--db", str(path), "--junit",
                 str(junit))
    assert failed.returncode == 1, failed.stderr
    suite = ET.parse(junit).getroot().find("testsuite")
    assert int(suite.get("failures")) >= 1
    assert any(c.find("failure") is not None and c.get("name").startswith("(all examples)")
               for c in suite.iter("testcase"))
    both = cli("gate", "--series", "s", "--where", 'lang = "en"', "--cohort", "french", "--db", str(path))
    assert both.returncode == 2
    bad = cli("gate", "--series", "s", "--where", 'nosuch = "x"', "--db", str(path))
    assert bad.returncode == 2 and "nosuch" in bad.stderr
