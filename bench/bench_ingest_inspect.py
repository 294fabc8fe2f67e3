"""Load speed of an Inspect AI .eval log: Faultline's ingest against DuckDB reading the same samples as JSONL.

Run: .venv/bin/python bench/bench_ingest_inspect.py [--samples 100000] [--repeat 3]

The log is generated in a temporary folder the way Inspect writes one: a zip archive (deflate)
of ``_journal/start.json``, ``header.json`` (eval, plan, results), ``summaries.json``,
``reductions.json`` and one ``samples/{id}_epoch_{n}.json`` per sample, each sample shaped like
a real one (chat messages, output with usage, a C/I score with answer and explanation,
metadata, a handful of transcript events, attachments) at about 4 KB of JSON.

The floor is DuckDB's own ``read_json`` of the same sample objects written one per line
(JSONL) into a table: it parses the same JSON but skips the zip and everything Faultline does
to the rows (flattening, score values, roles, checks). Each measurement runs in a fresh
subprocess, imports done before the clock starts; peak memory is that process's ru_maxrss.
Target (issue 10): Faultline within 3x of the floor.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import zipfile
from pathlib import Path

from _ingest_measure import measure, medians

SUBJECTS = ["college_physics", "anatomy", "world_religions", "virology", "econometrics", "law", "nutrition"]
LETTERS = "ABCD"


def sample(i: int) -> dict:
    """One sample as Inspect logs it (multiple choice, scored by ``choice``)."""
    subject = SUBJECTS[i % len(SUBJECTS)]
    question = (f"Question {i} about {subject.replace('_', ' ')}: which of the following statements best describes "
                f"the situation set out in case {i * 7919 % 100003}, considering the usual assumptions?")
    choices = [f"Statement {c} for item {i}, worded at a realistic length" for c in LETTERS]
    target = LETTERS[(i * 31) % 4]
    answer = LETTERS[(i * 17) % 4] if i % 5 else target
    prompt = ("Answer the following multiple choice question. The entire content of your response should be of "
              "the following format: 'ANSWER: $LETTER' (without quotes) where LETTER is one of A,B,C,D.\n\n"
              + question + "\n\n" + "\n".join(f"{c}) {t}" for c, t in zip(LETTERS, choices)))
    completion = f"ANSWER: {answer}"
    uid = f"{i:022d}"
    message = {"id": f"m{uid}", "content": completion, "source": "generate", "role": "assistant",
               "model": "gpt-4o-2024-08-06"}
    usage = {"input_tokens": 150 + i % 40, "output_tokens": 3, "total_tokens": 153 + i % 40}
    events = [{"uuid": f"e{k}{uid}", "span_id": f"s{uid}", "timestamp": "2025-12-19T12:37:50.891300+00:00",
               "working_start": 1325751.288 + k, "event": kind, "name": kind}
              for k, kind in enumerate(["span_begin", "sample_init", "model", "score", "span_end"])]
    events[2].update({"model": "openai/gpt-4o", "input": [{"role": "user", "content": "attachment://" + uid}],
                      "output": {"completion": completion, "usage": usage}})
    return {
        "id": i + 1, "epoch": 1, "input": question, "choices": choices, "target": target,
        "messages": [{"id": f"u{uid}", "content": "attachment://" + uid, "source": "input", "role": "user"}, message],
        "output": {"model": "gpt-4o-2024-08-06", "choices": [{"message": message, "stop_reason": "stop"}],
                   "completion": completion, "usage": usage, "time": 0.5 + (i % 100) / 100},
        "scores": {"choice": {"value": "C" if answer == target else "I", "answer": answer,
                              "explanation": completion, "history": []}},
        "metadata": {"subject": subject, "difficulty": ["easy", "medium", "hard"][i % 3]},
        "store": {}, "events": events,
        "model_usage": {"openai/gpt-4o": usage},
        "started_at": "2025-12-19T12:37:50.892960+00:00", "completed_at": "2025-12-19T12:37:52.458757+00:00",
        "total_time": 1.566, "working_time": 1.458, "uuid": uid, "error_retries": [],
        "attachments": {uid: prompt},
    }


def make_log(folder: Path, samples: int) -> tuple[Path, Path]:
    """The .eval archive and the same samples as JSONL."""
    eval_info = {"run_id": "bench", "created": "2025-12-19T12:37:50+00:00", "task": "mmlu_bench", "task_id": "t",
                 "model": "openai/gpt-4o", "dataset": {"name": "bench", "samples": samples},
                 "config": {}, "packages": {"inspect_ai": "0.3.150"}}
    plan = {"name": "plan", "steps": []}
    log = folder / "bench.eval"
    jsonl = folder / "bench_samples.jsonl"
    with zipfile.ZipFile(log, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5) as z, \
            open(jsonl, "w", encoding="utf-8") as out:
        z.writestr("_journal/start.json", json.dumps({"version": 2, "eval": eval_info, "plan": plan}))
        summaries = []
        correct = 0
        for i in range(samples):
            s = sample(i)
            correct += s["scores"]["choice"]["value"] == "C"
            text = json.dumps(s)
            z.writestr(f"samples/{s['id']}_epoch_1.json", text)
            out.write(text + "\n")
            summaries.append({"id": s["id"], "epoch": 1, "input": s["input"][:100], "target": s["target"],
                              "scores": {"choice": {"value": s["scores"]["choice"]["value"]}}})
        z.writestr("summaries.json", json.dumps(summaries))
        z.writestr("reductions.json", json.dumps([]))
        results = {"total_samples": samples, "completed_samples": samples,
                   "scores": [{"name": "choice", "scorer": "choice", "params": {},
                               "metrics": {"accuracy": {"name": "accuracy", "value": correct / samples}}}]}
        z.writestr("header.json", json.dumps({"version": 2, "status": "success", "eval": eval_info, "plan": plan,
                                              "results": results, "stats": {}}))
    return log, jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the median is reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        log, jsonl = make_log(folder, args.samples)
        print(f"{args.samples:,} samples; .eval {log.stat().st_size / 2**20:.0f} MB (zip), the same samples as JSONL "
              f"{jsonl.stat().st_size / 2**20:.0f} MB; median of {args.repeat}")
        print("floor = DuckDB read_json of the samples written as JSONL (no zip, no row handling)")
        print(f"{'who':<28} {'seconds':>8} {'samples/s':>10} {'peak MB':>8} {'ratio':>6}")
        med = medians({"floor": lambda: measure("floor-jsonl", jsonl, folder),
                       "faultline": lambda: measure("faultline", log, folder)}, args.repeat)
        labels = {"floor": "DuckDB read_json (JSONL)", "faultline": "Faultline ingest (.eval)"}
        for who in ("floor", "faultline"):
            m = med[who]
            ratio = m["seconds"] / med["floor"]["seconds"]
            print(f"{labels[who]:<28} {m['seconds']:8.2f} {m['rows'] / m['seconds']:10,.0f} {m['peak_mb']:8.0f} "
                  f"{ratio:5.2f}x")
        verdict = "meets" if med["faultline"]["seconds"] <= 3 * med["floor"]["seconds"] else "MISSES"
        print(f"target within 3x of the floor: {verdict}")


if __name__ == "__main__":
    main()
