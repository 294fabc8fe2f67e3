"""In a real browser (issue #11, kinds 3 and 4): with hostile logs loaded, the app's pages send no request off
this machine (no favicon from fonts.gstatic.com, no image a task name points at) and draw no link or image a log
value asked for."""

from __future__ import annotations

import pytest

from tests.browser.conftest import AppServer, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.real_logs]

LOCAL = ("data:", "blob:", "about:")


@pytest.fixture
def hostile_server(tmp_path, real_logs):
    from analysis import open_store

    db = tmp_path / "hostile.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest(real_logs / "hostile" / "markdown_injection.eval")
        store.ingest(real_logs / "hostile" / "report_link.csv")
        runs = dict(zip(store.runs()["name"], store.runs()["run_id"]))
    server = AppServer(db, env={"FAULTLINE_WARM_UP": "0"})
    yield server, runs
    server.stop()


def test_hostile_logs_make_no_request_off_the_machine_and_no_element(hostile_server, page):
    server, runs = hostile_server
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    for path in ["/", "/Data", f"/Slices?run={runs['report_link']}"]:
        page.goto(server.url + path)
        wait_for_app(page)
        page.wait_for_timeout(1500)  # let charts and icons load
        assert page.locator("img[src*='8629'], a[href*='8629'], a[href^='javascript']").count() == 0, path
    page.locator("svg text", has_text="trusted source").first.wait_for()  # the value is drawn, as text
    outside = [u for u in requests if not u.startswith((server.url, *LOCAL))]
    assert not outside, outside
