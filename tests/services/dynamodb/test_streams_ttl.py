"""Streams (records in the item's batch, every view type, iterators) and the TTL sweeper."""

from __future__ import annotations

import time
from typing import Any

import pytest


def records(ddb: Any, arn: str, kind: str = "TRIM_HORIZON", **kw: Any) -> tuple[list[dict[str, Any]], str]:
    shard = ddb("DescribeStream", StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = ddb("GetShardIterator", StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **kw)["ShardIterator"]
    out = ddb("GetRecords", ShardIterator=it)
    return out["Records"], out["NextShardIterator"]


@pytest.mark.parametrize("view", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
def test_stream_view_types(ddb: Any, view: str) -> None:
    desc = ddb.create(StreamSpecification={"StreamEnabled": True, "StreamViewType": view})["TableDescription"]
    arn = desc["LatestStreamArn"]
    assert desc["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": view}
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "v": {"N": "1"}})  # unchanged: no record
    ddb("UpdateItem", TableName="tbl", Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :two",
        ExpressionAttributeValues={":two": {"N": "2"}})
    ddb("DeleteItem", TableName="tbl", Key={"pk": {"S": "a"}})
    recs, _ = records(ddb, arn)
    assert [r["eventName"] for r in recs] == ["INSERT", "MODIFY", "REMOVE"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in recs]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    for r in recs:
        assert r["dynamodb"]["Keys"] == {"pk": {"S": "a"}} and r["dynamodb"]["StreamViewType"] == view
        assert r["eventSource"] == "aws:dynamodb" and r["awsRegion"] == "us-east-1"
    new = [r["dynamodb"].get("NewImage") for r in recs]
    old = [r["dynamodb"].get("OldImage") for r in recs]
    if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        assert new == [{"pk": {"S": "a"}, "v": {"N": "1"}}, {"pk": {"S": "a"}, "v": {"N": "2"}}, None]
    else:
        assert new == [None, None, None]
    if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        assert old == [None, {"pk": {"S": "a"}, "v": {"N": "1"}}, {"pk": {"S": "a"}, "v": {"N": "2"}}]
    else:
        assert old == [None, None, None]


def test_iterators_and_list_streams(ddb: Any) -> None:
    arn = ddb.create(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]["LatestStreamArn"]
    ddb.create("nostream")
    assert ddb("ListStreams")["Streams"] == [{"StreamArn": arn, "TableName": "tbl", "StreamLabel": arn.rsplit("/", 1)[1]}]
    for i in range(5):
        ddb("PutItem", TableName="tbl", Item={"pk": {"S": str(i)}})
    recs, nxt = records(ddb, arn)
    assert len(recs) == 5
    assert ddb("GetRecords", ShardIterator=nxt)["Records"] == []
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "late"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in ddb("GetRecords", ShardIterator=nxt)["Records"]] == ["late"]
    latest, _ = records(ddb, arn, "LATEST")
    assert latest == []
    third = recs[2]["dynamodb"]["SequenceNumber"]
    at, _ = records(ddb, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=third)
    after, _ = records(ddb, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=third)
    assert len(at) == 4 and len(after) == 3
    ddb("UpdateTable", TableName="tbl", StreamSpecification={"StreamEnabled": False})
    desc = ddb("DescribeStream", StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "DISABLED" and "EndingSequenceNumber" in desc["Shards"][0]["SequenceNumberRange"]
    err = ddb.error("DescribeStream", StreamArn=arn + "x")
    assert err.code == "ResourceNotFoundException"


def test_stream_records_survive_restart(ddb: Any) -> None:
    arn = ddb.create(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})["TableDescription"]["LatestStreamArn"]
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}, "b": {"B": b"\x00\xff"}})
    ddb.restart()
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "b"}})
    recs, _ = records(ddb, arn)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in recs] == ["a", "b"]
    assert recs[0]["dynamodb"]["NewImage"]["b"] == {"B": b"\x00\xff"}
    assert int(recs[1]["dynamodb"]["SequenceNumber"]) > int(recs[0]["dynamodb"]["SequenceNumber"])


def test_ttl_sweeper_deletes_expired_items_with_service_identity(ddb: Any) -> None:
    arn = ddb.create(StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"})["TableDescription"]["LatestStreamArn"]
    now = int(time.time())
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "old"}, "exp": {"N": str(now - 10)}})
    ddb("UpdateTimeToLive", TableName="tbl", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "soon"}, "exp": {"N": str(now + 100)}})
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "text"}, "exp": {"S": "0"}})
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "ancient"}, "exp": {"N": str(now - 6 * 365 * 24 * 3600)}})
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "moved"}, "exp": {"N": str(now - 5)}})
    ddb("UpdateItem", TableName="tbl", Key={"pk": {"S": "moved"}}, UpdateExpression="SET exp = :e",
        ExpressionAttributeValues={":e": {"N": str(now + 1000)}})
    assert ddb.provider.sweep_once(now) == 1
    left = sorted(i["pk"]["S"] for i in ddb("Scan", TableName="tbl")["Items"])
    assert left == ["ancient", "moved", "soon", "text"], "TTL times over five years old are ignored"
    assert ddb.provider.sweep_once(now + 200) == 1
    recs, _ = records(ddb, arn)
    removes = [r for r in recs if r["eventName"] == "REMOVE"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in removes] == ["old", "soon"]
    assert all(r["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"} for r in removes)
    assert ddb("DescribeTable", TableName="tbl")["Table"]["ItemCount"] == 3


def test_shards_roll_over_with_parents_and_paging(ddb: Any) -> None:
    ddb.provider.stream_writer.shard_seconds = 0.2
    arn = ddb.create(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})["TableDescription"]["LatestStreamArn"]
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}})
    time.sleep(0.25)
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "b"}})
    shards = ddb("DescribeStream", StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 2
    first, second = shards
    assert second["ParentShardId"] == first["ShardId"] and "ParentShardId" not in first
    assert first["SequenceNumberRange"]["EndingSequenceNumber"] == first["SequenceNumberRange"]["StartingSequenceNumber"]
    assert "EndingSequenceNumber" not in second["SequenceNumberRange"]
    page = ddb("DescribeStream", StreamArn=arn, Limit=1)["StreamDescription"]
    assert [s["ShardId"] for s in page["Shards"]] == [first["ShardId"]] and page["LastEvaluatedShardId"] == first["ShardId"]
    page = ddb("DescribeStream", StreamArn=arn, ExclusiveStartShardId=first["ShardId"])["StreamDescription"]
    assert [s["ShardId"] for s in page["Shards"]] == [second["ShardId"]] and "LastEvaluatedShardId" not in page
    it = ddb("GetShardIterator", StreamArn=arn, ShardId=first["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    out = ddb("GetRecords", ShardIterator=it)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in out["Records"]] == ["a"]
    out = ddb("GetRecords", ShardIterator=out["NextShardIterator"])
    assert out["Records"] == [] and "NextShardIterator" not in out, "a closed shard ends"
    it = ddb("GetShardIterator", StreamArn=arn, ShardId=second["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in ddb("GetRecords", ShardIterator=it)["Records"]] == ["b"]
    err = ddb.error("GetShardIterator", StreamArn=arn, ShardId="shardId-nope", ShardIteratorType="LATEST")
    assert err.code == "ResourceNotFoundException"


def test_retired_streams_are_readable_for_a_day(ddb: Any) -> None:
    """A deleted table's stream, and a stream replaced by disabling and enabling again, stay readable
    (StreamStatus DISABLED) until the sweeper finds them 24 hours old; then they are gone."""
    first = ddb.create(StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})[
        "TableDescription"]["LatestStreamArn"]
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "a"}})
    ddb("UpdateTable", TableName="tbl", StreamSpecification={"StreamEnabled": False})
    second = ddb("UpdateTable", TableName="tbl", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})[
        "TableDescription"]["LatestStreamArn"]
    ddb("PutItem", TableName="tbl", Item={"pk": {"S": "b"}})
    ddb("DeleteTable", TableName="tbl")
    ddb.provider.store.stop_sweeps()  # the dropped table's items are swept; its streams are not
    ddb.restart()
    for arn, key in ((first, "a"), (second, "b")):
        assert ddb("DescribeStream", StreamArn=arn)["StreamDescription"]["StreamStatus"] == "DISABLED"
        recs, _ = records(ddb, arn)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in recs] == [key]
    assert {s["StreamArn"] for s in ddb("ListStreams")["Streams"]} == {first, second}
    ddb.provider.sweep_once(now=time.time() + 23 * 3600)
    assert ddb("DescribeStream", StreamArn=first)["StreamDescription"]["StreamStatus"] == "DISABLED"
    ddb.provider.sweep_once(now=time.time() + 25 * 3600)
    for arn in (first, second):
        err = ddb.error("DescribeStream", StreamArn=arn)
        assert (err.code, err.message) == ("ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found")
    assert ddb("ListStreams")["Streams"] == []
