"""The report id names one document (trial item: a finding pinned between two generations changed the content, 14
against 15 pages and another content hash, but not the id, which hashed only the spec and the sources).

The id covers everything that determines the document (the content computed from the store, the sections, the
attached tables and objective spec, the tool's version) and nothing else (not the date): the same inputs give the same
id; a finding pinned, an annotation added or a cohort saved again in between gives another. The PDF's metadata, its
cover, the attached spec and the attached ``report.json`` carry the same id, and ``report.json`` holds what the id is
the hash of, so it is recomputed here with hashlib alone.
"""

from __future__ import annotations

import hashlib
import json

import pikepdf
import pytest
import yaml
from pypdf import PdfReader

from analysis import open_store
from analysis.demo.seed import ensure_demo
from analysis.objective.annotations import add_annotation
from analysis.objective.findings import pin_slice
from analysis.report import ReportSpec, build_report, generate_report, report_history, report_spec
from analysis.slicing.cohorts import save_cohort
from tests.conftest import ROOT

RUN, BASE = "after-objective-change", "baseline"
OBJECTIVE = ROOT / "data" / "objective_demo.yaml"


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "demo.duckdb", seed_demo=False)
    ensure_demo(s, n_prompts=1500, seed=7)
    yield s
    s.close()


def spec(**extra) -> ReportSpec:
    return ReportSpec(run=RUN, baseline=BASE, analyst="Ada", **extra)


def test_same_inputs_give_the_same_id(store):
    first, second = build_report(store, spec()), build_report(store, spec())
    assert first.report_id.startswith("FLR-") and len(first.report_id) == 16
    assert first.report_id == second.report_id and first.content_hash == second.content_hash


def test_a_finding_pinned_in_between_gives_another_id(store):
    before = build_report(store, spec())
    pin_slice(store, RUN, {"domain": "medical"}, author="Ada", note="medical answers fail")
    after = build_report(store, spec())
    assert after.data["findings"] and "findings" not in before.data  # the documents differ
    assert after.content_hash != before.content_hash
    assert after.report_id != before.report_id
    assert build_report(store, spec()).report_id == after.report_id  # and the new state is reproducible


def test_an_annotation_added_in_between_gives_another_id(store):
    with_modes = spec(objective=str(OBJECTIVE))
    before = build_report(store, with_modes)
    examples = store.examples(RUN)
    wrong = examples.loc[examples["correct"] == False, "example_id"].astype(str)  # noqa: E712 - a column
    for example_id in wrong.iloc[:5]:
        add_annotation(store, RUN, author="Ada", mode="wrong_jurisdiction", note="seen by a rater",
                       example_id=example_id)
    after = build_report(store, with_modes)
    assert after.data["failure_modes"] != before.data["failure_modes"]
    assert after.report_id != before.report_id


def test_a_cohort_saved_again_gives_another_id(store):
    save_cohort(store, "web users", 'channel = "web"', author="ada", run=RUN)
    before = build_report(store, spec(cohort="web users"))
    save_cohort(store, "web users", 'channel = "web" and domain = "medical"', author="ada", run=RUN)
    after = build_report(store, spec(cohort="web users"))
    assert after.data["cohort"]["version"] == before.data["cohort"]["version"] + 1
    assert after.report_id != before.report_id


def test_the_tool_version_is_covered(store, monkeypatch):
    import analysis.report.content as content

    before = build_report(store, spec())
    monkeypatch.setattr(content, "__version__", "0.0.0-other")
    assert build_report(store, spec()).report_id != before.report_id


def test_an_attached_table_is_covered(store):
    """A table attached but not printed (the slice table's redundant rows) is part of the id."""
    report = build_report(store, spec())
    first = report.report_id
    table = report.tables["slices"]
    report.tables["slices"] = table.assign(n=table["n"].where(table.index != table.index[-1], table["n"] + 1))
    assert content_id(report.id_inputs) != first
    assert content_id(build_report(store, spec()).id_inputs) == first


def content_id(inputs: dict) -> str:
    """The id recomputed with hashlib from what it is the hash of (as ``report.json`` states the recipe)."""
    return "FLR-" + hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()
                                   ).hexdigest()[:12].upper()


def test_pdf_cover_metadata_and_attachments_carry_one_id(store, tmp_path):
    record = generate_report(store, spec(), pdf=tmp_path / "a.pdf", html_out=tmp_path / "a.html", charts=False)
    with pikepdf.open(tmp_path / "a.pdf") as pdf:
        info = pdf.docinfo
        assert str(info["/FaultlineReportId"]) == record.report_id
        assert str(info["/FaultlineContentHash"]) == record.content_hash
        with pdf.open_metadata() as meta:
            assert record.report_id in meta["dc:title"]
        files = {name: f.get_file().read_bytes() for name, f in pdf.attachments.items()}
    manifest = json.loads(files["report.json"])
    assert manifest["report_id"] == record.report_id
    assert manifest["content_sha256"] == record.content_hash == manifest["id_inputs"]["content_sha256"]
    assert content_id(manifest["id_inputs"]) == record.report_id  # recomputable from the attachment alone
    assert "findings" in manifest["report_id_covers"] and "not the date" in manifest["report_id_covers"]
    spec_text = files["report_spec.yaml"].decode()
    assert record.report_id in spec_text.splitlines()[0]
    assert ReportSpec(**yaml.safe_load(spec_text)).sha256 == manifest["spec_sha256"]  # still the spec, loadable
    cover = " ".join((PdfReader(str(tmp_path / "a.pdf")).pages[0].extract_text() or "").split())
    assert record.report_id in cover and "not its date" in cover
    html = (tmp_path / "a.html").read_text()
    assert "<b>Report id.</b>" in html and (tmp_path / "a-data" / "report.json").read_bytes() == files["report.json"]


def test_regenerating_from_the_recorded_spec(store, tmp_path):
    """The recorded spec regenerates the same document (same id) while the store is unchanged; after a pin, the
    regenerated document differs and so does its id; the history keeps both."""
    first = generate_report(store, spec(), pdf=None, html_out=tmp_path / "a.html", charts=False)
    again = generate_report(store, report_spec(store, first.report_id), pdf=None, html_out=tmp_path / "b.html",
                            charts=False)
    assert again.report_id == first.report_id and again.content_hash == first.content_hash
    pin_slice(store, RUN, {"domain": "medical"}, author="Ada", note="medical answers fail")
    changed = generate_report(store, report_spec(store, first.report_id), pdf=None, html_out=tmp_path / "c.html",
                              charts=False)
    assert changed.report_id != first.report_id and changed.content_hash != first.content_hash
    history = report_history(store)
    assert list(history["report_id"]).count(first.report_id) == 2 and changed.report_id in set(history["report_id"])
    assert report_spec(store, changed.report_id).sha256 == report_spec(store, first.report_id).sha256
