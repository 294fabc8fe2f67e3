"""AppTest for every page: the start page and the Data page, from empty to loaded."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from tests.conftest import HELM_BBQ, LM_EVAL_SAMPLES, ROOT, shown

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)

TIMEOUT = 60


@pytest.fixture
def db(tmp_path, monkeypatch):
    path = tmp_path / "app.duckdb"
    monkeypatch.setenv("FAULTLINE_DB", str(path))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    return path


def run_page(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / page), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def test_start_page_empty_store_points_to_data_page(db):
    at = run_page("app.py")
    assert any("no runs yet" in shown(i.value) for i in at.info)


def test_start_page_lists_runs_with_intervals(db):
    with open_store(db, seed_demo=False) as store:
        store.ingest(HELM_BBQ)
        expected = store.headline()
    at = run_page("app.py")
    table = at.dataframe[0].value
    assert set(table["name"]) == set(expected["name"])
    for row in expected.itertuples():
        shown = table[table["name"] == row.name].iloc[0]
        assert shown["rows"] == row.rows
        assert shown["headline_text"] == (f"accuracy {row.accuracy * 100:.1f}% "
                                          f"({row.ci_low * 100:.1f}%-{row.ci_high * 100:.1f}%)")
    assert at.metric[0].value == "2" and at.metric[1].value == "200"


def test_start_page_flags_a_run_that_does_not_reproduce_its_tools_figure(db):
    import pandas as pd

    from analysis.formats.base import Reported, SourceRun
    from analysis.store.ingest import _plan_source

    with open_store(db, seed_demo=False) as store:
        frame = pd.DataFrame({"id": ["a", "b"], "score": [1.0, 0.0]})
        source = SourceRun("toy", [], "pooled run", frame=frame, roles={"id": "id", "score": "score"},
                           tool="lm-eval", reported=[Reported("exact_match,strict-match", 0.0)])
        store.ingest([_plan_source(store, source, {}, {})])
    at = run_page("app.py")
    assert any("pooled run" in shown(w.value) and "lm-eval reports 0 for exact_match,strict-match" in shown(w.value)
               for w in at.warning)
    assert at.dataframe[0].value["check_text"].tolist() == ["⚠ differs"]
    at = run_page("pages/1_Data.py")
    checks = [d.value for d in at.dataframe if "verdict_text" in d.value.columns]
    assert checks and checks[0]["verdict_text"].tolist() == ["⚠ differs"]


def test_start_page_sees_new_runs_without_restart(db):
    with open_store(db, seed_demo=False) as store:
        store.ingest(HELM_BBQ)
    at = run_page("app.py")
    assert len(at.dataframe[0].value) == 2
    from ui import _open

    _open(str(db)).ingest(LM_EVAL_SAMPLES)  # another page of the same app loads a run
    at.run()
    assert len(at.dataframe[0].value) == 3


def test_data_page_lists_and_renames_runs(db):
    with open_store(db, seed_demo=False) as store:
        report = store.ingest(HELM_BBQ)
    at = run_page("pages/1_Data.py")
    listing = at.dataframe[0].value
    assert len(listing) == 2 and set(listing["format"]) == {"helm"}
    target = report.added[0].run_id
    at.selectbox(key="rename_run").set_value(target)
    at.text_input(key="rename_value").input("gpt-4o baseline")
    at.button(key="rename_button").click()
    at.run()
    assert not at.exception
    assert "gpt-4o baseline" in set(at.dataframe[0].value["name"])
    assert any("Renamed" in shown(s.value) for s in at.success)


def test_data_page_rename_clash_is_shown_in_plain_words(db):
    with open_store(db, seed_demo=False) as store:
        a, b = store.ingest(HELM_BBQ).added
    at = run_page("pages/1_Data.py")
    at.selectbox(key="rename_run").set_value(a.run_id)
    at.text_input(key="rename_value").input(b.name)
    at.button(key="rename_button").click()
    at.run()
    assert not at.exception
    assert any("already named" in shown(e.value) for e in at.error)


def test_data_page_delete_asks_for_confirmation(db):
    with open_store(db, seed_demo=False) as store:
        a, _ = store.ingest(HELM_BBQ).added
    at = run_page("pages/1_Data.py")
    at.selectbox(key="delete_run").set_value(a.run_id)
    at.button(key="delete_button").click()
    at.run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 2, "nothing is deleted before confirming"
    at.button(key="confirm_delete_button").click()
    at.run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 1
    with open_store(db, seed_demo=False) as store:
        assert a.run_id not in set(store.runs()["run_id"])


def test_data_page_shows_guessed_roles_then_loads(db, write):
    """The page's confirm-and-load path (the browser test covers the upload widget itself)."""
    at = run_page("pages/1_Data.py")
    assert any("No runs yet" in shown(i.value) for i in at.info)
    log = write("roles.csv", "question,model_answer,gold,verdict,lang\nq1,a,a,true,en\nq2,b,c,false,sw\n")
    with open_store(db, seed_demo=False) as store:
        plan = store.plan(log)
    at.session_state["data_plan"] = plan
    at.run()
    assert not at.exception
    assert at.text_input(key="plan_name_0").value == "roles"
    assert any("Detected format" in shown(c.value) and "CSV" in shown(c.value) for c in at.caption)
    # verdict is not named like an outcome: the page says so and will not load
    assert any("No column has the role" in shown(w.value) for w in at.warning)
    assert at.button(key="load_button").disabled
    # a run with an outcome column loads, under the name typed in
    log2 = write("ok.csv", "question,answer,correct,lang\nq1,a,true,en\nq2,b,false,sw\n")
    with open_store(db, seed_demo=False) as store:
        at.session_state["data_plan"] = store.plan(log2)
    at.run()
    at.text_input(key="plan_name_0").input("my upload")
    at.run()
    at.button(key="load_button").click()
    at.run()
    assert not at.exception
    assert any("Loaded run" in shown(s.value) and "my upload" in shown(s.value) for s in at.success)
    assert "my upload" in set(at.dataframe[0].value["name"])


def test_app_shows_store_busy_message(tmp_path, monkeypatch):
    import subprocess
    import sys

    db = tmp_path / "locked.duckdb"
    monkeypatch.setenv("FAULTLINE_DB", str(db))
    script = f"import duckdb, time; con = duckdb.connect({str(db)!r}); print('x', flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception
        assert any("in use by another process" in shown(e.value) for e in at.error)
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def demo_db(tmp_path_factory):
    """A small demo store shared by the analysis-page tests (built once)."""
    from analysis.demo.seed import ensure_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with open_store(path, seed_demo=False) as store:
        ensure_demo(store, n_prompts=3000)
    return path


def test_slices_page(demo_db, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(demo_db))
    at = run_page("pages/2_Slices.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Scored examples"] == "3,000"
    table = at.dataframe[0].value
    assert "language = sw" in set(table["description"])
    assert set(table["status"]) <= {"", "worse", "better", "too small"}
    # better: significantly below the rest's error rate at the page's FDR (0.05), never a too-small slice
    def below(values, level):  # q-values (numbers in the grid), at most the level
        return bool((values <= level).all())

    better = table[table["status"] == "better"]
    assert (better["vs_rest"] < 0).all() and below(better["q"], 0.05)
    worse = table[table["status"] == "worse"]
    assert (worse["vs_rest"] > 0).all() and below(worse["q"], 0.05) and len(worse)
    assert len(at.get("plotly_chart")) == 2  # the slice chart and the heatmap
    extras = at.dataframe[1].value  # the demo has confidence, latency, cost, two raters and graded scores
    assert {"ece", "latency_ms_p50", "rater_agreement", "score_ci_low"} <= set(extras.columns)
    assert any("Raters disagree" in shown(w.value) and "domain = legal" in shown(w.value) for w in at.warning)
    assert len(at.dataframe) == 2  # SliceLine runs when asked, not on every view of the page
    at.button(key="disc_run").click()
    at.run()
    assert not at.exception
    discovered = at.dataframe[2].value
    assert len(discovered) >= 1 and {"group", "description", "status"} <= set(discovered.columns)


def test_slices_page_settings(demo_db, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(demo_db))
    at = run_page("pages/2_Slices.py")
    at.multiselect(key="slices_by").set_value(["language", "domain"])
    at.radio(key="slices_order").set_value(1)
    at.toggle(key="slices_only_findings").set_value(True)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert (table["status"] == "worse").all() and " AND " not in " ".join(table["description"])


def test_compare_page(demo_db, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(demo_db))
    at = run_page("pages/3_Compare.py")
    assert any("Gate failed" in shown(e.value) for e in at.error)
    table = at.dataframe[0].value
    regressed = set(table.loc[table["verdict"] == "regressed", "description"])
    assert "domain = medical" in regressed
    at.slider(key="compare_drop").set_value(20.0)
    at.run()
    assert not at.exception
    assert any("Gate failed" in shown(e.value) for e in at.error)  # medical dropped by far more than 20 points


def test_compare_page_needs_two_runs(db):
    at = run_page("pages/3_Compare.py")
    assert any("two runs" in shown(i.value) for i in at.info)


def test_report_page_preview_and_generate(db):
    with open_store(db, seed_demo=False) as store:
        store.ingest(HELM_BBQ)
    at = run_page("pages/6_Report.py")
    assert any("No report" in shown(c.value) for c in at.caption)
    at.text_input(key="report_analyst").input("Ana")
    at.multiselect(key="report_sections").set_value(["summary", "provenance", "slices", "signoff"])
    at.button[0].click()  # Preview
    at.run(timeout=120)
    assert not at.exception
    assert at.session_state["report_preview"].startswith("<!DOCTYPE html>")
    at.button[1].click()  # Generate
    at.run(timeout=180)
    assert not at.exception
    assert any("Report FLR-" in shown(s.value) for s in at.success)
    assert at.dataframe[0].value["analyst"].tolist() == ["Ana"]


def test_slices_page_says_the_default_attributes_are_capped(db):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"prompt": [f"p{i}" for i in range(200)], "correct": rng.random(200) < 0.6,
                          **{f"m{i}": rng.choice(["a", "b"], size=200) for i in range(31)}})
    store = open_store(db, seed_demo=False)
    store.ingest_frame(frame, name="wide")
    store.close()
    at = run_page("pages/2_Slices.py")
    assert len(at.multiselect(key="slices_by").value) == 24
    assert any("first 24 of" in c.value and "FAULTLINE_MAX_DEFAULT_ATTRIBUTES" in c.value for c in at.caption)
