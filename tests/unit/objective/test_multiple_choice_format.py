"""The multiple-choice detector marks only answers that ignore the requested format (trial items: a one-word answer
and "The answer is B." were put in goal misgeneralization; "I would say the capital is Paris" was marked though the
input lists "B) Paris"; "E" was not marked though the input lists only A-D). An option letter in disguise ("Answer:
B", "B. Paris", "**B**", "The answer is (B)") names an option when the input lists that letter (any letter when it
lists no option); the text of exactly one listed option, as whole words in any case, names it too; the texts of
several options name none (ambiguous: marked, its why says "names several options"). A stem that enumerates its own
statements ("a) ... e)", MedMCQA-like) above its options ("A. ... D.") lists no option E: the options are the lines
from the last that lists option A.

The engine's marks (SQL, RE2) are checked against an independent reading of that documented rule in pure Python
(:func:`reading`: lines parsed by hand, words by Python's ``re``) over a table of hand-written cases and over every
real multiple-choice fixture; the share test (is the run multiple choice?) uses the same reading; the example's "why"
says what the detector saw."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis import open_store
from analysis.objective.modes import MULTIPLE_CHOICE_SHARE, OPTION_LETTER_PATTERN, compile_modes, mode_indicators
from analysis.sql.modes import option_letter_share_sql
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


#: A line of the input that lists an option, as the docstring of analysis.sql.modes.OPTION_LINE documents it.
LABEL = re.compile(r"[*_]*[(\[]?([A-Ja-j])[)\].][*_]*[ \t]+(\S.*)", re.DOTALL)


def listed_options(text) -> dict[str, str]:
    """Option letter -> its text, from the input's lines ``B) Paris`` (first line of a letter wins), parsed by hand;
    of an input that lists option A on two lines or more (a stem that enumerates its own items "a) ... e)" above
    its options "A. ... D."), only the lines from the last that lists A."""
    options: dict[str, str] = {}
    lines = ("" if text is None or text != text else str(text)).split("\n")
    starts = [i for i, line in enumerate(lines)
              if (m := LABEL.match(line.lstrip(" \t"))) and m.group(1).upper() == "A"]
    for line in lines[starts[-1]:] if len(starts) >= 2 else lines:
        match = LABEL.match(line.lstrip(" \t"))
        if match and match.group(1).upper() not in options:
            options[match.group(1).upper()] = match.group(2)
    return options


def words(text: str) -> str:
    """The text's words (letters and digits), lower case, one space between and around them."""
    return " " + " ".join(re.findall(r"[^\W_]+", text.lower())) + " "


def reading(answer, listed) -> tuple[bool, str]:
    """Whether the answer names an option (the documented rule) and, when it names none, what was seen."""
    nothing = "no single option letter or option text found"
    if answer is None or answer != answer:
        return False, nothing
    answer = str(answer)
    options = listed_options(listed)
    found = LETTER.search(answer)
    if not options:
        return (True, "") if found else (False, nothing)
    letter = next(g for g in found.groups() if g).upper() if found else ""
    hits = [x for x, text in sorted(options.items()) if words(text).strip() and words(text) in words(answer)]
    if letter in options or len(hits) == 1:
        return True, ""
    if letter:
        return False, f"the letter {letter}, which the input does not list; it lists {', '.join(sorted(options))}"
    if len(hits) >= 2:
        return False, f"names several options, {', '.join(hits)}"
    return False, nothing


def why_text(answer, seen) -> str:
    shown = "(no answer)" if answer is None or answer != answer else f'"{str(answer)[:80]}"'
    return f"detector:multiple_choice_format (the answer {shown}: {seen})"


def independent(frame: pd.DataFrame, column: str) -> set[str]:
    """Example ids the detector should mark, read in pure Python: a multiple-choice run (most answers or references
    name an option), a wrong answer that names no option."""
    scored = frame[~frame["unscorable"].astype(bool) & frame[column].notna()]
    answers = [reading(a, i)[0] for a, i in zip(scored[column], scored["input"])]
    references = [reading(r, i)[0] for r, i in zip(scored["reference"], scored["input"])]
    share = max(sum(answers) / max(len(answers), 1), sum(references) / max(len(references), 1))
    if not share >= MULTIPLE_CHOICE_SHARE:
        return set()
    wrong = frame[(frame["correct"] == False) & ~frame["unscorable"].astype(bool)]  # noqa: E712 - a column
    names = [reading(a, i)[0] for a, i in zip(wrong[column], wrong["input"])]
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
    assert {outputs[i] for i in expected} >= {"answer is: E", "K"}  # letters the input does not list
    why = got.set_index("example_id")[f"why.{MODE}"]
    the = next(i for i in expected if outputs[i] == "The")
    assert why[the] == ('detector:multiple_choice_format (the answer "The": no single option letter or option text '
                        'found)')


MEDMCQA = REAL / "openai_evals" / "early_2023"
REAL_MC = [HELM_BBQ, REAL / "helm" / "mixed_splits", REAL / "lighteval" / "synthetic_mcq",
           REAL / "inspect" / "mmlu-summary-choices.eval", REAL / "lm_eval" / "v0.4.2_array",
           REAL / "lm_eval" / "partial_limit10", REAL / "lm_eval" / "samples_bbq_local_2026-11-22T14-06-03.710369.jsonl",
           MEDMCQA]


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
            rows = examples.set_index("example_id")
            for example_id, why in zip(got["example_id"], got[f"why.{MODE}"]):
                answer, listed = rows.loc[example_id, column], rows.loc[example_id, "input"]
                assert why == why_text(answer, reading(answer, listed)[1])


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


def test_medmcqa_reads_as_multiple_choice(store, real_logs):
    """OpenAI evals' MedMCQA lists options as "a) text" and the model answers "b) Clostridia": before, no answer read
    as an option letter (only upper-case letters led an option's text), so the run did not read as multiple choice
    and the detector was off. Now most answers name an option (by letter or text), the detector is on, and it marks
    the answers that name none, an option the input does not list ("e) Glucose" of a-d) among them."""
    run = store.ingest(MEDMCQA).added[0].run_id
    examples = store.examples(run)
    answers = [reading(a, i)[0] for a, i in zip(examples["output"], examples["input"])]
    assert sum(answers) / len(answers) >= MULTIPLE_CHOICE_SHARE
    got = marked(store, run)
    assert set(got["example_id"].astype(str)) == independent(examples, "output") != set()
    assert any("which the input does not list" in w for w in got[f"why.{MODE}"])


#: The capital question with four options, three in brackets (lower case), and none.
FOUR = "Which city is the capital of France?\nA) Rome\nB) Paris\nC) Berlin\nD) Madrid"
THREE = "Which city is the capital of Germany?\n\n(a) Rome\n(b) Paris\n(c) Berlin"
YORK = "Where was the meeting?\nA. New York\nB. York\nC. Boston"
NONE = "Which city is the capital of France? Answer with the letter of the right option."
#: A MedMCQA-like question whose stem enumerates its own statements a) to e) above its options A to D: the stem's
#: "e)" lists no option E, its statements are the question's text.
STEM = ("Subject: Pharmacology\n\nWhich of the following are true of amiodarone?\na) It prolongs the QT interval\n"
        "b) It causes pulmonary fibrosis\nc) It is renally excreted\nd) It causes hypothyroidism\n"
        "e) It has a short half-life\n\nA. a, b, d\nB. b, c, e\nC. a, c, d\nD. all of the above")

#: Hand-written cases: (input, answer, marked?, what the why says after "the answer ...: ").
CASES = [
    (FOUR, "B", False, ""), (FOUR, "(b)", False, ""), (FOUR, "Answer: B", False, ""), (FOUR, "**B.** Paris", False, ""),
    (FOUR, "b) Paris", False, ""), (FOUR, "B) Rome", False, ""),  # a listed letter names its option
    (FOUR, "Paris", False, ""), (FOUR, "paris.", False, ""),  # the option's text alone
    (FOUR, "I would say the capital is Paris", False, ""),  # in a sentence
    (FOUR, "E) Paris", False, ""),  # an unlisted letter, but the text of one option
    (FOUR, "Parisian cafés", True, "no single option letter or option text found"),  # not as whole words
    (FOUR, "Paris or Rome, I am not sure", True, "names several options, A, B"),
    (FOUR, "E", True, "the letter E, which the input does not list; it lists A, B, C, D"),
    (FOUR, "The answer is E.", True, "the letter E, which the input does not list; it lists A, B, C, D"),
    (FOUR, "I cannot answer that.", True, "no single option letter or option text found"),
    (FOUR, "", True, "no single option letter or option text found"),
    (FOUR, "Answer: a, c", True, "no single option letter or option text found"),  # two letters: no single option
    (THREE, "C", False, ""), (THREE, "the answer is berlin", False, ""),
    (THREE, "D", True, "the letter D, which the input does not list; it lists A, B, C"),
    (YORK, "Boston", False, ""), (YORK, "B", False, ""),
    (YORK, "New York", True, "names several options, A, B"),  # "York" is inside "New York": ambiguous, documented
    (NONE, "B", False, ""), (NONE, "The answer is (C)", False, ""),  # no option listed: any letter
    (NONE, "Paris", True, "no single option letter or option text found"), (NONE, "K", True,
                                                                       "no single option letter or option text found"),
    (STEM, "A", False, ""), (STEM, "Answer: D", False, ""), (STEM, "all of the above", False, ""),  # the options
    (STEM, "E", True, "the letter E, which the input does not list; it lists A, B, C, D"),  # the stem's e) is text
    (STEM, "e) It has a short half-life", True, "the letter E, which the input does not list; it lists A, B, C, D"),
    (STEM, "It has a short half-life", True, "no single option letter or option text found"),  # a statement, no option
]


@pytest.mark.parametrize(("listed", "answer", "is_marked", "seen"), CASES)
def test_the_independent_reading_is_the_documented_rule(listed, answer, is_marked, seen):
    assert reading(answer, listed) == (not is_marked, seen)


def test_hand_written_cases_sql_against_the_independent_reading(store):
    frame = pd.DataFrame({"prompt": [c[0] for c in CASES], "response": [c[1] for c in CASES],
                          "gold": ["Z"] * len(CASES), "correct": [False] * len(CASES)})
    store.ingest_frame(frame, name="cases")
    examples = store.examples("cases").set_index("example_id")
    got = marked(store, "cases").set_index("example_id")[f"why.{MODE}"]
    expected = {i for i, r in examples.iterrows() if not reading(r["output"], r["input"])[0]}
    assert set(got.index) == expected and expected
    assert expected == {i for i, r in examples.iterrows()
                        if next(c[2] for c in CASES if c[0] == r["input"] and c[1] == (r["output"] or ""))}
    for example_id, why in got.items():
        answer, listed = examples.loc[example_id, "output"], examples.loc[example_id, "input"]
        assert why == why_text(answer, reading(answer, listed)[1])


def test_the_share_test_uses_the_same_reading(store):
    """Answers that name an option only by its text make a run multiple choice; letters the input does not list
    do not (the share test and the detector read answers alike)."""
    texts = pd.DataFrame({"prompt": [FOUR] * 10, "response": ["Paris", "I think Rome"] * 5,
                          "gold": ["Paris"] * 10, "correct": [True, False] * 5})
    store.ingest_frame(texts, name="texts")
    assert store.cursor().execute(*option_letter_share_sql(store.run("texts").table_name, "output", [],
                                                           OPTION_LETTER_PATTERN)).fetchall()[0] == (1.0, 1.0)
    letters = pd.DataFrame({"prompt": [FOUR] * 10, "response": ["F", "G"] * 5, "gold": ["H"] * 10,
                            "correct": [False] * 10})
    store.ingest_frame(letters, name="letters")
    assert store.cursor().execute(*option_letter_share_sql(store.run("letters").table_name, "output", [],
                                                           OPTION_LETTER_PATTERN)).fetchall()[0] == (0.0, 0.0)
    assert marked(store, "letters").empty  # not a multiple-choice run: the detector has nothing to say
