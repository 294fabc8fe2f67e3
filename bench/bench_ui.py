"""App speed in a real browser: the main interactions of every page on a store of 2 runs x 1,000,000 examples.

Run: .venv/bin/python bench/bench_ui.py [--quick] [--size N] [--store PATH] [--port P] [--rounds 3]
[--no-precompute]

The store (10 categorical attributes, short texts, two runs over the same example ids with planted
failure structure) is generated once and cached (``faultline-bench-ui-<size>.duckdb`` in the system temporary folder unless
``--store``). The app is started on it (``streamlit run app.py`` on 127.0.0.1, ``FAULTLINE_DB``,
``FAULTLINE_DEMO=0``, ``FAULTLINE_WARM_UP=0``) and Debian's chromium, driven by Playwright, goes
through the main interactions of every page. Each interaction is timed from the action to
*settled*: no script running (Streamlit's ``[data-testid="stStatusWidget"]`` absent) and no
element stale (``[data-stale="true"]``) and no change to the page for 0.6 s; the time reported is
when that quiet period began. p50 / p95 are printed per page and overall.

Beside them, the floor: the engine's own time for the same calls (the same ``analysis`` functions
the pages call, with the pages' default settings, in the order the bench makes them: the engine's own
caches, as in the app, warm from the calls before), measured in this process before the app starts
(DuckDB lets one process hold the file at a time). The first visit of the new app process (imports,
opening the store) is reported apart and left out of the overall figures. On a shared machine the absolute numbers are
noisy; the ratio to the floor measured in the same run is what counts. ``--quick`` is 100,000
examples per run (for iteration); ``--size`` any other count.

Beside each interaction, the CPU seconds the app's process (script, DuckDB, background precompute) and chromium
used from the action to settled (Linux ``/proc``; the settled watch itself costs the browser about what the floor
page's reruns show): on a shared machine the wall clock also counts waiting for a core, the CPU does not.

The Streamlit rerun floor: before the app starts, a trivial page (``bench/_floor_app.py``, one selectbox) is served
the same way and its selection changed ``15`` times, timed to settled the same way: what any rerun costs on this
machine (websocket, script run, chromium), whatever the page computes. It is printed as "Streamlit rerun floor";
``--page floor`` measures only it.

Timeline (``--page timeline``): a series of ``--series-runs`` runs (default 20) of ``--size`` examples each (``--quick``:
100,000), the five attributes and the drifting slice of ``bench/bench_series.py``, cached as
``faultline-bench-ui-series-<runs>x<size>.duckdb``; the Timeline page is opened and its views changed (attribute, a
slice, panels, the mix-shift view, back to the slices), timed the same way; the floor is the engine's
``trajectories`` and ``mix_along`` of the series.

Clusters: clustering itself is a background job (first time ~2 minutes at 1M, most of it UMAP); it
is measured only with ``--clusters`` (computed by the engine before the app starts, so that the
page reads it from the store's cache); without it the Clusters page's cluster -> slice step is
skipped with a note.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("FAULTLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]
#: The attributes: name and categories (cardinalities 2..12, as ``bench_slicing``), skewed frequencies.
ATTRIBUTES = {
    "language": ["en", "es", "de", "fr", "zh", "ja", "sw", "ar"],
    "domain": ["legal", "medical", "finance", "code", "science", "sports"],
    "genre": ["qa", "summarise", "translate", "classify"],
    "difficulty": ["easy", "medium", "hard"],
    "source": ["web", "books", "forum", "news", "wiki", "papers", "chat", "email", "manual", "faq"],
    "length_bucket": ["short", "long"],
    "format": ["plain", "markdown", "json", "table", "list"],
    "region": ["eu", "us", "apac", "latam", "africa", "mena", "other"],
    "topic": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"],
    "template": ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"],
}
MAPPING = {"id": "example_id", "input": "input", "output": "output", "correct": "correct"}
WORDS = np.array(["the", "a", "model", "answer", "question", "why", "how", "what", "when", "city", "river", "law", "court", "drug", "dose", "price", "rate", "team", "goal", "code", "bug", "test", "data", "paper", "claim", "cell", "gene", "loan", "tax"])


# ------------------------------------------------------------------------------------------ the store
def make_runs(size: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Two runs over the same ``size`` example ids: attributes, short texts, correctness with planted slices."""
    rng = np.random.default_rng(seed)
    data: dict = {"example_id": np.char.add("ex", np.arange(size).astype(str))}
    codes = {}
    for name, values in ATTRIBUTES.items():
        p = rng.dirichlet(np.full(len(values), 3.0))
        codes[name] = rng.choice(len(values), size=size, p=p)
        data[name] = pd.array(np.array(values)[codes[name]], dtype="str")
    w = rng.integers(0, len(WORDS), size=(size, 4))
    data["input"] = pd.array(np.char.add(np.char.add(np.char.add(WORDS[w[:, 0]], " "), WORDS[w[:, 1]]), "?"), dtype="str")
    out_words = np.char.add(np.char.add(WORDS[w[:, 2]], " "), WORDS[w[:, 3]])
    base = np.full(size, 0.12)
    base[(codes["language"] == 1) & (codes["domain"] == 0)] += 0.35   # language = es AND domain = legal
    base[codes["difficulty"] == 2] += 0.08                              # difficulty = hard
    base[(codes["genre"] == 2) & (codes["region"] == 4) & (codes["format"] == 3)] += 0.3
    runs = {}
    for index, (name, shift) in enumerate((("baseline-1m", 0.0), ("candidate-1m", 0.02))):
        p_err = base + shift + (0.1 * (codes["source"] == 2) if index else 0.0)
        correct = rng.random(size) >= np.clip(p_err, 0, 1)
        frame = pd.DataFrame({**data, "output": pd.array(out_words, dtype="str"), "correct": correct})
        runs[name] = frame
    return runs


def ensure_store(path: Path, size: int) -> float:
    """Generate the store at ``path`` unless it already holds the two runs of this size; seconds spent."""
    from analysis import open_store

    start = time.perf_counter()
    if path.exists():
        with contextlib.suppress(Exception), open_store(path, seed_demo=False) as store:
            runs = store.runs()
            if len(runs) == 2 and (runs["rows"] == size).all():
                return 0.0
        path.unlink()
    with open_store(path, seed_demo=False) as store:
        for name, frame in make_runs(size).items():
            store.ingest_frame(frame, name=name, model=name, mapping=MAPPING, notes=f"bench_ui, {size:,} examples")
    return time.perf_counter() - start


# ------------------------------------------------------------------------------------------ the floor
def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def engine_floor(path: Path, *, clusters: bool) -> dict[str, dict[str, float]]:
    """The engine's own seconds for the calls behind each interaction (page defaults), by page and interaction.

    Each call is made once on a fresh store object (no result cache; DuckDB's own buffers warm),
    which is what the app pays the first time it shows a view.
    """
    import analysis

    floor: dict[str, dict[str, float]] = {}
    with analysis.open_store(path, seed_demo=False) as store:
        runs = store.runs()
        first, second = list(runs["run_id"])[:2]
        store.headline()  # the connection and the catalog, warm
        defaults = [a.name for a in analysis.default_attributes(store, first)]

        def slices(run, by, order):
            return analysis.slice_table(store, run, by, max_order=order, min_support=30, fdr=0.05, bins=5)

        result: dict = {}
        t_start = _timed(lambda: (store.headline(), store.runs()))
        floor["Start"] = {"open": t_start}
        floor["Data"] = {"open": _timed(lambda: (store.runs(), store.reconciliation()))}
        t_open = _timed(lambda: result.setdefault("pairs", slices(first, defaults, 2)))
        t_fewer = _timed(lambda: slices(first, defaults[1:], 2))  # the bench removes the first attribute
        t_triples = _timed(lambda: slices(first, defaults[1:], 3))
        t_pairs = _timed(lambda: slices(first, defaults[1:], 2))
        table = result["pairs"].table
        row = table[~table["redundant"]].iloc[0]
        t_row = _timed(lambda: analysis.slice_examples(store, first, dict(row["predicate"]), limit=2000, bins=5))
        t_run = _timed(lambda: slices(second, defaults[1:], 2))
        floor["Slices"] = {"open": t_open, "attributes": t_fewer, "order: triples": t_triples,
                           "order: pairs": t_pairs, "run": t_run, "select a row": t_row, "only findings": 0.0}
        floor["Slices (discovery)"] = {"SliceLine": _timed(lambda: analysis.discover(
            store, first, defaults, k=10, max_order=3, min_support=0.01, holdout=True, fdr=0.05, bins=5))}
        floor["Slices (extras)"] = {"extras": _timed(lambda: analysis.slice_extras(store, first, defaults, bins=5))}

        def compare(base, cand, order):
            return analysis.compare_runs(store, base, cand, defaults, max_order=order, min_support=30, fdr=0.05)

        floor["Compare"] = {"open": _timed(lambda: compare(first, second, 1)),
                            "order: pairs": _timed(lambda: compare(first, second, 2)),
                            "swap runs": _timed(lambda: compare(second, first, 1))}

        # the page's spec for these runs (not the demo's): none, the built-in detectors and label columns; without a
        # component the page links the run alone whatever the baseline (ui.cache.link_baseline), so choosing the
        # baseline makes no engine call; the run it then switches to is linked alone too

        def link(run, baseline):
            return analysis.link(store, run, None, baseline=baseline, strict=False, max_order=1, min_support=30,
                                 min_failures=20, fdr=0.05)

        t_fm = _timed(lambda: result.setdefault("link", link(first, None)))
        t_fm_run = _timed(lambda: link(second, None))
        floor["Failure modes"] = {"open": t_fm, "baseline": 0.0, "run": t_fm_run, "select a cell": 0.0}
        if clusters:
            params = _cluster_params()
            t_cluster = _timed(lambda: analysis.cluster_run(store, first, **params))
            cached = analysis.cached_result(store, first, **params)
            floor["Clusters (first clustering)"] = {"compute": t_cluster}
            floor["Clusters"] = {"open": _timed(lambda: analysis.cached_result(store, first, **params)),
                                 "open as a slice": _timed(lambda: slices(first, [cached.column, *defaults], 2))}
    return floor


def _cluster_params() -> dict:
    """The Clusters page's default settings."""
    return {"field": "input", "embedder": "auto", "min_cluster_size": None, "n_neighbors": None, "seed": 0,
            "sample_size": 5000}


# ------------------------------------------------------------------------------------------ the browser
#: Watches the page: the last moment a script ran (the app's script state, the status widget, a stale
#: element) and the last change to the page, in ``Date.now()`` milliseconds (survives navigation).
MONITOR = """
(() => {
  window.__fl = {busy: 0, mut: 0, ran: 0};
  const busy = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app ? app.getAttribute('data-test-script-state') : 'initial';
    if (state === 'running' || state === 'rerunRequested') { window.__fl.ran = Date.now(); return true; }
    return !!(document.querySelector('[data-testid="stStatusWidget"]') || document.querySelector('[data-stale="true"]'));
  };
  setInterval(() => { if (busy()) window.__fl.busy = Date.now(); }, 10);
  // a change inside a <canvas> is its fallback content (the grid's accessibility table, written ~0.3 s after the
  // grid is drawn): never drawn, so not a change anyone sees
  const seen = (r) => { const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
    return !(el && el.closest('canvas')); };
  new MutationObserver((records) => { if (records.some(seen)) window.__fl.mut = Date.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
})();
"""
QUIET_MS = 600


def settle(page, t0_ms: float, *, need_run: bool, timeout: float = 240.0, grace_ms: float = 1500) -> float:
    """Seconds from ``t0_ms`` to settled: no script running, nothing stale, no change for 0.6 s.

    ``need_run``: wait until a script run has started (a page load) rather than give up after ``grace_ms``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now, busy, mut, ran = page.evaluate(
            "() => [Date.now(), window.__fl ? window.__fl.busy : 0, window.__fl ? window.__fl.mut : 0, "
            "window.__fl ? window.__fl.ran : 0]")
        started = ran >= t0_ms or busy >= t0_ms
        last = max(busy, mut, t0_ms)
        if now - last >= QUIET_MS and (started or (not need_run and now - t0_ms >= grace_ms)):
            return (last - t0_ms) / 1000
        time.sleep(0.03)
    raise TimeoutError(f"the page did not settle in {timeout:.0f} s")


def now_ms() -> float:
    return time.time() * 1000


class App:
    """``streamlit run app.py`` on 127.0.0.1 on the bench store."""

    def __init__(self, store: Path, port: int, *, precompute: bool = True, script: Path = ROOT / "app.py",
                 env: dict | None = None):
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(Path(tempfile.gettempdir()) / f"bench-ui-{port}.log", "w")  # noqa: SIM115 - closed in stop
        env = {**os.environ, "FAULTLINE_DB": str(store), "FAULTLINE_DEMO": "0", "FAULTLINE_WARM_UP": "0",
               "FAULTLINE_PRECOMPUTE": "1" if precompute else "0", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early, see {self.log.name}")
            with contextlib.suppress(OSError), \
                    urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError("streamlit did not become healthy")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def free_port(preferred: int | None) -> int:
    for port in ([preferred] if preferred else []):
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------------------ CPU seconds
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds used so far: user + system) of every process (Linux ``/proc``;
    empty elsewhere)."""
    table = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as handle:
                    text = handle.read()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2:].split()
            table[int(entry.name)] = (int(fields[1]), text[text.index("(") + 1:text.rindex(")")],
                                      (int(fields[11]) + int(fields[12])) / _TICK)
    return table


def _tree(table: dict, root: int) -> set[int]:
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo += [p for p, (parent, _, _) in table.items() if parent == pid and p not in found]
    return found


class CpuMeter:
    """CPU seconds used so far by the app (its process: the script, DuckDB's threads, the background precompute) and
    by the browser (every other process this bench started except Playwright's node driver): on a machine shared
    with other work, what an interaction cost where the wall clock also counts waiting for a core."""

    def __init__(self, app_pid: int):
        self.app_pid = app_pid

    def read(self) -> tuple[float, float]:
        table = _process_table()
        app = _tree(table, self.app_pid)
        browser = _tree(table, os.getpid()) - app - {os.getpid()}
        return (sum(table[p][2] for p in app if p in table),
                sum(table[p][2] for p in browser if p in table and table[p][1] != "node"))


class Driver:
    """The interactions, each timed to settled; results under (page, interaction)."""

    def __init__(self, page, url: str, shots: Path | None, meter: CpuMeter | None = None):
        self.page, self.url, self.shots, self.meter = page, url, shots, meter
        self.times: dict[tuple[str, str], list[float]] = {}
        self.cpu: dict[tuple[str, str], list[tuple[float, float]]] = {}
        self.notes: list[str] = []
        self._cpu0 = (0.0, 0.0)

    def _start(self) -> None:
        self._cpu0 = self.meter.read() if self.meter else (0.0, 0.0)

    def _record(self, where: str, what: str, seconds: float) -> None:
        self.times.setdefault((where, what), []).append(seconds)
        cpu = ""
        if self.meter:
            app, browser = (b - a for a, b in zip(self._cpu0, self.meter.read()))
            self.cpu.setdefault((where, what), []).append((app, browser))
            cpu = f"   CPU app {app:5.2f} s, browser {browser:5.2f} s"
        print(f"  {where:<14} {what:<22} {seconds:7.2f} s{cpu}", flush=True)

    def _errors(self, where: str) -> None:
        for selector in ("[data-testid='stException']", "[data-testid='stAlertContentError']"):
            if self.page.locator(selector).count():
                text = self.page.locator(selector).first.inner_text()[:200]
                if "Gate failed" not in text:
                    self.notes.append(f"{where}: an error on the page: {text!r}")

    def shot(self, name: str) -> None:
        if self.shots:
            self.shots.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def _stuck(self, where: str, what: str, err: TimeoutError) -> None:
        """A page that never settled: a note with what the page showed (a screenshot when ``--shots``), and the
        bench goes on (the interaction has no time)."""
        state = self.page.evaluate(
            "() => { const a = document.querySelector('[data-testid=\"stApp\"]'); return [a ? "
            "a.getAttribute('data-test-script-state') : null, !!document.querySelector("
            "'[data-testid=\"stStatusWidget\"]'), document.querySelectorAll('[data-stale=\"true\"]').length]; }")
        self.notes.append(f"{where} / {what}: {err} (script state, status widget shown, stale elements: {state})")
        self.shot(f"stuck-{where}-{what}".replace(" ", "_").replace(":", ""))

    def goto(self, where: str, path: str, what: str = "open") -> None:
        self._start()
        t0 = now_ms()
        self.page.goto(f"{self.url}/{path}")
        try:
            self._record(where, what, settle(self.page, t0, need_run=True))
        except TimeoutError as err:
            self._stuck(where, what, err)
        self._errors(where)

    def nav(self, where: str, label: str) -> None:
        """Open a page as a user does, with its link in the sidebar (no reload of the app in the browser)."""
        link = self.page.locator("[data-testid='stSidebarNav'] a").filter(has_text=label).first
        link.scroll_into_view_if_needed()
        self._start()
        t0 = now_ms()
        link.click()
        self._record(where, "open (sidebar)", settle(self.page, t0, need_run=True))
        self._errors(where)

    def act(self, where: str, what: str, action) -> None:
        """Prepare (opening a drop-down is not timed), then time the final click to settled."""
        try:
            final = action()
        except Exception as err:  # noqa: BLE001 - one interaction that cannot be made is a note, not the end
            self.notes.append(f"{where} / {what}: not measured ({type(err).__name__}: {str(err).splitlines()[0]})")
            self.shot(f"failed-{where}-{what}".replace(" ", "_").replace(":", ""))
            self.page.keyboard.press("Escape")
            return
        self._start()
        t0 = now_ms()
        final()
        self._record(where, what, settle(self.page, t0, need_run=False))
        self._errors(where)

    # ---- widgets
    def select(self, label: str, option: str | None = None):
        """Open the selectbox labelled ``label``; returns the click on ``option`` (timed), by default the
        first option that is neither chosen nor "(none)"."""
        box = self.page.get_by_role("combobox", name=label, exact=True).first
        box.scroll_into_view_if_needed()
        box.click()
        options = self.page.locator("[role='option']")
        if option is None:
            options = self.page.locator("[role='option'][aria-selected='false']").filter(has_not_text="(none)")
        opt = options.filter(has_text=option or "").first
        opt.wait_for(timeout=20_000)
        return opt.click

    def radio(self, label: str):
        target = self.page.locator("[data-testid='stRadio'] label").filter(has_text=label).first
        target.scroll_into_view_if_needed()
        return target.click

    def remove_tag(self, index: int = 0):
        remove = self.page.locator("[data-testid='stMultiSelect'] button[aria-label^='Remove ']").nth(index)
        remove.scroll_into_view_if_needed(timeout=20_000)
        return remove.click

    def toggle(self, label: str):
        target = self.page.locator("[data-testid='stCheckbox']").filter(has_text=label).first
        target.scroll_into_view_if_needed()
        return target.locator("label").first.click

    def grid_row(self, key: str, row: int = 0):
        # the key, or a key derived from it (ui.table_key: "<key>_<digest of what the table indexes>")
        grid = self.page.locator(f".st-key-{key} [data-testid='stDataFrame'], [class*='st-key-{key}_'] "
                                 "[data-testid='stDataFrame']").first
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        return lambda: self.page.mouse.click(box["x"] + 14, box["y"] + 36 + 17 + 35 * row)

    def button(self, label: str):
        target = self.page.get_by_role("button", name=label).first
        target.scroll_into_view_if_needed()
        return target.click


def drive(driver: Driver, run_ids: list[str], *, clusters: bool, rounds: int, names: dict | None = None) -> None:
    """Every page's main interactions, ``rounds`` times (first renders after a fresh navigation); ``names`` (run id
    -> name) are what the run pickers show (a picker's options read names, not ids)."""
    first, second = run_ids
    names = names or {}
    driver.goto("Start (cold)", "", "first visit")  # the new process imports the engine, plotly and opens the store
    for round_no in range(rounds):
        driver.goto("Start", "")
        if round_no == 0:
            driver.shot("bench-start")
        driver.goto("Data", "Data")
        # ---- Slices
        driver.goto("Slices", f"Slices?run={first}" if round_no % 2 == 0 else f"Slices?run={second}")
        if round_no == 0:
            driver.shot("bench-slices")
        driver.act("Slices", "attributes", lambda: driver.remove_tag(0))
        driver.act("Slices", "order: triples", lambda: driver.radio("triples"))
        driver.act("Slices", "order: pairs", lambda: driver.radio("pairs"))
        driver.act("Slices", "select a row", lambda: driver.grid_row("slices_table", 0))
        driver.act("Slices", "only findings", lambda: driver.toggle("Only slices worse"))
        driver.act("Slices", "run", lambda: driver.select("Run"))
        if round_no == 0:
            driver.shot("bench-slices-after")
        # ---- Compare
        driver.nav("Compare", "Compare")  # from the page before, as a user goes
        driver.goto("Compare", "Compare")
        driver.act("Compare", "order: pairs", lambda: driver.radio("pairs"))
        driver.act("Compare", "order: single", lambda: driver.radio("single"))
        driver.act("Compare", "select a row", lambda row=round_no: driver.grid_row("compare_table", row + 1))
        driver.act("Compare", "candidate (same run)", lambda: driver.select("Candidate", names.get(first, first)))
        driver.act("Compare", "baseline (swap)", lambda: driver.select("Baseline", names.get(second, second)))
        if round_no == 0:
            driver.shot("bench-compare")
        # ---- Failure modes
        driver.nav("Failure modes", "Failure modes")  # from the page before, as a user goes
        driver.goto("Failure modes", "Failure_modes")
        driver.act("Failure modes", "baseline", lambda: driver.select("Baseline run (before the change)"))
        driver.act("Failure modes", "select a cell", lambda: driver.select("Failure mode", "Refusal"))
        driver.act("Failure modes", "run", lambda: driver.select("Run"))
        if round_no == 0:
            driver.shot("bench-failure-modes")
        # ---- Clusters
        if clusters:
            driver.nav("Clusters", "Clusters")
            driver.goto("Clusters", f"Clusters?run={first}")
            driver.act("Clusters", "colour: cluster", lambda: driver.radio("cluster"))
            driver.act("Clusters", "select a cluster", lambda row=round_no: driver.grid_row("clusters_table", row))
            driver.act("Clusters", "open as a slice", lambda: driver.button("Open this cluster as a slice"))
            if round_no == 0:
                driver.shot("bench-cluster-slice")


# ------------------------------------------------------------------------------------------ the Streamlit floor
FLOOR_APP = ROOT / "bench" / "_floor_app.py"
#: Selections timed on the floor page (after its first render).
FLOOR_SELECTIONS = 15

#: The element kinds of ``--page elements`` (``FAULTLINE_FLOOR_ELEMENT`` of the floor page): what each draws
#: (``none``: the floor itself).
ELEMENTS = {
    "none": "nothing (the floor)",
    "metrics": "8 metrics (st.metric)",
    "table": "a table of 200 rows x 12 columns (st.dataframe)",
    "styled table": "the same table with a q-value column written by a pandas Styler (ui.tables.styled)",
    "slice chart": "the Slices page's chart of 25 slices with intervals (figures.slice_forest)",
    "map": "a scatter of 2,500 points (the cluster map's size, figures.cluster_map)",
}


def streamlit_floor(port: int | None, selections: int = FLOOR_SELECTIONS, element: str = "none") -> tuple[list, list, list]:
    """Seconds to settled of a trivial Streamlit page (``bench/_floor_app.py``: one selectbox): (opens, reruns, the
    reruns' CPU seconds as (app, browser)).

    The same server flags, browser and settled rule as the app's interactions: what any rerun costs here, whatever
    the page computes (the part of a Faultline interaction that is not ours).
    """
    from playwright.sync_api import sync_playwright

    app = App(Path(os.devnull), free_port(port), precompute=False, script=FLOOR_APP,
              env={"FAULTLINE_FLOOR_ELEMENT": element})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 720})
                context.add_init_script(MONITOR)
                page = context.new_page()
                page.set_default_timeout(60_000)
                driver = Driver(page, app.url, None, CpuMeter(app.proc.pid))
                for _ in range(3):
                    driver.goto("floor", "", "open")
                for _ in range(selections):
                    driver.act("floor", "rerun", lambda: driver.select("Option"))
            finally:
                browser.close()
    finally:
        app.stop()
    return (driver.times.get(("floor", "open"), []), driver.times.get(("floor", "rerun"), []),
            driver.cpu.get(("floor", "rerun"), []))


def floor_line(opens: list[float], reruns: list[float], cpu: list[tuple[float, float]]) -> str:
    """The printed floor: p50 / p95 of the trivial page's reruns (and its opens), with their median CPU seconds."""
    return (f"Streamlit rerun floor (a page with one selectbox, settled as above): p50 {pct(reruns, 50):.2f} / p95 "
            f"{pct(reruns, 95):.2f} s over {len(reruns)} selections (CPU app {pct([a for a, _ in cpu], 50):.2f} s, "
            f"browser {pct([b for _, b in cpu], 50):.2f} s); its page open p50 {pct(opens, 50):.2f} s; load average "
            f"{os.getloadavg()[0]:.1f}")


def element_costs(port: int | None, passes: int = 2, selections: int = 8) -> None:
    """Print what redrawing one element of each kind the pages draw costs above the Streamlit floor
    (:data:`ELEMENTS`; ``--page elements``): per kind, p50 seconds to settled and the browser's CPU seconds per
    selection, and both minus the floor's (the page without the element) measured in the same pass. The kinds are
    measured in turn, ``passes`` times (machines drift), ``selections`` selections each."""
    times: dict[str, list] = {k: [] for k in ELEMENTS}
    browser: dict[str, list] = {k: [] for k in ELEMENTS}
    for _ in range(passes):
        for kind in ELEMENTS:
            with contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115 - each interaction's line
                _, reruns, cpu = streamlit_floor(port, selections, element=kind)
            times[kind] += reruns
            browser[kind] += [b for _, b in cpu]
    base_t, base_b = pct(times["none"], 50), pct(browser["none"], 50)
    print(f"What redrawing one element costs (a page with one selectbox and the element, made anew by each selection;"
          f" {passes} passes x {selections} selections; load average {os.getloadavg()[0]:.1f})")
    print(f"{'element':<14} {'settled p50':>11} {'above floor':>11} {'browser CPU':>11} {'above floor':>11}   what")
    for kind, what in ELEMENTS.items():
        t, b = pct(times[kind], 50), pct(browser[kind], 50)
        print(f"{kind:<14} {t:11.2f} {t - base_t:+11.2f} {b:11.2f} {b - base_b:+11.2f}   {what}")


# ------------------------------------------------------------------------------------------ timeline
SERIES = "bench"


def ensure_series_store(path: Path, runs: int, size: int) -> float:
    """Generate the series store at ``path`` unless it already holds ``runs`` runs of ``size``; seconds spent."""
    from analysis import open_store
    from analysis.store.series import create_series
    from bench.bench_series import make_frames

    start = time.perf_counter()
    if path.exists():
        with contextlib.suppress(Exception), open_store(path, seed_demo=False) as store:
            found = store.runs()
            if len(found) == runs and (found["rows"] == size).all():
                return 0.0
        path.unlink()
    with open_store(path, seed_demo=False) as store:
        names = []
        for k, frame in enumerate(make_frames(runs, size)):
            names.append(f"step-{(k + 1) * 1000}")
            store.ingest_frame(frame, name=names[-1], mapping={"id": "id", "correct": "correct"},
                               notes=f"bench_ui timeline, {size:,} examples")
        create_series(store, SERIES, names)
    return time.perf_counter() - start


def timeline_floor(path: Path) -> dict[str, dict[str, float]]:
    """The engine's own seconds for the Timeline page's calls (its defaults: minimum support 30, FDR 0.05)."""
    import analysis

    with analysis.open_store(path, seed_demo=False) as store:
        store.headline()
        return {"Timeline": {
            "open": _timed(lambda: analysis.trajectories(store, SERIES, min_support=30, fdr=0.05)),
            "view: mix shift": _timed(lambda: analysis.mix_along(store, SERIES))}}


def drive_timeline(driver: Driver, *, rounds: int) -> None:
    """The Timeline page's views, ``rounds`` times (each round from a fresh navigation)."""
    driver.goto("Timeline (cold)", f"Timeline?series={SERIES}", "first visit")
    for round_no in range(rounds):
        driver.goto("Timeline", f"Timeline?series={SERIES}&view=drift")
        if round_no == 0:
            driver.shot("bench-timeline")
        driver.act("Timeline", "attribute", lambda: driver.select("Attribute", "lang"))
        driver.act("Timeline", "slice", lambda: driver.select("Slice", "lang = lang3"))
        if round_no == 0:
            driver.shot("bench-timeline-slice")
        driver.act("Timeline", "slice: none", lambda: driver.select("Slice", "(no slice: the panels)"))
        driver.act("Timeline", "panels", lambda: driver.select("Panels", "9"))
        driver.act("Timeline", "attribute: all", lambda: driver.select("Attribute", "(drifting slices of every"))
        driver.act("Timeline", "view: mix shift", lambda: driver.page.get_by_text("Mix shift", exact=True).first.click)
        if round_no == 0:
            driver.shot("bench-timeline-mix")
        driver.act("Timeline", "view: slices", lambda: driver.page.get_by_text("Drifting slices", exact=True).first.click)


# ------------------------------------------------------------------------------------------ report
def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(times: dict, floor: dict, notes: list[str], *, size: int, runs: int = 2,
           rerun_floor: tuple[list, list, list] | None = None, cpu: dict | None = None) -> None:
    cpu = cpu or {}
    print(f"\n{size:,} examples per run x {runs} runs; seconds from the action to settled (p50 / p95 over "
          f"{max(len(v) for v in times.values())} rounds); floor = the engine's own time for the same call; CPU app / "
          "browser = median CPU seconds the app's process (with its background work) and chromium used meanwhile; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'page':<15}{'interaction':<24}{'p50':>8}{'p95':>8}{'floor':>8}{'CPU app':>9}{'browser':>9}")
    pages: dict[str, list[float]] = {}
    for (where, what), values in times.items():
        pages.setdefault(where, []).extend(values)
        fl = floor.get(where, {}).get(what)
        used = cpu.get((where, what))
        print(f"{where:<15}{what:<24}{pct(values, 50):8.2f}{pct(values, 95):8.2f}"
              f"{'' if fl is None else f'{fl:8.2f}':>8}"
              + ("" if not used else f"{pct([a for a, _ in used], 50):9.2f}{pct([b for _, b in used], 50):9.2f}"))
    print(f"\n{'page':<15}{'p50':>8}{'p95':>8}{'n':>5}")
    everything = []
    for where, values in pages.items():
        if not where.endswith("(cold)"):
            everything.extend(values)
        print(f"{where:<15}{pct(values, 50):8.2f}{pct(values, 95):8.2f}{len(values):5d}")
    print(f"{'overall':<15}{pct(everything, 50):8.2f}{pct(everything, 95):8.2f}{len(everything):5d}")
    # the performance issue's "main interactions" (attributes, order, run, baseline, a row, a toggle, a cluster as a
    # slice...): every action on a page once it is open; opening a page (a link in the sidebar, or a URL typed or
    # shared, which starts the app afresh in the browser) is counted apart
    main = [v for (where, what), values in times.items() if not where.endswith("(cold)")
            and not what.startswith(("open", "first visit")) for v in values]
    opens = {kind: [v for (where, what), values in times.items() if what == kind and not where.endswith("(cold)")
                    for v in values] for kind in ("open (sidebar)", "open")}
    print(f"{'interactions':<15}{pct(main, 50):8.2f}{pct(main, 95):8.2f}{len(main):5d}   every action on an open page "
          "(the 0.5 s p95 target)")
    print(f"{'sidebar opens':<15}{pct(opens['open (sidebar)'], 50):8.2f}{pct(opens['open (sidebar)'], 95):8.2f}"
          f"{len(opens['open (sidebar)']):5d}   a page opened with its link in the sidebar")
    print(f"{'URL opens':<15}{pct(opens['open'], 50):8.2f}{pct(opens['open'], 95):8.2f}{len(opens['open']):5d}   "
          "a page opened by its URL (the app starts afresh in the browser)")
    if rerun_floor is not None:
        print("\n" + floor_line(*rerun_floor))
    print("\nfloor (engine, seconds, one call each, page defaults):")
    for where, calls in floor.items():
        print(f"  {where:<28}" + "  ".join(f"{k} {v:.2f}" for k, v in calls.items()))
    for note in notes:
        print(f"note: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="examples per run (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="100,000 examples per run")
    parser.add_argument("--store", type=Path, help="the store to generate or reuse")
    parser.add_argument("--port", type=int, default=None, help="the app's port (default: a free one)")
    parser.add_argument("--rounds", type=int, default=3, help="times every interaction is made (default 3)")
    parser.add_argument("--clusters", action="store_true", help="compute the clustering first and time the "
                        "Clusters page (the first clustering takes minutes at 1M)")
    parser.add_argument("--no-floor", action="store_true", help="skip the engine floor")
    parser.add_argument("--shots", type=Path, default=None, help="a folder for screenshots of the first round")
    parser.add_argument("--no-precompute", action="store_true", help="turn the app's background precompute off "
                        "(FAULTLINE_PRECOMPUTE=0): every view is computed when first asked for")
    parser.add_argument("--page", choices=["all", "timeline", "floor", "elements"], default="all",
                        help="all: every page on 2 runs; timeline: the Timeline page on a series of runs; floor: "
                             "only the Streamlit rerun floor (a page with one selectbox); elements: what redrawing "
                             "one chart, table or group of metrics costs above that floor")
    parser.add_argument("--series-runs", type=int, default=20, help="runs of the timeline series (default 20)")
    args = parser.parse_args()
    size = 100_000 if args.quick else args.size
    if args.page == "floor":
        print(floor_line(*streamlit_floor(args.port)))
        return
    if args.page == "elements":
        element_costs(args.port)
        return
    if args.page == "timeline":
        main_timeline(args, size)
        return
    store = args.store or Path(tempfile.gettempdir()) / f"faultline-bench-ui-{size}.duckdb"

    spent = ensure_store(store, size)
    print(f"store {store} ({size:,} x 2){f': generated in {spent:.1f} s' if spent else ': reused'}", flush=True)
    floor = {} if args.no_floor else engine_floor(store, clusters=args.clusters)
    rerun_floor = streamlit_floor(args.port)
    print(floor_line(*rerun_floor), flush=True)
    from analysis import open_store

    with open_store(store, seed_demo=False) as opened:
        listing = opened.runs()
        run_ids = list(listing["run_id"])[:2]
        run_names = dict(zip(listing["run_id"], listing["name"]))
    app = App(store, free_port(args.port), precompute=not args.no_precompute)
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.add_init_script(MONITOR)
            page = context.new_page()
            page.set_default_timeout(240_000)
            driver = Driver(page, app.url, args.shots, CpuMeter(app.proc.pid))
            driver.notes.append(
                "precompute off: every view computed when first asked for" if args.no_precompute else
                "precompute on: the app computes the first views of every page after it starts, and after each "
                "Slices / Compare render the likely next views (other orders, the other runs, the swapped pair), in "
                "one background thread of its own process, on the same cores as the page being timed; a click "
                "that finds its view ready is a cache hit, one that comes first waits for it")
            if not args.clusters:
                driver.notes.append("Clusters skipped: clustering is a background job (about 2 minutes the first "
                                    "time at 1M); pass --clusters to compute it first and time the page")
            try:
                drive(driver, run_ids, clusters=args.clusters, rounds=args.rounds, names=run_names)
            finally:
                browser.close()
    finally:
        app.stop()
    report(driver.times, floor, driver.notes, size=size, rerun_floor=rerun_floor, cpu=driver.cpu)


def main_timeline(args, size: int) -> None:
    """``--page timeline``: the Timeline page on a series of ``args.series_runs`` runs of ``size`` examples."""
    store = args.store or Path(tempfile.gettempdir()) / f"faultline-bench-ui-series-{args.series_runs}x{size}.duckdb"
    spent = ensure_series_store(store, args.series_runs, size)
    print(f"store {store} ({args.series_runs} runs x {size:,}){f': generated in {spent:.1f} s' if spent else ': reused'}",
          flush=True)
    floor = {} if args.no_floor else timeline_floor(store)
    app = App(store, free_port(args.port), precompute=not args.no_precompute)
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.add_init_script(MONITOR)
            page = context.new_page()
            page.set_default_timeout(240_000)
            driver = Driver(page, app.url, args.shots, CpuMeter(app.proc.pid))
            try:
                drive_timeline(driver, rounds=args.rounds)
            finally:
                browser.close()
    finally:
        app.stop()
    report(driver.times, floor, driver.notes, size=size, runs=args.series_runs, cpu=driver.cpu)


if __name__ == "__main__":
    main()
