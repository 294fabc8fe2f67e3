"""The ``report`` command(s)."""

from __future__ import annotations

import sys

from analysis.errors import FaultlineError
from analysis.report import SECTIONS, ReportSpec, generate_report, report_history, report_spec
from analysis.store import Store


def add_report_commands(sub, add_db) -> None:
    p = sub.add_parser("report", help="write the audit report (PDF and/or HTML)",
                       description="Write the audit report of a run (and its comparison with a baseline) as a PDF "
                                   "and/or a self-contained HTML file, and record it in the store's report history. "
                                   "Exits non-zero with a clear message if it cannot produce a complete report.")
    add_db(p)
    p.add_argument("--run", required=True, help="the run analysed (id or name)")
    p.add_argument("--baseline", help="a baseline run for the comparison and the gate")
    p.add_argument("--objective", help="objective spec (YAML) for the failure modes section")
    p.add_argument("--out", help="PDF to write")
    p.add_argument("--html", help="HTML to write (the same report, self-contained)")
    p.add_argument("--analyst", default="", help="name of the analyst (cover and sign-off)")
    p.add_argument("--reviewer", default="", help="name of the reviewer (cover and sign-off)")
    p.add_argument("--title", default="Faultline audit report")
    p.add_argument("--by", help="comma-separated attributes (default: the run's default attributes)")
    p.add_argument("--sections", help=f"comma-separated sections (default: all of {', '.join(SECTIONS)})")
    p.add_argument("--min-support", type=int, default=30)
    p.add_argument("--fdr", type=float, default=0.05)
    p.add_argument("--max-drop", type=float, default=0.02, help="the gate's largest allowed accuracy drop")
    p.add_argument("--from-report", metavar="REPORT_ID", help="regenerate from the spec of an earlier report")

    p = sub.add_parser("reports", help="list the report history", description="List the reports generated from "
                                                                                 "this store, newest first.")
    add_db(p)
    p.add_argument("--json", action="store_true")


def run_report_command(store: Store, args) -> int:

    if args.command == "reports":
        history = report_history(store)
        if args.json:
            print(history.to_json(orient="records", date_format="iso", indent=2))
        elif history.empty:
            print("No reports yet: python -m analysis report --run RUN --out report.pdf")
        else:
            for row in history.itertuples():
                print(f"{row.report_id}  {row.created_at:%Y-%m-%d %H:%M}  runs {row.run_ids}  {row.pages or '-'} pages  "
                      f"content {row.content_hash[:12]}  {row.pdf_path or row.html_path}")
        return 0
    if not args.out and not args.html:
        raise FaultlineError("Give --out report.pdf, --html report.html, or both")
    if args.from_report:
        spec = report_spec(store, args.from_report)
    else:
        spec = ReportSpec(run=args.run, baseline=args.baseline, objective=args.objective, analyst=args.analyst,
                          reviewer=args.reviewer, title=args.title, min_support=args.min_support, fdr=args.fdr,
                          attributes=[v for v in args.by.split(",") if v.strip()] if args.by else None,
                          gate={"max_drop": args.max_drop, "alpha": args.fdr},
                          sections=[v.strip() for v in args.sections.split(",")] if args.sections else list(SECTIONS))

    def progress(fraction: float, message: str) -> None:
        sys.stderr.write(f"[{fraction * 100:5.1f}%] {message}\n")
        sys.stderr.flush()

    record = generate_report(store, spec, pdf=args.out, html_out=args.html, progress=progress)
    print(f"Report {record.report_id}: {record.pages or 'no'} PDF pages in {record.seconds:.1f} s; content hash "
          f"{record.content_hash}")
    for path, digest in ((record.pdf_path, record.pdf_sha256), (record.html_path, record.html_sha256)):
        if path:
            print(f"  {path} (sha256 {digest})")
    return 0
