"""The report's HTML from Jinja2 templates with autoescape on: hostile text and template syntax from the logs (run
names, slice values) and from the spec (analyst, title) are shown literally, never run nor interpreted."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from analysis.report import ReportSpec, build_report, render_html
from analysis.report.html import TEMPLATES

# Template syntax that Jinja2 would evaluate if user text were ever compiled as a template:
# 7*7 would print 49, the if would print HIT, the loop over the config would print the class.
JINJA = ("{{ 7*7 }}", "{% if true %}HIT{% endif %}", "{{ config.__class__ }}{% for x in range(3) %}L{% endfor %}",
         "{# comment #}", "{% raw %}")
SCRIPT = '<script>alert("x")</script>'
RUN_NAME = '<script>alert(1)</script> {{ 6*7 }} {% if true %}RUN{% endif %}'
ANALYST = "{{ spec.reviewer }} <b>Ana</b> {% include 'report.css' %}"
TITLE = "Audit {{ report.report_id }} </title><script>x()</script>"
TAGS = {"html", "head", "meta", "title", "style", "body", "main", "section", "h1", "h2", "h3", "p", "table", "thead",
        "tbody", "tr", "th", "td", "span", "a", "ol", "ul", "li", "br", "b", "i", "div", "figure", "bdi", "em",
        "dl", "dt", "dd"}


class _Tags(HTMLParser):
    """Every start tag and attribute of a document, and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    from analysis import open_store

    values = (*JINJA, SCRIPT, "y" * 900, "مرحبا بالعالم שלום", "emoji 🤖🔥 test")
    frame = pd.DataFrame({"prompt": ["q"] * 180, "correct": [True, False, False] * 60,
                          "topic": [values[i % len(values)] for i in range(180)]})
    store = open_store(tmp_path_factory.mktemp("html") / "h.duckdb", seed_demo=False)
    (run,) = store.ingest_frame(frame, name=RUN_NAME).added
    spec = ReportSpec(run=run.run_id, analyst=ANALYST, reviewer="{{ 1+1 }}", title=TITLE, min_support=5,
                      attributes=["topic"], sections=["summary", "provenance", "slices", "appendix", "signoff"])
    report = build_report(store, spec)
    yield report, render_html(report, page_numbers={"summary": 3})
    store.close()


def test_the_hostile_values_reach_the_report(hostile):
    report, _ = hostile
    described = " ".join(r["description"] for r in report.data["slices"]["rows"])
    assert all(value in described for value in (*JINJA, SCRIPT))
    assert report.data["runs"][0]["name"] == RUN_NAME


def test_template_syntax_in_user_text_is_shown_literally(hostile):
    _, document = hostile
    parser = _Tags()
    parser.feed(document)
    text = "".join(parser.text)
    for value in (*JINJA, ANALYST, "{{ 1+1 }}", "{{ 6*7 }} {% if true %}RUN{% endif %}"):
        assert value in text, value
    for evaluated in ("<class", "LLL"):  # what the config and the loop would have printed
        assert evaluated not in document, evaluated


def test_markup_in_user_text_is_escaped_not_run(hostile):
    _, document = hostile
    parser = _Tags()
    parser.feed(document)
    assert parser.tags <= TAGS, parser.tags - TAGS  # no tag from the data: no script, no img
    assert not {a for a in parser.attributes if a.startswith("on")}
    text = "".join(parser.text)
    assert SCRIPT in text and "<script>alert(1)</script>" in text  # shown as text
    assert TITLE in text and "<b>Ana</b>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    # the title closes nothing: it is escaped inside <title> too
    assert document.count("</title>") == 1


def test_long_text_is_shown_whole_in_a_breakable_token_and_rtl_and_emoji_are_kept(hostile):
    report, document = hostile
    (long,) = {r["description"] for r in report.data["slices"]["rows"] if "y" * 900 in r["description"]}
    assert '<span class="tok">' + "y" * 900 + "</span>" in document  # whole, never cut
    assert "more characters cut" not in document
    assert "مرحبا بالعالم שלום" in document and "🤖🔥" in document


def test_only_the_charts_and_the_failure_modes_section_are_inserted_unescaped():
    """`|safe` is a hole in autoescape: it is allowed only for the charts, SVG exported by plotly from our figures."""
    found = sorted(re.findall(r"\{\{\s*([^}]*?)\s*\|\s*safe\s*\}\}", "".join(
        path.read_text() for path in sorted(TEMPLATES.glob("*.j2")))))
    assert found == ["charts.comparison", "charts.failure_modes", "charts.heatmap", "charts.runs", "charts.slices",
                     "charts.timeline_drift", "charts.timeline_surrogate"]


def test_charts_are_inserted_as_given(hostile):
    report, _ = hostile
    document = render_html(report, charts={"runs": "<svg><text>R &amp; D</text></svg>"})
    assert "<figure><svg><text>R &amp; D</text></svg></figure>" in document
