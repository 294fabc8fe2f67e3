"""In a real browser at 1280x720 (a projector): the Findings page in review mode and the Example page, on the demo.

Findings are pinned into the demo store before the app starts (the app then holds the store).
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PROJECTOR, AppServer, shot, wait_for_app

pytestmark = pytest.mark.browser

COHORT = 'language = "sw"'


@pytest.fixture
def explore_server(tmp_path):
    from analysis import open_store, pin_comparison, pin_finding, pin_slice
    from analysis.demo.seed import ensure_demo

    db = tmp_path / "explore.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo(store, n_prompts=3000)
        base, cand = store.runs()["name"].tolist()[:2]
        pin_slice(store, cand, {"language": "sw"}, author="ada", note="Swahili got worse")
        pin_comparison(store, base, cand, {"domain": "medical"}, author="ada", settings={"attributes": ["domain"]})
        pin_finding(store, cand, kind="cell", target={"mode": "sycophancy", "component": "reward model"},
                    author="bo", evidence={"auc": 0.81, "verdict": "implicated"})
    server = AppServer(db)
    yield server, base, cand
    server.stop()


@pytest.fixture
def projector(browser):
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def _font_sizes(page) -> list[float]:
    return page.eval_on_selector_all(
        "[data-testid='stPlotlyChart'] svg text",
        "els => els.filter(e => e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize))")


def test_findings_review_mode_at_1280x720(explore_server, projector):
    server, _, _ = explore_server
    page = projector
    page.goto(f"{server.url}/Findings?view=review")
    wait_for_app(page)
    page.get_by_text("Finding 1 of 3").wait_for()
    page.get_by_text("61.", exact=False).first.wait_for()
    page.locator("[data-testid='stPlotlyChart'] svg text", has_text="language = sw").first.wait_for()
    sizes = _font_sizes(page)
    assert sizes and min(sizes) >= 16, sizes
    # the finding is named in words (not only by colour) and the navigation is on the first screen
    assert page.locator("svg text", has_text="worse than the rest").count() >= 1
    next_button = page.get_by_role("button", name="Next →")
    box = next_button.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PROJECTOR["height"]
    assert page.locator("text=Traceback").count() == 0
    shot(page, "explore-20-review-1")
    next_button.click()
    page.get_by_text("Finding 2 of 3").wait_for()
    wait_for_app(page)
    page.get_by_text("167 newly wrong").first.wait_for()
    assert re.search(r"finding=[0-9a-f]{32}", page.url)
    page.locator("[data-testid='stPlotlyChart'] svg text", has_text="domain = medical").first.wait_for()
    sizes = _font_sizes(page)
    assert sizes and min(sizes) >= 16, sizes
    shot(page, "explore-21-review-2")
    page.get_by_role("button", name="Next →").click()
    page.get_by_text("Finding 3 of 3").wait_for()
    wait_for_app(page)
    page.get_by_text("with probability 0.81 (preference AUC").first.wait_for()  # a sentence, not a dump
    assert page.get_by_role("button", name="Next →").is_disabled()
    # a failure-mode cell has no rate to draw: its preference AUC against no separation (0.5), readable at 16 px
    page.locator("[data-testid='stPlotlyChart'] svg text", has_text="no separation").first.wait_for()
    wait_for_app(page)
    assert page.locator("[data-testid='stPlotlyChart'] svg text", has_text="Preference AUC").count() >= 1
    # the chart whole on the projector's first screen, its axis title too (the trial saw it cut at 720 px)
    title = page.locator("[data-testid='stPlotlyChart'] svg text", has_text="Preference AUC").first.bounding_box()
    assert title is not None and title["y"] + title["height"] <= PROJECTOR["height"], title
    sizes = _font_sizes(page)
    assert sizes and min(sizes) >= 16, sizes
    shot(page, "explore-22-review-3")


def test_findings_list_and_withdraw(explore_server, projector):
    server, _, _ = explore_server
    page = projector
    page.goto(f"{server.url}/Findings")
    wait_for_app(page)
    page.get_by_text("Withdraw a finding").wait_for()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    shot(page, "explore-23-findings-list")
    page.get_by_text("Withdraw a finding").click()
    page.get_by_label("Your name").first.fill("carol")
    page.get_by_label("Your name").first.press("Enter")
    page.get_by_role("button", name="Withdraw", exact=True).click()
    page.wait_for_timeout(1500)
    wait_for_app(page)
    page.get_by_text("Review mode (one finding per screen").click()  # review mode: two findings left
    page.get_by_text("Finding 1 of 2").wait_for()


def test_example_page_and_its_link(explore_server, projector, browser):
    server, _, cand = explore_server
    page = projector
    url = f"{server.url}/Example?run={cand}&example=ex-00004&cohort=" + COHORT.replace(" ", "%20").replace('"', "%22")
    page.goto(url)
    wait_for_app(page)
    page.get_by_text("Every field").wait_for()
    heading = page.get_by_text(re.compile(r"Example ex-00004 of ")).first
    heading.wait_for()
    first_heading = heading.inner_text()
    assert "cohort" in first_heading
    page.get_by_text("Failure modes").first.wait_for()
    page.get_by_text("Reference").first.wait_for()
    assert page.locator("text=Traceback").count() == 0
    shot(page, "explore-24-example")
    # the same link in a new browser shows the same example and cohort position
    other = browser.new_context(viewport=PROJECTOR)
    again = other.new_page()
    again.goto(url)
    wait_for_app(again)
    again.get_by_text("Every field").wait_for()
    assert again.get_by_text(re.compile(r"Example ex-00004 of ")).first.inner_text() == first_heading
    other.close()
    page.get_by_role("button", name="Next →").click()
    page.wait_for_url(re.compile(r"example=ex-0"))
    page.wait_for_function("() => !location.search.includes('example=ex-00004')")
    page.get_by_text(re.compile(r"Example ex-00004 of ")).wait_for(state="detached")
    wait_for_app(page)
    page.get_by_text("Every field").wait_for()
    moved = page.get_by_text(re.compile(r"Example ex-\d+ of ")).first.inner_text()
    assert "ex-00004" not in moved and re.search(r"\d+ of 112 in the cohort", moved), moved
    shot(page, "explore-25-example-next")
