"""The multiple-choice detector marks only answers that ignore the requested format (trial item: a one-word answer
and "The answer is B." were put in goal misgeneralization). An option letter in disguise ("Answer: B", "B. Paris",
"**B**", "The answer is (B)") names an option; so does the text of an option the input lists (at most a format slip).
The engine's marks (SQL, RE2) are checked against an independent count in pandas with Python's ``re``, on generated
answers and on every real multiple-choice fixture; the example's "why" says what the detector saw."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis import open_store
from analysis.objective.modes import MULTIPLE_CHOICE_SHARE, OPTION_LETTER_PATTERN, compile_modes, mode_indicators
from tests.conftest import HELM_BBQ, REAL

MODE = "goal_misgeneralization"
LETTER = re.compile(OPTION_LETTER_PATTERN)

#: Answers an auditor reads as naming an option by its letter (True) or not (False).
JUDGED = [
    ("B", True), ("(b)", True), ("C.", True), (" D) ", True), ("**B**", True), ("[C]", True),
    ("B. Paris", True), ("(B) Paris", True), ("B) Paris", True), ("**B.** Paris", True), ("**B** Paris", True),
    ("Answer: B", True), ("The answer is (B)", True), ("ANSWER: C", True), ("**Answer:** D", True),
    ("The answer is A.", True), ("the correct option is C", True), ("answer is: E", True),
    ("The", False), ("Paris", False), ("I cannot answer that.", False), ("", False), ("A cat sat on the mat.", False),
    ("The answer is Alice.", False), ("K", False), ("Banana", False), ("none of these", False),
]


@pytest.mark.parametrize(("answer", "names_an_option"), JUDGED)
def test_the_one_pattern_reads_letters_in_disguise_as_letters(answer, names_an_option):
    assert bool(LETTER.search(answer)) is names_an_option


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "mc.duckdb", seed_demo=False)
    yield s
    s.close()


def option_text(answer, listed) -> bool:
    """The answer is the text of an option the input lists after its label ("X) text" / "X. text")."""
    if answer is None or listed is None or not str(answer).strip():
        return False
    lines = "\n" + str(listed).lower() + "\n"
    text = str(answer).strip().lower()
    return f") {text}\n" in lines or f". {text}\n" in lines


def independent(frame: pd.DataFrame, column: str) -> set[str]:
    """Example ids the detector should mark, counted in pandas with Python's re: a multiple-choice run (most answers
    or references name an option letter), a wrong answer that names no option by letter nor by its text."""
    scored = frame[~frame["unscorable"].astype(bool) & frame[column].notna()]
    share = max(scored[column].astype(str).map(lambda a: bool(LETTER.search(a))).mean(),
                scored["reference"].astype(str).map(lambda a: bool(LETTER.search(a))).mean())
    if not share >= MULTIPLE_CHOICE_SHARE:
        return set()
    wrong = frame[(frame["correct"] == False) & ~frame["unscorable"].astype(bool)]  # noqa: E712 - a column
    names = [a is not None and a == a and (bool(LETTER.search(str(a))) or option_text(a, i))
             for a, i in zip(wrong[column], wrong["input"])]
    return set(wrong.loc[[not n for n in names], "example_id"].astype(str))


def marked(store, run) -> pd.DataFrame:
    flags = mode_indicators(store, run, with_why=True)
    return flags[flags[MODE]]


def test_generated_answers_are_marked_only_when_they_name_no_option(store):
    options = "Which city is the capital of France?\nA) Rome\nB) Paris\nC) Berlin\nD) Madrid"
    answers = [a for a, _ in JUDGED] + ["Rome", "berlin", "Madrid.", "B"] * 3 + ["C"] * 20
    frame = pd.DataFrame({"prompt": [options] * len(answers), "response": answers,
                          "gold": ["B"] * len(answers)})
    frame["correct"] = frame["response"].str.strip() == "B"
    store.ingest_frame(frame, name="gen")
    examples = store.examples("gen")
    expected = independent(examples, "output")
    assert expected  # the test can fail: some answers name no option
    got = marked(store, "gen")
    assert set(got["example_id"].astype(str)) == expected
    outputs = examples.set_index("example_id")["output"]
    assert {outputs[i] for i in expected} >= {"The", "I cannot answer that.", "A cat sat on the mat."}
    assert not {outputs[i] for i in expected} & {"Rome", "berlin", "Answer: B", "The answer is A."}  # named options
    why = got.set_index("example_id")[f"why.{MODE}"]
    the = next(i for i in expected if outputs[i] == "The")
    assert why[the] == ('detector:multiple_choice_format (the answer "The": no option letter or option text '
                        'found)')


REAL_MC = [HELM_BBQ, REAL / "helm" / "mixed_splits", REAL / "lighteval" / "synthetic_mcq",
           REAL / "inspect" / "mmlu-summary-choices.eval", REAL / "lm_eval" / "v0.4.2_array",
           REAL / "lm_eval" / "partial_limit10", REAL / "lm_eval" / "samples_bbq_local_2026-11-22T14-06-03.710369.jsonl"]


@pytest.mark.parametrize("path", REAL_MC, ids=lambda p: p.name)
def test_real_multiple_choice_logs_against_an_independent_count(store, real_logs, path):
    if not path.exists():
        pytest.skip(f"{path.name} is not among the fixtures")
    for run in store.ingest(path).added:
        examples = store.examples(run.run_id)
        compiled = compile_modes(store, run.run_id)
        fields = set(examples.columns)
        column = "meta.raw_output" if "meta.raw_output" in fields else "output"
        expected = independent(examples, column)
        got = marked(store, run.run_id)
        mc = [s for s in compiled.sources[MODE] if s.name == "detector:multiple_choice_format"]
        assert set(got["example_id"].astype(str)) == expected, run.name
        if expected:
            assert mc
            answers = examples.set_index("example_id")[column]
            for example_id, why in zip(got["example_id"], got[f"why.{MODE}"]):
                assert f'the answer "{str(answers[example_id])[:80]}"' in why and "no option letter" in why


def test_the_trials_cases_on_the_real_logs(store, real_logs):
    """HELM's Llama answered "The" (one token, HELM's limit) where a letter was asked: no option named, marked, and
    its why says so; lighteval's "The answer is A." names option A: not marked."""
    store.ingest(HELM_BBQ)
    llama = store.run("bbq · meta/llama-3-8b-chat").run_id
    got = marked(store, llama)
    assert len(got) == 14 and all('the answer "The"' in w for w in got[f"why.{MODE}"])
    lighteval = store.ingest(REAL / "lighteval" / "synthetic_mcq").added[0].run_id
    wrong = store.examples(lighteval)
    assert (wrong["correct"] == False).sum() >= 5  # noqa: E712 - wrong answers exist, none is marked
    assert marked(store, lighteval).empty
