"""Counts in running text: thousands separated as Python's own ``,`` format (the localized grid's English reading)
and the noun in its number, never "(s)"."""

from __future__ import annotations

import pytest

from analysis import format_count, format_some


@pytest.mark.parametrize("n", [0, 1, 2, 999, 1000, 7032, 1819, 1_000_000])
def test_a_count_reads_with_separators_and_the_right_number(n):
    text = format_count(n, "slice")
    number, noun = text.split(" ")
    assert number == f"{n:,}" and int(number.replace(",", "")) == n
    assert noun == ("slice" if n == 1 else "slices")
    assert "(s)" not in text


def test_an_irregular_plural_is_given():
    assert format_count(3, "query", "queries").endswith("queries")
    assert format_count(1, "query", "queries").endswith("query")


def test_some_names_at_most_three_and_the_count_of_all():
    names = [f"s{i}" for i in range(37)]
    assert format_some(names, "slice") == "37 slices, e.g. s0, s1, s2"
    assert format_some(names[:3], "slice", total=1819) == "1,819 slices, e.g. s0, s1, s2"
    assert format_some(names[:2], "slice") == "2 slices: s0, s1"
    assert format_some([], "slice", total=4) == "4 slices"
