"""Shared fixtures: paths to the real third-party logs and fresh stores.

The real third-party logs are read where they lie, in the ``shared/fixtures`` folder beside the
checkout (``$FAULTLINE_SHARED_FIXTURES`` names another place), never copied into the project. Tests
that read them are marked ``real_logs`` (``pytestmark = pytest.mark.real_logs``) or ask for the
:func:`real_logs` fixture; either way they are skipped, saying why, when, and only when, that folder
is absent (the mark skips at collection, before any fixture reads a log).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_ENV_VAR = "FAULTLINE_SHARED_FIXTURES"


def find_shared_fixtures(environ=os.environ, root: Path = ROOT) -> Path | None:
    """The folder of real third-party logs (it holds MANIFEST.md), or None when it is not here."""
    candidates = [Path(environ[SHARED_ENV_VAR])] if environ.get(SHARED_ENV_VAR) else []
    candidates.append(root.parent / "shared" / "fixtures")
    return next((c.resolve() for c in candidates if (c / "MANIFEST.md").is_file()), None)


SHARED_FIXTURES = find_shared_fixtures()
REAL = SHARED_FIXTURES or ROOT.parent / "shared" / "fixtures"
MSG_NO_SHARED = ("the real third-party logs are not here: expected the folder shared/fixtures beside the checkout "
                 f"(with MANIFEST.md), or ${SHARED_ENV_VAR} naming it")

# Tests never seed the demo by accident into a store they did not ask for.
os.environ.setdefault("FAULTLINE_DEMO", "0")
# ...nor compile umap-learn in the background of every app test (the cluster tests do it once).
os.environ.setdefault("FAULTLINE_WARM_UP", "0")

LM_EVAL_SAMPLES = REAL / "lm_eval" / "samples_bbq_local_2026-11-22T14-06-03.710369.jsonl"
HELM_BBQ = REAL / "helm" / "bbq"
INSPECT = REAL / "inspect"
OPENAI_EVALS = REAL / "openai_evals"
PROMPTFOO_JSON = REAL / "promptfoo" / "results.json"


def pytest_collection_modifyitems(config, items):
    if SHARED_FIXTURES is not None:
        return
    skip = pytest.mark.skip(reason=MSG_NO_SHARED)
    for item in items:
        if item.get_closest_marker("real_logs") or "real_logs" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture
def real_logs() -> Path:
    """The folder of real third-party logs; the test is skipped, saying why, when it is absent."""
    if SHARED_FIXTURES is None:
        pytest.skip(MSG_NO_SHARED)
    return SHARED_FIXTURES


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


def shown(markdown: str) -> str:
    """The text a Markdown body shows, with the app's escapes of log text (``ui.md``) undone: what a test reads."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
