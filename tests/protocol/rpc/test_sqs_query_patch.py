"""SQS's legacy query protocol: each fact of ``patches/sqs_query.json`` and ``patches/sqs.json``.

Requests are written out literally as old SDKs (and the AWS docs' examples) send them, not via
botocore, so a wrong patch cannot hide behind a botocore client using the same wrong patch.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import pytest

from awsemu.protocol.models import service_model, variant_model
from awsemu.protocol.query import QueryCodec
from awsemu.protocol.registry import codec_for
from awsemu.services.base import ServiceError

NS = "http://queue.amazonaws.com/doc/2012-11-05/"
URL = "http://localhost:4566/000000000000/q"


def parse(glue: Any, action: str, fields: list[tuple[str, str]]) -> dict[str, Any]:
    body = urlencode([("Action", action), ("Version", "2012-11-05")] + fields).encode()
    request = glue.wire_request("POST", "/", "", [("Content-Type", "application/x-www-form-urlencoded")], body)
    parsed = glue.parse(codec_for("sqs", "query"), request)
    assert parsed.operation is service_model("sqs").operation_model(action)
    return parsed.params  # type: ignore[no-any-return]


def result_xml(action: str, output: dict[str, Any]) -> str:
    codec = codec_for("sqs", "query")
    response = codec.serialize(codec.service_model.operation_model(action), output, "r")
    body = response.body.decode()  # type: ignore[union-attr]
    head = f'<{action}Response xmlns="{NS}"><{action}Result>'
    tail = f"</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{action}Response>"
    assert body.startswith(head) and body.endswith(tail), body
    return body[len(head) : -len(tail)]


def test_registry_gives_a_query_codec_over_the_sqs_model() -> None:
    codec = codec_for("sqs", "query")
    assert isinstance(codec, QueryCodec)
    assert codec.service_model is service_model("sqs")


def test_every_patched_shape_and_operation_exists_in_the_model() -> None:
    raw = json.loads(resources.files("awsemu.protocol").joinpath("patches", "sqs_query.json").read_text())
    model = service_model("sqs")
    assert set(raw["shapes"]) <= set(model.shape_names)
    assert set(raw["operations"]) == {n for n in model.operation_names if model.operation_model(n).output_shape}
    errors = json.loads(resources.files("awsemu.protocol").joinpath("patches", "sqs.json").read_text())
    assert set(errors["shapes"]) == {n for n in model.shape_names if model.shape_for(n).metadata.get("exception")}


def test_send_message_attributes(glue: Any) -> None:
    params = parse(
        glue,
        "SendMessage",
        [
            ("QueueUrl", URL),
            ("MessageBody", "hello"),
            ("MessageAttribute.1.Name", "colour"),
            ("MessageAttribute.1.Value.StringValue", "blue"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.2.Name", "raw"),
            ("MessageAttribute.2.Value.BinaryValue", "AAE="),
            ("MessageAttribute.2.Value.DataType", "Binary"),
            ("MessageAttribute.3.Name", "many"),
            ("MessageAttribute.3.Value.StringListValue.1", "a"),
            ("MessageAttribute.3.Value.StringListValue.2", "b"),
            ("MessageAttribute.3.Value.BinaryListValue.1", "Ag=="),
            ("MessageAttribute.3.Value.DataType", "String"),
            ("MessageSystemAttribute.1.Name", "AWSTraceHeader"),
            ("MessageSystemAttribute.1.Value.StringValue", "Root=1"),
            ("MessageSystemAttribute.1.Value.DataType", "String"),
            ("DelaySeconds", "5"),
        ],
    )
    assert params == {
        "QueueUrl": URL,
        "MessageBody": "hello",
        "DelaySeconds": 5,
        "MessageAttributes": {
            "colour": {"StringValue": "blue", "DataType": "String"},
            "raw": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
            "many": {"StringListValues": ["a", "b"], "BinaryListValues": [b"\x02"], "DataType": "String"},
        },
        "MessageSystemAttributes": {"AWSTraceHeader": {"StringValue": "Root=1", "DataType": "String"}},
    }


def test_receive_message_name_lists(glue: Any) -> None:
    params = parse(
        glue,
        "ReceiveMessage",
        [
            ("QueueUrl", URL),
            ("AttributeName.1", "All"),
            ("MessageSystemAttributeName.1", "SenderId"),
            ("MessageAttributeName.1", "colour"),
            ("MessageAttributeName.2", ".*"),
            ("MaxNumberOfMessages", "10"),
        ],
    )
    assert params == {
        "QueueUrl": URL,
        "AttributeNames": ["All"],
        "MessageSystemAttributeNames": ["SenderId"],
        "MessageAttributeNames": ["colour", ".*"],
        "MaxNumberOfMessages": 10,
    }


def test_queue_attribute_maps_and_tags(glue: Any) -> None:
    create = [
        ("QueueName", "q"),
        ("Attribute.1.Name", "VisibilityTimeout"),
        ("Attribute.1.Value", "40"),
        ("Attribute.2.Name", "FifoQueue"),
        ("Attribute.2.Value", "true"),
        ("Tag.1.Key", "team"),
        ("Tag.1.Value", "core"),
    ]
    assert parse(glue, "CreateQueue", create) == {
        "QueueName": "q",
        "Attributes": {"VisibilityTimeout": "40", "FifoQueue": "true"},
        "tags": {"team": "core"},
    }
    assert parse(glue, "SetQueueAttributes", [("QueueUrl", URL), ("Attribute.1.Name", "DelaySeconds"), ("Attribute.1.Value", "1")]) == {
        "QueueUrl": URL,
        "Attributes": {"DelaySeconds": "1"},
    }
    assert parse(glue, "GetQueueAttributes", [("QueueUrl", URL), ("AttributeName.1", "All")]) == {
        "QueueUrl": URL,
        "AttributeNames": ["All"],
    }
    assert parse(glue, "TagQueue", [("QueueUrl", URL), ("Tag.1.Key", "a"), ("Tag.1.Value", "")]) == {
        "QueueUrl": URL,
        "Tags": {"a": ""},
    }
    assert parse(glue, "UntagQueue", [("QueueUrl", URL), ("TagKey.1", "a"), ("TagKey.2", "b")]) == {
        "QueueUrl": URL,
        "TagKeys": ["a", "b"],
    }


def test_permissions(glue: Any) -> None:
    fields = [("QueueUrl", URL), ("Label", "l"), ("AWSAccountId.1", "111111111111"), ("ActionName.1", "SendMessage")]
    assert parse(glue, "AddPermission", fields) == {
        "QueueUrl": URL,
        "Label": "l",
        "AWSAccountIds": ["111111111111"],
        "Actions": ["SendMessage"],
    }


@pytest.mark.parametrize(
    ("action", "entry", "extra"),
    [
        ("SendMessageBatch", "SendMessageBatchRequestEntry", ("MessageBody", "b")),
        ("DeleteMessageBatch", "DeleteMessageBatchRequestEntry", ("ReceiptHandle", "h")),
        ("ChangeMessageVisibilityBatch", "ChangeMessageVisibilityBatchRequestEntry", ("ReceiptHandle", "h")),
    ],
)
def test_batch_entries(glue: Any, action: str, entry: str, extra: tuple[str, str]) -> None:
    fields = [("QueueUrl", URL), (f"{entry}.1.Id", "one"), (f"{entry}.1.{extra[0]}", extra[1])]
    fields += [(f"{entry}.2.Id", "two"), (f"{entry}.2.{extra[0]}", extra[1])]
    params = parse(glue, action, fields)
    assert params == {"QueueUrl": URL, "Entries": [{"Id": "one", extra[0]: extra[1]}, {"Id": "two", extra[0]: extra[1]}]}


def test_send_message_batch_entry_attributes(glue: Any) -> None:
    fields = [
        ("QueueUrl", URL),
        ("SendMessageBatchRequestEntry.1.Id", "a"),
        ("SendMessageBatchRequestEntry.1.MessageBody", "b"),
        ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Name", "n"),
        ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue", "v"),
        ("SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType", "String"),
        ("SendMessageBatchRequestEntry.1.MessageSystemAttribute.1.Name", "AWSTraceHeader"),
        ("SendMessageBatchRequestEntry.1.MessageSystemAttribute.1.Value.StringValue", "t"),
        ("SendMessageBatchRequestEntry.1.MessageSystemAttribute.1.Value.DataType", "String"),
    ]
    entry = parse(glue, "SendMessageBatch", fields)["Entries"][0]
    assert entry["MessageAttributes"] == {"n": {"StringValue": "v", "DataType": "String"}}
    assert entry["MessageSystemAttributes"] == {"AWSTraceHeader": {"StringValue": "t", "DataType": "String"}}


def test_missing_parameter_is_worded_as_sqs_does(glue: Any) -> None:
    with pytest.raises(ServiceError) as caught:
        parse(glue, "SendMessage", [("MessageBody", "x")])
    assert (caught.value.code, caught.value.message) == ("MissingParameter", "The request must contain the parameter QueueUrl.")


def test_receive_message_result() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "h1",
        "MD5OfBody": "5d41",
        "Body": "<hello & bye>",
        "Attributes": {"SenderId": "AID", "SentTimestamp": "1"},
        "MessageAttributes": {
            "colour": {"StringValue": "blue", "DataType": "String"},
            "many": {"StringListValues": ["a"], "BinaryListValues": [b"\x01"], "DataType": "String"},
        },
    }
    assert result_xml("ReceiveMessage", {"Messages": [message, {"MessageId": "m2"}]}) == (
        "<Message><MessageId>m1</MessageId><ReceiptHandle>h1</ReceiptHandle><MD5OfBody>5d41</MD5OfBody>"
        "<Body>&lt;hello &amp; bye&gt;</Body>"
        "<Attribute><Name>SenderId</Name><Value>AID</Value></Attribute>"
        "<Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute>"
        "<MessageAttribute><Name>colour</Name><Value><StringValue>blue</StringValue><DataType>String</DataType></Value></MessageAttribute>"
        "<MessageAttribute><Name>many</Name><Value><StringListValue>a</StringListValue>"
        "<BinaryListValue>AQ==</BinaryListValue><DataType>String</DataType></Value></MessageAttribute>"
        "</Message><Message><MessageId>m2</MessageId></Message>"
    )
    assert result_xml("ReceiveMessage", {"Messages": []}) == ""


def test_simple_results() -> None:
    assert result_xml("CreateQueue", {"QueueUrl": URL}) == f"<QueueUrl>{URL}</QueueUrl>"
    assert result_xml("GetQueueUrl", {"QueueUrl": URL}) == f"<QueueUrl>{URL}</QueueUrl>"
    assert result_xml("ListQueues", {"QueueUrls": ["u1", "u2"], "NextToken": "t"}) == (
        "<QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl><NextToken>t</NextToken>"
    )
    assert result_xml("ListDeadLetterSourceQueues", {"queueUrls": ["u1"]}) == "<QueueUrl>u1</QueueUrl>"
    assert result_xml("GetQueueAttributes", {"Attributes": {"DelaySeconds": "0", "QueueArn": "arn"}}) == (
        "<Attribute><Name>DelaySeconds</Name><Value>0</Value></Attribute>"
        "<Attribute><Name>QueueArn</Name><Value>arn</Value></Attribute>"
    )
    assert result_xml("ListQueueTags", {"Tags": {"team": "core"}}) == "<Tag><Key>team</Key><Value>core</Value></Tag>"
    assert result_xml("SendMessage", {"MessageId": "m", "MD5OfMessageBody": "d"}) == (
        "<MD5OfMessageBody>d</MD5OfMessageBody><MessageId>m</MessageId>"
    )
    assert result_xml("StartMessageMoveTask", {"TaskHandle": "h"}) == "<TaskHandle>h</TaskHandle>"
    assert result_xml("CancelMessageMoveTask", {"ApproximateNumberOfMessagesMoved": 3}) == (
        "<ApproximateNumberOfMessagesMoved>3</ApproximateNumberOfMessagesMoved>"
    )
    assert result_xml("ListMessageMoveTasks", {"Results": [{"TaskHandle": "h", "Status": "RUNNING"}]}) == (
        "<ListMessageMoveTasksResultEntry><TaskHandle>h</TaskHandle><Status>RUNNING</Status></ListMessageMoveTasksResultEntry>"
    )


@pytest.mark.parametrize(
    ("action", "ok_tag"),
    [
        ("SendMessageBatch", "SendMessageBatchResultEntry"),
        ("DeleteMessageBatch", "DeleteMessageBatchResultEntry"),
        ("ChangeMessageVisibilityBatch", "ChangeMessageVisibilityBatchResultEntry"),
    ],
)
def test_batch_results(action: str, ok_tag: str) -> None:
    failed = {"Id": "b", "SenderFault": True, "Code": "InvalidParameterValue", "Message": "no"}
    assert result_xml(action, {"Successful": [{"Id": "a"}], "Failed": [failed]}) == (
        f"<{ok_tag}><Id>a</Id></{ok_tag}>"
        "<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault>"
        "<Code>InvalidParameterValue</Code><Message>no</Message></BatchResultErrorEntry>"
    )


def test_operations_without_output_have_no_result() -> None:
    codec = codec_for("sqs", "query")
    response = codec.serialize(codec.service_model.operation_model("DeleteQueue"), {}, "r")
    assert response.body == (
        f'<DeleteQueueResponse xmlns="{NS}"><ResponseMetadata><RequestId>r</RequestId>'
        "</ResponseMetadata></DeleteQueueResponse>"
    ).encode()


# The query-era error codes, written out here as the reviewed expectation of patches/sqs.json.
SQS_ERRORS = {
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "InvalidAddress": ("InvalidAddress", 404),
    "InvalidAttributeName": ("InvalidAttributeName", 400),
    "InvalidAttributeValue": ("InvalidAttributeValue", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "InvalidIdFormat": ("InvalidIdFormat", 400),
    "InvalidMessageContents": ("InvalidMessageContents", 400),
    "InvalidSecurity": ("InvalidSecurity", 403),
    "KmsAccessDenied": ("KMS.AccessDeniedException", 400),
    "KmsDisabled": ("KMS.DisabledException", 400),
    "KmsInvalidKeyUsage": ("KMS.InvalidKeyUsageException", 400),
    "KmsInvalidState": ("KMS.InvalidStateException", 400),
    "KmsNotFound": ("KMS.NotFoundException", 400),
    "KmsOptInRequired": ("KMS.OptInRequired", 403),
    "KmsThrottled": ("KMS.ThrottlingException", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "OverLimit": ("OverLimit", 403),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "ReceiptHandleIsInvalid": ("ReceiptHandleIsInvalid", 404),
    "RequestThrottled": ("RequestThrottled", 403),
    "ResourceNotFoundException": ("ResourceNotFoundException", 404),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
}


@pytest.mark.parametrize("shape_name", sorted(SQS_ERRORS))
def test_query_error_codes(glue: Any, shape_name: str) -> None:
    code, status = SQS_ERRORS[shape_name]
    assert service_model("sqs").shape_for(shape_name).metadata["error"] == {
        "code": code,
        "httpStatusCode": status,
        "senderFault": True,
    }
    codec = codec_for("sqs", "query")
    response = codec.serialize_error(None, ServiceError("m", code=shape_name), "r")
    assert response.status == status
    assert response.body == (
        f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type><Code>{code}</Code>'
        "<Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    ).encode()
    assert glue.client_parse("query", response, None)["Error"]["Code"] == code


def test_variant_model_is_the_query_form() -> None:
    model = variant_model("sqs", "sqs_query")
    assert model.protocol == "query"
    assert model.metadata["xmlNamespace"] == NS
    assert service_model("sqs").protocol == "json"  # the served model itself is untouched


def test_queue_url_from_the_request_path(glue: Any) -> None:
    # AWS SDK for Java v1 posts to the queue URL and leaves the QueueUrl field out.
    body = urlencode([("Action", "SendMessage"), ("MessageBody", "x")]).encode()
    headers = [("Host", "localhost:4566"), ("Content-Type", "application/x-www-form-urlencoded")]
    request = glue.wire_request("POST", "/000000000000/q", "", headers, body)
    params = glue.parse(codec_for("sqs", "query"), request).params
    assert params == {"QueueUrl": "http://localhost:4566/000000000000/q", "MessageBody": "x"}
    # A QueueUrl field wins over the path; operations without the member ignore the path.
    body = urlencode([("Action", "SendMessage"), ("MessageBody", "x"), ("QueueUrl", URL)]).encode()
    request = glue.wire_request("POST", "/000000000000/other", "", headers, body)
    assert glue.parse(codec_for("sqs", "query"), request).params["QueueUrl"] == URL
    request = glue.wire_request("POST", "/000000000000/q", "", headers, urlencode([("Action", "ListQueues")]).encode())
    assert glue.parse(codec_for("sqs", "query"), request).params == {}
