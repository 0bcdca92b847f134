"""DynamoDB and DynamoDB Streams through the front door: boto3 client and resource APIs over HTTP
against a real awsemu server."""

from __future__ import annotations

import gzip
import json
import time
import urllib.request
from decimal import Decimal
from typing import Any

import botocore.exceptions
import pytest
from boto3.dynamodb.conditions import Attr, Key

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

SERVICES = {"AWSEMU_SERVICES": "dynamodb,dynamodbstreams"}


def create(client: Any, name: str = "users", range_key: bool = True, **extra: Any) -> dict[str, Any]:
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
    return client.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema,
                               BillingMode="PAY_PER_REQUEST", **extra)


def error(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call(*args, **kwargs)
    return exc.value.response  # type: ignore[no-any-return]


def test_table_lifecycle_with_client_and_waiters(client: Any) -> None:
    desc = create(client)["TableDescription"]
    assert desc["TableStatus"] == "ACTIVE" and desc["TableArn"].endswith(":table/users")
    client.get_waiter("table_exists").wait(TableName="users", WaiterConfig={"Delay": 0.1})
    assert client.describe_table(TableName="users")["Table"]["CreationDateTime"].year >= 2024
    assert client.list_tables()["TableNames"] == ["users"]
    names = [n for page in client.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1}) for n in page["TableNames"]]
    assert names == ["users"]
    resp = error(create, client)
    assert resp["Error"] == {"Code": "ResourceInUseException", "Message": "Table already exists: users"}
    client.delete_table(TableName="users")
    client.get_waiter("table_not_exists").wait(TableName="users", WaiterConfig={"Delay": 0.1})
    resp = error(client.describe_table, TableName="users")
    assert resp["Error"] == {"Code": "ResourceNotFoundException", "Message": "Requested resource not found: Table: users not found"}
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_items_with_client(client: Any) -> None:
    create(client)
    client.put_item(TableName="users", Item={"pk": {"S": "u"}, "sk": {"N": "1.50"}, "b": {"B": b"\x00\x01"},
                                             "ns": {"NS": ["3", "1e1"]}, "m": {"M": {"l": {"L": [{"NULL": True}, {"BOOL": False}]}}}})
    item = client.get_item(TableName="users", Key={"pk": {"S": "u"}, "sk": {"N": "1.5"}}, ConsistentRead=True)["Item"]
    assert item["sk"] == {"N": "1.5"} and item["b"] == {"B": b"\x00\x01"} and sorted(item["ns"]["NS"]) == ["10", "3"]
    out = client.update_item(TableName="users", Key={"pk": {"S": "u"}, "sk": {"N": "1.5"}},
                             UpdateExpression="SET m.l[0] = :v ADD ns :n", ExpressionAttributeValues={":v": {"S": "x"}, ":n": {"NS": ["4"]}},
                             ReturnValues="UPDATED_NEW", ReturnConsumedCapacity="TOTAL")
    assert out["Attributes"]["m"] == {"M": {"l": {"L": [{"S": "x"}]}}}
    assert out["ConsumedCapacity"] == {"TableName": "users", "CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}
    resp = error(client.put_item, TableName="users", Item={"pk": {"S": "u"}, "sk": {"N": "1.5"}},
                 ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert resp["Error"]["Code"] == "ConditionalCheckFailedException"
    assert resp["Error"]["Message"] == "The conditional request failed"
    assert resp["Item"]["pk"] == {"S": "u"}
    resp = error(client.put_item, TableName="users", Item={"pk": {"S": "u"}, "sk": {"N": "1" * 39}})
    assert resp["Error"] == {"Code": "ValidationException", "Message": "Attempting to store more than 38 significant digits in a Number"}
    resp = error(client.get_item, TableName="users", Key={"pk": {"S": "u"}})
    assert resp["Error"] == {"Code": "ValidationException", "Message": "The provided key element does not match the schema"}
    resp = error(client.update_item, TableName="users", Key={"pk": {"S": "u"}, "sk": {"N": "1.5"}},
                 UpdateExpression="SET #a = :v", ExpressionAttributeValues={":v": {"S": "x"}})
    assert resp["Error"]["Message"] == (
        "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #a"
    )
    resp = error(client.put_item, TableName="nope", Item={"pk": {"S": "u"}})
    assert resp["Error"] == {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}


def test_resource_api_query_scan_batch_writer(resource: Any) -> None:
    table = resource.create_table(TableName="orders", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                                                 {"AttributeName": "sk", "KeyType": "RANGE"}],
                                  AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                        {"AttributeName": "sk", "AttributeType": "N"}],
                                  BillingMode="PAY_PER_REQUEST")
    table.wait_until_exists()
    with table.batch_writer() as writer:
        for i in range(60):
            writer.put_item(Item={"pk": "c1" if i < 50 else "c2", "sk": i, "price": Decimal("9.99") * i, "tag": "odd" if i % 2 else "even"})
    got = table.query(KeyConditionExpression=Key("pk").eq("c1") & Key("sk").between(10, 19), FilterExpression=Attr("tag").eq("odd"))
    assert [int(i["sk"]) for i in got["Items"]] == [11, 13, 15, 17, 19] and got["ScannedCount"] == 10
    assert got["Items"][0]["price"] == Decimal("109.89")
    got = table.query(KeyConditionExpression=Key("pk").eq("c1"), ScanIndexForward=False, Limit=3)
    assert [int(i["sk"]) for i in got["Items"]] == [49, 48, 47] and got["LastEvaluatedKey"] == {"pk": "c1", "sk": Decimal(47)}
    assert table.scan(Select="COUNT")["Count"] == 60
    assert table.scan(FilterExpression=Attr("price").gt(Decimal("500")))["Count"] == 9
    table.update_item(Key={"pk": "c2", "sk": 50}, UpdateExpression="SET #t = list_append(if_not_exists(#t2, :e), :v)",
                      ExpressionAttributeNames={"#t": "history", "#t2": "history"}, ExpressionAttributeValues={":e": [], ":v": ["a"]})
    assert table.get_item(Key={"pk": "c2", "sk": 50})["Item"]["history"] == ["a"]
    table.delete_item(Key={"pk": "c2", "sk": 50})
    assert "Item" not in table.get_item(Key={"pk": "c2", "sk": 50})


def test_paginators_over_query_and_parallel_scan(client: Any) -> None:
    create(client)
    for start in range(0, 250, 25):
        client.batch_write_item(RequestItems={"users": [{"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": str(i)}}}}
                                                        for i in range(start, start + 25)]})
    pages = list(client.get_paginator("query").paginate(TableName="users", KeyConditionExpression="pk = :p",
                                                        ExpressionAttributeValues={":p": {"S": "p"}},
                                                        PaginationConfig={"PageSize": 40}))
    assert len(pages) == 7 and [int(i["sk"]["N"]) for p in pages for i in p["Items"]] == list(range(250))
    seen = []
    for segment in range(3):
        for page in client.get_paginator("scan").paginate(TableName="users", Segment=segment, TotalSegments=3,
                                                           PaginationConfig={"PageSize": 17}):
            seen += [int(i["sk"]["N"]) for i in page["Items"]]
    assert sorted(seen) == list(range(250))


def test_batch_and_transactions_with_client(client: Any) -> None:
    create(client)
    resp = error(client.batch_write_item, RequestItems={"users": [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}}] * 2})
    assert resp["Error"]["Message"] == "Provided list of item keys contains duplicates"
    client.transact_write_items(TransactItems=[
        {"Put": {"TableName": "users", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "bal": {"N": "10"}}}},
        {"Put": {"TableName": "users", "Item": {"pk": {"S": "b"}, "sk": {"N": "1"}, "bal": {"N": "0"}}}},
    ])
    resp = error(client.transact_write_items, TransactItems=[
        {"Update": {"TableName": "users", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "UpdateExpression": "SET bal = bal - :x",
                    "ConditionExpression": "bal >= :x", "ExpressionAttributeValues": {":x": {"N": "20"}}}},
        {"Update": {"TableName": "users", "Key": {"pk": {"S": "b"}, "sk": {"N": "1"}}, "UpdateExpression": "SET bal = bal + :x",
                    "ExpressionAttributeValues": {":x": {"N": "20"}}}},
    ])
    assert resp["Error"]["Code"] == "TransactionCanceledException"
    assert resp["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]"
    )
    assert [r["Code"] for r in resp["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    got = client.transact_get_items(TransactItems=[{"Get": {"TableName": "users", "Key": {"pk": {"S": k}, "sk": {"N": "1"}}}} for k in "ab"])
    assert [r["Item"]["bal"]["N"] for r in got["Responses"]] == ["10", "0"]
    got = client.batch_get_item(RequestItems={"users": {"Keys": [{"pk": {"S": "a"}, "sk": {"N": "1"}}], "ProjectionExpression": "bal"}})
    assert got["Responses"] == {"users": [{"bal": {"N": "10"}}]} and got["UnprocessedKeys"] == {}


def test_streams_api(client: Any, streams_client: Any) -> None:
    desc = create(client, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
    arn = desc["LatestStreamArn"]
    client.put_item(TableName="users", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "one"}})
    client.put_item(TableName="users", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"S": "two"}})
    streams = streams_client.list_streams(TableName="users")["Streams"]
    assert streams == [{"StreamArn": arn, "TableName": "users", "StreamLabel": desc["LatestStreamLabel"]}]
    sd = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]
    assert sd["StreamStatus"] == "ENABLED" and sd["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    it = streams_client.get_shard_iterator(StreamArn=arn, ShardId=sd["Shards"][0]["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    recs = streams_client.get_records(ShardIterator=it)["Records"]
    assert [r["eventName"] for r in recs] == ["INSERT", "MODIFY"]
    assert recs[1]["dynamodb"]["OldImage"]["v"] == {"S": "one"} and recs[1]["dynamodb"]["NewImage"]["v"] == {"S": "two"}


def test_describe_endpoints_limits_tags_ttl(client: Any, ddb_server: ServerProcess) -> None:
    endpoints = client.describe_endpoints()["Endpoints"]
    assert endpoints == [{"Address": ddb_server.endpoint.split("://", 1)[1], "CachePeriodInMinutes": 1440}]
    assert client.describe_limits()["AccountMaxReadCapacityUnits"] == 80000
    arn = create(client, Tags=[{"Key": "k", "Value": "v"}])["TableDescription"]["TableArn"]
    assert client.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    client.update_time_to_live(TableName="users", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert client.describe_time_to_live(TableName="users")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}


def test_accounts_are_separate_namespaces(client: Any, ddb_server: ServerProcess) -> None:
    create(client)
    other = make_client(ddb_server.endpoint, "dynamodb", aws_access_key_id="111122223333")
    assert other.list_tables()["TableNames"] == []
    west = make_client(ddb_server.endpoint, "dynamodb", region_name="eu-west-1")
    assert west.list_tables()["TableNames"] == []


def test_gzip_request_body_and_crc32(client: Any, ddb_server: ServerProcess) -> None:
    create(client, range_key=False)
    body = gzip.compress(json.dumps({"TableName": "users", "Item": {"pk": {"S": "gz"}}}).encode())
    req = urllib.request.Request(ddb_server.endpoint + "/", data=body, method="POST", headers={
        "X-Amz-Target": "DynamoDB_20120810.PutItem", "Content-Type": "application/x-amz-json-1.0",
        "Content-Encoding": "gzip",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x",
    })
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
        raw = resp.read()
        import zlib

        assert int(resp.headers["x-amz-crc32"]) == zlib.crc32(raw)
    assert client.get_item(TableName="users", Key={"pk": {"S": "gz"}})["Item"] == {"pk": {"S": "gz"}}


def test_state_survives_restart_and_kill_9(tmp_path: Any) -> None:
    server = ServerProcess(tmp_path / "data", env=SERVICES)
    server.start()
    try:
        c = make_client(server.endpoint, "dynamodb")
        create(c)
        for i in range(20):
            c.put_item(TableName="users", Item={"pk": {"S": "p"}, "sk": {"N": str(i)}})
        server.stop()
        server.start()
        c = make_client(server.endpoint, "dynamodb")
        assert c.query(TableName="users", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})["Count"] == 20
        c.delete_item(TableName="users", Key={"pk": {"S": "p"}, "sk": {"N": "0"}})
        server.kill()
        server.start()
        c = make_client(server.endpoint, "dynamodb")
        assert c.describe_table(TableName="users")["Table"]["ItemCount"] == 19
        assert c.scan(TableName="users", Select="COUNT")["Count"] == 19
    finally:
        server.close()


def test_partiql_with_client(client: Any) -> None:
    create(client)
    client.execute_statement(Statement="INSERT INTO users VALUE {'pk': ?, 'sk': 1, 'name': 'Ada'}", Parameters=[{"S": "u1"}])
    out = client.execute_statement(Statement="SELECT name FROM users WHERE pk = 'u1'")
    assert out["Items"] == [{"name": {"S": "Ada"}}]
    resp = error(client.execute_statement, Statement="INSERT INTO users VALUE {'pk': 'u1', 'sk': 1}")
    assert resp["Error"] == {"Code": "DuplicateItemException", "Message": "Duplicate primary key exists in table"}
    out = client.batch_execute_statement(Statements=[{"Statement": "UPDATE users SET age = 36 WHERE pk = 'u1' AND sk = 1"}])
    assert out["Responses"] == [{"TableName": "users"}]
    client.execute_transaction(TransactStatements=[{"Statement": "DELETE FROM users WHERE pk = 'u1' AND sk = 1"}])
    assert client.execute_statement(Statement="SELECT * FROM users")["Items"] == []


def test_gsi_with_resource_api(resource: Any) -> None:
    table = resource.create_table(
        TableName="people", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "city", "AttributeType": "S"},
                              {"AttributeName": "age", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[{"IndexName": "by_city", "KeySchema": [{"AttributeName": "city", "KeyType": "HASH"},
                                                                       {"AttributeName": "age", "KeyType": "RANGE"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    for i, (city, age) in enumerate([("Oslo", 30), ("Oslo", 20), ("Rome", 40), ("Oslo", 25)]):
        table.put_item(Item={"id": str(i), "city": city, "age": age})
    table.put_item(Item={"id": "sparse"})
    got = table.query(IndexName="by_city", KeyConditionExpression=Key("city").eq("Oslo") & Key("age").gt(21))
    assert [int(i["age"]) for i in got["Items"]] == [25, 30]
    assert table.scan(IndexName="by_city")["Count"] == 4, "an item without the index key is not in the index"
    desc = table.meta.client.describe_table(TableName="people")["Table"]["GlobalSecondaryIndexes"][0]
    assert desc["IndexStatus"] == "ACTIVE" and desc["ItemCount"] == 4
    resp = error(table.query, IndexName="nope", KeyConditionExpression=Key("city").eq("Oslo"))
    assert resp["Error"]["Message"] == "The table does not have the specified index: nope"


def test_ttl_sweeper_through_the_server(tmp_path: Any) -> None:
    import time

    server = ServerProcess(tmp_path / "data", env={**SERVICES, "AWSEMU_DYNAMODB_TTL_INTERVAL": "0.1"})
    server.start()
    try:
        c = make_client(server.endpoint, "dynamodb")
        desc = create(c, range_key=False, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        c.update_time_to_live(TableName="users", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
        c.put_item(TableName="users", Item={"pk": {"S": "gone"}, "exp": {"N": str(int(time.time()) - 1)}})
        c.put_item(TableName="users", Item={"pk": {"S": "kept"}, "exp": {"N": str(int(time.time()) + 3600)}})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "Item" in c.get_item(TableName="users", Key={"pk": {"S": "gone"}}):
            time.sleep(0.05)
        assert "Item" not in c.get_item(TableName="users", Key={"pk": {"S": "gone"}})
        assert "Item" in c.get_item(TableName="users", Key={"pk": {"S": "kept"}})
        s = make_client(server.endpoint, "dynamodbstreams")
        arn = desc["TableDescription"]["LatestStreamArn"]
        shard = s.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = s.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        removes = [r for r in s.get_records(ShardIterator=it)["Records"] if r["eventName"] == "REMOVE"]
        assert len(removes) == 1 and removes[0]["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    finally:
        server.close()


VALIDATION_CASES = [
    ("put_item", {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"SS": []}}},
     "One or more parameter values were invalid: An string set  may not be empty"),
    ("put_item", {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"SS": ["x", "x"]}}},
     "One or more parameter values were invalid: Input collection [x, x] contains duplicates."),
    ("put_item", {"Item": {"pk": {"S": "a"}, "sk": {"N": "1E126"}}},
     "Number overflow. Attempting to store a number with magnitude larger than supported range"),
    ("put_item", {"Item": {"pk": {"S": "a"}, "sk": {"N": "abc"}}}, "A value provided cannot be converted into a number"),
    ("put_item", {"Item": {"pk": {"S": "a"}}}, "One or more parameter values were invalid: Missing the key sk in the item"),
    ("put_item", {"Item": {"pk": {"S": "a"}, "sk": {"S": "1"}}},
     "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"),
    ("put_item", {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "ReturnValues": "ALL_NEW"}, "Return values set to invalid value"),
    ("put_item", {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "ConditionExpression": "size = :v",
                  "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: size"),
    ("put_item", {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)",
                  "ExpressionAttributeNames": {"#unused": "x"}},
     "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}"),
    ("update_item", {"Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "UpdateExpression": "SET a = :v, a.b = :v",
                     "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; "
     "path one: [a], path two: [a, b]"),
    ("update_item", {"Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "UpdateExpression": "SET a = :v",
                     "AttributeUpdates": {"b": {"Action": "DELETE"}}, "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: "
     "{AttributeUpdates} Expression parameters: {UpdateExpression}"),
    ("update_item", {"Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "ConditionExpression": "attribute_exists(a)",
                     "UpdateExpression": "REMOVE b", "Expected": {"a": {"Exists": False}}, "ConditionalOperator": "AND"},
     "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: "
     "{Expected, ConditionalOperator} Expression parameters: {UpdateExpression, ConditionExpression}"),
    ("update_item", {"Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "UpdateExpression": "ADD a :v",
                     "ExpressionAttributeValues": {":v": {"S": "x"}}},
     "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, "
     "typeSet: ALLOWED_FOR_ADD_OPERAND"),
    ("query", {"KeyConditionExpression": "sk = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}},
     "Query condition missed key schema element: pk"),
    ("query", {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}, "Select": "COUNT",
               "ProjectionExpression": "sk"},
     "Cannot specify the ProjectionExpression when choosing to get only the Count"),
    ("scan", {"Segment": 3, "TotalSegments": 2},
     "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 3 is not less than TotalSegments: 2"),
    ("scan", {"FilterExpression": "a = :v", "ExpressionAttributeValues": {":v": {"N": "1"}, ":w": {"N": "2"}}},
     "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"),
]


@pytest.mark.parametrize("operation, params, message", VALIDATION_CASES, ids=[m[:40] for _, _, m in VALIDATION_CASES])
def test_validation_messages_through_boto3(client: Any, operation: str, params: dict[str, Any], message: str) -> None:
    create(client)
    resp = error(getattr(client, operation), TableName="users", **params)
    assert resp["Error"] == {"Code": "ValidationException", "Message": message}
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_legacy_parameters_with_client(client: Any) -> None:
    create(client)
    client.put_item(TableName="users", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "5"}},
                    Expected={"pk": {"Exists": False}})
    resp = error(client.put_item, TableName="users", Item={"pk": {"S": "a"}, "sk": {"N": "1"}}, Expected={"pk": {"Exists": False}})
    assert resp["Error"]["Code"] == "ConditionalCheckFailedException"
    out = client.update_item(TableName="users", Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
                             AttributeUpdates={"n": {"Action": "ADD", "Value": {"N": "2"}}, "t": {"Action": "PUT", "Value": {"S": "x"}}},
                             Expected={"n": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "5"}]}}, ReturnValues="ALL_NEW")
    assert out["Attributes"]["n"] == {"N": "7"} and out["Attributes"]["t"] == {"S": "x"}
    got = client.query(TableName="users", KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
                       QueryFilter={"t": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "x"}]}},
                       AttributesToGet=["n"])
    assert got["Items"] == [{"n": {"N": "7"}}]
    got = client.scan(TableName="users", ScanFilter={"n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}, {"N": "6"}]}})
    assert got["Count"] == 0 and got["ScannedCount"] == 1
    resp = error(client.get_item, TableName="users", Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, AttributesToGet=["n"], ProjectionExpression="n")
    assert resp["Error"]["Message"] == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"
    )


def test_indexes_capacity_and_idempotency_with_client(client: Any, wait_index: Any) -> None:
    client.create_table(
        TableName="events", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "at", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        LocalSecondaryIndexes=[{"IndexName": "by_at", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                                   {"AttributeName": "at", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "ALL"}}])
    for i in range(5):
        out = client.put_item(TableName="events", Item={"pk": {"S": "e"}, "sk": {"N": str(i)}, "at": {"N": str(100 - i)}, "kind": {"S": "k" if i % 2 else "j"}},
                              ReturnItemCollectionMetrics="SIZE")
        assert out["ItemCollectionMetrics"]["ItemCollectionKey"] == {"pk": {"S": "e"}}
    got = client.query(TableName="events", IndexName="by_at", KeyConditionExpression="pk = :p AND #a > :t",
                       ExpressionAttributeNames={"#a": "at"}, ExpressionAttributeValues={":p": {"S": "e"}, ":t": {"N": "97"}},
                       ConsistentRead=True, ReturnConsumedCapacity="INDEXES")
    assert [i["sk"]["N"] for i in got["Items"]] == ["2", "1", "0"]
    assert got["ConsumedCapacity"]["LocalSecondaryIndexes"] == {"by_at": {"CapacityUnits": 1.0, "ReadCapacityUnits": 1.0}}
    client.update_table(TableName="events", AttributeDefinitions=[{"AttributeName": "kind", "AttributeType": "S"}],
                        GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by_kind", "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                                                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    assert wait_index(client, "events", "by_kind")["IndexStatus"] == "ACTIVE"
    got = client.query(TableName="events", IndexName="by_kind", KeyConditionExpression="kind = :k", ExpressionAttributeValues={":k": {"S": "k"}})
    assert sorted(i["sk"]["N"] for i in got["Items"]) == ["1", "3"]
    update = {"Update": {"TableName": "events", "Key": {"pk": {"S": "e"}, "sk": {"N": "0"}}, "UpdateExpression": "ADD hits :one",
                         "ExpressionAttributeValues": {":one": {"N": "1"}}}}
    client.transact_write_items(TransactItems=[update], ClientRequestToken="same-token")
    client.transact_write_items(TransactItems=[update], ClientRequestToken="same-token")
    assert client.get_item(TableName="events", Key={"pk": {"S": "e"}, "sk": {"N": "0"}})["Item"]["hits"] == {"N": "1"}
    resp = error(client.transact_write_items, TransactItems=[{**update, "Update": {**update["Update"], "ExpressionAttributeValues": {":one": {"N": "2"}}}}],
                 ClientRequestToken="same-token")
    assert resp["Error"]["Code"] == "IdempotentParameterMismatchException"


def test_gsi_added_by_update_table_builds_in_the_background(tmp_path: Any, wait_index: Any) -> None:
    """CREATING (allocation, table UPDATING) -> CREATING + Backfilling (table ACTIVE, index unreadable) -> ACTIVE.
    ``AWSEMU_DYNAMODB_CREATE_SECONDS`` holds the index in CREATING long enough to watch."""
    server = ServerProcess(tmp_path / "data", env={**SERVICES, "AWSEMU_DYNAMODB_CREATE_SECONDS": "2.0"})
    server.start()
    try:
        c = make_client(server.endpoint, "dynamodb")
        c.create_table(TableName="docs", BillingMode="PAY_PER_REQUEST",
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        while c.describe_table(TableName="docs")["Table"]["TableStatus"] != "ACTIVE":
            time.sleep(0.05)
        for i in range(30):
            item = {"pk": {"S": f"d{i}"}} | ({"color": {"S": "red" if i % 3 else "blue"}} if i % 5 else {})
            c.put_item(TableName="docs", Item=item)
        out = c.update_table(TableName="docs", AttributeDefinitions=[{"AttributeName": "color", "AttributeType": "S"}],
                             GlobalSecondaryIndexUpdates=[{"Create": {
                                 "IndexName": "by_color", "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}}])["TableDescription"]
        gsi = out["GlobalSecondaryIndexes"][0]
        assert (out["TableStatus"], gsi["IndexStatus"], gsi["Backfilling"]) == ("UPDATING", "CREATING", False)
        resp = error(c.query, TableName="docs", IndexName="by_color", KeyConditionExpression="color = :c",
                     ExpressionAttributeValues={":c": {"S": "red"}})
        assert resp["Error"] == {"Code": "ValidationException",
                                 "Message": "Cannot read from backfilling global secondary index: by_color"}
        resp = error(c.update_table, TableName="docs", AttributeDefinitions=[{"AttributeName": "size", "AttributeType": "N"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {
                         "IndexName": "by_size", "KeySchema": [{"AttributeName": "size", "KeyType": "HASH"}],
                         "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
        assert resp["Error"] == {"Code": "LimitExceededException", "Message": "Subscriber limit exceeded: Only 1 online "
                                 "index can be created or deleted simultaneously per table"}
        assert error(c.delete_table, TableName="docs")["Error"]["Code"] == "ResourceInUseException"
        c.put_item(TableName="docs", Item={"pk": {"S": "late"}, "color": {"S": "red"}})  # written while building
        deadline = time.monotonic() + 5
        while True:
            table = c.describe_table(TableName="docs")["Table"]
            gsi = table["GlobalSecondaryIndexes"][0]
            if gsi.get("Backfilling") or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert (table["TableStatus"], gsi["IndexStatus"], gsi["Backfilling"]) == ("ACTIVE", "CREATING", True)
        gsi = wait_index(c, "docs", "by_color")
        assert gsi["IndexStatus"] == "ACTIVE" and "Backfilling" not in gsi and gsi["ItemCount"] == 25
        red = c.query(TableName="docs", IndexName="by_color", KeyConditionExpression="color = :c",
                      ExpressionAttributeValues={":c": {"S": "red"}})
        assert sorted(i["pk"]["S"] for i in red["Items"]) == sorted(
            [f"d{i}" for i in range(30) if i % 5 and i % 3] + ["late"])
    finally:
        server.close()


def test_deleted_tables_stream_stays_readable(client: Any, streams_client: Any) -> None:
    arn = create(client, range_key=False, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})[
        "TableDescription"]["LatestStreamArn"]
    for i in range(3):
        client.put_item(TableName="users", Item={"pk": {"S": f"u{i}"}})
    client.delete_table(TableName="users")
    desc = streams_client.describe_stream(StreamArn=arn)["StreamDescription"]
    assert (desc["StreamStatus"], desc["TableName"], desc["StreamViewType"]) == ("DISABLED", "users", "NEW_IMAGE")
    shard = desc["Shards"][0]
    assert "EndingSequenceNumber" in shard["SequenceNumberRange"], "the shard of a deleted table's stream is closed"
    it = streams_client.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
    out = streams_client.get_records(ShardIterator=it["ShardIterator"])
    assert [(r["eventName"], r["dynamodb"]["NewImage"]["pk"]["S"]) for r in out["Records"]] == [
        ("INSERT", "u0"), ("INSERT", "u1"), ("INSERT", "u2")]
    out = streams_client.get_records(ShardIterator=out["NextShardIterator"])
    assert out["Records"] == [] and "NextShardIterator" not in out, "a closed shard's iterator ends after its last record"
    assert arn in [s["StreamArn"] for s in streams_client.list_streams()["Streams"]]
    # A new table of the same name has a new stream; the old one is still there.
    new_arn = create(client, range_key=False, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})[
        "TableDescription"]["LatestStreamArn"]
    assert new_arn != arn
    assert streams_client.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"] == "DISABLED"
    assert streams_client.describe_stream(StreamArn=new_arn)["StreamDescription"]["StreamStatus"] == "ENABLED"


def test_transact_get_reports_a_conflict_with_a_running_transaction(client: Any) -> None:
    """A TransactGetItems that meets a TransactWriteItems on the same item is cancelled
    (TransactionConflict) instead of waiting; any read that does succeed sees whole transactions."""
    import threading

    create(client, range_key=False)
    keys_ = [{"pk": {"S": f"k{i}"}} for i in range(25)]
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            client.transact_write_items(TransactItems=[
                {"Put": {"TableName": "users", "Item": {**k, "n": {"N": str(n)}}}} for k in keys_])

    thread = threading.Thread(target=writer)
    thread.start()
    conflicts, reads = 0, 0
    try:
        deadline = time.monotonic() + 10
        while conflicts == 0 and time.monotonic() < deadline:
            try:
                got = client.transact_get_items(TransactItems=[{"Get": {"TableName": "users", "Key": k}}
                                                               for k in (keys_[0], keys_[24])])
            except botocore.exceptions.ClientError as exc:
                assert exc.response["Error"]["Code"] == "TransactionCanceledException"
                reasons = {r["Code"] for r in exc.response["CancellationReasons"]}
                assert reasons <= {"TransactionConflict", "None"} and "TransactionConflict" in reasons
                conflicts += 1
                continue
            reads += 1
            values = [r.get("Item", {}).get("n") for r in got["Responses"]]
            assert values[0] == values[1], "a transaction is seen whole or not at all"
    finally:
        stop.set()
        thread.join()
    assert conflicts >= 1


def test_partiql_order_by_exists_and_is_missing_with_client(client: Any) -> None:
    create(client)  # pk S, sk N
    for pk, sk, extra in [("a", 3, {}), ("a", 1, {"note": {"S": "n"}}), ("a", 2, {}), ("b", 5, {}), ("b", 4, {}), ("c", 9, {})]:
        client.put_item(TableName="users", Item={"pk": {"S": pk}, "sk": {"N": str(sk)}, **extra})

    def run(statement: str, **kw: Any) -> list[tuple[str, str]]:
        items, token = [], None
        while True:
            out = client.execute_statement(Statement=statement, **kw, **({"NextToken": token} if token else {}))
            items += [(i["pk"]["S"], i["sk"]["N"]) for i in out["Items"]]
            token = out.get("NextToken")
            if not token:
                return items

    assert run("SELECT * FROM users WHERE pk = 'a' ORDER BY sk DESC") == [("a", "3"), ("a", "2"), ("a", "1")]
    assert run("SELECT * FROM users WHERE pk = 'a' ORDER BY sk ASC", Limit=2) == [("a", "1"), ("a", "2"), ("a", "3")]
    assert run("SELECT * FROM users WHERE pk IN ['b', 'a'] ORDER BY pk DESC, sk DESC", Limit=2) == [
        ("b", "5"), ("b", "4"), ("a", "3"), ("a", "2"), ("a", "1")]
    assert run("SELECT * FROM users WHERE pk = 'a' AND note IS MISSING ORDER BY sk") == [("a", "2"), ("a", "3")]
    assert run("SELECT * FROM users WHERE pk = 'a' AND note IS NOT MISSING") == [("a", "1")]
    for statement, message in [
        ("SELECT * FROM users ORDER BY sk", "Must have WHERE clause in the statement when using ORDER BY clause."),
        ("SELECT * FROM users WHERE pk IN ['a', 'b'] ORDER BY sk",
         "Must have hash key in ORDER BY clause when more than one hash key condition specified in WHERE clause."),
    ]:
        assert error(client.execute_statement, Statement=statement)["Error"] == {"Code": "ValidationException", "Message": message}
    assert error(client.execute_statement, Statement="SELECT * FROM users WHERE pk = 'a' ORDER BY note")[
        "Error"]["Code"] == "ValidationException"
    # EXISTS: a condition check inside ExecuteTransaction.
    client.execute_transaction(TransactStatements=[
        {"Statement": "EXISTS(SELECT * FROM users WHERE pk = 'a' AND sk = 1 AND note = 'n')"},
        {"Statement": "UPDATE users SET seen = true WHERE pk = 'c' AND sk = 9"}])
    assert client.get_item(TableName="users", Key={"pk": {"S": "c"}, "sk": {"N": "9"}})["Item"]["seen"] == {"BOOL": True}
    resp = error(client.execute_transaction, TransactStatements=[
        {"Statement": "EXISTS(SELECT * FROM users WHERE pk = 'a' AND sk = 7)"},
        {"Statement": "DELETE FROM users WHERE pk = 'c' AND sk = 9"}])
    assert resp["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in resp["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    assert "Item" in client.get_item(TableName="users", Key={"pk": {"S": "c"}, "sk": {"N": "9"}})
    assert error(client.execute_statement, Statement="EXISTS(SELECT * FROM users WHERE pk = 'a' AND sk = 1)")[
        "Error"]["Code"] == "ValidationException"


def test_create_table_index_validation_messages(client: Any) -> None:
    """Messages as DynamoDB words them (checked against recorded service answers)."""
    pk = {"AttributeName": "pk", "AttributeType": "S"}
    base = {"TableName": "val", "BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}

    def gsi(name: str, attr: str = "g", **projection: Any) -> dict[str, Any]:
        return {"IndexName": name, "KeySchema": [{"AttributeName": attr, "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL", **projection}}

    g = {"AttributeName": "g", "AttributeType": "S"}
    cases = [
        ({"AttributeDefinitions": [pk, pk]}, "Attribute Name is duplicated: pk"),
        ({"AttributeDefinitions": [pk, g, {"AttributeName": "x", "AttributeType": "S"}], "GlobalSecondaryIndexes": [gsi("ix1")]},
         "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
         "AttributeDefinitions: [pk, g, x], keys used: [pk, g]"),
        ({"AttributeDefinitions": [pk, g], "GlobalSecondaryIndexes": [gsi(f"i{n:02d}") for n in range(21)]},
         "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20"),
        ({"AttributeDefinitions": [pk, g], "GlobalSecondaryIndexes": [gsi("ix1", ProjectionType="INCLUDE")]},
         "One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified"),
        ({"AttributeDefinitions": [pk, g], "GlobalSecondaryIndexes": [gsi("ix1", ProjectionType="INCLUDE", NonKeyAttributes=["a", "a"])]},
         "One or more parameter values were invalid: Duplicate element in NonKeyAttributes: a"),
        ({"AttributeDefinitions": [pk, g], "GlobalSecondaryIndexes": [
            {**gsi("ix1"), "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}]},
         "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: ix1 when "
         "BillingMode is PAY_PER_REQUEST"),
        ({"AttributeDefinitions": [pk], "StreamSpecification": {"StreamEnabled": True}},
         "One or more parameter values were invalid: Table is being created with a stream enabled, UpdateViewType is required"),
    ]
    for extra, message in cases:
        assert error(client.create_table, **base, **extra)["Error"] == {"Code": "ValidationException", "Message": message}
    arn = client.create_table(**base, AttributeDefinitions=[pk])["TableDescription"]["TableArn"]
    resp = error(client.tag_resource, ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert resp["Error"] == {"Code": "ValidationException",
                             "Message": "Number of Tags exceed the current limit for the provided ResourceArn"}
    resp = error(client.scan, TableName="val", FilterExpression="pk BETWEEN :a AND :b",
                 ExpressionAttributeValues={":a": {"N": "1"}, ":b": {"S": "z"}})
    assert resp["Error"]["Message"] == ("Invalid FilterExpression: The BETWEEN operator requires same data type for lower "
                                        "and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound "
                                        "operand: AttributeValue: {S:z}")
