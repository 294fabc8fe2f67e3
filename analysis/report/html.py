"""The report as one self-contained HTML document (inline CSS and SVG charts, no network needed).

The document is rendered from the Jinja2 templates in ``analysis/report/templates/`` with autoescape
on: every value a template shows is HTML-escaped by Jinja2, so a run name or a slice value holding
``<script>`` or Jinja2 syntax (``{{ }}``, ``{% %}``) is shown as text, never run nor interpreted
(data is never compiled as a template). User text is also cut to :data:`~analysis.report.text.MAX_TEXT`
characters with a marker (the ``cut`` filter); long tokens wrap (CSS ``overflow-wrap: anywhere``);
right-to-left text and emoji are kept as they are.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

from analysis.formatting import format_threshold
from analysis.report.content import Report
from analysis.report.spec import SECTION_TITLES, SECTIONS
from analysis.report.text import cut, pct, points, qvalue

#: The folder of the report's templates.
TEMPLATES = Path(__file__).resolve().parent / "templates"
MSG_UNKNOWN_KIND = "Unknown column kind {kind!r} in a report template"


def _unknown_kind(kind: str) -> None:
    raise ValueError(MSG_UNKNOWN_KIND.format(kind=kind))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters.update(cut=cut, pct=pct, qvalue=qvalue, points=points, thousands=lambda v: f"{v:,}",
                       threshold_words=lambda source, threshold, column=None: format_threshold(threshold, source, column))
    env.tests.update(list=lambda v: isinstance(v, list),
                     numeric=lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
    env.globals.update(raise_unknown_kind=_unknown_kind)
    return env


#: One environment for the process (templates compiled once; Jinja2 environments are thread-safe to render).
ENVIRONMENT = _environment()


def render_html(report: Report, *, page_numbers: dict[str, int] | None = None,
                charts: dict[str, str] | None = None) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG; no network needed).

    Parameters
    ----------
    report : Report
        The computed content (:func:`~analysis.report.content.build_report`).
    page_numbers : dict of str to int, optional
        Section -> page in the printed PDF, shown on the contents page.
    charts : dict of str to str, optional
        Chart name (``runs``, ``slices``, ``heatmap``, ``comparison``) -> inline SVG, inserted as it is.

    Returns
    -------
    str
        The HTML document; every value from the report is escaped by the templates.
    """
    data = report.data
    spec = report.spec
    sections = [s for s in SECTIONS if s in spec.sections]
    return ENVIRONMENT.get_template("report.html.j2").render(
        report=report, spec=spec, data=data, charts=charts if charts is not None else {},
        page_numbers=page_numbers or {}, sections=sections, number={s: i + 1 for i, s in enumerate(sections)},
        titles=SECTION_TITLES,
        covered=", ".join(SECTION_TITLES[s] for s in sections if s in report.covered),
        not_covered="; ".join(f"{SECTION_TITLES[s]} ({why})" for s, why in report.not_covered.items()),
        files=_source_files(data) if "provenance" in sections else [],
        settings=_settings(report) if "provenance" in sections else [],
        tested=[r for r in data["slices"]["rows"] if not r["too_small"]][:25],
        discovery_settings=json.dumps({k: data["discovery"]["settings"][k]
                                       for k in ("error_weight", "k", "max_order", "min_support", "seed")})
        if "discovery" in data else "")


def _source_files(data: dict) -> list[dict]:
    """One row per source file of every run (provenance)."""
    return [{"run": f"{r['name']} ({r['run_id']})", "format": r["format"], "file": f["file_name"],
             "sha256": f["sha256"], "rows": r["rows"]} for r in data["runs"] for f in r["files"]]


def _settings(report: Report) -> list[dict]:
    """The analysis settings as (setting, value) rows (provenance)."""
    data, spec = report.data, report.spec
    settings = {
        "attributes": ", ".join(data["slices"]["settings"]["attributes"]),
        "conjunctions up to": spec.max_order, "minimum support": spec.min_support,
        "confidence level": spec.confidence, "false discovery rate": spec.fdr, "bins for numbers": spec.bins,
        "discovery": json.dumps(spec.discovery.model_dump(), sort_keys=True),
        "gate": json.dumps(spec.gate.model_dump(), sort_keys=True),
        "objective spec": (f"{spec.objective} (sha256 {data['failure_modes']['objective_sha256']})"
                           if data.get("failure_modes") else (spec.objective or "none")),
        "clustering": json.dumps(data["clusters"]["settings"], sort_keys=True, default=str)
        if data.get("clusters") else "none",
        "Faultline version": data["faultline_version"], "git commit": data["git_commit"],
        "report spec sha256": spec.sha256,
    }
    return [{"k": k, "v": v} for k, v in settings.items()]
