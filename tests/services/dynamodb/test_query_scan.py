"""Query and Scan on the provider: key conditions as ranges, order, paging, filters, Select, segments."""

from __future__ import annotations

from typing import Any

import pytest




@pytest.fixture
def filled(ddb: Any) -> Any:
    ddb.create("qtab", range_type="N")
    for i in range(30):
        ddb("PutItem", TableName="qtab", Item={"pk": {"S": "p"}, "sk": {"N": str(i - 10)}, "even": {"BOOL": i % 2 == 0}})
    ddb("PutItem", TableName="qtab", Item={"pk": {"S": "other"}, "sk": {"N": "1"}})
    return ddb


def sks(out: dict[str, Any]) -> list[int]:
    return [int(i["sk"]["N"]) for i in out["Items"]]


def q(ddb: Any, expr: str, **kw: Any) -> dict[str, Any]:
    values = {":p": {"S": "p"}, **kw.pop("values", {})}
    return ddb("Query", TableName="qtab", KeyConditionExpression=expr, ExpressionAttributeValues=values, **kw)


def test_sort_key_conditions_are_ranges(filled: Any) -> None:
    assert sks(q(filled, "pk = :p")) == list(range(-10, 20))
    assert sks(q(filled, "pk = :p AND sk < :v", values={":v": {"N": "-8"}})) == [-10, -9]
    assert sks(q(filled, "pk = :p AND sk <= :v", values={":v": {"N": "-8"}})) == [-10, -9, -8]
    assert sks(q(filled, "pk = :p AND sk > :v", values={":v": {"N": "17"}})) == [18, 19]
    assert sks(q(filled, "pk = :p AND sk >= :v", values={":v": {"N": "17.5"}})) == [18, 19]
    assert sks(q(filled, "pk = :p AND sk = :v", values={":v": {"N": "3"}})) == [3]
    assert sks(q(filled, "pk = :p AND sk BETWEEN :a AND :b", values={":a": {"N": "-1"}, ":b": {"N": "2"}})) == [-1, 0, 1, 2]
    assert sks(q(filled, ":p = pk AND :v > sk", values={":v": {"N": "-9"}})) == [-10]
    assert sks(q(filled, "(pk = :p) AND (sk < :v)", values={":v": {"N": "-9"}})) == [-10]


def test_begins_with_on_strings(ddb: Any) -> None:
    ddb.create("stab", range_type="S")
    for sk in ["a", "ab", "abc", "abd", "ac", "b", "a\U0010ffff"]:
        ddb("PutItem", TableName="stab", Item={"pk": {"S": "p"}, "sk": {"S": sk}})
    out = ddb("Query", TableName="stab", KeyConditionExpression="pk = :p AND begins_with(sk, :b)",
              ExpressionAttributeValues={":p": {"S": "p"}, ":b": {"S": "ab"}})
    assert [i["sk"]["S"] for i in out["Items"]] == ["ab", "abc", "abd"]
    out = ddb("Query", TableName="stab", KeyConditionExpression="pk = :p AND begins_with(sk, :b)",
              ExpressionAttributeValues={":p": {"S": "p"}, ":b": {"S": "a"}})
    assert [i["sk"]["S"] for i in out["Items"]] == ["a", "ab", "abc", "abd", "ac", "a\U0010ffff"]


def test_reverse_limit_and_paging(filled: Any) -> None:
    out = q(filled, "pk = :p", ScanIndexForward=False, Limit=3)
    assert sks(out) == [19, 18, 17]
    assert out["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "17"}}
    out = q(filled, "pk = :p", ScanIndexForward=False, Limit=3, ExclusiveStartKey=out["LastEvaluatedKey"])
    assert sks(out) == [16, 15, 14]
    seen: list[int] = []
    start = None
    pages = 0
    while True:
        kw = {"ExclusiveStartKey": start} if start else {}
        out = q(filled, "pk = :p", Limit=7, **kw)
        seen += sks(out)
        pages += 1
        start = out.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == list(range(-10, 20)) and pages == 5


def test_filter_select_and_counts(filled: Any) -> None:
    out = q(filled, "pk = :p", FilterExpression="even = :t", values={":t": {"BOOL": True}}, Limit=10)
    assert out["Count"] == 5 and out["ScannedCount"] == 10
    out = q(filled, "pk = :p", Select="COUNT")
    assert out == {"Count": 30, "ScannedCount": 30}
    out = q(filled, "pk = :p AND sk = :v", ProjectionExpression="even", values={":v": {"N": "0"}})
    assert out["Items"] == [{"even": {"BOOL": True}}]
    err = filled.error("Query", TableName="qtab", KeyConditionExpression="pk = :p", FilterExpression="sk > :v",
                       ExpressionAttributeValues={":p": {"S": "p"}, ":v": {"N": "1"}})
    assert err.message == "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    out = filled("Query", TableName="qtab", KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
                                                        "sk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "17"}]}})
    assert sks(out) == [18, 19]


@pytest.mark.parametrize(
    "expr, values, message",
    [
        ("sk = :v", {":v": {"N": "1"}}, "Query condition missed key schema element: pk"),
        ("pk = :p OR sk = :v", {":v": {"N": "1"}}, "Invalid operator used in KeyConditionExpression: OR"),
        ("pk = :p AND sk <> :v", {":v": {"N": "1"}}, "Invalid operator used in KeyConditionExpression: <>"),
        ("pk = :p AND sk = :v", {":v": {"S": "1"}}, "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("pk = :p AND begins_with(sk, :v)", {":v": {"S": "1"}}, "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("pk = :p AND sk > :v AND sk < :v", {":v": {"N": "1"}}, "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key"),
        ("pk = :p AND oth = :v", {":v": {"N": "1"}}, "Query condition missed key schema element: sk"),
    ],
)
def test_key_condition_errors(filled: Any, expr: str, values: dict[str, Any], message: str) -> None:
    if ":p" in expr:
        values = {":p": {"S": "p"}, **values}
    err = filled.error("Query", TableName="qtab", KeyConditionExpression=expr, ExpressionAttributeValues=values)
    assert err.message == message


def test_missing_key_condition(filled: Any) -> None:
    err = filled.error("Query", TableName="qtab")
    assert err.message == "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."


def test_scan_paging_segments_and_filters(ddb: Any) -> None:
    ddb.create("stab", hash_type="N")
    for i in range(200):
        ddb("PutItem", TableName="stab", Item={"pk": {"N": str(i)}, "mod": {"N": str(i % 3)}})
    everything: list[int] = []
    start = None
    while True:
        out = ddb("Scan", TableName="stab", Limit=45, **({"ExclusiveStartKey": start} if start else {}))
        everything += [int(i["pk"]["N"]) for i in out["Items"]]
        start = out.get("LastEvaluatedKey")
        if not start:
            break
    assert sorted(everything) == list(range(200))
    assert everything != sorted(everything), "scan order follows the partition hash, not the key"
    segments = [sorted(int(i["pk"]["N"]) for i in ddb("Scan", TableName="stab", Segment=s, TotalSegments=4)["Items"]) for s in range(4)]
    assert sorted(sum(segments, [])) == list(range(200)) and all(segments)
    out = ddb("Scan", TableName="stab", FilterExpression="#m = :z", ExpressionAttributeNames={"#m": "mod"},
              ExpressionAttributeValues={":z": {"N": "0"}})
    assert out["Count"] == 67 and out["ScannedCount"] == 200
    out = ddb("Scan", TableName="stab", ScanFilter={"mod": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "1"}]}}, Select="COUNT")
    assert out == {"Count": 67, "ScannedCount": 200}
    err = ddb.error("Scan", TableName="stab", Segment=4, TotalSegments=4)
    assert err.message == "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4"
    err = ddb.error("Scan", TableName="stab", Segment=1)
    assert err.message == "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"


def test_one_megabyte_page_rule(ddb: Any) -> None:
    ddb.create("big", range_type="N")
    blob = "x" * 100_000
    for i in range(25):
        ddb("PutItem", TableName="big", Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "v": {"S": blob}})
    out = ddb("Query", TableName="big", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert out["Count"] == 11 and out["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "10"}}
    out = ddb("Scan", TableName="big", Select="COUNT", ReturnConsumedCapacity="TOTAL")
    assert out["Count"] == 11
    # 11 items of 100,009 bytes read: ceil(1,100,099 / 4096) = 269 units, halved for an eventual read.
    assert out["ConsumedCapacity"]["ReadCapacityUnits"] == 134.5
