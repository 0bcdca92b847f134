"""Condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators").

A ``Condition`` block is an AND of its operators, each an AND of its keys, each an OR of its
values. Families: String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn*, Null;
any but Null may end in ``IfExists`` (true when the key is absent) and be prefixed with
``ForAnyValue:``/``ForAllValues:`` for multivalued keys.

Rules from that page, as implemented here:

- an absent key makes a condition false — except negated operators (``StringNotEquals``,
  ``NotIpAddress``, ``ArnNotLike``...), which are true, and ``...IfExists``, which is true;
- a negated operator with several policy values is true only if the key matches none of them
  (the values of a negated operator act as a logical AND);
- ``ForAllValues:`` is true when every context value matches (and when the key is absent or
  empty); ``ForAnyValue:`` when at least one does (false when absent);
- ``Null: true`` is true when the key is absent, ``Null: false`` when it is present.
"""

from __future__ import annotations

import base64
import ipaddress
from datetime import datetime, timezone
from typing import Callable, Mapping, Sequence

from awsemu.services.iam.policy.variables import arn_match, expand, glob_match

Context = Mapping[str, Sequence[str]]
Matcher = Callable[[str, str, Context, bool], bool]


def _string_equals(value: str, pattern: str, ctx: Context, subst: bool) -> bool:
    return expand(pattern, ctx, subst) == value


def _string_equals_ic(value: str, pattern: str, ctx: Context, subst: bool) -> bool:
    expected = expand(pattern, ctx, subst)
    return expected is not None and expected.lower() == value.lower()


def _string_like(value: str, pattern: str, ctx: Context, subst: bool) -> bool:
    return glob_match(pattern, value, ctx, subst)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _numeric(compare: Callable[[float, float], bool]) -> Matcher:
    def match(value: str, pattern: str, ctx: Context, subst: bool) -> bool:
        a, b = _number(value), _number(pattern)
        return a is not None and b is not None and compare(a, b)

    return match


def parse_date(text: str) -> float | None:
    """ISO 8601 (``2026-11-27T12:00:00Z``, a date alone) or epoch seconds -> epoch seconds."""
    text = text.strip()
    number = _number(text)
    if number is not None:
        return number
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _date(compare: Callable[[float, float], bool]) -> Matcher:
    def match(value: str, pattern: str, ctx: Context, subst: bool) -> bool:
        a, b = parse_date(value), parse_date(pattern)
        return a is not None and b is not None and compare(a, b)

    return match


def _bool(value: str, pattern: str, ctx: Context, subst: bool) -> bool:
    expected = expand(pattern, ctx, subst)
    return expected is not None and expected.lower() == value.lower()


def _binary(value: str, pattern: str, ctx: Context, subst: bool) -> bool:
    try:
        return base64.b64decode(value) == base64.b64decode(pattern)
    except ValueError:
        return False


def _ip(value: str, pattern: str, ctx: Context, subst: bool) -> bool:
    try:
        return ipaddress.ip_address(value.strip()) in ipaddress.ip_network(pattern.strip(), strict=False)
    except ValueError:
        return False


def _arn(value: str, pattern: str, ctx: Context, subst: bool) -> bool:
    return arn_match(pattern, value, ctx, subst)


# base operator -> (positive matcher, negated?)
_OPERATORS: dict[str, tuple[Matcher, bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ic, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ic, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "NumericEquals": (_numeric(lambda a, b: a == b), False),
    "NumericNotEquals": (_numeric(lambda a, b: a == b), True),
    "NumericLessThan": (_numeric(lambda a, b: a < b), False),
    "NumericLessThanEquals": (_numeric(lambda a, b: a <= b), False),
    "NumericGreaterThan": (_numeric(lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, b: a >= b), False),
    "DateEquals": (_date(lambda a, b: a == b), False),
    "DateNotEquals": (_date(lambda a, b: a == b), True),
    "DateLessThan": (_date(lambda a, b: a < b), False),
    "DateLessThanEquals": (_date(lambda a, b: a <= b), False),
    "DateGreaterThan": (_date(lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_date(lambda a, b: a >= b), False),
    "Bool": (_bool, False),
    "BinaryEquals": (_binary, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_arn, False),
    "ArnNotEquals": (_arn, True),
    "ArnLike": (_arn, False),
    "ArnNotLike": (_arn, True),
}


def split_operator(operator: str) -> tuple[str | None, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> ("ForAnyValue", "StringLike", True)."""
    qualifier = None
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if operator.startswith(prefix):
            qualifier = prefix[:-1]
            operator = operator[len(prefix):]
            break
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    if if_exists:
        operator = operator[: -len("IfExists")]
    return qualifier, operator, if_exists


def known_operator(operator: str) -> bool:
    qualifier, base, if_exists = split_operator(operator)
    if base == "Null":
        return qualifier is None and not if_exists
    return base in _OPERATORS


def condition_matches(operator: str, key: str, policy_values: Sequence[str], ctx: Context, subst: bool = True) -> bool:
    """One operator over one key (``ctx`` keys are lower-case, values lists of strings)."""
    qualifier, base, if_exists = split_operator(operator)
    values = ctx.get(key.lower())
    if base == "Null":
        absent = not values
        return any((pv.lower() == "true") == absent for pv in policy_values)
    matcher, negated = _OPERATORS[base]
    if not values:
        if if_exists or qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return negated

    def positive(value: str) -> bool:
        return any(matcher(value, pv, ctx, subst) for pv in policy_values)

    if qualifier is None:
        hit = any(positive(v) for v in values)
        return not hit if negated else hit
    results = ((not positive(v)) if negated else positive(v) for v in values)
    return any(results) if qualifier == "ForAnyValue" else all(results)


def conditions_match(blocks: Sequence[tuple[str, Sequence[tuple[str, Sequence[str]]]]], ctx: Context,
                     subst: bool = True) -> bool:
    return all(
        condition_matches(operator, key, values, ctx, subst)
        for operator, keys in blocks
        for key, values in keys
    )
