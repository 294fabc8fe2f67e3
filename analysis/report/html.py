"""The report as one self-contained HTML document (inline CSS and SVG charts, no network needed)."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from analysis.report.content import Report
from analysis.report.spec import SECTION_TITLES, SECTIONS
from analysis.report.text import MAX_TEXT, _pct, _q

CSS = """
@page { size: A4; margin: 18mm 15mm 18mm 15mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif, "Noto Color Emoji"; font-size: 10pt;
       color: #111827; line-height: 1.4; margin: 0; font-variant-ligatures: none; }
main { max-width: 190mm; margin: 0 auto; padding: 8mm 0; }
h1 { font-size: 22pt; margin: 0 0 4mm 0; color: #7C2D12; }
h2 { font-size: 14pt; margin: 8mm 0 3mm 0; border-bottom: 1.5px solid #C2410C; padding-bottom: 1mm;
     break-after: avoid; }
h3 { font-size: 11pt; margin: 5mm 0 2mm 0; break-after: avoid; }
p, li { overflow-wrap: anywhere; word-break: break-word; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm 0; font-size: 8.5pt; table-layout: auto; }
th, td { border: 0.5px solid #CBD5E1; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; word-break: break-word; max-width: 70mm; }
th { background: #F1F5F9; white-space: nowrap; }
tr { break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.nowrap, th.nowrap { white-space: nowrap; }
.cover { min-height: 230mm; display: flex; flex-direction: column; justify-content: center; break-after: page; }
.cover .meta td { font-size: 10.5pt; border: none; padding: 1mm 3mm 1mm 0; }
.id { font-family: "DejaVu Sans Mono", monospace; }
.muted { color: #475569; }
.finding { color: #9A3412; font-weight: bold; white-space: nowrap; }
.ok { color: #166534; font-weight: bold; }
.bad { color: #991B1B; font-weight: bold; }
.toc { break-after: page; }
.toc ol { list-style: none; padding-left: 0; }
.toc li { display: flex; border-bottom: 0.5px dotted #94A3B8; padding: 1.2mm 0; }
.toc li span.title { flex: 1; }
.toc a { color: inherit; text-decoration: none; }
figure { margin: 3mm 0; break-inside: avoid; }
figure svg { width: 100%; height: auto; }
.notcovered { background: #FFF7ED; border-left: 3px solid #C2410C; padding: 2mm 3mm; }
.signoff td { height: 12mm; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; }
.fm table { table-layout: fixed; width: 100%; font-size: 7pt; }
.fm th, .fm td { white-space: normal; overflow-wrap: anywhere; max-width: none; }
section.appendix table { font-size: 6.8pt; }
section.appendix td, section.appendix th { padding: 0.5mm 1mm; }
section.appendix td:first-child { min-width: 70mm; }
"""


def esc(value, *, limit: int | None = MAX_TEXT) -> str:
    """HTML-escape user text, cutting it with a marker when it is longer than ``limit``.

    >>> esc("<b>hi</b>")
    '&lt;b&gt;hi&lt;/b&gt;'
    >>> esc("x" * 10, limit=4)
    'xxxx… [6 more characters cut]'
    """
    if value is None:
        return ""
    text = str(value)
    cut = ""
    if limit is not None and len(text) > limit:
        cut = f"… [{len(text) - limit:,} more characters cut]"
        text = text[:limit]
    return html.escape(text, quote=True) + cut


def _table(rows: list[dict], columns: list[tuple[str, str, Callable]], *, cls: str = "") -> str:
    head = "".join(f"<th>{esc(title)}</th>" for _, title, _ in columns)
    body = []
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            value = fmt(row.get(key))
            numeric = isinstance(row.get(key), (int, float)) and not isinstance(row.get(key), bool)
            cells.append(f"<td class='num'>{value}</td>" if numeric else f"<td>{value}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class=\"{cls}\"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _ci(row: dict, low: str = "ci_low", high: str = "ci_high") -> str:
    return f"[{_pct(row[low])}, {_pct(row[high])}]"


def render_html(report: Report, *, page_numbers: dict[str, int] | None = None,
                charts: dict[str, str] | None = None) -> str:
    """The report as one self-contained HTML document (inline CSS and SVG; no network needed)."""
    data = report.data
    spec = report.spec
    charts = charts if charts is not None else {}
    sections_in_order = [s for s in SECTIONS if s in spec.sections]
    number = {s: i + 1 for i, s in enumerate(sections_in_order)}
    parts: list[str] = []
    run_names = ", ".join(f"{esc(r['name'])} (<span class='id'>{esc(r['run_id'])}</span>)" for r in data["runs"])
    parts.append(f"""<section class="cover"><h1>{esc(spec.title)}</h1>
<p class="muted">Stratified error analysis of model evaluations</p>
<table class="meta"><tr><td>Report id</td><td class="id">{esc(report.report_id)}</td></tr>
<tr><td>Runs covered</td><td>{run_names}</td></tr>
<tr><td>Date</td><td>{esc(report.generated_at)}</td></tr>
<tr><td>Analyst</td><td>{esc(spec.analyst) or '<span class="muted">not given</span>'}</td></tr>
<tr><td>Reviewer</td><td>{esc(spec.reviewer) or '<span class="muted">not given</span>'}</td></tr>
<tr><td>Faultline</td><td>{esc(data['faultline_version'])}, commit <span class="hash">{esc(data['git_commit'])}</span></td></tr>
<tr><td>Content hash</td><td class="hash">{esc(report.content_hash)}</td></tr></table></section>""")
    toc = []
    for s in sections_in_order:
        page = (page_numbers or {}).get(s)
        toc.append(f"<li><span class=\"title\"><a href=\"#{s}\">{number[s]}. {esc(SECTION_TITLES[s])}</a></span>"
                   f"<span class=\"page\">{page if page else ''}</span></li>")
    parts.append(f"<section class=\"toc\"><h2 id=\"contents\">Contents</h2><ol>{''.join(toc)}</ol>"
                 "<p class=\"muted\">This report covers: "
                 + esc(", ".join(SECTION_TITLES[s] for s in sections_in_order if s in report.covered)) + ".</p>"
                 + ("<p class=\"muted\">Not covered: " + esc("; ".join(f"{SECTION_TITLES[s]} ({why})"
                                                                      for s, why in report.not_covered.items()))
                    + ".</p>" if report.not_covered else "") + "</section>")

    def heading(s: str) -> str:
        return f"<h2 id=\"{s}\">{number[s]}. {esc(SECTION_TITLES[s])}</h2>"

    def not_covered(s: str) -> str:
        return f"<p class=\"notcovered\">Not covered in this report: {esc(report.not_covered[s])}.</p>"

    for s in sections_in_order:
        body = [heading(s)]
        if s in report.not_covered:
            body.append(not_covered(s))
        elif s == "summary":
            body.append("<ul>" + "".join(f"<li>{esc(line, limit=None)}</li>" for line in data["summary"]) + "</ul>")
            if "runs" in charts:
                body.append(f"<figure>{charts['runs']}</figure>")
        elif s == "provenance":
            rows = []
            for r in data["runs"]:
                for f in r["files"]:
                    rows.append({"run": f"{r['name']} ({r['run_id']})", "format": r["format"], "file": f["file_name"],
                                 "sha256": f["sha256"], "rows": r["rows"]})
            body.append("<h3>Source files</h3>" + _table(rows, [
                ("run", "Run", esc), ("format", "Format", esc), ("file", "File", esc),
                ("sha256", "sha256", lambda v: f"<span class=\"hash\">{esc(v)}</span>"),
                ("rows", "Rows", lambda v: f"{v:,}")]))
            body.append("<h3>Runs</h3>" + _table(data["runs"], [
                ("run_id", "Run id", lambda v: f"<span class=\"id\">{esc(v)}</span>"), ("name", "Name", esc),
                ("model", "Model", esc), ("rows", "Examples", lambda v: f"{v:,}"),
                ("scored", "Scored", lambda v: f"{v:,}"), ("ingested_at", "Loaded (UTC)", esc),
                ("notes", "Notes", esc)]))
            settings = {
                "attributes": ", ".join(data["slices"]["settings"]["attributes"]),
                "conjunctions up to": spec.max_order, "minimum support": spec.min_support,
                "confidence level": spec.confidence, "false discovery rate": spec.fdr, "bins for numbers": spec.bins,
                "discovery": json.dumps(spec.discovery, sort_keys=True), "gate": json.dumps(spec.gate, sort_keys=True),
                "objective spec": (f"{spec.objective} (sha256 {data['failure_modes']['objective_sha256']})"
                                   if data.get("failure_modes") else (spec.objective or "none")),
                "clustering": json.dumps(data["clusters"]["settings"], sort_keys=True, default=str)
                if data.get("clusters") else "none",
                "Faultline version": data["faultline_version"], "git commit": data["git_commit"],
                "report spec sha256": spec.sha256,
            }
            body.append("<h3>Analysis settings</h3>" + _table(
                [{"k": k, "v": v} for k, v in settings.items()], [("k", "Setting", esc), ("v", "Value", esc)]))
        elif s == "methods":
            body.append(METHODS_HTML)
        elif s == "slices":
            sl = data["slices"]
            body.append(f"<p>{sl['total_n']:,} scored examples, error rate {_pct(sl['overall_error_rate'])}; "
                        f"{sl['unscorable']:,} unscorable examples left out. Slices sorted by evidence (q-value, then "
                        "effect); the first 25 tested slices:</p>")
            tested = [r for r in sl["rows"] if not r["too_small"]][:25]
            body.append(_slice_table(tested))
            if "slices" in charts:
                body.append(f"<figure>{charts['slices']}</figure>")
        elif s == "heatmap":
            hm = data["heatmap"]
            if "heatmap" in charts:
                body.append(f"<figure>{charts['heatmap']}</figure>")
            body.append(_table(hm["cells"], [
                (hm["x"], esc(hm["x"]), esc), (hm["y"], esc(hm["y"]), esc), ("n", "n", lambda v: f"{v:,}"),
                ("error_rate", "Error rate", _pct), ("ci_low", "95% low", _pct), ("ci_high", "95% high", _pct),
                ("q_value", "q", _q)]))
        elif s == "discovery":
            disc = data["discovery"]
            body.append(f"<p>SliceLine with {esc(json.dumps({k: disc['settings'][k] for k in ('alpha', 'k', 'max_l', 'min_sup', 'seed')}))}; "
                        f"statistics on {esc(disc['settings']['statistics_on'])}. Slices in one group overlap "
                        "(a slice and its refinements).</p>")
            body.append(_table(disc["rows"], [
                ("group", "Group", str), ("description", "Slice", esc), ("n", "n", lambda v: f"{v:,}"),
                ("error_rate", "Error rate", _pct), ("ci_low", "95% low", _pct), ("ci_high", "95% high", _pct),
                ("q_value", "q", _q), ("score", "Score", lambda v: f"{v:.3f}"),
                ("confirmed", "Confirmed", lambda v: "yes" if v else "no")]) if disc["rows"] else
                        "<p>No slice with an error above the run's average was found.</p>")
        elif s == "clusters":
            cl = data["clusters"]
            st = cl.get("settings") or {}
            body.append(f"<p>The most recent clustering of this run: texts {esc(st.get('field', '?'))}, embedder "
                        f"{esc(st.get('embedder', st.get('embedder_name', '?')))}, seed {esc(st.get('seed', '?'))}; "
                        "each cluster tested against the rest of the run like a slice. Full settings in Scope and "
                        "provenance.</p>")
            body.append(_table(cl["rows"], [
                ("cluster", "Cluster", esc), ("size", "Size", lambda v: f"{v:,}"), ("error_rate", "Error rate", _pct),
                ("ci_low", "95% low", _pct), ("ci_high", "95% high", _pct), ("q_value", "q", _q),
                ("terms", "Terms", lambda v: esc(", ".join(v) if isinstance(v, list) else v)),
                ("representatives", "Examples", lambda v: "<br>".join(esc(x, limit=160) for x in (v or [])[:3])
                 if isinstance(v, list) else esc(v, limit=300))]))
        elif s == "failure_modes":
            body.append("<div class='fm'>" + data["failure_modes"].get("html", "") + "</div>")
        elif s == "comparison":
            comp = data["comparison"]
            gate = comp["gate"]
            body.append(f"<p>{comp['matched']:,} examples matched by id; {comp['only_baseline']:,} only in the "
                        f"baseline and {comp['only_candidate']:,} only in the candidate were left out. Gate: largest "
                        f"allowed accuracy drop {_pct(gate['max_drop'])}, significance {gate['alpha']} (BH): "
                        + ("<span class='ok'>PASSED</span>" if gate["passed"] else "<span class='bad'>FAILED</span>")
                        + (f"; breaking: {esc(', '.join(gate['breaking']))}" if gate["breaking"] else "") + ".</p>")
            if "comparison" in charts:
                body.append(f"<figure>{charts['comparison']}</figure>")
            body.append(_table(comp["rows"][:40], [
                ("description", "Slice", esc), ("n", "n", lambda v: f"{v:,}"),
                ("base_error_rate", "Baseline error", _pct), ("cand_error_rate", "Candidate error", _pct),
                ("difference", "Change", lambda v: f"{v * 100:+.1f} pts"),
                ("ci_low", "95% low", lambda v: f"{v * 100:+.1f}"), ("ci_high", "95% high", lambda v: f"{v * 100:+.1f}"),
                ("b", "New errors", str), ("c", "Fixed", str), ("q_value", "McNemar q", _q),
                ("verdict", "Verdict", esc)]))
        elif s == "limitations":
            body.append(LIMITATIONS_HTML)
        elif s == "appendix":
            rows = data["slices"]["rows"]
            body.append(f"<p>All {len(rows):,} slices of the analysis (redundant conjunctions left out).</p>")
            body.append("<section class=\"appendix\">" + _slice_table(rows) + "</section>")
        elif s == "signoff":
            body.append("<table class=\"signoff\"><tr><th>Role</th><th>Name</th><th>Date</th><th>Signature</th></tr>"
                        f"<tr><td>Prepared by</td><td>{esc(spec.analyst)}</td><td>{esc(report.generated_at[:10])}</td><td></td></tr>"
                        f"<tr><td>Reviewed by</td><td>{esc(spec.reviewer)}</td><td></td><td></td></tr>"
                        "<tr><td>Decision</td><td colspan=\"3\">&#9744; Approved &nbsp; &#9744; Approved with conditions "
                        "&nbsp; &#9744; Rejected</td></tr></table>")
        parts.append("<section>" + "".join(body) + "</section>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(spec.title)} {esc(report.report_id)}</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>")


def _slice_table(rows: list[dict]) -> str:
    return _table(rows, [
        ("description", "Slice", esc), ("n", "n", lambda v: f"{v:,}"), ("errors", "Errors", lambda v: f"{v:,}"),
        ("error_rate", "Error rate", _pct), ("ci_low", "95% low", _pct), ("ci_high", "95% high", _pct),
        ("ci_method", "Interval", esc), ("difference", "vs rest", lambda v: f"{v * 100:+.1f} pts" if v == v else ""),
        ("q_value", "q", _q),
        ("finding", "Status", lambda v: "<span class='finding'>worse</span>" if v else "")])


METHODS_HTML = """
<p><b>Outcome.</b> Each example is correct or not (unscorable examples are left out of every rate and counted
separately). A slice is a set of examples sharing attribute values (a conjunction of up to the configured number of
attributes). Numbers are cut into quantile bins; missing values form their own slice.</p>
<p><b>Intervals.</b> 95% Wilson score intervals for error rates; Clopper-Pearson (exact) intervals when a slice has
fewer than 30 examples or fewer than 5 errors or successes. The method is stated per row.</p>
<p><b>Tests.</b> Each slice is compared with the rest of the run: Fisher's exact test when an expected count is below
5, otherwise the pooled two-proportion z test (two-sided). Slices below the minimum support are reported but not
tested. <b>Multiple testing:</b> Benjamini-Hochberg q-values across every slice tested in one analysis; a finding is
a slice worse than the rest with q below the false discovery rate.</p>
<p><b>Discovery.</b> SliceLine (Sagadeeva and Boehm, SIGMOD 2021): exact enumeration of the lattice of conjunctions
with size and score pruning, scoring error against size with weight alpha. Discovered slices are tested like any
slice; with the held-out option the search runs on a random half and the statistics on the other half, so the
selection does not inflate them.</p>
<p><b>Two runs.</b> Examples are matched by id. Per slice, McNemar's exact test on the discordant pairs, a Wald
interval for the paired difference in error rate, Benjamini-Hochberg across slices. A slice breaks the gate when its
accuracy drops by more than the allowed amount with a q-value below the significance level.</p>
<p><b>Computation.</b> Counts per slice are aggregated in SQL (DuckDB); statistics are computed from them. Every
statistic is tested against an independent implementation (statsmodels, scipy, fairlearn, the sliceline package).</p>
"""

LIMITATIONS_HTML = """
<ul>
<li>Slices describe associations in this evaluation set, not causes; a worse slice may share a cause with another.</li>
<li>q-values control the expected share of false findings among the findings, not the chance of any false finding.
Slices found by a search and tested on the same examples have optimistic q-values; the held-out option addresses it.</li>
<li>Rates are only as good as the correctness labels in the logs (automatic graders, raters).</li>
<li>Slices smaller than the minimum support are not tested and can hide real problems.</li>
<li>The comparison of two runs covers only the examples present in both.</li>
</ul>
"""
