"""How numbers read in every view: one definition shared by the pages, the figures, the report and the CLI."""

from __future__ import annotations

import math


def format_q(q: float | None) -> str:
    """A q-value (or p-value) with two significant digits, or three (and more) where two would round a q below 1
    up to a "1" that reads as "no evidence at all": ``1`` only for a q of exactly 1 (or more); ``<1e-300`` when it
    underflows to 0; ``not tested`` when missing or NaN (a slice too small to test). Every view (pages, tables,
    figures, report, CLI) writes its q-values and p-values through this function.

    >>> format_q(0.01234), format_q(0.0), format_q(float("nan")), format_q(None)
    ('0.012', '<1e-300', 'not tested', 'not tested')
    >>> format_q(0.9964), format_q(0.95), format_q(1.0), format_q(0.99996)
    ('0.996', '0.95', '1', '0.99996')
    """
    if q is None or (isinstance(q, float) and not math.isfinite(q)):
        return "not tested"
    q = float(q)
    if q == 0:
        return "<1e-300"
    if q >= 1:
        return f"{q:.2g}"  # "1" for a q of exactly 1
    for digits in range(2, 16):
        text = f"{q:.{digits}g}"
        if float(text) < 1:
            return text
    return repr(q)  # pragma: no cover - below 1 by less than 1e-15: every digit shown


def format_count(n: int, noun: str, plural: str | None = None) -> str:
    """A count in running text, as every view writes it (never "1819 slice(s)").

    Parameters
    ----------
    n : int
        The count.
    noun : str
        What is counted, in the singular.
    plural : str, optional
        Its plural when not ``noun + "s"``.

    Returns
    -------
    str
        The count with thousands separated by commas (as the tables' localized format reads in English) and the
        noun in the singular for exactly one, in the plural otherwise.

    Raises
    ------
    TypeError, ValueError
        ``n`` is not a number.

    Examples
    --------
    >>> format_count(1819, "slice"), format_count(1, "slice"), format_count(0, "pair")
    ('1,819 slices', '1 slice', '0 pairs')
    >>> format_count(7032, "pair"), format_count(2, "query", "queries")
    ('7,032 pairs', '2 queries')
    """
    n = int(n)
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def format_some(names, noun: str, plural: str | None = None, *, shown: int = 3, total: int | None = None) -> str:
    """A count of things with at most ``shown`` of their names, in one line.

    Parameters
    ----------
    names : iterable
        Their names, in the order to show (most telling first); already escaped for where they go.
    noun, plural : str
        What they are (:func:`format_count`).
    shown : int, default 3
        How many names at most.
    total : int, optional
        How many there are, when only the first few names are passed (default: ``len(names)``).

    Returns
    -------
    str
        ``37 slices, e.g. a, b, c`` when some are left out, ``2 slices: a, b`` when every one is named.

    Raises
    ------
    TypeError, ValueError
        ``total`` is not a number.

    Examples
    --------
    >>> format_some(["a", "b", "c", "d"], "slice")
    '4 slices, e.g. a, b, c'
    >>> format_some(["a"], "slice"), format_some(["a", "b"], "slice", total=1200)
    ('1 slice: a', '1,200 slices, e.g. a, b')
    """
    names = [str(x) for x in names]
    total = len(names) if total is None else int(total)
    head = format_count(total, noun, plural)
    if not names:
        return head
    if total <= shown and len(names) == total:
        return f"{head}: " + ", ".join(names)
    return f"{head}, e.g. " + ", ".join(names[:shown])


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_headline(metric: str, value: float | None, low: float | None = None, high: float | None = None) -> str:
    """A run's headline as every view writes it: a rate as a percentage, a mean score in its own unit,
    each with its 95% interval when there is one; ``n/a`` when nothing was scored.

    >>> format_headline("accuracy", 0.4167, 0.193, 0.681)
    'accuracy 41.7% (19.3%-68.1%)'
    >>> format_headline("mean score", 6.525, 6.01, 7.04), format_headline("accuracy", float("nan"))
    ('mean score 6.53 (6.01-7.04)', 'n/a')
    """
    if _missing(value):
        return "n/a"
    if metric == "accuracy":
        shown = f"accuracy {value:.1%}"
        return shown if _missing(low) or _missing(high) else f"{shown} ({low:.1%}-{high:.1%})"
    shown = f"{metric} {value:.3g}"
    return shown if _missing(low) or _missing(high) else f"{shown} ({low:.3g}-{high:.3g})"


def format_threshold(threshold: float, source: str, correct_column: str | None = None) -> str:
    """What "correct" means for a run with graded scores, and who said so.

    >>> format_threshold(0.5, "default")
    "'correct' means score >= 0.5 (the default threshold; set correct_threshold in a mapping to change it)"
    >>> format_threshold(0.5, "default", "exact_match")
    "'correct' is the log's own exact_match, not a threshold on the score"
    """
    if isinstance(correct_column, str) and correct_column:  # pandas' NA or None: no column of its own
        return f"'correct' is the log's own {correct_column}, not a threshold on the score"
    why = ("the default threshold; set correct_threshold in a mapping to change it" if source in ("", "default")
           else source)
    return f"'correct' means score >= {threshold:g} ({why})"


def score_unit(outcome: str | None) -> str:
    """How a difference of a graded score's means is named: in the score's own units.

    Never points: points are for differences of rates (fractions shown as %).

    Parameters
    ----------
    outcome : str or None
        The graded score's column (``score.f1``); None names it ``score``.

    Returns
    -------
    str
        ``"<outcome> units"``.

    Examples
    --------
    >>> score_unit("score.f1")
    'score.f1 units'
    """
    return f"{outcome or 'score'} units"


def gate_unit(outcome: str | None = None) -> str:
    """How the regression gate's allowed drop is named: in points of accuracy, whatever outcome the view shows.

    The gate reads correctness (:func:`analysis.gate`: McNemar on the pairs' correct / incorrect), so its drop is a
    difference of rates, in points, even where the view compares a graded score's means (in the score's own units,
    :func:`score_unit`); beside such a score the unit says so, so the two are not read as one.

    Parameters
    ----------
    outcome : str or None
        The outcome the view compares: None or ``"correct"`` for correctness, else a graded score's column
        (``score.f1``).

    Returns
    -------
    str
        ``"points of accuracy"``, followed beside a graded score by what accuracy is and the unit it is not.

    Examples
    --------
    >>> gate_unit()
    'points of accuracy'
    >>> gate_unit("score.f1")
    'points of accuracy (the share of examples correct, not score.f1 units)'
    """
    if outcome in (None, "", "correct"):
        return "points of accuracy"
    return f"points of accuracy (the share of examples correct, not {score_unit(outcome)})"


#: Interval methods by the names their authors' fields use (the engine's ``ci_method`` values are lower case).
INTERVAL_METHODS = {"wilson": "Wilson", "clopper-pearson": "Clopper-Pearson", "t": "Student t",
                    "t, cut at the run's score range": "Student t (cut at the run's score range)"}


def interval_method(method: str) -> str:
    """An interval's method as a reader writes it (``"wilson"`` -> ``"Wilson"``).

    A method not listed in :data:`INTERVAL_METHODS` is returned as it is.

    Parameters
    ----------
    method : str
        A ``ci_method`` value of a slice table (:func:`analysis.slice_table`).

    Returns
    -------
    str
        The method's name.

    Raises
    ------
    TypeError
        ``method`` is not hashable (a list).

    Examples
    --------
    >>> interval_method("wilson"), interval_method("clopper-pearson"), interval_method("bootstrap")
    ('Wilson', 'Clopper-Pearson', 'bootstrap')
    """
    return INTERVAL_METHODS.get(method, method)
