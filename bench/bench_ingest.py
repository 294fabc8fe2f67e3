"""Load speed: Faultline's ingest of a 1M-row Parquet and JSONL log against DuckDB's own read (the floor).

Run: .venv/bin/python bench/bench_ingest.py [--rows 1000000] [--repeat 3]

Each measurement runs in a fresh subprocess (so peak memory is that process's own) and
the floor is measured in the same run as Faultline, so the printed ratio is what counts on
a noisy machine. Target (issue 2): Faultline within 2x of the floor.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _ingest_measure import measure, medians


def make_log(folder: Path, rows: int) -> tuple[Path, Path]:
    import duckdb

    parquet = folder / "log.parquet"
    jsonl = folder / "log.jsonl"
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE log AS
        SELECT 'ex-' || i AS example_id,
               'Question ' || i || ' about ' || (['tax', 'travel', 'dosage', 'code', 'history'])[1 + i % 5]
                   || ' asked in a moderately long prompt so texts have a realistic size' AS prompt,
               'Answer number ' || (i * 7919) % 100003 || ' with some explanation of the reasoning' AS response,
               'Reference ' || (i * 104729) % 100003 AS reference,
               (hash(i) % 100) >= 20 AS correct,
               ((hash(i * 3) % 1000) / 1000.0) AS score,
               (['en', 'es', 'fr', 'de', 'sw', 'yo', 'hi', 'zh'])[1 + i % 8] AS language,
               (['medical', 'legal', 'finance', 'coding', 'travel'])[1 + (i // 3) % 5] AS domain,
               (['free', 'pro', 'enterprise', 'student'])[1 + (i // 7) % 4] AS user_segment,
               (['web', 'api', 'mobile', 'voice'])[1 + (i // 11) % 4] AS channel,
               1 + i % 6 AS turn,
               ((hash(i * 5) % 2000) / 1000.0) - 1 AS rm_helpfulness,
               ((hash(i * 11) % 500) / 1000.0) AS kl_to_ref
        FROM range(?) t(i)
    """, [rows])
    con.execute("COPY log TO ? (FORMAT parquet)", [str(parquet)])
    con.execute("COPY log TO ? (FORMAT json)", [str(jsonl)])
    con.close()
    return parquet, jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parquet, jsonl = make_log(folder, args.rows)
        print(f"{args.rows:,} rows; parquet {parquet.stat().st_size / 2**20:.0f} MB, "
              f"jsonl {jsonl.stat().st_size / 2**20:.0f} MB; median of {args.repeat}")
        print(f"{'format':<8} {'who':<10} {'seconds':>8} {'rows/s':>12} {'peak MB':>8} {'ratio':>6}")
        for fmt, path in (("parquet", parquet), ("jsonl", jsonl)):
            med = medians({"duckdb": lambda: measure(f"floor-{fmt}", path, folder),  # noqa: B023 - run at once
                           "faultline": lambda: measure("faultline", path, folder)}, args.repeat)  # noqa: B023
            for who in ("duckdb", "faultline"):
                m = med[who]
                ratio = m["seconds"] / med["duckdb"]["seconds"]
                print(f"{fmt:<8} {who:<10} {m['seconds']:8.2f} {m['rows'] / m['seconds']:12,.0f} "
                      f"{m['peak_mb']:8.0f} {ratio:6.2f}x")
            verdict = "meets" if med["faultline"]["seconds"] <= 2 * med["duckdb"]["seconds"] else "MISSES"
            print(f"{fmt:<8} target within 2x of DuckDB's own read: {verdict}")


if __name__ == "__main__":
    main()
