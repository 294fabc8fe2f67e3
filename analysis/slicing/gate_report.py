"""A regression gate's verdict for CI: JUnit XML (one test case per tested slice) and a Markdown summary.

Both are built from a :class:`~analysis.slicing.compare.GateResult`: the JUnit report has one
``testcase`` per tested slice (the whole run included), a ``failure`` for each slice that breaks the
gate with its evidence (baseline and candidate accuracy, the drop in points with its interval, n, q);
the Markdown summary is for a pull-request comment: the verdict, the overall change, a table of
the breaking slices and the command that reproduces the gate.
"""

from __future__ import annotations

from analysis.export import TestCase, junit_report, markdown_cell
from analysis.formatting import format_q
from analysis.slicing.compare import ALL, METRIC_DIRECTION, GateResult, describe_change

#: Most breaking slices listed in the Markdown table (a pull-request comment has a size limit).
MARKDOWN_ROWS = 50

def junit_xml(result: GateResult, *, command: str = "", baseline: str = "", candidate: str = "") -> str:
    """The gate as a JUnit XML report: one ``testcase`` per tested slice, a ``failure`` per breaking slice.

    Parameters
    ----------
    result : GateResult
        The gate (:func:`analysis.slicing.compare.gate`).
    command : str, optional
        The command that reproduces it (stored as a property).
    baseline, candidate : str, optional
        Run names to show (default the run ids of the comparison).

    Returns
    -------
    str
        UTF-8 XML: ``<testsuites>`` holding one ``<testsuite name="faultline gate ..." tests failures
        errors skipped>`` with ``<properties>`` (baseline, candidate, attributes, settings, command) and a
        ``<testcase classname name>`` per tested slice (``name`` its description, ``classname``
        ``faultline.gate.<attributes>``); a breaking slice holds ``<failure message type="AccuracyDrop">``
        with its evidence: baseline and candidate accuracy, the drop in points with its 95% interval, n and q.
        Slices too small to test are not test cases (their count is a property).
    """
    comparison = result.comparison
    settings = comparison.settings
    name = f"faultline gate: {candidate or comparison.candidate} against {baseline or comparison.baseline}"
    properties = [("baseline", comparison.baseline), ("candidate", comparison.candidate),
                  ("attributes", ",".join(settings.get("attributes", []))),
                  ("max_order", settings.get("max_order", "")), ("max_drop_points", f"{result.max_drop * 100:g}"),
                  ("alpha", f"{result.alpha:g}"), ("min_support", settings.get("min_support", "")),
                  ("bins", settings.get("bins", "")), ("matched", comparison.matched),
                  ("too_small", int(comparison.table["too_small"].sum())), ("metric", METRIC_DIRECTION),
                  ("command", command)]
    cases = [TestCase(row["description"], "faultline.gate." + ("+".join(row["attributes"]) or "overall"),
                      failure=(f"accuracy drop {row['difference'] * 100:.1f} points > {result.max_drop * 100:.1f} "
                               f"allowed, q={format_q(row['q_value'])} < {result.alpha:g}") if row["breaks"] else None,
                      detail=f"{row['description']}: {describe_change(row)}", failure_type="AccuracyDrop")
             for row in result.tested.to_dict("records")]
    return junit_report(name, cases, properties)


_cell = markdown_cell


def markdown_summary(result: GateResult, *, command: str = "", baseline: str = "", candidate: str = "") -> str:
    """The gate as Markdown for a pull-request comment: verdict, overall change, breaking slices, how to reproduce.

    Parameters
    ----------
    result : GateResult
        The gate.
    command : str, optional
        The command that reproduces it (shown in a code block).
    baseline, candidate : str, optional
        Run names to show (default the run ids of the comparison).

    Returns
    -------
    str
        A heading with the verdict, the headline (breaking / tested slices, allowed drop in points,
        significance level), the metric and its bad direction, the overall change, a table of at most
        :data:`MARKDOWN_ROWS` breaking slices (slice, n, baseline and candidate accuracy, drop in points
        with its 95% interval, q) and the command. Text from the data is escaped.
    """
    comparison = result.comparison
    baseline = baseline or comparison.baseline
    candidate = candidate or comparison.candidate
    lines = [f"### Faultline gate {'passed' if result.passed else 'FAILED'}: {_cell(candidate)} against "
             f"{_cell(baseline)}", "", result.headline() + ".", "", METRIC_DIRECTION, ""]
    t = comparison.table
    overall = t[t["description"] == ALL]
    if not overall.empty:
        lines += [f"Overall: {describe_change(overall.iloc[0]).replace(' -> ', ' → ')}.", ""]
    if not result.breaking.empty:
        lines += ["| slice | n | baseline accuracy | candidate accuracy | drop, points (95% CI) | q |",
                  "|---|---:|---:|---:|---|---:|"]
        for row in result.breaking.head(MARKDOWN_ROWS).to_dict("records"):
            lines.append(f"| {_cell(row['description'])} | {int(row['n']):,} | {1 - row['base_error_rate']:.1%} | "
                         f"{1 - row['cand_error_rate']:.1%} | {row['difference'] * 100:.1f} "
                         f"({row['ci_low'] * 100:.1f} to {row['ci_high'] * 100:.1f}) | {format_q(row['q_value'])} |")
        if len(result.breaking) > MARKDOWN_ROWS:
            lines.append(f"\n... and {len(result.breaking) - MARKDOWN_ROWS:,} more breaking slices (see the JUnit "
                         "report or `--json`).")
        lines.append("")
    attributes = comparison.settings.get("attributes", [])
    lines.append("Attributes: " + (", ".join(_cell(a) for a in attributes) or "(none: the whole run only)"))
    if command:
        lines += ["", "Reproduce:", "", "```sh", command.replace("```", "'''"), "```"]
    return "\n".join(lines) + "\n"


__all__ = ["MARKDOWN_ROWS", "junit_xml", "markdown_summary"]
