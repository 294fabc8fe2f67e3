"""Report speed: the demo report with every section, time and peak memory (target: under 20 s).

Run: .venv/bin/python bench/bench_report.py

Builds the demo store (two runs of 20,000 prompts) in a temporary folder, then generates the
report of `after-objective-change` against `baseline` (PDF + HTML) in a fresh process, and
prints the time per stage, the total, the page count, and the peak memory of the Python
process and of its children (chromium). The floor printed beside it is the time of one
PDF print of the same HTML, measured in the same run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from analysis import open_store
from analysis.report import ReportSpec, generate_report, render_pdf
folder = Path(sys.argv[2])
store = open_store(folder / "demo.duckdb", seed_demo=False)
stages, last = [], [time.perf_counter()]
def progress(fraction, message):
    now = time.perf_counter(); stages.append((message, now - last[0])); last[0] = now
start = time.perf_counter()
record = generate_report(store, ReportSpec(run="after-objective-change", baseline="baseline", analyst="bench"),
                         pdf=folder / "report.pdf", html_out=folder / "report.html", progress=progress)
total = time.perf_counter() - start
t = time.perf_counter()
render_pdf((folder / "report.html").read_text(), folder / "floor.pdf", report_id=record.report_id)
floor = time.perf_counter() - t
print(json.dumps({"total": total, "pages": record.pages, "stages": stages, "floor": floor,
                  "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "analysis", "demo", "--db", str(Path(tmp) / "demo.duckdb")],
                       cwd=ROOT, check=True, capture_output=True)
        out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), tmp], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    print("stage (time until the next stage began)")
    for message, seconds in result["stages"]:
        print(f"  {seconds:6.2f} s  before: {message}")
    print(f"total {result['total']:.1f} s for {result['pages']} pages; target under 20 s: "
          f"{'meets' if result['total'] < 20 else 'MISSES'}")
    print(f"floor: one chromium print of the same HTML {result['floor']:.1f} s "
          f"(ratio {result['total'] / result['floor']:.1f}x: two prints, the analysis and the charts)")
    print(f"peak memory of the Python process: {result['self_mb']:.0f} MB (chromium's own processes are not counted; "
          f"largest reaped child process: {result['children_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
