"""The contents list only what the report holds (trial item: the contents page listed sections the report then said
it did not cover). A section the report does not cover has no number, no heading and no contents line; it is named
once, with its reason, in a short list below the contents. Checked in the HTML and in the PDF's text (pypdf)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader

from analysis.report import SECTION_TITLES, ReportSpec, build_report, generate_report, render_html


class _Outline(HTMLParser):
    """The contents' entries, the section headings and the not-covered list of a report's HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.contents: list[str] = []
        self.headings: list[str] = []
        self.not_covered: list[str] = []
        self._text: list[str] | None = None
        self._where = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and "toc" in (attrs.get("class") or ""):
            self._where = "toc"
        if tag == "div" and "notcovered" in (attrs.get("class") or ""):
            self._where = "notcovered"
        if tag == "li" and self._where in ("toc", "notcovered"):
            self._text = []
        if tag == "h2":
            self._text = []
        self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        self.stack.pop() if self.stack else None
        if tag in ("section", "div"):  # the contents (and its not-covered list) hold no nested section or div
            self._where = ""
        if self._text is None:
            return
        text = " ".join("".join(self._text).split())
        if tag == "li" and self._where == "toc":
            self.contents.append(text)
            self._text = None
        elif tag == "li" and self._where == "notcovered":
            self.not_covered.append(text)
            self._text = None
        elif tag == "h2":
            self.headings.append(text)
            self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    """A run with no baseline, no spec, no clustering, no finding and no series: five sections cannot be built."""
    from analysis import open_store

    folder = tmp_path_factory.mktemp("contents")
    rng = np.random.default_rng(3)
    n = 400
    lang = rng.choice(["en", "sw", "fr"], size=n)
    frame = pd.DataFrame({"prompt": [f"q{i}" for i in range(n)], "language": lang,
                          "domain": rng.choice(["legal", "chat"], size=n),
                          "correct": rng.random(n) >= 0.1 + 0.3 * (lang == "sw")})
    store = open_store(folder / "c.duckdb", seed_demo=False)
    run = store.ingest_frame(frame, name="plain").added[0]
    spec = ReportSpec(run=run.run_id, analyst="Ana", reviewer="Rev", min_support=10)
    yield store, spec, folder
    store.close()


def test_the_contents_list_only_the_sections_the_report_holds(plain_run):
    store, spec, _ = plain_run
    report = build_report(store, spec)
    assert {"comparison", "failure_modes", "timeline"} <= set(report.not_covered)  # the case of the trial
    outline = _Outline()
    outline.feed(render_html(report))
    held = [s for s in spec.sections if s not in report.not_covered]
    expected = [f"{i}. {SECTION_TITLES[s]}" for i, s in enumerate(held, start=1)]
    assert outline.contents == expected
    assert [h for h in outline.headings if re.match(r"\d+\. ", h)] == expected
    # each section not covered: once, in its own list, with its reason; never in the contents nor as a heading
    assert outline.not_covered == [f"{SECTION_TITLES[s]}: {why}." for s, why in
                                   sorted(report.not_covered.items(), key=lambda kv: spec.sections.index(kv[0]))]
    for s in report.not_covered:
        assert not any(SECTION_TITLES[s] in line for line in outline.contents + outline.headings)


def test_the_pdf_contents_page_lists_the_held_sections_and_the_rest_once(plain_run):
    store, spec, folder = plain_run
    record = generate_report(store, spec, pdf=folder / "c.pdf", html_out=folder / "c.html")
    pages = [" ".join((p.extract_text() or "").split()) for p in PdfReader(str(folder / "c.pdf")).pages]
    report = build_report(store, spec)
    text = " ".join(pages)
    contents = next(p for p in pages if "Contents" in p and "Not covered in this report" in p)
    listed, rest = contents.split("Not covered in this report", 1)
    held = [s for s in spec.sections if s not in report.not_covered]
    for i, s in enumerate(held, start=1):
        assert f"{i}. {SECTION_TITLES[s]}" in listed, s
    for s, why in report.not_covered.items():
        assert SECTION_TITLES[s] not in listed, s
        assert f"{SECTION_TITLES[s]}: {why}" in rest.replace("- ", "-"), s
        assert text.count(why) == 1, s  # said once in the whole document
    assert record.pages == len(pages)
