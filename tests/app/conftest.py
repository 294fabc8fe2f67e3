"""Page tests run without the app's background precompute unless a test turns it on (``FAULTLINE_PRECOMPUTE=1``),
and background work a test started is drained before the next test: under pytest-xdist many test files share one
process, and a thread left running by one test would call into another test's spies."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_background_work_between_tests(monkeypatch):
    monkeypatch.setenv("FAULTLINE_PRECOMPUTE", "0")
    yield
    from ui.jobs import _background

    _background().wait_idle(timeout=300)
