"""Event notifications delivered to SQS: test event, AWS's event JSON, filters, removal events."""

from __future__ import annotations

import json
import uuid
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from s3_helpers import error_of


def receive(sqs: Any, url: str, count: int = 1) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    for _ in range(10):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) >= count:
            break
    return bodies


@pytest.fixture
def queue(aws_client: Callable[..., Any]) -> tuple[Any, str, str]:
    sqs = aws_client("sqs")
    url = sqs.create_queue(QueueName=f"events-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs, url, arn


def test_events_to_sqs(s3: Any, bucket: str, queue: tuple[Any, str, str]) -> None:
    sqs, url, arn = queue
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
        "Id": "images", "QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "img/"}, {"Name": "suffix", "Value": ".png"}]}},
    }]})
    test_event = receive(sqs, url)[0]
    assert test_event["Event"] == "s3:TestEvent" and test_event["Bucket"] == bucket
    assert test_event["Service"] == "Amazon S3"
    config = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"][0]
    assert config["Id"] == "images" and config["QueueArn"] == arn
    s3.put_object(Bucket=bucket, Key="img/not-matching.jpg", Body=b"x")
    etag = s3.put_object(Bucket=bucket, Key="img/a cat+dog.png", Body=b"12345")["ETag"].strip('"')
    s3.delete_object(Bucket=bucket, Key="img/a cat+dog.png")
    events = [body["Records"][0] for body in receive(sqs, url, 2)]
    assert [e["eventName"] for e in events] == ["ObjectCreated:Put", "ObjectRemoved:Delete"]
    created = events[0]
    assert created["eventSource"] == "aws:s3" and created["eventVersion"] == "2.1"
    assert created["awsRegion"] == "us-east-1"
    assert created["s3"]["configurationId"] == "images"
    assert created["s3"]["bucket"]["name"] == bucket
    assert created["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
    assert created["s3"]["object"]["key"] == "img/a+cat%2Bdog.png"
    assert created["s3"]["object"]["size"] == 5
    assert created["s3"]["object"]["eTag"] == etag
    assert int(events[1]["s3"]["object"]["sequencer"], 16) > int(created["s3"]["object"]["sequencer"], 16)
    assert "size" not in events[1]["s3"]["object"]


def test_copy_and_multipart_events(s3: Any, bucket: str, queue: tuple[Any, str, str]) -> None:
    sqs, url, arn = queue
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload"]}]})
    receive(sqs, url)  # the test event
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=b"part")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    names = [body["Records"][0]["eventName"] for body in receive(sqs, url, 2)]
    assert names == ["ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload"]


def test_invalid_configurations(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "Events": ["s3:ObjectEaten:*"]}]})
    assert error_of(exc) == ("InvalidArgument", "The event is not supported for notifications", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": "arn:aws:sqs:us-east-1:000000000000:no-such-queue-here", "Events": ["s3:ObjectCreated:*"]}]})
    assert error_of(exc) == ("InvalidArgument", "Unable to validate the following destination configurations", 400)
    assert s3.get_bucket_notification_configuration(Bucket=bucket).get("QueueConfigurations") is None


def test_events_reach_sqs_when_signatures_are_enforced(tmp_path: Any) -> None:
    """S3 delivers to SQS inside the server, so strict auth modes do not refuse its own events."""
    from awsemu.testing.plugin import make_client
    from awsemu.testing.server import ServerProcess

    with ServerProcess(tmp_path / "data", env={"AWSEMU_AUTH": "sigv4", "AWSEMU_SERVICES": "s3,sqs,sts,iam"}) as server:
        sqs = make_client(server.endpoint, "sqs")
        s3 = make_client(server.endpoint, "s3")
        url = sqs.create_queue(QueueName="events")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.create_bucket(Bucket="strict")
        s3.put_bucket_notification_configuration(Bucket="strict", NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
        s3.put_object(Bucket="strict", Key="a b.txt", Body=b"x")
        bodies = []
        for _ in range(10):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
            bodies += [json.loads(m["Body"]) for m in got]
            if any("Records" in b for b in bodies):
                break
        assert bodies[0]["Event"] == "s3:TestEvent"
        record = next(b for b in bodies if "Records" in b)["Records"][0]
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["object"]["key"] == "a+b.txt"


def _recorder_zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("rec.py", "import json, os\n\ndef handler(event, context):\n"
                              "    with open(os.environ['OUT'], 'a') as f:\n"
                              "        f.write(json.dumps(event) + '\\n')\n")
    return buf.getvalue()


def test_events_invoke_lambda_functions(s3: Any, bucket: str, aws_client: Callable[..., Any], tmp_path: Any) -> None:
    import time

    out = tmp_path / "events.jsonl"
    fn = aws_client("lambda").create_function(
        FunctionName=f"rec-{uuid.uuid4().hex[:8]}", Runtime="python3.11", Handler="rec.handler",
        Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": _recorder_zip()},
        Environment={"Variables": {"OUT": str(out)}})
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "Id": "to-fn", "LambdaFunctionArn": fn["FunctionArn"], "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}}}]})
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"][0]["Id"] == "to-fn"
    s3.put_object(Bucket=bucket, Key="skip.txt", Body=b"no")
    s3.put_object(Bucket=bucket, Key="data/report 1.csv", Body=b"a,b")
    deadline = time.monotonic() + 30
    while not (out.exists() and out.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(events) == 1
    record = events[0]["Records"][0]
    assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["bucket"]["name"] == bucket
    assert record["s3"]["object"]["key"] == "data/report+1.csv"
    assert record["s3"]["object"]["size"] == 3
    assert record["s3"]["configurationId"] == "to-fn"


def test_lambda_destination_must_exist(s3: Any, bucket: str) -> None:
    arn = "arn:aws:lambda:us-east-1:000000000000:function:nope"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    code, message, status = error_of(exc)
    assert (code, message, status) == ("InvalidArgument", "Unable to validate the following destination configurations", 400)
