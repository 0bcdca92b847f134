"""Recursive-descent parsers for Condition/Filter/KeyCondition, Projection and Update expressions.

One :class:`ExpressionContext` serves all expressions of a request: it substitutes ``#names`` and
``:values`` while parsing and records which ones were used, so the request can then be refused
for unused ones exactly as DynamoDB refuses them. Errors carry DynamoDB's prefix
(``Invalid ConditionExpression: ...``) and wording.

Grammar (DynamoDB developer guide, "Comparison operator and function reference"):

    condition  := or
    or         := and (OR and)*
    and        := not (AND not)*
    not        := NOT not | '(' condition ')' | function | operand tail
    tail       := comparator operand | BETWEEN operand AND operand | IN '(' operand (',' operand)* ')'
    operand    := path | :value | size '(' path ')'
    path       := name ('.' name | '[' int ']')*
    update     := (SET a (',' a)* | REMOVE path (',' path)* | ADD path :v (',' ...)* | DELETE path :v (...))+
    a          := path '=' setvalue ;  setvalue := setop (('+'|'-') setop)?
    setop      := path | :value | if_not_exists '(' path ',' setop ')' | list_append '(' setop ',' setop ')'
"""

from __future__ import annotations

from typing import Any

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
from awsemu.services.dynamodb.expressions.reserved import is_reserved
from awsemu.services.dynamodb.expressions.tokens import ALIAS, EOF, INT, NAME, PUNCT, VALUE, Token, tokenize

COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
OPERAND_FUNCTIONS = {"size": 1}
UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
ALL_FUNCTIONS = {**CONDITION_FUNCTIONS, **OPERAND_FUNCTIONS, **UPDATE_FUNCTIONS}
ATTRIBUTE_TYPES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"})
MAX_EXPRESSION_LENGTH = 4096

# Type words DynamoDB uses in ADD/DELETE operand errors.
LONG_TYPE_NAMES = {
    "S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL",
    "L": "LIST", "M": "MAP", "SS": "STRING_SET", "NS": "NUMBER_SET", "BS": "BINARY_SET",
}


class ExpressionContext:
    """ExpressionAttributeNames/Values of one request, and which of them the expressions used."""

    def __init__(self, names: dict[str, str] | None, values: dict[str, dict[str, Any]] | None) -> None:
        self.names = names or {}
        self.values = values or {}
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    def check_unused(self) -> None:
        unused = sorted(set(self.names) - self.used_names)
        if unused:
            raise ValidationException(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + ", ".join(unused) + "}"
            )
        unused = sorted(set(self.values) - self.used_values)
        if unused:
            raise ValidationException(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + ", ".join(unused) + "}"
            )

    # Parsing entry points -----------------------------------------------------------------------

    def condition(self, source: str, kind: str = "ConditionExpression") -> Any:
        parser = _Parser(self, source, kind)
        node = parser.parse_condition()
        parser.expect_end()
        return node

    def projection(self, source: str) -> list[Path]:
        parser = _Parser(self, source, "ProjectionExpression")
        paths = [parser.parse_path()]
        while parser.accept(","):
            paths.append(parser.parse_path())
        parser.expect_end()
        check_overlaps(paths, "ProjectionExpression")
        return paths

    def update(self, source: str) -> UpdateActions:
        parser = _Parser(self, source, "UpdateExpression")
        actions = parser.parse_update()
        parser.expect_end()
        check_overlaps(actions.targets(), "UpdateExpression")
        return actions


def check_overlaps(paths: list[Path], kind: str) -> None:
    """Two paths may not be the same, one a prefix of the other, or index vs key at one level."""
    for i, one in enumerate(paths):
        for two in paths[i + 1 :]:
            a, b = one.elems, two.elems
            n = min(len(a), len(b))
            for depth in range(n):
                x, y = a[depth], b[depth]
                if x == y and type(x) is type(y):
                    continue
                if isinstance(x, int) != isinstance(y, int):
                    raise ValidationException(
                        f"Invalid {kind}: Two document paths conflict with each other; must remove or rewrite "
                        f"one of these paths; path one: {one.display()}, path two: {two.display()}"
                    )
                break
            else:
                raise ValidationException(
                    f"Invalid {kind}: Two document paths overlap with each other; must remove or rewrite "
                    f"one of these paths; path one: {one.display()}, path two: {two.display()}"
                )


class _Parser:
    def __init__(self, ctx: ExpressionContext, source: str, kind: str) -> None:
        self.ctx = ctx
        self.source = source
        self.kind = kind
        if not source.strip():
            raise ValidationException(f"Invalid {kind}: The expression can not be empty;")
        if len(source) > MAX_EXPRESSION_LENGTH:
            raise ValidationException(f"Invalid {kind}: Expression size has exceeded the maximum allowed size;")
        self.tokens = tokenize(source)
        self.pos = 0

    # token helpers ---------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != EOF:
            self.pos += 1
        return tok

    def accept(self, punct: str) -> bool:
        if self.tok.kind == PUNCT and self.tok.text == punct:
            self.pos += 1
            return True
        return False

    def accept_word(self, word: str) -> bool:
        if self.tok.is_word(word):
            self.pos += 1
            return True
        return False

    def expect(self, punct: str) -> None:
        if not self.accept(punct):
            self.syntax_error()

    def expect_end(self) -> None:
        if self.tok.kind != EOF:
            self.syntax_error()

    def error(self, message: str) -> ValidationException:
        return ValidationException(f"Invalid {self.kind}: {message}")

    def syntax_error(self) -> None:
        tok = self.tok
        before = self.tokens[self.pos - 1] if self.pos > 0 else tok
        after = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else tok
        near = self.source[before.start : max(after.end, tok.end)]
        raise self.error(f'Syntax error; token: "{tok.text}", near: "{near}"')

    def _closing(self, index: int) -> int:
        """Index of the ")" matching the "(" at ``index``."""
        depth = 0
        for i in range(index, len(self.tokens)):
            tok = self.tokens[i]
            if tok.kind == PUNCT and tok.text == "(":
                depth += 1
            elif tok.kind == PUNCT and tok.text == ")":
                depth -= 1
                if depth == 0:
                    return i
        return -1

    def at_function(self) -> bool:
        nxt = self.tokens[self.pos + 1] if self.pos + 1 < len(self.tokens) else None
        return self.tok.kind == NAME and nxt is not None and nxt.kind == PUNCT and nxt.text == "("

    # operands --------------------------------------------------------------------------------

    def parse_name(self) -> str:
        tok = self.tok
        if tok.kind == ALIAS:
            self.pos += 1
            if tok.text not in self.ctx.names:
                raise self.error(
                    f"An expression attribute name used in the document path is not defined; attribute name: {tok.text}"
                )
            self.ctx.used_names.add(tok.text)
            return self.ctx.names[tok.text]
        if tok.kind == NAME and tok.text.upper() not in KEYWORDS:
            self.pos += 1
            if is_reserved(tok.text):
                raise self.error(f"Attribute name is a reserved keyword; reserved keyword: {tok.text}")
            return tok.text
        self.syntax_error()
        raise AssertionError  # pragma: no cover

    def parse_path(self) -> Path:
        elems: list[str | int] = [self.parse_name()]
        while True:
            if self.accept("."):
                elems.append(self.parse_name())
            elif self.accept("["):
                if self.tok.kind != INT:
                    self.syntax_error()
                elems.append(int(self.advance().text))
                self.expect("]")
            else:
                return Path(tuple(elems))

    def parse_value(self) -> Value:
        tok = self.advance()
        if tok.text not in self.ctx.values:
            raise self.error(
                f"An expression attribute value used in expression is not defined; attribute value: {tok.text}"
            )
        self.ctx.used_values.add(tok.text)
        return Value(self.ctx.values[tok.text])

    def parse_call(self, allowed: dict[str, int]) -> Call:
        name_tok = self.advance()
        name = name_tok.text
        if name not in ALL_FUNCTIONS:
            raise self.error(f"Invalid function name; function: {name}")
        if name not in allowed:
            if name in UPDATE_FUNCTIONS and self.kind != "UpdateExpression":
                raise self.error(f"The function is not allowed in a condition expression; function: {name}")
            raise self.error(f"The function is not allowed to be used this way in an expression; function: {name}")
        self.expect("(")
        args: list[Any] = []
        if not (self.tok.kind == PUNCT and self.tok.text == ")"):
            args.append(self.parse_call_arg(name))
            while self.accept(","):
                args.append(self.parse_call_arg(name))
        self.expect(")")
        if len(args) != ALL_FUNCTIONS[name]:
            raise self.error(
                f"Incorrect number of operands for operator or function; operator or function: {name}, "
                f"number of operands: {len(args)}"
            )
        self.check_call(name, args)
        return Call(name, tuple(args))

    def parse_call_arg(self, function: str) -> Any:
        if function in UPDATE_FUNCTIONS:
            return self.parse_set_operand()
        return self.parse_operand()

    def check_call(self, name: str, args: list[Any]) -> None:
        first = args[0]
        if name in ("attribute_exists", "attribute_not_exists", "attribute_type", "size", "if_not_exists"):
            if not isinstance(first, Path):
                raise self.error(f"Operator or function requires a document path; operator or function: {name}")
        if name == "attribute_type":
            second = args[1]
            if not isinstance(second, Value):
                raise self.error(
                    "Incorrect operand type for operator or function; operator or function: attribute_type, "
                    "operand type: PATH"
                )
            kind, raw = next(iter(second.value.items()))
            if kind != "S":
                raise self.error(
                    f"Incorrect operand type for operator or function; operator or function: attribute_type, "
                    f"operand type: {kind}"
                )
            if raw not in ATTRIBUTE_TYPES:
                raise self.error(
                    f"Invalid attribute type name found in type: {raw}, valid types: "
                    "{S,SS,N,NS,B,BS,BOOL,NULL,L,M}"
                )
        if name == "begins_with":
            for arg in args:
                if isinstance(arg, Value):
                    kind = next(iter(arg.value))
                    if kind not in ("S", "B"):
                        raise self.error(
                            f"Incorrect operand type for operator or function; operator or function: begins_with, "
                            f"operand type: {kind}"
                        )
        if name == "list_append":
            for arg in args:
                if isinstance(arg, Value):
                    kind = next(iter(arg.value))
                    if kind != "L":
                        raise self.error(
                            f"Incorrect operand type for operator or function; operator or function: list_append, "
                            f"operand type: {kind}"
                        )

    def parse_operand(self) -> Any:
        tok = self.tok
        if tok.kind == VALUE:
            return self.parse_value()
        if self.at_function():
            return self.parse_call(OPERAND_FUNCTIONS)
        if tok.kind in (NAME, ALIAS):
            return self.parse_path()
        self.syntax_error()

    # conditions ------------------------------------------------------------------------------

    def parse_condition(self) -> Any:
        node = self.parse_and()
        while self.accept_word("OR"):
            node = Or(node, self.parse_and())
        return node

    def parse_and(self) -> Any:
        node = self.parse_not()
        while self.accept_word("AND"):
            node = And(node, self.parse_not())
        return node

    def parse_not(self) -> Any:
        if self.accept_word("NOT"):
            return Not(self.parse_not())
        if self.accept("("):
            opened = self.pos - 1
            node = self.parse_condition()
            self.expect(")")
            inner = self.tokens[opened + 1]
            if inner.kind == PUNCT and inner.text == "(" and self._closing(opened + 1) == self.pos - 2:
                raise self.error("The expression has redundant parentheses;")
            return node
        if self.at_function() and self.tok.text in CONDITION_FUNCTIONS:
            return self.parse_call(CONDITION_FUNCTIONS)
        if self.at_function() and self.tok.text not in OPERAND_FUNCTIONS:
            return self.parse_call(CONDITION_FUNCTIONS)
        subject = self.parse_operand()
        tok = self.tok
        if tok.kind == PUNCT and tok.text in COMPARATORS:
            self.advance()
            right = self.parse_operand()
            self.check_comparison(tok.text, subject, right)
            return Compare(tok.text, subject, right)
        if self.accept_word("BETWEEN"):
            low = self.parse_operand()
            if not self.accept_word("AND"):
                self.syntax_error()
            high = self.parse_operand()
            self.check_between(low, high)
            return Between(subject, low, high)
        if self.accept_word("IN"):
            self.expect("(")
            candidates = [self.parse_operand()]
            while self.accept(","):
                candidates.append(self.parse_operand())
            self.expect(")")
            if len(candidates) > 100:
                raise self.error("The IN operator is provided with too many operands; number of operands: "
                                 f"{len(candidates)}")
            return In(subject, tuple(candidates))
        if isinstance(subject, Call):
            raise self.error(f"The function is not allowed to be used this way in an expression; function: {subject.name}")
        self.syntax_error()

    def check_comparison(self, op: str, left: Any, right: Any) -> None:
        if op in ("=", "<>"):
            if isinstance(left, Value) and isinstance(right, Value) and left == right:
                raise self.error(
                    f"The first operand must be distinct from the remaining operands for this operator or function; "
                    f"operator: {op}, first operand: {_render(left.value)}"
                )
            return
        for side in (left, right):
            if isinstance(side, Value):
                kind = next(iter(side.value))
                if kind not in ("S", "N", "B"):
                    raise self.error(
                        f"Incorrect operand type for operator or function; operator or function: {op}, "
                        f"operand type: {kind}"
                    )

    def check_between(self, low: Any, high: Any) -> None:
        from awsemu.services.dynamodb.attribute_values import scalar_sort_key

        for side in (low, high):
            if isinstance(side, Value):
                kind = next(iter(side.value))
                if kind not in ("S", "N", "B"):
                    raise self.error(
                        f"Incorrect operand type for operator or function; operator or function: BETWEEN, "
                        f"operand type: {kind}"
                    )
        if isinstance(low, Value) and isinstance(high, Value):
            if next(iter(low.value)) != next(iter(high.value)):
                raise self.error(
                    "The BETWEEN operator requires same data type for lower and upper bounds; "
                    f"lower bound operand: AttributeValue: {_render(low.value)}, "
                    f"upper bound operand: AttributeValue: {_render(high.value)}"
                )
            if scalar_sort_key(low.value) > scalar_sort_key(high.value):
                raise self.error(
                    "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
                    f"lower bound operand: AttributeValue: {_render(low.value)}, "
                    f"upper bound operand: AttributeValue: {_render(high.value)}"
                )

    # update ----------------------------------------------------------------------------------

    def parse_update(self) -> UpdateActions:
        actions = UpdateActions()
        seen: set[str] = set()
        while self.tok.kind != EOF:
            tok = self.tok
            clause = tok.text.upper() if tok.kind == NAME else ""
            if clause not in ("SET", "REMOVE", "ADD", "DELETE"):
                self.syntax_error()
            if clause in seen:
                raise self.error(f'The "{clause}" section can only be used once in an update expression;')
            seen.add(clause)
            self.advance()
            while True:
                if clause == "SET":
                    path = self.parse_path()
                    self.expect("=")
                    actions.set.append((path, self.parse_set_value()))
                elif clause == "REMOVE":
                    actions.remove.append(self.parse_path())
                else:
                    path = self.parse_path()
                    if self.tok.kind != VALUE:
                        self.syntax_error()
                    value = self.parse_value()
                    kind = next(iter(value.value))
                    allowed = ("N", "SS", "NS", "BS") if clause == "ADD" else ("SS", "NS", "BS")
                    if kind not in allowed:
                        raise self.error(
                            f"Incorrect operand type for operator or function; operator: {clause}, operand type: "
                            f"{LONG_TYPE_NAMES[kind]}, typeSet: ALLOWED_FOR_{clause}_OPERAND"
                        )
                    (actions.add if clause == "ADD" else actions.delete).append((path, value))
                if not self.accept(","):
                    break
        return actions

    def parse_set_value(self) -> Any:
        left = self.parse_set_operand()
        tok = self.tok
        if tok.kind == PUNCT and tok.text in ("+", "-"):
            self.advance()
            right = self.parse_set_operand()
            for side in (left, right):
                if isinstance(side, Value) and next(iter(side.value)) != "N":
                    raise self.error(
                        f"Incorrect operand type for operator or function; operator or function: {tok.text}, "
                        f"operand type: {next(iter(side.value))}"
                    )
            return Arith(tok.text, left, right)
        return left

    def parse_set_operand(self) -> Any:
        tok = self.tok
        if tok.kind == VALUE:
            return self.parse_value()
        if self.at_function():
            return self.parse_call(UPDATE_FUNCTIONS)
        if tok.kind in (NAME, ALIAS):
            return self.parse_path()
        self.syntax_error()


def _render(value: dict[str, Any]) -> str:
    """AttributeValue as DynamoDB prints it in messages: ``{N:5}``, ``{S:abc}``."""
    kind, raw = next(iter(value.items()))
    if isinstance(raw, list):
        raw = "[" + ",".join(str(r) for r in raw) + "]"
    return "{" + f"{kind}:{raw}" + "}"
