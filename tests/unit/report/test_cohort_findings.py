"""The report's cohort (every statistic computed on it, stated on the cover and in Methods) and its section of pinned
findings (note, author, time, the pinned numbers beside the same numbers recomputed now)."""

from __future__ import annotations

import io
import math

import pandas as pd
import pikepdf
import pytest
from pypdf import PdfReader
from scipy.stats import fisher_exact

from analysis import open_store
from analysis.demo.seed import ensure_demo
from analysis.objective.findings import finding_sentence, pin_comparison, pin_finding, pin_slice, withdraw_finding
from analysis.report import ReportSpec, build_report, generate_report, render_html
from analysis.report.text import q_prose
from analysis.slicing.cohorts import save_cohort
from analysis.slicing.compare import compare_runs
from analysis.slicing.table import slice_table
from analysis.sql.predicates import PredicateError

RUN, BASE = "after-objective-change", "baseline"
CONDITION = 'channel = "web"'


@pytest.fixture(scope="module")
def cohort_pdf(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cohort")
    store = open_store(folder / "demo.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=3000, seed=7)
    save_cohort(store, "web users", CONDITION, author="ada", run=RUN, description="the web channel")
    kept = pin_slice(store, RUN, {"domain": "medical"}, author="Ada Analyst", note="medical answers fail",
                     where=CONDITION)
    compared = pin_comparison(store, BASE, RUN, {"domain": "medical"}, author="Bob Reviewer", note="a regression")
    dropped = pin_slice(store, RUN, {"channel": "web"}, author="Ada Analyst", note="pinned by mistake")
    withdraw_finding(store, dropped.finding_id, author="Ada Analyst", note="duplicate")
    spec = ReportSpec(run=RUN, baseline=BASE, cohort="web users", analyst="Ada Analyst", reviewer="Rev")
    generate_report(store, spec, pdf=folder / "report.pdf", charts=False)
    yield store, spec, folder, {"kept": kept, "compared": compared, "dropped": dropped}
    store.close()


def _attachments(path) -> dict[str, bytes]:
    with pikepdf.open(path) as pdf:
        return {name: f.get_file().read_bytes() for name, f in pdf.attachments.items()}


def _text(path) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(str(path)).pages)


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b


def test_the_cohort_changes_the_numbers_exactly_as_slice_table_where_does(cohort_pdf):
    store, spec, folder, _ = cohort_pdf
    files = _attachments(folder / "report.pdf")
    attached = pd.read_csv(io.BytesIO(files["slices.csv"]))
    engine = slice_table(store, spec.run, spec.attributes, max_order=spec.max_order, min_support=spec.min_support,
                         confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins, where=CONDITION).table
    whole = slice_table(store, spec.run, spec.attributes, max_order=spec.max_order, min_support=spec.min_support,
                        confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins).table
    assert list(attached["description"]) == list(engine["description"])
    assert attached["n"].tolist() == engine["n"].tolist() and attached["errors"].tolist() == engine["errors"].tolist()
    for column in ("error_rate", "ci_low", "ci_high", "difference", "p_value", "q_value"):
        assert all(_same(a, b) for a, b in zip(engine[column].tolist(), attached[column].tolist())), column
    assert attached["n"].sum() != whole["n"].sum()  # the cohort did change the numbers

    comparison = compare_runs(store, spec.baseline, spec.run, spec.attributes, min_support=spec.min_support,
                              confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins,
                              where=CONDITION).table
    compared = pd.read_csv(io.BytesIO(files["comparison.csv"]))
    assert compared["description"].tolist() == comparison["description"].tolist()
    assert compared["b"].tolist() == comparison["b"].tolist() and compared["c"].tolist() == comparison["c"].tolist()
    assert compared["difference"].tolist() == comparison["difference"].tolist()


def test_a_cohort_slice_against_pandas_and_scipy(cohort_pdf):
    """Independently of the engine: counts from the raw examples, and Fisher's exact test against the rest of the
    cohort (the attached p-value is Fisher's when an expected count is small, else the pooled z test: compare
    only the counts and the rate here, and the p-value where the engine says it used Fisher)."""
    store, _, folder, _ = cohort_pdf
    raw = store.examples(RUN, columns=["meta.channel", "meta.domain", "correct", "unscorable"])
    web = raw[(raw["meta.channel"] == "web") & ~raw["unscorable"].astype(bool)]
    attached = pd.read_csv(io.BytesIO(_attachments(folder / "report.pdf")["slices.csv"]))
    for domain, group in web.groupby("meta.domain"):
        row = attached[attached["description"] == f"domain = {domain}"]
        if row.empty:
            continue
        errors = int((~group["correct"].astype(bool)).sum())
        assert int(row["n"].iloc[0]) == len(group) and int(row["errors"].iloc[0]) == errors
        assert row["error_rate"].iloc[0] == pytest.approx(errors / len(group), abs=1e-12)
        if row["test"].iloc[0] == "fisher":
            rest = web[web["meta.domain"] != domain]
            rest_errors = int((~rest["correct"].astype(bool)).sum())
            p = fisher_exact([[errors, len(group) - errors], [rest_errors, len(rest) - rest_errors]]).pvalue
            assert row["p_value"].iloc[0] == pytest.approx(p, rel=1e-9)


def test_the_cohort_is_stated_on_the_cover_and_in_the_methods(cohort_pdf):
    store, _, folder, _ = cohort_pdf
    pages = [" ".join((p.extract_text() or "").split()) for p in PdfReader(str(folder / "report.pdf")).pages]
    raw = store.examples(RUN, columns=["meta.channel"])
    n = int((raw["meta.channel"] == "web").sum())
    stated = f"{n:,} of the run's {len(raw):,} examples"
    assert "saved cohort web users (version 1)" in pages[0] and stated in pages[0]
    text = " ".join(pages)
    assert "Cohort. Every slice, test, interval" in text and text.count(stated) >= 2


def test_a_condition_gives_the_same_numbers_as_the_saved_cohort(cohort_pdf):
    store, spec, _, _ = cohort_pdf
    sections = ["summary", "slices"]
    by_name = build_report(store, spec.model_copy(update={"sections": sections}))
    by_text = build_report(store, ReportSpec(run=RUN, cohort=CONDITION, sections=sections))
    assert by_name.data["cohort"]["name"] == "web users" and by_text.data["cohort"]["name"] is None
    assert by_text.tables["slices"].equals(by_name.tables["slices"])
    every = build_report(store, ReportSpec(run=RUN, sections=sections))
    assert "cohort" not in every.data and every.data["slices"]["total_n"] > by_text.data["slices"]["total_n"]


def test_a_cohort_that_does_not_fit_the_run_is_refused_naming_the_field(cohort_pdf):
    store = cohort_pdf[0]
    with pytest.raises(PredicateError, match="no_such_field"):
        build_report(store, ReportSpec(run=RUN, cohort="no_such_field = 3", sections=["summary"]))


def test_a_spec_without_a_cohort_keeps_its_hash():
    spec = ReportSpec(run="r")
    assert "cohort" not in spec.canonical()
    assert ReportSpec(run="r", cohort="  ").cohort is None
    assert ReportSpec(run="r", cohort=CONDITION).sha256 != spec.sha256


def test_the_findings_section_lists_pinned_findings_with_current_numbers(cohort_pdf):
    store, spec, folder, pinned = cohort_pdf
    report = build_report(store, spec.model_copy(update={"sections": ["summary", "findings"]}))
    listed = {f["finding_id"]: f for f in report.data["findings"]}
    assert set(listed) == {pinned["kept"].finding_id, pinned["compared"].finding_id}  # the withdrawn one is out
    kept = listed[pinned["kept"].finding_id]
    assert (kept["note"], kept["author"], kept["cohort"]) == ("medical answers fail", "Ada Analyst", CONDITION)
    assert kept["pinned"] == finding_sentence("slice", "domain = medical", pinned["kept"].evidence, cohort=CONDITION,
                                              q_words=q_prose)
    assert kept["recomputed"] and not kept["changed"]
    # the pinned numbers themselves, independently: 'domain = medical' among the web examples
    raw = store.examples(RUN, columns=["meta.channel", "meta.domain", "correct", "unscorable"])
    web = raw[(raw["meta.channel"] == "web") & ~raw["unscorable"].astype(bool)]
    medical = web[web["meta.domain"] == "medical"]
    assert f"{int((~medical['correct'].astype(bool)).sum()):,} of {len(medical):,} answers wrong" in kept["current"]
    assert listed[pinned["compared"].finding_id]["baseline"] == BASE

    text = _text(folder / "report.pdf")
    assert "Pinned findings" in text and "medical answers fail" in text and "a regression" in text
    assert "Bob Reviewer" in text and "pinned by mistake" not in text
    assert "2 findings are pinned to this run" in text


def test_changed_numbers_are_marked_and_a_cluster_finding_says_why_it_is_not_recomputed(tmp_path):
    store = open_store(tmp_path / "f.duckdb", seed_demo=False)
    frame = pd.DataFrame({"example_id": [f"e{i}" for i in range(200)], "prompt": ["q"] * 200,
                          "lang": ["en"] * 100 + ["sw"] * 100,
                          "correct": [True] * 90 + [False] * 10 + [True] * 50 + [False] * 50})
    store.ingest_frame(frame, name="r")
    settings = {"attributes": ["lang"], "max_order": 1, "min_support": 30, "fdr": 0.05, "bins": 5,
                "confidence": 0.95}
    # numbers as a page showed them before the store changed (here: stated, 40 of 100 wrong)
    stale = pin_finding(store, "r", kind="slice", target={"lang": "sw"}, author="ada", note="stale numbers",
                        evidence={"n": 100, "errors": 40, "error_rate": 0.4, "ci_low": 0.3, "ci_high": 0.5,
                                  "rest_error_rate": 0.1, "difference": 0.3, "q_value": 0.001}, settings=settings)
    cluster = pin_finding(store, "r", kind="cluster", target={"cluster": "3"}, author="bo", note="a cluster",
                          evidence={"n": 12, "error_rate": 0.5})
    fresh = pin_slice(store, "r", {"lang": "en"}, author="ada", note="fresh", settings=settings)  # once per target
    report = build_report(store, ReportSpec(run="r", sections=["summary", "findings"]))
    listed = {f["finding_id"]: f for f in report.data["findings"]}
    assert listed[stale.finding_id]["changed"] and "40 of 100" in listed[stale.finding_id]["pinned"]
    assert "50 of 100 answers wrong" in listed[stale.finding_id]["current"]  # 50 False among the 100 'sw' rows
    assert not listed[fresh.finding_id]["changed"]
    assert not listed[cluster.finding_id]["recomputed"] and "cannot be recomputed" in listed[cluster.finding_id]["current"]
    document = render_html(report)
    assert document.count("changed since it was pinned") == 1 and "not recomputed" in document
    store.close()


def test_finding_q_values_read_as_the_reports_prose_and_the_apps_numbers(tmp_path):
    from analysis import finding_sentence

    store = open_store(tmp_path / "q.duckdb", seed_demo=False)
    frame = pd.DataFrame({"example_id": [f"e{i}" for i in range(200)], "prompt": ["q"] * 200,
                          "lang": ["en"] * 100 + ["sw"] * 100,
                          "correct": [True] * 90 + [False] * 10 + [True] * 40 + [False] * 60})
    store.ingest_frame(frame, name="r")
    tiny = {"n": 100, "errors": 100, "error_rate": 1.0, "ci_low": 0.96, "ci_high": 1.0, "rest_error_rate": 0.0,
            "difference": 1.0, "q_value": 6.9e-42}
    pin_finding(store, "r", kind="slice", target={"lang": "sw"}, author="ada", note="all wrong", evidence=tiny)
    report = build_report(store, ReportSpec(run="r", sections=["summary", "findings"]))
    (listed,) = report.data["findings"]
    assert "q far below 0.001" in listed["pinned"] and "e-42" not in listed["pinned"]  # prose, as the report writes
    assert "q = 6.9e-42" in finding_sentence("slice", "lang = sw", tiny)  # the app's numbers
    assert "q = <1e-300" in finding_sentence("slice", "lang = sw", {**tiny, "q_value": 0.0})
    store.close()
