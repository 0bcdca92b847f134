"""The tokenizer shared by all five expression languages.

Tokens keep their source span so a syntax error can quote the text around it the way DynamoDB
does (``Syntax error; token: "=", near: "a = = :v"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME, ALIAS, VALUE, INT, PUNCT, ERROR, EOF = "NAME", "ALIAS", "VALUE", "INT", "PUNCT", "ERROR", "EOF"

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<ALIAS>\#[A-Za-z0-9_]+)
      | (?P<VALUE>:[A-Za-z0-9_]+)
      | (?P<NAME>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<INT>[0-9]+)
      | (?P<PUNCT><>|<=|>=|[=<>()\[\],.+\-])
      | (?P<ERROR>\S)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int
    end: int

    def is_word(self, word: str) -> bool:
        """Keywords (AND, SET, BETWEEN ...) are case-insensitive bare names."""
        return self.kind == NAME and self.text.upper() == word


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    length = len(source)
    while True:
        match = _TOKEN.match(source, pos)
        if match is None or match.lastgroup is None:
            break
        kind = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind), match.end(kind)))
        pos = match.end()
        if pos >= length:
            break
    tokens.append(Token(EOF, "<EOF>", length, length))
    return tokens
