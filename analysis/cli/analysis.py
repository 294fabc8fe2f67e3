"""Analysis commands of the CLI: slices, discover, compare, gate, clusters, link, annotations, report."""

from __future__ import annotations

import argparse
import json
import math
import sys

from analysis import open_store

EXIT_OK, EXIT_GATE_FAILED = 0, 1


def _common(p: argparse.ArgumentParser, add_db) -> None:
    add_db(p)
    p.add_argument("--min-support", type=int, default=30, help="slices smaller than this are reported, not tested")
    p.add_argument("--fdr", type=float, default=0.05, help="false discovery rate for Benjamini-Hochberg (0.05)")
    p.add_argument("--bins", type=int, default=5, help="quantile bins for numeric attributes (5)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _by(value: str | None) -> list[str] | None:
    return [v for v in value.split(",") if v.strip()] if value else None


def add_commands(sub, add_db) -> None:
    p = sub.add_parser("slices", help="error rate per slice with intervals and q-values",
                       description="Every slice of a run over the given attributes (alone and in conjunctions), "
                                   "with Wilson/Clopper-Pearson intervals, a test against the rest of the run and "
                                   "Benjamini-Hochberg q-values, sorted by evidence.")
    p.add_argument("--run", required=True, help="run id or name")
    p.add_argument("--by", help="comma-separated attributes (default: every metadata field of modest cardinality "
                                "and the derived context)")
    p.add_argument("--order", type=int, default=2, choices=(1, 2, 3), help="largest conjunction (2)")
    p.add_argument("--top", type=int, default=30, help="rows to print without --json (30)")
    p.add_argument("--extras", action="store_true", help="add per-slice extras (ECE, percentiles, rater agreement, "
                                                         "bootstrap intervals of mean scores) for single attributes")
    _common(p, add_db)

    p = sub.add_parser("compare", help="paired per-slice comparison of two runs",
                       description="Compare a candidate run with a baseline on the examples they share: McNemar "
                                   "exact test per slice, BH across slices, verdict regressed/improved/unchanged.")
    p.add_argument("--baseline", required=True)
    p.add_argument("--candidate", required=True)
    p.add_argument("--by", help="comma-separated attributes of the baseline (default: its metadata)")
    p.add_argument("--order", type=int, default=1, choices=(1, 2, 3))
    _common(p, add_db)

    p = sub.add_parser("gate", help="fail (exit 1) when a slice regresses beyond the allowed drop",
                       description="A regression gate for CI pipelines: exit 1 when any slice's accuracy drops "
                                   "by more than --max-drop with a BH q-value below --alpha, 0 otherwise.")
    p.add_argument("--baseline", required=True)
    p.add_argument("--candidate", required=True)
    p.add_argument("--by", help="comma-separated attributes of the baseline (default: its metadata)")
    p.add_argument("--order", type=int, default=1, choices=(1, 2, 3))
    p.add_argument("--max-drop", type=float, default=0.02, help="largest allowed accuracy drop, e.g. 0.02 = 2 points")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level after BH adjustment (0.05)")
    _common(p, add_db)

    from analysis.cli.annotations import add_annotation_commands
    from analysis.cli.clusters import add_clusters_command
    from analysis.cli.discover import add_discover_command
    from analysis.cli.link import add_link_command
    from analysis.cli.report import add_report_commands

    add_discover_command(sub, _common, add_db)
    add_clusters_command(sub, add_db)
    add_link_command(sub, _common, add_db)
    add_annotation_commands(sub, add_db)
    add_report_commands(sub, add_db)


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run(args) -> int:
    with open_store(args.db, seed_demo=False if args.db else None) as store:
        if args.command == "slices":
            return _slices(store, args)
        if args.command in ("compare", "gate"):
            return _compare(store, args)
        if args.command == "discover":
            from analysis.cli.discover import run_discover_command

            return run_discover_command(store, args)
        if args.command == "clusters":
            from analysis.cli.clusters import run_clusters_command

            return run_clusters_command(store, args)
        if args.command == "link":
            from analysis.cli.link import run_link_command

            return run_link_command(store, args)
        if args.command in ("annotations", "annotate"):
            from analysis.cli.annotations import run_annotation_command

            return run_annotation_command(store, args)
        if args.command in ("report", "reports"):
            from analysis.cli.report import run_report_command

            return run_report_command(store, args)
    raise SystemExit(f"unknown command {args.command}")


def _slices(store, args) -> int:
    from analysis.slicing.table import slice_table

    result = slice_table(store, args.run, _by(args.by), max_order=args.order, min_support=args.min_support,
                         fdr=args.fdr, bins=args.bins)
    extras = None
    if getattr(args, "extras", False):
        from analysis.slicing.extras import slice_extras

        extras = slice_extras(store, result.run_id, _by(args.by), bins=args.bins)
    if args.json:
        out = {"run_id": result.run_id, "settings": result.settings, "n": result.total_n,
               "errors": result.total_errors, "unscorable": result.unscorable, "slices": result.to_records()}
        if extras is not None:
            out["extras"] = [{k: _clean(v.item() if hasattr(v, "item") else v) for k, v in row.items()}
                             for row in extras.to_dict("records")]
        print(json.dumps(out, indent=2, default=str))
        return EXIT_OK
    print(f"Run {store.run(result.run_id).name} ({result.run_id}): {result.total_n:,} scored examples, "
          f"error rate {result.overall_error_rate:.1%}; {len(result.table):,} slices, "
          f"{int(result.table['finding'].sum()):,} worse than the rest at FDR {args.fdr}")
    print(f"{'slice':<58} {'n':>7} {'error rate (95% CI)':<24} {'q':>9}")
    for row in result.table.head(args.top).itertuples():
        flag = " (too small)" if row.too_small else (" *" if row.finding else "")
        q = "" if math.isnan(row.q_value) else f"{row.q_value:.2g}"
        print(f"{row.description[:58]:<58} {row.n:>7,} {row.error_rate:6.1%} ({row.ci_low:.1%}-{row.ci_high:.1%})"
              f"{'':<2} {q:>9}{flag}")
    if extras is not None and not extras.empty:
        print()
        print(extras.to_string(index=False, max_colwidth=40))
    return EXIT_OK


def _compare(store, args) -> int:
    from analysis.slicing.compare import compare_runs, gate

    comparison = compare_runs(store, args.baseline, args.candidate, _by(args.by), max_order=args.order,
                              min_support=args.min_support, fdr=args.fdr, bins=args.bins)
    if args.command == "gate":
        result = gate(comparison, max_drop=args.max_drop, alpha=args.alpha)
        if args.json:
            print(json.dumps({"passed": result.passed, "max_drop": result.max_drop, "alpha": result.alpha,
                              "matched": comparison.matched, "only_baseline": comparison.only_baseline,
                              "only_candidate": comparison.only_candidate,
                              "breaking": [r for r in comparison.to_records()
                                           if any(r["predicate"] == [{"attribute": k, "value": v} for k, v in p.items()]
                                                  for p in result.breaking["predicate"])]}, indent=2, default=str))
        else:
            print(result.summary())
        return EXIT_OK if result.passed else EXIT_GATE_FAILED
    if args.json:
        print(json.dumps({"baseline": comparison.baseline, "candidate": comparison.candidate,
                          "matched": comparison.matched, "only_baseline": comparison.only_baseline,
                          "only_candidate": comparison.only_candidate, "settings": comparison.settings,
                          "slices": comparison.to_records()}, indent=2, default=str))
        return EXIT_OK
    print(f"{comparison.matched:,} matched examples; {comparison.only_baseline:,} only in the baseline, "
          f"{comparison.only_candidate:,} only in the candidate")
    print(f"{'slice':<50} {'n':>7} {'base err':>9} {'cand err':>9} {'change (95% CI)':<24} {'q':>9}  verdict")
    for row in comparison.table.itertuples():
        q = "" if math.isnan(row.q_value) else f"{row.q_value:.2g}"
        print(f"{row.description[:50]:<50} {row.n:>7,} {row.base_error_rate:9.1%} {row.cand_error_rate:9.1%} "
              f"{row.difference:+6.1%} ({row.ci_low:+.1%}, {row.ci_high:+.1%}) {q:>9}  {row.verdict}")
    sys.stdout.flush()
    return EXIT_OK
