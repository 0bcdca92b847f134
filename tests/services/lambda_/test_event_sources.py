"""Event source mappings through boto3: the control plane, SQS pollers (batches, partial failures,
filters) and DynamoDB stream pollers, with real Python handlers.

Handlers append the records they receive as JSON lines to a file named by the ``OUT`` environment
variable; tests poll that file and the queues for conditions (bounded by WAIT_S), never sleep.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from botocore.config import Config as BotoConfig
from lambda_helpers import ROLE, WAIT_S, error_of, python_zip

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

RECORDING_HANDLER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        for record in event["Records"]:
            f.write(json.dumps(record) + "\\n")
    failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r.get("body") == "bad"]
    return {"batchItemFailures": failed}
"""


def wait_until(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def sqs(aws_client: Callable[..., Any]) -> Any:
    return aws_client("sqs")


@pytest.fixture
def queue(sqs: Any) -> Iterator[tuple[str, str]]:
    """(url, arn) of a fresh queue whose visibility timeout (3 s) covers the functions' timeout."""
    url = sqs.create_queue(QueueName=f"esm-{uuid.uuid4().hex[:10]}", Attributes={"VisibilityTimeout": "3"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    yield url, arn
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def mappings(lam: Any) -> Iterator[list[str]]:
    """UUIDs to delete after the test (so their pollers stop)."""
    created: list[str] = []
    yield created
    for mapping_id in created:
        try:
            lam.delete_event_source_mapping(UUID=mapping_id)
        except lam.exceptions.ResourceNotFoundException:
            pass


def wait_state(lam: Any, mapping_id: str, state: str) -> dict[str, Any]:
    return wait_until(lambda: (m := lam.get_event_source_mapping(UUID=mapping_id))["State"] == state and m,
                      f"mapping {mapping_id} to be {state}")


def queue_depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_mapping_control_plane(lam: Any, create: Any, fname: str, sqs: Any, queue: tuple[str, str],
                               mappings: list[str]) -> None:
    url, arn = queue
    function_arn = create("def handler(event, context):\n    return None\n", Timeout=3)["FunctionArn"]
    created = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fname, BatchSize=5,
                                              FunctionResponseTypes=["ReportBatchItemFailures"])
    mappings.append(created["UUID"])
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating" and created["StateTransitionReason"] == "USER_INITIATED"
    assert created["EventSourceArn"] == arn and created["FunctionArn"] == function_arn
    assert created["BatchSize"] == 5 and created["MaximumBatchingWindowInSeconds"] == 0
    assert created["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "StartingPosition" not in created and created["LastModified"].year >= 2024
    enabled = wait_state(lam, created["UUID"], "Enabled")
    assert enabled["UUID"] == created["UUID"]

    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fname)
    other_url = sqs.create_queue(QueueName=f"esm-{uuid.uuid4().hex[:10]}",
                                 Attributes={"VisibilityTimeout": "3"})["QueueUrl"]
    try:
        other_arn = sqs.get_queue_attributes(QueueUrl=other_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        second = lam.create_event_source_mapping(EventSourceArn=other_arn, FunctionName=function_arn, Enabled=False)
        mappings.append(second["UUID"])
        assert second["State"] == "Disabled"

        page = lam.list_event_source_mappings(FunctionName=fname, MaxItems=1)
        assert len(page["EventSourceMappings"]) == 1 and page["NextMarker"]
        rest = lam.list_event_source_mappings(FunctionName=fname, Marker=page["NextMarker"])
        ids = {m["UUID"] for m in page["EventSourceMappings"] + rest["EventSourceMappings"]}
        assert ids == {created["UUID"], second["UUID"]} and "NextMarker" not in rest
        by_source = lam.list_event_source_mappings(EventSourceArn=other_arn)["EventSourceMappings"]
        assert [m["UUID"] for m in by_source] == [second["UUID"]]

        updated = lam.update_event_source_mapping(UUID=created["UUID"], BatchSize=7, Enabled=False)
        assert updated["State"] == "Updating" and updated["BatchSize"] == 7
        assert wait_state(lam, created["UUID"], "Disabled")["BatchSize"] == 7
        lam.update_event_source_mapping(UUID=created["UUID"], Enabled=True)
        wait_state(lam, created["UUID"], "Enabled")

        deleted = lam.delete_event_source_mapping(UUID=second["UUID"])
        assert deleted["State"] == "Deleting"
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
            lam.get_event_source_mapping(UUID=second["UUID"])
        assert error_of(missing)[2] == 404
    finally:
        sqs.delete_queue(QueueUrl=other_url)

    with pytest.raises(lam.exceptions.InvalidParameterValueException):  # no such queue
        lam.create_event_source_mapping(EventSourceArn=arn + "-nope", FunctionName=fname)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):  # no such function
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fname + "-nope")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):  # batch > 10 needs a window
        lam.update_event_source_mapping(UUID=created["UUID"], BatchSize=50)
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_event_source_mapping(UUID=created["UUID"], FilterCriteria={"Filters": [{"Pattern": "nope"}]})
    lam.update_function_configuration(FunctionName=fname, Timeout=10)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as too_short:  # queue timeout < function's
        lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=f"{fname}:$LATEST")
    assert "visibility timeout" in error_of(too_short)[1]


def test_sqs_batches_are_processed_deleted_and_partial_failures_stay(
        lam: Any, create: Any, fname: str, sqs: Any, queue: tuple[str, str], mappings: list[str],
        tmp_path: Path) -> None:
    url, arn = queue
    out = tmp_path / "records.jsonl"
    create(RECORDING_HANDLER, Timeout=3, Environment={"Variables": {"OUT": str(out)}})
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fname, BatchSize=10,
                                              FunctionResponseTypes=["ReportBatchItemFailures"])
    mappings.append(mapping["UUID"])
    wait_state(lam, mapping["UUID"], "Enabled")
    sent = {}
    for body in ("first", "second", "bad"):
        sent[body] = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes={
            "color": {"DataType": "String", "StringValue": "blue"}})["MessageId"]

    seen = wait_until(lambda: (r := lines(out)) and {x["messageId"] for x in r} >= set(sent.values()) and r,
                      "the handler to see every message")
    record = next(r for r in seen if r["messageId"] == sent["first"])
    assert record["body"] == "first" and record["receiptHandle"]
    assert record["md5OfBody"] == hashlib.md5(b"first").hexdigest()
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == arn
    assert record["awsRegion"] == "us-east-1"
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
            "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["color"]["stringValue"] == "blue"
    assert record["messageAttributes"]["color"]["dataType"] == "String"

    # the two successes are deleted; the reported failure stays in the queue (it is retried meanwhile)
    wait_until(lambda: queue_depth(sqs, url) == 1, "only the failed message to stay")
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    left = wait_until(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1,
                                                  AttributeNames=["All"]).get("Messages"), "the failed message")
    assert [m["MessageId"] for m in left] == [sent["bad"]]
    assert int(left[0]["Attributes"]["ApproximateReceiveCount"]) >= 2
    assert queue_depth(sqs, url) == 1


def test_sqs_filter_criteria_deletes_what_does_not_match(
        lam: Any, create: Any, fname: str, sqs: Any, queue: tuple[str, str], mappings: list[str],
        tmp_path: Path) -> None:
    url, arn = queue
    out = tmp_path / "records.jsonl"
    create(RECORDING_HANDLER, Timeout=3, Environment={"Variables": {"OUT": str(out)}})
    pattern = {"body": {"kind": ["order"], "amount": [{"numeric": [">", 10]}]}}
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fname, BatchSize=10,
                                              FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    mappings.append(mapping["UUID"])
    assert json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"]) == pattern
    wait_state(lam, mapping["UUID"], "Enabled")
    bodies = [{"kind": "order", "amount": 20}, {"kind": "order", "amount": 5}, {"kind": "refund", "amount": 50}]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    sqs.send_message(QueueUrl=url, MessageBody="plain text")
    wait_until(lambda: queue_depth(sqs, url) == 0 and lines(out), "every message to be handled")
    assert [json.loads(r["body"]) for r in lines(out)] == [bodies[0]]


STREAM_HANDLER = """
import json, os

def handler(event, context):
    flag = os.environ["OUT"] + ".failed-once"
    if not os.path.exists(flag):  # the first batch fails: the mapping must retry it
        open(flag, "w").close()
        raise RuntimeError("first attempt fails")
    with open(os.environ["OUT"], "a") as f:
        for record in event["Records"]:
            f.write(json.dumps(record) + "\\n")
"""


def _stream_table(ddb: Any) -> tuple[str, str]:
    name = f"esm-{uuid.uuid4().hex[:10]}"
    table = ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                             BillingMode="PAY_PER_REQUEST",
                             StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return name, table["TableDescription"]["LatestStreamArn"]


def test_dynamodb_stream_mapping_sees_insert_modify_remove(
        lam: Any, create: Any, fname: str, aws_client: Callable[..., Any], mappings: list[str],
        tmp_path: Path) -> None:
    ddb = aws_client("dynamodb")
    table, stream_arn = _stream_table(ddb)
    out = tmp_path / "records.jsonl"
    create(STREAM_HANDLER, Timeout=3, Environment={"Variables": {"OUT": str(out)}})
    with pytest.raises(lam.exceptions.InvalidParameterValueException):  # streams need a StartingPosition
        lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=fname)
    mapping = lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=fname, BatchSize=10,
                                              StartingPosition="LATEST", BisectBatchOnFunctionError=True)
    mappings.append(mapping["UUID"])
    assert mapping["StartingPosition"] == "LATEST" and mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == -1
    wait_state(lam, mapping["UUID"], "Enabled")
    try:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k1"}, "v": {"N": "1"}})
        ddb.update_item(TableName=table, Key={"pk": {"S": "k1"}}, UpdateExpression="SET v = :v",
                        ExpressionAttributeValues={":v": {"N": "2"}})
        ddb.delete_item(TableName=table, Key={"pk": {"S": "k1"}})
        records = wait_until(lambda: len(r := lines(out)) >= 3 and r, "three stream records")
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
        insert, modify, remove = records
        for record in records:
            assert record["eventSource"] == "aws:dynamodb" and record["eventVersion"] == "1.1"
            assert record["eventSourceARN"] == stream_arn and record["awsRegion"] == "us-east-1"
            assert record["eventID"] and record["dynamodb"]["Keys"] == {"pk": {"S": "k1"}}
            assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
            assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], (int, float))
            assert record["dynamodb"]["SizeBytes"] > 0 and record["dynamodb"]["SequenceNumber"].isdigit()
        assert insert["dynamodb"]["NewImage"]["v"] == {"N": "1"} and "OldImage" not in insert["dynamodb"]
        assert modify["dynamodb"]["OldImage"]["v"] == {"N": "1"} and modify["dynamodb"]["NewImage"]["v"] == {"N": "2"}
        assert remove["dynamodb"]["OldImage"]["v"] == {"N": "2"} and "NewImage" not in remove["dynamodb"]
        assert (tmp_path / "records.jsonl.failed-once").exists()  # the first delivery failed and was retried
        wait_until(lambda: lam.get_event_source_mapping(UUID=mapping["UUID"]).get("LastProcessingResult") == "OK",
                   "LastProcessingResult OK")
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
        mappings.remove(mapping["UUID"])
        ddb.delete_table(TableName=table)


def test_mappings_and_stream_checkpoints_survive_a_restart(fresh_server: ServerProcess, tmp_path: Path) -> None:
    fresh_server.start()
    config = BotoConfig(retries={"max_attempts": 1}, read_timeout=120)
    lam = make_client(fresh_server.endpoint, "lambda", config=config)
    ddb = make_client(fresh_server.endpoint, "dynamodb")
    table, stream_arn = _stream_table(ddb)
    out = tmp_path / "records.jsonl"
    lam.create_function(FunctionName="restarted", Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(RECORDING_HANDLER)}, Timeout=3,
                        Environment={"Variables": {"OUT": str(out)}})
    mapping_id = lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName="restarted",
                                                 StartingPosition="TRIM_HORIZON", BatchSize=5)["UUID"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    wait_until(lambda: lines(out), "the first record")
    wait_until(lambda: lam.get_event_source_mapping(UUID=mapping_id).get("LastProcessingResult") == "OK",
               "the first batch's checkpoint")
    assert fresh_server.stop() == 0

    fresh_server.start()
    lam = make_client(fresh_server.endpoint, "lambda", config=config)
    ddb = make_client(fresh_server.endpoint, "dynamodb")
    assert lam.get_event_source_mapping(UUID=mapping_id)["EventSourceArn"] == stream_arn
    wait_state(lam, mapping_id, "Enabled")
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
    records = wait_until(lambda: len(r := lines(out)) >= 2 and r, "the record written after the restart")
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]
    assert keys == ["before", "after"]  # the checkpoint kept the first record from being delivered again


POISON_HANDLER = """
import json, os

def handler(event, context):
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
    with open(os.environ["OUT"] + ".attempts", "a") as f:
        f.write(json.dumps(keys) + "\\n")
    if "poison" in keys:
        raise RuntimeError("poison record")
    with open(os.environ["OUT"], "a") as f:
        for record in event["Records"]:
            f.write(json.dumps(record) + "\\n")
"""


def test_dynamodb_stream_filters_bisects_and_drops_after_retries(
        lam: Any, create: Any, fname: str, aws_client: Callable[..., Any], mappings: list[str],
        tmp_path: Path, sqs: Any, queue: tuple[str, str]) -> None:
    ddb = aws_client("dynamodb")
    table, stream_arn = _stream_table(ddb)
    out = tmp_path / "records.jsonl"
    failures_url, failures_arn = queue
    create(POISON_HANDLER, Timeout=3, Environment={"Variables": {"OUT": str(out)}})
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["keep"]}}}}
    mapping = lam.create_event_source_mapping(
        EventSourceArn=stream_arn, FunctionName=fname, BatchSize=10, StartingPosition="TRIM_HORIZON",
        BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
        FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]})
    mappings.append(mapping["UUID"])
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": failures_arn}}
    try:
        for key, kind in (("poison", "keep"), ("good", "keep"), ("skipped", "other")):
            ddb.put_item(TableName=table, Item={"pk": {"S": key}, "kind": {"S": kind}})
        ddb.delete_item(TableName=table, Key={"pk": {"S": "good"}})  # a REMOVE: filtered out too
        ddb.put_item(TableName=table, Item={"pk": {"S": "last"}, "kind": {"S": "keep"}})
        def handled_keys() -> list[str]:
            return [r["dynamodb"]["Keys"]["pk"]["S"] for r in lines(out)]

        keys = wait_until(lambda: "last" in (k := handled_keys()) and k, "the last record")
        assert keys == ["good", "last"]
        attempts = [json.loads(line) for line in (tmp_path / "records.jsonl.attempts").read_text().splitlines()]
        assert sum(keys == ["poison"] for keys in attempts) == 2  # one try and one retry, then dropped
        assert all("skipped" not in keys for keys in attempts)
        # the dropped record is described (not included) on the OnFailure queue, as Lambda does
        messages = wait_until(lambda: sqs.receive_message(QueueUrl=failures_url, WaitTimeSeconds=1,
                                                          MaxNumberOfMessages=10).get("Messages"),
                              "the OnFailure record")
        assert len(messages) == 1
        document = json.loads(messages[0]["Body"])
        assert document["version"] == "1.0"
        context = document["requestContext"]
        assert context["condition"] == "RetryAttemptsExhausted"
        # every invocation that carried the record counts (the whole batch before a bisect too)
        assert context["approximateInvokeCount"] == sum("poison" in keys for keys in attempts)
        assert context["functionArn"] == mapping["FunctionArn"]
        assert document["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                               "functionError": "Unhandled"}
        info = document["DDBStreamBatchInfo"]
        shards = ddb_streams(aws_client).describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        assert info["shardId"] in {shard["ShardId"] for shard in shards}
        assert info["batchSize"] == 1 and info["streamArn"] == stream_arn
        assert info["startSequenceNumber"] == info["endSequenceNumber"]
        handled = {r["dynamodb"]["Keys"]["pk"]["S"]: r["dynamodb"]["SequenceNumber"] for r in lines(out)}
        assert int(info["startSequenceNumber"]) < int(handled["good"])  # poison was written first
        assert info["approximateArrivalOfFirstRecord"].endswith("Z")
        assert "Records" not in document and "requestPayload" not in document
    finally:
        ddb.delete_table(TableName=table)


def ddb_streams(aws_client: Callable[..., Any]) -> Any:
    return aws_client("dynamodbstreams")


def test_stream_destination_config_checks(lam: Any, create: Any, fname: str, aws_client: Callable[..., Any],
                                          mappings: list[str], queue: tuple[str, str]) -> None:
    ddb = aws_client("dynamodb")
    table, stream_arn = _stream_table(ddb)
    url, arn = queue
    create(POISON_HANDLER, Timeout=3)
    try:
        with pytest.raises(lam.exceptions.InvalidParameterValueException):  # SQS sources take none
            lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fname,
                                            DestinationConfig={"OnFailure": {"Destination": arn}})
        with pytest.raises(lam.exceptions.InvalidParameterValueException):  # streams: OnFailure only
            lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=fname,
                                            StartingPosition="LATEST",
                                            DestinationConfig={"OnSuccess": {"Destination": arn}})
        mapping = lam.create_event_source_mapping(EventSourceArn=stream_arn, FunctionName=fname,
                                                  StartingPosition="LATEST", Enabled=False)
        mappings.append(mapping["UUID"])
        assert mapping["DestinationConfig"] == {"OnFailure": {}}
        wait_state(lam, mapping["UUID"], "Disabled")
        updated = lam.update_event_source_mapping(UUID=mapping["UUID"],
                                                  DestinationConfig={"OnFailure": {"Destination": arn}})
        assert updated["DestinationConfig"] == {"OnFailure": {"Destination": arn}}
        wait_state(lam, mapping["UUID"], "Disabled")
        updated = lam.update_event_source_mapping(UUID=mapping["UUID"], DestinationConfig={"OnFailure": {}})
        assert lam.get_event_source_mapping(UUID=mapping["UUID"])["DestinationConfig"] == {"OnFailure": {}}
    finally:
        ddb.delete_table(TableName=table)


BATCH_SIZE_HANDLER = """
import json, os

def handler(event, context):
    with open(os.environ["OUT"], "a") as f:
        f.write(json.dumps({"size": len(event["Records"])}) + "\\n")
"""


def test_sqs_batching_window_gathers_more_than_one_receive(
        lam: Any, create: Any, fname: str, sqs: Any, queue: tuple[str, str], mappings: list[str],
        tmp_path: Path) -> None:
    url, arn = queue
    out = tmp_path / "batches.jsonl"
    create(BATCH_SIZE_HANDLER, Timeout=3, Environment={"Variables": {"OUT": str(out)}})
    # a full batch (15) ends the window early; the generous window only bounds a slow machine
    mapping = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=fname, BatchSize=15,
                                              MaximumBatchingWindowInSeconds=20, Enabled=False)
    mappings.append(mapping["UUID"])
    assert mapping["MaximumBatchingWindowInSeconds"] == 20
    wait_state(lam, mapping["UUID"], "Disabled")
    for start in (0, 10):  # 15 messages wait in the queue before the poller starts
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"}
                                                      for i in range(start, min(start + 10, 15))])
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    wait_until(lambda: queue_depth(sqs, url) == 0, "the queue to drain")
    assert lines(out) == [{"size": 15}]  # one invocation: two receives (10 + 5) within the window
