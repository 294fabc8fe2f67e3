"""Shared fixtures: paths to the real third-party logs and fresh stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Tests never seed the demo by accident into a store they did not ask for.
os.environ.setdefault("FAULTLINE_DEMO", "0")
# ...nor compile umap-learn in the background of every app test (the cluster tests do it once).
os.environ.setdefault("FAULTLINE_WARM_UP", "0")

LM_EVAL_SAMPLES = FIXTURES / "lm_eval" / "samples_bbq_local_2026-11-22T14-06-03.710369.jsonl"
HELM_BBQ = FIXTURES / "helm" / "bbq"
INSPECT = FIXTURES / "inspect"
OPENAI_EVALS = FIXTURES / "openai_evals"
PROMPTFOO_JSON = FIXTURES / "promptfoo" / "results.json"


@pytest.fixture
def store(tmp_path):
    from analysis import open_store

    s = open_store(tmp_path / "store.duckdb", seed_demo=False)
    yield s
    s.close()


@pytest.fixture
def write(tmp_path):
    """Write a file under tmp_path: write("name.csv", "text" | b"bytes") -> Path."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write
