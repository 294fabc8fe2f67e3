"""``python -m analysis``: the engine, headless (for CI pipelines and terminals).

Exit status: 0 on success, 2 on an error (with a message that says what to do);
commands that gate a release use 1 for "the gate failed".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from analysis import open_store
from analysis._version import __version__
from analysis.cli.progress_line import ProgressLine
from analysis.errors import FaultlineError

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_ERROR = 2


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="the store (a DuckDB file); default $FAULTLINE_DB or data/faultline.duckdb")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis",
                                     description="Faultline: stratified error analysis of model evaluations.")
    parser.add_argument("--version", action="version", version=f"Faultline {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("ingest", help="load evaluation logs into the store",
                       description="Load evaluation logs (files or HELM folders) into the store, all or nothing. "
                                   "The format is detected from the content. A file already loaded is reported "
                                   "and not loaded twice.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="log files or HELM run folders")
    _add_db(p)
    p.add_argument("--name", help="run name (default: from the log)")
    p.add_argument("--model", help="model name (default: from the log)")
    p.add_argument("--mapping", metavar="FILE", help="YAML or JSON file naming the column of each role")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = sub.add_parser("runs", help="list the runs in the store", description="List the runs in the store.")
    _add_db(p)
    p.add_argument("--json", action="store_true",
                   help="print a JSON list of objects (run_id, name, model, format, rows, sha256, ...)")

    p = sub.add_parser("demo", help="build the demo runs into a store",
                       description="Build the bundled demo (two seeded runs of 20,000 prompts) into a store.")
    _add_db(p)
    p.add_argument("--n-prompts", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=7)

    from analysis.cli import analysis as cli_analysis

    cli_analysis.add_commands(sub, _add_db)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS.get(args.command, _dispatch_analysis)(args)
    except FaultlineError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted: nothing was changed by the unfinished command", file=sys.stderr)
        return 130


def _dispatch_analysis(args) -> int:
    from analysis.cli import analysis as cli_analysis

    return cli_analysis.run(args)


def _cmd_ingest(args) -> int:
    progress = ProgressLine()
    with open_store(args.db, seed_demo=False if args.db else None) as store:
        report = store.ingest(args.paths, name=args.name, model=args.model, mapping=args.mapping, progress=progress)
        if args.json:
            print(json.dumps({"added": [_run_json(r) for r in report.added],
                              "already_loaded": [_run_json(r) for r in report.already_loaded]}, indent=2))
        else:
            print(report.summary())
    return EXIT_OK


def _run_json(run) -> dict:
    return {"run_id": run.run_id, "name": run.name, "model": run.model, "format": run.source_format,
            "rows": run.row_count, "sha256": [f["sha256"] for f in run.files],
            "files": [f["file_name"] for f in run.files]}


def _cmd_runs(args) -> int:
    with open_store(args.db, seed_demo=False if args.db else None) as store:
        runs = store.headline()
        listing = store.runs().set_index("run_id")
        if args.json:
            out = []
            for row in runs.itertuples():
                extra = listing.loc[row.run_id]
                out.append({"run_id": row.run_id, "name": row.name, "model": row.model, "format": row.format,
                            "rows": int(row.rows), "scored": int(row.scored), "correct": int(row.correct),
                            "accuracy": None if row.accuracy != row.accuracy else round(float(row.accuracy), 6),
                            "ci_low": None if row.ci_low != row.ci_low else round(float(row.ci_low), 6),
                            "ci_high": None if row.ci_high != row.ci_high else round(float(row.ci_high), 6),
                            "sha256": list(extra["sha256"]), "files": list(extra["files"]),
                            "ingested_at": row.ingested_at.isoformat(), "notes": extra["notes"]})
            print(json.dumps(out, indent=2))
            return EXIT_OK
        if runs.empty:
            print(f"No runs in {store.path}. Load one with: python -m analysis ingest PATH")
            return EXIT_OK
        print(f"{'run_id':<12} {'rows':>8} {'accuracy (95% CI)':<24} {'format':<13} name")
        for row in runs.itertuples():
            acc = ("n/a" if row.scored == 0 else
                   f"{row.accuracy:.1%} ({row.ci_low:.1%}-{row.ci_high:.1%})")
            print(f"{row.run_id:<12} {row.rows:>8,} {acc:<24} {row.format:<13} {row.name}")
    return EXIT_OK


def _cmd_demo(args) -> int:
    from analysis.demo.seed import demo_truth_path, ensure_demo

    with open_store(args.db, seed_demo=False) as store:
        built = ensure_demo(store, progress=ProgressLine(), n_prompts=args.n_prompts, seed=args.seed)
        print(("Built the demo runs into " if built else "The store already has runs or was seeded: ")
              + f"{store.path} (truth: {demo_truth_path(store)})")
    return EXIT_OK


_COMMANDS = {"ingest": _cmd_ingest, "runs": _cmd_runs, "demo": _cmd_demo}
