"""Report: the governance-ready audit report (PDF and its HTML twin), and the report history."""

import tempfile
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

import ui
from analysis import (
    SECTION_TITLES,
    SECTIONS,
    FaultlineError,
    ReportSpec,
    build_report,
    findings,
    format_count,
    generate_report,
    render_html,
    report_history,
)

ui.page_setup("Report", "A PDF audit report that a reviewer can trust without opening the app, with its "
              "self-contained HTML twin. Every report is recorded with its spec and content hash.")
store = ui.get_store()
if store is None:
    st.stop()
# the pair last shown on Compare (its candidate, against its baseline), once per showing of Compare: a run or
# baseline chosen here afterwards wins
from_compare = ui.take_current_pair("report")
if from_compare:
    st.session_state["report_pair_note"] = from_compare
run_id = ui.run_picker(store, label="Run analysed", key="run")
if run_id is None:
    st.stop()
runs = ui.run_listing(str(store.path), store.data_version())
names = dict(zip(runs["run_id"], runs["name"]))
ids = list(runs["run_id"])
others = [r for r in ids if r != run_id]
earlier = ids[: ids.index(run_id)]  # runs loaded before this one: the natural baselines
NONE = "(none)"

# the session's baseline (shared with the Failure modes page) when it shares examples with this run, else the
# nearest run loaded before this one that does (a comparison needs the same examples), else none
baseline_options = [NONE, *others]
natural = ui.shared_baseline(str(store.path), store.data_version(), run_id, tuple(earlier)) or NONE
wanted_baseline = ui.remembered(baseline_options, key="fm_chosen_baseline", default=natural, query_param="baseline")
if wanted_baseline != NONE and wanted_baseline != natural and not ui.shares_examples(
        str(store.path), store.data_version(), wanted_baseline, run_id):
    wanted_baseline = natural

# the objective spec: the one the session analyses on the Failure modes page, or an uploaded file; never a path
spec_text, spec_name = ui.spec_draft()
SPEC_NONE, SPEC_SESSION, SPEC_UPLOAD, SPEC_SAVED = "none", "session", "upload", "saved"
spec_labels = {SPEC_NONE: "none (no failure-modes section)",
               SPEC_SESSION: f"the spec analysed on the Failure modes page ({spec_name})",
               SPEC_UPLOAD: "upload a spec (YAML)"}
saved_specs = ui.saved_spec_listing(str(store.path), store.data_version())  # saved on the Failure modes page
if not saved_specs.empty:
    spec_labels[SPEC_SAVED] = "a spec saved in the store"

# the cohort: the session's (the ?cohort= of the Example page, or the one typed here last), a condition or a saved
# cohort's name; every statistic of the report is computed on it
if "report_cohort" not in st.session_state:  # the cohort chosen on the analysis pages (or the link's)
    st.session_state["report_cohort"] = ui.cohort.session_cohort()
pinned = findings(store, run_id)

with st.form("report_form"):
    c1, c2 = st.columns(2)
    baseline = c1.selectbox("Baseline", baseline_options, index=baseline_options.index(wanted_baseline),
                            key="report_baseline", format_func=lambda r: r if r == NONE else ui.run_label(names)(r),
                            help="Defaults to the session's baseline (Failure modes page), else the previous run")
    title = c2.text_input("Title", "Faultline audit report", key="report_title")
    analyst = c1.text_input("Analyst", key="report_analyst")
    reviewer = c2.text_input("Reviewer", key="report_reviewer")
    spec_choice = c1.radio("Objective spec", list(spec_labels), index=1, format_func=spec_labels.get,
                           key="report_spec_choice")
    uploaded = c1.file_uploader("Objective spec file (used when 'upload' is chosen)", type=["yaml", "yml"],
                                key="report_spec_upload")
    cohort = c2.text_input("Cohort (a condition, or a saved cohort's name; empty: every example)", key="report_cohort",
                           placeholder='e.g. language = "sw" and not refused',
                           help="Every statistic of the report is computed on it; stated on the cover and in Methods")
    saved_hash = dict(zip(saved_specs["name"], saved_specs["sha256"]))
    saved_name = (c1.selectbox("Saved spec (used when 'saved' is chosen)", list(saved_hash), key="report_saved_spec",
                               format_func=lambda n: f"{n} (sha256 {saved_hash[n][:10]})")
                  if saved_hash else None)
    sections = c2.multiselect("Sections", list(SECTIONS), default=list(SECTIONS), key="report_sections",
                              format_func=SECTION_TITLES.get)
    preview = st.form_submit_button("Preview")
    generate = st.form_submit_button("Generate PDF and HTML", type="primary")

if baseline != NONE:
    ui.remember(baseline, key="fm_chosen_baseline", query_param="baseline")
elif "baseline" in st.query_params:
    del st.query_params["baseline"]
compare_pair = st.session_state.get("report_pair_note")
if compare_pair and tuple(compare_pair) == (None if baseline == NONE else baseline, run_id):
    st.caption(f"Run and baseline as on the Compare page: {ui.md(names[run_id])} against "
               f"{ui.md(names[baseline])}; a run or baseline chosen here instead is kept.")
objective_name, objective_yaml = None, None
if spec_choice == SPEC_SESSION:
    objective_name, objective_yaml = spec_name, spec_text
elif spec_choice == SPEC_UPLOAD and uploaded is not None:
    objective_name, objective_yaml = uploaded.name, uploaded.getvalue().decode("utf-8", errors="replace")
elif spec_choice == SPEC_SAVED and saved_name is not None:
    objective_name, objective_yaml = saved_name, dict(zip(saved_specs["name"], saved_specs["text"]))[saved_name]
spec = ReportSpec(run=run_id, baseline=None if baseline == NONE else baseline, objective=objective_name,
                  objective_yaml=objective_yaml, sections=sections or ["summary"], title=title, analyst=analyst,
                  reviewer=reviewer, cohort=cohort or None)
st.caption(f"{format_count(len(pinned), 'finding')} pinned to this run {'goes' if len(pinned) == 1 else 'go'} into the "
           "section "
           "Pinned findings, each with its numbers recomputed now." if len(pinned) else
           "No finding is pinned to this run (pin one on the Slices, Compare or Findings page).")
if preview:
    try:
        with st.spinner("Computing the report..."):
            report = build_report(store, spec)
        st.session_state["report_preview"] = render_html(report)
    except FaultlineError as err:
        ui.show_error(err)
if generate:
    bar = st.progress(0.0, text="Starting...")
    with tempfile.TemporaryDirectory(prefix="faultline-report-") as tmp:  # removed once read into the session
        out = Path(tmp)
        try:
            record = generate_report(store, spec, pdf=out / "report.pdf", html_out=out / "report.html",
                                     progress=lambda f, m: bar.progress(min(f, 1.0), text=ui.md(m)))
        except Exception as err:  # noqa: BLE001 - shown in plain words
            bar.empty()
            ui.show_error(err)
        else:
            bar.empty()
            st.session_state["report_files"] = {"id": record.report_id, "pdf": (out / "report.pdf").read_bytes(),
                                                "html": (out / "report.html").read_bytes(), "pages": record.pages,
                                                "seconds": record.seconds, "hash": record.content_hash}
            st.session_state["report_preview"] = (out / "report.html").read_text(encoding="utf-8")

files = st.session_state.get("report_files")
if files:
    st.success(f"Report {files['id']}: {files['pages']} pages in {files['seconds']:.1f} s; content hash "
               f"{files['hash'][:16]}...", icon=":material/description:")
    d1, d2 = st.columns(2)
    d1.download_button("Download the PDF", files["pdf"], file_name=f"{files['id']}.pdf", mime="application/pdf",
                       key="download_pdf")
    d2.download_button("Download the HTML", files["html"], file_name=f"{files['id']}.html", mime="text/html",
                       key="download_html")
if st.session_state.get("report_preview"):
    st.subheader("Preview")
    components.html(st.session_state["report_preview"], height=900, scrolling=True)

st.subheader("Report history")
history = report_history(store)
if history.empty:
    st.caption("No report has been generated from this store yet.")
else:
    st.dataframe(history[["report_id", "created_at", "analyst", "reviewer", "run_ids", "pages", "content_hash"]],
                 hide_index=True, width="stretch", key="report_history")
