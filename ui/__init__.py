"""Shared UI pieces of the Faultline app: the cached store, errors in plain words, formatting.

Pages stay thin: read widgets, call :mod:`analysis`, render with these helpers.
"""

from __future__ import annotations

import os

import streamlit as st

from analysis import FaultlineError, Store, open_store, resolve_db_path

PAGE_ICON = ":material/troubleshoot:"


@st.cache_resource(show_spinner="Opening the store (the first start builds the demo runs)...")
def _open(db_path: str) -> Store:
    # The app seeds the demo into a store that never held runs (FAULTLINE_DEMO=0 turns it off).
    return open_store(db_path, seed_demo=os.environ.get("FAULTLINE_DEMO", "1") != "0")


def get_store() -> Store | None:
    """The process-wide store (one DuckDB connection), or None after showing why it cannot open."""
    path = str(resolve_db_path())
    try:
        return _open(path)
    except FaultlineError as err:
        st.error(str(err), icon=":material/lock:")
        st.button("Try again", key="retry_store")
        return None


def page_setup(title: str, caption: str | None = None) -> None:
    """Page config and heading, the same on every page."""
    st.set_page_config(page_title=f"{title} · Faultline", page_icon=PAGE_ICON, layout="wide")
    st.title(title)
    if caption:
        st.caption(caption)


def page_with_run(title: str, caption: str) -> tuple[Store, str, str, int]:
    """The preamble of an analysis page: heading, store, run picker; stops the page when there is no run.

    Returns the store, the chosen run id, the store path (a cache key) and the data version.
    """
    page_setup(title, caption)
    store = get_store()
    if store is None:
        st.stop()
    run_id = run_picker(store)
    if run_id is None:
        st.stop()
    return store, run_id, str(store.path), store.data_version()


def show_error(err: Exception) -> None:
    """An error the user can act on, in plain words, never a traceback."""
    if isinstance(err, FaultlineError):
        st.error(str(err), icon=":material/error:")
    else:  # a bug: say so plainly, keep details folded away
        st.error(f"Something went wrong inside Faultline ({type(err).__name__}). Nothing was changed. "
                 "Please report this with the details below.", icon=":material/bug_report:")
        with st.expander("Details"):
            st.code(f"{type(err).__name__}: {err}")


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """0.1234 -> '12.3%'; NaN or None -> 'n/a'."""
    if value is None or value != value:
        return "n/a"
    return f"{value * 100:.{digits}f}%"


def fmt_interval(low: float | None, high: float | None, digits: int = 1) -> str:
    """'[10.2%, 14.9%]' or 'n/a'."""
    if low is None or high is None or low != low or high != high:
        return "n/a"
    return f"[{fmt_pct(low, digits)}, {fmt_pct(high, digits)}]"


@st.cache_data(show_spinner=False, max_entries=16)
def headline(db_path: str, data_version: int):
    """The runs with accuracy and interval, cached per store and data version."""
    return _open(db_path).headline()


@st.cache_data(show_spinner=False, max_entries=16)
def run_listing(db_path: str, data_version: int):
    """The runs listing with files and hashes, cached per store and data version."""
    return _open(db_path).runs()


def run_picker(store: Store, *, label: str = "Run", key: str = "run", default_index: int = 0) -> str | None:
    """A run selector in the sidebar whose choice survives page switches and is shareable as ?run=..."""
    runs = run_listing(str(store.path), store.data_version())
    if runs.empty:
        st.info("The store has no runs yet: add one on the Data page.", icon=":material/upload_file:")
        return None
    ids = list(runs["run_id"])
    names = dict(zip(runs["run_id"], runs["name"]))
    wanted = st.session_state.get(f"chosen_{key}") or st.query_params.get(key)
    if wanted not in ids:
        by_name = {v: k for k, v in names.items()}
        wanted = by_name.get(wanted, ids[min(default_index, len(ids) - 1)])
    choice = st.sidebar.selectbox(label, ids, index=ids.index(wanted), format_func=lambda r: f"{names[r]} ({r})",
                                  key=f"picker_{key}")
    st.session_state[f"chosen_{key}"] = choice
    st.query_params[key] = choice
    return choice


@st.cache_data(show_spinner=False, max_entries=64)
def attributes(db_path: str, data_version: int, run_id: str) -> tuple[list, list]:
    """(all attribute names, default attribute names) of a run."""
    from analysis import default_attributes, list_attributes

    store = _open(db_path)
    return [a.name for a in list_attributes(store, run_id)], [a.name for a in default_attributes(store, run_id)]


@st.cache_data(show_spinner="Computing slices...", max_entries=32)
def slices(db_path: str, data_version: int, run_id: str, by: tuple, max_order: int, min_support: int, fdr: float,
           bins: int):
    from analysis import slice_table

    return slice_table(_open(db_path), run_id, list(by), max_order=max_order, min_support=min_support, fdr=fdr,
                       bins=bins)


@st.cache_data(show_spinner="Comparing runs...", max_entries=16)
def comparison(db_path: str, data_version: int, baseline: str, candidate: str, by: tuple, max_order: int,
               min_support: int, fdr: float):
    from analysis import compare_runs

    return compare_runs(_open(db_path), baseline, candidate, list(by), max_order=max_order, min_support=min_support,
                        fdr=fdr)


@st.cache_data(show_spinner=False, max_entries=32)
def slice_examples(db_path: str, data_version: int, run_id: str, predicate: tuple, bins: int):
    from analysis import slice_examples as examples

    return examples(_open(db_path), run_id, dict(predicate), limit=2000, bins=bins)


def fmt_q(q: float) -> str:
    """A q-value for display: '<1e-300' for underflow, 2 significant digits otherwise."""
    if q != q:
        return "not tested"
    if q == 0:
        return "<1e-300"
    return f"{q:.2g}"


@st.cache_data(show_spinner="Searching for slices (SliceLine)...", max_entries=16)
def discovery(db_path: str, data_version: int, run_id: str, by: tuple, k: int, max_order: int,
              min_support: int | float, holdout: bool, fdr: float, bins: int):
    from analysis import discover

    return discover(_open(db_path), run_id, list(by), k=k, max_order=max_order, min_support=min_support,
                    holdout=holdout, fdr=fdr, bins=bins)


# ------------------------------------------------------------------ failure modes and the objective
#: The demo's objective spec, the spec the Failure modes page starts from.
DEMO_SPEC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                              "objective_demo.yaml")


def demo_spec_text() -> str:
    """The demo objective spec's YAML (empty when the file is missing)."""
    try:
        with open(DEMO_SPEC_PATH, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


@st.cache_data(show_spinner=False, max_entries=32)
def objective(spec_text: str, source: str):
    """A validated objective spec from YAML text (raises SpecError with the line and the key)."""
    from analysis import parse_objective

    return parse_objective(spec_text, source=source)


@st.cache_data(show_spinner="Linking failure modes to the objective...", max_entries=16)
def link_result(db_path: str, data_version: int, run_id: str, baseline: str | None, spec_text: str, source: str,
                max_order: int, min_support: int, min_failures: int, fdr: float):
    """The modes x components link of a run (lenient: spec problems are listed, not raised)."""
    from analysis import link

    return link(_open(db_path), run_id, objective(spec_text, source), baseline=baseline, strict=False,
                max_order=max_order, min_support=min_support, min_failures=min_failures, fdr=fdr)


@st.cache_data(show_spinner=False, max_entries=32)
def mode_examples(db_path: str, data_version: int, run_id: str, spec_text: str, source: str, mode: str,
                  columns: tuple, order_by: str | None, descending: bool):
    """The examples of a failure mode with the sources that put them there."""
    from analysis import compile_modes
    from analysis import mode_examples as examples

    store = _open(db_path)
    compiled = compile_modes(store, run_id, objective(spec_text, source), strict=False)
    return examples(store, run_id, None, mode, compiled=compiled, columns=list(columns), order_by=order_by,
                    descending=descending, limit=500)


@st.cache_data(show_spinner=False, max_entries=16)
def annotation_table(db_path: str, data_version: int, run_id: str | None):
    """Every annotation of a run (retracted ones flagged)."""
    from analysis import annotations

    return annotations(_open(db_path), run_id)


@st.cache_data(show_spinner="Computing per-slice extras...", max_entries=16)
def extras(db_path: str, data_version: int, run_id: str, by: tuple, bins: int):
    from analysis import slice_extras

    return slice_extras(_open(db_path), run_id, list(by), bins=bins)


# ------------------------------------------------------------------ clusters (pages/4_Clusters.py)
class ClusterJob:
    """A clustering computed in a background thread, so the app never freezes while it runs.

    Shared by every session of the process (two people asking for the same clustering share
    one job); the result lands in the store's cache, so the page reads it from there.
    """

    def __init__(self, store: Store, run_id: str, params: dict):
        import threading
        import time

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
        import time

        from analysis import cluster_run

        try:
            self.result = cluster_run(self._store, self.run_id, **self.params, progress=self._progress)
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
    import threading

    return {"lock": threading.Lock(), "jobs": {}}


def cluster_job(store: Store, run_id: str, params: dict, *, start: bool = True) -> ClusterJob | None:
    """The running (or just finished) job for these settings; started unless ``start`` is False."""
    registry = _cluster_jobs()
    key = (str(store.path), run_id, tuple(sorted(params.items())))
    with registry["lock"]:
        job = registry["jobs"].get(key)
        if job is None and start:
            job = registry["jobs"][key] = ClusterJob(store, run_id, params)
        return job


def forget_cluster_job(store: Store, run_id: str, params: dict) -> None:
    """Drop a finished job (after its result or error was shown), so a retry starts afresh."""
    registry = _cluster_jobs()
    with registry["lock"]:
        registry["jobs"].pop((str(store.path), run_id, tuple(sorted(params.items()))), None)


class _NotCached(Exception):
    pass


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_clusters(db_path: str, data_version: int, run_id: str, params: tuple):
    from analysis import cached_result

    result = cached_result(_open(db_path), run_id, **dict(params))
    if result is None:
        raise _NotCached  # not cached by st.cache_data: asked again until the job has stored it
    return result


def cached_clusters(db_path: str, data_version: int, run_id: str, params: dict):
    """The stored clustering for these settings, or None when it still has to be computed."""
    try:
        return _cached_clusters(db_path, data_version, run_id, tuple(sorted(params.items())))
    except _NotCached:
        return None


@st.cache_resource(show_spinner=False)
def start_cluster_warm_up() -> dict:
    """Compile the clustering pipeline (umap-learn's numba code) once per process, in a background thread."""
    import threading

    state: dict = {"seconds": None, "error": None}

    def work() -> None:
        try:
            from analysis import warm_up

            state["seconds"] = warm_up()
        except Exception as err:  # noqa: BLE001 - a failed warm-up only means the first clustering compiles
            state["error"] = f"{type(err).__name__}: {err}"

    threading.Thread(target=work, name="faultline-cluster-warm-up", daemon=True).start()
    return state


@st.cache_data(show_spinner=False)
def cluster_embedders(db_path: str, data_version: int, run_id: str) -> list[str]:
    """Embedders available for a run: auto first, then those that would work here."""
    from analysis import minilm_available, model2vec_available

    fields = _open(db_path).fields(run_id)
    options = ["auto"]
    if (fields["role"] == "embedding").any():
        options.append("vector")
    if model2vec_available():
        options.append("model2vec")
    if minilm_available():
        options.append("minilm")
    return options + ["tfidf"]
