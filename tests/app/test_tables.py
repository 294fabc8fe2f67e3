"""Numeric, sortable tables (issue #12): the app's tables hold numbers (the grid formats them), so sorting is
numeric; downloads hold the numeric columns of the CLI's ``--json`` output, never display strings."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis import compare_runs, format_q, open_store, slice_table
from analysis.export import safe_csv
from tests.conftest import ROOT

TIMEOUT = 90


def _demo(path):
    from analysis.demo.seed import ensure_demo

    with open_store(path, seed_demo=False) as store:
        ensure_demo(store, n_prompts=3000)
    return path


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The store the app tests open (the app keeps it open in this process)."""
    return _demo(tmp_path_factory.mktemp("tables") / "demo.duckdb")


@pytest.fixture(scope="module")
def cli_db(tmp_path_factory):
    """A store of its own for the CLI, which runs in another process."""
    return _demo(tmp_path_factory.mktemp("tables_cli") / "demo.duckdb")


def cli_json(db, *args) -> dict:
    out = subprocess.run([sys.executable, "-m", "analysis", *args, "--db", str(db), "--json"], cwd=ROOT,
                         capture_output=True, text=True, check=True, env={"FAULTLINE_DEMO": "0", "PATH": ""})
    return json.loads(out.stdout)


def test_the_slices_table_holds_numbers_and_sorts_as_numbers(demo_db, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "pages" / "2_Slices.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    shown = at.dataframe[0].value
    for column in ("n", "errors", "rate", "ci_low", "ci_high", "vs_rest"):
        assert pd.api.types.is_numeric_dtype(shown[column]), column
    from ui import _open

    store = _open(str(demo_db))  # the app's own store, open in this process
    run = store.runs()["run_id"].iloc[0]
    table = slice_table(store, run, at.multiselect(key="slices_by").value, max_order=2).table
    table = table[~table["redundant"]].set_index("description")
    # in percent and points: the engine's fractions x 100, row for row
    expected = table.loc[shown["description"]]
    assert shown["rate"].to_numpy() == pytest.approx(expected["error_rate"].to_numpy() * 100, nan_ok=True)
    assert shown["vs_rest"].to_numpy() == pytest.approx(expected["difference"].to_numpy() * 100, nan_ok=True)
    # q-values are numbers (a click on the heading sorts by evidence; not tested: +inf, sorted last), written
    # as every view writes them (never a bare 0, never None): the one formatting function
    assert shown["q"].to_numpy() == pytest.approx(expected["q_value"].astype(float).fillna(np.inf).to_numpy())
    assert pd.api.types.is_numeric_dtype(shown["q"])
    # numbers sort as numbers: 9.9 below 81.2
    ordered = shown.sort_values("rate")["rate"].dropna().tolist()
    assert ordered == sorted(ordered) and ordered[0] < 10 < ordered[-1]


def test_q_values_sort_as_numbers_and_read_as_format_q_writes_them():
    from ui.tables import styled

    frame = pd.DataFrame({"description": ["a", "b", "c", "d"], "q": [0.5, 0.0, np.nan, 0.003]})
    shown = styled(frame)
    assert shown.data["q"].tolist() == [0.5, 0.0, np.inf, 0.003]  # sortable: not tested after every tested q
    texts = [line.split("|")[1] for line in shown.hide(axis="index").to_string(delimiter="|").splitlines()[1:]]
    assert texts == [format_q(q) for q in frame["q"]] == ["0.5", "<1e-300", "not tested", "0.003"]
    plain = frame.drop(columns="q")
    assert styled(plain) is plain  # a frame without q-values is shown as it is


def test_the_slice_download_holds_the_numeric_columns_of_json(cli_db):
    with open_store(cli_db) as store:
        run = store.runs()["run_id"].iloc[0]
        table = slice_table(store, run, ["language", "domain"], max_order=2).table
    import ui.tables

    csv = pd.read_csv(io.BytesIO(safe_csv(ui.tables.export_frame(table, ui.tables.SLICE_EXPORT))))
    records = cli_json(cli_db, "slices", "--run", run, "--by", "language,domain", "--max-order", "2")["slices"]
    assert len(csv) == len(records)
    assert set(records[0]) - {"predicate"} <= set(csv.columns)
    for row, record in zip(csv.to_dict("records"), records):
        assert row["description"] == " AND ".join(f"{p['attribute']} = {p['value']}" for p in record["predicate"])
        for key in ("n", "errors", "error_rate", "ci_low", "ci_high", "difference", "q_value"):
            if record[key] is None:
                assert pd.isna(row[key])
            else:
                assert row[key] == pytest.approx(record[key], rel=1e-12), key


def test_the_comparison_download_holds_the_numeric_columns_of_json(cli_db):
    with open_store(cli_db) as store:
        base, cand = store.runs()["run_id"].iloc[:2]
        comparison = compare_runs(store, base, cand, ["language", "domain"])
    import ui.tables

    csv = pd.read_csv(io.BytesIO(safe_csv(ui.tables.export_frame(comparison.table, ui.tables.COMPARISON_EXPORT))))
    records = cli_json(cli_db, "compare", "--baseline", base, "--candidate", cand, "--by", "language,domain")["slices"]
    assert set(records[0]) - {"predicate"} <= set(csv.columns)
    for row, record in zip(csv.to_dict("records"), records):
        for key in ("n", "base_error_rate", "cand_error_rate", "difference", "b", "c", "q_value"):
            assert row[key] == pytest.approx(record[key], rel=1e-12), key
        assert row["verdict"] == record["verdict"]


def test_compare_table_holds_rates_in_percent_and_changes_in_points(demo_db, monkeypatch):
    monkeypatch.setenv("FAULTLINE_DB", str(demo_db))
    at = AppTest.from_file(str(ROOT / "pages" / "3_Compare.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    shown = at.dataframe[0].value
    for column in ("baseline", "candidate", "change", "ci_low", "ci_high"):
        assert pd.api.types.is_numeric_dtype(shown[column]), column
    assert not {"0", "None", "nan", ""} & set(shown["q"])  # q-values as format_q writes them
    assert shown["change"].to_numpy() == pytest.approx((shown["candidate"] - shown["baseline"]).to_numpy())


def test_a_slice_where_a_mode_is_significantly_rarer_says_so():
    from ui.tables import concentration_display

    table = pd.DataFrame({
        "description": ["a", "b", "c"], "redundant": [False] * 3, "too_small": [False] * 3,
        "finding": [True, False, False], "q_value": [0.001, 1e-30, 0.4], "n": [100, 900, 50], "in_mode": [60, 90, 5],
        "mode_rate": [0.6, 0.1, 0.1], "ci_low": [0.5, 0.08, 0.04], "ci_high": [0.7, 0.12, 0.2],
        "rest_mode_rate": [0.15, 0.5, 0.16]})
    shown = concentration_display(table, fdr=0.05)
    assert dict(zip(shown["description"], shown["status"])) == {"a": "more frequent", "b": "less frequent", "c": ""}
    assert set(concentration_display(table)["status"]) == {"more frequent", ""}  # no level: only the findings


def test_counts_read_with_thousands_separators_and_stay_numbers():
    import streamlit as st

    from ui import tables

    # "36,421", not "36421" (the trial, at 1M): the browser's locale writes the separators, the column stays numeric
    for config in (tables.SLICE_COLUMNS["n"], tables.SLICE_COLUMNS["errors"], tables.COMPARISON_COLUMNS["n"],
                   tables.RUN_COLUMNS["rows"], tables.RUN_COLUMNS["correct"]):
        assert config["type_config"]["type"] == "number"
        assert config["type_config"]["format"] == tables.COUNT_FORMAT == "localized"
    assert st.column_config.NumberColumn("x", format=tables.COUNT_FORMAT)  # a format Streamlit accepts


def test_a_q_column_with_a_short_heading_is_as_wide_as_its_widest_number():
    from ui.tables import header_width, q_column

    # the separation table's "q" (its family in the help): "1e-31" was drawn "e-31" in a column as wide as "q"
    assert q_column("q", "all cells", family_in_label=False)["width"] >= header_width("<1e-300")
    assert q_column("q-value", "40 slices")["width"] == header_width("q-value (BH over 40 slices)")


def test_a_cluster_significantly_better_than_the_rest_says_so_and_a_blank_status_is_explained():
    from ui.tables import CLUSTER_COLUMNS, SLICE_COLUMNS, STATUS_HELP, clusters_display

    table = pd.DataFrame({"cluster": ["0", "1", "2", "-1"], "finding": [True, False, False, False],
                          "q_value": [0.001, 0.01, 0.4, np.nan], "difference": [0.1, -0.08, -0.01, 0.0],
                          "terms": [["a"], ["b"], ["c"], []], "size": [10, 20, 30, 5], "errors": [5, 1, 4, 1],
                          "error_rate": [0.5, 0.05, 0.13, 0.2], "ci_low": [0.2] * 4, "ci_high": [0.8] * 4})
    assert list(clusters_display(table, fdr=0.05)["status"]) == ["worse", "better", "", ""]
    assert list(clusters_display(table)["status"]) == ["worse", "", "", ""]
    assert "blank: no significant difference" in STATUS_HELP
    assert CLUSTER_COLUMNS["status"]["help"] == SLICE_COLUMNS["status"]["help"] == STATUS_HELP


def test_a_q_in_running_text_never_reads_q_equals_less_than():
    from ui.tables import q_text

    assert [q_text(q) for q in (0.01234, 0.0, float("nan"), None, 1.0)] == [
        "q = 0.012", "q < 1e-300", "not tested", "not tested", "q = 1"]


def test_the_separation_tables_counts_have_thousands_separators():
    from ui.tables import COUNT_FORMAT, SEPARATION_COLUMNS

    assert SEPARATION_COLUMNS["n_fail"]["type_config"]["format"] == COUNT_FORMAT
    assert SEPARATION_COLUMNS["n_ok"]["type_config"]["format"] == COUNT_FORMAT
