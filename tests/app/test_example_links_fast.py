"""ui.with_example_links (made at once) gives every link example_link gives one by one (urllib's urlencode)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pandas as pd
import pytest

IDS = ["ex1", "a b", "x&y=z", "é/ü", "100%", "plain-id_2.~", "", "q?#", "+plus", "ünïcode", "1", "tab\there"]


@pytest.mark.parametrize("where", [None, "", "lang = 'es' and n > 3 & x", "example_id in [\"a b\", \"c\"]"])
def test_links_equal_urlencode_one_by_one(where):
    from ui.cohort import EXAMPLE_LINK, EXAMPLE_PATH, with_example_links

    examples = pd.DataFrame({"example_id": pd.array(IDS, dtype="str"), "correct": [True, False] * 6},
                            index=range(10, 22))
    out = with_example_links(examples, "r 1&2", where)
    query = {"run": "r 1&2"}
    expected = []
    for example_id in IDS:
        q = {**query, "example": example_id} | ({"cohort": where} if where else {})
        expected.append(f"./{EXAMPLE_PATH}?" + urlencode(q))
    assert list(out[EXAMPLE_LINK]) == expected
    assert list(out.columns) == [EXAMPLE_LINK, "example_id", "correct"] and list(out.index) == list(examples.index)
    back = parse_qs(urlsplit(out[EXAMPLE_LINK].iloc[2]).query, keep_blank_values=True)
    assert back["example"] == ["x&y=z"] and back["run"] == ["r 1&2"]


def test_numeric_ids_and_an_empty_table():
    from ui.cohort import EXAMPLE_LINK, example_link, with_example_links

    numbers = pd.DataFrame({"example_id": [3, 10, 200]})
    assert list(with_example_links(numbers, "r", None)[EXAMPLE_LINK]) == [example_link("r", str(i), None)
                                                                          for i in (3, 10, 200)]
    empty = with_example_links(pd.DataFrame({"example_id": pd.array([], dtype="str")}), "r", "x = 1")
    assert empty.empty and list(empty.columns) == [EXAMPLE_LINK, "example_id"]
