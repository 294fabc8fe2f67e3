"""``blank_expr`` (an output missing or only white space) trims a text whole only when its first character trims
to nothing; its truth value is the direct ``text IS NULL OR trim(text) = ''`` for every text, hostile ones included
(white space of every kind, combining marks, right-to-left and CJK text, emoji, NUL-free control characters)."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot

from analysis.sql import features as F

TEXTS = [None, "", " ", "   ", "\t", "\n", " \t\n ", "\u00a0", "\u3000", "\u2003 ", " \u0301", "\u0301 ", " a",
         "a ", " a ", "a", "abc", "\u200b", "\ufeff", " \u05e9\u05dc\u05d5\u05dd ", "  \u4f60\u597d", "\U0001f600",
         " \U0001f600 ", "\r\n", "\x0b", "\x0c", "x" * 5000, " " * 5000, " " * 4999 + "x", "\u00a0" * 3 + " "]


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    con.execute('CREATE TABLE t (i INTEGER, "output" VARCHAR, "status" VARCHAR)')
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, x, None) for i, x in enumerate(TEXTS)]
                    + [(len(TEXTS), "placeholder", "no_answer")])
    yield con
    con.close()


def test_blank_expr_is_the_direct_trim_for_every_text(con):
    got = con.execute(f'SELECT i, {F.blank_expr("output")}, "output" IS NULL OR trim("output") = \'\' '
                      "FROM t ORDER BY i").fetchall()
    assert len(got) == len(TEXTS) + 1
    assert [r[1] for r in got] == [r[2] for r in got]
    assert sum(bool(r[1]) for r in got) >= 5  # blanks are found, not only non-blanks


def test_output_empty_counts_blank_outputs_and_no_answers(con):
    got = dict(con.execute(f"SELECT i, {F.feature_sql('output_empty')[0]} FROM t").fetchall())
    direct = dict(con.execute("SELECT i, (\"output\" IS NULL OR trim(\"output\") = '') OR "
                              "coalesce(\"status\" = 'no_answer', false) FROM t").fetchall())
    assert got == direct and got[len(TEXTS)] is True


def test_blank_expr_transpiles_to_spark():
    out = sqlglot.transpile(f'SELECT {F.blank_expr("output")} FROM t', read="duckdb", write="spark")[0]
    assert "LEFT(" in out.upper() and "TRIM(" in out.upper()
