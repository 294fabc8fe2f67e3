"""How the report words numbers and user text: the content's sentences and the HTML templates use the same words.

Nothing here escapes HTML: the templates are rendered with autoescape on (see :mod:`analysis.report.html`).
"""

from __future__ import annotations

import math

from analysis.formatting import format_q as qvalue  # noqa: F401 - the report's filter name

#: Longest user text shown in a table cell before it is cut with a marker.
MAX_TEXT = 400
#: Longest user text (a run name, a slice description) quoted inside a sentence of the summary.
SENTENCE_TEXT = 160
#: The marker that ends a cut text.
MSG_CUT = "… [{more:,} more characters cut]"


def cut(value: object, limit: int | None = MAX_TEXT) -> str:
    """User text as plain text, cut with a marker when it is longer than ``limit`` characters.

    Parameters
    ----------
    value : object
        The text (anything is turned into ``str``; ``None`` gives ``""``).
    limit : int or None
        Characters kept; ``None`` keeps everything.

    Examples
    --------
    >>> cut("x" * 10, limit=4)
    'xxxx… [6 more characters cut]'
    >>> cut(None)
    ''
    """
    if value is None:
        return ""
    text = str(value)
    if limit is None or len(text) <= limit:
        return text
    return text[:limit] + MSG_CUT.format(more=len(text) - limit)


def pct(x: float | None, digits: int = 1) -> str:
    """A rate (a fraction in [0, 1]) as a percentage; ``n/a`` when missing or not finite.

    >>> pct(0.1234), pct(float("nan"))
    ('12.3%', 'n/a')
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x * 100:.{digits}f}%"


def points(x: float) -> str:
    """A difference of two rates in percentage points, signed, one decimal.

    >>> points(-0.0312)
    '-3.1'
    """
    return f"{x * 100:+.1f}"
