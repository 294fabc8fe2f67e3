"""Clusters: what the examples are about, found from their texts, each tested like a slice."""

import math

import plotly.graph_objects as go
import streamlit as st

import ui
from analysis import EMPTY, NOISE, FaultlineError
from analysis.export import safe_csv

MAP_POINTS = 15_000  # points drawn on the map at most (a seeded sample beyond)
PALETTE = ["#2563EB", "#C2410C", "#059669", "#7C3AED", "#DB2777", "#0891B2", "#CA8A04", "#4F46E5", "#65A30D",
           "#DC2626", "#0D9488", "#9333EA", "#EA580C", "#16A34A", "#2563EB", "#BE123C"]
FIELD_LABELS = {"input": "Input", "output": "Output", "reference": "Reference", "both": "Input and output"}

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
            if job.error is None:
                st.session_state["clusters_computed"] = (run_id, tuple(sorted(params.items())), job.seconds)
                ui.forget_cluster_job(store, run_id, params)
            st.rerun()  # the result (or its error) is shown by a full run of the page
        st.progress(job.fraction, text=f"{job.message}…")
        st.caption("Clustering runs in the background: the other pages stay usable, and the result is kept in the "
                   "store, so it is computed once. The first clustering in a new process also compiles UMAP.")

    progress_panel()
    st.stop()
ui.start_cluster_warm_up()  # so that other settings compute without compiling UMAP (once per process)

settings = result.settings
table = result.table
labels = result.labels
clusters_only = table[~table["cluster"].isin([NOISE, EMPTY])]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Examples", f"{settings['n_examples']:,}")
c2.metric("Clusters", f"{result.n_clusters:,}")
noise_share = float((labels["cluster"] == NOISE).mean())
c3.metric("Noise", ui.fmt_pct(noise_share), help="Examples HDBSCAN left in no cluster (their own group)")
c4.metric("Worse than the rest", f"{int(table['finding'].sum()):,}", help=f"q-value below {settings['fdr']}")
note = (f"Embedder: {settings['embedder_description']} · UMAP neighbours {settings['n_neighbors']} · smallest "
        f"cluster {settings['min_cluster_size']:,} · seed {settings['seed']}")
computed = st.session_state.get("clusters_computed")
if computed and computed[:2] == (run_id, tuple(sorted(params.items()))):
    note += f" · computed in {computed[2]:.1f} s and kept in the store"
else:
    note += " · from the store's cache"
st.caption(note)
for text in settings.get("notes", []):
    st.caption(text)

# ---------------------------------------------------------------- the map
st.subheader("Map")
color_options = ["correctness", "cluster"] + (["failure mode"] if "failure_mode" in labels else [])
color_by = st.radio("Colour by", color_options, horizontal=True, key="clusters_color")
shown = labels if len(labels) <= MAP_POINTS else labels.sample(MAP_POINTS, random_state=0).sort_index()
hover = shown["text"].str.slice(0, 160).str.replace("\n", " ", regex=False)
outcome = shown["correct"].map({True: "correct", False: "wrong"}).fillna("unscored").where(shown["scored"], "unscored")
if color_by == "correctness":
    groups = outcome
    colours = {"correct": "#94A3B8", "wrong": "#C2410C", "unscored": "#CBD5E1"}
elif color_by == "cluster":
    groups = shown["cluster"]
    names = sorted(groups.unique(), key=lambda g: (not g.isdigit(), int(g) if g.isdigit() else 0, g))
    colours = {g: ("#CBD5E1" if g in (NOISE, EMPTY) else PALETTE[i % len(PALETTE)]) for i, g in enumerate(names)}
else:
    groups = shown["failure_mode"].fillna("(not failing)")
    modes = [g for g in sorted(groups.unique()) if not g.startswith("(")]
    colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(modes)}
    colours |= {"(not failing)": "#CBD5E1", "(no mode)": "#64748B"}
fig = go.Figure()
# grey groups first, failures last: drawn on top
for name in sorted(groups.unique(), key=lambda g: (g not in (NOISE, EMPTY, "unscored", "(not failing)"), g == "wrong",
                                                   int(g) if str(g).isdigit() else 0, str(g))):
    mask = (groups == name).to_numpy()
    part = shown[mask]
    fig.add_trace(go.Scattergl(
        x=part["x"], y=part["y"], mode="markers", name=f"cluster {name}" if color_by == "cluster" and
        name not in (NOISE, EMPTY) else str(name),
        marker={"size": 5, "color": colours.get(name, "#64748B"), "opacity": 0.75},
        customdata=list(zip(part["cluster"], outcome[mask], hover[mask])),
        hovertemplate="cluster %{customdata[0]} · %{customdata[1]}<br>%{customdata[2]}<extra></extra>",
    ))
fig.update_layout(height=560, margin={"l": 10, "r": 10, "t": 10, "b": 10}, font={"size": 13},
                  xaxis={"visible": False}, yaxis={"visible": False}, legend={"itemsizing": "constant"},
                  plot_bgcolor="#FFFFFF")
st.plotly_chart(fig, key="clusters_map", width="stretch")
if len(labels) > MAP_POINTS:
    st.caption(f"The map shows a seeded sample of {MAP_POINTS:,} of {len(labels):,} examples; the table counts all.")

# ---------------------------------------------------------------- the table
st.subheader("Clusters by evidence")
display = table.assign(
    terms_text=[", ".join(t[:6]) for t in table["terms"]],
    rate=[ui.fmt_pct(r) for r in table["error_rate"]],
    interval=[ui.fmt_interval(lo, hi) for lo, hi in zip(table["ci_low"], table["ci_high"])],
    vs_rest=[f"{d * 100:+.1f} pts" if d == d else "" for d in table["difference"]],
    q=[ui.fmt_q(q) for q in table["q_value"]],
    status=["worse" if f else "" for f in table["finding"]],
)[["cluster", "terms_text", "size", "errors", "rate", "interval", "vs_rest", "q", "status"]]
event = st.dataframe(
    display, hide_index=True, width="stretch", height=min(420, 36 * len(display) + 40), key="clusters_table",
    on_select="rerun", selection_mode="single-row",
    column_config={"cluster": "Cluster", "terms_text": st.column_config.TextColumn("Top terms", width="large"),
                   "size": "Examples", "errors": "Errors", "rate": "Error rate", "interval": "95% interval",
                   "vs_rest": "vs rest", "q": "q-value", "status": "Status"},
)
st.download_button("Download the cluster table (CSV)", safe_csv(display), file_name=f"clusters-{run_id}.csv",
                   mime="text/csv", key="clusters_download")

# ---------------------------------------------------------------- one cluster
st.subheader("Examples of a cluster")
rows = event.selection.rows if event and event.selection else []
if not rows:
    st.caption("Select a cluster in the table above to see its examples and open it as a slice.")
    st.stop()
chosen = table.iloc[rows[0]]
name = chosen["cluster"]
rate_text = "" if (isinstance(chosen["error_rate"], float) and math.isnan(chosen["error_rate"])) else (
    f", error rate {ui.fmt_pct(chosen['error_rate'])} {ui.fmt_interval(chosen['ci_low'], chosen['ci_high'])}, "
    f"q = {ui.fmt_q(chosen['q_value'])}")
st.markdown(f"**{chosen['description']}**: {chosen['size']:,} examples{rate_text}")
if chosen["terms"]:
    st.markdown("Top terms: " + ", ".join(f"`{t}`" for t in chosen["terms"]))
if st.button("Open this cluster as a slice on the Slices page", key="clusters_to_slices",
             icon=":material/filter_alt:"):
    all_attrs, default_attrs = ui.attributes(db, store.data_version(), run_id)
    st.session_state[f"slices_by_{run_id}"] = [result.column] + [a for a in default_attrs if a != result.column]
    st.switch_page("pages/2_Slices.py")
left, right = st.columns(2)
text_column = {"text": st.column_config.TextColumn("Text", width="large"), "example_id": "Example"}
with left:
    st.markdown("**Nearest the centre**")
    st.dataframe({"example_id": chosen["representative_ids"], "text": chosen["representative_texts"]},
                 hide_index=True, width="stretch", key="cluster_representatives", column_config=text_column)
with right:
    st.markdown("**Typical failures**")
    if not chosen["failing_ids"]:
        st.caption("No failing example in this cluster.")
    else:
        st.dataframe({"example_id": chosen["failing_ids"], "text": chosen["failing_texts"]},
                     hide_index=True, width="stretch", key="cluster_failures", column_config=text_column)
if chosen["failure_modes"]:
    st.markdown("**Failure modes**: " + ", ".join(f"{k} {ui.fmt_pct(v)}" for k, v in chosen["failure_modes"].items()))
examples = ui.slice_examples(db, store.data_version(), run_id, ((result.column, str(name)),), 5)
st.markdown(f"**All examples of the cluster** (failures first, {len(examples):,} shown)")
st.dataframe(examples, hide_index=True, width="stretch", key="cluster_examples_table",
             column_config={"input": st.column_config.TextColumn("Input", width="large"),
                            "output": st.column_config.TextColumn("Output", width="large")})
