"""Column roles: which source column is the id, the input, the output, the outcome...

Roles are guessed from column names and types, shown to the user, and can be set
explicitly with a mapping (a YAML or JSON file, a dict, or the Data page). A guess is never
silently trusted: :class:`RoleGuess` carries the reason for every assignment so the UI and
the CLI can show it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from analysis.errors import FaultlineError, InputError
from analysis.formats.base import json_loads
from analysis.formats.validation import (
    MSG_TOO_LARGE,
    STRICT,
    KnownKeys,
    LocatedError,
    load_yaml,
    located,
    max_bytes,
    problems,
    what,
)

Role = Literal["id", "task", "input", "output", "reference", "correct", "score", "metadata",
               "signal", "rater", "embedding", "ignore"]

#: Roles that at most one column can take.
SINGLE_ROLES: tuple[str, ...] = ("id", "task", "input", "output", "reference", "correct", "score",
                                 "embedding")
#: Roles several columns can take.
MULTI_ROLES: tuple[str, ...] = ("metadata", "signal", "rater", "ignore")

# Name patterns, tried in order; the first column that matches wins a single role.
_NAME_PATTERNS: dict[str, list[str]] = {
    "id": [r"example_id", r"sample_id", r"doc_id", r"instance_id", r"item_id", r"question_id",
           r"qid", r"uid", r"id"],
    "task": [r"task", r"task_name", r"benchmark", r"subset"],
    "input": [r"input", r"prompt", r"question", r"query", r"instruction", r"context", r"source",
              r"problem", r"text"],
    "output": [r"output", r"response", r"completion", r"prediction", r"pred", r"generation",
               r"model_output", r"answer_pred", r"sampled", r"model_answer"],
    "reference": [r"reference", r"target", r"gold", r"expected", r"ground_truth", r"label",
                  r"answer", r"references", r"ideal"],
    "correct": [r"correct", r"is_correct", r"passed", r"pass", r"success", r"acc", r"accuracy",
                r"exact_match", r"em", r"is_right", r"right", r"match"],
    "score": [r"score", r"final_score", r"f1", r"rouge", r"bleu", r"quasi_exact_match", r"grade",
              r"reward", r"points"],
}
_SIGNAL_PATTERN = re.compile(
    r"(^rm_|_rm$|reward|^kl|_kl$|kl_|loss|perplexity|logprob|log_prob|penalty|"
    r"response_length|output_length|completion_length|num_tokens|length)", re.IGNORECASE)
_RATER_PATTERN = re.compile(r"^(rater|annotator|judge|grader|human_label|human)[ _\-.]?", re.IGNORECASE)
_EMBED_PATTERN = re.compile(r"^(embedding|embeddings|vector|emb)$", re.IGNORECASE)

MSG_MAPPING_NOT_MAPPING = "expected a mapping of role: column, got {got}"
MSG_MAPPING_NOT_JSON = "is not valid JSON: {problem}"
MSG_MAPPING_NOT_UTF8 = "is not UTF-8 text ({reason} at byte {start})"
MSG_MAPPING_UNREADABLE = "cannot be read: {reason}"
MSG_COLUMN_NAME = "expected a column name (text), got {got}"
MSG_COLUMN_NAMES = "expected a list of column names, got {got}"
MSG_COLUMN_NOT_IN_LOG = "names column {column!r}, which is not in the log; the log's columns are: {columns}"


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass
class RoleGuess:
    """The role of every source column, with the reason it was given.

    ``roles`` maps a source column name to its role; ``reasons`` maps it to a short
    human-readable why ("name matches 'prompt'", "set by mapping file", "numeric column").
    """

    roles: dict[str, str]
    reasons: dict[str, str] = field(default_factory=dict)
    correct_threshold: float = 0.5
    threshold_source: str = ""
    """Who set ``correct_threshold``: empty for the default, else e.g. "set by mapping.yaml"."""
    missing_values: dict[str, list] = field(default_factory=dict)
    """Per column, values that mean "not scored" (a judge's -1): such a row is unscorable, not wrong."""

    def column_for(self, role: str) -> str | None:
        """The column holding a single role, or None."""
        for col, r in self.roles.items():
            if r == role:
                return col
        return None

    def columns_for(self, role: str) -> list[str]:
        """Every column holding a role, in source order."""
        return [c for c, r in self.roles.items() if r == role]

    def as_table(self) -> list[dict[str, str]]:
        """Rows of (column, role, reason) for display."""
        return [{"column": c, "role": r, "reason": self.reasons.get(c, "")}
                for c, r in self.roles.items()]


def guess_roles(columns: dict[str, str]) -> RoleGuess:
    """Guess roles from column names and DuckDB type names.

    >>> g = guess_roles({"question": "VARCHAR", "response": "VARCHAR", "gold": "VARCHAR",
    ...                  "passed": "BOOLEAN", "lang": "VARCHAR", "rm_score": "DOUBLE"})
    >>> g.column_for("input"), g.column_for("output"), g.column_for("correct"), g.roles["rm_score"]
    ('question', 'response', 'passed', 'signal')
    """
    roles: dict[str, str] = {}
    reasons: dict[str, str] = {}
    normal = {c: _normalise(c) for c in columns}
    taken: set[str] = set()
    for role, patterns in _NAME_PATTERNS.items():
        found = None
        for pattern in patterns:
            for col, norm in normal.items():
                if col in taken:
                    continue
                if norm == pattern:
                    found = (col, pattern)
                    break
            if found:
                break
        if found:
            col, pattern = found
            if role in ("correct", "score") and not _outcome_type_ok(columns[col], role):
                continue
            roles[col] = role
            reasons[col] = f"name matches '{pattern}'"
            taken.add(col)
    for col, dtype in columns.items():
        if col in taken:
            continue
        if _EMBED_PATTERN.match(col) and dtype.endswith("[]"):
            roles[col], reasons[col] = "embedding", "vector column named like an embedding"
        elif _RATER_PATTERN.match(col) and not _names_a_judge(col, dtype):
            roles[col], reasons[col] = "rater", "name looks like a rater's judgement"
        elif _SIGNAL_PATTERN.search(col) and _is_numeric(dtype):
            roles[col], reasons[col] = "signal", "numeric column named like an objective signal"
        else:
            roles[col], reasons[col] = "metadata", "other column: kept as metadata"
    ordered = {c: roles[c] for c in columns}
    return RoleGuess(ordered, {c: reasons[c] for c in columns})


_JUDGE_IDENTITY = re.compile(r"^(rater|annotator|judge|grader)s?([ _\-.]?(model|name|id|prompt|version|type))?$",
                             re.IGNORECASE)


def _names_a_judge(col: str, dtype: str) -> bool:
    """Whether a rater-like column names who judged (``judge``, ``judge_model``, a list of names)
    rather than holding a verdict: a list or struct, or a text column named just for the judge.

    >>> _names_a_judge("judge", "VARCHAR[]"), _names_a_judge("judge_model", "VARCHAR"), _names_a_judge("rater_a", "INTEGER")
    (True, True, False)
    """
    d = dtype.upper()
    if d.endswith("[]") or d.startswith(("STRUCT", "MAP")) or d == "JSON":
        return True
    return bool(_JUDGE_IDENTITY.match(col)) and not _is_numeric(d) and d != "BOOLEAN"


def _is_numeric(dtype: str) -> bool:
    d = dtype.upper()
    return any(t in d for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "HUGEINT")) and "[]" not in d


def _outcome_type_ok(dtype: str, role: str) -> bool:
    d = dtype.upper()
    if "[]" in d or "STRUCT" in d or "MAP" in d:
        return False
    if role == "score":
        return _is_numeric(d) or d == "VARCHAR"
    return True


def apply_mapping(guess: RoleGuess, mapping: dict, *, source: str = "mapping") -> RoleGuess:
    """Override guessed roles with an explicit mapping (see :func:`load_mapping`).

    Columns named in the mapping take the given role; a column that the guess had given a
    single role now claimed by another column falls back to metadata.

    >>> g = guess_roles({"q": "VARCHAR", "a": "VARCHAR", "ok": "BOOLEAN"})
    >>> apply_mapping(g, {"input": "q", "output": "a", "correct": "ok"}).column_for("input")
    'q'
    """
    roles = dict(guess.roles)
    reasons = dict(guess.reasons)
    columns = list(roles)

    def need(col: str, key: str) -> None:
        if col not in roles:
            raise InputError(source, MSG_COLUMN_NOT_IN_LOG.format(column=col, columns=", ".join(columns)), field=key)

    for role in SINGLE_ROLES:
        if role in mapping and mapping[role] is not None:
            col = mapping[role]
            need(col, role)
            for other, r in list(roles.items()):
                if r == role and other != col:
                    roles[other], reasons[other] = "metadata", f"role {role} given to {col!r} by {source}"
            roles[col], reasons[col] = role, f"set by {source}"
    for key, role in (("metadata", "metadata"), ("signals", "signal"), ("raters", "rater"),
                      ("ignore", "ignore")):
        for col in mapping.get(key) or []:
            need(col, key)
            roles[col], reasons[col] = role, f"set by {source}"
    threshold = mapping.get("correct_threshold", guess.correct_threshold)
    threshold_source = f"set by {source}" if mapping.get("correct_threshold") is not None else guess.threshold_source
    missing = dict(guess.missing_values)
    for col, values in (mapping.get("missing_values") or {}).items():
        need(col, "missing_values")
        missing[col] = list(values)
    return RoleGuess(roles, reasons, float(threshold), threshold_source, missing)


def _column(value: object) -> object:
    if not isinstance(value, str):
        raise located(MSG_COLUMN_NAME.format(got=what(value)))
    return value


def _columns(value: object) -> object:
    if not isinstance(value, (list, tuple)):
        raise located(MSG_COLUMN_NAMES.format(got=what(value)))
    return value


ColumnName = Annotated[str, BeforeValidator(_column, json_schema_input_type=str)]
"""A source column's name, exactly as the log spells it."""
ColumnNames = Annotated[list[ColumnName], BeforeValidator(_columns, json_schema_input_type=list[str])]
"""A list of source column names."""


class RoleMapping(KnownKeys, BaseModel):
    """A mapping file: the source column of each role, overriding the guessed roles (see :func:`load_mapping`)."""

    model_config = STRICT | {"title": "Faultline mapping file"}

    id: ColumnName | None = None
    """The column holding each example's id (unique within a run); none numbers the rows."""
    task: ColumnName | None = None
    """The column naming each example's task or subset."""
    input: ColumnName | None = None
    """The column holding the prompt or question."""
    output: ColumnName | None = None
    """The column holding the model's answer."""
    reference: ColumnName | None = None
    """The column holding the reference (gold) answer."""
    correct: ColumnName | None = None
    """The column saying whether the answer is correct (true/false, 1/0, yes/no, pass/fail)."""
    score: ColumnName | None = None
    """The column holding a numeric score; an example is correct when it reaches ``correct_threshold``."""
    embedding: ColumnName | None = None
    """The column holding a precomputed embedding vector of each example."""
    metadata: ColumnNames | None = None
    """Columns kept as metadata (attributes to slice by)."""
    signals: ColumnNames | None = None
    """Columns holding per-example signals of the training objective (reward-model scores, KL, penalties)."""
    raters: ColumnNames | None = None
    """Columns holding raters' judgements."""
    ignore: ColumnNames | None = None
    """Columns left out of the store."""
    correct_threshold: Annotated[float, Field(strict=True, allow_inf_nan=False)] | None = None
    """The least score that counts as correct (default 0.5; stated wherever correctness is used)."""
    missing_values: dict[Annotated[str, Field(strict=True)],
                         list[Annotated[float, Field(strict=True)] | Annotated[str, Field(strict=True)] | bool]] | None = None
    """Per outcome column, values that mean "not scored", e.g. ``{score: [-1]}`` for a judge that gave no
    rating: those examples are unscorable, not wrong."""
    score_values: dict[Annotated[str, Field(strict=True)], Annotated[float, Field(allow_inf_nan=False)]] | None = None
    """Numbers for text score values, e.g. ``{"A": 1, "B": 0.5, "F": 0}``: Inspect's custom score values
    (they also override Inspect's own C = 1, P = 0.5, I = 0, N = 0)."""
    name: Annotated[str, Field(strict=True)] | None = None
    """The run's name."""
    model: Annotated[str, Field(strict=True)] | None = None
    """The model evaluated."""
    notes: Annotated[str, Field(strict=True)] | None = None
    """Free text kept with the run."""


#: The keys a mapping may have.
MAPPING_KEYS = frozenset(RoleMapping.model_fields)


def load_mapping(path: str | Path) -> dict:
    """Read a mapping file (YAML or JSON) and validate its keys and values.

    A mapping names the source column for each role, for example::

        id: qid
        input: question
        output: response
        reference: gold
        correct: is_correct        # or score: f1 (with correct_threshold: 0.5)
        missing_values: {score: [-1]}   # values meaning "not scored" (unscorable, not wrong)
        signals: [rm_helpfulness, kl_to_ref]
        raters: [rater_a, rater_b]
        ignore: [debug]
        name: my-run                # optional run name and model
        model: acme-7b

    Errors name the file, the line and the key (:class:`~analysis.errors.InputError`); a file above
    1 MiB is refused unread, and so is YAML whose aliases expand beyond 100,000 values.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes():
            raise InputError(path, MSG_TOO_LARGE.format(size=size, limit=max_bytes()))
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise InputError(path, MSG_MAPPING_NOT_UTF8.format(reason=err.reason, start=err.start)) from err
    except OSError as err:
        raise InputError(path, MSG_MAPPING_UNREADABLE.format(reason=err.strerror)) from err
    if path.suffix.lower() == ".json":
        try:
            data = json_loads(text, path)
        except json.JSONDecodeError as err:
            raise InputError(path, MSG_MAPPING_NOT_JSON.format(problem=err.msg), record=f"line {err.lineno}") from err
        try:  # JSON's keys sit where a YAML reader finds them: their lines, for the messages
            _, lines = load_yaml(text)
        except LocatedError:
            lines = {}
    else:
        try:
            data, lines = load_yaml(text)
        except LocatedError as err:
            problem = err.problem
            raise InputError(path, problem.message, record=f"line {problem.line}" if problem.line else None,
                             field=problem.key) from err
    return validate_mapping(data, source=str(path), lines=lines)


def validate_mapping(data: object, *, source: str = "mapping", lines: dict[str, int] | None = None) -> dict:
    """Check a mapping's keys and value types (:class:`RoleMapping`); return the keys it was given.

    ``lines`` (key path -> line in the file) lets the error name the line.

    >>> validate_mapping({"input": "q", "signals": ["rm"]})
    {'input': 'q', 'signals': ['rm']}
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        line = (lines or {}).get("")
        raise InputError(source, MSG_MAPPING_NOT_MAPPING.format(got=what(data)), record=f"line {line}" if line else None)
    try:
        mapping = RoleMapping.model_validate(data)
    except ValidationError as err:
        first = problems(err, lines or {})[0]
        raise InputError(source, first.message, record=f"line {first.line}" if first.line else None,
                         field=first.key) from err
    return mapping.model_dump(exclude_unset=True)


#: Every role a column can take in the Data page's editor.
ALL_ROLES: tuple[str, ...] = ("id", "task", "input", "output", "reference", "correct", "score", "scores", "status",
                              "metadata", "signal", "rater", "embedding", "source_row", "ignore")


def edited_guess(guess: RoleGuess, roles: dict[str, str]) -> RoleGuess:
    """A guess with roles edited by the user, checked: single roles held by at most one column.

    >>> g = guess_roles({"q": "VARCHAR", "ok": "BOOLEAN"})
    >>> edited_guess(g, {"q": "input", "ok": "correct"}).column_for("input")
    'q'
    """
    for role in set(roles.values()):
        if role not in ALL_ROLES:
            raise FaultlineError(f"Unknown role {role!r}; expected one of {', '.join(ALL_ROLES)}")
    for role in SINGLE_ROLES + ("status", "source_row"):
        holders = [c for c, r in roles.items() if r == role]
        if len(holders) > 1:
            raise FaultlineError(f"The role {role!r} is given to {len(holders)} columns ({', '.join(holders)}); "
                                 "give it to one column and make the others metadata")
    reasons = {c: (guess.reasons.get(c, "") if guess.roles.get(c) == r else "set by you") for c, r in roles.items()}
    return RoleGuess(dict(roles), reasons, guess.correct_threshold, guess.threshold_source,
                     dict(guess.missing_values))
