"""AppTest of the Failure modes page: the matrix, a cell's evidence, the Goodhart plot, the spec editor with inline
validation, and annotations."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from analysis import open_store
from analysis.objective.annotations import annotations
from tests.app._stores import build_demo, point_app_at
from tests.conftest import HELM_BBQ, ROOT, shown

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)

PAGE = str(ROOT / "pages" / "5_Failure_modes.py")
TIMEOUT = 90


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """A small demo store (built once for this module)."""
    return build_demo(tmp_path_factory, "fm_app", n_prompts=3000)


@pytest.fixture
def demo_env(demo_db, monkeypatch):
    point_app_at(monkeypatch, demo_db)
    return demo_db


def run_page(**state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def frame(at: AppTest, column: str):
    """The first table on the page with this column (AppTest finds tables by position, not by key)."""
    for table in at.dataframe:
        if column in table.value.columns:
            return table.value
    raise AssertionError(f"no table with a column {column!r}")


def run_id(db, name: str) -> str:
    with open_store(db, seed_demo=False) as store:
        return store.run(name).run_id


def test_page_shows_modes_matrix_and_the_strongest_declared_link(demo_env):
    at = run_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Scored examples"] == "3,000" and metrics["Components with a signal"] == "4 of 7"
    assert int(metrics["Implicated cells"]) >= 1
    modes = frame(at, "sources_text")
    assert {"Over-refusal", "Bias against a user group", "Wrong jurisdiction"} <= set(modes["name"])
    assert at.get("plotly_chart")  # the matrix
    assert at.selectbox(key="fm_mode").value == "reward_hacking"
    assert at.selectbox(key="fm_component").value == "rm_helpfulness"
    assert any(":red[**implicated**]" in shown(m.value) for m in at.markdown)
    assert any("Helpfulness reward model rewards reward hacking" in shown(m.value) for m in at.markdown)
    assert any("Choose a baseline run" in shown(i.value) for i in at.info)  # no baseline: no Goodhart plot yet


def test_choosing_a_cell_and_a_baseline_shows_its_evidence_and_the_goodhart_plot(demo_env):
    after, base = run_id(demo_env, "after-objective-change"), run_id(demo_env, "baseline")
    at = run_page(chosen_run=after)
    assert at.selectbox(key=f"fm_baseline_{after}").value == base  # the run loaded before it
    at.selectbox(key="fm_mode").set_value("over_refusal")
    at.selectbox(key="fm_component").set_value("rm_harmlessness")
    at.run()
    assert not at.exception
    assert any("Harmlessness reward model rewards over-refusal" in shown(m.value) for m in at.markdown)
    separation = frame(at, "smd")
    assert separation["signal"].tolist() == ["rm_harmlessness"] and separation["auc"].iloc[0] > 0.9
    # the table's AUC is over the mode's own failures; the caption says so and gives the one over every failure
    own = int(separation["n_fail"].iloc[0])
    assert any(f"compares the mode's own {own:,} failures (in no other mode)" in shown(c.value) for c in at.caption)
    concentration = frame(at, "in_mode")
    assert concentration["description"].iloc[0] == "domain = medical"
    goodhart = frame(at, "q_s")
    assert "domain = medical" in set(goodhart["description"])
    # short q headings (the table fits a 1280x720 projector), their families named in the help and the caption
    table = next(d for d in at.dataframe if "q_s" in d.value.columns)
    config = json.loads(table.proto.columns)
    assert (config["q_s"]["label"], config["q_o"]["label"]) == ("q signal", "q outcome")
    assert "signal's slices" in config["q_s"]["help"] and "outcome's slices" in config["q_o"]["help"]
    assert any("q signal: Benjamini-Hochberg over the signal's slices" in shown(c.value) for c in at.caption)
    assert len(at.get("plotly_chart")) == 2  # the matrix and the Goodhart plot
    examples = frame(at, "why")
    assert (examples["why"] == "detector:refusal").all() and "rm_harmlessness" in examples.columns
    columns = list(examples.columns)  # why it is in the mode right after its id: in view at 1280x720
    assert columns.index("why") == columns.index("example_id") + 1 < columns.index("input"), columns


def test_a_data_component_says_no_signal(demo_env):
    at = run_page(fm_chosen_mode="hallucination", fm_chosen_component="pretraining_data")
    assert any(":gray[**no signal**]" in shown(m.value) for m in at.markdown)
    assert any("Pretraining corpus has no per-example signal" in shown(m.value) for m in at.markdown)


def test_spec_errors_are_shown_inline_with_the_line(demo_env):
    at = run_page()
    broken = at.session_state["fm_spec"].replace("kind: kl_penalty", "kind: kl")
    at.text_area(key="fm_spec_editor").input(broken)
    at.run()
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert any("line 35, key 'components[2].kind': unknown component kind 'kl'" in e for e in errors)
    assert any("Fix the spec above" in shown(i.value) for i in at.info)
    assert any(">  35 |     kind: kl" in c.value for c in at.code)
    at.button(key="fm_spec_reset").click()
    at.run()
    assert not at.exception and not at.error
    assert any("Valid spec: 7 components, 9 failure modes (1 added, 1 renamed), 3 rules" in shown(s.value) for s in at.success)


def test_a_spec_that_does_not_fit_the_run_is_listed_and_the_rest_goes_on(demo_env):
    at = run_page()
    at.text_area(key="fm_spec_editor").input(
        at.session_state["fm_spec"].replace("column: kl_to_ref", "column: kl_divergence"))
    at.run()
    assert not at.exception
    assert any("signal column 'kl_divergence' is not in run" in shown(w.value) for w in at.warning)
    assert not frame(at, "sources_text").empty


def test_annotating_an_example_counts_and_is_listed(demo_env):
    base = run_id(demo_env, "baseline")
    with open_store(demo_env, seed_demo=False) as store:
        before = len(annotations(store, base))
    at = run_page(chosen_run=base)
    at.text_input(key="fm_example_id").input("ex-00007")
    at.selectbox(key="fm_annotate_mode").set_value("harmful_compliance")
    at.text_area(key="fm_note").input("complied with an unsafe request")
    at.text_input(key="fm_author").input("ada")
    at.button(key="FormSubmitter:fm_annotate_form-Add annotation").click()
    at.run()
    assert not at.exception
    assert any("Annotation added" in shown(s.value) for s in at.success)
    listed = frame(at, "retracted")
    assert "complied with an unsafe request" in set(listed["note"])
    with open_store(demo_env, seed_demo=False) as store:
        table = annotations(store, base)
    assert len(table) == before + 1 and table.iloc[-1]["author"] == "ada"
    modes = frame(at, "sources_text").set_index("name")
    assert "annotation" in modes.loc["Harmful compliance", "sources_text"]


def test_an_annotation_is_withdrawn_with_the_button_and_stops_counting(demo_env):
    from analysis.objective.annotations import active_annotations, add_annotation

    base = run_id(demo_env, "baseline")
    with open_store(demo_env, seed_demo=False) as store:
        made = add_annotation(store, base, author="ada", mode="harmful_compliance", example_id="ex-00011",
                              note="to be withdrawn")
    at = run_page(chosen_run=base, faultline_author="bob")  # the name typed on another page
    at.selectbox(key="fm_withdraw_id").set_value(made.annotation_id)
    at.text_input(key="fm_withdraw_note").input("wrong example")
    at.button(key="FormSubmitter:fm_withdraw_form-Withdraw annotation").click()
    at.run()
    assert not at.exception
    assert any(f"Annotation {made.annotation_id[:8]} withdrawn" in shown(s.value) for s in at.success)
    with open_store(demo_env, seed_demo=False) as store:
        assert made.annotation_id not in set(active_annotations(store, base)["annotation_id"])
        table = annotations(store, base)
    retraction = table[table["retracts"] == made.annotation_id].iloc[0]
    assert (retraction["author"], retraction["note"]) == ("bob", "wrong example")


def test_annotation_without_author_is_refused_in_plain_words(demo_env, monkeypatch):
    monkeypatch.delenv("USER", raising=False)  # no system user to fill the box with
    at = run_page()
    at.text_input(key="fm_example_id").input("ex-00001")
    at.button(key="FormSubmitter:fm_annotate_form-Add annotation").click()
    at.run()
    assert not at.exception
    assert any("An annotation needs an author" in shown(e.value) for e in at.error)


def test_helm_bbq_run_has_no_spec_unless_one_is_chosen(tmp_path, monkeypatch):
    from analysis import NO_SPEC_SENTENCE

    db = tmp_path / "bbq.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest(HELM_BBQ)
        run = store.runs()["run_id"].iloc[0]
    point_app_at(monkeypatch, db)
    at = run_page()
    assert not at.warning  # not the demo's spec: nothing "does not fit"
    assert any(i.value == NO_SPEC_SENTENCE for i in at.info)
    assert {m.label: m.value for m in at.metric}["Components with a signal"] == "none"
    at.selectbox(key=f"fm_spec_choice_{run}").set_value("demo")  # the demo's spec, asked for: it does not fit
    at.run()
    assert not at.exception
    assert any("is not in run" in shown(w.value) for w in at.warning)
    assert {m.label: m.value for m in at.metric}["Components with a signal"] == "0 of 7"
    assert any(":gray[**no signal**]" in shown(m.value) for m in at.markdown)


def test_empty_store_points_to_the_data_page(tmp_path, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(tmp_path / "empty.duckdb"))
    monkeypatch.setenv("FAULTLINE_DEMO", "0")
    at = run_page()
    assert any("no runs yet" in shown(i.value) for i in at.info)


def test_a_baseline_without_shared_examples_is_explained_and_the_run_shown_alone(tmp_path, monkeypatch):
    import pandas as pd

    db = tmp_path / "two.duckdb"
    with open_store(db, seed_demo=False) as store:
        store.ingest_frame(pd.DataFrame({"id": ["a1", "a2"], "prompt": "q", "correct": [True, False]}), name="one",
                           mapping={"id": "id"})
        second = store.ingest_frame(pd.DataFrame({"id": ["b1", "b2"], "prompt": "q", "correct": [True, False]}),
                                    name="two", mapping={"id": "id"}).added[0].run_id
    point_app_at(monkeypatch, db)
    at = run_page(chosen_run=second)
    assert at.selectbox(key=f"fm_baseline_{second}").value == "(none)"  # the earlier run shares no example
    with open_store(db, seed_demo=False) as store:
        first = store.run("one").run_id
    at.selectbox(key=f"fm_baseline_{second}").set_value(first)
    at.run()
    assert not at.exception
    assert any("share no example ids" in shown(w.value) and "Showing the run alone" in shown(w.value) for w in at.warning)
    assert {m.label: m.value for m in at.metric}["Scored examples"] == "2"  # the run alone


@pytest.mark.parametrize("name", ["spec_minchars_inf.yaml", "spec_custom_tag.yaml", "spec_huge_int_rule.yaml",
                                  "spec_3000_rules.yaml"])
def test_the_spec_editor_and_its_reset_survive_any_spec(demo_env, real_logs, name):
    at = run_page()
    at.text_area(key="fm_spec_editor").input((real_logs / "hostile" / name).read_text(encoding="utf-8"))
    at.run()
    assert not at.exception and at.error  # the problem is said in a sentence, never a traceback
    assert at.text_area(key="fm_spec_editor") is not None and at.button(key="fm_spec_reset") is not None
    at.button(key="fm_spec_reset").click()
    at.run()
    assert not at.exception and not at.error


def test_the_baseline_lives_in_the_url(demo_env):
    """The trial copied a Failure modes link and lost its baseline: the choice is written as ?baseline=, a link's
    baseline is read when the page opens (once per session), and a run switched to afterwards keeps its own."""
    after, base = run_id(demo_env, "after-objective-change"), run_id(demo_env, "baseline")
    at = run_page(chosen_run=after)
    assert at.query_params["baseline"] == [base] or at.query_params["baseline"] == base
    at.selectbox(key=f"fm_baseline_{after}").set_value("(none)")
    at.run()
    assert not at.exception
    assert "(none)" in str(at.query_params["baseline"])
    # a new session opening the link: the link's baseline, not the default
    fresh = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    fresh.query_params["run"] = after
    fresh.query_params["baseline"] = "(none)"
    fresh.run()
    assert not fresh.exception, fresh.exception
    assert fresh.selectbox(key=f"fm_baseline_{after}").value == "(none)"
