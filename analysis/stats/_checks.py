"""Parameter and input validation shared by the statistics modules (private).

Bad *parameters* raise ``ValueError`` with one of the ``MSG_*`` templates, which name the parameter and the value
it got. The templates are re-exported by :mod:`analysis.stats` so that tests and callers can assert the exact text.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.stats
from numpy.typing import ArrayLike, NDArray

MSG_CONFIDENCE = "confidence must be a number strictly between 0 and 1, got {value!r}"
MSG_INT_MIN = "{name} must be an integer >= {minimum}, got {value!r}"
MSG_NUMBER_MIN = "{name} must be a finite number >= {minimum}, got {value!r}"
MSG_CHOICE = "{name} must be one of {choices}, got {value!r}"
MSG_COUNTS = "{name} must contain non-negative integer counts, got {value!r}"
MSG_ERRORS_GT_N = "{name} must not exceed {total}, got {name}={value!r} > {total}={total_value!r}"
MSG_GROUP_CODES = "group_codes must be integers in [0, n_groups={n_groups}), got {value!r}"
MSG_LENGTH = "{name} must have the same length as {other} ({expected}), got length {value!r}"
MSG_FINITE = "{name} must contain only finite values, got {value!r}"
MSG_P_VALUES = "p_values must lie in [0, 1] or be NaN, got {value!r}"
MSG_UNIT_INTERVAL = "{name} must lie in [0, 1], got {value!r}"
MSG_NDIM = "{name} must be a {ndim}-D array, got shape {value!r}"
MSG_RATIO_NEGATIVE = "ratings must be non-negative for level='ratio', got {value!r}"
MSG_CODES = "{name} must be integer codes below n_categories={n_categories} (negative = missing), got {value!r}"



def check_confidence(confidence: object) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0.0 < float(confidence) < 1.0:
        raise ValueError(MSG_CONFIDENCE.format(value=confidence))
    return float(confidence)


def check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(MSG_INT_MIN.format(name=name, minimum=minimum, value=value))
    return int(value)


def check_number(name: str, value: object, minimum: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or float(value) < minimum
    ):
        raise ValueError(MSG_NUMBER_MIN.format(name=name, minimum=minimum, value=value))
    return float(value)


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(MSG_CHOICE.format(name=name, choices=choices, value=value))
    return value


def counts(name: str, x: ArrayLike) -> NDArray[np.int64]:
    """Non-negative integer counts (integer-valued floats accepted) as int64."""
    arr = np.asarray(x)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(MSG_COUNTS.format(name=name, value=arr.dtype.name))
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr) | (arr != np.round(arr)) | (arr < 0)
    else:
        bad = arr < 0
    if np.any(bad):
        raise ValueError(MSG_COUNTS.format(name=name, value=arr[bad].ravel()[0].item()))
    return arr.astype(np.int64)


def check_le(name: str, x: NDArray, total_name: str, total: NDArray) -> None:
    bad = x > total
    if np.any(bad):
        i = np.flatnonzero(bad.ravel())[0]
        raise ValueError(
            MSG_ERRORS_GT_N.format(
                name=name, value=x.ravel()[i].item(), total=total_name, total_value=total.ravel()[i].item()
            )
        )


def float_values(name: str, x: ArrayLike, *, allow_nan: bool = False) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
    if np.any(bad):
        raise ValueError(MSG_FINITE.format(name=name, value=arr[bad].ravel()[0].item()))
    return arr


def one_d(name: str, arr: NDArray) -> NDArray:
    if arr.ndim != 1:
        raise ValueError(MSG_NDIM.format(name=name, ndim=1, value=arr.shape))
    return arr


def check_length(name: str, arr: NDArray, other: str, expected: int) -> None:
    if arr.shape[0] != expected:
        raise ValueError(MSG_LENGTH.format(name=name, other=other, expected=expected, value=arr.shape[0]))


def check_group_codes(codes: ArrayLike, n_groups: object, length: int, other: str) -> tuple[NDArray[np.int64], int]:
    """Validated ``(codes as int64, n_groups)``: 1-D, ``length`` long, every code in ``[0, n_groups)``."""
    n_groups = check_int("n_groups", n_groups, 0)
    arr = one_d("group_codes", np.asarray(codes))
    check_length("group_codes", arr, other, length)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(MSG_GROUP_CODES.format(n_groups=n_groups, value=arr.dtype.name))
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= n_groups)
    if np.any(bad):
        raise ValueError(MSG_GROUP_CODES.format(n_groups=n_groups, value=arr[bad][0].item()))
    return arr, n_groups


def z_quantile(confidence: float) -> float:
    """Two-sided normal quantile ``Phi^-1(1 - (1 - confidence) / 2)``."""
    return float(scipy.stats.norm.isf((1.0 - confidence) / 2.0))
