"""Exports that are safe to open: CSV cells that a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """Prefix a text cell that a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``...) with a quote.

    The store keeps every value verbatim; only exported files are neutralised (OWASP CSV injection).

    >>> neutralise_formula("=HYPERLINK(\\"http://x\\")"), neutralise_formula("plain"), neutralise_formula(-1)
    ('\\'=HYPERLINK("http://x")', 'plain', -1)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8) of a DataFrame with formula-like text cells neutralised.

    >>> safe_csv(pd.DataFrame({"a": ["=1+1", "ok"]})).decode().splitlines()
    ['a', "'=1+1", 'ok']
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_formula)
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out.to_csv(index=False).encode("utf-8")
