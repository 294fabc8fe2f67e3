"""The objective spec: the components of a training objective, what each is for, how the logs
measure it, and the failure modes it guards against or can cause.

A team writes the spec as YAML (``data/objective_demo.yaml`` is the demo's; the README
documents the format). Its shape is a set of pydantic models (:class:`ObjectiveSpec` and the
models under it, a docstring per key), published as a JSON schema (:func:`objective_json_schema`,
``data/objective.schema.json``) so that an editor checks a spec as it is typed.
:func:`load_objective` reads and validates a spec; every error names the file, the line and the
key, e.g.::

    objective_demo.yaml, line 14, key 'components[1].kind': unknown component kind 'reward'; expected one of ...

:func:`check_against_run` then checks the spec against a run's columns (signal columns,
label columns, rule conditions, detector fields) and returns the problems, so that a caller
can raise on the first one (strict) or show them all and carry on without the broken parts
(lenient).

>>> spec = parse_objective('''
... objective: tiny
... components:
...   - id: rm
...     name: Reward model
...     kind: reward_model
...     why: Users want useful answers
...     serves: task success
...     signals: [{column: rm_score, direction: higher_is_better}]
...     can_cause: [reward_hacking]
... ''')
>>> spec.components[0].signals[0].column, spec.relation("reward_hacking", "rm")
('rm_score', 'can cause')
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass as model_dataclass

from analysis.errors import FaultlineError
from analysis.export import json_value
from analysis.formats.validation import (
    MSG_DUPLICATE_KEY,
    MSG_MISSING_KEY,
    MSG_NOT_FINITE,
    MSG_NOT_LIST,
    MSG_NOT_MAPPING,
    MSG_NOT_NUMBER,
    MSG_NOT_TEXT,
    MSG_NOT_YAML,
    MSG_TOO_LARGE,
    MSG_UNKNOWN_KEY,
    STRICT,
    KnownKeys,
    LocatedError,
    env_limit,
    key_path,
    load_yaml,
    located,
    max_bytes,
    problems,
    what,
)
from analysis.objective.predicates import PredicateError, compile_predicate, fields_from_table, parse
from analysis.objective.taxonomy import DEFAULT_MODES, DETECTORS, DIMENSIONS, Dimension, FailureMode
from analysis.slicing.attributes import list_attributes
from analysis.sql import objective_spec as SQ

ComponentKind = Literal["pretraining_data", "sft_demonstrations", "preference_data", "reward_model", "rule",
                        "kl_penalty", "length_penalty", "cost_weighting", "calibration", "decoding_rule", "other"]
"""Component kinds: pretraining data, SFT demonstrations, preference data, a reward model, a rule or
constitution, a KL penalty, a length penalty, cost weighting, calibration, a decoding or decision
rule, or other."""
Direction = Literal["higher_is_better", "lower_is_better"]
"""What the objective pushes a signal towards: higher (a reward) or lower (a penalty)."""
Relation = Literal["guards against", "can cause", "guards against and can cause", "none"]

#: The component kinds, in the order the docs list them.
COMPONENT_KINDS: tuple[str, ...] = get_args(ComponentKind)
DIRECTIONS: tuple[str, ...] = get_args(Direction)

MSG_EMPTY_TEXT = "expected a non-empty text"
MSG_KIND = "unknown component kind {value!r}; expected one of {expected}"
MSG_DIRECTION = "unknown direction {value!r}; expected {expected}"
MSG_DIMENSION = "unknown dimension {value!r}; expected one of {expected}"
MSG_ID = "{value!r} is not a valid id: use lower-case letters, digits and _, starting with a letter"
MSG_DUPLICATE_ID = "duplicate {what} id {value!r} (first at {first})"
MSG_MODE_IS_DEFAULT = "{value!r} is already a default failure mode: rename it under modes.rename instead of adding it"
MSG_UNKNOWN_MODE = "names failure mode {mode!r}, which is neither a default mode nor one the spec adds; modes: {known}"
MSG_RENAME_UNKNOWN = "renames {mode!r}, which is not a failure mode; modes: {known}"
MSG_RENAME_CLASH = "renames {old!r} to {new!r}, which is already another failure mode"
MSG_RENAME_CYCLE = "the renames form a cycle: {cycle}"
MSG_UNKNOWN_DETECTOR = "unknown detector {name!r}; detectors: {known}"
MSG_DETECTOR_SETTING = "unknown setting {key!r} of detector {name!r}; settings: {known}"
MSG_DETECTOR_VALUE = "expected on, off or a mapping of settings, got {got}"
MSG_NOT_UTF8 = "is not UTF-8 text ({reason} at byte {start})"
MSG_UNREADABLE = "cannot be read: {reason}"
MSG_SIGNAL_MISSING = "signal column {column!r} is not in run {run!r}; its numeric columns: {known}"
MSG_SIGNAL_NOT_NUMERIC = "signal column {column!r} of run {run!r} is {kind}, not numeric"
MSG_COLUMN_MISSING = "column {column!r} is not in run {run!r}; columns: {known}"
MSG_ATTRIBUTE_MISSING = "attribute {name!r} is not in run {run!r}; attributes: {known}"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class SpecError(FaultlineError):
    """A problem in an objective spec, naming the file, the line and the key.

    >>> str(SpecError("objective.yaml", "missing key 'why'", line=7, key="components[0]"))
    "objective.yaml, line 7, key 'components[0]': missing key 'why'"
    """

    def __init__(self, source: str, message: str, *, line: int | None = None, key: str | None = None):
        self.source = source
        self.line = line
        self.key = key
        self.detail = message
        where = [source]
        if line is not None:
            where.append(f"line {line}")
        if key:
            where.append(f"key {key!r}")
        super().__init__(", ".join(where) + ": " + message)


# ------------------------------------------------------------------------------ value types
def _text(value: object) -> str:
    """A scalar as stripped text (a number or a date is taken as written); not empty."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, date)):  # a date, as in 2026-11-29
        raise located(MSG_NOT_TEXT.format(got=what(value)))
    text = str(value).strip()
    if not text:
        raise located(MSG_EMPTY_TEXT)
    return text


def _optional_text(value: object) -> str:
    return "" if value is None or (isinstance(value, str) and not value.strip()) else _text(value)


def _ident(value: object) -> str:
    text = _text(value)
    if not _ID.match(text):
        raise located(MSG_ID.format(value=text))
    return text


def _texts(value: object) -> object:
    """A list of texts; a single text stands for a list of one, nothing for an empty list."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        raise located(MSG_NOT_LIST.format(got=what(value)))
    return value if isinstance(value, (list, tuple)) else [value]


def _none_is_empty(value: object) -> object:
    return [] if value is None else value


def _none_is_default(value: object) -> object:
    return {} if value is None else value


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise located(MSG_NOT_NUMBER.format(got=what(value)))
    if not math.isfinite(value):
        raise located(MSG_NOT_FINITE.format(got=what(value)))
    return int(value)


def _choice(message: str, choices: tuple[str, ...], joiner: str = ", "):
    def check(value: object) -> str:
        text = _text(value)
        if text not in choices:
            raise located(message.format(value=text, expected=joiner.join(choices)))
        return text
    return BeforeValidator(check)


Text = Annotated[str, Field(min_length=1), BeforeValidator(_text)]
"""Text (a number is taken as written); surrounding spaces are dropped; not empty."""
OptionalText = Annotated[str, BeforeValidator(_optional_text, json_schema_input_type=str | None)]
Ident = Annotated[str, Field(pattern=_ID.pattern), BeforeValidator(_ident)]
"""An id: lower-case letters, digits and ``_``, starting with a letter."""
Texts = Annotated[tuple[Text, ...], BeforeValidator(_texts, json_schema_input_type=str | list[str] | None)]
"""A list of texts; a single text is a list of one."""
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Whole = Annotated[int, BeforeValidator(_whole, json_schema_input_type=int)]
KindChoice = Annotated[ComponentKind, _choice(MSG_KIND, COMPONENT_KINDS)]
DirectionChoice = Annotated[Direction, _choice(MSG_DIRECTION, DIRECTIONS, " or ")]
DimensionChoice = Annotated[Dimension, _choice(MSG_DIMENSION, DIMENSIONS)]


# ------------------------------------------------------------------------------ the spec's parts
@model_dataclass(frozen=True, config=STRICT)
class Signal(KnownKeys):
    """A per-example column of the logs that measures a component."""

    column: Text
    """The column: full (``signal.rm_helpfulness``) or short (``rm_helpfulness``) name, or a derived feature."""
    direction: DirectionChoice
    """What the objective pushes towards: ``higher_is_better`` (a reward) or ``lower_is_better`` (a penalty)."""


@model_dataclass(frozen=True, config=STRICT)
class Component(KnownKeys):
    """One component of the training objective: a surrogate for what users need."""

    id: Ident
    """Its id (lower-case letters, digits and ``_``), used in tables, links and the report."""
    name: Text
    """Its display name."""
    kind: KindChoice
    """What kind of component it is: pretraining data, SFT demonstrations, preference data, a reward model, a rule
    or constitution, a KL penalty, a length penalty, cost weighting, calibration, a decoding rule, or other."""
    why: Text
    """Why it exists: the need it stands for."""
    serves: Text
    """The downstream metric it is meant to serve."""
    weight: Number | None = None
    """Its weight in the objective, if any."""
    signals: Annotated[tuple[Signal, ...], BeforeValidator(_none_is_empty)] = ()
    """Columns that measure it per example (none for, say, pretraining data)."""
    guards_against: Texts = ()
    """Failure modes it is meant to prevent (in a loaded spec: final mode ids; in the file: an id, an old id
    or a display name)."""
    can_cause: Texts = ()
    """Failure modes it can cause when over-optimised (final ids once loaded, as ``guards_against``)."""


@model_dataclass(frozen=True, config=STRICT)
class Rule(KnownKeys):
    """A spec rule: examples where ``when`` holds are in ``mode``."""

    id: Ident
    """Its id, shown as ``rule:<id>`` wherever an example is attributed to it."""
    mode: Text
    """The failure mode (final id once loaded; in the file also an old id or a display name)."""
    when: Text
    """A condition in the rule language (``analysis.objective.predicates``), e.g.
    ``not correct and output contains "according to"``."""
    note: OptionalText = ""
    """Free text: why the rule exists."""

    @field_validator("when")
    @classmethod
    def _parses(cls, when: str, info: ValidationInfo) -> str:
        rule_id = info.data.get("id")
        if rule_id is not None:
            try:
                parse(when, rule=rule_id)
            except PredicateError as err:
                raise located(str(err)) from err
        return when


class AddedMode(KnownKeys, BaseModel):
    """A failure mode the spec adds to the default taxonomy."""

    model_config = STRICT

    id: Ident
    """Its id; not one of the default modes' ids (rename a default mode under ``modes.rename`` instead)."""
    name: Text
    """Its display name."""
    description: Text
    """What an example in this mode looks like."""
    dimension: DimensionChoice
    """The alignment dimension it harms: helpful, harmless, honest or steerable."""


def _rename_value(value: object) -> object:
    return value if isinstance(value, Mapping) else {"id": value}


class Rename(KnownKeys, BaseModel):
    """A failure mode's new id, and optionally a new name, description or dimension."""

    model_config = STRICT

    id: Ident
    """The new id (a rename can be renamed again: chains are followed, cycles refused)."""
    name: Text | None = None
    """A new display name."""
    description: Text | None = None
    """A new description."""
    dimension: DimensionChoice | None = None
    """A new alignment dimension."""


class ModesSpec(KnownKeys, BaseModel):
    """Changes to the failure-mode taxonomy: modes added, default modes renamed."""

    model_config = STRICT

    add: Annotated[list[AddedMode], BeforeValidator(_none_is_empty)] = []
    """Failure modes the spec adds."""
    rename: Annotated[dict[str, Annotated[Rename, BeforeValidator(_rename_value, json_schema_input_type=str | Rename)]],
                      BeforeValidator(_none_is_default)] = {}
    """Old id -> new id (``value_lock_in: bias``), or old id -> {id, name, description, dimension}."""
    _modes: list[FailureMode] = PrivateAttr(default_factory=lambda: list(DEFAULT_MODES))
    _aliases: dict[str, str] = PrivateAttr(default_factory=dict)


class _DetectorSettings(KnownKeys, BaseModel):
    model_config = STRICT
    detector: ClassVar[str]

    mode: Text | None = None
    """The failure mode its examples go to (an id, an old id or a display name); default: the detector's own."""

    @classmethod
    def unknown_key_message(cls, key: str) -> str:
        return MSG_DETECTOR_SETTING.format(key=key, name=cls.detector, known=", ".join(cls.model_fields))


class RefusalSettings(_DetectorSettings):
    """Settings of the ``refusal`` detector: a wrong answer whose output reads as a refusal."""

    detector: ClassVar[str] = "refusal"


class EmptyOutputSettings(_DetectorSettings):
    """Settings of the ``empty_output`` detector: a wrong answer with an empty output (or no answer)."""

    detector: ClassVar[str] = "empty_output"


class LongOutputSettings(_DetectorSettings):
    """Settings of the ``long_output`` detector: a wrong answer much longer than its reference."""

    detector: ClassVar[str] = "long_output"
    ratio: Number = DETECTORS["long_output"].params["ratio"]
    """How many times longer than its reference an output must be."""
    min_chars: Whole = DETECTORS["long_output"].params["min_chars"]
    """The least length of an output it marks, in characters."""


class MultipleChoiceFormatSettings(_DetectorSettings):
    """Settings of the ``multiple_choice_format`` detector: a wrong answer that names no option."""

    detector: ClassVar[str] = "multiple_choice_format"
    field: Text | None = DETECTORS["multiple_choice_format"].params["field"]
    """The field holding the model's raw answer (default: meta.raw_output when logged, else the output)."""


class ParaphraseDisagreementSettings(_DetectorSettings):
    """Settings of the ``paraphrase_disagreement`` detector: wrong on one phrasing, right on another."""

    detector: ClassVar[str] = "paraphrase_disagreement"
    group: Text | None = DETECTORS["paraphrase_disagreement"].params["group"]
    """The field naming each example's paraphrase group (default: a field named like paraphrase_group)."""


class GroupDisparitySettings(_DetectorSettings):
    """Settings of the ``group_disparity`` detector: a wrong answer in a group with a significantly higher error rate."""

    detector: ClassVar[str] = "group_disparity"
    attributes: Texts = tuple(DETECTORS["group_disparity"].params["attributes"])
    """The sensitive attributes whose groups it compares with the rest of the run."""


def _switch(value: object) -> object:
    """A detector's value: on (its defaults), off, or a mapping of settings."""
    if value is True or value == "on":
        return {}
    if value is None or value is False or value == "off":
        return None
    if isinstance(value, (Mapping, BaseModel)):
        return value
    raise located(MSG_DETECTOR_VALUE.format(got=what(value)))


def _detector(settings: type[_DetectorSettings]) -> Any:
    return Annotated[settings | None, BeforeValidator(
        _switch, json_schema_input_type=bool | Literal["on", "off"] | None | settings)]


class DetectorsSpec(KnownKeys, BaseModel):
    """The built-in detectors: each on (its defaults), off, or on with settings; those not named stay on."""

    model_config = STRICT

    refusal: _detector(RefusalSettings) = Field(default_factory=RefusalSettings)
    """A wrong answer whose output reads as a refusal ("I'm sorry, but I can't"); default mode over_refusal."""
    empty_output: _detector(EmptyOutputSettings) = Field(default_factory=EmptyOutputSettings)
    """A wrong answer with an empty output (or no answer at all); default mode over_refusal."""
    long_output: _detector(LongOutputSettings) = Field(default_factory=LongOutputSettings)
    """A wrong answer at least ``ratio`` times longer than its reference and at least ``min_chars`` characters
    long; default mode reward_hacking."""
    multiple_choice_format: _detector(MultipleChoiceFormatSettings) = Field(
        default_factory=MultipleChoiceFormatSettings)
    """In a multiple-choice run, a wrong answer that names no option (no letter, not an option's text); default mode
    goal_misgeneralization."""
    paraphrase_disagreement: _detector(ParaphraseDisagreementSettings) = Field(
        default_factory=ParaphraseDisagreementSettings)
    """A wrong answer where another phrasing of the same item is answered correctly; default mode
    lack_of_robustness."""
    group_disparity: _detector(GroupDisparitySettings) = Field(default_factory=GroupDisparitySettings)
    """A wrong answer in a group of a sensitive attribute whose error rate is significantly above the rest of the
    run; default mode value_lock_in."""

    @classmethod
    def unknown_key_message(cls, key: str) -> str:
        return MSG_UNKNOWN_DETECTOR.format(name=key, known=", ".join(cls.model_fields))


def _first(info: ValidationInfo, *loc: str | int) -> str:
    """``line N`` of a key path, for messages that point back to an earlier key."""
    lines = (info.context or {}).get("lines") or {}
    path = key_path(loc)
    return f"line {lines[path]}" if path in lines else path


def _unique_ids(items: list, what_: str, top: str, info: ValidationInfo) -> None:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.id in seen:
            raise located(MSG_DUPLICATE_ID.format(what=what_, value=item.id, first=_first(info, top, seen[item.id],
                                                                                          "id")), index, "id")
        seen[item.id] = index


class ObjectiveSpec(KnownKeys, BaseModel):
    """A Faultline objective spec: the components of a training objective, what each is for, how the logs
    measure it, and the failure modes it guards against or can cause."""

    model_config = STRICT | {"title": "Faultline objective spec"}

    objective: Text
    """The objective's name, shown on the pages and in the report."""
    description: OptionalText = ""
    """What the objective is, in a sentence or two."""
    components: list[Component]
    """The components of the objective, each a surrogate for what users need."""
    modes: Annotated[ModesSpec, BeforeValidator(_none_is_default)] = Field(default_factory=ModesSpec)
    """Failure modes the spec adds, and default modes it renames."""
    labels: Texts = ()
    """Columns of the logs holding failure-mode labels (from the log or a rater)."""
    rules: Annotated[list[Rule], BeforeValidator(_none_is_empty)] = []
    """Conditions that put an example in a failure mode."""
    detectors: Annotated[DetectorsSpec, BeforeValidator(_none_is_default)] = Field(default_factory=DetectorsSpec)
    """The built-in detectors, on or off and their settings; those not named stay on with their defaults."""
    _detectors: dict[str, dict | None] = PrivateAttr(default_factory=dict)

    @field_validator("components")
    @classmethod
    def _unique_components(cls, components: list[Component], info: ValidationInfo) -> list[Component]:
        _unique_ids(components, "component", "components", info)
        return components

    @field_validator("rules")
    @classmethod
    def _unique_rules(cls, rules: list[Rule], info: ValidationInfo) -> list[Rule]:
        _unique_ids(rules, "rule", "rules", info)
        return rules

    @field_validator("modes")
    @classmethod
    def _taxonomy(cls, modes: ModesSpec, info: ValidationInfo) -> ModesSpec:
        modes._modes, modes._aliases = _taxonomy(modes, info)
        return modes

    @model_validator(mode="after")
    def _resolve_modes(self) -> ObjectiveSpec:
        """Every mode the spec names, as its final id (after renames); unknown modes are errors."""
        probe = Objective(name=self.objective, modes=self.modes._modes, aliases=self.modes._aliases)
        known = ", ".join(m.id for m in probe.modes)

        def resolve(name: str, *at: str | int) -> str:
            found = probe.find_mode(name)
            if found is None:
                raise located(MSG_UNKNOWN_MODE.format(mode=name, known=known), *at)
            return found

        self.components = [dataclasses.replace(c, **{
            key: tuple(dict.fromkeys(resolve(m, "components", i, key, j) for j, m in enumerate(getattr(c, key))))
            for key in ("guards_against", "can_cause")}) for i, c in enumerate(self.components)]
        self.rules = [dataclasses.replace(r, mode=resolve(r.mode, "rules", i, "mode")) for i, r in enumerate(self.rules)]
        detectors: dict[str, dict | None] = {}
        for name, detector in DETECTORS.items():
            settings = getattr(self.detectors, name)
            if settings is None:
                detectors[name] = None
                continue
            mode = resolve(settings.mode, "detectors", name, "mode") if settings.mode is not None else \
                probe.find_mode(detector.mode) or detector.mode  # default modes follow the spec's renames
            detectors[name] = {"mode": mode, **{key: json_value(getattr(settings, key)) for key in detector.params}}
        self._detectors = detectors
        return self

    def to_objective(self, *, source: str = "objective spec", lines: dict[str, int] | None = None,
                     text: str | None = None) -> Objective:
        """The validated spec as the :class:`Objective` the engine uses."""
        return Objective(name=self.objective, description=self.description, components=list(self.components),
                         modes=list(self.modes._modes), aliases=dict(self.modes._aliases), rules=list(self.rules),
                         labels=list(self.labels), detectors=dict(self._detectors), source=source,
                         lines=dict(lines or {}), text=text)




def _taxonomy(spec: ModesSpec, info: ValidationInfo) -> tuple[list[FailureMode], dict[str, str]]:
    """The default modes renamed as the spec says, plus the spec's own; and old id -> final id."""
    modes = list(DEFAULT_MODES)
    first: dict[str, int | None] = {m.id: None for m in modes}
    for index, added in enumerate(spec.add):
        if added.id in first:
            where = first[added.id]
            message = (MSG_DUPLICATE_ID.format(what="failure mode", value=added.id,
                                               first=_first(info, "modes", "add", where, "id"))
                       if where is not None else MSG_MODE_IS_DEFAULT.format(value=added.id))
            raise located(message, "add", index, "id")
        first[added.id] = index
        modes.append(FailureMode(added.id, added.name, added.description, added.dimension, default=False))
    renames = spec.rename
    if not renames:
        return modes, {}
    ids = {m.id for m in modes}
    known = ", ".join(m.id for m in modes)
    targets_of_renames = {r.id for r in renames.values()}
    for old in renames:
        if old not in ids and old not in targets_of_renames:  # a chain may rename a mode's new id again
            raise located(MSG_RENAME_UNKNOWN.format(mode=old, known=known), "rename", old)
    # follow chains; a chain that comes back to where it started is a cycle
    final: dict[str, str] = {}
    for start in renames:
        chain, current = [start], start
        while current in renames:
            current = renames[current].id
            if current in chain:
                cycle = chain[chain.index(current):] + [current]
                raise located(MSG_RENAME_CYCLE.format(cycle=" -> ".join(cycle)), "rename", cycle[0])
            chain.append(current)
        final[start] = current
    # a mode renamed onto a mode that keeps its id (or onto another renamed mode's target) clashes
    holders: dict[str, str] = {}
    for m in modes:
        target = final.get(m.id, m.id)
        if target in holders:
            old = m.id if m.id in renames else holders[target]
            raise located(MSG_RENAME_CLASH.format(old=old, new=renames[old].id), "rename", old)
        holders[target] = m.id
    out = []
    for m in modes:
        if m.id not in final:
            out.append(m)
            continue
        overrides: dict[str, str] = {}
        current = m.id
        while current in renames:
            step = renames[current]
            overrides.update({k: v for k in ("name", "description", "dimension")
                              if (v := getattr(step, k)) is not None})
            current = step.id
        out.append(dataclasses.replace(m, id=final[m.id], **overrides))
    return out, final


def objective_json_schema() -> dict:
    """The JSON schema of an objective spec (what ``data/objective.schema.json`` holds), from the models.

    Editors that read ``# yaml-language-server: $schema=...`` (VS Code's YAML extension and others) check a
    spec against it as it is typed; Faultline itself validates with the models, which also check what a
    schema cannot (ids unique, renames without cycles, modes that exist).

    >>> sorted(objective_json_schema()["properties"])
    ['components', 'description', 'detectors', 'labels', 'modes', 'objective', 'rules']
    """
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            **ObjectiveSpec.model_json_schema(mode="validation")}


# ------------------------------------------------------------------------------ the loaded spec
def _default_detectors() -> dict[str, dict | None]:
    return {name: {"mode": d.mode, **d.params} for name, d in DETECTORS.items()}


@dataclasses.dataclass
class Objective:
    """A validated objective spec (what :func:`load_objective` returns)."""

    name: str
    description: str = ""
    components: list[Component] = field(default_factory=list)
    modes: list[FailureMode] = field(default_factory=lambda: list(DEFAULT_MODES))
    """Every failure mode: the defaults (renamed as the spec says) and the spec's own."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Old mode id -> final id, for every rename (chains followed)."""
    rules: list[Rule] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    """Columns holding failure-mode labels (from the log or a rater)."""
    detectors: dict[str, dict | None] = field(default_factory=_default_detectors)
    """Detector name -> settings (``mode`` and the detector's own), or None when turned off."""
    source: str = "objective spec"
    lines: dict[str, int] = field(default_factory=dict)
    """Key path (``components[1].signals[0].column``) -> line in the spec, for error messages."""
    text: str | None = None
    """The YAML the spec was read from, when it was read from text."""


    @classmethod
    def default(cls) -> Objective:
        """No components; the default taxonomy and detectors (what an analysis without a spec uses)."""
        return cls(name="default (no objective spec)")

    def mode(self, mode_id: str) -> FailureMode:
        for m in self.modes:
            if m.id == mode_id:
                return m
        raise FaultlineError(f"Unknown failure mode {mode_id!r}; modes: {', '.join(m.id for m in self.modes)}")

    def component(self, component_id: str) -> Component:
        for c in self.components:
            if c.id == component_id:
                return c
        raise FaultlineError(f"Unknown component {component_id!r}; components: "
                             + (", ".join(c.id for c in self.components) or "none"))

    def find_mode(self, name: str) -> str | None:
        """The final id of a mode named by id, old id (before a rename) or display name; None if none.

        >>> Objective.default().find_mode("Over-refusal"), Objective.default().find_mode("nope")
        ('over_refusal', None)
        """
        key = str(name).strip()
        ids = {m.id for m in self.modes}
        if key in ids:
            return key
        if key in self.aliases:
            return self.aliases[key]
        lowered = key.lower()
        for m in self.modes:
            if lowered in (m.id.lower(), m.name.lower()):
                return m.id
        for old, new in self.aliases.items():
            if lowered == old.lower():
                return new
        return None

    def relation(self, mode: str, component: str) -> Relation:
        """What the spec declares between a mode and a component."""
        c = self.component(component)
        guards, causes = mode in c.guards_against, mode in c.can_cause
        if guards and causes:
            return "guards against and can cause"
        if guards:
            return "guards against"
        if causes:
            return "can cause"
        return "none"

    def line(self, key: str) -> int | None:
        """The line of a key path in the spec, or of the nearest key above it that the file has
        (``labels[0]`` of ``labels: failure_label`` is on the line of ``labels``); None if none."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition("[")[0] if key.endswith("]") else key.rpartition(".")[0]
        return None

    def to_dict(self) -> dict:
        """JSON-ready summary (components, modes, rules, labels, detectors)."""
        return {
            "objective": self.name, "description": self.description,
            "components": [{"id": c.id, "name": c.name, "kind": c.kind, "why": c.why, "serves": c.serves,
                            "weight": c.weight, "signals": [{"column": s.column, "direction": s.direction}
                                                            for s in c.signals],
                            "guards_against": list(c.guards_against), "can_cause": list(c.can_cause)}
                           for c in self.components],
            "modes": [{"id": m.id, "name": m.name, "description": m.description, "dimension": m.dimension,
                       "default": m.default} for m in self.modes],
            "renamed": dict(self.aliases),
            "rules": [{"id": r.id, "mode": r.mode, "when": r.when, "note": r.note} for r in self.rules],
            "labels": list(self.labels), "detectors": dict(self.detectors),
        }



# ------------------------------------------------------------------------------------- reading
def parse_objective(text: str, *, source: str = "objective spec") -> Objective:
    """Read and validate an objective spec from YAML text (errors name the line and the key).

    Parameters
    ----------
    text : str
        The spec as YAML (the README documents the format; the JSON schema is
        :func:`objective_json_schema`); ``objective`` and ``components`` are required.
    source : str, default "objective spec"
        What the text is called in error messages (a file name).

    Returns
    -------
    Objective
        ``name``, ``description``, ``components``, ``modes`` (the default taxonomy, renamed as
        the spec says, plus the spec's own), ``aliases`` (old mode id -> final id), ``rules``,
        ``labels``, ``detectors`` (name -> settings, or None when off), ``source``, ``lines``
        (key path -> line) and ``text``.

    Raises
    ------
    SpecError
        For text above 1 MiB or whose aliases expand beyond 100,000 values, text that is not YAML, a key
        written twice, and the first (by line) of the problems the models find.

    Examples
    --------
    >>> spec = parse_objective("objective: tiny\\ncomponents: []\\nrules:\\n  - {id: pad, mode: reward_hacking, when: 'not correct'}")
    >>> spec.name, [r.id for r in spec.rules]
    ('tiny', ['pad'])
    >>> parse_objective("objective: tiny\\ncomponents: 3", source="o.yaml")
    Traceback (most recent call last):
    ...
    analysis.objective.spec.SpecError: o.yaml, line 2, key 'components': ...
    """
    try:
        data, lines = load_yaml(text)
    except LocatedError as err:
        raise SpecError(source, err.problem.message, line=err.problem.line, key=err.problem.key) from err
    _check_counts(data, lines, source)
    try:
        spec = ObjectiveSpec.model_validate({} if data is None else data, context={"lines": lines})
    except ValidationError as err:
        first = problems(err, lines)[0]
        raise SpecError(source, first.message, line=first.line, key=first.key) from err
    return spec.to_objective(source=source, lines=lines, text=text)


#: Most rules a spec may hold (env FAULTLINE_MAX_SPEC_RULES): each is a condition evaluated over the whole run,
#: and thousands of them exhaust DuckDB's memory.
MAX_RULES = 500
#: Most items of any other list of a spec (components, their signals, added modes, labels, renames, a
#: detector's attributes; env FAULTLINE_MAX_SPEC_ITEMS).
MAX_ITEMS = 200
MSG_TOO_MANY = "holds {count} {what}, more than the limit of {limit}; expected fewer (the limit is set by {env})"

#: The lists a spec may hold, by key path (``*`` is each item of a list), and what they are called.
_COUNTED = (("rules", "rules"), ("components", "components"), ("components[*].signals", "signals"),
            ("components[*].guards_against", "modes"), ("components[*].can_cause", "modes"),
            ("modes.add", "added modes"), ("modes.rename", "renames"), ("labels", "labels"),
            ("detectors.group_disparity.attributes", "attributes"))


def _check_counts(data: object, lines: dict[str, int], source: str) -> None:
    """Refuse a spec with more rules than :data:`MAX_RULES` or longer lists than :data:`MAX_ITEMS`,
    before any of it is validated or compiled (the limits are settable)."""
    rules_limit = env_limit("FAULTLINE_MAX_SPEC_RULES", MAX_RULES)
    items_limit = env_limit("FAULTLINE_MAX_SPEC_ITEMS", MAX_ITEMS)

    def walk(value: object, parts: list[str], at: str):
        if not parts:
            yield at, value
            return
        head, rest = parts[0], parts[1:]
        if head == "*":
            if isinstance(value, list):
                for i, item in enumerate(value):
                    yield from walk(item, rest, f"{at}[{i}]")
        elif isinstance(value, Mapping) and head in value:
            yield from walk(value[head], rest, f"{at}.{head}" if at else head)

    for key, what_ in _COUNTED:
        limit, env = ((rules_limit, "FAULTLINE_MAX_SPEC_RULES") if key == "rules"
                      else (items_limit, "FAULTLINE_MAX_SPEC_ITEMS"))
        for at, value in walk(data, key.replace("[*]", ".*").split("."), ""):
            if isinstance(value, (list, Mapping)) and len(value) > limit:
                raise SpecError(source, MSG_TOO_MANY.format(count=len(value), what=what_, limit=limit, env=env),
                                line=lines.get(at), key=at)


def load_objective(path: str | os.PathLike) -> Objective:
    """Read and validate an objective spec file (YAML); a file above 1 MiB is refused unread.

    Parameters
    ----------
    path : str or os.PathLike
        The spec file, UTF-8 YAML of at most 1 MiB (:data:`analysis.formats.validation.MAX_BYTES`).

    Returns
    -------
    Objective
        The validated spec (see :func:`parse_objective`), with ``source`` the file's name.

    Raises
    ------
    SpecError
        Naming the file: a file above 1 MiB (``MSG_TOO_LARGE``), not UTF-8 (:data:`MSG_NOT_UTF8`),
        that cannot be read (:data:`MSG_UNREADABLE`), and everything :func:`parse_objective`
        raises (with its line and key).

    Examples
    --------
    >>> from analysis.paths import DATA_DIR
    >>> spec = load_objective(DATA_DIR / "objective_demo.yaml")
    >>> [c.id for c in spec.components][:3]
    ['rm_helpfulness', 'rm_harmlessness', 'kl_penalty']
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes():
            raise SpecError(path.name, MSG_TOO_LARGE.format(size=size, limit=max_bytes()))
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(path.name, MSG_NOT_UTF8.format(reason=err.reason, start=err.start)) from err
    except OSError as err:
        raise SpecError(path.name, MSG_UNREADABLE.format(reason=err.strerror)) from err
    return parse_objective(text, source=path.name)


# ---------------------------------------------------------------------------- against a run
def check_against_run(objective: Objective, store, run: str) -> list[SpecError]:
    """Problems of a spec against one run's columns (metadata only: no example is read).

    Signal columns that are missing or not numeric, label columns that are missing, rule conditions that do not fit
    the run's fields, detector fields and attributes that are missing.

    Parameters
    ----------
    objective : Objective
        The parsed spec.
    store : Store
        The store holding the run.
    run : str
        The run's id or name.

    Returns
    -------
    list of SpecError
        One per problem, each naming the spec's line and key; empty when the spec fits the run.

    Raises
    ------
    RunNotFoundError
        No such run.
    """
    info = store.run(run)
    stored = store.fields(run)
    fields = fields_from_table(list(zip(stored["column_name"], stored["role"], stored["kind"])))
    problems: list[SpecError] = []

    def add(message: str, key: str) -> None:
        problems.append(SpecError(objective.source, message, line=objective.line(key), key=key))

    numeric = [n for n, f in fields.items() if f.kind == "number" and (f.column is None or f.column == n)]
    for i, comp in enumerate(objective.components):
        for j, sig in enumerate(comp.signals):
            key = f"components[{i}].signals[{j}].column"
            f = fields.get(sig.column)
            if f is None:
                add(MSG_SIGNAL_MISSING.format(column=sig.column, run=info.name, known=", ".join(numeric) or "none"),
                    key)
            elif f.kind != "number":
                add(MSG_SIGNAL_NOT_NUMERIC.format(column=sig.column, run=info.name, kind=f.kind), key)
    known_columns = ", ".join(n for n, f in fields.items() if f.column == n)
    for i, column in enumerate(objective.labels):
        if column not in fields or fields[column].column is None:
            add(MSG_COLUMN_MISSING.format(column=column, run=info.name, known=known_columns), f"labels[{i}]")
    for i, rule in enumerate(objective.rules):
        try:
            compile_predicate(rule.when, fields, rule=rule.id)
        except PredicateError as err:
            add(str(err), f"rules[{i}].when")
    listed = list_attributes(store, run)
    attributes = {a.name for a in listed} | {a.column for a in listed if a.column}
    for name, settings in objective.detectors.items():
        if not settings:
            continue
        for key in ("field", "group"):
            column = settings.get(key)
            if column is not None and column not in fields:
                add(MSG_COLUMN_MISSING.format(column=column, run=info.name, known=known_columns),
                    f"detectors.{name}.{key}")
        for attr in settings.get("attributes") or []:
            if attr not in attributes:
                add(MSG_ATTRIBUTE_MISSING.format(name=attr, run=info.name, known=", ".join(sorted(
                    a for a in attributes if "." not in a))), f"detectors.{name}.attributes")
    return problems


def signal_columns(objective: Objective, store, run: str) -> dict[tuple[str, int], str]:
    """(component id, signal index) -> the run's stored column (or derived feature name) it reads;
    signals the run does not have are left out."""
    stored = store.fields(run)
    fields = fields_from_table(list(zip(stored["column_name"], stored["role"], stored["kind"])))
    out = {}
    for comp in objective.components:
        for j, sig in enumerate(comp.signals):
            f = fields.get(sig.column)
            if f is not None and f.kind == "number":
                out[(comp.id, j)] = f.column or f.name
    return out



# ------------------------------------------------------------------ specs saved in the store
MSG_SPEC_NAME = ("A saved spec needs a name (letters, digits, spaces, '-', '_' or '.'; at most 80 characters); "
                 "got {name!r}")
MSG_SPEC_AUTHOR = "A saved spec needs an author (who saved it)"
MSG_SPEC_UNKNOWN = "No saved objective spec {name!r} (a name or a sha256 prefix); saved specs: {known}"
_SPEC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,79}$")
_SAVED_COLUMNS = ["spec_id", "name", "version", "sha256", "text", "author", "created_at", "versions"]


@dataclasses.dataclass(frozen=True)
class SavedSpec:
    """One version of an objective spec saved in the store."""

    spec_id: str
    name: str
    version: int
    """1 for the first save of a name, then 2, 3...: saving again never overwrites."""
    sha256: str
    """The sha256 of ``text`` encoded as UTF-8 (hex)."""
    text: str
    """The spec's YAML, as saved."""
    author: str
    created_at: datetime
    """When it was saved (UTC)."""

    def objective(self) -> Objective:
        """The spec parsed (:func:`parse_objective`, named after the saved name)."""
        return parse_objective(self.text, source=self.name)


def spec_sha256(text: str) -> str:
    """The sha256 (hex) of a spec's text encoded as UTF-8: the hash a saved spec is known by.

    Parameters
    ----------
    text : str
        The spec's YAML.

    Returns
    -------
    str
        64 lower-case hex digits.

    Raises
    ------
    UnicodeEncodeError
        Only for text holding lone surrogates (not UTF-8 encodable).

    Examples
    --------
    >>> spec_sha256("objective: tiny\\ncomponents: []\\n")[:12]
    'b6b5d2fb8a15'
    """
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def save_spec(store, text: str, name: str, author: str) -> SavedSpec:
    """Validate an objective spec and save it in the store under a name, with its sha256.

    The ``objective_specs`` table is append-only: saving a name again adds a new version; nothing is
    overwritten or deleted.

    Parameters
    ----------
    store : Store
        The store (opened for writing).
    text : str
        The spec's YAML; it must be valid (:func:`parse_objective`).
    name : str
        The name it is saved under (letters, digits, spaces, ``-``, ``_``, ``.``; at most 80 characters).
    author : str
        Who saved it (required).

    Returns
    -------
    SavedSpec
        The saved version.

    Raises
    ------
    FaultlineError
        A bad name (:data:`MSG_SPEC_NAME`) or no author (:data:`MSG_SPEC_AUTHOR`).
    SpecError
        An invalid spec (the line and the key named, the source being ``name``).

    Examples
    --------
    >>> import tempfile
    >>> from analysis.store import Store
    >>> s = Store(tempfile.mkdtemp() + "/s.duckdb")
    >>> saved = save_spec(s, "objective: tiny\\ncomponents: []\\n", "tiny", "ada")
    >>> saved.version, saved.sha256 == spec_sha256(saved.text), get_spec(s, "tiny").name
    (1, True, 'tiny')
    """
    name = str(name or "").strip()
    if not _SPEC_NAME.match(name):
        raise FaultlineError(MSG_SPEC_NAME.format(name=name))
    author = str(author or "").strip()
    if not author:
        raise FaultlineError(MSG_SPEC_AUTHOR)
    text = str(text or "")
    parse_objective(text, source=name)  # only a valid spec is saved
    return SavedSpec(*store.append_version("objective_specs", SQ.NEXT_VERSION, SQ.INSERT, name, lambda version: [
        uuid.uuid4().hex, name, version, spec_sha256(text), text, author, datetime.now(UTC).replace(tzinfo=None)]))


def saved_specs(store, *, history: bool = False) -> pd.DataFrame:
    """The objective specs saved in the store: the latest version of each name (every version with ``history``).

    Parameters
    ----------
    store : Store
        The store.
    history : bool, default False
        Every version of every name, not only the latest.

    Returns
    -------
    pandas.DataFrame
        One row per spec (or version), by name then version: ``spec_id``, ``name``, ``version``, ``sha256``,
        ``text``, ``author``, ``created_at`` (UTC), ``versions``. Empty, with these columns, when none is saved.

    Raises
    ------
    duckdb.Error
        Only when the store itself cannot be read.
    """
    if not store.table_exists("objective_specs"):
        return pd.DataFrame({c: pd.Series(dtype="object") for c in _SAVED_COLUMNS})
    frame = store.cursor().execute(SQ.ALL_VERSIONS).df()
    if not history:
        frame = frame[frame["version"] == frame["versions"]]
    return frame.reset_index(drop=True)


def get_spec(store, name_or_hash: str) -> SavedSpec:
    """A saved objective spec by name (its latest version) or by sha256 (the whole hash or a prefix of 6 or more).

    Parameters
    ----------
    store : Store
        The store.
    name_or_hash : str
        A saved name, or a sha256 (prefix of at least 6 hex digits).

    Returns
    -------
    SavedSpec

    Raises
    ------
    FaultlineError
        Nothing saved under that name or hash (:data:`MSG_SPEC_UNKNOWN`, listing the saved names).
    """
    key = str(name_or_hash or "").strip()
    frame = saved_specs(store, history=True)
    rows = frame[frame["name"] == key]
    if rows.empty and len(key) >= 6 and re.fullmatch(r"[0-9a-fA-F]+", key):
        rows = frame[frame["sha256"].str.startswith(key.lower())]
    if rows.empty:
        known = ", ".join(sorted(set(frame["name"]))) or "none"
        raise FaultlineError(MSG_SPEC_UNKNOWN.format(name=key, known=known))
    r = rows.sort_values("created_at", kind="stable").iloc[-1]
    created = r["created_at"].to_pydatetime() if hasattr(r["created_at"], "to_pydatetime") else r["created_at"]
    return SavedSpec(str(r["spec_id"]), str(r["name"]), int(r["version"]), str(r["sha256"]), str(r["text"]),
                     str(r["author"]), created)

__all__ = ["COMPONENT_KINDS", "DIRECTIONS", "MSG_DUPLICATE_KEY", "MSG_MISSING_KEY", "MSG_NOT_LIST", "MSG_NOT_MAPPING",
           "MSG_NOT_NUMBER", "MSG_NOT_TEXT", "MSG_NOT_YAML", "MSG_UNKNOWN_KEY", "Component", "DetectorsSpec",
           "ModesSpec", "Objective", "ObjectiveSpec", "Rule", "SavedSpec", "Signal", "SpecError", "check_against_run",
           "get_spec", "load_objective", "objective_json_schema", "parse_objective", "save_spec", "saved_specs",
           "signal_columns", "spec_sha256"]
