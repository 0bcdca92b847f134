"""Lambda event filtering: the FilterCriteria pattern language of event source mappings.

A mapping's ``FilterCriteria`` is ``{"Filters": [{"Pattern": "<json>"}, ...]}``; a record is sent to
the function when *any* pattern matches it (no filters: every record). A pattern is a JSON object
that mirrors the record: an object value descends into the record's field of that name, and a leaf
is a list of matchers, one of which must match the field's value (or, when the value is a list, one
of its elements). Matchers:

- a string, number or ``null``: equal values (``null`` also matches a present null);
- ``{"prefix": "s"}``, ``{"suffix": "s"}``, ``{"equals-ignore-case": "s"}``;
- ``{"numeric": [">", 0, "<=", 5]}`` (one or two comparisons, or ``["=", 3]``);
- ``{"exists": true}`` / ``{"exists": false}`` (the field is present or absent);
- ``{"anything-but": v}`` with ``v`` a value, a list of values, or ``{"prefix": "s"}`` / ``{"suffix": "s"}``.

What the pattern is matched against depends on the source (pollers.py builds it): for SQS the
record with its ``body`` parsed as JSON when it is JSON (a plain-text body stays a string); for
DynamoDB the stream record as the function would receive it.
"""

from __future__ import annotations

import json
from typing import Any

from awsemu.services.lambda_.errors import InvalidParameterValueException

_MISSING = object()
_OPERATORS = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def parse_criteria(criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The patterns of a FilterCriteria, parsed and checked (InvalidParameterValue when malformed)."""
    patterns: list[dict[str, Any]] = []
    for entry in (criteria or {}).get("Filters") or []:
        text = entry.get("Pattern")
        try:
            pattern = json.loads(text or "")
        except ValueError:
            raise InvalidParameterValueException(f"Invalid filter pattern definition: {text}") from None
        if not isinstance(pattern, dict):
            raise InvalidParameterValueException(f"Invalid filter pattern definition: {text}")
        _check(pattern, text or "")
        patterns.append(pattern)
    if len(patterns) > 5:
        raise InvalidParameterValueException("The maximum number of filters is 5.")
    return patterns


def _check(pattern: dict[str, Any], text: str) -> None:
    for value in pattern.values():
        if isinstance(value, dict):
            _check(value, text)
        elif not isinstance(value, list):
            raise InvalidParameterValueException(
                f"Invalid filter pattern definition: {text} (a leaf must be an array of matchers)")


def matches_any(patterns: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    """Whether ``record`` passes the filters (every record passes when there are none)."""
    return not patterns or any(_matches(p, record) for p in patterns)


def _matches(pattern: dict[str, Any], value: Any) -> bool:
    for name, expected in pattern.items():
        field = value.get(name, _MISSING) if isinstance(value, dict) else _MISSING
        if isinstance(expected, dict):
            if not isinstance(field, dict) or not _matches(expected, field):
                return False
        elif not _leaf(expected, field):
            return False
    return True


def _leaf(matchers: list[Any], field: Any) -> bool:
    for matcher in matchers:
        if isinstance(matcher, dict) and "exists" in matcher:
            if bool(matcher["exists"]) == (field is not _MISSING):
                return True
            continue
        if field is _MISSING:
            continue
        values = field if isinstance(field, list) else [field]
        if any(_one(matcher, v) for v in values):
            return True
    return False


def _one(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, dict):
        return _equal(matcher, value)
    if "prefix" in matcher:
        return isinstance(value, str) and value.startswith(str(matcher["prefix"]))
    if "suffix" in matcher:
        return isinstance(value, str) and value.endswith(str(matcher["suffix"]))
    if "equals-ignore-case" in matcher:
        return isinstance(value, str) and value.lower() == str(matcher["equals-ignore-case"]).lower()
    if "numeric" in matcher:
        return _numeric(matcher["numeric"], value)
    if "anything-but" in matcher:
        excluded = matcher["anything-but"]
        if isinstance(excluded, dict):
            return not _one(excluded, value)
        if not isinstance(excluded, list):
            excluded = [excluded]
        return not any(_equal(e, value) for e in excluded)
    return False


def _equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if isinstance(expected, (int, float)) and isinstance(value, (int, float)):
        return float(expected) == float(value)
    return bool(expected == value)


def _numeric(spec: list[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    for i in range(0, len(spec) - 1, 2):
        op, bound = spec[i], spec[i + 1]
        compare = _OPERATORS.get(op)
        if compare is None or isinstance(bound, bool) or not isinstance(bound, (int, float)):
            return False
        if not compare(value, bound):
            return False
    return True
