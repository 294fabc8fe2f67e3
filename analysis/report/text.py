"""How the report words numbers and user text (shared by the content's sentences and the HTML)."""

from __future__ import annotations

import math

#: Longest user text shown in a cell before it is cut with a marker.
MAX_TEXT = 400


def _pct(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x * 100:.{digits}f}%"


def _q(q: float | None) -> str:
    if q is None or (isinstance(q, float) and not math.isfinite(q)):
        return "not tested"
    return "<1e-300" if q == 0 else f"{q:.2g}"


def _clip(text: str, limit: int = 160) -> str:
    """A slice description short enough for a sentence, with a marker when cut."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit:,} more characters cut]"
