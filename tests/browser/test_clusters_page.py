"""In a real browser: the Clusters page computes in the background, then shows the map and the table."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import shot, wait_for_app

pytestmark = pytest.mark.browser


def test_clusters_page_in_browser(demo_server, page):
    start = time.monotonic()
    page.goto(f"{demo_server.url}/Clusters")
    page.wait_for_selector("[data-testid='stApp']")
    # a freshly started app: the clustering runs in the background with a progress bar
    page.get_by_text("Clusters by evidence").wait_for(timeout=150_000)
    first_view = time.monotonic() - start
    print(f"first cluster view of a 3,000-prompt demo in a freshly started app: {first_view:.1f} s")
    wait_for_app(page)
    page.locator(".js-plotly-plot").first.wait_for()
    assert page.locator("text=Traceback").count() == 0
    shot(page, "12-clusters")
    # choose the first cluster (the row's checkbox) and open it as a slice on the Slices page
    page.get_by_text("Clusters by evidence").scroll_into_view_if_needed()
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 36 + 17)
    page.get_by_text("Open this cluster as a slice").wait_for()
    wait_for_app(page)
    page.get_by_text("Typical failures").scroll_into_view_if_needed()
    shot(page, "13-cluster-examples")
    page.get_by_text("Open this cluster as a slice").click()
    page.get_by_text("Slices by evidence", exact=True).wait_for()
    wait_for_app(page)
    page.locator("[data-testid='stMultiSelect']").get_by_text("cluster.input", exact=True).wait_for()
    # it lands on that slice: its statistics and examples, not only a new attribute
    landed = page.locator("[data-testid='stMarkdown']").filter(
        has_text=re.compile(r"^cluster\.input = .*: [\d,]+ examples, error rate ")).first
    landed.wait_for()
    landed.scroll_into_view_if_needed()
    shot(page, "14-cluster-as-slice")
    # coming back in a new session reads the stored result at once
    start = time.monotonic()
    page.goto(f"{demo_server.url}/Clusters")
    page.get_by_text("Clusters by evidence").wait_for()
    assert time.monotonic() - start < 30
    assert page.get_by_text("from the store's cache").count() >= 1
