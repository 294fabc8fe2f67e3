"""Faultline start page: the runs in the store and their headline correctness."""

import os

import plotly.graph_objects as go
import streamlit as st

import ui

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
table = runs.assign(
    accuracy_text=[ui.fmt_pct(a) for a in runs["accuracy"]],
    interval=[ui.fmt_interval(lo, hi) for lo, hi in zip(runs["ci_low"], runs["ci_high"])],
)
st.dataframe(
    table[["name", "model", "format", "rows", "scored", "correct", "accuracy_text", "interval", "run_id"]],
    hide_index=True, width="stretch", key="runs_table",
    column_config={
        "name": st.column_config.TextColumn("Run"),
        "model": "Model", "format": "Format",
        "rows": st.column_config.NumberColumn("Examples", format="%d"),
        "scored": st.column_config.NumberColumn("Scored", format="%d",
                                                help="Examples with an outcome (unscorable ones excluded)"),
        "correct": st.column_config.NumberColumn("Correct", format="%d"),
        "accuracy_text": st.column_config.TextColumn("Accuracy"),
        "interval": st.column_config.TextColumn("95% interval", help="Wilson score interval"),
        "run_id": "Run id",
    },
)

scored = runs[runs["scored"] > 0]
if not scored.empty:
    fig = go.Figure(go.Scatter(
        x=scored["accuracy"], y=scored["name"], mode="markers",
        marker={"size": 12, "color": "#C2410C"},
        error_x={"type": "data", "symmetric": False,
                 "array": scored["ci_high"] - scored["accuracy"],
                 "arrayminus": scored["accuracy"] - scored["ci_low"], "thickness": 2, "width": 6},
        customdata=scored[["scored", "ci_low", "ci_high"]].to_numpy(),
        hovertemplate="%{y}<br>accuracy %{x:.1%}<br>95% CI %{customdata[1]:.1%} to %{customdata[2]:.1%}"
                      "<br>n = %{customdata[0]:,}<extra></extra>",
    ))
    fig.update_layout(height=max(220, 48 * len(scored) + 80), margin={"l": 10, "r": 10, "t": 30, "b": 40},
                      xaxis={"title": "Accuracy (95% Wilson interval)", "tickformat": ".0%", "range": [0, 1.02]},
                      yaxis={"autorange": "reversed", "automargin": True}, font={"size": 15},
                      title={"text": "Headline correctness per run", "font": {"size": 16}})
    st.plotly_chart(fig, key="headline_chart", width="stretch")
st.caption(f"Store: `{store.path}` · data version {version}")
