"""Failure clusters: what the examples are about, found from their texts and tested like slices.

Metadata slice a run only along the axes someone recorded; clusters of the texts find the rest.
:func:`cluster_run` embeds a text field of every example (see :mod:`analysis.clusters.embedders`),
reduces the vectors with UMAP (cosine; a few dimensions for clustering, two for the map),
clusters with HDBSCAN, and describes every cluster (:mod:`analysis.clusters.describe`) with the
slicing engine's statistics: error rate with a Wilson / Clopper-Pearson interval, a test against
the rest of the run and a Benjamini-Hochberg q-value, the top class-based TF-IDF terms, the
examples nearest the centre and the most typical failing ones, and the share of each failure
mode where labels exist.
HDBSCAN's noise is its own group (``noise``), and so are examples whose text is empty
(``empty``).

The labels are stored on the run as the column ``cluster.<field>`` (role ``cluster``), so a
cluster is an attribute like any other: ``cluster.input = 7 AND language = sw`` works in
slicing, heatmaps and discovery.

Identical texts are one point: each distinct text (or distinct vector, for the log's own vectors)
is embedded and reduced by UMAP once, and its examples take its cluster. Fitting exact
duplicates filled UMAP's neighbour graph with zero and rounding-size distances, so the clusters
of a run with repeated texts (canned refusals, say) depended on the CPU's floating-point kernels.
UMAP has no sample weights; HDBSCAN has none either, but it clusters the examples (each point
repeated by its number of examples, the copies a seeded hair apart), so minimum sizes and
densities count examples.
Runs with more distinct texts than ``sample_size`` are fitted on a seeded sample of them and the
other examples are assigned by their nearest fitted neighbours (cosine, in the embedding space);
the settings say so.

Everything is seeded: the same data and parameters give identical labels. Results are cached in
the store (:mod:`analysis.clusters.cache`: tables ``cluster_cache`` and ``cluster_labels``) under a
key made of the run, the text field, the embedder and its version, every parameter, and a
fingerprint of the data, so a user never waits twice for the same clustering. umap-learn compiles
its numba code in every new process (about 15-45 s); :func:`warm_up` does it on tiny data (the app
calls it in a background thread), and the compiled code is kept on disk by numba's cache, so later
processes skip it (``FAULTLINE_NUMBA_CACHE=0`` turns that off).
"""

from __future__ import annotations

import functools
import math
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from analysis import stats as _stats
from analysis.clusters.cache import cache_key, fingerprint, read_cache, records, write_cache
from analysis.clusters.describe import EMPTY, NOISE, describe_clusters, failure_modes
from analysis.clusters.embedders import EMBEDDERS, EmbedderInfo, embed_texts, resolve_embedder, vectors_from_column
from analysis.errors import FaultlineError
from analysis.formatting import format_count
from analysis.progress import ProgressCallback, report_progress
from analysis.slicing.table import slice_examples
from analysis.store import Store

TextField = Literal["input", "output", "reference", "both"]
Embedder = Literal["auto", "vector", "model2vec", "minilm", "tfidf"]

FIELDS: tuple[str, ...] = ("input", "output", "reference", "both")
#: Fewest examples with a non-empty text that can be clustered.
MIN_EXAMPLES = 10
#: With fewer distinct texts than this, each distinct text is its own cluster (nothing to embed).
MIN_DISTINCT = 10
#: Runs larger than this are fitted on a seeded sample of this many examples; the rest are assigned.
DEFAULT_SAMPLE_SIZE = 5_000
#: Dimensions UMAP reduces to for clustering (the map always has two).
DEFAULT_COMPONENTS = 5
#: UMAP's optimisation epochs (its default for large data; quick and stable).
N_EPOCHS = 100
#: Most examples HDBSCAN clusters at once (fitted distinct texts repeated by their number of examples).
MAX_FIT_COPIES = 4 * DEFAULT_SAMPLE_SIZE
#: Fitted neighbours that vote on the cluster of an example outside the sample.
ASSIGN_NEIGHBOURS = 10
NUMBA_CACHE_ENV = "FAULTLINE_NUMBA_CACHE"

MSG_FIELD = "Invalid 'field' parameter: expected one of input, output, reference, both; got {value!r}"
MSG_INT = "Invalid {name!r} parameter: expected an integer >= {minimum} (or None for the default), got {value!r}"
MSG_SEED = "Invalid 'seed' parameter: expected an integer >= 0, got {value!r}"
MSG_FDR = "Invalid 'fdr' parameter: expected a number in (0, 1), got {value!r}"
MSG_CONFIDENCE = "Invalid 'confidence' parameter: expected a number in (0, 1), got {value!r}"
MSG_TOO_FEW = ("Clustering needs at least {minimum} examples with a non-empty {field} text; run {run!r} has {n}. "
               "Slice it by its metadata instead")
MSG_ALL_EMPTY = ("Every {field} text of run {run!r} is empty, so there is nothing to cluster; "
                 "choose another field (input, output, reference or both)")
MSG_NO_SCORED = "Run {run!r} has no scored example, so clusters have no error rate"


# ---------------------------------------------------------------------------------------- results
@dataclass
class ClusterResult:
    """Clusters of one text field of a run, described and tested, with the labels of every example."""

    table: pd.DataFrame
    """One row per group (clusters, then ``noise`` and ``empty`` when present), sorted by evidence:
    ``cluster``, ``description``, ``size`` (examples), ``n`` (scored), ``errors``, ``error_rate``,
    ``ci_low``, ``ci_high``, ``ci_method``, ``rest_error_rate``, ``difference`` (cluster minus rest),
    ``p_value``, ``test``, ``q_value``, ``finding`` (worse than the rest at the FDR level),
    ``terms`` (class-based TF-IDF), ``representative_ids`` / ``representative_texts`` (nearest the
    centre), ``failing_ids`` / ``failing_texts`` (failing examples nearest the centre),
    ``failure_modes`` (share of the cluster's failing examples in each failure mode, most common first;
    an example may be in several modes; {} when the run has no failure-mode labels)."""
    labels: pd.DataFrame
    """One row per example: ``example_id``, ``cluster``, ``x``, ``y`` (the 2-D map), ``correct``,
    ``scored``, ``text`` (the text clustered), and ``failure_mode`` (a failing example's most common
    mode, ``(no mode)``, or ``(not failing)``) when the run has failure-mode labels."""
    run_id: str
    field: str
    column: str
    """The run's column holding the labels (``cluster.<field>``): an attribute for slicing."""
    settings: dict
    """Embedder, resolved parameters, sample and assignment, notes; enough to reproduce the result."""
    cache_key: str
    from_cache: bool = False
    timings: dict = field(default_factory=dict)
    """Seconds per stage: load, embed, reduce, cluster, describe, save (and lookup when cached)."""

    @property
    def n_clusters(self) -> int:
        """Clusters found (noise and empty texts are not clusters)."""
        return int((~self.table["cluster"].isin([NOISE, EMPTY])).sum())

    @property
    def q_family_size(self) -> int:
        """The groups the q-values were adjusted over (Benjamini-Hochberg): the clusters, and noise and empty texts
        where present, each tested against the rest of the run."""
        return _stats.bh_family_size(self.table["q_value"])

    def findings(self) -> pd.DataFrame:
        """Groups significantly worse than the rest of the run."""
        return self.table.loc[self.table["finding"].astype(bool)]

    def to_records(self) -> list[dict]:
        """JSON-ready rows of the table."""
        return records(self.table)


# ---------------------------------------------------------------------------------------- checks
def _check(field_name, n_neighbors, min_cluster_size, min_samples, sample_size, n_components, seed, fdr,
           confidence) -> None:
    if field_name not in FIELDS:
        raise FaultlineError(MSG_FIELD.format(value=field_name))
    for name, value, minimum in (("n_neighbors", n_neighbors, 2), ("min_cluster_size", min_cluster_size, 2),
                                 ("min_samples", min_samples, 1), ("sample_size", sample_size, 100),
                                 ("n_components", n_components, 2)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                  or value < minimum):
            raise FaultlineError(MSG_INT.format(name=name, minimum=minimum, value=value))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise FaultlineError(MSG_SEED.format(value=seed))
    if isinstance(fdr, bool) or not isinstance(fdr, (int, float)) or not 0 < fdr < 1:
        raise FaultlineError(MSG_FDR.format(value=fdr))
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise FaultlineError(MSG_CONFIDENCE.format(value=confidence))


def default_parameters(n: int, *, sample_size: int = DEFAULT_SAMPLE_SIZE, n_distinct: int | None = None) -> dict:
    """Parameters that adapt to the number of examples ``n`` (with non-empty text).

    Identical texts are fitted once, so the fitted points ``n_fit`` are the ``n_distinct``
    distinct texts (``n`` when not given), at most ``sample_size`` of them.
    ``n_neighbors`` grows with the square root of the fitted points (5 to 30);
    ``min_cluster_size`` is 2% of the run (at least 5 examples); ``min_samples`` is a quarter
    of the fitted minimum cluster size (at least 3), which scales ``min_cluster_size`` by the
    share of the distinct texts that are fitted.

    >>> default_parameters(3_000)
    {'n_fit': 3000, 'n_neighbors': 22, 'min_cluster_size': 60, 'min_samples': 15}
    >>> default_parameters(50_000)["n_fit"], default_parameters(40)["n_neighbors"]
    (5000, 5)
    """
    distinct = n if n_distinct is None else max(1, min(int(n_distinct), n))
    n_fit = min(distinct, sample_size)
    n_neighbors = int(np.clip(round(math.sqrt(n_fit) / 2.5), 5, 30))
    min_cluster_size = max(5, round(0.02 * n))
    fit_mcs = _fit_min_cluster_size(min_cluster_size, n_fit, distinct)
    return {"n_fit": n_fit, "n_neighbors": min(n_neighbors, n_fit - 1), "min_cluster_size": min_cluster_size,
            "min_samples": max(3, fit_mcs // 4)}


def _fit_min_cluster_size(min_cluster_size: int, n_fit: int, n_distinct: int) -> int:
    """HDBSCAN's minimum cluster size among the fitted examples, expected: scaled by the share of distinct texts fitted.

    Each fitted distinct text brings all its examples, so the fitted examples are about that
    share of the run. (The clustering then scales by the share actually fitted.)
    """
    return max(2, round(min_cluster_size * n_fit / max(n_distinct, 1)))


# ---------------------------------------------------------------------------------------- UMAP
def _enable_numba_disk_cache(modules) -> int:
    """Let numba keep umap-learn's compiled functions on disk (umap does not ask for it).

    Numba recompiles a function whenever its source changes, so the cache cannot go stale.
    """
    from numba.core.dispatcher import Dispatcher

    enabled = 0
    for module in modules:
        for obj in vars(module).values():
            if isinstance(obj, Dispatcher) and type(obj._cache).__name__ == "NullCache":
                try:
                    obj.enable_caching()
                    enabled += 1
                except Exception:  # noqa: BLE001,S112 - a function numba cannot cache is compiled as before
                    continue
    return enabled


@functools.lru_cache(maxsize=1)
def _umap():
    """umap-learn, imported on first use only (importing analysis stays fast)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap
        import umap.distances
        import umap.layouts
        import umap.spectral
        import umap.umap_
        import umap.utils
    if os.environ.get(NUMBA_CACHE_ENV, "1") != "0":
        try:
            _enable_numba_disk_cache([umap.umap_, umap.layouts, umap.utils, umap.spectral, umap.distances])
        except ImportError:  # pragma: no cover - numba is a dependency of umap-learn
            pass
    return umap


def _exact_knn(fit: np.ndarray, k: int, queries: np.ndarray | None = None, *, block: int = 1024):
    """Cosine k nearest neighbours of unit rows by blocked matrix products (exact, deterministic).

    Without ``queries`` the neighbours of the fitted rows themselves, each row first. Blocks
    run on a few threads (numpy releases the GIL), each writing its own rows.
    """
    from concurrent.futures import ThreadPoolExecutor

    same = queries is None
    q = fit if same else queries
    k = min(k, fit.shape[0])
    indices = np.empty((q.shape[0], k), dtype=np.int32)
    distances = np.empty((q.shape[0], k), dtype=np.float32)

    def one_block(start: int) -> None:
        sims = q[start:start + block] @ fit.T
        if same:  # a row is its own nearest neighbour, even among duplicates
            rows = np.arange(sims.shape[0])
            sims[rows, start + rows] = 2.0
        if k < fit.shape[0]:
            part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        else:
            part = np.broadcast_to(np.arange(fit.shape[0]), sims.shape).copy()
        top = np.take_along_axis(sims, part, axis=1)
        order = np.lexsort((part, -top), axis=1)  # by similarity, ties by index: deterministic
        indices[start:start + block] = np.take_along_axis(part, order, axis=1)
        distances[start:start + block] = np.clip(1.0 - np.take_along_axis(top, order, axis=1), 0.0, 2.0)

    starts = range(0, q.shape[0], block)
    workers = min(len(starts), os.cpu_count() or 1, 4)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one_block, starts))
    else:
        for start in starts:
            one_block(start)
    if same:
        distances[:, 0] = 0.0
    return indices, distances


def _umap_embed(vectors: np.ndarray, knn: tuple[np.ndarray, np.ndarray], *, n_components: int, min_dist: float,
                seed: int) -> np.ndarray:
    umap = _umap()
    n = vectors.shape[0]
    k = knn[0].shape[1]
    reducer = umap.UMAP(n_neighbors=k, n_components=n_components, metric="cosine", min_dist=min_dist,
                        random_state=seed, n_jobs=1, n_epochs=N_EPOCHS, precomputed_knn=(knn[0], knn[1], None),
                        init="spectral" if n > n_components + 8 else "random", low_memory=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = reducer.fit_transform(vectors)
    return np.nan_to_num(np.asarray(out, dtype=np.float32))


def _hdbscan(points: np.ndarray, *, min_cluster_size: int, min_samples: int) -> np.ndarray:
    import hdbscan

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = hdbscan.HDBSCAN(min_cluster_size=max(2, min_cluster_size), min_samples=max(1, min_samples),
                                core_dist_n_jobs=1, cluster_selection_method="eom")
        return model.fit_predict(points.astype(np.float64))


def _weighted_hdbscan(points: np.ndarray, weight: np.ndarray, *, min_cluster_size: int, min_samples: int,
                      seed: int) -> np.ndarray:
    """HDBSCAN over examples when each distinct point stands for ``weight`` of them: one label per point.

    hdbscan takes no sample weights, so each point is repeated ``weight`` times. Exact copies
    would have zero distances, which give HDBSCAN infinite densities (lambda) and undefined
    stabilities (hdbscan issue #94); as its author advises, each copy is moved by a tiny seeded
    offset, a thousandth of the distance from the point to its nearest other point, so the
    copies sit together, denser than anything around them, at finite distances. Sizes and
    densities count examples, as HDBSCAN over the examples would. Each point takes the most
    common label of its copies (they agree in practice; ties go to the smallest label).
    """
    from sklearn.neighbors import NearestNeighbors

    weight = np.asarray(weight, dtype=np.int64)
    if (weight == 1).all():
        return _hdbscan(points, min_cluster_size=min_cluster_size, min_samples=min_samples)
    data = points.astype(np.float64)
    distances, _ = NearestNeighbors(n_neighbors=2).fit(data).kneighbors(data)
    nearest = distances[:, 1]
    floor = float(np.median(nearest[nearest > 0])) if (nearest > 0).any() else 1.0
    scale = 1e-3 * np.where(nearest > 0, nearest, floor)
    owner = np.repeat(np.arange(len(data)), weight)
    offsets = np.random.default_rng(seed).normal(size=(len(owner), data.shape[1]))
    copies = data[owner] + offsets * scale[owner, None]
    labels = _hdbscan(copies, min_cluster_size=min_cluster_size, min_samples=min_samples)
    votes = pd.crosstab(owner, labels)  # rows: points; columns: labels, sorted (noise, -1, first)
    return votes.columns.to_numpy()[votes.to_numpy().argmax(axis=1)].astype(np.int64)


def warm_up() -> float:
    """Compile umap-learn's numba code on tiny data (seconds taken); the app runs it in a background thread.

    Uses the same code path and types as :func:`cluster_run`, so a clustering afterwards
    compiles nothing. With numba's disk cache warm it takes a few seconds.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    vectors = _unit(rng.normal(size=(120, 16)).astype(np.float32))
    knn = _exact_knn(vectors, 8)
    points = _umap_embed(vectors, knn, n_components=DEFAULT_COMPONENTS, min_dist=0.0, seed=0)
    _umap_embed(vectors, knn, n_components=2, min_dist=0.1, seed=0)
    _hdbscan(points, min_cluster_size=10, min_samples=3)
    return time.perf_counter() - start


# ---------------------------------------------------------------------------------------- helpers
def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)




def _texts(frame: pd.DataFrame, field_name: str) -> pd.Series:
    if field_name == "both":
        inp = frame["input"].fillna("").astype(str)
        out = frame["output"].fillna("").astype(str)
        both = (inp.str.strip() + "\n\n" + out.str.strip()).str.strip()
        return both
    return frame[field_name].fillna("").astype(str)


# ---------------------------------------------------------------------------------------- the pipeline
@dataclass
class _Prepared:
    info: object
    frame: pd.DataFrame
    texts: pd.Series
    nonempty: np.ndarray
    embedder: EmbedderInfo
    params: dict
    key: str
    fingerprint: str
    modes: pd.DataFrame
    """One boolean column per failure mode (aligned with ``frame``); no column when the run has no labels."""
    modes_source: str
    vectors: np.ndarray | None
    model_dir: Path | None
    notes: list[str]


def _prepare(store: Store, run: str, *, field_name: str, embedder: str, n_neighbors, min_cluster_size, min_samples,
             sample_size, n_components, seed, fdr, confidence, model_dir) -> _Prepared:
    _check(field_name, n_neighbors, min_cluster_size, min_samples, sample_size, n_components, seed, fdr, confidence)
    if embedder not in EMBEDDERS:
        resolve_embedder(embedder, has_vectors=False)  # raises the parameter message
    schema = store.schema(run)
    info = schema.run
    fields = schema.fields
    has_vectors = bool((fields["role"] == "embedding").any())
    columns = ["example_id", "input", "output", "reference", "correct", "unscorable"]
    if has_vectors and embedder in ("auto", "vector"):
        columns.append("embedding")
    frame = store.examples(schema, columns=list(dict.fromkeys(columns)))
    texts = _texts(frame, field_name)
    nonempty = (texts.str.strip() != "").to_numpy()
    shown_field = "input and output" if field_name == "both" else field_name
    if not nonempty.any():
        raise FaultlineError(MSG_ALL_EMPTY.format(field=shown_field, run=info.name))
    if nonempty.sum() < MIN_EXAMPLES:
        raise FaultlineError(MSG_TOO_FEW.format(minimum=MIN_EXAMPLES, field=shown_field, run=info.name,
                                                n=int(nonempty.sum())))
    if not (~frame["unscorable"].fillna(False).astype(bool)).any():
        raise FaultlineError(MSG_NO_SCORED.format(run=info.name))
    resolved = resolve_embedder(embedder, has_vectors=has_vectors, model_dir=model_dir)
    vectors = None
    notes: list[str] = []
    if resolved.name == "vector":
        try:
            vectors = vectors_from_column(frame["embedding"], info.name)
        except FaultlineError as err:
            if embedder != "auto":
                raise
            resolved = resolve_embedder("auto", has_vectors=False, model_dir=model_dir)
            notes.append(f"{err} Embedded the texts with {resolved.name} instead.")
    n = int(nonempty.sum())
    sample = int(sample_size or DEFAULT_SAMPLE_SIZE)
    if vectors is not None:
        n_distinct = len(_distinct_rows(vectors[nonempty])[0])
    else:
        n_distinct = int(texts[nonempty].nunique())
    defaults = default_parameters(n, sample_size=sample, n_distinct=n_distinct)
    params = {
        "n_neighbors": int(n_neighbors) if n_neighbors is not None else defaults["n_neighbors"],
        "min_cluster_size": int(min_cluster_size) if min_cluster_size is not None else defaults["min_cluster_size"],
        "min_samples": int(min_samples) if min_samples is not None else None,
        "n_components": int(n_components) if n_components is not None else DEFAULT_COMPONENTS,
        "sample_size": sample, "n_fit": defaults["n_fit"], "seed": int(seed), "fdr": float(fdr),
        "confidence": float(confidence),
    }
    fit_mcs = _fit_min_cluster_size(params["min_cluster_size"], defaults["n_fit"], n_distinct)
    if params["min_samples"] is None:
        params["min_samples"] = max(3, fit_mcs // 4)
    params["n_neighbors"] = min(params["n_neighbors"], defaults["n_fit"] - 1)
    params["fit_min_cluster_size"] = fit_mcs
    modes, modes_source = failure_modes(store, schema, fields, frame)
    digest = fingerprint(frame, texts, modes, vectors)
    key = cache_key(info.run_id, field_name, resolved, params, digest)
    if "embedding" in frame:
        frame = frame.drop(columns="embedding")
    return _Prepared(info, frame, texts, nonempty, resolved, params, key, digest, modes, modes_source, vectors,
                     Path(model_dir) if model_dir is not None else None, notes)


def cluster_run(store: Store, run: str, *, field: TextField = "input", embedder: Embedder = "auto",
                n_neighbors: int | None = None, min_cluster_size: int | None = None, min_samples: int | None = None,
                n_components: int | None = None, sample_size: int = DEFAULT_SAMPLE_SIZE, seed: int = 0,
                fdr: float = 0.05, confidence: float = 0.95, use_cache: bool = True, save_column: bool = True,
                model_dir: str | os.PathLike | None = None, progress: ProgressCallback | None = None) -> ClusterResult:
    """Cluster the texts of a run and describe each cluster (cached in the store).

    ``field``: which text to embed (``input``, ``output``, ``reference``, or ``both`` input and
    output). ``embedder``: ``auto`` (the log's vectors, else the bundled model2vec model, else
    all-MiniLM-L6-v2 if installed, else TF-IDF), or one of them by name. ``n_neighbors``,
    ``min_cluster_size`` (in examples of the whole run), ``min_samples`` and ``n_components``
    default to values that adapt to the number of examples (:func:`default_parameters`).
    Each distinct text is embedded and reduced once (its examples share its cluster); HDBSCAN
    counts examples. Runs with more than ``sample_size``
    distinct texts are fitted on a seeded sample of them and the rest assigned by nearest
    neighbours. ``save_column`` stores the labels as the run's ``cluster.<field>``
    attribute. ``progress(fraction, message)`` is called as the work goes on.

    >>> import tempfile, pandas as pd
    >>> from analysis import open_store
    >>> s = open_store(tempfile.mkdtemp() + "/c.duckdb", seed_demo=False)
    >>> topics = ["ibuprofen dose for a headache", "git merge conflict in a branch"]
    >>> df = pd.DataFrame({"question": [f"{topics[i % 2]} {i}" for i in range(40)],
    ...                    "correct": [i % 2 == 0 or i % 5 == 0 for i in range(40)]})
    >>> _ = s.ingest_frame(df, name="tiny")
    >>> r = cluster_run(s, "tiny", embedder="tfidf", min_cluster_size=5)
    >>> sorted(r.labels["cluster"].unique()), r.column
    (['0', '1'], 'cluster.input')
    >>> top = r.table.iloc[0]
    >>> top["terms"], float(top["error_rate"]), bool(top["finding"])
    (['branch', 'conflict', 'git', 'merge'], 0.8, True)
    >>> cluster_run(s, "tiny", embedder="tfidf", min_cluster_size=5).from_cache
    True
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    report_progress(progress, 0.0, "Reading the texts")
    prep = _prepare(store, run, field_name=field, embedder=embedder, n_neighbors=n_neighbors,
                    min_cluster_size=min_cluster_size, min_samples=min_samples, sample_size=sample_size,
                    n_components=n_components, seed=seed, fdr=fdr, confidence=confidence, model_dir=model_dir)
    timings["load"] = time.perf_counter() - start
    column = f"cluster.{field}"
    if use_cache:
        t = time.perf_counter()
        cached = read_cache(store, prep.key)
        if cached is not None:
            settings, table, labels = cached
            labels = _attach(labels, prep)
            timings["lookup"] = time.perf_counter() - t
            result = ClusterResult(table, labels, prep.info.run_id, field, column, settings, prep.key, True, timings)
            if save_column:
                _save_column(store, result)
            report_progress(progress, 1.0, "Done (from the cache)")
            return result

    labels, coords, settings, stage = _compute(prep, field, progress)
    timings.update(stage)
    t = time.perf_counter()
    report_progress(progress, 0.92, "Describing the clusters")
    labels_frame = pd.DataFrame({"example_id": prep.frame["example_id"].astype(str).to_numpy(), "cluster": labels,
                                 "x": coords[:, 0], "y": coords[:, 1]})
    labels_frame = _attach(labels_frame, prep)
    table = describe_clusters(labels_frame, settings.pop("_unit_vectors"), column, modes=prep.modes,
                              confidence=prep.params["confidence"], fdr=prep.params["fdr"])
    timings["describe"] = time.perf_counter() - t
    result = ClusterResult(table, labels_frame, prep.info.run_id, field, column, settings, prep.key, False, timings)
    t = time.perf_counter()
    if not store.read_only:
        report_progress(progress, 0.97, "Saving the clusters in the store")
        write_cache(store, prep.key, prep.info.run_id, field, prep.embedder, prep.params, prep.fingerprint, settings,
                     table, labels_frame)
        if save_column:
            _save_column(store, result)
    timings["save"] = time.perf_counter() - t
    report_progress(progress, 1.0, "Done")
    return result


def cached_result(store: Store, run: str, *, field: TextField = "input", embedder: Embedder = "auto",
                  n_neighbors: int | None = None, min_cluster_size: int | None = None, min_samples: int | None = None,
                  n_components: int | None = None, sample_size: int = DEFAULT_SAMPLE_SIZE, seed: int = 0,
                  fdr: float = 0.05, confidence: float = 0.95, save_column: bool = True,
                  model_dir: str | os.PathLike | None = None) -> ClusterResult | None:
    """The cached result for these settings, or None (computes nothing: the page asks this first).

    With ``save_column`` the run's ``cluster.<field>`` column is set to these labels if it holds others.
    """
    prep = _prepare(store, run, field_name=field, embedder=embedder, n_neighbors=n_neighbors,
                    min_cluster_size=min_cluster_size, min_samples=min_samples, sample_size=sample_size,
                    n_components=n_components, seed=seed, fdr=fdr, confidence=confidence, model_dir=model_dir)
    cached = read_cache(store, prep.key)
    if cached is None:
        return None
    settings, table, labels = cached
    result = ClusterResult(table, _attach(labels, prep), prep.info.run_id, field, f"cluster.{field}", settings,
                           prep.key, True, {})
    if save_column:
        _save_column(store, result)
    return result


def _attach(labels: pd.DataFrame, prep: _Prepared) -> pd.DataFrame:
    """Correctness, texts and failure modes beside the labels (in the run's example order)."""
    frame = prep.frame
    extra = pd.DataFrame({"example_id": frame["example_id"].astype(str).to_numpy(),
                          "correct": frame["correct"].astype("boolean").to_numpy(),
                          "scored": ~frame["unscorable"].fillna(False).astype(bool).to_numpy(),
                          "text": prep.texts.to_numpy()})
    if prep.modes.shape[1]:
        # the map colours each failing example by its most common mode (the first flagged, by frequency)
        failing = extra["scored"].to_numpy() & ~extra["correct"].fillna(True).to_numpy(dtype=bool)
        order = prep.modes.sum(axis=0).sort_values(ascending=False, kind="stable").index
        flags = prep.modes[order].to_numpy(dtype=bool)
        primary = np.where(flags.any(axis=1), np.asarray(order, dtype=object)[flags.argmax(axis=1)], "(no mode)")
        extra["failure_mode"] = np.where(failing, primary, "(not failing)")
    merged = extra.merge(labels[["example_id", "cluster", "x", "y"]], on="example_id", how="left", validate="1:1")
    cols = ["example_id", "cluster", "x", "y", "correct", "scored", "text"]
    return merged[cols + (["failure_mode"] if prep.modes.shape[1] else [])]


def _save_column(store: Store, result: ClusterResult) -> None:
    if store.read_only:
        return
    fields = store.fields(result.run_id)
    current = fields[fields["column_name"] == result.column]
    if not current.empty and current["source_name"].iloc[0] == f"clusters:{result.cache_key}":
        return  # the run already holds exactly these labels
    values = pd.DataFrame({"example_id": result.labels["example_id"].astype(str),
                           "value": result.labels["cluster"].astype(str)})
    store.set_example_column(result.run_id, result.column, values, role="cluster", kind="categorical",
                             source_name=f"clusters:{result.cache_key}")


def _distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a matrix in order of first occurrence: (index of each first row, group of every row).

    >>> first, group = _distinct_rows(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], dtype=np.float32))
    >>> first.tolist(), group.tolist()
    ([0, 1], [0, 1, 0])
    """
    _, first, inverse = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[np.ravel(inverse)]


def _each_distinct_its_own(keys: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each distinct key its own cluster, numbered by size (ties by key); positions on a circle."""
    order = pd.Series(keys).value_counts(sort=True)
    ranks = {key: str(i) for i, key in enumerate(sorted(order.index, key=lambda s: (-order[s], s)))}
    angle = np.array([int(ranks[s]) for s in keys], dtype=np.float32) * (2 * math.pi / max(len(ranks), 1))
    return [ranks[s] for s in keys], np.c_[np.cos(angle), np.sin(angle)]


def _compute(prep: _Prepared, field_name: str, progress) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """Labels and map positions of every example, settings and timings.

    Identical texts (or identical vectors from the log) are one point: each distinct point is
    embedded and reduced once, HDBSCAN weighs it by its examples, and they take its cluster. Fitting exact
    duplicates would put zero and rounding-size (1e-7) distances in the neighbour graph, where
    UMAP reads the smallest non-zero distance as the local scale: the result then depended on
    the CPU's floating-point kernels and a group of repeated texts could break apart into noise.
    """
    timings: dict[str, float] = {}
    params = prep.params
    n_total = len(prep.frame)
    idx = np.flatnonzero(prep.nonempty)
    texts = prep.texts.to_numpy()[idx]
    labels = np.full(n_total, EMPTY, dtype=object)
    coords = np.zeros((n_total, 2), dtype=np.float32)
    notes: list[str] = list(prep.notes)
    if (~prep.nonempty).any():
        notes.append(f"{int((~prep.nonempty).sum()):,} examples with an empty text form the group 'empty'.")

    t = time.perf_counter()
    text_codes, distinct = pd.factorize(pd.Series(texts, dtype=object), sort=False)
    if prep.vectors is None and len(distinct) < MIN_DISTINCT:
        # Too few distinct texts to embed: each distinct text is its own cluster.
        report_progress(progress, 0.5, "Grouping identical texts")
        labels[idx], coords[idx] = _each_distinct_its_own(texts)
        unit = np.zeros((n_total, 1), dtype=np.float32)
        notes.append(f"Only {format_count(len(distinct), 'distinct text')}: each distinct text is its own cluster "
                     "(nothing to embed).")
        timings.update(embed=0.0, reduce=0.0, cluster=time.perf_counter() - t)
        settings = _settings(prep, field_name, notes, assigned=0, n_fit=len(distinct), n_distinct=len(distinct),
                             method="identical texts")
        settings["_unit_vectors"] = unit
        return labels, coords, settings, timings

    n = len(idx)
    if prep.vectors is not None:
        first, point_of = _distinct_rows(prep.vectors[idx])
        vectors = prep.vectors[idx][first]
        what = "vectors"
    else:
        report_progress(progress, 0.05, f"Embedding {len(distinct):,} distinct texts ({prep.embedder.name})")
        by_text = embed_texts(np.asarray(distinct, dtype=object), prep.embedder, seed=params["seed"],
                              model_dir=prep.model_dir)
        first, point_of_text = _distinct_rows(by_text)  # distinct texts a model embeds alike are one point
        vectors = by_text[first]
        point_of = point_of_text[text_codes]
        what = "texts"
    n_points = len(first)
    weight = np.bincount(point_of, minlength=n_points)  # examples per distinct point
    if n_points < MIN_DISTINCT:  # a log whose vectors are nearly all the same: each its own cluster
        report_progress(progress, 0.5, "Grouping identical vectors")
        labels[idx], coords[idx] = _each_distinct_its_own(point_of)
        notes.append(f"Only {format_count(n_points, 'distinct vector')}: each is its own cluster.")
        timings.update(embed=time.perf_counter() - t, reduce=0.0, cluster=0.0)
        settings = _settings(prep, field_name, notes, assigned=0, n_fit=n_points, n_distinct=n_points,
                             method="identical vectors")
        settings["_unit_vectors"] = np.zeros((n_total, 1), dtype=np.float32)
        return labels, coords, settings, timings
    if n_points < n:
        notes.append(f"The {n:,} examples hold {n_points:,} distinct {what}: each is embedded and mapped once, "
                     "HDBSCAN counts its examples, and they take its cluster.")
    rng = np.random.default_rng(params["seed"])
    n_fit = min(n_points, params["n_fit"])
    fit = np.sort(rng.choice(n_points, size=n_fit, replace=False)) if n_fit < n_points else np.arange(n_points)
    # Centre on the fitted examples' mean before cosine: static embeddings share a common direction.
    centre = np.average(vectors[fit].astype(np.float64), axis=0, weights=weight[fit])
    unit = _unit(vectors - centre[None, :])
    timings["embed"] = time.perf_counter() - t

    t = time.perf_counter()
    report_progress(progress, 0.3, "Loading UMAP (compiled once per machine)")
    _umap()
    k = min(params["n_neighbors"], n_fit - 1)
    report_progress(progress, 0.35, f"Finding {k} nearest neighbours of {n_fit:,} distinct {what}")
    knn = _exact_knn(unit[fit], k + 1)
    knn = (knn[0][:, : k + 1], knn[1][:, : k + 1])
    components = min(params["n_components"], max(2, n_fit - 2))
    report_progress(progress, 0.45, f"UMAP to {components} dimensions for clustering")
    points = _umap_embed(unit[fit], knn, n_components=components, min_dist=0.0, seed=params["seed"])
    report_progress(progress, 0.65, "UMAP to 2 dimensions for the map")
    xy = _umap_embed(unit[fit], knn, n_components=2, min_dist=0.1, seed=params["seed"])
    timings["reduce"] = time.perf_counter() - t

    t = time.perf_counter()
    report_progress(progress, 0.82, "HDBSCAN")
    copies, ms = weight[fit], params["min_samples"]
    if copies.sum() > MAX_FIT_COPIES:  # bounded work: fewer copies of each point, min_samples scaled alike
        shrink = MAX_FIT_COPIES / copies.sum()
        copies = np.maximum(1, np.round(copies * shrink)).astype(np.int64)
        ms = max(1, round(ms * shrink))
    # min_cluster_size counts examples of the whole run: the fitted copies stand for their share of them
    mcs = max(2, round(params["min_cluster_size"] * copies.sum() / n))
    raw = _weighted_hdbscan(points, copies, min_cluster_size=mcs, min_samples=ms, seed=params["seed"])
    fit_labels = np.asarray(raw, dtype=np.int64)
    point_labels = np.full(n_points, -1, dtype=np.int64)
    point_xy = np.zeros((n_points, 2), dtype=np.float32)
    point_labels[fit] = fit_labels
    point_xy[fit] = xy
    assigned = 0
    if n_fit < n_points:
        rest = np.setdiff1d(np.arange(n_points), fit, assume_unique=True)
        assigned = int(weight[rest].sum())
        report_progress(progress, 0.86, f"Assigning the other {assigned:,} examples to their nearest fitted neighbours")
        point_labels[rest], point_xy[rest] = _assign(unit[fit], unit[rest], fit_labels, xy, weight[fit])
    all_labels = point_labels[point_of]
    # Clusters numbered by size in examples, largest first; noise stays noise.
    found = all_labels[all_labels >= 0]
    if found.size:
        sizes = np.bincount(found)
        ranking = sorted(np.flatnonzero(sizes), key=lambda c: (-sizes[c], c))
        rename = {int(c): str(i) for i, c in enumerate(ranking)}
    else:
        rename = {}
        notes.append("HDBSCAN found no cluster (every example is noise): try a smaller minimum cluster size.")
    names = np.array([NOISE, *(rename.get(c, NOISE) for c in range(int(point_labels.max(initial=-1)) + 1))],
                     dtype=object)
    labels[idx] = names[all_labels + 1]
    all_xy = point_xy[point_of]
    coords[idx] = all_xy
    if (~prep.nonempty).any():  # empty texts sit together, apart from the map
        coords[~prep.nonempty] = [float(all_xy[:, 0].min()) - 1.0, float(all_xy[:, 1].min()) - 1.0]
    timings["cluster"] = time.perf_counter() - t
    full_unit = np.zeros((n_total, unit.shape[1]), dtype=np.float32)
    full_unit[idx] = unit[point_of]
    settings = _settings(prep, field_name, notes, assigned=assigned, n_fit=n_fit, n_distinct=n_points,
                         method="umap+hdbscan", what=what)
    settings.update(fit_min_cluster_size=mcs, min_samples=ms, fit_examples=int(copies.sum()))
    settings["_unit_vectors"] = full_unit
    return labels, coords, settings, timings


def _assign(fit_unit: np.ndarray, rest_unit: np.ndarray, fit_labels: np.ndarray, fit_xy: np.ndarray,
            fit_weight: np.ndarray):
    """Labels and map positions of points outside the sample, from their nearest fitted neighbours.

    Each neighbour votes with its cosine similarity times its number of examples.
    """
    indices, distances = _exact_knn(fit_unit, ASSIGN_NEIGHBOURS, rest_unit)
    weights = np.maximum(1.0 - distances, 1e-6).astype(np.float64) * fit_weight[indices]
    neighbour_labels = fit_labels[indices]
    classes = np.unique(fit_labels)
    votes = np.stack([(weights * (neighbour_labels == c)).sum(axis=1) for c in classes], axis=1)
    labels = classes[np.argmax(votes, axis=1)]  # ties go to the smaller label (noise first): deterministic
    xy = (weights[:, :, None] * fit_xy[indices]).sum(axis=1) / weights.sum(axis=1, keepdims=True)
    return labels, xy.astype(np.float32)


def _settings(prep: _Prepared, field_name: str, notes: list[str], *, assigned: int, n_fit: int, n_distinct: int,
              method: str, what: str = "texts") -> dict:
    p = prep.params
    if assigned:
        notes.append(f"Fitted on a seeded sample of {n_fit:,} of the {n_distinct:,} distinct {what}; the other "
                     f"{assigned:,} examples were assigned to the cluster of their {ASSIGN_NEIGHBOURS} nearest fitted "
                     "neighbours (a vote weighted by cosine similarity and number of examples).")
    return {
        "field": field_name, "embedder": prep.embedder.name, "embedder_version": prep.embedder.version,
        "embedder_description": prep.embedder.description, "method": method,
        "n_neighbors": p["n_neighbors"], "min_cluster_size": p["min_cluster_size"],
        "fit_min_cluster_size": p["fit_min_cluster_size"], "min_samples": p["min_samples"],
        "n_components": p["n_components"], "seed": p["seed"], "sample_size": p["sample_size"],
        "n_distinct": n_distinct, "n_fit": n_fit,
        "assigned": assigned, "n_examples": len(prep.frame), "n_nonempty": int(prep.nonempty.sum()),
        "fdr": p["fdr"], "confidence": p["confidence"], "data_fingerprint": prep.fingerprint,
        "umap": f"cosine, {N_EPOCHS} epochs, min_dist 0 (clustering) and 0.1 (map), spectral init",
        "interval": "Wilson; Clopper-Pearson when n < 30 or fewer than 5 errors or successes",
        "test": "Fisher exact when an expected count < 5, else two-proportion z (pooled), two-sided",
        "multiple_testing": "Benjamini-Hochberg over every group of this clustering",
        "failure_modes": prep.modes_source or "none (the run has no failure-mode labels)",
        "terms": ("class-based TF-IDF (BERTopic's c-TF-IDF) over each group's texts, English stop words removed "
                  "(kept for a group whose texts hold no other word)"),
        "notes": notes,
    }



def cluster_examples(store: Store, result: ClusterResult, cluster: str, *, limit: int | None = 500) -> pd.DataFrame:
    """The examples of one cluster (failures first), as the Slices page lists a slice's examples."""
    return slice_examples(store, result.run_id, {result.column: str(cluster)}, limit=limit)


def purity_and_ari(labels: Sequence, truth: Sequence, *, ignore: Sequence[str] = (NOISE, EMPTY)) -> dict:
    """Agreement of clusters with known classes: purity (over clustered examples) and adjusted Rand index.

    ARI is over every example (noise counts as one more group); ``ari_clustered`` leaves noise out.

    >>> purity_and_ari(["0", "0", "1", "1", "noise"], ["a", "a", "b", "c", "c"])["purity"]
    0.75
    """
    from sklearn.metrics import adjusted_rand_score

    frame = pd.DataFrame({"label": list(labels), "truth": list(truth)})
    clustered = frame[~frame["label"].isin(list(ignore))]
    purity = float(clustered.groupby("label")["truth"].agg(lambda s: s.value_counts().iloc[0]).sum()
                   / max(len(clustered), 1))
    return {"purity": round(purity, 4), "ari": round(float(adjusted_rand_score(frame["truth"], frame["label"])), 4),
            "ari_clustered": round(float(adjusted_rand_score(clustered["truth"], clustered["label"])), 4)
            if len(clustered) else float("nan"),
            "clustered_share": round(len(clustered) / max(len(frame), 1), 4)}


__all__ = ["ClusterResult", "cluster_run", "cached_result", "cluster_examples", "default_parameters",
           "purity_and_ari", "warm_up", "FIELDS"]
