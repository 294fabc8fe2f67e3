"""The ``link`` command(s)."""

from __future__ import annotations

import json

from analysis.objective.link import STRENGTH, link
from analysis.store import Store


def add_link_command(sub, common, add_db) -> None:
    p = sub.add_parser("link", help="link failure modes to the objective components they implicate",
                       description="For every failure mode and objective component: the declared relation, the "
                                   "measured evidence (separation AUC, divergent slices, Goodhart slices with "
                                   "--baseline) and a verdict: implicated, not implicated, insufficient evidence or "
                                   "no signal.")
    p.add_argument("--run", required=True, help="run id or name")
    p.add_argument("--baseline", help="a run before the objective change (paired on example id)")
    p.add_argument("--objective", required=True, metavar="SPEC", help="the objective spec (YAML)")
    p.add_argument("--by", help="comma-separated attributes for the slices (default: metadata, context, clusters)")
    p.add_argument("--lenient", action="store_true",
                   help="carry on when the spec does not fit the run (missing signals say 'no signal')")
    p.add_argument("--min-failures", type=int, default=20, help="least examples in a mode to judge a cell (20)")
    common(p, add_db)


def run_link_command(store: Store, args) -> int:

    by = [v for v in args.by.split(",") if v.strip()] if args.by else None
    result = link(store, args.run, args.objective, baseline=args.baseline, by=by, strict=not args.lenient,
                  min_support=args.min_support, min_failures=args.min_failures, fdr=args.fdr, bins=args.bins)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return 0
    run_name = store.run(result.run_id).name
    head = f"Objective {result.objective.name!r} on run {run_name}"
    if result.baseline_id:
        head += f" (baseline {store.run(result.baseline_id).name})"
    print(head)
    for problem in result.problems:
        print(f"  spec problem: {problem}")
    for note in result.notes:
        print(f"  note: {note}")
    print("\nFailure modes")
    for row in result.counts.itertuples():
        conc = result.concentration[row.mode].findings()
        where = ", ".join(conc[~conc["redundant"]]["description"].head(3)) if not conc.empty else "-"
        print(f"  {row.mode:<24} {row.n:>7,} ({row.rate:6.1%})  concentrates in: {where}")
    marks = {"implicated": "IMPLICATED", "not implicated": "not", "insufficient evidence": "?", "no signal": "-"}
    comps = [c.id for c in result.objective.components]
    width = max([len(c) for c in comps] + [10])
    print("\nMatrix (IMPLICATED, not, ? insufficient evidence, - no signal)")
    print(" " * 26 + " ".join(f"{c[:width]:<{width}}" for c in comps))
    table = result.matrix()
    for mode_id, row in table.iterrows():
        print(f"  {mode_id:<24}" + " ".join(f"{marks[v]:<{width}}" for v in row))
    print("\nCells")
    for row in result.cells.sort_values("verdict", key=lambda s: s.map(STRENGTH), kind="stable").itertuples():
        if row.verdict == "no signal" and row.relation == "none":
            continue
        print(f"  [{row.verdict}] {row.mode} x {row.component} (declared: {row.relation}): {row.sentence}")
    return 0
