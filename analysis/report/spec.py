"""What defines a report: the sections it can hold and :class:`ReportSpec`.

A spec is a pydantic v2 model (extra fields forbidden): a bad value fails when the spec is made, with a
:class:`ReportSpecError` naming the field and the value, before anything is computed.
``ReportSpec.model_json_schema()`` gives its JSON schema (field descriptions from the docstrings).
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from analysis.errors import FaultlineError

#: Every section a report can hold, in order.
SECTIONS: tuple[str, ...] = ("summary", "findings", "provenance", "methods", "slices", "heatmap", "discovery", "clusters",
                             "failure_modes", "comparison", "timeline", "limitations", "appendix", "signoff")
SECTION_TITLES = {
    "summary": "Executive summary", "findings": "Pinned findings", "provenance": "Scope and provenance", "methods": "Methods",
    "slices": "Slices that differ from the rest", "heatmap": "Heatmap", "discovery": "Discovered slices",
    "clusters": "Failure clusters", "failure_modes": "Failure modes and objective components",
    "comparison": "Baseline versus candidate", "timeline": "Runs over time", "limitations": "Limitations",
    "appendix": "Appendix: lists in full and attached data", "signoff": "Sign-off",
}
MSG_SECTION = "Unknown report section {name!r}; sections: {known}"
#: One line per invalid field of a report spec.
MSG_INVALID = "Invalid report spec field {field!r}: {problem} (got {value!r})"
#: A spec read back from JSON that is not a JSON object.
MSG_NOT_OBJECT = "A report spec must be a JSON object of fields, got {kind}"


class ReportSpecError(FaultlineError, ValueError):
    """A report spec that cannot be used: the message names each bad field and the value it got."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_attribute_docstrings=True)


def _describe(err: ValidationError) -> str:
    """Every problem of a validation, one line each, naming the field (``gate.alpha``, ``sections[1]``) and value."""
    lines = []
    for problem in err.errors():
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in problem["loc"]).lstrip(".")
        cause = problem.get("ctx", {}).get("error")
        text = str(cause) if isinstance(cause, ValueError) else problem["msg"]
        lines.append(MSG_INVALID.format(field=field or "(spec)", problem=text, value=problem.get("input")))
    return "\n".join(lines)


class DiscoverySettings(_Strict):
    """Settings of the discovered-slices section (SliceLine, Sagadeeva and Boehm, SIGMOD 2021)."""

    error_weight: float = Field(0.99, gt=0, le=1, validation_alias=AliasChoices("error_weight", "alpha"))
    """SliceLine's weight of the error term against the size term in the slice score, in (0, 1]."""
    k: int = Field(10, ge=1)
    """How many top slices to keep."""
    max_order: int = Field(3, ge=1, le=3, validation_alias=AliasChoices("max_order", "max_l"))
    """Largest number of attributes in a conjunction."""
    min_support: int | float = Field(0.01, gt=0, validation_alias=AliasChoices("min_support", "min_sup"))
    """Least examples per slice: a count (an int), or a fraction of the examples (a float below 1)."""
    holdout: bool = True
    """Search on a random half of the examples and compute the statistics on the other half."""
    seed: int = 0
    """Seed of the random halves."""


class GateSettings(_Strict):
    """Settings of the regression gate of the baseline-versus-candidate section."""

    max_drop: float = Field(0.02, ge=0, lt=1)
    """Largest allowed drop in accuracy, a fraction in [0, 1) (0.02: two points)."""
    alpha: float = Field(0.05, gt=0, lt=1)
    """Significance level of a breaking slice (Benjamini-Hochberg q-value), in (0, 1)."""


class ReportSpec(_Strict):
    """Everything that defines a report; stored with it, so it can be regenerated.

    Raises :class:`ReportSpecError` (a :class:`~analysis.errors.FaultlineError`) naming each bad field.

    >>> ReportSpec(run="r").sections[:2]
    ['summary', 'findings']
    >>> ReportSpec(run="r", fdr=2)
    Traceback (most recent call last):
    ...
    analysis.report.spec.ReportSpecError: Invalid report spec field 'fdr': Input should be less than 1 (got 2)
    """

    run: str
    """The run analysed (id or name; stored as the id)."""
    baseline: str | None = None
    """A baseline run for the two-run sections, or None."""
    series: str | None = None
    """A series of runs (checkpoints, releases) for the Timeline section (:mod:`analysis.report.timeline`), or
    None."""
    objective: str | None = None
    """Path of the objective spec (YAML), or None; with ``objective_yaml``, only the spec's name."""
    objective_yaml: str | None = None
    """The objective spec's YAML text itself (a spec stored in the app or uploaded); used instead of reading
    ``objective`` from disk, and kept with the report so it can be regenerated anywhere."""
    sections: list[str] = Field(default=list(SECTIONS),
                                json_schema_extra={"items": {"enum": list(SECTIONS), "type": "string"}})
    """Sections to include (names from ``SECTIONS``); they are always printed in the order of ``SECTIONS``."""
    attributes: list[str] | None = None
    """Attributes to slice by; None: the run's defaults."""
    cohort: str | None = None
    """The cohort every statistic of the report is computed on: a saved cohort's name (its latest version, recorded
    in the report) or a condition in the rule language (``language = "sw" and not refused``); None: every example."""
    max_order: Literal[1, 2, 3] = 2
    """Largest number of attributes in a slice's conjunction."""
    min_support: int = Field(30, ge=1)
    """Least examples a slice needs to be tested."""
    confidence: float = Field(0.95, gt=0, lt=1)
    """Confidence level of the intervals, in (0, 1)."""
    fdr: float = Field(0.05, gt=0, lt=1)
    """False discovery rate of the findings (Benjamini-Hochberg), in (0, 1)."""
    bins: int = Field(5, ge=2, le=20)
    """Quantile bins for numeric attributes."""
    discovery: DiscoverySettings = Field(default_factory=DiscoverySettings)
    """Settings of the discovered-slices section."""
    gate: GateSettings = Field(default_factory=GateSettings)
    """Settings of the regression gate."""
    title: str = "Faultline audit report"
    """Title on the cover."""
    analyst: str = ""
    """Who prepared the report (cover and sign-off)."""
    reviewer: str = ""
    """Who reviews it (cover and sign-off)."""

    @field_validator("cohort")
    @classmethod
    def _cohort_text(cls, cohort: str | None) -> str | None:
        return None if cohort is None or not cohort.strip() else cohort.strip()

    @field_validator("sections")
    @classmethod
    def _known_sections(cls, sections: list[str]) -> list[str]:
        for name in sections:
            if name not in SECTIONS:
                raise ValueError(MSG_SECTION.format(name=name, known=", ".join(SECTIONS)))
        return sections

    def __init__(self, **fields) -> None:
        try:
            super().__init__(**fields)
        except ValidationError as err:
            raise ReportSpecError(_describe(err)) from None

    def canonical(self) -> str:
        """Canonical JSON of the spec (sorted keys, no spaces): what its hash and the report id are made from."""
        fields = self.model_dump()
        for name in ("objective_yaml", "cohort"):
            if fields[name] is None:
                del fields[name]  # specs stored before the field existed keep their hash and report id
        if fields["series"] is None:
            del fields["series"]  # likewise (a stored spec keeps its own list of sections, so its id holds)
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)

    @property
    def sha256(self) -> str:
        """sha256 of :meth:`canonical` (hex)."""
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> ReportSpec:
        """A spec from its JSON (as :meth:`canonical` writes it, or any JSON object of fields).

        Raises :class:`ReportSpecError` when the JSON is not an object or a field is invalid.
        """
        fields = json.loads(text)
        if not isinstance(fields, dict):
            raise ReportSpecError(MSG_NOT_OBJECT.format(kind=type(fields).__name__))
        return cls(**fields)
