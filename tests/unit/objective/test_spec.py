"""The objective spec: the demo's spec loads, and malformed specs fail with errors that name the line and the key."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from analysis.objective.link import link
from analysis.objective.spec import (
    COMPONENT_KINDS,
    Objective,
    SpecError,
    check_against_run,
    load_objective,
    parse_objective,
)
from analysis.objective.taxonomy import DEFAULT_MODES
from tests.conftest import ROOT

DEMO_SPEC = ROOT / "data" / "objective_demo.yaml"

BASE = textwrap.dedent("""\
    objective: test objective
    components:
      - id: rm
        name: Helpfulness RM
        kind: reward_model
        why: useful answers
        serves: accuracy
        signals:
          - {column: rm_score, direction: higher_is_better}
        can_cause: [reward_hacking]
      - id: data
        name: Pretraining data
        kind: pretraining_data
        why: knowledge
        serves: factual accuracy
        guards_against: [hallucination]
    modes:
      rename:
        value_lock_in: bias
      add:
        - {id: wrong_law, name: Wrong law, description: another country's law, dimension: honest}
    rules:
      - id: cites
        mode: hallucination
        when: not correct and output contains "according to"
    """)


def spec_error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_objective(text, source="spec.yaml")
    return info.value


def test_demo_spec_loads_with_every_documented_part():
    spec = load_objective(DEMO_SPEC)
    assert spec.name == "acme-chat-7b RLHF objective"
    comps = {c.id: c for c in spec.components}
    assert set(comps) == {"rm_helpfulness", "rm_harmlessness", "kl_penalty", "length_penalty", "pretraining_data",
                          "sft_demonstrations", "preference_data"}
    assert comps["rm_helpfulness"].signals[0].column == "rm_helpfulness"
    assert comps["rm_helpfulness"].signals[0].direction == "higher_is_better"
    assert comps["kl_penalty"].signals[0].column == "kl_to_ref" and comps["kl_penalty"].kind == "kl_penalty"
    assert comps["length_penalty"].signals[0].direction == "lower_is_better"
    assert all(not comps[c].signals for c in ("pretraining_data", "sft_demonstrations", "preference_data"))
    assert "reward_hacking" in comps["rm_helpfulness"].can_cause
    assert "over_refusal" in comps["rm_harmlessness"].can_cause
    assert spec.relation("bias", "preference_data") == "can cause"
    # the rename and the added mode
    ids = [m.id for m in spec.modes]
    assert "value_lock_in" not in ids and "bias" in ids and "wrong_jurisdiction" in ids
    assert spec.mode("bias").name == "Bias against a user group" and spec.aliases == {"value_lock_in": "bias"}
    assert spec.find_mode("value_lock_in") == "bias" and spec.find_mode("Over-refusal") == "over_refusal"
    assert spec.detectors["group_disparity"]["mode"] == "bias"  # default detector modes follow renames
    assert [r.id for r in spec.rules] == ["cited_fabrication", "confident_error", "foreign_tenancy_law"]


def test_default_taxonomy_has_every_mode_with_a_dimension():
    assert [m.id for m in DEFAULT_MODES] == ["hallucination", "lack_of_robustness", "goal_misgeneralization",
                                             "value_lock_in", "reward_hacking", "harmful_compliance", "over_refusal",
                                             "miscalibration"]
    assert {m.dimension for m in DEFAULT_MODES} == {"helpful", "harmless", "honest", "steerable"}
    assert all(m.description for m in DEFAULT_MODES)
    assert len(COMPONENT_KINDS) == 11
    assert Objective.default().components == []


def test_rename_chains_are_followed_and_keep_overrides():
    text = BASE.replace("    value_lock_in: bias\n",
                        "    value_lock_in: bias\n    bias: {id: group_bias, name: Group bias}\n")
    spec = parse_objective(text)
    assert spec.aliases == {"value_lock_in": "group_bias", "bias": "group_bias"}
    assert spec.mode("group_bias").name == "Group bias" and spec.mode("group_bias").dimension == "harmless"


MALFORMED = [
    # (replace this, with that, expected message)
    ("objective: test objective\n", "objective: test objective\nowner: me\n",
     "spec.yaml, line 2, key 'owner': unknown key 'owner'; expected one of objective, description, components, "
     "modes, labels, rules, detectors"),
    ("    serves: accuracy\n", "    serves: accuracy\n    colour: red\n",
     "spec.yaml, line 8, key 'components[0].colour': unknown key 'colour'; expected one of id, name, kind, why, "
     "serves, weight, signals, guards_against, can_cause"),
    ("    why: useful answers\n", "",
     "spec.yaml, line 3, key 'components[0]': missing key 'why'"),
    ("kind: reward_model", "kind: reward",
     "spec.yaml, line 5, key 'components[0].kind': unknown component kind 'reward'; expected one of "
     + ", ".join(COMPONENT_KINDS)),
    ("direction: higher_is_better", "direction: up",
     "spec.yaml, line 9, key 'components[0].signals[0].direction': unknown direction 'up'; expected "
     "higher_is_better or lower_is_better"),
    ("{column: rm_score, direction: higher_is_better}", "{column: rm_score}",
     "spec.yaml, line 9, key 'components[0].signals[0]': missing key 'direction'"),
    ("can_cause: [reward_hacking]", "can_cause: [reward_hackin]",
     "spec.yaml, line 10, key 'components[0].can_cause[0]': names failure mode 'reward_hackin', which is neither a "
     "default mode nor one the spec adds; modes: hallucination, lack_of_robustness, goal_misgeneralization, bias, "
     "reward_hacking, harmful_compliance, over_refusal, miscalibration, wrong_law"),
    ("  - id: data\n", "  - id: rm\n",
     "spec.yaml, line 11, key 'components[1].id': duplicate component id 'rm' (first at line 3)"),
    ("  - id: data\n", "  - id: Data set\n",
     "spec.yaml, line 11, key 'components[1].id': 'Data set' is not a valid id: use lower-case letters, digits and "
     "_, starting with a letter"),
    ("    value_lock_in: bias\n", "    value_lock_in: bias\n    bias: value_lock_in\n",
     "spec.yaml, line 19, key 'modes.rename.value_lock_in': the renames form a cycle: value_lock_in -> bias -> "
     "value_lock_in"),
    ("    value_lock_in: bias\n", "    a: b\n",
     "spec.yaml, line 19, key 'modes.rename.a': renames 'a', which is not a failure mode; modes: hallucination, "
     "lack_of_robustness, goal_misgeneralization, value_lock_in, reward_hacking, harmful_compliance, over_refusal, "
     "miscalibration, wrong_law"),
    ("    value_lock_in: bias\n", "    value_lock_in: over_refusal\n",
     "spec.yaml, line 19, key 'modes.rename.value_lock_in': renames 'value_lock_in' to 'over_refusal', which is "
     "already another failure mode"),
    ("dimension: honest}", "dimension: truthful}",
     "spec.yaml, line 21, key 'modes.add[0].dimension': unknown dimension 'truthful'; expected one of helpful, "
     "harmless, honest, steerable"),
    ("{id: wrong_law,", "{id: hallucination,",
     "spec.yaml, line 21, key 'modes.add[0].id': 'hallucination' is already a default failure mode: rename it "
     "under modes.rename instead of adding it"),
    ('when: not correct and output contains "according to"', 'when: not correct and output contains',
     "spec.yaml, line 25, key 'rules[0].when': Rule 'cites', position 32: expected a text in quotes after "
     "'contains', found the end of the condition"),
    ("mode: hallucination", "mode: fabrication",
     "spec.yaml, line 24, key 'rules[0].mode': names failure mode 'fabrication', which is neither a default mode "
     "nor one the spec adds; modes: hallucination, lack_of_robustness, goal_misgeneralization, bias, "
     "reward_hacking, harmful_compliance, over_refusal, miscalibration, wrong_law"),
    ("rules:\n", "detectors:\n  sarcasm: on\nrules:\n",
     "spec.yaml, line 23, key 'detectors.sarcasm': unknown detector 'sarcasm'; detectors: refusal, empty_output, "
     "long_output, multiple_choice_format, paraphrase_disagreement, group_disparity"),
    ("rules:\n", "detectors:\n  long_output: {factor: 3}\nrules:\n",
     "spec.yaml, line 23, key 'detectors.long_output.factor': unknown setting 'factor' of detector 'long_output'; "
     "settings: mode, ratio, min_chars"),
    ("rules:\n", "rules:\n  - id: x\n    id: y\n",
     "spec.yaml, line 24, key 'rules[0].id': the key 'id' appears twice (first at line 23)"),
    ("    kind: reward_model\n", "    kind: [reward_model\n",
     "spec.yaml, line 6: is not valid YAML: expected ',' or ']', but got ':'"),
]


@pytest.mark.parametrize("old,new,message", MALFORMED, ids=[m[2].split(": ", 1)[1][:40] for m in MALFORMED])
def test_malformed_specs_name_the_line_and_the_key(old, new, message):
    assert old in BASE
    error = spec_error(BASE.replace(old, new, 1))
    assert str(error) == message


def test_missing_top_keys_and_wrong_shapes():
    assert str(spec_error("")) == "spec.yaml, line 1: missing key 'objective'"
    assert str(spec_error("components: []\n")) == "spec.yaml, line 1: missing key 'objective'"
    assert str(spec_error("- a\n- b\n")) == "spec.yaml, line 1: expected a mapping (key: value lines), got a list"
    assert str(spec_error("objective: x\ncomponents: nope\n")) == \
        "spec.yaml, line 2, key 'components': expected a list, got 'nope'"


def test_file_errors(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SpecError, match="nope.yaml: cannot be read"):
        load_objective(missing)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("objective: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match="latin1.yaml: is not UTF-8 text"):
        load_objective(bad)


@pytest.fixture
def run(store):
    frame = pd.DataFrame({"prompt": ["a", "b", "c"], "response": ["x", "according to y", "z"],
                          "gold": ["x", "w", "z"], "correct": [True, False, True], "rm_score": [0.1, 0.9, 0.2],
                          "lang": ["en", "sw", "en"], "label": ["", "hallucination", ""]})
    store.ingest_frame(frame, name="r")
    return store


def test_spec_fits_a_run_without_problems(run):
    assert check_against_run(parse_objective(BASE, source="spec.yaml"), run, "r") == []


RUN_PROBLEMS = [
    ("{column: rm_score,", "{column: rm_helpfulness,",
     "spec.yaml, line 9, key 'components[0].signals[0].column': signal column 'rm_helpfulness' is not in run 'r'; "
     "its numeric columns: score, signal.rm_score, input_length, output_length, reference_length, length_ratio, turn"),
    ("{column: rm_score,", "{column: lang,",
     "spec.yaml, line 9, key 'components[0].signals[0].column': signal column 'lang' of run 'r' is text, not numeric"),
    ('when: not correct and output contains "according to"', 'when: not correct and language = "sw"',
     "spec.yaml, line 25, key 'rules[0].when': Rule 'cites', position 17: unknown field 'language'; fields: "
     "example_id, task, input, output, reference, score, correct, unscorable, status, lang, label, rm_score, "
     "input_length, output_length, reference_length, length_ratio, turn, is_refusal, output_empty"),
    ("rules:\n", "labels: [failure_label]\nrules:\n",
     "spec.yaml, line 22, key 'labels[0]': column 'failure_label' is not in run 'r'; columns: example_id, task, "
     "input, output, reference, score, correct, unscorable, status, signal.rm_score, meta.lang, meta.label"),
    ("rules:\n", "detectors:\n  group_disparity: {attributes: [language]}\nrules:\n",
     "spec.yaml, line 23, key 'detectors.group_disparity.attributes': attribute 'language' is not in run 'r'; "
     "attributes: input_length, is_refusal, label, lang, output_empty, output_length, rm_score, turn"),
]


@pytest.mark.parametrize("old,new,message", RUN_PROBLEMS, ids=["missing signal", "text signal", "rule field",
                                                               "label column", "detector attribute"])
def test_spec_problems_against_a_run(run, old, new, message):
    spec = parse_objective(BASE.replace(old, new, 1), source="spec.yaml")
    problems = check_against_run(spec, run, "r")
    assert [str(p) for p in problems] == [message]
    with pytest.raises(SpecError) as info:  # strict: the first problem is raised
        link(run, "r", spec, min_support=1)
    assert str(info.value) == message


def test_lenient_link_lists_problems_and_says_no_signal(run):
    spec = parse_objective(BASE.replace("{column: rm_score,", "{column: rm_helpfulness,"), source="spec.yaml")
    result = link(run, "r", spec, strict=False, min_support=1)
    assert len(result.problems) == 1 and "rm_helpfulness" in result.problems[0]
    assert set(result.cells["verdict"]) == {"no signal"}


def test_labels_from_a_log_column_count_as_modes(run):
    from analysis.objective.modes import mode_indicators

    spec = parse_objective(BASE.replace("rules:\n", "labels: [label]\nrules:\n", 1), source="spec.yaml")
    flags = mode_indicators(run, "r", spec)
    assert flags["hallucination"].tolist() == [False, True, False]
