"""Whole botocore client stacks against our codecs, no network: a ``before-send`` hook hands the
client's prepared HTTP request to the codec and the codec's response back to the client.

This covers what the serializer/parser round trips do not: the client's handlers (DynamoDB's
CRC32 check and retries, SQS's query-compatible error codes, the parameter validator, the
``aws-query`` request body as urllib sends it) and the error classes a user catches.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from awsemu.protocol.http import WireResponse
from awsemu.protocol.models import variant_raw_model
from awsemu.protocol.registry import codec_for
from awsemu.services.base import ServiceError

Provider = Callable[[str, dict[str, Any]], dict[str, Any]]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def attach(client: Any, glue: Any, codec: Any, provider: Provider, tamper: Callable[[WireResponse], None] | None = None) -> list[Any]:
    """Serve ``client`` with ``codec`` + ``provider``; returns the list of parsed requests seen."""
    seen: list[Any] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body or b""
        if not isinstance(body, bytes):
            body = body.encode() if isinstance(body, str) else body.read()
        wire = glue.wire_request(request.method, url.path or "/", url.query, list(request.headers.items()), body)
        try:
            parsed = glue.parse(codec, wire)
            seen.append(parsed)
            response = codec.serialize(parsed.operation, provider(parsed.operation.name, parsed.params), "req-42")
        except ServiceError as error:
            response = codec.serialize_error(None, error, "req-42")
        if tamper is not None:
            tamper(response)
        return AWSResponse(request.url, response.status, dict(response.headers), _Raw(response.body))  # type: ignore[arg-type]

    client.meta.events.register("before-send", send)
    return seen


def make_client(service: str, parameter_validation: bool = True) -> Any:
    return boto3.session.Session().client(
        service,
        region_name="us-east-1",
        endpoint_url="http://localhost:4566",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 2, "mode": "legacy"}, parameter_validation=parameter_validation),
    )


def test_dynamodb_put_and_get_item(glue: Any) -> None:
    client = make_client("dynamodb")
    store: dict[str, Any] = {}

    def provider(op: str, params: dict[str, Any]) -> dict[str, Any]:
        if op == "PutItem":
            store[params["Item"]["pk"]["S"]] = params["Item"]
            return {}
        if op == "GetItem":
            return {"Item": store[params["Key"]["pk"]["S"]]}
        raise ServiceError("Requested resource not found", code="ResourceNotFoundException")

    seen = attach(client, glue, codec_for("dynamodb"), provider)
    item = {"pk": {"S": "a"}, "bin": {"B": b"\x00\xff"}, "set": {"BS": [b"\x01"]}, "n": {"N": "1.5"}}
    client.put_item(TableName="t", Item=item)
    assert seen[0].params["Item"]["bin"] == {"B": b"\x00\xff"}
    assert client.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"] == item
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.describe_table(TableName="t")
    assert caught.value.response["Error"] == {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}
    assert caught.value.response["ResponseMetadata"]["RequestId"] == "req-42"


def test_dynamodb_client_checks_our_crc32(glue: Any) -> None:
    client = make_client("dynamodb")
    attach(client, glue, codec_for("dynamodb"), lambda op, params: {"TableNames": ["t"]})
    assert client.list_tables()["TableNames"] == ["t"]

    def corrupt(response: WireResponse) -> None:
        response.headers = [(k, "1" if k == "x-amz-crc32" else v) for k, v in response.headers]

    tampered = make_client("dynamodb")
    attach(tampered, glue, codec_for("dynamodb"), lambda op, params: {"TableNames": ["t"]}, corrupt)
    with pytest.raises(botocore.exceptions.ChecksumError):
        tampered.list_tables()


def test_dynamodb_client_validation_error(glue: Any) -> None:
    client = make_client("dynamodb", parameter_validation=False)
    attach(client, glue, codec_for("dynamodb"), lambda op, params: {})
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.query(TableName="t", IndexName="ab")
    error = caught.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith("1 validation error detected: Value 'ab' at 'indexName'")


def test_sqs_json_client(glue: Any) -> None:
    client = make_client("sqs")

    def provider(op: str, params: dict[str, Any]) -> dict[str, Any]:
        if op == "GetQueueAttributes":
            return {"Attributes": {"VisibilityTimeout": "30"}}
        raise ServiceError("The specified queue does not exist.", code="QueueDoesNotExist")

    attach(client, glue, codec_for("sqs"), provider)
    assert client.get_queue_attributes(QueueUrl="http://q", AttributeNames=["All"])["Attributes"] == {"VisibilityTimeout": "30"}
    with pytest.raises(client.exceptions.QueueDoesNotExist) as caught:
        client.get_queue_url(QueueName="nope")
    assert caught.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_sqs_query_client(glue: Any, tmp_path: Path) -> None:
    """A botocore client loading SQS as the query-protocol model (what pre-2023 SDKs spoke)."""
    model_dir = tmp_path / "sqs" / "2012-11-05"
    model_dir.mkdir(parents=True)
    (model_dir / "service-2.json").write_text(json.dumps(variant_raw_model("sqs", "sqs_query")))
    session = boto3.session.Session()
    session._session.get_component("data_loader").search_paths.insert(0, str(tmp_path))
    client = session.client(
        "sqs", region_name="us-east-1", endpoint_url="http://localhost:4566",
        aws_access_key_id="test", aws_secret_access_key="test",
    )
    assert client.meta.service_model.protocol == "query"
    sent = datetime(2026, 11, 27, tzinfo=timezone.utc)

    def provider(op: str, params: dict[str, Any]) -> dict[str, Any]:
        if op == "ReceiveMessage":
            return {
                "Messages": [
                    {
                        "MessageId": "m",
                        "ReceiptHandle": "h",
                        "Body": "hello",
                        "MD5OfBody": "5d41402abc4b2a76b9719d911017c592",
                        "Attributes": {"SentTimestamp": str(int(sent.timestamp() * 1000))},
                    }
                ]
            }
        if op == "SendMessage":
            return {"MessageId": "m", "MD5OfMessageBody": "5d41402abc4b2a76b9719d911017c592"}
        raise ServiceError("The specified queue does not exist.", code="QueueDoesNotExist")

    seen = attach(client, glue, codec_for("sqs", "query"), provider)
    client.send_message(
        QueueUrl="http://q",
        MessageBody="hello",
        MessageAttributes={"a": {"DataType": "String", "StringValue": "v"}},
    )
    assert seen[0].params["MessageAttributes"] == {"a": {"DataType": "String", "StringValue": "v"}}
    messages = client.receive_message(QueueUrl="http://q", AttributeNames=["All"])["Messages"]
    assert seen[1].params["AttributeNames"] == ["All"]
    assert messages[0]["Attributes"] == {"SentTimestamp": "1795737600000"}
    with pytest.raises(client.exceptions.QueueDoesNotExist):
        client.get_queue_url(QueueName="nope")


def test_sts_and_iam_clients(glue: Any) -> None:
    sts = make_client("sts")
    attach(sts, glue, codec_for("sts"), lambda op, params: {"UserId": "AIDA", "Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root"})
    assert sts.get_caller_identity()["Account"] == "000000000000"

    iam = make_client("iam")
    created = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)

    def provider(op: str, params: dict[str, Any]) -> dict[str, Any]:
        if op == "CreateUser":
            return {"User": {"Path": "/", "UserName": params["UserName"], "UserId": "AIDA", "Arn": "arn:u", "CreateDate": created, "Tags": params.get("Tags", [])}}
        raise ServiceError("The user with name x cannot be found.", code="NoSuchEntityException")

    attach(iam, glue, codec_for("iam"), provider)
    user = iam.create_user(UserName="x", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert user["CreateDate"] == created
    assert user["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(iam.exceptions.NoSuchEntityException) as caught:
        iam.get_user(UserName="x")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
