"""The slicing engine against independent computations: pandas + scipy + statsmodels, and fairlearn."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis import FaultlineError
from analysis.slicing.attributes import MISSING, list_attributes
from analysis.slicing.table import heatmap, slice_examples, slice_table
from tests.conftest import HELM_BBQ

pytestmark = pytest.mark.real_logs  # reads ../shared/fixtures (tests/conftest.py)


def make_frame(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw", "fr", "yo"], size=n, p=[0.6, 0.15, 0.2, 0.05])
    channel = rng.choice(["web", "api", "voice"], size=n)
    lang_obj = lang.astype(object)
    lang_obj[rng.random(n) < 0.03] = None  # missing values are a slice of their own
    p_err = 0.12 + 0.25 * (lang == "sw") + 0.3 * ((lang == "yo") & (channel == "api"))
    correct = rng.random(n) >= p_err
    return pd.DataFrame({
        "example_id": [f"e{i}" for i in range(n)], "prompt": [f"question {i}" for i in range(n)],
        "response": np.where(rng.random(n) < 0.05, "I'm sorry, but I can't help with that.", "An answer."),
        "correct": correct, "lang": lang_obj, "channel": channel,
        "tokens": rng.integers(1, 500, size=n).astype(float), "turn": rng.integers(1, 4, size=n),
    })


def independent_table(frame: pd.DataFrame, attrs: list[str], min_support: int) -> pd.DataFrame:
    """The same analysis with pandas, scipy.stats.fisher_exact and statsmodels (not Faultline's code)."""
    err = (~frame["correct"]).astype(int)
    total_n, total_e = len(frame), int(err.sum())
    rows = []
    for k in (1, 2):
        for combo in itertools.combinations(attrs, k):
            keys = frame[list(combo)].astype(object).where(frame[list(combo)].notna(), MISSING)
            grouper = list(combo) if k > 1 else combo[0]
            for values, idx in keys.groupby(grouper, dropna=False).groups.items():
                values = values if isinstance(values, tuple) else (values,)
                n = len(idx)
                e = int(err.loc[idx].sum())
                rows.append({"predicate": dict(zip(combo, map(str, values))), "n": n, "errors": e})
    table = pd.DataFrame(rows)
    p_values, lows, highs, methods = [], [], [], []
    for row in table.itertuples():
        n, e = row.n, row.errors
        rn, re_ = total_n - n, total_e - e
        small = n < 30 or e < 5 or n - e < 5
        method = "beta" if small else "wilson"
        low, high = proportion_confint(e, n, alpha=0.05, method=method)
        lows.append(low)
        highs.append(high)
        methods.append("clopper-pearson" if small else "wilson")
        if n < min_support:
            p_values.append(np.nan)
            continue
        expected = [n * total_e / total_n, n * (total_n - total_e) / total_n,
                    rn * total_e / total_n, rn * (total_n - total_e) / total_n]
        if min(expected) < 5:
            p_values.append(fisher_exact([[e, n - e], [re_, rn - re_]])[1])
        else:
            p_values.append(proportions_ztest([e, re_], [n, rn])[1])
    table["ci_low"], table["ci_high"], table["ci_method"] = lows, highs, methods
    table["p_value"] = p_values
    tested = table["p_value"].notna()
    table["q_value"] = np.nan
    table.loc[tested, "q_value"] = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    return table


@pytest.fixture
def synthetic(store):
    frame = make_frame()
    (run,) = store.ingest_frame(frame, name="synthetic").added
    return run, frame


def key(predicate: dict) -> tuple:
    return tuple(sorted(predicate.items()))


def test_slice_table_equals_independent_computation(store, synthetic):
    run, frame = synthetic
    result = slice_table(store, run.run_id, ["lang", "channel"], max_order=2, min_support=40)
    mine = {key(p): row for p, row in zip(result.table["predicate"], result.table.itertuples())}
    theirs = independent_table(frame, ["lang", "channel"], min_support=40)
    assert len(mine) == len(theirs) == 5 + 3 + 15
    for row in theirs.itertuples():
        got = mine[key(row.predicate)]
        assert (got.n, got.errors) == (row.n, row.errors)
        assert got.ci_method == row.ci_method
        assert got.ci_low == pytest.approx(row.ci_low, abs=1e-10)
        assert got.ci_high == pytest.approx(row.ci_high, abs=1e-10)
        if np.isnan(row.p_value):
            assert np.isnan(got.p_value) and got.too_small
        else:
            assert got.p_value == pytest.approx(row.p_value, rel=1e-9, abs=1e-300)
            assert got.q_value == pytest.approx(row.q_value, rel=1e-9, abs=1e-300)
    assert result.total_n == len(frame)
    assert result.overall_error_rate == pytest.approx((~frame["correct"]).mean())


def test_mean_score_per_slice(store):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"prompt": ["q"] * 500, "lang": rng.choice(["en", "sw"], 500),
                          "score": rng.random(500).round(3)})
    (run,) = store.ingest_frame(frame, name="graded").added
    table = slice_table(store, run.run_id, ["lang"], max_order=1, min_support=1).table
    for p, mean in zip(table["predicate"], table["mean_score"]):
        assert mean == pytest.approx(frame.loc[frame["lang"] == p["lang"], "score"].mean(), abs=1e-12)


def test_missing_values_are_their_own_slice(store, synthetic):
    run, frame = synthetic
    table = slice_table(store, run.run_id, ["lang"], max_order=1).table
    missing = table[[p == {"lang": MISSING} for p in table["predicate"]]]
    assert missing["n"].item() == frame["lang"].isna().sum() > 0


def test_fairlearn_metricframe_matches_on_real_helm_logs(store):
    from fairlearn.metrics import MetricFrame, count

    report = store.ingest(HELM_BBQ)
    for run in report.added:
        frame = store.examples(run.run_id)
        for attr in ("ambiguous", "negative"):
            mf = MetricFrame(metrics={"accuracy": lambda t, p: float(np.mean(t == p)), "count": count},
                             y_true=np.ones(len(frame), dtype=int), y_pred=frame["correct"].astype(int).to_numpy(),
                             sensitive_features=frame[f"meta.{attr}"])
            table = slice_table(store, run.run_id, [attr], max_order=1, min_support=1).table.set_index("description")
            for group, values in mf.by_group.iterrows():
                row = table.loc[f"{attr} = {group}"]
                assert row["n"] == values["count"]
                assert row["error_rate"] == pytest.approx(1 - values["accuracy"], abs=1e-12)
            assert mf.overall["accuracy"] == pytest.approx(frame["correct"].mean())


def test_numbers_are_binned_by_quantiles_few_distinct_stay_categorical(store, synthetic):
    run, frame = synthetic
    result = slice_table(store, run.run_id, ["tokens", "turn"], max_order=1, min_support=1, bins=4)
    edges = result.edges["tokens"]
    assert edges == pytest.approx(list(np.quantile(frame["tokens"], [0.25, 0.5, 0.75])))
    tokens = result.table[[a == ("tokens",) for a in result.table["attributes"]]]
    assert len(tokens) == 4 and tokens["n"].sum() == len(frame)
    lowest = tokens[[p["tokens"].startswith("≤") for p in tokens["predicate"]]]
    assert lowest["n"].item() == (frame["tokens"] <= edges[0]).sum()
    turns = result.table[[a == ("turn",) for a in result.table["attributes"]]]
    assert sorted(p["turn"] for p in turns["predicate"]) == ["1", "2", "3"]


def test_given_bin_edges(store, synthetic):
    run, frame = synthetic
    result = slice_table(store, run.run_id, ["tokens"], max_order=1, min_support=1, edges={"tokens": [100, 300]})
    counts = {p["tokens"]: n for p, n in zip(result.table["predicate"], result.table["n"])}
    assert counts == {"≤ 100": (frame["tokens"] <= 100).sum(), "100 – 300": frame["tokens"].between(100.5, 300).sum(),
                      "> 300": (frame["tokens"] > 300).sum()}


def test_derived_context_attributes(store, synthetic):
    run, frame = synthetic
    names = {a.name for a in list_attributes(store, run.run_id)}
    assert {"input_length", "output_length", "is_refusal", "output_empty"} <= names
    assert "turn" in names  # the logged field takes the name
    table = slice_table(store, run.run_id, ["is_refusal"], max_order=1, min_support=1).table
    refusals = table[[p == {"is_refusal": "true"} for p in table["predicate"]]]
    assert refusals["n"].item() == frame["response"].str.startswith("I'm sorry").sum()


def test_timestamps_are_sliced_by_period(store):
    frame = pd.DataFrame({"prompt": ["p"] * 90, "correct": [True, False, True] * 30,
                          "asked": pd.date_range("2026-01-01", periods=90, freq="D")})
    (run,) = store.ingest_frame(frame, name="time").added
    table = slice_table(store, run.run_id, ["asked"], max_order=1, min_support=1).table
    # 90 days -> weekly periods
    assert table["n"].sum() == 90 and 13 <= len(table) <= 14
    assert all(len(p["asked"]) == 10 for p in table["predicate"])


def test_too_small_slices_are_reported_not_tested(store, synthetic):
    run, _ = synthetic
    table = slice_table(store, run.run_id, ["lang", "channel"], min_support=200).table
    small = table[table["too_small"]]
    assert len(small) > 0 and small["p_value"].isna().all() and not small["finding"].any()
    assert (table.loc[~table["too_small"], "n"] >= 200).all()


def test_min_support_as_a_fraction_of_the_run(store, synthetic):
    """0.05 of the run's 3,000 examples is 150: the same table as min_support=150, and heatmap too."""
    run, frame = synthetic
    as_fraction = slice_table(store, run.run_id, ["lang", "channel"], min_support=0.05)
    as_count = slice_table(store, run.run_id, ["lang", "channel"], min_support=int(0.05 * len(frame)))
    pd.testing.assert_frame_equal(as_fraction.table, as_count.table)
    assert as_fraction.table["too_small"].any() and (as_fraction.table.loc[~as_fraction.table["too_small"], "n"]
                                                     >= 150).all()
    pd.testing.assert_frame_equal(heatmap(store, run.run_id, "lang", "channel", min_support=0.05),
                                  heatmap(store, run.run_id, "lang", "channel", min_support=150))


def test_sorted_by_evidence_and_planted_conjunction_found(store, synthetic):
    run, _ = synthetic
    table = slice_table(store, run.run_id, ["lang", "channel"], min_support=30).table
    q = table["q_value"].fillna(2).to_numpy()
    assert (np.diff(q) >= 0).all()
    findings = set(table.loc[table["finding"], "description"])
    assert "lang = sw" in findings
    assert "lang = yo AND channel = api" in findings


def test_heatmap_cells(store, synthetic):
    run, frame = synthetic
    cells = heatmap(store, run.run_id, "lang", "channel", min_support=1)
    assert len(cells) == 15 and cells["n"].sum() == len(frame)
    cell = cells[(cells["lang"] == "sw") & (cells["channel"] == "web")].iloc[0]
    sub = frame[(frame["lang"] == "sw") & (frame["channel"] == "web")]
    assert cell["n"] == len(sub) and cell["errors"] == (~sub["correct"]).sum()
    assert cell["ci_low"] <= cell["error_rate"] <= cell["ci_high"]


def test_slice_examples(store, synthetic):
    run, frame = synthetic
    examples = slice_examples(store, run.run_id, {"lang": "sw", "channel": "api"}, limit=None)
    expected = frame[(frame["lang"] == "sw") & (frame["channel"] == "api")]
    assert set(examples["example_id"]) == set(expected["example_id"])
    assert examples["correct"].iloc[0] == False  # noqa: E712 - failures first
    missing = slice_examples(store, run.run_id, {"lang": MISSING}, limit=None)
    assert len(missing) == frame["lang"].isna().sum()
    bins = slice_table(store, run.run_id, ["tokens"], max_order=1, min_support=1).table
    label = bins["predicate"].iloc[0]["tokens"]
    assert len(slice_examples(store, run.run_id, {"tokens": label}, limit=None)) == bins["n"].iloc[0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_order": 4}, "Invalid 'max_order' parameter: expected 1, 2 or 3, got 4"),
    ({"min_support": 0}, "Invalid 'min_support' parameter: expected an integer >= 1 (a count of examples) or a number "
                         "in (0, 1) (a fraction of the examples analysed), got 0"),
    ({"min_support": 1.5}, "Invalid 'min_support' parameter: expected an integer >= 1 (a count of examples) or a "
                           "number in (0, 1) (a fraction of the examples analysed), got 1.5"),
    ({"fdr": 1.5}, "Invalid 'fdr' parameter: expected a number in (0, 1), got 1.5"),
    ({"bins": 1}, "Invalid 'bins' parameter: expected an integer from 2 to 20, got 1"),
])
def test_parameter_validation(store, synthetic, kwargs, message):
    run, _ = synthetic
    with pytest.raises(FaultlineError) as info:
        slice_table(store, run.run_id, ["lang"], **kwargs)
    assert str(info.value) == message


def test_unknown_attribute_names_the_known_ones(store, synthetic):
    run, _ = synthetic
    with pytest.raises(FaultlineError, match="has no attribute 'colour'; attributes: lang, channel"):
        slice_table(store, run.run_id, ["colour"])


def test_hostile_attribute_names(store):
    frame = pd.DataFrame({"prompt": ["p"] * 60, "correct": [True, False] * 30,
                          'x"; DROP TABLE runs; --': ["a", "b", "c"] * 20})
    (run,) = store.ingest_frame(frame, name="hostile").added
    table = slice_table(store, run.run_id, ['x"; DROP TABLE runs; --'], max_order=1, min_support=1).table
    assert table["n"].sum() == 60 and len(store.runs()) == 1


def test_planted_demo_slices_are_findings(tmp_path):
    import json

    from analysis import open_store
    from analysis.demo.seed import demo_truth_path, ensure_demo

    with open_store(tmp_path / "demo.duckdb", seed_demo=False) as store:
        ensure_demo(store, n_prompts=6000)
        truth = json.loads(demo_truth_path(store).read_text())
        recovered, total = 0, 0
        for planted in truth["planted"]:
            if not planted["predicate"]:
                continue  # paraphrase brittleness is group-level, not a slice
            for run in planted["runs"]:
                total += 1
                attrs = list(planted["predicate"])
                result = slice_table(store, run, ["language", "domain", "user_segment", "channel"], min_support=30)
                found = set(result.findings()["description"])
                description = " AND ".join(f"{a} = {planted['predicate'][a]}" for a in result.settings["attributes"]
                                           if a in attrs)
                recovered += description in found
        assert total >= 8 and recovered == total


def test_computed_column_is_an_attribute_like_any_other(store, synthetic):
    """A clustering (or any computed per-example label) stored on a run slices like a logged field."""
    run, frame = synthetic
    labels = pd.DataFrame({"example_id": frame["example_id"], "value": (np.arange(len(frame)) % 3).astype(np.int64)})
    store.set_example_column(run.run_id, "cluster.output", labels, role="cluster", kind="categorical")
    names = [a.name for a in list_attributes(store, run.run_id)]
    assert "cluster.output" in names
    table = slice_table(store, run.run_id, ["cluster.output", "lang"], min_support=1).table
    cell = table[[p == {"cluster.output": "1", "lang": "sw"} for p in table["predicate"]]]
    expected = frame[(np.arange(len(frame)) % 3 == 1) & (frame["lang"] == "sw")]
    assert cell["n"].item() == len(expected)
    store.set_example_column(run.run_id, "cluster.output", labels.assign(value=0), role="cluster", kind="categorical")
    again = slice_table(store, run.run_id, ["cluster.output"], max_order=1, min_support=1).table
    assert len(again) == 1 and again["n"].item() == len(frame)
