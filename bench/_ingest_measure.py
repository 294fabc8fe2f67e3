"""What the ingest benchmarks share: one load measured in a fresh process (its time and peak memory),
and the median of interleaved repeats.

Each measurement runs in its own subprocess, so its peak memory (``ru_maxrss``, which sees DuckDB's
allocations too) is that process's own. Imports happen before the clock starts on both sides: an app or
a CLI session has them loaded once, and the comparison is about loading a log, not about starting Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The child process: ``floor-parquet`` / ``floor-jsonl`` (DuckDB's own reader into a table) or
#: ``faultline`` (Store.ingest); prints seconds, rows and peak MB as JSON.
CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
kind, path, db = sys.argv[2], sys.argv[3], sys.argv[4]
import duckdb
if kind == "faultline":
    from analysis import open_store
start = time.perf_counter()
if kind.startswith("floor-"):
    reader = ("read_parquet(?)" if kind == "floor-parquet"
              else "read_json(?, format='newline_delimited', maximum_object_size=67108864)")
    con = duckdb.connect(db)
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}", [path])
    rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    con.close()
else:
    store = open_store(db, seed_demo=False)
    report = store.ingest(path)
    rows = sum(r.row_count for r in report.added)
    store.close()
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "rows": rows,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(kind: str, path: Path, folder: Path) -> dict:
    """One load in a fresh process: ``{"seconds", "rows", "peak_mb"}``."""
    db = folder / f"{kind}-{time.monotonic_ns()}.duckdb"
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), kind, str(path), str(db)],
                         capture_output=True, text=True, check=True)
    db.unlink(missing_ok=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def medians(subjects: dict[str, Callable[[], dict]], repeat: int) -> dict[str, dict]:
    """Each subject measured ``repeat`` times, interleaved (so drift hits all alike); the median run of each."""
    results: dict[str, list[dict]] = {who: [] for who in subjects}
    for _ in range(repeat):
        for who, run in subjects.items():
            results[who].append(run())
    return {who: sorted(r, key=lambda x: x["seconds"])[len(r) // 2] for who, r in results.items()}
