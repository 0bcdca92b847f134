"""Table operations on the provider: create/describe/list/update/delete, validation, tags, TTL, restart."""

from __future__ import annotations

import time
from typing import Any




def test_create_describe_list_delete(ddb: Any) -> None:
    out = ddb.create("users", range_type="N", Tags=[{"Key": "team", "Value": "core"}])
    desc = out["TableDescription"]
    assert desc["TableName"] == "users"
    assert desc["TableStatus"] == "ACTIVE"
    assert desc["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    assert desc["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/users"
    assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert desc["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    assert desc["ItemCount"] == 0 and desc["TableSizeBytes"] == 0
    assert ddb("DescribeTable", TableName="users")["Table"]["TableId"] == desc["TableId"]
    ddb.create("alpha")
    assert ddb("ListTables")["TableNames"] == ["alpha", "users"]
    page = ddb("ListTables", Limit=1)
    assert page == {"TableNames": ["alpha"], "LastEvaluatedTableName": "alpha"}
    assert ddb("ListTables", ExclusiveStartTableName="alpha") == {"TableNames": ["users"]}
    deleted = ddb("DeleteTable", TableName="users")["TableDescription"]
    assert deleted["TableStatus"] == "DELETING"
    err = ddb.error("DescribeTable", TableName="users")
    assert (err.code, err.message) == ("ResourceNotFoundException", "Requested resource not found: Table: users not found")


def test_create_existing_table_is_in_use(ddb: Any) -> None:
    ddb.create("users")
    err = ddb.error("CreateTable", TableName="users", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    assert (err.code, err.message) == ("ResourceInUseException", "Table already exists: users")


def test_create_validation_messages(ddb: Any) -> None:
    base: dict[str, Any] = {"TableName": "bad", "BillingMode": "PAY_PER_REQUEST"}
    err = ddb.error("CreateTable", **base, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    assert err.message == (
        "One or more parameter values were invalid: Some index key attributes are not defined in "
        "AttributeDefinitions. Keys: [sk], AttributeDefinitions: [pk]"
    )
    err = ddb.error("CreateTable", **base, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                                 {"AttributeName": "x", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert err.message == (
        "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match "
        "number of attributes defined in AttributeDefinitions"
    )
    err = ddb.error("CreateTable", **base, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "RANGE"}])
    assert err.message == "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    err = ddb.error("CreateTable", TableName="bad", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert err.message == (
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be "
        "specified when BillingMode is PROVISIONED"
    )
    err = ddb.error("CreateTable", **base, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert err.message == (
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
        "specified when BillingMode is PAY_PER_REQUEST"
    )
    err = ddb.error("CreateTable", **{**base, "TableName": "ab"}, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert err.message == (
        "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3"
    )
    err = ddb.error("CreateTable", **base, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                                 {"AttributeName": "x", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    LocalSecondaryIndexes=[{"IndexName": "l", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                            {"AttributeName": "x", "KeyType": "RANGE"}],
                                            "Projection": {"ProjectionType": "ALL"}}])
    assert err.message == (
        "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required "
        "when specifying a LocalSecondaryIndex"
    )


def test_provisioned_table_and_throughput_update(ddb: Any) -> None:
    ddb("CreateTable", TableName="prov", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    desc = ddb("DescribeTable", TableName="prov")["Table"]
    assert "BillingModeSummary" not in desc
    assert desc["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    out = ddb("UpdateTable", TableName="prov", ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 5})
    assert out["TableDescription"]["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    assert "LastIncreaseDateTime" in out["TableDescription"]["ProvisionedThroughput"]
    err = ddb.error("UpdateTable", TableName="prov", ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 5})
    assert err.message.startswith("The provisioned throughput for the table will not change.")
    out = ddb("UpdateTable", TableName="prov", BillingMode="PAY_PER_REQUEST")
    assert out["TableDescription"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_accounts_and_regions_are_separate(ddb: Any) -> None:
    ddb.create("shared")
    assert ddb("ListTables", _region="eu-west-1")["TableNames"] == []
    assert ddb("ListTables", _account="111111111111")["TableNames"] == []
    ddb("CreateTable", _region="eu-west-1", TableName="shared",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    ddb("PutItem", TableName="shared", Item={"pk": {"S": "a"}})
    assert ddb("Scan", _region="eu-west-1", TableName="shared")["Count"] == 0
    assert ddb("DescribeTable", _region="eu-west-1", TableName="shared")["Table"]["TableArn"].startswith(
        "arn:aws:dynamodb:eu-west-1:")


def test_tags_ttl_limits_endpoints(ddb: Any) -> None:
    arn = ddb.create("tagged")["TableDescription"]["TableArn"]
    ddb("TagResource", ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
    assert ddb("ListTagsOfResource", ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    ddb("UntagResource", ResourceArn=arn, TagKeys=["a"])
    assert ddb("ListTagsOfResource", ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert ddb("DescribeTimeToLive", TableName="tagged") == {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    ddb("UpdateTimeToLive", TableName="tagged", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert ddb("DescribeTimeToLive", TableName="tagged")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    err = ddb.error("UpdateTimeToLive", TableName="tagged", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert err.message == "TimeToLive is already enabled"
    assert ddb("DescribeLimits")["TableMaxReadCapacityUnits"] == 40000
    assert ddb("DescribeEndpoints")["Endpoints"] == [{"Address": "localhost:4566", "CachePeriodInMinutes": 1440}]


def test_state_survives_restart(ddb: Any) -> None:
    ddb.create("durable", range_type="N")
    for i in range(50):
        ddb("PutItem", TableName="durable", Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "v": {"S": "x" * i}})
    before = ddb("DescribeTable", TableName="durable")["Table"]
    ddb.restart()
    after = ddb("DescribeTable", TableName="durable")["Table"]
    assert after["ItemCount"] == 50 and after["TableSizeBytes"] == before["TableSizeBytes"] > 0
    out = ddb("Query", TableName="durable", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert [i["sk"]["N"] for i in out["Items"]] == [str(i) for i in range(50)]


def _gsi_create(name: str = "by_color", attr: str = "color") -> dict[str, Any]:
    return {"AttributeDefinitions": [{"AttributeName": attr, "AttributeType": "S"}],
            "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": name, "KeySchema": [{"AttributeName": attr, "KeyType": "HASH"}],
                                                        "Projection": {"ProjectionType": "KEYS_ONLY"}}}]}


def _wait_built(ddb: Any, table: str, index: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        gsi = next(g for g in ddb("DescribeTable", TableName=table)["Table"]["GlobalSecondaryIndexes"] if g["IndexName"] == index)
        if gsi["IndexStatus"] == "ACTIVE" or time.monotonic() > deadline:
            return gsi  # type: ignore[no-any-return]
        time.sleep(0.01)


def test_gsi_added_later_is_backfilled_and_dropped(ddb: Any) -> None:
    ddb.create("gtab")
    for i in range(10):
        ddb("PutItem", TableName="gtab", Item={"pk": {"S": f"p{i}"}, "color": {"S": "red" if i % 2 else "blue"}})
    out = ddb("UpdateTable", TableName="gtab", **_gsi_create())["TableDescription"]
    gsi = out["GlobalSecondaryIndexes"][0]
    assert out["TableStatus"] == "UPDATING"
    assert (gsi["IndexName"], gsi["IndexStatus"], gsi["Backfilling"], gsi["ItemCount"]) == ("by_color", "CREATING", False, 0)
    gsi = _wait_built(ddb, "gtab", "by_color")
    assert gsi["IndexStatus"] == "ACTIVE" and gsi["ItemCount"] == 10 and "Backfilling" not in gsi
    assert ddb("DescribeTable", TableName="gtab")["Table"]["TableStatus"] == "ACTIVE"
    red = ddb("Query", TableName="gtab", IndexName="by_color", KeyConditionExpression="color = :c",
              ExpressionAttributeValues={":c": {"S": "red"}})
    assert red["Count"] == 5 and all(set(i) == {"pk", "color"} for i in red["Items"])
    out = ddb("UpdateTable", TableName="gtab", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_color"}}])
    assert out["TableDescription"]["TableStatus"] == "UPDATING"
    assert [(g["IndexName"], g["IndexStatus"]) for g in out["TableDescription"]["GlobalSecondaryIndexes"]] == [("by_color", "DELETING")]
    assert "GlobalSecondaryIndexes" not in ddb("DescribeTable", TableName="gtab")["Table"]
    err = ddb.error("Query", TableName="gtab", IndexName="by_color", KeyConditionExpression="color = :c",
                    ExpressionAttributeValues={":c": {"S": "red"}})
    assert err.message == "The table does not have the specified index: by_color"


def test_gsi_build_phases_and_what_they_refuse(ddb: Any) -> None:
    """With the builder held, the index stays in "resource allocation"; writes keep it up to date."""
    ddb.provider.index_builder.stop()
    ddb.provider.store.index_builds_pending = lambda: None
    ddb.create("held")
    for i in range(6):
        ddb("PutItem", TableName="held", Item={"pk": {"S": f"p{i}"}, "color": {"S": "red"}})
    ddb("UpdateTable", TableName="held", **_gsi_create())
    err = ddb.error("Query", TableName="held", IndexName="by_color", KeyConditionExpression="color = :c",
                    ExpressionAttributeValues={":c": {"S": "red"}})
    assert (err.code, err.message) == ("ValidationException", "Cannot read from backfilling global secondary index: by_color")
    err = ddb.error("UpdateTable", TableName="held", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_color"}}])
    assert (err.code, err.message) == ("ResourceInUseException",
                                       "Attempt to change a resource which is still in use: Index creation is in resource "
                                       "allocation phase. Retry deletion during backfilling phase or when the index is "
                                       "active. Table: held Index: by_color")
    err = ddb.error("UpdateTable", TableName="held", **_gsi_create("by_size", "size"))
    assert (err.code, err.message) == ("LimitExceededException", "Subscriber limit exceeded: Only 1 online index can be "
                                                                  "created or deleted simultaneously per table")
    err = ddb.error("DeleteTable", TableName="held")
    assert (err.code, err.message) == ("ResourceInUseException", "Attempt to change a resource which is still in use: "
                                                                 "Cannot delete table while indexes are being created, "
                                                                 "updated, or deleted.")
    # Writes during the build: a moved item, a deleted one, a new one.
    ddb("PutItem", TableName="held", Item={"pk": {"S": "p0"}, "color": {"S": "blue"}})
    ddb("DeleteItem", TableName="held", Key={"pk": {"S": "p1"}})
    ddb("PutItem", TableName="held", Item={"pk": {"S": "new"}, "color": {"S": "red"}})
    ddb.restart()  # the build resumes when the provider starts again
    gsi = _wait_built(ddb, "held", "by_color")
    assert gsi["IndexStatus"] == "ACTIVE" and gsi["ItemCount"] == 6
    red = ddb("Query", TableName="held", IndexName="by_color", KeyConditionExpression="color = :c",
              ExpressionAttributeValues={":c": {"S": "red"}})
    assert sorted(i["pk"]["S"] for i in red["Items"]) == ["new", "p2", "p3", "p4", "p5"]


def test_update_table_index_rules(ddb: Any) -> None:
    ddb.create("rules", range_type="N", ExtraAttributes=[{"AttributeName": "l", "AttributeType": "S"}],
               LocalSecondaryIndexes=[{"IndexName": "by_l", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                         {"AttributeName": "l", "KeyType": "RANGE"}],
                                       "Projection": {"ProjectionType": "ALL"}}])
    two = _gsi_create("a_idx", "a")
    two["AttributeDefinitions"] += [{"AttributeName": "b", "AttributeType": "S"}]
    two["GlobalSecondaryIndexUpdates"] += _gsi_create("b_idx", "b")["GlobalSecondaryIndexUpdates"]
    assert ddb.error("UpdateTable", TableName="rules", **two).message == (
        "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
    same = _gsi_create("a_idx", "a")
    same["GlobalSecondaryIndexUpdates"] += [{"Delete": {"IndexName": "a_idx"}}]
    assert ddb.error("UpdateTable", TableName="rules", **same).message == (
        "One or more parameter values were invalid: Only one global secondary index update per index is allowed "
        "simultaneously. Index: a_idx")
    err = ddb.error("UpdateTable", TableName="rules", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "nope"}}])
    assert (err.code, err.message) == ("ResourceNotFoundException", "Requested resource not found: Index nope for table rules")
    err = ddb.error("UpdateTable", TableName="rules", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_l"}}])
    assert err.message == "Cannot delete an index that is not a GlobalSecondaryIndex: by_l"
    no_defs = _gsi_create()
    del no_defs["AttributeDefinitions"]
    assert ddb.error("UpdateTable", TableName="rules", **no_defs).message == (
        "One or more parameter values were invalid: AttributeDefinitions is not specified for index: by_color")
    assert ddb.error("UpdateTable", TableName="rules", DeletionProtectionEnabled=True, **_gsi_create()).message == (
        "One or more parameter values were invalid: DeletionProtection modification must be the only operation in the request")
    stream = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert ddb.error("UpdateTable", TableName="rules", StreamSpecification=stream, **_gsi_create()).message == (
        "One or more parameter values were invalid: You cannot create or delete index while changing stream status")
    assert ddb.error("UpdateTable", TableName="rules", GlobalSecondaryIndexUpdates=[]).message.startswith(
        "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, ")
    assert ddb.error("UpdateTable", TableName="rules", GlobalSecondaryIndexUpdates=[], BillingMode="PROVISIONED",
                     ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}).message == (
        "One or more parameter values were invalid: List of GlobalSecondaryIndexUpdates is empty")
    assert ddb.error("UpdateTable", TableName="rules", StreamSpecification={"StreamEnabled": False}).message == (
        "Table has no stream to disable: TableName: rules")
    assert ddb.error("UpdateTable", TableName="rules", StreamSpecification={"StreamEnabled": True}).message == (
        "One or more parameter values were invalid: If stream is being enabled then UpdateViewType is required")
    ddb("UpdateTable", TableName="rules", StreamSpecification=stream)
    assert ddb.error("UpdateTable", TableName="rules", StreamSpecification=stream).message == (
        "Table already has an enabled stream: TableName: rules")
    ddb("UpdateTable", TableName="rules", **_gsi_create())
    assert _wait_built(ddb, "rules", "by_color")["IndexStatus"] == "ACTIVE"
    assert ddb.error("UpdateTable", TableName="rules", **_gsi_create()).message == (
        "Attempting to create an index which already exists")


def test_optional_creating_delay(ddb: Any) -> None:
    ddb.provider.store.creating_seconds = 60.0
    assert ddb.create("slow")["TableDescription"]["TableStatus"] == "CREATING"
    err = ddb.error("PutItem", TableName="slow", Item={"pk": {"S": "a"}})
    assert (err.code, err.message) == ("ResourceNotFoundException", "Requested resource not found")
    ddb.provider.store.creating_seconds = 0.0
    assert ddb("DescribeTable", TableName="slow")["Table"]["TableStatus"] == "ACTIVE"
    ddb("PutItem", TableName="slow", Item={"pk": {"S": "a"}})


def test_continuous_backups_setting(ddb: Any) -> None:
    ddb.create("pitr")
    out = ddb("DescribeContinuousBackups", TableName="pitr")["ContinuousBackupsDescription"]
    assert out == {"ContinuousBackupsStatus": "ENABLED",
                   "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    ddb("UpdateContinuousBackups", TableName="pitr", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ddb.restart()
    out = ddb("DescribeContinuousBackups", TableName="pitr")["ContinuousBackupsDescription"]
    assert out["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_deleted_table_rows_are_swept_and_a_new_table_starts_empty(ddb: Any) -> None:
    from awsemu.services.dynamodb import keys

    uid = ddb.create("gone")["TableDescription"]["TableId"]
    for i in range(30):
        ddb("PutItem", TableName="gone", Item={"pk": {"S": str(i)}})
    ddb("DeleteTable", TableName="gone")
    ddb.create("gone")
    assert ddb("Scan", TableName="gone")["Count"] == 0
    assert ddb("DescribeTable", TableName="gone")["Table"]["ItemCount"] == 0
    ddb.provider.store.stop_sweeps()  # waits for the background sweep
    ddb.restart()
    ddb.provider.store.stop_sweeps()
    start, end = keys.items_range(uid)
    assert list(ddb.db.scan(start, end)) == []
    assert list(ddb.db.scan(*keys.dropped_range())) == []
