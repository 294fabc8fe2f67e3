"""The audit report: PDF and HTML content, escaping, reproducibility, history, CLI. Opened with pypdf."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from pypdf import PdfReader

from analysis.report import (
    SECTION_TITLES,
    ReportSpec,
    build_report,
    generate_report,
    render_html,
    report_history,
    report_spec,
)
from tests.conftest import HELM_BBQ, ROOT

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)

HOSTILE = ('<script>alert("x")</script><b>bold</b>', "x" * 700, "مرحبا بالعالم שלום", "emoji 🤖🔥 test")


def pdf_text(path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(str(path)).pages]


@pytest.fixture(scope="module")
def helm_report(tmp_path_factory):
    from analysis import open_store

    folder = tmp_path_factory.mktemp("report")
    store = open_store(folder / "r.duckdb", seed_demo=False)
    report = store.ingest(HELM_BBQ)
    gpt = next(r for r in report.added if "gpt-4o" in r.model)
    llama = next(r for r in report.added if "llama" in r.model)
    spec = ReportSpec(run=gpt.run_id, baseline=llama.run_id, analyst="Ana Analyst", reviewer="Rev Reviewer",
                      min_support=10)
    record = generate_report(store, spec, pdf=folder / "report.pdf", html_out=folder / "report.html")
    yield store, spec, record, folder, report
    store.close()


def test_pdf_has_every_section_and_page_numbers(helm_report):
    store, spec, record, folder, _ = helm_report
    pages = pdf_text(folder / "report.pdf")
    assert record.pages == len(pages) >= 5
    text = " ".join(pages)
    for section in spec.sections:
        assert SECTION_TITLES[section] in text, section
    assert "Page 1 of" in pages[0] and f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert all(record.report_id in p for p in pages)  # running header
    # the contents page gives the page of each section, and the section is there
    toc = pages[1]  # numbered: only the sections the report holds (those not covered are listed apart)
    held = [s for s in spec.sections if s not in build_report(store, spec).not_covered]
    for i, section in enumerate(held):
        match = re.search(rf"{i + 1}\. {re.escape(SECTION_TITLES[section])} (\d+)", toc)
        assert match, section
        page = int(match.group(1))
        assert f"{i + 1}. {SECTION_TITLES[section]}"[:20] in pages[page - 1]


def test_pdf_cover_provenance_and_sha256(helm_report):
    store, spec, record, folder, report = helm_report
    text = " ".join(pdf_text(folder / "report.pdf"))
    assert "Ana Analyst" in text and "Rev Reviewer" in text
    for run in report.added:
        assert run.run_id in text
        for f in run.files:
            with open(f["file_path"], "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            assert digest == f["sha256"]
            # long hashes may wrap: compare with spaces removed
            assert digest in text.replace(" ", "")
    assert record.pdf_sha256 == hashlib.sha256((folder / "report.pdf").read_bytes()).hexdigest()


def test_numbers_in_the_report_match_the_engine(helm_report):
    store, spec, _, folder, report = helm_report
    text = " ".join(pdf_text(folder / "report.pdf"))
    gpt = store.headline().set_index("run_id").loc[spec.run]
    assert f"accuracy {gpt['accuracy'] * 100:.1f}% (95% CI {gpt['ci_low'] * 100:.1f}% to {gpt['ci_high'] * 100:.1f}%)" \
        in text
    assert "Verdict: regression gate" in text


def test_html_twin_is_self_contained(helm_report):
    _, _, record, folder, _ = helm_report
    document = (folder / "report.html").read_text()
    assert "<svg" in document  # charts inline, vector
    assert not re.search(r"(src|href)=\"https?://", document)
    assert "<script" not in document.lower()
    assert record.html_sha256 == hashlib.sha256((folder / "report.html").read_bytes()).hexdigest()


def test_reproducible_and_recorded(helm_report):
    store, spec, record, folder, _ = helm_report
    again = generate_report(store, report_spec(store, record.report_id), pdf=None, html_out=folder / "again.html")
    assert again.report_id == record.report_id
    assert again.content_hash == record.content_hash
    history = report_history(store)
    assert len(history) == 2 and set(history["report_id"]) == {record.report_id}
    stored = json.loads(store.cursor().execute("SELECT spec_json FROM reports LIMIT 1").fetchall()[0][0])
    assert stored["analyst"] == "Ana Analyst" and stored["run"] == spec.run


def test_sections_not_built_are_stated_not_faked(helm_report):
    _, _, _, folder, _ = helm_report
    text = " ".join(pdf_text(folder / "report.pdf"))
    assert "Not covered in this report:" in text
    assert f"{SECTION_TITLES['failure_modes']}: no objective spec was chosen for this report" in text
    assert "--" not in text.replace("---", "")  # no command-line flag in an auditor's document


def test_hostile_log_text_is_escaped_wrapped_and_whole(tmp_path):
    from analysis import open_store

    frame = pd.DataFrame({"prompt": ["q"] * 160, "correct": [True, False] * 80,
                          "topic": [HOSTILE[i % 4] for i in range(160)]})
    with open_store(tmp_path / "h.duckdb", seed_demo=False) as store:
        (run,) = store.ingest_frame(frame, name='<img src=x onerror="alert(1)"> run').added
        spec = ReportSpec(run=run.run_id, analyst="<i>Ana</i>", min_support=10, attributes=["topic"])
        report = build_report(store, spec)
        document = render_html(report)
        assert "<script>alert" not in document and "&lt;script&gt;" in document
        assert "<img src=x" not in document and "&lt;img src=x" in document
        assert "<i>Ana</i>" not in document and "&lt;i&gt;Ana&lt;/i&gt;" in document
        assert "x" * 700 in document and "characters cut" not in document  # whole, never cut
        record = generate_report(store, spec, pdf=tmp_path / "h.pdf")
    pages = [page.extract_text() or "" for page in PdfReader(str(tmp_path / "h.pdf")).pages]
    text = "\n".join(pages)
    assert '<script>alert("x")</script>' in text  # shown as text, not run
    assert "שלום" in text or "םולש" in text  # right-to-left text kept
    # the 700-character token is broken across lines inside its cell, never one overflowing line
    from analysis.report.pdf import layout_boxes
    from tests.unit.report.layout_check import check_layout

    assert not check_layout(layout_boxes(document)).problems
    assert record.pages >= 3
    if shutil.which("pdftoppm"):  # look at it: pages render to PNG
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "3", str(tmp_path / "h.pdf"),
                        str(tmp_path / "page")], check=True)
        assert len(list(tmp_path.glob("page-*.png"))) == 3


def test_cli_report_and_history(tmp_path):
    from analysis import open_store

    db = tmp_path / "cli.duckdb"
    with open_store(db, seed_demo=False) as store:
        report = store.ingest(HELM_BBQ)
    gpt = next(r for r in report.added if "gpt-4o" in r.model)
    out = subprocess.run([sys.executable, "-m", "analysis", "report", "--db", str(db), "--run", gpt.name,
                          "--out", str(tmp_path / "r.pdf"), "--html", str(tmp_path / "r.html"), "--analyst", "A",
                          "--reviewer", "B", "--min-support", "10", "--sections", "summary,provenance,slices,signoff"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Report FLR-" in out.stdout and (tmp_path / "r.pdf").exists() and (tmp_path / "r.html").exists()
    history = subprocess.run([sys.executable, "-m", "analysis", "reports", "--db", str(db), "--json"],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert len(json.loads(history.stdout)) == 1


def test_unknown_section(tmp_path):
    from analysis import FaultlineError, open_store

    with open_store(tmp_path / "u.duckdb", seed_demo=False) as store:
        (run,) = store.ingest(HELM_BBQ / "openai_gpt-4o-2024-05-13").added
        with pytest.raises(FaultlineError, match="Unknown report section 'charts'"):
            build_report(store, ReportSpec(run=run.run_id, sections=["summary", "charts"]))


def test_provenance_says_how_the_run_reconciles_and_the_summary_flags_a_partial_log(tmp_path):
    from analysis import open_store
    from tests.conftest import REAL

    results = json.loads(next((REAL / "lm_eval" / "partial_math").glob("results_*.json")).read_text())
    evaluated = results["n-samples"]["math_perturbed_full"]["effective"]  # the task of the samples file
    with open_store(tmp_path / "p.duckdb", seed_demo=False) as store:
        (run,) = store.ingest(REAL / "lm_eval" / "partial_math").added
        report = build_report(store, ReportSpec(run=run.run_id, sections=["summary", "provenance"], min_support=5))
        html = render_html(report, charts={})
    (check,) = report.data["reconciliation"]
    assert check["verdict"] == "partial" and check["n"] == f"10 of {evaluated:,}"
    assert any("partial" in line and f"{evaluated:,}" in line for line in report.data["summary"])
    assert "Checked against the tool" in html and f"the log holds 10 of the {evaluated:,} examples" in html
