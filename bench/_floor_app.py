"""The Streamlit rerun floor of ``bench_ui.py``: a page with one selectbox and nothing else.

A selection re-runs this script, as a selection re-runs a Faultline page; the time from the click to settled here is
what Streamlit, the websocket and chromium cost on this machine whatever the page computes.
"""

import streamlit as st

choice = st.selectbox("Option", ["one", "two", "three", "four"], key="floor_option")
st.write(f"Chosen: {choice}")
