"""Inspect AI logs, read without inspect_ai installed.

Two containers: ``.eval`` zip archives (``header.json`` in newer logs; only
``_journal/start.json`` in logs from early 2025; samples as ``samples/{id}_epoch_{n}.json``)
and ``.json`` documents (``version, status, eval, plan, results, stats, samples``).

Score values: ``C`` = 1, ``P`` = 0.5, ``I`` = 0, ``N`` = no answer (score 0, incorrect,
flagged ``no_answer``); numbers and booleans as they are. Each scorer becomes a score
column, the first one is the run's primary score. Epochs are kept apart: with more than
one epoch the example id is ``{id}#{epoch}``. A sample with no score at all is unscorable.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from analysis.errors import NOT_INSPECT_ZIP, ZIP_BOMB, InputError

from ._records import flatten, message_text, rows_to_frame, strip_prefixes
from .base import SourceRun, max_field_bytes, parse_json_bytes, read_json_document

CIPN = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
#: Upper bound on the expanded size of all members of one .eval archive.
MAX_ARCHIVE_EXPANDED = 2 * 1024**3
#: A member compressed more than this many times is refused (a zip bomb signature).
MAX_COMPRESSION_RATIO = 200


def _score_value(value, path: Path, record: str, scorer: str) -> tuple[float | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, bool):
        return float(value), None
    if isinstance(value, (int, float)):
        return float(value), None
    if isinstance(value, str):
        key = value.strip().upper()
        if key in CIPN:
            return CIPN[key], ("no_answer" if key == "N" else None)
        try:
            return float(value), None
        except ValueError:
            pass
    raise InputError(path, f"expected a score value C, P, I, N or a number, got {value!r}", record=record,
                     field=f"scores.{scorer}.value")


def _sample_row(sample: dict, path: Path, record: str) -> dict:
    if not isinstance(sample, dict) or "id" not in sample:
        raise InputError(path, "expected an Inspect sample with an 'id'", record=record, field="id")
    output = sample.get("output") or {}
    completion = output.get("completion")
    if not completion:
        choices = output.get("choices") or []
        if choices:
            completion = message_text((choices[0].get("message") or {}).get("content"))
    target = sample.get("target")
    if isinstance(target, list):
        target = " | ".join(str(t) for t in target)
    row: dict = {"sample_id": str(sample["id"]), "epoch": int(sample.get("epoch") or 1),
                 "input": message_text(sample.get("input")), "output": completion,
                 "reference": target, "status": None}
    scores = sample.get("scores") or {}
    status = None
    for scorer, score in scores.items():
        value = score.get("value") if isinstance(score, dict) else score
        if isinstance(value, dict):  # a scorer reporting several metrics
            for key, sub in value.items():
                number, flag = _score_value(sub, path, record, f"{scorer}.{key}")
                row[f"score:{scorer}.{key}"] = number
                status = status or flag
            continue
        number, flag = _score_value(value, path, record, scorer)
        row[f"score:{scorer}"] = number
        if isinstance(score, dict) and score.get("answer") is not None:
            row[f"meta:{scorer}_answer"] = str(score["answer"])
        status = status or flag
    if sample.get("error"):
        status = "error"
        row["meta:error"] = message_text(sample["error"].get("message") if isinstance(sample["error"], dict) else sample["error"])
    row["status"] = status
    if isinstance(sample.get("choices"), list):
        row["meta:choices"] = " | ".join(map(str, sample["choices"]))
    meta: dict = {}
    flatten("", sample.get("metadata") or {}, meta)
    row.update({f"meta:{k}": v for k, v in meta.items()})
    usage = output.get("usage") or {}
    for key in ("input_tokens", "output_tokens"):
        if isinstance(usage.get(key), (int, float)):
            row[f"meta:{key}"] = usage[key]
    if isinstance(output.get("time"), (int, float)):
        row["meta:time_s"] = output["time"]
    return row


def _frame_and_roles(rows: list[dict], path: Path):
    if not rows:
        raise InputError(path, "is empty: expected an evaluation log with at least one sample")
    several_epochs = len({r["epoch"] for r in rows}) > 1
    for row in rows:
        row["example_id"] = f"{row['sample_id']}#{row['epoch']}" if several_epochs else row["sample_id"]
    rows.sort(key=lambda r: (r["epoch"], _natural(r["sample_id"])))
    frame = rows_to_frame(rows, order=["example_id", "input", "output", "reference", "status"])
    score_cols = [c for c in frame.columns if c.startswith("score:")]
    roles = {"example_id": "id", "input": "input", "output": "output", "reference": "reference",
             "status": "status", "sample_id": "metadata", "epoch": "metadata"}
    for col in frame.columns:
        if col.startswith("score:"):
            roles[col] = "score" if col == score_cols[0] else "scores"
        elif col not in roles:
            roles[col] = "metadata"
    if not score_cols:
        frame["score"] = None
        roles["score"] = "score"
    return strip_prefixes(frame, roles, ("score", "meta"))


def _natural(sample_id: str):
    return (0, int(sample_id), "") if sample_id.isdigit() else (1, 0, sample_id)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    limit = max(max_field_bytes() * 4, 256 * 1024**2)
    if info.file_size > limit:
        raise InputError(path, ZIP_BOMB.format(detail=f"member {info.filename} expands to {info.file_size} bytes",
                                               limit=f"{limit // 2**20} MB per member"))
    with archive.open(info) as handle:
        data = handle.read(limit + 1)  # the header's size may lie: never read past the limit
    if len(data) > limit:
        raise InputError(path, ZIP_BOMB.format(detail=f"member {info.filename} expands past its declared size",
                                               limit=f"{limit // 2**20} MB per member"))
    return data


def read_inspect_eval(path: Path) -> list[SourceRun]:
    """Read an Inspect ``.eval`` archive (both layouts) into one run."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise InputError(path, f"is not a readable zip archive ({err}); expected an Inspect AI .eval log") from err
    with archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
        if "header.json" not in names and "_journal/start.json" not in names:
            shown = ", ".join(sorted(names)[:5]) + (" ..." if len(names) > 5 else "")
            raise InputError(path, NOT_INSPECT_ZIP.format(members=shown or "nothing"))
        total = sum(i.file_size for i in infos)
        if total > MAX_ARCHIVE_EXPANDED:
            raise InputError(path, ZIP_BOMB.format(detail=f"its members expand to {total} bytes",
                                                   limit=f"{MAX_ARCHIVE_EXPANDED // 2**30} GB"))
        for info in infos:
            if info.compress_size and info.file_size > 10 * 2**20 and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
                raise InputError(path, ZIP_BOMB.format(
                    detail=f"member {info.filename} is compressed {info.file_size / info.compress_size:.0f} times",
                    limit=f"a compression ratio of {MAX_COMPRESSION_RATIO}"))
        head_name = "header.json" if "header.json" in names else "_journal/start.json"
        header = parse_json_bytes(_read_member(archive, archive.getinfo(head_name), path), path, member=head_name)
        if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
            raise InputError(path, "expected an 'eval' object in the log header", record=f"member {head_name}", field="eval")
        rows = []
        for info in infos:
            if not (info.filename.startswith("samples/") and info.filename.endswith(".json")):
                continue
            sample = parse_json_bytes(_read_member(archive, info, path), path, member=info.filename)
            rows.append(_sample_row(sample, path, f"member {info.filename}"))
    frame, roles = _frame_and_roles(rows, path)
    return [_run(header["eval"], "inspect_eval", path, frame, roles, header.get("status"))]


def read_inspect_json(path: Path) -> list[SourceRun]:
    """Read an Inspect log saved as one JSON document."""
    doc = read_json_document(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("eval"), dict):
        raise InputError(path, "expected an Inspect log with an 'eval' object", field="eval")
    samples = doc.get("samples") or []
    if not isinstance(samples, list):
        raise InputError(path, "expected 'samples' to be a list", field="samples")
    rows = [_sample_row(s, path, f"sample {i + 1}") for i, s in enumerate(samples)]
    frame, roles = _frame_and_roles(rows, path)
    return [_run(doc["eval"], "inspect_json", path, frame, roles, doc.get("status"))]


def _run(info: dict, fmt: str, path: Path, frame, roles, status) -> SourceRun:
    task = info.get("task_display_name") or info.get("task")
    model = info.get("model")
    notes = f"Inspect run {info.get('run_id', '?')}, status {status or 'unknown'}, created {info.get('created', '?')}"
    return SourceRun(fmt, [path], f"{task} · {model}" if model else str(task), model=model, task=task,
                     frame=frame, roles=roles, record_label="sample", notes=notes)
