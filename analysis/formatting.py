"""How numbers read in every view: one definition shared by the pages, the figures, the report and the CLI."""

from __future__ import annotations

import math


def format_q(q: float | None) -> str:
    """A q-value (or p-value) with two significant digits: ``<1e-300`` when it underflows to 0, ``not tested``
    when missing or NaN (a slice too small to test).

    >>> format_q(0.01234), format_q(0.0), format_q(float("nan")), format_q(None)
    ('0.012', '<1e-300', 'not tested', 'not tested')
    """
    if q is None or (isinstance(q, float) and not math.isfinite(q)):
        return "not tested"
    return "<1e-300" if q == 0 else f"{q:.2g}"
