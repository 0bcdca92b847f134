"""The expression engine: parsing, alias checks, evaluation, updates, projections, legacy forms."""

from __future__ import annotations

from typing import Any

import pytest

from awsemu.services.dynamodb.errors import ValidationException
from awsemu.services.dynamodb.expressions import ExpressionContext, apply_update, compile_condition, project
from awsemu.services.dynamodb.expressions import legacy

ITEM: dict[str, Any] = {
    "id": {"S": "user#1"},
    "age": {"N": "42"},
    "name": {"S": "Ada"},
    "bin": {"B": b"\x01\x02\x03"},
    "tags": {"SS": ["a", "b"]},
    "nums": {"NS": ["1", "2.5"]},
    "lst": {"L": [{"S": "x"}, {"N": "7"}, {"M": {"deep": {"S": "yes"}}}]},
    "map": {"M": {"inr": {"M": {"n": {"N": "-3"}}}, "s": {"S": "hello world"}}},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
}

VALUES: dict[str, Any] = {
    ":42": {"N": "42"},
    ":41": {"N": "41"},
    ":43": {"N": "43"},
    ":ada": {"S": "Ada"},
    ":A": {"S": "A"},
    ":a": {"S": "a"},
    ":x": {"S": "x"},
    ":7": {"N": "7"},
    ":3": {"N": "3"},
    ":two": {"N": "2"},
    ":b12": {"B": b"\x01\x02"},
    ":S": {"S": "S"},
    ":SS": {"S": "SS"},
    ":L": {"S": "L"},
    ":hello": {"S": "hello"},
    ":n3": {"N": "-3"},
    ":ss": {"SS": ["b", "a"]},
}
NAMES = {"#n": "name", "#m": "map", "#dotted": "a.b"}


def check(expression: str, item: dict[str, Any] = ITEM) -> bool:
    ctx = ExpressionContext(NAMES, VALUES)
    return compile_condition(ctx.condition(expression))(item)


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("age = :42", True),
        ("age = :41", False),
        ("age <> :41", True),
        ("age > :41", True),
        ("age >= :42", True),
        ("age < :43", True),
        ("age <= :41", False),
        ("#n = :ada", True),
        ("#n > :A", True),  # 'Ada' > 'A' in byte order
        ("#n < :a", True),  # 'A' (0x41) sorts before 'a' (0x61)
        ("age BETWEEN :41 AND :43", True),
        ("age BETWEEN :43 AND :43", False),
        ("age IN (:41, :42)", True),
        ("age IN (:41, :43)", False),
        ("absent = :42", False),
        ("absent <> :42", False),
        ("age = :ada", False),
        ("age <> :ada", True),
        ("age < :ada", False),
        ("tags = :ss", True),
        ("attribute_exists(age)", True),
        ("attribute_exists(absent)", False),
        ("attribute_not_exists(absent)", True),
        ("attribute_exists(#m.inr.n)", True),
        ("attribute_exists(lst[2].deep)", True),
        ("attribute_exists(lst[3])", False),
        ("attribute_exists(#n.subx)", False),
        ("attribute_type(#n, :S)", True),
        ("attribute_type(tags, :SS)", True),
        ("attribute_type(lst, :L)", True),
        ("attribute_type(age, :S)", False),
        ("begins_with(#n, :A)", True),
        ("begins_with(#n, :a)", False),
        ("begins_with(bin, :b12)", True),
        ("begins_with(age, :A)", False),
        ("contains(#m.s, :hello)", True),
        ("contains(tags, :a)", True),
        ("contains(tags, :x)", False),
        ("contains(nums, :two)", False),
        ("contains(lst, :x)", True),
        ("contains(lst, :7)", True),
        ("contains(age, :42)", False),
        ("size(#n) = :3", True),
        ("size(tags) = :two", True),
        ("size(lst) = :3", True),
        ("size(bin) = :3", True),
        ("size(age) = :two", False),
        ("size(absent) <> :two", False),
        ("#m.inr.n = :n3", True),
        ("lst[1] = :7", True),
        ("lst[0] = :x AND lst[1] = :7", True),
        ("age = :41 OR age = :42", True),
        ("NOT age = :41", True),
        ("NOT (age = :41 OR age = :42)", False),
        ("age = :41 AND age = :42 OR #n = :ada", True),  # AND binds tighter than OR
        ("age = :41 AND (age = :42 OR #n = :ada)", False),
        ("NOT age = :41 AND age = :41", False),  # NOT binds tighter than AND
        ("age between :41 and :43", True),  # keywords are case-insensitive
        ("((age = :41 AND age = :42) OR (#n = :ada AND (age = :42)))", True),  # boto3's builder nests like this
    ],
)
def test_condition_evaluation(expression: str, expected: bool) -> None:
    VALUES_USED = ExpressionContext(NAMES, VALUES)
    assert VALUES_USED is not None
    assert check(expression) is expected


def error_of(fn: Any) -> str:
    with pytest.raises(ValidationException) as exc:
        fn()
    return exc.value.message


@pytest.mark.parametrize(
    "expression, message",
    [
        ("age = = :42", 'Invalid ConditionExpression: Syntax error; token: "=", near: "= = :42"'),
        ("age =", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="'),
        ("age $ :42", 'Invalid ConditionExpression: Syntax error; token: "$", near: "age $ :42"'),
        ("(age = :42", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":42"'),
        ("age = :nope", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"),
        ("#nope = :42", "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope"),
        ("name = :ada", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"),
        ("Size = :42", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Size"),
        ("foo(age)", "Invalid ConditionExpression: Invalid function name; function: foo"),
        ("size(age)", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size"),
        ("attribute_exists(age) = :42", 'Invalid ConditionExpression: Syntax error; token: "=", near: ") = :42"'),
        ("if_not_exists(age, :42) = :42", "Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists"),
        ("begins_with(age)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"),
        ("attribute_exists(:42)", "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists"),
        ("attribute_type(age, :42)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"),
        ("attribute_type(age, :x)", "Invalid ConditionExpression: Invalid attribute type name found in type: x, valid types: {S,SS,N,NS,B,BS,BOOL,NULL,L,M}"),
        ("begins_with(#n, :42)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        ("age < :ss", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: SS"),
        ("age BETWEEN :43 AND :41", "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:43}, upper bound operand: AttributeValue: {N:41}"),
        ("lst[x] = :42", 'Invalid ConditionExpression: Syntax error; token: "x", near: "[x]"'),
        ("", "Invalid ConditionExpression: The expression can not be empty;"),
        ("((age = :42))", "Invalid ConditionExpression: The expression has redundant parentheses;"),
        ("age = :42 AND ((#n = :ada OR #n = :A))", "Invalid ConditionExpression: The expression has redundant parentheses;"),
        ("NOT #n", 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "#n"'),
        ("a-b", 'Invalid ConditionExpression: Syntax error; token: "-", near: "a-b"'),
    ],
)
def test_condition_errors(expression: str, message: str) -> None:
    assert error_of(lambda: ExpressionContext(NAMES, VALUES).condition(expression)) == message


def test_size_of_a_string_counts_utf8_bytes() -> None:
    assert check("size(#n) = :3", {"name": {"S": "é!"}})


def test_alias_for_a_name_with_a_dot_is_one_attribute() -> None:
    assert check("#dotted = :42", {"a.b": {"N": "42"}})
    assert not check("#dotted = :42", {"a": {"M": {"b": {"N": "42"}}}})


def test_unused_names_and_values_are_errors() -> None:
    ctx = ExpressionContext({"#a": "a", "#b": "b"}, {":v": {"N": "1"}})
    ctx.condition("#a = :v")
    assert error_of(ctx.check_unused) == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
    ctx = ExpressionContext({"#a": "a"}, {":v": {"N": "1"}, ":w": {"N": "1"}, ":u": {"N": "2"}})
    ctx.condition("#a = :v")
    assert error_of(ctx.check_unused) == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u, :w}"


def update(expression: str, item: dict[str, Any] = ITEM, values: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx = ExpressionContext(NAMES, {**VALUES, **(values or {})})
    return apply_update(item, ctx.update(expression))


def test_set_with_arithmetic_and_functions() -> None:
    out = update("SET age = age + :two, cnt = if_not_exists(cnt, :3) - :two, lst = list_append(lst, :l)",
                 values={":l": {"L": [{"S": "new"}]}})
    assert out["age"] == {"N": "44"}
    assert out["cnt"] == {"N": "1"}
    assert out["lst"]["L"][-1] == {"S": "new"} and len(out["lst"]["L"]) == 4
    assert ITEM["age"] == {"N": "42"}, "the input item is never modified"


def test_set_reads_the_item_before_the_update() -> None:
    out = update("SET a = b, b = a", {"a": {"N": "1"}, "b": {"N": "2"}})
    assert out == {"a": {"N": "2"}, "b": {"N": "1"}}


def test_set_nested_and_list_index_past_the_end_appends() -> None:
    out = update("SET #m.inr.k = :x, lst[10] = :7, lst[0] = :3")
    assert out["map"]["M"]["inr"]["M"]["k"] == {"S": "x"}
    assert out["lst"]["L"][0] == {"N": "3"} and out["lst"]["L"][-1] == {"N": "7"} and len(out["lst"]["L"]) == 4


def test_remove_attributes_and_list_elements_by_original_position() -> None:
    out = update("REMOVE age, lst[0], lst[2], #m.inr")
    assert "age" not in out
    assert out["lst"] == {"L": [{"N": "7"}]}
    assert out["map"] == {"M": {"s": {"S": "hello world"}}}
    assert update("REMOVE absent.deeper, lst[9]") == ITEM


def test_add_and_delete() -> None:
    out = update("ADD age :two, tags :ss2, fresh :3 DELETE nums :nums", values={
        ":ss2": {"SS": ["b", "c"]}, ":nums": {"NS": ["1", "2.5"]}})
    assert out["age"] == {"N": "44"}
    assert sorted(out["tags"]["SS"]) == ["a", "b", "c"]
    assert out["fresh"] == {"N": "3"}
    assert "nums" not in out, "a set emptied by DELETE disappears"


@pytest.mark.parametrize(
    "expression, message",
    [
        ("SET age = :ada + :two", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"),
        ("SET lst = list_append(lst, :ada)", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S"),
        ("ADD age :ada", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"),
        ("DELETE tags :42", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"),
        ("SET a = :42 SET b = :42", 'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'),
        ("SET a = :42, a.b = :42", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
        ("SET a = :42 REMOVE a", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
        ("SET a.b = :42 REMOVE a[0]", "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]"),
        ("SET a = size(b)", "Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: size"),
        ("UPSERT a = :42", 'Invalid UpdateExpression: Syntax error; token: "UPSERT", near: "UPSERT a"'),
        ("INVALID SYNTAX HERE", 'Invalid UpdateExpression: Syntax error; token: "INVALID", near: "INVALID SYNTAX"'),
        ("SET a :42", 'Invalid UpdateExpression: Syntax error; token: ":42", near: "a :42"'),
        ("ADD a b", 'Invalid UpdateExpression: Syntax error; token: "b", near: "a b"'),
    ],
)
def test_update_parse_errors(expression: str, message: str) -> None:
    assert error_of(lambda: ExpressionContext(NAMES, VALUES).update(expression)) == message


@pytest.mark.parametrize(
    "expression, message",
    [
        ("SET age = #n + :two", "An operand in the update expression has an incorrect data type"),
        ("SET x = absent + :two", "The provided expression refers to an attribute that does not exist in the item"),
        ("SET absent.deeper = :two", "The document path provided in the update expression is invalid for update"),
        ("SET #n[0] = :two", "The document path provided in the update expression is invalid for update"),
        ("ADD #n :two", "An operand in the update expression has an incorrect data type"),
        ("SET lst = list_append(age, lst)", "An operand in the update expression has an incorrect data type"),
    ],
)
def test_update_runtime_errors(expression: str, message: str) -> None:
    assert error_of(lambda: update(expression)) == message


def test_arithmetic_keeps_38_digit_precision_and_range() -> None:
    big = {":big": {"N": "99999999999999999999999999999999999999"}, ":one": {"N": "1"}, ":tiny": {"N": "0.1"}}
    out = update("SET n = :big - :one", {}, big)
    assert out["n"] == {"N": "99999999999999999999999999999999999998"}
    assert error_of(lambda: update("SET n = :big + :tiny", {}, big)) == (
        "Attempting to store more than 38 significant digits in a Number"
    )


def test_projection_of_nested_paths_and_list_elements() -> None:
    ctx = ExpressionContext(NAMES, {})
    paths = ctx.projection("#m.inr.n, lst[2].deep, lst[0], age, absent, lst[7]")
    assert project(ITEM, paths) == {
        "map": {"M": {"inr": {"M": {"n": {"N": "-3"}}}}},
        "lst": {"L": [{"S": "x"}, {"M": {"deep": {"S": "yes"}}}]},
        "age": {"N": "42"},
    }
    assert error_of(lambda: ExpressionContext({}, {}).projection("a, a.b")) == (
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of "
        "these paths; path one: [a], path two: [a, b]"
    )


def test_legacy_expected_and_filters() -> None:
    node = legacy.expected_condition({"age": {"Value": {"N": "42"}}, "gone": {"Exists": False}}, None)
    assert compile_condition(node)(ITEM)
    node = legacy.filter_condition({"age": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "50"}]},
                                    "#n": {"ComparisonOperator": "NULL"}}, "AND")
    assert compile_condition(node)(ITEM)
    node = legacy.filter_condition({"age": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "50"}]},
                                    "tags": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "a"}]}}, "OR")
    assert compile_condition(node)(ITEM)
    assert error_of(lambda: legacy.filter_condition({"age": {"ComparisonOperator": "EQ", "AttributeValueList": []}}, None)) == (
        "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"
    )
    invalid = "One or more parameter values were invalid: "
    for spec, message in [
        ({"Exists": False, "Value": {"N": "1"}}, "Value cannot be used when Exists is false for Attribute: a"),
        ({"Exists": True, "ComparisonOperator": "NULL"}, "Exists and ComparisonOperator cannot be used together for Attribute: a"),
        ({"Value": {"N": "1"}, "AttributeValueList": [{"N": "1"}], "ComparisonOperator": "EQ"},
         "Value and AttributeValueList cannot be used together for Attribute: a"),
        ({"AttributeValueList": [{"N": "1"}]}, "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"),
        ({"ComparisonOperator": "EQ"}, "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"),
        ({}, "Value must be provided when Exists is null for Attribute: a"),
        ({"Exists": True}, "Value must be provided when Exists is true for Attribute: a"),
    ]:
        assert error_of(lambda: legacy.expected_condition({"a": spec}, None)) == invalid + message
    # A ComparisonOperator may take its single operand as Value.
    assert compile_condition(legacy.expected_condition({"age": {"ComparisonOperator": "GT", "Value": {"N": "10"}}}, None))(ITEM)


def test_legacy_attribute_updates() -> None:
    actions = legacy.attribute_updates({
        "age": {"Action": "ADD", "Value": {"N": "1"}},
        "name": {"Action": "DELETE"},
        "tags": {"Action": "DELETE", "Value": {"SS": ["a"]}},
        "new": {"Value": {"S": "v"}},
        "lst": {"Action": "ADD", "Value": {"L": [{"S": "y"}]}},
    })
    out = apply_update(ITEM, actions)
    assert out["age"] == {"N": "43"} and "name" not in out and out["tags"] == {"SS": ["b"]}
    assert out["new"] == {"S": "v"} and out["lst"]["L"][-1] == {"S": "y"}


def test_mixing_legacy_and_expression_parameters() -> None:
    assert error_of(lambda: legacy.check_exclusive(
        {"Expected": {}, "ConditionExpression": "a"}, ("Expected",), ("ConditionExpression",))) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    )
    assert error_of(lambda: legacy.check_exclusive(
        {"ExpressionAttributeNames": {"#a": "a"}}, ("Expected",), ("ConditionExpression",))) == (
        "ExpressionAttributeNames can only be specified when using expressions"
    )
