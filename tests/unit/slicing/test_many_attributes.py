"""Any number of attributes can be sliced (GROUPING SETS in batches), and the default list is capped, saying so.

DuckDB's GROUPING id of 31 attributes overflowed a 32-bit integer and more than 64 are refused in one
statement; :mod:`analysis.slicing.grouping` counts them in batches. Every figure is checked against pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.objective.modes import modes_slices
from analysis.slicing.attributes import MAX_DEFAULT_ATTRIBUTES_ENV, default_attributes
from analysis.slicing.compare import compare_runs
from analysis.slicing.discovery import discover
from analysis.slicing.grouping import BATCH_ATTRIBUTES, batches
from analysis.slicing.table import slice_table
from analysis.sql.slices import grouping_mask


def wide_frame(k: int, n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id": [f"e{i}" for i in range(n)], "prompt": [f"p{i}" for i in range(n)],
                          "correct": rng.random(n) < 0.6})
    for i in range(k):
        frame[f"m{i}"] = rng.choice(["a", "b", "c"] if i % 3 == 0 else ["a", "b"], size=n)
    return frame


def expected_singles(frame: pd.DataFrame, k: int) -> dict[str, tuple[int, float]]:
    out = {}
    for i in range(k):
        grouped = frame.groupby(f"m{i}")["correct"]
        for value, n in grouped.size().items():
            out[f"m{i} = {value}"] = (int(n), 1.0 - float(grouped.mean()[value]))
    return out


def expected_pairs(frame: pd.DataFrame, pairs) -> dict[str, tuple[int, float]]:
    out = {}
    for i, j in pairs:
        grouped = frame.groupby([f"m{i}", f"m{j}"])["correct"]
        for (vi, vj), n in grouped.size().items():
            out[f"m{i} = {vi} AND m{j} = {vj}"] = (int(n), 1.0 - float(grouped.mean()[(vi, vj)]))
    return out


def by_description(table: pd.DataFrame, order: int) -> dict[str, tuple[int, float]]:
    rows = table[table["order"] == order]
    assert rows["description"].is_unique
    return {d: (int(n), float(r)) for d, n, r in zip(rows["description"], rows["n"], rows["error_rate"])}


def assert_same(got: dict, expected: dict):
    assert set(got) == set(expected)
    for key, (n, rate) in expected.items():
        assert got[key][0] == n, key
        assert got[key][1] == pytest.approx(rate, abs=1e-12), key


@pytest.mark.parametrize("k, max_order", [(31, 1), (31, 2), (70, 1), (70, 2), (12, 3), (40, 3)])
def test_any_number_of_attributes_gives_pandas_figures(store, k, max_order):
    frame = wide_frame(k)
    (run,) = store.ingest_frame(frame, name=f"wide{k}").added
    names = [f"m{i}" for i in range(k)]
    result = slice_table(store, run.run_id, names, max_order=max_order, min_support=1)
    assert_same(by_description(result.table, 1), expected_singles(frame, k))
    if max_order >= 2:
        # every pair is there; a sample of them (across batches) checked value by value
        assert (result.table["order"] == 2).sum() == sum(
            frame.groupby([f"m{i}", f"m{j}"]).ngroups for i in range(k) for j in range(i + 1, k))
        pairs = [(0, 1), (0, k - 1), (k // 2, k - 1), (BATCH_ATTRIBUTES - 1, BATCH_ATTRIBUTES)] if k > 24 else [(0, 1)]
        got = by_description(result.table, 2)
        expected = expected_pairs(frame, pairs)
        assert_same({key: got[key] for key in expected}, expected)
    if max_order == 3:
        triple = frame.groupby(["m0", "m1", f"m{k - 1}"])["correct"]
        (v0, v1, v2), n = next(iter(triple.size().items()))
        row = result.table[result.table["description"] == f"m0 = {v0} AND m1 = {v1} AND m{k - 1} = {v2}"]
        assert int(row["n"].iloc[0]) == n


def test_hostile_31_two_valued_attributes(store, real_logs):
    path = real_logs / "hostile" / "many_attributes_31.csv"
    frame = pd.read_csv(path)
    (run,) = store.ingest(path).added
    result = slice_table(store, run.run_id, [f"m{i}" for i in range(31)], min_support=1)
    assert_same(by_description(result.table, 1), expected_singles(frame, 31))
    assert_same({k: v for k, v in by_description(result.table, 2).items() if k.startswith("m0 = ")},
                expected_pairs(frame, [(0, j) for j in range(1, 31)]))
    # the default list: capped, and the cap said
    default = slice_table(store, run.run_id, min_support=1)
    assert len(default.settings["attributes"]) == 24
    assert MAX_DEFAULT_ATTRIBUTES_ENV in default.settings["note"] and "24 of" in default.settings["note"]
    found = discover(store, run.run_id, [f"m{i}" for i in range(31)])
    assert found is not None


def test_default_cap_is_settable_and_absent_when_not_reached(store, monkeypatch):
    (run,) = store.ingest_frame(wide_frame(10), name="ten").added
    assert default_attributes(store, run.run_id).note == ""
    monkeypatch.setenv(MAX_DEFAULT_ATTRIBUTES_ENV, "3")
    capped = default_attributes(store, run.run_id)
    assert [a.name for a in capped] == ["m0", "m1", "m2"]
    assert "first 3 of" in capped.note and f"{MAX_DEFAULT_ATTRIBUTES_ENV}=3" in capped.note
    assert slice_table(store, run.run_id, min_support=1).settings["attributes"] == ["m0", "m1", "m2"]


def test_compare_and_modes_over_many_attributes(store):
    k = 66
    frame = wide_frame(k)
    (base,) = store.ingest_frame(frame, name="base").added
    other = frame.assign(correct=~frame["correct"])
    (cand,) = store.ingest_frame(other, name="cand").added
    names = [f"m{i}" for i in range(k)]
    comparison = compare_runs(store, base.run_id, cand.run_id, names, max_order=1)
    rows = comparison.table[comparison.table["description"] == f"m{k - 1} = a"]
    assert int(rows["n"].iloc[0]) == int((frame[f"m{k - 1}"] == "a").sum())
    slices = modes_slices(store, base.run_id, None, None, names, max_order=1, min_support=1)
    table = next(iter(slices.values())).table
    assert set(table["description"]) == set(expected_singles(frame, k))


def test_batches_keep_every_set_within_the_batch_size():
    k, sets = 70, [(i, j) for i in range(70) for j in range(i + 1, 70)]
    parts = batches(k, sets, size=24)
    seen = []
    for used, local in parts:
        assert len(used) <= 24
        seen += [tuple(used[i] for i in s) for s in local]
    assert sorted(seen) == sorted(sets)
    assert grouping_mask(70, [0]) == (1 << 70) - 1 - (1 << 69)  # a Python int: no overflow past 63 attributes


def test_cli_loads_and_slices_the_hostile_file_and_says_the_cap(tmp_path, real_logs):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    db = tmp_path / "cli.duckdb"
    env = {**os.environ, "FAULTLINE_DEMO": "0"}
    path = real_logs / "hostile" / "many_attributes_31.csv"
    run = [sys.executable, "-m", "analysis"]
    loaded = subprocess.run([*run, "ingest", str(path), "--db", str(db)], capture_output=True, text=True, cwd=ROOT,
                            env=env, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    sliced = subprocess.run([*run, "slices", "--run", "many_attributes_31", "--db", str(db)], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=300)
    assert sliced.returncode == 0, sliced.stderr
    assert "first 24 of" in sliced.stdout and MAX_DEFAULT_ATTRIBUTES_ENV in sliced.stdout


@pytest.mark.parametrize("value, fragment", [("many", "whole number"), ("0", "at least 1")])
def test_default_cap_setting_must_be_a_positive_whole_number(store, monkeypatch, value, fragment):
    from analysis.errors import FaultlineError

    (run,) = store.ingest_frame(wide_frame(3), name="three").added
    monkeypatch.setenv(MAX_DEFAULT_ATTRIBUTES_ENV, value)
    with pytest.raises(FaultlineError, match=fragment) as info:
        slice_table(store, run.run_id)
    assert MAX_DEFAULT_ATTRIBUTES_ENV in str(info.value)
