"""Discovery on the store: the same slices as the sliceline package, with statistics, holdout and grouping."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.slicing.attributes import MISSING, value_label
from analysis.slicing.discovery import _groups, discover, encode
from analysis.slicing.params import MSG_MIN_SUPPORT, ParameterError
from analysis.sql import slices as Q
from tests.conftest import HELM_BBQ

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


def planted_frame(n=4000, seed=2):
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw", "fr", "de"], size=n)
    channel = rng.choice(["web", "api", "voice"], size=n)
    segment = rng.choice(["free", "pro"], size=n)
    p = 0.1 + 0.5 * ((lang == "sw") & (channel == "api")) + 0.15 * (segment == "free")
    return pd.DataFrame({"example_id": [f"d{i}" for i in range(n)], "prompt": ["q"] * n, "lang": lang,
                         "channel": channel, "segment": segment, "correct": rng.random(n) >= p})


def test_same_slices_as_the_sliceline_package_on_the_store(store):
    sliceline = pytest.importorskip("sliceline")
    (run,) = store.ingest_frame(planted_frame(), name="planted").added
    codes, errors, labels, prepared, _ = encode(store, run.run_id, ["lang", "channel", "segment"])
    result = discover(store, run.run_id, ["lang", "channel", "segment"], error_weight=0.95, k=4, max_order=3,
                      min_support=40)
    finder = sliceline.Slicefinder(alpha=0.95, k=4, max_l=3, min_sup=40)
    finder.fit(pd.DataFrame(codes).astype(int), errors)
    expected = []
    for top in finder.top_slices_:
        expected.append({prepared[j].attribute.name: labels[j][int(v)] for j, v in enumerate(top) if v is not None})
    assert result.table["predicate"].tolist() == expected
    scores = [s["slice_score"] for s in finder.top_slices_statistics_]
    assert result.table["sliceline_score"].to_numpy() == pytest.approx(scores, abs=1e-9)
    assert result.table.iloc[0]["predicate"] == {"lang": "sw", "channel": "api"}


def test_every_discovered_slice_has_statistics(store):
    frame = planted_frame()
    (run,) = store.ingest_frame(frame, name="planted").added
    result = discover(store, run.run_id, ["lang", "channel", "segment"], k=5, min_support=40)
    for row in result.table.itertuples():
        mask = np.ones(len(frame), dtype=bool)
        for attr, value in row.predicate.items():
            mask &= frame[attr].to_numpy() == value
        assert row.n == mask.sum() and row.errors == (~frame.loc[mask, "correct"]).sum()
        assert row.ci_low <= row.error_rate <= row.ci_high and 0 <= row.q_value <= 1
    assert result.table.iloc[0]["confirmed"]


def test_holdout_tests_on_the_other_half(store):
    frame = planted_frame(n=6000)
    (run,) = store.ingest_frame(frame, name="planted").added
    result = discover(store, run.run_id, ["lang", "channel", "segment"], error_weight=0.95, k=3, min_support=30,
                      holdout=True, seed=5)
    top = result.table.iloc[0]
    assert top["predicate"] == {"lang": "sw", "channel": "api"} and top["confirmed"]
    full = ((frame["lang"] == "sw") & (frame["channel"] == "api")).sum()
    assert top["n"] + top["search_n"] == full  # the two halves partition the slice
    assert result.settings["statistics_on"] == "held-out half"
    again = discover(store, run.run_id, ["lang", "channel", "segment"], error_weight=0.95, k=3, min_support=30,
                     holdout=True, seed=5)
    assert again.table["n"].tolist() == result.table["n"].tolist()


def test_noise_is_not_confirmed_on_holdout(store):
    rng = np.random.default_rng(9)
    n = 3000
    frame = pd.DataFrame({"prompt": ["q"] * n, "a": rng.choice(list("abcdef"), n), "b": rng.choice(list("xyz"), n),
                          "correct": rng.random(n) > 0.2})
    (run,) = store.ingest_frame(frame, name="noise").added
    result = discover(store, run.run_id, ["a", "b"], k=5, min_support=30, holdout=True, seed=1)
    assert not result.table["confirmed"].any()


def test_grouping_of_overlapping_findings():
    preds = [{"a": 1, "b": 2}, {"a": 1}, {"c": 3}, {"b": 2}, {"a": 1, "c": 3}]
    groups = _groups(preds, [5.0, 4.0, 3.0, 2.0, 1.0])
    assert groups[0] == groups[1]  # a refinement is shown with its parent
    assert groups[2] != groups[1] and groups[3] not in (groups[2],)
    assert groups[4] == groups[1]  # joins its best-scoring parent


def test_real_helm_run(store):
    report = store.ingest(HELM_BBQ)
    run = next(r for r in report.added if "llama" in r.model)
    result = discover(store, run.run_id, ["ambiguous", "negative"], k=3, min_support=5)
    assert len(result.table) >= 1 and result.table["n"].min() >= 5


def test_demo_recovery(tmp_path):
    """Planted demo slices are recovered by discovery, including the conjunction-only one."""
    from analysis import open_store
    from analysis.demo.seed import demo_truth_path, ensure_demo

    with open_store(tmp_path / "demo.duckdb", seed_demo=False) as store:
        ensure_demo(store)
        truth = json.loads(demo_truth_path(store).read_text())
        result = discover(store, "baseline", ["language", "domain", "user_segment", "channel"], k=10)
        found = result.table["predicate"].tolist()
        assert {"language": "es", "domain": "legal"} in found  # only visible as a conjunction
        assert {"language": "sw"} in found and {"user_segment": "student"} in found
        planted = [p["predicate"] for p in truth["planted"] if p["predicate"] and "baseline" in p["runs"]]
        unrelated = [f for f in found if not any(all(f.get(a) == v for a, v in p.items()) for p in planted)]
        assert len(unrelated) <= 3


def test_encoding_factorizes_the_labels_the_slice_table_shows(store):
    """Codes number each attribute's labels in sorted order, missing values included: checked
    against labelling every example one by one."""
    rng = np.random.default_rng(4)
    n = 600
    frame = pd.DataFrame({
        "prompt": ["q"] * n,
        "lang": rng.choice(["en", "sw", "fr", None], n),
        "turns": rng.choice([1.0, 2.0, 3.0, np.nan], n),
        "flag": rng.choice([True, False], n),
        "tokens": rng.integers(1, 1000, n),  # many values: binned
        "day": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 20, n), unit="D"),
        "correct": rng.random(n) > 0.3,
    })
    (run,) = store.ingest_frame(frame, name="mixed").added
    by = ["lang", "turns", "flag", "tokens", "day"]
    codes, errors, labels, prepared, ids = encode(store, run.run_id, by)
    info = store.run(run.run_id)
    sql, params = Q.codes_sql(info.table_name, [p.sql for p in prepared])
    raw = store.cursor().execute(sql, params).df()
    for j, p in enumerate(prepared):
        text = [value_label(p, v) for v in raw[f"a{j}"].tolist()]
        expected_codes, expected_labels = pd.factorize(pd.Series(text, dtype=object), sort=True)
        assert codes[:, j].tolist() == expected_codes.tolist()
        assert labels[j] == list(expected_labels)
    assert MISSING in labels[0] and MISSING in labels[1] and labels[2] == ["false", "true"]
    assert prepared[3].labels is not None  # tokens are binned
    assert errors.tolist() == (~frame["correct"]).astype(float).tolist()  # every example is scored, in order
    assert ids.tolist() == raw["example_id"].tolist()


def test_columns_and_settings_names(store):
    (run,) = store.ingest_frame(planted_frame(n=2000), name="planted").added
    result = discover(store, run.run_id, ["lang", "channel"], k=3, min_support=0.02)
    assert "sliceline_score" in result.table and "score" not in result.table
    assert {"error_weight", "k", "max_order", "min_support", "min_support_rows", "fdr"} <= set(result.settings)
    assert result.settings["min_support_rows"] == int(0.02 * 2000)
    assert result.table["search_n"].min() >= 40
    assert "sliceline_score" in result.to_records()[0]


@pytest.mark.parametrize("value", [0, 1.0, -3, "0.1"])
def test_min_support_is_checked_with_the_shared_message(store, value):
    (run,) = store.ingest_frame(planted_frame(n=200), name="planted").added
    with pytest.raises(ParameterError) as info:
        discover(store, run.run_id, ["lang"], min_support=value)
    assert str(info.value) == MSG_MIN_SUPPORT.format(value=value)
