"""A layout that cannot overflow: the report of the demo, of a large run and of a hostile log, laid out for the PDF,
with every text box checked against its table cell and its page (WeasyPrint's own boxes: the ones the PDF is drawn
from), every word of the slice column whole, and the page count bounded.

The large run is the demo generator at ``FAULTLINE_REPORT_LARGE_N`` prompts per run (default 200,000: building a
million-example store takes minutes on a shared machine; set it to 1000000 to check that size, as the bench does).
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from analysis import open_store
from analysis.demo.seed import ensure_demo
from analysis.report import ReportSpec, build_report, render_html
from analysis.report.attachments import attachment_rows, report_attachments
from analysis.report.pdf import layout_boxes
from analysis.report.text import LONG_TOKEN
from tests.unit.report.layout_check import check_layout, split_words

#: The most pages a report may have, whatever the size of the run (the rest travels as attached data).
MAX_PAGES = 30
LARGE_N = int(os.environ.get("FAULTLINE_REPORT_LARGE_N", "200000"))

HOSTILE = ("x" * 700, "مرحبا بالعالم שלום עולם", "中文提示：请解释量子力学的基本原理", "emoji 🤖🔥 test 👩‍👩‍👧",
           "misgeneralization", "averyveryverylongtopicnamewithoutanyspacesatall_and_more_words_joined",
           "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w")


def _laid_out(report):
    files = report_attachments(report)
    document = render_html(report, charts={}, attachments=attachment_rows(files, report))
    return document, layout_boxes(document)


def _descriptions(report) -> list[str]:
    data = report.data
    out = [r["description"] for r in data["slices"]["rows"]]
    out += [r["description"] for r in data.get("discovery", {}).get("rows", [])]
    if data.get("comparison"):
        out += [r["description"] for r in data["comparison"]["rows"]] + data["comparison"]["gate"]["breaking"]
    return out


def _assert_sound(report, *, max_pages: int = MAX_PAGES):
    document, laid = _laid_out(report)
    layout = check_layout(laid)
    assert layout.text_boxes > 100
    assert not layout.problems, "\n".join(layout.problems[:20])
    assert layout.slice_cells, "no slice column was laid out"
    assert split_words(layout.slice_cells, _descriptions(report), LONG_TOKEN) == []
    assert len(laid.pages) <= max_pages, len(laid.pages)
    return document, laid, layout


def _demo_report(store):
    spec = ReportSpec(run="after-objective-change", baseline="baseline", analyst="Ana")  # every section
    return build_report(store, spec)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = open_store(tmp_path_factory.mktemp("demo") / "d.duckdb", seed_demo=False)
    ensure_demo(store)
    yield _demo_report(store)
    store.close()


def test_demo_report_fits_its_pages_and_cells(demo):
    _, laid, layout = _assert_sound(demo)
    assert layout.landscape_pages >= 1  # the wide tables are on landscape pages


def test_page_one_holds_the_verdict_and_the_findings_that_matter(demo):
    laid = layout_boxes(render_html(demo, charts={}))
    first = " ".join(" ".join(t.text for t in laid.pages[0]._page_box.descendants() if hasattr(t, "text")).split())
    verdict = demo.data["verdict"]
    assert "Verdict: regression gate FAILED" in first and verdict["gate"] == "failed"
    assert verdict["findings"] and all(" ".join(f["text"].split()[:4]) in first for f in verdict["findings"])
    kinds = [f["kind"] for f in verdict["findings"]]
    # the default attributes are the run's context: no symptom leads the verdict
    assert kinds[0] == "cause" and "symptom" not in kinds
    assert "better" in kinds  # better slices are marked too


@pytest.fixture(scope="module")
def with_outputs(tmp_path_factory):
    """The demo report sliced by context and, asked for, by output-derived attributes too."""
    store = open_store(tmp_path_factory.mktemp("outputs") / "o.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=3000)
    spec = ReportSpec(run="after-objective-change", baseline="baseline", analyst="Ana",
                      attributes=["language", "domain", "user_segment", "output_length", "is_refusal", "cost_usd"])
    yield build_report(store, spec)
    store.close()


def test_symptoms_are_labelled_and_after_the_causes(with_outputs):
    rows = [r for r in with_outputs.data["slices"]["rows"] if r["direction"] == "worse"]
    output_defined = [r for r in rows if any(a in ("output_length", "is_refusal", "cost_usd") for a in r["attributes"])]
    assert output_defined and all(r["origin"] == "symptom" for r in output_defined)
    assert all(r["origin"] == "context" for r in rows if r not in output_defined)
    kinds = [f["kind"] for f in with_outputs.data["verdict"]["findings"]]
    assert "cause" in kinds and ("symptom" not in kinds or kinds.index("cause") < kinds.index("symptom"))
    document = render_html(with_outputs, charts={})
    assert document.index("Candidate causes: slices defined by the input or context") < document.index(
        "Symptoms: slices defined by the model")


def test_plain_words_units_and_q_values(demo):
    document = render_html(demo, charts={})
    assert "--objective" not in document and "--baseline" not in document
    # underflowing q-values are "< 0.001" in tables, "far below 0.001" in prose; "< 1e-300" only in the data (the
    # appendix says so once)
    assert document.count("1e-300") == 1 and "&lt;1e-300" not in document
    assert "q far below 0.001" in " ".join(f["text"] for f in demo.data["verdict"]["findings"])
    assert "vs rest (points)" in document and "Change (points)" in document


@pytest.mark.slow
def test_large_run_report_is_bounded_and_fits(tmp_path):
    with open_store(tmp_path / "large.duckdb", seed_demo=False) as store:
        ensure_demo(store, n_prompts=LARGE_N)
        report = _demo_report(store)
    _assert_sound(report)


def test_hostile_log_report_fits_and_keeps_every_word(tmp_path):
    n = 420
    frame = pd.DataFrame({"prompt": ["q"] * n, "correct": [i % 3 != 0 for i in range(n)],
                          "topic": [HOSTILE[i % len(HOSTILE)] for i in range(n)],
                          "lang": [HOSTILE[(i // 7) % len(HOSTILE)] for i in range(n)]})
    with open_store(tmp_path / "h.duckdb", seed_demo=False) as store:
        (run,) = store.ingest_frame(frame, name="运行 " + "R" * 120 + " שלום 🤖").added
        (base,) = store.ingest_frame(frame.assign(correct=[i % 2 == 0 for i in range(n)]), name="base").added
        spec = ReportSpec(run=run.run_id, baseline=base.run_id, analyst="Ана 分析师 " + "A" * 90, min_support=5,
                          attributes=["topic", "lang"])
        report = build_report(store, spec)
    document, laid, _ = _assert_sound(report, max_pages=40)
    assert "x" * 700 in document  # whole, in a token that breaks between characters
    text = " ".join(t.text for page in laid.pages for t in page._page_box.descendants() if hasattr(t, "text"))
    for word in ("misgeneralization", "שלום", "🤖🔥"):
        assert word in text
