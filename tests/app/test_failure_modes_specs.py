"""The Failure modes page for any run: no spec on a real log (built-in detectors and labels, a "no signal" matrix
and one sentence, never the demo's spec), a spec saved in the store with its sha256 and reused by the Report page,
a matrix cell pinned as a finding, and the mode examples linked to the Example page."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from analysis import NO_SPEC_SENTENCE, findings, get_spec, open_store, saved_specs
from tests.app._stores import build_demo, point_app_at
from tests.conftest import LM_EVAL_SAMPLES, ROOT, shown

PAGE = str(ROOT / "pages" / "5_Failure_modes.py")
REPORT = str(ROOT / "pages" / "6_Report.py")
TIMEOUT = 120


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    return build_demo(tmp_path_factory, "fm_specs", n_prompts=3000)


@pytest.fixture
def demo_env(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    with open_store(demo_db, seed_demo=False) as store:
        return demo_db, store.run("baseline").run_id


def page(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.real_logs
def test_a_real_log_without_spec_renders_the_no_signal_matrix_without_banners(tmp_path, monkeypatch):
    db = tmp_path / "real.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest(LM_EVAL_SAMPLES)
        run = store.runs()["run_id"].iloc[0]
    point_app_at(monkeypatch, db)
    at = page()
    assert not at.warning and not at.error
    assert [i.value for i in at.info] == [NO_SPEC_SENTENCE]
    assert at.selectbox(key=f"fm_spec_choice_{run}").value == "none"
    matrix = at.get("plotly_chart")[0].proto.spec
    assert "no signal" in matrix and "No objective spec" in matrix
    assert at.query_params["spec"] in ("none", ["none"])


def test_the_demo_run_starts_from_the_demo_spec_and_the_url_can_say_none(demo_env):
    _, base = demo_env
    at = page(chosen_run=base)
    assert at.selectbox(key=f"fm_spec_choice_{base}").value == "demo"
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update({"run": base, "spec": "none"})
    at.run()
    assert not at.exception
    assert at.selectbox(key=f"fm_spec_choice_{base}").value == "none"
    assert {m.label: m.value for m in at.metric}["Components with a signal"] == "none"


def test_a_spec_is_saved_with_its_hash_and_offered_by_the_report_page(demo_env):
    db, base = demo_env
    at = page(chosen_run=base)
    text = at.text_area(key="fm_spec_editor").value
    at.text_input(key="fm_spec_save_name").input("team objective")
    at.text_input(key="fm_spec_save_author").input("ada")
    at.button(key="FormSubmitter:fm_spec_save_form-Save the spec").click()
    at.run()
    assert not at.exception
    with open_store(db, seed_demo=False) as store:
        saved = get_spec(store, "team objective")
        assert saved.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest() and saved.author == "ada"
        assert "team objective" in set(saved_specs(store)["name"])
    assert at.selectbox(key=f"fm_spec_choice_{base}").value == "saved:team objective"
    assert any("sha256" in shown(s.value) for s in at.success)
    report = AppTest.from_file(REPORT, default_timeout=TIMEOUT)
    report.run()
    assert not report.exception
    assert any(o.startswith("team objective (sha256 ") for o in report.selectbox(key="report_saved_spec").options)
    report.text_input(key="report_analyst").input("ada")
    report.radio(key="report_spec_choice").set_value("saved")
    report.multiselect(key="report_sections").set_value(["summary", "provenance", "failure_modes"])
    report.button[0].click()  # Preview
    report.run(timeout=240)
    assert not report.exception and not report.error
    preview = report.session_state["report_preview"]
    assert "team objective (sha256 " in preview and saved.sha256 in preview  # the report names the saved spec


def test_an_invalid_edit_is_refused_inline_and_nothing_is_saved(demo_env):
    db, base = demo_env
    at = page(chosen_run=base)
    at.text_area(key="fm_spec_editor").input("objective: x\ncomponents: 3\n")
    at.run()
    assert not at.exception
    assert any("line 2, key 'components'" in shown(e.value) for e in at.error)
    assert not any(getattr(f, "id", None) == "fm_spec_save_form" for f in at.get("form"))  # the cohort box is a form too


def test_a_cell_is_pinned_as_a_finding(demo_env):
    db, base = demo_env
    at = page(chosen_run=base)
    mode, comp = at.selectbox(key="fm_mode").value, at.selectbox(key="fm_component").value
    at.text_input(key="fm_pin_note").input("the reward model pays for padding")
    at.text_input(key="fm_pin_author").input("bo")
    at.button(key="FormSubmitter:fm_pin_cell_form-Pin cell as finding").click()
    at.run()
    assert not at.exception
    with open_store(db, seed_demo=False) as store:
        pinned = findings(store, base)
    row = pinned[pinned["note"] == "the reward model pays for padding"].iloc[0]
    assert row["kind"] == "cell" and row["target"] == {"mode": mode, "component": comp} and row["author"] == "bo"
    assert row["evidence"]["verdict"] in {"implicated", "not implicated", "insufficient evidence", "no signal"}


def test_mode_examples_link_to_the_example_page(demo_env):
    _, base = demo_env
    at = page(chosen_run=base)
    examples = next(t.value for t in at.dataframe if "why" in t.value.columns)
    link = urlparse(examples["open"].iloc[0])
    assert link.path.endswith("Example")
    query = parse_qs(link.query)
    assert json.loads(query.pop("set")[0])["kind"] == "mode"  # next / previous step through the mode's examples
    assert query == {"run": [base], "example": [str(examples["example_id"].iloc[0])]}
