"""The cohort flow in a real browser at 1280 x 720 (issue #14), on the demo: type a cohort on Slices and see the
numbers change, save it, choose a graded outcome, select a slice, copy the page's URL into a new browser context and
get the same view (cohort, attributes, order, outcome, selected slice), open an example from the slice's examples,
pin the slice and find it on the Findings page. Screenshots under test-artifacts/cohort-flow-*.png."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from analysis import open_store
from tests.browser.conftest import AppServer, shot
from tests.browser.test_sweep import Sweep, settle, trouble

pytestmark = pytest.mark.browser

COHORT = 'channel = "web"'
BOX = "input[aria-label='Cohort (a condition)']"
NOTE = "web answers in this slice score low"


@pytest.fixture
def demo(tmp_path):
    from analysis.demo.seed import ensure_demo

    db = tmp_path / "demo.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo(store, n_prompts=3000)
        run_id = store.runs()["run_id"].iloc[0]
        frame = store.examples(run_id)
    server = AppServer(db, env={"FAULTLINE_WARM_UP": "0", "USER": "ada"})
    yield server, run_id, frame
    server.stop()


def new_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def heading(page) -> str:
    """The selected slice's heading above its examples."""
    return page.locator("[data-testid='stMarkdownContainer']").filter(has_text=" examples, mean ").first.inner_text()


def view(page) -> dict:
    """What the view shows: the cohort box, attributes, order, outcome, selected slice and the scored count."""
    sidebar = page.locator("[data-testid='stSidebar']")
    return {
        "cohort": sidebar.locator(BOX).input_value(),
        "attributes": sidebar.locator("[data-testid='stMultiSelect']").filter(has_text="Attributes").inner_text()
                             .splitlines(),
        "order": sidebar.locator("[data-testid='stRadio']").filter(has_text="Conjunctions up to")
                        .locator("input:checked").evaluate("e => e.value ?? e.getAttribute('aria-label')"),
        "outcome": sidebar.locator("[data-testid='stSelectbox']").filter(has_text="Outcome").locator("input")
                          .input_value(),
        "slice": heading(page), "scored": metric(page, "Scored examples"),
    }


def test_type_save_share_open_and_pin_a_cohort(browser, demo):
    server, run_id, frame = demo
    context, page = new_page(browser)
    s = Sweep(page, server.url)
    page.goto(f"{server.url}/Slices?run={run_id}&by=language&by=domain&order=2")
    settle(page)
    scorable = frame[~frame["unscorable"].astype(bool)]
    assert metric(page, "Scored examples") == f"{len(scorable):,}"

    # type a cohort: every number becomes the cohort's
    box = page.locator("[data-testid='stSidebar']").locator(BOX)
    box.fill(COHORT)
    box.press("Enter")
    settle(page)
    web = scorable[scorable["meta.channel"] == "web"]
    assert metric(page, "Scored examples") == f"{len(web):,}"
    assert parse_qs(urlparse(page.url).query)["where"] == [COHORT]
    shot(page, "cohort-flow-1-typed")

    # save it: the URL names it
    page.get_by_role("button", name="Save cohort").click()
    page.get_by_label("Name", exact=True).fill("web")
    page.get_by_role("button", name="Save", exact=True).click()
    settle(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["cohort"] == ["web"] and "where" not in query
    page.keyboard.press("Escape")

    # a graded outcome and a selected slice
    assert s.select("Outcome", 1)
    settle(page)
    assert s.select_row(0, 0)
    settle(page)
    shot(page, "cohort-flow-2-graded-selected")
    here = view(page)
    assert here["cohort"] == COHORT and here["outcome"] == "score (mean)"
    assert {"domain", "language"} <= set(here["attributes"]) and here["scored"] != f"{len(scorable):,}"
    url = page.url
    assert {"cohort", "by", "order", "outcome", "slice", "run"} <= set(parse_qs(urlparse(url).query))

    # the same URL in a new browser context: the same view
    other_context, other = new_page(browser)
    other.goto(url)
    settle(other)
    other.wait_for_timeout(2000)  # the sidebar's text box is filled a moment after the script settles
    shot(other, "cohort-flow-3-same-view-new-context")
    assert view(other) == here
    assert not trouble(other)
    other_context.close()

    # open an example of the slice in the example view
    assert s.select_row(1, 0)
    settle(page)
    page.get_by_role("button", name="Open the selected example").click()
    page.wait_for_url("**/Example?**")
    settle(page)
    opened = parse_qs(urlparse(page.url).query)
    assert opened["cohort"] == [COHORT] and opened["run"] == [run_id]
    assert page.get_by_text(f"Example {opened['example'][0]}").count() >= 1
    assert not trouble(page)
    shot(page, "cohort-flow-4-example")

    # back to the slice, pin it, find it on the Findings page
    page.goto(url)
    settle(page)
    page.get_by_role("button", name="Pin as finding").click()
    page.get_by_label("Note").fill(NOTE)
    page.get_by_role("button", name="Pin", exact=True).click()
    settle(page)
    assert page.get_by_text("as a finding: see the Findings page").count() == 1
    page.goto(f"{server.url}/Findings?view=review")
    settle(page)
    shot(page, "cohort-flow-5-findings")
    caption = " ".join(page.locator("[data-testid='stCaptionContainer']").all_inner_texts()).replace("\u2060", "")
    assert f"note: {NOTE}" in caption and f"cohort: {COHORT}" in caption
    assert "language = sw" in page.locator("[data-testid='stMain']").inner_text()
    assert not trouble(page)
    context.close()
