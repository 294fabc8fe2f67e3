"""The gate spec: everything that fixes what a regression gate tests, in a file kept with the pipeline.

A gate run from a spec (``faultline gate --spec gate.yaml``) tests the same slices whatever else the
store holds (clusters, annotations, failure-mode labels): its attributes are the spec's ``by``, or
the baseline's context defaults (which never include computed columns), printed so they can be
pinned. :class:`GateSpec` is a pydantic v2 model (unknown keys refused); :func:`load_gate_spec`
reads YAML or JSON and raises :class:`GateSpecError` naming the file, the line, the key and what
was expected.

>>> parse_gate_spec("by: [language, domain]\\nmax_drop: 0.03\\n").by
['language', 'domain']
>>> parse_gate_spec("max_drop: 2", source="gate.yaml")
Traceback (most recent call last):
...
analysis.slicing.gate_spec.GateSpecError: gate.yaml, line 1, key 'max_drop': expected a fraction in [0, 1) (0.02 is 2 points), got 2
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError, field_validator

from analysis.errors import FaultlineError
from analysis.formats.validation import STRICT, KnownKeys, LocatedError, load_yaml, located, max_bytes, problems, what

MSG_MAX_DROP = "expected a fraction in [0, 1) (0.02 is 2 points), got {got}"
MSG_ALPHA = "expected a significance level in (0, 1), got {got}"
MSG_MIN_SUPPORT = "expected a count (an integer >= 1) or a fraction in (0, 1), got {got}"
MSG_BINS = "expected a whole number of bins from 2 to 20, got {got}"
MSG_BY = "expected a list of attribute names (or one comma-separated text), got {got}"
MSG_NOT_FILE_MAPPING = "expected a mapping of gate settings (by, max_order, max_drop, alpha, min_support, bins), got {got}"
MSG_UNREADABLE = "cannot be read: {reason}"
MSG_NOT_UTF8 = "is not UTF-8 text ({reason} at byte {start})"
MSG_TOO_LARGE = "is {size} bytes, above the limit of {limit} bytes; expected a small gate spec"


class GateSpecError(FaultlineError):
    """A gate spec that cannot be used, naming the file, the line and the key.

    >>> str(GateSpecError("gate.yaml", "expected a number, got 'x'", line=2, key="alpha"))
    "gate.yaml, line 2, key 'alpha': expected a number, got 'x'"
    """

    def __init__(self, source: str, message: str, *, line: int | None = None, key: str | None = None):
        self.source, self.line, self.key, self.detail = source, line, key, message
        where = [source] + ([f"line {line}"] if line is not None else []) + ([f"key {key!r}"] if key else [])
        super().__init__(", ".join(where) + ": " + message)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError
    return float(value)


class GateSpec(KnownKeys, BaseModel):
    """What a regression gate tests: the same settings as ``faultline gate``'s options."""

    model_config = STRICT

    by: list[str] | None = None
    """Attributes of the baseline to slice by; None: the baseline's context defaults (printed by the gate)."""
    max_order: Literal[1, 2, 3] = 1
    """Largest number of attributes in a slice's conjunction."""
    max_drop: float = 0.02
    """Largest allowed drop in accuracy, a fraction in [0, 1): 0.02 is 2 points."""
    alpha: float = 0.05
    """Significance level a breaking slice's Benjamini-Hochberg q-value must be below, in (0, 1)."""
    min_support: int | float = 30
    """Least matched examples a slice needs to be tested: a count, or a fraction in (0, 1) of the matched examples."""
    bins: int = 5
    """Quantile bins of numeric attributes (2 to 20)."""

    @field_validator("by", mode="before")
    @classmethod
    def _names(cls, value: object) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise located(MSG_BY.format(got=what(value)))
        return [v.strip() for v in value]

    @field_validator("max_drop", mode="before")
    @classmethod
    def _max_drop(cls, value: object) -> float:
        try:
            number = _number(value)
        except ValueError:
            raise located(MSG_MAX_DROP.format(got=what(value))) from None
        if not 0 <= number < 1:
            raise located(MSG_MAX_DROP.format(got=what(value)))
        return number

    @field_validator("alpha", mode="before")
    @classmethod
    def _alpha(cls, value: object) -> float:
        try:
            number = _number(value)
        except ValueError:
            raise located(MSG_ALPHA.format(got=what(value))) from None
        if not 0 < number < 1:
            raise located(MSG_ALPHA.format(got=what(value)))
        return number

    @field_validator("min_support", mode="before")
    @classmethod
    def _min_support(cls, value: object) -> int | float:
        try:
            number = _number(value)
        except ValueError:
            raise located(MSG_MIN_SUPPORT.format(got=what(value))) from None
        if number >= 1 and number.is_integer():
            return int(number)
        if 0 < number < 1:
            return number
        raise located(MSG_MIN_SUPPORT.format(got=what(value)))

    @field_validator("bins", mode="before")
    @classmethod
    def _bins(cls, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 20:
            raise located(MSG_BINS.format(got=what(value)))
        return value


def parse_gate_spec(text: str, *, source: str = "gate spec") -> GateSpec:
    """A gate spec from YAML (or JSON) text.

    Parameters
    ----------
    text : str
        The spec: a mapping with any of ``by``, ``max_order``, ``max_drop``, ``alpha``,
        ``min_support``, ``bins`` (an empty file gives the defaults).
    source : str, default "gate spec"
        What the text is called in error messages (a file name).

    Returns
    -------
    GateSpec

    Raises
    ------
    GateSpecError
        Text that is not YAML, a key written twice, an unknown key, or a value out of range: the
        first problem by line, naming the line, the key and what was expected.
    """
    try:
        data, lines = load_yaml(text)
    except LocatedError as err:
        raise GateSpecError(source, err.problem.message, line=err.problem.line, key=err.problem.key) from err
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise GateSpecError(source, MSG_NOT_FILE_MAPPING.format(got=what(data)), line=lines.get(""))
    try:
        return GateSpec.model_validate(data)
    except ValidationError as err:
        first = problems(err, lines)[0]
        message = first.message.removeprefix("Value error, ")
        raise GateSpecError(source, message, line=first.line, key=first.key) from err


def load_gate_spec(path: str | os.PathLike) -> GateSpec:
    """Read and validate a gate spec file (YAML or JSON, at most 1 MiB).

    Raises
    ------
    GateSpecError
        Naming the file: one that cannot be read, is not UTF-8 or is too large, and everything
        :func:`parse_gate_spec` raises.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes():
            raise GateSpecError(str(path), MSG_TOO_LARGE.format(size=size, limit=max_bytes()))
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise GateSpecError(str(path), MSG_NOT_UTF8.format(reason=err.reason, start=err.start)) from err
    except OSError as err:
        raise GateSpecError(str(path), MSG_UNREADABLE.format(reason=err.strerror)) from err
    return parse_gate_spec(text, source=str(path))


__all__ = ["GateSpec", "GateSpecError", "load_gate_spec", "parse_gate_spec"]
