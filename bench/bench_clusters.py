"""Failure-cluster speed: embed, reduce, cluster and describe 20,000 and 50,000 demo texts, cold and cached.

Run: .venv/bin/python bench/bench_clusters.py [--sizes 20000,50000] [--field input] [--skip-cold-numba]

Each measurement is a fresh Python process (nothing warm but the disk), timed from its first line:
* ``cold, numba cold``: also with an empty numba cache (NUMBA_CACHE_DIR), as on a machine that never
  clustered: umap-learn and pynndescent compile everything (the ~45 s the issue speaks of).
* ``cold``: the store has no cached clustering; numba's disk cache is warm (every run after the
  first one on a machine).
* ``cached``: the store has this clustering: read back from the store.
Per run: wall time of the process and of the ``cluster_run`` call, peak memory (max RSS), the
share of each stage, and purity / adjusted Rand index against the demo's planted themes.
Targets (issue 6): 20,000 texts under 60 s cold on this 2-core machine, under 1 s when cached.
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import argparse  # noqa: E402 - the clock starts before any import
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STAGES = ("import", "load", "embed", "reduce", "cluster", "describe", "save", "lookup")


def child(args) -> None:
    """One measurement in this (fresh) process: print a JSON line."""
    from analysis import open_store
    from analysis.clusters.cache import clear_cache
    from analysis.clusters.pipeline import cluster_run, purity_and_ari

    imported = time.perf_counter() - _START
    with open_store(args.db, seed_demo=False) as store:
        if args.clear:
            clear_cache(store)
        start = time.perf_counter()
        result = cluster_run(store, "baseline", field=args.field)
        call = time.perf_counter() - start
        truth = json.loads(Path(args.truth).read_text())["example_theme"]
        scores = purity_and_ari(result.labels["cluster"], [truth[i] for i in result.labels["example_id"]])
    timings = {"import": imported, **result.timings}
    print(json.dumps({"wall": time.perf_counter() - _START, "call": call, "from_cache": result.from_cache,
                      "timings": timings, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "clusters": result.n_clusters, "n_fit": result.settings.get("n_fit"),
                      "assigned": result.settings.get("assigned"), **scores}))


def measure(db: Path, truth: Path, field: str, *, clear: bool, numba_dir: str | None = None) -> dict:
    env = {**os.environ}
    if numba_dir:
        env["NUMBA_CACHE_DIR"] = numba_dir
    cmd = [sys.executable, __file__, "--child", "--db", str(db), "--truth", str(truth), "--field", field]
    out = subprocess.run(cmd + (["--clear"] if clear else []), capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"measurement failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def build(n: int, folder: Path) -> tuple[Path, Path]:
    """A store with the demo's baseline run of ``n`` prompts, and the truth file."""
    from analysis import open_store
    from analysis.demo.generator import DEMO_MODELS, generate_demo, write_truth
    from analysis.demo.seed import DEMO_MAPPING

    demo = generate_demo(n_prompts=n)
    db = folder / f"bench-{n}.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest_frame(demo.runs["baseline"], name="baseline", model=DEMO_MODELS["baseline"], mapping=DEMO_MAPPING)
    truth = folder / f"truth-{n}.json"
    write_truth(demo.truth, truth)
    return db, truth


def line(label: str, m: dict) -> str:
    total = sum(v for k, v in m["timings"].items() if k != "lookup") or 1.0
    shares = ", ".join(f"{k} {m['timings'][k] / total:.0%}" for k in STAGES if k in m["timings"] and k != "lookup")
    text = (f"  {label:<18} process {m['wall']:6.1f} s  cluster_run {m['call']:6.2f} s  peak {m['peak_mb']:5.0f} MB")
    if not m["from_cache"]:
        text += f"\n  {'':<18} stages: {shares}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,50000")
    parser.add_argument("--field", default="input", choices=("input", "output", "reference", "both"))
    parser.add_argument("--skip-cold-numba", action="store_true", help="skip the run with an empty numba cache")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--truth", help=argparse.SUPPRESS)
    parser.add_argument("--clear", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    verdicts = []
    print(f"Failure clusters of the demo's {args.field} texts on {os.cpu_count()} cores "
          "(embed with the bundled model2vec model, UMAP, HDBSCAN, describe); each line a fresh process")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in sizes:
            db, truth = build(n, folder)
            print(f"{n:,} texts")
            if n == sizes[0] and not args.skip_cold_numba:
                cold_numba = measure(db, truth, args.field, clear=True, numba_dir=str(folder / "numba-empty"))
                print(line("cold, numba cold", cold_numba))
                verdicts.append((f"{n:,} cold, first ever run (numba compiles) < 60 s", cold_numba["wall"] < 60))
            cold = measure(db, truth, args.field, clear=True)
            cached = measure(db, truth, args.field, clear=False)
            assert cached["from_cache"] and not cold["from_cache"]
            print(line("cold", cold))
            print(line("cached", cached))
            print(f"  {'':<18} {cold['clusters']} clusters; fitted on {cold['n_fit']:,}, {cold['assigned']:,} assigned "
                  f"by nearest neighbours; purity {cold['purity']:.3f}, ARI {cold['ari']:.3f} "
                  f"(ARI without noise {cold['ari_clustered']:.3f}) against the planted themes")
            if n == 20_000:
                verdicts.append(("20,000 cold < 60 s", cold["wall"] < 60))
                verdicts.append(("20,000 cached < 1 s (cluster_run)", cached["call"] < 1))
    for text, ok in verdicts:
        print(f"target {text}: {'meets' if ok else 'MISSES'}")


if __name__ == "__main__":
    main()
