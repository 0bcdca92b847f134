"""SQS through a real server with boto3, in both wire protocols.

``json``: boto3 as shipped (AWS JSON 1.0, ``X-Amz-Target: AmazonSQS.*``). ``query``: a boto3 client
whose SQS model is switched back to the query protocol (form ``Action=...``, XML answers), as older
SDKs speak it. Every test runs in both; each uses its own random account (12-digit access key), so
tests sharing the session server never see each other's queues.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError


@pytest.fixture(params=["json", "query"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def account() -> str:
    return str(random.randint(10**11, 10**12 - 1))


def make_client(endpoint: str, account: str, protocol: str, model_dir: Path, region: str = "us-east-1") -> Any:
    session = botocore.session.get_session()
    if protocol == "query":
        session.get_component("data_loader").search_paths.insert(0, str(model_dir))
    client = boto3.Session(botocore_session=session).client(
        "sqs", endpoint_url=endpoint, region_name=region, aws_access_key_id=account,
        aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 1}),
    )
    assert client.meta.service_model.protocol == protocol
    return client


@pytest.fixture
def sqs_client(aws_endpoint_url: str, account: str, protocol: str, query_model_dir: Path) -> Any:
    return make_client(aws_endpoint_url, account, protocol, query_model_dir)


def reference_md5(attributes: dict[str, Any]) -> str:
    """MD5OfMessageAttributes as the SQS Developer Guide defines it (independent of the provider)."""
    out = b""
    for name in sorted(attributes):
        value = attributes[name]
        for text in (name, value["DataType"]):
            out += len(text.encode()).to_bytes(4, "big") + text.encode()
        if "BinaryValue" in value:
            out += b"\x02" + len(value["BinaryValue"]).to_bytes(4, "big") + value["BinaryValue"]
        else:
            data = value["StringValue"].encode()
            out += b"\x01" + len(data).to_bytes(4, "big") + data
    return hashlib.md5(out).hexdigest()


def error_of(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response


def assert_error(call: Any, code: str, message: str | None = None, status: int = 400) -> None:
    response = error_of(call)
    assert response["Error"]["Code"] == code, response["Error"]
    if message is not None:
        assert response["Error"]["Message"] == message
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_queue_lifecycle(sqs_client, account, aws_endpoint_url):
    c = sqs_client
    url = c.create_queue(QueueName="life", Attributes={"VisibilityTimeout": "45"}, tags={"t": "1"})["QueueUrl"]
    assert url == f"{aws_endpoint_url}/{account}/life"
    assert c.create_queue(QueueName="life", Attributes={"VisibilityTimeout": "45"})["QueueUrl"] == url
    assert_error(lambda: c.create_queue(QueueName="life", Attributes={"VisibilityTimeout": "46"}),
                 "QueueAlreadyExists",
                 "A queue already exists with the same name and a different value for attribute VisibilityTimeout")
    assert c.get_queue_url(QueueName="life")["QueueUrl"] == url
    attrs = c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:{account}:life"
    assert attrs["ApproximateNumberOfMessages"] == "0"
    c.set_queue_attributes(QueueUrl=url, Attributes={"DelaySeconds": "2", "Policy": json.dumps({"Version": "2012-10-17", "Statement": []})})
    got = c.get_queue_attributes(QueueUrl=url, AttributeNames=["DelaySeconds", "Policy"])["Attributes"]
    assert got == {"DelaySeconds": "2", "Policy": json.dumps({"Version": "2012-10-17", "Statement": []})}
    assert c.list_queue_tags(QueueUrl=url)["Tags"] == {"t": "1"}
    c.tag_queue(QueueUrl=url, Tags={"u": "2"})
    c.untag_queue(QueueUrl=url, TagKeys=["t"])
    assert c.list_queue_tags(QueueUrl=url)["Tags"] == {"u": "2"}
    assert c.list_queues(QueueNamePrefix="li")["QueueUrls"] == [url]
    c.delete_queue(QueueUrl=url)
    assert_error(lambda: c.get_queue_url(QueueName="life"), "AWS.SimpleQueueService.NonExistentQueue",
                 "The specified queue does not exist.")
    assert_error(lambda: c.create_queue(QueueName="life"), "AWS.SimpleQueueService.QueueDeletedRecently",
                 "You must wait 60 seconds after deleting a queue before you can create another with the same name.")


def test_modelled_exceptions_are_raised_as_their_classes(sqs_client):
    with pytest.raises(sqs_client.exceptions.QueueDoesNotExist):
        sqs_client.get_queue_url(QueueName="missing")


def test_validation_errors(sqs_client):
    c = sqs_client
    assert_error(lambda: c.create_queue(QueueName="bad name"), "InvalidParameterValue",
                 "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
    assert_error(lambda: c.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "99999"}),
                 "InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout.")
    assert_error(lambda: c.create_queue(QueueName="q", Attributes={"Nope": "1"}),
                 "InvalidAttributeName", "Unknown Attribute Nope.")
    url = c.create_queue(QueueName="q")["QueueUrl"]
    assert_error(lambda: c.receive_message(QueueUrl=url, MaxNumberOfMessages=11), "InvalidParameterValue",
                 "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")
    assert_error(lambda: c.send_message(QueueUrl=url, MessageBody="\x01"), "InvalidMessageContents")
    assert_error(lambda: c.delete_message(QueueUrl=url, ReceiptHandle="nope"), "ReceiptHandleIsInvalid",
                 'The input receipt handle "nope" is not a valid receipt handle.', status=404)
    assert_error(lambda: c.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "a", "MessageBody": "2"}]),
                 "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id a repeated.")
    assert_error(lambda: c.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x"} for i in range(11)]),
                 "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
                 "Maximum number of entries per request are 10. You have sent 11.")
    c.purge_queue(QueueUrl=url)
    assert_error(lambda: c.purge_queue(QueueUrl=url), "AWS.SimpleQueueService.PurgeQueueInProgress",
                 "Only one PurgeQueue operation on q is allowed every 60 seconds.", status=403)


def test_messages_round_trip_with_md5s(sqs_client):
    c = sqs_client
    url = c.create_queue(QueueName="msgs")["QueueUrl"]
    attrs = {"s": {"DataType": "String", "StringValue": "é"}, "n": {"DataType": "Number", "StringValue": "1.5"},
             "b": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}}
    trace = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}}
    sent = c.send_message(QueueUrl=url, MessageBody="body ü", MessageAttributes=attrs, MessageSystemAttributes=trace)
    assert sent["MD5OfMessageBody"] == hashlib.md5("body ü".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == reference_md5(attrs)
    assert sent["MD5OfMessageSystemAttributes"] == reference_md5(trace)
    got = c.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"],
                            WaitTimeSeconds=1)["Messages"]
    [m] = got
    assert m["Body"] == "body ü" and m["MessageId"] == sent["MessageId"]
    assert m["MessageAttributes"] == attrs
    assert m["MD5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    assert m["Attributes"]["AWSTraceHeader"] == trace["AWSTraceHeader"]["StringValue"]
    c.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    [again] = c.receive_message(QueueUrl=url)["Messages"]
    c.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])
    assert "Messages" not in c.receive_message(QueueUrl=url)
    batch = c.send_message_batch(QueueUrl=url, Entries=[{"Id": f"e{i}", "MessageBody": f"b{i}"} for i in range(10)])
    assert sorted(s["Id"] for s in batch["Successful"]) == [f"e{i}" for i in range(10)]
    assert batch.get("Failed", []) == []
    drained = []
    while True:
        msgs = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            break
        drained += [x["Body"] for x in msgs]
        res = c.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": x["ReceiptHandle"]}
                                                            for i, x in enumerate(msgs)])
        assert len(res["Successful"]) == len(msgs)
    assert sorted(drained) == sorted(f"b{i}" for i in range(10))


def test_fifo_through_the_wire(sqs_client):
    c = sqs_client
    url = c.create_queue(QueueName="w.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    a = c.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="g")
    b = c.send_message(QueueUrl=url, MessageBody="1", MessageGroupId="g")
    assert a["MessageId"] == b["MessageId"] and a["SequenceNumber"] == b["SequenceNumber"]
    c.send_message(QueueUrl=url, MessageBody="2", MessageGroupId="g")
    [m1] = c.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert m1["Body"] == "1" and m1["Attributes"]["MessageGroupId"] == "g"
    assert "Messages" not in c.receive_message(QueueUrl=url)
    c.delete_message(QueueUrl=url, ReceiptHandle=m1["ReceiptHandle"])
    assert c.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "2"
    assert_error(lambda: c.send_message(QueueUrl=url, MessageBody="x"), "MissingParameter",
                 "The request must contain the parameter MessageGroupId.")


def test_dead_letter_queue_and_move_task(sqs_client, account):
    c = sqs_client
    dlq = c.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = f"arn:aws:sqs:us-east-1:{account}:dlq"
    src = c.create_queue(QueueName="src", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
    c.send_message(QueueUrl=src, MessageBody="poison")
    c.receive_message(QueueUrl=src, VisibilityTimeout=0)
    assert "Messages" not in c.receive_message(QueueUrl=src)
    assert c.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]
    assert c.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "1"}
    handle = c.start_message_move_task(SourceArn=dlq_arn)["TaskHandle"]
    assert handle
    deadline = time.monotonic() + 10
    while c.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]["Status"] != "COMPLETED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert c.receive_message(QueueUrl=src)["Messages"][0]["Body"] == "poison"
    assert_error(lambda: c.start_message_move_task(SourceArn=f"arn:aws:sqs:us-east-1:{account}:nope"),
                 "ResourceNotFoundException", status=404)


def test_long_poll_wakes_on_send(sqs_client):
    c = sqs_client
    url = c.create_queue(QueueName="lp")["QueueUrl"]
    result: dict[str, Any] = {}

    def poll() -> None:
        result.update(c.receive_message(QueueUrl=url, WaitTimeSeconds=10))

    thread = threading.Thread(target=poll)
    started = time.monotonic()
    thread.start()
    time.sleep(0.3)
    c.send_message(QueueUrl=url, MessageBody="now")
    thread.join(timeout=10)
    assert result["Messages"][0]["Body"] == "now"
    assert time.monotonic() - started < 8


def test_queue_urls_follow_the_host_the_client_used(aws_endpoint_url, account, protocol, query_model_dir):
    other_host = aws_endpoint_url.replace("127.0.0.1", "localhost")
    c = make_client(other_host, account, protocol, query_model_dir)
    url = c.create_queue(QueueName="hosts")["QueueUrl"]
    assert url == f"{other_host}/{account}/hosts"
    # an AWS-shaped URL names the same queue
    aws_url = f"https://sqs.us-east-1.amazonaws.com/{account}/hosts"
    c.send_message(QueueUrl=aws_url, MessageBody="x")
    assert c.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
        "ApproximateNumberOfMessages"] == "1"


def _raw_query(endpoint: str, account: str, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
    """A hand-written query request (form POST), as scripts and old clients send it."""
    from urllib.parse import urlencode

    body = urlencode({"Version": "2012-11-05", **form}).encode()
    request = urllib.request.Request(endpoint + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={account}/20260101/us-east-1/sqs/aws4_request, "
                         "SignedHeaders=host, Signature=" + "0" * 64,
    })
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def test_hand_written_query_requests(aws_endpoint_url, account):
    status, _, body = _raw_query(aws_endpoint_url, account, {"Action": "CreateQueue", "QueueName": "raw",
                                                             "Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "0"})
    assert status == 200
    assert "<CreateQueueResponse" in body and f"<QueueUrl>{aws_endpoint_url}/{account}/raw</QueueUrl>" in body
    url = f"{aws_endpoint_url}/{account}/raw"
    status, _, body = _raw_query(aws_endpoint_url, account, {
        "Action": "SendMessage", "QueueUrl": url, "MessageBody": "hi",
        "MessageAttribute.1.Name": "k", "MessageAttribute.1.Value.DataType": "String",
        "MessageAttribute.1.Value.StringValue": "v"})
    assert status == 200 and "<MD5OfMessageBody>49f68a5c8493ec2c0bf489821c21fc3b</MD5OfMessageBody>" in body
    status, _, body = _raw_query(aws_endpoint_url, account, {
        "Action": "ReceiveMessage", "QueueUrl": url, "MessageAttributeName.1": "All", "AttributeName.1": "All"})
    assert status == 200 and "<Body>hi</Body>" in body and "<Name>k</Name>" in body
    status, _, body = _raw_query(aws_endpoint_url, account, {"Action": "GetQueueUrl", "QueueName": "absent"})
    assert status == 400
    assert "<ErrorResponse" in body and "<Type>Sender</Type>" in body
    assert "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>" in body
    assert "<Message>The specified queue does not exist.</Message>" in body


def test_json_error_shape_and_query_error_header(aws_endpoint_url, account):
    request = urllib.request.Request(aws_endpoint_url + "/", method="POST", data=json.dumps({"QueueName": "absent"}).encode(), headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.GetQueueUrl",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={account}/20260101/us-east-1/sqs/aws4_request, "
                         "SignedHeaders=host, Signature=" + "0" * 64,
    })
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 400
    assert info.value.headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    document = json.loads(info.value.read())
    assert document["__type"].endswith("#QueueDoesNotExist")
    assert document["message"] == "The specified queue does not exist."


def test_unique_names_do_not_leak_between_accounts(aws_endpoint_url, protocol, query_model_dir):
    a = make_client(aws_endpoint_url, str(random.randint(10**11, 10**12 - 1)), protocol, query_model_dir)
    b = make_client(aws_endpoint_url, str(random.randint(10**11, 10**12 - 1)), protocol, query_model_dir)
    name = f"iso-{uuid.uuid4().hex[:8]}"
    a.create_queue(QueueName=name)
    assert "QueueUrls" not in b.list_queues(QueueNamePrefix=name)


def test_paging_permissions_visibility_batch_and_delays(sqs_client, account):
    c = sqs_client
    for i in range(5):
        c.create_queue(QueueName=f"page-{i}")
    seen, token = [], None
    while True:
        page = c.list_queues(QueueNamePrefix="page-", MaxResults=2, **({"NextToken": token} if token else {}))
        seen += [u.rsplit("/", 1)[1] for u in page["QueueUrls"]]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == [f"page-{i}" for i in range(5)]

    url = c.create_queue(QueueName="perm", Attributes={"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "false"})["QueueUrl"]
    c.add_permission(QueueUrl=url, Label="send", AWSAccountIds=["111122223333"], Actions=["SendMessage", "ReceiveMessage"])
    attrs = c.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds"])["Attributes"]
    statement = json.loads(attrs["Policy"])["Statement"][0]
    assert statement["Sid"] == "send" and statement["Action"] == ["SQS:SendMessage", "SQS:ReceiveMessage"]
    assert (attrs["KmsMasterKeyId"], attrs["KmsDataKeyReusePeriodSeconds"]) == ("alias/aws/sqs", "300")
    c.remove_permission(QueueUrl=url, Label="send")
    assert "Policy" not in c.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    c.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "a"},
                                                {"Id": "d", "MessageBody": "d", "DelaySeconds": 1}])
    [m] = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert m["Body"] == "a"
    assert c.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])["Attributes"] == {
        "ApproximateNumberOfMessagesDelayed": "1"}
    res = c.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "ok", "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "bad", "ReceiptHandle": "bogus", "VisibilityTimeout": 0}])
    assert res["Successful"] == [{"Id": "ok"}]
    assert res["Failed"][0]["Id"] == "bad" and res["Failed"][0]["Code"] == "ReceiptHandleIsInvalid"
    assert res["Failed"][0]["SenderFault"] is True
    got = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=3)["Messages"]
    assert "a" in {x["Body"] for x in got}


def test_fifo_attempt_id_and_high_throughput(sqs_client):
    c = sqs_client
    url = c.create_queue(QueueName="ht.fifo", Attributes={
        "FifoQueue": "true", "DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"})["QueueUrl"]
    attrs = c.get_queue_attributes(QueueUrl=url, AttributeNames=["DeduplicationScope", "FifoThroughputLimit"])["Attributes"]
    assert attrs == {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    a = c.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g1", MessageDeduplicationId="same")
    b = c.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g2", MessageDeduplicationId="same")
    assert a["MessageId"] != b["MessageId"]
    first = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt")["Messages"]
    retry = c.receive_message(QueueUrl=url, MaxNumberOfMessages=10, ReceiveRequestAttemptId="attempt")["Messages"]
    assert [m["ReceiptHandle"] for m in retry] == [m["ReceiptHandle"] for m in first]
    assert_error(lambda: c.set_queue_attributes(QueueUrl=url, Attributes={"DeduplicationScope": "queue"}),
                 "InvalidAttributeValue")
