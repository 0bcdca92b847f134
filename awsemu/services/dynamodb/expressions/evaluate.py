"""Evaluate condition trees against an item: trees are compiled once into closures.

Semantics (developer guide, "Condition expressions"): a comparison with a missing operand is
false; ``=`` across types is false and ``<>`` true; ordering comparisons apply to N, S and B of the
same type only; ``size`` of a number, boolean or null is undefined, so any comparison with it is
false. Strings order by UTF-8 bytes (Python's code-point order is the same), binaries unsigned.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Optional

from awsemu.services.dynamodb.attribute_values import values_equal
from awsemu.services.dynamodb.expressions.ast import And, Between, Call, Compare, In, Not, Or, Path, Value

Item = dict[str, dict[str, Any]]
OperandFn = Callable[[Item], Optional[dict[str, Any]]]
ConditionFn = Callable[[Item], bool]


def resolve_path(item: Item, elems: tuple[Any, ...]) -> dict[str, Any] | None:
    """The value at a document path, or None if any step is missing or of the wrong type."""
    first = elems[0]
    if not isinstance(first, str):
        return None
    current = item.get(first)
    for elem in elems[1:]:
        if current is None:
            return None
        if isinstance(elem, int):
            inner = current.get("L")
            if inner is None or elem >= len(inner):
                return None
            current = inner[elem]
        else:
            inner = current.get("M")
            if inner is None:
                return None
            current = inner.get(elem)
    return current


def compile_operand(node: Any) -> OperandFn:
    if isinstance(node, Value):
        value = node.value
        return lambda item: value
    if isinstance(node, Path):
        elems = node.elems
        if len(elems) == 1:
            name = elems[0]
            return lambda item: item.get(name)  # type: ignore[arg-type]
        return lambda item: resolve_path(item, elems)
    if isinstance(node, Call) and node.name == "size":
        inner = compile_operand(node.args[0])

        def size(item: Item) -> dict[str, Any] | None:
            value = inner(item)
            if value is None:
                return None
            kind, raw = next(iter(value.items()))
            if kind in ("N", "BOOL", "NULL"):
                return None
            if kind == "S":  # "an attribute's size in bytes" (PartiQL size, the same function)
                return {"N": str(len(raw.encode("utf-8")))}
            return {"N": str(len(raw))}

        return size
    raise TypeError(f"not an operand: {node!r}")  # pragma: no cover - the parser prevents it


def _ordered(a: dict[str, Any], b: dict[str, Any]) -> tuple[Any, Any] | None:
    """Comparable Python values for two scalars of one type, or None if they cannot be ordered."""
    ka, ra = next(iter(a.items()))
    kb, rb = next(iter(b.items()))
    if ka != kb or ka not in ("S", "N", "B"):
        return None
    if ka == "N":
        return Decimal(ra), Decimal(rb)
    return ra, rb


_ORDER_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
}


def compare(op: str, a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if a is None or b is None:
        return False
    if op == "=":
        return values_equal(a, b)
    if op == "<>":
        return not values_equal(a, b)
    pair = _ordered(a, b)
    if pair is None:
        return False
    return _ORDER_OPS[op](pair[0], pair[1])


def contains(haystack: dict[str, Any] | None, needle: dict[str, Any] | None) -> bool:
    if haystack is None or needle is None:
        return False
    kind, raw = next(iter(haystack.items()))
    nkind, nraw = next(iter(needle.items()))
    if kind == "S":
        return nkind == "S" and nraw in raw
    if kind == "B":
        return nkind == "B" and nraw in raw
    if kind in ("SS", "NS", "BS"):
        return nkind == kind[0] and nraw in raw
    if kind == "L":
        return any(values_equal(element, needle) for element in raw)
    return False


def begins_with(value: dict[str, Any] | None, prefix: dict[str, Any] | None) -> bool:
    if value is None or prefix is None:
        return False
    kind, raw = next(iter(value.items()))
    pkind, praw = next(iter(prefix.items()))
    return kind == pkind and kind in ("S", "B") and raw.startswith(praw)


def compile_condition(node: Any) -> ConditionFn:
    if isinstance(node, And):
        left, right = compile_condition(node.left), compile_condition(node.right)
        return lambda item: left(item) and right(item)
    if isinstance(node, Or):
        left, right = compile_condition(node.left), compile_condition(node.right)
        return lambda item: left(item) or right(item)
    if isinstance(node, Not):
        inner = compile_condition(node.operand)
        return lambda item: not inner(item)
    if isinstance(node, Compare):
        op = node.op
        lhs, rhs = compile_operand(node.left), compile_operand(node.right)
        return lambda item: compare(op, lhs(item), rhs(item))
    if isinstance(node, Between):
        subject, low, high = compile_operand(node.subject), compile_operand(node.low), compile_operand(node.high)

        def between(item: Item) -> bool:
            value = subject(item)
            return compare(">=", value, low(item)) and compare("<=", value, high(item))

        return between
    if isinstance(node, In):
        subject = compile_operand(node.subject)
        candidates = [compile_operand(c) for c in node.candidates]

        def in_(item: Item) -> bool:
            value = subject(item)
            return value is not None and any(compare("=", value, c(item)) for c in candidates)

        return in_
    if isinstance(node, Call):
        return _compile_function(node)
    raise TypeError(f"not a condition: {node!r}")  # pragma: no cover


def _compile_function(node: Call) -> ConditionFn:
    name = node.name
    args = [compile_operand(a) for a in node.args]
    if name == "attribute_exists":
        return lambda item: args[0](item) is not None
    if name == "attribute_not_exists":
        return lambda item: args[0](item) is None
    if name == "attribute_type":

        def attribute_type(item: Item) -> bool:
            value, wanted = args[0](item), args[1](item)
            return value is not None and wanted is not None and next(iter(value)) == wanted.get("S")

        return attribute_type
    if name == "begins_with":
        return lambda item: begins_with(args[0](item), args[1](item))
    if name == "contains":
        return lambda item: contains(args[0](item), args[1](item))
    raise TypeError(f"not a condition function: {name}")  # pragma: no cover
