"""Findings: the slices, clusters, matrix cells and comparison rows pinned with a note; review mode for a meeting.

``?view=review`` (or the toggle) shows one finding per screen for a 1280x720 projector: its sentence in plain
words, its chart at a readable size, its evidence numbers, previous / next. ``?finding=ID`` opens that finding.
"""

import streamlit as st

import ui
from analysis import (
    FaultlineError,
    evidence_frame,
    figures,
    finding_sentence,
    findings,
    list_attributes,
    pin_slice,
    score_unit,
    withdraw_finding,
)

review = st.query_params.get("view") == "review"
if review:  # a projector: no big heading, the sidebar folded away, every pixel for the finding
    st.set_page_config(page_title="Findings review · Faultline", page_icon=ui.PAGE_ICON, layout="wide",
                       initial_sidebar_state="collapsed")
else:
    ui.page_setup("Findings", "What the team found, pinned from the analysis pages with the numbers they had then. "
                              "Open review mode to present them one per screen.")
store = ui.get_store()
if store is None:
    st.stop()


def _set_view() -> None:
    if st.session_state["findings_review"]:
        st.query_params["view"] = "review"
    else:
        st.query_params.pop("view", None)
        st.query_params.pop("finding", None)


st.toggle("Review mode (one finding per screen, for a projector)", value=review, key="findings_review",
          on_change=_set_view)

try:
    frame = findings(store)
except FaultlineError as err:
    ui.show_error(err)
    st.stop()


def _sentence(row) -> str:
    return finding_sentence(row["kind"], row["title"], row["evidence"], cohort=row["cohort"])


def _chart(row, *, key: str) -> None:
    table = evidence_frame(row["kind"], row["title"], row["evidence"])
    if table.empty:  # no rate to draw: the finding's own number with its interval, if it has one
        fig = _interval_chart(row)
        if fig is not None:
            st.plotly_chart(fig, key=key, width="stretch", config={"displayModeBar": False})
        return
    if row["kind"] == "comparison":
        fig = figures.comparison_forest(table, title="Change in error rate, candidate minus baseline", size="large")
    else:
        fig = figures.slice_forest(table, overall_error_rate=row["evidence"].get("overall_error_rate"),
                                   title="Error rate with its 95% interval", size="large")
    fig.update_layout(height=250, margin={"t": 50, "b": 10})
    st.plotly_chart(fig, key=key, width="stretch", config={"displayModeBar": False})


def _interval_chart(row):
    """A graded comparison's mean difference, a graded slice's mean or a failure-mode cell's preference AUC, with its
    interval against what it is read against (no change, the rest of the run, no separation); None without one."""
    e = row["evidence"]
    if row["kind"] == "comparison" and "base_mean" in e:
        return figures.finding_interval(row["title"], e.get("difference"), e.get("ci_low"), e.get("ci_high"),
                                        reference=0.0, reference_label="no change",
                                        axis_title=f"Change in {score_unit(e.get('outcome'))}, candidate minus "
                                                   "baseline (95% t interval)")
    if "mean" in e:
        return figures.finding_interval(row["title"], e.get("mean"), e.get("ci_low"), e.get("ci_high"),
                                        reference=e.get("rest_mean"), reference_label="rest of the run",
                                        axis_title=f"Mean {e.get('outcome', 'score')} (95% interval)")
    if row["kind"] == "cell" and e.get("auc") is not None:
        return figures.finding_interval(f"{e.get('signal', 'signal')}: failing above passing", e.get("auc"),
                                        e.get("auc_low"), e.get("auc_high"), reference=0.5,
                                        reference_label="no separation",
                                        axis_title="Preference AUC" + (" (95% interval)" if e.get("auc_low") is not None
                                                                         else ""))
    return None


def _interval(low, high) -> str:
    if low is None or high is None:
        return "n/a"
    return f"{100 * low:.1f}–{100 * high:.1f}%"


def _points(value) -> str:
    return "n/a" if value is None else ui.fmt_points(float(value))


def _number(value, spec: str = ".3g") -> str:
    return "n/a" if value is None else format(float(value), spec)


def _numbers(row) -> list[tuple[str, str]]:
    """The evidence tiles of a finding, named in words (never a raw key), each number in its unit."""
    e = row["evidence"]
    out = []
    if "n" in e:
        out.append(("Examples" if row["kind"] != "comparison" else "Pairs", f"{e['n']:,}"))
    if row["kind"] == "comparison" and "base_mean" in e:  # a graded score: means in the score's unit
        out += [(f"Baseline mean {e.get('outcome', 'score')}", _number(e.get("base_mean"))),
                ("Candidate mean", _number(e.get("cand_mean"))),
                (f"Change in {score_unit(e.get('outcome'))} (95% t interval)",
                 f"{_number(e.get('difference'), '+.3g')} "
                 f"({_number(e.get('ci_low'), '+.3g')} to {_number(e.get('ci_high'), '+.3g')})"),
                ("Verdict", str(e.get("verdict", "?")))]
    elif row["kind"] == "comparison":
        out += [("Baseline error", ui.fmt_pct(e.get("base_error_rate"))),
                ("Candidate error", ui.fmt_pct(e.get("cand_error_rate"))),
                ("Change in points", _points(e.get("difference"))),
                ("Newly wrong / fixed", f"{e.get('b', '?')} / {e.get('c', '?')}"),
                ("Verdict", str(e.get("verdict", "?")))]
    elif "mean" in e:  # a slice by a graded score
        out += [(f"Mean {e.get('outcome', 'score')}", _number(e.get("mean"))),
                ("95% interval", f"{_number(e.get('ci_low'))} to {_number(e.get('ci_high'))}"),
                ("Rest of the run", _number(e.get("rest_mean"))),
                (f"Difference in {score_unit(e.get('outcome'))}", _number(e.get("difference"), "+.3g"))]
    elif "error_rate" in e:
        out += [("Error rate", ui.fmt_pct(e.get("error_rate"))),
                ("95% interval", _interval(e.get("ci_low"), e.get("ci_high"))),
                ("Rest of the run", ui.fmt_pct(e.get("rest_error_rate"))),
                ("Difference in points", _points(e.get("difference")))]
    elif row["kind"] == "cell":
        out.append(("Verdict", str(e.get("verdict", "?")).replace("_", " ")))
        if e.get("auc") is not None:
            out.append(("Preference AUC", f"{float(e['auc']):.2f}" + (
                f" ({float(e['auc_low']):.2f} to {float(e['auc_high']):.2f})"
                if e.get("auc_low") is not None and e.get("auc_high") is not None else "")))
        if e.get("n_fail") is not None and e.get("n_ok") is not None:
            out.append(("Failing / passing", f"{int(e['n_fail']):,} / {int(e['n_ok']):,}"))
        if e.get("signal"):
            out.append(("Signal", str(e["signal"])))
    if "q_value" in e:
        out.append(("q-value", ui.fmt_q(e.get("q_value"))))
    return out


#: Review tiles per row, and the longest value a metric tile shows whole at that width (1280x720: 5 tiles of
#: ~220 px, ~10 characters of the metric's font): one row of tiles for a finding, so its chart fits the first screen.
TILES_PER_ROW, METRIC_CHARS = 5, 10

if frame.empty:
    st.info("No findings yet. Pin a slice below, or from a terminal: "
            "`python -m analysis findings add --run RUN --slice '{\"language\": \"sw\"}' --author YOU`.")

if review and not frame.empty:
    ids = list(frame["finding_id"])
    wanted = st.query_params.get("finding")
    index = ids.index(wanted) if wanted in ids else 0
    row = frame.iloc[index]
    prev_col, head_col, next_col = st.columns([1, 6, 1], vertical_alignment="center")
    head_col.markdown(f"### Finding {index + 1} of {len(ids)}: {ui.md(row['title'])}")
    if prev_col.button("← Previous", key="review_previous", disabled=index == 0, width="stretch"):
        st.query_params["finding"] = ids[index - 1]
        st.rerun()
    if next_col.button("Next →", key="review_next", disabled=index == len(ids) - 1, width="stretch"):
        st.query_params["finding"] = ids[index + 1]
        st.rerun()
    st.markdown(f"#### {ui.md(_sentence(row))}")
    numbers = _numbers(row)
    # at most TILES_PER_ROW tiles a row, and a value too long for a metric's one line (it would end in "...") as a
    # heading that wraps: every number whole on a projector (1280x720)
    for start in range(0, len(numbers), TILES_PER_ROW):
        for col, (name, value) in zip(st.columns(TILES_PER_ROW), numbers[start:start + TILES_PER_ROW]):
            if len(value) <= METRIC_CHARS:
                col.metric(name, value)
            else:
                col.caption(ui.md(name))
                col.markdown(f"#### {ui.md(value)}")
    _chart(row, key=f"review_chart_{row['finding_id']}")
    meta = f"{row['kind']} of {row['run_name']}"
    if row["baseline_name"]:
        meta += f" against {row['baseline_name']}"
    if row["cohort"]:
        meta += f" · cohort: {row['cohort']}"
    st.caption(ui.md(f"{meta} · pinned by {row['author']} on {row['created_at']:%Y-%m-%d %H:%M}"
                     + (f" · note: {row['note']}" if row["note"] else "")))
    st.stop()

#: How the grid wraps a text cell (14 px Source Sans): average pixels per character, a line's height, the cell's
#: padding (both sides), and the tallest row (a longer text is read whole in review mode).
WRAP_CHAR_PX, WRAP_LINE_PX, WRAP_PAD_PX, WRAP_MAX_ROW_PX = 7.0, 21, 20, 400


def findings_row_height(shown, widths: dict[str, int]) -> int:
    """The rows' height (pixels) that shows the longest wrapped text of the ``widths`` columns (name -> pixels)
    whole, at least the 100 px that makes the grid wrap; at most :data:`WRAP_MAX_ROW_PX`."""

    def lines(value, width):
        per_line = max(1, int((width - WRAP_PAD_PX) // WRAP_CHAR_PX))
        words, n, used = str(value or "").split(), 1, 0
        for word in words:  # greedy word wrap, as the grid does it
            need = len(word) + (1 if used else 0)
            if used and used + need > per_line:
                n, used = n + 1, len(word)
            else:
                used += need
        return n

    tallest = max((lines(v, w) for c, w in widths.items() for v in shown[c]), default=1)
    return int(min(WRAP_MAX_ROW_PX, max(100, tallest * WRAP_LINE_PX + WRAP_PAD_PX)))


if not frame.empty:
    shown = frame.assign(sentence=[_sentence(r) for _, r in frame.iterrows()],
                         created=[f"{t:%Y-%m-%d %H:%M}" for t in frame["created_at"]])
    # at 1280x720 the finding, its sentence and its note come first and wrap (rows taller than 64 px wrap text), the
    # rows as tall as the longest of them needs: never cut mid-sentence
    text = st.column_config.TextColumn
    st.dataframe(shown[["title", "sentence", "note", "kind", "run_name", "cohort", "author", "created"]],
                 hide_index=True, width="stretch", key="findings_table",
                 row_height=findings_row_height(shown, {"title": 170, "sentence": 370, "note": 230}),
                 column_config={"title": text("Finding", width=170), "kind": "Kind",
                                "sentence": text("In plain words", width=370), "note": text("Note", width=230),
                                "run_name": "Run", "cohort": "Cohort", "author": "Pinned by",
                                "created": "When (UTC)"})
    with st.expander("Withdraw a finding (it is kept, marked withdrawn)"):
        titles = dict(zip(frame["finding_id"], frame["title"]))
        chosen = st.selectbox("Finding", list(titles), format_func=lambda i: titles[i], key="withdraw_choice")
        who = ui.author_input("withdraw_author")
        why = st.text_input("Why", key="withdraw_note")
        if st.button("Withdraw", key="withdraw_button", disabled=not who.strip()):
            try:
                withdraw_finding(store, chosen, author=who, note=why)
            except FaultlineError as err:
                ui.show_error(err)
            else:
                st.rerun()

with st.expander("Pin a slice", expanded=frame.empty):
    runs = store.runs()
    if runs.empty:
        st.info("The store has no runs yet.")
        st.stop()
    names = dict(zip(runs["run_id"], runs["name"]))
    run_id = st.selectbox("Run", list(names), format_func=lambda r: names[r], key="pin_run")
    attrs = [a.name for a in list_attributes(store, run_id)]
    attribute = st.selectbox("Attribute", attrs, key="pin_attribute")
    value = st.text_input("Value (as the slice table shows it)", key="pin_value")
    cohort = st.text_input("Cohort (optional condition)", key="pin_cohort", placeholder='e.g. domain = "legal"')
    st.text_input("Note", key="pin_note")
    author = ui.author_input("pin_author")
    # pinned in the button's callback (before the list above is drawn again), which clears the note once stored
    st.button("Pin", key="pin_button", disabled=not (value.strip() and author.strip()), on_click=ui.pin_clicked,
              args=(lambda n, a: pin_slice(store, run_id, {attribute: value.strip()}, author=a, note=n,
                                           where=cohort or None),),
              kwargs={"note_key": "pin_note", "author_key": "pin_author", "flash_key": "findings_pin_flash"})
    ui.show_pin_result(flash_key="findings_pin_flash")
