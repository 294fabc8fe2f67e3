"""Exports that are safe to open: CSV cells that a spreadsheet would run as formulas are neutralised; JUnit XML
and Markdown for CI, with text from the data made safe for each (the one writer both gates use)."""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def json_value(value, *, text_for_other: bool = False):
    """A value as JSON holds it: numpy scalars as Python, NaN and infinities as ``None`` (JSON has no NaN),
    mappings with text keys, tuples, lists and arrays as lists (recursively).

    The one definition every JSON output uses (the CLI's ``--json``, findings' evidence, the example view,
    the report's attachments).

    Parameters
    ----------
    value : object
        Any cell or structure.
    text_for_other : bool, default False
        Write any other value (a date, a decimal) as its text, so the result holds only JSON types.

    >>> json_value({"q": np.float64("nan"), "n": np.int64(3), "p": (1, 2.5)})
    {'q': None, 'n': 3, 'p': [1, 2.5]}
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): json_value(v, text_for_other=text_for_other) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [json_value(v, text_for_other=text_for_other) for v in value]
    if text_for_other and value is not None and not isinstance(value, (str, int, float, bool)):
        return str(value)
    return value


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


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: object) -> str:
    """Text XML 1.0 can hold: control characters a log may carry are replaced by U+FFFD.

    >>> xml_text("a\\x00b") == "a\\ufffdb"
    True
    """
    return _XML_ILLEGAL.sub("\ufffd", str(value))


@dataclass(frozen=True)
class TestCase:
    """One check of a gate, as a CI test case (a slice tested against its budget)."""

    __test__ = False  # not a pytest class

    name: str
    """What was checked, in words (``language = sw``)."""
    classname: str
    """The group of checks (``faultline.gate.language``, ``total``): JUnit's class name."""
    failure: str | None = None
    """Why it failed, one line (None when it passed)."""
    detail: str = ""
    """The evidence behind the failure (its numbers), the failure element's text."""
    failure_type: str = "GateFailure"


def junit_report(suite: str, cases: Sequence[TestCase], properties: Sequence[tuple[str, object]] = ()) -> str:
    """A JUnit XML report: ``<testsuites>`` holding one ``<testsuite>`` with ``properties`` and a ``<testcase>``
    per check, a ``<failure>`` in each that failed.

    Parameters
    ----------
    suite : str
        The suite's name.
    cases : sequence of TestCase
        The checks, in order.
    properties : sequence of (str, object)
        Settings recorded with the suite (baseline, attributes, the reproducing command...).

    Returns
    -------
    str
        UTF-8 XML with a declaration, ending in a newline; counts ``tests`` and ``failures`` on both elements,
        ``errors`` and ``skipped`` 0. Text from the data is made XML-safe (:func:`xml_text`).

    Examples
    --------
    >>> xml = junit_report("gate", [TestCase("lang = sw", "total", "drop 9 points"), TestCase("all", "total")])
    >>> root = ET.fromstring(xml.split("?>", 1)[1]); suite = root[0]
    >>> suite.get("tests"), suite.get("failures"), suite[0].find("failure").get("message")
    ('2', '1', 'drop 9 points')
    """
    failures = sum(c.failure is not None for c in cases)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0", "skipped": "0"}
    root = ET.Element("testsuites", name=xml_text(suite), **counts)
    element = ET.SubElement(root, "testsuite", name=xml_text(suite), **counts)
    if properties:
        props = ET.SubElement(element, "properties")
        for key, value in properties:
            ET.SubElement(props, "property", name=xml_text(key), value=xml_text(value))
    for c in cases:
        case = ET.SubElement(element, "testcase", classname=xml_text(c.classname), name=xml_text(c.name), time="0")
        if c.failure is not None:
            failure = ET.SubElement(case, "failure", type=c.failure_type, message=xml_text(c.failure))
            failure.text = xml_text(c.detail or c.failure)
    buffer = io.StringIO()
    ET.ElementTree(root).write(buffer, encoding="unicode", xml_declaration=True)
    return buffer.getvalue() + "\n"


def markdown_cell(value: object) -> str:
    """Text safe in a Markdown table cell: backslashes, pipes and backticks escaped, no line breaks, no HTML.

    >>> print(markdown_cell("a|b <i>"))
    a\\|b &lt;i&gt;
    """
    text = str(value).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"[\r\n]+", " ", text)
