"""Keeping files uploaded through the app, so a run's provenance points at a real file."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from analysis import HELM_REQUIRED_FILES as HELM_FILES

_SAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_file_name(name: str) -> str:
    """A file name with no directory part and no unusual characters.

    >>> safe_file_name("../../etc/passwd")
    'passwd'
    >>> safe_file_name("my log (1).jsonl")
    'my log _1_.jsonl'
    """
    base = Path(name.replace("\\", "/")).name
    base = _SAFE.sub("_", base).strip(" .")
    return base or "upload"


def stage_uploads(files: Sequence[tuple[str, bytes]], root: Path) -> list[Path]:
    """Write uploaded files under ``root/<sha256 of the batch>/`` and return the paths to load.

    HELM's three files uploaded together become one run folder; every other file is
    loaded on its own. The same upload twice lands in the same place (content addressed).
    """
    digest = hashlib.sha256()
    for name, data in sorted(files, key=lambda f: f[0]):
        digest.update(safe_file_name(name).encode() + b"\0" + hashlib.sha256(data).digest())
    folder = root / digest.hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    names = {safe_file_name(n) for n, _ in files}
    helm = set(HELM_FILES) <= names
    paths: list[Path] = []
    for name, data in files:
        target = folder / safe_file_name(name)
        if not target.exists() or target.stat().st_size != len(data):
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(target)
        if not (helm and target.name in HELM_FILES):
            paths.append(target)
    if helm:
        paths.insert(0, folder)
    return paths


# ------------------------------------------------------------------ the Data page's plan of what to load
#: Session keys of the upload plan: the uploads it was made for, the plan, the error that stopped it.
PLAN_SIGNATURE_KEY, PLAN_KEY, PLAN_ERROR_KEY = "data_plan_signature", "data_plan", "data_plan_error"


def plan_uploads(store, uploads) -> None:
    """Keep the session's plan of what to load in step with the uploader's files.

    New files are staged (:func:`stage_uploads`) and planned once (format, columns, guessed roles);
    the plan, or the error that stopped it, is kept under :data:`PLAN_KEY` / :data:`PLAN_ERROR_KEY`
    until the files change. Files removed from the uploader drop the plan.
    """
    if uploads:
        signature = tuple((f.name, f.size, f.file_id) for f in uploads)
        if st.session_state.get(PLAN_SIGNATURE_KEY) == signature:
            return
        st.session_state[PLAN_SIGNATURE_KEY] = signature
        st.session_state.pop(PLAN_KEY, None)
        st.session_state.pop(PLAN_ERROR_KEY, None)
        try:
            with st.spinner("Reading the files..."):
                paths = stage_uploads([(f.name, f.getvalue()) for f in uploads], store.path.parent / "uploads")
                st.session_state[PLAN_KEY] = store.plan(paths)
        except Exception as err:  # noqa: BLE001 - a FaultlineError or a bug, shown in plain words by ui.show_error
            st.session_state[PLAN_ERROR_KEY] = err
    elif st.session_state.get(PLAN_SIGNATURE_KEY):  # the files were removed from the uploader
        for key in (PLAN_SIGNATURE_KEY, PLAN_KEY, PLAN_ERROR_KEY):
            st.session_state.pop(key, None)


def upload_plan():
    """The plan of the files in the uploader (a list of :class:`analysis.PlannedRun`), or None."""
    return st.session_state.get(PLAN_KEY)


def upload_plan_error() -> Exception | None:
    """The error that stopped planning the files in the uploader, or None."""
    return st.session_state.get(PLAN_ERROR_KEY)


def forget_plan() -> None:
    """Drop the plan once it is loaded."""
    for key in (PLAN_KEY, PLAN_ERROR_KEY):
        st.session_state.pop(key, None)
