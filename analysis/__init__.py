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
from analysis.formats.helm import skipped_runs
from analysis.formats.roles import ALL_ROLES, RoleGuess, edited_guess, guess_roles, load_mapping
from analysis.formatting import format_count, format_headline, format_q, format_some, format_threshold
from analysis.sql import DEFAULT_LOCK_TIMEOUT_S, quote_ident
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
from analysis.store.reconcile import VERDICTS as RECONCILIATION_VERDICTS

DEMO_ENV_VAR = "FAULTLINE_DEMO"


def open_store(path: str | os.PathLike | None = None, *, read_only: bool = False, seed_demo: bool | None = None,
               lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, progress=None, engine: str | None = None) -> Store:
    """Open (or create) a Faultline store, seeding the demo runs into a new default store.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The DuckDB file (created if missing). Default ``$FAULTLINE_DB``, else
        ``data/faultline.duckdb`` (see :func:`analysis.store.resolve_db_path`).
    read_only : bool, default False
        Open without write access (several processes may read at once); never seeds.
    seed_demo : bool, optional
        Build the bundled demo runs (:func:`analysis.demo.generator.generate_demo`, 20,000
        prompts) into a store that has never had any runs. Default: only the default store is
        seeded (not one named by ``path``), and ``FAULTLINE_DEMO=0`` turns seeding off.
    lock_timeout_s : float, default 3.0
        Seconds to wait for another process's write lock before giving up.
    progress : ProgressCallback, optional
        Called with ``(fraction in [0, 1], message)`` while the demo is seeded
        (:mod:`analysis.progress`).
    engine : {"duckdb", "spark"}, optional
        Where statements over example rows run (:mod:`analysis.store.engine`); default
        ``$FAULTLINE_ENGINE``, else DuckDB. The catalog always stays in the DuckDB file.

    Returns
    -------
    Store
        The open store; close it with ``store.close()`` or use it as a context manager.

    Raises
    ------
    StoreBusyError
        When another process holds the store's write lock for longer than ``lock_timeout_s``
        (DuckDB lets one process write to a file at a time); the message is
        :data:`analysis.errors.STORE_BUSY`.
    duckdb.IOException
        Any other failure to open the file (e.g. ``read_only`` on a file that does not exist).

    Examples
    --------
    >>> import tempfile
    >>> with open_store(tempfile.mkdtemp() + "/empty.duckdb") as store:
    ...     store.runs().empty
    True
    """
    store = Store(resolve_db_path(path), read_only=read_only, lock_timeout_s=lock_timeout_s, engine=engine)
    if seed_demo is None:
        seed_demo = path is None and os.environ.get(DEMO_ENV_VAR, "1") != "0"
    if seed_demo and not read_only:
        from analysis.demo.seed import ensure_demo

        ensure_demo(store, progress=progress)
    return store


# The analysis functions, imported on first use so that `import analysis` stays light
# (clustering pulls in umap-learn and numba, the report plotly and WeasyPrint).
_LAZY = {
    # slicing
    "list_attributes": "slicing.attributes", "default_attributes": "slicing.attributes", "slice_table": "slicing.table",
    "attribute_notes": "slicing.attributes", "classify_attribute": "slicing.attributes",
    "describe_predicate": "slicing.attributes",
    "heatmap": "slicing.table", "heatmap_cells": "slicing.table", "slice_examples": "slicing.table", "slice_extras": "slicing.extras",
    "extras_available": "slicing.extras",
    "discover": "slicing.discovery", "compare_runs": "slicing.compare", "gate": "slicing.compare",
    "comparable_pair": "slicing.compare", "compare_scores": "slicing.compare", "shared_scores": "slicing.compare",
    "slice_verdicts": "slicing.compare", "NOT_TESTED": "slicing.compare", "NOT_SIGNIFICANT": "slicing.compare", "NOT_TESTED_WHY": "slicing.compare",
    # clusters
    "cluster_run": "clusters.pipeline", "cached_result": "clusters.pipeline", "warm_up": "clusters.pipeline",
    "NOISE": "clusters.describe", "EMPTY": "clusters.describe",
    "minilm_available": "clusters.embedders", "model2vec_available": "clusters.embedders",
    # objective and failure modes
    "DEFAULT_MODES": "objective.taxonomy", "load_objective": "objective.spec", "parse_objective": "objective.spec",
    "SpecError": "objective.spec", "check_against_run": "objective.spec", "compile_modes": "objective.modes", "mode_examples": "objective.modes",
    "add_annotation": "objective.annotations", "annotations": "objective.annotations", "link": "objective.link", "RULE_WORDS": "objective.link",
    "retract_annotation": "objective.annotations",
    # report
    "ReportSpec": "report", "SECTIONS": "report", "SECTION_TITLES": "report", "build_report": "report",
    "render_html": "report", "generate_report": "report", "report_history": "report",
    # demo
    "generate_demo": "demo.generator", "ensure_demo_series": "demo.seed",
    # series of runs
    "create_series": "store.series", "get_series": "store.series", "list_series": "store.series",
    "delete_series": "store.series", "trajectories": "series.trajectories", "mix_shift": "series.mix",
    "mix_along": "series.mix", "over_optimisation": "series.surrogate", "series_gate": "series.gate",
}
# issue 14: cohorts, findings, the example view, compare drill-down
_LAZY.update({
    "cohort_filter": "slicing.cohorts", "check_cohort": "slicing.cohorts", "save_cohort": "slicing.cohorts",
    "cohorts": "slicing.cohorts", "get_cohort": "slicing.cohorts", "PredicateError": "slicing.cohorts",
    "cohort_fields": "slicing.cohorts", "score_columns": "slicing.outcome", "cluster_table": "clusters.cohort",
    "cohort_ids": "clusters.cohort",
    "pin_finding": "objective.findings", "pin_slice": "objective.findings", "pin_comparison": "objective.findings",
    "findings": "objective.findings", "get_finding": "objective.findings", "withdraw_finding": "objective.findings",
    "recompute_finding": "objective.findings", "export_findings": "objective.findings",
    "pinned_finding": "objective.findings", "AlreadyPinnedError": "errors", "bh_family_size": "stats",
    "finding_sentence": "objective.findings", "evidence_frame": "objective.findings", "score_unit": "formatting", "gate_unit": "formatting", "interval_method": "formatting",
    "example_view": "objective.example", "chat_turns": "objective.example",
    "comparison_examples": "slicing.drilldown", "verdict_counts": "slicing.drilldown",
    "save_spec": "objective.spec", "saved_specs": "objective.spec", "get_spec": "objective.spec",
    "spec_sha256": "objective.spec", "NO_SPEC_SENTENCE": "objective.link",
})


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"analysis.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


__all__ = [
    "ALL_ROLES", "DB_ENV_VAR", "DEFAULT_DB_PATH", "FORMATS", "FaultlineError", "HELM_REQUIRED_FILES", "IngestReport",
    "InputError", "PlannedRun", "RECONCILIATION_VERDICTS", "skipped_runs", "edited_guess", "format_count", "format_headline", "format_q", "format_some", "format_threshold",
    "RoleGuess", "RunInfo", "RunNotFoundError", "Store", "StoreBusyError", "__version__", "detect_format",
    "guess_roles", "load_mapping", "open_store", "quote_ident", "resolve_db_path", "sha256_file", *_LAZY,
]
