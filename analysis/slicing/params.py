"""Parameters that several analyses share, checked in one place with one message each.

``min_support`` is the least number of examples a slice needs to be tested (slice tables,
heatmaps, comparisons, failure-mode concentration, the objective link) or searched (discovery,
SliceLine). It is given either as a count of examples (an integer >= 1) or as a fraction of the
examples analysed (a number strictly between 0 and 1), and turned into a count by
:func:`support_count` once the number of examples analysed is known.
"""

from __future__ import annotations

import numbers

from analysis.errors import FaultlineError

__all__ = ["MSG_BINS", "MSG_CONFIDENCE", "MSG_FDR", "MSG_MIN_SUPPORT", "MSG_ORDER", "ParameterError", "check_min_support",
           "check_slicing_params", "support_count"]

MSG_MIN_SUPPORT = (
    "Invalid 'min_support' parameter: expected an integer >= 1 (a count of examples) or a number in (0, 1) "
    "(a fraction of the examples analysed), got {value!r}"
)


class ParameterError(FaultlineError, ValueError):
    """A parameter outside its documented range: a Faultline error and a ``ValueError``."""


def check_min_support(value: object) -> int | float:
    """Return ``value`` if it is a valid ``min_support``, else raise :class:`ParameterError`.

    Parameters
    ----------
    value : int or float
        A count of examples (an integer >= 1; ``bool`` is refused) or a fraction of the examples
        analysed (a real number with ``0 < value < 1``).

    Returns
    -------
    int or float
        ``value`` itself (numpy integers as a Python ``int``).

    Raises
    ------
    ParameterError
        With the text :data:`MSG_MIN_SUPPORT`, for anything else (0, negative numbers, 1.0 and
        larger non-integers, NaN, strings).

    >>> check_min_support(30), check_min_support(0.01)
    (30, 0.01)
    >>> check_min_support(0)
    Traceback (most recent call last):
    ...
    analysis.slicing.params.ParameterError: Invalid 'min_support' parameter: expected an integer >= 1 (a count of examples) or a number in (0, 1) (a fraction of the examples analysed), got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(MSG_MIN_SUPPORT.format(value=value))
    if isinstance(value, numbers.Integral):
        if value >= 1:
            return int(value)
    elif 0 < value < 1:  # NaN fails the comparison
        return float(value)
    raise ParameterError(MSG_MIN_SUPPORT.format(value=value))


def support_count(min_support: int | float, n: int) -> int:
    """The least slice size, in examples, that ``min_support`` means for ``n`` examples analysed.

    A count is returned as is; a fraction ``x`` becomes ``int(x * n)`` (truncated, as the
    ``sliceline`` package converts its ``min_sup``), and at least 1.

    Parameters
    ----------
    min_support : int or float
        As accepted by :func:`check_min_support` (it is checked again here).
    n : int
        Number of examples analysed (>= 0).

    Returns
    -------
    int
        The least number of examples a slice needs (>= 1).

    Raises
    ------
    ParameterError
        If ``min_support`` is invalid (see :func:`check_min_support`).

    >>> support_count(30, 1000), support_count(0.05, 1000), support_count(0.01, 50)
    (30, 50, 1)
    """
    value = check_min_support(min_support)
    if isinstance(value, int):
        return value
    return max(1, int(value * n))


MSG_ORDER = "Invalid 'max_order' parameter: expected 1, 2 or 3, got {value!r}"


MSG_FDR = "Invalid 'fdr' parameter: expected a number in (0, 1), got {value!r}"


MSG_CONFIDENCE = "Invalid 'confidence' parameter: expected a number in (0, 1), got {value!r}"
MSG_BINS = "Invalid 'bins' parameter: expected an integer from 2 to 20, got {value!r}"


def check_slicing_params(max_order, min_support, fdr, bins, confidence=0.95) -> None:
    """Check the parameters every slicing analysis shares; raise :class:`ParameterError` naming the bad one.

    >>> check_slicing_params(2, 30, 0.05, 5, confidence=1.5)
    Traceback (most recent call last):
    ...
    analysis.slicing.params.ParameterError: Invalid 'confidence' parameter: expected a number in (0, 1), got 1.5
    """
    if max_order not in (1, 2, 3):
        raise ParameterError(MSG_ORDER.format(value=max_order))
    check_min_support(min_support)
    if isinstance(fdr, bool) or not isinstance(fdr, (int, float)) or not 0 < fdr < 1:
        raise ParameterError(MSG_FDR.format(value=fdr))
    if isinstance(bins, bool) or not isinstance(bins, int) or not 2 <= bins <= 20:
        raise ParameterError(MSG_BINS.format(value=bins))
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ParameterError(MSG_CONFIDENCE.format(value=confidence))
