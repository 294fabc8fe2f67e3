"""Failure clusters: text embedders, the UMAP + HDBSCAN pipeline, cluster descriptions and their cache.

:mod:`~analysis.clusters.pipeline` imports :mod:`~analysis.clusters.describe` and
:mod:`~analysis.clusters.cache`, which import neither it nor each other (an import-linter contract).
"""
