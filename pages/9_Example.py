"""Example: one example in full, reached by ``?run=RUN&example=ID&cohort=CONDITION`` from any table.

Input (a chat transcript as turns), output, reference, every score, signal, rater and metadata field, the failure
modes it is in and why, its annotations; previous / next within the set it was opened from (``set``: a slice, a
cluster, a failure mode, a comparison row's pairs; :func:`ui.cohort.example_set`), else within the cohort.
``cohort`` is a condition in the rule language or the name of a saved cohort. Every text from the log is shown escaped (``ui.md``): never Markdown or HTML.
"""

import pandas as pd
import streamlit as st

import ui
from analysis import FaultlineError, cohorts, example_view

ui.page_setup("Example", "One example in full. Open one from any table, or type its id.")
store = ui.get_store()
if store is None:
    st.stop()
run_id = ui.run_picker(store)
if run_id is None:
    st.stop()
db, version = str(store.path), store.data_version()


@st.cache_data(show_spinner=False, max_entries=256)
def _view(db_path: str, data_version: int, run: str, example: str, where: str | None, spec_text: str,
          spec_name: str):
    """The example view, cached per store, data version, run, example, cohort and objective spec (the run's spec as
    the Failure modes page chose it: an example is in the modes of the spec the user came from)."""
    objective = ui.objective(spec_text, spec_name) if spec_text.strip() else None
    return example_view(ui._open(db_path), run, example, where=where, objective=objective)


@st.cache_data(show_spinner=False, max_entries=16)
def _saved(db_path: str, data_version: int) -> dict:
    frame = cohorts(ui._open(db_path))
    return dict(zip(frame["name"], frame["predicate"]))


def _text(value) -> str:
    """Log text as safe Markdown, line breaks kept."""
    if value is None:
        return "*(missing)*"
    lines = str(value).splitlines() or [""]
    return "  \n".join(ui.md(line) for line in lines) or "*(empty)*"


def _height(text, limit: int) -> int | str:
    """A fixed height (scrolling) only for long text: short text takes the room it needs."""
    return limit if text is not None and (len(str(text)) > 500 or str(text).count("\n") > 8) else "content"


def _go(example: str) -> None:
    """Open another example (a callback: runs before the page)."""
    st.query_params["example"] = example


saved = _saved(db, version)
cohort_param = st.query_params.get("cohort", "")
cohort_text = st.sidebar.text_input("Cohort (a condition, or a saved cohort's name)", value=cohort_param,
                                    key=f"example_cohort_{run_id}", placeholder='e.g. language = "sw" and not correct')
if cohort_text != cohort_param:
    if cohort_text:
        st.query_params["cohort"] = cohort_text
    else:
        st.query_params.pop("cohort", None)
where = saved.get(cohort_text.strip(), cohort_text.strip()) or None
if cohort_text.strip() in saved:
    st.sidebar.caption(f"Saved cohort: {ui.cohort.cohort_words(where)}")

id_key = f"example_id_{run_id}"
example_id = st.query_params.get("example")
if not example_id:
    first = store.examples(run_id, columns=["example_id"], limit=1)
    if first.empty:
        st.info("This run has no examples.")
        st.stop()
    example_id = str(first["example_id"].iloc[0])
box_key = f"{id_key}_box_{example_id}"  # a new box per example: it always shows the example on screen
st.sidebar.text_input("Example id (Enter to open)", value=example_id, key=box_key,
                      on_change=lambda: _go(str(st.session_state.get(box_key, "")).strip() or example_id))

spec_text, spec_name = ui.run_spec(db, version, run_id)
try:
    if spec_text.strip():
        ui.objective(spec_text, spec_name)
except Exception:  # noqa: BLE001 - a spec with an error (the Failure modes page shows it): the built-in modes here
    spec_text, spec_name = "", ui.session.NO_SPEC_NAME
try:
    v = _view(db, version, run_id, example_id, where, spec_text, spec_name)
except FaultlineError as err:
    ui.show_error(err)
    st.stop()

# the set the example was opened from (a slice, a cluster, a mode, a comparison row's pairs: ``set`` in the URL, kept
# by previous / next): they step through it in its table's order; else through the cohort (or the run) in log order
set_text = st.query_params.get(ui.cohort.SET_PARAM, "")
opened_from = ui.example_set_ids(db, version, run_id, set_text, where) if set_text else None
previous_id, next_id = v.previous_id, v.next_id
if opened_from is not None and v.example_id in opened_from[0]:
    ids, set_words = opened_from
    i = ids.index(v.example_id)
    previous_id, next_id = (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)
    where_text = f"{i + 1:,} of {len(ids):,} in {ui.md(set_words)}" + (" (within the cohort)" if where else "")
    st.sidebar.button("Step through the whole cohort instead", key="example_leave_set",
                      on_click=lambda: st.query_params.pop(ui.cohort.SET_PARAM, None),
                      help="Previous / next now follow the list this example was opened from.")
elif v.cohort:
    where_text = (f"{v.position:,} of {v.cohort_size:,} in the cohort" if v.in_cohort
                  else f"not in the cohort ({v.cohort_size:,} examples)")
else:
    where_text = f"{v.position:,} of {v.cohort_size:,} in the run"
prev_col, mid_col, next_col = st.columns([1, 4, 1], vertical_alignment="center")
prev_col.button("← Previous", key="example_previous", disabled=previous_id is None, width="stretch",
                on_click=_go, args=(previous_id,))
next_col.button("Next →", key="example_next", disabled=next_id is None, width="stretch",
                on_click=_go, args=(next_id,))
mid_col.markdown(f"**Example {ui.md(v.example_id)}** of {ui.md(v.run_name)} · {where_text}")

if v.unscorable:
    verdict = f"Unscorable ({ui.md(v.status)})"
elif v.correct:
    verdict = ":green[✔ Correct]"
else:
    verdict = ":red[✘ Wrong]"
score = "" if v.score is None else f" · score {v.score:g}"
st.markdown(f"### {verdict}{score}" + (f" · task {ui.md(v.task)}" if v.task else ""))

left, right = st.columns(2)
with left:
    st.markdown("**Input**" + (" (a conversation)" if v.input_turns else ""))
    with st.container(height=380 if v.input_turns else _height(v.input, 380), key="example_input"):
        if v.input_turns:
            for turn in v.input_turns:
                role = turn["role"].lower()
                name = role if role in ("user", "assistant", "ai", "human") else "assistant"
                with st.chat_message(name):
                    st.caption(ui.md(turn["role"]))
                    st.markdown(_text(turn["content"]))
        else:
            st.markdown(_text(v.input))
with right:
    st.markdown("**Output**")
    with st.container(height=_height(v.output, 260), key="example_output"):
        if v.output_turns:
            for turn in v.output_turns:
                st.caption(ui.md(turn["role"]))
                st.markdown(_text(turn["content"]))
        else:
            st.markdown(_text(v.output))
    st.markdown("**Reference**")
    with st.container(height=_height(v.reference, 160), key="example_reference"):
        st.markdown(_text(v.reference))

st.markdown("**Failure modes**")
if v.modes:
    for m in v.modes:
        st.markdown(f"- **{ui.md(m['name'])}** (`{str(m['id']).replace('`', chr(39))}`): {ui.md(m['why']) or 'no source named'}")
else:
    st.caption("In no failure mode (" + (f"the spec {ui.md(spec_name)}: its rules, detectors and label columns"
                                         if spec_text.strip() else "built-in detectors, label columns")
               + " and annotations).")

rows = [(group, name, "" if value is None else str(value))
        for group, values in (("score", v.scores), ("signal", v.signals), ("rater", v.raters),
                              ("metadata", v.metadata), ("other", v.other))
        for name, value in values.items()]
st.markdown("**Every field**")
st.dataframe(pd.DataFrame(rows, columns=["kind", "field", "value"]), hide_index=True, width="stretch",
             key="example_fields")

st.markdown("**Annotations**")
if v.annotations:
    notes = pd.DataFrame(v.annotations)
    shown = [c for c in ("created_at", "author", "mode", "note", "retracted") if c in notes]
    st.dataframe(notes[shown], hide_index=True, width="stretch", key="example_annotations")
else:
    st.caption("No annotations on this example.")
