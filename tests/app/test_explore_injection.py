"""The Findings and Example pages never interpret text from a log: a chat transcript, an output, metadata, a
slice value in a finding's title and a note that are Markdown images, links, <script> and <a href> show as text."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store, pin_slice
from tests.app.test_injection import LINK, SCRIPT, TASK, _check
from tests.conftest import ROOT

TIMEOUT = 90


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    path = tmp_path / "hostile.duckdb"
    monkeypatch.setenv("FAULTLINE_DB", str(path))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    monkeypatch.setenv("FAULTLINE_WARM_UP", "0")
    n = 80
    chat = json.dumps([{"role": "system", "content": TASK}, {"role": f"user {LINK}", "content": SCRIPT},
                       {"role": "assistant", "content": "[x](javascript:alert(1))"}])
    frame = pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": [chat] + ["q"] * (n - 1),
                          "response": [TASK + "\n" + LINK] * n, "gold": [SCRIPT] * n,
                          "segment": [SCRIPT if i % 2 else "plain" for i in range(n)],
                          "correct": [i % 3 == 0 for i in range(n)]})
    with open_store(path, seed_demo=False) as store:
        store.ingest_frame(frame, name="hostile")
        pin_slice(store, "hostile", {"segment": SCRIPT}, author=LINK, note=TASK, settings={"min_support": 5})
    return path


def test_example_page_shows_hostile_text_as_text(hostile):
    at = AppTest.from_file(str(ROOT / "pages" / "9_Example.py"), default_timeout=TIMEOUT)
    at.query_params["run"] = "hostile"
    at.query_params["example"] = "e0"
    at.query_params["cohort"] = 'segment = "plain"'
    at.run()
    bodies = _check(at)
    assert any("\\<script\\>" in b for b in bodies)  # the transcript's turn is shown, escaped
    assert any("1 of 40 in the cohort" in b for b in bodies)


@pytest.mark.parametrize("review", [False, True])
def test_findings_page_shows_hostile_text_as_text(hostile, review):
    at = AppTest.from_file(str(ROOT / "pages" / "8_Findings.py"), default_timeout=TIMEOUT)
    if review:
        at.query_params["view"] = "review"
    at.run()
    bodies = _check(at)
    if review:
        assert any("Finding 1 of 1" in b and "\\<script\\>" in b for b in bodies)
