"""Evaluation-log formats, detected by content (the extension only breaks ties).

:func:`detect_format` looks at a file's first bytes; :func:`read_sources` returns the runs
found in a path as :class:`SourceRun` objects for the store to load.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path

from analysis.errors import EMPTY_FILE, UNKNOWN_FORMAT, InputError

from .alpaca_eval import read_alpaca_eval
from .base import SourceRun, json_loads, read_json_document
from .every_eval_ever import read_every_eval_ever
from .flat import diagnose_text_file, frame_source, read_flat
from .helm import helm_run_dirs, read_helm_dir
from .inspect_ai import read_inspect_eval, read_inspect_json
from .lighteval import is_lighteval_details, read_lighteval
from .lm_eval import read_lm_eval
from .mtbench import read_mtbench_pairwise, read_mtbench_single
from .openai_evals import read_openai_evals
from .promptfoo import looks_like_promptfoo_csv, promptfoo_body, read_promptfoo, read_promptfoo_csv

#: Every format id with a one-line description (shown in the UI: plain words, no Markdown characters).
FORMATS: dict[str, str] = {
    "folder": "a folder of logs: each log in it (and its sub-folders) is read, summaries beside them included",
    "csv": "CSV table, one row per example",
    "tsv": "TSV table, one row per example",
    "parquet": "Parquet table, one row per example",
    "json": "JSON array of example records",
    "jsonl": "JSON Lines, one example record per line",
    "dataframe": "pandas DataFrame (Python API)",
    "demo": "Faultline's seeded demo generator",
    "lm_eval": "lm-evaluation-harness --log_samples output (one run per task and filter; 0.4.0 and later)",
    "inspect_eval": "Inspect AI .eval log (zip)",
    "inspect_json": "Inspect AI .json log",
    "helm": "HELM run folder (scenario state, per-instance stats and run spec)",
    "openai_evals": "OpenAI evals run log (JSONL)",
    "promptfoo": "promptfoo results JSON",
    "promptfoo_csv": "promptfoo CSV export (a [provider] column per provider, each with Status and Score)",
    "alpaca_eval": "AlpacaEval annotations.json (pairwise preferences against a baseline)",
    "mtbench_pairwise": "MT-Bench pairwise judgments (FastChat llm_judge, one line per pair)",
    "mtbench_single": "MT-Bench single-answer judgments (FastChat llm_judge, a 1-10 rating per answer)",
    "every_eval_ever": "Every Eval Ever instance-level samples (with the aggregate JSON beside them)",
    "lighteval": "lighteval details Parquet (with its results JSON)",
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
        return "folder"
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head.strip():
        raise InputError(path, EMPTY_FILE)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "inspect_eval"
    if head.startswith(b"PAR1"):
        return "lighteval" if is_lighteval_details(path) else "parquet"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if text.startswith("{"):
        if _looks_every_eval_ever(text):
            return "every_eval_ever"
        first_line = text.split("\n", 1)[0]
        try:
            first = json_loads(first_line, path, record="line 1")
        except json.JSONDecodeError:
            first = None
        if isinstance(first, dict):
            if "g1_winner" in first and "model_1" in first and "model_2" in first:
                return "mtbench_pairwise"
            if {"question_id", "model", "judge", "score"} <= first.keys():
                return "mtbench_single"
            if "spec" in first and isinstance(first["spec"], dict):
                return "openai_evals"
            if "doc_id" in first and ("doc" in first or "arguments" in first):
                return "lm_eval"
            return _document_format(first, path) or "jsonl"
        if first is None and _LM_EVAL_LINE.match(text):  # a first sample longer than the bytes read
            return "lm_eval"
        keys = set(re.findall(r'^\s{0,4}"([A-Za-z_]+)"\s*:', text, flags=re.MULTILINE))
        if "evalId" in keys and "results" in keys:
            return "promptfoo"
        if "eval" in keys and ("samples" in keys or "status" in keys or "plan" in keys):
            return "inspect_json"
        if "request_states" in keys:
            raise InputError(path, _HELM_STATE)
        if "lm_eval_version" in keys or ("results" in keys and "configs" in keys):
            raise InputError(path, _LM_EVAL_RESULTS)
        # An object spread over several lines is one JSON document (JSON Lines cannot break a
        # record): recognise it by its top-level keys, or say which keys it has.
        return _spread_document_format(path, text)
    if text.startswith("["):
        if all(re.search(rf'"{key}"\s*:', text) for key in ("output_1", "output_2", "preference")):
            return "alpaca_eval"
        if re.match(r'\[\s*\{\s*"instance_id"', text):
            raise InputError(path, "is a HELM per_instance_stats.json: load the run folder that holds it")
        if _LM_EVAL_ARRAY.match(text):  # lm-eval 0.4.0-0.4.2 wrote each task's samples as one JSON array
            return "lm_eval"
        return "json"
    first_line = text.split("\n", 1)[0]
    if path.suffix.lower() == ".tsv" or first_line.count("\t") > first_line.count(","):
        return "tsv"
    if "," in first_line and looks_like_promptfoo_csv(next(csv.reader([first_line]), [])):
        return "promptfoo_csv"
    if "," in first_line or path.suffix.lower() == ".csv":
        return "csv"
    if "\t" not in first_line and "," not in first_line and "\n" not in text.strip():
        raise InputError(path, UNKNOWN_FORMAT)
    return "csv"


def _looks_every_eval_ever(text: str) -> bool:
    """An Every Eval Ever samples line or aggregate: its schema's keys, even in a first line cut off by the head."""
    return all(re.search(rf'"{key}"\s*:', text) for key in ("schema_version", "evaluation_id")) and \
        re.search(r'"(interaction_type|evaluation_results)"\s*:', text) is not None


_HELM_STATE = ("is a HELM scenario_state.json: load the run folder that holds it "
               "(with per_instance_stats.json and run_spec.json)")
_LM_EVAL_RESULTS = ("is an lm-evaluation-harness results summary: load the samples_*.jsonl "
                    "file beside it (written with --log_samples)")
_LIGHTEVAL_RESULTS = "is a lighteval results summary: load the details_*.parquet file of its run"


def _document_format(doc: dict, path: Path) -> str | None:
    """The format of a whole JSON document from its top-level keys; None when none fits.

    Summaries that hold no examples (a HELM scenario state, an lm-eval or lighteval results file)
    are refused, saying which file to load instead.
    """
    if promptfoo_body(doc) is not None:
        return "promptfoo"
    if isinstance(doc.get("eval"), dict):
        return "inspect_json"
    if "request_states" in doc:
        raise InputError(path, _HELM_STATE)
    if "lm_eval_version" in doc or ("results" in doc and "configs" in doc):
        raise InputError(path, _LM_EVAL_RESULTS)
    if "config_general" in doc and "results" in doc:
        raise InputError(path, _LIGHTEVAL_RESULTS)
    return None


def _spread_document_format(path: Path, text: str) -> str:
    lines = re.split(r"\r\n|\r|\n", text, maxsplit=2)
    if len(lines) > 1 and lines[0].rstrip().endswith("}") and lines[1].lstrip().startswith("{"):
        return "jsonl"  # JSON Lines whose first record is broken: the JSONL reader names the line
    doc = read_json_document(path)  # a broken document gets its own error, with line and column
    if isinstance(doc, list):
        return "json"
    if not isinstance(doc, dict):
        raise InputError(path, f"is a JSON document holding a {type(doc).__name__}; expected an object or an "
                         "array of example records")
    found = _document_format(doc, path)
    if found:
        return found
    keys = list(map(str, doc))
    shown = ", ".join(keys[:20]) + (f" ... ({len(keys)} keys)" if len(keys) > 20 else "")
    raise InputError(path, f"is a JSON document (not JSON Lines) of a layout Faultline does not know; its top-level "
                     f"keys are: {shown or 'none'}. Expected an Inspect AI log, promptfoo results, an array of "
                     "example records, or JSON Lines (one example object per line)")


#: Names of files that only accompany a log (a summary, a question set, a schema): read by the log's reader
#: when they lie beside it, never a run of their own.
_COMPANION_NAMES = re.compile(r"^(stats|schema|scenario|run_spec|question|questions)\.jsonl?$|leaderboard\.csv$",
                              re.IGNORECASE)
_SUMMARY_MESSAGES = (_LM_EVAL_RESULTS, _LIGHTEVAL_RESULTS)


def is_companion(path: str | Path, batch: Sequence[str | Path]) -> bool:
    """Whether a file, loaded together with ``batch``, only accompanies a log of that batch.

    A summary the tool wrote beside its log (lm-eval's ``results_*.json``, HELM's ``stats.json``,
    FastChat's ``question.jsonl``, AlpacaEval's leaderboard, a lighteval results file) is read by
    the log's reader when it lies in the same folder: uploaded or passed together with the log,
    it is not a run of its own. Loaded alone, it is refused saying which file to load.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> stats = out / "stats.json"; _ = stats.write_text("[]")
    >>> is_companion(stats, [out / "scenario_state.json"]), is_companion(stats, [])
    (True, False)
    """
    path = Path(path)
    others = [Path(p) for p in batch if Path(p) != path]
    if not path.is_file() or not any(o.parent == path.parent or o == path.parent for o in others):
        return False
    if _COMPANION_NAMES.search(path.name):
        return True
    try:
        detect_format(path)
    except InputError as err:
        return any(m in str(err) for m in _SUMMARY_MESSAGES)
    return False


#: Files in a folder of logs that are not logs: notes, configs, pictures.
_NOT_LOGS = {".txt", ".md", ".rst", ".yaml", ".yml", ".toml", ".py", ".sh", ".png", ".jpg", ".jpeg", ".svg",
             ".pdf", ".html", ".log", ".lock", ".gitignore"}


def folder_logs(path: str | Path, *, max_depth: int = 6) -> list[Path]:
    """The logs in a folder that is not itself a HELM run: every file (down to ``max_depth`` levels)
    that is not a note or config (``.txt``, ``.md``, ``.yaml``...), and not a summary beside one of them
    (:func:`is_companion`); a HELM run folder inside counts as one log.

    Raises
    ------
    analysis.errors.InputError
        The folder holds no log.
    """
    path = Path(path)
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        if helm_run_dirs(folder) and folder != path:
            found.append(folder)
            return
        for child in sorted(folder.iterdir()):
            if child.name.startswith("."):
                continue
            if child.is_dir():
                if depth < max_depth:
                    walk(child, depth + 1)
            elif child.suffix.lower() not in _NOT_LOGS:
                found.append(child)

    walk(path, 1)
    logs = [f for f in found if not is_companion(f, found)]
    if not logs:
        raise InputError(path, "is a folder with no evaluation log in it; " + UNKNOWN_FORMAT.removeprefix("is "))
    return logs


_READERS = {
    "lm_eval": read_lm_eval,
    "inspect_eval": read_inspect_eval,
    "inspect_json": read_inspect_json,
    "helm": read_helm_dir,
    "openai_evals": read_openai_evals,
    "promptfoo": read_promptfoo,
    "promptfoo_csv": read_promptfoo_csv,
    "alpaca_eval": read_alpaca_eval,
    "mtbench_pairwise": read_mtbench_pairwise,
    "mtbench_single": read_mtbench_single,
    "every_eval_ever": read_every_eval_ever,
    "lighteval": read_lighteval,
}


def read_sources(path: str | Path, *, fmt: str | None = None, score_values: dict | None = None) -> list[SourceRun]:
    """The runs in one file or folder, read with the detected (or given) format.

    ``score_values`` (the mapping key) gives numbers to text score values of the logs that have
    them (Inspect's custom score values).
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt == "folder":
        return [run for log in folder_logs(path) for run in read_sources(log, score_values=score_values)]
    if fmt not in FORMATS or fmt in ("dataframe", "demo"):
        readable = ", ".join(k for k in FORMATS if k not in ("dataframe", "demo"))
        raise InputError(path, f"unknown format {fmt!r}; expected one of {readable}")
    if fmt in ("inspect_eval", "inspect_json"):
        return _READERS[fmt](path, score_values=score_values)
    if fmt in _READERS:
        return _READERS[fmt](path)
    return read_flat(path, fmt)


__all__ = ["FORMATS", "SourceRun", "detect_format", "diagnose_text_file", "folder_logs", "frame_source", "is_companion",
           "read_sources"]
