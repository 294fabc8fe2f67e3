"""Scale: DuckDB on Parquet in place vs ingest-then-analyse, and Spark local vs DuckDB.

Cases (each measured once, in a fresh process (the load and the analysis each in its own): wall time and peak memory, ``ru_maxrss``, which sees
DuckDB's allocations; Spark's JVM is a separate process and its memory is not counted):

- ``lake``: register a generated Parquet file in place (:meth:`Store.register_parquet`), then the slice
  table of all singles and pairs of 10 attributes (9 categorical, 1 binned number) with intervals and
  q-values (``slice_table(max_order=2)``);
- ``ingest``: the same file ingested into the store (a copy), then the same analysis;
- ``spark`` / ``duckdb`` at 1M and 10M rows (``--spark-rows``): the analysis alone, on each engine (the ratio
  is the cost of the engine switch on one machine, printed, not a target), and Spark's rows per second per core
  at each size with the cores a Spark cluster would need for 1B examples in a minute at that rate. Spark always
  counts the slices with the grouping statements; up to 20M rows DuckDB counts them in memory from the examples'
  attribute codes, and ``--sql-counts`` makes DuckDB use the grouping statements at every size too.

The ``lake`` case also times the floor: DuckDB alone, the same grouping sets (every single and pair) and
aggregates straight over the Parquet file (``read_parquet``, no catalog, no statistics), printed beside
Faultline's analysis time as a ratio.

Rows per second per core = rows / analysis seconds / cores used (DuckDB's threads; local[2] for Spark),
so the size of a cluster for 1B examples can be estimated. The analysis's CPU seconds (its process's
threads, ``ru_utime + ru_stime``) and the machine's load average are printed too: on a shared machine the
wall time is the CPU time over the share of the cores the process got, and CPU seconds are what compare
across runs (DuckDB only; Spark's JVM is another process).

    python bench/bench_scale.py                 # 10M lake vs ingest, Spark vs DuckDB at 1M and 10M
    python bench/bench_scale.py --skip-lake --spark-rows 1000000 10000000   # Spark's rows/s per core only
    python bench/bench_scale.py --skip-lake --spark-rows 1000000 --sql-counts  # ... counted by the statements
    python bench/bench_scale.py --big           # also 100M rows in place (once)
    python bench/bench_scale.py --rows 1000000 --skip-spark
    python bench/bench_scale.py --rows 100000000 --skip-ingest --skip-spark --keep DIR
    python bench/bench_scale.py --lake DIR/lake100m    # a folder of 10 hard links of a 10M file
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The cores of the local Spark session (``local[2]``, :data:`analysis.sql.spark.DEFAULT_MASTER`).
SPARK_CORES = 2
#: 10 attributes: 9 categorical (cardinalities below) and one number binned into quantile bins.
CARDINALITIES = (3, 5, 8, 12, 20, 4, 6, 10, 2)
GENERATE = """
COPY (
  SELECT 'e' || CAST(i AS VARCHAR) AS id, 'question ' || CAST(i % 1000 AS VARCHAR) AS prompt,
         {cats},
         (hash(i * 7 + 1) % 100000) / 100.0 AS latency_ms,
         ((hash(i * 13 + 5) % 1000) / 1000.0) >= (0.2 + 0.3 * CAST(i % 3 = 0 AS INTEGER)) AS correct,
         (hash(i * 17 + 3) % 1000) / 1000.0 AS score
  FROM range({rows}) t(i)
) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
"""
MAPPING = {"id": "id", "input": "prompt", "score": "score", "correct": "correct",
           "metadata": [f"c{j}" for j in range(len(CARDINALITIES))] + ["latency_ms"]}
BY = [f"c{j}" for j in range(len(CARDINALITIES))] + ["latency_ms"]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
case, path, db, mapping, by = sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]), json.loads(sys.argv[6])
from analysis.store import Store
from analysis.slicing.table import slice_table
import os
if os.environ.get("FAULTLINE_BENCH_SQL_COUNTS"):  # --sql-counts: counted by the grouping statements, as above 20M rows
    from analysis.slicing import counts
    counts.IN_MEMORY_MAX_ROWS = 0
out = {"case": case}
start = time.perf_counter()
if case in ("register", "load"):  # the run registered in place, or ingested (a copy): nothing else
    store = Store(db)
    if case == "register":
        (run,) = store.register_parquet(path, name="r", mapping=mapping).added
    else:
        (run,) = store.ingest(path, name="r", mapping=mapping).added
    store.close()
    out["load_s"] = time.perf_counter() - start
    used = resource.getrusage(resource.RUSAGE_SELF)
    out["load_cpu_s"] = used.ru_utime + used.ru_stime
    out["load_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    sys.exit(0)
else:  # lake / ingest / spark / duckdb: the analysis of a store made beforehand, in its own process
    store = Store(db, read_only=True, engine="spark" if case == "spark" else "duckdb")
    run = store.run("r")
    if case == "spark":
        from analysis.sql.spark import spark_session
        t = time.perf_counter(); spark_session(); out["session_s"] = time.perf_counter() - t
        slice_table(store, "r", by[:2], max_order=1)  # warm-up: the export to Parquet and the JVM's first queries
    out["load_s"] = 0.0
import os
used = resource.getrusage(resource.RUSAGE_SELF)
out["load_avg"] = os.getloadavg()[0]
t = time.perf_counter()
result = slice_table(store, "r", by, max_order=2)
out["analyse_s"] = time.perf_counter() - t
done = resource.getrusage(resource.RUSAGE_SELF)
out["analyse_cpu_s"] = done.ru_utime - used.ru_utime + done.ru_stime - used.ru_stime
out["slices"] = len(result.table)
out["rows"] = int(run.row_count)
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
if case == "lake":  # the floor: DuckDB alone, the same grouping sets and aggregates straight over the Parquet file
    import duckdb
    edges = result.edges[by[-1]]
    binned = " ".join(f"WHEN {by[-1]} <= {float(e)!r} THEN {i}" for i, e in enumerate(edges))
    cols = by[:-1] + ["b"]
    sets = [(c,) for c in cols] + [pair for i, a in enumerate(cols) for pair in [(a, b) for b in cols[i + 1:]]]
    floor = (f"SELECT {', '.join(cols)}, GROUPING({', '.join(cols)}) AS gid, count(*) AS n, count_if(NOT correct) AS e, "
             f"sum(CAST(round(score * CAST(1e15 AS DOUBLE)) AS DECIMAL(38, 0))) AS s, count(score) AS sn FROM "
             f"(SELECT {', '.join(by[:-1])}, CASE WHEN {by[-1]} IS NULL THEN NULL {binned} ELSE {len(edges)} END AS b, "
             f"correct, score FROM read_parquet(?)) GROUP BY GROUPING SETS "
             f"({', '.join('(' + ', '.join(x) + ')' for x in sets)})")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    t = time.perf_counter()
    import os
    floor_rows = con.execute(floor, [os.path.join(path, "*.parquet") if os.path.isdir(path) else path]).fetchall()
    out["floor_s"] = time.perf_counter() - t
    out["floor_cells"] = len(floor_rows)
    con.close()
print(json.dumps(out))
"""


def generate(path: Path, rows: int) -> float:
    import duckdb

    cats = ", ".join(f"'v' || CAST(hash(i * {31 + j} + {j}) % {k} AS VARCHAR) AS c{j}"
                     for j, k in enumerate(CARDINALITIES))
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(GENERATE.format(cats=cats, rows=int(rows), path=str(path).replace("'", "''")))
    con.close()
    return time.perf_counter() - start


def measure_loaded(case: str, path: Path, db: Path, mapping: dict | None = None) -> dict:
    """``lake`` (registered in place) or ``ingest`` (a copy): the load and the analysis, each in a fresh process
    (so each one's peak memory is its own)."""
    loaded = measure("register" if case == "lake" else "load", path, db, mapping)
    return {**measure(case, path, db, mapping), "load_s": loaded["load_s"], "load_cpu_s": loaded["load_cpu_s"],
            "load_peak_mb": loaded["load_peak_mb"]}


def measure(case: str, path: Path, db: Path, mapping: dict | None = None) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), case, str(path), str(db),
                           json.dumps(mapping or MAPPING),
                           json.dumps(BY)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{case} failed:\n{done.stderr[-3000:]}")
    try:
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise SystemExit(f"{case} printed no result:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}") from None


def show(result: dict, cores: int) -> None:
    per_core = result["rows"] / result["analyse_s"] / cores
    load = (f"load {result['load_s']:7.1f} s ({result.get('load_cpu_s', float('nan')):.1f} CPU s, peak "
            f"{result['load_peak_mb']:,.0f} MB), " if "load_peak_mb" in result else "")
    cpu = result.get("analyse_cpu_s")
    print(f"{result['case']:>7} {result['rows']:>12,} rows: {load}analysis "
          f"{result['analyse_s']:7.1f} s ({result['slices']} slices), peak {result['peak_mb']:7,.0f} MB, "
          f"{per_core:,.0f} rows/s per core", flush=True)
    if cpu is not None:  # a shared machine: wall time is CPU time over the share of the cores this process got
        print(f"{'':>7} analysis CPU {cpu:.1f} s (this process's threads; on {cores} idle cores at best "
              f"{cpu / cores:.1f} s wall), {result['rows'] / cpu:,.0f} rows per CPU second; machine load "
              f"average {result['load_avg']:.1f} at the start", flush=True)
    if "floor_s" in result:
        print(f"{'floor':>7} DuckDB alone, the same {result['floor_cells']} cells (GROUPING SETS of every single and "
              f"pair straight over the Parquet file): {result['floor_s']:.1f} s; Faultline / floor: "
              f"{result['analyse_s'] / result['floor_s']:.2f}", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the lake vs ingest comparison")
    parser.add_argument("--big", action="store_true", help="also 100M rows in place (once)")
    parser.add_argument("--spark-rows", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="sizes of the Spark local[2] vs DuckDB comparison")
    parser.add_argument("--skip-lake", action="store_true", help="no lake or ingest case (Spark vs DuckDB only)")
    parser.add_argument("--sql-counts", action="store_true",
                        help="count slices with the grouping statements at every size (as above 20M rows), not in "
                             "memory: on Spark, the statements a cluster runs at scale")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--keep", type=Path, default=None,
                        help="a folder (outside the repository) where generated Parquet files are kept and reused")
    parser.add_argument("--lake", type=Path, default=None,
                        help="measure only the lake case on Parquet files already made (a file or a folder of "
                             "generated files, e.g. hard links of one file: example ids are then the record numbers)")
    args = parser.parse_args(argv)
    if args.sql_counts:
        os.environ["FAULTLINE_BENCH_SQL_COUNTS"] = "1"  # read by each measured process
    cores = os.cpu_count() or 1
    if args.lake is not None:
        mapping = {**{k: v for k, v in MAPPING.items() if k != "id"}, "ignore": ["id"]}
        with tempfile.TemporaryDirectory(prefix="faultline-scale-") as folder:
            show(measure_loaded("lake", args.lake, Path(folder) / "lake.duckdb", mapping), cores)
        return
    with tempfile.TemporaryDirectory(prefix="faultline-scale-") as folder:
        folder = Path(folder)
        sizes = [args.rows] + ([100_000_000] if args.big and args.rows != 100_000_000 else [])
        for rows in [] if args.skip_lake else sizes:
            path = (args.keep or folder) / f"examples-{rows}.parquet"
            if args.keep and path.exists():
                print(f"reused {path} ({path.stat().st_size / 1e6:,.0f} MB)", flush=True)
            else:
                print(f"generated {rows:,} rows in {generate(path, rows):.1f} s ({path.stat().st_size / 1e6:,.0f} MB)",
                      flush=True)
            show(measure_loaded("lake", path, folder / f"lake-{rows}.duckdb"), cores)
            if not args.skip_ingest and rows == args.rows:
                show(measure_loaded("ingest", path, folder / f"ingest-{rows}.duckdb"), cores)
            if not args.keep:
                path.unlink()
        if not args.skip_spark:
            per_core = {}
            for rows in args.spark_rows:
                path = folder / f"spark-{rows}.parquet"
                generate(path, rows)
                db = folder / f"spark-{rows}.duckdb"
                measure("load", path, db)
                duck = measure("duckdb", path, db)
                spark = measure("spark", path, db)
                show(duck, cores)
                show(spark, SPARK_CORES)
                print(f"Spark local[{SPARK_CORES}] / DuckDB on {rows:,} rows: "
                      f"{spark['analyse_s'] / duck['analyse_s']:.1f}x (Spark session start {spark['session_s']:.0f} s, "
                      f"not counted)", flush=True)
                per_core[rows] = rows / spark["analyse_s"] / SPARK_CORES
                path.unlink()
            for rows, rate in per_core.items():  # the README's sizing of a cluster for 1B examples
                print(f"Spark local[{SPARK_CORES}] at {rows:,} rows: {rate:,.0f} rows/s per core; 1B examples in "
                      f"60 s at that rate: ~{1e9 / rate / 60:,.0f} cores", flush=True)


if __name__ == "__main__":
    main()
