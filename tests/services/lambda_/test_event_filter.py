"""The FilterCriteria pattern language of event source mappings (event_filter.py), as pure functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from awsemu.services.lambda_.errors import InvalidParameterValueException
from awsemu.services.lambda_.event_filter import matches_any, parse_criteria


def _matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    return matches_any(parse_criteria({"Filters": [{"Pattern": json.dumps(pattern)}]}), record)


RECORD = {"body": {"kind": "order", "amount": 20, "tags": ["a", "b"], "note": None, "flag": True},
          "attributes": {"SenderId": "AIDA123"}}


@pytest.mark.parametrize("pattern, expected", [
    ({"body": {"kind": ["order"]}}, True),
    ({"body": {"kind": ["refund", "order"]}}, True),
    ({"body": {"kind": ["refund"]}}, False),
    ({"body": {"kind": [{"prefix": "ord"}]}}, True),
    ({"body": {"kind": [{"prefix": "x"}]}}, False),
    ({"body": {"kind": [{"suffix": "der"}]}}, True),
    ({"body": {"kind": [{"equals-ignore-case": "ORDER"}]}}, True),
    ({"body": {"amount": [{"numeric": [">", 10, "<=", 20]}]}}, True),
    ({"body": {"amount": [{"numeric": [">", 20]}]}}, False),
    ({"body": {"amount": [{"numeric": ["=", 20]}]}}, True),
    ({"body": {"amount": [20]}}, True),
    ({"body": {"kind": [{"numeric": [">", 0]}]}}, False),
    ({"body": {"missing": [{"exists": False}]}}, True),
    ({"body": {"missing": [{"exists": True}]}}, False),
    ({"body": {"kind": [{"exists": True}]}}, True),
    ({"body": {"kind": [{"exists": False}]}}, False),
    ({"body": {"kind": [{"anything-but": ["refund"]}]}}, True),
    ({"body": {"kind": [{"anything-but": "order"}]}}, False),
    ({"body": {"kind": [{"anything-but": {"prefix": "or"}}]}}, False),
    ({"body": {"tags": ["b"]}}, True),
    ({"body": {"tags": ["c"]}}, False),
    ({"body": {"note": [None]}}, True),
    ({"body": {"flag": [True]}}, True),
    ({"body": {"flag": [1]}}, False),
    ({"body": {"kind": ["order"], "amount": [{"numeric": ["<", 10]}]}}, False),
    ({"attributes": {"SenderId": [{"prefix": "AIDA"}]}}, True),
    ({"body": {"kind": {"deeper": ["x"]}}}, False),
    ({"body": {"missing": ["x"]}}, False),
])
def test_pattern_matchers(pattern: dict[str, Any], expected: bool) -> None:
    assert _matches(pattern, RECORD) is expected


def test_any_filter_passes_and_no_filter_passes_everything() -> None:
    patterns = parse_criteria({"Filters": [{"Pattern": json.dumps({"body": {"kind": ["x"]}})},
                                           {"Pattern": json.dumps({"body": {"kind": ["order"]}})}]})
    assert matches_any(patterns, RECORD)
    assert matches_any(parse_criteria(None), RECORD)
    assert matches_any(parse_criteria({"Filters": []}), RECORD)


@pytest.mark.parametrize("text", ["not json", "[1]", json.dumps({"body": {"kind": "order"}})])
def test_malformed_patterns_are_invalid_parameters(text: str) -> None:
    with pytest.raises(InvalidParameterValueException):
        parse_criteria({"Filters": [{"Pattern": text}]})
