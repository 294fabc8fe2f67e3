"""MT-Bench judgments as FastChat's ``llm_judge`` writes them (``model_judgment/*.jsonl``).

Two layouts, one JSON object per line:

- **pairwise** (``gen_judgment.py --mode pairwise-baseline | pairwise-all``, ``gpt-4_pair.jsonl``):
  ``question_id, model_1, model_2, g1_winner, g2_winner, judge [model, prompt], g1_user_prompt,
  g1_judgment, g2_user_prompt, g2_judgment, turn, tstamp``. ``g1`` is the judgment with
  ``model_1`` shown first, ``g2`` with the order swapped; both verdicts name ``model_1``,
  ``model_2``, ``tie`` or ``error``. FastChat's rule (``show_result.py``): a row with an
  ``error`` verdict is dropped; a tie, or two verdicts that disagree (position-inconsistent),
  is a tie; otherwise the winner wins. Per model: score 1 win, 0.5 tie, 0 loss, whose mean
  is FastChat's ``win_rate_adjusted``; an ``error`` row is kept, unscorable.
- **single answer** (``--mode single``, ``gpt-4_single.jsonl``): ``question_id, model, judge,
  user_prompt, judgment, score, turn, tstamp``; ``score`` is the judge's 1-10 rating, ``-1``
  when the judgment held no parseable ``[[rating]]`` (FastChat drops those).

One run per model. The judge (``judge[0]``) and its prompt (``judge[1]``) are metadata, never
a rater of the model. The model's answer is read back from the judge prompt (FastChat's
templates put it between ``[The Start of Assistant's Answer]`` markers). When
``question.jsonl`` lies beside the file (or one folder up, FastChat's ``data/<bench>/``), the
question's ``category`` becomes metadata and its turn text and reference answer the input
and reference. FastChat keeps no aggregate on disk, so nothing is reported (``[]``).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from analysis.errors import InputError

from ._records import expect, rows_to_frame
from .base import PAIRWISE_THRESHOLD, PAIRWISE_THRESHOLD_SOURCE, SourceRun, iter_jsonl

_VERDICTS = ("model_1", "model_2", "tie", "error")
#: FastChat's single-answer judge gives no rating: the line's score is -1.
NO_RATING = -1
#: Correct = rating >= this (the middle of the judge's 1-10 scale); FastChat sets no pass mark.
SINGLE_THRESHOLD = 5.5
NO_QUESTIONS = (" No question.jsonl beside the file: no categories; questions and references read from the judge "
                "prompts.")


def question_file(path: Path) -> Path | None:
    """FastChat's ``question.jsonl`` beside the judgments, or in the benchmark folder above them."""
    for folder in (path.parent, path.parent.parent):
        candidate = folder / "question.jsonl"
        if candidate.is_file():
            return candidate
    return None


def read_questions(path: Path | None) -> dict[str, dict]:
    """The MT-Bench questions by id (``category``, ``turns``, ``reference``); empty without a file."""
    if path is None:
        return {}
    out = {}
    for _, rec in iter_jsonl(path):
        if "question_id" in rec:
            out[str(rec["question_id"])] = rec
    return out


def answer_in_prompt(prompt: str | None, who: str) -> str | None:
    """The answer of ``Assistant``/``Assistant A``/``Assistant B`` that a FastChat judge prompt shows.

    Single-turn templates hold it between ``[The Start of {who}'s Answer]`` and
    ``[The End of {who}'s Answer]``; multi-turn ones hold a conversation whose last
    ``### {who}:`` turn is the answer judged.

    >>> answer_in_prompt("[Question]\\nHi?\\n\\n[The Start of Assistant's Answer]\\nHello.\\n"
    ...                  "[The End of Assistant's Answer]", "Assistant")
    'Hello.'
    >>> conv = ("<|The Start of Assistant A's Conversation with User|>\\n\\n### User:\\nQ1\\n\\n### Assistant A:\\n"
    ...         "A1\\n\\n### User:\\nQ2\\n\\n### Assistant A:\\nA2\\n\\n<|The End of Assistant A's Conversation with User|>")
    >>> answer_in_prompt(conv, "Assistant A")
    'A2'
    """
    if not prompt:
        return None
    found = re.search(rf"\[The Start of {who}'s Answer\]\n(.*?)\n?\[The End of {who}'s Answer\]", prompt, re.DOTALL)
    if found:
        return found.group(1).strip()
    label = "Assistant A" if who == "Assistant" else who
    conv = re.search(rf"<\|The Start of {label}'s Conversation with User\|>(.*?)<\|The End of {label}'s "
                     r"Conversation with User\|>", prompt, re.DOTALL)
    if conv and f"### {label}:" in conv.group(1):
        return conv.group(1).rsplit(f"### {label}:", 1)[1].strip()
    return None


def question_in_prompt(prompt: str | None) -> tuple[str | None, str | None]:
    """The user question (of the turn judged) and the reference answer a FastChat judge prompt shows.

    >>> question_in_prompt("[Question]\\nHow many?\\n\\n[The Start of Reference Answer]\\nTwo.\\n"
    ...                    "[The End of Reference Answer]\\n\\n[The Start of Assistant's Answer]\\n2\\n")
    ('How many?', 'Two.')
    """
    if not prompt:
        return None, None
    question = reference = None
    found = re.search(r"\[(?:User )?Question\]\n(.*?)\n\n\[The Start of ", prompt, re.DOTALL)
    if found:
        question = found.group(1).strip()
    else:
        turns = re.findall(r"### User:\n(.*?)\n\n### Assistant A:", prompt, re.DOTALL)
        question = turns[-1].strip() if turns else None
    found = re.search(r"\[The Start of Reference Answer\]\n(.*?)\n?\[The End of Reference Answer\]", prompt,
                      re.DOTALL)
    if found:
        reference = found.group(1).strip()
    else:
        block = re.search(r"<\|The Start of Reference Answer\|>(.*?)<\|The End of Reference Answer\|>", prompt,
                          re.DOTALL)
        refs = block.group(1).split("### Reference answer:") if block else []
        reference = refs[-1].split("### User:")[0].strip() if len(refs) > 1 else None
    return question, reference


def _question_fields(questions: dict[str, dict], qid: str, turn: int, prompt: str | None) -> dict:
    """Input, reference and category of a judged turn: from question.jsonl, else from the judge prompt."""
    q = questions.get(qid) or {}
    turns = q.get("turns") or []
    refs = q.get("reference") or []
    fields = {"input": turns[turn - 1] if 0 < turn <= len(turns) else None,
              "reference": refs[turn - 1] if 0 < turn <= len(refs) else None,
              "category": q.get("category")}
    if fields["input"] is None or (fields["reference"] is None and not q):
        question, reference = question_in_prompt(prompt)
        fields["input"] = fields["input"] or question
        fields["reference"] = fields["reference"] or reference
    return fields


def _judge(rec: dict) -> tuple[str | None, str | None]:
    judge = rec.get("judge")
    if isinstance(judge, list):
        return (str(judge[0]) if judge else None), (str(judge[1]) if len(judge) > 1 else None)
    return (str(judge) if judge is not None else None), None


def _turn(path: Path, lineno: int, rec: dict) -> int:
    turn = rec.get("turn", 1)
    if isinstance(turn, bool) or not isinstance(turn, int):
        raise InputError(path, f"expected a turn number (1 or 2), got {turn!r}", record=f"line {lineno}", field="turn")
    return turn


def _number_ids(rows: list[dict], key: str = "example_id") -> int:
    """Make ids unique (``#2``... for a repeated judgment); returns how many were repeats."""
    seen: Counter = Counter()
    repeats = 0
    for row in rows:
        seen[row[key]] += 1
        if seen[row[key]] > 1:
            repeats += 1
            row[key] = f"{row[key]}#{seen[row[key]]}"
    return repeats


def pairwise_outcome(g1: str, g2: str) -> str:
    """FastChat's verdict for a pair of judgments: ``model_1``, ``model_2``, ``tie`` or ``error``.

    >>> pairwise_outcome("model_1", "model_1"), pairwise_outcome("model_1", "model_2")
    ('model_1', 'tie')
    >>> pairwise_outcome("tie", "tie"), pairwise_outcome("model_1", "error")
    ('tie', 'error')
    """
    if g1 == "error" or g2 == "error":
        return "error"
    if g1 == "tie" or g1 != g2:
        return "tie"
    return g1


def read_mtbench_pairwise(path: Path) -> list[SourceRun]:
    """The runs in FastChat pairwise judgments: one per model, its matches scored 1 / 0.5 / 0.

    Parameters
    ----------
    path : Path
        A ``*_pair.jsonl`` judgment file.

    Returns
    -------
    list of SourceRun
        One run per model (in ``pairwise-baseline`` mode, where one model meets every
        other, that baseline gets no run of its own), with the opponent as ``baseline``
        when there is one.

    Raises
    ------
    InputError
        When a line lacks the pair's models or verdicts, or a verdict is not one FastChat writes.
    """
    qfile = question_file(path)
    questions = read_questions(qfile)
    matches = []
    for lineno, rec in iter_jsonl(path):
        for key in ("question_id", "model_1", "model_2", "g1_winner", "g2_winner"):
            if key not in rec:
                raise InputError(path, f"expected a FastChat pairwise judgment with {key!r}", record=f"line {lineno}",
                                 field=key)
        for key in ("g1_winner", "g2_winner"):
            if rec[key] not in _VERDICTS:
                raise InputError(path, f"expected one of {', '.join(_VERDICTS)}, got {rec[key]!r}",
                                 record=f"line {lineno}", field=key)
        matches.append((lineno, rec))
    if not matches:
        raise InputError(path, "is empty: expected FastChat pairwise judgments, one per line")
    models = sorted({str(r[k]) for _, r in matches for k in ("model_1", "model_2")})
    in_every = [m for m in models if all(m in (str(r["model_1"]), str(r["model_2"])) for _, r in matches)]
    fixed_baseline = in_every[0] if len(in_every) == 1 and len(models) > 2 else None
    runs = []
    for model in models:
        if model == fixed_baseline:
            continue
        rows = []
        for lineno, rec in matches:
            m1, m2 = str(rec["model_1"]), str(rec["model_2"])
            if model not in (m1, m2):
                continue
            side, other = ("model_1", m2) if model == m1 else ("model_2", m1)
            letter, other_letter = ("A", "B") if side == "model_1" else ("B", "A")
            verdict = pairwise_outcome(rec["g1_winner"], rec["g2_winner"])
            score = None if verdict == "error" else 0.5 if verdict == "tie" else 1.0 if verdict == side else 0.0
            outcome = {None: "error", 0.5: "tie", 1.0: "win", 0.0: "loss"}[score]
            qid = str(rec["question_id"])
            turn = _turn(path, lineno, rec)
            judge, prompt = _judge(rec)
            user_prompt = expect(rec.get("g1_user_prompt"), str, path, f"line {lineno}", "g1_user_prompt")
            fields = _question_fields(questions, qid, turn, user_prompt)
            rows.append({
                "example_id": f"{qid}/turn{turn}", "__qid": qid, "__turn": turn, "baseline": other,
                "input": fields["input"], "output": answer_in_prompt(user_prompt, f"Assistant {letter}"),
                "reference": fields["reference"], "win": score, "outcome": outcome,
                "position_consistent": None if verdict == "error" else rec["g1_winner"] == rec["g2_winner"],
                "g1_winner": _side_word(rec["g1_winner"], side), "g2_winner": _side_word(rec["g2_winner"], side),
                "baseline_output": answer_in_prompt(user_prompt, f"Assistant {other_letter}"),
                "category": fields["category"], "turn": turn, "question_id": qid,
                "judge": judge, "judge_prompt": prompt,
                "g1_judgment": rec.get("g1_judgment"), "g2_judgment": rec.get("g2_judgment"), "__line": lineno})
        opponents = sorted({r["baseline"] for r in rows})
        if len(opponents) > 1:
            for row in rows:
                row["example_id"] += f"/{row['baseline']}"
        repeats = _number_ids(rows)
        frame = rows_to_frame([{k: v for k, v in r.items() if k not in ("__qid", "__turn")} for r in rows],
                              order=["example_id", "input", "output", "reference", "win", "outcome"])
        if len(opponents) == 1:
            frame = frame.drop(columns=["baseline"])
        frame = frame.dropna(axis=1, how="all")
        roles = {c: "metadata" for c in frame.columns}
        roles.update({"example_id": "id", "input": "input", "output": "output", "reference": "reference",
                      "win": "score", "__line": "source_row",
                      # the judge's verdict in each order is a rater's (their agreement is position consistency);
                      # the outcome word is the score itself: neither is an attribute to slice by
                      "g1_winner": "rater", "g2_winner": "rater", "outcome": "ignore"})
        roles = {c: r for c, r in roles.items() if c in frame.columns}
        if "win" not in frame.columns:  # every judgment an error
            frame["win"] = float("nan")
            roles["win"] = "score"
        baseline = opponents[0] if len(opponents) == 1 else None
        counts = Counter(r["outcome"] for r in rows)
        notes = (f"MT-Bench pairwise judgments (FastChat) of {model} against {', '.join(opponents)}. "
                 "Score = win: 1 win, 0.5 tie, 0 loss, by FastChat's rule (show_result.py): a tie, or two verdicts "
                 "that disagree when the answers' order is swapped, is a tie; a judgment with an error is dropped "
                 "(kept here, unscorable). Its mean is FastChat's win_rate_adjusted. Correct = win >= 0.5: an error "
                 f"is a loss. {counts['win']} wins, {counts['loss']} losses, {counts['tie']} ties, "
                 f"{counts['error']} errors. FastChat keeps no aggregate on disk: no reported figure."
                 + (f" {repeats} repeated judgments numbered #2..." if repeats else "")
                 + ("" if qfile else NO_QUESTIONS))
        runs.append(SourceRun(
            "mtbench_pairwise", [path] + ([qfile] if qfile else []), f"MT-Bench pairwise · {model}"
            + (f" vs {baseline}" if baseline else ""), model=model, task="mt_bench", sub_key=model, frame=frame,
            roles=roles, record_label="line", identity_files=1, tool="MT-Bench", reported=[], baseline=baseline,
            threshold=PAIRWISE_THRESHOLD, threshold_source=PAIRWISE_THRESHOLD_SOURCE,
            notes=notes))
    return runs


def _side_word(verdict: str, side: str) -> str:
    """A verdict seen from one model: ``win``, ``loss``, ``tie`` or ``error``."""
    if verdict in ("tie", "error"):
        return verdict
    return "win" if verdict == side else "loss"


def read_mtbench_single(path: Path) -> list[SourceRun]:
    """The runs in FastChat single-answer judgments: one per model, the judge's 1-10 rating as score.

    Parameters
    ----------
    path : Path
        A ``*_single.jsonl`` judgment file.

    Returns
    -------
    list of SourceRun
        One run per model; ``missing_values`` marks the rating ``-1`` (no rating) as not
        scored; correct = rating >= 5.5, the middle of the scale (FastChat sets no pass mark).

    Raises
    ------
    InputError
        When a line lacks the model or score, or a score is not a number.
    """
    qfile = question_file(path)
    questions = read_questions(qfile)
    by_model: dict[str, list[dict]] = {}
    for lineno, rec in iter_jsonl(path):
        for key in ("question_id", "model", "score"):
            if key not in rec:
                raise InputError(path, f"expected a FastChat single-answer judgment with {key!r}",
                                 record=f"line {lineno}", field=key)
        score = rec["score"]
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise InputError(path, f"expected a rating from 1 to 10 (or -1), got {score!r}", record=f"line {lineno}",
                             field="score")
        qid = str(rec["question_id"])
        turn = _turn(path, lineno, rec)
        judge, prompt = _judge(rec)
        user_prompt = expect(rec.get("user_prompt"), str, path, f"line {lineno}", "user_prompt")
        fields = _question_fields(questions, qid, turn, user_prompt)
        by_model.setdefault(str(rec["model"]), []).append({
            "example_id": f"{qid}/turn{turn}", "input": fields["input"],
            "output": answer_in_prompt(user_prompt, "Assistant"), "reference": fields["reference"],
            "score": score, "category": fields["category"], "turn": turn, "question_id": qid,
            "judge": judge, "judge_prompt": prompt, "judgment": rec.get("judgment"), "__line": lineno})
    if not by_model:
        raise InputError(path, "is empty: expected FastChat single-answer judgments, one per line")
    runs = []
    for model, rows in by_model.items():
        repeats = _number_ids(rows)
        frame = rows_to_frame(rows, order=["example_id", "input", "output", "reference", "score"])
        frame["score"] = frame["score"].astype("float64")
        frame = frame.dropna(axis=1, how="all")
        roles = {c: "metadata" for c in frame.columns}
        roles.update({"example_id": "id", "input": "input", "output": "output", "reference": "reference",
                      "score": "score", "__line": "source_row"})
        roles = {c: r for c, r in roles.items() if c in frame.columns}
        rated = [r["score"] for r in rows if r["score"] != NO_RATING]
        mean = f"{sum(rated) / len(rated):.4f}" if rated else "none"
        notes = (f"MT-Bench single-answer judgments (FastChat) of {model}: score = the judge's rating (1-10); "
                 f"-1 (no parseable [[rating]]) is not scored: {len(rows) - len(rated)} of {len(rows)}. "
                 f"FastChat's figure is the mean rating over the rated answers ({mean} here); it keeps no aggregate "
                 f"on disk: no reported figure. Correct = rating >= {SINGLE_THRESHOLD} (the middle of the scale; "
                 "FastChat sets no pass mark)."
                 + (f" {repeats} repeated judgments numbered #2..." if repeats else "")
                 + ("" if qfile else NO_QUESTIONS))
        runs.append(SourceRun(
            "mtbench_single", [path] + ([qfile] if qfile else []), f"MT-Bench single · {model}", model=model,
            task="mt_bench", sub_key=model, frame=frame, roles=roles, record_label="line", identity_files=1,
            tool="MT-Bench", reported=[], missing_values={"score": [NO_RATING]}, threshold=SINGLE_THRESHOLD,
            threshold_source="the middle of MT-Bench's 1-10 rating scale (FastChat sets no pass mark)",
            notes=notes))
    return runs
