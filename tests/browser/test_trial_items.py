"""What a fresh-user trial in chromium at 1280x720 left on the pages (issue #14, H2), walked in a real browser on the
demo and the demo series: a click on a failure-mode x component cell selects it (the pickers and the URL follow);
pinning leaves the user where they were (the tab kept, the popover closed, a confirmation shown); a cohort typed and
then applied with one click, and a click after typing is never lost. Screenshots under test-artifacts/trial-*.png."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import ARTIFACTS, AppServer, wait_for_app

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1280, "height": 720}
BOX = "[data-testid='stSidebar'] input[aria-label='Cohort (a condition)']"

#: The matrix: each y tick (a mode) and x tick (a component) with its centre, and the centre of every cell text.
MATRIX = """e => { const at = t => { const r = t.getBoundingClientRect();
    return {text: t.textContent, x: r.left + r.width / 2, y: r.top + r.height / 2}; };
  return {x: Array.from(e.querySelectorAll('g.xtick text')).map(at), y: Array.from(e.querySelectorAll('g.ytick text')).map(at),
          cells: Array.from(e.querySelectorAll('g.heatmap-label text')).map(at)}; }"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The demo (2,000 prompts x two runs) and the demo series in one store."""
    from analysis import open_store
    from analysis.demo.seed import ensure_demo, ensure_demo_series

    db = tmp_path_factory.mktemp("trial") / "trial.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo(store, n_prompts=2000)
        ensure_demo_series(store)
    app = AppServer(db)
    yield app
    app.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield page
    context.close()


def _open(page, url: str, ready: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.locator(ready).first.wait_for(timeout=120_000)
    wait_for_app(page)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"trial-{name}.png"))


def _query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _picked(page, label: str) -> str:
    """The option a selectbox of the main area shows (the first one with this label)."""
    box = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").filter(has_text=label).first
    return box.locator("input").input_value()


def _squash(text: str) -> str:
    return "".join(text.split())


def test_a_click_on_a_matrix_cell_selects_it(server, page):
    _open(page, f"{server.url}/Failure_modes?spec=demo", "[data-testid='stPlotlyChart'] g.heatmap-label text")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.scroll_into_view_if_needed()
    found = chart.evaluate(MATRIX)
    before = (_picked(page, "Failure mode"), _picked(page, "Component"))
    # a cell in another row and column than the one shown: the mode and component it sits under, by position
    mode_tick = next(t for t in found["y"] if _squash(t["text"]) != _squash(before[0]))
    comp_tick = next(t for t in found["x"] if _squash(t["text"]) != _squash(before[1]))
    page.mouse.move(comp_tick["x"], mode_tick["y"])
    page.wait_for_timeout(300)  # plotly finds the point under the mouse on its (throttled) hover, then a click picks it
    page.mouse.click(comp_tick["x"], mode_tick["y"])
    page.wait_for_function("([m, c]) => { const boxes = Array.from(document.querySelectorAll("
                           "'[data-testid=stMain] [data-testid=stSelectbox] input')).map(i => i.value.replace(/\\s/g, ''));"
                           " return boxes.includes(m) && boxes.includes(c); }",
                           arg=[_squash(mode_tick["text"]), _squash(comp_tick["text"])], timeout=60_000)
    wait_for_app(page)
    after = (_picked(page, "Failure mode"), _picked(page, "Component"))
    assert (_squash(after[0]), _squash(after[1])) == (_squash(mode_tick["text"]), _squash(comp_tick["text"]))
    query = _query(page)  # the cell is in the URL, as the pickers' choice is
    chart.scroll_into_view_if_needed()
    _shot(page, "matrix-click")
    assert query["spec"] == "demo" and query["mode"] and query["component"]
    # the link reproduces the view: the same cell in a new browser context
    other = page.context.browser.new_context(viewport=VIEWPORT).new_page()
    try:
        _open(other, page.url, "[data-testid='stPlotlyChart'] g.heatmap-label text")
        assert (_picked(other, "Failure mode"), _picked(other, "Component")) == after
    finally:
        other.context.close()


def test_pinning_a_cell_keeps_the_tab_the_user_was_on(server, page):
    _open(page, f"{server.url}/Failure_modes?spec=demo", "[role=tab]")
    page.get_by_role("tab", name="Examples").click()
    wait_for_app(page)
    form = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Pin cell as finding"))
    form.locator("input[aria-label^='Pin this cell']").fill("rewarded refusals")
    form.get_by_label("Your name").fill("ada")
    form.get_by_role("button", name="Pin cell as finding").click()
    page.get_by_text("it is listed on the Findings page").first.wait_for()
    wait_for_app(page)
    _shot(page, "pin-cell")
    assert page.locator("[role=tab][aria-selected=true]").all_inner_texts() == ["Examples"]


def test_pinning_a_slice_closes_the_popover_and_confirms(server, page):
    _open(page, f"{server.url}/Slices?by=language&order=1&slice=" + '{"language":%20"sw"}', "text=Examples of a slice")
    page.get_by_role("button", name="Pin as finding").click()
    body = page.locator("[data-testid='stPopoverBody']")
    body.get_by_label("Note").fill("Swahili fails")
    body.get_by_label("Your name").fill("ada")
    body.get_by_role("button", name="Pin", exact=True).click()
    page.get_by_text("as a finding: see the Findings page").first.wait_for()
    wait_for_app(page)
    _shot(page, "pin-slice")
    assert not any(b.is_visible() for b in page.locator("[data-testid='stPopoverBody']").all())


def test_a_cohort_applies_with_one_click_and_a_click_after_typing_is_kept(server, page):
    from urllib.parse import quote

    from analysis.demo.series import SERIES_NAME

    _open(page, f"{server.url}/Timeline?series={quote(SERIES_NAME)}", "text=Slices followed")
    box = page.locator(BOX)
    box.click()
    page.keyboard.type('channel = "api"')  # typed, not entered: then one click on Apply
    page.locator("[data-testid='stSidebar']").get_by_role("button", name="Apply").click()
    page.get_by_text("Within the cohort").first.wait_for()
    wait_for_app(page)
    assert _query(page)["where"] == 'channel = "api"'
    _shot(page, "cohort-applied")
    box.click()
    page.keyboard.press("End")
    page.keyboard.type(' and domain != "legal"')  # typed, then a click elsewhere: the click is not lost
    page.get_by_text("Mix shift", exact=True).first.click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('view') === 'mix'", timeout=60_000)
    wait_for_app(page)
    query = _query(page)
    assert query["view"] == "mix"
    assert query["where"] == 'channel = "api"'  # the unapplied text waits for Enter or Apply
    assert box.input_value() == 'channel = "api" and domain != "legal"'
    box.press("Enter")  # Enter applies it
    page.wait_for_function("() => new URLSearchParams(location.search).get('where') === "
                           "'channel = \"api\" and domain != \"legal\"'", timeout=60_000)
    wait_for_app(page)
    _shot(page, "cohort-then-click")
    assert _query(page)["view"] == "mix"


#: A grid's rows as its accessibility tree gives them (the grid draws its cells on a canvas): each row's cell texts.
ROWS = "e => Array.from(e.querySelectorAll('[role=row]')).map(r => Array.from(r.querySelectorAll('[role=gridcell]')).map(c => c.innerText))"


def _grid_of_open_buttons(page, wait_s: float = 60):
    """The visible grid whose rows start with an Open button (scrolled into view: the grid fills its rows lazily)."""
    for _ in range(int(wait_s * 2)):
        for grid in page.locator("[data-testid='stDataFrame']").all():
            if not grid.is_visible():
                continue
            grid.scroll_into_view_if_needed()
            if any(r and r[0].endswith("Open") for r in grid.evaluate(ROWS)):
                return grid
        page.wait_for_timeout(500)
    raise AssertionError("no grid of Open buttons on the page")


@pytest.mark.parametrize("path,ready,selectable", [
    ("Slices?by=language&order=1&slice=" + '{"language":%20"sw"}', "text=Examples of a slice", True),
    ("Compare?compare_by=language&row=" + '{"language":%20"sw"}', "text=Read a pair side by side", False),
])
def test_one_click_on_open_opens_the_example(server, page, path, ready, selectable):
    _open(page, f"{server.url}/{path}", ready)
    grid = _grid_of_open_buttons(page)
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    row = next(r for r in grid.evaluate(ROWS) if r)  # the first data row: its example id
    example = next(c for c in row if c.startswith("ex-"))
    box = grid.bounding_box()
    x = box["x"] + (36 if selectable else 0) + 30  # a selectable grid has a column of checkboxes first  # on the Open button of the first row (the header is 35 px high)
    y = box["y"] + 35 + 17
    page.mouse.move(x, y)
    page.mouse.click(x, y)  # once
    page.wait_for_url("**/Example?**", timeout=60_000)
    wait_for_app(page)
    assert _query(page)["example"] == example
    page.get_by_text(example).first.wait_for()
    _shot(page, "open-" + path.split("?")[0].lower())
