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
    from analysis.slicing import default_attributes, list_attributes

    store = _open(db_path)
    return [a.name for a in list_attributes(store, run_id)], [a.name for a in default_attributes(store, run_id)]


@st.cache_data(show_spinner="Computing slices...", max_entries=32)
def slices(db_path: str, data_version: int, run_id: str, by: tuple, max_order: int, min_support: int, fdr: float,
           bins: int):
    from analysis.slicing import slice_table

    return slice_table(_open(db_path), run_id, list(by), max_order=max_order, min_support=min_support, fdr=fdr,
                       bins=bins)


@st.cache_data(show_spinner="Comparing runs...", max_entries=16)
def comparison(db_path: str, data_version: int, baseline: str, candidate: str, by: tuple, max_order: int,
               min_support: int, fdr: float):
    from analysis.compare import compare_runs

    return compare_runs(_open(db_path), baseline, candidate, list(by), max_order=max_order, min_support=min_support,
                        fdr=fdr)


@st.cache_data(show_spinner=False, max_entries=32)
def slice_examples(db_path: str, data_version: int, run_id: str, predicate: tuple, bins: int):
    from analysis.slicing import slice_examples as examples

    return examples(_open(db_path), run_id, dict(predicate), limit=2000, bins=bins)


def fmt_q(q: float) -> str:
    """A q-value for display: '<1e-300' for underflow, 2 significant digits otherwise."""
    if q != q:
        return "not tested"
    if q == 0:
        return "<1e-300"
    return f"{q:.2g}"


@st.cache_data(show_spinner="Searching for slices (SliceLine)...", max_entries=16)
def discovery(db_path: str, data_version: int, run_id: str, by: tuple, k: int, max_l: int, min_sup: float,
              holdout: bool, fdr: float, bins: int):
    from analysis.discovery import discover

    return discover(_open(db_path), run_id, list(by), k=k, max_l=max_l, min_sup=min_sup, holdout=holdout, fdr=fdr,
                    bins=bins)
