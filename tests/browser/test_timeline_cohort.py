"""The Timeline page within a cohort, in a real browser on the demo series: a link with ``where=`` opens every view
over the cohort (the caption says so), and the mix view's sentence is the engine's mix shift within that cohort."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from analysis import open_store
from analysis.demo.series import SERIES_NAME
from analysis.series.mix import mix_along, mix_shift
from tests.browser.conftest import AppServer, shot, wait_for_app

pytestmark = pytest.mark.browser

COHORT = 'channel = "api"'


@pytest.fixture
def series_server(tmp_path):
    from analysis.demo.seed import ensure_demo_series

    db = tmp_path / "series.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo_series(store)
        steps = mix_along(store, SERIES_NAME, where=COHORT)
        step = steps[steps["mix_shift"]].iloc[0] if steps["mix_shift"].any() else steps.iloc[-1]
        sentence = mix_shift(store, step["previous"], step["run"], where=COHORT).sentence()
        whole = mix_shift(store, step["previous"], step["run"]).sentence()
    server = AppServer(db)
    yield server, sentence, whole
    server.stop()


def _settled(page, text: str) -> None:
    page.get_by_text(text).first.wait_for()
    wait_for_app(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


def _words(text: str) -> str:
    # ui.md's escapes: no emphasis marks, no backslashes, a word joiner before a colon
    return " ".join(text.replace("*", "").replace("\\", "").replace("\u2060", "").split())


def test_the_mix_view_follows_the_cohort_of_the_link(series_server, page):
    server, sentence, whole = series_server
    assert sentence != whole  # the cohort changes the numbers: the page must show the cohort's
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server.url}/Timeline?series={quote(SERIES_NAME)}&view=mix&where={quote(COHORT)}")
    _settled(page, "Within the cohort")
    _settled(page, " ".join(sentence.split()[:3]))  # the view's own sentence (computed after the caption)
    body = _words(page.inner_text("body"))
    assert _words(sentence) in body, "the mix view's sentence is the engine's within the cohort"
    shot(page, "timeline_cohort_mix")
    page.get_by_text("Drifting slices", exact=True).first.click()
    _settled(page, "Slices followed")
    assert "Within the cohort" in page.inner_text("body")
    shot(page, "timeline_cohort_drift")
