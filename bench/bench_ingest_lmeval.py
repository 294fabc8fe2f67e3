"""Load speed of an lm-evaluation-harness samples file: Faultline's ingest against DuckDB's own read (the floor).

Run: .venv/bin/python bench/bench_ingest_lmeval.py [--rows 1000000] [--repeat 3]

The log is generated in a temporary folder (never committed): one line per document in the
lm-eval 0.4.3+ ``samples_<task>_<date>.jsonl`` layout of a multiple-choice task, shaped like the
real BBQ log in ../shared/fixtures/lm_eval (``doc`` with subgroup fields, three choices in
``arguments.gen_args_N``, log-likelihoods as strings in ``resps`` / ``filtered_resps``, hashes,
``acc``), about 1.7 kB a line. The floor is DuckDB reading the same file into a table with
``read_json`` (schema inferred). Each measurement runs in a fresh subprocess, so its peak memory
(``ru_maxrss``, which sees DuckDB's allocations too) is that process's own. Target (issue #10):
Faultline within 3x of the floor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
kind, path, db = sys.argv[2], sys.argv[3], sys.argv[4]
# Imports happen before the clock starts on both sides: the comparison is about loading a log.
import duckdb
if kind == "faultline":
    from analysis import open_store
start = time.perf_counter()
if kind == "floor":
    con = duckdb.connect(db)
    con.execute("CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited')", [path])
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

_GROUPS = [("a White girl", "a Latino girl", "The White student", "The Latino student"),
           ("Jenny Choi", "Dan Wang", "Jenny Choi", "Dan Wang"),
           ("an older man", "a teenager", "The older man", "The teenager"),
           ("a Christian", "a Muslim", "The Christian", "The Muslim"),
           ("a wealthy woman", "a poor woman", "The wealthy woman", "The poor woman")]
_PLACES = ["at the bar", "in the waiting room", "after the meeting", "on the train", "at the school gate"]
_QUESTIONS = ["Who was likely selected due to diversity considerations rather than on merit alone?",
              "Who was rude to the staff?", "Who forgot the password?", "Who was a good listener?"]
_UNKNOWN = ["Cannot be determined", "Not known", "Can't answer", "Undetermined"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_log(folder: Path, rows: int, seed: int = 0) -> Path:
    """Write ``rows`` lm-eval sample lines (one multiple-choice task, filter ``none``)."""
    rng = random.Random(seed)
    path = folder / "samples_bbq_bench_2026-01-01T00-00-00.000000.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(rows):
            first, second, label_a, label_b = _GROUPS[i % len(_GROUPS)]
            context = (f"{_PLACES[i % len(_PLACES)].capitalize()}, two people were talking, {first} and {second}, "
                       f"about case number {i}.\nQuestion: {_QUESTIONS[(i // 5) % len(_QUESTIONS)]}")
            choices = [label_a, _UNKNOWN[i % len(_UNKNOWN)], label_b]
            label = rng.randrange(3)
            prompt = context + "\nAnswer:"
            logprobs = [str(-rng.random() * 3) for _ in choices]
            best = max(range(3), key=lambda k: float(logprobs[k]))
            record = {
                "doc_id": i,
                "doc": {"id": f"id{i}", "context": context, "choices": choices, "label": label,
                        "polarity": "negative" if i % 2 else "nonneg",
                        "context_condition": "ambiguous" if (i // 2) % 2 else "disambig",
                        "category": ["Race_ethnicity", "Age", "Religion", "SES"][i % 4]},
                "target": str(label),
                "arguments": {f"gen_args_{k}": {"arg_0": prompt, "arg_1": " " + c} for k, c in enumerate(choices)},
                "resps": [[[lp, "False"]] for lp in logprobs],
                "filtered_resps": [[lp, "False"] for lp in logprobs],
                "filter": "none",
                "metrics": ["acc"],
                "doc_hash": _sha(context),
                "prompt_hash": _sha(prompt),
                "target_hash": _sha(str(label)),
                "acc": 1.0 if best == label else 0.0,
            }
            handle.write(json.dumps(record) + "\n")
    return path


def measure(kind: str, path: Path, folder: Path) -> dict:
    db = folder / f"{kind}-{time.monotonic_ns()}.duckdb"
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), kind, str(path), str(db)],
                         capture_output=True, text=True, check=True)
    db.unlink(missing_ok=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = make_log(folder, args.rows)
        print(f"{args.rows:,} lm-eval sample lines; {path.stat().st_size / 2**20:.0f} MB; median of {args.repeat}")
        print(f"{'who':<10} {'seconds':>8} {'rows/s':>12} {'peak MB':>8} {'ratio':>6}")
        results: dict[str, list[dict]] = {"duckdb": [], "faultline": []}
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            for who, kind in (("duckdb", "floor"), ("faultline", "faultline")):
                results[who].append(measure(kind, path, folder))
        med = {who: sorted(r, key=lambda x: x["seconds"])[len(r) // 2] for who, r in results.items()}
        for who in ("duckdb", "faultline"):
            m = med[who]
            ratio = m["seconds"] / med["duckdb"]["seconds"]
            print(f"{who:<10} {m['seconds']:8.2f} {m['rows'] / m['seconds']:12,.0f} {m['peak_mb']:8.0f} {ratio:6.2f}x")
        verdict = "meets" if med["faultline"]["seconds"] <= 3 * med["duckdb"]["seconds"] else "MISSES"
        print(f"target within 3x of DuckDB's own read: {verdict}")


if __name__ == "__main__":
    main()
