"""At 1280x720 (a projector, issue #14), in a real browser on the demo and a real HELM log: on every analysis page the
essential columns of the main tables (status, q-value, verdict; a finding's note and sentence) are in view without
scrolling sideways, the failure-mode matrix's column headers overlap nothing and no cell's text is cut, and the run
picker says the whole run name. Every essential header is drawn whole (never "q-val..." or "more fr..."): the grid draws
on a canvas, so the test records each text it draws and where, and checks each header ends before the next column
starts. Compare's metric labels (a long score name: "Baseline mean score.quasi_ex...") read whole, the Slices table's
"vs rest" and the Timeline's "departs at" are in view, and the cohort box's "Press Enter" hint sits under the box, not
over the condition typed. Screenshots go to test-artifacts/projector-*.png."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import ARTIFACTS, PROJECTOR, AppServer, wait_for_app
from tests.conftest import HELM_BBQ

pytestmark = [pytest.mark.browser, pytest.mark.real_logs]

#: A grid's geometry: its box, its horizontal scroller, and the headers the grid has drawn. The grid draws only the
#: columns in (or touching) its visible width, so a header missing from ``heads`` is off-screen.
GRID = """e => { const s = e.querySelector('.dvn-scroller'); const r = e.getBoundingClientRect();
  return {left: r.left, right: r.right, scroll: s ? s.scrollWidth : 0, client: s ? s.clientWidth : 0,
          heads: Array.from(e.querySelectorAll('[role=columnheader]')).map(h => h.innerText.trim()),
          canvases: Array.from(e.querySelectorAll('canvas')).map(c => c.dataset.h || null)}; }"""

#: The grid's header row is 35 px high; a cell's text starts 8 px inside it.
HEADER_ROW_PX, CELL_PADDING_PX = 35, 8

#: The matrix's texts: column headers (x ticks), row labels (y ticks), cell texts, the plot area and the chart.
MATRIX = """e => { const box = x => { const r = x.getBoundingClientRect();
    return {text: x.textContent, left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; };
  const plot = e.querySelector('rect.nsewdrag');
  return {chart: box(e), plot: plot ? box(plot) : null,
          x: Array.from(e.querySelectorAll('g.xtick text')).map(box),
          y: Array.from(e.querySelectorAll('g.ytick text')).map(box),
          cells: Array.from(e.querySelectorAll('g.heatmap-label text')).map(box)}; }"""


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory):
    """The demo (2,000 prompts x two runs) with its series, and two real HELM BBQ runs (scores with long names), with
    two findings pinned (one with a long note)."""
    from analysis import open_store, pin_finding
    from analysis.demo.seed import ensure_demo, ensure_demo_series

    db = tmp_path_factory.mktemp("projector") / "projector.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo(store, n_prompts=2000)
        ensure_demo_series(store)
        store.ingest(HELM_BBQ / "openai_gpt-4o-2024-05-13")
        store.ingest(HELM_BBQ / "meta_llama-3-8b-chat")
        runs = dict(zip(store.runs()["name"], store.runs()["run_id"]))
        pin_finding(store, runs["baseline"], kind="slice", target={"language": "sw"}, author="ada",
                    evidence={"n": 112, "errors": 67, "error_rate": 0.598, "q_value": 1.9e-27},
                    note="Swahili answers fail more than twice as often as the rest; the legal subset is worst, "
                         "and reviewers should check whether the translation pipeline dropped the context")
    server = AppServer(db)
    yield server, runs
    server.stop()


def _open(page, url: str, ready: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.locator(ready).first.wait_for(timeout=120_000)
    wait_for_app(page)


def _grid(page, first_header: str, *, wait_s: float = 60) -> dict:
    """The geometry of the first visible grid whose first header is ``first_header``, scrolled into view (waiting
    for the page to draw it)."""
    seen = []
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        grids = page.locator("[data-testid='stDataFrame']")
        for i in range(grids.count()):
            grid = grids.nth(i)
            if not grid.is_visible():
                continue
            grid.scroll_into_view_if_needed()
            found = grid.evaluate(GRID)
            if found["heads"] and found["heads"][0] == first_header:
                page.wait_for_timeout(300)  # the grid settles its column widths
                return grid.evaluate(GRID)
            seen.append(found["heads"][:3])
        page.wait_for_timeout(500)
    raise AssertionError(f"no visible table starting with {first_header!r}; tables seen: {seen[-5:]}")


def _essentials_in_view(page, grid: dict, essentials: list[str]) -> None:
    """Every essential header is drawn, whole and in view without scrolling sideways: its text ends before the next
    column's begins and inside the grid's visible width (:func:`_headers_whole`)."""
    assert grid["left"] >= 0 and grid["right"] <= PROJECTOR["width"], grid
    _headers_whole(page, grid, essentials)


def _head(grid: dict, name: str) -> str:
    """The header ``name`` names: itself, or the one it begins (a q-value column says its BH family after "q")."""
    found = [h for h in grid["heads"] if h == name] or [h for h in grid["heads"] if h.startswith(name)]
    assert found, (name, grid["heads"])
    return found[0]


def _headers_whole(page, grid: dict, essentials: list[str]) -> None:
    """Every essential header is drawn whole: its text ends before the next column's text begins (less the padding)
    and inside the grid's visible width, as the grid last drew them, never cut to "q-val..." at 1280x720."""
    drawn = [t for t in page.evaluate("window.__drawn") if t["canvas"] in grid["canvases"]
             and t["y"] < HEADER_ROW_PX and t["text"] in grid["heads"]]
    last = {t["text"]: t for t in drawn}  # the latest draw of each header
    heads = sorted(last.values(), key=lambda t: t["x"])
    width = grid["right"] - grid["left"]
    for name in essentials:
        head = _head(grid, name)
        assert head in last, (head, sorted(last))
        i = heads.index(last[head])
        right = min(heads[i + 1]["x"] - CELL_PADDING_PX if i + 1 < len(heads) else width, grid["client"] or width)
        assert heads[i]["x"] + heads[i]["width"] <= right + 0.5, (head, heads[i], right)


def _cells_whole(page, grid: dict, name: str) -> list[str]:
    """Every text the grid drew in column ``name`` (below its header) ends inside the column (the status "more
    frequent" was cut to "more fr..."); returns the texts checked."""
    drawn = [t for t in page.evaluate("window.__drawn") if t["canvas"] in grid["canvases"]]
    heads = sorted({t["text"]: t for t in drawn if t["y"] < HEADER_ROW_PX and t["text"] in grid["heads"]}.values(),
                   key=lambda t: t["x"])
    i = next(k for k, t in enumerate(heads) if t["text"] == name)
    left = heads[i]["x"] - CELL_PADDING_PX
    right = heads[i + 1]["x"] - CELL_PADDING_PX if i + 1 < len(heads) else grid["right"] - grid["left"]
    cells = [t for t in drawn if t["y"] >= HEADER_ROW_PX and left <= t["x"] < right and t["text"].strip()]
    for t in cells:
        assert t["x"] + t["width"] <= right + 0.5, (name, t, right)
    return [t["text"] for t in cells]


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"projector-{name}.png"))


@pytest.mark.parametrize("path,first,essentials", [
    ("Slices", "Slice", ["Status", "q (BH over", "vs rest"]),
    ("Timeline", "slice", ["trend q", "trend (pts/run)", "departs at"]),
    ("Compare", "Slice", ["Verdict", "q (BH over", "Error change"]),
    ("Findings", "Finding", ["Note", "In plain words"]),
    ("Clusters", "Cluster", ["Status", "q (BH over", "Top terms"]),  # the clustering runs in the background first
])
def test_essential_columns_are_in_view(layout_server, projector, path, first, essentials):
    server, _ = layout_server
    _open(projector, f"{server.url}/{path}", "[data-testid='stDataFrame']")
    grid = _grid(projector, first, wait_s=240)
    _shot(projector, path.lower())
    _essentials_in_view(projector, grid, essentials)


def test_failure_modes_matrix_headers_and_cells_are_not_clipped(layout_server, projector):
    server, runs = layout_server
    _open(projector, f"{server.url}/Failure_modes?run={runs['after-objective-change']}&spec=demo",
          "[data-testid='stPlotlyChart'] g.heatmap-label text")
    chart = projector.locator("[data-testid='stPlotlyChart']").first
    chart.scroll_into_view_if_needed()
    found = chart.evaluate(MATRIX)
    _shot(projector, "failure-modes-matrix")
    chart_box, plot = found["chart"], found["plot"]
    heads = sorted(found["x"], key=lambda t: t["left"])
    assert len(heads) == 7  # the demo spec's components: the narrow layout, headers upright
    for left, right in zip(heads, heads[1:]):  # no header overlaps the next one
        assert left["right"] <= right["left"] + 0.5, (left, right)
    for t in heads + found["y"]:  # every label inside the chart and the viewport
        assert t["left"] >= chart_box["left"] - 0.5 and t["right"] <= chart_box["right"] + 0.5, t
        assert t["top"] >= chart_box["top"] - 0.5 and t["right"] <= PROJECTOR["width"], t
    cell_width = plot["width"] / len(heads)
    assert found["cells"]
    for t in found["cells"]:  # no cell's text wider than its cell ("MPLICATED")
        assert t["width"] <= cell_width, (t, cell_width)
    assert any(t["text"].startswith("implicated") for t in found["cells"])
    # the tables of the cell below: its separation (half the width) and where the mode concentrates
    _essentials_in_view(projector, _grid(projector, "signal"), ["signal", "q", "AUC", "95% low", "95% high"])
    concentration = _grid(projector, "Slice")
    _essentials_in_view(projector, concentration, ["Slice", "Status", "q (BH over"])
    assert "more frequent" in _cells_whole(projector, concentration, "Status")
    _shot(projector, "failure-modes-concentration")


def test_the_run_picker_says_the_whole_run_name(layout_server, projector):
    server, runs = layout_server
    name = next(n for n in runs if n.startswith("bbq"))
    _open(projector, f"{server.url}/Slices?run={runs[name]}", "[data-testid='stDataFrame']")
    caption = projector.locator("[data-testid='stSidebar'] [data-testid='stCaptionContainer']").filter(
        has_text=f"id {runs[name]}").first
    assert caption.inner_text().strip() == f"{name} · id {runs[name]}"
    assert caption.evaluate("e => e.scrollWidth <= e.clientWidth + 1 && e.getBoundingClientRect().right <= 300")
    _shot(projector, "run-picker")


#: Each metric's label: its text, and whether any box inside it cuts the text (an ellipsis: "Baseline mean sco...").
METRIC_LABELS = """() => Array.from(document.querySelectorAll('[data-testid=stMetricLabel]')).map(e => {
  const boxes = [e, ...e.querySelectorAll('*')];
  return {text: e.innerText.trim(), right: e.getBoundingClientRect().right,
          cut: boxes.some(b => b.scrollWidth > b.clientWidth + 1)}; })"""


def test_compare_by_a_long_score_name_reads_whole(layout_server, projector):
    """A graded comparison by ``score.quasi_prefix_exact_match@5`` (two real HELM runs): every metric label whole,
    the score named in help; the essential columns in view and whole."""
    server, runs = layout_server
    base, cand = (runs[n] for n in runs if n.startswith("bbq"))
    _open(projector, f"{server.url}/Compare?baseline={base}&candidate={cand}&outcome=score.quasi_prefix_exact_match%405",
          "[data-testid='stMetric']")
    grid = _grid(projector, "Slice")
    labels = projector.evaluate(METRIC_LABELS)
    _shot(projector, "compare-graded")
    assert {"Baseline mean", "Candidate mean"} <= {t["text"] for t in labels}, labels
    for label in labels:
        assert not label["cut"] and label["right"] <= PROJECTOR["width"], label
    _essentials_in_view(projector, grid, ["Verdict", "q (BH over", "Change"])


#: The cohort box, the "Press Enter" hint Streamlit draws for it, and the form's Apply button.
COHORT_BOXES = """() => { const r = e => { if (!e) return null; const b = e.getBoundingClientRect();
    return {left: b.left, right: b.right, top: b.top, bottom: b.bottom}; };
  const input = document.querySelector("[data-testid=stSidebar] input[aria-label='Cohort (a condition)']");
  const hint = input.closest('[data-testid=stTextInput]').querySelector('[data-testid=InputInstructions]');
  const apply = Array.from(input.closest('[data-testid=stForm]').querySelectorAll('button'))
    .find(b => b.innerText.includes('Apply'));
  return {input: r(input), hint: r(hint), hint_text: hint ? hint.innerText : null, apply: r(apply)}; }"""


def test_the_cohort_hint_does_not_cover_the_condition(layout_server, projector):
    server, _ = layout_server
    _open(projector, f"{server.url}/Slices", "[data-testid='stDataFrame']")
    box = projector.locator("[data-testid='stSidebar'] input[aria-label='Cohort (a condition)']")
    box.scroll_into_view_if_needed()
    before = projector.evaluate(COHORT_BOXES)
    box.click()
    box.type('language = "sw" and domain = "legal"')  # typed, not applied: the hint shows
    projector.wait_for_timeout(300)
    found = projector.evaluate(COHORT_BOXES)
    projector.locator("[data-testid='stSidebar'] [data-testid='stForm']").first.screenshot(
        path=str(ARTIFACTS / "projector-cohort-hint.png"))
    assert found["hint"] and "Enter" in found["hint_text"], found
    assert found["hint"]["top"] >= found["input"]["bottom"] - 0.5, found  # under the box, not over its text
    assert found["hint"]["bottom"] <= found["apply"]["top"] + 0.5, found  # and above the Apply button
    assert found["apply"] == before["apply"], (before, found)  # nothing moves while typing
