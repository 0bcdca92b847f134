"""The legacy conditional parameters, translated into the same trees the expressions produce.

Expected, QueryFilter, ScanFilter and KeyConditions become condition trees; AttributesToGet a
projection; AttributeUpdates update actions. They cannot be mixed with expression parameters in
one request (:func:`check_exclusive`).
"""

from __future__ import annotations

from typing import Any

from awsemu.services.dynamodb.attribute_values import validate_value
from awsemu.services.dynamodb.errors import ValidationException
from awsemu.services.dynamodb.expressions.ast import And, Between, Call, Compare, In, Not, Or, Path, UpdateActions, Value

_INVALID = "One or more parameter values were invalid: "
_ARITY = {
    "EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "NOT_NULL": 0, "NULL": 0,
    "CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "BETWEEN": 2,
}
_COMPARE = {"EQ": "=", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}


# The order DynamoDB lists the parameters in when a request mixes the two styles.
_LEGACY_ORDER = ("AttributeUpdates", "AttributesToGet", "Expected", "QueryFilter", "ScanFilter", "ConditionalOperator",
                 "KeyConditions")
_EXPRESSION_ORDER = ("UpdateExpression", "ProjectionExpression", "ConditionExpression", "FilterExpression",
                     "KeyConditionExpression")


def check_exclusive(params: dict[str, Any], legacy: tuple[str, ...], modern: tuple[str, ...]) -> bool:
    """True if the request uses expressions. Raises DynamoDB's errors for mixed or stray parameters
    (ConditionalOperator counts as a legacy parameter; KeyConditions only beside a KeyConditionExpression)."""
    candidates = set(legacy) | {"ConditionalOperator"}
    if params.get("KeyConditionExpression") is None:
        candidates.discard("KeyConditions")
    old = [p for p in _LEGACY_ORDER if p in candidates and params.get(p) is not None]
    new = [p for p in _EXPRESSION_ORDER if p in modern and params.get(p) is not None]
    if old and new:
        raise ValidationException(
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {" + ", ".join(old) + "} Expression parameters: {" + ", ".join(new) + "}"
        )
    if not new:
        if params.get("ExpressionAttributeNames") is not None:
            raise ValidationException("ExpressionAttributeNames can only be specified when using expressions")
        if params.get("ExpressionAttributeValues") is not None:
            raise ValidationException("ExpressionAttributeValues can only be specified when using expressions")
    if params.get("ConditionalOperator") is not None and not any(
        params.get(p) is not None for p in ("Expected", "QueryFilter", "ScanFilter")
    ):
        raise ValidationException("ConditionalOperator can only be used when Expected, QueryFilter or ScanFilter is present")
    return bool(new)


def _condition(name: str, spec: dict[str, Any]) -> Any:
    path = Path((name,))
    op = spec.get("ComparisonOperator")
    args = [Value(validate_value(v)) for v in spec.get("AttributeValueList") or []]
    if op is None:
        raise ValidationException(_INVALID + f"ComparisonOperator must be specified for attribute {name}")
    if op == "IN":
        if not args:
            raise ValidationException(_INVALID + "Invalid number of argument(s) for the IN ComparisonOperator")
        return In(path, tuple(args))
    if op not in _ARITY:
        raise ValidationException(f"1 validation error detected: Value '{op}' at 'comparisonOperator' failed to satisfy constraint")
    if len(args) != _ARITY[op]:
        raise ValidationException(_INVALID + f"Invalid number of argument(s) for the {op} ComparisonOperator")
    if op in _COMPARE:
        return Compare(_COMPARE[op], path, args[0])
    if op == "NE":
        return Not(Compare("=", path, args[0]))
    if op == "NOT_NULL":
        return Call("attribute_exists", (path,))
    if op == "NULL":
        return Call("attribute_not_exists", (path,))
    if op == "CONTAINS":
        return Call("contains", (path, args[0]))
    if op == "NOT_CONTAINS":
        return And(Call("attribute_exists", (path,)), Not(Call("contains", (path, args[0]))))
    if op == "BEGINS_WITH":
        return Call("begins_with", (path, args[0]))
    return Between(path, args[0], args[1])


def _join(nodes: list[Any], operator: str | None) -> Any:
    if operator not in (None, "AND", "OR"):
        raise ValidationException(
            f"1 validation error detected: Value '{operator}' at 'conditionalOperator' failed to satisfy constraint: "
            "Member must satisfy enum value set: [AND, OR]"
        )
    node = nodes[0]
    for other in nodes[1:]:
        node = Or(node, other) if operator == "OR" else And(node, other)
    return node


def filter_condition(conditions: dict[str, Any], operator: str | None) -> Any | None:
    """QueryFilter / ScanFilter / KeyConditions."""
    if not conditions:
        return None
    return _join([_condition(name, spec) for name, spec in conditions.items()], operator)


def expected_condition(expected: dict[str, Any], operator: str | None) -> Any | None:
    """Expected, with the checks DynamoDB makes on each entry, in its order."""
    if not expected:
        return None
    nodes = []
    for name, spec in expected.items():
        path = Path((name,))
        where = f" for Attribute: {name}"
        exists, op = spec.get("Exists"), spec.get("ComparisonOperator")
        value, values = spec.get("Value"), spec.get("AttributeValueList")
        if exists is not None and op is not None:
            raise ValidationException(_INVALID + "Exists and ComparisonOperator cannot be used together" + where)
        if value is not None and values is not None:
            raise ValidationException(_INVALID + "Value and AttributeValueList cannot be used together" + where)
        if op is None and values is not None:
            raise ValidationException(_INVALID + "AttributeValueList can only be used with a ComparisonOperator" + where)
        if exists is False and value is not None:
            raise ValidationException(_INVALID + "Value cannot be used when Exists is false" + where)
        if value is None and values is None:
            if op is not None and op not in ("NOT_NULL", "NULL"):
                raise ValidationException(
                    _INVALID + f"Value or AttributeValueList must be used with ComparisonOperator: {op}" + where)
            if op is None and exists is None:
                raise ValidationException(_INVALID + "Value must be provided when Exists is null" + where)
            if op is None and exists:
                raise ValidationException(_INVALID + "Value must be provided when Exists is true" + where)
        if op is not None:
            nodes.append(_condition(name, {"ComparisonOperator": op,
                                           "AttributeValueList": [value] if value is not None else values}))
        elif exists is False:
            nodes.append(Call("attribute_not_exists", (path,)))
        else:
            nodes.append(Compare("=", path, Value(validate_value(value))))
    return _join(nodes, operator)


def attributes_to_get(names: list[str]) -> list[Path]:
    if len(set(names)) != len(names):
        raise ValidationException(_INVALID + "Duplicate value in attribute name: " + next(
            n for n in names if names.count(n) > 1))
    return [Path((n,)) for n in names]


def attribute_updates(updates: dict[str, Any]) -> UpdateActions:
    """AttributeUpdates: PUT sets, DELETE removes (or removes set members), ADD adds/unions."""
    actions = UpdateActions()
    for name, spec in updates.items():
        path = Path((name,))
        action = spec.get("Action") or "PUT"
        raw = spec.get("Value")
        value = Value(validate_value(raw)) if raw is not None else None
        if action == "PUT":
            if value is None:
                raise ValidationException(_INVALID + "Only DELETE action is allowed when no attribute value is specified")
            actions.set.append((path, value))
        elif action == "DELETE":
            if value is None:
                actions.remove.append(path)
            elif next(iter(value.value)) in ("SS", "NS", "BS"):
                actions.delete.append((path, value))
            else:
                raise ValidationException(
                    _INVALID + "DELETE action with value is not supported for the type " + next(iter(value.value))
                )
        elif action == "ADD":
            if value is None:
                raise ValidationException(_INVALID + "Only DELETE action is allowed when no attribute value is specified")
            kind = next(iter(value.value))
            if kind == "L":
                appended = Call("list_append", (Call("if_not_exists", (path, Value({"L": []}))), value))
                actions.set.append((path, appended))
            elif kind in ("N", "SS", "NS", "BS"):
                actions.add.append((path, value))
            else:
                raise ValidationException(_INVALID + "ADD action is not supported for the type " + kind)
        else:
            raise ValidationException(
                f"1 validation error detected: Value '{action}' at 'attributeUpdates.{name}.member.action' failed "
                "to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
            )
    return actions
