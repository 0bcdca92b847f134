"""A table ARN wherever a TableName is taken: it names that account's and region's table (so a
table shared by a resource policy is reachable from another account), responses echo the ARN as
sent, and malformed or other-region ARNs fail as DynamoDB fails them."""

from __future__ import annotations

from typing import Any

import pytest

A = "000000000000"
B = "111111111111"


def arn(name: str, account: str = A, region: str = "us-east-1") -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{name}"


def key(value: str) -> dict[str, Any]:
    return {"pk": {"S": value}}


@pytest.fixture
def shared(ddb):
    """Account A's table "music" with one item, and account B's own table of the same name."""
    ddb.create("music")
    ddb("PutItem", TableName="music", Item={**key("a"), "owner": {"S": "A"}})
    ddb.create("music", _account=B)
    ddb("PutItem", TableName="music", Item={**key("a"), "owner": {"S": "B"}}, _account=B)
    return ddb


def test_item_operations_by_arn_reach_the_arn_account_table(shared):
    ddb = shared
    # Account B names A's table by ARN: it reads and writes A's table, not its own "music".
    got = ddb("GetItem", TableName=arn("music"), Key=key("a"), _account=B)
    assert got["Item"]["owner"] == {"S": "A"}
    ddb("PutItem", TableName=arn("music"), Item={**key("b"), "owner": {"S": "from B"}}, _account=B)
    ddb("UpdateItem", TableName=arn("music"), Key=key("b"), UpdateExpression="SET n = :one",
        ExpressionAttributeValues={":one": {"N": "1"}}, _account=B)
    assert ddb("GetItem", TableName="music", Key=key("b"))["Item"]["n"] == {"N": "1"}
    assert "Item" not in ddb("GetItem", TableName="music", Key=key("b"), _account=B)
    assert ddb("Query", TableName=arn("music"), KeyConditionExpression="pk = :a",
               ExpressionAttributeValues={":a": {"S": "a"}}, _account=B)["Items"][0]["owner"] == {"S": "A"}
    assert ddb("Scan", TableName=arn("music"), _account=B)["Count"] == 2
    ddb("DeleteItem", TableName=arn("music"), Key=key("b"), _account=B)
    assert ddb("Scan", TableName="music")["Count"] == 1
    # The owner by its own ARN, and B by its own ARN, are unchanged.
    assert ddb("GetItem", TableName=arn("music"), Key=key("a"))["Item"]["owner"] == {"S": "A"}
    assert ddb("GetItem", TableName=arn("music", B), Key=key("a"), _account=B)["Item"]["owner"] == {"S": "B"}


def test_consumed_capacity_echoes_the_arn_as_sent(shared):
    ddb = shared
    out = ddb("GetItem", TableName=arn("music"), Key=key("a"), ReturnConsumedCapacity="TOTAL", _account=B)
    assert out["ConsumedCapacity"]["TableName"] == arn("music")
    out = ddb("PutItem", TableName=arn("music"), Item=key("c"), ReturnConsumedCapacity="INDEXES", _account=B)
    assert out["ConsumedCapacity"]["TableName"] == arn("music")
    out = ddb("Query", TableName=arn("music"), KeyConditionExpression="pk = :a",
              ExpressionAttributeValues={":a": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["TableName"] == arn("music")
    # By name, the name (the cached table record was not changed by the ARN requests).
    out = ddb("GetItem", TableName="music", Key=key("a"), ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["TableName"] == "music"


def test_batch_maps_keep_the_keys_as_sent(shared):
    ddb = shared
    # One request names A's table by ARN and B's own table by name: two different tables.
    out = ddb("BatchGetItem", RequestItems={arn("music"): {"Keys": [key("a")]}, "music": {"Keys": [key("a")]}},
              ReturnConsumedCapacity="TOTAL", _account=B)
    assert out["Responses"][arn("music")][0]["owner"] == {"S": "A"}
    assert out["Responses"]["music"][0]["owner"] == {"S": "B"}
    assert sorted(c["TableName"] for c in out["ConsumedCapacity"]) == sorted([arn("music"), "music"])
    assert out["UnprocessedKeys"] == {}
    out = ddb("BatchWriteItem", RequestItems={arn("music"): [{"PutRequest": {"Item": key("w")}}],
                                              "music": [{"DeleteRequest": {"Key": key("a")}}]},
              ReturnConsumedCapacity="TOTAL", _account=B)
    assert out["UnprocessedItems"] == {}
    assert sorted(c["TableName"] for c in out["ConsumedCapacity"]) == sorted([arn("music"), "music"])
    assert "Item" in ddb("GetItem", TableName="music", Key=key("w"))
    assert "Item" in ddb("GetItem", TableName="music", Key=key("a"))
    assert "Item" not in ddb("GetItem", TableName="music", Key=key("a"), _account=B)


def test_transactions_by_arn(shared):
    ddb = shared
    ddb("TransactWriteItems", TransactItems=[
        {"Put": {"TableName": arn("music"), "Item": key("t")}},
        {"Update": {"TableName": "music", "Key": key("a"), "UpdateExpression": "SET seen = :y",
                    "ExpressionAttributeValues": {":y": {"BOOL": True}}}},
    ], ReturnConsumedCapacity="TOTAL", _account=B)
    assert "Item" in ddb("GetItem", TableName="music", Key=key("t"))
    assert ddb("GetItem", TableName="music", Key=key("a"), _account=B)["Item"]["seen"] == {"BOOL": True}
    out = ddb("TransactGetItems", TransactItems=[{"Get": {"TableName": arn("music"), "Key": key("a")}},
                                                 {"Get": {"TableName": "music", "Key": key("a")}}],
              ReturnConsumedCapacity="TOTAL", _account=B)
    assert [r["Item"]["owner"]["S"] for r in out["Responses"]] == ["A", "B"]
    assert sorted(c["TableName"] for c in out["ConsumedCapacity"]) == sorted([arn("music"), "music"])
    # The same item named once by name and once by ARN is one item.
    err = ddb.error("TransactGetItems", TransactItems=[{"Get": {"TableName": arn("music"), "Key": key("a")}},
                                                       {"Get": {"TableName": "music", "Key": key("a")}}])
    assert err.code == "ValidationException"


def test_table_operations_by_arn(shared):
    ddb = shared
    desc = ddb("DescribeTable", TableName=arn("music"), _account=B)["Table"]
    assert desc["TableArn"] == arn("music") and desc["ItemCount"] == 1
    ddb("UpdateTable", TableName=arn("music"), DeletionProtectionEnabled=True)
    assert ddb("DescribeTable", TableName="music")["Table"]["DeletionProtectionEnabled"] is True
    assert ddb("DescribeTable", TableName="music", _account=B)["Table"]["DeletionProtectionEnabled"] is False
    ddb("UpdateTimeToLive", TableName=arn("music"), TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert ddb("DescribeTimeToLive", TableName=arn("music"))["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    assert ddb("DescribeTimeToLive", TableName="music", _account=B)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    # A record saved from an ARN request is cached as a plain record: by name, the name again.
    out = ddb("GetItem", TableName="music", Key=key("a"), ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"]["TableName"] == "music"
    ddb("UpdateContinuousBackups", TableName=arn("music"),
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    described = ddb("DescribeContinuousBackups", TableName=arn("music"))["ContinuousBackupsDescription"]
    assert described["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert ddb("DescribeContributorInsights", TableName=arn("music"))["TableName"] == "music"
    backup = ddb("CreateBackup", TableName=arn("music"), BackupName="bk1")["BackupDetails"]
    assert [b["BackupArn"] for b in ddb("ListBackups", TableName=arn("music"))["BackupSummaries"]] == [backup["BackupArn"]]
    ddb("UpdateTable", TableName=arn("music"), DeletionProtectionEnabled=False)
    ddb("DeleteTable", TableName=arn("music", B), _account=B)
    assert ddb("ListTables", _account=B)["TableNames"] == []
    assert ddb("ListTables")["TableNames"] == ["music"]


def test_create_table_by_own_arn(ddb):
    ddb.create(arn("made"))
    assert ddb("ListTables")["TableNames"] == ["made"]
    err = ddb.error("CreateTable", TableName=arn("elsewhere", B), AttributeDefinitions=[
        {"AttributeName": "pk", "AttributeType": "S"}], KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST")
    assert err.code == "ValidationException"
    assert ddb("ListTables", _account=B)["TableNames"] == []


def test_other_region_arn_is_not_found_here(shared):
    ddb = shared
    ddb.create("west", _region="us-west-2")
    err = ddb.error("GetItem", TableName=arn("west", region="us-west-2"), Key=key("a"))
    assert (err.code, err.message) == ("ResourceNotFoundException", "Requested resource not found")
    err = ddb.error("DescribeTable", TableName=arn("music", region="us-west-2"))
    assert err.code == "ResourceNotFoundException"
    # From its own region the same ARN works.
    assert ddb("DescribeTable", TableName=arn("west", region="us-west-2"), _region="us-west-2")["Table"]["TableName"] == "west"


@pytest.mark.parametrize("bad", [
    "arn:aws:dynamodb:us-east-1:000000000000:table/music/index/gsi",
    "arn:aws:dynamodb:us-east-1:000000000000:table/music/stream/2024-01-01T00:00:00.000",
    "arn:aws:dynamodb:us-east-1:0000:table/music",
    "arn:aws:s3:::music",
    "arn:aws:dynamodb:us-east-1:000000000000:music",
    "arn:aws:dynamodb:us-east-1:000000000000:table/",
])
def test_malformed_arn_is_a_validation_error(shared, bad):
    err = shared.error("GetItem", TableName=bad, Key=key("a"))
    assert (err.code, err.message) == ("ValidationException", f"Invalid TableArn: Invalid ResourceArn provided as input {bad}")


def test_arn_with_an_invalid_table_name(shared):
    err = shared.error("GetItem", TableName=arn("no"), Key=key("a"))
    assert err.code == "ValidationException"
    assert "Member must have length greater than or equal to 3" in err.message
    err = shared.error("BatchGetItem", RequestItems={arn("bad name"): {"Keys": [key("a")]}})
    assert err.code == "ValidationException"


def test_missing_table_by_arn(shared):
    err = shared.error("GetItem", TableName=arn("nothere"), Key=key("a"))
    assert (err.code, err.message) == ("ResourceNotFoundException", "Requested resource not found")
    err = shared.error("DescribeTable", TableName=arn("nothere", B))
    assert err.code == "ResourceNotFoundException"


def test_partiql_by_arn(shared):
    ddb = shared
    out = ddb("ExecuteStatement", Statement=f'SELECT * FROM "{arn("music")}" WHERE pk = \'a\'', _account=B)
    assert out["Items"][0]["owner"] == {"S": "A"}


def test_stream_of_another_account_by_its_arn(ddb):
    """The Streams API already finds a stream by the account in its ARN (the auth layer decides
    whether the caller may read it), and the writes B made by table ARN are in A's stream."""
    stream = ddb.create("feed", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})[
        "TableDescription"]["LatestStreamArn"]
    ddb.create("feed", _account=B)
    ddb("PutItem", TableName=arn("feed"), Item=key("x"), _account=B)
    ddb("PutItem", TableName="feed", Item=key("own"), _account=B)  # B's own table: no stream
    shard = ddb("DescribeStream", StreamArn=stream, _account=B)["StreamDescription"]["Shards"][0]["ShardId"]
    it = ddb("GetShardIterator", StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON",
             _account=B)["ShardIterator"]
    records = ddb("GetRecords", ShardIterator=it, _account=B)["Records"]
    assert [r["dynamodb"]["Keys"] for r in records] == [key("x")]
