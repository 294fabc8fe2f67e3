"""Building the bundled demo into a store the first time it is needed (no manual step)."""

from __future__ import annotations

import json
from pathlib import Path

from analysis.demo.generator import DEMO_MODELS, generate_demo, write_truth
from analysis.progress import ProgressCallback, report_progress
from analysis.store import Store

#: Column roles of the demo runs (the demo is loaded like any user's log, with a mapping).
DEMO_MAPPING = {
    "id": "example_id", "input": "input", "output": "output", "reference": "reference",
    "correct": "correct", "score": "score",
    "signals": ["rm_helpfulness", "rm_harmlessness", "response_length", "kl_to_ref"],
    "raters": ["rater_a", "rater_b"],
}
DEMO_TRUTH_KEY = "demo_truth"


def demo_truth_path(store: Store) -> Path:
    """Where the machine-readable truth of the demo is written: beside the store file."""
    return store.path.with_name("demo_truth.json")


def ensure_demo(store: Store, *, progress: ProgressCallback | None = None, n_prompts: int = 20_000, seed: int = 7) -> bool:
    """Seed the demo runs once into a store that has never held runs; True if it did.

    Deleting the demo runs later does not bring them back (the store remembers it was seeded).
    """
    if store.info("demo_seeded") or not store.runs().empty:
        return False

    report_progress(progress, 0.05, "Generating the demo evaluation (first run only)")
    demo = generate_demo(n_prompts=n_prompts, seed=seed)
    for index, (name, frame) in enumerate(demo.runs.items()):
        report_progress(progress, 0.3 + 0.3 * index, f"Loading demo run {name}")
        store.ingest_frame(frame, name=name, model=DEMO_MODELS[name], mapping=DEMO_MAPPING,
                           notes=f"Synthetic demo run (generator seed {seed}, {n_prompts:,} prompts) with planted "
                                 "failure structure; truth in demo_truth.json", source_format="demo")
    write_truth(demo.truth, demo_truth_path(store))
    store.set_info(DEMO_TRUTH_KEY, json.dumps({"seed": seed, "n_prompts": n_prompts,
                                               "path": str(demo_truth_path(store))}))
    store.set_info("demo_seeded", "1")
    return True


def demo_series_truth_path(store: Store) -> Path:
    """Where the truth of the demo series is written: beside the store file."""
    return store.path.with_name("demo_series_truth.json")


def ensure_demo_series(store: Store, *, progress: ProgressCallback | None = None, n_prompts: int = 3000,
                       seed: int = 11) -> bool:
    """Load the demo series (six checkpoints, :mod:`analysis.demo.series`) and create the series.

    Leaves the two-run demo as it is; does nothing when the store already has the series. The truth is written to
    :func:`demo_series_truth_path`.

    Parameters
    ----------
    store : Store
        A writable store.
    progress : ProgressCallback, optional
        Called with ``(fraction, message)`` while it works.
    n_prompts : int, default 3000
        Prompts per checkpoint (:func:`analysis.demo.series.generate_series_demo`).
    seed : int, default 11
        Seed of the generator.

    Returns
    -------
    bool
        True when it built the series, False when the store already had it.

    Raises
    ------
    StoreError
        A store open for reading only.
    """
    from analysis.demo.series import SERIES_MODEL, SERIES_NAME, generate_series_demo
    from analysis.store.series import create_series, series_names

    if SERIES_NAME in series_names(store):
        return False
    report_progress(progress, 0.05, "Generating the demo series (six checkpoints)")
    demo = generate_series_demo(n_prompts=n_prompts, seed=seed)
    mapping = {**DEMO_MAPPING, "raters": []}
    for index, (name, frame) in enumerate(demo.runs.items()):
        report_progress(progress, 0.1 + 0.8 * index / len(demo.runs), f"Loading checkpoint {name}")
        store.ingest_frame(frame, name=name, model=SERIES_MODEL, mapping=mapping,
                           notes=f"Synthetic demo checkpoint (series generator seed {seed}, {n_prompts:,} prompts) "
                                 "with planted drift; truth in demo_series_truth.json", source_format="demo")
    create_series(store, SERIES_NAME, list(demo.runs), order_by="step")
    write_truth(demo.truth, demo_series_truth_path(store))
    report_progress(progress, 1.0, "Demo series ready")
    return True
