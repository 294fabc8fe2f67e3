"""A target is pinned once (trial item: the same finding pinned twice appeared twice): a second pin of the same kind,
target, run, baseline, cohort and outcome is refused with who pinned it and when, and writes nothing; a different
cohort, outcome, baseline or target is another finding; a withdrawn finding may be pinned again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import AlreadyPinnedError
from analysis.objective.findings import (
    MSG_ALREADY_PINNED,
    findings,
    pin_comparison,
    pin_finding,
    pin_slice,
    pinned_finding,
    withdraw_finding,
)
from analysis.store import Store


def frame(seed=0, n=600):
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw"], size=n)
    domain = rng.choice(["legal", "chat"], size=n)
    return pd.DataFrame({"example_id": [f"e{i}" for i in range(n)], "prompt": ["q"] * n, "lang": lang,
                         "domain": domain, "correct": rng.random(n) >= 0.2 + 0.2 * (lang == "sw"),
                         "score.f1": rng.random(n)})


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "once.duckdb")
    s.ingest_frame(frame(0), name="base")
    s.ingest_frame(frame(1), name="cand")
    yield s
    s.close()


def stored_rows(store) -> int:
    return len(findings(store, include_withdrawn=True))


def test_a_second_pin_of_a_slice_is_refused_naming_who_and_when(store):
    first = pin_slice(store, "base", {"lang": "sw"}, author="ada", note="high error")
    with pytest.raises(AlreadyPinnedError) as caught:
        pin_slice(store, "base", {"lang": "sw"}, author="bo", note="another note")
    err = caught.value
    assert str(err) == MSG_ALREADY_PINNED.format(title="lang = sw", finding_id=first.finding_id[:8], author="ada",
                                                 when=f"{first.created_at:%Y-%m-%d %H:%M}")
    assert err.finding_id == first.finding_id and err.author == "ada"
    assert stored_rows(store) == 1
    assert pinned_finding(store, "base", kind="slice", target={"lang": "sw"}).finding_id == first.finding_id


def test_attribute_order_does_not_make_another_finding(store):
    settings = {"attributes": ["lang", "domain"], "max_order": 2}
    pin_slice(store, "base", {"lang": "sw", "domain": "legal"}, author="ada", settings=settings)
    with pytest.raises(AlreadyPinnedError):
        pin_slice(store, "base", {"domain": "legal", "lang": "sw"}, author="ada", settings=settings)
    assert stored_rows(store) == 1


def test_another_cohort_outcome_run_or_target_is_another_finding(store):
    pin_slice(store, "base", {"lang": "sw"}, author="ada")
    pin_slice(store, "base", {"lang": "sw"}, author="ada", where='domain = "legal"')
    pin_slice(store, "base", {"lang": "sw"}, author="ada", settings={"outcome": "score"})
    pin_slice(store, "cand", {"lang": "sw"}, author="ada")
    pin_slice(store, "base", {"lang": "en"}, author="ada")
    assert stored_rows(store) == 5
    with pytest.raises(AlreadyPinnedError):
        pin_slice(store, "base", {"lang": "sw"}, author="ada", settings={"outcome": "score"})
    with pytest.raises(AlreadyPinnedError):
        pin_slice(store, "base", {"lang": "sw"}, author="ada", where=' domain = "legal" ')
    assert stored_rows(store) == 5


def test_comparison_cluster_and_cell_are_pinned_once(store):
    pin_comparison(store, "base", "cand", {"lang": "sw"}, author="ada")
    pin_comparison(store, "base", "cand", {}, author="ada")
    with pytest.raises(AlreadyPinnedError):
        pin_comparison(store, "base", "cand", {"lang": "sw"}, author="bo")
    with pytest.raises(AlreadyPinnedError):
        pin_comparison(store, "base", "cand", {}, author="bo")
    pin_comparison(store, "cand", "base", {"lang": "sw"}, author="ada")  # the other direction: another row
    evidence = {"n": 40, "error_rate": 0.5}
    pin_finding(store, "base", kind="cluster", target={"cluster": "3", "column": "cluster.input"}, author="ada",
                evidence=evidence)
    with pytest.raises(AlreadyPinnedError):
        pin_finding(store, "base", kind="cluster", target={"cluster": "3", "column": "cluster.input"},
                    author="ada", evidence=evidence, note="again")
    pin_finding(store, "base", kind="cell", target={"mode": "m", "component": "c"}, author="ada",
                evidence={"auc": 0.8})
    with pytest.raises(AlreadyPinnedError):
        pin_finding(store, "base", kind="cell", target={"mode": "m", "component": "c"}, author="ada",
                    evidence={"auc": 0.8})
    pin_finding(store, "base", kind="cell", target={"mode": "m", "component": "c"}, author="ada",
                evidence={"auc": 0.8}, baseline="cand")  # with a baseline: another analysis
    kinds = findings(store)["kind"].value_counts().to_dict()
    assert kinds == {"comparison": 3, "cluster": 1, "cell": 2}


def test_a_withdrawn_finding_may_be_pinned_again(store):
    first = pin_slice(store, "base", {"lang": "sw"}, author="ada")
    withdraw_finding(store, first.finding_id, author="ada", note="to rewrite the note")
    again = pin_slice(store, "base", {"lang": "sw"}, author="ada", note="the new note")
    assert again.finding_id != first.finding_id
    assert list(findings(store)["finding_id"]) == [again.finding_id]
