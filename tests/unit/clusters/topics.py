"""Test data for the cluster tests: a demo size and four clearly different topics."""

from __future__ import annotations

import numpy as np
import pandas as pd

DEMO_PROMPTS = 2000
TOPICS = ["ibuprofen dose for an adult with a headache", "git merge conflict in a feature branch",
          "visa rules for a short trip to Japan", "oven temperature to roast a chicken"]


def topic_frame(n: int = 80, *, seed: int = 0) -> pd.DataFrame:
    """Four clearly different topics; the git questions fail far more often."""
    rng = np.random.default_rng(seed)
    topic = np.arange(n) % len(TOPICS)
    fail = rng.random(n) < np.where(topic == 1, 0.8, 0.1)
    return pd.DataFrame({"example_id": [f"t{i:03d}" for i in range(n)],
                         "question": [f"{TOPICS[t]} (case {i})" for i, t in enumerate(topic)],
                         "response": [f"answer {i}" for i in range(n)], "correct": ~fail,
                         "topic": [TOPICS[t].split()[0] for t in topic]})
