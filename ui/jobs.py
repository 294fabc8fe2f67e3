"""Background work of the app: a clustering computed in a thread, and the once-per-process warm-up.

Jobs are shared by every session of the process (two people asking for the same clustering share
one job, held by ``st.cache_resource``); results land in the store's cache, so pages read them from
there (:func:`ui.cache.cached_clusters`).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time

import streamlit as st

import analysis
from analysis import Store


class ClusterJob:
    """A clustering computed in a background thread, so the app never freezes while it runs."""

    def __init__(self, store: Store, run_id: str, params: dict):
        self.run_id, self.params = run_id, dict(params)
        self.fraction, self.message = 0.0, "Starting"
        self.error: Exception | None = None
        self.result = None
        self.started = time.monotonic()
        self.seconds: float | None = None
        self._store = store
        self._thread = threading.Thread(target=self._work, name=f"faultline-clusters-{run_id}", daemon=True)
        self._thread.start()

    def _progress(self, fraction: float, message: str) -> None:
        self.fraction, self.message = fraction, message

    def _work(self) -> None:
        try:
            self.result = analysis.cluster_run(self._store, self.run_id, **self.params, progress=self._progress)
        except Exception as err:  # noqa: BLE001 - handed to the page, which shows it in plain words
            self.error = err
        finally:
            self.seconds = time.monotonic() - self.started

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (tests); True when it ended."""
        self._thread.join(timeout)
        return self.done


@st.cache_resource
def _cluster_jobs() -> dict:
    return {"lock": threading.Lock(), "jobs": {}}


def _job_key(store: Store, run_id: str, params: dict) -> tuple:
    return str(store.path), run_id, tuple(sorted(params.items()))


def cluster_job(store: Store, run_id: str, params: dict, *, start: bool = True) -> ClusterJob | None:
    """The running (or just finished) job for these settings; started unless ``start`` is False."""
    registry = _cluster_jobs()
    key = _job_key(store, run_id, params)
    with registry["lock"]:
        job = registry["jobs"].get(key)
        if job is None and start:
            job = registry["jobs"][key] = ClusterJob(store, run_id, params)
        return job


def forget_cluster_job(store: Store, run_id: str, params: dict) -> None:
    """Drop a finished job (after its result or error was shown), so a retry starts afresh."""
    registry = _cluster_jobs()
    with registry["lock"]:
        registry["jobs"].pop(_job_key(store, run_id, params), None)


#: Session key of the last clustering this session saw computed: (run id, settings, seconds).
COMPUTED_KEY = "clusters_computed"


def finish_cluster_job(store: Store, job: ClusterJob) -> None:
    """A finished job's bookkeeping: remember how long it took (for the page's note), then forget it."""
    if job.error is None:
        st.session_state[COMPUTED_KEY] = (job.run_id, tuple(sorted(job.params.items())), job.seconds)
        forget_cluster_job(store, job.run_id, job.params)


def computed_note(run_id: str, params: dict) -> str:
    """Where the shown clustering comes from: computed in this session (and how long it took), or the cache."""
    computed = st.session_state.get(COMPUTED_KEY)
    if computed and computed[:2] == (run_id, tuple(sorted(params.items()))):
        return f"computed in {computed[2]:.1f} s and kept in the store"
    return "from the store's cache"


@st.cache_resource(show_spinner=False)
def start_cluster_warm_up() -> dict:
    """Compile the clustering pipeline (umap-learn's numba code) once per process, in a background thread."""
    state: dict = {"seconds": None, "error": None}

    def work() -> None:
        try:
            state["seconds"] = analysis.warm_up()
        except Exception as err:  # noqa: BLE001 - a failed warm-up only means the first clustering compiles
            state["error"] = f"{type(err).__name__}: {err}"

    threading.Thread(target=work, name="faultline-cluster-warm-up", daemon=True).start()
    return state


@st.cache_resource(show_spinner=False)
def start_precompute(db_path: str, data_version: int) -> dict:
    """Compute, once per data version and in a background thread, what the pages show first: the slice table of
    each of the first :data:`STARTUP_RUNS` runs with the default attributes (pairs), the default
    comparison and the Failure modes page's first view, into the same caches the pages read (:mod:`ui.cache`), so a first view or a change of run
    finds them ready; then the likely next views (pairs on Compare, the other run as the baseline), the
    engine's counts of every triple of the default attributes (the same runs), each run's clustering with the
    Clusters page's defaults when the store already holds it (read, never computed), and each series' trajectories with the Timeline
    page's defaults. ``FAULTLINE_PRECOMPUTE=0`` turns it off.

    Each step runs in the app's one background thread (:class:`_Background`), after the likely next views a
    page's last render asked for (:func:`precompute_next`); when the process exits the step under way finishes
    and the others are skipped (a daemon thread stopped inside DuckDB would abort the process).
    """
    state: dict = {"done": [], "errors": []}
    if os.environ.get("FAULTLINE_PRECOMPUTE", "1") == "0":
        return state
    from ui import cache
    from ui.session import DEMO_SPEC_NAME, NO_SPEC_NAME  # the names the Failure modes page gives the specs

    _quiet_precompute_thread()

    def step(name: str, fn, *args) -> None:
        if not threading.main_thread().is_alive():  # the process is exiting: the remaining steps are dropped
            return
        try:
            fn(db_path, data_version, *args)
            state["done"].append(name)
        except Exception as err:  # noqa: BLE001 - a failed step only means the page computes it itself
            state["errors"].append(f"{name}: {type(err).__name__}: {err}")

    def slices(db: str, version: int, run_id: str) -> None:
        _, default = cache.attributes(db, version, run_id)
        if default:
            cache.slices(db, version, run_id, tuple(default), *SLICES_DEFAULTS)

    def comparison(db: str, version: int, baseline: str, candidate: str, order: int = COMPARE_DEFAULTS[0]) -> None:
        _, default = cache.attributes(db, version, baseline)
        cache.comparison(db, version, baseline, candidate, tuple(default), order, *COMPARE_DEFAULTS[1:])

    def triples(db: str, version: int, run_id: str) -> None:
        _, default = cache.attributes(db, version, run_id)
        if default:  # the engine keeps the counts of every triple: any choice of these attributes reuses them
            analysis.slice_table(cache._open(db), run_id, list(default), max_order=3, min_support=30)

    def link(db: str, version: int, run_id: str, baseline: str | None) -> None:
        # the spec the page starts from: the demo's for the demo's runs, else none (pages/5_Failure_modes.py)
        if cache.run_format(db, version, run_id) == "demo":
            spec_text, source = cache.demo_spec_text(), DEMO_SPEC_NAME
        else:
            spec_text, source = "", NO_SPEC_NAME
        result = cache.link_result(db, version, run_id, cache.link_baseline(baseline, spec_text, source), spec_text,
                                   source, *LINK_DEFAULTS)
        if not result.objective.components:  # the examples the page shows first: its most frequent mode's
            counted = dict(zip(result.counts["mode"], result.counts["n"]))  # (pages/5_Failure_modes.py, cell_panel)
            modes = [m.id for m in result.objective.modes]
            if modes:
                mode = max(modes, key=lambda m: counted.get(m, 0))
                cache.mode_examples(db, version, run_id, spec_text, source, mode, (), None, True)

    ids = list(cache.run_listing(db_path, data_version)["run_id"])
    worker = _background()

    def submit(*args) -> None:
        worker.submit(STARTUP, lambda: step(*args))

    first = ids[:STARTUP_RUNS]  # the runs the pickers offer first (a store of a 20-run series: not all 20)
    for run_id in first:
        submit(f"slices {run_id}", slices, run_id)
    if len(ids) >= 2:
        submit(f"comparison {ids[0]} {ids[1]}", comparison, ids[0], ids[1])
    for index, run_id in enumerate(ids[:2]):  # the Failure modes page's first view of the first runs
        submit(f"link {run_id}", link, run_id, ids[index - 1] if index else None)
    # then the likely next views: pairs on Compare, the other run as baseline, and the counts of triples
    if len(ids) >= 2:
        submit(f"comparison pairs {ids[0]} {ids[1]}", comparison, ids[0], ids[1], 2)
        submit(f"link {ids[0]} vs {ids[1]}", link, ids[0], ids[1])
    for run_id in first:
        submit(f"triples {run_id}", triples, run_id)

    def clusters(db: str, version: int, run_id: str) -> None:  # read once from the store (1M labels: 10-20 s)
        params = dict(CLUSTER_DEFAULTS)
        fields = cache._open(db).fields(run_id)
        if (fields["column_name"] == f"cluster.{params['field']}").any():  # a run never clustered: no reading
            cache.cached_clusters(db, version, run_id, params)

    for run_id in ids:  # a clustering already in the store with the page's defaults: its first view, ready
        submit(f"clusters {run_id}", clusters, run_id)

    def timeline(db: str, version: int, name: str) -> None:  # the Timeline's first view (its series' cells kept)
        cache.series_trajectories(db, version, name, *TIMELINE_DEFAULTS)

    for name in cache.series_listing(db_path, data_version)["name"]:
        submit(f"timeline {name}", timeline, name)
    return state


#: Priorities of background work (lower first): the views a page's last render makes likely (newest first),
#: then the start-up precompute (in its order).
NEXT, STARTUP = 0, 1
#: Runs whose Slices views the start-up precompute makes (the first of the listing, as the pickers show them), and
#: runs on each side of the one shown whose same view a Slices render precomputes: on a store of a series of 20
#: runs at 1M, every run's views took ~1 minute of both cores in the background, beside the pages being used.
STARTUP_RUNS, NEIGHBOUR_RUNS = 3, 1
#: Streamlit's name for the thread that runs a page's script (a rerun, a fragment's rerun, a page opened).
SCRIPT_THREAD = "ScriptRunner.scriptThread"
#: Seconds with no page script running before a background view starts: a page's script and the browser drawing
#: what it sent go first (on 2 cores a view computed meanwhile slowed the page being drawn).
QUIET_SECONDS = 0.3


def pages_running() -> bool:
    """True while a page's script runs in this process (any session; a fragment's rerun counts)."""
    me = threading.current_thread()
    return any(t.name == SCRIPT_THREAD and t is not me and t.is_alive() for t in threading.enumerate())


def wait_for_quiet(quiet: float = QUIET_SECONDS, poll: float = 0.05) -> None:
    """Block until no page script has run for ``quiet`` seconds (background work calls it before each view; a view
    under way is never stopped)."""
    last = time.monotonic() if pages_running() else time.monotonic() - quiet
    while threading.main_thread().is_alive():
        if pages_running():
            last = time.monotonic()
        elif time.monotonic() - last >= quiet:
            return
        time.sleep(poll)


class _Background:
    """The one background thread of the app's process: every precomputed view runs here, one at a time, so
    background work never takes more than one thread from the page being shown, and each starts only once no page
    script has run for :data:`QUIET_SECONDS` (:func:`wait_for_quiet`). Work is taken by priority
    (:data:`NEXT` newest first, then :data:`STARTUP` first in first out). The thread ends when the main
    thread has ended (the view under way finishes first: a thread stopped inside DuckDB would abort the process).
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._queue: list = []
        self._count = itertools.count()
        self._thread: threading.Thread | None = None

    def submit(self, priority: int, fn) -> None:
        with self._wake:
            n = next(self._count)
            heapq.heappush(self._queue, (priority, -n if priority == NEXT else n, fn))
            if self._thread is None or not self._thread.is_alive():
                # never a daemon (a thread inherits it from the script thread that starts it): the interpreter
                # joins it at exit, after the view under way, instead of killing it inside DuckDB
                self._thread = threading.Thread(target=self._run, name=f"{PRECOMPUTE_THREAD}-0", daemon=False)
                self._thread.start()
            self._wake.notify()

    def wait_idle(self, timeout: float = 120.0) -> bool:
        """Block until everything submitted so far has run (tests); True when it has."""
        done = threading.Event()
        self.submit(STARTUP + 1, done.set)
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue:
                    if not threading.main_thread().is_alive():
                        return
                    self._wake.wait(timeout=1.0)
                _, _, fn = heapq.heappop(self._queue)
            if not threading.main_thread().is_alive():  # the process is exiting: the remaining work is dropped
                return
            wait_for_quiet()  # the page being drawn first
            fn()


@st.cache_resource(show_spinner=False)
def _background() -> _Background:
    return _Background()


@st.cache_resource(show_spinner=False)
def _next_views() -> dict:
    """The likely next views asked for in this process (each view once), and what became of them."""
    return {"asked": set(), "lock": threading.Lock(), "done": [], "errors": []}


def neighbours(ids: list[str], run_id: str, k: int = NEIGHBOUR_RUNS) -> list[str]:
    """The runs next to ``run_id`` in ``ids`` (the picker's order): ``k`` after it, then ``k`` before it.

    >>> neighbours(["a", "b", "c", "d"], "b")
    ['c', 'a']
    >>> neighbours(["a", "b"], "a")
    ['b']
    """
    if run_id not in ids:
        return ids[:k]
    i = ids.index(run_id)
    return ids[i + 1:i + 1 + k] + ids[max(i - k, 0):i][::-1]


def precompute_next(db_path: str, data_version: int, kind: str, *args) -> None:
    """After a page has rendered, compute in the background the views its next click most likely asks for, into
    the caches that click reads (:mod:`ui.cache`): on Slices (``kind="slices"``, ``args`` = run id, attributes,
    max_order, min_support, fdr, bins, the run ids) the other orders of the same attributes and the same view
    of the runs next to it in the picker (:func:`neighbours`); on Compare (``kind="comparison"``, ``args`` = baseline, candidate, attributes, max_order,
    min_support, fdr) the other order and the swapped pair; ``kind="slice_table"`` (``args`` = run id, attributes,
    max_order, min_support, fdr, bins) that one slice table (the Clusters page's "open as a slice");
    on Failure modes (``kind="failure_modes"``, ``args`` = run id, the run ids, spec text, its source, the
    settings, cohort) the link of the runs next to it with their default baseline, when that link needs no baseline
    (:func:`_run_link`); ``kind="drilldowns"`` (``args`` = baseline, candidate, predicates as sorted (attribute, value) tuples, verdicts, and
    the graded outcome if one is shown)
    Compare's examples behind those rows; on Timeline (``kind="timeline"``, ``args`` = series, cohort, the view shown,
    objective spec text (None: no spec), its source, min_support, fdr) the other views as they open: the mix view and
    the surrogate curves. Each view is asked once per process; the work runs in
    the app's one background thread (:class:`_Background`: the last render's views first, before what is left of
    the start-up precompute), which shares the machine with the page the user is looking at.
    ``FAULTLINE_PRECOMPUTE=0`` turns it off.
    """
    if os.environ.get("FAULTLINE_PRECOMPUTE", "1") == "0":
        return
    from ui import cache

    _quiet_precompute_thread()
    views: list[tuple] = []
    if kind == "slices":
        run_id, by, max_order, min_support, fdr, bins, others = args
        views += [(cache.slices, run_id, tuple(by), order, min_support, fdr, bins) for order in (3, 2, 1)
                  if order != max_order and order <= max(len(by), 1)]
        views += [(cache.slices, other, tuple(by), max_order, min_support, fdr, bins)
                  for other in neighbours(list(others), run_id)]
    elif kind == "slice_table":  # one view of the Slices page, as a link to it will show it
        run_id, by, max_order, min_support, fdr, bins = args
        views.append((cache.slices, run_id, tuple(by), max_order, min_support, fdr, bins))
    elif kind == "drilldowns":  # Compare's examples behind rows: the first rows of a table, a row of the swapped pair
        baseline, candidate, predicates, verdicts, *graded = args  # then the graded outcome, if any
        outcome = (graded or [None])[0] or None
        views += [(cache._comparison_drilldown, baseline, candidate, tuple(p), tuple(verdicts), None, outcome)
                  for p in predicates]  # as the page's call reaches it (no cohort: a cohort's drill-down is not guessed)
    elif kind == "timeline":  # the views of the page other than the one shown
        name, where, shown, spec_text, source, min_support, fdr = args
        if shown != "mix":  # the mix view as it opens (its steps and default pair: one decomposition from the cells)
            views.append((cache.series_mix_view, name, where))
        if shown != "surrogate" and spec_text is not None:  # the surrogate curves of the session's objective spec
            views.append((cache.series_surrogate, name, spec_text, source, min_support, fdr, where))
    elif kind == "failure_modes":  # the neighbouring runs' link, with the spec and settings shown
        run_id, ids, spec_text, source, settings, where = args
        views += [(_run_link, other, tuple(ids[:list(ids).index(other)]), spec_text, source, tuple(settings), where)
                  for other in neighbours(list(ids), run_id)]
    elif kind == "comparison":
        baseline, candidate, by, max_order, min_support, fdr = args
        views += [(cache.comparison, baseline, candidate, tuple(by), order, min_support, fdr) for order in (2, 1)
                  if order != max_order]
        views.append((cache.comparison, candidate, baseline, tuple(by), max_order, min_support, fdr))
    registry = _next_views()
    fresh = []
    with registry["lock"]:
        for fn, *rest in views:
            key = (fn.__name__, db_path, data_version, *rest)
            if key not in registry["asked"]:
                registry["asked"].add(key)
                fresh.append((fn, rest, key))
    if not fresh:
        return

    def work() -> None:  # this render's views in their order (a later render's views go before them)
        for fn, rest, key in fresh:
            if not threading.main_thread().is_alive():
                return
            wait_for_quiet()  # each view after the pages' scripts (a click meanwhile goes first)
            try:
                fn(db_path, data_version, *rest)
                registry["done"].append(key)
            except Exception as err:  # noqa: BLE001 - a failed view only means the page computes it when asked
                registry["errors"].append(f"{key}: {type(err).__name__}: {err}")

    _background().submit(NEXT, work)


def _run_link(db_path: str, data_version: int, run_id: str, earlier: tuple[str, ...], spec_text: str, source: str,
              settings: tuple, where: str | None) -> None:
    """The Failure modes page's link of ``run_id`` as the page opens it (its default baseline: the nearest of
    ``earlier`` sharing its examples), into the page's cache; skipped when that link uses the baseline (a spec with
    components: 30-60 s of a core at 1M examples, too much to spend on a guess). The run alone: 1-2 s at 1M."""
    from ui import cache

    baseline = cache.shared_baseline(db_path, data_version, run_id, earlier)
    if cache.link_baseline(baseline, spec_text, source) is None:
        cache.link_result(db_path, data_version, run_id, None, spec_text, source, *settings,
                          **({"where": where} if where else {}))


class _NoScriptContextWarning(logging.Filter):
    """Drop Streamlit's "missing ScriptRunContext" warning from the precompute thread (its cached calls
    have spinners that have no page to show on: expected, and nothing is lost)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not threading.current_thread().name.startswith(PRECOMPUTE_THREAD)


def _quiet_precompute_thread() -> None:
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    if not any(isinstance(f, _NoScriptContextWarning) for f in logger.filters):
        logger.addFilter(_NoScriptContextWarning())


#: Name (prefix) of the precompute thread.
PRECOMPUTE_THREAD = "faultline-precompute"
#: The Slices page's default settings after the attributes: (max_order, min_support, fdr, bins).
SLICES_DEFAULTS = (2, 30, 0.05, 5)
#: The Failure modes page's default settings: (max_order, min_support, min_failures, fdr).
LINK_DEFAULTS = (1, 30, 20, 0.05)
#: The Clusters page's default settings (pages/4_Clusters.py, as its sidebar sends them).
CLUSTER_DEFAULTS = (("embedder", "auto"), ("field", "input"), ("min_cluster_size", None), ("n_neighbors", None),
                    ("sample_size", 5000), ("seed", 0))
#: The Compare page's default settings after the attributes: (max_order, min_support, fdr).
COMPARE_DEFAULTS = (1, 30, 0.05)
#: The Timeline page's default settings after the series: (min_support, fdr, cohort).
TIMELINE_DEFAULTS = (30, 0.05, None)
