"""Slices: which slices of a run are really worse, with intervals and q-values."""


import pandas as pd
import streamlit as st

import ui
from analysis import FaultlineError, figures, format_count, format_some, heatmap_cells, interval_method, pin_slice
from analysis.export import safe_csv

# the caption names the outcome chosen below (correctness or a graded score), so it is written once that is known
store, run_id, db, version = ui.page_with_run("Slices", None)
caption_slot = st.empty()
landing_slot = st.empty()  # opened on a slice from another page (a cluster): its summary here, in view at 1280x720
all_attrs, default_attrs = ui.attributes(db, version, run_id)

with st.sidebar:
    st.markdown("**Settings**")
    # the choice follows the user from run to run (where the attributes exist) and is kept in the URL
    dropped = ui.remembered_list(all_attrs, key="slices_by", saved_key="slices_chosen_by", default=default_attrs,
                                 query_param="by")
    notes = ui.attribute_notes(db, version, run_id)
    by = ui.remember_list(st.multiselect(
        "Attributes", all_attrs, key="slices_by",
        format_func=lambda a: f"{a} (output-derived)" if notes.get(a, {}).get("role") == "outcome" else a,
        help="By default the run's context: where the model fails. Attributes marked output-derived describe what "
             "the failure looks like (its length, cost, a refusal) or nearly fix correctness; add them to see symptoms."),
        saved_key="slices_chosen_by", query_param="by")
    if dropped:  # below the picker (a note above it moves the list the sweep opens): a choice of another run or link
        st.caption("Not attributes of this run, left out: " + ", ".join(ui.md(d) for d in dropped))
    left_out = {a: n["why"] for a, n in notes.items() if not n["default"] and a not in by}
    if left_out:
        with st.expander(format_count(len(left_out), "attribute") + " not sliced by default", icon=":material/filter_alt_off:"):
            st.markdown("\n".join(f"- **{ui.md(a)}**: {ui.md(why)}" for a, why in left_out.items()))
    if capped := ui.default_attributes_note(db, version, run_id):
        st.caption(capped)
    order_wanted = ui.remembered(["1", "2", "3"], key="slices_chosen_order", query_param="order", default="2")
    max_order = st.radio("Conjunctions up to", [1, 2, 3], index=int(order_wanted) - 1, horizontal=True,
                         key="slices_order", format_func=lambda k: {1: "single", 2: "pairs", 3: "triples"}[k])
    ui.remember(str(max_order), key="slices_chosen_order", query_param="order")
    min_support = st.number_input("Minimum support", min_value=1, value=30, step=5, key="slices_min_support")
    fdr = st.select_slider("False discovery rate", [0.01, 0.05, 0.1, 0.2], value=0.05, key="slices_fdr")
    bins = st.slider("Bins for numbers", 2, 10, 5, key="slices_bins")
    outcome_options = ui.outcomes(db, version, run_id)
    outcome_wanted = ui.remembered(outcome_options, key="slices_chosen_outcome", query_param="outcome",
                                   default="correct")
    outcome = st.selectbox("Outcome", outcome_options, index=outcome_options.index(outcome_wanted),
                           key="slices_outcome",
                           format_func=lambda o: "correctness (error rate)" if o == "correct" else f"{o} (mean)",
                           help="Correctness: error rates with Wilson / Clopper-Pearson intervals. A stored score: "
                                "the mean per slice with a Student t interval and Welch's test against the rest "
                                "(lower is worse).")
    ui.remember(outcome, key="slices_chosen_outcome", query_param="outcome")
graded = outcome != "correct"
caption_slot.caption(
    (f"Mean {ui.md(outcome)} per slice with 95% Student t intervals, Welch's test against the rest of the run"
     if graded else "Error rate per slice with 95% intervals, a test against the rest of the run")
    + " and Benjamini-Hochberg q-values. Slices below the minimum support are shown as too small, never as findings.")
where = ui.cohort_box(store, db, version, run_id, key="slices_cohort")

if not by:
    st.info("Choose at least one attribute in the sidebar.")
    st.stop()
try:
    result = ui.slices(db, version, run_id, tuple(by), int(max_order), int(min_support), float(fdr), int(bins),
                       where=where, outcome=outcome)
except Exception as err:  # noqa: BLE001 - shown in plain words
    ui.show_error(err)
    st.stop()

table = result.table
shown = table[~table["redundant"]]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Scored examples", f"{result.total_n:,}", help="In the cohort" if where else None)
if graded:
    c2.metric(f"Mean {outcome}", f"{result.settings['overall_mean']:.3f}",
              help=f"Standard deviation {result.settings['overall_sd']:.3f}")
else:
    c2.metric("Error rate", ui.fmt_pct(result.overall_error_rate))
family = result.q_family_size  # the engine's count of the BH family, not counted again here
tested_all, tested_shown = family, int(shown["q_value"].notna().sum())
c3.metric("Slices tested", f"{tested_all:,}",  # the BH family, as the q heading counts it
          help=f"Slices with a q-value: the family the q-values are adjusted over. {tested_all - tested_shown:,} "
               "of them hold exactly the examples of a shorter slice and are not listed below." if tested_all > tested_shown
          else "Slices with a q-value: the family the q-values are adjusted over.")
c4.metric("Worse than the rest", f"{int(shown['finding'].sum()):,}", help=f"q-value below {fdr}, adjusted over the {family:,} slices tested "
                                            "(Benjamini-Hochberg)")


def slice_summary(row) -> str:
    """One slice's statistics in a line (Markdown): its size, rate or mean with the 95% interval, and q with its
    family."""
    # the secondary columns, after the interval in the table: the error count and the interval's method
    extra = [] if graded else [f"{int(row['errors']):,} wrong"]
    if isinstance(row.get("ci_method"), str):
        extra.append(f"{ui.md(interval_method(row['ci_method']))} interval")
    if graded:
        stats = (f"mean {ui.md(outcome)} {row['mean']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]")
    else:
        stats = f"error rate {ui.fmt_pct(row['error_rate'])} {ui.fmt_interval(row['ci_low'], row['ci_high'])}"
    return (f"**{ui.md(row['description'])}**: {row['n']:,} examples, {stats}, {ui.q_text(row['q_value'])} "
            f"(over the {family:,} slices tested here)" + (f"; {', '.join(extra)}" if extra else ""))


landing = ui.slices_landing(run_id)
landed = [i for i, p in enumerate(table["predicate"]) if p == landing] if landing else []
if landed:
    landing_slot.info(f"Opened from the Clusters page: {slice_summary(table.iloc[landed[0]])}. It is selected in "
                      "the table below; [its examples](#examples-of-a-slice) follow the table. Its q here is over every "
                      "slice of this table, the clustering's column among the attributes (on Clusters: over the "
                      "clusters alone).", icon=":material/filter_alt:")
    # the summary is at the top: the page opens there, wherever the user was on the page they came from
    ui.scroll_to_top_once(("landing", run_id, st.session_state.get("slices_nav", 0)))
note = ui.correctness_note(db, version, run_id)
if note and not graded:
    st.caption(note + " Every error rate below counts the examples that are not 'correct'.")
if where:
    st.caption(f"Within the cohort {ui.cohort.cohort_words(where)}: every count, rate, test and q-value below is over its examples "
               "only, as if the run held nothing else.")
if result.unscorable:
    st.caption(f"{result.unscorable:,} unscorable examples are left out of every rate.")
if symptoms := [a for a in by if notes.get(a, {}).get("role") == "outcome"]:
    st.info("Output-derived attributes describe what a failure looks like, not where the model fails: read their "
            "slices as symptoms. " + " ".join(f"**{ui.md(a)}**: {ui.md(notes[a]['why'] or 'output-derived')}."
                                              for a in symptoms), icon=":material/troubleshoot:")

#: Slices the table shows (by evidence) unless asked for more, and the most it shows when asked; the download has
#: every slice. Every rerun of the table's fragment (a row selected, a toggle) sends the table again, and the q-value
#: column's formatting (a pandas Styler) writes every cell: 0.22 s of CPU for 2,000 rows, 0.03 s for 200, before the
#: browser lays the rows out.
SHOWN_ROWS, TABLE_ROWS = 200, 2000


@st.fragment
def slice_browser() -> None:
    """The table, its chart and the examples of the selected slice: a selection or the toggle re-runs only this."""
    st.subheader("Slices by evidence")
    toggles = st.columns(2)
    only_findings = toggles[0].toggle("Only slices worse than the rest", value=False, key="slices_only_findings")
    every = shown[shown["finding"]] if only_findings else shown
    more = len(every) > SHOWN_ROWS and toggles[1].toggle(
        f"Show up to {min(len(every), TABLE_ROWS):,} slices", value=False, key="slices_show_more",
        help=f"The table shows the first {SHOWN_ROWS:,} slices by evidence; the CSV below has every slice.")
    view = every.head(TABLE_ROWS if more else SHOWN_ROWS)  # by evidence: the rows anyone reads
    # The selected slice is kept as its predicate, never as a row number: the table is a new widget whenever what it
    # indexes changes, and the slice is selected again only where it is still a row.
    wanted_slice = ui.chosen_slice(run_id)
    positions = [i for i, p in enumerate(view["predicate"]) if p == wanted_slice] if wanted_slice else []
    if wanted_slice and not positions and len(every) > len(view):  # chosen elsewhere (a cluster), below the rows shown
        below = every.iloc[len(view):]
        found = [i for i, p in enumerate(below["predicate"]) if p == wanted_slice][:1]
        if found:  # shown as a last row, selected
            view = pd.concat([view, below.iloc[found]])
            positions = [len(view) - 1]
    display = (ui.tables.graded_display if graded else ui.tables.slices_display)(view, fdr=float(fdr))
    table_key = ui.table_key("slices_table", db, version, run_id, by, max_order, min_support, fdr, bins, only_findings,
                             st.session_state.get("slices_nav", 0), where, outcome, more)
    event = st.dataframe(ui.tables.styled(display), hide_index=True, width="stretch", height=ui.tables.grid_height(len(display), cap=420),
                         key=table_key, on_select="rerun",
                         selection_mode="single-row",
                         column_config=ui.tables.with_q_family(  # q-values are adjusted over every tested slice
                             ui.tables.GRADED_COLUMNS if graded else ui.tables.SLICE_COLUMNS,
                             f"{family:,} slices"),
                         selection_default={"selection": {"rows": positions[:1]}} if positions else None)
    st.caption(ui.tables.slices_q_family(family, int(max_order), int(min_support)))
    rows = event.selection.rows if event and event.selection else []
    chosen = view.iloc[rows[0]] if rows and rows[0] < len(view) else None
    ui.choose_slice(run_id, None if chosen is None else chosen["predicate"])
    if landed and (chosen is None or chosen["predicate"] != landing) and ui.leave_slices_landing():
        st.rerun(scope="app")  # another slice chosen: the landing summary at the top goes
    if len(every) > len(view):
        st.caption(f"The first {len(view):,} of {len(every):,} slices by evidence"
                   + (" (the last row: the slice chosen, further down)" if positions and positions[0] >= (
                       TABLE_ROWS if more else SHOWN_ROWS) else "") + "; the CSV has all of them.")
    st.download_button("Download the slice table (CSV)",
                       lambda: safe_csv(ui.tables.export_frame(
                           every, ui.tables.GRADED_EXPORT if graded else ui.tables.SLICE_EXPORT)),
                       file_name=f"slices-{run_id}.csv", mime="text/csv", key="slices_download")  # made when asked

    st.subheader("Examples of a slice")
    if chosen is None:
        st.caption("Select a slice in the table above to see its examples.")
    else:
        st.markdown(slice_summary(chosen))
        pin_panel(chosen)
        examples = ui.slice_examples(db, version, run_id, tuple(chosen["predicate"].items()), int(bins), where=where)
        origin = ui.example_set("slice", predicate=dict(chosen["predicate"]), bins=int(bins))  # next steps within it
        linked = ui.with_open_buttons(ui.with_example_links(examples, run_id, where, origin))
        picked = st.dataframe(linked, hide_index=True, width="stretch",
                              key=ui.table_key("slice_examples_table", db, version, run_id, chosen["description"],
                                               where),
                              on_select="rerun", selection_mode="single-row",
                              column_config={**ui.open_columns("slice_example_open_click"),
                                             **ui.tables.EXAMPLE_COLUMNS})
        ui.open_clicked("slice_example_open_click", linked)  # one click on Open opens it
        picked_rows = picked.selection.rows if picked and picked.selection else []
        st.caption("Open an example with its Open button, or select its row and open it here.")
        if st.button("Open the selected example", key="slice_example_open", icon=":material/open_in_new:",
                     disabled=not picked_rows):
            ui.open_example(run_id, str(examples["example_id"].iloc[picked_rows[0]]), where, origin)
        st.download_button("Download these examples (CSV)", lambda: safe_csv(examples), file_name=f"slice-{run_id}.csv",
                           mime="text/csv", key="slice_examples_download")  # made when asked

    if graded:
        st.caption(f"The chart, the heatmap and SliceLine count errors: with the outcome {ui.md(outcome)} the table "
                   "above holds the statistics (mean, t interval, Welch's test).")
    elif not view[~view["too_small"]].empty:
        st.plotly_chart(ui.figure("slice_forest", (db, version, run_id, tuple(by), max_order, min_support, fdr, bins,
                                                   only_findings, where), lambda: figures.slice_forest(
            view, overall_error_rate=result.overall_error_rate, top=25)), key="slices_chart", width="stretch")


def pin_panel(chosen) -> None:
    """Pin the selected slice as a finding, with a note: its numbers are computed again and kept with the settings."""
    # the popover keeps its open state (key): pinning closes it, and the page stays where it was (a fragment rerun)
    predicate = dict(chosen["predicate"])
    with st.popover("Pin as finding", icon=":material/push_pin:", key="slices_pin_popover", on_change="rerun"):
        # pinned already (same run, cohort and outcome): said, and nothing offered that would duplicate it
        held = ui.already_pinned(store, run_id, kind="slice", target=predicate, where=where, outcome=outcome, flash_key="slices_pin_flash")
        st.text_area("Note", key="slices_pin_note", placeholder="Why this slice matters", disabled=held)
        ui.author_input("slices_pin_author")
        settings = {"attributes": list(by), "max_order": int(max_order), "min_support": int(min_support),
                    "fdr": float(fdr), "bins": int(bins), "outcome": outcome}
        # its numbers computed again by the engine with these settings (and again by recompute_finding); the note
        # is cleared once pinned
        st.button("Pin", key="slices_pin", icon=":material/push_pin:", on_click=ui.pin_clicked, disabled=held,
                  args=(lambda n, a: pin_slice(store, run_id, predicate, author=a, note=n, settings=settings,
                                               where=where),),
                  kwargs={"note_key": "slices_pin_note", "author_key": "slices_pin_author",
                          "flash_key": "slices_pin_flash", "popover": "slices_pin_popover",
                          "message": ui.session.PINNED_AS_FINDING})
    ui.show_pin_result(flash_key="slices_pin_flash")


@st.fragment
def heatmap_panel() -> None:
    """Two attributes against each other: its selectors re-run only this (the counts are the table's)."""
    if graded:
        return
    st.subheader("Heatmap of two attributes")
    hx, hy = st.columns(2)
    x_attr = hx.selectbox("Rows", by, index=0, key="heat_x")
    y_attr = hy.selectbox("Columns", by, index=min(1, len(by) - 1), key="heat_y")
    if x_attr == y_attr:
        st.caption("Choose two different attributes.")
        return
    pair = ui.slices(db, version, run_id, (x_attr, y_attr), 2, int(min_support), float(fdr), int(bins), where=where)
    single = [a for a in (x_attr, y_attr) if a not in {attribute.name for attribute in pair.attributes}]
    if single:  # left out of the analysis: one value over the run or the cohort (nothing to cross)
        st.info(f"{' and '.join(ui.md(a) for a in single)} take{'s' if len(single) == 1 else ''} a single value "
                f"{'in this cohort' if where else 'in this run'}: a heatmap crosses two attributes that vary.",
                icon=":material/grid_off:")
        return
    st.plotly_chart(ui.figure("slice_heatmap", (db, version, run_id, x_attr, y_attr, min_support, fdr, bins, where),
                              lambda: figures.slice_heatmap(heatmap_cells(pair, x_attr, y_attr), x_attr, y_attr)),
                    key="slices_heatmap", width="stretch")
    st.caption("Each cell: error rate and n; * marks a cell worse than the rest of the run at the chosen FDR.")


@st.fragment
def extras_panel() -> None:
    """Calibration, latency, cost, agreement and score intervals per slice, where the run has the columns."""
    if not ui.has_extras(db, version, run_id):
        return
    extra = ui.extras(db, version, run_id, tuple(by), int(bins), where=where)
    extra_cols = [c for c in extra.columns if c not in ("description", "attribute", "value", "n")]
    if not extra_cols:
        return
    st.subheader("Per-slice extras")
    st.caption("Calibration (ECE), latency and cost percentiles, rater agreement (Cohen's kappa for two raters, "
               "Krippendorff's alpha beyond; below 0.4 the raters disagree) and Student t intervals of mean scores, "
               "where the run has the columns.")
    disagree = extra[extra["raters_disagree"]] if "raters_disagree" in extra else extra.iloc[0:0]
    if not disagree.empty:  # one line: how many slices, the few with the least agreement named (a cohort can flag all)
        worst = disagree.sort_values("rater_agreement", kind="stable")["description"].head(3)
        every = "all " if len(disagree) == len(extra) and len(extra) > 1 else ""
        st.warning(f"Raters disagree (agreement below 0.4) in {every}"
                   + format_some([ui.md(d) for d in worst], "slice", total=len(disagree)),
                   icon=":material/group_off:")
    st.dataframe(extra[["description", "n", *extra_cols]], hide_index=True, width="stretch", key="extras_table",
                 column_config={"description": ui.tables.slice_column(), **ui.tables.extras_columns(extra_cols)})


@st.fragment
def discovery_panel() -> None:
    """SliceLine on demand: searched once per setting (kept for the data version), never on each click elsewhere."""
    if graded:
        return
    st.subheader("Discovered slices (SliceLine)")
    d1, d2, d3, d4 = st.columns(4)
    k = d1.number_input("Slices to find", 1, 50, 10, key="disc_k")
    max_order_found = d2.selectbox("Largest conjunction", [1, 2, 3], index=2, key="disc_max_l")
    min_support_found = d3.select_slider("Least support", [0.005, 0.01, 0.02, 0.05], value=0.01, key="disc_min_sup",
                                         format_func=lambda f: f"{f:.1%} of examples")
    holdout = d4.toggle("Confirm on a held-out half", value=True, key="disc_holdout",
                        help="Search on one random half, compute every statistic on the other half")
    args = (db, version, run_id, tuple(by), int(k), int(max_order_found), float(min_support_found), bool(holdout),
            float(fdr), int(bins), where)
    searched = st.session_state.setdefault("disc_searched", set())
    if args not in searched:
        st.caption("SliceLine searches every conjunction of the attributes for slices with a high error and size: "
                   "it takes seconds on a large run, so it runs when you ask.")
        if not st.button("Search for slices", key="disc_run", icon=":material/search:"):
            return
        searched.add(args)
    try:  # a search that cannot run here (too few examples to split) is said plainly, as a note
        found = ui.discovery(*args[:-1], where=where)
    except FaultlineError as err:
        st.info(ui.md(err), icon=":material/info:")
        return
    except Exception as err:  # noqa: BLE001 - shown in plain words
        ui.show_error(err)
        return
    if found.table.empty:
        st.info("SliceLine found no slice with an error above the run's average.")
    else:
        st.dataframe(ui.tables.styled(ui.tables.discovery_display(found.table)), hide_index=True, width="stretch",
                     key="discovery_table", column_config=ui.tables.with_q_family(
                         ui.tables.DISCOVERY_COLUMNS, ui.tables.q_family(found.table["q_value"], "found slices")))
        st.caption(f"Statistics on {found.settings['statistics_on']}. Slices in one group overlap: a slice and its "
                   "refinements.")


slice_browser()
heatmap_panel()
extras_panel()
discovery_panel()
if not where and not graded:  # the likely next views (of the whole run, by correctness), in the background
    ui.precompute_next(db, version, "slices", run_id, tuple(by), int(max_order), int(min_support), float(fdr),
                       int(bins), tuple(ui.run_listing(db, version)["run_id"]))
