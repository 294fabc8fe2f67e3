"""Compare: two runs over the same examples, slice by slice, the regression gate, and the pairs behind a slice."""

import json

import pandas as pd
import streamlit as st

import ui
from analysis import figures, format_count, gate, gate_unit, pin_comparison, score_unit
from analysis.export import safe_csv

ui.page_setup("Compare", "A candidate run against a baseline on the examples they share: McNemar's exact test per "
              "slice (a paired t test for a graded score), Benjamini-Hochberg across slices, a regression gate, "
              "and the examples that regressed or were fixed.")
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
ui.set_current_pair(baseline, candidate)  # the pair the Report page starts from
all_attrs, default_attrs = ui.attributes(db, version, baseline)
where = ui.cohort_box(store, db, version, baseline, key="compare_cohort")  # read on the baseline's fields
CORRECT = "correct"
VERDICT_WORDS = {"regressed": "regressed (right, then wrong)", "fixed": "fixed (wrong, then right)",
                 "still_wrong": "still wrong", "still_right": "still right"}
#: A graded outcome's verdicts: how the pair's score moved (the candidate's against the baseline's).
GRADED_VERDICT_WORDS = {"score_fell": "score fell", "score_rose": "score rose", "score_same": "score unchanged"}
with st.sidebar:
    st.markdown("**Settings**")
    outcomes = [CORRECT] + (ui.shared_scores(db, version, baseline, candidate) if baseline != candidate else [])
    wanted_outcome = ui.remembered(outcomes, key="compare_chosen_outcome", query_param="outcome", default=CORRECT)
    outcome = st.selectbox("Outcome", outcomes, index=outcomes.index(wanted_outcome), key="compare_outcome",
                           format_func=lambda o: "correctness (accuracy)" if o == CORRECT else f"{o} (mean score)",
                           help="Correctness: McNemar's exact test on the discordant pairs. A stored score: the mean "
                                "paired difference with a paired t test and its Student interval.")
    ui.remember(outcome, key="compare_chosen_outcome", query_param="outcome")
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
graded = outcome != CORRECT
try:
    comparison = ui.comparison(db, version, baseline, candidate, tuple(by), int(max_order), int(min_support),
                               float(fdr), where=where)
    scored = (ui.score_comparison(db, version, baseline, candidate, outcome, tuple(by), int(max_order),
                                  int(min_support), float(fdr), where=where) if graded else None)
except Exception as err:  # noqa: BLE001 - shown in plain words
    ui.show_error(err)
    st.stop()

result = gate(comparison, max_drop=max_drop, alpha=float(fdr))
overall = comparison.overall()
unit = gate_unit(outcome)  # the gate reads correctness: beside a graded score its points are named apart
if result.passed:
    st.success(f"Gate passed: no slice lost more than {max_drop * 100:.1f} {unit} significantly.", icon=":material/check_circle:")
else:
    st.error(f"Gate failed: {format_count(len(result.breaking), 'slice')} lost more than {max_drop * 100:.1f} {unit} significantly "
             f"(q < {fdr}).", icon=":material/block:")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Matched examples", f"{comparison.matched:,}")
c2.metric("Unmatched", f"{comparison.only_baseline:,} / {comparison.only_candidate:,}",
          help="only in the baseline / only in the candidate (left out)")
if graded:
    top = scored.overall()
    # short labels (a score's name can be long: score.quasi_prefix_exact_match@5), the score named in help
    c3.metric("Baseline mean", f"{top['base_mean']:.3f}",
              help=f"The baseline's mean {outcome} over the pairs where both runs have it")
    c4.metric("Candidate mean", f"{top['cand_mean']:.3f}", delta=f"{top['difference']:+.3f}",
              help=f"The candidate's mean {outcome} over the pairs where both runs have it; the change below it is "
                   f"candidate minus baseline, in {score_unit(outcome)}")
    st.caption(f"Outcome: mean {ui.md(outcome)} over the {scored.matched:,} pairs where both runs have it; higher is "
               f"better, so a negative change is worse. Changes are in {ui.md(score_unit(outcome))} (a difference of "
               "mean scores, not points). The gate above reads correctness; the chart of changes per slice draws "
               "correctness too, so it is shown with the correctness outcome only.")
    table = scored.table
    # the essential columns only, in view at 1280x720: a row's two means are in its summary under the table (the
    # row picked there, or selected here) and in the CSV
    display = pd.DataFrame({
        "description": table["description"], "verdict": table["verdict"], "q": ui.tables.q_values(table["q_value"]),
        "change": table["difference"], "ci_low": table["ci_low"], "ci_high": table["ci_high"], "n": table["n"]})
    number = st.column_config.NumberColumn
    columns = {"description": ui.tables.slice_column(), "n": ui.tables.count("n", width=ui.tables.COUNT_WIDTH),
               # the score in the heading (its two means left the table, so there is room at 1280x720)
               "change": number(f"Change ({outcome})", format="%+.3f",
                                help=f"Candidate minus baseline mean {outcome}, in {score_unit(outcome)} (not points: "
                                     "points are for differences of rates); < 0 is worse. Both means of a row are "
                                     "in its summary below the table and in the CSV"),
               "ci_low": number("low", format="%+.3f",
                                help=f"95% interval of the change (paired t), in {score_unit(outcome)}"),
               "ci_high": number("high", format="%+.3f",
                                 help=f"95% interval of the change (paired t), in {score_unit(outcome)}"),
               "verdict": ui.tables.verdict_column()}
else:
    c3.metric("Baseline accuracy", ui.fmt_pct(1 - overall["base_error_rate"]))
    c4.metric("Candidate accuracy", ui.fmt_pct(1 - overall["cand_error_rate"]),
              **ui.points_delta(-overall["difference"]))
    st.plotly_chart(ui.figure("comparison_forest", (db, version, baseline, candidate, tuple(by), max_order,
                                                    min_support, fdr, max_drop, where), lambda: figures.comparison_forest(
        comparison.table, max_drop=max_drop, top=30)), key="compare_forest", width="stretch")
    table = comparison.table
    display = ui.tables.comparison_display(table)
    columns = ui.tables.COMPARISON_COLUMNS
columns = ui.tables.with_q_family(columns, ui.tables.q_family(table["q_value"], "slices"))  # the BH family, named

#: Rows the table shows (in its order: regressions, then improvements) unless asked for more, and the most it shows
#: when asked; the CSV has every row. A selection re-runs the fragment below, which sends the table again: its q-value
#: formatting (a pandas Styler) writes every cell, 0.22 s of CPU for 2,000 rows (pairs of 10 attributes), 0.03 s for
#: 200.
SHOWN_ROWS, TABLE_ROWS = 200, 2000
#: The rows whose examples are read in the background once the table shows (the likeliest to be selected).
NEXT_ROWS = 3


@st.fragment
def rows_and_pairs() -> None:
    """The table, the examples behind its selected row and the pin: a selection re-runs only this, not the gate,
    the chart or the comparison."""
    more = len(display) > SHOWN_ROWS and st.toggle(
        f"Show up to {min(len(display), TABLE_ROWS):,} rows", value=False, key="compare_show_more",
        help=f"The table shows its first {SHOWN_ROWS:,} rows; the CSV below has every row.")
    view = display.head(TABLE_ROWS if more else SHOWN_ROWS)  # the first rows of the table: a selection indexes both
    cut = f" The first {len(view):,} of {len(display):,} rows (regressions, then improvements)."
    st.caption("Select a row to see the examples behind it below." + (cut if len(view) < len(display) else ""))
    picked = st.dataframe(ui.tables.styled(view), hide_index=True, width="stretch", column_config=columns, on_select="rerun",
                          selection_mode="single-row",
                          key=ui.table_key("compare_table", db, version, baseline, candidate, by, max_order, min_support,
                                           fdr, outcome, where, more))
    st.download_button("Download the comparison (CSV)",
                       (lambda: safe_csv(ui.tables.export_frame(comparison.table, ui.tables.COMPARISON_EXPORT)))
                       if not graded else (lambda: safe_csv(ui.tables.export_frame(table, [  # numbers, not display text
                           "n", "base_mean", "cand_mean", "difference", "ci_low", "ci_high", "p_value", "q_value",
                           "verdict"]))),  # made when asked
                       file_name="comparison.csv", mime="text/csv", key="compare_download")

    # ----------------------------------------------------------------------------- the drill-down
    st.subheader("The examples behind a row")
    row_keys = [json.dumps(dict(p), sort_keys=True) for p in table["predicate"]]
    descriptions = dict(zip(row_keys, table["description"]))
    if picked and picked.selection and picked.selection.rows:  # a selected row fills the picker, once
        ui.pick_once(row_keys[picked.selection.rows[0]], last_key="compare_row_last", target_key="compare_row")
    default_row = json.dumps({}, sort_keys=True) if "{}" in descriptions else row_keys[0]
    wanted_row = ui.remembered(row_keys, key="compare_chosen_row", query_param="row", default=default_row)
    if st.session_state.get("compare_row") not in descriptions:
        st.session_state["compare_row"] = wanted_row
    row_key = st.selectbox("Row", row_keys, format_func=descriptions.get, key="compare_row")
    ui.remember(row_key, key="compare_chosen_row", query_param="row")
    predicate = json.loads(row_key)
    if graded:  # the row's two means, which the table leaves to here
        one_row = table.iloc[row_keys.index(row_key)]
        digits = ui.tables.SCORE_DIGITS  # as the pairs' scores below
        st.caption(f"{ui.md(one_row['description'])}: mean {ui.md(outcome)} {one_row['base_mean']:.{digits}f} in the "
                   f"baseline, {one_row['cand_mean']:.{digits}f} in the candidate over {int(one_row['n']):,} pairs; change "
                   f"{one_row['difference']:+.3f} {ui.md(score_unit(outcome))} (95% interval {one_row['ci_low']:+.3f} to "
                   f"{one_row['ci_high']:+.3f}), {ui.q_text(one_row['q_value'])}.")
    words = GRADED_VERDICT_WORDS if graded else VERDICT_WORDS  # a graded outcome's pairs: by how the score moved
    verdicts_key, saved_verdicts = (("compare_verdicts_graded", "compare_chosen_verdicts_graded") if graded
                                    else ("compare_verdicts", "compare_chosen_verdicts"))
    verdict_default = ["score_fell", "score_rose"] if graded else ["regressed", "fixed", "still_wrong"]
    ui.remembered_list(list(words), key=verdicts_key, saved_key=saved_verdicts, default=verdict_default,
                       query_param="verdict")
    verdicts = ui.remember_list(st.multiselect("Verdicts shown", list(words), format_func=words.get,
                                               key=verdicts_key),
                                saved_key=saved_verdicts, query_param="verdict")
    graded_outcome = outcome if graded else None
    try:
        counts, pairs = ui.comparison_drilldown(db, version, baseline, candidate, tuple(sorted(predicate.items())),
                                                tuple(verdicts), where=where, outcome=graded_outcome)
    except Exception as err:  # noqa: BLE001 - shown in plain words
        ui.show_error(err)
        st.stop()
    if not where:  # the likely next clicks, in the background: the table's first rows, and this row after a swap
        ui.precompute_next(db, version, "drilldowns", baseline, candidate,
                           [tuple(sorted(p.items())) for p in table["predicate"].head(NEXT_ROWS)], tuple(verdicts),
                           graded_outcome)
        ui.precompute_next(db, version, "drilldowns", candidate, baseline, [tuple(sorted(predicate.items()))],
                           tuple(verdicts), graded_outcome)
    if graded:
        v1, v2, v3 = st.columns(3)
        v1.metric("Score fell", f"{counts['score_fell']:,}", help=f"the candidate's {outcome} below the baseline's")
        v2.metric("Score rose", f"{counts['score_rose']:,}", help=f"the candidate's {outcome} above the baseline's")
        v3.metric("Score unchanged", f"{counts['score_same']:,}")
    else:
        v1, v2, v3, v4 = st.columns(4)
        v1.metric("Regressed", f"{counts['regressed']:,}", help="right in the baseline, wrong in the candidate")
        v2.metric("Fixed", f"{counts['fixed']:,}", help="wrong in the baseline, right in the candidate")
        v3.metric("Still wrong", f"{counts['still_wrong']:,}")
        v4.metric("Still right", f"{counts['still_right']:,}")
    if not verdicts:
        st.caption("Choose at least one verdict to list pairs.")
    elif pairs.empty:
        st.caption("No pair of this row has these verdicts.")
    else:
        origin = ui.example_set("comparison", baseline=baseline, candidate=candidate, predicate=predicate,
                                verdicts=list(verdicts), **({"outcome": outcome} if graded else {}))  # next / previous step through these pairs
        shown = pd.DataFrame({
            "open": ui.with_example_links(pairs[["example_id"]], candidate, where, origin)[ui.cohort.EXAMPLE_LINK],
            "verdict": [words.get(v, v).split(" (")[0] for v in pairs["verdict"]],
            "example_id": pairs["example_id"].astype(str), "input": pairs["input"],
            "base_output": pairs["base_output"], "cand_output": pairs["cand_output"],
            "base_score": pairs["base_score"], "cand_score": pairs["cand_score"], "reference": pairs["reference"]})
        limit = "" if len(pairs) < 500 else " (the first 500)"
        order = {"score_fell": f"the largest falls of {ui.md(outcome)} first", "score_rose": "the largest rises",
                 "score_same": "those unchanged", "regressed": "regressions", "fixed": "fixes",
                 "still_wrong": "pairs still wrong", "still_right": "pairs still right"}
        shown_order = [order[v] for v in words if v in verdicts]  # the verdicts shown, in the listing's order
        st.caption(f"{len(pairs):,} pairs{limit}: " + ", then ".join(shown_order)
                   + ". **Open** shows the candidate's example in full.")
        shown = ui.with_open_buttons(shown)
        st.dataframe(shown, hide_index=True, width="stretch", height=ui.tables.grid_height(len(shown)),
                     key=ui.table_key("compare_pairs", db, version, baseline, candidate, row_key, verdicts, where),
                     column_config={
                         **ui.open_columns("compare_pair_open_click"),
                         "verdict": "Verdict", "example_id": "Id",
                         "input": st.column_config.TextColumn("Input", width="medium"),
                         "base_output": st.column_config.TextColumn("Baseline output", width="medium"),
                         "cand_output": st.column_config.TextColumn("Candidate output", width="medium"),
                         "base_score": st.column_config.NumberColumn(f"Baseline {outcome if graded else 'score'}",
                                                                     format=ui.tables.SCORE_FORMAT),
                         "cand_score": st.column_config.NumberColumn(f"Candidate {outcome if graded else 'score'}",
                                                                     format=ui.tables.SCORE_FORMAT),
                         "reference": st.column_config.TextColumn("Reference", width="small")})
        ui.open_clicked("compare_pair_open_click", shown)  # one click on Open opens the candidate's example
        ids = list(pairs["example_id"].astype(str))
        # made once, not per option (the first pair of an id, as the pair read below)
        pair_labels = dict(reversed([(e, f"{e} ({v})") for e, v in zip(ids, shown["verdict"])]))
        chosen = st.selectbox("Read a pair side by side", ids, key="compare_pair", format_func=pair_labels.get)
        one = pairs.iloc[ids.index(chosen)]
        st.markdown(f"**Input**  \n{ui.md(one['input'])}")
        left, right = st.columns(2)
        for column, side, run, label in ((left, "base", baseline, "Baseline"), (right, "cand", candidate, "Candidate")):
            with column:
                ok = one[f"{side}_correct"]
                word = "right" if ok is True or ok == 1 else "wrong" if ok is False or ok == 0 else "unscored"
                score = one[f"{side}_score"]
                score_text = "" if pd.isna(score) else f", score {float(score):.{ui.tables.SCORE_DIGITS}f}"
                st.markdown(f"**{label}** ({word}{score_text}) · [open]({ui.example_link(run, chosen, where, origin)})")
                st.markdown(ui.md(one[f"{side}_output"]) if pd.notna(one[f"{side}_output"]) else "*(no output)*")
        if pd.notna(one["reference"]):
            st.caption(f"Reference: {ui.md(one['reference'])}")

    # ------------------------------------------------------------------------------- pin as a finding
    with st.form("compare_pin_form", clear_on_submit=False):
        st.markdown(f"**Pin as a finding:** {ui.md(descriptions[row_key])}"
                    + (f" (its comparison of the mean {ui.md(outcome)})" if graded else ""))
        held = ui.already_pinned(store, candidate, kind="comparison", target=predicate, baseline=baseline,
                                 where=where, outcome=outcome if graded else None, flash_key="compare_flash")  # then nothing is offered
        p1, p2 = st.columns([3, 1])
        p1.text_input("Note (why it matters)", key="compare_pin_note", disabled=held)
        ui.author_input("compare_pin_author", container=p2)
        settings = {"attributes": list(by), "max_order": int(max_order), "min_support": int(min_support),
                    "fdr": float(fdr), **({"outcome": outcome} if graded else {})}  # the row shown is pinned
        # pinned in the button's callback, which clears the note once the finding is stored
        st.form_submit_button("Pin as finding", type="primary", on_click=ui.pin_clicked, disabled=held, args=(
            lambda n, a: pin_comparison(store, baseline, candidate, predicate, author=a, note=n, settings=settings,
                                        where=where),),
            kwargs={"note_key": "compare_pin_note", "author_key": "compare_pin_author",
                    "flash_key": "compare_flash"})
    ui.show_pin_result(flash_key="compare_flash")


rows_and_pairs()
if not where:  # the likely next views, in the background
    ui.precompute_next(db, version, "comparison", baseline, candidate, tuple(by), int(max_order), int(min_support),
                       float(fdr))
