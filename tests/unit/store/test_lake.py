"""Parquet-backed runs (analysis.store.lake): registered in place, analysed as a stored run would be."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.slicing.compare import compare_runs
from analysis.slicing.discovery import discover
from analysis.slicing.table import slice_table
from analysis.store import Store, sha256_file
from analysis.store.lake import LAKE_FORMAT, MSG_NO_FILES
from tests.unit.engine.identical import assert_identical

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _part(i: int, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lang = rng.choice(["en", "sw", "yo"], n)
    return pd.DataFrame({"id": [f"e{i}_{j}" for j in range(n)], "prompt": [f"q{j}" for j in range(n)],
                         "lang": lang, "tokens": rng.integers(1, 500, n),
                         "score": np.where(lang == "sw", rng.random(n) * 0.6, rng.random(n)),
                         "correct": rng.random(n) < np.where(lang == "sw", 0.4, 0.8)})


@pytest.fixture
def lake(tmp_path):
    folder = tmp_path / "lake"
    folder.mkdir()
    parts = [_part(i, 700 + 50 * i, i) for i in range(3)]
    for i, p in enumerate(parts):
        p.to_parquet(folder / f"part-{i}.parquet", index=False)
    store = Store(tmp_path / "s.duckdb")
    yield store, folder, pd.concat(parts, ignore_index=True)
    store.close()


def test_a_registered_run_reads_the_files_in_place_and_analyses_as_the_same_rows_ingested(lake):
    store, folder, frame = lake
    report = store.register_parquet(folder, name="lake")
    (run,) = report.added
    assert run.source_format == LAKE_FORMAT and run.row_count == len(frame)
    store.ingest_frame(frame, name="copy")
    assert not store.table_exists(f"examples_{run.run_id}_copy")
    for order in (1, 2, 3):
        a, b = slice_table(store, "lake", max_order=order), slice_table(store, "copy", max_order=order)
        assert_identical(a.table, b.table, f"order {order}")
    assert_identical(discover(store, "lake").table, discover(store, "copy").table, "discover")
    # rows are numbered in file order, then row order
    rows = store.examples("lake", columns=["example_id", "source_row"])
    assert rows["example_id"].tolist() == frame["id"].tolist()
    assert rows["source_row"].tolist() == list(range(1, len(frame) + 1))


def test_provenance_records_every_file_with_size_and_time_and_sha256_only_when_asked(lake):
    store, folder, _ = lake
    store.register_parquet(folder, name="plain")
    files = store.run("plain").files
    assert [f["file_name"] for f in files] == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]
    assert [f["size_bytes"] for f in files] == [os.path.getsize(folder / f["file_name"]) for f in files]
    assert all(f["sha256"] == "" for f in files)
    mapping = json.loads(store.cursor().execute("SELECT mapping FROM runs WHERE name = 'plain'").fetchall()[0][0])
    assert [m["modified"][:4] for m in mapping["parquet"]["files"]] == ["20" + m["modified"][2:4] for m in
                                                                        mapping["parquet"]["files"]]
    store.delete_run("plain")
    store.register_parquet(str(folder / "part-*.parquet"), name="hashed", sha256=True)
    assert [f["sha256"] for f in store.run("hashed").files] == [sha256_file(folder / f"part-{i}.parquet")
                                                               for i in range(3)]
    again = store.register_parquet(str(folder / "part-*.parquet"), sha256=True)
    assert not again.added and again.already_loaded[0].name == "hashed"


def test_a_mapping_and_computed_columns_work_on_a_registered_run(lake):
    store, folder, frame = lake
    store.register_parquet(folder / "part-1.parquet", name="one", mapping={"id": "prompt", "input": "id",
                                                                          "correct": "correct", "metadata": ["lang"]})
    fields = store.fields("one")
    assert "meta.lang" in fields["column_name"].tolist()
    ids = store.examples("one", columns=["example_id"], limit=3)["example_id"].tolist()
    assert ids == ["q0", "q1", "q2"]  # the mapped id column
    store.set_example_column("one", "cluster.output", pd.DataFrame({"example_id": ids[:2], "value": ["a", "b"]}),
                             role="cluster", kind="categorical")
    got = store.examples("one", columns=["example_id", "cluster.output"]).set_index("example_id")["cluster.output"]
    assert got.loc[ids[0]] == "a" and got.loc[ids[1]] == "b" and got.drop(ids[:2]).isna().all()
    t = slice_table(store, "one", ["cluster.output"], max_order=1, min_support=1).table
    assert sorted(zip(t["description"], t["n"])) == sorted([("cluster.output = a", 1), ("cluster.output = b", 1),
                                                           ("cluster.output = (missing)", 748)])
    store.delete_run("one")
    assert (folder / "part-1.parquet").exists() and store.runs().empty


def test_two_registered_runs_compare_as_ingested_runs_do(lake):
    store, folder, frame = lake
    store.register_parquet(folder / "part-0.parquet", name="a")
    other = frame.iloc[:700].assign(correct=lambda f: ~f["correct"].to_numpy() | (f["lang"] == "en").to_numpy())
    other.to_parquet(folder.parent / "b.parquet", index=False)
    store.register_parquet(folder.parent / "b.parquet", name="b")
    store.ingest_frame(frame.iloc[:700], name="a copy")
    store.ingest_frame(other, name="b copy")
    assert_identical(compare_runs(store, "a", "b").table, compare_runs(store, "a copy", "b copy").table, "compare")


def test_nothing_matching_is_an_input_error(tmp_path):
    with Store(tmp_path / "s.duckdb") as store, pytest.raises(InputError, match="no Parquet file matches"):
        store.register_parquet(tmp_path / "nowhere" / "*.parquet")
    assert "glob" in MSG_NO_FILES


def test_the_register_command_adds_a_run_that_runs_lists(tmp_path):
    _part(0, 200, 0).to_parquet(tmp_path / "r.parquet", index=False)
    db = str(tmp_path / "s.duckdb")
    done = subprocess.run([sys.executable, "-m", "analysis", "register", str(tmp_path / "r.parquet"), "--db", db,
                           "--name", "in place"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([sys.executable, "-m", "analysis", "runs", "--db", db, "--json"], capture_output=True,
                            text=True, cwd=ROOT)
    (run,) = json.loads(listed.stdout)
    assert run["name"] == "in place" and run["format"] == LAKE_FORMAT and run["rows"] == 200
    missing = subprocess.run([sys.executable, "-m", "analysis", "register", str(tmp_path / "none.parquet"), "--db", db],
                             capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 2 and "no Parquet file matches" in missing.stderr
