"""AlpacaEval annotations (``annotations.json``): pairwise preferences against a baseline.

``alpaca_eval`` writes one record per instruction: ``instruction``, ``output_1`` by
``generator_1`` (the baseline, AlpacaEval's *reference outputs*), ``output_2`` by
``generator_2`` (the model under test), the ``annotator`` (the judge configuration),
``dataset`` and ``preference``: 1 when the baseline's output is preferred, 2 when the
model's is, 1.5 (or 0 in early versions) a draw; weighted annotators (AlpacaEval 2.0)
write a continuous preference in [1, 2] from the judge's log-probabilities.

AlpacaEval's own figures (``alpaca_eval.metrics``), read per example:

- ``win`` = preference - 1, in [0, 1]: the run's **win rate** (the leaderboard's
  ``win_rate``, in percent there) is its mean. This is the primary score.
- ``discrete_win`` = 1 (preference > 1.5, a win), 0.5 (= 1.5, a draw), 0 (< 1.5, a loss):
  its mean is ``discrete_win_rate``; the counts are ``n_wins``, ``n_draws``, ``n_wins_base``.

A record whose preference is missing or outside [1, 2] is one AlpacaEval drops ("not a
preference"): it is kept, unscorable. Each (model, baseline) pair is one run. The
leaderboard figure is reported when ``alpaca_eval evaluate`` wrote ``leaderboard.csv``
beside the annotations (or a ``*_leaderboard.csv`` there holds the model's row).
"""

from __future__ import annotations

import csv
import hashlib
import math
from pathlib import Path

from analysis.errors import InputError

from ._records import rows_to_frame
from .base import PAIRWISE_THRESHOLD, PAIRWISE_THRESHOLD_SOURCE, Reported, SourceRun, read_json_document

#: Keys that mark a record as an AlpacaEval annotation (detection and validation).
# The preference and its outcome word are the outcome itself: kept as a score / left out, never offered as
# attributes to slice by (a slice "outcome = loss" is 100% losses by construction).
ALPACA_KEYS = ("instruction", "output_1", "output_2", "generator_2", "preference")

_ROLES = {"example_id": "id", "instruction": "input", "output_2": "output", "output_1": "reference",
          "win": "score", "discrete_win": "scores", "preference": "scores", "outcome": "ignore",
          "dataset": "metadata", "annotator": "metadata", "__record": "source_row"}


def example_id(instruction: str) -> str:
    """A stable id for an instruction, the same in every model's annotations (12 hex digits of its SHA-1).

    >>> example_id("Who wrote Hamlet?")
    '870ea222f34a'
    """
    return hashlib.sha1(instruction.encode("utf-8")).hexdigest()[:12]


def outcome_of(preference: float | None) -> tuple[float | None, float | None, str]:
    """AlpacaEval's reading of one preference: (win, discrete win, outcome word).

    >>> outcome_of(1.9), outcome_of(1.5), outcome_of(0), outcome_of(1.0)
    ((0.8999999999999999, 1.0, 'win'), (0.5, 0.5, 'draw'), (0.5, 0.5, 'draw'), (0.0, 0.0, 'loss'))
    >>> outcome_of(None), outcome_of(3.0)
    ((None, None, 'not a preference'), (None, None, 'not a preference'))
    """
    if preference is None or math.isnan(preference):
        return None, None, "not a preference"
    if preference == 0:  # AlpacaEval 1 wrote a draw as 0
        preference = 1.5
    if not 1 <= preference <= 2:
        return None, None, "not a preference"
    win = preference - 1
    if preference == 1.5:
        return win, 0.5, "draw"
    return win, 1.0 if preference > 1.5 else 0.0, "win" if preference > 1.5 else "loss"


def read_alpaca_eval(path: Path) -> list[SourceRun]:
    """The runs in an AlpacaEval ``annotations.json``: one per (model under test, baseline).

    Parameters
    ----------
    path : Path
        The annotations file (a JSON array of records).

    Returns
    -------
    list of SourceRun
        Each with the win (preference - 1) as score, the discrete win (1 / 0.5 / 0) as
        ``score.discrete_win``, the baseline named, and the leaderboard's win rate as
        ``reported`` when a leaderboard beside the file holds the model (else ``[]``).

    Raises
    ------
    InputError
        When the document is not a list of annotation records, or a preference is not a number.
    """
    doc = read_json_document(path)
    if not isinstance(doc, list):
        raise InputError(path, f"expected a JSON array of AlpacaEval annotations, got {type(doc).__name__}")
    groups: dict[tuple[str, str | None], list[dict]] = {}
    for i, rec in enumerate(doc):
        where = f"record {i + 1}"
        if not isinstance(rec, dict):
            raise InputError(path, f"expected an annotation object, got {type(rec).__name__}", record=where)
        for key in ("instruction", "generator_2", "preference"):
            if key not in rec:
                raise InputError(path, f"expected an AlpacaEval annotation with {key!r}", record=where, field=key)
        pref = rec["preference"]
        if pref is not None and (isinstance(pref, bool) or not isinstance(pref, (int, float))):
            raise InputError(path, f"expected a number in [1, 2] (or null), got {pref!r}", record=where,
                             field="preference")
        win, discrete, outcome = outcome_of(None if pref is None else float(pref))
        baseline = rec.get("generator_1")
        row = {"instruction": rec["instruction"], "output_2": rec.get("output_2"), "output_1": rec.get("output_1"),
               "win": win, "discrete_win": discrete, "preference": pref, "outcome": outcome,
               "dataset": rec.get("dataset"), "annotator": rec.get("annotator"), "__record": i + 1}
        groups.setdefault((str(rec["generator_2"]), None if baseline is None else str(baseline)), []).append(row)
    if not groups:
        raise InputError(path, "is empty: expected at least one AlpacaEval annotation")
    runs = []
    for (model, baseline), rows in groups.items():
        seen: dict[str, int] = {}
        for row in rows:
            base = example_id(str(row["instruction"]))
            seen[base] = seen.get(base, 0) + 1
            row["example_id"] = base if seen[base] == 1 else f"{base}#{seen[base]}"
        frame = rows_to_frame(rows, order=["example_id", "instruction", "output_2", "output_1", "win",
                                           "discrete_win", "preference", "outcome", "dataset", "annotator"])
        frame = frame.dropna(axis=1, how="all")
        roles = {c: r for c, r in _ROLES.items() if c in frame.columns}
        if "win" not in roles:
            roles["win"] = "score"
            frame["win"] = float("nan")
        reported, source_note = _leaderboard_figures(path, model)
        runs.append(SourceRun(
            "alpaca_eval", [path], f"AlpacaEval · {model}" + (f" vs {baseline}" if baseline else ""), model=model,
            task="alpaca_eval", sub_key=f"{model}|{baseline or ''}", frame=frame, roles=roles,
            record_label="record", tool="AlpacaEval", reported=reported, baseline=baseline,
            threshold=PAIRWISE_THRESHOLD, threshold_source=PAIRWISE_THRESHOLD_SOURCE,
            notes=_notes(rows, model, baseline, source_note)))
    return runs


def _notes(rows: list[dict], model: str, baseline: str | None, source_note: str) -> str:
    scored = [r for r in rows if r["win"] is not None]
    wins = sum(r["outcome"] == "win" for r in scored)
    draws = sum(r["outcome"] == "draw" for r in scored)
    losses = sum(r["outcome"] == "loss" for r in scored)
    annotators = sorted({str(r["annotator"]) for r in rows if r["annotator"] is not None})
    parts = [f"AlpacaEval pairwise preferences of {model} against the baseline {baseline or '(not named)'}"
             + (f", judged by {', '.join(annotators)}" if annotators else "") + ".",
             "Score = win = preference - 1 in [0, 1] (AlpacaEval's weighted win; its mean is the leaderboard "
             "win_rate); score.discrete_win = 1 win / 0.5 draw / 0 loss (preference >, =, < 1.5; its mean is "
             "discrete_win_rate). Correct = win >= 0.5: an error is a loss to the baseline.",
             f"{len(scored)} preferences: {wins} wins, {draws} draws, {losses} losses"
             + (f"; {len(rows) - len(scored)} records without a preference in [1, 2] (AlpacaEval drops them) "
                "are unscorable" if len(scored) < len(rows) else "") + ".",
             source_note]
    return " ".join(p for p in parts if p)


def _leaderboard_figures(path: Path, model: str) -> tuple[list[Reported], str]:
    """The model's row of a leaderboard CSV that ``alpaca_eval`` wrote beside the annotations."""
    candidates = [path.with_name("leaderboard.csv")]
    candidates += sorted(p for p in path.parent.glob("*_leaderboard.csv") if p not in candidates)
    for board in candidates:
        if not board.is_file() or board.stat().st_size > 16 * 2**20:
            continue
        try:
            with open(board, newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = next(reader, [])
                rows = [r for r in reader if r and r[0] == model]
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
        if not rows or "win_rate" not in header:
            continue
        row = dict(zip(header, rows[0], strict=False))
        try:
            value = float(row["win_rate"]) / 100
        except ValueError:
            continue
        n = _int_or_none(row.get("n_total"))
        others = ", ".join(f"{k}={row[k]}" for k in ("discrete_win_rate", "length_controlled_winrate")
                           if row.get(k))
        note = (f"Leaderboard {board.name}: win_rate {row['win_rate']}% is the reported figure"
                + (f"; also {others} (the length-controlled rate needs AlpacaEval's GLM, not reproducible "
                   "from the annotations)" if others else "") + ".")
        return [Reported("win_rate", value, basis="score", n=n, source=f"{board.name}: row {model}, win_rate",
                         tolerance=1e-6)], note
    return [], ("No AlpacaEval leaderboard beside the file: the tool's figure is only derivable from these "
                "annotations (reported: none).")


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(float(text)) if text not in (None, "") else None
    except ValueError:
        return None
