"""Default attributes are where a model fails, not what its failure looks like.

Context by default; outcome attributes (named like the output, a score, a judge, confidence, cost, latency, the
label or prediction; signals; output-derived features) and attributes that leak correctness (the leakage check,
tested against sklearn's mutual information) are listed but left out, each with its reason; constant attributes,
clusters and failure-mode labels are never defaults. The demo's planted slices come first with the defaults
(read from the truth file the demo writes), and COMPAS-style prediction and label columns are flagged.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import sqlglot
from scipy.stats import entropy
from sklearn.metrics import mutual_info_score

from analysis import open_store
from analysis.demo.seed import demo_truth_path, ensure_demo
from analysis.slicing.attributes import (
    LEAKAGE_MIN_CELL,
    LEAKAGE_THRESHOLD,
    MSG_CONSTANT,
    attribute_notes,
    classify_attribute,
    default_attributes,
    leakage,
    list_attributes,
    prepare_attributes,
)
from analysis.slicing.discovery import discover
from analysis.slicing.table import slice_table
from analysis.sql import slices as Q
from analysis.store import Store


# ------------------------------------------------------------------------------------ names and roles
@pytest.mark.parametrize("name, role", [
    ("language", "context"), ("domain", "context"), ("user_segment", "context"), ("channel", "context"),
    ("turn", "context"), ("subject", "context"), ("context_condition", "context"), ("race", "context"),
    ("prompt_tokens", "context"), ("questionType", "context"),
    ("output_tokens", "outcome"), ("cost_usd", "outcome"), ("latency_ms", "outcome"), ("confidence", "outcome"),
    ("is_refusal", "outcome"), ("picked", "outcome"), ("label", "outcome"), ("judge_verdict", "outcome"),
    ("grader_score", "outcome"), ("responseLength", "outcome"), ("finish_reason", "outcome"),
    ("decile_score", "outcome"), ("logprob", "outcome"), ("num_bytes", "outcome"), ("prompt_bytes", "context"),
])
def test_a_field_is_context_or_outcome_by_the_words_of_its_name(name, role):
    got, reason = classify_attribute(name, source="metadata", kind="categorical")
    assert got == role
    assert (reason != "") == (role == "outcome")


def test_signals_failure_modes_output_clusters_and_output_features_are_outcome():
    assert classify_attribute("rm_helpfulness", source="signal")[0] == "outcome"
    assert classify_attribute("mode.bias", source="failure_mode")[0] == "outcome"
    assert classify_attribute("cluster.output", source="cluster", column="cluster.output")[0] == "outcome"
    assert classify_attribute("cluster.input", source="cluster", column="cluster.input")[0] == "context"
    for name in ("output_length", "is_refusal", "output_empty"):
        assert classify_attribute(name, source="derived") == ("outcome", "output-derived: computed from the output")
    for name in ("input_length", "turn"):
        assert classify_attribute(name, source="derived") == ("context", "")


# ------------------------------------------------------------------------------------ the demo
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    ensure_demo(store)
    yield store, json.loads(demo_truth_path(store).read_text(encoding="utf-8"))
    store.close()


def test_demo_defaults_are_its_context_and_the_rest_is_listed_with_a_reason(demo):
    store, _ = demo
    for run in store.runs()["name"]:
        notes = {n.name: n for n in attribute_notes(store, run)}
        defaults = default_attributes(store, run)
        assert [a.name for a in defaults] == [n for n, note in notes.items() if note.default]
        assert {a.role for a in defaults} == {"context"}
        for name in ("output_length", "cost_usd", "latency_ms", "confidence", "is_refusal", "rm_helpfulness"):
            assert notes[name].role == "outcome" and not notes[name].default
            assert notes[name].why.startswith("output-derived")
        assert notes["paraphrase_group"].role == "context" and "distinct values" in notes["paraphrase_group"].why
        assert set(defaults.left_out) == {n for n, note in notes.items() if not note.default}
        assert re.search(r"output-derived: [^;]*\bcost_usd\b", defaults.left_out_line())


def _refines(predicate: dict, planted: dict) -> bool:
    return all(predicate.get(k) == v for k, v in planted.items())


@pytest.mark.parametrize("run", ["baseline", "after-objective-change"])
def test_the_planted_slices_come_first_with_the_defaults(demo, run):
    """Walking the slices worse than the rest by evidence, keeping those that refine none already kept, the first
    ones kept are exactly the slices planted in this run (from the truth file, not written here)."""
    store, truth = demo
    planted = [p["predicate"] for p in truth["planted"] if p["predicate"] and run in p["runs"]]
    assert len(planted) >= 3
    table = slice_table(store, run).table
    worse = table[table["difference"] > 0]
    kept: list[dict] = []
    for predicate in worse["predicate"]:
        if not any(_refines(predicate, k) for k in kept):
            kept.append(predicate)
        if len(kept) == len(planted):
            break
    assert {tuple(sorted(k.items())) for k in kept} == {tuple(sorted(p.items())) for p in planted}
    ranked = list(worse["predicate"])
    for p in planted:  # each planted slice is a finding, outranked only by planted slices and their refinements
        position = ranked.index(p)
        assert worse["finding"].iloc[position]
        assert all(any(_refines(q, k) for k in planted) for q in ranked[:position])


def test_gate_and_slices_defaults_do_not_change_when_clusters_and_modes_are_computed(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    ensure_demo(store, n_prompts=800)
    before = [(n.name, n.default, n.role, n.why) for n in attribute_notes(store, "baseline")]
    ids = store.examples("baseline", columns=["example_id"])["example_id"]
    labels = pd.DataFrame({"example_id": ids, "value": np.where(np.arange(len(ids)) % 2, "a", "b")})
    store.set_example_column("baseline", "cluster.output", labels, role="cluster", kind="categorical")
    store.set_example_column("baseline", "cluster.input", labels, role="cluster", kind="categorical")
    flags = pd.DataFrame({"example_id": ids, "value": np.arange(len(ids)) % 3 == 0})
    store.set_example_column("baseline", "mode.bias", flags, role="failure_mode", kind="boolean")
    after = {n.name: n for n in attribute_notes(store, "baseline")}
    assert [(n.name, n.default, n.role, n.why) for n in after.values() if n.name in dict.fromkeys(b[0] for b in before)] \
        == before
    for name in ("cluster.output", "cluster.input", "bias"):
        assert not after[name].default and "never a default" in after[name].why
    store.close()


# ------------------------------------------------------------------------------------ the leakage check
def _ingest(store: Store, frame: pd.DataFrame, name: str = "r") -> str:
    store.ingest_frame(frame.assign(prompt=[f"q{i}" for i in range(len(frame))]), name=name)
    return name


def _independent_u(frame: pd.DataFrame, columns: list[str], min_cell: int) -> float:
    """Uncertainty coefficient of correctness given the cells of ``columns`` (small cells pooled), with sklearn."""
    cell = frame[columns].astype(str).agg("|".join, axis=1)
    sizes = cell.map(cell.value_counts())
    pooled = cell.where(sizes >= min_cell, "(small)")
    y = frame["correct"].astype(int)
    return mutual_info_score(y, pooled) / entropy(y.value_counts(normalize=True))


def test_leakage_is_the_uncertainty_coefficient_sklearn_gives(store):
    rng = np.random.default_rng(11)
    n = 3000
    a = rng.choice(["x", "y", "z"], n)
    b = rng.choice(list("pqrstuvw"), n, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.03, 0.02])  # rare values: small cells
    c = rng.choice(["u", "v"], n)
    p_wrong = np.where(a == "x", 0.6, 0.2) + np.where(b == "w", 0.3, 0.0)
    frame = pd.DataFrame({"a": a, "b": b, "c": c, "correct": rng.random(n) >= p_wrong})
    _ingest(store, frame)
    info = store.schema("r")
    attrs = [x for x in list_attributes(store, info) if x.name in ("a", "b", "c")]
    prepared = prepare_attributes(store, info.run.table_name, attrs, bins=5, edges=None)
    pairs = [(0, 1), (0, 2), (1, 2)]
    for min_cell in (1, LEAKAGE_MIN_CELL, 200):
        got = leakage(store, info.run.table_name, prepared, pairs=pairs, min_cell=min_cell)
        for result in got:
            expected = _independent_u(frame, list(result.attributes), min_cell)
            assert result.uncertainty_removed == pytest.approx(expected, abs=1e-9), (result.attributes, min_cell)
    # a deterministic sample (example-id hash a multiple of 3): the same numbers over the examples DuckDB selects
    kept = {r[0] for r in store.cursor().execute(
        f'SELECT example_id FROM "{info.run.table_name}" WHERE hash(example_id) % 3 = 0').fetchall()}
    ids = store.examples("r", columns=["example_id"])["example_id"].astype(str).to_numpy()
    sampled = frame[np.isin(ids, list(kept))].reset_index(drop=True)
    assert 0.25 < len(sampled) / n < 0.42
    for result in leakage(store, info.run.table_name, prepared, pairs=pairs, min_cell=LEAKAGE_MIN_CELL,
                          sample_modulus=3):
        expected = _independent_u(sampled, list(result.attributes), LEAKAGE_MIN_CELL)
        assert result.uncertainty_removed == pytest.approx(expected, abs=1e-9), result.attributes
    single = {r.attributes: r for r in leakage(store, info.run.table_name, prepared)}
    rates = frame.groupby("a")["correct"].apply(lambda s: 1 - s.mean())
    assert single[("a",)].min_rate == pytest.approx(rates.min())
    assert single[("a",)].max_rate == pytest.approx(rates.max())


def test_the_sampled_leakage_statement_transpiles_to_spark():
    sql, params = Q.leakage_sql("examples_r", [Q.AttributeSQL("a", '"meta.a"'), Q.AttributeSQL("b", 'length("input")')],
                                [(0,), (1,), (0, 1)], min_cell=30, sample_modulus=20)
    assert sql.count("?") == len(params) and "hash(example_id) % CAST(? AS BIGINT) = 0" in sql
    sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def test_a_column_that_nearly_fixes_correctness_is_named_and_left_out(store):
    rng = np.random.default_rng(5)
    n = 2000
    correct = rng.random(n) < 0.7
    noisy = np.where(rng.random(n) < 0.03, ~correct, correct)  # 97% agreement with correctness, a neutral name
    frame = pd.DataFrame({"lang": rng.choice(["en", "sw"], n), "bucket": np.where(noisy, "k1", "k2"),
                          "correct": correct})
    _ingest(store, frame)
    notes = {x.name: x for x in attribute_notes(store, "r")}
    assert notes["lang"].default
    bucket = notes["bucket"]
    assert not bucket.default and bucket.role == "outcome"
    assert bucket.why.startswith("leaks the outcome: knowing it removes")
    assert bucket.uncertainty_removed == pytest.approx(_independent_u(frame, ["bucket"], LEAKAGE_MIN_CELL))
    assert bucket.uncertainty_removed >= LEAKAGE_THRESHOLD
    assert "bucket" in default_attributes(store, "r").left_out_line()


def test_two_columns_that_fix_correctness_only_together_are_both_named(store):
    rng = np.random.default_rng(8)
    n = 2000
    x, y = rng.integers(0, 2, n), rng.integers(0, 2, n)
    frame = pd.DataFrame({"x": x.astype(str), "y": y.astype(str), "lang": rng.choice(["en", "sw"], n),
                          "correct": (x ^ y) == 0})
    _ingest(store, frame)
    notes = {n.name: n for n in attribute_notes(store, "r")}
    assert notes["x"].uncertainty_removed < 0.01 and notes["y"].uncertainty_removed < 0.01
    assert notes["x"].why.startswith("leaks the outcome together with y")
    assert notes["y"].why.startswith("leaks the outcome together with x")
    assert [a.name for a in default_attributes(store, "r")] == ["lang", "input_length"]


def test_small_cells_cannot_make_a_pair_look_leaking(store):
    """200 examples over 15 x 15 values: nearly every pair cell has one or two examples and is pure by chance."""
    rng = np.random.default_rng(2)
    n = 200
    frame = pd.DataFrame({"s": rng.integers(0, 15, n).astype(str), "t": rng.integers(0, 15, n).astype(str),
                          "correct": rng.random(n) < 0.5})
    _ingest(store, frame)
    assert _independent_u(frame, ["s", "t"], 1) > LEAKAGE_THRESHOLD  # the naive estimate would flag them
    notes = {n.name: n for n in attribute_notes(store, "r")}
    assert notes["s"].default and notes["t"].default


def test_constant_attributes_are_dropped_from_the_defaults(store):
    frame = pd.DataFrame({"lang": ["en", "sw"] * 50, "site": ["one"] * 100, "correct": [True, False, True, True] * 25})
    _ingest(store, frame)
    notes = {n.name: n for n in attribute_notes(store, "r")}
    assert notes["site"].why == MSG_CONSTANT and not notes["site"].default
    assert notes["turn"].why == MSG_CONSTANT  # a derived feature with one value over the run
    assert [a.name for a in default_attributes(store, "r")] == ["lang", "input_length"]


# ------------------------------------------------------------------------------------ COMPAS-style columns
def _compas_like(n: int = 6000, seed: int = 3) -> pd.DataFrame:
    """A table shaped like ProPublica's COMPAS analysis file (no COMPAS fixture is in shared/fixtures): correctness
    of the risk score is (decile_score >= 5) == two_year_recid, so the prediction and the label fix it together."""
    rng = np.random.default_rng(seed)
    decile = rng.integers(1, 11, n)
    recid = (rng.random(n) < 0.1 + 0.07 * decile).astype(int)
    return pd.DataFrame({
        "id": [f"p{i}" for i in range(n)],
        "race": rng.choice(["African-American", "Caucasian", "Hispanic", "Other"], n),
        "sex": rng.choice(["Male", "Female"], n), "age_cat": rng.choice(["Less than 25", "25 - 45", "Greater than 45"], n),
        "priors_count": rng.poisson(3, n), "c_charge_degree": rng.choice(["F", "M"], n),
        "decile_score": decile, "score_text": np.where(decile <= 4, "Low", np.where(decile <= 7, "Medium", "High")),
        "two_year_recid": recid, "correct": (decile >= 5) == (recid == 1),
    })


def test_compas_prediction_and_label_columns_are_flagged(store):
    frame = _compas_like()
    store.ingest_frame(frame, name="compas")
    notes = {n.name: n for n in attribute_notes(store, "compas")}
    for name in ("decile_score", "score_text", "two_year_recid"):
        assert notes[name].role == "outcome" and not notes[name].default, name
    assert notes["two_year_recid"].why.startswith("leaks the outcome together with")
    assert "leaks the outcome together with two_year_recid" in notes["decile_score"].why
    defaults = [a.name for a in default_attributes(store, "compas")]
    assert defaults == ["race", "sex", "age_cat", "priors_count", "c_charge_degree"]
    top = slice_table(store, "compas").table["attributes"].head(10)
    assert not any({"decile_score", "two_year_recid"} & set(names) for names in top)
    found = discover(store, "compas").table["predicate"]  # SliceLine with the defaults
    assert len(found) and not any({"decile_score", "two_year_recid", "score_text"} & set(p) for p in found)


def test_real_logs_prediction_and_label_columns_are_left_out(real_logs, store):
    """openai-evals' ``picked`` (the model's pick: correct exactly when it equals the expected answer) and
    lm-eval's chosen answer and label are outcome attributes; the logs' subgroups stay defaults."""
    store.ingest([real_logs / "openai_evals" / "examples_crossword-turbo.jsonl"])
    store.ingest(sorted((real_logs / "lm_eval").glob("samples_bbq_local_*.jsonl")))
    runs = dict(zip(store.runs()["format"], store.runs()["run_id"]))
    evals = {n.name: n for n in attribute_notes(store, runs["openai_evals"])}
    assert evals["picked"].role == "outcome" and not evals["picked"].default
    assert "leaks the outcome: knowing it removes 100%" in evals["picked"].why  # the data says so too
    bbq = {n.name: n for n in attribute_notes(store, runs["lm_eval"])}
    for name in ("label", "chosen_index", "chosen_logprob"):
        assert bbq[name].role == "outcome" and not bbq[name].default, name
    for name in ("polarity", "context_condition"):
        assert bbq[name].default, name


@pytest.mark.real_logs
def test_a_subgroup_that_leaks_only_beside_an_output_feature_stays_a_default(tmp_path, real_logs):
    # In this Inspect log `lang` with is_refusal removes just over half the uncertainty, but is_refusal alone
    # removes a third: what `lang` adds is far below the threshold, so it is still a subgroup to slice by.
    with open_store(tmp_path / "h.duckdb", seed_demo=False) as store:
        run = store.ingest(real_logs / "hostile" / "markdown_injection.eval").added[0].run_id
        notes = {n.name: n for n in attribute_notes(store, run)}
        assert notes["lang"].default and notes["lang"].role == "context"
        assert not notes["is_refusal"].default
