"""At 1280x720 (a projector), on the demo, the essential columns of four tables the trial found cut are in view
without scrolling sideways, their headers drawn whole: the Slices table up to its interval's "95% high" (the trial
saw nothing after "95% low"), the failure modes table's "Concentrates in" (its right-hand columns were off-screen;
its "Harms" comes after the sources, off-screen), the mode's concentration table up to "Rest of run", Compare's
graded table with its essential columns only (the trial saw "Baseline mean" take their room); and on Findings every
line of "In plain words" and of the note is drawn inside its row (the trial read sentences cut off at the row's
foot). Screenshots go to test-artifacts/columns-*.png."""

from __future__ import annotations

import pytest

from tests.browser.conftest import AppServer
from tests.browser.test_projector_layout import (
    HEADER_ROW_PX,
    _essentials_in_view,
    _grid,
    _head,
    _open,
    _shot,
)

pytestmark = pytest.mark.browser

#: The rows the grid's accessibility table holds (the texts of their cells), header row first.
ROWS = """e => Array.from(e.querySelectorAll('[role=row]')).map(
  r => Array.from(r.querySelectorAll('[role=gridcell],[role=columnheader]')).map(c => c.innerText))"""
#: Half a wrapped line's height (14 px text): a line drawn at y reaches y +- this.
HALF_LINE_PX = 8


@pytest.fixture(scope="module")
def columns_server(tmp_path_factory):
    """The demo (2,000 prompts x two runs) with a short slice finding and a long comparison finding in a cohort."""
    from analysis import open_store, pin_finding
    from analysis.demo.seed import ensure_demo

    db = tmp_path_factory.mktemp("columns") / "columns.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo(store, n_prompts=2000)
        runs = dict(zip(store.runs()["name"], store.runs()["run_id"]))
        pin_finding(store, runs["baseline"], kind="slice", target={"language": "sw"}, author="ada",
                    evidence={"n": 112, "errors": 67, "error_rate": 0.598, "q_value": 1.9e-27},
                    note="Swahili answers fail more than twice as often as the rest; the legal subset is worst, "
                         "and reviewers should check whether the translation pipeline dropped the context")
        pin_finding(store, runs["after-objective-change"], kind="comparison", baseline=runs["baseline"],
                    target={"language": "sw", "domain": "legal"}, author="ada", where='channel = "web"',
                    evidence={"base_error_rate": 0.2, "cand_error_rate": 0.45, "difference": 0.25, "ci_low": 0.12,
                              "ci_high": 0.33, "b": 1500, "c": 12, "n": 7032, "q_value": 0.00012,
                              "verdict": "regressed"},
                    note="The legal Swahili answers regressed after the objective change; check the reward model's "
                         "legal prompts before the release, and the translated prompts of the web channel too.")
    server = AppServer(db)
    yield server, runs
    server.stop()


def test_the_slices_table_shows_its_interval_whole(columns_server, projector):
    server, _ = columns_server
    _open(projector, f"{server.url}/Slices", "[data-testid='stDataFrame']")
    grid = _grid(projector, "Slice")
    _shot(projector, "columns-slices")
    _essentials_in_view(projector, grid, ["Status", "q (BH over", "vs rest", "n", "Error rate", "95% low",
                                          "95% high"])


def test_the_failure_modes_tables_show_their_right_hand_columns(columns_server, projector):
    server, runs = columns_server
    _open(projector, f"{server.url}/Failure_modes?run={runs['after-objective-change']}&spec=demo",
          "[data-testid='stDataFrame']")
    modes = _grid(projector, "Failure mode")
    _shot(projector, "columns-failure-modes")
    _essentials_in_view(projector, modes, ["Failure mode", "Examples", "Share", "Concentrates in"])
    assert "Harms" not in modes["heads"], modes  # secondary: after the sources, off-screen, never half-drawn here
    where = _grid(projector, "Slice", wait_s=120)  # where the selected cell's mode concentrates
    _shot(projector, "columns-failure-modes-concentration")
    _essentials_in_view(projector, where, ["Status", "q (BH over", "Share", "95% low", "95% high", "Rest of run"])


def test_findings_sentences_and_notes_are_drawn_inside_their_rows(columns_server, projector):
    server, _ = columns_server
    _open(projector, f"{server.url}/Findings", "[data-testid='stDataFrame']")
    grid = _grid(projector, "Finding")
    _shot(projector, "columns-findings")
    _essentials_in_view(projector, grid, ["Finding", "In plain words", "Note"])
    table = projector.locator("[data-testid='stDataFrame']").first.evaluate(ROWS)
    heads, rows = table[0], table[1:]
    assert len(rows) == 2
    drawn = [t for t in projector.evaluate("window.__drawn") if t["canvas"] in grid["canvases"]]
    # each row's centre: its one-word kind, drawn vertically centred in the row
    kind = heads.index("Kind")
    centres = []
    for row in rows:
        (word,) = [t for t in drawn if t["text"] == row[kind] and t["y"] > HEADER_ROW_PX][-1:]
        centres.append(word["y"])
    height = centres[1] - centres[0]
    assert height > 0
    starts = {t["text"]: t["x"] for t in drawn if t["y"] < HEADER_ROW_PX and t["text"] in heads}
    for column in ("In plain words", "Note"):
        i = heads.index(column)
        left, right = starts[column] - 1, starts[heads[i + 1]] - 1  # the column, between its header and the next
        for row, centre in zip(rows, centres):
            words = row[i].split()
            lines = [t for t in drawn if t["y"] > HEADER_ROW_PX and left <= t["x"] < right and t["text"].strip()
                     and t["text"].strip() in row[i]]
            lines = list({(round(t["x"]), round(t["y"])): t for t in lines}.values())  # drawn again when settled
            said = " ".join(t["text"].strip() for t in sorted(lines, key=lambda t: t["y"])).split()
            assert said[-3:] == words[-3:], (column, said, words)  # the text's end is drawn
            for t in lines:
                assert abs(t["y"] - centre) + HALF_LINE_PX <= height / 2, (column, t, centre, height)


def test_a_graded_comparison_shows_its_essential_columns_whole(columns_server, projector):
    """Compare by the demo's graded score: the slice, verdict, q, change, its interval and n in view and whole, and
    no other column half-drawn at the right edge (the trial saw "Baseline mean" take that room)."""
    server, runs = columns_server
    _open(projector, f"{server.url}/Compare?baseline={runs['baseline']}&candidate={runs['after-objective-change']}"
                     "&outcome=score", "[data-testid='stMetric']")
    grid = _grid(projector, "Slice")
    _shot(projector, "columns-compare-graded")
    essentials = ["Slice", "Verdict", "q (BH over", "Change", "low", "high", "n"]
    _essentials_in_view(projector, grid, essentials)
    assert [h for h in grid["heads"] if h] == [_head(grid, e) for e in essentials], grid["heads"]


#: A grid's box and its scroller's heights: what it shows and what its rows take.
HEIGHTS = """e => { const s = e.querySelector('.dvn-scroller'); const r = e.getBoundingClientRect();
  return {height: r.height, scroll_height: s.scrollHeight, client_height: s.clientHeight,
          rows: e.querySelectorAll('[role=row]').length - 1}; }"""


def test_a_short_examples_grid_has_no_empty_rows_under_it(columns_server, projector):
    """The five pairs the demo's Swahili slice fixed: the pairs grid is as tall as its header and five rows (it kept
    320 px, three empty rows under them), every row in view without scrolling inside it."""
    server, runs = columns_server
    _open(projector, f"{server.url}/Compare?baseline={runs['baseline']}&candidate={runs['after-objective-change']}"
                     '&row={"language":%20"sw"}&verdict=fixed', "text=Read a pair side by side")
    grids = projector.locator("[data-testid='stDataFrame']")
    pairs = grids.nth(grids.count() - 1)
    pairs.scroll_into_view_if_needed()
    projector.wait_for_timeout(300)
    found = pairs.evaluate(HEIGHTS)
    _shot(projector, "columns-short-examples")
    assert found["rows"] == 5, found
    rows_px = HEADER_ROW_PX + 5 * HEADER_ROW_PX  # the header and five rows of 35 px
    assert found["scroll_height"] <= found["client_height"] + 1, found  # every row in view
    assert found["height"] < rows_px + HEADER_ROW_PX, found  # no empty row under them
