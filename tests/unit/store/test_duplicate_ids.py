"""The duplicate-id check of a load or a Parquet registration: distinct id hashes counted under a memory
bound (in the check's own database), the duplicate named only when there is one, the store's memory limit left as
it was, also while the check runs."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from analysis import errors as E
from analysis.errors import InputError
from analysis.sql import ingest as I
from analysis.store import Store


def _write(folder, parts: list[list[str]]) -> None:
    folder.mkdir()
    for i, ids in enumerate(parts):
        pd.DataFrame({"id": ids, "prompt": [f"q{j}" for j in range(len(ids))],
                      "correct": [j % 2 == 0 for j in range(len(ids))]}).to_parquet(folder / f"part-{i}.parquet")


def _memory_limit(store: Store) -> str:
    return store.cursor().execute(I.MEMORY_LIMIT_SQL).fetchall()[0][0]


def test_a_duplicate_across_files_is_named_with_both_records(tmp_path):
    _write(tmp_path / "lake", [["a", "b", "c"], ["d", "b", "e"]])
    store = Store(tmp_path / "s.duckdb")
    before = _memory_limit(store)
    with pytest.raises(InputError) as err:
        store.register_parquet(tmp_path / "lake", name="dups", mapping={"id": "id", "correct": "correct"})
    # records are numbered across the files in path order: 'b' is row 2 of the first and row 2 of the second (row 5)
    assert E.DUPLICATE_ID.format(value="'b'", first="row 2", second="row 5") in str(err.value)
    assert "field 'id'" in str(err.value)
    assert store.runs().empty
    assert _memory_limit(store) == before
    store.close()


def test_distinct_ids_register_and_the_memory_limit_is_restored(tmp_path):
    _write(tmp_path / "lake", [[f"x{j}" for j in range(500)], [f"y{j}" for j in range(300)]])
    store = Store(tmp_path / "s.duckdb")
    before = _memory_limit(store)
    (run,) = store.register_parquet(tmp_path / "lake", name="ok", mapping={"id": "id", "correct": "correct"}).added
    assert store.run("ok").row_count == 800
    assert _memory_limit(store) == before
    store.close()


def test_ids_made_from_record_numbers_are_not_grouped(tmp_path, monkeypatch):
    """Without an id column, a registered run's ids are its record numbers, distinct by construction: no check runs."""
    _write(tmp_path / "lake", [["a", "a"], ["a"]])
    store = Store(tmp_path / "s.duckdb")
    issued: list[str] = []
    real = I.id_hashes_sql
    monkeypatch.setattr(I, "id_hashes_sql", lambda table: issued.append(table) or real(table))
    store.register_parquet(tmp_path / "lake", name="rows", mapping={"correct": "correct", "ignore": ["id"]})
    ids = store.cursor().execute(f'SELECT example_id FROM "{store.run("rows").table_name}" ORDER BY source_row'
                                 ).fetchall()
    assert [r[0] for r in ids] == ["1", "2", "3"]
    assert issued == []
    store.close()


@pytest.mark.parametrize("ids, expected", [
    (["a", "b", "c", "d"], None),
    (["a", "b", "a", "c", "b"], ("a", 1, 3)),
    (["z", "q", "y", "q", "z"], ("z", 1, 5)),  # the duplicate whose first record comes first
])
def test_the_statements_against_a_direct_count(ids, expected):
    """Hash count and naming statement checked against Python's own count of the same ids."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t (example_id VARCHAR, source_row BIGINT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [[v, i + 1] for i, v in enumerate(ids)])
    con.execute(f"CREATE TABLE {I.ID_HASHES} AS {I.id_hashes_sql('t')}")
    rows, hashes = con.execute(I.distinct_hashes_sql()).fetchall()[0]
    assert (rows, hashes) == (len(ids), len(set(ids)))
    found = con.execute(I.first_duplicate_id_sql("t")).fetchall()
    repeated = [v for v in dict.fromkeys(ids) if ids.count(v) > 1]
    direct = min(((v, ids.index(v) + 1, len(ids) - ids[::-1].index(v)) for v in repeated), key=lambda x: x[1],
                 default=None)
    assert (found[0] if found else None) == direct == expected


@pytest.mark.parametrize("limit", ["256MB", "18.8 GiB", "1GB"])
def test_memory_limit_statement_takes_sizes_only(limit):
    con = duckdb.connect()
    con.execute(I.set_memory_limit_sql(limit))
    with pytest.raises(ValueError, match="memory size"):
        I.set_memory_limit_sql("1GB'; DROP TABLE runs; --")


def test_a_memory_limit_set_by_the_user_is_kept(tmp_path):
    _write(tmp_path / "lake", [["a", "b"], ["c"]])
    store = Store(tmp_path / "s.duckdb")
    store.cursor().execute(I.set_memory_limit_sql("3GiB"))  # as DuckDB shows it, so restored exactly
    before = _memory_limit(store)
    store.register_parquet(tmp_path / "lake", name="ok", mapping={"id": "id", "correct": "correct"})
    assert _memory_limit(store) == before != I.ID_CHECK_MEMORY
    store.close()


@pytest.mark.parametrize("ids", [[f"x{j}" for j in range(2000)], ["a", "b", "a"]])
def test_the_store_limit_is_unchanged_while_the_check_runs(tmp_path, monkeypatch, ids):
    """Another connection to the store sees the store's own memory limit during the check (the check's bound is
    its own database's), whether the ids are distinct or not."""
    _write(tmp_path / "lake", [ids])
    store = Store(tmp_path / "s.duckdb")
    other = store.cursor()  # another connection, as another thread's query would use
    before = other.execute(I.MEMORY_LIMIT_SQL).fetchall()[0][0]
    assert before != I.ID_CHECK_MEMORY
    seen: list[str] = []
    real = I.distinct_hashes_sql

    def during(*args):
        seen.append(other.execute(I.MEMORY_LIMIT_SQL).fetchall()[0][0])
        return real(*args)

    monkeypatch.setattr(I, "distinct_hashes_sql", during)
    mapping = {"id": "id", "correct": "correct"}
    if len(set(ids)) == len(ids):
        store.register_parquet(tmp_path / "lake", name="ok", mapping=mapping)
        assert store.run("ok").row_count == len(ids)
    else:
        with pytest.raises(InputError, match="row 1"):
            store.register_parquet(tmp_path / "lake", name="dups", mapping=mapping)
    assert seen == [before]
    assert other.execute(I.MEMORY_LIMIT_SQL).fetchall()[0][0] == before
    store.close()
