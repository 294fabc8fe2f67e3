"""What defines a report: the sections it can hold and :class:`ReportSpec`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

#: Every section a report can hold, in order.
SECTIONS: tuple[str, ...] = ("summary", "provenance", "methods", "slices", "heatmap", "discovery", "clusters",
                             "failure_modes", "comparison", "limitations", "appendix", "signoff")
SECTION_TITLES = {
    "summary": "Executive summary", "provenance": "Scope and provenance", "methods": "Methods",
    "slices": "Slices that are worse than the rest", "heatmap": "Heatmap", "discovery": "Discovered slices",
    "clusters": "Failure clusters", "failure_modes": "Failure modes and objective components",
    "comparison": "Baseline versus candidate", "limitations": "Limitations",
    "appendix": "Appendix: complete slice table", "signoff": "Sign-off",
}
MSG_SECTION = "Unknown report section {name!r}; sections: {known}"


@dataclass
class ReportSpec:
    """Everything that defines a report; stored with it, so it can be regenerated."""

    run: str
    """The run analysed (id or name; stored as the id)."""
    baseline: str | None = None
    """A baseline run for the two-run sections, or None."""
    objective: str | None = None
    """Path of the objective spec (YAML), or None."""
    sections: list[str] = field(default_factory=lambda: list(SECTIONS))
    attributes: list[str] | None = None
    """Attributes to slice by; None: the run's defaults."""
    max_order: int = 2
    min_support: int = 30
    confidence: float = 0.95
    fdr: float = 0.05
    bins: int = 5
    discovery: dict = field(default_factory=lambda: {"alpha": 0.99, "k": 10, "max_l": 3, "min_sup": 0.01,
                                                     "holdout": True, "seed": 0})
    gate: dict = field(default_factory=lambda: {"max_drop": 0.02, "alpha": 0.05})
    title: str = "Faultline audit report"
    analyst: str = ""
    reviewer: str = ""

    def canonical(self) -> str:
        """Canonical JSON of the spec (sorted keys)."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), default=str)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> ReportSpec:
        return cls(**json.loads(text))
