"""The report as one self-contained HTML document (inline CSS and SVG charts, no network needed).

The document is rendered from the Jinja2 templates in ``analysis/report/templates/`` with autoescape
on: every value a template shows is HTML-escaped by Jinja2, so a run name or a slice value holding
``<script>`` or Jinja2 syntax (``{{ }}``, ``{% %}``) is shown as text, never run nor interpreted
(data is never compiled as a template). Nothing a reviewer must see is cut: user text is shown whole
(the ``words`` and ``slice`` filters of :mod:`analysis.report.text` break it between words, long tokens
between characters in a monospace span); only example texts are excerpted (``excerpt``), whole in the
attached files. The same CSS lays out the PDF (paged media: landscape pages for wide tables, running
header, page numbers) and the HTML twin.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from analysis.formatting import format_threshold
from analysis.report.content import REPORT_ID_COVERS, Report, cohort_words
from analysis.report.spec import SECTION_TITLES, SECTIONS
from analysis.report.text import LONG_TOKEN, excerpt, pct, points, qvalue, slice_markup, words

#: The folder of the report's templates.
TEMPLATES = Path(__file__).resolve().parent / "templates"
MSG_UNKNOWN_KIND = "Unknown column kind {kind!r} in a report template"


def _unknown_kind(kind: str) -> None:
    raise ValueError(MSG_UNKNOWN_KIND.format(kind=kind))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    env.filters.update(words=words, slice=slice_markup, excerpt=excerpt, pct=pct, qvalue=qvalue, points=points,
                       thousands=lambda v: f"{v:,}",
                       threshold_words=lambda source, threshold, column=None: format_threshold(threshold, source, column))
    env.tests.update(list=lambda v: isinstance(v, list),
                     numeric=lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
    env.globals.update(raise_unknown_kind=_unknown_kind)
    return env


#: One environment for the process (templates compiled once; Jinja2 environments are thread-safe to render).
ENVIRONMENT = _environment()


#: A setting whose value is longer than this many characters is listed in full in the appendix, not in the
#: provenance table.
LONG_SETTING = 160
#: Rows of each kind the slices section prints (the complete table is attached as slices.csv / slices.json).
SLICE_ROWS = {"context": 20, "symptom": 8, "better": 8}
#: Rows of the comparison the PDF prints (all of them are attached as comparison.csv / comparison.json).
COMPARISON_ROWS = 30
#: Heatmap cells the PDF prints as a table, strongest evidence first (all of them are drawn and attached).
HEATMAP_ROWS = 15
#: Breaking slices listed beside the gate's verdict; all of them are in the appendix.
BREAKING_SHOWN = 5


def render_html(report: Report, *, page_numbers: dict[str, int] | None = None,
                charts: dict[str, str] | None = None, attachments: list[dict] | None = None) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG; no network needed).

    Parameters
    ----------
    report : Report
        The computed content (:func:`~analysis.report.content.build_report`).
    page_numbers : dict of str to int, optional
        Unused (the PDF's contents page numbers come from CSS ``target-counter``); kept for callers.
    charts : dict of str to str, optional
        Chart name (``runs``, ``slices``, ``heatmap``, ``comparison``) -> inline SVG, inserted as it is.
    attachments : list of dict, optional
        The attached files (``name``, ``description``, ``rows``, ``sha256``) listed in the appendix.

    Returns
    -------
    str
        The HTML document; every value from the report is escaped by the templates.
    """
    data = report.data
    spec = report.spec
    asked = [s for s in SECTIONS if s in spec.sections]
    # the contents and the body hold only the sections the report has; those it does not cover are listed once,
    # each with its reason, below the contents (never a numbered heading over "not covered")
    sections = [s for s in asked if s not in report.not_covered]
    not_covered = [{"title": SECTION_TITLES[s], "why": report.not_covered[s]} for s in asked
                   if s in report.not_covered]
    settings = _settings(report) if "provenance" in sections else []
    rows = [r for r in data["slices"]["rows"] if not r["too_small"]]
    worse = [r for r in rows if r["direction"] == "worse"]
    shown = {"context": [r for r in worse if r["origin"] == "context"][:SLICE_ROWS["context"]],
             "symptom": [r for r in worse if r["origin"] == "symptom"][:SLICE_ROWS["symptom"]],
             "better": [r for r in rows if r["direction"] == "better"][:SLICE_ROWS["better"]]}
    if not worse and not shown["better"]:
        shown["context"] = rows[:10]  # nothing significant: the strongest evidence, so the section is not empty
    counts = {"worse": len(worse), "better": sum(r["direction"] == "better" for r in rows), "tested": len(rows),
              "context": sum(r["origin"] == "context" for r in worse)}
    comp = data.get("comparison")
    comparison_rows = []
    if comp:
        ranked = sorted(comp["rows"], key=lambda r: ({"regressed": 0, "improved": 1}.get(r["verdict"], 2),
                                                     r["origin"] != "context", -abs(r["difference"])))
        comparison_rows = ranked[:COMPARISON_ROWS]
    return ENVIRONMENT.get_template("report.html.j2").render(
        report=report, spec=spec, data=data, charts=charts if charts is not None else {},
        sections=sections, number={s: i + 1 for i, s in enumerate(sections)},
        titles=SECTION_TITLES, long_token=LONG_TOKEN,
        not_covered=not_covered,
        files=_source_files(data) if "provenance" in sections else [],
        settings=[x for x in settings if not x["long"]], long_settings=[x for x in settings if x["long"]],
        shown=shown, counts=counts, heatmap_rows=_heatmap_rows(data), comparison_rows=comparison_rows, breaking_shown=BREAKING_SHOWN,
        attachments=attachments or [], cohort_text=cohort_words(data["cohort"]) if data.get("cohort") else "",
        id_covers=REPORT_ID_COVERS,
        discovery_settings=", ".join(f"{k} {data['discovery']['settings'][k]}"
                                     for k in ("error_weight", "k", "max_order", "min_support", "seed"))
        if "discovery" in data else "")


def _heatmap_rows(data: dict) -> list[dict]:
    """The heatmap cells with the strongest evidence (q-value, then error rate), for the PDF's table."""
    cells = data.get("heatmap", {}).get("cells", [])
    tested = [c for c in cells if c.get("q_value") is not None and c["q_value"] == c["q_value"]]
    return sorted(tested, key=lambda c: (c["q_value"], -c["error_rate"]))[:HEATMAP_ROWS]


def _source_files(data: dict) -> list[dict]:
    """One row per source file of every run (provenance)."""
    return [{"run": f"{r['name']} ({r['run_id']})", "format": r["format"], "file": f["file_name"],
             "sha256": f["sha256"], "rows": r["rows"]} for r in data["runs"] for f in r["files"]]


def _pairs(value: dict) -> list[tuple[str, str]]:
    """A settings dict as (key, value) pairs, nested keys joined with dots, nothing left out."""
    out = []
    for key, v in sorted(value.items(), key=lambda kv: str(kv[0])):
        if isinstance(v, dict):
            out += [(f"{key}.{k}", x) for k, x in _pairs(v)]
        elif isinstance(v, (list, tuple)):
            out.append((str(key), ", ".join(str(x) for x in v)))
        else:
            out.append((str(key), str(v)))
    return out


def _settings(report: Report) -> list[dict]:
    """The analysis settings as rows: ``k`` (setting), ``v`` (its value, whole), ``pairs`` (for a group of
    settings, every (key, value)) and ``long`` (listed in the appendix rather than in the provenance table)."""
    data, spec = report.data, report.spec
    fm = data.get("failure_modes")
    objective = "none"
    if fm:
        objective = f"{spec.objective or 'the chosen spec'} (sha256 {fm['objective_sha256']})"
    groups = {
        "attributes sliced by": {"attributes": data["slices"]["settings"]["attributes"]},
        "discovery (SliceLine)": spec.discovery.model_dump(),
        "regression gate": {"largest allowed accuracy drop (points)": points(spec.gate.max_drop).lstrip("+"),
                            "significance level (q)": spec.gate.alpha},
        "clustering": data["clusters"]["settings"] if data.get("clusters") else {},
    }
    rows = [{"k": "conjunctions up to", "v": str(spec.max_order)},
            {"k": "minimum support (examples)", "v": f"{spec.min_support:,}"},
            {"k": "confidence level", "v": str(spec.confidence)},
            {"k": "false discovery rate", "v": str(spec.fdr)},
            {"k": "bins for numbers", "v": str(spec.bins)},
            {"k": "objective spec", "v": objective},
            {"k": "Faultline version", "v": str(data["faultline_version"])},
            {"k": "git commit", "v": str(data["git_commit"])},
            {"k": "report spec sha256", "v": spec.sha256}]
    for name, group in groups.items():
        pairs = _pairs(group) if group else []
        text = "; ".join(f"{k} {v}" if name != "attributes sliced by" else v for k, v in pairs) or "none"
        rows.append({"k": name, "v": text, "pairs": pairs})
    for row in rows:
        row.setdefault("pairs", [])
        row["long"] = len(row["v"]) > LONG_SETTING
    return rows
