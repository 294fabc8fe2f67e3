"""A sweep in a real browser (issue #12): every page, for the demo, real logs and a graded-score log with missing
values, with its widgets operated; no exception element, no stray output, no error alert may appear.

One app serves one store holding the demo (3,000 prompts, two runs), two graded runs with missing values
(generated here) and a representative subset of the real logs: one log per format (lm-eval, HELM with and without
graded scores, Inspect, OpenAI evals, promptfoo, MT-Bench single and pairwise, AlpacaEval, lighteval, Every Eval
Ever), :data:`REAL_SUBSET`. Every run is opened on Slices (with a row selected) and on Failure modes; the demo and
the graded runs get every widget of every page operated. The Clusters page is opened last (it starts clustering in
the background, a long job: its progress is checked, not its result).
"""

from __future__ import annotations

import re
import time

import pytest

from analysis import open_store
from tests.app.test_graded_missing import ingest_graded_missing
from tests.browser.conftest import AppServer, shot
from tests.conftest import REAL

pytestmark = [pytest.mark.browser, pytest.mark.real_logs]

REAL_SUBSET = [
    "lm_eval/samples_bbq_local_2026-11-22T14-06-03.710369.jsonl", "helm/bbq", "helm/anthropic_red_team",
    "inspect/mmlu-summary-choices.eval", "openai_evals/examples_crossword-turbo.jsonl", "promptfoo/results.json",
    "judgments/mtbench_single/gpt-4_single.jsonl", "judgments/mtbench_pair/gpt-4_pair.jsonl",
    "alpaca_eval/alpaca-7b/annotations.json",
    "lighteval/synthetic_mcq/details_community|synthetic-mcq|0_2026-11-29T12-00-00.000000.parquet",
    "every_eval_ever/single_turn/data/starsim/anthropic/claude-opus-4-6/e854d8a1-c754-40ef-adaf-726c5f6f8e08"
    "_samples.jsonl",
]
#: Second runs of a log already swept (the same format and fields): left out to keep the sweep under a few minutes.
SAME_FORMAT_AGAIN = ("bbq · openai/gpt-4o-2024-05-13", "promptfoo · mock-answerer", "MT-Bench pairwise · phi-3-dpo vs phi-3",
                     "graded after")
#: Error alerts that are verdicts, not failures: the Compare page's gate.
EXPECTED_ERRORS = ("Gate failed",)
#: Text that only a Python value rendered by Streamlit's magic (or a leaked repr) would put on a page.
STRAY = re.compile(r"\bNone None\b|DeltaGenerator|<streamlit\.|\bdtype: |Traceback \(most recent call last\)")


@pytest.fixture(scope="module")
def sweep_store(tmp_path_factory):
    from analysis.demo.seed import ensure_demo

    db = tmp_path_factory.mktemp("sweep") / "sweep.duckdb"
    with open_store(db, seed_demo=False) as store:
        ensure_demo(store, n_prompts=3000)
        ingest_graded_missing(store, name="graded before")
        ingest_graded_missing(store, name="graded after", seed=1, shift=0.1)
        for log in REAL_SUBSET:
            store.ingest(REAL / log)
        runs = store.runs()
    return db, dict(zip(runs["name"], runs["run_id"]))


@pytest.fixture(scope="module")
def sweep_server(sweep_store):
    server = AppServer(sweep_store[0], env={"FAULTLINE_WARM_UP": "0"})
    yield server
    server.stop()


@pytest.fixture
def sweep_page(browser):
    """A page of the suite's chromium at 1280 x 720, the size the issue was checked at."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


# ------------------------------------------------------------------ waiting and checking
SETTLED_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.dataset.testScriptState === 'notRunning'
        && !document.querySelector('[data-stale="true"]') && !document.querySelector('[data-testid="stSpinner"]')
        && !!document.querySelector('[data-testid="stMain"] h1');
}"""


def settle(page, timeout_s: float = 90) -> None:
    """Until the page is settled (the issue's rule): no script running, nothing stale, for 0.6 s."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_timeout(400)  # a rerun starts within this after a click
    calm, deadline = 0, time.monotonic() + timeout_s
    while calm < 3 and time.monotonic() < deadline:
        calm = calm + 1 if page.evaluate(SETTLED_JS) else 0
        page.wait_for_timeout(200)


def trouble(page) -> list[str]:
    """What must never be on a page: exception elements, error alerts (other than a verdict), stray output."""
    found = [f"exception: {t[:300]}" for t in page.locator("[data-testid='stException']").all_inner_texts()]
    found += [f"error alert: {t[:300]}" for t in page.locator("[data-testid='stAlertContentError']").all_inner_texts()
              if not any(e in t for e in EXPECTED_ERRORS)]
    body = page.locator("[data-testid='stMain']").inner_text()
    found += [f"stray output: {m.group(0)!r}" for m in STRAY.finditer(body)]
    return found


class Sweep:
    def __init__(self, page, url: str):
        self.page, self.url, self.problems = page, url, []
        self.clock = time.monotonic()

    def check(self, where: str) -> None:
        settle(self.page)
        self.problems += [f"{where}: {p}" for p in trouble(self.page)]
        now = time.monotonic()
        print(f"{now - self.clock:6.1f} s  {where}")  # shown with -s, or when the test fails
        self.clock = now

    def open(self, path: str, where: str) -> None:
        self.page.goto(f"{self.url}/{path}")
        self.check(where)

    def act(self, where: str, action) -> None:
        """Do one thing to a widget; a widget that is not there (the page stopped earlier) is not a failure."""
        try:
            done = action()
        except Exception as err:  # noqa: BLE001 - Playwright's timeout: the widget is not on this page
            self.problems.append(f"{where}: could not operate ({type(err).__name__}: {str(err)[:120]})")
            return
        if done is not False:
            self.check(where)

    # -------------------------------------------------------------- widgets
    def select(self, label: str, option: int = 1):
        box = self.page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
        if box.count() == 0:
            return False
        box.scroll_into_view_if_needed()
        box.locator("input").first.click()
        options = self.page.get_by_role("option")
        try:
            options.first.wait_for(timeout=3000)
        except Exception:  # noqa: BLE001 - the list opens with the arrow key too
            self.page.keyboard.press("ArrowDown")
            options.first.wait_for(timeout=5000)
        n = options.count()
        options.nth(min(option, n - 1)).click()
        return True

    def add_to_multiselect(self, label: str, name: str | None = None):
        box = self.page.locator("[data-testid='stMultiSelect']").filter(has_text=label).first
        if box.count() == 0:
            return False
        box.locator("input").first.click()
        options = self.page.get_by_role("option")
        options.first.wait_for(timeout=5000)
        if options.count() == 0:
            self.page.keyboard.press("Escape")
            return False
        wanted = options.filter(has_text=re.compile(rf"^{re.escape(name)}$")) if name else options
        (wanted if wanted.count() else options).first.click()
        self.page.keyboard.press("Escape")
        return True

    def radio(self, label: str, choice: str):
        group = self.page.locator("[data-testid='stRadio']").filter(has_text=label).first
        if group.count() == 0:
            return False
        group.get_by_text(choice, exact=True).click()
        return True

    def toggle(self, label: str):
        widget = self.page.get_by_text(label, exact=True)
        if widget.count() == 0:
            return False
        widget.first.click()
        return True

    def button(self, name: str):
        widget = self.page.get_by_role("button", name=name, exact=True)
        if widget.count() == 0:
            return False
        widget.first.click()
        return True

    def select_row(self, table: int = 0, row: int = 0, *, within=None):
        """Select a row of a selectable table by its row marker (the grid draws on a canvas)."""
        grids = (within or self.page).locator("[data-testid='stDataFrame']:visible")
        if grids.count() <= table:
            return False
        grid = grids.nth(table)
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        self.page.mouse.click(box["x"] + 14, box["y"] + 36 + 17 + 35 * row)
        return True

    def switch_run(self, run: str, name: str):
        """Choose another run in the sidebar (the page reruns in the same session, its choices kept); the picker
        shows a run's name, with its id only where two runs share the name."""
        box = self.page.locator("[data-testid='stSelectbox']").filter(has_text="Run").first
        box.locator("input").first.click()
        option = self.page.get_by_role("option").filter(
            has_text=re.compile(rf"^({re.escape(name)}|.* \({re.escape(run)}\))$"))
        try:
            option.first.wait_for(timeout=3000)
        except Exception:  # noqa: BLE001 - the list opens with the arrow key too
            self.page.keyboard.press("ArrowDown")
        option.first.scroll_into_view_if_needed()
        option.first.click()
        return True


# ------------------------------------------------------------------ the sweep
def sweep_slices(s: Sweep, run: str, name: str, *, every_widget: bool) -> None:
    s.act(f"Slices {name}", lambda: s.switch_run(run, name))
    s.act(f"Slices {name}: select a row", lambda: s.select_row(0, 1))
    if not every_widget:
        return
    s.act(f"Slices {name}: add paraphrase_group", lambda: s.add_to_multiselect("Attributes", "paraphrase_group"))
    s.act(f"Slices {name}: triples", lambda: s.radio("Conjunctions up to", "triples"))
    s.act(f"Slices {name}: only worse", lambda: s.toggle("Only slices worse than the rest"))
    s.act(f"Slices {name}: select a row", lambda: s.select_row(0, 0))
    s.act(f"Slices {name}: heatmap columns", lambda: s.select("Columns", 2))
    s.act(f"Slices {name}: single", lambda: s.radio("Conjunctions up to", "single"))
    s.act(f"Slices {name}: largest conjunction", lambda: s.select("Largest conjunction", 0))
    s.act(f"Slices {name}: all slices again", lambda: s.toggle("Only slices worse than the rest"))
    s.act(f"Slices {name}: pairs", lambda: s.radio("Conjunctions up to", "pairs"))


def sweep_failure_modes(s: Sweep, run: str, name: str, *, every_widget: bool) -> None:
    s.act(f"Failure modes {name}", lambda: s.switch_run(run, name))
    if not every_widget:
        return
    s.act(f"Failure modes {name}: baseline", lambda: s.select("Baseline run", 1))
    s.act(f"Failure modes {name}: mode", lambda: s.select("Failure mode", 2))
    s.act(f"Failure modes {name}: component", lambda: s.select("Component", 1))
    s.act(f"Failure modes {name}: examples tab", lambda: s.page.get_by_role("tab", name="Examples").click())
    s.act(f"Failure modes {name}: an example", lambda: s.select_row(
        0, 0, within=s.page.get_by_role("tabpanel").filter(has_text="Download these examples")))
    s.act(f"Failure modes {name}: author", lambda: s.page.locator(".st-key-fm_author input").fill("sweep"))
    picked = s.page.get_by_label("Example id (select one in the Examples tab, or type it)")
    s.act(f"Failure modes {name}: add annotation", lambda: picked.input_value() != "" and s.button("Add annotation"))


def test_no_traceback_reaches_a_page(sweep_store, sweep_server, sweep_page):
    _, everything = sweep_store
    runs = {name: run for name, run in everything.items() if name not in SAME_FORMAT_AGAIN}
    s = Sweep(sweep_page, sweep_server.url)
    # every widget of Slices on the graded run with missing values, of Failure modes also on the demo's second run
    # (it has a baseline); every other run is opened on both pages, with a row of its slice table selected
    s.open("", "start page")
    s.open("Data", "Data")
    s.act("Data: rename box", lambda: s.select("Run to rename", 3))
    s.act("Data: delete then cancel", lambda: s.button("Delete..."))
    s.act("Data: cancel", lambda: s.button("Cancel"))
    s.open("Slices", "Slices")
    for name, run in runs.items():
        sweep_slices(s, run, name, every_widget=name == "graded before")
    shot(sweep_page, "sweep-slices-last")
    s.open("Failure_modes", "Failure modes")
    for name, run in runs.items():
        sweep_failure_modes(s, run, name, every_widget=name in ("graded before", "after-objective-change"))
    for base, cand in [(everything["baseline"], everything["after-objective-change"]),
                       (everything["graded before"], everything["graded after"])]:
        s.open(f"Compare?baseline={base}&candidate={cand}", f"Compare {base}")
        s.act(f"Compare {base}: pairs", lambda: s.radio("Conjunctions up to", "pairs"))
        s.act(f"Compare {base}: add attribute", lambda: s.add_to_multiselect("Attributes"))
    s.open("Compare", "Compare (default pair)")
    s.open(f"Report?run={runs['graded before']}", "Report")
    s.act("Report: preview", lambda: s.button("Preview"))
    s.open(f"Clusters?run={runs['graded before']}", "Clusters")
    assert not s.problems, "\n".join(s.problems)
