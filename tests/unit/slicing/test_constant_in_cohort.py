"""An attribute with one value in the cohort (the one the cohort fixes) is left out: its one slice would hold the
whole cohort, a duplicate of it counted in the Benjamini-Hochberg family (a user trial saw "Slices tested 240" beside
"q (BH over 268 slices)", and a gate count one set of examples twice)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from analysis.slicing.compare import compare_runs
from analysis.slicing.table import slice_table
from analysis.store import Store
from tests.unit.slicing.test_cohorts import make_frame

COHORT = 'domain = "legal"'


def test_the_attribute_a_cohort_fixes_gives_no_slice_and_the_bh_family_is_the_table(tmp_path):
    frame = make_frame()
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest_frame(frame, name="run")
        got = slice_table(store, "run", ["lang", "domain"], min_support=20, where=COHORT)
    assert not any("domain" in a for a in got.table["attributes"])
    assert got.settings["attributes"] == ["lang"]
    legal = frame[frame["domain"] == "legal"]
    # the slices left are lang's, counted on the cohort's rows by pandas
    counts = legal.groupby("lang").size()
    assert dict(zip(got.table["description"], got.table["n"])) == {f"lang = {k}": v for k, v in counts.items()}
    tested = got.table["q_value"].notna()
    want = multipletests(got.table.loc[tested, "p_value"], method="fdr_bh")[1]
    np.testing.assert_allclose(got.table.loc[tested, "q_value"], want, rtol=1e-12)


def test_compare_leaves_out_the_fixed_attribute_and_no_row_duplicates_all_examples(tmp_path):
    base, cand = make_frame(), make_frame(seed=4, shift=0.1)
    with Store(tmp_path / "c.duckdb") as store:
        store.ingest_frame(base, name="base")
        store.ingest_frame(cand, name="cand")
        got = compare_runs(store, "base", "cand", ["lang", "domain"], where=COHORT)
        alone = compare_runs(store, "base", "cand", ["domain"], where=COHORT)
    assert not any("domain" in a for a in got.table["attributes"])
    whole = got.table[got.table["attributes"].map(len) == 0]
    assert len(whole) == 1 and int(whole["n"].iloc[0]) == int((base["domain"] == "legal").sum())
    # every attribute fixed: only the whole cohort is compared, once
    assert list(alone.table["description"]) == list(whole["description"])
    assert pd.notna(alone.table["q_value"]).sum() == 1
