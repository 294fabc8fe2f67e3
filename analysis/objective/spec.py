"""The objective spec: the components of a training objective, what each is for, how the logs
measure it, and the failure modes it guards against or can cause.

A team writes the spec as YAML (``data/objective_demo.yaml`` is the demo's; the README
documents the format). :func:`load_objective` reads and validates it; every error names the
file, the line and the key, e.g.::

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

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import yaml
import yaml.constructor

from analysis.errors import FaultlineError
from analysis.objective.predicates import PredicateError, compile_predicate, fields_from_table, parse
from analysis.objective.taxonomy import DEFAULT_MODES, DETECTORS, DIMENSIONS, FailureMode
from analysis.slicing.table import list_attributes

ComponentKind = Literal["pretraining_data", "sft_demonstrations", "preference_data", "reward_model", "rule",
                        "kl_penalty", "length_penalty", "cost_weighting", "calibration", "decoding_rule", "other"]
Direction = Literal["higher_is_better", "lower_is_better"]
Relation = Literal["guards against", "can cause", "guards against and can cause", "none"]

#: Component kinds: pretraining data, SFT demonstrations, preference data, a reward model, a
#: rule or constitution, a KL penalty, a length penalty, cost weighting, calibration, a
#: decoding or decision rule, or other.
COMPONENT_KINDS: tuple[str, ...] = ("pretraining_data", "sft_demonstrations", "preference_data", "reward_model", "rule",
                                    "kl_penalty", "length_penalty", "cost_weighting", "calibration", "decoding_rule",
                                    "other")
DIRECTIONS: tuple[str, ...] = ("higher_is_better", "lower_is_better")

TOP_KEYS = ("objective", "description", "components", "modes", "labels", "rules", "detectors")
COMPONENT_KEYS = ("id", "name", "kind", "why", "serves", "weight", "signals", "guards_against", "can_cause")
REQUIRED_COMPONENT_KEYS = ("id", "name", "kind", "why", "serves")
SIGNAL_KEYS = ("column", "direction")
RULE_KEYS = ("id", "mode", "when", "note")
MODES_KEYS = ("add", "rename")
MODE_KEYS = ("id", "name", "description", "dimension")
RENAME_KEYS = ("id", "name", "description", "dimension")

MSG_NOT_YAML = "is not valid YAML: {problem}"
MSG_NOT_MAPPING = "expected a mapping (key: value lines), got {got}"
MSG_NOT_LIST = "expected a list, got {got}"
MSG_NOT_TEXT = "expected text, got {got}"
MSG_NOT_NUMBER = "expected a number, got {got}"
MSG_UNKNOWN_KEY = "unknown key {key!r}; expected one of {expected}"
MSG_MISSING_KEY = "missing key {key!r}"
MSG_DUPLICATE_KEY = "the key {key!r} appears twice (first at line {line})"
MSG_EMPTY_TEXT = "expected a non-empty text"
MSG_KIND = "unknown component kind {value!r}; expected one of {expected}"
MSG_DIRECTION = "unknown direction {value!r}; expected higher_is_better or lower_is_better"
MSG_DIMENSION = "unknown dimension {value!r}; expected one of helpful, harmless, honest, steerable"
MSG_ID = "{value!r} is not a valid id: use lower-case letters, digits and _, starting with a letter"
MSG_DUPLICATE_ID = "duplicate {what} id {value!r} (first at line {line})"
MSG_MODE_IS_DEFAULT = "{value!r} is already a default failure mode: rename it under modes.rename instead of adding it"
MSG_UNKNOWN_MODE = "names failure mode {mode!r}, which is neither a default mode nor one the spec adds; modes: {known}"
MSG_RENAME_UNKNOWN = "renames {mode!r}, which is not a failure mode; modes: {known}"
MSG_RENAME_CLASH = "renames {old!r} to {new!r}, which is already another failure mode"
MSG_RENAME_CYCLE = "the renames form a cycle: {cycle}"
MSG_UNKNOWN_DETECTOR = "unknown detector {name!r}; detectors: {known}"
MSG_DETECTOR_SETTING = "unknown setting {key!r} of detector {name!r}; settings: {known}"
MSG_DETECTOR_VALUE = "expected on, off or a mapping of settings, got {got}"
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


@dataclass(frozen=True)
class Signal:
    """A per-example column of the logs that measures a component."""

    column: str
    """The column: full (``signal.rm_helpfulness``) or short (``rm_helpfulness``) name, or a derived feature."""
    direction: Direction
    """What the objective pushes towards: ``higher_is_better`` (a reward) or ``lower_is_better`` (a penalty)."""


@dataclass(frozen=True)
class Component:
    """One component of the training objective: a surrogate for what users need."""

    id: str
    name: str
    kind: str
    """One of :data:`COMPONENT_KINDS`."""
    why: str
    """Why it exists: the need it stands for."""
    serves: str
    """The downstream metric it is meant to serve."""
    weight: float | None = None
    """Its weight in the objective, if any."""
    signals: tuple[Signal, ...] = ()
    """Columns that measure it per example (none for, say, pretraining data)."""
    guards_against: tuple[str, ...] = ()
    """Failure modes (final ids) it is meant to prevent."""
    can_cause: tuple[str, ...] = ()
    """Failure modes (final ids) it can cause when over-optimised."""


@dataclass(frozen=True)
class Rule:
    """A spec rule: examples where ``when`` holds are in ``mode``."""

    id: str
    mode: str
    """Final mode id."""
    when: str
    """A condition in the predicate language (:mod:`analysis.objective.predicates`)."""
    note: str = ""


def _default_detectors() -> dict[str, dict | None]:
    return {name: {"mode": d.mode, **d.params} for name, d in DETECTORS.items()}


@dataclass
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
        return self.lines.get(key)

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
class _Reader:
    """Turns composed YAML nodes into Python values, remembering each key path's line."""

    def __init__(self, source: str):
        self.source = source
        self.lines: dict[str, int] = {}
        self._constructor = yaml.constructor.SafeConstructor()

    def error(self, message: str, node=None, key: str | None = None) -> SpecError:
        line = node.start_mark.line + 1 if node is not None else None
        return SpecError(self.source, message, line=line, key=key)

    def note(self, path: str, node) -> None:
        self.lines[path] = node.start_mark.line + 1

    @staticmethod
    def what(node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        if node.tag.endswith(":null"):
            return "nothing"
        return repr(node.value)

    def mapping(self, node, path: str, allowed: tuple[str, ...] | None) -> dict[str, object]:
        """{key: value node}; unknown and duplicate keys are errors."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(MSG_NOT_MAPPING.format(got=self.what(node)), node, path or None)
        out: dict[str, object] = {}
        first: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(self.scalar(key_node, path))
            sub = f"{path}.{key}" if path else key
            if key in out:
                raise self.error(MSG_DUPLICATE_KEY.format(key=key, line=first[key]), key_node, sub)
            if allowed is not None and key not in allowed:
                raise self.error(MSG_UNKNOWN_KEY.format(key=key, expected=", ".join(allowed)), key_node, sub)
            first[key] = key_node.start_mark.line + 1
            self.note(sub, key_node)
            out[key] = value_node
        return out

    def sequence(self, node, path: str) -> list:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(MSG_NOT_LIST.format(got=self.what(node)), node, path)
        for index, item in enumerate(node.value):
            self.note(f"{path}[{index}]", item)
        return list(node.value)

    def scalar(self, node, path: str):
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(MSG_NOT_TEXT.format(got=self.what(node)), node, path)
        return self._constructor.construct_object(node)

    def text(self, node, path: str, *, empty_ok: bool = False) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null") and not empty_ok:
            raise self.error(MSG_NOT_TEXT.format(got=self.what(node)), node, path)
        value = self.scalar(node, path)
        if value is None:
            return ""
        if isinstance(value, (dict, list, bool)):
            raise self.error(MSG_NOT_TEXT.format(got=self.what(node)), node, path)
        text = str(value).strip()
        if not text and not empty_ok:
            raise self.error(MSG_EMPTY_TEXT, node, path)
        return text

    def ident(self, node, path: str) -> str:
        value = self.text(node, path)
        if not _ID.match(value):
            raise self.error(MSG_ID.format(value=value), node, path)
        return value

    def number(self, node, path: str) -> float:
        value = self.scalar(node, path) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(MSG_NOT_NUMBER.format(got=self.what(node)), node, path)
        return float(value)

    def texts(self, node, path: str) -> list[tuple[str, object]]:
        """A list of texts (a single text is accepted as a list of one), with their nodes."""
        if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null"):
            self.note(f"{path}[0]", node)
            return [(self.text(node, path), node)]
        if isinstance(node, yaml.ScalarNode):
            return []
        return [(self.text(item, f"{path}[{i}]"), item) for i, item in enumerate(self.sequence(node, path))]


def parse_objective(text: str, *, source: str = "objective spec") -> Objective:
    """Read and validate an objective spec from YAML text (errors name the line and the key)."""
    reader = _Reader(source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err)
        raise SpecError(source, MSG_NOT_YAML.format(problem=problem),
                        line=mark.line + 1 if mark else None) from err
    if root is None:
        raise SpecError(source, MSG_MISSING_KEY.format(key="objective"), line=1)
    top = reader.mapping(root, "", TOP_KEYS)
    for key in ("objective", "components"):
        if key not in top:
            raise SpecError(source, MSG_MISSING_KEY.format(key=key), line=root.start_mark.line + 1)
    name = reader.text(top["objective"], "objective")
    description = reader.text(top["description"], "description", empty_ok=True) if "description" in top else ""

    modes, aliases = _read_modes(reader, top.get("modes"))
    objective = Objective(name=name, description=description, modes=modes, aliases=aliases, source=source,
                          lines=reader.lines, text=text)

    def resolve(mode_text: str, node, path: str) -> str:
        found = objective.find_mode(mode_text)
        if found is None:
            raise reader.error(MSG_UNKNOWN_MODE.format(mode=mode_text, known=", ".join(m.id for m in modes)), node,
                               path)
        return found

    seen: dict[str, int] = {}
    for index, node in enumerate(reader.sequence(top["components"], "components")):
        path = f"components[{index}]"
        raw = reader.mapping(node, path, COMPONENT_KEYS)
        for key in REQUIRED_COMPONENT_KEYS:
            if key not in raw:
                raise reader.error(MSG_MISSING_KEY.format(key=key), node, path)
        cid = reader.ident(raw["id"], f"{path}.id")
        if cid in seen:
            raise reader.error(MSG_DUPLICATE_ID.format(what="component", value=cid, line=seen[cid]), raw["id"],
                               f"{path}.id")
        seen[cid] = raw["id"].start_mark.line + 1
        kind = reader.text(raw["kind"], f"{path}.kind")
        if kind not in COMPONENT_KINDS:
            raise reader.error(MSG_KIND.format(value=kind, expected=", ".join(COMPONENT_KINDS)), raw["kind"],
                               f"{path}.kind")
        weight = None
        if "weight" in raw and not (isinstance(raw["weight"], yaml.ScalarNode) and raw["weight"].tag.endswith(":null")):
            weight = reader.number(raw["weight"], f"{path}.weight")
        signals = []
        if "signals" in raw and not (isinstance(raw["signals"], yaml.ScalarNode)
                                     and raw["signals"].tag.endswith(":null")):
            for j, snode in enumerate(reader.sequence(raw["signals"], f"{path}.signals")):
                spath = f"{path}.signals[{j}]"
                sraw = reader.mapping(snode, spath, SIGNAL_KEYS)
                for key in SIGNAL_KEYS:
                    if key not in sraw:
                        raise reader.error(MSG_MISSING_KEY.format(key=key), snode, spath)
                column = reader.text(sraw["column"], f"{spath}.column")
                direction = reader.text(sraw["direction"], f"{spath}.direction")
                if direction not in DIRECTIONS:
                    raise reader.error(MSG_DIRECTION.format(value=direction), sraw["direction"], f"{spath}.direction")
                signals.append(Signal(column, direction))  # type: ignore[arg-type]
        relations = {}
        for key in ("guards_against", "can_cause"):
            items = reader.texts(raw[key], f"{path}.{key}") if key in raw else []
            relations[key] = tuple(dict.fromkeys(resolve(t, n, f"{path}.{key}") for t, n in items))
        objective.components.append(Component(
            cid, reader.text(raw["name"], f"{path}.name"), kind, reader.text(raw["why"], f"{path}.why"),
            reader.text(raw["serves"], f"{path}.serves"), weight, tuple(signals), relations["guards_against"],
            relations["can_cause"]))

    if "labels" in top:
        objective.labels = [t for t, _ in reader.texts(top["labels"], "labels")]
    if "rules" in top and not (isinstance(top["rules"], yaml.ScalarNode) and top["rules"].tag.endswith(":null")):
        seen_rules: dict[str, int] = {}
        for index, node in enumerate(reader.sequence(top["rules"], "rules")):
            path = f"rules[{index}]"
            raw = reader.mapping(node, path, RULE_KEYS)
            for key in ("id", "mode", "when"):
                if key not in raw:
                    raise reader.error(MSG_MISSING_KEY.format(key=key), node, path)
            rid = reader.ident(raw["id"], f"{path}.id")
            if rid in seen_rules:
                raise reader.error(MSG_DUPLICATE_ID.format(what="rule", value=rid, line=seen_rules[rid]), raw["id"],
                                   f"{path}.id")
            seen_rules[rid] = raw["id"].start_mark.line + 1
            mode = resolve(reader.text(raw["mode"], f"{path}.mode"), raw["mode"], f"{path}.mode")
            when = reader.text(raw["when"], f"{path}.when")
            try:
                parse(when, rule=rid)
            except PredicateError as err:
                raise reader.error(str(err), raw["when"], f"{path}.when") from err
            note = reader.text(raw["note"], f"{path}.note", empty_ok=True) if "note" in raw else ""
            objective.rules.append(Rule(rid, mode, when, note))
    if "detectors" in top:
        objective.detectors = _read_detectors(reader, top["detectors"], resolve)
    for settings in objective.detectors.values():  # default modes follow the spec's renames
        if settings:
            settings["mode"] = objective.find_mode(settings["mode"]) or settings["mode"]
    return objective


def _read_modes(reader: _Reader, node) -> tuple[list[FailureMode], dict[str, str]]:
    modes = list(DEFAULT_MODES)
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
        return modes, {}
    raw = reader.mapping(node, "modes", MODES_KEYS)
    first_line = {m.id: None for m in modes}
    if "add" in raw:
        for index, item in enumerate(reader.sequence(raw["add"], "modes.add")):
            path = f"modes.add[{index}]"
            fields_ = reader.mapping(item, path, MODE_KEYS)
            for key in MODE_KEYS:
                if key not in fields_:
                    raise reader.error(MSG_MISSING_KEY.format(key=key), item, path)
            mid = reader.ident(fields_["id"], f"{path}.id")
            if mid in first_line:
                where = first_line[mid]
                message = (MSG_DUPLICATE_ID.format(what="failure mode", value=mid, line=where) if where
                           else MSG_MODE_IS_DEFAULT.format(value=mid))
                raise reader.error(message, fields_["id"], f"{path}.id")
            first_line[mid] = fields_["id"].start_mark.line + 1
            dimension = reader.text(fields_["dimension"], f"{path}.dimension")
            if dimension not in DIMENSIONS:
                raise reader.error(MSG_DIMENSION.format(value=dimension), fields_["dimension"], f"{path}.dimension")
            modes.append(FailureMode(mid, reader.text(fields_["name"], f"{path}.name"),
                                     reader.text(fields_["description"], f"{path}.description"),
                                     dimension, default=False))  # type: ignore[arg-type]
    if "rename" not in raw:
        return modes, {}
    renames: dict[str, tuple[str, dict, object]] = {}
    for old, value in reader.mapping(raw["rename"], "modes.rename", None).items():
        path = f"modes.rename.{old}"
        key_line = reader.lines[path]
        if isinstance(value, yaml.MappingNode):
            spec = reader.mapping(value, path, RENAME_KEYS)
            if "id" not in spec:
                raise reader.error(MSG_MISSING_KEY.format(key="id"), value, path)
            new = reader.ident(spec["id"], f"{path}.id")
            overrides = {k: reader.text(spec[k], f"{path}.{k}") for k in ("name", "description", "dimension")
                         if k in spec}
            if "dimension" in overrides and overrides["dimension"] not in DIMENSIONS:
                raise reader.error(MSG_DIMENSION.format(value=overrides["dimension"]), spec["dimension"],
                                   f"{path}.dimension")
        else:
            new = reader.ident(value, path)
            overrides = {}
        renames[old] = (new, overrides, key_line)
    ids = {m.id for m in modes}
    known = ", ".join(m.id for m in modes)
    targets_of_renames = {new for new, _, _ in renames.values()}
    for old, (_, _, line) in renames.items():
        if old not in ids and old not in targets_of_renames:  # a chain may rename a mode's new id again
            raise SpecError(reader.source, MSG_RENAME_UNKNOWN.format(mode=old, known=known), line=line,
                            key=f"modes.rename.{old}")
    # follow chains; a chain that comes back to where it started is a cycle
    final: dict[str, str] = {}
    for start in renames:
        chain, current = [start], start
        while current in renames:
            current = renames[current][0]
            if current in chain:
                cycle = chain[chain.index(current):] + [current]
                raise SpecError(reader.source, MSG_RENAME_CYCLE.format(cycle=" -> ".join(cycle)),
                                line=renames[cycle[0]][2], key=f"modes.rename.{cycle[0]}")
            chain.append(current)
        final[start] = current
    # a mode renamed onto a mode that keeps its id (or onto another renamed mode's target) clashes
    targets: dict[str, str] = {}
    for m in modes:
        target = final.get(m.id, m.id)
        if target in targets:
            old = m.id if m.id in renames else targets[target]
            raise SpecError(reader.source, MSG_RENAME_CLASH.format(old=old, new=renames[old][0]),
                            line=renames[old][2], key=f"modes.rename.{old}")
        targets[target] = m.id
    out = []
    for m in modes:
        if m.id in final:
            overrides: dict = {}
            for step in _chain(m.id, renames):
                overrides.update(renames[step][1])
            out.append(replace(m, id=final[m.id], **overrides))
        else:
            out.append(m)
    return out, final


def _chain(start: str, renames: Mapping[str, tuple]) -> list[str]:
    steps, current = [], start
    while current in renames:
        steps.append(current)
        current = renames[current][0]
    return steps


def _read_detectors(reader: _Reader, node, resolve) -> dict[str, dict | None]:
    out = _default_detectors()
    for name, value in reader.mapping(node, "detectors", None).items():
        path = f"detectors.{name}"
        if name not in DETECTORS:
            raise SpecError(reader.source, MSG_UNKNOWN_DETECTOR.format(name=name, known=", ".join(DETECTORS)),
                            line=reader.lines[path], key=path)
        d = DETECTORS[name]
        if isinstance(value, yaml.ScalarNode):
            flag = reader.scalar(value, path)
            if flag is None or flag is False:
                out[name] = None
            elif flag is True:
                out[name] = {"mode": d.mode, **d.params}
            else:
                raise reader.error(MSG_DETECTOR_VALUE.format(got=reader.what(value)), value, path)
            continue
        settings = reader.mapping(value, path, None)
        allowed = ("mode", *d.params)
        current = {"mode": d.mode, **d.params}
        for key, sub in settings.items():
            spath = f"{path}.{key}"
            if key not in allowed:
                raise SpecError(reader.source, MSG_DETECTOR_SETTING.format(key=key, name=name,
                                                                           known=", ".join(allowed)),
                                line=reader.lines[spath], key=spath)
            if key == "mode":
                current["mode"] = resolve(reader.text(sub, spath), sub, spath)
            elif key in ("ratio",):
                current[key] = reader.number(sub, spath)
            elif key == "min_chars":
                current[key] = int(reader.number(sub, spath))
            elif key == "attributes":
                current[key] = [t for t, _ in reader.texts(sub, spath)]
            else:
                current[key] = reader.text(sub, spath)
        out[name] = current
    return out


def load_objective(path: str | os.PathLike) -> Objective:
    """Read and validate an objective spec file (YAML).

    >>> from analysis.paths import DATA_DIR
    >>> spec = load_objective(DATA_DIR / "objective_demo.yaml")
    >>> [c.id for c in spec.components][:3]
    ['rm_helpfulness', 'rm_harmlessness', 'kl_penalty']
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise SpecError(path.name, f"is not UTF-8 text ({err.reason} at byte {err.start})") from err
    except OSError as err:
        raise SpecError(path.name, f"cannot be read: {err.strerror}") from err
    return parse_objective(text, source=path.name)


# ---------------------------------------------------------------------------- against a run
def check_against_run(objective: Objective, store, run: str) -> list[SpecError]:
    """Problems of a spec against one run's columns: signal columns that are missing or not
    numeric, label columns that are missing, rule conditions that do not fit the run's fields,
    detector fields and attributes that are missing. Empty when the spec fits the run."""
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


__all__ = ["COMPONENT_KINDS", "DIRECTIONS", "Component", "Objective", "Rule", "Signal", "SpecError",
           "check_against_run", "load_objective", "parse_objective", "signal_columns"]
