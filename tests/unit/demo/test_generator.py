"""Tests for analysis.demo.generator: the deterministic demo runs and their planted failure structure.

Every planted effect is re-measured here directly with pandas and scipy (never with the
numbers the generator reports about itself).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from analysis.demo import generator as demo_module
from analysis.demo.generator import DEMO_MODELS, DemoData, generate_demo, write_truth

RUNS = ["baseline", "after-objective-change"]
N_SMALL = 4000
COLUMNS = [
    "example_id", "input", "output", "reference", "correct", "score",
    "language", "domain", "user_segment", "channel", "turn", "paraphrase_group",
    "rm_helpfulness", "rm_harmlessness", "response_length", "kl_to_ref",
    "rater_a", "rater_b", "confidence", "latency_ms", "cost_usd",
]
STR_COLUMNS = ["example_id", "input", "output", "reference", "language", "domain", "user_segment", "channel",
               "paraphrase_group"]
REFUSAL_RE = re.compile(r"\b(?:can't|cannot|not able to|rather not)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def small() -> DemoData:
    return generate_demo(n_prompts=N_SMALL, seed=7)


@pytest.fixture(scope="module")
def full() -> tuple[DemoData, float]:
    start = time.perf_counter()
    data = generate_demo()
    return data, time.perf_counter() - start


def mask_of(frame: pd.DataFrame, predicate: dict) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for col, val in predicate.items():
        mask &= (frame[col] == val).to_numpy()
    return mask


def slice_test(frame: pd.DataFrame, mask: np.ndarray) -> tuple[float, float, float]:
    """Error rate inside and outside the slice, and the one-sided Fisher exact p-value (slice worse)."""
    err = ~frame["correct"].to_numpy()
    a, b = int(err[mask].sum()), int((~err[mask]).sum())
    c, d = int(err[~mask].sum()), int((~err[~mask]).sum())
    p = fisher_exact([[a, b], [c, d]], alternative="greater").pvalue
    return err[mask].mean(), err[~mask].mean(), p


def planted(data: DemoData, ident: str) -> dict:
    return next(p for p in data.truth["planted"] if p["id"] == ident)


def refusal_mask(frame: pd.DataFrame) -> np.ndarray:
    return frame["output"].str.startswith(demo_module.REFUSALS).to_numpy()


# ---------------------------------------------------------------------------------------------
# API, determinism, schema
# ---------------------------------------------------------------------------------------------

def test_api(small):
    assert isinstance(small, DemoData)
    assert list(small.runs) == RUNS
    assert DEMO_MODELS == {"baseline": "acme-chat-7b-v1", "after-objective-change": "acme-chat-7b-v2"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        small.runs = {}
    for fn in (generate_demo, write_truth):
        assert fn.__doc__ and ">>>" in fn.__doc__
    with pytest.raises(TypeError):
        generate_demo(100)  # keyword-only
    with pytest.raises(ValueError):
        generate_demo(n_prompts=0)


def test_imports_only_stdlib_numpy_pandas():
    tree = ast.parse(Path(demo_module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "json", "re", "dataclasses", "pathlib", "numpy", "pandas"}, imported


def test_deterministic():
    a = generate_demo(n_prompts=N_SMALL, seed=11)
    b = generate_demo(n_prompts=N_SMALL, seed=11)
    for name in RUNS:
        pd.testing.assert_frame_equal(a.runs[name], b.runs[name])
    assert json.dumps(a.truth, sort_keys=True) == json.dumps(b.truth, sort_keys=True)
    c = generate_demo(n_prompts=N_SMALL, seed=12)
    assert not a.runs["baseline"]["input"].equals(c.runs["baseline"]["input"])
    assert not a.runs["baseline"]["correct"].equals(c.runs["baseline"]["correct"])
    assert a.truth["example_theme"] != c.truth["example_theme"]


def test_schema_and_dtypes(small):
    for frame in small.runs.values():
        assert list(frame.columns) == COLUMNS
        assert len(frame) == N_SMALL
        for col in STR_COLUMNS:
            assert pd.api.types.is_string_dtype(frame[col].dtype), col
        for col in ("correct", "rater_a", "rater_b"):
            assert frame[col].dtype == bool, col
        for col in ("turn", "response_length"):
            assert frame[col].dtype == np.int64, col
        for col in ("score", "rm_helpfulness", "rm_harmlessness", "kl_to_ref", "confidence", "latency_ms",
                    "cost_usd"):
            assert frame[col].dtype == np.float64, col
        for col in COLUMNS:
            if col != "paraphrase_group":
                assert frame[col].notna().all(), col
        assert frame["example_id"].is_unique
        assert frame["example_id"].str.fullmatch(r"ex-\d{5}").all()
        assert frame["example_id"].iloc[0] == "ex-00001"
        assert frame["score"].between(0, 1).all()
        assert ((frame["confidence"] > 0) & (frame["confidence"] < 1)).all()
        assert (frame["kl_to_ref"] >= 0).all()
        assert (frame["latency_ms"] > 0).all() and (frame["cost_usd"] > 0).all()
        assert frame["turn"].between(1, 8).all() and frame["turn"].mode().iloc[0] == 1
        assert set(frame["language"]) == {"en", "es", "fr", "de", "zh", "hi", "sw", "yo"}
        assert set(frame["channel"]) == {"web", "api", "mobile", "voice"}
        assert set(frame["user_segment"]) == {"free", "pro", "enterprise", "student"}
        assert len(set(frame["domain"])) >= 8 and {"medical", "legal"} <= set(frame["domain"])
        shares = frame["language"].value_counts(normalize=True)
        assert 0.025 < shares["sw"] < 0.055 and 0.025 < shares["yo"] < 0.055
        assert shares["sw"] < shares.drop(["sw", "yo"]).min()
        # roughly N(0, 1) scale
        assert -1 < frame["rm_helpfulness"].mean() < 1 and 0.5 < frame["rm_helpfulness"].std() < 2


def test_response_length_matches_output(small):
    for frame in small.runs.values():
        assert (frame["response_length"] == frame["output"].str.split().str.len()).all()


def test_correct_is_score_at_least_half(small):
    for frame in small.runs.values():
        assert (frame["correct"] == (frame["score"] >= 0.5)).all()
        values = frame["score"].value_counts(normalize=True)
        assert values[1.0] + values[0.0] > 0.85  # mostly 1/0
        assert set(values.index) - {0.0, 1.0}  # some partial credit
        assert (frame.loc[frame["score"] == 0.5, "correct"]).all()


def test_runs_share_prompts(small):
    base, after = small.runs.values()
    for col in ("example_id", "input", "reference", "language", "domain", "user_segment", "channel", "turn",
                "paraphrase_group"):
        assert base[col].equals(after[col]), col
    assert not base["output"].equals(after["output"])


def test_paraphrase_groups(small):
    frame = small.runs["baseline"]
    grouped = frame["paraphrase_group"].notna()
    assert 0.25 < grouped.mean() < 0.35
    sizes = frame.loc[grouped].groupby("paraphrase_group").size()
    assert set(sizes.unique()) == {2, 3}
    # the paraphrases of one item are different texts of the same question (same reference)
    g = frame.loc[grouped].groupby("paraphrase_group")
    assert (g["input"].nunique() == sizes).all()
    assert (g["reference"].nunique() == 1).all()


def test_raters(small):
    for frame in small.runs.values():
        for rater in ("rater_a", "rater_b"):
            agree = (frame[rater] == frame["correct"]).mean()
            assert 0.90 <= agree <= 0.95, (rater, agree)
        disagree = (frame["rater_a"] != frame["rater_b"]).to_numpy()
        legal = (frame["domain"] == "legal").to_numpy()
        assert disagree[legal].mean() > 2 * disagree[~legal].mean()
        p = fisher_exact([[disagree[legal].sum(), (~disagree[legal]).sum()],
                          [disagree[~legal].sum(), (~disagree[~legal]).sum()]], alternative="greater").pvalue
        assert p < 1e-10
    assert small.truth["rater_disagreement"]["predicate"] == {"domain": "legal"}


# ---------------------------------------------------------------------------------------------
# Planted failure structure
# ---------------------------------------------------------------------------------------------

def test_overall_error_rates(small):
    base_err = 1 - small.runs["baseline"]["correct"].mean()
    assert 0.15 <= base_err <= 0.20


SLICE_IDS = ["verbosity_gaming", "medical_over_refusal", "swahili_hallucination", "student_bias",
             "es_legal_conjunction"]


@pytest.mark.parametrize("ident", SLICE_IDS)
def test_planted_slice_is_worse(small, ident):
    entry = planted(small, ident)
    assert entry["predicate"]
    for name in entry["runs"]:
        frame = small.runs[name]
        mask = mask_of(frame, entry["predicate"])
        inside, outside, p = slice_test(frame, mask)
        assert inside > outside + (0.04 if name == "baseline" and ident == "verbosity_gaming" else 0.15), (
            ident, name, inside, outside)
        assert p < 1e-3, (name, p)


def test_planted_slices_at_default_size(full):
    data, _ = full
    assert len(data.runs["baseline"]) == 20_000
    for entry in data.truth["planted"]:
        if not entry["predicate"]:
            continue
        for name in entry["runs"]:
            frame = data.runs[name]
            mask = mask_of(frame, entry["predicate"])
            assert mask.sum() >= 200, (entry["id"], mask.sum())
            inside, outside, p = slice_test(frame, mask)
            assert p < 1e-6, (entry["id"], name, p)
            # large effects (the baseline's web verbosity is the planted weak precursor)
            weak = name == "baseline" and entry["id"] == "verbosity_gaming"
            assert inside > outside + (0.05 if weak else 0.15), (entry["id"], name, inside, outside)


def test_generation_is_fast(full):
    _, seconds = full
    assert seconds < 5.0, seconds


def test_conjunction_only_slice(small, full):
    for data in (small, full[0]):
        entry = planted(data, "es_legal_conjunction")
        assert entry["failure_mode"] == "conjunction" and len(entry["predicate"]) == 2
        for name in RUNS:
            frame = data.runs[name]
            overall = 1 - frame["correct"].mean()
            conj = mask_of(frame, entry["predicate"])
            assert (1 - frame.loc[conj, "correct"].mean()) > overall + 0.2
            for attr, value in entry["predicate"].items():
                alone = mask_of(frame, {attr: value})
                rate, _, p = slice_test(frame, alone)
                assert abs(rate - overall) < 0.03, (name, attr, rate, overall)
                assert p > 0.05, (name, attr, p)  # the attribute alone is not significantly worse


def test_over_refusal(small):
    base, after = small.runs.values()
    medical = (base["domain"] == "medical").to_numpy()
    ref_base, ref_after = refusal_mask(base), refusal_mask(after)
    assert ref_after[medical].mean() > 0.35
    assert ref_base[medical].mean() < 0.05
    assert ref_after[medical].mean() > 10 * ref_base[medical].mean()
    assert ref_after[~medical].mean() < 0.02  # concentrated in the medical domain
    # refusals are counted wrong and get a high harmlessness reward
    assert not after.loc[ref_after, "correct"].any()
    assert after.loc[ref_after, "rm_harmlessness"].mean() > after.loc[~ref_after, "rm_harmlessness"].mean() + 1.5
    # independent check of the marker: every refusal output reads like one
    assert after.loc[ref_after, "output"].str.contains(REFUSAL_RE).all()
    assert not after.loc[~ref_after, "output"].str.contains(r"I'm sorry|I can't help").any()
    ids = set(planted(small, "medical_over_refusal")["example_ids"]["after-objective-change"])
    assert ids == set(after.loc[ref_after, "example_id"])


def test_verbosity_gaming(small):
    entry = planted(small, "verbosity_gaming")
    counts = {}
    for name in RUNS:
        frame = small.runs[name]
        gamed = frame["example_id"].isin(entry["example_ids"][name]).to_numpy()
        counts[name] = gamed.sum()
        assert not frame.loc[gamed, "correct"].any()
        assert frame.loc[gamed, "response_length"].median() > 3 * frame.loc[~gamed, "response_length"].median()
        assert frame.loc[gamed, "rm_helpfulness"].mean() > frame.loc[~gamed, "rm_helpfulness"].mean() + 1.5
        # a wrong, long, highly rewarded answer: the reward model prefers it to correct answers
        assert frame.loc[gamed, "rm_helpfulness"].mean() > frame.loc[frame["correct"], "rm_helpfulness"].mean() + 1
        web = (frame["channel"] == "web").to_numpy()
        assert gamed[web].mean() > 3 * gamed[~web].mean()
    assert counts["after-objective-change"] > 2 * counts["baseline"]


def test_hallucination_is_confident(small):
    entry = planted(small, "swahili_hallucination")
    for name in RUNS:
        frame = small.runs[name]
        halluc = frame["example_id"].isin(entry["example_ids"][name]).to_numpy()
        assert (frame.loc[halluc, "language"] == "sw").all()
        assert not frame.loc[halluc, "correct"].any()
        assert frame.loc[halluc, "output"].str.startswith("According to").all()  # fabricated citation
        assert frame.loc[halluc, "confidence"].mean() > 0.9
        assert frame.loc[halluc, "confidence"].mean() > frame.loc[frame["correct"], "confidence"].mean() + 0.1


def test_paraphrase_brittleness(small):
    entry = planted(small, "paraphrase_brittleness")
    assert entry["predicate"] == {} and entry["failure_mode"] == "lack_of_robustness"
    for name in RUNS:
        frame = small.runs[name]
        grouped = frame[frame["paraphrase_group"].notna()]
        agg = grouped.groupby("paraphrase_group")["correct"].agg(["min", "max", "sum", "size"])
        mixed = agg["min"] != agg["max"]
        injected = agg.index.isin(entry["paraphrase_groups"][name])
        assert mixed.mean() > 0.2
        assert mixed[injected].mean() > 0.95  # one phrasing wrong, another right
        assert mixed[~injected].mean() < 0.05  # otherwise paraphrases agree
        assert (agg.loc[injected, "sum"] == agg.loc[injected, "size"] - 1).mean() > 0.95  # exactly one wrong
        wrong = frame["example_id"].isin(entry["example_ids"][name])
        assert set(frame.loc[wrong, "paraphrase_group"]) == set(entry["paraphrase_groups"][name])
        assert not frame.loc[wrong, "correct"].any()


def test_regression(small, full):
    for data in (small, full[0]):
        reg = data.truth["regression"]
        assert reg["baseline"] == "baseline" and reg["candidate"] == "after-objective-change"
        base, cand = data.runs[reg["baseline"]], data.runs[reg["candidate"]]
        elsewhere = np.ones(len(base), dtype=bool)
        for predicate in reg["slices"]:
            mask = mask_of(base, predicate)
            elsewhere &= ~mask
            before, after = 1 - base.loc[mask, "correct"].mean(), 1 - cand.loc[mask, "correct"].mean()
            assert after > before + 0.2, (predicate, before, after)
        before, after = 1 - base.loc[elsewhere, "correct"].mean(), 1 - cand.loc[elsewhere, "correct"].mean()
        assert after < before + 0.01, (before, after)  # similar or slightly better


# ---------------------------------------------------------------------------------------------
# Truth
# ---------------------------------------------------------------------------------------------

def test_truth_structure(small):
    truth = small.truth
    json.dumps(truth)  # serialisable
    assert truth["seed"] == 7 and truth["n_prompts"] == N_SMALL and truth["generator_version"] == "1"
    assert {p["failure_mode"] for p in truth["planted"]} >= {
        "reward_hacking", "over_refusal", "hallucination", "lack_of_robustness", "bias", "conjunction"}
    ids = set(small.runs["baseline"]["example_id"])
    for entry in truth["planted"]:
        assert {"id", "failure_mode", "component", "runs", "predicate", "description", "example_ids"} <= set(entry)
        assert set(entry["runs"]) <= set(RUNS) and set(entry["example_ids"]) == set(RUNS)
        for name in RUNS:
            frame = small.runs[name]
            assert set(entry["example_ids"][name]) <= ids
            assert not frame.loc[frame["example_id"].isin(entry["example_ids"][name]), "correct"].any()
        for name in entry["runs"]:
            assert len(entry["example_ids"][name]) >= 20
        for col in entry["predicate"]:
            assert col in COLUMNS
    assert planted(small, "medical_over_refusal")["runs"] == ["after-objective-change"]
    assert truth["regression"]["slices"] == [{"domain": "medical"}, {"channel": "web"}]
    assert len(truth["themes"]) >= 8
    assert set(truth["example_theme"]) == ids and set(truth["example_theme"].values()) == set(truth["themes"])


def test_write_truth(small, tmp_path):
    path = tmp_path / "sub" / "truth.json"
    write_truth(small.truth, path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == small.truth
    assert text == json.dumps(small.truth, sort_keys=True, indent=1, ensure_ascii=False)
    write_truth(small.truth, str(tmp_path / "as_str.json"))
    assert (tmp_path / "as_str.json").exists()


# ---------------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------------

def test_texts_are_varied(small):
    frame = small.runs["baseline"]
    assert frame["input"].nunique() > 0.9 * N_SMALL
    themes = pd.Series(small.truth["example_theme"]).reindex(frame["example_id"]).to_numpy()
    for theme in small.truth["themes"]:
        inputs = frame.loc[themes == theme, "input"]
        assert len(inputs) > 100 and inputs.nunique() > 0.85 * len(inputs), theme
        # many phrasings: the first four words of the question part vary a lot
        openings = inputs.str.replace(r"^.*?([A-Z][^.?!]*\?)\s*$", r"\1", regex=True).str.split().str[:3].str.join(" ")
        assert openings.nunique() >= 8, theme
    for run in small.runs.values():
        assert run["output"].nunique() > 0.6 * N_SMALL
    # prompt length varies: a tail of long prompts
    words = frame["input"].str.split().str.len()
    assert words.quantile(0.9) > 2.5 * words.median() and words.max() > 100


def test_theme_material_is_rich():
    assert len(demo_module._THEMES) >= 8
    for theme in demo_module._THEMES:
        assert len(theme.questions) >= 8, theme.name
        assert len(theme.entities) >= 15, theme.name
        for slot in (theme.who, theme.ctx, theme.why):
            assert len(slot) >= 15 and len(set(slot)) == len(slot), theme.name
        assert len(theme.correct) >= 6 and len(theme.wrong) >= 6, theme.name
    for wrongs, theme in zip(demo_module._WRONG, demo_module._THEMES):
        for entity, candidates in zip(theme.entities, wrongs):
            assert candidates and entity["ans"] not in candidates, (theme.name, entity)


def test_wrong_answers_are_plausible(small):
    """A wrong answer differs from the reference but is of the same kind (a number for a number)."""
    numeric = {"medication", "tax_finance", "travel_booking", "recipes", "history_facts", "tenancy_law"}
    for frame in small.runs.values():
        theme = frame["example_id"].map(small.truth["example_theme"])
        wrong = frame[~frame["correct"] & ~refusal_mask(frame) & theme.isin(numeric)]
        assert len(wrong) > 100
        assert wrong["output"].str.contains(r"\d").all()
        # the wrong answer is not the reference's answer: the reference sentence is not in the output
        assert not any(ref in out for ref, out in zip(wrong["reference"], wrong["output"]))


@pytest.mark.parametrize("n", [1, 2, 7, 30])
def test_tiny_sizes(n):
    data = generate_demo(n_prompts=n, seed=3)
    for frame in data.runs.values():
        assert len(frame) == n and list(frame.columns) == COLUMNS
    json.dumps(data.truth)
