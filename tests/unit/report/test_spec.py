"""ReportSpec: a pydantic model whose errors name the field and the value, whose canonical JSON (and so its hash and
the report id) is the same as the stored specs of earlier versions, and whose JSON schema documents every field."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from analysis.errors import FaultlineError
from analysis.report import SECTIONS, ReportSpec
from analysis.report.spec import MSG_INVALID, MSG_NOT_OBJECT, MSG_SECTION, ReportSpecError
from tests.conftest import ROOT

# Specs as the audit table of earlier versions stored them (spec_json, written by the dataclass ReportSpec).
STORED = [
    '{"analyst":"","attributes":null,"baseline":null,"bins":5,"confidence":0.95,"discovery":{"alpha":0.99,'
    '"holdout":true,"k":10,"max_l":3,"min_sup":0.01,"seed":0},"fdr":0.05,"gate":{"alpha":0.05,"max_drop":0.02},'
    '"max_order":2,"min_support":30,"objective":null,"reviewer":"","run":"r1","sections":["summary","provenance",'
    '"methods","slices","heatmap","discovery","clusters","failure_modes","comparison","limitations","appendix",'
    '"signoff"],"title":"Faultline audit report"}',
    '{"analyst":"A","attributes":["topic","len"],"baseline":"r0","bins":4,"confidence":0.9,"discovery":{"alpha":0.95,'
    '"holdout":false,"k":5,"max_l":2,"min_sup":20,"seed":3},"fdr":0.1,"gate":{"alpha":0.01,"max_drop":0.03},'
    '"max_order":3,"min_support":10,"objective":"o.yaml","reviewer":"R","run":"r1","sections":["summary","signoff"],'
    '"title":"T"}',
]
KNOWN = ", ".join(SECTIONS)


def renamed(stored: str) -> str:
    """A stored spec of an earlier version in today's names: SliceLine's alpha, max_l and min_sup are now
    error_weight, max_order and min_support (one name per concept across Faultline)."""
    spec = json.loads(stored)
    old = spec["discovery"]
    spec["discovery"] = {"error_weight": old["alpha"], "holdout": old["holdout"], "k": old["k"],
                         "max_order": old["max_l"], "min_support": old["min_sup"], "seed": old["seed"]}
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("stored", STORED)
def test_stored_specs_of_earlier_versions_load_with_the_same_meaning(stored):
    spec = ReportSpec.from_json(stored)
    assert spec.canonical() == renamed(stored)
    assert spec.sha256 == hashlib.sha256(renamed(stored).encode()).hexdigest()
    assert ReportSpec(**json.loads(stored)) == spec == ReportSpec.from_json(renamed(stored))
    assert spec.discovery.error_weight == json.loads(stored)["discovery"]["alpha"]


def test_the_default_spec_is_the_stored_default_renamed():
    # the default holds every section: those of the stored default, in their order, and those added since
    # (findings, timeline); a stored spec keeps its own list, so its hash and report id do not change (test above)
    expected = json.loads(renamed(STORED[0]))
    old = expected["sections"]
    assert [s for s in SECTIONS if s in old] == old and set(SECTIONS) - set(old) == {"findings", "timeline"}
    expected["sections"] = list(SECTIONS)
    assert ReportSpec(run="r1").canonical() == json.dumps(expected, sort_keys=True, separators=(",", ":"))


def test_partial_settings_get_the_defaults_so_the_same_meaning_gives_the_same_hash():
    partial = ReportSpec(run="r1", discovery={"k": 10}, gate={"alpha": 0.05})
    assert partial.sha256 == ReportSpec(run="r1").sha256


@pytest.mark.parametrize(("fields", "lines"), [
    ({"run": "r", "sections": ["summary", "charts"]},
     [("sections", MSG_SECTION.format(name="charts", known=KNOWN), ["summary", "charts"])]),
    ({"run": "r", "colour": "red"}, [("colour", "Extra inputs are not permitted", "red")]),
    ({}, [("run", "Field required", {})]),
    ({"run": "r", "fdr": 1.5}, [("fdr", "Input should be less than 1", 1.5)]),
    ({"run": "r", "min_support": 0}, [("min_support", "Input should be greater than or equal to 1", 0)]),
    ({"run": "r", "max_order": 4}, [("max_order", "Input should be 1, 2 or 3", 4)]),
    ({"run": "r", "bins": 21}, [("bins", "Input should be less than or equal to 20", 21)]),
    ({"run": "r", "attributes": ["topic", 3]}, [("attributes[1]", "Input should be a valid string", 3)]),
    ({"run": "r", "discovery": {"k": 0, "seed": 1, "depth": 2}},
     [("discovery.k", "Input should be greater than or equal to 1", 0),
      ("discovery.depth", "Extra inputs are not permitted", 2)]),
    ({"run": "r", "gate": {"max_drop": 1.0}}, [("gate.max_drop", "Input should be less than 1", 1.0)]),
])
def test_errors_name_every_bad_field_and_its_value(fields, lines):
    with pytest.raises(ReportSpecError) as caught:
        ReportSpec(**fields)
    assert str(caught.value) == "\n".join(MSG_INVALID.format(field=f, problem=p, value=v) for f, p, v in lines)


def test_a_spec_error_is_an_error_for_the_user():
    with pytest.raises(FaultlineError, match=r"^Invalid report spec field 'confidence': Input should be greater than 0 "
                                             r"\(got -0.5\)$"):
        ReportSpec(run="r", confidence=-0.5)


def test_from_json_refuses_what_is_not_an_object():
    with pytest.raises(ReportSpecError) as caught:
        ReportSpec.from_json('["r"]')
    assert str(caught.value) == MSG_NOT_OBJECT.format(kind="list")


def test_assignment_is_validated():
    spec = ReportSpec(run="r")
    spec.run = "run-id"
    with pytest.raises(ValueError, match="fdr"):
        spec.fdr = 2


def test_json_schema_documents_every_field_and_forbids_others():
    schema = ReportSpec.model_json_schema()
    models = [schema, *schema["$defs"].values()]
    assert {"DiscoverySettings", "GateSettings"} <= set(schema["$defs"])
    for model in models:
        assert model["additionalProperties"] is False
        for name, prop in model["properties"].items():
            assert prop.get("description"), name
    assert schema["required"] == ["run"]
    assert schema["properties"]["sections"]["default"] == list(SECTIONS)
    assert schema["properties"]["sections"]["items"]["enum"] == list(SECTIONS)


def test_specs_do_not_share_their_sections():
    first = ReportSpec(run="a")
    first.sections.remove("appendix")
    assert ReportSpec(run="b").sections == list(SECTIONS)


def test_cli_names_the_bad_field_and_writes_nothing(tmp_path):
    from analysis import open_store

    db = tmp_path / "s.duckdb"
    open_store(db, seed_demo=False).close()
    out = subprocess.run([sys.executable, "-m", "analysis", "report", "--db", str(db), "--run", "r", "--html",
                          str(tmp_path / "r.html"), "--sections", "summary,charts"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 2
    assert "Invalid report spec field 'sections': Unknown report section 'charts'" in out.stderr
    assert not (tmp_path / "r.html").exists()
