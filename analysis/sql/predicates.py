"""A small, safe predicate language over an example's fields, compiled to SQL with bound values.

Rules in an objective spec and researchers' filters say which examples they mean with a
condition such as::

    not correct and output_length > 400 and channel in ["web", "mobile"]

The text is read by a tokenizer and a recursive-descent parser written here (never ``eval``,
never raw SQL) into a tree of :class:`Node` objects, checked against the fields of a run
(names and types), and compiled to a DuckDB expression in which every identifier goes through
:func:`analysis.sql.quote_ident` and every value is a bound ``?`` parameter.

Grammar (keywords are case-insensitive)::

    predicate  := or
    or         := and ("or" and)*
    and        := unary ("and" unary)*
    unary      := "not" unary | "(" predicate ")" | condition
    condition  := operand
                | operand ("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") operand
                | operand ["not"] "in" list
                | operand "is" ["not"] "null"
                | operand ["not"] "contains" string
    list       := "[" literal ("," literal)* "]"        (or the same with parentheses)
    operand    := field | literal
    literal    := number | string | true | false
    field      := name (letters, digits, "_" and "."), or a name in backticks

Fields are the run's stored columns by their full name (``meta.language``,
``signal.rm_helpfulness``, ``correct``, ``output``) or their short name (``language``,
``rm_helpfulness``), and derived features: ``input_length``, ``output_length``,
``reference_length`` (characters), ``length_ratio`` (output length / reference length),
``turn``, ``is_refusal`` (refusal phrasing) and ``output_empty``. A field alone is a
condition only when it is boolean (``not correct``). ``contains`` is a case-insensitive
substring test on text. Missing values never match: a condition on a missing value is false,
also under ``not``.

Errors name the rule and the position (1-based character) and say what was expected:

>>> parse('language = "sw" and', rule="r1")
Traceback (most recent call last):
...
analysis.sql.predicates.PredicateError: Rule 'r1', position 20: expected a field or a value, found the end of the condition
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from analysis.errors import FaultlineError
from analysis.sql import features as F
from analysis.sql import quote_ident

Kind = Literal["number", "text", "boolean", "timestamp"]

MSG_EMPTY = "is empty: expected a condition such as `language = \"sw\" and not correct`"
MSG_EXPECTED = "expected {expected}, found {found}"
MSG_UNCLOSED_STRING = "a string opened here is never closed"
MSG_NUMBER_RANGE = "the number {literal} is out of range; expected a finite number of at most 18 digits"
MSG_UNCLOSED_NAME = "a name in backticks opened here is never closed"
MSG_BAD_CHARACTER = "unexpected character {char!r}"
MSG_UNKNOWN_FIELD = "unknown field {name!r}; fields: {known}"
MSG_NOT_BOOLEAN = "{name!r} is a {kind} field, not a condition: compare it with a value (e.g. {name} = ...)"
MSG_LITERAL_ALONE = "a value alone is not a condition: compare a field with it"
MSG_TWO_VALUES = "compares two values: one side must be a field"
MSG_MISMATCH = "compares the {left_kind} field {left!r} with {right}, which is {right_kind}"
MSG_ORDER = "the {kind} field {name!r} cannot be compared with {op!r}; use = or !="
MSG_CONTAINS = "'contains' needs a text field, but {name!r} is a {kind} field"
MSG_BAD_TIMESTAMP = "{value!r} is not a date or time (expected e.g. \"2024-05-01\" or \"2024-05-01 13:45\")"
MSG_TOO_DEEP = "is nested too deeply (more than {limit} levels)"

#: Deepest nesting of parentheses and ``not`` accepted (a guard against pathological input).
MAX_DEPTH = 50
#: Derived features a condition can name, with their type and meaning (defined in
#: :mod:`analysis.sql.features`, shared with the slicing attributes).
DERIVED_FIELDS: dict[str, tuple[Kind, str]] = {name: (f.kind, f.description[0].lower() + f.description[1:])
                                               for name, f in F.FEATURES.items()}
_FIXED_FIELDS: dict[str, Kind] = {
    "example_id": "text", "task": "text", "input": "text", "output": "text", "reference": "text",
    "score": "number", "correct": "boolean", "unscorable": "boolean", "status": "text",
}
_KIND_OF_STORED = {"numeric": "number", "boolean": "boolean", "timestamp": "timestamp", "text": "text",
                   "categorical": "text"}
_SHORT_NAME_ROLES = ("metadata", "signal", "rater", "scores")


class PredicateError(FaultlineError):
    """A condition that cannot be read or does not fit the run's fields, with where and why.

    ``rule`` names the rule (or filter), ``position`` is the 1-based character where the
    problem starts, ``detail`` is the message without the location.
    """

    def __init__(self, rule: str, position: int, detail: str):
        self.rule = rule
        self.position = position
        self.detail = detail
        super().__init__(f"Rule {rule!r}, position {position}: {detail}")


# ------------------------------------------------------------------------------------------ tree
@dataclass(frozen=True)
class Node:
    """A node of a parsed condition; ``pos`` is its 1-based character position in the text."""

    pos: int


@dataclass(frozen=True)
class FieldRef(Node):
    """A field named in the condition (resolved against the run when compiled)."""

    name: str


@dataclass(frozen=True)
class Value(Node):
    """A literal: a number, a string or true/false."""

    value: object
    kind: Kind


@dataclass(frozen=True)
class Compare(Node):
    op: str
    """One of ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``."""
    left: FieldRef | Value
    right: FieldRef | Value


@dataclass(frozen=True)
class InList(Node):
    operand: FieldRef | Value
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class IsNull(Node):
    operand: FieldRef | Value
    negated: bool


@dataclass(frozen=True)
class Contains(Node):
    operand: FieldRef | Value
    text: Value
    negated: bool


@dataclass(frozen=True)
class Truth(Node):
    """A bare operand used as a condition (must be a boolean field)."""

    operand: FieldRef | Value


@dataclass(frozen=True)
class Not(Node):
    item: Node


@dataclass(frozen=True)
class BoolOp(Node):
    op: Literal["and", "or"]
    items: tuple[Node, ...]


# ------------------------------------------------------------------------------------- tokenizer
@dataclass(frozen=True)
class _Token:
    type: str  # name, number, string, op, punct, keyword, end
    text: str
    value: object
    pos: int


_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false", "contains"}
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_OPS = ("==", "!=", "<>", "<=", ">=", "=", "<", ">")


def _tokens(text: str, rule: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        pos = i + 1
        if ch in "\"'":
            j, buf = i + 1, []
            while j < n and text[j] != ch:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise PredicateError(rule, pos, MSG_UNCLOSED_STRING)
            out.append(_Token("string", text[i:j + 1], "".join(buf), pos))
            i = j + 1
            continue
        if ch == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise PredicateError(rule, pos, MSG_UNCLOSED_NAME)
            out.append(_Token("name", text[i:j + 1], text[i + 1:j], pos))
            i = j + 1
            continue
        m = _NUMBER.match(text, i)
        if m and (ch != "-" or not out or out[-1].type in ("op", "punct", "keyword")):
            literal = m.group(0)
            shown = literal if len(literal) <= 24 else f"{literal[:20]}... ({len(literal)} characters)"
            if any(c in literal for c in ".eE"):
                value = float(literal)
                if not math.isfinite(value):
                    raise PredicateError(rule, pos, MSG_NUMBER_RANGE.format(literal=shown))
            else:
                if len(literal.lstrip("-").lstrip("0")) > 18:  # beyond a 64-bit integer: DuckDB's BIGINT
                    raise PredicateError(rule, pos, MSG_NUMBER_RANGE.format(literal=shown))
                value = int(literal)
            out.append(_Token("number", literal, value, pos))
            i = m.end()
            continue
        m = _NAME.match(text, i)
        if m:
            word = m.group(0)
            if word.lower() in _KEYWORDS:
                out.append(_Token("keyword", word, word.lower(), pos))
            else:
                out.append(_Token("name", word, word, pos))
            i = m.end()
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op:
            out.append(_Token("op", op, {"==": "=", "<>": "!="}.get(op, op), pos))
            i += len(op)
            continue
        if ch in "()[],":
            out.append(_Token("punct", ch, ch, pos))
            i += 1
            continue
        raise PredicateError(rule, pos, MSG_BAD_CHARACTER.format(char=ch))
    out.append(_Token("end", "", None, n + 1))
    return out


def _describe(token: _Token) -> str:
    if token.type == "end":
        return "the end of the condition"
    if token.type == "string":
        return f"the text {token.text}"
    return repr(token.text)


# ---------------------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, text: str, rule: str):
        self.rule = rule
        self.tokens = _tokens(text, rule)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, expected: str, token: _Token | None = None) -> PredicateError:
        token = token or self.peek()
        return PredicateError(self.rule, token.pos, MSG_EXPECTED.format(expected=expected, found=_describe(token)))

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.type == "keyword" and token.value == word:
            self.i += 1
            return True
        return False

    def parse(self) -> Node:
        node = self.or_()
        if self.peek().type != "end":
            raise self.error("'and', 'or' or the end of the condition")
        return node

    def or_(self) -> Node:
        first = self.peek()
        items = [self.and_()]
        while self.keyword("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else BoolOp(first.pos, "or", tuple(items))

    def and_(self) -> Node:
        first = self.peek()
        items = [self.unary()]
        while self.keyword("and"):
            items.append(self.unary())
        return items[0] if len(items) == 1 else BoolOp(first.pos, "and", tuple(items))

    def unary(self) -> Node:
        token = self.peek()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise PredicateError(self.rule, token.pos, MSG_TOO_DEEP.format(limit=MAX_DEPTH))
        try:
            if self.keyword("not"):
                return Not(token.pos, self.unary())
            if token.type == "punct" and token.value == "(":
                self.take()
                node = self.or_()
                closing = self.peek()
                if not (closing.type == "punct" and closing.value == ")"):
                    raise self.error("')'")
                self.take()
                return node
            return self.condition()
        finally:
            self.depth -= 1

    def operand(self) -> FieldRef | Value:
        token = self.take()
        if token.type == "name":
            return FieldRef(token.pos, token.value)
        if token.type == "number":
            return Value(token.pos, token.value, "number")
        if token.type == "string":
            return Value(token.pos, token.value, "text")
        if token.type == "keyword" and token.value in ("true", "false"):
            return Value(token.pos, token.value == "true", "boolean")
        raise self.error("a field or a value", token)

    def literal_list(self) -> tuple[Value, ...]:
        opening = self.take()
        if not (opening.type == "punct" and opening.value in "(["):
            raise self.error("a list such as [\"a\", \"b\"]", opening)
        closing = "]" if opening.value == "[" else ")"
        values: list[Value] = []
        while True:
            token = self.peek()
            if token.type == "punct" and token.value == closing and values:
                self.take()
                return tuple(values)
            item = self.operand()
            if isinstance(item, FieldRef):
                raise PredicateError(self.rule, item.pos, MSG_EXPECTED.format(
                    expected="a value in the list", found=repr(item.name)))
            values.append(item)
            sep = self.peek()
            if sep.type == "punct" and sep.value == ",":
                self.take()
                continue
            if sep.type == "punct" and sep.value == closing:
                continue
            raise self.error(f"',' or '{closing}'")

    def condition(self) -> Node:
        left = self.operand()
        token = self.peek()
        if token.type == "op":
            self.take()
            return Compare(token.pos, token.value, left, self.operand())
        negated = False
        if token.type == "keyword" and token.value == "not":
            after = self.tokens[self.i + 1]
            if after.type == "keyword" and after.value in ("in", "contains"):
                self.take()
                negated = True
                token = self.peek()
        if token.type == "keyword" and token.value == "in":
            self.take()
            return InList(token.pos, left, self.literal_list(), negated)
        if token.type == "keyword" and token.value == "contains":
            self.take()
            text = self.take()
            if text.type != "string":
                raise self.error("a text in quotes after 'contains'", text)
            return Contains(token.pos, left, Value(text.pos, text.value, "text"), negated)
        if token.type == "keyword" and token.value == "is":
            self.take()
            is_not = self.keyword("not")
            if not self.keyword("null"):
                raise self.error("'null' (as in: field is null, field is not null)")
            return IsNull(token.pos, left, is_not)
        return Truth(left.pos, left)


def parse(text: str, *, rule: str = "condition") -> Node:
    """Parse a condition into a tree (no field is checked yet).

    >>> parse('not correct and turn >= 3', rule="late turns")
    BoolOp(pos=1, op='and', items=(Not(pos=1, item=Truth(pos=5, operand=FieldRef(pos=5, name='correct'))), \
Compare(pos=22, op='>=', left=FieldRef(pos=17, name='turn'), right=Value(pos=25, value=3, kind='number'))))
    """
    if not isinstance(text, str) or not text.strip():
        raise PredicateError(rule, 1, MSG_EMPTY)
    return _Parser(text, rule).parse()


def field_names(node: Node) -> list[str]:
    """The field names a parsed condition uses, in order of appearance.

    >>> field_names(parse('language = "sw" or (turn > 2 and not correct)'))
    ['language', 'turn', 'correct']
    """
    out: list[str] = []

    def walk(n):
        if isinstance(n, FieldRef):
            if n.name not in out:
                out.append(n.name)
        elif isinstance(n, Compare):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, (InList, IsNull, Contains, Truth)):
            walk(n.operand)
        elif isinstance(n, Not):
            walk(n.item)
        elif isinstance(n, BoolOp):
            for item in n.items:
                walk(item)

    walk(node)
    return out


# -------------------------------------------------------------------------------------- fields
@dataclass(frozen=True)
class Field:
    """A field a condition can name: how to compute it per example, and its type."""

    name: str
    sql: str
    """SQL expression over the run's table (identifiers quoted)."""
    params: tuple = ()
    """Values bound to the expression's ``?`` placeholders."""
    kind: Kind = "text"
    column: str | None = None
    """The stored column, or None for a derived feature."""


def derived_field(name: str) -> Field:
    """The SQL of a derived feature (see :data:`DERIVED_FIELDS`).

    >>> derived_field("length_ratio").sql
    'CAST(length("output") AS DOUBLE) / nullif(length("reference"), 0)'
    """
    sql, params = F.feature_sql(name)
    return Field(name, sql, tuple(params), DERIVED_FIELDS[name][0])


def fields_from_table(stored: list[tuple[str, str, str]]) -> dict[str, Field]:
    """Fields by name from a run's stored columns ``(column_name, role, kind)``.

    Full names always work; short names (``language`` for ``meta.language``) go to the first
    of metadata, signals, raters and scores that has them; derived features come last (a
    logged field of the same name wins).

    >>> sorted(fields_from_table([("meta.lang", "metadata", "categorical")]))[:4]
    ['correct', 'example_id', 'input', 'input_length']
    """
    out: dict[str, Field] = {name: Field(name, quote_ident(name), (), kind, name) for name, kind in _FIXED_FIELDS.items()}
    for column, _role, kind in stored:
        if column in _FIXED_FIELDS or kind not in _KIND_OF_STORED:
            continue
        out[column] = Field(column, quote_ident(column), (), _KIND_OF_STORED[kind], column)
    for role in _SHORT_NAME_ROLES:
        for column, r, kind in stored:
            if r != role or kind not in _KIND_OF_STORED or "." not in column:
                continue
            short = column.split(".", 1)[1]
            if short not in out:
                out[short] = Field(short, quote_ident(column), (), _KIND_OF_STORED[kind], column)
    for name in DERIVED_FIELDS:
        if name not in out:
            out[name] = derived_field(name)
    return out


def run_fields(store, run: str) -> dict[str, Field]:
    """Every field a condition can name in a run (see :func:`fields_from_table`)."""
    frame = store.fields(run)
    return fields_from_table(list(zip(frame["column_name"], frame["role"], frame["kind"])))


# ------------------------------------------------------------------------------------- compiler
def _known(fields: Mapping[str, Field]) -> str:
    """Field names for an error message: short names, and full names that have no short one."""
    short_of = {f.column for n, f in fields.items() if f.column is not None and f.column != n}
    names = [n for n, f in fields.items() if "." not in n or n not in short_of]
    return ", ".join(names[:40]) + (", ..." if len(names) > 40 else "")


class _Compiler:
    def __init__(self, fields: Mapping[str, Field], rule: str):
        self.fields = fields
        self.rule = rule

    def fail(self, node: Node, detail: str) -> PredicateError:
        return PredicateError(self.rule, node.pos, detail)

    def field(self, ref: FieldRef) -> Field:
        found = self.fields.get(ref.name)
        if found is None:
            raise self.fail(ref, MSG_UNKNOWN_FIELD.format(name=ref.name, known=_known(self.fields)))
        return found

    def value_sql(self, field: Field, value: Value) -> tuple[str, list]:
        if field.kind == "timestamp":
            try:
                datetime.fromisoformat(str(value.value))
            except ValueError as err:
                raise self.fail(value, MSG_BAD_TIMESTAMP.format(value=value.value)) from err
            return "CAST(? AS TIMESTAMP)", [str(value.value)]
        return "?", [value.value]

    def check_kinds(self, node: Node, field: Field, value: Value) -> None:
        fits = (field.kind == value.kind or (field.kind == "timestamp" and value.kind == "text"))
        if not fits:
            shown = repr(value.value) if value.kind != "boolean" else str(value.value).lower()
            raise self.fail(value, MSG_MISMATCH.format(left_kind=_kind_word(field.kind), left=field.name, right=shown,
                                                       right_kind=_VALUE_WORDS[value.kind]))

    def compile(self, node: Node) -> tuple[str, list]:
        if isinstance(node, BoolOp):
            parts, params = [], []
            for item in node.items:
                sql, p = self.compile(item)
                parts.append(f"({sql})")
                params += p
            return f" {node.op.upper()} ".join(parts), params
        if isinstance(node, Not):
            sql, params = self.compile(node.item)
            return f"NOT ({sql})", params
        if isinstance(node, Truth):
            if isinstance(node.operand, Value):
                raise self.fail(node, MSG_LITERAL_ALONE)
            field = self.field(node.operand)
            if field.kind != "boolean":
                raise self.fail(node, MSG_NOT_BOOLEAN.format(name=node.operand.name, kind=_kind_word(field.kind)))
            return f"({field.sql})", list(field.params)
        if isinstance(node, IsNull):
            field, _ = self.side(node.operand, node)
            return f"({field.sql}) IS {'NOT ' if node.negated else ''}NULL", list(field.params)
        if isinstance(node, Contains):
            field, _ = self.side(node.operand, node)
            if field.kind != "text":
                raise self.fail(node.operand, MSG_CONTAINS.format(name=field.name, kind=_kind_word(field.kind)))
            test = f"(strpos(lower(CAST(({field.sql}) AS VARCHAR)), ?) > 0)"
            return ("NOT " if node.negated else "") + test, list(field.params) + [str(node.text.value).lower()]
        if isinstance(node, InList):
            field, _ = self.side(node.operand, node)
            parts, params = [], list(field.params)
            for value in node.values:
                self.check_kinds(node, field, value)
                sql, p = self.value_sql(field, value)
                parts.append(sql)
                params += p
            return f"({field.sql}) {'NOT ' if node.negated else ''}IN ({', '.join(parts)})", params
        if isinstance(node, Compare):
            return self.compare(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover - the parser makes only the nodes above

    def side(self, operand: FieldRef | Value, node: Node) -> tuple[Field, bool]:
        if isinstance(operand, Value):
            raise self.fail(operand, MSG_EXPECTED.format(expected="a field before this test",
                                                         found=repr(operand.value)))
        return self.field(operand), True

    def compare(self, node: Compare) -> tuple[str, list]:
        left, right = node.left, node.right
        if isinstance(left, Value) and isinstance(right, Value):
            raise self.fail(node, MSG_TWO_VALUES)
        if isinstance(left, Value):  # 3 < turn -> turn > 3
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(node.op, node.op)
            return self.compare(Compare(node.pos, flipped, right, left))
        field = self.field(left)
        if node.op not in ("=", "!=") and field.kind not in ("number", "timestamp"):
            raise self.fail(node, MSG_ORDER.format(kind=_kind_word(field.kind), name=field.name, op=node.op))
        if isinstance(right, FieldRef):
            other = self.field(right)
            if other.kind != field.kind:
                raise self.fail(right, MSG_MISMATCH.format(left_kind=_kind_word(field.kind), left=field.name,
                                                           right=repr(other.name),
                                                           right_kind=f"a {_kind_word(other.kind)} field"))
            return f"({field.sql}) {node.op} ({other.sql})", list(field.params) + list(other.params)
        self.check_kinds(node, field, right)
        sql, params = self.value_sql(field, right)
        return f"({field.sql}) {node.op} {sql}", list(field.params) + params


_VALUE_WORDS = {"number": "a number", "text": "a text", "boolean": "true or false", "timestamp": "a date"}


def _kind_word(kind: str) -> str:
    return {"number": "numeric", "text": "text", "boolean": "boolean", "timestamp": "timestamp"}.get(kind, kind)


def compile_predicate(condition: str | Node, fields: Mapping[str, Field], *, rule: str = "condition") -> tuple[str, list]:
    """Compile a condition to ``(sql, params)`` over a run's table: a boolean that is never NULL.

    >>> fields = fields_from_table([("meta.language", "metadata", "categorical"),
    ...                             ("signal.rm", "signal", "numeric")])
    >>> compile_predicate('language in ["sw", "yo"] and rm > 0.5', fields)
    ('coalesce(((("meta.language") IN (?, ?)) AND (("signal.rm") > ?)), false)', ['sw', 'yo', 0.5])
    >>> compile_predicate('lenguage = "sw"', fields, rule="typo")
    Traceback (most recent call last):
    ...
    analysis.sql.predicates.PredicateError: Rule 'typo', position 1: unknown field 'lenguage'; fields: ...
    """
    node = parse(condition, rule=rule) if isinstance(condition, str) else condition
    compiler = _Compiler(fields, rule)
    sql, params = compiler.compile(node)  # every error, in the condition's order
    if isinstance(node, BoolOp) and node.op == "and":
        # a conjunction whose costly parts (text searches over an output...) follow cheap ones: the costly parts
        # evaluated only where the cheap ones hold (the engine evaluates both sides of an AND on every row), the same
        # truth value for every row (both forms are false wherever either is)
        cheap = tuple(item for item in node.items if not _searches_text(item))
        costly = tuple(item for item in node.items if _searches_text(item))
        if cheap and costly:
            guard, guard_params = compiler.compile(BoolOp(node.pos, "and", cheap))
            then, then_params = compiler.compile(BoolOp(node.pos, "and", costly))
            return (f"CASE WHEN coalesce(({guard}), false) THEN coalesce(({then}), false) ELSE false END",
                    guard_params + then_params)
    return f"coalesce(({sql}), false)", params


def _searches_text(node: Node) -> bool:
    """Whether ``node`` searches a text (a ``contains``) anywhere in it."""
    if isinstance(node, Contains):
        return True
    if isinstance(node, Not):
        return _searches_text(node.item)
    if isinstance(node, BoolOp):
        return any(_searches_text(item) for item in node.items)
    return False


__all__ = ["DERIVED_FIELDS", "Field", "Node", "PredicateError", "compile_predicate",
           "derived_field", "field_names", "fields_from_table", "parse", "run_fields"]
