"""The PartiQL subset DynamoDB accepts, parsed into the same trees as the expression languages.

    SELECT * | path, ... FROM "table"[."index"] [WHERE cond] [ORDER BY key [ASC|DESC], ...]
    EXISTS(SELECT * FROM "table" WHERE key = value ...)          (ExecuteTransaction only)
    INSERT INTO "table" VALUE {'attr': value, ...}
    UPDATE "table" (SET path = value | REMOVE path)... WHERE cond [RETURNING ALL OLD|ALL NEW|MODIFIED OLD|MODIFIED NEW *]
    DELETE FROM "table" WHERE cond [RETURNING ALL OLD *]

Conditions use =, <>, !=, <, <=, >, >=, BETWEEN, IN [...], IS [NOT] MISSING, IS [NOT] NULL, AND, OR,
NOT and the functions begins_with, contains, attribute_type, exists/missing; values are literals
('text', numbers, TRUE/FALSE/NULL, <<set>>, [list], {map}) or ``?`` parameters. Update values may
use ``+``/``-``, list_append, set_add and set_delete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from awsemu.services.dynamodb.attribute_values import canonical_number, validate_value
from awsemu.services.dynamodb.errors import ValidationException
from awsemu.services.dynamodb.expressions.ast import (
    And,
    Arith,
    Between,
    Call,
    Compare,
    In,
    Not,
    Or,
    Path,
    UpdateActions,
    Value,
)

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<STR>'(?:[^']|'')*')
      | (?P<QID>"(?:[^"]|"")*")
      | (?P<NUM>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<ID>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<OP><<|>>|<>|!=|<=|>=|[=<>()\[\]{},.:+\-*?])
      | (?P<BAD>\S)
    )""",
    re.VERBOSE,
)


@dataclass
class Tok:
    kind: str
    text: str


@dataclass
class Statement:
    kind: str  # SELECT | INSERT | UPDATE | DELETE
    table: str
    index: str | None = None
    projection: list[Path] | None = None
    where: Any = None
    item: dict[str, Any] | None = None
    update: UpdateActions = field(default_factory=UpdateActions)
    returning: str | None = None
    order: list[tuple[str, bool]] = field(default_factory=list)  # (key attribute, descending)


def malformed(detail: str) -> ValidationException:
    return ValidationException(f"Statement wasn't well formed, can't be processed: {detail}")


def tokenize(text: str) -> list[Tok]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.lastgroup is None:
            break
        pos = m.end()
        if m.lastgroup == "BAD":
            raise malformed(f"Unexpected character: {m.group('BAD')}")
        tokens.append(Tok(m.lastgroup, m.group(m.lastgroup)))
    tokens.append(Tok("EOF", ""))
    return tokens


class _Parser:
    def __init__(self, text: str, parameters: list[dict[str, Any]] | None) -> None:
        self.toks = tokenize(text)
        self.pos = 0
        self.params = [validate_value(p) for p in parameters or []]
        self.used_params = 0

    @property
    def tok(self) -> Tok:
        return self.toks[self.pos]

    def word(self, *words: str) -> bool:
        return self.tok.kind == "ID" and self.tok.text.upper() in words

    def take_word(self, word: str) -> None:
        if not self.word(word):
            raise malformed(f"Expected {word}, found {self.tok.text or 'end of statement'}")
        self.pos += 1

    def accept(self, op: str) -> bool:
        if self.tok.kind == "OP" and self.tok.text == op:
            self.pos += 1
            return True
        return False

    def expect(self, op: str) -> None:
        if not self.accept(op):
            raise malformed(f"Expected {op}, found {self.tok.text or 'end of statement'}")

    def name(self) -> str:
        tok = self.tok
        if tok.kind == "QID":
            self.pos += 1
            return tok.text[1:-1].replace('""', '"')
        if tok.kind == "ID":
            self.pos += 1
            return tok.text
        raise malformed(f"Expected an identifier, found {tok.text or 'end of statement'}")

    def path(self) -> Path:
        elems: list[str | int] = [self.name()]
        while True:
            if self.accept("."):
                elems.append(self.name())
            elif self.accept("["):
                tok = self.tok
                self.pos += 1
                if tok.kind == "NUM" and tok.text.isdigit():
                    elems.append(int(tok.text))
                elif tok.kind == "STR":
                    elems.append(tok.text[1:-1].replace("''", "'"))
                else:
                    raise malformed("Invalid path index")
                self.expect("]")
            else:
                return Path(tuple(elems))

    # values --------------------------------------------------------------------------------------

    def literal(self) -> dict[str, Any]:
        tok = self.tok
        if tok.kind == "STR":
            self.pos += 1
            return {"S": tok.text[1:-1].replace("''", "'")}
        if tok.kind == "NUM":
            self.pos += 1
            return {"N": canonical_number(tok.text)}
        if self.accept("?"):
            if self.used_params >= len(self.params):
                raise ValidationException("Number of parameters in request and statement don't match.")
            self.used_params += 1
            return self.params[self.used_params - 1]
        if self.word("TRUE", "FALSE"):
            self.pos += 1
            return {"BOOL": tok.text.upper() == "TRUE"}
        if self.word("NULL"):
            self.pos += 1
            return {"NULL": True}
        if self.accept("<<"):
            members = [self.literal()]
            while self.accept(","):
                members.append(self.literal())
            self.expect(">>")
            kinds = {next(iter(m)) for m in members}
            if len(kinds) != 1 or next(iter(kinds)) not in ("S", "N", "B"):
                raise malformed("Set members must all be strings, numbers or binaries")
            kind = next(iter(kinds))
            return validate_value({kind + "S": [m[kind] for m in members]})
        if self.accept("["):
            items = []
            if not self.accept("]"):
                items.append(self.literal())
                while self.accept(","):
                    items.append(self.literal())
                self.expect("]")
            return {"L": items}
        if self.accept("{"):
            entries: dict[str, Any] = {}
            if not self.accept("}"):
                while True:
                    key = self.tok
                    if key.kind != "STR":
                        raise malformed("Map keys must be string literals")
                    self.pos += 1
                    self.expect(":")
                    entries[key.text[1:-1].replace("''", "'")] = self.literal()
                    if not self.accept(","):
                        break
                self.expect("}")
            return {"M": entries}
        raise malformed(f"Unexpected token: {tok.text or 'end of statement'}")

    def operand(self) -> Any:
        tok = self.tok
        if tok.kind in ("ID", "QID") and not self.word("TRUE", "FALSE", "NULL"):
            nxt = self.toks[self.pos + 1]
            if tok.kind == "ID" and nxt.kind == "OP" and nxt.text == "(":
                return self.function()
            return self.path()
        return Value(self.literal())

    def function(self) -> Any:
        name = self.tok.text.lower()
        self.pos += 1
        self.expect("(")
        args = [self.operand()]
        while self.accept(","):
            args.append(self.operand())
        self.expect(")")
        if name in ("begins_with", "contains", "attribute_type") and len(args) == 2:
            return Call(name, tuple(args))
        if name == "size" and len(args) == 1:
            return Call("size", tuple(args))
        if name in ("exists", "missing") and len(args) == 1:
            return Call("attribute_exists" if name == "exists" else "attribute_not_exists", tuple(args))
        if name in ("list_append", "set_add", "set_delete") and len(args) == 2:
            return Call(name, tuple(args))
        raise malformed(f"Unsupported function: {name}")

    # conditions ----------------------------------------------------------------------------------

    def condition(self) -> Any:
        node = self.conjunction()
        while self.word("OR"):
            self.pos += 1
            node = Or(node, self.conjunction())
        return node

    def conjunction(self) -> Any:
        node = self.negation()
        while self.word("AND"):
            self.pos += 1
            node = And(node, self.negation())
        return node

    def negation(self) -> Any:
        if self.word("NOT"):
            self.pos += 1
            return Not(self.negation())
        if self.accept("("):
            node = self.condition()
            self.expect(")")
            return node
        left = self.operand()
        if isinstance(left, Call) and left.name != "size":
            return left
        tok = self.tok
        if tok.kind == "OP" and tok.text in ("=", "<>", "!=", "<", "<=", ">", ">="):
            self.pos += 1
            return Compare("<>" if tok.text == "!=" else tok.text, left, self.operand())
        if self.word("BETWEEN"):
            self.pos += 1
            low = self.operand()
            self.take_word("AND")
            return Between(left, low, self.operand())
        if self.word("IN"):
            self.pos += 1
            closer = "]" if self.accept("[") else None
            if closer is None:
                self.expect("(")
                closer = ")"
            options = [self.operand()]
            while self.accept(","):
                options.append(self.operand())
            self.expect(closer)
            return In(left, tuple(options))
        if self.word("IS"):
            self.pos += 1
            negate = False
            if self.word("NOT"):
                self.pos += 1
                negate = True
            if self.word("MISSING"):
                self.pos += 1
                node: Any = Call("attribute_not_exists", (left,))
            elif self.word("NULL"):
                self.pos += 1
                node = Call("attribute_type", (left, Value({"S": "NULL"})))
            else:
                raise malformed("Expected MISSING or NULL after IS")
            return Not(node) if negate else node
        raise malformed(f"Unexpected token: {tok.text or 'end of statement'}")

    # statements ----------------------------------------------------------------------------------

    def target(self, statement: Statement) -> None:
        statement.table = self.name()
        if self.accept("."):
            statement.index = self.name()

    def select(self, st: Statement) -> None:
        self.take_word("SELECT")
        st.kind = "SELECT"
        if not self.accept("*"):
            st.projection = [self.path()]
            while self.accept(","):
                st.projection.append(self.path())
        self.take_word("FROM")
        self.target(st)
        if self.word("WHERE"):
            self.pos += 1
            st.where = self.condition()
        if self.word("ORDER"):
            self.pos += 1
            self.take_word("BY")
            while True:
                name = self.name()
                descending = False
                if self.word("ASC", "DESC"):
                    descending = self.tok.text.upper() == "DESC"
                    self.pos += 1
                st.order.append((name, descending))
                if not self.accept(","):
                    break

    def statement(self) -> Statement:
        st = Statement(kind="", table="")
        if self.word("SELECT"):
            self.select(st)
        elif self.word("EXISTS"):
            # A condition check in a transaction: the item the SELECT names must exist (and match).
            self.pos += 1
            self.expect("(")
            self.select(st)
            self.expect(")")
            if st.order or st.projection is not None:
                raise malformed("EXISTS takes SELECT * FROM a table WHERE the full primary key is given")
            st.kind = "EXISTS"
        elif self.word("INSERT"):
            self.pos += 1
            st.kind = "INSERT"
            self.take_word("INTO")
            self.target(st)
            self.take_word("VALUE")
            value = self.literal()
            if "M" not in value:
                raise malformed("INSERT needs a map value")
            st.item = value["M"]
        elif self.word("UPDATE"):
            self.pos += 1
            st.kind = "UPDATE"
            self.target(st)
            while self.word("SET", "REMOVE"):
                clause = self.tok.text.upper()
                self.pos += 1
                while True:
                    path = self.path()
                    if clause == "SET":
                        self.expect("=")
                        st.update.set.append((path, self.set_value()))
                    else:
                        st.update.remove.append(path)
                    if not self.accept(","):
                        break
            if not st.update.set and not st.update.remove:
                raise malformed("UPDATE needs SET or REMOVE")
            self.take_word("WHERE")
            st.where = self.condition()
            self.returning(st)
        elif self.word("DELETE"):
            self.pos += 1
            st.kind = "DELETE"
            self.take_word("FROM")
            self.target(st)
            self.take_word("WHERE")
            st.where = self.condition()
            self.returning(st)
        else:
            raise malformed(f"Unexpected keyword: {self.tok.text or 'end of statement'}")
        if self.tok.kind != "EOF":
            raise malformed(f"Unexpected token: {self.tok.text}")
        if self.used_params != len(self.params):
            raise ValidationException("Number of parameters in request and statement don't match.")
        return st

    def set_value(self) -> Any:
        left = self.operand()
        if self.tok.kind == "OP" and self.tok.text in ("+", "-"):
            op = self.tok.text
            self.pos += 1
            return Arith(op, left, self.operand())
        return left

    def returning(self, st: Statement) -> None:
        if not self.word("RETURNING"):
            return
        self.pos += 1
        first = self.name().upper()
        second = self.name().upper()
        self.expect("*")
        mapping = {("ALL", "OLD"): "ALL_OLD", ("ALL", "NEW"): "ALL_NEW", ("MODIFIED", "OLD"): "UPDATED_OLD",
                   ("MODIFIED", "NEW"): "UPDATED_NEW"}
        if (first, second) not in mapping:
            raise malformed(f"Unsupported RETURNING: {first} {second}")
        st.returning = mapping[(first, second)]


def parse(text: str, parameters: list[dict[str, Any]] | None = None) -> Statement:
    return _Parser(text, parameters).statement()
