"""The PDF is an archive an auditor can keep: PDF/A-3b as far as pikepdf can check it, tagged, every font embedded,
metadata naming the report, and the engine's complete tables attached inside it, equal to the engine's numbers.

What is checked (veraPDF is not on PyPI; these are the PDF/A-3b requirements pikepdf can read):
- the XMP packet declares ``pdfaid:part`` 3 and ``pdfaid:conformance`` B, and its title is the document title;
- an OutputIntent ``/GTS_PDFA1`` with an embedded ICC profile (``DestOutputProfile``);
- no encryption; the trailer has an ``/ID``;
- every font of every page (and of the fonts' descendants) has an embedded font program (FontFile, FontFile2 or
  FontFile3), including the CJK font used for Chinese text;
- every attached file is an associated file: its file specification has ``/AFRelationship`` and is listed in the
  catalog's ``/AF``; its embedded stream has a ``/Subtype`` (media type) and ``/Params`` with a checksum;
- the document is tagged: ``/MarkInfo /Marked true`` and a ``/StructTreeRoot``; the catalog has ``/Lang``;
- the document information names the report id, the content hash and the sha256 of each source file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math

import pandas as pd
import pikepdf
import pytest
import yaml

from analysis import open_store
from analysis.demo.seed import ensure_demo
from analysis.report import ReportSpec, build_report, generate_report
from analysis.slicing.compare import compare_runs
from analysis.slicing.table import slice_table

CJK = "中文提示：请解释量子力学"


@pytest.fixture(scope="module")
def demo_pdf(tmp_path_factory):
    folder = tmp_path_factory.mktemp("archive")
    store = open_store(folder / "demo.duckdb", seed_demo=False)
    ensure_demo(store, n_prompts=4000, seed=7)
    spec = ReportSpec(run="after-objective-change", baseline="baseline", analyst="Ana " + CJK, reviewer="Rev")
    record = generate_report(store, spec, pdf=folder / "report.pdf", html_out=folder / "report.html", charts=False)
    yield store, spec, record, folder
    store.close()


def _attachments(pdf: pikepdf.Pdf) -> dict[str, bytes]:
    return {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}


def test_pdfa_3b_identification_output_intent_and_no_encryption(demo_pdf):
    _, spec, record, folder = demo_pdf
    with pikepdf.open(folder / "report.pdf") as pdf:
        assert not pdf.is_encrypted and "/Encrypt" not in pdf.trailer and "/ID" in pdf.trailer
        with pdf.open_metadata() as meta:
            assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
            assert record.report_id in meta["dc:title"]
        (intent,) = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFA1" and len(intent.DestOutputProfile.read_bytes()) > 1000


def _fonts(pdf: pikepdf.Pdf):
    for page in pdf.pages:
        for font in page.Resources.get("/Font", {}).values():
            yield font
            yield from font.get("/DescendantFonts", [])


def test_every_font_is_embedded_including_cjk(demo_pdf):
    _, _, _, folder = demo_pdf
    with pikepdf.open(folder / "report.pdf") as pdf:
        names = set()
        for font in _fonts(pdf):
            if font.Subtype == "/Type0":
                continue  # its descendant carries the descriptor
            names.add(str(font.get("/BaseFont")))
            descriptor = font.FontDescriptor
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font.get("/BaseFont")
    assert any("CJK" in n for n in names), names  # the analyst's Chinese name is set in an embedded CJK font


def test_tagged_with_language_and_metadata_naming_the_report(demo_pdf):
    store, spec, record, folder = demo_pdf
    with pikepdf.open(folder / "report.pdf") as pdf:
        assert pdf.Root.MarkInfo.Marked and "/StructTreeRoot" in pdf.Root and str(pdf.Root.Lang) == "en"
        info = pdf.docinfo
        assert str(info["/FaultlineReportId"]) == record.report_id
        assert str(info["/FaultlineContentHash"]) == record.content_hash
        for run in store.runs()["run_id"]:
            for f in store.run(run).files:
                assert f["sha256"] in str(info["/FaultlineSourceHashes"])
        assert record.report_id in str(info["/Keywords"]) and record.content_hash in str(info["/Keywords"])


def test_attachments_are_associated_files(demo_pdf):
    _, _, _, folder = demo_pdf
    with pikepdf.open(folder / "report.pdf") as pdf:
        af = {spec.objgen for spec in pdf.Root.AF}
        names = pdf.Root.Names.EmbeddedFiles.Names
        specs = [names[i + 1] for i in range(0, len(names), 2)]
        assert {str(s.F) for s in specs} == {"slices.csv", "slices.json", "comparison.csv", "comparison.json",
                                             "heatmap.csv", "heatmap.json", "report_spec.yaml", "report.json"}
        for s in specs:
            assert s.objgen in af and str(s.AFRelationship) in ("/Data", "/Source")
            stream = s.EF.F
            assert "/Subtype" in stream and "/CheckSum" in stream.Params


def _close(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == b  # exact: the files hold the engine's floats at full precision


def test_attached_tables_equal_the_engine(demo_pdf):
    store, spec, _, folder = demo_pdf
    with pikepdf.open(folder / "report.pdf") as pdf:
        files = _attachments(pdf)
    # the engine, called directly with the report's settings
    engine = slice_table(store, spec.run, spec.attributes, max_order=spec.max_order, min_support=spec.min_support,
                         confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins).table
    attached = pd.read_csv(io.BytesIO(files["slices.csv"]))
    assert len(attached) == len(engine) and list(attached["description"]) == list(engine["description"])
    for column in ("n", "errors"):
        assert attached[column].tolist() == engine[column].tolist()
    for column in ("error_rate", "ci_low", "ci_high", "difference", "p_value", "q_value"):
        assert all(_close(a, b) for a, b in zip(engine[column].tolist(), attached[column].tolist())), column
    # independently: the error rate is errors / n
    assert (attached["error_rate"] - attached["errors"] / attached["n"]).abs().max() < 1e-12
    records = json.loads(files["slices.json"])
    assert [r["q_value"] for r in records] == [None if math.isnan(q) else q for q in engine["q_value"].tolist()]
    assert all(r["q_value_text"] == "< 1e-300" for r in records if r["q_value"] == 0.0)

    comparison = compare_runs(store, spec.baseline, spec.run, spec.attributes, min_support=spec.min_support,
                              confidence=spec.confidence, fdr=spec.fdr, bins=spec.bins).table
    rows = list(csv.DictReader(io.StringIO(files["comparison.csv"].decode())))
    assert [r["description"] for r in rows] == comparison["description"].tolist()
    assert [int(r["b"]) for r in rows] == comparison["b"].tolist()
    assert [float(r["difference"]) for r in rows] == comparison["difference"].tolist()
    assert yaml.safe_load(files["report_spec.yaml"])["run"] == spec.run


def test_data_is_written_beside_the_html_too(demo_pdf):
    _, _, _, folder = demo_pdf
    with pikepdf.open(folder / "report.pdf") as pdf:
        files = _attachments(pdf)
    beside = folder / "report-data"
    assert {p.name for p in beside.iterdir()} == set(files)
    for name, data in files.items():
        assert hashlib.sha256((beside / name).read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    document = (folder / "report.html").read_text()
    assert hashlib.sha256(files["slices.csv"]).hexdigest() in document  # listed in the appendix


def test_only_example_texts_are_excerpted_and_whole_in_the_attached_examples(tmp_path):
    from analysis.report.attachments import report_attachments
    from analysis.report.html import render_html

    with open_store(tmp_path / "e.duckdb", seed_demo=False) as store:
        frame = pd.DataFrame({"prompt": ["q"] * 60, "correct": [True, False] * 30, "topic": ["a", "b", "c"] * 20})
        (run,) = store.ingest_frame(frame, name="r").added
        report = build_report(store, ReportSpec(run=run.run_id, sections=["summary", "appendix"], min_support=5))
    long_text = "word " * 200
    report.tables["examples"] = pd.DataFrame([{"cluster": "3", "rank": 1, "example_id": "e1", "text": long_text}])
    report.data["clusters"] = {"settings": {}, "rows": [{"cluster": "3", "description": "d", "size": 1,
                                                         "error_rate": 0.5, "ci_low": 0.1, "ci_high": 0.9,
                                                         "q_value": 0.2, "terms": ["t"],
                                                         "representatives": [long_text]}]}
    report.spec.sections = ["summary", "clusters", "appendix"]
    document = render_html(report)
    assert "more characters in the attached examples.csv" in document
    files = {f.name: f.data for f in report_attachments(report)}
    assert pd.read_csv(io.BytesIO(files["examples.csv"]))["text"][0] == long_text
