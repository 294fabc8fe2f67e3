"""Cluster -> slice lands on the slice (trial item: the selected slice's statistics were below the fold at 1280x720):
after "Open this cluster as a slice", the slice's summary (examples, error rate, interval, q with its family) is in
the viewport of a 1280x720 window without scrolling, also when the user had scrolled Clusters down to the button (the
trial's Slices opened scrolled halfway down), and it goes once another slice is selected."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, AppServer, wait_for_app

pytestmark = pytest.mark.browser

#: The Clusters page's default settings (as its sidebar sends them): the clustering is read from the store's cache.
DEFAULTS = {"field": "input", "embedder": "auto", "min_cluster_size": None, "n_neighbors": None, "seed": 0,
            "sample_size": 5000}
WIDTH, HEIGHT = 1280, 720
#: How far the main area is scrolled (pixels).
MAIN_SCROLL = "() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTop ?? 0"


@pytest.fixture
def clustered_server(tmp_path):
    from analysis import open_store
    from analysis.clusters.pipeline import cluster_run
    from analysis.demo.seed import ensure_demo

    db = tmp_path / "demo.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo(store, n_prompts=1500)
        cluster_run(store, "baseline", **DEFAULTS)
    server = AppServer(db)
    yield server
    server.stop()


@pytest.fixture
def small_page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def _in_viewport(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT and box["x"] >= 0 and (
        box["x"] + box["width"] <= WIDTH)


def test_cluster_as_slice_shows_the_slice_in_view(clustered_server, small_page):
    page = small_page
    page.goto(f"{clustered_server.url}/Clusters")
    page.get_by_text("Clusters by evidence").wait_for(timeout=150_000)
    wait_for_app(page)
    opener = page.get_by_text("Open this cluster as a slice")
    for _ in range(4):  # the grid may still be laying out when first clicked
        page.get_by_text("Clusters by evidence").scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        box = page.locator("[data-testid='stDataFrame']").first.bounding_box()
        page.mouse.click(box["x"] + 14, box["y"] + 36 + 17)  # the first cluster's row
        try:
            opener.wait_for(timeout=15_000)
            break
        except Exception:  # noqa: BLE001 - Playwright's timeout: click again
            continue
    opener.wait_for()
    wait_for_app(page)
    # as a user would: read down the page to the button (below the map), so the page is scrolled when it is clicked
    # (Slices then opened scrolled as far down, its landing summary off-screen)
    page.mouse.move(WIDTH // 2, HEIGHT // 2)
    for _ in range(6):
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(150)
    opener.scroll_into_view_if_needed()
    assert page.evaluate(MAIN_SCROLL) > HEIGHT // 2, "the Clusters page is scrolled down to the button"
    assert _in_viewport(opener)
    opener.click()
    page.get_by_text("Slices by evidence", exact=True).wait_for()
    wait_for_app(page)
    summary = page.locator("[data-testid='stAlert']").filter(has_text="Opened from the Clusters page")
    summary.wait_for()
    # what the trial saw: Slices opened scrolled halfway down (Streamlit's focus handling centres a focused element in
    # the main area); the landing brings the page to its top unless the user scrolls first
    page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]'); "
                  "m.scrollTop = m.scrollHeight / 2; }")
    page.wait_for_timeout(1500)  # settled layout
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hc-cluster-landing-1280x720.png"))  # the viewport only: what the user sees
    assert page.evaluate(MAIN_SCROLL) == 0
    text = " ".join(summary.inner_text().split())
    assert re.search(r"cluster\.input = \S+: [\d,]+ examples, error rate [\d.]+% \[[\d.]+%, [\d.]+%\], q [=<] \S+ "
                     r"\(over the [\d,]+ slices tested here\)", text), text
    assert _in_viewport(summary), summary.bounding_box()
    # the table's selection is the same slice, and its examples follow the table
    described = re.search(r"(cluster\.input = \S+):", text).group(1)
    page.get_by_text("Examples of a slice").scroll_into_view_if_needed()
    assert page.locator("[data-testid='stMarkdown']").filter(
        has_text=re.compile(rf"^{re.escape(described)}: [\d,]+ examples")).count() >= 1
    # another slice selected: the landing summary goes. First past the landing's 4 s at the top (ui.session's
    # SCROLL_TO_TOP brings back any scroll a wheel, touch or key did not make, as Playwright's): a grid scrolled into
    # view before then moved back up under the click
    page.wait_for_timeout(4500)
    page.get_by_text("Slices by evidence", exact=True).scroll_into_view_if_needed()
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 36 + 35 * 3 + 17)  # another row
    wait_for_app(page)
    page.wait_for_timeout(1500)
    wait_for_app(page)
    assert page.locator("[data-testid='stAlert']").filter(has_text="Opened from the Clusters page").count() == 0
