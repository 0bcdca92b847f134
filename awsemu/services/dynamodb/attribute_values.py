"""DynamoDB attribute values: validation, canonical numbers, ordering, equality and item size.

Values travel as the JSON trees of the wire format (``{"S": "x"}``, ``{"N": "1.5"}``,
``{"B": b"..."}``, ``{"SS": [...]}``, ``{"M": {...}}``, ``{"L": [...]}``, ``{"NULL": True}``,
``{"BOOL": False}``); the codec has already base64-decoded binaries. Everything stored is first
passed through :func:`validate_item`, which returns a canonical copy: numbers in DynamoDB's output
form (no exponent, no leading/trailing zeros, ``-0`` is ``0``), so two equal numbers are equal
strings and comparisons elsewhere can stay cheap.

Numbers: up to 38 significant digits, magnitude between 1E-130 and 9.99..E+125 (developer guide,
"Naming rules and data types"). Sizes follow "Item sizes and formats": names count their UTF-8
bytes, strings their UTF-8 bytes, binaries their length, a number 1 byte plus one byte per two
significant digits of its integer part and of its fraction part (+1 if negative), a boolean or null
1 byte, a list or map 3 bytes plus 1 byte per element.
"""

from __future__ import annotations

import base64
import functools
import re
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from awsemu.services.dynamodb.errors import ValidationException

MAX_ITEM_SIZE = 400 * 1024
MAX_DEPTH = 32
SCALAR_TYPES = frozenset({"S", "N", "B"})
ALL_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})

# Wide enough that no operation on 38-digit operands ever rounds; results are then checked.
NUMBER_CONTEXT = Context(prec=300, Emax=999999, Emin=-999999)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_INVALID = "One or more parameter values were invalid: "


def parse_number(text: str) -> Decimal:
    """A validated Decimal from a wire number; raises DynamoDB's ValidationException otherwise."""
    if not isinstance(text, str) or not _NUMBER_RE.match(text):
        raise ValidationException("A value provided cannot be converted into a number")
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already excludes these
        raise ValidationException("A value provided cannot be converted into a number") from None
    check_number(value)
    return value


def check_number(value: Decimal) -> None:
    if not value:
        return
    digits = value.normalize(NUMBER_CONTEXT).as_tuple().digits
    if len(digits) > 38:
        raise ValidationException("Attempting to store more than 38 significant digits in a Number")
    exponent = value.adjusted()
    if exponent > 125:
        raise ValidationException(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if exponent < -130:
        raise ValidationException(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )


def format_number(value: Decimal) -> str:
    """DynamoDB's output form: plain notation, no superfluous zeros, no negative zero."""
    if not value:
        return "0"
    text = format(value.normalize(NUMBER_CONTEXT), "f")
    return text


# An integer without leading zeros and of at most 38 digits is valid and already canonical.
_CANONICAL_INTEGER = re.compile(r"(?:0|-?[1-9]\d{0,37})\Z")


def canonical_number(text: str) -> str:
    if isinstance(text, str) and _CANONICAL_INTEGER.match(text):
        return text
    return format_number(parse_number(text))


def type_of(value: dict[str, Any]) -> str:
    for key in value:
        return key
    raise ValidationException("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")


def _to_bytes(raw: Any) -> bytes:
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw)
    if isinstance(raw, str):  # a caller that did not decode base64 (direct provider calls)
        return base64.b64decode(raw)
    raise ValidationException("Invalid binary value")


def validate_value(value: Any, depth: int = 0) -> dict[str, Any]:
    """Check one AttributeValue tree and return its canonical copy."""
    if not isinstance(value, dict) or not value:
        raise ValidationException(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    if len(value) > 1:
        raise ValidationException(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
        )
    if depth > MAX_DEPTH:
        raise ValidationException("Nesting Levels have exceeded supported limits")
    kind, raw = next(iter(value.items()))
    if kind == "S":
        if not isinstance(raw, str):
            raise ValidationException("Invalid string value")
        return value
    if kind == "N":
        return {"N": canonical_number(raw)}
    if kind == "B":
        return {"B": _to_bytes(raw)}
    if kind == "BOOL":
        return {"BOOL": bool(raw)}
    if kind == "NULL":
        if raw is not True:
            raise ValidationException(_INVALID + "Null attribute value types must have the value of true")
        return value
    if kind == "SS":
        if not raw:
            raise ValidationException(_INVALID + "An string set  may not be empty")
        _no_duplicates(raw, raw)
        return {"SS": list(raw)}
    if kind == "NS":
        if not raw:
            raise ValidationException(_INVALID + "An number set  may not be empty")
        numbers = [canonical_number(n) for n in raw]
        _no_duplicates(numbers, raw)
        return {"NS": numbers}
    if kind == "BS":
        if not raw:
            raise ValidationException(_INVALID + "Binary sets should not be empty")
        blobs = [_to_bytes(b) for b in raw]
        _no_duplicates(blobs, [base64.b64encode(b).decode() for b in blobs])
        return {"BS": blobs}
    if kind == "L":
        return {"L": [validate_value(v, depth + 1) for v in raw]}
    if kind == "M":
        return {"M": {k: validate_value(v, depth + 1) for k, v in raw.items()}}
    raise ValidationException(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
    )


def _no_duplicates(members: list[Any], shown: list[Any]) -> None:
    if len(set(members)) != len(members):
        raise ValidationException(
            _INVALID + "Input collection [" + ", ".join(str(s) for s in shown) + "] contains duplicates."
        )


def validate_item(item: Any) -> dict[str, dict[str, Any]]:
    """The canonical copy of an item. A string attribute (most of them) is already canonical, so
    it is taken as it is without a call; everything else goes through :func:`validate_value`."""
    if not isinstance(item, dict):
        raise ValidationException("Item must be a map")
    out = {}
    for name, value in item.items():
        if type(value) is dict and len(value) == 1 and type(value.get("S")) is str:
            out[name] = value
        else:
            out[name] = validate_value(value)
    return out


def validate_expression_values(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """ExpressionAttributeValues, with DynamoDB's wrapper around each value's error."""
    out = {}
    for key, v in values.items():
        try:
            out[key] = validate_value(v)
        except ValidationException as exc:
            raise ValidationException(
                f"ExpressionAttributeValues contains invalid value: {exc.message} for key {key}"
            ) from None
    return out


# --- sizes -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def number_size(text: str) -> int:
    negative = text.startswith("-")
    digits = text.lstrip("-")
    integer, _, fraction = digits.partition(".")
    integer = integer.lstrip("0")
    if fraction:
        fraction = fraction.rstrip("0")
        if not integer:
            fraction = fraction.lstrip("0")
    else:
        integer = integer.rstrip("0")
    size = 1 + (len(integer) + 1) // 2 + (len(fraction) + 1) // 2
    return size + (1 if negative else 0)


def value_size(value: dict[str, Any]) -> int:
    kind, raw = next(iter(value.items()))
    if kind == "S":
        return len(raw.encode("utf-8")) if not raw.isascii() else len(raw)
    if kind == "N":
        return number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in raw)
    if kind == "NS":
        return sum(number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in raw.items())
    return 0


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """Bytes as DynamoDB counts them (400 KB limit, capacity units, table size). Strings and numbers,
    the common attributes, are sized inline: this runs several times per written item."""
    total = 0
    for name, value in item.items():
        total += len(name) if name.isascii() else len(name.encode("utf-8"))
        for kind, raw in value.items():
            if kind == "S":
                total += len(raw) if raw.isascii() else len(raw.encode("utf-8"))
            elif kind == "N":
                total += number_size(raw)
            else:
                total += value_size(value)
            break
    return total


# --- ordering and equality ---------------------------------------------------------------------


def scalar_sort_key(value: dict[str, Any]) -> Any:
    """Python value ordering like DynamoDB orders a scalar of one type (N numeric, S/B by bytes)."""
    kind, raw = next(iter(value.items()))
    if kind == "N":
        return Decimal(raw)
    return raw  # str compares by code point == UTF-8 byte order; bytes compare unsigned


def values_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equality of two canonical values: same type and same content (sets ignore order)."""
    ka, ra = next(iter(a.items()))
    kb, rb = next(iter(b.items()))
    if ka != kb:
        return False
    if ka in ("SS", "NS", "BS"):
        return len(ra) == len(rb) and set(ra) == set(rb)
    if ka == "L":
        return len(ra) == len(rb) and all(values_equal(x, y) for x, y in zip(ra, rb))
    if ka == "M":
        return ra.keys() == rb.keys() and all(values_equal(ra[k], rb[k]) for k in ra)
    return bool(ra == rb)


def key_of(item: dict[str, Any], key_names: tuple[str, ...]) -> dict[str, Any]:
    return {name: item[name] for name in key_names if name in item}
