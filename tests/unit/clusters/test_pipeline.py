"""The cluster pipeline: recovery of the demo's themes, labels and map, embedders, sampling, weights, edge cases.

The fixtures (``demo``, ``topics``) are in this folder's conftest.py; the cluster table is tested in
test_describe.py, the result cache in test_cache.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis import FaultlineError
from analysis.clusters import embedders as E
from analysis.clusters import pipeline as C
from analysis.clusters.describe import EMPTY, NOISE
from analysis.slicing.table import slice_table
from tests.conftest import HELM_BBQ, ROOT
from tests.unit.clusters.topics import DEMO_PROMPTS, TOPICS, topic_frame

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


# ------------------------------------------------------------------------------------------ the demo
def test_demo_themes_are_recovered(demo):
    store, result, truth = demo
    theme = [truth["example_theme"][i] for i in result.labels["example_id"]]
    scores = C.purity_and_ari(result.labels["cluster"], theme)
    print(f"demo ({DEMO_PROMPTS} inputs): {result.n_clusters} clusters, {scores}")
    assert 6 <= result.n_clusters <= 25
    assert scores["purity"] >= 0.75 and scores["ari"] >= 0.5, scores
    assert scores["clustered_share"] >= 0.85
    # the medication theme has a cluster whose terms say so
    assert any({"dose", "dosage"} & set(terms) for terms in result.table["terms"])


def test_the_planted_failures_are_what_the_worst_clusters_are_about(demo):
    """After the objective change: medication questions get refused; outputs show refusals and padding."""
    store, _, _ = demo
    inputs = C.cluster_run(store, "after-objective-change", field="input")
    worst = inputs.table.iloc[0]
    assert worst["finding"] and {"dose", "dosage"} & set(worst["terms"])
    assert next(iter(worst["failure_modes"])) == "over_refusal"
    outputs = C.cluster_run(store, "after-objective-change", field="output")
    findings = outputs.findings()
    top_modes = {next(iter(m)) for m in findings["failure_modes"] if m}
    assert {"over_refusal", "reward_hacking"} <= top_modes
    refusal = findings[[next(iter(m), None) == "over_refusal" for m in findings["failure_modes"]]].iloc[0]
    assert {"sorry", "can't"} & set(refusal["terms"]) and refusal["error_rate"] > 0.9
    assert "failure_mode" in outputs.labels and inputs.settings["failure_modes"].startswith("the failure-mode")


def test_every_example_has_a_label_and_a_place_on_the_map(demo):
    _, result, _ = demo
    labels = result.labels
    assert len(labels) == DEMO_PROMPTS and labels["example_id"].is_unique
    assert labels[["x", "y"]].notna().all().all()
    assert result.table["size"].sum() == DEMO_PROMPTS
    assert set(labels["cluster"]) == set(result.table["cluster"])
    names = [c for c in result.table["cluster"] if c not in (NOISE, EMPTY)]
    sizes = result.table.set_index("cluster").loc[sorted(names, key=int), "size"].to_numpy()
    assert (np.diff(sizes) <= 0).all(), "clusters are numbered by size, largest first"


def test_a_cluster_slices_with_metadata(demo):
    """``cluster.input = 0 AND language = sw`` is a slice like any other."""
    store, result, _ = demo
    table = slice_table(store, "baseline", ["cluster.input", "language"], min_support=1).table
    cell = table[[p == {"cluster.input": "0", "language": "sw"} for p in table["predicate"]]]
    examples = store.examples("baseline", columns=["example_id", "meta.language"])
    in_zero = set(result.labels.loc[result.labels["cluster"] == "0", "example_id"])
    expected = examples[examples["example_id"].isin(in_zero) & (examples["meta.language"] == "sw")]
    assert cell["n"].item() == len(expected)


# ------------------------------------------------------------------------------------------ small runs
def test_same_input_and_parameters_give_identical_labels(store, topics):
    run, _ = topics
    first = C.cluster_run(store, run.run_id, embedder="model2vec", use_cache=False, save_column=False)
    second = C.cluster_run(store, run.run_id, embedder="model2vec", use_cache=False, save_column=False)
    assert first.labels["cluster"].tolist() == second.labels["cluster"].tolist()
    np.testing.assert_array_equal(first.labels[["x", "y"]].to_numpy(), second.labels[["x", "y"]].to_numpy())


def test_topics_are_found_and_the_failing_one_is_a_finding(store, topics):
    run, frame = topics
    result = C.cluster_run(store, run.run_id, embedder="model2vec", min_cluster_size=10)
    by_example = dict(zip(frame["example_id"], frame["topic"]))
    scores = C.purity_and_ari(result.labels["cluster"], [by_example[i] for i in result.labels["example_id"]])
    assert scores["ari"] >= 0.9, scores
    worst = result.table.iloc[0]
    assert worst["finding"] and "git" in worst["terms"] and worst["error_rate"] > 0.5


def test_labels_become_the_runs_cluster_attribute(store, topics):
    run, _ = topics
    result = C.cluster_run(store, run.run_id, field="both", embedder="tfidf")
    fields = store.fields(run.run_id).set_index("column_name")
    assert fields.loc["cluster.both", "role"] == "cluster" and fields.loc["cluster.both", "kind"] == "categorical"
    stored = store.examples(run.run_id, columns=["example_id", "cluster.both"])
    assert stored["cluster.both"].tolist() == result.labels["cluster"].tolist()
    version = store.data_version()
    C.cluster_run(store, run.run_id, field="both", embedder="tfidf")  # cached, same labels: nothing rewritten
    assert store.data_version() == version
    examples = C.cluster_examples(store, result, result.table.iloc[0]["cluster"])
    assert len(examples) == result.table.iloc[0]["n"]


def test_fallback_embedder_works_without_the_model_file(store, topics, tmp_path, monkeypatch):
    run, _ = topics
    monkeypatch.setattr(E, "MODEL_DIR", tmp_path / "no-model")
    assert not E.model2vec_available()
    result = C.cluster_run(store, run.run_id, use_cache=False)
    assert result.settings["embedder"] == "tfidf" and result.n_clusters >= 2
    with pytest.raises(FaultlineError) as err:
        C.cluster_run(store, run.run_id, embedder="model2vec")
    assert str(err.value) == E.MSG_NO_MODEL.format(path=tmp_path / "no-model")


def test_the_logs_own_vectors_are_used_first(store):
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(2, 8)) * 5
    group = np.arange(60) % 2
    frame = pd.DataFrame({"prompt": ["same words"] * 60, "correct": group == 0,
                          "embedding": [list(centres[g] + rng.normal(size=8) * 0.1) for g in group]})
    run = store.ingest_frame(frame, name="vectors").added[0]
    result = C.cluster_run(store, run.run_id, min_cluster_size=10)
    assert result.settings["embedder"] == "vector"
    assert C.purity_and_ari(result.labels["cluster"], group)["ari"] == 1.0


def test_unusable_vectors_fall_back_under_auto_and_are_named_otherwise(store):
    frame = topic_frame(40).rename(columns={"question": "prompt"})
    frame["embedding"] = [None if i == 3 else [float(i % 4), 1.0] for i in range(40)]
    run = store.ingest_frame(frame, name="holes").added[0]
    result = C.cluster_run(store, run.run_id, embedder="auto")
    assert result.settings["embedder"] == "model2vec"
    assert any("1 examples have no vector" in n for n in result.settings["notes"])
    with pytest.raises(FaultlineError) as err:
        C.cluster_run(store, run.run_id, embedder="vector")
    assert str(err.value) == E.MSG_BAD_VECTORS.format(run="holes", problem="1 examples have no vector")


def test_large_runs_are_fitted_on_a_sample_and_say_so(store):
    frame = topic_frame(400, seed=1)
    run = store.ingest_frame(frame, name="big").added[0]
    result = C.cluster_run(store, run.run_id, embedder="model2vec", sample_size=100, min_cluster_size=20)
    assert result.settings["n_fit"] == 100 and result.settings["assigned"] == 300
    assert any("sample of 100" in n and "other 300" in n for n in result.settings["notes"])
    by_example = dict(zip(frame["example_id"], frame["topic"]))
    assert C.purity_and_ari(result.labels["cluster"], [by_example[i] for i in result.labels["example_id"]])[
        "purity"] >= 0.9


def test_each_distinct_text_is_fitted_once(store, monkeypatch):
    """UMAP and HDBSCAN never see two equal rows: exact duplicates gave zero and rounding-size distances
    that UMAP took for the local scale (the result then hung on the CPU's float kernels)."""
    seen = []
    original = C._umap_embed

    def spy(vectors, knn, **kwargs):
        seen.append(vectors.copy())
        return original(vectors, knn, **kwargs)

    monkeypatch.setattr(C, "_umap_embed", spy)
    frame = topic_frame(80).assign(question=[f"{TOPICS[i % 4]} (case {i % 40})" for i in range(80)])
    run = store.ingest_frame(frame, name="repeats").added[0]
    result = C.cluster_run(store, run.run_id, embedder="model2vec", min_cluster_size=10, save_column=False)
    distinct = frame["question"].nunique()
    assert result.settings["n_distinct"] == distinct < 80 and result.settings["n_fit"] == distinct
    assert seen and all(len(np.unique(v, axis=0)) == len(v) == distinct for v in seen)
    assert (result.labels.groupby("text")["cluster"].nunique() == 1).all(), "equal texts share their cluster"
    assert any(f"{distinct:,} distinct texts" in n for n in result.settings["notes"])


def test_repeating_every_example_changes_only_the_sizes(store):
    """Every example twice, with minimum sizes twice as large (they count examples): the same clusters, twice the size."""
    frame = topic_frame(120, seed=2)
    once = store.ingest_frame(frame, name="once").added[0]
    twice = store.ingest_frame(pd.concat([frame, frame.assign(example_id=frame["example_id"] + "b")]),
                               name="twice").added[0]
    kwargs = {"embedder": "model2vec", "use_cache": False, "save_column": False}
    first = C.cluster_run(store, once.run_id, min_cluster_size=10, min_samples=3, **kwargs)
    second = C.cluster_run(store, twice.run_id, min_cluster_size=20, min_samples=6, **kwargs)
    labels = second.labels.set_index("example_id")["cluster"]
    assert first.n_clusters >= 2
    # the same partition (clusters of equal size may swap their numbers)
    for ids in (frame["example_id"], frame["example_id"] + "b"):
        assert C.purity_and_ari(labels.loc[ids].tolist(), first.labels["cluster"].tolist())["ari"] == 1.0
    assert labels.loc[frame["example_id"]].tolist() == labels.loc[frame["example_id"] + "b"].tolist()
    assert sorted(second.table["size"]) == sorted(2 * first.table["size"])


def test_a_text_repeated_often_weighs_as_many_examples(store):
    """A canned answer given 30 times is one point to UMAP, but 30 examples to HDBSCAN: a cluster, the worst one.

    The one point lies where UMAP puts its nearest topic, so HDBSCAN may join some of that topic's points to it: over
    seeds 0-5 the canned examples were 60-100% of their cluster (60% at seed 0 on one machine, 91% on another: the
    layout's floating point differs by CPU). What holds at every seed is asserted: every canned example in one cluster
    (never noise), most of it, the worst cluster and a finding."""
    frame = topic_frame(80)
    canned = pd.DataFrame({"example_id": [f"r{i:02d}" for i in range(30)],
                           "question": ["I'm sorry, but I can't help with that request."] * 30,
                           "response": ["-"] * 30, "correct": [False] * 30, "topic": ["refusal"] * 30})
    run = store.ingest_frame(pd.concat([frame, canned]), name="canned").added[0]
    result = C.cluster_run(store, run.run_id, embedder="model2vec", min_cluster_size=10, save_column=False)
    is_canned = result.labels["example_id"].str.startswith("r")
    assert result.labels.loc[is_canned, "cluster"].nunique() == 1
    name = result.labels.loc[is_canned, "cluster"].iloc[0]
    assert name not in (NOISE, EMPTY)
    assert is_canned[result.labels["cluster"] == name].mean() > 0.5, "the cluster is mostly the canned answer's"
    worst = result.table.iloc[0]
    assert worst["cluster"] == name and worst["error_rate"] > 0.8 and worst["finding"]


def test_weighted_hdbscan_counts_examples():
    """Repeating points is HDBSCAN over the examples: a point given weight 12 is a cluster of 12 (min size 10),
    where the same point alone is noise; with unit weights it is plain HDBSCAN."""
    rng = np.random.default_rng(0)
    blobs = np.r_[rng.normal(0, 0.05, size=(15, 2)), rng.normal(5, 0.05, size=(15, 2)), [[10.0, -10.0]]]
    plain = C._hdbscan(blobs, min_cluster_size=10, min_samples=3)
    np.testing.assert_array_equal(C._weighted_hdbscan(blobs, np.ones(31, dtype=int), min_cluster_size=10,
                                                      min_samples=3, seed=0), plain)
    assert plain[-1] == -1
    weight = np.r_[np.ones(30, dtype=int), 12]
    labels = C._weighted_hdbscan(blobs, weight, min_cluster_size=10, min_samples=3, seed=0)
    assert labels[-1] >= 0 and labels[-1] not in set(labels[:30]) and len(set(labels[:30])) == 2
    again = C._weighted_hdbscan(blobs, weight, min_cluster_size=10, min_samples=3, seed=0)
    np.testing.assert_array_equal(labels, again)


def test_progress_is_reported(store, topics):
    run, _ = topics
    seen = []
    C.cluster_run(store, run.run_id, embedder="tfidf", use_cache=False, progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(seen) >= 6
    assert any("UMAP" in m for _, m in seen)


def test_real_helm_bbq_outputs_are_clustered_and_described(store):
    report = store.ingest(HELM_BBQ)
    for run in report.added:
        result = C.cluster_run(store, run.run_id, field="output")
        assert result.table["size"].sum() == run.row_count
        described = result.table[~result.table["cluster"].isin([NOISE, EMPTY])]
        assert len(described) >= 2 and all(len(t) for t in described["terms"])
        assert result.table["q_value"].notna().any()


# ------------------------------------------------------------------------------------------ edge cases
@pytest.mark.parametrize("texts, message", [
    (["a", "b", "c"], C.MSG_TOO_FEW.format(minimum=10, field="input", run="edge", n=3)),
    (["", "  ", None] * 5, C.MSG_ALL_EMPTY.format(field="input", run="edge")),
    (["x"] * 4 + [""] * 20, C.MSG_TOO_FEW.format(minimum=10, field="input", run="edge", n=4)),
])
def test_runs_that_cannot_be_clustered_say_why(store, texts, message):
    store.ingest_frame(pd.DataFrame({"prompt": texts, "correct": [True, False] * (len(texts) // 2) +
                                     [True] * (len(texts) % 2)}), name="edge")
    with pytest.raises(FaultlineError) as err:
        C.cluster_run(store, "edge")
    assert str(err.value) == message


def test_identical_texts_are_one_cluster(store):
    store.ingest_frame(pd.DataFrame({"prompt": ["What is 2+2?"] * 30, "correct": [True, False, True] * 10}),
                       name="same")
    result = C.cluster_run(store, "same")
    assert result.table["cluster"].tolist() == ["0"] and result.table["size"].item() == 30
    assert result.table["error_rate"].item() == pytest.approx(1 / 3)
    assert any("1 distinct text" in n for n in result.settings["notes"])


def test_empty_texts_form_their_own_group(store, topics):
    run, frame = topics
    blanked = frame.assign(question=[q if i % 10 else "" for i, q in enumerate(frame["question"])])
    store.ingest_frame(blanked, name="blanks")
    result = C.cluster_run(store, "blanks", embedder="tfidf")
    empty = result.table[result.table["cluster"] == EMPTY]
    assert empty["size"].item() == 8 and empty["terms"].item() == []


def test_a_reference_field_that_was_never_logged(store, topics):
    run, _ = topics
    with pytest.raises(FaultlineError) as err:
        C.cluster_run(store, run.run_id, field="reference")
    assert str(err.value) == C.MSG_ALL_EMPTY.format(field="reference", run="topics")


@pytest.mark.parametrize("kwargs, message", [
    ({"field": "prompt"}, C.MSG_FIELD.format(value="prompt")),
    ({"min_cluster_size": 1}, C.MSG_INT.format(name="min_cluster_size", minimum=2, value=1)),
    ({"n_neighbors": 2.5}, C.MSG_INT.format(name="n_neighbors", minimum=2, value=2.5)),
    ({"seed": -1}, C.MSG_SEED.format(value=-1)),
    ({"fdr": 1.5}, C.MSG_FDR.format(value=1.5)),
    ({"embedder": "bert"}, E.MSG_EMBEDDER.format(choices=", ".join(E.EMBEDDERS), value="bert")),
])
def test_bad_parameters_are_named(store, topics, kwargs, message):
    run, _ = topics
    with pytest.raises(FaultlineError) as err:
        C.cluster_run(store, run.run_id, **kwargs)
    assert str(err.value) == message


# ------------------------------------------------------------------------------------------ pieces
def test_exact_knn_matches_brute_force():
    rng = np.random.default_rng(0)
    unit = C._unit(rng.normal(size=(300, 12)).astype(np.float32))
    idx, dist = C._exact_knn(unit, 6, block=64)
    sims = unit @ unit.T
    np.fill_diagonal(sims, 2.0)
    expected = np.argsort(-sims, axis=1, kind="stable")[:, :6]
    assert (idx == expected).all() and (idx[:, 0] == np.arange(300)).all()
    np.testing.assert_allclose(dist[:, 1:], 1 - np.take_along_axis(unit @ unit.T, expected, 1)[:, 1:], atol=1e-5)


def test_default_parameters_adapt_to_the_run():
    small, large = C.default_parameters(200), C.default_parameters(50_000)
    assert small["n_fit"] == 200 and large["n_fit"] == C.DEFAULT_SAMPLE_SIZE
    assert small["n_neighbors"] < large["n_neighbors"] <= 30
    assert small["min_cluster_size"] < large["min_cluster_size"]


def test_warm_up_compiles_quickly_once_done(demo):
    assert C.warm_up() < 5.0


def test_importing_analysis_does_not_import_umap():
    script = "import sys, analysis, analysis.clusters.pipeline, analysis.clusters.embedders; print('umap' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_cli_clusters(store, topics, capsys):
    from analysis.cli import main

    run, _ = topics
    path = str(store.path)
    store.close()
    assert main(["clusters", "--run", run.run_id, "--db", path, "--embedder", "tfidf", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["column"] == "cluster.input" and sum(c["size"] for c in out["clusters"]) == 80
    assert main(["clusters", "--run", run.run_id, "--db", path, "--embedder", "tfidf"]) == 0
    text = capsys.readouterr().out
    assert "from the cache" in text and "cluster.input" in text
    assert main(["clusters", "--run", run.run_id, "--db", path, "--field", "reference"]) == 2
    assert "error: " + C.MSG_ALL_EMPTY.format(field="reference", run="topics") in capsys.readouterr().err
