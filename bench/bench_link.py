"""Engine time of the Failure modes page's ``link`` call at scale: the demo spec (data/objective_demo.yaml), the
run linked with and without a baseline, CPU and wall, with an optional cProfile breakdown.

Usage::

    python bench/bench_link.py --db STORE [--run NAME] [--baseline NAME] [--repeat 2] [--profile] [--breakdown]
                               [--ranks-in-engine]

The store must hold two demo-shaped runs (``python -m analysis demo`` or bench_ui's generated store); by default
the last run is analysed against the first. Copy a store before use: linking writes nothing, but the store is opened
read-write.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import analysis  # noqa: E402
from analysis.objective.spec import load_objective  # noqa: E402
from analysis.store import Store  # noqa: E402

SPEC = Path(__file__).resolve().parents[1] / "data" / "objective_demo.yaml"


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


#: The phases of ``link`` timed by ``--breakdown`` (names in :mod:`analysis.objective.link`'s namespace).
#: ``_baseline_rows`` (the baseline's modes, pairing and rows: ``compile_modes``, ``_paired_positions``, ``_load``)
#: runs in a thread of its own beside the run's phases: CPU is the process's, so overlapping phases share it.
PHASES = ("compile_modes", "check_against_run", "concentration_attributes", "resolve_attributes", "materialise_modes",
          "prepare_attributes", "_load", "_slice_codes", "modes_slices", "mode_counts", "separation_by_mode",
          "divergence_table", "divergence_by_slice", "_baseline_rows", "_paired_positions", "goodhart_tables", "_goodhart_by_slice",
          "_goodhart_evidence", "_local_separation_in_memory", "_local_separation_by_engine", "release_modes")


def _phases() -> dict:
    """Wrap each phase of :data:`PHASES` in the link module with a timer; returns the running totals."""
    from analysis.objective import link as module

    totals: dict = {}

    def wrap(name, fn):
        def timed(*a, **k):
            out, wall, cpu = _timed(lambda: fn(*a, **k))
            n, w, c = totals.get(name, (0, 0.0, 0.0))
            totals[name] = (n + 1, w + wall, c + cpu)
            return out
        return timed

    for name in PHASES:
        if hasattr(module, name):  # an older link module may lack a phase
            setattr(module, name, wrap(name, getattr(module, name)))
    return totals


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--run")
    ap.add_argument("--baseline")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="print the cProfile top functions of one call")
    ap.add_argument("--breakdown", action="store_true",
                    help="time the phases of one call with a baseline (wall and CPU per phase, summed over calls)")
    ap.add_argument("--ranks-in-engine", action="store_true",
                    help="rank the divergence in the engine whatever the run's size (no row read without a baseline)")
    args = ap.parse_args(argv)
    if args.ranks_in_engine:
        from analysis.objective import link as module

        module.ROWS_RANKED_IN_MEMORY = -1
    store = Store(args.db)
    runs = store.runs()
    run = args.run or runs["name"].iloc[-1]
    baseline = args.baseline or runs["name"].iloc[0]
    spec = load_objective(SPEC)

    def call(base):
        return analysis.link(store, run, spec, baseline=base, strict=False, max_order=1, min_support=30,
                             min_failures=20, fdr=0.05)

    for label, base in (("with baseline", baseline), ("alone", None)):
        for k in range(args.repeat):
            _, wall, cpu = _timed(lambda b=base: call(b))
            print(f"link {label:14s} try {k + 1}: wall {wall:6.2f} s  cpu {cpu:6.2f} s  (load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
    if args.breakdown:
        totals = _phases()
        _, wall, cpu = _timed(lambda: call(baseline))
        print(f"breakdown of one call with a baseline (wall {wall:.2f} s, cpu {cpu:.2f} s; the baseline's phases run "
              f"in a thread beside the others, so phase times overlap; load average {os.getloadavg()[0]:.1f}):")
        for name, (n, w, c) in sorted(totals.items(), key=lambda kv: -kv[1][1]):
            print(f"  {name:28s} x{n}: wall {w:6.2f} s  cpu {c:6.2f} s")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        call(baseline)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
