"""Valid input that used to load and then break analysis (issue #11, kind 2): each loads, slices and is searched.

Time-zone-aware timestamps, JSON Lines whose keys or types change after DuckDB's sample, integers beyond
64 bits, and user columns named like Faultline's internal ones. Every case loads, then ``slice_table``
and ``discover`` run on the result, and the figures are checked.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.slicing.discovery import discover
from analysis.slicing.table import slice_table


def examples(store, run):
    return store.cursor().execute(
        f'SELECT * FROM "{run.table_name}" ORDER BY source_row').df()


def error_rates(result, attribute: str) -> dict[str, tuple[int, float]]:
    rows = result.table[result.table["order"] == 1]
    return {p[attribute]: (int(n), float(r)) for p, n, r in zip(rows["predicate"], rows["n"], rows["error_rate"])
            if attribute in p}


def analyses_run(store, run, by: list[str]):
    """slice_table and discover both work on the loaded run (the point of this file)."""
    result = slice_table(store, run.run_id, by, min_support=1)
    assert len(result.table) > 0
    found = discover(store, run.run_id, by, min_support=1)
    assert found.table is not None
    return result


# ------------------------------------------------------------------ names like Faultline's internal ones


def _frame_with(column: str, n: int = 60) -> pd.DataFrame:
    return pd.DataFrame({"prompt": [f"p{i}" for i in range(n)], "correct": [i % 3 == 0 for i in range(n)],
                         column: [7] * (n // 2) + [8] * (n - n // 2)})


@pytest.mark.parametrize("hostile, n_rows, ids", [
    ("faultline_row_num.csv", 3, ["1", "2", "3"]),       # an id column, and __faultline_row = 7 everywhere
    ("faultline_row_noid.csv", 2, ["1", "2"]),           # no id: the rows are numbered, not all called '7'
    ("file_row_number_col.parquet", 3, None),            # DuckDB's own row-number option refused the file
])
def test_hostile_internal_names_load_and_slice(store, real_logs, hostile, n_rows, ids):
    path = real_logs / "hostile" / hostile
    (run,) = store.ingest(path).added
    rows = examples(store, run)
    assert rows["source_row"].tolist() == list(range(1, n_rows + 1))
    if ids is not None:
        assert rows["example_id"].tolist() == ids
    user_column = "__faultline_row" if hostile.endswith(".csv") else "file_row_number"
    stored = f"meta.{user_column}"
    assert stored in rows.columns  # the user's column is kept as metadata, under its own name
    if hostile != "file_row_number_col.parquet":
        assert rows[stored].tolist() == [7] * n_rows
    result = slice_table(store, run.run_id, [user_column], min_support=1)
    assert result.total_n == n_rows
    discover(store, run.run_id, [user_column], min_support=1)


@pytest.mark.parametrize("column", ["__faultline_row", "__FAULTLINE_ROW", "__faultline_missing", "file_row_number"])
@pytest.mark.parametrize("kind", ["csv", "parquet", "frame"])
def test_internal_names_never_collide(store, tmp_path, column, kind):
    frame = _frame_with(column)
    if kind == "frame":
        (run,) = store.ingest_frame(frame, name="f").added
    else:
        path = tmp_path / f"log.{kind}"
        frame.to_csv(path, index=False) if kind == "csv" else frame.to_parquet(path, index=False)
        (run,) = store.ingest(path).added
    rows = examples(store, run)
    assert rows["source_row"].tolist() == list(range(1, 61))
    assert rows["example_id"].tolist() == [str(i) for i in range(1, 61)]
    assert rows[f"meta.{column}"].tolist() == frame[column].tolist()
    assert rows["correct"].tolist() == frame["correct"].tolist()
    result = analyses_run(store, run, [column])
    expected = 1 - frame.groupby(column)["correct"].mean()
    got = error_rates(result, column)
    assert {k: v[1] for k, v in got.items()} == pytest.approx({str(k): v for k, v in expected.items()})


def test_error_names_the_real_row_when_the_log_has_a_row_column(store, write):
    path = write("rows.csv", "prompt,correct,__faultline_row\na,true,7\nb,maybe,7\n")
    with pytest.raises(Exception, match=r"row 2 \(line 3\).*field 'correct'"):
        store.ingest(path)


def test_missing_values_with_a_column_named_like_the_flag(store, write):
    path = write("m.csv", "prompt,score,__faultline_missing\na,1,x\nb,-1,y\nc,0,z\n")
    (run,) = store.ingest(path, mapping={"missing_values": {"score": [-1]}}).added
    rows = examples(store, run)
    assert rows["unscorable"].tolist() == [False, True, False]
    assert rows["meta.__faultline_missing"].tolist() == ["x", "y", "z"]


# ------------------------------------------------------------------ time-zone-aware timestamps


def _zoned_frame(n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    # offsets +02:00 and -05:00 around midnight: the UTC day differs from the local one for many rows
    local = pd.date_range("2024-03-01 20:00", periods=n, freq="37min")
    offsets = np.where(np.arange(n) % 2 == 0, 2, -5)
    text = [f"{t:%Y-%m-%dT%H:%M:%S}{o:+03d}:00" for t, o in zip(local, offsets)]
    utc = pd.to_datetime(text, utc=True).tz_convert(None)
    return pd.DataFrame({"prompt": [f"p{i}" for i in range(n)], "correct": rng.random(n) < 0.7,
                         "ts_text": text, "utc": utc})


@pytest.mark.parametrize("kind", ["csv", "parquet", "frame", "jsonl"])
def test_zone_aware_timestamps_are_stored_in_utc_and_slice(store, tmp_path, kind):
    frame = _zoned_frame()
    source = frame[["prompt", "correct"]].assign(ts=frame["ts_text"])
    if kind in ("parquet", "frame"):
        source["ts"] = pd.to_datetime(frame["ts_text"], utc=True).dt.tz_convert("Europe/Berlin")
    if kind == "frame":
        (run,) = store.ingest_frame(source, name="zoned").added
    else:
        path = tmp_path / f"zoned.{kind}"
        if kind == "csv":
            source.to_csv(path, index=False)
        elif kind == "parquet":
            source.to_parquet(path, index=False)
        else:
            path.write_text("".join(json.dumps(r) + "\n" for r in source.to_dict("records")))
        (run,) = store.ingest(path).added
    fields = store.fields(run.run_id).set_index("column_name")
    assert fields.loc["meta.ts", "kind"] == "timestamp"
    rows = examples(store, run)
    assert rows["meta.ts"].tolist() == frame["utc"].tolist()  # naive, in UTC
    result = analyses_run(store, run, ["ts"])
    days = frame["utc"].dt.strftime("%Y-%m-%d")
    expected = (1 - frame.groupby(days)["correct"].mean()).to_dict()
    got = error_rates(result, "ts")
    assert {k: v[1] for k, v in got.items()} == pytest.approx(expected)


def test_zone_aware_id_and_time_of_day(store, write):
    path = write("ids.csv", "ts,prompt,correct,at\n"
                 "2024-01-01T01:00:00+02:00,a,true,10:00:00\n2024-01-01T01:00:00+03:00,b,false,11:00:00\n"
                 "2024-01-01T00:00:00+00:00,c,true,10:00:00\n")
    (run,) = store.ingest(path, mapping={"id": "ts"}).added
    rows = examples(store, run)
    assert rows["example_id"].tolist() == ["2023-12-31 23:00:00", "2023-12-31 22:00:00", "2024-01-01 00:00:00"]
    # a time of day is a value like any other (there is no day of it to group by)
    result = analyses_run(store, run, ["at"])
    assert error_rates(result, "at") == {"10:00:00": (2, 0.0), "11:00:00": (1, 1.0)}


# ------------------------------------------------------------------ keys or types changing after DuckDB's sample

SAMPLE_ROWS = 20_480


def _late_records(change: str, n: int = 25_000) -> list[dict]:
    out = []
    for i in range(n):
        rec = {"prompt": f"p{i}", "correct": i % 3 == 0, "lang": "en" if i % 2 else "sw", "doc": {"k": i % 4}}
        if i >= SAMPLE_ROWS:
            if change == "new key":
                rec["late"] = "x" if i % 2 else "y"
            elif change == "type":
                rec["lang"] = i % 5
            elif change == "nested":
                rec["doc"] = {"k": i % 4, "extra": [1, 2]}
            elif change == "all":
                rec.update(late=i % 7, lang=[i % 2])
        out.append(rec)
    return out


def _as_stored(value):
    """A JSON value as the store keeps it: text, a nested value as JSON (a struct with every key of the file)."""
    if isinstance(value, dict):
        value = {"k": value["k"], "extra": value.get("extra")}
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if pd.isna(value):
        return None
    return str(int(value)) if isinstance(value, float) else str(value)  # pandas made the integers floats


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize("change, attribute", [("new key", "late"), ("type", "lang"), ("nested", "doc"),
                                                ("all", "late")])
def test_json_changing_after_the_sample_loads_in_full(store, tmp_path, fmt, change, attribute):
    records = _late_records(change)
    path = tmp_path / f"late.{fmt}"
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:
        path.write_text(json.dumps(records))
    (run,) = store.ingest(path).added
    assert run.row_count == len(records)
    rows = examples(store, run)
    assert rows["correct"].tolist() == [r["correct"] for r in records]
    assert f"meta.{attribute}" in rows.columns
    result = analyses_run(store, run, [attribute, "lang"])
    frame = pd.DataFrame(records)
    label = frame[attribute].map(_as_stored)
    expected = (1 - frame.groupby(label.fillna("(missing)"))["correct"].mean()).to_dict()
    got = {k: v[1] for k, v in error_rates(result, attribute).items()}
    assert got == pytest.approx(expected)


def test_csv_type_changing_after_the_sample_loads_in_full(store, tmp_path):
    n = 25_000
    code = [str(i % 4) if i < SAMPLE_ROWS else f"c{i % 4}" for i in range(n)]
    frame = pd.DataFrame({"prompt": [f"p{i}" for i in range(n)], "correct": [i % 3 == 0 for i in range(n)],
                          "code": code})
    path = tmp_path / "late.csv"
    frame.to_csv(path, index=False)
    (run,) = store.ingest(path).added
    result = analyses_run(store, run, ["code"])
    expected = (1 - frame.groupby("code")["correct"].mean()).to_dict()
    assert {k: v[1] for k, v in error_rates(result, "code").items()} == pytest.approx(expected)


# ------------------------------------------------------------------ integers beyond 64 bits


def _write_wide(tmp_path, kind: str, frame: pd.DataFrame):
    path = tmp_path / f"wide.{kind}"
    records = frame.to_dict("records")
    if kind == "csv":
        path.write_text("id,prompt,correct,big,conf\n" + "".join(
            f"{r['id']},{r['prompt']},{str(r['correct']).lower()},{r['big']},{r['conf']}\n" for r in records))
    elif kind == "jsonl":  # written by hand: json.dumps would keep the ints exact too, but be explicit
        path.write_text("".join(
            f'{{"id": {r["id"]}, "prompt": "{r["prompt"]}", "correct": {str(r["correct"]).lower()}, '
            f'"big": {r["big"]}, "conf": {r["conf"]}}}\n' for r in records))
    elif kind == "json":
        path.write_text(json.dumps(records))
    elif kind == "parquet":
        import decimal

        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({
            "id": pa.array([decimal.Decimal(v) for v in frame["id"]], pa.decimal128(38, 0)),
            "prompt": frame["prompt"].tolist(), "correct": frame["correct"].tolist(),
            "big": pa.array([decimal.Decimal(v) for v in frame["big"]], pa.decimal128(38, 0)),
            "conf": frame["conf"].tolist()}), path)
    return path


@pytest.mark.parametrize("kind", ["csv", "jsonl", "json", "parquet", "frame"])
@pytest.mark.parametrize("base", [2**63 + 10, 2**64, 2**70, -(2**70), 2**200])
def test_integers_beyond_64_bits_stay_exact(store, tmp_path, kind, base):
    if kind == "parquet" and abs(base) >= 10**37:
        pytest.skip("a Parquet DECIMAL holds at most 38 digits")
    n = 90
    frame = pd.DataFrame({"id": [base + i for i in range(n)], "prompt": [f"p{i}" for i in range(n)],
                          "correct": [i % 3 != 0 for i in range(n)], "big": [base + i % 3 for i in range(n)],
                          "conf": [round(0.01 * i, 2) for i in range(n)]}, dtype=object)
    if kind == "frame":
        (run,) = store.ingest_frame(frame, name="wide", mapping={"id": "id"}).added
    else:
        (run,) = store.ingest(_write_wide(tmp_path, kind, frame)).added
    rows = examples(store, run)
    assert rows["example_id"].tolist() == [str(v) for v in frame["id"]]  # never through a float
    assert rows["meta.big"].tolist() == [str(v) for v in frame["big"]]
    fields = store.fields(run.run_id).set_index("column_name")
    assert fields.loc["meta.conf", "kind"] == "numeric"  # a real number stays a number
    result = analyses_run(store, run, ["big", "conf"])
    expected = {str(k): (int(n), 1 - float(v)) for k, (n, v) in
                frame.groupby(frame["big"].map(str))["correct"].agg(["size", "mean"]).iterrows()}
    got = error_rates(result, "big")
    assert set(got) == set(expected) and len(got) == 3
    for key, (count, rate) in expected.items():
        assert got[key][0] == count and got[key][1] == pytest.approx(rate)


def test_json_column_of_small_ints_with_one_huge_value_is_text(store, write):
    lines = [f'{{"prompt": "p{i}", "correct": {"true" if i % 2 else "false"}, "code": {i % 4}}}' for i in range(40)]
    lines.append(f'{{"prompt": "last", "correct": true, "code": {2**80}}}')
    (run,) = store.ingest(write("mixed.jsonl", "\n".join(lines) + "\n")).added
    rows = examples(store, run)
    assert rows["meta.code"].tolist() == [str(i % 4) for i in range(40)] + [str(2**80)]
    result = analyses_run(store, run, ["code"])
    assert error_rates(result, "code")[str(2**80)] == (1, 0.0)
