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

import os

from analysis._version import __version__
from analysis.errors import FaultlineError, InputError, RunNotFoundError, StoreBusyError
from analysis.formats import FORMATS, detect_format
from analysis.formats.helm import REQUIRED as HELM_REQUIRED_FILES
from analysis.formats.roles import ALL_ROLES, RoleGuess, edited_guess, guess_roles, load_mapping
from analysis.store import (
    DB_ENV_VAR,
    DEFAULT_DB_PATH,
    IngestReport,
    PlannedRun,
    RunInfo,
    Store,
    resolve_db_path,
    sha256_file,
)
from analysis.store.sql import DEFAULT_LOCK_TIMEOUT_S, quote_ident

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
        from analysis.demo.seed import ensure_demo

        ensure_demo(store, progress=progress)
    return store


# The analysis functions, imported on first use so that `import analysis` stays light
# (clustering pulls in umap-learn and numba, the report plotly and playwright).
_LAZY = {
    # slicing
    "list_attributes": "slicing.attributes", "default_attributes": "slicing.attributes", "slice_table": "slicing.table",
    "heatmap": "slicing.table", "heatmap_cells": "slicing.table", "slice_examples": "slicing.table", "slice_extras": "slicing.extras",
    "discover": "slicing.discovery", "compare_runs": "slicing.compare", "gate": "slicing.compare",
    # clusters
    "cluster_run": "clusters.pipeline", "cached_result": "clusters.pipeline", "warm_up": "clusters.pipeline",
    "NOISE": "clusters.describe", "EMPTY": "clusters.describe",
    "minilm_available": "clusters.embedders", "model2vec_available": "clusters.embedders",
    # objective and failure modes
    "DEFAULT_MODES": "objective.taxonomy", "load_objective": "objective.spec", "parse_objective": "objective.spec",
    "SpecError": "objective.spec", "compile_modes": "objective.modes", "mode_examples": "objective.modes",
    "add_annotation": "objective.annotations", "annotations": "objective.annotations", "link": "objective.link",
    # report
    "ReportSpec": "report", "SECTIONS": "report", "SECTION_TITLES": "report", "build_report": "report",
    "render_html": "report", "generate_report": "report", "report_history": "report",
    # demo
    "generate_demo": "demo.generator",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"analysis.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


__all__ = [
    "ALL_ROLES", "DB_ENV_VAR", "DEFAULT_DB_PATH", "FORMATS", "FaultlineError", "HELM_REQUIRED_FILES", "IngestReport",
    "InputError", "PlannedRun", "edited_guess",
    "RoleGuess", "RunInfo", "RunNotFoundError", "Store", "StoreBusyError", "__version__", "detect_format",
    "guess_roles", "load_mapping", "open_store", "quote_ident", "resolve_db_path", "sha256_file", *_LAZY,
]
