"""The ``annotations`` command(s)."""

from __future__ import annotations

import json

from analysis.errors import FaultlineError
from analysis.objective.annotations import MSG_BAD_SLICE, add_annotation, annotations, export_annotations
from analysis.objective.spec import Objective, load_objective
from analysis.store import Store


def add_annotation_commands(sub, add_db) -> None:
    p = sub.add_parser("annotations", help="list or export researchers' annotations",
                       description="List the annotations of a run (or of every run), or export them to CSV, JSON "
                                   "or JSONL with --export. Retracted annotations are listed and exported too.")
    p.add_argument("--run", help="run id or name (default: every run)")
    p.add_argument("--export", metavar="FILE", help="write them to FILE (.csv, .json or .jsonl)")
    p.add_argument("--json", action="store_true", help="print JSON")
    add_db(p)
    p = sub.add_parser("annotate", help="label an example or a slice with a failure mode and/or a note",
                       description="Append an annotation (nothing is ever overwritten). It counts as a label in "
                                   "every analysis.")
    p.add_argument("--run", required=True)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--example", help="example id")
    target.add_argument("--slice", help='slice as JSON, e.g. \'{"language": "sw"}\'')
    p.add_argument("--mode", help="failure mode id or name")
    p.add_argument("--note", default="", help="free text")
    p.add_argument("--author", required=True, help="who writes it")
    p.add_argument("--objective", metavar="SPEC", help="objective spec whose modes the mode must be one of")
    add_db(p)


def run_annotation_command(store: Store, args) -> int:
    if args.command == "annotate":
        objective = load_objective(args.objective) if args.objective else Objective.default()
        known = [m.id for m in objective.modes]
        mode = objective.find_mode(args.mode) or args.mode if args.mode is not None else None
        slice_ = None
        if args.slice:
            try:
                slice_ = json.loads(args.slice)
            except json.JSONDecodeError as err:
                raise FaultlineError(MSG_BAD_SLICE.format(value=args.slice)) from err
        made = add_annotation(store, args.run, author=args.author, mode=mode, note=args.note,
                              example_id=args.example, slice=slice_, known_modes=known)
        print(f"Annotation {made.annotation_id} added to run {store.run(made.run_id).name} by {made.author}")
        return 0
    if args.export:
        n = export_annotations(store, args.export, args.run)
        print(f"Exported {n:,} annotations to {args.export}")
        return 0
    frame = annotations(store, args.run)
    if args.json:
        records = frame.assign(created_at=[t.isoformat() for t in frame["created_at"]]).to_dict("records")
        print(json.dumps(records, indent=2, ensure_ascii=False, default=str))
        return 0
    if frame.empty:
        print("No annotations yet")
        return 0
    for row in frame.itertuples():
        target = f"example {row.example_id}" if row.example_id is not None else f"slice {row.slice}"
        flag = " (retracted)" if row.retracted else (f" (retracts {row.retracts})" if row.retracts else "")
        print(f"{row.created_at:%Y-%m-%d %H:%M} {row.author}: {row.run_name} {target} "
              f"{row.mode or ''} {row.note or ''}{flag}".rstrip())
    return 0
