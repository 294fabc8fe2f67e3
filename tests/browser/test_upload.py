"""In a real browser: open the app, upload a real log through the Data page, see the run on the start page."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import shot, wait_for_app
from tests.conftest import LM_EVAL_SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.real_logs]  # reads ../shared/fixtures


def test_upload_lm_eval_log_and_see_it_on_start_page(app_server, page):
    page.goto(app_server.url)
    wait_for_app(page)
    page.get_by_text("The store has no runs yet").wait_for()
    shot(page, "01-start-empty")

    page.get_by_role("link", name="Data").first.click()
    wait_for_app(page)
    page.get_by_text("Add a log").wait_for()
    page.locator("input[type='file']").set_input_files(str(LM_EVAL_SAMPLES))
    page.get_by_text("Detected format").wait_for()
    page.get_by_text("lm-evaluation-harness").first.wait_for()
    page.get_by_text("Guessed column roles").wait_for()
    shot(page, "02-data-preview")

    page.get_by_role("button", name="Load", exact=True).click()
    page.get_by_text(re.compile(r"Loaded run .*bbq_local")).wait_for()
    shot(page, "03-data-loaded")

    page.get_by_role("link", name="app").first.click()
    wait_for_app(page)
    page.get_by_text("Headline per run").wait_for()
    # the chart's axis labels are SVG text: the new run is on the start page
    page.locator("svg text", has_text="bbq_local").first.wait_for()
    metrics = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert metrics[:2] == ["1", "100"]
    shot(page, "04-start-with-run")


def test_bad_upload_shows_plain_error_not_traceback(app_server, page, tmp_path):
    bad = tmp_path / "broken.jsonl"
    bad.write_text('{"id": 1, "prompt": "a", "correct": true}\n{"id": 2, "prompt": "b", "corr')
    page.goto(f"{app_server.url}/Data")
    wait_for_app(page)
    page.locator("input[type='file']").set_input_files(str(bad))
    page.get_by_text(re.compile(r"broken\.jsonl, line 2: is not complete JSON")).wait_for()
    assert page.locator("text=Traceback").count() == 0
    shot(page, "05-data-bad-upload")
