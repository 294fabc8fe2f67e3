"""Keeping files uploaded through the app, so a run's provenance points at a real file; and removing them.

Uploads are staged under ``<store folder>/uploads/<batch>/``. A batch no run refers to (never loaded, or its
run deleted) is removed once it is older than ``$FAULTLINE_UPLOAD_TTL_HOURS`` (default 24), and the oldest such
batches go first whenever they take more than ``$FAULTLINE_UPLOAD_QUOTA_MB`` (default 2048) together. The files
of loaded runs are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import streamlit as st

from analysis import HELM_REQUIRED_FILES as HELM_FILES

_SAFE = re.compile(r"[^\w. -]+")

#: Settable limits of the staging folder.
UPLOAD_QUOTA_ENV, DEFAULT_UPLOAD_QUOTA_MB = "FAULTLINE_UPLOAD_QUOTA_MB", 2048
UPLOAD_TTL_ENV, DEFAULT_UPLOAD_TTL_HOURS = "FAULTLINE_UPLOAD_TTL_HOURS", 24


def safe_file_name(name: str) -> str:
    """A file name with no directory part and no unusual characters (letters of any script are kept).

    >>> safe_file_name("../../etc/passwd")
    'passwd'
    >>> safe_file_name("my log (1).jsonl")
    'my log _1_.jsonl'
    >>> safe_file_name("测试.csv")
    '测试.csv'
    """
    base = Path(name.replace("\\", "/")).name
    base = _SAFE.sub("_", base).strip(" .")
    return base or "upload"


def staged_names(files: Sequence[tuple[str, bytes]]) -> list[str]:
    """The name each uploaded file is staged under: its safe name, made unique in the batch (ignoring case)
    with the first digits of its content's sha256 when two names would collide (``a?.csv`` and ``a*.csv``).

    >>> staged_names([("a?.csv", b"1"), ("a*.csv", b"2"), ("b.csv", b"3")])
    ['a_.csv', 'a_-d4735e3a.csv', 'b.csv']
    """
    used: set[str] = set()
    names = []
    for name, data in files:
        safe = safe_file_name(name)
        if safe.casefold() in used:
            stem, dot, suffix = safe.rpartition(".")
            stem, suffix = (stem, dot + suffix) if stem else (safe, "")
            digest = hashlib.sha256(data).hexdigest()
            for n in range(8, 65):
                candidate = f"{stem}-{digest[:n]}{suffix}"
                if candidate.casefold() not in used:
                    break
            safe = candidate
        used.add(safe.casefold())
        names.append(safe)
    return names


def stage_uploads(files: Sequence[tuple[str, bytes]], root: Path) -> list[Path]:
    """Write uploaded files under ``root/<sha256 of the batch>/`` and return the paths to load.

    HELM's three files uploaded together become one run folder; every other file is
    loaded on its own. The same upload twice lands in the same place (content addressed);
    two files whose safe names collide are both kept (:func:`staged_names`).
    """
    files = sorted(files, key=lambda f: (f[0], hashlib.sha256(f[1]).digest()))
    names = staged_names(files)
    digest = hashlib.sha256()
    for name, (_, data) in zip(names, files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    folder = root / digest.hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    os.utime(folder)  # staged now: the age the clean-up counts from
    helm = set(HELM_FILES) <= set(names)
    paths: list[Path] = []
    for name, (_, data) in zip(names, files):
        target = folder / name
        if not target.exists() or target.stat().st_size != len(data):
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(target)
        if not (helm and target.name in HELM_FILES):
            paths.append(target)
    if helm:
        paths.insert(0, folder)
    return paths


def _limit(env: str, default: float) -> float:
    try:
        value = float(os.environ.get(env, default))
    except ValueError:
        value = default
    return value if value >= 0 else default


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def prune_uploads(root: Path, in_use: Iterable[Path], *, keep: Iterable[Path] = (), quota_bytes: int | None = None,
                  ttl_s: float | None = None, now: float | None = None) -> list[Path]:
    """Remove staged batches under ``root`` that no run refers to: those older than ``ttl_s``, then the oldest
    while they take more than ``quota_bytes`` together. A batch holding a path of ``in_use`` (a run's source
    files) or named in ``keep`` (the batch being planned) is never removed. Returns the batches removed.
    """
    if not root.is_dir():
        return []
    quota_bytes = quota_bytes if quota_bytes is not None else int(
        _limit(UPLOAD_QUOTA_ENV, DEFAULT_UPLOAD_QUOTA_MB) * 1024 * 1024)
    ttl_s = ttl_s if ttl_s is not None else _limit(UPLOAD_TTL_ENV, DEFAULT_UPLOAD_TTL_HOURS) * 3600
    now = time.time() if now is None else now
    root = root.resolve()
    held = {p.resolve() for p in keep}
    for path in in_use:
        path = Path(path).resolve()
        if root in path.parents:
            held.add(root / path.relative_to(root).parts[0])
    loose = sorted((f for f in root.iterdir() if f.is_dir() and f.resolve() not in held),
                   key=lambda f: f.stat().st_mtime)
    removed = [f for f in loose if now - f.stat().st_mtime > ttl_s]
    rest = [(f, _size(f)) for f in loose if f not in removed]
    total = sum(size for _, size in rest)
    for folder, size in rest:  # oldest first
        if total <= quota_bytes:
            break
        removed.append(folder)
        total -= size
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def prune_staged(store) -> None:
    """Apply :func:`prune_uploads` to the store's staging folder (after a run is deleted, or a new upload)."""
    with contextlib.suppress(OSError):
        prune_uploads(store.path.parent / "uploads", store.source_paths(), keep=_planned_batches())


def _planned_batches() -> list[Path]:
    plan = st.session_state.get(PLAN_KEY) or []
    return [Path(f).parent if Path(f).is_file() else Path(f) for p in plan for f in p.source.files]


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
                root = store.path.parent / "uploads"
                paths = stage_uploads([(f.name, f.getvalue()) for f in uploads], root)
                st.session_state[PLAN_KEY] = store.plan(paths)
                with contextlib.suppress(OSError):  # clean-up never stops an upload
                    prune_uploads(root, store.source_paths(),
                                  keep=[paths[0] if paths[0].is_dir() else paths[0].parent])
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
