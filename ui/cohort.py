"""The cohort box: a filter in the rule language that every analysis page applies to all it shows.

A cohort is a condition such as ``language = "sw" and domain = "legal"`` (the rule language of objective specs,
:func:`analysis.check_cohort`). The box sits in the sidebar: a picker of the cohorts saved in the store, the
condition's text, its check on the run (how many examples, or the engine's error in plain words), and a form to
save it by name. The choice follows the user from page to page (the session keeps it, not only the widgets) and
lives in the URL: ``?cohort=NAME`` for a saved cohort used as saved, ``?where=TEXT`` for a typed condition.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import streamlit as st

import analysis
from analysis import FaultlineError, Store
from ui.cache import _open
from ui.session import author_input, md

#: URL parameters: a saved cohort's name, a typed condition.
COHORT_PARAM, WHERE_PARAM = "cohort", "where"
#: Session keys shared by every page: the condition in force and the saved cohort it came from (or "").
WHERE_KEY, NAME_KEY = "cohort_where", "cohort_name"
#: The picker's "no saved cohort" option.
NONE = "(none)"


@st.cache_data(show_spinner=False, max_entries=16)
def saved_cohorts(db_path: str, data_version: int) -> pd.DataFrame:
    """The saved cohorts (latest version of each name): ``name``, ``predicate``, ``author``, ``created_at``..."""
    return analysis.cohorts(_open(db_path))


@st.cache_data(show_spinner=False, max_entries=64)
def cohort_fields(db_path: str, data_version: int, run_id: str) -> pd.DataFrame:
    """The fields a condition can name on the run (:func:`analysis.cohort_fields`)."""
    return analysis.cohort_fields(_open(db_path), run_id)


@st.cache_data(show_spinner=False, max_entries=128)
def cohort_size(db_path: str, data_version: int, run_id: str, where: str) -> int:
    """How many examples of the run the condition selects (:func:`analysis.check_cohort`; raises its errors)."""
    return analysis.check_cohort(_open(db_path), run_id, where)


def field_help(fields: pd.DataFrame) -> str:
    """The fields a condition can name, in plain words: short names, full names without one, derived features."""
    shorts = set(fields.loc[fields["name"] != fields["column"], "column"])
    names = [f"{n} ({k})" for n, k in zip(fields["name"], fields["kind"]) if n not in shorts]
    return ", ".join(names)


def session_cohort() -> str:
    """The cohort the user last chose on any page, as a page that takes a name or a condition wants it: the saved
    cohort's name, else the condition typed, else the link's (``?cohort=`` / ``?where=``); "" for none."""
    if WHERE_KEY in st.session_state:
        return st.session_state.get(NAME_KEY) or st.session_state[WHERE_KEY] or ""
    return st.query_params.get(COHORT_PARAM, "") or st.query_params.get(WHERE_PARAM, "")


def _initial(saved: dict[str, str]) -> tuple[str, str]:
    """(condition, saved name) to start the box from: the session's, else the URL's, else none."""
    if WHERE_KEY in st.session_state:
        return st.session_state[WHERE_KEY], st.session_state.get(NAME_KEY, "")
    name = st.query_params.get(COHORT_PARAM, "")
    if name and name in saved:
        return saved[name], name
    if name:  # a link to a cohort this store does not hold: said, not dropped silently
        st.session_state["cohort_unknown"] = name
    return st.query_params.get(WHERE_PARAM, ""), ""


def _keep(where: str, name: str) -> None:
    """The condition in force, in the session and the URL."""
    st.session_state[WHERE_KEY], st.session_state[NAME_KEY] = where, name
    if name:
        st.query_params[COHORT_PARAM] = name
        st.query_params.pop(WHERE_PARAM, None)
    elif where.strip():
        st.query_params[WHERE_PARAM] = where
        st.query_params.pop(COHORT_PARAM, None)
    else:
        st.query_params.pop(WHERE_PARAM, None)
        st.query_params.pop(COHORT_PARAM, None)


#: Streamlit draws a text box's "Press Enter to submit form" inside the box, over the end of the text: in the narrow
#: sidebar it covered the condition being typed (trial at 1280x720). This style (only a style: it takes no room on
#: the page) gives the hint a strip of its own under the box, kept whether the hint shows or not, so nothing below
#: moves while typing.
_HINT_BELOW = """<style>
.st-key-{key} [data-testid="stTextInput"] {{ padding-bottom: 1.2rem; }}
.st-key-{key} [data-testid="stTextInput"] div:has(> [data-testid="InputInstructions"]) {{
  height: 1.2rem; right: 0; }}
.st-key-{key} [data-testid="InputInstructions"] {{ position: static; text-align: right; line-height: 1.2rem; }}
</style>"""


def _picked(key: str, saved: dict[str, str]) -> None:
    """A saved cohort picked: its condition goes into the text box (a callback: runs before the page)."""
    name = st.session_state.get(f"{key}_pick", NONE)
    st.session_state[f"{key}_text"] = "" if name == NONE else saved.get(name, "")


def _save(store: Store, key: str, run_id: str) -> None:
    """Save the condition under the name typed (a callback: the picker then shows it)."""
    name = str(st.session_state.get(f"{key}_name", "")).strip()
    author = str(st.session_state.get(f"{key}_author", "")).strip()
    text = str(st.session_state.get(f"{key}_text", ""))
    try:
        saved = analysis.save_cohort(store, name, text, author=author, run=run_id)
    except FaultlineError as err:
        st.session_state[f"{key}_save_error"] = str(err)
        return
    st.session_state[f"{key}_pick"] = saved.name
    st.session_state[f"{key}_saved"] = f"Saved the cohort '{saved.name}' (version {saved.version})."


def set_cohort(key: str, where: str) -> None:
    """Put a condition into the cohort box ``key`` (call it from a widget's callback, before the box is drawn)."""
    st.session_state[f"{key}_text"] = where
    st.session_state[f"{key}_pick"] = NONE


def cohort_box(store: Store, db: str, version: int, run_id: str, *, key: str) -> str | None:
    """The sidebar's cohort box; returns the condition every table, chart and statistic of the page is to use.

    Parameters
    ----------
    store : Store
        The store (for saving).
    db : str
        The store's path (a cache key).
    version : int
        The store's data version (a cache key).
    run_id : str
        The run the condition is checked on.
    key : str
        A prefix for the widgets' keys, unique on the page.

    Returns
    -------
    str or None
        The condition, checked on the run; None when the box is empty or the condition does not fit the run (its
        error is then shown in plain words, naming the position and the field, and the page shows every example).
    """
    frame = saved_cohorts(db, version)
    saved = dict(zip(frame["name"], frame["predicate"]))
    text_key, pick_key = f"{key}_text", f"{key}_pick"
    initial = None
    if text_key not in st.session_state:  # new on this page: from the session, else the URL
        initial, name = _initial(saved)
        st.session_state[pick_key] = name if name in saved else NONE
    if st.session_state.get(pick_key) not in (NONE, *saved):
        st.session_state[pick_key] = NONE
    fields = cohort_fields(db, version, run_id)
    with st.sidebar:
        st.markdown("**Cohort**")
        if unknown := st.session_state.pop("cohort_unknown", None):
            st.warning(f"The link names a saved cohort '{md(unknown)}' that this store does not hold; "
                       f"saved cohorts: {md(', '.join(saved) or 'none')}.", icon=":material/link_off:")
        if saved:
            st.selectbox("Saved cohorts", [NONE, *saved], key=pick_key, on_change=_picked, args=(key, saved),
                         help="A cohort saved in the store; picking one puts its condition in the box below.")
        st.html(_HINT_BELOW.format(key=text_key))  # the "Press Enter" hint under the box, not over the condition
        # a form: the condition applies on Enter or "Apply", never when the box loses focus (a rerun on blur
        # swallowed the click that took the focus away, e.g. on a view of the Timeline page)
        with st.form(f"{key}_form", border=False, enter_to_submit=True):
            # a new box starts from ``value`` (not a value put in the session first: a rerun the browser asks for
            # before the box is drawn, e.g. a table's preselected row, would show it empty)
            text = st.text_input("Cohort (a condition)", value=initial, key=text_key,
                                 placeholder='e.g. language = "sw" and not correct',
                                 help="Only the examples that satisfy the condition are analysed: every table, chart "
                                      "and statistic of the page. Fields: " + field_help(fields) + ". Operators: = "
                                      "!= < <= > >=, in [...], not in, contains \"text\", is null, and, or, not, "
                                      "(...). Press Enter or Apply to use it.")
            st.form_submit_button("Apply", key=f"{key}_apply", icon=":material/filter_alt:")
        with st.expander("Fields you can name", icon=":material/list:"):
            st.caption(md(field_help(fields)))
        text = text or ""
        where = text.strip()
        name = st.session_state.get(pick_key, NONE)
        name = name if name != NONE and saved.get(name, "").strip() == where else ""
        if not where:
            _keep("", "")
            return None
        try:
            size = cohort_size(db, version, run_id, where)
        except FaultlineError as err:  # the engine's own words: position and field
            st.error(md(err), icon=":material/filter_alt_off:")
            _keep(text, name)
            size = None
    if size is None:  # said where the numbers are too, never a whole run's numbers read as the cohort's
        st.warning("The cohort typed in the sidebar does not fit this run (see why there): every number on this "
                   "page is over all the run's examples.", icon=":material/filter_alt_off:")
        return None
    with st.sidebar:
        st.caption(f"{size:,} examples in the cohort" + (f" '{md(name)}'" if name else "") + ".")
        _keep(where, name)
        with st.popover("Save cohort", icon=":material/bookmark_add:"):
            st.text_input("Name", key=f"{key}_name", placeholder="e.g. swahili legal")
            author_input(f"{key}_author", label="Your name (required)")
            st.button("Save", key=f"{key}_save", on_click=_save, args=(store, key, run_id),
                      icon=":material/save:")
        if message := st.session_state.pop(f"{key}_save_error", None):
            st.error(md(message), icon=":material/error:")
        if message := st.session_state.pop(f"{key}_saved", None):
            st.success(md(message), icon=":material/check_circle:")
    return where


# ------------------------------------------------------------------ opening an example from a table
#: The example view's page (``pages/9_Example.py``) and its path in a link.
EXAMPLE_PAGE, EXAMPLE_PATH = "pages/9_Example.py", "Example"
#: The column of links a table of examples gets (:func:`with_example_links`).
EXAMPLE_LINK = "open"
EXAMPLE_LINK_COLUMN = {EXAMPLE_LINK: st.column_config.LinkColumn(
    "Example", display_text="Open", width="small", help="Open the example in full (within the cohort)")}


#: The URL parameter naming the set an example was opened from (:func:`example_set`), so that previous / next step
#: through that set (a slice's examples, a cluster's, a failure mode's, a comparison row's pairs of some verdicts),
#: also from a shared link.
SET_PARAM = "set"


def example_set(kind: str, **spec) -> str:
    """The set a table of examples lists, as the example view's ``set`` parameter (compact JSON): ``kind`` one of
    ``slice`` (``predicate``: attribute -> value label, ``bins``; a cluster is the slice of its labels column),
    ``mode`` (``mode``, ``spec`` (the page's spec choice), ``columns``, ``order_by``, ``descending``: as the Failure
    modes page lists it) or
    ``comparison`` (``baseline``, ``candidate``, ``predicate``, ``verdicts``, and ``outcome`` for a graded score's
    verdicts). The example view reads it back with
    :func:`example_set_ids`."""
    return json.dumps({"kind": kind, **spec}, sort_keys=True, separators=(",", ":"), default=str)


def example_set_ids(db: str, version: int, run_id: str, set_text: str,
                    where: str | None) -> tuple[list[str], str] | None:
    """The example ids of the set ``set_text`` (:func:`example_set`), in the order its table lists them, and the set
    in words; None for a set this run cannot read (a link from another store: the view falls back to the cohort).
    The engine's results come from the cache the listing page filled."""
    from ui import cache

    try:
        spec = json.loads(set_text)
        kind = spec["kind"]
        if kind == "slice":
            predicate = dict(spec["predicate"])
            examples = cache.slice_examples(db, version, run_id, tuple(predicate.items()), int(spec.get("bins", 5)),
                                            where=where)
            words = analysis.describe_predicate(predicate, empty="every example")
            return [str(i) for i in examples["example_id"]], f"the slice {words}" + _first(len(examples),
                                                                                           cache.SLICE_EXAMPLES)
        if kind == "mode":  # the spec the list was made with (a choice: demo, saved:NAME, ...), else the run's
            from ui import session

            saved = cache.saved_spec_listing(db, version)
            spec_text, spec_name = (session.spec_of_choice(spec["spec"], dict(zip(saved["name"], saved["text"])))
                                    if spec.get("spec") else session.run_spec(db, version, run_id))
            examples = cache.mode_examples(db, version, run_id, spec_text, spec_name, spec["mode"],
                                           tuple(spec.get("columns", ())), spec.get("order_by"),
                                           bool(spec.get("descending", True)), where=where)
            return [str(i) for i in examples["example_id"]], f"the failure mode {spec['mode']}" + _first(
                len(examples), cache.MODE_EXAMPLES)
        if kind == "comparison":
            predicate = dict(spec["predicate"])
            counts, pairs = cache.comparison_drilldown(db, version, spec["baseline"], spec["candidate"],
                                                       tuple(sorted(predicate.items())), tuple(spec["verdicts"]),
                                                       where=where, outcome=spec.get("outcome"))
            words = analysis.describe_predicate(predicate, empty="every example")
            verdicts = ", ".join(str(v).replace("score_same", "score unchanged").replace("_", " ")
                                 for v in spec["verdicts"])  # none chosen: every pair
            total = sum(n for v, n in counts.items() if v in spec["verdicts"] or not spec["verdicts"])
            capped = f" (the first {len(pairs):,} of {total:,}, as the drill-down lists them)" if total > len(pairs) else ""
            return (list(dict.fromkeys(str(i) for i in pairs["example_id"])),
                    f"the {verdicts + ' ' if verdicts else ''}pairs of {words}{capped}")
    except (ValueError, KeyError, TypeError, FaultlineError):
        return None
    return None


def _first(listed: int, cap: int) -> str:
    """Words for a list cut at ``cap`` examples (the page lists the first ``cap``), or none."""
    return f" (the first {cap:,}, as the page lists them)" if listed >= cap else ""


def example_query(run_id: str, example_id: str, where: str | None, origin: str | None = None) -> dict[str, str]:
    """The example view's URL parameters for one example of a run, within the cohort ``where`` (or none), opened
    from the set ``origin`` (:func:`example_set`, or none)."""
    query = {"run": run_id, "example": str(example_id)}
    if where:
        query["cohort"] = where
    if origin:
        query[SET_PARAM] = origin
    return query


def example_link(run_id: str, example_id: str, where: str | None, origin: str | None = None) -> str:
    """A link (relative to the app's root, so it works under a base path) to the example view."""
    from urllib.parse import urlencode

    return f"./{EXAMPLE_PATH}?" + urlencode(example_query(run_id, example_id, where, origin))


def with_example_links(examples: pd.DataFrame, run_id: str, where: str | None,
                       origin: str | None = None) -> pd.DataFrame:
    """``examples`` (with ``example_id``) with a first column of links to each one's example view; the pages put Open
    buttons before it (:func:`with_open_buttons`: a link cell of the grid opened only on a second click). ``origin``:
    the set the table lists (:func:`example_set`), so that the view's previous / next step through it."""
    from urllib.parse import quote_plus, urlencode

    # what example_link gives, with the run and the cohort quoted once: only the example id varies (2,000 links,
    # made on every rerun of a table's fragment, cost 0.15 s one by one); ids of URL-safe characters need no quoting
    ids = examples["example_id"].astype(str).fillna("")
    head = f"./{EXAMPLE_PATH}?{urlencode({'run': run_id})}&example="
    tail = (f"&cohort={quote_plus(where)}" if where else "") + (f"&{SET_PARAM}={quote_plus(origin)}" if origin else "")
    safe = ids.str.fullmatch(r"[A-Za-z0-9_.~-]*").fillna(False).to_numpy(dtype=bool)
    quoted = ids.where(safe, ids.map(quote_plus)) if not safe.all() else ids
    links = (head + quoted + tail).to_numpy(dtype=object)
    return pd.concat([pd.DataFrame({EXAMPLE_LINK: links}, index=examples.index), examples], axis=1)


#: The column of buttons that open an example in one click (the grid's link cells opened only on a second click:
#: their first click was taken by the grid). The links stay in the frame (:data:`EXAMPLE_LINK`, hidden): a button
#: opens its row's link.
EXAMPLE_BUTTON = "view"
OPEN_LABEL = ":material/open_in_new: Open"


def with_open_buttons(linked: pd.DataFrame) -> pd.DataFrame:
    """A table from :func:`with_example_links` with a first column of Open buttons (numbered from 0, so a click's row
    is a position); show it with ``column_config=open_columns(key)`` and call :func:`open_clicked` after it."""
    linked = linked.reset_index(drop=True)
    return pd.concat([pd.DataFrame({EXAMPLE_BUTTON: [OPEN_LABEL] * len(linked)}, dtype="str"), linked], axis=1)


def open_columns(key: str) -> dict:
    """The ``column_config`` of the Open buttons (``key``: the session key of their clicks, unique on the page) and
    of the hidden links they open."""
    return {EXAMPLE_BUTTON: st.column_config.ButtonColumn(
        "Example", type="tertiary", width="small", alignment="left", key=key,
        help="Open the example in full (within the cohort)"), EXAMPLE_LINK: None}


def open_clicked(key: str, table: pd.DataFrame) -> None:
    """Go to the example whose Open button (``key``) was clicked in ``table`` (from :func:`with_open_buttons`): the
    page its hidden link names, with that link's parameters (run, example, cohort). Nothing when none was clicked."""
    from urllib.parse import parse_qsl, urlsplit

    click = st.session_state.get(key)
    if click is None or not 0 <= int(click["row"]) < len(table):
        return
    st.switch_page(EXAMPLE_PAGE, query_params=dict(parse_qsl(urlsplit(table[EXAMPLE_LINK].iloc[int(click["row"])]).query)))


def open_example(run_id: str, example_id: str, where: str | None, origin: str | None = None) -> None:
    """Go to the example view of one example (within the cohort, opened from the set ``origin``)."""
    st.switch_page(EXAMPLE_PAGE, query_params=example_query(run_id, example_id, where, origin))


#: Most examples a selection on a map can make a cohort of (the condition lists their ids; save it for a short link).
MAX_SELECTED = 2000


def cohort_words(where: str, width: int = 160) -> str:
    r"""A cohort's condition as a caption shows it (Markdown-safe, :func:`ui.session.md`): whole up to ``width``
    characters; a list of ids (:func:`ids_condition`, a selection on the map) as its count, ``example_id in [411
    ids]``; any other longer condition cut at ``width`` with its length said (the cohort box holds it whole).

    >>> cohort_words('language = "sw"')
    'language \\= \\"sw\\"'
    >>> cohort_words(ids_condition(["a", "b", "c"]), width=10)
    'example\\_id in \\[3 ids\\]'
    """
    if len(where) <= width:
        return md(where)
    listed = re.fullmatch(r'\s*example_id in \[(.*)\]\s*', where, flags=re.S)
    if listed:
        count = len(re.findall(r'"(?:[^"\\]|\\.)*"', listed.group(1)))
        return md(f"example_id in [{count:,} ids]")
    return md(where[:width].rstrip()) + f"… ({len(where):,} characters)"


def ids_condition(example_ids) -> str:
    """A condition in the rule language selecting these examples: ``example_id in ["a", "b"]`` (quotes and
    backslashes in an id escaped)."""
    quoted = ['"' + str(e).replace("\\", "\\\\").replace('"', '\\"') + '"' for e in dict.fromkeys(example_ids)]
    return f"example_id in [{', '.join(quoted)}]"
