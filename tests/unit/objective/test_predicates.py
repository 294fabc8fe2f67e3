"""The predicate language: parsed by our own parser, compiled to SQL with bound values, checked against a
direct pandas computation of the same condition, with exact error texts."""

from __future__ import annotations

import builtins

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.objective import predicates as P
from analysis.objective.predicates import PredicateError, compile_predicate, fields_from_table, parse

STORED = [("meta.language", "metadata", "categorical"), ("meta.turn_count", "metadata", "numeric"),
          ("signal.rm", "signal", "numeric"), ("rater.a", "rater", "boolean"),
          ("meta.when", "metadata", "timestamp"), ("meta.odd name", "metadata", "categorical")]
FIELDS = fields_from_table(STORED)


@pytest.fixture(scope="module")
def table():
    frame = pd.DataFrame({
        "example_id": [f"e{i}" for i in range(8)],
        "input": ["hi", "user: a\nuser: b", "q", "q", "q", "q", "q", "q"],
        "output": ["I'm sorry, but I can't help with that.", "", "The answer is 4", "Paris", None, "x" * 50,
                   "According to a study", "4"],
        "reference": ["4", "4", "4", "Paris", "4", "x", "4", "4"],
        "score": [0.0, 0.0, 0.5, 1.0, 0.0, 0.0, 0.0, 1.0],
        "correct": [False, False, False, True, None, False, False, True],
        "unscorable": [False, False, False, False, True, False, False, False],
        "status": ["ok", "no_answer", "ok", "ok", "unscored", "ok", "ok", "ok"],
        "task": ["t"] * 8,
        "meta.language": ["en", "sw", "sw", None, "en", "yo", "sw", "en"],
        "meta.turn_count": [1, 2, 3, 4, 5, 6, 7, None],
        "signal.rm": [0.1, 2.5, -1.0, 0.7, 3.0, 9.0, 1.5, 0.0],
        "rater.a": [True, False, True, True, None, False, True, True],
        "meta.when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01",
                                     "2024-06-01", "2024-07-01", "2024-08-01"]),
        "meta.odd name": ["a", "b", "a", "b", "a", "b", "a", "b"],
    })
    con = duckdb.connect()
    con.register("src", frame)
    con.execute("CREATE TABLE t AS SELECT * FROM src")
    yield con, frame
    con.close()


def select(con, condition: str) -> list[str]:
    sql, params = compile_predicate(condition, FIELDS, rule="test")
    return [r[0] for r in con.execute(f"SELECT example_id FROM t WHERE {sql} ORDER BY example_id", params).fetchall()]


def ids(frame: pd.DataFrame, mask) -> list[str]:
    mask = pd.Series(mask, index=frame.index).fillna(False).astype(bool)
    return sorted(frame.loc[mask, "example_id"])


# condition -> the same condition computed directly with pandas (missing values never match)
CASES = [
    ('language = "sw"', lambda f: f["meta.language"] == "sw"),
    ('language != "sw"', lambda f: f["meta.language"].notna() & (f["meta.language"] != "sw")),
    ('meta.language == "en"', lambda f: f["meta.language"] == "en"),
    ("rm > 1", lambda f: f["signal.rm"] > 1),
    ("rm >= 1.5 and rm <= 2.5", lambda f: (f["signal.rm"] >= 1.5) & (f["signal.rm"] <= 2.5)),
    ("2 < rm", lambda f: f["signal.rm"] > 2),
    ("rm < -0.5", lambda f: f["signal.rm"] < -0.5),
    ("turn_count >= 3 or rm > 8", lambda f: (f["meta.turn_count"] >= 3) | (f["signal.rm"] > 8)),
    ('language in ["sw", "yo"]', lambda f: f["meta.language"].isin(["sw", "yo"])),
    ('language not in ("sw", "yo")', lambda f: f["meta.language"].notna() & ~f["meta.language"].isin(["sw", "yo"])),
    ("language is null", lambda f: f["meta.language"].isna()),
    ("language is not null", lambda f: f["meta.language"].notna()),
    ("not correct", lambda f: f["correct"].notna() & ~f["correct"].fillna(True).astype(bool)),
    ("correct", lambda f: f["correct"].fillna(False).astype(bool)),
    ("not (correct or a)", lambda f: (f["correct"] == False) & (f["rater.a"] == False)),  # noqa: E712
    ("a = true and not correct", lambda f: (f["rater.a"] == True) & (f["correct"] == False)),  # noqa: E712
    ('output contains "according"', lambda f: f["output"].str.lower().str.contains("according", regex=False)),
    ('output not contains "4"', lambda f: f["output"].notna() & ~f["output"].str.contains("4", regex=False)),
    ("is_refusal", lambda f: f["output"].fillna("").str.lower().str.contains("i'm sorry, but", regex=False)),
    ("output_empty", lambda f: f["output"].fillna("").str.strip().eq("") | f["status"].eq("no_answer")),
    ("output_length > 10", lambda f: f["output"].str.len() > 10),
    ("length_ratio >= 10", lambda f: f["output"].str.len() / f["reference"].str.len() >= 10),
    ("turn = 2", lambda f: f["input"].str.count(r"(?:^|\n)user: ").clip(lower=1) == 2),
    ('when >= "2024-06-01"', lambda f: f["meta.when"] >= pd.Timestamp("2024-06-01")),
    ('`odd name` = "a" AND LANGUAGE = "sw"', None),  # keywords are case-insensitive; names are not
    ("rm = turn_count", lambda f: f["signal.rm"] == f["meta.turn_count"]),
    ("unscorable", lambda f: f["unscorable"]),
    # conjunctions with a text search: compiled with the search guarded by the cheap parts (missing values in both)
    ('not correct and output contains "according"',
     lambda f: (f["correct"] == False) & f["output"].str.lower().str.contains("according", regex=False)),  # noqa: E712
    ('output contains "4" and language = "sw" and not (a and rm > 2)',
     lambda f: f["output"].str.contains("4", regex=False) & (f["meta.language"] == "sw")
     & ((f["rater.a"] == False) | (f["signal.rm"] <= 2))),  # noqa: E712
    ('language != "en" and (output contains "sorry" or output not contains "x")',
     lambda f: f["meta.language"].notna() & (f["meta.language"] != "en")
     & (f["output"].str.lower().str.contains("sorry", regex=False)
        | (f["output"].notna() & ~f["output"].str.contains("x", regex=False)))),
    ('not correct and not (output contains "paris")',
     lambda f: (f["correct"] == False) & f["output"].notna()  # noqa: E712
     & ~f["output"].str.lower().str.contains("paris", regex=False).fillna(True)),
]


@pytest.mark.parametrize("condition,expected", [c for c in CASES if c[1] is not None], ids=[c[0] for c in CASES
                                                                                            if c[1] is not None])
def test_conditions_select_the_same_rows_as_pandas(table, condition, expected):
    con, frame = table
    assert select(con, condition) == ids(frame, expected(frame))


def test_backticks_name_fields_with_spaces_and_keywords_ignore_case(table):
    con, frame = table
    with pytest.raises(PredicateError, match="unknown field 'LANGUAGE'"):
        select(con, '`odd name` = "a" AND LANGUAGE = "sw"')
    assert select(con, '`odd name` = "a" AND language = "sw"') == ids(
        frame, (frame["meta.odd name"] == "a") & (frame["meta.language"] == "sw"))


def test_values_are_bound_never_spliced(table):
    con, _ = table
    sql, params = compile_predicate("language = \"x'); DROP TABLE t; --\"", FIELDS, rule="r")
    assert "DROP" not in sql and params == ["x'); DROP TABLE t; --"]
    assert select(con, "language = \"x'); DROP TABLE t; --\"") == []
    assert con.execute("SELECT count(*) FROM t").fetchall()[0][0] == 8


def test_field_names_are_quoted_identifiers():
    fields = fields_from_table([('meta.a"b', "metadata", "numeric")])
    sql, _ = compile_predicate('`a"b` > 1', fields)
    assert '"meta.a""b"' in sql


def test_never_uses_eval(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must not be used")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    compile_predicate('language = "sw" and rm > 1', FIELDS)
    with pytest.raises(PredicateError, match="unexpected character"):
        parse("__import__('os').system('true')")


def test_parse_tree_and_field_names():
    node = parse('not (language = "sw" or rm > 1) and a')
    assert P.field_names(node) == ["language", "rm", "a"]
    assert isinstance(node, P.BoolOp) and node.op == "and" and isinstance(node.items[0], P.Not)


ERRORS = [
    ("", "Rule 'r', position 1: is empty: expected a condition such as `language = \"sw\" and not correct`"),
    ('language = "sw" and', "Rule 'r', position 20: expected a field or a value, found the end of the condition"),
    ("(rm > 1", "Rule 'r', position 8: expected ')', found the end of the condition"),
    ('language = "sw', "Rule 'r', position 12: a string opened here is never closed"),
    ("`odd name = 1", "Rule 'r', position 1: a name in backticks opened here is never closed"),
    ("rm ~ 1", "Rule 'r', position 4: unexpected character '~'"),
    ("rm > 1 rm", "Rule 'r', position 8: expected 'and', 'or' or the end of the condition, found 'rm'"),
    ("language in []", "Rule 'r', position 14: expected a field or a value, found ']'"),
    ('language in ["a" "b"]', "Rule 'r', position 18: expected ',' or ']', found the text \"b\""),
    ("language in [rm]", "Rule 'r', position 14: expected a value in the list, found 'rm'"),
    ("language is nul", "Rule 'r', position 13: expected 'null' (as in: field is null, field is not null), found 'nul'"),
    ("output contains 4", "Rule 'r', position 17: expected a text in quotes after 'contains', found '4'"),
    ("lenguage = 1", "Rule 'r', position 1: unknown field 'lenguage'; fields: example_id, task, input, output, "
                     "reference, score, correct, unscorable, status, language, turn_count, when, odd name, rm, a, "
                     "input_length, output_length, reference_length, length_ratio, turn, is_refusal, output_empty"),
    ("rm", "Rule 'r', position 1: 'rm' is a numeric field, not a condition: compare it with a value (e.g. rm = ...)"),
    ('"sw"', "Rule 'r', position 1: a value alone is not a condition: compare a field with it"),
    ("1 = 2", "Rule 'r', position 3: compares two values: one side must be a field"),
    ('rm = "x"', "Rule 'r', position 6: compares the numeric field 'rm' with 'x', which is a text"),
    ("language = 3", "Rule 'r', position 12: compares the text field 'language' with 3, which is a number"),
    ("a = 1", "Rule 'r', position 5: compares the boolean field 'a' with 1, which is a number"),
    ("rm = language", "Rule 'r', position 6: compares the numeric field 'rm' with 'language', which is a text field"),
    ('language > "a"', "Rule 'r', position 10: the text field 'language' cannot be compared with '>'; use = or !="),
    ('rm contains "x"', "Rule 'r', position 1: 'contains' needs a text field, but 'rm' is a numeric field"),
    ('when > "yesterday"', "Rule 'r', position 8: 'yesterday' is not a date or time (expected e.g. \"2024-05-01\" "
                           "or \"2024-05-01 13:45\")"),
    ("3 is null", "Rule 'r', position 1: expected a field before this test, found 3"),
    ("(" * 60 + "rm > 1" + ")" * 60, "Rule 'r', position 51: is nested too deeply (more than 50 levels)"),
]


@pytest.mark.parametrize("condition,message", ERRORS, ids=[e[0][:30] or "empty" for e in ERRORS])
def test_errors_name_the_rule_and_the_position(condition, message):
    with pytest.raises(PredicateError) as info:
        compile_predicate(condition, FIELDS, rule="r")
    assert str(info.value) == message
    assert info.value.rule == "r" and info.value.position >= 1


def test_run_fields_come_from_the_store(store):
    frame = pd.DataFrame({"prompt": ["a", "b"], "correct": [True, False], "lang": ["en", "sw"],
                          "rm_score": [0.5, 1.5]})
    store.ingest_frame(frame, name="r")
    fields = P.run_fields(store, "r")
    assert fields["lang"].column == "meta.lang" and fields["rm_score"].kind == "number"
    sql, params = compile_predicate('lang = "sw" and rm_score > 1', fields)
    table = store.run("r").table_name
    found = store.cursor().execute(f'SELECT example_id FROM "{table}" WHERE {sql}', params).fetchall()
    assert found == [("2",)]
    assert np.isclose(store.cursor().execute(f'SELECT max("signal.rm_score") FROM "{table}"').fetchall()[0][0], 1.5)


@pytest.mark.parametrize("condition", ['not correct and output contains "according"',
                                       'output contains "4" and language = "sw" and not (a and rm > 2)',
                                       'language != "en" and (output contains "sorry" or output not contains "x")'])
def test_a_text_search_is_evaluated_only_where_the_cheap_parts_hold(table, condition):
    """The costly part of a conjunction (a text search) is the THEN of a CASE on the cheap parts, and the rows
    selected are those of the plain conjunction (three-valued AND, missing as false)."""
    con, _ = table
    sql, params = compile_predicate(condition, FIELDS, rule="test")
    assert sql.startswith("CASE WHEN coalesce((") and "strpos" not in sql.split(" THEN ")[0]
    from analysis.sql.predicates import _Compiler

    node = parse(condition, rule="test")
    plain, plain_params = _Compiler(FIELDS, "test").compile(node)
    got = con.execute(f"SELECT example_id FROM t WHERE {sql} ORDER BY example_id", params).fetchall()
    want = con.execute(f"SELECT example_id FROM t WHERE coalesce(({plain}), false) ORDER BY example_id",
                       plain_params).fetchall()
    assert got == want
