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
import tempfile
from pathlib import Path

from _ingest_measure import measure, medians

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
        med = medians({"duckdb": lambda: measure("floor-jsonl", path, folder),
                       "faultline": lambda: measure("faultline", path, folder)}, args.repeat)
        for who in ("duckdb", "faultline"):
            m = med[who]
            ratio = m["seconds"] / med["duckdb"]["seconds"]
            print(f"{who:<10} {m['seconds']:8.2f} {m['rows'] / m['seconds']:12,.0f} {m['peak_mb']:8.0f} {ratio:6.2f}x")
        verdict = "meets" if med["faultline"]["seconds"] <= 3 * med["duckdb"]["seconds"] else "MISSES"
        print(f"target within 3x of DuckDB's own read: {verdict}")


if __name__ == "__main__":
    main()
