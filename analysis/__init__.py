"""Faultline's engine: stratified error analysis of model evaluations.

Pure Python (no streamlit): use it from a notebook, the CLI (``python -m analysis``) or
the app. The public API is what this module names in ``__all__``.

>>> import tempfile, pandas as pd
>>> from analysis import open_store
>>> store = open_store(tempfile.mkdtemp() + "/notebook.duckdb")
>>> _ = store.ingest_frame(pd.DataFrame({"prompt": ["a", "b"], "response": ["x", "y"], "passed": [1, 0]}), name="nb")
>>> store.headline()[["name", "rows", "correct"]].to_dict("records")
[{'name': 'nb', 'rows': 2, 'correct': 1}]
"""

from __future__ import annotations

import os

from ._sql import DEFAULT_LOCK_TIMEOUT_S, quote_ident
from ._version import __version__
from .errors import FaultlineError, InputError, RunNotFoundError, StoreBusyError
from .formats import FORMATS, detect_format
from .roles import RoleGuess, guess_roles, load_mapping
from .store import DB_ENV_VAR, DEFAULT_DB_PATH, IngestReport, PlannedRun, RunInfo, Store, resolve_db_path, sha256_file

DEMO_ENV_VAR = "FAULTLINE_DEMO"


def open_store(path: str | os.PathLike | None = None, *, read_only: bool = False, seed_demo: bool | None = None,
               lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, progress=None) -> Store:
    """Open (or create) a store.

    ``path``: the DuckDB file; default ``$FAULTLINE_DB`` or ``data/faultline.duckdb``.
    ``seed_demo``: build the bundled demo runs into a store that has never had any runs.
    By default only the default store is seeded (not one named with --db), and
    ``FAULTLINE_DEMO=0`` turns seeding off.
    """
    store = Store(resolve_db_path(path), read_only=read_only, lock_timeout_s=lock_timeout_s)
    if seed_demo is None:
        seed_demo = path is None and os.environ.get(DEMO_ENV_VAR, "1") != "0"
    if seed_demo and not read_only:
        from .demo_store import ensure_demo

        ensure_demo(store, progress=progress)
    return store


# The analysis functions, imported on first use so that `import analysis` stays light.
_LAZY = {
    "slice_table": "slicing", "heatmap": "slicing", "slice_examples": "slicing", "list_attributes": "slicing",
    "slice_extras": "slice_extras", "discover": "discovery", "compare_runs": "compare", "gate": "compare",
    "link": "link", "load_objective": "objective", "add_annotation": "annotations",
    "DEFAULT_MODES": "failure_modes", "ReportSpec": "report", "generate_report": "report",
    "report_history": "report", "generate_demo": "demo", "cluster_run": "clusters",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


__all__ = [
    "DB_ENV_VAR", "DEFAULT_DB_PATH", "FORMATS", "FaultlineError", "IngestReport", "InputError", "PlannedRun",
    "RoleGuess", "RunInfo", "RunNotFoundError", "Store", "StoreBusyError", "__version__", "detect_format",
    "guess_roles", "load_mapping", "open_store", "quote_ident", "resolve_db_path", "sha256_file", *_LAZY,
]
