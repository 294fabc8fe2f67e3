"""How the report words numbers and user text: the content's sentences and the HTML templates use the same words.

Nothing a reviewer must read is cut: run names, slice descriptions, settings and lists are shown whole. Only
example texts (prompts and outputs quoted as examples) are excerpted, with the full text in the files attached
to the PDF. Long unbroken tokens (ids, hashes, a 700-character value) are set in a monospace span that may break
between any two characters; everything else breaks only between words (slice descriptions preferably between
predicates, at " AND ").

Markup helpers return :class:`markupsafe.Markup` built from escaped pieces: the templates render with autoescape on
(see :mod:`analysis.report.html`) and never see unescaped user text.
"""

from __future__ import annotations

import math
import re

from markupsafe import Markup, escape

from analysis.formatting import format_q

#: Longest example text (a prompt or an output quoted as an example) shown in the PDF; the full text is attached.
EXCERPT = 240
#: Longest user text quoted inside a sentence of the summary before it is excerpted (the table shows it whole).
SENTENCE_TEXT = 160
#: A word longer than this many characters is a token (an id, a hash, a run of one letter): set in monospace
#: and allowed to break between characters; shorter words never break.
LONG_TOKEN = 28
#: The marker that ends an excerpt of an example text.
MSG_EXCERPT = "… (excerpt: {more:,} more characters in the attached {file})"
#: How the data files write a q-value or p-value that underflows to 0.
DATA_UNDERFLOW = "< 1e-300"
#: Words of a slice description that join its predicates.
AND = " AND "


def excerpt(value: object, limit: int = EXCERPT, file: str = "examples.csv") -> str:
    """An example text shortened to ``limit`` characters with a marker naming the attached file holding it whole.

    Only example texts are excerpted; nothing else in the report is shortened.

    Examples
    --------
    >>> excerpt("x" * 10, limit=4)
    'xxxx… (excerpt: 6 more characters in the attached examples.csv)'
    >>> excerpt(None)
    ''
    """
    if value is None:
        return ""
    text = str(value)
    if len(text) <= limit:
        return text
    return text[:limit] + MSG_EXCERPT.format(more=len(text) - limit, file=file)


def short(value: object, limit: int = SENTENCE_TEXT) -> str:
    """User text quoted inside a sentence, shortened after ``limit`` characters with "…" (the tables hold it whole).

    >>> short("a" * 5, limit=3)
    'aaa…'
    """
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def pct(x: float | None, digits: int = 1) -> str:
    """A rate (a fraction in [0, 1]) as a percentage; ``n/a`` when missing or not finite.

    >>> pct(0.1234), pct(float("nan"))
    ('12.3%', 'n/a')
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x * 100:.{digits}f}%"


def points(x: float | None) -> str:
    """A difference of two rates in percentage points, signed, one decimal (the unit is said by the caller).

    >>> points(-0.0312)
    '-3.1'
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x * 100:+.1f}"


def qvalue(q: float | None) -> str:
    """A q-value (or p-value) in a table of the PDF: :func:`analysis.format_q`'s digits, ``< 0.001`` below that.

    The exact value (``< 1e-300`` when it underflows) is in the attached data (:func:`q_data`).

    >>> qvalue(0.01234), qvalue(1e-9), qvalue(0.0), qvalue(float("nan"))
    ('0.012', '< 0.001', '< 0.001', 'not tested')
    """
    if q is None or (isinstance(q, float) and not math.isfinite(q)):
        return "not tested"
    return "< 0.001" if q < 0.001 else format_q(q)


def q_prose(q: float | None) -> str:
    """A q-value inside a sentence: "q = 0.012", "q below 0.001", or "q far below 0.001" (under one in a million).

    >>> q_prose(0.01234), q_prose(0.0004), q_prose(0.0)
    ('q = 0.012', 'q below 0.001', 'q far below 0.001')
    """
    if q is None or (isinstance(q, float) and not math.isfinite(q)):
        return "not tested"
    if q < 1e-6:
        return "q far below 0.001"
    if q < 0.001:
        return "q below 0.001"
    return f"q = {format_q(q)}"


def q_data(q: float | None) -> str:
    """A q-value or p-value as the attached CSV writes it beside the exact float: ``< 1e-300`` when it underflows.

    >>> q_data(0.0), q_data(0.25)
    ('< 1e-300', '0.25')
    """
    text = format_q(q)
    return DATA_UNDERFLOW if text == "<1e-300" else text


def _words(text: str) -> Markup:
    """Text that breaks only between words: a word longer than :data:`LONG_TOKEN` goes in a monospace span that
    may break anywhere; right-to-left runs are isolated so they do not reorder their neighbours."""
    parts = []
    for piece in re.split(r"(\s+)", text):
        if not piece:
            continue
        if piece.isspace():
            parts.append(escape(" "))
        elif len(piece) > LONG_TOKEN:
            parts.append(Markup('<span class="tok">{}</span>').format(piece))
        else:
            parts.append(escape(piece))
    return Markup('<bdi>{}</bdi>').format(Markup("").join(parts))


def words(value: object) -> Markup:
    """User text, whole, as markup that breaks only between words (long tokens break between characters).

    >>> str(words("a <b>"))
    '<bdi>a &lt;b&gt;</bdi>'
    """
    return _words("" if value is None else str(value))


def slice_markup(description: object) -> Markup:
    """A slice description, whole, as markup that breaks between predicates (at " AND ") first: each predicate
    stays on one line when it is short (:data:`LONG_TOKEN` x 2 characters or less), else breaks between words.

    >>> str(slice_markup("a = 1 AND b = 2"))
    '<span class="pred"><bdi>a = 1</bdi></span> AND <span class="pred"><bdi>b = 2</bdi></span>'
    """
    text = "" if description is None else str(description)
    out = []
    for predicate in text.split(AND):
        cls = "pred" if len(predicate) <= 2 * LONG_TOKEN and not any(
            len(w) > LONG_TOKEN for w in predicate.split()) else "predwrap"
        out.append(Markup('<span class="{}">{}</span>').format(cls, _words(predicate)))
    return Markup(" AND ").join(out)
