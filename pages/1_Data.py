"""Data: add evaluation logs through the browser, and list, rename and delete runs."""

import pandas as pd
import streamlit as st

import ui
from analysis import ALL_ROLES, FORMATS, FaultlineError, edited_guess, skipped_runs

ui.page_setup("Data", "Add evaluation logs and manage the runs in the store.")
store = ui.get_store()
if store is None:
    st.stop()

# ---------------------------------------------------------------- add a log
st.subheader("Add a log")
st.markdown(
    "Upload a log from lm-evaluation-harness (`samples_*.jsonl`), Inspect AI (`.eval` or `.json`), "
    "HELM (the files of a run folder together), OpenAI evals, promptfoo (`results.json` or its CSV), lighteval "
    "(`details_*.parquet`), MT-Bench or AlpacaEval judgments, Every Eval Ever samples, or a plain CSV, TSV, "
    "Parquet, JSON or JSONL table. Upload the tool's summary with its log (lm-eval's `results_*.json`, HELM's "
    "`stats.json`, lighteval's results JSON): it is read with the log and its figures are checked against the "
    "examples. The format is detected from the content; you confirm the column roles before anything is loaded."
)
uploads = st.file_uploader("Evaluation log files", accept_multiple_files=True, key="upload_files")

ui.plan_uploads(store, uploads)
if ui.upload_plan_error() is not None:
    ui.show_error(ui.upload_plan_error())

plan = ui.upload_plan()
if plan:
    edited_plan = []
    problems = []
    for folder, reason in skipped_runs([p.source for p in plan]):
        st.warning(f"Skipped {ui.md(folder)}: {ui.md(reason)}. The other runs can still be loaded.", icon=":material/warning:")
    for index, planned in enumerate(plan):
        source = planned.source
        with st.container(border=True):
            st.markdown(f"**{ui.md(source.name)}**")
            st.caption(f"Detected format: **{FORMATS.get(source.format, source.format)}** · "
                       f"{len(planned.columns)} columns · files: {ui.md(', '.join(p.name for p in source.files))}")
            if source.notes:
                st.caption(ui.md(source.notes))
            if source.reported:
                st.caption(f"{ui.md(source.tool or 'The tool')} reports " + "; ".join(
                    f"{ui.md(r.metric)} = {r.value:.4g}" + (f" on {r.n:,} examples" if r.n else "")
                    for r in source.reported if r.value is not None)
                    + ": checked against these examples when the run is loaded.")
            if planned.already_loaded is not None:
                st.info(f"Already loaded as run **{ui.md(planned.already_loaded.name)}** "
                        f"({ui.md(planned.already_loaded.run_id)}); it will not be loaded twice.", icon=":material/info:")
                continue
            name = st.text_input("Run name", value=source.name, key=f"plan_name_{index}")
            roles = pd.DataFrame({
                "column": list(planned.columns),
                "type": [planned.columns[c] for c in planned.columns],
                "role": [planned.guess.roles.get(c, "metadata") for c in planned.columns],
                "why": [planned.guess.reasons.get(c, "") for c in planned.columns],
            })
            st.markdown("Guessed column roles: check them, change any that are wrong.")
            edited = st.data_editor(
                roles, key=f"plan_roles_{index}", hide_index=True, width="stretch", disabled=["column", "type", "why"],
                column_config={"role": st.column_config.SelectboxColumn("Role", options=list(ALL_ROLES), required=True),
                               "why": st.column_config.TextColumn("Why this role")},
            )
            try:
                planned.guess = edited_guess(planned.guess, dict(zip(edited["column"], edited["role"])))
            except FaultlineError as err:
                problems.append(str(err))
                st.warning(ui.md(err), icon=":material/warning:")
            if planned.guess.column_for("correct") is None and planned.guess.column_for("score") is None:
                problems.append(f"{source.name}: no column has the role correct or score")
                st.warning("No column has the role **correct** or **score**: choose the outcome column.",
                           icon=":material/warning:")
            source.name = name.strip() or source.name
            edited_plan.append(planned)
    if edited_plan and st.button("Load", type="primary", disabled=bool(problems), key="load_button"):
        bar = st.progress(0.0, text="Loading...")
        try:
            report = store.ingest(edited_plan, progress=lambda f, m: bar.progress(f, text=ui.md(m)))
        except Exception as err:  # noqa: BLE001 - every failure is shown in plain words
            bar.empty()
            ui.show_error(err)
        else:
            bar.empty()
            ui.flash(report.summary(), key="data_last_report")
            ui.forget_plan()
            st.rerun()

ui.show_flash(key="data_last_report")

# ---------------------------------------------------------------- runs
st.subheader("Runs in the store")
runs = ui.run_listing(str(store.path), store.data_version())
if runs.empty:
    st.info("No runs yet.")
    st.stop()

st.dataframe(
    runs.assign(sha256=[", ".join(h[:12] for h in hashes) for hashes in runs["sha256"]],
                files=[", ".join(f) for f in runs["files"]])[
        ["name", "model", "format", "rows", "files", "sha256", "ingested_at", "notes", "run_id"]],
    hide_index=True, width="stretch", key="data_runs_table",
    column_config={"rows": ui.tables.count("Examples"),
                   "sha256": st.column_config.TextColumn("sha256 (first 12)"),
                   "ingested_at": st.column_config.DatetimeColumn("Loaded (UTC)", format="YYYY-MM-DD HH:mm")},
)

checks = ui.reconciliation(str(store.path), store.data_version())
with st.expander("Checked against the tool", expanded=bool(checks["verdict"].isin(["differs", "partial"]).any())):
    st.caption("Each figure the evaluation tool itself reported for a run (its summary file or the log's own "
               "aggregate), recomputed from the examples loaded here. *differs*: these examples do not give the "
               "tool's number; *partial*: the log holds fewer examples than the tool evaluated; *not reported*: "
               "the log carries no figure to check. Plain tables have nothing to check.")
    if checks.empty:
        st.info("No run from an evaluation tool's log yet: nothing to check.")
    else:
        st.dataframe(ui.tables.reconciliation_display(checks), hide_index=True, width="stretch",
                     key="data_checks_table", column_config=ui.tables.RECONCILIATION_COLUMNS)

labels = {row.run_id: f"{row.name} ({row.run_id})" for row in runs.itertuples()}
left, right = st.columns(2)
with left:
    st.markdown("**Rename a run**")
    rename_id = st.selectbox("Run to rename", list(labels), format_func=labels.get, key="rename_run")
    new_name = st.text_input("New name", key="rename_value")
    if st.button("Rename", key="rename_button"):
        try:
            run = store.rename_run(rename_id, new_name)
            ui.flash(f"Renamed to '{run.name}'", key="data_last_report")
            st.rerun()
        except FaultlineError as err:
            ui.show_error(err)


with right:
    st.markdown("**Delete a run**")
    delete_id = st.selectbox("Run to delete", list(labels), format_func=labels.get, key="delete_run")
    if st.button("Delete...", key="delete_button"):
        st.session_state["data_pending_delete"] = delete_id
    pending = st.session_state.get("data_pending_delete")
    if pending in labels:
        with st.container(border=True):
            st.warning(f"Delete **{ui.md(labels[pending])}** and all its examples? This cannot be undone.",
                       icon=":material/delete_forever:")
            yes, no = st.columns(2)
            if yes.button("Delete permanently", type="primary", key="confirm_delete_button"):
                st.session_state.pop("data_pending_delete", None)
                try:
                    run = store.delete_run(pending)
                except FaultlineError as err:
                    ui.show_error(err)
                else:
                    ui.prune_staged(store)  # its uploaded files, unless another run refers to them
                    ui.flash(f"Deleted run '{run.name}'", key="data_last_report")
                    st.rerun()
            if no.button("Cancel", key="cancel_delete_button"):
                st.session_state.pop("data_pending_delete", None)
                st.rerun()
