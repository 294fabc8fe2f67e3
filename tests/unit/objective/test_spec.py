"""The objective spec: the demo's spec loads, and malformed specs fail with errors that name the line and the key."""

from __future__ import annotations

import json
import textwrap

import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from analysis.formats.validation import MAX_BYTES, MAX_VALUES
from analysis.objective.link import link
from analysis.objective.spec import (
    COMPONENT_KINDS,
    Component,
    DetectorsSpec,
    Objective,
    SpecError,
    check_against_run,
    load_objective,
    objective_json_schema,
    parse_objective,
)
from analysis.objective.taxonomy import DEFAULT_MODES, DETECTORS
from tests.conftest import ROOT

DEMO_SPEC = ROOT / "data" / "objective_demo.yaml"
SCHEMA = ROOT / "data" / "objective.schema.json"

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
    ("    serves: accuracy\n", "    serves: accuracy\n    weight: heavy\n",
     "spec.yaml, line 8, key 'components[0].weight': expected a number, got 'heavy'"),
    ("    serves: accuracy\n", "    serves: accuracy\n    weight: true\n",
     "spec.yaml, line 8, key 'components[0].weight': expected a number, got True"),
    ("    name: Helpfulness RM\n", "    name: [a, b]\n",
     "spec.yaml, line 4, key 'components[0].name': expected text, got a list"),
    ("    name: Helpfulness RM\n", "    name: '  '\n",
     "spec.yaml, line 4, key 'components[0].name': expected a non-empty text"),
    ("    name: Helpfulness RM\n", "    name:\n",
     "spec.yaml, line 4, key 'components[0].name': expected text, got nothing"),
    ("can_cause: [reward_hacking]", "can_cause: reward_hackin",
     "spec.yaml, line 10, key 'components[0].can_cause': names failure mode 'reward_hackin', which is neither a "
     "default mode nor one the spec adds; modes: hallucination, lack_of_robustness, goal_misgeneralization, bias, "
     "reward_hacking, harmful_compliance, over_refusal, miscalibration, wrong_law"),
    ("can_cause: [reward_hacking]", "can_cause: {a: 1}",
     "spec.yaml, line 10, key 'components[0].can_cause': expected a list, got a mapping"),
    ("    value_lock_in: bias\n", "    value_lock_in: Bias!\n",
     "spec.yaml, line 19, key 'modes.rename.value_lock_in': 'Bias!' is not a valid id: use lower-case letters, "
     "digits and _, starting with a letter"),
    ("    value_lock_in: bias\n", "    value_lock_in: {id: bias, colour: red}\n",
     "spec.yaml, line 19, key 'modes.rename.value_lock_in.colour': unknown key 'colour'; expected one of id, name, "
     "description, dimension"),
    ("    value_lock_in: bias\n", "    value_lock_in: {id: bias, dimension: kind}\n",
     "spec.yaml, line 19, key 'modes.rename.value_lock_in.dimension': unknown dimension 'kind'; expected one of "
     "helpful, harmless, honest, steerable"),
    ("dimension: honest}\n", "dimension: honest}\n    - {id: wrong_law, name: W, description: d, dimension: honest}\n",
     "spec.yaml, line 22, key 'modes.add[1].id': duplicate failure mode id 'wrong_law' (first at line 21)"),
    ("rules:\n", "detectors:\n  refusal: maybe\nrules:\n",
     "spec.yaml, line 23, key 'detectors.refusal': expected on, off or a mapping of settings, got 'maybe'"),
    ("rules:\n", "detectors:\n  refusal: {mode: sarcasm}\nrules:\n",
     "spec.yaml, line 23, key 'detectors.refusal.mode': names failure mode 'sarcasm', which is neither a default "
     "mode nor one the spec adds; modes: hallucination, lack_of_robustness, goal_misgeneralization, bias, "
     "reward_hacking, harmful_compliance, over_refusal, miscalibration, wrong_law"),
    ("rules:\n", "detectors:\n  long_output: {ratio: big}\nrules:\n",
     "spec.yaml, line 23, key 'detectors.long_output.ratio': expected a number, got 'big'"),
    ("rules:\n", "detectors:\n  long_output: {min_chars: many}\nrules:\n",
     "spec.yaml, line 23, key 'detectors.long_output.min_chars': expected a number, got 'many'"),
    ("    serves: accuracy\n", "    serves: accuracy\n    weight: .nan\n",
     "spec.yaml, line 8, key 'components[0].weight': expected a finite number, got nan"),
    ("rules:\n", "detectors:\n  long_output: {min_chars: .inf}\nrules:\n",
     "spec.yaml, line 23, key 'detectors.long_output.min_chars': expected a finite number, got inf"),
    ("rules:\n", "detectors: [a]\nrules:\n",
     "spec.yaml, line 22, key 'detectors': expected a mapping (key: value lines), got a list"),
    ("rules:\n", "labels: {a: 1}\nrules:\n",
     "spec.yaml, line 22, key 'labels': expected a list, got a mapping"),
    ('    when: not correct and output contains "according to"\n',
     '    when: not correct and output contains "according to"\n  - id: cites\n    mode: hallucination\n'
     '    when: correct\n',
     "spec.yaml, line 26, key 'rules[1].id': duplicate rule id 'cites' (first at line 23)"),
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


def test_detectors_on_off_and_settings():
    spec = parse_objective(BASE.replace("rules:\n", "detectors:\n  refusal: off\n  empty_output: null\n"
                                        "  long_output: on\n  paraphrase_disagreement: {group: item, mode: Bias}\n"
                                        "  group_disparity: {attributes: lang}\nrules:\n", 1))
    assert spec.detectors["refusal"] is None and spec.detectors["empty_output"] is None
    assert spec.detectors["long_output"] == {"mode": "reward_hacking", **DETECTORS["long_output"].params}
    assert spec.detectors["paraphrase_disagreement"] == {"mode": "bias", "group": "item"}  # a display name resolved
    assert spec.detectors["group_disparity"] == {"mode": "bias", "attributes": ["lang"]}  # a default mode renamed
    assert spec.detectors["multiple_choice_format"] == {"mode": "goal_misgeneralization", "field": None}


def test_detector_settings_models_are_the_taxonomys_detectors():
    assert list(DetectorsSpec.model_fields) == list(DETECTORS)
    defaults = DetectorsSpec()
    for name, detector in DETECTORS.items():
        settings = getattr(defaults, name)
        assert list(type(settings).model_fields) == ["mode", *detector.params]
        assert {k: getattr(settings, k) for k in detector.params} == \
            {k: tuple(v) if isinstance(v, list) else v for k, v in detector.params.items()}


def test_parts_built_in_code_are_validated_too():
    component = Component("rm", "RM", "reward_model", "why", "accuracy")
    assert component.signals == () and component.weight is None
    with pytest.raises(ValidationError, match="unknown component kind 'reward'"):
        Component("rm", "RM", "reward", "why", "accuracy")
    with pytest.raises(ValidationError, match="'Rm' is not a valid id"):
        Component("Rm", "RM", "reward_model", "why", "accuracy")


def test_lines_of_keys_the_file_abbreviates_fall_back_to_the_key_above():
    spec = parse_objective(BASE.replace("rules:\n", "labels: failure_label\nrules:\n", 1))
    assert spec.line("labels[0]") == spec.line("labels") == 22
    assert spec.line("components[0].signals[0].column") == 9 and spec.line("nope") is None


@pytest.mark.parametrize("text,message", [
    ("a: " + "x" * MAX_BYTES + "\n",
     f"spec.yaml: is {MAX_BYTES + 4} bytes, above the limit of {MAX_BYTES} bytes; expected a smaller file (the limit "
     "is set by FAULTLINE_MAX_SPEC_KB)"),
    ("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + "".join(
        f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcde", "bcdef")),
     f"spec.yaml: holds more than {MAX_VALUES} values once its YAML aliases (*name) are expanded; expected at most "
     f"{MAX_VALUES} (the limit is set by FAULTLINE_MAX_SPEC_VALUES)"),
    ("a: &a [*a]\n", "spec.yaml: is nested too deeply to read; expected a few levels of mappings and lists"),
], ids=["above 1 MiB", "billion laughs", "recursive alias"])
def test_oversized_specs_are_refused_with_the_limit(text, message):
    assert str(spec_error(text)) == message


def test_a_file_above_the_limit_is_refused_unread(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * MAX_BYTES + "\n")
    with pytest.raises(SpecError) as info:
        load_objective(big)
    assert str(info.value) == (f"big.yaml: is {MAX_BYTES + 3} bytes, above the limit of {MAX_BYTES} bytes; "
                               "expected a smaller file (the limit is set by FAULTLINE_MAX_SPEC_KB)")


def test_published_schema_is_the_models_schema():
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == objective_json_schema(), (
        "data/objective.schema.json is stale; rewrite it with: python -c 'import json; from analysis.objective.spec "
        "import objective_json_schema as s; open(\"data/objective.schema.json\", \"w\").write(json.dumps(s(), "
        "indent=2, ensure_ascii=False) + \"\\n\")'")


def test_demo_spec_names_the_schema_and_editors_would_accept_it():
    jsonschema = pytest.importorskip("jsonschema")
    assert DEMO_SPEC.read_text(encoding="utf-8").splitlines()[0] == "# yaml-language-server: $schema=objective.schema.json"
    schema = objective_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for text in (DEMO_SPEC.read_text(encoding="utf-8"), BASE):
        assert list(validator.iter_errors(yaml.safe_load(text))) == []
    broken = yaml.safe_load(BASE)
    broken["owner"] = "me"
    broken["components"][0]["kind"] = "reward"
    broken["components"][1]["id"] = "Data set"
    assert len(list(validator.iter_errors(broken))) == 3


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
