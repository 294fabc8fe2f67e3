"""In a real browser: the Slices and Compare pages on a small demo store."""

from __future__ import annotations

import pytest

from tests.browser.conftest import shot, wait_for_app

pytestmark = pytest.mark.browser


def test_slices_page_in_browser(demo_server, page):
    page.goto(f"{demo_server.url}/Slices")
    wait_for_app(page)
    page.get_by_text("Slices by evidence", exact=True).wait_for()
    page.get_by_text("Top slices by evidence").wait_for()
    page.locator("svg text", has_text="language = sw").first.wait_for()
    assert page.locator("text=Traceback").count() == 0
    shot(page, "10-slices")


def test_compare_page_in_browser(demo_server, page):
    page.goto(f"{demo_server.url}/Compare")
    wait_for_app(page)
    page.get_by_text("Gate failed").wait_for()
    page.locator("svg text", has_text="domain = medical").first.wait_for()
    assert page.locator("text=Traceback").count() == 0
    shot(page, "11-compare")
