"""Failure modes: each mode linked to the objective components it implicates, with the evidence."""

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import ui
from analysis import FaultlineError, SpecError, add_annotation
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
    wanted = st.session_state.get("fm_chosen_baseline", earlier[-1] if earlier else NONE)
    baseline = st.selectbox("Baseline run (before the change)", options,
                            index=options.index(wanted) if wanted in options else 0,
                            format_func=lambda r: r if r == NONE else f"{names[r]} ({r})", key="fm_baseline",
                            help="Paired on example id: the Goodhart plot compares the two runs slice by slice")
    st.session_state["fm_chosen_baseline"] = baseline
    st.markdown("**Settings**")
    fdr = st.select_slider("False discovery rate", [0.01, 0.05, 0.1], value=0.05, key="fm_fdr")
    min_support = st.number_input("Minimum support (slices)", min_value=1, value=30, step=5, key="fm_min_support")
    min_failures = st.number_input("Least failures to judge a cell", min_value=2, value=20, step=5,
                                   key="fm_min_failures")
    max_order = st.radio("Where modes concentrate", [1, 2], index=0, horizontal=True, key="fm_order",
                         format_func=lambda k: {1: "single slices", 2: "and pairs"}[k])

# ---------------------------------------------------------------------------------- the spec
if "fm_spec" not in st.session_state:
    st.session_state["fm_spec"] = ui.demo_spec_text()
    st.session_state["fm_spec_name"] = "objective_demo.yaml"
spec_error = None
try:
    objective = ui.objective(st.session_state["fm_spec"], st.session_state["fm_spec_name"])
except SpecError as err:
    objective, spec_error = None, err
with st.expander("Objective spec" + (" (has an error)" if spec_error else f": {objective.name}"),
                 expanded=spec_error is not None, icon=":material/tune:"):
    uploaded = st.file_uploader("Load a spec (YAML)", type=["yaml", "yml"], key="fm_spec_upload")
    if uploaded is not None and st.session_state.get("fm_spec_loaded") != uploaded.file_id:
        st.session_state["fm_spec"] = uploaded.getvalue().decode("utf-8", errors="replace")
        st.session_state["fm_spec_name"] = uploaded.name
        st.session_state["fm_spec_loaded"] = uploaded.file_id
        st.rerun()
    text = st.text_area("Edit the spec (applied when you leave the box or press Ctrl+Enter)",
                        st.session_state["fm_spec"], height=360, key="fm_spec_editor")
    if text != st.session_state["fm_spec"]:
        st.session_state["fm_spec"] = text
        st.session_state["fm_spec_name"] = "edited spec"
        st.rerun()
    if st.button("Reset to the demo spec", key="fm_spec_reset"):
        st.session_state["fm_spec"] = ui.demo_spec_text()
        st.session_state["fm_spec_name"] = "objective_demo.yaml"
        st.session_state.pop("fm_spec_editor", None)
        st.rerun()
    if spec_error is not None:
        st.error(str(spec_error), icon=":material/error:")
        if spec_error.line:
            lines = st.session_state["fm_spec"].splitlines()
            lo, hi = max(spec_error.line - 3, 0), min(spec_error.line + 2, len(lines))
            st.code("\n".join(f"{'>' if i + 1 == spec_error.line else ' '} {i + 1:>3} | {lines[i]}"
                              for i in range(lo, hi)), language=None)
    else:
        added = sum(not m.default for m in objective.modes)
        st.success(f"Valid spec: {len(objective.components)} components, {len(objective.modes)} failure modes "
                   f"({added} added, {len(objective.aliases)} renamed), {len(objective.rules)} rules.",
                   icon=":material/check_circle:")
if objective is None:
    st.info("Fix the spec above to link failure modes to its components.")
    st.stop()

settings = (int(max_order), int(min_support), int(min_failures), float(fdr))
try:
    try:
        result = ui.link_result(db, version, run_id, None if baseline == NONE else baseline,
                                st.session_state["fm_spec"], st.session_state["fm_spec_name"], *settings)
    except FaultlineError as err:
        if baseline == NONE:
            raise
        st.warning(f"{err}. Showing the run alone.", icon=":material/warning:")  # e.g. no shared example ids
        result = ui.link_result(db, version, run_id, None, st.session_state["fm_spec"],
                                st.session_state["fm_spec_name"], *settings)
except Exception as err:  # noqa: BLE001 - shown in plain words
    ui.show_error(err)
    st.stop()
for problem in result.problems:
    st.warning(f"The spec does not fit this run: {problem}. The rest of the analysis goes on without it.",
               icon=":material/warning:")
for note in result.notes:
    st.caption(note)

cells = result.cells
counts = result.counts
c1, c2, c3, c4 = st.columns(4)
c1.metric("Scored examples", f"{int(counts['scored'].iloc[0]) if len(counts) else 0:,}")
c2.metric("Failure modes found", f"{int((counts['n'] > 0).sum())} of {len(counts)}")
c3.metric("Components with a signal", f"{cells.loc[cells['verdict'] != 'no signal', 'component'].nunique()} of "
          f"{len(objective.components)}")
c4.metric("Implicated cells", f"{int((cells['verdict'] == 'implicated').sum())}")

# ------------------------------------------------------------------------------- the modes
st.subheader("Failure modes and where they concentrate")
top = {}
for mode_id, conc in result.concentration.items():
    found = conc.findings()
    found = found[~found["redundant"]]
    top[mode_id] = "; ".join(f"{r.description} ({r.mode_rate:.0%} vs {r.rest_mode_rate:.0%})"
                             for r in found.head(2).itertuples())
modes_view = counts.assign(
    rate_text=[ui.fmt_pct(r) for r in counts["rate"]],
    sources_text=[", ".join(f"{k} ({v:,})" for k, v in s.items() if v) for s in counts["sources"]],
    where=[top.get(m, "") for m in counts["mode"]],
)[["name", "dimension", "n", "rate_text", "sources_text", "where"]]
st.dataframe(modes_view, hide_index=True, width="stretch", key="fm_modes_table",
             column_config={"name": "Failure mode", "dimension": "Harms", "n": "Examples", "rate_text": "Share",
                            "sources_text": st.column_config.TextColumn("Sources", width="medium"),
                            "where": st.column_config.TextColumn("Concentrates in", width="large")})

# ------------------------------------------------------------------------------ the matrix
st.subheader("Modes x components")
mode_ids = [m.id for m in objective.modes]
comp_ids = [c.id for c in objective.components]
if not comp_ids:
    st.info("The spec has no components: add them to link the failure modes to the objective.")
    st.stop()
mode_names = {m.id: m.name for m in objective.modes}
comp_names = {c.id: c.name for c in objective.components}
lookup = {(r.mode, r.component): r for r in cells.itertuples()}
marks = {"guards against": "guards against", "can cause": "can cause", "none": "",
         "guards against and can cause": "guards + can cause"}
z, amber, text, hover = [], [], [], []
for m in mode_ids:
    zr, ar, tr, hr = [], [], [], []
    for c in comp_ids:
        r = lookup[(m, c)]
        judged = r.verdict in ("implicated", "not implicated") and r.auc == r.auc
        zr.append(r.auc if judged else None)
        ar.append(1 if r.verdict == "insufficient evidence" else None)
        head = {"implicated": "<b>IMPLICATED</b>", "not implicated": "not implicated",
                "insufficient evidence": "insufficient", "no signal": "no signal"}[r.verdict]
        auc = f"<br>AUC {r.auc:.2f}" if judged else ""
        mark = f"<br><i>{marks[r.relation]}</i>" if marks[r.relation] else ""
        tr.append(head + auc + mark)
        hr.append(f"{mode_names[m]} x {comp_names[c]}<br>{r.verdict} (rule {r.rule})<br>declared: {r.relation}"
                  + (f"<br>preference AUC {r.auc:.2f} [{r.auc_low:.2f}, {r.auc_high:.2f}]" if r.auc == r.auc else ""))
    z.append(zr)
    amber.append(ar)
    text.append(tr)
    hover.append(hr)


def _wrap(label: str, width: int = 14) -> str:
    words, lines = label.split(), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + len(word) >= width:
            lines.append("")
        lines[-1] = (lines[-1] + " " + word).strip()
    return "<br>".join(lines)


xs = [_wrap(comp_names[c]) for c in comp_ids]
ys = [mode_names[m] for m in mode_ids]
heat = go.Figure()
heat.add_trace(go.Heatmap(z=amber, x=xs, y=ys, colorscale=[[0, "#FEF3C7"], [1, "#FEF3C7"]], showscale=False,
                          hoverinfo="skip", xgap=2, ygap=2))
heat.add_trace(go.Heatmap(
    z=z, x=xs, y=ys, text=text, texttemplate="%{text}", textfont={"size": 12}, customdata=hover,
    hovertemplate="%{customdata}<extra></extra>",
    colorscale=[[0, "#1D4ED8"], [0.5, "#F8FAFC"], [1, "#B91C1C"]], zmin=0, zmax=1, zmid=0.5, xgap=2, ygap=2,
    colorbar={"title": "preference<br>AUC", "tickvals": [0, 0.25, 0.5, 0.75, 1]}))
heat.update_layout(height=120 + 64 * len(mode_ids), margin={"l": 10, "r": 10, "t": 60, "b": 10}, font={"size": 13},
                   plot_bgcolor="#E2E8F0", xaxis={"side": "top", "type": "category", "tickangle": 0},
                   yaxis={"autorange": "reversed", "type": "category", "automargin": True})
st.plotly_chart(heat, key="fm_matrix", width="stretch")
st.caption("Colour: the preference AUC of the component's signal, P(it prefers a failure of this mode to a correct "
           "answer), where the evidence was judged: red = it rewards the failure, blue = it penalises it. Amber: "
           "insufficient evidence; grey: no signal. Italics: the relation the spec declares.")

# ---------------------------------------------------------------------------------- a cell
st.subheader("A cell: declared rationale beside the measured evidence")
# default: the strongest implicated cell that the spec declares ("can cause"), else the strongest implicated one
implicated = cells[cells["verdict"] == "implicated"].assign(
    declared=lambda t: t["relation"].str.contains("can cause")).sort_values(["declared", "auc"], ascending=False)
default_cell = (implicated.iloc[0]["mode"], implicated.iloc[0]["component"]) if len(implicated) else (mode_ids[0],
                                                                                                      comp_ids[0])
wanted_mode = st.session_state.get("fm_chosen_mode") or st.query_params.get("mode") or default_cell[0]
wanted_comp = st.session_state.get("fm_chosen_component") or st.query_params.get("component") or default_cell[1]
k1, k2 = st.columns(2)
mode = k1.selectbox("Failure mode", mode_ids, index=mode_ids.index(wanted_mode) if wanted_mode in mode_ids else 0,
                    format_func=lambda m: mode_names[m], key="fm_mode")
comp = k2.selectbox("Component", comp_ids, index=comp_ids.index(wanted_comp) if wanted_comp in comp_ids else 0,
                    format_func=lambda c: comp_names[c], key="fm_component")
st.session_state["fm_chosen_mode"], st.session_state["fm_chosen_component"] = mode, comp
st.query_params["mode"], st.query_params["component"] = mode, comp
cell = result.cell(mode, comp)
row = cell["row"]
badge = {"implicated": ":red[**implicated**]", "not implicated": ":green[**not implicated**]",
         "insufficient evidence": ":orange[**insufficient evidence**]", "no signal": ":gray[**no signal**]"}
st.markdown(f"### {badge[row['verdict']]}")
st.markdown(row["sentence"])
component = objective.component(comp)
mode_obj = objective.mode(mode)
left, right = st.columns(2)
with left:
    st.markdown("**Declared (the spec)**")
    weight = f", weight {component.weight:g}" if component.weight is not None else ""
    signals_text = ", ".join(f"{s.column} ({s.direction.replace('_', ' ')})" for s in component.signals) or "none"
    st.markdown(f"- **{component.name}** ({component.kind.replace('_', ' ')}{weight})\n"
                f"- Why it exists: {component.why}\n- Serves: {component.serves}\n"
                f"- Relation to *{mode_obj.name}*: **{row['relation']}**\n"
                f"- Guards against: {', '.join(component.guards_against) or 'none'}; can cause: "
                f"{', '.join(component.can_cause) or 'none'}\n"
                f"- Signals: {signals_text}")
    st.caption(f"{mode_obj.name}: {mode_obj.description} Harms: {mode_obj.dimension}.")
with right:
    st.markdown("**Measured (the logs)**")
    sep = cell["separation"]
    if sep.empty:
        st.markdown("No signal of this component is in the run, so nothing can be measured.")
    else:
        st.dataframe(sep.assign(
            interval=[f"[{lo:.2f}, {hi:.2f}]" if lo == lo else "n/a" for lo, hi in zip(sep["auc_low"], sep["auc_high"])],
            q=[ui.fmt_q(q) for q in sep["q_value"]])[
            ["signal", "n_fail", "n_ok", "auc", "interval", "smd", "q"]], hide_index=True, width="stretch",
            key="fm_separation",
            column_config={"n_fail": st.column_config.NumberColumn("failures", help="in this mode and no other"),
                           "n_ok": "correct", "auc": st.column_config.NumberColumn("preference AUC", format="%.3f"),
                           "smd": st.column_config.NumberColumn("d", format="%.2f")})
        first = sep.iloc[0]
        st.caption(f"Rule: {row['rule']}. Mean {first['signal']} ({first['direction'].replace('_', ' ')}): "
                   f"{first['mean_fail']:.3g} on the failures, {first['mean_ok']:.3g} on the correct answers; "
                   f"{first['n_fail_all']:,} examples are in the mode in all (AUC {first['auc_all']:.2f}). Divergent "
                   f"slices: {row['divergent_slices']}; Goodhart slices where the mode rose and the signal rewards "
                   f"it: {row['goodhart_slices']}.")

conc = cell["concentration"]
t1, t2, t3 = st.tabs(["Where the mode concentrates", "Where signal and outcome disagree", "Examples"])
with t1:
    table = conc.table[~conc.table["redundant"]] if conc is not None else None
    if table is None or table.empty:
        st.caption("No slice to show.")
    else:
        view = table[~table["too_small"]]
        view = pd.concat([view[view["finding"]], view[~view["finding"]]]).head(30)  # where it is more frequent first
        st.dataframe(view.assign(
            rate=[ui.fmt_pct(r) for r in view["mode_rate"]],
            interval=[ui.fmt_interval(lo, hi) for lo, hi in zip(view["ci_low"], view["ci_high"])],
            rest=[ui.fmt_pct(r) for r in view["rest_mode_rate"]], q=[ui.fmt_q(q) for q in view["q_value"]],
            status=["more frequent" if f else "" for f in view["finding"]])[
            ["description", "n", "in_mode", "rate", "interval", "rest", "q", "status"]],
            hide_index=True, width="stretch", key="fm_concentration",
            column_config={"description": st.column_config.TextColumn("Slice", width="large"),
                           "in_mode": "In the mode", "rate": "Share", "interval": "95% interval",
                           "rest": "Rest of the run", "q": "q-value"})
with t2:
    div = cell["divergence"]
    shown = div[div["divergent"]] if not div.empty else div
    if div.empty:
        st.caption("No signal: nothing to compare with the outcome.")
    elif shown.empty:
        st.caption("In no slice does the signal rank answers against the outcome (Spearman rho < 0 at q < FDR).")
    else:
        st.dataframe(shown.assign(q=[ui.fmt_q(q) for q in shown["q_value"]])[
            ["signal", "description", "n", "rho", "q", "mode_concentrates"]], hide_index=True, width="stretch",
            key="fm_divergence", column_config={"rho": st.column_config.NumberColumn("Spearman rho", format="%.3f"),
                                                "mode_concentrates": "mode concentrates here"})
        st.caption("Spearman rho between the signal (oriented as the objective pushes it) and the real outcome in "
                   "each slice; negative with q < FDR: the component prefers worse answers there.")
with t3:
    signal_cols = tuple(dict.fromkeys(s.column for s in component.signals))
    order_by = signal_cols[0] if signal_cols and not sep.empty else None
    descending = component.signals[0].direction == "higher_is_better" if order_by else True
    try:
        examples = ui.mode_examples(db, version, run_id, st.session_state["fm_spec"], st.session_state["fm_spec_name"],
                                    mode, signal_cols if not sep.empty else (), order_by, descending)
    except Exception as err:  # noqa: BLE001 - shown in plain words
        ui.show_error(err)
        examples = None
    if examples is not None:
        if examples.empty:
            st.caption("No example is in this mode.")
        else:
            if order_by:
                st.caption(f"Most rewarded by {order_by} first (the component's preferred end).")
            picked = st.dataframe(examples, hide_index=True, width="stretch", height=320, key="fm_examples",
                                  on_select="rerun", selection_mode="single-row",
                                  column_config={"input": st.column_config.TextColumn("Input", width="medium"),
                                                 "output": st.column_config.TextColumn("Output", width="large")})
            if picked and picked.selection and picked.selection.rows:
                chosen_id = examples.iloc[picked.selection.rows[0]]["example_id"]
                if st.session_state.get("fm_example_last") != chosen_id:  # fill the annotation form once
                    st.session_state["fm_example_last"] = chosen_id
                    st.session_state["fm_example_id"] = chosen_id
            st.download_button("Download these examples (CSV)", safe_csv(examples), key="fm_examples_download",
                               file_name=f"{mode}-{run_id}.csv", mime="text/csv")

# ------------------------------------------------------------------------------- Goodhart
st.subheader("Goodhart plot: the surrogate against the outcome across the objective change")
if result.goodhart is None:
    st.info("Choose a baseline run (before the objective change) in the sidebar to compare the two runs slice by "
            "slice.", icon=":material/compare_arrows:")
elif sep.empty:
    st.caption(f"{component.name} has no signal in the runs: nothing to plot.")
else:
    good = cell["goodhart"]
    good = good[(good["n"] >= int(min_support)) & good["d_signal"].notna()]
    signal = good["signal"].iloc[0] if len(good) else None
    good = good[good["signal"] == signal]
    colors = np.where(good["goodhart"] & good["up"].fillna(False).astype(bool), "#B91C1C",
                      np.where(good["goodhart"], "#F97316", "#64748B"))
    fig = go.Figure()
    xmax = float(np.nanmax(np.abs(good["d_signal"]))) * 1.15 if len(good) else 1.0
    ymax = float(np.nanmax(np.abs(good["d_accuracy"]))) * 115 if len(good) else 10.0
    fig.add_shape(type="rect", x0=0, x1=xmax, y0=-ymax, y1=0, fillcolor="#FEE2E2", line_width=0, layer="below")
    fig.add_annotation(x=xmax * 0.98, y=-ymax * 0.97, text="Goodhart quadrant: surrogate up, outcome down",
                       showarrow=False, xanchor="right", yanchor="bottom", font={"color": "#991B1B"})
    fig.add_trace(go.Scatter(
        x=good["d_signal"], y=good["d_accuracy"] * 100, mode="markers", text=good["description"],
        marker={"size": np.clip(np.sqrt(good["n"].to_numpy(dtype=float)) / 3, 6, 30), "color": colors,
                "line": {"width": 0.5, "color": "#0F172A"}},
        customdata=np.stack([good["n"], good["q_signal"], good["q_outcome"], good["d_rate"].fillna(np.nan) * 100],
                            axis=-1),
        hovertemplate="%{text}<br>signal change %{x:+.3f}<br>accuracy change %{y:+.1f} pts<br>n = %{customdata[0]:,}"
                      "<br>q signal %{customdata[1]:.2g}, q outcome %{customdata[2]:.2g}<br>mode rate change "
                      "%{customdata[3]:+.1f} pts<extra></extra>"))
    fig.add_hline(y=0, line_color="#0F172A", line_width=1)
    fig.add_vline(x=0, line_color="#0F172A", line_width=1)
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 40, "b": 40}, font={"size": 13}, showlegend=False,
                      xaxis={"title": f"change in {signal} (as the objective prefers it)", "range": [-xmax, xmax]},
                      yaxis={"title": "change in accuracy (points)", "range": [-ymax, ymax]},
                      title={"text": f"{component.name}: one point per slice (red: Goodhart slice where "
                                     f"{mode_obj.name.lower()} rose)", "font": {"size": 15}})
    st.plotly_chart(fig, key="fm_goodhart", width="stretch")
    flagged = good[good["goodhart"]]
    if not flagged.empty:
        st.dataframe(flagged.assign(
            q_s=[ui.fmt_q(q) for q in flagged["q_signal"]], q_o=[ui.fmt_q(q) for q in flagged["q_outcome"]],
            acc=[f"{d * 100:+.1f} pts" for d in flagged["d_accuracy"]],
            mode_change=[f"{d * 100:+.1f} pts" if d == d else "" for d in flagged["d_rate"]])[
            ["description", "n", "d_signal", "q_s", "acc", "q_o", "mode_change"]], hide_index=True, width="stretch",
            key="fm_goodhart_table", column_config={"d_signal": st.column_config.NumberColumn("signal change",
                                                                                              format="%+.3f"),
                                                    "q_s": "q (signal)", "acc": "accuracy change", "q_o": "q (outcome)",
                                                    "mode_change": f"{mode_obj.name} change"})

# ------------------------------------------------------------------------------ annotations
st.subheader("Annotations")
st.caption("Label an example or a slice with a failure mode and a note. Annotations are appended (never "
           "overwritten), count as labels in every analysis, and are exported below.")
with st.form("fm_annotate_form", clear_on_submit=False):
    a1, a2 = st.columns(2)
    target = a1.radio("About", ["an example", "a slice"], horizontal=True, key="fm_target")
    example_id = a1.text_input("Example id (select one in the Examples tab, or type it)", key="fm_example_id")
    slice_options = [] if conc is None else list(conc.findings()["description"].head(50)) + [
        d for d in conc.table[~conc.table["redundant"] & ~conc.table["finding"]]["description"].head(20)]
    slice_choice = a1.selectbox("Slice (where the chosen mode concentrates)", slice_options or ["(no slice)"],
                                key="fm_slice")
    annotate_mode = a2.selectbox("Failure mode", [""] + mode_ids, index=1 + mode_ids.index(mode),
                                 format_func=lambda m: mode_names.get(m, "(none: a note only)"), key="fm_annotate_mode")
    note = a2.text_area("Note", key="fm_note", height=90)
    if "fm_author" not in st.session_state:  # the author is remembered across page switches
        st.session_state["fm_author"] = st.session_state.get("fm_author_saved", "")
    author = a2.text_input("Author", key="fm_author")
    submitted = st.form_submit_button("Add annotation", type="primary")
if submitted:
    st.session_state["fm_author_saved"] = author
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
        st.session_state["fm_flash"] = f"Annotation added ({made.annotation_id[:8]}): it counts as a label from now on."
        st.rerun()
if st.session_state.get("fm_flash"):
    st.success(st.session_state.pop("fm_flash"), icon=":material/check_circle:")
notes_table = ui.annotation_table(db, store.data_version(), run_id)
if notes_table.empty:
    st.caption("No annotations on this run yet.")
else:
    view = notes_table.assign(target=[f"example {e}" if e is not None else f"slice {json.loads(s)}"
                                      for e, s in zip(notes_table["example_id"], notes_table["slice"])])
    st.dataframe(view[["created_at", "author", "target", "mode", "note", "retracted"]], hide_index=True,
                 width="stretch", key="fm_annotations")
    st.download_button("Export annotations (CSV)", safe_csv(notes_table), file_name=f"annotations-{run_id}.csv",
                       mime="text/csv", key="fm_annotations_download")
