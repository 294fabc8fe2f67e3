"""The Failure modes page in a real browser: the matrix, a cell's evidence, the Goodhart plot."""

from __future__ import annotations

import pytest

from analysis import open_store
from tests.browser.conftest import shot, wait_for_app

pytestmark = pytest.mark.browser


def test_failure_modes_page_shows_matrix_cell_and_goodhart_plot(demo_server, page):
    with open_store(demo_server.db, read_only=True) as store:
        after = store.run("after-objective-change").run_id
    page.goto(f"{demo_server.url}/Failure_modes?run={after}")
    wait_for_app(page)
    page.get_by_text("Modes x components").first.wait_for()
    page.get_by_text("Goodhart quadrant: surrogate up, outcome down").first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    body = page.inner_text("body")
    assert "implicated" in body and "Declared (the spec)" in body and "Measured (the logs)" in body
    page.set_viewport_size({"width": 1400, "height": 5200})  # the app scrolls inside: show it all
    page.wait_for_timeout(1500)
    path = shot(page, "failure_modes_page")
    assert path.exists() and path.stat().st_size > 10_000
