"""Item operations on the provider: Put/Get/Update/Delete, conditions, ReturnValues, capacity, keys."""

from __future__ import annotations

from typing import Any




def test_put_get_delete_with_return_values(ddb: Any) -> None:
    ddb.create()
    assert ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "n": {"N": "1.50"}}) == {}
    out = ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "n": {"N": "2"}}, ReturnValues="ALL_OLD")
    assert out == {"Attributes": {"pk": {"S": "a"}, "n": {"N": "1.5"}}}
    assert ddb("GetItem", TableName="tbl", Key={"pk": {"S": "a"}}) == {"Item": {"pk": {"S": "a"}, "n": {"N": "2"}}}
    assert ddb("GetItem", TableName="tbl", Key={"pk": {"S": "zz"}}) == {}
    out = ddb("DeleteItem", TableName="tbl", Key={"pk": {"S": "a"}}, ReturnValues="ALL_OLD")
    assert out["Attributes"]["n"] == {"N": "2"}
    assert ddb("DeleteItem", TableName="tbl", Key={"pk": {"S": "a"}}, ReturnValues="ALL_OLD") == {}
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": "a"}}, ReturnValues="ALL_NEW")
    assert (err.code, err.message) == ("ValidationException", "Return values set to invalid value")


def test_missing_table(ddb: Any) -> None:
    err = ddb.error("PutItem", TableName="nope", Item={"pk": {"S": "a"}})
    assert (err.code, err.message) == ("ResourceNotFoundException", "Requested resource not found")


def test_key_rules(ddb: Any) -> None:
    ddb.create(range_type="N")
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": "a"}})
    assert err.message == "One or more parameter values were invalid: Missing the key sk in the item"
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"N": "1"}, "sk": {"N": "1"}})
    assert err.message == "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": ""}, "sk": {"N": "1"}})
    assert err.message == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
        "empty string value. Key: pk"
    )
    for key in ({"pk": {"S": "a"}}, {"pk": {"S": "a"}, "sk": {"S": "1"}}, {"pk": {"S": "a"}, "sk": {"N": "1"}, "x": {"S": "y"}}):
        err = ddb.error("GetItem", TableName="tbl", Key=key)
        assert err.message == "The provided key element does not match the schema"
    # Empty strings are fine outside keys.
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "e": {"S": ""}})


def test_item_size_limit(ddb: Any) -> None:
    ddb.create()
    # 400 KB exactly: name "pk"(2) + "a"(1) + name "v"(1) + value.
    limit = 400 * 1024
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "v": {"S": "x" * (limit - 4)}})
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "v": {"S": "x" * (limit - 3)}})
    assert err.message == "Item size has exceeded the maximum allowed size"
    err = ddb.error("UpdateItem", TableName="tbl", Key={"pk": {"S": "a"}}, UpdateExpression="SET w = :w",
                    ExpressionAttributeValues={":w": {"S": "yy"}})
    assert err.message == "Item size to update has exceeded the maximum allowed size"


def test_conditions_and_failure_item(ddb: Any) -> None:
    ddb.create()
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "1"}}, ConditionExpression="attribute_not_exists(pk)")
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
    assert (err.code, err.message, err.fields) == ("ConditionalCheckFailedException", "The conditional request failed", {})
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": "a"}}, ConditionExpression="v = :two",
                    ExpressionAttributeValues={":two": {"N": "2"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert err.fields == {"Item": {"pk": {"S": "a"}, "v": {"N": "1"}}}
    err = ddb.error("DeleteItem", TableName="tbl", Key={"pk": {"S": "a"}}, Expected={"v": {"Value": {"N": "5"}}})
    assert err.code == "ConditionalCheckFailedException"
    ddb("DeleteItem", TableName="tbl", Key={"pk": {"S": "a"}}, Expected={"v": {"Value": {"N": "1"}}})
    assert ddb("GetItem", TableName="tbl", Key={"pk": {"S": "a"}}) == {}


def test_expression_parameter_rules(ddb: Any) -> None:
    ddb.create()
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)",
                    ExpressionAttributeValues={":unused": {"S": "x"}})
    assert err.message == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": "a"}}, ExpressionAttributeNames={"#a": "a"})
    assert err.message == "ExpressionAttributeNames can only be specified when using expressions"
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_exists(#a)",
                    ExpressionAttributeNames={})
    assert err.message == "ExpressionAttributeNames must not be empty"
    err = ddb.error("PutItem", TableName="tbl", Item={"pk": {"S": "a"}}, ConditionExpression="a = :v",
                    Expected={"a": {"Exists": False}}, ExpressionAttributeValues={":v": {"S": "x"}})
    assert err.message == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
    )
    err = ddb.error("GetItem", TableName="tbl", Key={"pk": {"S": "a"}}, ProjectionExpression="pk",
                    ExpressionAttributeNames={"a": "b"})
    assert err.message == 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"'


def test_update_item_upserts_and_returns_values(ddb: Any) -> None:
    ddb.create()
    out = ddb("UpdateItem", TableName="tbl", Key={"pk": {"S": "a"}}, UpdateExpression="SET #c = if_not_exists(#c, :z) + :one",
              ExpressionAttributeNames={"#c": "count"}, ExpressionAttributeValues={":z": {"N": "0"}, ":one": {"N": "1"}},
              ReturnValues="ALL_NEW")
    assert out == {"Attributes": {"pk": {"S": "a"}, "count": {"N": "1"}}}
    out = ddb("UpdateItem", TableName="tbl", Key={"pk": {"S": "a"}}, UpdateExpression="ADD #c :one SET m = :m",
              ExpressionAttributeNames={"#c": "count"}, ExpressionAttributeValues={":one": {"N": "1"}, ":m": {"M": {"x": {"S": "y"}}}},
              ReturnValues="UPDATED_NEW")
    assert out == {"Attributes": {"count": {"N": "2"}, "m": {"M": {"x": {"S": "y"}}}}}
    out = ddb("UpdateItem", TableName="tbl", Key={"pk": {"S": "a"}}, UpdateExpression="SET m.x = :z REMOVE #c",
              ExpressionAttributeNames={"#c": "count"}, ExpressionAttributeValues={":z": {"S": "new"}}, ReturnValues="UPDATED_OLD")
    assert out == {"Attributes": {"m": {"M": {"x": {"S": "y"}}}, "count": {"N": "2"}}}
    out = ddb("UpdateItem", TableName="tbl", Key={"pk": {"S": "a"}}, AttributeUpdates={"tags": {"Action": "ADD", "Value": {"SS": ["q"]}}},
              ReturnValues="ALL_OLD")
    assert out == {"Attributes": {"pk": {"S": "a"}, "m": {"M": {"x": {"S": "new"}}}}}
    err = ddb.error("UpdateItem", TableName="tbl", Key={"pk": {"S": "a"}}, UpdateExpression="SET pk = :v",
                    ExpressionAttributeValues={":v": {"S": "b"}})
    assert err.message == "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    err = ddb.error("UpdateItem", TableName="tbl", Key={"pk": {"S": "zz"}}, UpdateExpression="SET v = :v",
                    ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":v": {"S": "b"}})
    assert err.code == "ConditionalCheckFailedException"
    assert ddb("GetItem", TableName="tbl", Key={"pk": {"S": "zz"}}) == {}


def test_projection_and_attributes_to_get(ddb: Any) -> None:
    ddb.create()
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "l": {"L": [{"N": "1"}, {"M": {"q": {"S": "w"}, "r": {"S": "e"}}}]}, "o": {"S": "x"}})
    out = ddb("GetItem", TableName="tbl", Key={"pk": {"S": "a"}}, ProjectionExpression="l[1].q, o")
    assert out["Item"] == {"l": {"L": [{"M": {"q": {"S": "w"}}}]}, "o": {"S": "x"}}
    out = ddb("GetItem", TableName="tbl", Key={"pk": {"S": "a"}}, AttributesToGet=["pk"])
    assert out["Item"] == {"pk": {"S": "a"}}


def test_consumed_capacity(ddb: Any) -> None:
    ddb.create()
    out = ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "v": {"S": "x" * 2000}}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": "tbl", "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}
    out = ddb("GetItem", TableName="tbl", Key={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": "tbl", "CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}
    out = ddb("GetItem", TableName="tbl", Key={"pk": {"S": "a"}}, ConsistentRead=True, ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"] == {"TableName": "tbl", "CapacityUnits": 1.0, "ReadCapacityUnits": 1.0,
                                       "Table": {"CapacityUnits": 1.0, "ReadCapacityUnits": 1.0}}
    out = ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["WriteCapacityUnits"] == 2.0, "a replacing write costs the larger of old and new"


def test_gsi_and_lsi_are_maintained(ddb: Any) -> None:
    ddb.create("idx", range_type="S", ExtraAttributes=[{"AttributeName": "g", "AttributeType": "S"},
                                                      {"AttributeName": "l", "AttributeType": "N"}],
               GlobalSecondaryIndexes=[{"IndexName": "gi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["keep"]}}],
               LocalSecondaryIndexes=[{"IndexName": "li", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                       {"AttributeName": "l", "KeyType": "RANGE"}],
                                       "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    ddb("PutItem", TableName="idx", Item={"pk": {"S": "p"}, "sk": {"S": "1"}, "g": {"S": "G"}, "l": {"N": "3"}, "keep": {"S": "k"}, "drop": {"S": "d"}})
    ddb("PutItem", TableName="idx", Item={"pk": {"S": "p"}, "sk": {"S": "2"}, "l": {"N": "1"}})
    out = ddb("Query", TableName="idx", IndexName="gi", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "G"}})
    assert out["Items"] == [{"pk": {"S": "p"}, "sk": {"S": "1"}, "g": {"S": "G"}, "keep": {"S": "k"}}]
    out = ddb("Query", TableName="idx", IndexName="li", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert [i["sk"]["S"] for i in out["Items"]] == ["2", "1"], "LSI order is by the index sort key"
    out = ddb("Query", TableName="idx", IndexName="li", KeyConditionExpression="pk = :p", Select="ALL_ATTRIBUTES",
              ExpressionAttributeValues={":p": {"S": "p"}})
    assert out["Items"][1]["drop"] == {"S": "d"}, "an LSI fetches unprojected attributes from the table"
    ddb("UpdateItem", TableName="idx", Key={"pk": {"S": "p"}, "sk": {"S": "1"}}, UpdateExpression="REMOVE g")
    out = ddb("Query", TableName="idx", IndexName="gi", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "G"}})
    assert out["Count"] == 0
    err = ddb.error("PutItem", TableName="idx", Item={"pk": {"S": "p"}, "sk": {"S": "3"}, "g": {"N": "1"}})
    assert err.message == "One or more parameter values were invalid: Type mismatch for Index Key g Expected: S Actual: N IndexName: gi"
    desc = ddb("DescribeTable", TableName="idx")["Table"]
    assert desc["GlobalSecondaryIndexes"][0]["ItemCount"] == 0 and desc["LocalSecondaryIndexes"][0]["ItemCount"] == 2
    err = ddb.error("Query", TableName="idx", IndexName="gi", ConsistentRead=True, KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "G"}})
    assert err.message == "Consistent reads are not supported on global secondary indexes"


def test_index_write_capacity(ddb: Any) -> None:
    ddb.create("cap", ExtraAttributes=[{"AttributeName": "g", "AttributeType": "S"}],
               GlobalSecondaryIndexes=[{"IndexName": "gi", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                        "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    out = ddb("PutItem", TableName="cap", Item={"pk": {"S": "a"}, "g": {"S": "x"}, "big": {"S": "y" * 3000}},
              ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"] == {
        "TableName": "cap", "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0,
        "Table": {"CapacityUnits": 3.0, "WriteCapacityUnits": 3.0},
        "GlobalSecondaryIndexes": {"gi": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}},
    }
    out = ddb("UpdateItem", TableName="cap", Key={"pk": {"S": "a"}}, UpdateExpression="SET g = :h",
              ExpressionAttributeValues={":h": {"S": "z"}}, ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"]["GlobalSecondaryIndexes"] == {"gi": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}}
    out = ddb("PutItem", TableName="cap", Item={"pk": {"S": "b"}}, ReturnConsumedCapacity="INDEXES")
    assert "GlobalSecondaryIndexes" not in out["ConsumedCapacity"], "a sparse index is not written"
