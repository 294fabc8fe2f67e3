"""Objective specs and texts the failure-mode tests share (one copy, not one per test file)."""

from __future__ import annotations

from tests.conftest import ROOT

#: The demo's objective spec.
DEMO_SPEC = ROOT / "data" / "objective_demo.yaml"

#: A reward model with one signal (column ``rm``, higher is better) that can cause reward hacking, and the
#: pretraining data.
RM_SPEC = """
objective: test
components:
  - id: rm
    name: Helpfulness RM
    kind: reward_model
    why: useful answers
    serves: accuracy
    signals: [{column: rm, direction: higher_is_better}]
    can_cause: [reward_hacking]
  - id: data
    name: Pretraining data
    kind: pretraining_data
    why: knowledge
    serves: factual accuracy
"""

#: A long, padded answer: the long-output detector's reward-hacking pattern.
PADDED = "Great question! " + "It is important to consider every factor. " * 8

#: A reward model with two signals (``rm`` and ``judge``, higher is better) that can cause reward hacking, and a
#: length penalty (column ``penalty``, lower is better): the link's divergence and Goodhart tests.
TWO_SIGNAL_SPEC = """
objective: test
components:
  - id: rm
    name: Helpfulness RM
    kind: reward_model
    why: useful answers
    serves: accuracy
    signals: [{column: rm, direction: higher_is_better}, {column: judge, direction: higher_is_better}]
    can_cause: [reward_hacking]
  - id: cost
    name: Length penalty
    kind: length_penalty
    why: short answers
    serves: accuracy
    signals: [{column: penalty, direction: lower_is_better}]
"""
