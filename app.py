"""Faultline start page: the runs in the store and their headline correctness."""

import os

import streamlit as st

import analysis
import ui
from analysis import figures

ui.page_setup("Faultline", "Stratified error analysis of model evaluations: where a model fails, why, "
              "and which part of its training objective is to blame.")
store = ui.get_store()
if store is None:
    st.stop()
if os.environ.get("FAULTLINE_WARM_UP", "1") != "0":
    # umap-learn compiles for ~45 s in a new process: once per process, in the background, while the user reads
    ui.start_cluster_warm_up()

version = store.data_version()
runs = ui.headline(str(store.path), version)
if runs.empty:
    st.info("The store has no runs yet. Add an evaluation log on the **Data** page, or from a terminal: "
            "`python -m analysis ingest PATH`.", icon=":material/upload_file:")
    st.page_link("pages/1_Data.py", label="Go to the Data page", icon=":material/upload_file:")
    st.stop()

total = int(runs["rows"].sum())
cols = st.columns(3)
cols[0].metric("Runs", f"{len(runs):,}")
cols[1].metric("Examples", f"{total:,}")
cols[2].metric("Models", f"{runs['model'].nunique():,}")

st.subheader("Runs")
for row in runs.itertuples():
    if row.check in ("differs", "partial"):
        st.warning(f"**{ui.md(row.name)}**: {ui.md(row.check_message)}. Numbers drawn from this run may not be the tool's; "
                   "see **Data** > Checked against the tool.", icon=":material/rule:")
graded = runs[runs["graded"]]
for row in graded.itertuples():
    st.caption(f"{ui.md(row.name)}: scores are graded, so the headline is the mean score; "
               f"{ui.md(analysis.format_threshold(row.threshold, row.threshold_source, row.correct_column))}.")
st.dataframe(ui.tables.runs_display(runs), hide_index=True, width="stretch", key="runs_table",
             column_config=ui.tables.RUN_COLUMNS)
st.plotly_chart(figures.headline_forest(runs), key="headline_chart", width="stretch")
st.caption(f"Store: `{store.path}` · data version {version}")
