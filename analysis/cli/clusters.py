"""``clusters``: cluster the texts of a run and test each cluster like a slice."""

from __future__ import annotations

import math

import click

from analysis.cli import EXIT_OK
from analysis.cli.common import db_option, echo_json, fdr_option, json_option, open_cli_store
from analysis.cli.progress_bar import ProgressBar
from analysis.clusters.embedders import EMBEDDERS
from analysis.clusters.pipeline import DEFAULT_SAMPLE_SIZE, FIELDS, cluster_run
from analysis.formatting import format_q


@click.command()
@click.option("--run", required=True, help="run id or name")
@click.option("--field", type=click.Choice(FIELDS), default="input", show_default=True, help="text to cluster")
@click.option("--embedder", type=click.Choice(EMBEDDERS), default="auto", show_default=True,
              help="embedding source")
@click.option("--min-cluster-size", type=int, help="smallest cluster, in examples (default: 2% of the run)")
@click.option("--n-neighbors", type=int, help="UMAP neighbours (default: adapts to the run's size)")
@click.option("--min-samples", type=int, help="HDBSCAN min_samples (default: adapts)")
@click.option("--sample-size", type=int, default=DEFAULT_SAMPLE_SIZE, show_default=True,
              help="fit on at most this many examples, assign the rest")
@click.option("--seed", type=int, default=0, show_default=True, help="random seed of UMAP and the sample")
@fdr_option
@click.option("--no-cache", is_flag=True, help="recompute even when the store has this clustering")
@json_option()
@db_option
def clusters(run: str, field: str, embedder: str, min_cluster_size: int | None, n_neighbors: int | None,
             min_samples: int | None, sample_size: int, seed: int, fdr: float, no_cache: bool, as_json: bool,
             db: str | None) -> int:
    """Embed a text field of every example, reduce with UMAP, cluster with HDBSCAN, describe each cluster.

    Embeddings: the log's vectors, the bundled model2vec model, or TF-IDF. Each cluster gets its
    size, error rate with interval, q-value against the rest of the run, top terms, representative
    and typical failing examples. Results are cached in the store, and the labels become the
    attribute cluster.<field>.
    """
    with open_cli_store(db) as store:
        with ProgressBar() as progress:
            result = cluster_run(store, run, field=field, embedder=embedder, min_cluster_size=min_cluster_size,
                                 n_neighbors=n_neighbors, min_samples=min_samples, sample_size=sample_size, seed=seed,
                                 fdr=fdr, use_cache=not no_cache, progress=progress)
        if as_json:
            echo_json({"run_id": result.run_id, "field": result.field, "column": result.column,
                       "from_cache": result.from_cache, "settings": result.settings,
                       "timings": {k: round(v, 3) for k, v in result.timings.items()},
                       "clusters": result.to_records()})
            return EXIT_OK
        s = result.settings
        click.echo(f"Clusters of the {result.field} texts of {store.run(result.run_id).name} ({result.run_id}): "
                   f"{result.n_clusters} clusters of {s['n_examples']:,} examples, embedder {s['embedder']}"
                   + (" (from the cache)" if result.from_cache else ""))
        for note in s.get("notes", []):
            click.echo(f"  {note}")
        click.echo(f"Labels stored as the attribute {result.column} (use it with slices, heatmaps and discover).")
        click.echo(f"{'cluster':<8} {'size':>6} {'error rate (95% CI)':<24} {'q':>9}  terms")
        for row in result.table.itertuples():
            q = "" if math.isnan(row.q_value) else format_q(row.q_value)
            rate = "n/a" if math.isnan(row.error_rate) else (
                f"{row.error_rate:6.1%} ({row.ci_low:.1%}-{row.ci_high:.1%})")
            flag = " *" if row.finding else ""
            click.echo(f"{row.cluster:<8} {row.size:>6,} {rate:<24} {q:>9}{flag:2} {', '.join(row.terms[:6])}")
    return EXIT_OK
