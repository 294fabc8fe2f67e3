"""The Streamlit rerun floor of ``bench_ui.py``: a page with one selectbox and nothing else.

A selection re-runs this script, as a selection re-runs a Faultline page; the time from the click to settled here is
what Streamlit, the websocket and chromium cost on this machine whatever the page computes.

With ``FAULTLINE_FLOOR_ELEMENT`` set (``bench_ui.py --page elements``), the page also draws one element of a kind the
app's pages draw, made anew from the selection (as a page's chart or table changes with a setting): what redrawing
that element costs above the floor. Kinds: ``bench_ui.ELEMENTS``.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the engine and ui, for the app's own elements


kind = os.environ.get("FAULTLINE_FLOOR_ELEMENT", "none")
choice = st.selectbox("Option", ["one", "two", "three", "four"], key="floor_option")
st.write(f"Chosen: {choice}")
rng = np.random.default_rng(len(choice) + ord(choice[0]))  # another element for every option
if kind == "metrics":
    columns = st.columns(4)
    for i in range(8):
        columns[i % 4].metric(f"Metric {i}", f"{rng.random():.1%}", help="help")
elif kind in ("table", "styled table"):
    frame = pd.DataFrame(rng.random((200, 12)), columns=[f"c{i}" for i in range(11)] + ["q"])
    if kind == "styled table":
        from ui.tables import styled

        frame = styled(frame)
    st.dataframe(frame, key="floor_table", height=400, width="stretch")
elif kind in ("slice chart", "map"):
    from analysis import figures

    if kind == "slice chart":
        rate = rng.random(25) * 0.5
        table = pd.DataFrame({"description": [f"language = l{j} AND domain = d{j}" for j in range(25)],
                              "n": rng.integers(100, 10_000, 25), "error_rate": rate, "ci_low": rate - 0.05,
                              "ci_high": rate + 0.05, "q_value": rng.random(25), "finding": rng.random(25) < 0.3,
                              "too_small": False})
        figure = figures.slice_forest(table, overall_error_rate=0.2)
    else:
        n = 2_500
        labels = pd.DataFrame({"example_id": [f"ex{i}" for i in range(n)], "x": rng.random(n), "y": rng.random(n),
                               "cluster": rng.integers(0, 8, n).astype(str), "correct": rng.random(n) < 0.8,
                               "scored": True, "text": "a short text of the example"})
        figure = figures.cluster_map(labels, max_points=n)
    st.plotly_chart(figure, key="floor_chart", width="stretch")
