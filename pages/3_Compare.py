"""Compare: two runs over the same examples, slice by slice, and the regression gate."""

import streamlit as st

import ui
from analysis import figures, gate
from analysis.export import safe_csv

ui.page_setup("Compare", "A candidate run against a baseline on the examples they share: McNemar's exact test per "
              "slice, Benjamini-Hochberg across slices, and a regression gate.")
store = ui.get_store()
if store is None:
    st.stop()
runs = ui.run_listing(str(store.path), store.data_version())
if len(runs) < 2:
    st.info("Comparing needs two runs of the same examples: add another on the Data page.")
    st.stop()
db, version = str(store.path), store.data_version()
pair = ui.comparable_pair(db, version) or (None, None)  # by default two runs that share example ids
baseline = ui.run_picker(store, label="Baseline", key="baseline", default_index=0, default=pair[0])
candidate = ui.run_picker(store, label="Candidate", key="candidate", default_index=1, default=pair[1])
all_attrs, default_attrs = ui.attributes(db, version, baseline)
with st.sidebar:
    st.markdown("**Settings**")
    ui.remembered_list(all_attrs, key="compare_by", saved_key="compare_chosen_by", default=default_attrs,
                       query_param="compare_by")
    by = ui.remember_list(st.multiselect("Attributes (of the baseline)", all_attrs, key="compare_by"),
                          saved_key="compare_chosen_by", query_param="compare_by")
    order_wanted = ui.remembered(["1", "2"], key="compare_chosen_order", query_param="compare_order", default="1")
    max_order = st.radio("Conjunctions up to", [1, 2], index=int(order_wanted) - 1, horizontal=True,
                         key="compare_order", format_func=lambda k: {1: "single", 2: "pairs"}[k])
    ui.remember(str(max_order), key="compare_chosen_order", query_param="compare_order")
    min_support = st.number_input("Minimum support", min_value=1, value=30, step=5, key="compare_min_support")
    fdr = st.select_slider("Significance (BH-adjusted)", [0.01, 0.05, 0.1], value=0.05, key="compare_fdr")
    max_drop = st.slider("Gate: largest allowed accuracy drop (points)", 0.0, 20.0, 2.0, 0.5, key="compare_drop") / 100

if baseline == candidate:
    st.warning("Choose two different runs.")
    st.stop()
try:
    comparison = ui.comparison(db, version, baseline, candidate, tuple(by), int(max_order), int(min_support), float(fdr))
except Exception as err:  # noqa: BLE001 - shown in plain words
    ui.show_error(err)
    st.stop()

result = gate(comparison, max_drop=max_drop, alpha=float(fdr))
overall = comparison.overall()
if result.passed:
    st.success(f"Gate passed: no slice lost more than {max_drop * 100:.1f} points of accuracy significantly.", icon=":material/check_circle:")
else:
    st.error(f"Gate failed: {len(result.breaking)} slice(s) lost more than {max_drop * 100:.1f} points of accuracy significantly "
             f"(q < {fdr}).", icon=":material/block:")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Matched examples", f"{comparison.matched:,}")
c2.metric("Unmatched", f"{comparison.only_baseline:,} / {comparison.only_candidate:,}",
          help="only in the baseline / only in the candidate (left out)")
c3.metric("Baseline accuracy", ui.fmt_pct(1 - overall["base_error_rate"]))
c4.metric("Candidate accuracy", ui.fmt_pct(1 - overall["cand_error_rate"]),
          delta=f"{-overall['difference'] * 100:+.1f} pts")

st.plotly_chart(ui.figure("comparison_forest", (db, version, baseline, candidate, tuple(by), max_order, min_support,
                                                fdr, max_drop), lambda: figures.comparison_forest(
    comparison.table, max_drop=max_drop, top=30)), key="compare_forest", width="stretch")

display = ui.tables.comparison_display(comparison.table)
st.dataframe(display, hide_index=True, width="stretch", key="compare_table",
             column_config=ui.tables.COMPARISON_COLUMNS)
st.download_button("Download the comparison (CSV)",
                   lambda: safe_csv(ui.tables.export_frame(comparison.table, ui.tables.COMPARISON_EXPORT)),
                   file_name="comparison.csv", mime="text/csv", key="compare_download")  # made when asked
ui.precompute_next(db, version, "comparison", baseline, candidate, tuple(by), int(max_order), int(min_support),
                   float(fdr))  # the likely next views, in the background
