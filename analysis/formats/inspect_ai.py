"""Inspect AI logs, read without inspect_ai installed.

Two containers: ``.eval`` zip archives (``header.json`` in finished logs; only
``_journal/start.json`` in logs still running or cut off; samples as
``samples/{id}_epoch_{n}.json``) and ``.json`` documents (``version, status, eval, plan,
results, stats, samples``).

Score values become numbers as Inspect's own ``value_to_float`` makes them: ``C`` = 1,
``P`` = 0.5, ``I`` = 0, ``N`` = 0 (no answer), ``yes``/``true`` = 1, ``no``/``false`` = 0,
numbers (and numeric text) as they are. Other text values (Inspect lets a scorer return any
string) take the numbers the mapping's ``score_values`` gives them (``{"A": 1, "B": 0.5}``),
which also override the defaults; without one they are refused, naming the values. Graded
values are kept as they are: the score is never binarised here.

Each scorer becomes a score column. The primary one (role ``score``) is the scorer of the
log's first result (``results.scores[0]``), else the first scorer of the first sample; only
the primary scorer's ``N`` flags an example ``no_answer``. The tool's own figure for the run is
the primary scorer's ``accuracy`` / ``mean`` metric (the mean of its numeric values). Epochs
are kept apart: with more than one epoch the example id is ``{id}#{epoch}``. A sample with no
score at all is unscorable.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from analysis.errors import NOT_INSPECT_ZIP, ZIP_BOMB, InputError

from ._records import expect, flatten, json_kind, message_text, rows_to_frame, strip_prefixes
from .base import (
    Reported,
    SourceRun,
    max_archive_bytes,
    max_compression_ratio,
    max_field_bytes,
    parse_json_bytes,
    read_json_document,
)

#: Inspect's default value_to_float for its score constants (CORRECT, PARTIAL, INCORRECT, NOANSWER).
CIPN = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
_WORDS = {"yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}
#: Inspect metrics that are the mean of the scorer's numeric values, in the order they are headlined.
_MEAN_METRICS = ("accuracy", "mean")


class _Scoring:
    """How one log's score values become numbers, and which scorer is the primary one.

    Values go through the mapping's ``score_values`` first, then Inspect's value_to_float. Text
    values it cannot place are collected, so that one error names them all. The primary scorer's
    column is given by the log's results, else taken from the first sample with scores.
    """

    def __init__(self, score_values: dict | None, primary: str | None):
        self.mapping = {str(k): float(v) for k, v in (score_values or {}).items()}
        self.unknown: dict[str, tuple[str, str]] = {}  # value -> (first record, field)
        self.primary = primary

    def number(self, value, record: str, field: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, str) and value in self.mapping:
            return self.mapping[value]
        if isinstance(value, (bool, int, float)):
            return float(value)
        if isinstance(value, str):
            if value in CIPN:
                return CIPN[value]
            word = value.strip().lower()
            if word in _WORDS:
                return _WORDS[word]
            try:
                return float(value)
            except ValueError:
                pass
        shown = value if isinstance(value, str) else repr(value)
        self.unknown.setdefault(shown, (record, field))
        return None

    def check(self, path: Path) -> None:
        if not self.unknown:
            return
        values = list(self.unknown)
        record, field = self.unknown[values[0]]
        shown = ", ".join(repr(v) for v in values[:10]) + (f" ... ({len(values)} values)" if len(values) > 10 else "")
        example = ", ".join(f"{v!r}: 1" for v in values[:2])
        raise InputError(path, f"has score values Faultline cannot turn into numbers: {shown}; expected C, I, P, N, "
                         "yes/no, true/false or numbers. Give each its number with the mapping key score_values "
                         f"(for example score_values: {{{example}}})", record=record, field=field)


def _object(value: object, path: Path, record: str, field: str) -> dict:
    """``value`` when it is a JSON object, ``{}`` when absent, else an error naming the field."""
    return expect(value, dict, path, record, field, default={})


def _epoch(value: object, path: Path, record: str) -> int:
    if value is None:
        return 1
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise InputError(path, f"expected a whole number for the epoch, got {json_kind(value)}", record=record, field="epoch")


def _sample_row(sample: dict, path: Path, record: str, scoring: _Scoring) -> dict:
    if not isinstance(sample, dict) or "id" not in sample:
        raise InputError(path, "expected an Inspect sample with an 'id'", record=record, field="id")
    if not isinstance(sample["id"], (str, int)) or isinstance(sample["id"], bool):
        raise InputError(path, f"expected text or a whole number for the sample id, got {json_kind(sample['id'])}",
                         record=record, field="id")
    output = _object(sample.get("output"), path, record, "output")
    completion = output.get("completion")
    if completion is not None and not isinstance(completion, str):
        completion = message_text(completion)
    if not completion:
        choices = output.get("choices") or []
        if not isinstance(choices, list):
            expect(choices, list, path, record, "output.choices")
        if choices:
            choice = _object(choices[0], path, record, "output.choices[0]")
            message = _object(choice.get("message"), path, record, "output.choices[0].message")
            completion = message_text(message.get("content"))
    target = sample.get("target")
    if isinstance(target, list):
        target = " | ".join(str(t) for t in target)
    elif target is not None and not isinstance(target, str):
        target = message_text(target)
    row: dict = {"sample_id": str(sample["id"]), "epoch": _epoch(sample.get("epoch"), path, record),
                 "input": message_text(sample.get("input")), "output": completion,
                 "reference": target, "status": None}
    scores = _object(sample.get("scores"), path, record, "scores")
    status = None
    for scorer, score in scores.items():
        value = score.get("value") if isinstance(score, dict) else score
        if isinstance(value, dict):  # a scorer reporting several metrics
            for key, sub in value.items():
                column = f"{scorer}.{key}"
                scoring.primary = scoring.primary or column
                row[f"score:{column}"] = scoring.number(sub, record, f"scores.{scorer}.value.{key}")
                if sub == "N" and column == scoring.primary:
                    status = "no_answer"
            continue
        scoring.primary = scoring.primary or str(scorer)
        row[f"score:{scorer}"] = scoring.number(value, record, f"scores.{scorer}.value")
        if isinstance(score, dict) and score.get("answer") is not None:
            row[f"meta:{scorer}_answer"] = str(score["answer"])
        if value == "N" and scorer == scoring.primary:  # a secondary scorer's N leaves the outcome alone
            status = "no_answer"
    if sample.get("error"):
        status = "error"
        row["meta:error"] = message_text(sample["error"].get("message") if isinstance(sample["error"], dict) else sample["error"])
    row["status"] = status
    if isinstance(sample.get("choices"), list):
        row["meta:choices"] = " | ".join(map(str, sample["choices"]))
    meta: dict = {}
    flatten("", _object(sample.get("metadata"), path, record, "metadata"), meta)
    row.update({f"meta:{k}": v for k, v in meta.items()})
    usage = _object(output.get("usage"), path, record, "output.usage")
    for key in ("input_tokens", "output_tokens"):
        if isinstance(usage.get(key), (int, float)):
            row[f"meta:{key}"] = usage[key]
    if isinstance(output.get("time"), (int, float)):
        row["meta:time_s"] = output["time"]
    return row


def _primary_result(results: object) -> tuple[int, dict] | None:
    """The log's first scorer result (``results.scores[i]``) with no reducer or the mean one."""
    scores = results.get("scores") if isinstance(results, dict) else None
    if not isinstance(scores, list):
        return None
    entries = [(i, s) for i, s in enumerate(scores) if isinstance(s, dict) and s.get("scorer")]
    if not entries:
        return None
    first = entries[0][1]["scorer"]
    same = [(i, s) for i, s in entries if s["scorer"] == first]
    return next(((i, s) for i, s in same if s.get("reducer") in (None, "mean")), same[0])


def _primary_column(results: object) -> str | None:
    """The score column of the primary scorer: ``scorer``, or ``scorer.key`` for a dict-valued scorer."""
    found = _primary_result(results)
    if found is None:
        return None
    entry = found[1]
    name = entry.get("name") or entry["scorer"]
    return str(entry["scorer"]) if name == entry["scorer"] else f"{entry['scorer']}.{name}"


def _reported(results: object, source: str) -> list[Reported]:
    """Inspect's own figures for the primary scorer (its accuracy / mean metric, n completed samples)."""
    found = _primary_result(results)
    if found is None:
        return []
    index, entry = found
    metrics = entry.get("metrics") if isinstance(entry.get("metrics"), dict) else {}
    n = results.get("completed_samples") or results.get("total_samples")
    n = n if isinstance(n, int) and not isinstance(n, bool) else None
    out = []
    for name in _MEAN_METRICS:
        metric = metrics.get(name)
        value = metric.get("value") if isinstance(metric, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            out.append(Reported(name, float(value), basis="score", n=n,
                                source=f"{source}: results.scores[{index}].metrics.{name} (scorer {entry['scorer']})"))
    return out


def _frame_and_roles(rows: list[dict], path: Path, primary: str | None):
    if not rows:
        raise InputError(path, "is empty: expected an evaluation log with at least one sample")
    several_epochs = len({r["epoch"] for r in rows}) > 1
    for row in rows:
        row["example_id"] = f"{row['sample_id']}#{row['epoch']}" if several_epochs else row["sample_id"]
    rows.sort(key=lambda r: (r["epoch"], _natural(r["sample_id"])))
    frame = rows_to_frame(rows, order=["example_id", "input", "output", "reference", "status"])
    score_cols = [c for c in frame.columns if c.startswith("score:")]
    if f"score:{primary}" in score_cols:
        score_cols.insert(0, score_cols.pop(score_cols.index(f"score:{primary}")))
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


#: Members at most this large are not ratio-checked (a small JSON member may legitimately compress well).
_RATIO_FLOOR = 2**20
#: What reading a damaged member raises: a bad CRC, a broken deflate stream, a cut-off member,
#: an unsupported compression method, an encrypted member.
_MEMBER_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError, OSError)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> bytes:
    limit = max(max_field_bytes() * 4, 256 * 1024**2)
    where = f"member {info.filename}"
    if info.file_size > limit:
        raise InputError(path, ZIP_BOMB.format(detail=f"member {info.filename} expands to {info.file_size} bytes",
                                               limit=f"{limit // 2**20} MB per member (4 x FAULTLINE_MAX_FIELD_MB, at least 256 MB)"), record=where)
    try:
        with archive.open(info) as handle:
            data = handle.read(limit + 1)  # the header's size may lie: never read past the limit
    except _MEMBER_ERRORS as err:
        raise InputError(path, f"is a damaged zip archive ({err}); expected an intact Inspect AI .eval log",
                         record=where) from err
    if len(data) > limit:
        raise InputError(path, ZIP_BOMB.format(detail=f"member {info.filename} expands past its declared size",
                                               limit=f"{limit // 2**20} MB per member (4 x FAULTLINE_MAX_FIELD_MB, at least 256 MB)"), record=where)
    return data


def _check_sizes(infos: list[zipfile.ZipInfo], path: Path) -> None:
    """Refuse an archive whose members expand beyond the budget, or any member (above 1 MiB) compressed more
    than the ratio allows, before anything is decompressed.

    The declared sizes bound the bytes actually decompressed: Python's zipfile never inflates more than a
    member's declared size, and a member whose size lies fails its CRC (a damaged archive, named).
    """
    budget = max_archive_bytes()
    total = sum(i.file_size for i in infos)
    if total > budget:
        raise InputError(path, ZIP_BOMB.format(detail=f"its members expand to {total} bytes",
                                               limit=f"{budget // 2**20} MB (FAULTLINE_MAX_ARCHIVE_MB)"))
    ratio = max_compression_ratio()
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > ratio * max(info.compress_size, 1):
            raise InputError(path, ZIP_BOMB.format(
                detail=f"member {info.filename} is compressed {info.file_size / max(info.compress_size, 1):.0f} times",
                limit=f"a compression ratio of {ratio} per member (FAULTLINE_MAX_COMPRESSION_RATIO)"),
                record=f"member {info.filename}")


def read_inspect_eval(path: Path, *, score_values: dict | None = None) -> list[SourceRun]:
    """Read an Inspect ``.eval`` archive (both layouts) into one run.

    ``score_values`` gives numbers to text score values (the mapping key of that name).
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as err:
        raise InputError(path, f"is not a readable zip archive ({err}); expected an Inspect AI .eval log") from err
    with archive:
        infos = archive.infolist()
        names = {i.filename for i in infos}
        if "header.json" not in names and "_journal/start.json" not in names:
            shown = ", ".join(sorted(names)[:5]) + (" ..." if len(names) > 5 else "")
            raise InputError(path, NOT_INSPECT_ZIP.format(members=shown or "nothing"))
        _check_sizes(infos, path)
        head_name = "header.json" if "header.json" in names else "_journal/start.json"
        header = parse_json_bytes(_read_member(archive, archive.getinfo(head_name), path), path,
                                  member=head_name)
        if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
            raise InputError(path, "expected an 'eval' object in the log header", record=f"member {head_name}", field="eval")
        results = header.get("results")
        scoring = _Scoring(score_values, _primary_column(results))
        rows = []
        for info in infos:
            if not (info.filename.startswith("samples/") and info.filename.endswith(".json")):
                continue
            sample = parse_json_bytes(_read_member(archive, info, path), path, member=info.filename)
            rows.append(_sample_row(sample, path, f"member {info.filename}", scoring))
    scoring.check(path)
    frame, roles = _frame_and_roles(rows, path, scoring.primary)
    return [_run(header["eval"], "inspect_eval", path, frame, roles, header.get("status"),
                 _reported(results, f"{path.name}, member {head_name}"))]


def read_inspect_json(path: Path, *, score_values: dict | None = None) -> list[SourceRun]:
    """Read an Inspect log saved as one JSON document (``score_values`` as for :func:`read_inspect_eval`)."""
    doc = read_json_document(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("eval"), dict):
        raise InputError(path, "expected an Inspect log with an 'eval' object", field="eval")
    samples = doc.get("samples") or []
    if not isinstance(samples, list):
        raise InputError(path, "expected 'samples' to be a list", field="samples")
    results = doc.get("results")
    scoring = _Scoring(score_values, _primary_column(results))
    rows = [_sample_row(s, path, f"sample {i + 1}", scoring) for i, s in enumerate(samples)]
    scoring.check(path)
    frame, roles = _frame_and_roles(rows, path, scoring.primary)
    return [_run(doc["eval"], "inspect_json", path, frame, roles, doc.get("status"), _reported(results, path.name))]


def _run(info: dict, fmt: str, path: Path, frame, roles, status, reported: list[Reported]) -> SourceRun:
    task = info.get("task_display_name") or info.get("task")
    model = info.get("model")
    notes = f"Inspect run {info.get('run_id', '?')}, status {status or 'unknown'}, created {info.get('created', '?')}"
    return SourceRun(fmt, [path], f"{task} · {model}" if model else str(task), model=model, task=task,
                     frame=frame, roles=roles, record_label="sample", notes=notes, tool="Inspect",
                     reported=reported)
