"""Keeping files uploaded through the app, so a run's provenance points at a real file."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

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
