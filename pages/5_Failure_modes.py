"""Failure modes: each mode linked to the objective components it implicates, with the evidence."""

import pandas as pd
import streamlit as st

import ui
from analysis import (
    NO_SPEC_SENTENCE,
    RULE_WORDS,
    FaultlineError,
    SpecError,
    add_annotation,
    figures,
    format_count,
    pin_finding,
    retract_annotation,
    save_spec,
    spec_sha256,
)
from analysis.export import safe_csv

store, run_id, db, version = ui.page_with_run("Failure modes", "Failure modes linked to the objective components they implicate: the spec's declared "
              "relation beside the measured evidence, and a verdict from documented rules (README, link.py).")
runs = ui.run_listing(db, version)
names = dict(zip(runs["run_id"], runs["name"]))
ids = list(runs["run_id"])
earlier = ids[: ids.index(run_id)]  # runs loaded before this one: the natural baselines
NONE = "(none)"

with st.sidebar:
    st.markdown("**Objective change**")
    options = [NONE] + [r for r in runs["run_id"] if r != run_id]
    # the baseline belongs to the run: each run keeps its own, by default the nearest earlier run sharing examples
    # a link's ?baseline= is read once per session (the view it shares); after that each run keeps its own
    wanted = ui.remembered(options, key=f"fm_chosen_baseline_{run_id}",
                           default=ui.shared_baseline(db, version, run_id, tuple(earlier)) or NONE,
                           query_param=None if st.session_state.get("fm_baseline_linked") else "baseline")
    st.session_state["fm_baseline_linked"] = True
    baseline = st.selectbox("Baseline run (before the change)", options, index=options.index(wanted),
                            format_func=lambda r: r if r == NONE else ui.run_label(names)(r),
                            key=f"fm_baseline_{run_id}",
                            help="Paired on example id: the Goodhart plot compares the two runs slice by slice")
    ui.remember(baseline, key=f"fm_chosen_baseline_{run_id}", query_param="baseline")
    st.markdown("**Settings**")
    fdr = st.select_slider("False discovery rate", [0.01, 0.05, 0.1], value=0.05, key="fm_fdr")
    min_support = st.number_input("Minimum support (slices)", min_value=1, value=30, step=5, key="fm_min_support")
    min_failures = st.number_input("Least failures to judge a cell", min_value=2, value=20, step=5,
                                   key="fm_min_failures")
    max_order = st.radio("Where modes concentrate", [1, 2], index=0, horizontal=True, key="fm_order",
                         format_func=lambda k: {1: "single slices", 2: "and pairs"}[k])
# the cohort: every count, matrix cell, statistic and example below is over its examples only
where = ui.cohort_box(store, db, version, run_id, key="fm_cohort")
in_cohort = {"where": where} if where else {}  # no cohort: the same cache entry as the warm-up's

# ---------------------------------------------------------------------------------- the spec
# Which spec: none (the built-in detectors and label columns), the demo's (for the demo's runs), one saved in the
# store, or the one edited / uploaded in this session. Each run keeps its own choice; the URL carries it (?spec=).
NO_SPEC, DEMO, SESSION, SAVED = ui.NO_SPEC_CHOICE, ui.DEMO_CHOICE, ui.SESSION_CHOICE, ui.SAVED_CHOICE
saved = ui.saved_spec_listing(db, version)
saved_text = dict(zip(saved["name"], saved["text"]))
draft_text, draft_name = ui.spec_draft()
spec_options = [NO_SPEC, DEMO] + [SAVED + n for n in saved["name"]]
if st.session_state.get("fm_spec_edited") or draft_text != ui.demo_spec_text():
    spec_options.append(SESSION)
labels = {NO_SPEC: "none: the built-in detectors and label columns", DEMO: "the demo's spec (objective_demo.yaml)",
          SESSION: f"edited in this session ({draft_name})"}
labels.update({SAVED + n: f"saved: {n} (v{v}, {h[:10]}, by {a})"
               for n, v, h, a in zip(saved["name"], saved["version"], saved["sha256"], saved["author"])})
choice_key = ui.spec_choice_key(run_id)
wanted_spec = ui.remembered(spec_options, key=choice_key, query_param="spec",
                            default=ui.default_spec_choice(db, version, run_id))
spec_choice = st.selectbox("Objective spec", spec_options, index=spec_options.index(wanted_spec),
                           format_func=labels.get, key=f"fm_spec_choice_{run_id}",
                           help="A spec names the objective's components and the columns that measure them; without "
                                "one the modes come from the built-in detectors and the label columns.")
ui.remember(spec_choice, key=choice_key, query_param="spec")
spec_text, spec_name = ui.spec_of_choice(spec_choice, saved_text)
if st.session_state.get("fm_spec_editor_for") != (run_id, spec_choice, spec_text):  # the editor follows the choice
    st.session_state["fm_spec_editor_for"] = (run_id, spec_choice, spec_text)
    st.session_state["fm_spec_editor"] = spec_text


def _choose(choice: str) -> None:
    """Make ``choice`` this run's spec (the selectbox follows on the rerun)."""
    st.session_state[choice_key] = choice
    st.session_state.pop(f"fm_spec_choice_{run_id}", None)


spec_error = None
objective = None
if spec_text.strip():
    try:
        objective = ui.objective(spec_text, spec_name)
    except SpecError as err:
        spec_error = err
    except Exception as err:  # noqa: BLE001 - any input: the editor and its reset button must stay on the page
        spec_error = err
title = ("Objective spec" + (" (has an error)" if spec_error else f": {ui.md(objective.name)}" if objective
                             else ": none (write or load one here)"))
with st.expander(title, expanded=spec_error is not None, icon=":material/tune:"):
    uploaded = st.file_uploader("Load a spec (YAML)", type=["yaml", "yml"], key="fm_spec_upload")
    if ui.take_spec_upload(uploaded):
        st.session_state["fm_spec_edited"] = True
        _choose(SESSION)
        st.rerun()
    text = st.text_area("Edit the spec (applied when you leave the box or press Ctrl+Enter)", height=360,
                        key="fm_spec_editor")
    if text != spec_text:
        ui.set_spec_draft(text, "edited spec")
        st.session_state["fm_spec_edited"] = True
        _choose(SESSION)
        st.rerun()
    if st.button("Reset to the demo spec", key="fm_spec_reset"):
        ui.reset_spec_draft(editor_key="fm_spec_editor")
        _choose(DEMO)
        st.rerun()
    if spec_error is not None:
        st.error(ui.md(spec_error), icon=":material/error:")
        if getattr(spec_error, "line", None):
            lines = spec_text.splitlines()
            lo, hi = max(spec_error.line - 3, 0), min(spec_error.line + 2, len(lines))
            st.code("\n".join(f"{'>' if i + 1 == spec_error.line else ' '} {i + 1:>3} | {lines[i]}"
                              for i in range(lo, hi)), language=None)
    elif objective is not None:
        added = sum(not m.default for m in objective.modes)
        st.success(f"Valid spec: {format_count(len(objective.components), 'component')}, "
                   f"{format_count(len(objective.modes), 'failure mode')} ({added:,} added, "
                   f"{len(objective.aliases):,} renamed), {format_count(len(objective.rules), 'rule')}.",
                   icon=":material/check_circle:")
        with st.form("fm_spec_save_form", clear_on_submit=False):
            f1, f2 = st.columns(2)
            save_name = f1.text_input("Save in the store as", value=objective.name, key="fm_spec_save_name")
            save_author = ui.author_input("fm_spec_save_author", container=f2)
            save = st.form_submit_button("Save the spec")
        if save:
            try:
                made = save_spec(store, spec_text, save_name, save_author)
            except Exception as err:  # noqa: BLE001 - shown in plain words
                ui.show_error(err)
            else:
                _choose(SAVED + made.name)
                ui.flash(f"Saved as {made.name} v{made.version} (sha256 {made.sha256[:12]}): the Report page offers "
                         "it.", key="fm_spec_flash")
                st.rerun()
        ui.show_flash(key="fm_spec_flash")
if spec_error is not None:
    st.info("Fix the spec above to link failure modes to its components.")
    st.stop()

settings = (int(max_order), int(min_support), int(min_failures), float(fdr))
# a baseline feeds only the Goodhart plot of a component: without one the run's own result is the same view
linked_baseline = ui.link_baseline(None if baseline == NONE else baseline, spec_text, spec_name)
if baseline != NONE and linked_baseline is None:
    if not ui.shares_examples(db, version, baseline, run_id):
        st.warning(f"Runs {ui.md(names[baseline])} and {ui.md(names[run_id])} share no example ids. Showing the run "
                   "alone.", icon=":material/warning:")
    else:
        st.caption(f"The baseline ({ui.md(names[baseline])}) is used by the Goodhart plot of a component's signal; "
                   "this spec has no component, so the run is shown alone.")
try:
    try:
        result = ui.link_result(db, version, run_id, linked_baseline, spec_text, spec_name, *settings, **in_cohort)
    except FaultlineError as err:
        if linked_baseline is None:
            raise
        st.warning(f"{ui.md(err)}. Showing the run alone.", icon=":material/warning:")  # e.g. no shared example ids
        result = ui.link_result(db, version, run_id, None, spec_text, spec_name, *settings, **in_cohort)
except Exception as err:  # noqa: BLE001 - shown in plain words
    ui.show_error(err)
    st.stop()
# the next run in the picker as it would open (1-2 s at 1M examples), computed while this one is read
ui.precompute_next(db, version, "failure_modes", run_id, tuple(ids), spec_text, spec_name, settings, where or None)
if objective is None:  # no spec: what a spec would add, said once
    st.info(NO_SPEC_SENTENCE, icon=":material/info:")
for problem in result.problems:
    st.warning(f"The spec does not fit this run: {ui.md(problem)}. The rest of the analysis goes on without it.",
               icon=":material/warning:")
for note in result.notes:
    st.caption(ui.md(note))

cells = result.cells
counts = result.counts
c1, c2, c3, c4 = st.columns(4)
c1.metric("Scored examples", f"{int(counts['scored'].iloc[0]) if len(counts) else 0:,}",
          help="In the cohort" if where else None)
c2.metric("Failure modes found", f"{int((counts['n'] > 0).sum())} of {len(counts)}")
if objective is not None:
    c3.metric("Components with a signal", f"{cells.loc[cells['verdict'] != 'no signal', 'component'].nunique()} of "
              f"{len(objective.components)}")
else:
    c3.metric("Components with a signal", "none", help="No objective spec: no component to measure")
c4.metric("Implicated cells", f"{int((cells['verdict'] == 'implicated').sum())}")
if where:
    st.caption(f"Within the cohort {ui.cohort.cohort_words(where)}: every count, matrix cell, test, q-value and example below is over "
               "its examples only, as if the run held nothing else (with a baseline, they are paired with the "
               "baseline's examples of the same ids).")

# ------------------------------------------------------------------------------- the modes
st.subheader("Failure modes and where they concentrate")
modes_shown = ui.tables.modes_display(result)
st.dataframe(modes_shown, hide_index=True, width="stretch", key="fm_modes_table",
             row_height=ui.tables.modes_row_height(modes_shown), height=ui.tables.modes_table_height(modes_shown),
             column_config=ui.tables.mode_columns(modes_shown))

# ------------------------------------------------------------------------------ the matrix
st.subheader("Modes x components")
spec_modes = result.objective  # the spec's modes, or the built-in taxonomy when there is no spec
mode_ids = [m.id for m in spec_modes.modes]
comp_ids = [c.id for c in spec_modes.components]
mode_names = {m.id: m.name for m in spec_modes.modes}
comp_names = {c.id: c.name for c in spec_modes.components}
if objective is not None and not comp_ids:
    st.info("The spec has no components: add them to link the failure modes to the objective.")


def _clicked_cell(event) -> tuple[str, str] | None:
    """The (mode, component) of the matrix cell a click selected (:func:`analysis.figures.clickable_matrix`)."""
    points = ((event or {}).get("selection") or {}).get("points") or []
    data = points[0].get("customdata") if points else None
    return (str(data[0]), str(data[1])) if isinstance(data, list) and len(data) >= 2 else None


@st.fragment
def cell_panel() -> None:
    """The matrix, a cell with its evidence, the Goodhart plot and the annotations: a click on a cell or choosing
    one in the pickers re-runs only this part. Without a component (no spec) a failure mode alone: where it
    concentrates, its examples, the annotations."""
    # a click on a matrix cell selects it: the pickers below (and the URL) follow, once per click
    clicked = _clicked_cell(st.session_state.get("fm_matrix")) if comp_ids else None
    if clicked != st.session_state.get("fm_matrix_last"):
        st.session_state["fm_matrix_last"] = clicked
        if clicked is not None and clicked[0] in mode_ids and clicked[1] in comp_ids:
            ui.remember(clicked[0], key="fm_chosen_mode", query_param="mode")
            ui.remember(clicked[1], key="fm_chosen_component", query_param="component")
            st.session_state["fm_mode"], st.session_state["fm_component"] = clicked  # the pickers show it
    shows = (db, version, run_id, linked_baseline, spec_text, spec_name, settings, where)  # what the matrix shows
    if comp_ids:  # the cell chosen (the pickers' or the click's) is framed
        first_mode, first_comp = result.default_cell()  # as the pickers below default
        chosen_cell = (ui.remembered(mode_ids, key="fm_chosen_mode", query_param="mode", default=first_mode),
                       ui.remembered(comp_ids, key="fm_chosen_component", query_param="component", default=first_comp))
        matrix = ui.figure("fm_matrix", (*shows, chosen_cell), lambda: figures.clickable_matrix(
            figures.modes_matrix(result.display_cells()), result.display_cells(), selected=chosen_cell))
        st.plotly_chart(matrix, key="fm_matrix", width="stretch", on_select="rerun", selection_mode="points")
        st.caption("Click a cell to see its evidence below. Colour: the preference AUC of the component's signal, "
                   "P(it prefers a failure of this mode to a correct answer), where the evidence was judged: red = it "
                   "rewards the failure, blue = it penalises it. Amber: insufficient evidence; grey: no signal. "
                   "Italics: the relation the spec declares.")
    else:
        st.plotly_chart(ui.figure("fm_matrix", shows, lambda: figures.modes_matrix(result.display_cells())),
                        key="fm_matrix", width="stretch")
        st.caption("Grey: no signal. Each row is a failure mode of the built-in taxonomy (the table above says how many "
                   "examples the detectors and the label columns put in it); with no component there is nothing to "
                   "judge a mode against.")
    # ---------------------------------------------------------------------------------- a cell
    if comp_ids:
        st.subheader("A cell: declared rationale beside the measured evidence")
        default_mode, default_comp = result.default_cell()  # the strongest implicated cell, declared ones first
    else:
        st.subheader("A failure mode: where it concentrates and its examples")
        counted = dict(zip(result.counts["mode"], result.counts["n"]))
        default_mode, default_comp = max(mode_ids, key=lambda m: counted.get(m, 0)), None
    wanted_mode = ui.remembered(mode_ids, key="fm_chosen_mode", query_param="mode", default=default_mode)
    k1, k2 = st.columns(2)
    if st.session_state.get("fm_mode") not in mode_ids:  # the picker starts from the choice (a click sets it too)
        st.session_state["fm_mode"] = wanted_mode
    mode = k1.selectbox("Failure mode", mode_ids, format_func=lambda m: mode_names[m], key="fm_mode")
    ui.remember(mode, key="fm_chosen_mode", query_param="mode")
    mode_obj = spec_modes.mode(mode)
    comp = component = None
    sep = pd.DataFrame()
    if comp_ids:
        wanted_comp = ui.remembered(comp_ids, key="fm_chosen_component", query_param="component",
                                    default=default_comp)
        if st.session_state.get("fm_component") not in comp_ids:
            st.session_state["fm_component"] = wanted_comp
        comp = k2.selectbox("Component", comp_ids, format_func=lambda c: comp_names[c], key="fm_component")
        ui.remember(comp, key="fm_chosen_component", query_param="component")
        cell = result.cell(mode, comp)
        row = cell["row"]
        badge = {"implicated": ":red[**implicated**]", "not implicated": ":green[**not implicated**]",
                 "insufficient evidence": ":orange[**insufficient evidence**]", "no signal": ":gray[**no signal**]"}
        st.markdown(f"### {badge[row['verdict']]}")
        st.markdown(ui.md(row["sentence"]))
        component = spec_modes.component(comp)
        left, right = st.columns(2)
        with left:
            st.markdown("**Declared (the spec)**")
            weight = f", weight {component.weight:g}" if component.weight is not None else ""
            signals_text = ", ".join(f"{s.column} ({s.direction.replace('_', ' ')})" for s in component.signals) or "none"
            md = ui.md
            st.markdown(f"- **{md(component.name)}** ({md(component.kind.replace('_', ' '))}{weight})\n"
                        f"- Why it exists: {md(component.why)}\n- Serves: {md(component.serves)}\n"
                        f"- Relation to *{md(mode_obj.name)}*: **{md(row['relation'])}**\n"
                        f"- Guards against: {md(', '.join(component.guards_against) or 'none')}; can cause: "
                        f"{md(', '.join(component.can_cause) or 'none')}\n"
                        f"- Signals: {md(signals_text)}")
            st.caption(f"{md(mode_obj.name)}: {md(mode_obj.description)} Harms: {md(mode_obj.dimension)}.")
        with right:
            st.markdown("**Measured (the logs)**")
            sep = cell["separation"]
            if sep.empty:
                st.markdown("No signal of this component is in the run, so nothing can be measured.")
            else:
                st.dataframe(ui.tables.styled(ui.tables.separation_display(sep)), hide_index=True, width="stretch", key="fm_separation",
                             column_config=ui.tables.with_q_family(ui.tables.SEPARATION_COLUMNS, "all cells",
                                                                   in_label=False))  # every cell's signals
                first = sep.iloc[0]
                st.caption(f"q: Benjamini-Hochberg over the signals of all cells. "
                           f"Why: {ui.md(RULE_WORDS.get(row['rule'], row['rule']))}. Mean {ui.md(first['signal'])} ({first['direction'].replace('_', ' ')}): "
                           f"{first['mean_fail']:.3f} on the failures, {first['mean_ok']:.3f} on the correct answers; "
                           f"the preference AUC compares the mode's own {first['n_fail']:,} failures (in no other "
                           f"mode) with the correct answers; over all {first['n_fail_all']:,} examples in the mode, some "
                           f"also in other modes, it is {first['auc_all']:.2f}. Divergent "
                           f"slices: {ui.md(row['divergent_slices'])}; Goodhart slices where the mode rose and the signal rewards "
                           f"it: {ui.md(row['goodhart_slices'])}.")
        with st.form("fm_pin_cell_form", clear_on_submit=False):
            held = ui.already_pinned(store, run_id, kind="cell", target={"mode": mode, "component": comp},
                                     baseline=None if baseline == NONE else baseline, where=where, flash_key="fm_pin_flash")
            q1, q2 = st.columns([3, 1])
            q1.text_input(f"Pin this cell as a finding: note ({md(mode_obj.name)} x {md(component.name)})",
                          key="fm_pin_note", disabled=held)
            ui.author_input("fm_pin_author", container=q2)
            evidence = {k: row[k] for k in ("verdict", "relation", "rule", "signal", "auc", "auc_low", "auc_high",
                                            "smd", "q_value", "n_fail", "n_ok") if k in row}
            cell_settings = {"spec": spec_name, "spec_sha256": spec_sha256(spec_text), "max_order": int(max_order),
                             "min_support": int(min_support), "min_failures": int(min_failures), "fdr": float(fdr)}
            # pinned in the button's callback, which clears the note once the finding is stored
            st.form_submit_button("Pin cell as finding", on_click=ui.pin_clicked, disabled=held, args=(
                lambda n, a: pin_finding(store, run_id, kind="cell", target={"mode": mode, "component": comp},
                                         author=a, note=n, evidence=evidence,
                                         title=f"{mode_obj.name} x {component.name}",
                                         baseline=None if baseline == NONE else baseline, settings=cell_settings,
                                         where=where),),
                kwargs={"note_key": "fm_pin_note", "author_key": "fm_pin_author", "flash_key": "fm_pin_flash"})
        # always drawn, so a confirmation moves nothing below it: the tabs keep their choice (no rerun is needed:
        # nothing above counts findings)
        with st.container():
            ui.show_pin_result(flash_key="fm_pin_flash")
    else:
        st.caption(f"{ui.md(mode_obj.name)}: {ui.md(mode_obj.description)} Harms: {ui.md(mode_obj.dimension)}.")

    conc = result.concentration.get(mode)
    if comp_ids:
        t1, t2, t3 = st.tabs(["Where the mode concentrates", "Where signal and outcome disagree", "Examples"])
    else:
        (t1, t3), t2 = st.tabs(["Where the mode concentrates", "Examples"]), None
    with t1:
        if conc is None or conc.table[~conc.table["redundant"]].empty:
            st.caption("No slice to show.")
        else:  # where the mode is more frequent first
            st.dataframe(ui.tables.styled(ui.tables.concentration_display(conc.table, limit=30, fdr=float(fdr))), hide_index=True, width="stretch",
                         key="fm_concentration", column_config=ui.tables.with_q_family(
                             ui.tables.CONCENTRATION_COLUMNS, ui.tables.q_family(conc.table["q_value"], "slices")))
    if t2 is not None:
        with t2:
            div = cell["divergence"]
            shown = div[div["divergent"]] if not div.empty else div
            if div.empty:
                st.caption("No signal: nothing to compare with the outcome.")
            elif shown.empty:
                st.caption("In no slice does the signal rank answers against the outcome (Spearman rho < 0 at q < FDR).")
            else:
                st.dataframe(ui.tables.styled(ui.tables.divergence_display(shown)), hide_index=True, width="stretch", key="fm_divergence",
                             column_config=ui.tables.with_q_family(ui.tables.DIVERGENCE_COLUMNS,
                                                                   ui.tables.q_family(div["q_value"], "slices")))
                st.caption("Spearman rho between the signal (oriented as the objective pushes it) and the real outcome "
                           "in each slice; negative with q < FDR: the component prefers worse answers there.")
    with t3:
        signal_cols = tuple(dict.fromkeys(s.column for s in component.signals)) if component is not None else ()
        order_by = signal_cols[0] if signal_cols and not sep.empty else None
        descending = component.signals[0].direction == "higher_is_better" if order_by else True
        try:
            examples = ui.mode_examples(db, version, run_id, spec_text, spec_name, mode,
                                        signal_cols if not sep.empty else (), order_by, descending, **in_cohort)
        except Exception as err:  # noqa: BLE001 - shown in plain words
            ui.show_error(err)
            examples = None
        if examples is not None:
            if examples.empty:
                st.caption("No example is in this mode.")
            else:
                if order_by:
                    st.caption(f"Most rewarded by {ui.md(order_by)} first (the component's preferred end).")
                st.caption("**Open** shows the example in full (its input, output, scores, modes and annotations); "
                           "select a row to fill the annotation form below.")
                origin = ui.example_set(  # the view's next / previous step through this mode's list
                    "mode", mode=mode, spec=spec_choice if spec_choice != ui.SESSION_CHOICE else None,
                    columns=list(signal_cols if not sep.empty else ()), order_by=order_by, descending=descending)
                # why each example is in the mode first after its id: in view at 1280x720 (the texts are long)
                shown = examples[["example_id", *(["why"] if "why" in examples else []),
                                  *[c for c in examples.columns if c not in ("example_id", "why")]]]
                linked = ui.with_open_buttons(ui.with_example_links(shown, run_id, where, origin))
                picked = st.dataframe(linked, hide_index=True, width="stretch", height=ui.tables.grid_height(len(linked)),
                                      key=ui.table_key("fm_examples", db, version, run_id, spec_text, mode, comp,
                                                       where),
                                      on_select="rerun", selection_mode="single-row",
                                      column_config={**ui.open_columns("fm_example_open_click"),
                                                     "input": st.column_config.TextColumn("Input", width="medium"),
                                                     "output": st.column_config.TextColumn("Output", width="large")})
                ui.open_clicked("fm_example_open_click", linked)  # one click on Open opens it
                if picked and picked.selection and picked.selection.rows:  # fills the annotation form, once
                    ui.pick_once(examples.iloc[picked.selection.rows[0]]["example_id"], last_key="fm_example_last",
                                 target_key="fm_example_id")
                st.download_button("Download these examples (CSV)", safe_csv(examples), key="fm_examples_download",
                                   file_name=f"{mode}-{run_id}.csv", mime="text/csv")

    # ------------------------------------------------------------------------------- Goodhart
    if comp_ids:
        st.subheader("Goodhart plot: the surrogate against the outcome across the objective change")
        if result.goodhart is None:
            st.info("Choose a baseline run (before the objective change) in the sidebar to compare the two runs slice "
                    "by slice.", icon=":material/compare_arrows:")
        elif sep.empty:
            st.caption(f"{ui.md(component.name)} has no signal in the runs: nothing to plot.")
        else:
            points = result.goodhart_points(mode, comp, min_support=int(min_support))
            st.plotly_chart(figures.goodhart_plot(points, component_name=component.name, mode_name=mode_obj.name),
                            key="fm_goodhart", width="stretch")
            flagged = ui.tables.goodhart_display(points)
            if not flagged.empty:
                st.dataframe(ui.tables.styled(flagged), hide_index=True, width="stretch", key="fm_goodhart_table",
                             column_config=ui.tables.with_q_family(ui.tables.with_q_family(
                                 ui.tables.goodhart_columns(mode_obj.name), "the signal's slices", "q_s",
                                 "q signal", in_label=False), "the outcome's slices", "q_o", "q outcome",
                                 in_label=False))
                st.caption(ui.tables.GOODHART_Q_FAMILIES)

    # ------------------------------------------------------------------------------ annotations
    st.subheader("Annotations")
    st.caption("Label an example or a slice with a failure mode and a note. Annotations are appended (never "
               "overwritten), count as labels in every analysis, and are exported below.")
    if st.session_state.get("fm_form_cell") != (run_id, mode, comp):  # the form follows the selected cell
        st.session_state["fm_form_cell"] = (run_id, mode, comp)
        st.session_state["fm_annotate_mode"] = mode
        for stale in ("fm_slice", "fm_example_id", "fm_example_last"):
            st.session_state.pop(stale, None)
    with st.form("fm_annotate_form", clear_on_submit=False):
        a1, a2 = st.columns(2)
        target = a1.radio("About", ["an example", "a slice"], horizontal=True, key="fm_target")
        example_id = a1.text_input("Example id (select one in the Examples tab, or type it)", key="fm_example_id")
        slice_options = [] if conc is None else list(conc.findings()["description"].head(50)) + [
            d for d in conc.table[~conc.table["redundant"] & ~conc.table["finding"]]["description"].head(20)]
        slice_choice = a1.selectbox("Slice (where the chosen mode concentrates)", slice_options or ["(no slice)"],
                                    key="fm_slice")
        if st.session_state.get("fm_annotate_mode") not in ["", *mode_ids]:  # a mode the edited spec dropped
            st.session_state["fm_annotate_mode"] = mode
        annotate_mode = a2.selectbox("Failure mode", [""] + mode_ids,
                                     format_func=lambda m: mode_names.get(m, "(none: a note only)"), key="fm_annotate_mode")
        note = a2.text_area("Note", key="fm_note", height=90)
        author = ui.author_input("fm_author", container=a2)  # the name typed on any page, remembered
        submitted = st.form_submit_button("Add annotation", type="primary")
    if submitted:
        try:
            if target == "a slice":
                if conc is None or slice_choice not in slice_options:
                    raise FaultlineError("Choose a slice to annotate")
                chosen = conc.table[conc.table["description"] == slice_choice].iloc[0]
                made = add_annotation(store, run_id, author=author, mode=annotate_mode or None, note=note,
                                      slice=dict(chosen["predicate"]), known_modes=mode_ids)
            else:
                made = add_annotation(store, run_id, author=author, mode=annotate_mode or None, note=note,
                                      example_id=example_id.strip() or None, known_modes=mode_ids)
        except Exception as err:  # noqa: BLE001 - shown in plain words
            ui.show_error(err)
        else:  # rerun so that every table above counts the new label
            ui.flash(f"Annotation added ({made.annotation_id[:8]}): it counts as a label from now on.", key="fm_flash")
            st.rerun()
    ui.show_flash(key="fm_flash")
    notes_table = ui.annotation_table(db, store.data_version(), run_id)
    if notes_table.empty:
        st.caption("No annotations on this run yet.")
    else:
        st.dataframe(ui.tables.annotations_display(notes_table), hide_index=True, width="stretch", key="fm_annotations")
        st.download_button("Export annotations (CSV)", safe_csv(notes_table), file_name=f"annotations-{run_id}.csv",
                           mime="text/csv", key="fm_annotations_download")
        counting = notes_table[~notes_table["retracted"].astype(bool) & notes_table["retracts"].isna()]
        if not counting.empty:  # withdraw one: it stops counting; a retraction is appended, nothing is deleted
            shown = ui.tables.annotations_display(counting)
            choices = dict(zip(counting["annotation_id"], (f"{a[:8]} · {t} · {m or 'note'} · {w}" for a, t, m, w in zip(
                counting["annotation_id"], shown["target"], counting["mode"], counting["author"]))))
            with st.form("fm_withdraw_form", clear_on_submit=False):
                w1, w2 = st.columns(2)
                withdraw_id = w1.selectbox("Annotation to withdraw", list(choices), format_func=choices.get,
                                           key="fm_withdraw_id")
                withdraw_note = w2.text_input("Why (optional)", key="fm_withdraw_note")
                withdrawn = st.form_submit_button("Withdraw annotation")
            if withdrawn:
                try:
                    retract_annotation(store, run_id, withdraw_id, author=author,
                                       note=withdraw_note)
                except Exception as err:  # noqa: BLE001 - shown in plain words
                    ui.show_error(err)
                else:
                    ui.flash(f"Annotation {withdraw_id[:8]} withdrawn: it no longer counts as a label.", key="fm_flash")
                    st.rerun()


cell_panel()
