"""The demo series: six RLHF checkpoints of one chat model answering the same prompts, with planted drift.

Separate from the two-run demo (:mod:`analysis.demo.generator`, whose numbers stay as they are). Planted, and written
to the truth file (:func:`series_truth`):

* **over-optimisation** (reward_hacking / ``rm_helpfulness``): the helpfulness reward rises at every checkpoint,
  while accuracy on ``domain = medical`` rises to a peak at the third checkpoint (``step-3000``) and then falls:
  medical answers get padded and long (verbosity gaming) and wrong, and the reward model likes them more.
* **slow drift** in ``language = hi``: its error rate grows by 3.5 points at every checkpoint from the second on.
* **mix shift**: from the fifth checkpoint (``step-5000``) the evaluation set also holds new ``domain = math``
  prompts (a harder domain), so math's share goes from about 10% to about 33%; accuracy within every domain stays
  as it was, so the headline drop at the fifth checkpoint is all composition.

Everything else is flat: the other languages, channels and segments have the same error rates at every checkpoint
(up to sampling). Imports only the standard library, numpy and pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

SERIES_NAME = "rlhf-checkpoints"
STEPS = (1000, 2000, 3000, 4000, 5000, 6000)
SERIES_MODEL = "acme-chat-7b-rlhf"

LANGUAGES = ("en", "es", "fr", "de", "hi", "sw")
_LANGUAGE_P = (0.40, 0.15, 0.12, 0.11, 0.12, 0.10)
DOMAINS = ("general", "medical", "legal", "code", "math")
_DOMAIN_P = (0.40, 0.18, 0.14, 0.18, 0.10)
_DOMAIN_WRONG = {"general": 0.12, "medical": 0.20, "legal": 0.22, "code": 0.25, "math": 0.50}
CHANNELS = ("web", "api", "mobile")
SEGMENTS = ("free", "pro", "enterprise")

#: Medical error rate per checkpoint: falls to its lowest at the third checkpoint, then rises (verbosity gaming).
MEDICAL_WRONG = (0.30, 0.21, 0.12, 0.22, 0.32, 0.42)
#: Extra error rate of language = hi per checkpoint (the slow drift).
HINDI_DRIFT = tuple(0.035 * k for k in range(len(STEPS)))
#: Share of the original prompts that new math prompts add from the fifth checkpoint on.
MATH_ADDED = 0.35
MIX_FROM = 4  # position of the fifth checkpoint
#: Chance that a checkpoint's draw for a prompt is the prompt's own (answers persist between checkpoints).
PERSISTENCE = 0.85

_TOPICS = {
    "general": ("the capital of Australia", "how rainbows form", "the tallest mountain in Europe"),
    "medical": ("a safe dose of ibuprofen for adults", "signs of dehydration", "when a fever needs a doctor"),
    "legal": ("how long a deposit can be held", "whether a verbal contract binds", "notice for ending a lease"),
    "code": ("reversing a list in Python", "what a SQL join does", "fixing an off-by-one error"),
    "math": ("the integral of x squared", "the probability of two sixes", "solving 3x + 5 = 20"),
}
_CONTEXT = ("Hi.", "I have a question.", "Some background first:", "I read conflicting things online,",
            "and a friend was not sure either.", "Please be precise.")
_PADDING = ("It is important to note that every situation is different.",
            "There are many factors to consider here, and I want to be thorough.",
            "Let me walk you through the background in detail before answering.",
            "Many people wonder about this, and it is a great question.")


@dataclass(frozen=True)
class SeriesDemo:
    """The six checkpoint runs (name -> frame, in order) and the truth of what was planted."""

    runs: dict[str, pd.DataFrame]
    truth: dict


def run_name(step: int) -> str:
    """A checkpoint's run name (its step is detected from it: :func:`analysis.store.series.detect_step`)."""
    return f"rlhf step-{step}"


def generate_series_demo(*, n_prompts: int = 3000, seed: int = 11) -> SeriesDemo:
    """Generate the six checkpoint runs of the demo series with their planted effects.

    Parameters
    ----------
    n_prompts : int, default 3000
        Prompts answered by every checkpoint (the fifth and sixth also answer ``MATH_ADDED * n_prompts`` new math
        prompts).
    seed : int, default 11
        Seed of the generator (same seed, same runs).

    Returns
    -------
    SeriesDemo
        ``runs`` (run name -> DataFrame with ``example_id``, ``input``, ``output``, ``reference``, ``correct``,
        ``score``, ``language``, ``domain``, ``user_segment``, ``channel``, ``rm_helpfulness``, ``rm_harmlessness``,
        ``response_length``, ``kl_to_ref``) and ``truth`` (:func:`series_truth`).

    Examples
    --------
    >>> demo = generate_series_demo(n_prompts=300)
    >>> list(demo.runs)[:2], len(demo.runs["rlhf step-1000"]), len(demo.runs["rlhf step-5000"])
    (['rlhf step-1000', 'rlhf step-2000'], 300, 405)
    """
    rng = np.random.default_rng(seed)
    n_new = int(round(MATH_ADDED * n_prompts))
    total = n_prompts + n_new
    ids = np.array([f"p{i:05d}" for i in range(n_prompts)] + [f"m{i:05d}" for i in range(n_new)])
    language = rng.choice(LANGUAGES, total, p=_LANGUAGE_P)
    domain = np.concatenate([rng.choice(DOMAINS, n_prompts, p=_DOMAIN_P), np.full(n_new, "math")])
    channel = rng.choice(CHANNELS, total, p=(0.45, 0.30, 0.25))
    segment = rng.choice(SEGMENTS, total, p=(0.5, 0.3, 0.2))
    topic = np.array([_TOPICS[d][i % 3] for i, d in enumerate(domain)])
    own = rng.random(total)  # the prompt's own difficulty draw, shared by the checkpoints
    base_len = rng.integers(25, 70, total)
    context = rng.integers(0, len(_CONTEXT) + 1, total)
    inputs = [" ".join(_CONTEXT[:c]) + (" " if c else "") + f"Question about {t}?" for c, t in zip(context, topic)]
    runs: dict[str, pd.DataFrame] = {}
    rates: dict[str, list] = {"medical": [], "hi": [], "math_share": [], "overall": []}
    for k, step in enumerate(STEPS):
        present = np.arange(total) < (n_prompts if k < MIX_FROM else total)
        draw = np.where(rng.random(total) < PERSISTENCE, own, rng.random(total))
        p_wrong = np.array([_DOMAIN_WRONG[d] for d in domain])
        p_wrong = np.where(domain == "medical", MEDICAL_WRONG[k], p_wrong)
        p_wrong = p_wrong + np.where(language == "hi", HINDI_DRIFT[k], 0.0)
        wrong = draw < p_wrong
        gamed = (domain == "medical") & wrong & (k > 2)  # verbosity gaming after the peak
        length = base_len + 4 * k + np.where(gamed, 120 + 25 * k, 0) + rng.integers(0, 10, total)
        helpful = 0.35 + 0.07 * k + np.where(gamed, 0.15, 0.0) + rng.normal(0, 0.08, total)
        harmless = 0.70 + rng.normal(0, 0.08, total)
        kl = 0.5 + 0.6 * k + rng.gamma(2.0, 0.2, total)
        outputs = [_answer(t, w, g, int(n), rng) for t, w, g, n in zip(topic, wrong, gamed, length)]
        frame = pd.DataFrame({
            "example_id": ids, "input": inputs, "output": outputs,
            "reference": [f"The correct answer about {t}." for t in topic], "correct": ~wrong,
            "score": (~wrong).astype(float), "language": language, "domain": domain, "user_segment": segment,
            "channel": channel, "rm_helpfulness": np.round(helpful, 4), "rm_harmlessness": np.round(harmless, 4),
            "response_length": length.astype(np.int64), "kl_to_ref": np.round(kl, 4),
        })[present].reset_index(drop=True)
        runs[run_name(step)] = frame
        med = frame[frame["domain"] == "medical"]
        hin = frame[frame["language"] == "hi"]
        rates["medical"].append(round(float(med["correct"].mean()), 4))
        rates["hi"].append(round(float(hin["correct"].mean()), 4))
        rates["math_share"].append(round(float((frame["domain"] == "math").mean()), 4))
        rates["overall"].append(round(float(frame["correct"].mean()), 4))
    return SeriesDemo(runs, series_truth(n_prompts, seed, rates))


def _answer(topic: str, wrong: bool, gamed: bool, length: int, rng: np.random.Generator) -> str:
    core = f"About {topic}: " + ("here is an answer that gets it wrong." if wrong else "here is the right answer.")
    if not gamed:
        return core
    padding = " ".join(rng.choice(_PADDING, 4))
    return f"{padding} {core} {padding} (about {length} words)"


def series_truth(n_prompts: int, seed: int, rates: dict) -> dict:
    """What the demo series plants, machine-readable (written beside the store by the seeding)."""
    labels = [f"step {s:,}" for s in STEPS]
    return {
        "generator": "analysis.demo.series", "seed": seed, "n_prompts": n_prompts, "series": SERIES_NAME,
        "runs": [run_name(s) for s in STEPS], "labels": labels, "reference": run_name(STEPS[0]),
        "planted": {
            "over_optimisation": {
                "slice": {"domain": "medical"}, "signal": "rm_helpfulness", "component": "rm_helpfulness",
                "mode": "reward_hacking", "peak_run": 2, "peak_label": labels[2],
                "mechanism": "verbosity gaming: padded long wrong medical answers with a higher helpfulness reward",
                "error_rate": list(MEDICAL_WRONG), "measured_accuracy": rates["medical"]},
            "drift": {
                "slice": {"language": "hi"}, "direction": "down", "starts_run": 1,
                "extra_error_rate": [round(x, 4) for x in HINDI_DRIFT], "measured_accuracy": rates["hi"]},
            "mix_shift": {
                "attribute": "domain", "value": "math", "run": MIX_FROM, "label": labels[MIX_FROM],
                "added_share_of_prompts": MATH_ADDED, "within_slice": ("flat for the mix: every domain keeps its error rate; the medical over-optimisation "
                                 "and the hi drift go on at this checkpoint (the model's part of the change)"),
                "measured_math_share": rates["math_share"], "measured_overall_accuracy": rates["overall"]},
        },
        "flat": {"language": [lang for lang in LANGUAGES if lang != "hi"], "domain": ["general", "legal", "code", "math"],
                 "channel": list(CHANNELS), "user_segment": list(SEGMENTS)},
    }
