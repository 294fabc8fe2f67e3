"""The Timeline page in a real browser on the demo series: open it, change the series, the attribute and the slice;
every choice lands in the URL, and a link with them opens the same view; no exception, no error alert."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from analysis import open_store
from analysis.demo.series import SERIES_NAME
from tests.browser.conftest import AppServer, shot, wait_for_app

pytestmark = pytest.mark.browser

SECOND = "three checkpoints"


@pytest.fixture
def series_server(tmp_path):
    """The app on a store holding only the demo series (six checkpoints of 3,000 prompts) and a second series of
    three of its runs."""
    from analysis.demo.seed import ensure_demo_series
    from analysis.store.series import create_series, get_series

    db = tmp_path / "series.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo_series(store)
        runs = get_series(store, SERIES_NAME).run_names
        create_series(store, SECOND, [runs[0], runs[2], runs[3]])
    server = AppServer(db)
    yield server
    server.stop()


def _settled(page, text: str) -> None:
    page.get_by_text(text).first.wait_for()
    wait_for_app(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


def _choose(page, label: str, option: str) -> None:
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.scroll_into_view_if_needed()
    box.locator("input").first.click()
    page.get_by_role("option").filter(has_text=re.compile(rf"^{re.escape(option)}$")).first.click()
    wait_for_app(page)


def _query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def test_timeline_views_follow_the_url(series_server, page):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{series_server.url}/Timeline")
    _settled(page, "Slices followed")
    assert _query(page)["series"] == SERIES_NAME
    _choose(page, "Attribute", "language")
    _settled(page, "language: accuracy per run")
    assert _query(page)["attr"] == "language"
    _choose(page, "Slice", "language = hi")
    _settled(page, "first departs from the reference")
    query = _query(page)
    assert query["slice"] == "language = hi" and query["attr"] == "language"
    assert "trend" in page.inner_text("body")
    path = shot(page, "timeline_page_slice")  # 1280 x 720, the whole page
    assert path.exists() and path.stat().st_size > 10_000
    link = page.url
    _choose(page, "Series", SECOND)
    _settled(page, "3 runs ordered by")
    assert _query(page)["series"] == SECOND
    # the link of the slice view opens that view again (a new session: only the URL carries it)
    fresh = page.context.new_page()
    fresh.set_viewport_size({"width": 1280, "height": 720})
    fresh.goto(link)
    _settled(fresh, "first departs from the reference")
    assert "language = hi" in fresh.inner_text("body")
    assert _query(fresh)["series"] == SERIES_NAME
    for view, text in (("Mix shift", "composition"), ("Surrogate vs outcome", "Slice and signal")):
        fresh.get_by_text(view, exact=True).first.click()
        _settled(fresh, text)
    assert _query(fresh)["view"] == "surrogate"
    shot(fresh, "timeline_page_surrogate")
    fresh.close()
