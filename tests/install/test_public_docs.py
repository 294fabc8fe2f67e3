"""The public face is documented: every function that ``analysis`` names lazily carries numpydoc sections.

Issue #9: each public function says what it takes (``Parameters``), what it gives back (``Returns``: the
DataFrame's columns or the result's attributes, with units) and, when it can fail, what it raises (``Raises``).
"""

from __future__ import annotations

import inspect
import re

import pytest

import analysis

#: Clustering and embedder functions, being moved to other files by another change: checked there.
NOT_HERE = {"cluster_run", "cached_result", "warm_up", "minilm_available", "model2vec_available"}

#: Public functions that raise nothing of their own (pure functions of an already computed result).
RAISE_NOTHING = {"heatmap_cells", "render_html", "score_unit", "gate_unit"}

PUBLIC_FUNCTIONS = sorted(
    name for name in analysis._LAZY
    if name not in NOT_HERE and callable(getattr(analysis, name)) and not inspect.isclass(getattr(analysis, name))
)


def sections(doc: str) -> set[str]:
    """The numpydoc section titles of a docstring (a title line underlined by dashes of its length).

    >>> sorted(sections("Summary.\\n\\nParameters\\n----------\\nx : int\\n\\nReturns\\n-------\\nint\\n"))
    ['Parameters', 'Returns']
    """
    lines = doc.splitlines()
    return {lines[i].strip() for i in range(len(lines) - 1)
            if lines[i].strip() and re.fullmatch(r"-+", lines[i + 1].strip())
            and len(lines[i + 1].strip()) == len(lines[i].strip())}


def test_the_public_functions_are_found():
    # the list is not empty by accident (a renamed table, every name filtered out)
    assert {"slice_table", "compare_runs", "gate", "link", "generate_demo"} <= set(PUBLIC_FUNCTIONS)
    assert not set(PUBLIC_FUNCTIONS) & NOT_HERE
    assert set(PUBLIC_FUNCTIONS) >= RAISE_NOTHING


@pytest.mark.parametrize("name", [*PUBLIC_FUNCTIONS, "open_store"])
def test_public_function_has_numpydoc_sections(name):
    doc = inspect.getdoc(getattr(analysis, name)) or ""
    found = sections(doc)
    summary = doc.split("\n\n", 1)[0]
    assert summary and "\n" not in summary.strip(), f"{name}: the docstring must open with a one-line summary"
    expected = {"Parameters", "Returns"} | (set() if name in RAISE_NOTHING else {"Raises"})
    assert expected <= found, f"{name} lacks the numpydoc sections {sorted(expected - found)}"


@pytest.mark.parametrize("name", [*PUBLIC_FUNCTIONS, "open_store"])
def test_documented_parameters_are_the_real_ones(name):
    func = getattr(analysis, name)
    doc = inspect.getdoc(func) or ""
    block = doc.split("Parameters\n----------\n", 1)[1]
    block = re.split(r"\n\S[^\n]*\n-{3,}\n", block, maxsplit=1)[0]
    documented = set()
    for line in block.splitlines():
        if line and not line.startswith(" "):
            names = line.split(" : ", 1)[0]
            documented.update(n.strip() for n in names.split(","))
    actual = set(inspect.signature(func).parameters)
    assert documented == actual, f"{name}: documented {sorted(documented)}, signature {sorted(actual)}"


def test_sections_ignores_a_rule_of_another_length():
    assert sections("Title\n---\ntext") == set()
