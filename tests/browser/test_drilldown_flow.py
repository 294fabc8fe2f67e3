"""In a real browser at 1280x720: drill into a comparison on the demo (select a row, keep only regressions, open an
example, pin the row, find it on the Findings page), and the Failure modes page on a real log without a spec."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import PROJECTOR, AppServer, shot, wait_for_app
from tests.conftest import LM_EVAL_SAMPLES

pytestmark = pytest.mark.browser


@pytest.fixture
def projector(browser):
    context = browser.new_context(viewport=PROJECTOR)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


@pytest.fixture
def drill_server(tmp_path):
    from analysis import open_store
    from analysis.demo.seed import ensure_demo

    db = tmp_path / "drill.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo(store, n_prompts=3000)
        base, cand = store.runs()["run_id"].tolist()[:2]
    server = AppServer(db)
    yield server, base, cand
    server.stop()


def _shown(box) -> str:
    """What a selectbox shows: its label and its value (drawn as text, or held in its input)."""
    inputs = box.locator("input")
    value = inputs.first.input_value() if inputs.count() else ""
    return f"{box.inner_text()} {value}"


def _select_first_row(page) -> None:
    """Select the first row of the first table by its row marker (the grid draws on a canvas)."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 36 + 17)


def test_drill_into_a_regression_open_an_example_and_pin_it(drill_server, projector, browser):
    server, base, cand = drill_server
    page = projector
    page.goto(f"{server.url}/Compare")
    wait_for_app(page)
    page.get_by_text("The examples behind a row").wait_for()
    row_box = page.locator("[data-testid='stSelectbox']").filter(has_text="Row").first
    assert "(all examples)" in _shown(row_box)
    shot(page, "drill-01-compare")
    _select_first_row(page)  # the first row: the largest regression
    page.wait_for_function("() => new URLSearchParams(location.search).get('row') !== '{}'")
    wait_for_app(page)
    row = json.loads(parse_qs(urlparse(page.url).query)["row"][0])
    assert row, page.url
    described = " AND ".join(f"{k} = {v}" for k, v in row.items())
    assert described in _shown(row_box)
    # only the regressions: remove the other verdicts from the filter
    verdicts = page.locator("[data-testid='stMultiSelect']").filter(has_text="Verdicts shown").first
    for word in ("still wrong", "fixed"):
        verdicts.get_by_role("button", name=re.compile(rf"^Remove {word}")).first.click()
        wait_for_app(page)
    page.wait_for_function("() => new URLSearchParams(location.search).getAll('verdict').join() === 'regressed'")
    wait_for_app(page)
    regressed = page.locator("[data-testid='stMetric']").filter(has_text="Regressed").first
    count = regressed.locator("[data-testid='stMetricValue']").inner_text().strip()
    page.wait_for_function("n => document.body.innerText.includes(n + ' pairs: regressions.')",
                           arg=count, timeout=120_000)  # the list follows the filter (slow on a loaded machine)
    wait_for_app(page)
    pair = page.locator("[data-testid='stSelectbox']").filter(has_text="Read a pair side by side").first
    pair.wait_for()
    assert "(regressed)" in _shown(pair)
    assert page.locator("text=Traceback").count() == 0
    shot(page, "drill-02-regressed")
    # open the candidate's example: the link opens the Example page in a new tab
    link = page.get_by_role("link", name="open").nth(1)
    href = link.get_attribute("href")
    assert parse_qs(urlparse(href).query)["run"] == [cand]
    with page.context.expect_page() as opened:
        link.click()
    example = opened.value
    wait_for_app(example)
    example.set_default_timeout(60_000)
    example.get_by_text("Every field").wait_for()
    example_id = parse_qs(urlparse(href).query)["example"][0]
    shot(example, "drill-03-example")
    main = example.locator("[data-testid='stMain']").inner_text()
    assert f"Example {example_id} of " in main and "Traceback" not in main, main[:500]
    example.close()
    # pin the row as a finding
    page.get_by_label("Note (why it matters)").fill("regression to review")
    page.get_by_label("Your name").fill("ada")
    page.get_by_role("button", name="Pin as finding").click()
    page.get_by_text("it is listed on the Findings page").wait_for()
    shot(page, "drill-04-pinned")
    page.goto(f"{server.url}/Findings?view=review")
    wait_for_app(page)
    page.get_by_text(re.compile(rf"Finding 1 of 1: {re.escape(described)}")).first.wait_for()
    page.get_by_text("regression to review").first.wait_for()
    assert page.locator("text=Traceback").count() == 0
    shot(page, "drill-05-findings")


@pytest.mark.real_logs
def test_failure_modes_on_a_real_log_without_a_spec(tmp_path, projector):
    from analysis import NO_SPEC_SENTENCE, open_store

    db = tmp_path / "real.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest(LM_EVAL_SAMPLES)
    server = AppServer(db)
    try:
        page = projector
        page.goto(f"{server.url}/Failure_modes")
        wait_for_app(page)
        page.get_by_text(NO_SPEC_SENTENCE[:60]).wait_for()
        shot(page, "drill-06-failure-modes-no-spec")
        chart = page.locator("[data-testid='stPlotlyChart']").first
        chart.scroll_into_view_if_needed()
        chart.locator("svg text", has_text="no signal").first.wait_for()
        chart.locator("svg text", has_text="No objective").first.wait_for()
        alerts = page.locator("[data-testid='stAlert']").all_inner_texts()
        assert not [a for a in alerts if "does not fit" in a or "share no example" in a], alerts
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("text=Traceback").count() == 0
        shot(page, "drill-07-failure-modes-matrix")
    finally:
        server.stop()
