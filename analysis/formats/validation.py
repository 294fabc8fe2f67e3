"""Files a user writes by hand (the mapping file, the objective spec), validated by pydantic models.

The models say what a file may hold; this module gives them what pydantic alone does not:

- :func:`load_yaml` reads YAML (or JSON, a subset of it) and records the line of every key and list
  item, refuses a key written twice, a file above :data:`MAX_BYTES` and a document whose aliases
  expand beyond :data:`MAX_VALUES` values (the "billion laughs");
- :class:`KnownKeys` makes a model refuse an unknown key with a message that lists the keys it knows;
- :func:`problems` turns a :class:`pydantic.ValidationError` into :class:`Problem` s that name the
  line and the key (``components[1].kind``) and say what was expected, first line first.

>>> data, lines = load_yaml("input: question\\nsignals:\\n  - rm_score\\n")
>>> data, lines["signals[0]"]
({'input': 'question', 'signals': ['rm_score']}, 3)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from analysis.errors import FaultlineError

#: Largest file read by default (bytes): 1 MiB, far above any hand-written spec or mapping
#: (env FAULTLINE_MAX_SPEC_KB, in KiB; :func:`max_bytes`).
MAX_BYTES = 2**20
#: Most values (mapping entries' values, list items, scalars) a document may hold once its YAML
#: aliases are expanded: a few kilobytes of aliases can otherwise stand for billions of values
#: (env FAULTLINE_MAX_SPEC_VALUES; :func:`max_values`).
MAX_VALUES = 100_000
BYTES_ENV_VAR = "FAULTLINE_MAX_SPEC_KB"
VALUES_ENV_VAR = "FAULTLINE_MAX_SPEC_VALUES"

MSG_TOO_LARGE = ("is {size} bytes, above the limit of {limit} bytes; expected a smaller file (the limit is set by "
                 "FAULTLINE_MAX_SPEC_KB)")
MSG_TOO_MANY_VALUES = ("holds more than {limit} values once its YAML aliases (*name) are expanded; expected at most "
                       "{limit} (the limit is set by FAULTLINE_MAX_SPEC_VALUES)")
MSG_BAD_LIMIT = "the environment variable {name} is {value!r}; expected a positive number"
MSG_TOO_DEEP = "is nested too deeply to read; expected a few levels of mappings and lists"
MSG_NOT_YAML = "is not valid YAML: {problem}"
MSG_TAG = ("uses a YAML tag Faultline does not read ({problem}); expected plain YAML: text, numbers, true/false, "
           "lists and mappings")
MSG_DUPLICATE_KEY = "the key {key!r} appears twice (first at line {line})"
MSG_NOT_MAPPING = "expected a mapping (key: value lines), got {got}"
MSG_NOT_LIST = "expected a list, got {got}"
MSG_NOT_TEXT = "expected text, got {got}"
MSG_NOT_NUMBER = "expected a number, got {got}"
MSG_NOT_FINITE = "expected a finite number, got {got}"
MSG_UNKNOWN_KEY = "unknown key {key!r}; expected one of {expected}"
MSG_MISSING_KEY = "missing key {key!r}"
MSG_CHOICE = "expected one of {expected}, got {got}"

def env_limit(name: str, default: int, *, scale: int = 1) -> int:
    """A limit from the environment variable ``name`` (times ``scale``), else ``default``.

    A value that is not a positive number is an error naming the variable.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (value > 0 and math.isfinite(value)):
        raise FaultlineError(MSG_BAD_LIMIT.format(name=name, value=raw))
    return int(value * scale)


def max_bytes() -> int:
    """Largest hand-written file read, in bytes (:data:`MAX_BYTES` unless FAULTLINE_MAX_SPEC_KB says)."""
    return env_limit(BYTES_ENV_VAR, MAX_BYTES, scale=1024)


def max_values() -> int:
    """Most values once aliases are expanded (:data:`MAX_VALUES` unless FAULTLINE_MAX_SPEC_VALUES says)."""
    return env_limit(VALUES_ENV_VAR, MAX_VALUES)


#: Model settings every hand-written file's models share: unknown keys are errors, and the
#: docstring under each field is its description in the JSON schema.
STRICT = ConfigDict(extra="forbid", use_attribute_docstrings=True)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: what, and where."""

    message: str
    """What is wrong and what was expected."""
    line: int | None = None
    """1-based line in the file, when known."""
    key: str | None = None
    """Key path such as ``components[1].signals[0].column``; None for the whole file."""


class LocatedError(FaultlineError):
    """A problem found while reading a file, before its model saw it (callers re-raise it as theirs)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(problem.message)


def what(value: object) -> str:
    """How a value read from a file is named in an error message.

    >>> what({}), what([1]), what(None), what("up")
    ('a mapping', 'a list', 'nothing', "'up'")
    """
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def located(message: str, *at: str | int) -> PydanticCustomError:
    """A validation error with a finished message; ``at`` extends the location pydantic gives it
    (a validator of a list that finds a problem in item 3 says ``at=(3, "id")``)."""
    return PydanticCustomError("faultline", "{detail}", {"detail": message, "at": at})


def key_path(loc: tuple) -> str:
    """``("components", 1, "kind")`` -> ``components[1].kind``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class KnownKeys:
    """Mixin for a pydantic model or dataclass: an unknown key is an error naming the keys it knows."""

    @classmethod
    def unknown_key_message(cls, key: str) -> str:
        return MSG_UNKNOWN_KEY.format(key=key, expected=", ".join(cls.__pydantic_fields__))  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for key in data:
                if key not in cls.__pydantic_fields__:  # type: ignore[attr-defined]
                    raise located(cls.unknown_key_message(str(key)), str(key))
        return data


# ------------------------------------------------------------------------------------- reading
def load_yaml(text: str) -> tuple[object, dict[str, int]]:
    """Parse YAML text; return the data and the line of each key path (``""`` is the document).

    Raises :class:`LocatedError` for a file above :data:`MAX_BYTES`, text that is not YAML, a key
    written twice in one mapping, a key that is not text, and aliases expanding beyond
    :data:`MAX_VALUES` values.
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes():
        raise LocatedError(Problem(MSG_TOO_LARGE.format(size=size, limit=max_bytes())))
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[str, int] = {"": node.start_mark.line + 1 if node is not None else 1}
        if node is not None:
            _record(node, "", lines, [0], max_values())
        data = loader.construct_document(node) if node is not None else None
    except yaml.constructor.ConstructorError as err:
        mark = getattr(err, "problem_mark", None)
        raise LocatedError(Problem(MSG_TAG.format(problem=getattr(err, "problem", None) or str(err)),
                                   line=mark.line + 1 if mark else None)) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        raise LocatedError(Problem(MSG_NOT_YAML.format(problem=problem),
                                   line=mark.line + 1 if mark else None)) from err
    except RecursionError as err:
        raise LocatedError(Problem(MSG_TOO_DEEP)) from err
    finally:
        loader.dispose()
    return data, lines


def _record(node: yaml.Node, path: str, lines: dict[str, int], count: list[int], limit: int) -> None:
    """Walk composed nodes (an alias is walked each time it is used), noting each key's line."""
    count[0] += 1
    if count[0] > limit:
        raise LocatedError(Problem(MSG_TOO_MANY_VALUES.format(limit=limit)))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise LocatedError(Problem(MSG_NOT_TEXT.format(got=_node_what(key_node)), line, path or None))
            key = str(key_node.value)
            sub = f"{path}.{key}" if path else key
            if key in first and key != "<<":
                raise LocatedError(Problem(MSG_DUPLICATE_KEY.format(key=key, line=first[key]), line, sub))
            first[key] = line
            lines[sub] = line
            _record(value_node, sub, lines, count, limit)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            sub = f"{path}[{index}]"
            lines[sub] = item.start_mark.line + 1
            _record(item, sub, lines, count, limit)


def _node_what(node: yaml.Node) -> str:
    return "a mapping" if isinstance(node, yaml.MappingNode) else "a list"


# ------------------------------------------------------------------------------------- errors
_TEXT_TYPES = {"string_type", "string_sub_type", "str_type"}
_NUMBER_TYPES = {"float_type", "float_parsing", "int_type", "int_parsing", "int_from_float"}
_LIST_TYPES = {"list_type", "tuple_type", "set_type", "iterable_type"}
_MAPPING_TYPES = {"model_type", "dict_type", "dataclass_type", "dataclass_exact_type", "model_attributes_type"}


def problems(error: ValidationError, lines: Mapping[str, int] | None = None) -> list[Problem]:
    """The problems in a validation error, each with its line and key path, first line first.

    A missing key is reported at the mapping that lacks it; any other problem at the nearest key
    the file has (a key that a validator added, such as a rename's ``id``, falls back to its parent).
    Without ``lines`` (data built in code) the key is the one pydantic reports.
    """
    lines = lines or {}
    out = []
    for err in error.errors(include_url=False):
        ctx = err.get("ctx") or {}
        loc = tuple(err["loc"]) + tuple(ctx.get("at", ()))
        if err["type"] == "missing":
            loc, message = loc[:-1], MSG_MISSING_KEY.format(key=loc[-1])
        elif err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            message = MSG_UNKNOWN_KEY.format(key=loc[-1], expected="the keys the format documents")
        else:
            message = _message(err)
        while lines and loc and key_path(loc) not in lines:  # without a file's lines, the key as pydantic has it
            loc = loc[:-1]
        path = key_path(loc)
        out.append(Problem(message, lines.get(path), path or None))
    return sorted(out, key=lambda p: (p.line is None, p.line or 0))


def _message(err: Mapping[str, Any]) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "faultline":
        return str(err["msg"])
    if kind in _TEXT_TYPES:
        return MSG_NOT_TEXT.format(got=what(value))
    if kind == "finite_number":
        return MSG_NOT_FINITE.format(got=what(value))
    if kind in _NUMBER_TYPES:
        return MSG_NOT_NUMBER.format(got=what(value))
    if kind in _LIST_TYPES:
        return MSG_NOT_LIST.format(got=what(value))
    if kind in _MAPPING_TYPES:
        return MSG_NOT_MAPPING.format(got=what(value))
    if kind == "literal_error":
        return MSG_CHOICE.format(expected=(err.get("ctx") or {}).get("expected", "?"), got=what(value))
    return f"{err['msg']}, got {what(value)}"


__all__ = ["MAX_BYTES", "MAX_VALUES", "env_limit", "max_bytes", "max_values", "STRICT", "KnownKeys", "LocatedError", "Problem", "key_path", "load_yaml",
           "located", "problems", "what"]
