"""Engine time of the multiple-choice detector's two statements at scale: the share test (is the run multiple
choice? every scored answer and reference read against the options its input lists) and the detector's count of
wrong answers that name no option; best of ``--repeat`` runs, wall and CPU seconds, with the load average.

Usage::

    python bench/bench_multiple_choice.py --db STORE [--run NAME] [--repeat 3]

Any store works (e.g. a copy of a demo store at 1M examples: ``python -m analysis demo --db big.duckdb
--n-prompts 1000000``); the statements only read. By default the last run is measured.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.objective.modes import FIRST_PART, OPTION_LETTER_PATTERN, _multiple_choice_now  # noqa: E402
from analysis.sql import modes as M  # noqa: E402
from analysis.sql import quote_ident  # noqa: E402
from analysis.store import Store  # noqa: E402


def _best(store: Store, sql: str, params: list, repeat: int) -> tuple[float, float, object]:
    best = (float("inf"), float("inf"))
    out = None
    for _ in range(repeat):
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        out = store.cursor().execute(sql, params).fetchall()
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best = min(best, (wall, cpu))
    return best[0], best[1], out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--run", help="run name or id (default: the last run)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    store = Store(args.db, read_only=True)
    run = store.run(args.run or store.runs()["run_id"].iloc[-1])
    print(f"run {run.name}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    share = M.option_letter_share_sql(run.table_name, quote_ident("output"), [], OPTION_LETTER_PATTERN)
    wall, cpu, out = _best(store, *share, args.repeat)
    print(f"share test: {wall:.2f} s wall, {cpu:.2f} s CPU; shares (answers, references) {out[0]}")
    best = (float("inf"), float("inf"))
    for _ in range(args.repeat):  # the decision the detector takes (is_multiple_choice), its rows read in parts
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        decided = _multiple_choice_now(store, run.table_name, quote_ident("output"), [], None)
        after = resource.getrusage(resource.RUSAGE_SELF)
        best = min(best, (time.perf_counter() - start,
                          after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
    print(f"the decision (first {FIRST_PART:.0%} of the rows, the rest only if open): {best[0]:.2f} s wall, "
          f"{best[1]:.2f} s CPU ({best[1] / cpu:.2f}x the share test's CPU); multiple choice: {decided}")
    sql, params = M.no_option_expr(quote_ident("output"), [], OPTION_LETTER_PATTERN)
    count = M.counts_sql(run.table_name, [(f"CASE WHEN correct = false THEN ({sql}) ELSE false END", params)])
    wall, cpu, out = _best(store, *count, args.repeat)
    print(f"detector over the wrong answers: {wall:.2f} s wall, {cpu:.2f} s CPU; {out[0][1]:,} of {out[0][0]:,} "
          "scored answers are wrong and name no option")
    store.close()


if __name__ == "__main__":
    main()
