"""Objective specs saved in the store: validated before saving, append-only versions, the sha256 checked against
hashlib, lookup by name or hash prefix, and errors in plain words."""

from __future__ import annotations

import hashlib

import pytest

from analysis import FaultlineError, SpecError
from analysis.objective.spec import (
    MSG_SPEC_AUTHOR,
    MSG_SPEC_UNKNOWN,
    get_spec,
    parse_objective,
    save_spec,
    saved_specs,
)
from analysis.store import Store

TINY = "objective: tiny\ncomponents: []\n"
TWO = """objective: two
components:
  - id: rm
    name: Reward model
    kind: reward_model
    why: Users want useful answers
    serves: task success
    signals: [{column: rm_score, direction: higher_is_better}]
    can_cause: [reward_hacking]
"""


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "s.duckdb")
    yield s
    s.close()


def test_nothing_saved_is_an_empty_listing(store):
    frame = saved_specs(store)
    assert frame.empty
    assert {"name", "sha256", "text", "author", "created_at", "version"} <= set(frame.columns)


def test_saved_with_its_sha256_and_read_back(store):
    saved = save_spec(store, TWO, "team objective", "ada")
    assert saved.sha256 == hashlib.sha256(TWO.encode("utf-8")).hexdigest()
    back = get_spec(store, "team objective")
    assert (back.text, back.author, back.version) == (TWO, "ada", 1)
    assert get_spec(store, saved.sha256[:10]).spec_id == saved.spec_id
    assert back.objective().components[0].id == parse_objective(TWO).components[0].id


def test_saving_a_name_again_appends_a_version(store):
    first = save_spec(store, TINY, "obj", "ada")
    second = save_spec(store, TWO, "obj", "bo")
    assert (first.version, second.version) == (1, 2)
    assert get_spec(store, "obj").text == TWO
    assert get_spec(store, first.sha256).text == TINY  # the old version is kept, reachable by its hash
    assert len(saved_specs(store)) == 1 and len(saved_specs(store, history=True)) == 2


def test_an_invalid_spec_is_not_saved_and_the_error_names_line_and_key(store):
    with pytest.raises(SpecError) as err:
        save_spec(store, "objective: tiny\ncomponents: 3\n", "broken", "ada")
    assert err.value.line == 2 and "components" in str(err.value) and "broken" in str(err.value)
    assert saved_specs(store).empty


def test_an_author_and_a_known_name_are_required(store):
    with pytest.raises(FaultlineError, match="author"):
        save_spec(store, TINY, "obj", "  ")
    assert MSG_SPEC_AUTHOR
    save_spec(store, TINY, "obj", "ada")
    with pytest.raises(FaultlineError) as err:
        get_spec(store, "other")
    assert str(err.value) == MSG_SPEC_UNKNOWN.format(name="other", known="obj")
