"""Failure clusters: text embedders, the UMAP + HDBSCAN pipeline, cluster descriptions and their cache."""
