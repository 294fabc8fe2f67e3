"""Page state of the app: the page frame, the store, errors in plain words, and choices that survive.

Values that must survive page switches live in ``st.session_state`` under their own keys (not only
in widget keys, which Streamlit drops with the page), and a choice worth sharing is mirrored in the
URL (``st.query_params``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Sequence

import streamlit as st

from analysis import FaultlineError, Store, resolve_db_path
from ui.cache import _open, attributes, demo_spec_fits, demo_spec_text, run_format, run_listing, saved_spec_listing
from ui.jobs import start_precompute

#: The tab's icon: an emoji, drawn by the browser (a ``:material/...:`` favicon is fetched from fonts.gstatic.com).
PAGE_ICON = "🔎"

_LOG = logging.getLogger("faultline.app")


_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")
#: Where a renderer's autolinker would start a link: a scheme before ``\:``, ``www`` before ``\.``, an ``\@``.
_AUTOLINK = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*(?=\\:)|\bwww(?=\\\.)|\\@)")


def md(value) -> str:
    r"""Text from a log (or a spec, or an error quoting one) made safe to put into Markdown: every ASCII
    punctuation character backslash-escaped and line breaks made spaces, so ``![x](http://...)``, ``<a href>``,
    ``[link](...)``, ``**``, ``:red[...]`` or ``$...$`` show as the characters they are: no image, link, HTML
    or formatting, and nothing fetched. Every value from a log that goes into ``st.markdown``, ``st.caption``,
    ``st.info`` / ``warning`` / ``error`` / ``success``, a metric or an expander label goes through here.

    The renderer also turns bare addresses (``http://...``, ``www.``, ``a@b.c``) into links even when escaped:
    an invisible word joiner (U+2060) after the scheme, ``www`` or ``@`` keeps them text.

    >>> print(md("![x](http://e.example/a.png) <b>").replace("\u2060", "|"))
    \!\[x\]\(http|\:\/\/e\.example\/a\.png\) \<b\>
    """
    text = _MARKUP.sub(r"\\\1", " ".join(str(value).splitlines()))
    return _AUTOLINK.sub("\\1\u2060", text)


def get_store() -> Store | None:
    """The process-wide store (one DuckDB connection), or None after showing why it cannot open."""
    path = str(resolve_db_path())
    try:
        store = _open(path)
        start_precompute(path, store.data_version())  # once per data version: what the pages show first
        return store
    except FaultlineError as err:
        st.error(md(err), icon=":material/lock:")
        st.button("Try again", key="retry_store")
        return None


def page_setup(title: str, caption: str | None = None) -> None:
    """Page config and heading, the same on every page."""
    st.set_page_config(page_title=f"{title} · Faultline", page_icon=PAGE_ICON, layout="wide")
    st.title(title)
    if caption:
        st.caption(caption)


def page_with_run(title: str, caption: str | None) -> tuple[Store, str, str, int]:
    """The preamble of an analysis page: heading, store, run picker; stops the page when there is no run.

    Returns the store, the chosen run id, the store path (a cache key) and the data version.
    """
    page_setup(title, caption)
    store = get_store()
    if store is None:
        st.stop()
    run_id = run_picker(store)
    if run_id is None:
        st.stop()
    return store, run_id, str(store.path), store.data_version()


def show_error(err: Exception) -> None:
    """An error the user can act on, in plain words, never a traceback."""
    if isinstance(err, FaultlineError):  # its message may quote a log: shown as text
        st.error(md(err), icon=":material/error:")
    else:  # a bug: say so plainly; the details (which may quote paths or data) go to the server's log only
        incident = uuid.uuid4().hex[:8]
        _LOG.error("incident %s", incident, exc_info=err)
        st.error(f"Something went wrong inside Faultline. Nothing was changed. The details are in the server's "
                 f"log under incident {incident}: please report this with them.", icon=":material/bug_report:")


# ------------------------------------------------------------------ choices that survive
def remembered(options: Sequence, *, key: str, default, query_param: str | None = None, aliases: dict | None = None):
    """The option to preselect: the session's last choice (``key``), else the URL's ``query_param``,
    else ``default``; a value that is not an option is looked up in ``aliases`` (e.g. a run's name)
    and falls back to ``default``."""
    wanted = st.session_state.get(key) or (st.query_params.get(query_param) if query_param else None)
    if wanted not in options:
        wanted = (aliases or {}).get(wanted, default)
    return wanted if wanted in options else default


def remember(value, *, key: str, query_param: str | None = None):
    """Keep a choice for the session (``key``) and, with ``query_param``, in the URL; returns it."""
    st.session_state[key] = value
    if query_param:
        st.query_params[query_param] = value
    return value


def run_picker(store: Store, *, label: str = "Run", key: str = "run", default_index: int = 0,
               default: str | None = None) -> str | None:
    """A run selector in the sidebar whose choice survives page switches and is shareable as ?run=...;
    ``default`` (a run id) is preselected when nothing was chosen, else the run at ``default_index``."""
    runs = run_listing(str(store.path), store.data_version())
    if runs.empty:
        st.info("The store has no runs yet: add one on the Data page.", icon=":material/upload_file:")
        return None
    ids = list(runs["run_id"])
    names = dict(zip(runs["run_id"], runs["name"]))
    models = dict(zip(runs["run_id"], runs["model"].fillna("").astype(str))) if "model" in runs else {}
    fallback = default if default in ids else ids[min(default_index, len(ids) - 1)]
    linked = st.query_params.get(key)
    if linked and not st.session_state.get(f"chosen_{key}") and linked not in ids and linked not in names.values():
        # a link to a run this store does not hold: say so, never show another run as if it were the one asked for
        st.sidebar.warning(f"The link asks for run {md(linked)}, which this store does not hold; showing "
                           f"{md(names[fallback])} instead.", icon=":material/link_off:")
    wanted = remembered(ids, key=f"chosen_{key}", query_param=key, default=fallback,
                        aliases={v: k for k, v in names.items()})
    choice = st.sidebar.selectbox(label, ids, index=ids.index(wanted), format_func=run_label(names, models),
                                  key=f"picker_{key}", help="The run's name; its id is written below.")
    st.sidebar.caption(f"{md(names[choice])} · id {choice}")  # the whole name wraps here, where the box cuts it
    return remember(choice, key=f"chosen_{key}", query_param=key)


# ------------------------------------------------------------------ the current pair (baseline, candidate)
#: The pair the user last looked at on Compare (baseline, candidate), and how many times Compare showed a pair: a
#: page that offers a pair (Report) takes it when Compare showed one since that page last took it.
PAIR_KEY, PAIR_SEQ_KEY = "current_pair", "current_pair_seq"
#: The session's run (the run picker's ``chosen_run``) and baseline (shared by Failure modes and Report).
RUN_KEY, BASELINE_KEY = "chosen_run", "fm_chosen_baseline"


def set_current_pair(baseline: str, candidate: str) -> None:
    """The pair shown on Compare becomes the session's current pair (two different runs only)."""
    if baseline and candidate and baseline != candidate:
        st.session_state[PAIR_KEY] = (baseline, candidate)
        st.session_state[PAIR_SEQ_KEY] = st.session_state.get(PAIR_SEQ_KEY, 0) + 1


def take_current_pair(page: str) -> tuple[str, str] | None:
    """Make Compare's pair the session's run (its candidate) and baseline, once per showing of Compare, for
    ``page`` (a key of its own): call before the page's run picker. Returns the pair taken now, or None (no pair,
    or taken already: a choice made on the page since then wins)."""
    pair, seq = st.session_state.get(PAIR_KEY), st.session_state.get(PAIR_SEQ_KEY, 0)
    taken_key = f"{page}_pair_taken"
    if not pair or st.session_state.get(taken_key) == seq:
        return None
    st.session_state[taken_key] = seq
    st.session_state[RUN_KEY] = pair[1]
    st.session_state[BASELINE_KEY] = pair[0]
    return tuple(pair)


def run_label(names: dict[str, str], models: dict[str, str] | None = None):
    """How a run reads in a picker 240 px wide (the sidebar at 1280x720): its name; where two runs share the name,
    what tells them apart first, so that the box, which cuts a long label at its end, still shows it: the model
    where the runs sharing the name have different models (``gpt-3.5-turbo-0301 · crossword``), else the id."""
    groups: dict[str, list[str]] = {}
    for run, name in names.items():
        groups.setdefault(name, []).append(run)
    models = models or {}

    def label(run: str) -> str:
        same = groups.get(names.get(run), [run])
        if len(same) == 1:
            return names[run]
        told = [models.get(r) for r in same]
        if all(told) and len(set(told)) == len(told):
            return f"{models[run]} · {names[run]}"
        return f"{run} · {names[run]}"

    return label


def remembered_list(options: Sequence, *, key: str, saved_key: str, default: Sequence,
                    query_param: str | None = None) -> list:
    """Prepare a multiselect's ``key`` (create the widget without ``default=``): its own value while every
    item is an option; else the last choice (``saved_key``, else the URL's repeated ``query_param``) kept to
    the items that are options here (a choice follows the user from run to run where the items exist); else
    ``default``. Call :func:`remember_list` with the widget's value after it. Returns the items of the last
    choice that are not options here (for the page to say so, below the widget; empty when none were dropped)."""
    current = st.session_state.get(key)
    if current is not None and all(v in options for v in current):
        return []
    saved = st.session_state.get(saved_key)
    if saved is None and query_param:
        saved = st.query_params.get_all(query_param) or None
    kept = [v for v in dict.fromkeys(saved or []) if v in options]
    st.session_state[key] = kept or [v for v in default if v in options]
    return [v for v in dict.fromkeys(saved or []) if v not in options]


def remember_list(values: Sequence, *, saved_key: str, query_param: str | None = None) -> list:
    """Keep a multiselect's choice for the session (``saved_key``) and, with ``query_param``, in the URL."""
    values = list(values)
    st.session_state[saved_key] = values
    if query_param:
        st.query_params[query_param] = values
    return values


def table_key(prefix: str, *parts) -> str:
    """A widget key for a selectable table, derived from what the table indexes (run, settings, data version):
    when any of them changes the table is a new widget, so a selected row never carries over to a table whose
    row at that position is another slice."""
    digest = hashlib.sha1(json.dumps([str(p) for p in parts]).encode("utf-8")).hexdigest()[:12]
    return f"{prefix}_{digest}"


#: Session key and URL parameter of the slice selected on the Slices page (its predicate, as JSON).
SLICE_KEY, SLICE_PARAM = "slices_selected", "slice"


def chosen_slice(run_id: str) -> dict | None:
    """The predicate of the slice last selected on the Slices page for this run (session, else the URL's
    ``?slice=``), or None. Whether it is still in the table is for the page to check."""
    saved = st.session_state.get(SLICE_KEY)
    if saved is not None:
        return dict(saved["predicate"]) if saved.get("run") == run_id and saved.get("predicate") else None
    text = st.query_params.get(SLICE_PARAM)
    if not text:
        return None
    try:
        predicate = json.loads(text)
    except ValueError:
        return None
    if not isinstance(predicate, dict) or not all(isinstance(v, str) for v in predicate.values()):
        return None
    return predicate


def choose_slice(run_id: str, predicate: dict | None) -> None:
    """Make ``predicate`` (None: no slice) the selected slice of ``run_id``, in the session and the URL."""
    if predicate is None:  # recorded, so that the URL's slice (of an earlier visit) is not read again
        st.session_state[SLICE_KEY] = {"run": run_id, "predicate": None}
        if SLICE_PARAM in st.query_params:
            del st.query_params[SLICE_PARAM]
        return
    st.session_state[SLICE_KEY] = {"run": run_id, "predicate": dict(predicate)}
    st.query_params[SLICE_PARAM] = json.dumps(dict(predicate), sort_keys=True)


def pick_once(value, *, last_key: str, target_key: str) -> None:
    """Copy a newly picked value (a selected table row) into a widget's key once, so the user may still
    edit the widget afterwards: nothing happens while the same value stays picked."""
    if st.session_state.get(last_key) != value:
        st.session_state[last_key] = value
        st.session_state[target_key] = value


def close_popover(key: str) -> None:
    """Close the popover ``key`` (one made with ``key=`` and ``on_change="rerun"``, so it keeps its state): a
    button's callback, so that a form in a popover closes once it is done (pinning leaves the user where they were,
    with the popover closed and a confirmation below it)."""
    st.session_state[key] = False


def flash(message: str, *, key: str) -> None:
    """A success message to show on the next run of the page (after ``st.rerun()``)."""
    st.session_state[key] = message


def show_flash(*, key: str) -> None:
    """Show (once) the message :func:`flash` left under ``key``."""
    if st.session_state.get(key):
        st.success(md(st.session_state.pop(key)), icon=":material/check_circle:")


#: The confirmation of a pin (``title``, ``id``: the finding's).
PINNED = "Pinned “{title}” ({id}): it is listed on the Findings page."
#: ... where the pin sits in a popover beside the table (Slices, Clusters).
PINNED_AS_FINDING = "Pinned '{title}' as a finding: see the Findings page."


def pin_clicked(pin, *, note_key: str, author_key: str, flash_key: str, popover: str | None = None,
                message: str = PINNED) -> None:
    """A pin button's callback: pin with the note and author typed (``pin(note, author)`` returns the finding), then
    clear the note (it belongs to the finding just pinned) and leave a confirmation under ``flash_key``; an error
    leaves the note as typed and is kept for :func:`show_pin_result`. A callback runs before the page is drawn again,
    the only moment a widget's text may be changed. ``popover``: a popover to close (:func:`close_popover`);
    ``message``: the confirmation (:data:`PINNED`, :data:`PINNED_AS_FINDING`)."""
    st.session_state.pop(f"{flash_key}::error", None)
    try:
        made = pin(st.session_state.get(note_key, ""), st.session_state.get(author_key, ""))
    except Exception as err:  # noqa: BLE001 - shown in plain words by show_pin_result
        st.session_state[f"{flash_key}::error"] = err
        return
    st.session_state[note_key] = ""
    # Markdown: the title escaped (it may quote a log), the rest as written
    st.session_state[flash_key] = message.format(title=md(made.title), id=made.finding_id[:8])
    if popover is not None:
        close_popover(popover)


#: What a pin panel says when its target is already pinned (a second pin would duplicate it: nothing is offered).
ALREADY_PINNED = ("Already pinned by {author} on {when} UTC as “{title}” ({id}): see the Findings page. Pinning it "
                  "again would duplicate it; withdraw it there to pin it again with another note.")


def already_pinned(store: Store, run: str, *, kind: str, target: dict, baseline: str | None = None,
                   where: str | None = None, outcome: str | None = None, container=None,
                   flash_key: str | None = None) -> bool:
    """Whether this target is already pinned (:func:`analysis.pinned_finding`): if so, say by whom and when
    (:data:`ALREADY_PINNED`) in ``container``, so the page can disable its note and pin button. Not said on the
    run right after this panel pinned it (``flash_key``: its confirmation, :func:`pin_clicked`, says it instead)."""
    from analysis import pinned_finding

    try:
        held = pinned_finding(store, run, kind=kind, target=target, baseline=baseline, where=where, outcome=outcome)
    except FaultlineError:  # an unknown run: the pin itself says so
        return False
    if held is None:
        return False
    if flash_key is not None and st.session_state.get(flash_key):  # pinned just now: the confirmation says so
        return True
    (container or st).info(ALREADY_PINNED.format(author=md(held.author), when=f"{held.created_at:%Y-%m-%d %H:%M}",
                                                 title=md(held.title), id=held.finding_id[:8]),
                           icon=":material/push_pin:")  # the names typed (author, title) escaped, the rest as written
    return True


def show_pin_result(*, flash_key: str) -> bool:
    """Show (once) what :func:`pin_clicked` left: the confirmation, or the error in plain words; True when a finding
    was pinned."""
    err = st.session_state.pop(f"{flash_key}::error", None)
    if err is not None:
        show_error(err)
        return False
    message = st.session_state.pop(flash_key, None)
    if message:
        st.success(message, icon=":material/check_circle:")
    return bool(message)


#: The session key of the user's name, shared by every author box (pins, annotations, saved cohorts, withdrawals).
AUTHOR_KEY = "faultline_author"


def author_input(key: str, *, container=None, label: str = "Your name") -> str:
    """The author box of a form or popover (widget ``key``), named the same on every page and filled with the name
    typed on any of them (else the system user); what is typed here is remembered for the others."""
    import os

    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(AUTHOR_KEY) or os.environ.get("USER", "")
    value = (container or st).text_input(label, key=key)  # no callback: a box inside a form may have none
    if str(value).strip():  # as the page draws it again (after Enter, a blur or the form's submit)
        st.session_state[AUTHOR_KEY] = value
    return value


# ------------------------------------------------------------------ the objective spec being edited
#: Session keys of the spec the Failure modes page analyses: its YAML text, its name, the last upload.
SPEC_KEY, SPEC_NAME_KEY, SPEC_UPLOAD_KEY = "fm_spec", "fm_spec_name", "fm_spec_loaded"
DEMO_SPEC_NAME = "objective_demo.yaml"
#: The name the Failure modes page gives "no spec" (the built-in detectors and label columns).
NO_SPEC_NAME = "no spec"


def spec_draft() -> tuple[str, str]:
    """The objective spec being analysed, (YAML text, name); the demo spec until the user changes it."""
    if SPEC_KEY not in st.session_state:
        set_spec_draft(demo_spec_text(), DEMO_SPEC_NAME)
    return st.session_state[SPEC_KEY], st.session_state[SPEC_NAME_KEY]


#: The Failure modes page's choices of spec (the Example page reads the same): none (the built-in detectors and label
#: columns), the demo's, one saved in the store (``saved:NAME``), the one edited in this session.
NO_SPEC_CHOICE, DEMO_CHOICE, SESSION_CHOICE, SAVED_CHOICE = "none", "demo", "session", "saved:"


def spec_choice_key(run_id: str) -> str:
    """The session key of a run's chosen spec (each run keeps its own)."""
    return f"fm_chosen_spec_{run_id}"


def default_spec_choice(db_path: str, data_version: int, run_id: str) -> str:
    """A run's spec until one is chosen: the demo's for a demo run it fits (not the demo series' checkpoints), else
    none."""
    demo = run_format(db_path, data_version, run_id) == "demo" and demo_spec_fits(db_path, data_version, run_id)
    return DEMO_CHOICE if demo else NO_SPEC_CHOICE


def spec_of_choice(choice: str, saved_text: dict) -> tuple[str, str]:
    """The (YAML text, name) of a spec choice; ``saved_text`` maps a saved spec's name to its text."""
    if choice == DEMO_CHOICE:
        return demo_spec_text(), DEMO_SPEC_NAME
    if choice == SESSION_CHOICE:
        return spec_draft()
    if choice.startswith(SAVED_CHOICE):
        name = choice[len(SAVED_CHOICE):]
        return saved_text.get(name, ""), name
    return "", NO_SPEC_NAME


def run_spec(db_path: str, data_version: int, run_id: str) -> tuple[str, str]:
    """A run's spec (YAML text, name) as the Failure modes page last chose it in this session, else its default:
    the one other pages (the Example view) check failure modes with."""
    choice = st.session_state.get(spec_choice_key(run_id)) or default_spec_choice(db_path, data_version, run_id)
    saved = saved_spec_listing(db_path, data_version)
    return spec_of_choice(choice, dict(zip(saved["name"], saved["text"])))


def set_spec_draft(text: str, name: str) -> None:
    """Replace the spec being analysed."""
    st.session_state[SPEC_KEY], st.session_state[SPEC_NAME_KEY] = text, name


def take_spec_upload(uploaded) -> bool:
    """Make an uploaded YAML file the spec, once per upload; True when it did (the page then reruns)."""
    if uploaded is None or st.session_state.get(SPEC_UPLOAD_KEY) == uploaded.file_id:
        return False
    set_spec_draft(uploaded.getvalue().decode("utf-8", errors="replace"), uploaded.name)
    st.session_state[SPEC_UPLOAD_KEY] = uploaded.file_id
    return True


def reset_spec_draft(*, editor_key: str) -> None:
    """Back to the demo spec; the editor widget (``editor_key``) is refilled from it."""
    set_spec_draft(demo_spec_text(), DEMO_SPEC_NAME)
    st.session_state.pop(editor_key, None)


# ------------------------------------------------------------------ the Slices page's choices
#: Session keys of the Slices page: the attributes widget, their saved copy, the "only findings" toggle.
SLICES_BY_KEY, SLICES_SAVED_BY_KEY, SLICES_FINDINGS_KEY = "slices_by", "slices_chosen_by", "slices_only_findings"


def cluster_slice_attributes(db_path: str, data_version: int, run_id: str, column: str) -> list[str]:
    """The attributes "Open this cluster as a slice" chooses on the Slices page: the clustering's ``column``, then the
    Slices page's last choice (those the run has) or else the run's defaults."""
    all_attrs, default_attrs = attributes(db_path, data_version, run_id)
    kept = [a for a in st.session_state.get(SLICES_SAVED_BY_KEY) or default_attrs if a in all_attrs]
    return [column] + [a for a in kept if a != column]


#: The slice the Slices page was opened on from another page (a cluster): ``{"run", "predicate"}``; the page shows
#: its summary at the top (in view at 1280x720) until another slice is selected.
SLICES_LANDING_KEY = "slices_landing"


def slices_landing(run_id: str) -> dict | None:
    """The predicate of the slice the Slices page was opened on from another page (:func:`open_on_slices_page`),
    while it is still the selected slice of ``run_id``; else None."""
    landing = st.session_state.get(SLICES_LANDING_KEY)
    if not landing or landing.get("run") != run_id or chosen_slice(run_id) != landing.get("predicate"):
        return None
    return dict(landing["predicate"])


#: Keeps the page's main area at its top for 4 s after arrival (any scroll not made by the user's wheel, touch, keys
#: or mouse is undone): run once where a page lands on something shown at its top. Streamlit has no scroll API (1.67); its focus handling scrolls the main area to
#: centre a focused element (``ys`` in the frontend bundle), and a page switched to mid-page could open scrolled.
#: A constant script: no value from a log or the user goes into it.
SCROLL_TO_TOP = """<script>
(() => { const main = document.querySelector('[data-testid="stMain"]'); if (!main) return;
  let moved = false; const until = Date.now() + 4000;
  for (const kind of ['wheel', 'touchmove', 'keydown', 'mousedown'])
    main.addEventListener(kind, () => { moved = true; }, {once: true, passive: true});
  const back = () => { if (!moved && Date.now() < until && main.scrollTop > 0) main.scrollTo({top: 0}); };
  main.addEventListener('scroll', back, {passive: true});
  setTimeout(back, 0);
  setTimeout(() => main.removeEventListener('scroll', back), 4000);
})();
</script>"""


def scroll_to_top_once(token) -> None:
    """Scroll the main area to its top once for ``token`` (e.g. a landing): the script is sent on the first run that
    asks for this token only, in the sidebar (it takes no room in the page)."""
    if st.session_state.get("scrolled_for") == token:
        return
    st.session_state["scrolled_for"] = token
    st.sidebar.html(SCROLL_TO_TOP, unsafe_allow_javascript=True)


def leave_slices_landing() -> bool:
    """Forget the landing slice (another slice was selected); True if there was one."""
    return st.session_state.pop(SLICES_LANDING_KEY, None) is not None


def open_on_slices_page(run_id: str, predicate: dict, *, attributes: Sequence[str]) -> None:
    """Go to the Slices page with ``attributes`` chosen and the slice ``predicate`` selected (its statistics
    and examples shown, its summary at the top of the page), every row of the table shown."""
    st.session_state[SLICES_LANDING_KEY] = {"run": run_id, "predicate": dict(predicate)}
    st.session_state[SLICES_SAVED_BY_KEY] = list(attributes)
    st.session_state.pop(SLICES_BY_KEY, None)
    st.session_state.pop(SLICES_FINDINGS_KEY, None)
    choose_slice(run_id, predicate)
    st.session_state["slices_nav"] = st.session_state.get("slices_nav", 0) + 1
    st.switch_page("pages/2_Slices.py")
