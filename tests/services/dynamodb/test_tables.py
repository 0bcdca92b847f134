"""Table operations on the provider: create/describe/list/update/delete, validation, tags, TTL, restart."""

from __future__ import annotations

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


def test_gsi_added_later_is_backfilled_and_dropped(ddb: Any) -> None:
    ddb.create("gtab")
    for i in range(10):
        ddb("PutItem", TableName="gtab", Item={"pk": {"S": f"p{i}"}, "color": {"S": "red" if i % 2 else "blue"}})
    out = ddb("UpdateTable", TableName="gtab", AttributeDefinitions=[{"AttributeName": "color", "AttributeType": "S"}],
              GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by_color",
                                                       "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
                                                       "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    gsi = out["TableDescription"]["GlobalSecondaryIndexes"][0]
    assert gsi["IndexName"] == "by_color" and gsi["IndexStatus"] == "ACTIVE" and gsi["ItemCount"] == 10
    red = ddb("Query", TableName="gtab", IndexName="by_color", KeyConditionExpression="color = :c",
              ExpressionAttributeValues={":c": {"S": "red"}})
    assert red["Count"] == 5 and all(set(i) == {"pk", "color"} for i in red["Items"])
    ddb("UpdateTable", TableName="gtab", GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_color"}}])
    assert "GlobalSecondaryIndexes" not in ddb("DescribeTable", TableName="gtab")["Table"]
    err = ddb.error("Query", TableName="gtab", IndexName="by_color", KeyConditionExpression="color = :c",
                    ExpressionAttributeValues={":c": {"S": "red"}})
    assert err.message == "The table does not have the specified index: by_color"


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
