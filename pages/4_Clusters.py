"""Clusters: what the examples are about, found from their texts, each tested like a slice."""

import math

import pandas as pd
import streamlit as st

import ui
from analysis import EMPTY, NOISE, FaultlineError, bh_family_size, figures, pin_finding
from analysis.export import safe_csv

FIELD_LABELS = {"input": "Input", "output": "Output", "reference": "Reference", "both": "Input and output"}
#: Points the map draws at most (a seeded sample of a larger run; the report draws figures.MAP_POINTS). Every
#: rerun that changes the map (a colouring; not a selected cluster, highlighted by CSS) has the browser draw each point as an SVG
#: node: at 1M x 2, under load, a colouring or a selection settled in 1.5-2.9 s with 5,000 points and 0.6-1.1 s with
#: 2,500 (15,000 points: 1.1 MB of JSON, 2 s per draw). The table's statistics count every example.
MAP_POINTS = min(2_500, figures.MAP_POINTS)

store, run_id, db, version = ui.page_with_run("Clusters", "Clusters of the texts themselves find what metadata do not record: embeddings, UMAP and "
              "HDBSCAN, each cluster tested against the rest of the run like a slice (95% interval, q-value).")

with st.sidebar:
    st.markdown("**Clusters of**")
    field = st.radio("Text", list(FIELD_LABELS), index=0, key="clusters_field", horizontal=True,
                     format_func=FIELD_LABELS.get)
    embedders = ui.cluster_embedders(db, version, run_id)
    embedder = st.selectbox("Embedder", embedders, index=0, key="clusters_embedder",
                            help="auto: the log's own vectors, else the bundled model2vec model (distilled from "
                                 "all-MiniLM-L6-v2), else TF-IDF. Nothing is fetched from the network.")
    with st.expander("Parameters"):
        min_cluster_size = st.number_input("Smallest cluster (examples; 0 = 2% of the run)", min_value=0, value=0,
                                           step=10, key="clusters_min_size")
        n_neighbors = st.number_input("UMAP neighbours (0 = adapt to the run)", min_value=0, max_value=200, value=0,
                                      step=5, key="clusters_neighbors")
        seed = st.number_input("Seed", min_value=0, value=0, step=1, key="clusters_seed")
        sample_size = st.number_input("Fit on at most (examples)", min_value=500, value=5000, step=500,
                                      key="clusters_sample", help="Larger runs are fitted on a seeded sample; the "
                                      "rest join the cluster of their nearest fitted neighbours.")

where = ui.cohort_box(store, db, version, run_id, key="clusters_cohort")

params = {"field": field, "embedder": embedder, "min_cluster_size": int(min_cluster_size) or None,
          "n_neighbors": int(n_neighbors) or None, "seed": int(seed), "sample_size": int(sample_size)}

try:
    result = ui.cached_clusters(db, version, run_id, params)
except FaultlineError as err:  # too few examples, empty texts, bad settings: said plainly
    ui.show_error(err)
    st.stop()

if result is None:
    job = ui.cluster_job(store, run_id, params)
    if job.done and job.error is not None:
        ui.show_error(job.error)
        ui.forget_cluster_job(store, run_id, params)
        st.button("Try again", key="clusters_retry")
        st.stop()

    @st.fragment(run_every=1.0)
    def progress_panel() -> None:
        if job.done:
            ui.finish_cluster_job(store, job)
            st.rerun()  # the result (or its error) is shown by a full run of the page
        st.progress(job.fraction, text=f"{ui.md(job.message)}…")
        st.caption("Clustering runs in the background: the other pages stay usable, and the result is kept in the "
                   "store, so it is computed once. The first clustering in a new process also compiles UMAP.")

    progress_panel()
    st.stop()
ui.start_cluster_warm_up()  # so that other settings compute without compiling UMAP (once per process)

settings = result.settings
try:  # within a cohort the clusters stay as fitted on the run; every statistic is the cohort's
    table = ui.cluster_cohort_table(db, version, run_id, params, where=where)
except FaultlineError as err:
    ui.show_error(err)
    st.stop()
labels = result.labels
if where:
    labels = labels[labels["example_id"].astype(str).isin(ui.cohort_example_ids(db, version, run_id, where))]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Examples", f"{len(labels):,}", help="In the cohort" if where else None)
c2.metric("Clusters", f"{int((~table['cluster'].isin([NOISE, EMPTY])).sum()):,}")
noise_share = float((labels["cluster"] == NOISE).mean()) if len(labels) else 0.0
c3.metric("Noise", ui.fmt_pct(noise_share), help="Examples HDBSCAN left in no cluster (their own group)")
# the BH family's size from the engine: the clustering's own, or its table over the cohort (q over the groups present)
family = result.q_family_size if not where else bh_family_size(table["q_value"])
c4.metric("Worse than the rest", f"{int(table['finding'].sum()):,}", help=f"q-value below {settings['fdr']}, adjusted over the "
                                         f"{family:,} groups tested (Benjamini-Hochberg)")
st.caption(f"Embedder: {settings['embedder_description']} · UMAP neighbours {settings['n_neighbors']} · smallest "
           f"cluster {settings['min_cluster_size']:,} · seed {settings['seed']} · {ui.computed_note(run_id, params)}")
for text in settings.get("notes", []):
    st.caption(text)
if where:
    st.caption(f"Within the cohort {ui.cohort.cohort_words(where)}: the clusters are those fitted on the whole run; sizes, error "
               "rates, tests and q-values are over the cohort's examples only, and the map shows only them.")

# ---------------------------------------------------------------- the map
st.subheader("Map")
color_options = ["correctness", "cluster"] + (["failure mode"] if "failure_mode" in labels else [])
color_by = st.radio("Colour by", color_options, horizontal=True, key="clusters_color")
map_slot = st.container(key="clusters_map_box")  # filled once the table's selected cluster is known (highlighted)

# ---------------------------------------------------------------- the table
st.subheader("Clusters by evidence")
display = ui.tables.clusters_display(table, fdr=settings.get("fdr"))  # significantly better says so too
# The selected cluster is kept by name (session and ?cluster=), selected again only where it is still a row.
selected = st.session_state.get("clusters_selected")
wanted = (selected.get("cluster") if selected.get("run") == run_id else None) if selected is not None else (
    st.query_params.get("cluster"))
names = [str(c) for c in table["cluster"]]
positions = [names.index(wanted)] if wanted in names else []
event = st.dataframe(ui.tables.styled(display), hide_index=True, width="stretch", height=ui.tables.grid_height(len(display), cap=420),
                     key=ui.table_key("clusters_table", db, version, run_id, sorted(params.items()), where),
                     on_select="rerun", selection_mode="single-row",
                     column_config=ui.tables.with_q_family(ui.tables.CLUSTER_COLUMNS, f"{family:,} groups"),
                     selection_default={"selection": {"rows": positions}} if positions else None)
st.caption(ui.tables.clusters_q_family(family))
st.download_button("Download the cluster table (CSV)", safe_csv(ui.tables.export_frame(table, ui.tables.CLUSTER_EXPORT)), file_name=f"clusters-{run_id}.csv",
                   mime="text/csv", key="clusters_download")

# what "Open this cluster as a slice" shows (whichever cluster): the Slices page's table with the clustering's column
# first, computed in the background while the user reads this page (1-2 s at 1M examples when it is asked for)
if not where:
    ui.precompute_next(db, version, "slice_table", run_id, tuple(ui.cluster_slice_attributes(db, version, run_id,
                                                                                             result.column)),
                       int(ui.remembered(["1", "2", "3"], key="slices_chosen_order", default="2")),
                       *ui.SLICES_DEFAULTS[1:])

rows = event.selection.rows if event and event.selection else []
chosen = table.iloc[rows[0]] if rows and rows[0] < len(table) else None
name = None if chosen is None else str(chosen["cluster"])
st.session_state["clusters_selected"] = {"run": run_id, "cluster": name}
if name is None:
    st.query_params.pop("cluster", None)
else:
    st.query_params["cluster"] = name

with map_slot:
    # built once per view and colouring, never per selected cluster: a changed figure is drawn anew by the browser
    # (0.6 s for 2,500 points at 1M examples), while the selected cluster is highlighted by a style sheet
    figure = ui.figure("cluster_map", (db, version, run_id, tuple(sorted(params.items())), where, color_by),
                       lambda: figures.cluster_map(labels, color_by=color_by, max_points=MAP_POINTS))
    picked = st.plotly_chart(figure, key=ui.table_key("clusters_map", db, version, run_id, sorted(params.items()),
                                                      where),
                             width="stretch", on_select="rerun", selection_mode=("box", "lasso"))
    highlight = "" if name is None else figures.cluster_highlight_css(figure, name, ".st-key-clusters_map_box")
    if highlight:
        st.html(f"<style>{highlight}</style>")
        st.caption(f"Cluster {ui.md(name)} is drawn in colour on the map, every other point in light grey.")
    if len(labels) > MAP_POINTS:
        st.caption(f"The map shows a seeded sample of {MAP_POINTS:,} of {len(labels):,} examples; the table "
                   "counts all (a selection holds the points drawn).")
    points = ((picked or {}).get("selection") or {}).get("points") or []  # the event is a dict with attributes
    chosen_ids = list(dict.fromkeys(str(p["customdata"][3]) for p in points
                                    if isinstance(p.get("customdata"), list) and len(p["customdata"]) > 3))
    if not chosen_ids:
        st.caption("Draw a box or a lasso on the map (the tools above it) to make the examples inside a cohort.")
    elif len(chosen_ids) > ui.cohort.MAX_SELECTED:
        st.warning(f"{len(chosen_ids):,} examples selected: a cohort from the map holds at most "
                   f"{ui.cohort.MAX_SELECTED:,}. Select a smaller region.", icon=":material/select_all:")
    else:
        st.button(f"Make the {len(chosen_ids):,} selected examples the cohort", key="clusters_selection_cohort",
                  icon=":material/filter_alt:", on_click=ui.set_cohort,
                  args=("clusters_cohort", ui.ids_condition(chosen_ids)),
                  help="The cohort lists their ids (example_id in [...]); save it in the sidebar for a short link.")

# ---------------------------------------------------------------- one cluster
st.subheader("Examples of a cluster")
if chosen is None:
    st.caption("Select a cluster in the table above to see its examples and open it as a slice.")
    st.stop()
rate_text = "" if (isinstance(chosen["error_rate"], float) and math.isnan(chosen["error_rate"])) else (
    f", error rate {ui.fmt_pct(chosen['error_rate'])} {ui.fmt_interval(chosen['ci_low'], chosen['ci_high'])}, "
    f"{ui.q_text(chosen['q_value'])} (over the {family:,} groups of this clustering)")
st.markdown(f"**{ui.md(chosen['description'])}**: {chosen['size']:,} examples{rate_text}")
if chosen["terms"]:
    st.markdown("Top terms: " + ", ".join(ui.md(t) for t in chosen["terms"]))
with st.popover("Pin as finding", icon=":material/push_pin:", key="clusters_pin_popover", on_change="rerun"):
    held = ui.already_pinned(store, run_id, kind="cluster", target={"cluster": name, "column": result.column},
                             where=where, flash_key="clusters_pin_flash")  # said, and nothing offered that would duplicate it
    st.text_area("Note", key="clusters_pin_note", placeholder="Why this cluster matters", disabled=held)
    ui.author_input("clusters_pin_author")
    evidence = {k: chosen[k] for k in ("size", "n", "errors", "error_rate", "ci_low", "ci_high", "rest_error_rate",
                                        "difference", "p_value", "q_value", "finding")}
    # pinning closes the popover and clears the note; the confirmation shows below
    st.button("Pin", key="clusters_pin", icon=":material/push_pin:", on_click=ui.pin_clicked, disabled=held,
              args=(lambda n, a: pin_finding(
                  store, run_id, kind="cluster", target={"cluster": name, "column": result.column},
                  evidence={**evidence, "description": chosen["description"], "terms": list(chosen["terms"])},
                  settings={**params, "column": result.column, "fdr": settings.get("fdr")},
                  note=n, author=a, where=where),),
              kwargs={"note_key": "clusters_pin_note", "author_key": "clusters_pin_author",
                      "flash_key": "clusters_pin_flash", "popover": "clusters_pin_popover",
                      "message": ui.session.PINNED_AS_FINDING})
ui.show_pin_result(flash_key="clusters_pin_flash")
if st.button("Open this cluster as a slice on the Slices page", key="clusters_to_slices",
             icon=":material/filter_alt:"):
    ui.open_on_slices_page(run_id, {result.column: str(name)},
                           attributes=ui.cluster_slice_attributes(db, version, run_id, result.column))
left, right = st.columns(2)
text_column = {"text": st.column_config.TextColumn("Text", width="large"), "example_id": "Example id"}


#: The set an example opened from this cluster steps through: the cluster's examples (the slice of its labels).
origin = ui.example_set("slice", predicate={result.column: str(name)}, bins=5)


def _listed(ids, texts):
    """Example ids and texts with an Open button to each one's example view."""
    return ui.with_open_buttons(ui.with_example_links(
        pd.DataFrame({"example_id": [str(i) for i in ids], "text": list(texts)}), run_id, where, origin))


with left:
    st.markdown("**Nearest the centre**")
    if not chosen["representative_ids"]:
        st.caption("None of the examples nearest the centre is in the cohort.")
    else:
        listed = _listed(chosen["representative_ids"], chosen["representative_texts"])
        st.dataframe(listed, hide_index=True, width="stretch", key="cluster_representatives",
                     column_config={**text_column, **ui.open_columns("cluster_representatives_open")})
        ui.open_clicked("cluster_representatives_open", listed)
with right:
    st.markdown("**Typical failures**")
    if not chosen["failing_ids"]:
        st.caption("No failing example in this cluster.")
    else:
        listed = _listed(chosen["failing_ids"], chosen["failing_texts"])
        st.dataframe(listed, hide_index=True, width="stretch", key="cluster_failures",
                     column_config={**text_column, **ui.open_columns("cluster_failures_open")})
        ui.open_clicked("cluster_failures_open", listed)
if chosen["failure_modes"]:
    st.markdown("**Failure modes**: " + ", ".join(f"{ui.md(k)} {ui.fmt_pct(v)}" for k, v in chosen["failure_modes"].items()))
try:
    examples = ui.slice_examples(db, store.data_version(), run_id, ((result.column, str(name)),), 5, where=where)
except FaultlineError as err:  # the labels column of another clustering than the one shown
    ui.show_error(err)
    st.stop()
st.markdown(f"**All examples of the cluster** (failures first, {len(examples):,} shown)")
listed = ui.with_open_buttons(ui.with_example_links(examples, run_id, where, origin))
st.dataframe(listed, hide_index=True, width="stretch", key="cluster_examples_table",
             column_config={**ui.open_columns("cluster_examples_open"), **ui.tables.EXAMPLE_COLUMNS})
ui.open_clicked("cluster_examples_open", listed)
