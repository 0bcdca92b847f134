"""Attribute values: numbers (precision, range, canonical form), sets, validation messages, sizes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awsemu.services.dynamodb.attribute_values import (
    NUMBER_CONTEXT,
    canonical_number,
    item_size,
    number_size,
    validate_expression_values,
    validate_item,
    validate_value,
    values_equal,
)
from awsemu.services.dynamodb.errors import ValidationException


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("1.50", "1.5"),
        ("00042", "42"),
        ("-0", "0"),
        ("0.000", "0"),
        ("1.5E2", "150"),
        ("1e2", "100"),
        ("-1.0", "-1"),
        ("+7", "7"),
        (".5", "0.5"),
        ("1E-130", "0." + "0" * 129 + "1"),
        ("9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999" + "0" * 88),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
    ],
)
def test_numbers_come_back_in_canonical_form(raw: str, canonical: str) -> None:
    assert canonical_number(raw) == canonical


@pytest.mark.parametrize(
    "raw, message",
    [
        ("123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number"),
        ("1E126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("-1E126", "Number overflow. Attempting to store a number with magnitude larger than supported range"),
        ("1E-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range"),
        ("abc", "A value provided cannot be converted into a number"),
        ("", "A value provided cannot be converted into a number"),
        (" 1", "A value provided cannot be converted into a number"),
        ("Infinity", "A value provided cannot be converted into a number"),
        ("NaN", "A value provided cannot be converted into a number"),
        ("1_000", "A value provided cannot be converted into a number"),
    ],
)
def test_invalid_numbers_are_refused_with_dynamodb_words(raw: str, message: str) -> None:
    with pytest.raises(ValidationException) as exc:
        canonical_number(raw)
    assert exc.value.message == message


def test_trailing_zeros_do_not_count_as_significant_digits() -> None:
    assert canonical_number("1" + "0" * 100) == "1" + "0" * 100
    assert canonical_number("1234567890123456789012345678901234567800") == "1234567890123456789012345678901234567800"


def _storable(d: Decimal) -> bool:
    return d == 0 or (-130 <= d.adjusted() <= 125 and len(d.normalize(NUMBER_CONTEXT).as_tuple().digits) <= 38)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(_storable))
def test_canonical_form_is_idempotent_and_value_preserving(value) -> None:  # type: ignore[no-untyped-def]
    text = canonical_number(str(value))
    assert canonical_number(text) == text
    assert Decimal(text) == value
    assert "E" not in text and "e" not in text


@pytest.mark.parametrize(
    "value, message",
    [
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"),
        ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
        ({"NS": []}, "One or more parameter values were invalid: An number set  may not be empty"),
        ({"BS": []}, "One or more parameter values were invalid: Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, "One or more parameter values were invalid: Input collection [a, a] contains duplicates."),
        ({"NS": ["1", "1.0"]}, "One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates."),
        ({"NULL": False}, "One or more parameter values were invalid: Null attribute value types must have the value of true"),
        ({"L": [{"N": "x"}]}, "A value provided cannot be converted into a number"),
        ({"M": {"a": {"SS": []}}}, "One or more parameter values were invalid: An string set  may not be empty"),
    ],
)
def test_invalid_values(value: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationException) as exc:
        validate_value(value)
    assert exc.value.message == message


def test_nested_values_are_canonicalised() -> None:
    item = validate_item({"m": {"M": {"n": {"N": "01.10"}, "l": {"L": [{"NS": ["2.0", "1e1"]}]}}}, "b": {"B": b"\x00"}})
    assert item == {"m": {"M": {"n": {"N": "1.1"}, "l": {"L": [{"NS": ["2", "10"]}]}}}, "b": {"B": b"\x00"}}


def test_expression_values_wrap_their_errors() -> None:
    with pytest.raises(ValidationException) as exc:
        validate_expression_values({":v": {"SS": []}})
    assert exc.value.message == (
        "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: "
        "An string set  may not be empty for key :v"
    )


@pytest.mark.parametrize(
    "number, size",
    [("1", 2), ("12", 2), ("123", 3), ("100", 2), ("123.45", 4), ("-1", 3), ("0.001", 2), ("12345678901234567890123456789012345678", 20)],
)
def test_number_sizes(number: str, size: int) -> None:
    assert number_size(canonical_number(number)) == size


def test_item_size_counts_names_and_values_the_aws_way() -> None:
    item = {
        "id": {"S": "abc"},  # 2 + 3
        "bin": {"B": b"\x01\x02"},  # 3 + 2
        "ok": {"BOOL": True},  # 2 + 1
        "nil": {"NULL": True},  # 3 + 1
        "l": {"L": [{"S": "x"}, {"N": "1"}]},  # 1 + 3 + (1+1) + (1+2)
        "m": {"M": {"k": {"S": "vv"}}},  # 1 + 3 + (1 + 1 + 2)
        "ss": {"SS": ["a", "bc"]},  # 2 + 3
        "é": {"S": "é"},  # 2 + 2
    }
    assert item_size(item) == 5 + 5 + 3 + 4 + 9 + 8 + 5 + 4


def test_equality_ignores_set_order_but_not_types() -> None:
    assert values_equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert not values_equal({"S": "1"}, {"N": "1"})
    assert values_equal({"M": {"a": {"L": [{"N": "1"}]}}}, {"M": {"a": {"L": [{"N": "1"}]}}})
    assert not values_equal({"L": [{"N": "1"}, {"N": "2"}]}, {"L": [{"N": "2"}, {"N": "1"}]})
