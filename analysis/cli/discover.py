"""The ``discover`` command(s)."""

from __future__ import annotations

import json
import math

from analysis.slicing.discovery import discover
from analysis.store import Store


def add_discover_command(sub, common, add_db) -> None:
    p = sub.add_parser("discover", help="find problematic slices automatically (SliceLine)",
                       description="SliceLine search for the slices with the highest error, each reported with its "
                                   "interval and q-value. --holdout discovers on one half and tests on the other.")
    p.add_argument("--run", required=True)
    p.add_argument("--by", help="comma-separated attributes (default: the run's default attributes)")
    p.add_argument("--alpha", type=float, default=0.99, help="SliceLine weight of error against size (0.99)")
    p.add_argument("--k", type=int, default=10, help="slices to return (10)")
    p.add_argument("--max-l", type=int, default=3, help="most predicates per slice (3)")
    p.add_argument("--min-sup", type=float, default=0.01, help="least examples per slice: a count, or a fraction < 1")
    p.add_argument("--holdout", action="store_true", help="discover on half the examples, test on the other half")
    p.add_argument("--seed", type=int, default=0)
    common(p, add_db)
    p.set_defaults(min_support=None)


def run_discover_command(store: Store, args) -> int:

    min_sup = args.min_sup if args.min_sup < 1 else int(args.min_sup)
    by = [v for v in args.by.split(",") if v.strip()] if args.by else None
    result = discover(store, args.run, by, error_weight=args.alpha, k=args.k, max_order=args.max_l, min_support=min_sup,
                      holdout=args.holdout, seed=args.seed, fdr=args.fdr, bins=args.bins)
    if args.json:
        print(json.dumps({"run_id": result.run_id, "settings": result.settings, "slices": result.to_records()},
                         indent=2, default=str))
        return 0
    print(f"SliceLine on {store.run(result.run_id).name}: {len(result.table)} slices "
          f"(statistics on {result.settings['statistics_on']})")
    for row in result.table.itertuples():
        q = "" if math.isnan(row.q_value) else f"q={row.q_value:.2g}"
        print(f"[group {row.group}] {row.description}: n={row.n:,}, error {row.error_rate:.1%} "
              f"({row.ci_low:.1%}-{row.ci_high:.1%}), {q}, score {row.sliceline_score:.3g}"
              + ("" if row.confirmed else "  (not confirmed)"))
    return 0
