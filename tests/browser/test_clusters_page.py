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
    page.evaluate("document.querySelector('.js-plotly-plot').dataset.drawn = 'before'")  # the map drawn so far
    page.get_by_text("Clusters by evidence").scroll_into_view_if_needed()
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 36 + 17)
    page.get_by_text("Open this cluster as a slice").wait_for()
    wait_for_app(page)
    # the cluster is highlighted on the same drawing (a style sheet, no redraw): its points as drawn (their colours,
    # the figure's opacity, so that its share of wrong crosses reads true), every other point a faded light grey
    page.get_by_text("is drawn in colour on the map").wait_for()
    looks = page.evaluate("""() => { const plot = document.querySelector('.js-plotly-plot');
        const style = p => getComputedStyle(p);
        const grey = p => Math.abs(Number(style(p).opacity) - 0.35) < 1e-6 && style(p).fill === 'rgb(203, 213, 225)';
        const traces = [...plot.querySelectorAll('.scatterlayer > .trace')].map(t => [...t.querySelectorAll('path.point')]);
        const lit = traces.filter(ps => ps.length && ps.every(p => !grey(p)));
        return {drawn: plot.dataset.drawn, lit: lit.length,
                opacity: lit.length ? lit[0].map(p => Number(style(p).opacity)) : [],
                fills: lit.length ? [...new Set(lit[0].map(p => style(p).fill))] : [],
                faded: traces.filter(ps => ps.length && ps.every(grey)).length,
                drawnTraces: traces.filter(ps => ps.length).length}; }""")
    assert looks["drawn"] == "before"
    assert looks["lit"] == 1 and set(looks["opacity"]) == {0.8}  # the figure's own opacity
    assert "rgb(194, 65, 12)" in looks["fills"] and len(looks["fills"]) >= 2  # its wrong ones orange among the rest
    assert looks["faded"] == looks["drawnTraces"] - 1 > 0
    page.get_by_text("Map", exact=True).scroll_into_view_if_needed()
    shot(page, "12b-cluster-highlighted")
    faded = "document.querySelectorAll('.scatterlayer path.point').length ? [...document.querySelectorAll(" \
            "'.scatterlayer path.point')].filter(p => getComputedStyle(p).opacity === '0.35').length : -1"
    # a cleared selection clears the highlight (the style sheet goes with it); selected again, it is back
    for expected in (0, looks["faded"]):
        page.get_by_text("Clusters by evidence").scroll_into_view_if_needed()
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 14, box["y"] + 36 + 17)
        page.get_by_text("Open this cluster as a slice" if expected else "Select a cluster in the table").wait_for()
        wait_for_app(page)
        assert (page.evaluate(faded) > 0) == (expected > 0)
    page.get_by_text("Open this cluster as a slice").wait_for()
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
