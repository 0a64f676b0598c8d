"""Just enough JQL for the fake Jira: AND/OR/NOT, parentheses, =, !=, <, <=, >, >=, IN, NOT IN
on project, key, issuetype/type, status, labels, fixVersion, updated and created, and ORDER BY.

Errors read like Jira's own, since the connector shows Jira's message to the user.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>!=|>=|<=|=|>|<|~)'
    r"|(?P<punct>[(),])|(?P<word>[^\s()=!<>~,\"']+))"
)

FIELDS = {
    "project",
    "key",
    "issuekey",
    "issuetype",
    "type",
    "status",
    "labels",
    "fixversion",
    "updated",
    "created",
}


RESERVED = {"and", "or", "not", "in", "is", "order", "by", "empty", "null", "was", "changed"}


class JQLError(Exception):
    """Raised with Jira's wording; the server answers 400 with it."""


@dataclass
class Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise JQLError(
                f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL "
                f"character. (line 1, character {pos + 1})"
            )
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "str":
            value = value[1:-1]
        tokens.append(Token(kind, value, match.start(kind)))
        pos = match.end()
    return tokens


Predicate = Callable[[Any], bool]


class Parser:
    def __init__(self, text: str, resolve: Callable[[str, str, list[str]], Predicate]):
        self.tokens = tokenize(text)
        self.i = 0
        self.resolve = resolve
        self.order_by: list[tuple[str, bool]] = []

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, *choices: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "word" and tok.text.lower() in choices

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise JQLError("Error in the JQL Query: Expecting a field name but reached the end.")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        if not self.tokens or self.word("order"):
            pred: Predicate = lambda issue: True  # noqa: E731
        else:
            pred = self.expr()
        if self.word("order"):
            self.take()
            if not self.word("by"):
                raise JQLError("Error in the JQL Query: Expecting 'by' after 'order'.")
            self.take()
            while True:
                field = self.take().text.lower()
                if field not in FIELDS:
                    raise JQLError(f"Not able to sort using field '{field}'.")
                asc = True
                if self.word("asc", "desc"):
                    asc = self.take().text.lower() == "asc"
                self.order_by.append((field, asc))
                if self.peek() is not None and self.peek().text == ",":
                    self.take()
                    continue
                break
        tok = self.peek()
        if tok is not None:
            raise JQLError(
                f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{tok.text}'. "
                f"(line 1, character {tok.pos + 1})"
            )
        return pred

    def expr(self) -> Predicate:
        left = self.conj()
        while self.word("or"):
            self.take()
            right = self.conj()
            left = (lambda a, b: lambda x: a(x) or b(x))(left, right)
        return left

    def conj(self) -> Predicate:
        left = self.unary()
        while self.word("and"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda x: a(x) and b(x))(left, right)
        return left

    def unary(self) -> Predicate:
        if self.word("not"):
            self.take()
            inner = self.unary()
            return lambda x: not inner(x)
        tok = self.peek()
        if tok is not None and tok.text == "(" and tok.kind == "punct":
            self.take()
            inner = self.expr()
            close = self.take()
            if close.text != ")":
                raise JQLError(f"Error in the JQL Query: Expecting ')' but got '{close.text}'.")
            return inner
        return self.clause()

    def clause(self) -> Predicate:
        field_tok = self.take()
        field = field_tok.text.lower()
        if field_tok.kind == "word" and field in RESERVED:
            raise JQLError(
                f"Error in the JQL Query: '{field_tok.text}' is a reserved JQL word. You must "
                "surround it in quotation marks to use it in a query. "
                f"(line 1, character {field_tok.pos + 1})"
            )
        if field_tok.kind != "word" or field not in FIELDS:
            raise JQLError(
                f"Field '{field_tok.text}' does not exist or you do not have permission to view it."
            )
        if self.word("not") and (self.peek(1) and self.peek(1).text.lower() == "in"):
            self.take()
            self.take()
            op = "not in"
        elif self.word("in"):
            self.take()
            op = "in"
        else:
            op_tok = self.take()
            if op_tok.kind != "op":
                raise JQLError(
                    f"Error in the JQL Query: Expecting operator but got '{op_tok.text}'. "
                    f"(line 1, character {op_tok.pos + 1})"
                )
            op = op_tok.text
        if op in ("in", "not in"):
            if self.take().text != "(":
                raise JQLError("Error in the JQL Query: Expecting '(' after IN.")
            values = []
            while True:
                values.append(self.take().text)
                nxt = self.take()
                if nxt.text == ")":
                    break
                if nxt.text != ",":
                    raise JQLError(f"Error in the JQL Query: Expecting ',' but got '{nxt.text}'.")
        else:
            value = self.take()
            if value.kind not in ("word", "str"):
                raise JQLError(
                    f"Error in the JQL Query: Expecting a value but got '{value.text}'. "
                    f"(line 1, character {value.pos + 1})"
                )
            values = [value.text]
        return self.resolve(field, op, values)


def parse_date(text: str, zone: ZoneInfo) -> pd.Timestamp:
    """JQL dates: "yyyy/MM/dd HH:mm", "yyyy-MM-dd HH:mm", "yyyy/MM/dd" in the user's zone."""
    for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            stamp = pd.Timestamp(pd.to_datetime(text, format=fmt))
        except ValueError:
            continue
        return stamp.tz_localize(zone)
    raise JQLError(
        f"Date value '{text}' for field 'updated' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
        "e.g. '-5d', '4w 2d'."
    )
