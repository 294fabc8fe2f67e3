"""The DuckDB reader of lighteval details files (:mod:`analysis.formats.lighteval`).

The adapter decides, from the file's schema, which struct field gives which column; this
module writes the one ``SELECT`` over ``read_parquet`` that extracts them (a FROM clause with
the file bound as ``?``, like the plain readers of :mod:`analysis.formats.flat`). Struct fields
are lighteval's own names, quoted all the same; nothing of the user's text is in the statement.
Like the other readers it is DuckDB's own SQL (a list lambda for a list of gold indices): it
reads the log file, never the store's example rows, which stay in the portable subset.
"""

from __future__ import annotations

from analysis.sql import quote_ident


def field(struct: str, name: str) -> str:
    """A struct field: ``"doc"."query"``."""
    return f"{quote_ident(struct)}.{quote_ident(name)}"


def first_text(struct: str, name: str) -> str:
    """The first element of a text list, empty text read as missing."""
    return f"nullif({field(struct, name)}[1], '')"


def most_likely_choice(doc: str, choices: str, response: str, logprobs: str) -> str:
    """The choice with the highest log-probability (a log-likelihood task's answer)."""
    lp = field(response, logprobs)
    return f"{field(doc, choices)}[list_position({lp}, list_max({lp}))]"


def choice_at(doc: str, choices: str, index: str, *, several: bool) -> str:
    """The choice (or choices, joined with `` | ``) at a 0-based gold index (or list of them)."""
    if several:
        return (f"array_to_string(list_transform({field(doc, index)}, "
                f"i -> {field(doc, choices)}[i + 1]), ' | ')")
    return f"{field(doc, choices)}[{field(doc, index)} + 1]"


def joined(struct: str, name: str) -> str:
    """A text list as one text, `` | `` between the elements."""
    return f"array_to_string({field(struct, name)}, ' | ')"


def as_double(expr: str) -> str:
    return f"CAST({expr} AS DOUBLE)"


def row_number_text() -> str:
    """The row's 0-based number in the file, as text (an id when the file's own are not unique)."""
    return "CAST(file_row_number AS VARCHAR)"


def details_source(items: list[tuple[str, str]]) -> str:
    """The FROM clause reading a details file: ``items`` are (expression, column name), the file is ``?``."""
    select = ", ".join(f"{expr} AS {quote_ident(name)}" for expr, name in items)
    return f"(SELECT {select}, file_row_number FROM read_parquet(?, file_row_number=true))"
