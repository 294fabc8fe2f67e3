"""The Timeline's charts at 1280x720 in a real browser (trial items 4 and 5): the surrogate chart's right-hand
axis reads round ticks (the trial read 0.374, 0.433, 0.67), and every run label under the drifting slices' panels
is drawn whole inside the chart (the third panel's "step 6,000" was cut)."""

from __future__ import annotations

import pytest

from analysis import open_store
from analysis.demo.series import SERIES_NAME
from tests.browser.conftest import AppServer, shot, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture
def series_server(tmp_path):
    from analysis.demo.seed import ensure_demo_series

    db = tmp_path / "series.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo_series(store)
    server = AppServer(db)
    yield server
    server.stop()


def _chart(page, key: str):
    chart = page.locator(f".st-key-{key}").first
    chart.scroll_into_view_if_needed()
    chart.locator(".main-svg").first.wait_for()
    page.wait_for_timeout(500)  # plotly lays the ticks out after the svg appears
    return chart


def test_the_timeline_charts_read_whole_and_round(series_server, page):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{series_server.url}/Timeline?series={SERIES_NAME}&view=drift&panels=3")
    page.get_by_text("Slices followed").first.wait_for()
    wait_for_app(page)
    grid = _chart(page, "timeline_grid")
    svg = grid.locator(".main-svg").first.bounding_box()
    labels = grid.locator(".xaxislayer-above text")  # every panel's run labels (.xtick, .x2tick, .x3tick)
    assert labels.count() >= 18  # three panels of six runs
    for i in range(labels.count()):
        box = labels.nth(i).bounding_box()
        text = labels.nth(i).text_content()
        assert box["x"] >= svg["x"] - 0.5 and box["x"] + box["width"] <= svg["x"] + svg["width"] + 0.5, (text, box,
                                                                                                         svg)
    # and with room to spare: the trial's browser cut "step 6,000" where this one left 10 px (a wider fallback
    # font, +15% on an 80 px label, takes 12); 20 px at least
    right = max(labels.nth(i).bounding_box()["x"] + labels.nth(i).bounding_box()["width"]
                for i in range(labels.count()))
    assert svg["x"] + svg["width"] - right >= 20, (right, svg)
    shot(page, "timeline_trial_grid")

    page.goto(f"{series_server.url}/Timeline?series={SERIES_NAME}&view=surrogate")
    page.get_by_text("Slice and signal").first.wait_for()
    wait_for_app(page)
    chart = _chart(page, "timeline_surrogate")
    ticks = [t.strip().replace("\u2212", "-") for t in chart.locator(".y2tick text").all_text_contents()]
    assert len(ticks) >= 3, ticks
    values = [float(t) for t in ticks]
    steps = {round(b - a, 9) for a, b in zip(values, values[1:])}
    assert len(steps) == 1, ticks  # evenly spaced
    step = steps.pop()
    # round: every tick a whole multiple of a 1, 2 or 5 x 10^k step, with at most two decimals here
    assert all(len(t.split(".")[1]) <= 2 for t in ticks if "." in t), ticks
    assert any(abs(step / 10 ** e - m) < 1e-9 for e in range(-4, 4) for m in (1, 2, 2.5, 5)), ticks
