"""Evaluation-log formats, detected by content (the extension only breaks ties).

:func:`detect_format` looks at a file's first bytes; :func:`read_sources` returns the runs
found in a path as :class:`SourceRun` objects for the store to load.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from analysis.errors import EMPTY_FILE, UNKNOWN_FORMAT, InputError

from .base import SourceRun
from .flat import diagnose_text_file, frame_source, read_flat
from .helm import helm_run_dirs, read_helm_dir
from .inspect_ai import read_inspect_eval, read_inspect_json
from .lm_eval import read_lm_eval
from .openai_evals import read_openai_evals
from .promptfoo import read_promptfoo

#: Every format id with a one-line description (shown in the UI and README).
FORMATS: dict[str, str] = {
    "csv": "CSV table, one row per example",
    "tsv": "TSV table, one row per example",
    "parquet": "Parquet table, one row per example",
    "json": "JSON array of example records",
    "jsonl": "JSON Lines, one example record per line",
    "dataframe": "pandas DataFrame (Python API)",
    "demo": "Faultline's seeded demo generator",
    "lm_eval": "lm-evaluation-harness --log_samples output (samples_*.jsonl; 0.4.0-0.4.2 JSON arrays)",
    "inspect_eval": "Inspect AI .eval log (zip)",
    "inspect_json": "Inspect AI .json log",
    "helm": "HELM run folder (scenario_state.json + per_instance_stats.json + run_spec.json)",
    "openai_evals": "OpenAI evals run log (JSONL)",
    "promptfoo": "promptfoo results JSON",
}

_HEAD_BYTES = 256 * 1024
#: An lm-eval 0.4.0-0.4.2 samples file: a JSON array whose first object opens with doc_id, then doc.
_LM_EVAL_ARRAY = re.compile(r'\[\s*\{\s*"doc_id"\s*:\s*-?\d+\s*,\s*"doc"\s*:')
_LM_EVAL_LINE = re.compile(r'\{\s*"doc_id"\s*:\s*-?\d+\s*,\s*"doc"\s*:')


def detect_format(path: str | Path) -> str:
    """Name the format of a file or folder from its content.

    >>> from pathlib import Path
    >>> p = Path(__import__("tempfile").mkdtemp()) / "log.txt"
    >>> _ = p.write_text("question,answer,correct\\nWhat is 2+2?,4,true\\n")
    >>> detect_format(p)
    'csv'
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "does not exist")
    if path.is_dir():
        if helm_run_dirs(path):
            return "helm"
        raise InputError(path, "is a folder that is not a HELM run; " + UNKNOWN_FORMAT.removeprefix("is "))
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head.strip():
        raise InputError(path, EMPTY_FILE)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "inspect_eval"
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text.startswith("{"):
        first_line = text.split("\n", 1)[0]
        try:
            first = json.loads(first_line)
        except json.JSONDecodeError:
            first = None
        if isinstance(first, dict):
            if "spec" in first and isinstance(first["spec"], dict):
                return "openai_evals"
            if "doc_id" in first and ("doc" in first or "arguments" in first):
                return "lm_eval"
            if _looks_whole_document(first):
                return _whole_document_format(first, path)
            return "jsonl"
        if first is None and _LM_EVAL_LINE.match(text):  # a first sample longer than the bytes read
            return "lm_eval"
        keys = set(re.findall(r'^\s{0,4}"([A-Za-z_]+)"\s*:', text, flags=re.MULTILINE))
        if "evalId" in keys and "results" in keys:
            return "promptfoo"
        if "eval" in keys and ("samples" in keys or "status" in keys or "plan" in keys):
            return "inspect_json"
        if "request_states" in keys:
            raise InputError(path, "is a HELM scenario_state.json: load the run folder that holds it "
                             "(with per_instance_stats.json and run_spec.json)")
        if "lm_eval_version" in keys or ("results" in keys and "configs" in keys):
            raise InputError(path, "is an lm-evaluation-harness results summary: load the samples_*.jsonl "
                             "file beside it (written with --log_samples)")
        if first_line.strip().endswith("}") or "\n" not in text:
            return "jsonl"
        return "jsonl"
    if text.startswith("["):
        if re.match(r'\[\s*\{\s*"instance_id"', text):
            raise InputError(path, "is a HELM per_instance_stats.json: load the run folder that holds it")
        if _LM_EVAL_ARRAY.match(text):  # lm-eval 0.4.0-0.4.2 wrote each task's samples as one JSON array
            return "lm_eval"
        return "json"
    first_line = text.split("\n", 1)[0]
    if path.suffix.lower() == ".tsv" or first_line.count("\t") > first_line.count(","):
        return "tsv"
    if "," in first_line or path.suffix.lower() == ".csv":
        return "csv"
    if "\t" not in first_line and "," not in first_line and "\n" not in text.strip():
        raise InputError(path, UNKNOWN_FORMAT)
    return "csv"


def _looks_whole_document(first: dict) -> bool:
    return ("evalId" in first and "results" in first) or ("eval" in first and isinstance(first.get("eval"), dict)) \
        or "request_states" in first


def _whole_document_format(first: dict, path: Path) -> str:
    if "evalId" in first:
        return "promptfoo"
    if "request_states" in first:
        raise InputError(path, "is a HELM scenario_state.json: load the run folder that holds it")
    return "inspect_json"


_READERS = {
    "lm_eval": read_lm_eval,
    "inspect_eval": read_inspect_eval,
    "inspect_json": read_inspect_json,
    "helm": read_helm_dir,
    "openai_evals": read_openai_evals,
    "promptfoo": read_promptfoo,
}


def read_sources(path: str | Path, *, fmt: str | None = None) -> list[SourceRun]:
    """The runs in one file or folder, read with the detected (or given) format."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS or fmt in ("dataframe", "demo"):
        readable = ", ".join(k for k in FORMATS if k not in ("dataframe", "demo"))
        raise InputError(path, f"unknown format {fmt!r}; expected one of {readable}")
    if fmt in _READERS:
        return _READERS[fmt](path)
    return read_flat(path, fmt)


__all__ = ["FORMATS", "SourceRun", "detect_format", "diagnose_text_file", "frame_source", "read_sources"]
