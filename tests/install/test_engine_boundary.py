"""The engine knows no screen: analysis/ imports and works with streamlit made unavailable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import HELM_BBQ, ROOT

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)

SCRIPT = f"""
import sys, importlib, pkgutil, tempfile

class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "streamlit" or name.startswith("streamlit."):
            raise ImportError("streamlit is blocked in this test")
        return None

sys.meta_path.insert(0, Block())
import analysis
for module in pkgutil.walk_packages(analysis.__path__, "analysis."):
    if module.name != "analysis.__main__":
        importlib.import_module(module.name)
store = analysis.open_store(tempfile.mkdtemp() + "/s.duckdb", seed_demo=False)
store.ingest({str(HELM_BBQ)!r})
assert len(store.runs()) == 2
assert "streamlit" not in sys.modules
print("ok")
"""


def test_engine_imports_and_runs_without_streamlit():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")


def test_public_api_is_named():
    import analysis

    for name in analysis.__all__:
        assert hasattr(analysis, name), name
