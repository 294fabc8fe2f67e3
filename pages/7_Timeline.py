"""Timeline: a series of runs (checkpoints, releases): drifting slices, surrogate against outcome, mix shift."""

import streamlit as st

import analysis
import ui
from analysis import figures
from analysis.export import safe_csv

VIEWS = {"drift": "Drifting slices", "surrogate": "Surrogate vs outcome", "mix": "Mix shift"}

ui.page_setup("Timeline", "Runs over time: every slice's accuracy along a series of checkpoints or releases, its "
              "trend (Cochran-Armitage) and first departure from the reference (McNemar), the over-optimisation "
              "turn of each objective signal, and how much of a headline change the evaluation mix explains.")
store = ui.get_store()
if store is None:
    st.stop()
db, version = str(store.path), store.data_version()
listing = ui.series_listing(db, version)
runs_listing = ui.run_listing(db, version)
with st.expander("Create a series", expanded=False), st.form("timeline_create"):
    new_name = st.text_input("Name", key="timeline_new_name")
    members = st.multiselect("Runs (at least two)", list(runs_listing["name"]), key="timeline_new_runs")
    order_by = st.radio("Order by", ["auto", "step", "date", "given"], horizontal=True, key="timeline_new_order",
                        help="step: the training step in each run's name (step-12000); date: a date in the name, "
                             "else load time; given: as chosen; auto: step when every run names one")
    reference = st.selectbox("Reference run", ["(the first in order)"] + members, key="timeline_new_reference")
    if st.form_submit_button("Create the series", disabled=store.read_only):
        try:
            made = analysis.create_series(store, new_name, members, order_by=order_by,
                                          reference=None if reference.startswith("(") else reference)
        except Exception as err:  # noqa: BLE001 - shown in plain words
            ui.show_error(err)
        else:
            ui.remember(made.name, key="timeline_series", query_param="series")
            st.rerun()
if listing.empty:
    # the demo series is offered in an empty store or beside the demo's runs: never among the user's own logs
    demo_store = runs_listing.empty or bool((runs_listing["format"] == "demo").any())
    st.info("No series yet. Create one above or from the command line (`python -m analysis series create NAME "
            "--runs A,B,C --order-by step`)" + (", or build the demo series: six checkpoints with a planted "
                                                "over-optimisation, a slow drift and a mix shift." if demo_store
                                                else "."), icon=":material/timeline:")
    if demo_store and st.button("Build the demo series", key="timeline_build_demo", disabled=store.read_only):
        with st.spinner("Building the demo series..."):
            analysis.ensure_demo_series(store)
        st.rerun()
    st.stop()

names = list(listing["name"])
with st.sidebar:
    st.markdown("**Series**")
    name = st.selectbox("Series", names, index=names.index(ui.remembered(names, key="timeline_series",
                                                                        query_param="series", default=names[0])),
                        key="timeline_series_picker")
    ui.remember(name, key="timeline_series", query_param="series")
    supports = [1, 5, 10, 20, 30, 50, 100, 200, 500]
    min_support = st.selectbox("Minimum support (every run)", supports, key="timeline_support_picker",
                               index=supports.index(ui.remembered(supports, key="timeline_support", default=30,
                                                                  query_param="support",
                                                                  aliases={str(v): v for v in supports})))
    ui.remember(min_support, key="timeline_support", query_param="support")
    levels = [0.01, 0.05, 0.1]
    fdr = st.select_slider("Significance (BH-adjusted)", levels, key="timeline_fdr_picker",
                           value=ui.remembered(levels, key="timeline_fdr", default=0.05, query_param="fdr",
                                               aliases={str(v): v for v in levels}))
    ui.remember(fdr, key="timeline_fdr", query_param="fdr")
reference_run = str(listing.set_index("name").loc[name, "reference"])
# the cohort (checked on the reference run) applies to every run: trajectories, surrogate curves and mix shift
where = ui.cohort_box(store, db, version, reference_run, key="timeline_cohort")

view_keys = list(VIEWS)
view = st.segmented_control("View", view_keys, format_func=VIEWS.get, key="timeline_view_picker",
                            default=ui.remembered(view_keys, key="timeline_view", query_param="view",
                                                  default="drift"))
view = ui.remember(view or "drift", key="timeline_view", query_param="view")

try:
    traj = ui.series_trajectories(db, version, name, int(min_support), float(fdr), where)
except Exception as err:  # noqa: BLE001 - shown in plain words
    ui.show_error(err)
    st.stop()
info = traj.series
st.caption(f"{analysis.format_count(len(info.run_ids), 'run')} ordered by {info.order_by}: " + " → ".join(info.labels)
           + f"; reference {info.run_names[info.reference_index]}. "
           + ("Runs share their examples with the reference: trends and departures use the shared examples."
              if traj.paired else "Runs hold different examples: departures use the two-proportion test.")
           + (f" Within the cohort {ui.cohort.cohort_words(where)}: every run's examples outside it are left out." if where else ""))


@st.cache_resource(show_spinner=False, max_entries=64)
def trajectory_figure(db: str, version: int, series: str, support: int, level: float, cohort: str | None,
                      descriptions: tuple, columns: int, title: str | None):
    """The small multiples of these slices (:func:`analysis.figures.trajectory_grid`), built once per data version
    and settings (a grid of nine panels takes a quarter of a second to build; ``st.plotly_chart`` only reads it).
    In a paired series the panels show the accuracy on the examples shared with the reference: those the trend and
    the departures are measured on, so a panel's slope is the trend's."""
    found = ui.series_trajectories(db, version, series, support, level, cohort)
    return figures.trajectory_grid(found.points, list(descriptions), columns=columns, title=title,
                                   shared=found.paired)


#: What the accuracies beside the trend are over, in a paired series and otherwise (headings, help, titles).
OVER_SHARED = "on the examples each run shares with the reference"
OVER_ALL = "on every example of each run"


# Each view is a fragment: changing its own widgets re-runs the view alone (the trajectories above come from the
# cache keyed on the data version, the cohort and the settings).
@st.fragment
def drift_view() -> None:
    """Drifting slices: small multiples, one slice's runs, the slice table."""
    drifting = traj.drifting()
    c1, c2, c3 = st.columns(3)
    c1.metric("Slices followed", f"{len(traj.slices):,}")
    c2.metric("Drifting (unexplained)", f"{len(drifting):,}")
    c3.metric("Explained by another slice", f"{int((traj.slices['explained_by'] != '').sum()):,}")
    everything = "(drifting slices of every attribute)"
    attributes = [everything] + list(traj.settings["attributes"])
    c1, c2, c3 = st.columns([2, 3, 1])
    attribute = c1.selectbox("Attribute", attributes, key="timeline_attribute_picker",
                             index=attributes.index(ui.remembered(attributes, key="timeline_attribute",
                                                                  query_param="attr", default=everything)))
    ui.remember(attribute, key="timeline_attribute", query_param="attr")
    if attribute == everything:  # the drifting slices, strongest evidence first
        focus = drifting
    else:  # every slice of the attribute, flagged ones first (the slices table's order)
        focus = traj.slices[traj.slices["attribute"] == attribute]
    panels = list(range(3, 13))
    shown = c3.selectbox("Panels", panels, key="timeline_panels_picker",
                         index=panels.index(ui.remembered(panels, key="timeline_panels", query_param="panels",
                                                          default=min(6, max(3, len(focus))),
                                                          aliases={str(v): v for v in panels})))
    ui.remember(shown, key="timeline_panels", query_param="panels")
    descriptions = list(focus["description"])
    none = "(no slice: the panels)"
    chosen_slice = c2.selectbox("Slice", [none] + descriptions, key="timeline_slice_picker",
                                index=([none] + descriptions).index(ui.remembered(
                                    [none] + descriptions, key="timeline_slice", query_param="slice", default=none)))
    ui.remember(chosen_slice, key="timeline_slice", query_param="slice")
    if chosen_slice != none:
        row = traj.slices.set_index("description").loc[chosen_slice]
        departs = (f"first departs from the reference at {row['first_departure_label']} ({row['departure_direction']})"
                   if row["first_departure"] >= 0 else "never departs significantly from the reference")
        over = (f"accuracy {row['first_trend']:.1%} in the first run and {row['last_trend']:.1%} in the newest "
                f"{OVER_SHARED} (the trend's examples; {row['first']:.1%} and {row['last']:.1%} over every example)"
                if traj.paired else f"accuracy {row['first']:.1%} in the first run, {row['last']:.1%} in the newest")
        st.markdown(f"**{ui.md(chosen_slice)}**: {over}; trend {row['slope'] * 100:+.2f} points per run (95% CI {row['slope_low'] * 100:+.2f} to "
                    f"{row['slope_high'] * 100:+.2f}, q = {ui.fmt_q(row['trend_q'])}); {departs}"
                    + (f"; explained by {ui.md(row['explained_by'])}" if row["explained_by"] else "") + ".")
        st.plotly_chart(trajectory_figure(db, version, name, int(min_support), float(fdr), where, (chosen_slice,),
                                          1, f"accuracy per run {OVER_SHARED if traj.paired else OVER_ALL} (95% CI)"),
                        key="timeline_slice_chart", width="stretch")
        # the accuracy beside the trend (and its interval) over the trend's examples; in a paired series every
        # example's too, with its count
        runs_table = traj.trajectory(chosen_slice)[
            ["label", "trend_n", "trend_accuracy", "trend_ci_low", "trend_ci_high"]
            + (["n", "accuracy"] if traj.paired else []) + ["departure", "departure_q"]]
        runs_table = runs_table.assign(**{c: runs_table[c] * 100 for c in runs_table.columns
                                          if c.endswith(("accuracy", "ci_low", "ci_high")) or c == "departure"})
        set_name = "shared" if traj.paired else "all"
        st.dataframe(ui.tables.styled(runs_table, ("departure_q",)), hide_index=True, width="stretch", key="timeline_slice_runs", column_config={
            "label": "run",
            "trend_n": ui.tables.count(f"n ({set_name})", help=f"examples {OVER_SHARED if traj.paired else OVER_ALL}"),
            "trend_accuracy": ui.tables.percent(f"accuracy ({set_name})",
                                                help=f"accuracy {OVER_SHARED if traj.paired else OVER_ALL}: the "
                                                     "examples the trend is fitted on"),
            "trend_ci_low": ui.tables.percent("95% low"), "trend_ci_high": ui.tables.percent("95% high"),
            "n": ui.tables.count("n (all)", help="every example of the run, added ones included"),
            "accuracy": ui.tables.percent("accuracy (all)", help=f"accuracy {OVER_ALL}, added examples included"),
            "departure": ui.tables.points("vs reference", help="accuracy minus the reference's on the compared "
                                                              "examples (the shared ones in a paired series)"),
            "departure_q": ui.tables.q_column("departure q", ui.tables.q_family(traj.points["departure_q"],
                                                                               "runs of every slice"))})
    else:
        title = (("Drifting slices" if attribute == everything else attribute) + ": accuracy per run "
                 + (OVER_SHARED if traj.paired else OVER_ALL) + " (95% CI)")
        st.plotly_chart(trajectory_figure(db, version, name, int(min_support), float(fdr), where,
                                          tuple(descriptions[:shown]), 3, title),
                        key="timeline_grid", width="stretch")
    table = ui.tables.drift_order(traj.slices if attribute == everything else focus)[[  # by evidence, as Slices
        "description", "trend_q", "slope", "first_departure_label", "departure_direction", "flagged", "direction",
        "explained_by", "n_min"] + (["first_trend", "last_trend"] if traj.paired else []) + ["first", "last"]]
    table = table.assign(slope=table["slope"] * 100)
    # rates as numbers x 100 shown with one decimal (the grid's "percent" format wrote 77.1% beside 76.29%); the
    # download keeps fractions
    shown = table.assign(**{c: table[c] * 100 for c in ("first_trend", "last_trend", "first", "last")
                            if c in table.columns})
    trend_over = OVER_SHARED if traj.paired else OVER_ALL
    st.dataframe(ui.tables.styled(shown, ("trend_q",)), hide_index=True, width="stretch", key="timeline_slices", column_config={
        # the essential columns first and short (their meaning in help): in view at 1280x720
        "description": ui.tables.slice_column("slice"),
        "n_min": ui.tables.count("smallest n", help="the slice's fewest examples in a run"),
        # the first/newest accuracy over the trend's examples, next to the trend; in a paired series every
        # example's (added items included) as a second pair
        "first_trend": ui.tables.percent("first (shared)", help=f"the first run's accuracy {OVER_SHARED}: the "
                                                                "examples the trend is fitted on"),
        "last_trend": ui.tables.percent("newest (shared)", help=f"the newest run's accuracy {OVER_SHARED}: the "
                                                                "examples the trend is fitted on"),
        "first": ui.tables.percent("first (all)" if traj.paired else "first run",
                                   help=f"the first run's accuracy {OVER_ALL}"
                                        + (", added examples included (not the trend's examples)" if traj.paired
                                           else " (the trend's examples)")),
        "last": ui.tables.percent("newest (all)" if traj.paired else "newest run",
                                  help=f"the newest run's accuracy {OVER_ALL}"
                                       + (", added examples included (not the trend's examples)" if traj.paired
                                          else " (the trend's examples)")),
        "slope": st.column_config.NumberColumn("trend (pts/run)", format="%+.2f", width=120,  # the unit once
                                               help="accuracy change per run of the Cochran-Armitage line, in "
                                                    f"points per run, {trend_over}"),
        "trend_q": ui.tables.q_column("trend q", ui.tables.q_family(traj.slices["trend_q"], "slices")),
        "first_departure_label": st.column_config.TextColumn(
            "departs at", width=90, help="the first run whose accuracy departs significantly from the reference's "
                                         "(McNemar on shared examples, else two proportions; BH over the runs)"),
        "departure_direction": st.column_config.TextColumn("then", width=60, help="the direction of that departure"),
        "direction": st.column_config.TextColumn("trend dir.", help="the significant trend's direction"),
        "explained_by": "explained by", "flagged": st.column_config.CheckboxColumn(
            "flagged", width=60, help="a significant trend (of accuracy or the mean score) or a significant departure "
                                      "from the reference; never a slice under the minimum support")})
    st.download_button("Download the slices (CSV)", safe_csv(table), file_name="timeline_slices.csv",
                       mime="text/csv", key="timeline_download")


@st.fragment
def surrogate_view() -> None:
    """Surrogate against outcome: the over-optimisation turns of the objective's signals."""
    spec_text, source = ui.spec_draft()  # the Failure modes page's spec (the demo's until the user changes it)
    st.caption(f"Objective spec: {ui.md(source)} (change it on the Failure modes page).")
    try:
        result = ui.series_surrogate(db, version, name, spec_text, source, int(min_support), float(fdr), where)
    except Exception as err:  # noqa: BLE001 - shown in plain words
        ui.show_error(err)
        return
    found = result.found()
    if found.empty:
        st.success("No over-optimisation turn: no signal kept rising significantly while accuracy fell from a peak.",
                   icon=":material/check_circle:")
    evidence = result.link_evidence(ui.objective(spec_text, source))
    for row in found.head(3).itertuples():
        st.warning(f"**{ui.md(row.description)}**: {ui.md(row.evidence)} (component {ui.md(row.component_name)}, "
                 f"q = {ui.fmt_q(row.q_value)}).", icon=":material/trending_down:")
    pairs = list(dict.fromkeys(zip(result.turns["description"], result.turns["signal"])))
    labels = [f"{d} · {s}" for d, s in pairs]
    chosen = st.selectbox("Slice and signal", labels, key="timeline_pair_picker",
                          index=labels.index(ui.remembered(labels, key="timeline_pair", query_param="pair",
                                                           default=labels[0])) if labels else 0)
    if chosen:
        ui.remember(chosen, key="timeline_pair", query_param="pair")
        desc, signal = pairs[labels.index(chosen)]
        row = result.turns[(result.turns["description"] == desc) & (result.turns["signal"] == signal)].iloc[0]
        st.plotly_chart(figures.surrogate_curve(result.curves, description=desc, signal=signal,
                                                turn_label=row["turn_label"] if row["over_optimised"] else None,
                                                shared=result.trajectories.paired),
                        key="timeline_surrogate", width="stretch")
    q_family = ui.tables.q_family(result.turns["q_value"], "slice x signal pairs")
    if len(evidence):
        st.markdown("**Evidence for the Failure modes link** (a new kind: over-optimisation along the series)")
        # plain names (the spec's names of the mode and the component), q as every q is written
        shown = evidence[["description", "mode_name", "q_value", "turn_label", "component_name", "signal",
                          "evidence", "can_cause"]]
        st.dataframe(ui.tables.styled(shown, ("q_value",)), hide_index=True, width="stretch",
                     key="timeline_evidence", column_config={
                         "mode_name": "failure mode", "component_name": "component",
                         "description": ui.tables.slice_column("slice", width=ui.tables.NARROW_SLICE_WIDTH),
                         "signal": "signal", "turn_label": "accuracy peaks at",
                         "q_value": ui.tables.q_column("q", q_family),
                         "evidence": st.column_config.TextColumn("evidence", width="large"),
                         "can_cause": st.column_config.CheckboxColumn(
                             "spec: can cause", help="the spec lists this failure mode among the component's "
                                                     "effects (can_cause)")})
    turns = result.turns[["description", "signal", "q_value", "turn_label", "peak_accuracy", "last_accuracy",
                          "over_optimised", "component"]]
    # rates as numbers x 100 with one decimal (the grid's "percent" format wrote 85.9% beside 79.06%)
    turns = turns.assign(peak_accuracy=turns["peak_accuracy"] * 100, last_accuracy=turns["last_accuracy"] * 100,
                         turn_label=turns["turn_label"].where(turns["turn_label"] != "", "not tested"))
    over = OVER_SHARED if result.trajectories.paired else OVER_ALL
    st.dataframe(ui.tables.styled(turns, ("q_value",)), hide_index=True, width="stretch", key="timeline_turns",
                 column_config={"description": ui.tables.slice_column("slice", width=ui.tables.NARROW_SLICE_WIDTH),
                                "turn_label": st.column_config.TextColumn(
                                    "accuracy peaks at", help="the run where accuracy peaks before it falls; 'not "
                                    "tested': too few examples, or no peak between the first and the newest run"),
                                "over_optimised": "over-optimised",
                                "q_value": ui.tables.q_column("q", q_family),
                                "peak_accuracy": ui.tables.percent("peak", help=f"the peak run's accuracy {over}"),
                                "last_accuracy": ui.tables.percent("newest",
                                                                   help=f"the newest run's accuracy {over}")})


@st.fragment
def mix_view() -> None:
    """Mix shift against model change between two runs (the first step whose mix moved the headline by default)."""
    runs = list(info.run_names)
    steps = ui.series_mix_along(db, version, name, where)
    shifted = steps[steps["mix_shift"]] if len(steps) else steps
    a_default, b_default = ui.series_mix_default(db, version, name, where)  # the first step whose mix moved it
    if len(shifted):
        st.caption("The evaluation mix changed significantly at: "
                   + ", ".join(f"{r.previous} → {r.run} ({r.attribute})" for r in shifted.itertuples()) + ".")
    c1, c2 = st.columns(2)
    run_a = c1.selectbox("From run", runs, key="timeline_a_picker",
                         index=runs.index(ui.remembered(runs, key="timeline_a", query_param="from", default=a_default)))
    run_b = c2.selectbox("To run", runs, key="timeline_b_picker",
                         index=runs.index(ui.remembered(runs, key="timeline_b", query_param="to", default=b_default)))
    ui.remember(run_a, key="timeline_a", query_param="from")
    ui.remember(run_b, key="timeline_b", query_param="to")
    if run_a == run_b:
        st.warning("Choose two different runs.")
        return
    try:
        mix = ui.series_mix(db, version, run_a, run_b, where)
    except Exception as err:  # noqa: BLE001 - shown in plain words
        ui.show_error(err)
        return
    st.markdown(ui.md(mix.sentence()))
    st.plotly_chart(figures.mix_decomposition(mix.attributes), key="timeline_mix", width="stretch")
    parts = mix.attributes[["attribute", "total", "composition", "within", "psi", "shift_p", "verdict"]]
    parts = parts.assign(**{c: parts[c] * 100 for c in ("total", "composition", "within")})
    st.dataframe(ui.tables.styled(parts, ("shift_p",)), hide_index=True, width="stretch", key="timeline_mix_table", column_config={
                     "total": st.column_config.NumberColumn("total (points)", format="%+.1f"),
                     "composition": st.column_config.NumberColumn("composition (points)", format="%+.1f"),
                     "within": st.column_config.NumberColumn("within (points)", format="%+.1f"),
                     "psi": st.column_config.NumberColumn("PSI", format="%.3f"),
                     "shift_p": st.column_config.NumberColumn("shift p")})


if view == "drift":
    drift_view()
elif view == "surrogate":
    surrogate_view()
else:
    mix_view()
# the other views as they open (the mix view; the surrogate curves of the session's spec), computed in the background
# while this one is read
ui.precompute_next(db, version, "timeline", name, where, view, *ui.spec_draft(), int(min_support), float(fdr))
