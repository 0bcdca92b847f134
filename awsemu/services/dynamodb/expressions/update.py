"""Apply an UpdateExpression to an item.

Every right-hand side is computed from the item as it was before the update (so
``SET a = b, b = a`` swaps), then the actions are applied to a deep copy. List indexes in REMOVE
refer to the original positions, so they are removed from the highest down; SET of a list index
past the end appends. Errors are DynamoDB's run-time ones ("The document path provided in the
update expression is invalid for update", "An operand in the update expression has an incorrect
data type", "The provided expression refers to an attribute that does not exist in the item").
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from awsemu.services.dynamodb.attribute_values import NUMBER_CONTEXT, check_number, format_number
from awsemu.services.dynamodb.errors import ValidationException
from awsemu.services.dynamodb.expressions.ast import Arith, Call, Path, UpdateActions, Value
from awsemu.services.dynamodb.expressions.evaluate import resolve_path

Item = dict[str, dict[str, Any]]

INVALID_PATH = "The document path provided in the update expression is invalid for update"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
MISSING = "The provided expression refers to an attribute that does not exist in the item"


def evaluate_set_value(node: Any, item: Item) -> dict[str, Any]:
    if isinstance(node, Value):
        return node.value
    if isinstance(node, Path):
        value = resolve_path(item, node.elems)
        if value is None:
            raise ValidationException(MISSING)
        return value
    if isinstance(node, Arith):
        left = evaluate_set_value(node.left, item)
        right = evaluate_set_value(node.right, item)
        if "N" not in left or "N" not in right:
            raise ValidationException(WRONG_TYPE)
        a, b = Decimal(left["N"]), Decimal(right["N"])
        result = NUMBER_CONTEXT.add(a, b) if node.op == "+" else NUMBER_CONTEXT.subtract(a, b)
        check_number(result)
        return {"N": format_number(result)}
    if isinstance(node, Call):
        if node.name == "if_not_exists":
            current = resolve_path(item, node.args[0].elems)
            return current if current is not None else evaluate_set_value(node.args[1], item)
        if node.name == "list_append":
            first = evaluate_set_value(node.args[0], item)
            second = evaluate_set_value(node.args[1], item)
            if "L" not in first or "L" not in second:
                raise ValidationException(WRONG_TYPE)
            return {"L": first["L"] + second["L"]}
    raise TypeError(f"not an update operand: {node!r}")  # pragma: no cover


def apply_update(item: Item, actions: UpdateActions) -> Item:
    """The new item; ``item`` is left untouched."""
    new_values = [(path, evaluate_set_value(node, item)) for path, node in actions.set]
    out = copy.deepcopy(item)
    for path, value in new_values:
        _set(out, path.elems, copy.deepcopy(value))
    # Removes of list elements: highest index first, so earlier indexes keep their meaning.
    for path in sorted(actions.remove, key=lambda p: [(-e if isinstance(e, int) else 0) for e in p.elems]):
        _remove(out, path.elems)
    for path, operand in actions.add:
        _add(out, path.elems, operand.value)
    for path, operand in actions.delete:
        _delete(out, path.elems, operand.value)
    return out


def _container(item: Item, elems: tuple[Any, ...]) -> Any:
    """The map (as dict) or list holding the last element of ``elems``; errors if it is missing."""
    if len(elems) == 1:
        return item
    parent = resolve_path(item, elems[:-1])
    last = elems[-1]
    if parent is None:
        raise ValidationException(INVALID_PATH)
    if isinstance(last, int):
        if "L" not in parent:
            raise ValidationException(INVALID_PATH)
        return parent["L"]
    if "M" not in parent:
        raise ValidationException(INVALID_PATH)
    return parent["M"]


def _set(item: Item, elems: tuple[Any, ...], value: dict[str, Any]) -> None:
    holder = _container(item, elems)
    last = elems[-1]
    if isinstance(last, int):
        if last >= len(holder):
            holder.append(value)
        else:
            holder[last] = value
    else:
        holder[last] = value


def _remove(item: Item, elems: tuple[Any, ...]) -> None:
    if len(elems) > 1 and resolve_path(item, elems[:-1]) is None:
        return
    try:
        holder = _container(item, elems)
    except ValidationException:
        return
    last = elems[-1]
    if isinstance(last, int):
        if last < len(holder):
            del holder[last]
    else:
        holder.pop(last, None)


def _add(item: Item, elems: tuple[Any, ...], operand: dict[str, Any]) -> None:
    current = resolve_path(item, elems)
    kind, raw = next(iter(operand.items()))
    if current is None:
        _set(item, elems, copy.deepcopy(operand))
        return
    ckind, craw = next(iter(current.items()))
    if ckind != kind:
        raise ValidationException(WRONG_TYPE)
    if kind == "N":
        result = NUMBER_CONTEXT.add(Decimal(craw), Decimal(raw))
        check_number(result)
        _set(item, elems, {"N": format_number(result)})
    else:
        merged = list(craw) + [m for m in raw if m not in set(craw)]
        _set(item, elems, {kind: merged})


def _delete(item: Item, elems: tuple[Any, ...], operand: dict[str, Any]) -> None:
    current = resolve_path(item, elems)
    if current is None:
        return
    kind, raw = next(iter(operand.items()))
    ckind, craw = next(iter(current.items()))
    if ckind != kind:
        raise ValidationException(WRONG_TYPE)
    drop = set(raw)
    remaining = [m for m in craw if m not in drop]
    if remaining:
        _set(item, elems, {kind: remaining})
    else:
        _remove(item, elems)

