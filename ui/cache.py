"""The engine's results cached for the app: one store per process, tables per data version.

``st.cache_resource`` holds the store (one DuckDB connection, a cursor per use); ``st.cache_data``
holds tables and results, keyed on the store's path and its data version so they never go stale.
Each function calls the engine through its public face (:mod:`analysis`) and nothing else.
"""

from __future__ import annotations

import os

import streamlit as st

import analysis
from analysis import Store

#: The demo's objective spec, the spec the Failure modes page starts from.
DEMO_SPEC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data",
                              "objective_demo.yaml")


@st.cache_resource(show_spinner="Opening the store (the first start builds the demo runs)...")
def _open(db_path: str) -> Store:
    # The app seeds the demo into a store that never held runs (FAULTLINE_DEMO=0 turns it off).
    return analysis.open_store(db_path, seed_demo=os.environ.get("FAULTLINE_DEMO", "1") != "0")


@st.cache_data(show_spinner=False, max_entries=16)
def headline(db_path: str, data_version: int):
    """The runs with accuracy and interval, cached per store and data version."""
    return _open(db_path).headline()


@st.cache_data(show_spinner=False, max_entries=64)
def correctness_note(db_path: str, data_version: int, run_id: str):
    """What "correct" means for a graded run (:meth:`analysis.Store.correctness_note`), or None."""
    return _open(db_path).correctness_note(run_id)


@st.cache_data(show_spinner=False, max_entries=16)
def reconciliation(db_path: str, data_version: int):
    """Every figure a tool reported against the stored examples (:meth:`analysis.Store.reconciliation`)."""
    return _open(db_path).reconciliation()


@st.cache_data(show_spinner=False, max_entries=16)
def run_listing(db_path: str, data_version: int):
    """The runs listing with files and hashes, cached per store and data version."""
    return _open(db_path).runs()


@st.cache_data(show_spinner=False, max_entries=64)
def attributes(db_path: str, data_version: int, run_id: str) -> tuple[list, list]:
    """(all attribute names, default attribute names) of a run."""
    store = _open(db_path)
    return ([a.name for a in analysis.list_attributes(store, run_id)],
            [a.name for a in analysis.default_attributes(store, run_id)])


@st.cache_data(show_spinner=False, max_entries=64)
def default_attributes_note(db_path: str, data_version: int, run_id: str) -> str:
    """What the default attribute list left out when it was capped (empty when it was not)."""
    return analysis.default_attributes(_open(db_path), run_id).note


@st.cache_data(show_spinner=False, max_entries=64)
def attribute_notes(db_path: str, data_version: int, run_id: str) -> dict[str, dict]:
    """Per attribute of a run: ``{"role": "context" | "outcome", "default": bool, "why": str}``; ``why`` says in
    plain words why it is not a default (output-derived, leaks the outcome, a single value...), empty for a default.
    Pages show "output-derived" beside outcome attributes (:func:`analysis.attribute_notes`)."""
    return {n.name: {"role": n.role, "default": n.default, "why": n.why}
            for n in analysis.attribute_notes(_open(db_path), run_id)}


# Slice tables and comparisons are held by ``st.cache_resource`` (one shared object, never copied), not
# ``st.cache_data`` (pickled when stored, unpickled on every hit: 0.13 s for the 24,774 rows of a triples table at
# 1M, on every rerun of the page). Pages treat them as read-only: pandas' copy-on-write keeps a filtered or sorted
# frame from writing back into the cached table. Live objects weigh more than pickles (the 37,729 slices of
# triples over 10 attributes hold 13 MiB, predicate dicts included), so at most 16 slice tables are kept.


# Streamlit keys a cached call on the arguments as passed: ``f(x, where=None)`` and ``f(x)`` are two entries. The
# functions the pages and the background precompute (ui.jobs) both call therefore pass every argument to the cached
# function positionally, in one form, so that a view computed in the background is the one the page finds.


def slices(db_path: str, data_version: int, run_id: str, by: tuple, max_order: int, min_support: int, fdr: float,
           bins: int, *, where: str | None = None, outcome: str = "correct"):
    """The slice table of a run (:func:`analysis.slice_table`), over a cohort (``where``) and by an outcome
    (``"correct"``, or a numeric score: the mean per slice); shared read-only (never modify it)."""
    return _slices(db_path, int(data_version), run_id, tuple(by), int(max_order), int(min_support), float(fdr),
                   int(bins), where or None, outcome)


@st.cache_resource(show_spinner="Computing slices...", max_entries=16)
def _slices(db_path: str, data_version: int, run_id: str, by: tuple, max_order: int, min_support: int, fdr: float,
            bins: int, where: str | None, outcome: str):
    return analysis.slice_table(_open(db_path), run_id, list(by), max_order=max_order, min_support=min_support,
                                fdr=fdr, bins=bins, where=where, outcome=outcome)


@st.cache_data(show_spinner=False, max_entries=64)
def outcomes(db_path: str, data_version: int, run_id: str) -> list[str]:
    """The outcomes a run can be sliced by: ``correct``, then its numeric scores by full name
    (:func:`analysis.score_columns`)."""
    return ["correct", *sorted(set(analysis.score_columns(_open(db_path).schema(run_id)).values()))]


def comparison(db_path: str, data_version: int, baseline: str, candidate: str, by: tuple, max_order: int,
               min_support: int, fdr: float, *, where: str | None = None):
    """Two runs compared slice by slice (:func:`analysis.compare_runs`), within a cohort (read on the baseline);
    shared read-only (never modify it)."""
    return _comparison(db_path, int(data_version), baseline, candidate, tuple(by), int(max_order), int(min_support),
                       float(fdr), where or None)


@st.cache_resource(show_spinner="Comparing runs...", max_entries=16)
def _comparison(db_path: str, data_version: int, baseline: str, candidate: str, by: tuple, max_order: int,
                min_support: int, fdr: float, where: str | None):
    return analysis.compare_runs(_open(db_path), baseline, candidate, list(by), max_order=max_order,
                                 min_support=min_support, fdr=fdr, where=where)


@st.cache_data(show_spinner="Comparing runs on the score...", max_entries=16)
def score_comparison(db_path: str, data_version: int, baseline: str, candidate: str, outcome: str, by: tuple,
                     max_order: int, min_support: int, fdr: float, *, where: str | None = None):
    """Two runs compared slice by slice on a graded outcome (:func:`analysis.compare_scores`)."""
    return analysis.compare_scores(_open(db_path), baseline, candidate, outcome, list(by), max_order=max_order,
                                   min_support=min_support, fdr=fdr, where=where)


@st.cache_data(show_spinner=False, max_entries=64)
def shared_scores(db_path: str, data_version: int, baseline: str, candidate: str) -> list[str]:
    """The numeric scores two runs both store (:func:`analysis.shared_scores`)."""
    return analysis.shared_scores(_open(db_path), baseline, candidate)


def comparison_drilldown(db_path: str, data_version: int, baseline: str, candidate: str, predicate: tuple,
                         verdicts: tuple, *, where: str | None = None, outcome: str | None = None):
    """(counts per verdict, the pairs of those verdicts) of one comparison row (:func:`analysis.verdict_counts`,
    :func:`analysis.comparison_examples`); ``predicate`` as sorted (attribute, value) pairs; ``outcome`` a graded
    score (its verdicts: the score fell, rose, stayed) or None (correctness)."""
    return _comparison_drilldown(db_path, int(data_version), baseline, candidate, tuple(predicate), tuple(verdicts),
                                 where or None, outcome or None)


@st.cache_data(show_spinner="Reading the pairs...", max_entries=32)
def _comparison_drilldown(db_path: str, data_version: int, baseline: str, candidate: str, predicate: tuple,
                          verdicts: tuple, where: str | None, outcome: str | None = None):
    store = _open(db_path)
    counts = analysis.verdict_counts(store, baseline, candidate, dict(predicate), where=where, outcome=outcome)
    pairs = analysis.comparison_examples(store, baseline, candidate, dict(predicate), verdicts=list(verdicts) or None,
                                         where=where, limit=500, outcome=outcome)
    return counts, pairs


@st.cache_data(show_spinner=False, max_entries=16)
def saved_spec_listing(db_path: str, data_version: int):
    """The objective specs saved in the store, latest version of each name (:func:`analysis.saved_specs`)."""
    return analysis.saved_specs(_open(db_path))


@st.cache_data(show_spinner=False, max_entries=64)
def run_format(db_path: str, data_version: int, run_id: str) -> str:
    """The format a run was loaded from (``demo`` for the bundled demo's runs)."""
    runs = _open(db_path).runs()
    found = runs[runs["run_id"] == run_id]
    return "" if found.empty else str(found["format"].iloc[0])


@st.cache_resource(show_spinner=False, max_entries=64)
def figure(kind: str, key: tuple, _build):
    """A chart built once per ``(kind, key)`` and shared read-only: ``_build()`` makes it (not hashed, so ``key``
    must name everything the chart shows: store, data version, run, settings). Building a plotly figure costs
    0.2-0.4 s of validation, paid on every rerun of a page or fragment that draws it (a row selected, a toggle)."""
    return _build()


@st.cache_data(show_spinner=False, max_entries=64)
def shared_baseline(db_path: str, data_version: int, run_id: str, earlier: tuple[str, ...]) -> str | None:
    """The nearest of ``earlier`` (runs loaded before ``run_id``, oldest first) that shares example ids with it: the
    baseline a comparison of the run starts from (:func:`analysis.comparable_pair` on the two), or None."""
    store = _open(db_path)
    return next((r for r in reversed(earlier) if analysis.comparable_pair(store, [r, run_id])), None)


@st.cache_data(show_spinner=False, max_entries=64)
def shares_examples(db_path: str, data_version: int, run_a: str, run_b: str) -> bool:
    """Whether two runs share an example id (a comparison of them is possible)."""
    return analysis.comparable_pair(_open(db_path), [run_a, run_b]) is not None


@st.cache_data(show_spinner=False, max_entries=16)
def comparable_pair(db_path: str, data_version: int) -> tuple[str, str] | None:
    """The default (baseline, candidate) of Compare: two runs that share example ids
    (:func:`analysis.comparable_pair`), or None."""
    return analysis.comparable_pair(_open(db_path))


@st.cache_data(show_spinner=False, max_entries=32)
def slice_examples(db_path: str, data_version: int, run_id: str, predicate: tuple, bins: int, *,
                   where: str | None = None):
    """The examples of one slice (within the cohort ``where``), failures first (at most :data:`SLICE_EXAMPLES`)."""
    return analysis.slice_examples(_open(db_path), run_id, dict(predicate), limit=SLICE_EXAMPLES, bins=bins,
                                   where=where)


#: Most examples a slice's (or a cluster's) list holds, and a failure mode's: the Example page steps through these.
SLICE_EXAMPLES, MODE_EXAMPLES = 2000, 500


@st.cache_data(show_spinner="Searching for slices (SliceLine)...", max_entries=16)
def discovery(db_path: str, data_version: int, run_id: str, by: tuple, k: int, max_order: int, min_support: float,
              holdout: bool, fdr: float, bins: int, *, where: str | None = None):
    """Slices found by SliceLine (:func:`analysis.discover`) within the cohort ``where``."""
    return analysis.discover(_open(db_path), run_id, list(by), k=k, max_order=max_order, min_support=min_support, holdout=holdout,
                             fdr=fdr, bins=bins, where=where)


@st.cache_data(show_spinner=False, max_entries=64)
def has_extras(db_path: str, data_version: int, run_id: str) -> bool:
    """Whether the run has columns for per-slice extras (:func:`analysis.extras_available`)."""
    return analysis.extras_available(_open(db_path), run_id)


@st.cache_data(show_spinner="Computing per-slice extras...", max_entries=16)
def extras(db_path: str, data_version: int, run_id: str, by: tuple, bins: int, *, where: str | None = None):
    """Calibration, latency, cost, agreement and score intervals per slice (:func:`analysis.slice_extras`), within
    the cohort ``where``."""
    return analysis.slice_extras(_open(db_path), run_id, list(by), bins=bins, where=where)


# ------------------------------------------------------------------ failure modes and the objective
def demo_spec_text() -> str:
    """The demo objective spec's YAML (empty when the file is missing)."""
    try:
        with open(DEMO_SPEC_PATH, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


@st.cache_data(show_spinner=False, max_entries=32)
@st.cache_data(show_spinner=False, max_entries=256)
def demo_spec_fits(db_path: str, data_version: int, run_id: str) -> bool:
    """Whether the demo objective spec fits a run's columns (:func:`analysis.check_against_run` finds nothing): the
    demo's two runs, not the demo series' checkpoints, whose columns differ."""
    text = demo_spec_text()
    if not text.strip():
        return False
    return not analysis.check_against_run(objective(text, "objective_demo.yaml"), _open(db_path), run_id)


def objective(spec_text: str, source: str):
    """A validated objective spec from YAML text (raises SpecError with the line and the key)."""
    return analysis.parse_objective(spec_text, source=source)


def link_baseline(baseline: str | None, spec_text: str, source: str) -> str | None:
    """The baseline the link of a run is computed with: ``baseline``, or None when the spec has no component (no
    spec at all: the built-in detectors and label columns). A baseline feeds only the Goodhart tables (a component's
    signal change beside the accuracy change, slice by slice), which need a component: without one nothing the page
    shows depends on it, so choosing a baseline re-uses the run's own result instead of computing one (30-60 s at
    1M examples). A spec that does not parse keeps the baseline (the link raises its error, as before)."""
    if baseline is None or not spec_text.strip():
        return None
    try:
        spec = objective(spec_text, source)
    except Exception:  # noqa: BLE001 - the spec's error is the link's to raise, with the line and the key
        return baseline
    return baseline if spec.components else None


@st.cache_data(show_spinner="Linking failure modes to the objective...", max_entries=16)
def link_result(db_path: str, data_version: int, run_id: str, baseline: str | None, spec_text: str, source: str,
                max_order: int, min_support: int, min_failures: int, fdr: float, where: str | None = None):
    """The modes x components link of a run (lenient: spec problems are listed, not raised), within the cohort
    ``where`` if given; an empty ``spec_text`` is no spec: the built-in detectors and the label columns alone."""
    spec = objective(spec_text, source) if spec_text.strip() else None  # no text: no spec (detectors and labels)
    return analysis.link(_open(db_path), run_id, spec, baseline=baseline, strict=False,
                         max_order=max_order, min_support=min_support, min_failures=min_failures, fdr=fdr,
                         where=where or None)


# held by st.cache_resource (shared read-only): compiling a run's modes runs the detectors' own queries (the
# multiple-choice detector reads every output: 0.3-1 s at 1M examples), the same for every mode the page shows
@st.cache_resource(show_spinner=False, max_entries=16)
def _compiled_modes(db_path: str, data_version: int, run_id: str, spec_text: str, source: str, where: str | None):
    spec = objective(spec_text, source) if spec_text.strip() else None
    return analysis.compile_modes(_open(db_path), run_id, spec, strict=False, where=where or None)


@st.cache_data(show_spinner=False, max_entries=32)
def mode_examples(db_path: str, data_version: int, run_id: str, spec_text: str, source: str, mode: str,
                  columns: tuple, order_by: str | None, descending: bool, where: str | None = None):
    """The examples of a failure mode (within the cohort ``where``, if given) with the sources that put them
    there."""
    store = _open(db_path)
    compiled = _compiled_modes(db_path, data_version, run_id, spec_text, source, where or None)
    return analysis.mode_examples(store, run_id, None, mode, compiled=compiled, columns=list(columns),
                                  order_by=order_by, descending=descending, limit=MODE_EXAMPLES)


@st.cache_data(show_spinner=False, max_entries=16)
def annotation_table(db_path: str, data_version: int, run_id: str | None):
    """Every annotation of a run (retracted ones flagged)."""
    return analysis.annotations(_open(db_path), run_id)


# ------------------------------------------------------------------ clusters
class _NotCached(Exception):
    pass


# held by st.cache_resource (shared read-only, never copied): a pickled clustering of 1M examples (its labels)
# took 0.1 s to unpickle on every rerun of the Clusters page
@st.cache_resource(show_spinner=False, max_entries=16)
def _cached_clusters(db_path: str, data_version: int, run_id: str, params: tuple):
    result = analysis.cached_result(_open(db_path), run_id, **dict(params))
    if result is None:
        raise _NotCached  # not cached by st.cache_data: asked again until the job has stored it
    return result


def cached_clusters(db_path: str, data_version: int, run_id: str, params: dict):
    """The stored clustering for these settings, or None when it still has to be computed."""
    try:
        return _cached_clusters(db_path, data_version, run_id, tuple(sorted(params.items())))
    except _NotCached:
        return None


@st.cache_data(show_spinner="Computing the clusters' statistics in the cohort...", max_entries=16)
def _cluster_cohort_table(db_path: str, data_version: int, run_id: str, params: tuple, where: str):
    return analysis.cluster_table(_open(db_path), _cached_clusters(db_path, data_version, run_id, params), where=where)


def cluster_cohort_table(db_path: str, data_version: int, run_id: str, params: dict, *, where: str | None = None):
    """The stored clustering's table with every statistic over the cohort ``where`` (:func:`analysis.cluster_table`;
    the clustering's own table without a cohort, None when it still has to be computed)."""
    result = cached_clusters(db_path, data_version, run_id, params)
    if result is None or not where:
        return None if result is None else result.table
    return _cluster_cohort_table(db_path, data_version, run_id, tuple(sorted(params.items())), where)


@st.cache_data(show_spinner=False, max_entries=16)
def cohort_example_ids(db_path: str, data_version: int, run_id: str, where: str) -> frozenset:
    """The ids of the run's examples in the cohort (:func:`analysis.cohort_ids`)."""
    return frozenset(analysis.cohort_ids(_open(db_path), run_id, where))


@st.cache_data(show_spinner=False)
def cluster_embedders(db_path: str, data_version: int, run_id: str) -> list[str]:
    """Embedders available for a run: auto first, then those that would work here."""
    fields = _open(db_path).fields(run_id)
    options = ["auto"]
    if (fields["role"] == "embedding").any():
        options.append("vector")
    if analysis.model2vec_available():
        options.append("model2vec")
    if analysis.minilm_available():
        options.append("minilm")
    return options + ["tfidf"]


# ------------------------------------------------------------------ series of runs (the Timeline page)
@st.cache_data(show_spinner=False, max_entries=16)
def series_listing(db_path: str, data_version: int):
    """The stored series (:func:`analysis.list_series`)."""
    return analysis.list_series(_open(db_path))


@st.cache_data(show_spinner="Following every slice along the series...", max_entries=16)
def series_trajectories(db_path: str, data_version: int, name: str, min_support: int, fdr: float,
                        where: str | None = None):
    """Every single-attribute slice of a series, run by run (:func:`analysis.trajectories`), within the cohort
    ``where``."""
    return analysis.trajectories(_open(db_path), name, min_support=min_support, fdr=fdr, where=where)


@st.cache_data(show_spinner="Measuring the objective's signals along the series...", max_entries=16)
def series_surrogate(db_path: str, data_version: int, name: str, spec_text: str, source: str, min_support: int,
                     fdr: float, where: str | None = None):
    """The over-optimisation turns of a series for an objective spec (:func:`analysis.over_optimisation`), within
    the cohort ``where``."""
    spec = analysis.parse_objective(spec_text, source=source)
    return analysis.over_optimisation(_open(db_path), name, spec, min_support=min_support, fdr=fdr, where=where)


@st.cache_data(show_spinner="Decomposing the change...", max_entries=32)
def series_mix(db_path: str, data_version: int, run_a: str, run_b: str, where: str | None = None):
    """Mix shift against model change between two runs (:func:`analysis.mix_shift`), within the cohort ``where``."""
    return analysis.mix_shift(_open(db_path), run_a, run_b, where=where)


@st.cache_data(show_spinner="Looking for a change of the evaluation mix...", max_entries=16)
def series_mix_along(db_path: str, data_version: int, name: str, where: str | None = None):
    """The mix shift at every step of a series (:func:`analysis.mix_along`), within the cohort ``where``."""
    return analysis.mix_along(_open(db_path), name, where=where)


def series_mix_default(db_path: str, data_version: int, name: str, where: str | None = None) -> tuple[str, str]:
    """The two runs the Timeline's mix view opens on: the first step whose mix moved the headline, else the newest
    step (from :func:`series_mix_along`)."""
    steps = series_mix_along(db_path, data_version, name, where)
    shifted = steps[steps["mix_shift"]] if len(steps) else steps
    row = (shifted if len(shifted) else steps).iloc[0 if len(shifted) else -1]
    return str(row["previous"]), str(row["run"])


def series_mix_view(db_path: str, data_version: int, name: str, where: str | None = None) -> None:
    """Compute the Timeline's mix view as it opens (the steps and the default pair's decomposition) into the caches
    the page reads: what the background precompute runs once the drift view has rendered."""
    run_a, run_b = series_mix_default(db_path, data_version, name, where)
    series_mix(db_path, data_version, run_a, run_b, where)
