"""The ``clusters`` command(s)."""

from __future__ import annotations

import json
import math
import sys

from analysis.cli.progress_line import ProgressLine
from analysis.clusters.embedders import EMBEDDERS
from analysis.clusters.pipeline import DEFAULT_SAMPLE_SIZE, FIELDS, cluster_run
from analysis.store import Store


def add_clusters_command(sub, add_db) -> None:
    p = sub.add_parser("clusters", help="cluster the texts of a run and test each cluster like a slice",
                       description="Embed a text field of every example (the log's vectors, the bundled model2vec "
                                   "model, or TF-IDF), reduce with UMAP, cluster with HDBSCAN, and describe each "
                                   "cluster: size, error rate with interval, q-value against the rest of the run, "
                                   "top terms, representative and typical failing examples. Results are cached in "
                                   "the store, and the labels become the attribute cluster.<field>.")
    p.add_argument("--run", required=True, help="run id or name")
    p.add_argument("--field", default="input", choices=FIELDS, help="text to cluster (input)")
    p.add_argument("--embedder", default="auto", choices=EMBEDDERS, help="embedding source (auto)")
    p.add_argument("--min-cluster-size", type=int, help="smallest cluster, in examples (default: 2%% of the run)")
    p.add_argument("--n-neighbors", type=int, help="UMAP neighbours (default: adapts to the run's size)")
    p.add_argument("--min-samples", type=int, help="HDBSCAN min_samples (default: adapts)")
    p.add_argument("--sample-size", type=int, default=DEFAULT_SAMPLE_SIZE,
                   help=f"fit on at most this many examples, assign the rest ({DEFAULT_SAMPLE_SIZE:,})")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fdr", type=float, default=0.05, help="false discovery rate for Benjamini-Hochberg (0.05)")
    p.add_argument("--no-cache", action="store_true", help="recompute even when the store has this clustering")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_db(p)


def run_clusters_command(store: Store, args) -> int:

    result = cluster_run(store, args.run, field=args.field, embedder=args.embedder,
                         min_cluster_size=args.min_cluster_size, n_neighbors=args.n_neighbors,
                         min_samples=args.min_samples, sample_size=args.sample_size, seed=args.seed, fdr=args.fdr,
                         use_cache=not args.no_cache, progress=None if args.json else ProgressLine())
    if args.json:
        print(json.dumps({"run_id": result.run_id, "field": result.field, "column": result.column,
                          "from_cache": result.from_cache, "settings": result.settings,
                          "timings": {k: round(v, 3) for k, v in result.timings.items()},
                          "clusters": result.to_records()}, indent=2, default=str))
        return 0
    s = result.settings
    print(f"Clusters of the {result.field} texts of {store.run(result.run_id).name} ({result.run_id}): "
          f"{result.n_clusters} clusters of {s['n_examples']:,} examples, embedder {s['embedder']}"
          + (" (from the cache)" if result.from_cache else ""))
    for note in s.get("notes", []):
        print(f"  {note}")
    print(f"Labels stored as the attribute {result.column} (use it with slices, heatmaps and discover).")
    print(f"{'cluster':<8} {'size':>6} {'error rate (95% CI)':<24} {'q':>9}  terms")
    for row in result.table.itertuples():
        q = "" if math.isnan(row.q_value) else f"{row.q_value:.2g}"
        rate = "n/a" if math.isnan(row.error_rate) else (
            f"{row.error_rate:6.1%} ({row.ci_low:.1%}-{row.ci_high:.1%})")
        flag = " *" if row.finding else ""
        print(f"{row.cluster:<8} {row.size:>6,} {rate:<24} {q:>9}{flag:2} {', '.join(row.terms[:6])}")
    sys.stdout.flush()
    return 0
