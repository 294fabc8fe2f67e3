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
