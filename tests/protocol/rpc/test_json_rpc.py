"""JsonCodec beyond the round trips: routing, request errors, headers, error bodies."""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.model import ServiceModel

from awsemu.protocol.json_rpc import JsonCodec
from awsemu.protocol.models import service_model
from awsemu.protocol.registry import codec_for
from awsemu.services.base import ServiceError

DDB = "DynamoDB_20120810"


def ddb_request(glue: Any, op: str, body: Any, headers: list[tuple[str, str]] | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = [("X-Amz-Target", f"{DDB}.{op}"), ("Content-Type", "application/x-amz-json-1.0")]
    return glue.wire_request("POST", "/", "", all_headers + (headers or []), raw)


def parse_error(glue: Any, codec: Any, request: Any) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        glue.parse(codec, request)
    return caught.value


def test_registry_gives_json_codecs() -> None:
    for service in ("dynamodb", "dynamodbstreams", "sqs"):
        codec = codec_for(service)
        assert isinstance(codec, JsonCodec)
        assert codec.service_model is service_model(service)


def test_unknown_target_is_unknown_operation(glue: Any) -> None:
    codec = codec_for("dynamodb")
    for target in (f"{DDB}.NoSuchThing", "AmazonSQS.ListQueues", ""):
        request = glue.wire_request("POST", "/", "", [("X-Amz-Target", target)], b"{}")
        error = parse_error(glue, codec, request)
        assert (error.code, error.status) == ("UnknownOperationException", 400)
    response = codec.serialize_error(None, error, "r1")
    assert json.loads(response.body)["__type"] == "com.amazon.coral.service#UnknownOperationException"


def test_empty_body_is_an_empty_input(glue: Any) -> None:
    parsed = glue.parse(codec_for("dynamodb"), ddb_request(glue, "ListTables", b""))
    assert (parsed.operation.name, parsed.params) == ("ListTables", {})


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_unparsable_body_is_serialization_exception(glue: Any, body: bytes) -> None:
    codec = codec_for("dynamodb")
    error = parse_error(glue, codec, ddb_request(glue, "ListTables", body))
    assert (error.code, error.status) == ("SerializationException", 400)
    response = codec.serialize_error(None, error, "r1")
    assert json.loads(response.body)["__type"] == "com.amazon.coral.service#SerializationException"


def test_missing_required_members_are_worded_as_dynamodb_does(glue: Any) -> None:
    codec = codec_for("dynamodb")
    error = parse_error(glue, codec, ddb_request(glue, "DescribeTable", {}))
    assert error.code == "ValidationException"
    assert error.message == (
        "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: "
        "Member must not be null"
    )
    error = parse_error(glue, codec, ddb_request(glue, "PutItem", {"TableName": None}))
    assert error.message == (
        "2 validation errors detected: "
        "Value null at 'tableName' failed to satisfy constraint: Member must not be null; "
        "Value null at 'item' failed to satisfy constraint: Member must not be null"
    )
    body = json.loads(codec.serialize_error(None, error, "r1").body)
    assert body == {"__type": "com.amazon.coral.validate#ValidationException", "message": error.message}


def test_constraints_of_top_level_members(glue: Any) -> None:
    codec = codec_for("dynamodb")
    body = {"TableName": "t", "Limit": 0, "Select": "EVERYTHING", "IndexName": "ab"}
    error = parse_error(glue, codec, ddb_request(glue, "Query", body))
    assert error.message == (
        "3 validation errors detected: "
        "Value 'ab' at 'indexName' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3; "
        "Value 'EVERYTHING' at 'select' failed to satisfy constraint: Member must satisfy enum value set: "
        "[ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES, SPECIFIC_ATTRIBUTES, COUNT]; "
        "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (123, "NUMBER_VALUE cannot be converted"),
        ({"a": 1}, "Start of structure or map found where not expected"),
        (["t"], "Start of list found where not expected"),
        (True, "TRUE_VALUE cannot be converted"),
    ],
)
def test_wrong_json_kind_is_serialization_exception(glue: Any, value: Any, message: str) -> None:
    error = parse_error(glue, codec_for("dynamodb"), ddb_request(glue, "DescribeTable", {"TableName": value}))
    assert (error.code, error.message) == ("SerializationException", message)


def test_boolean_is_not_a_number(glue: Any) -> None:
    error = parse_error(glue, codec_for("dynamodb"), ddb_request(glue, "Scan", {"TableName": "t", "Limit": True}))
    assert error.code == "SerializationException"


def test_nulls_and_unknown_members_are_dropped(glue: Any) -> None:
    body = {"TableName": "t", "Limit": None, "NotAMember": 1}
    parsed = glue.parse(codec_for("dynamodb"), ddb_request(glue, "Scan", body))
    assert parsed.params == {"TableName": "t"}


def test_gzip_request_body(glue: Any) -> None:
    body = gzip.compress(json.dumps({"TableName": "t", "Key": {"k": {"B": "AAE="}}}).encode())
    request = ddb_request(glue, "GetItem", body, [("Content-Encoding", "gzip")])
    parsed = glue.parse(codec_for("dynamodb"), request)
    assert parsed.params == {"TableName": "t", "Key": {"k": {"B": b"\x00\x01"}}}
    broken = ddb_request(glue, "GetItem", b"not gzip", [("Content-Encoding", "gzip")])
    assert parse_error(glue, codec_for("dynamodb"), broken).code == "SerializationException"


def test_attribute_values_are_decoded_in_place(glue: Any) -> None:
    item = {
        "pk": {"S": "a"},
        "bin": {"B": base64.b64encode(b"\xff\x00").decode()},
        "set": {"BS": ["AA==", "AQ=="]},
        "deep": {"M": {"l": {"L": [{"B": "Ag=="}, {"N": "1"}, {"M": {"x": {"BS": ["Aw=="]}}}]}}},
    }
    parsed = glue.parse(codec_for("dynamodb"), ddb_request(glue, "PutItem", {"TableName": "t", "Item": item}))
    assert parsed.params["Item"] == {
        "pk": {"S": "a"},
        "bin": {"B": b"\xff\x00"},
        "set": {"BS": [b"\x00", b"\x01"]},
        "deep": {"M": {"l": {"L": [{"B": b"\x02"}, {"N": "1"}, {"M": {"x": {"BS": [b"\x03"]}}}]}}},
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
        (
            {"S": "a", "N": "1"},
            "Supplied AttributeValue has more than one datatypes set, "
            "must contain exactly one of the supported datatypes",
        ),
    ],
)
def test_attribute_value_must_hold_exactly_one_type(glue: Any, value: Any, message: str) -> None:
    request = ddb_request(glue, "PutItem", {"TableName": "t", "Item": {"a": {"M": {"b": value}}}})
    error = parse_error(glue, codec_for("dynamodb"), request)
    assert (error.code, error.message) == ("ValidationException", message)


@pytest.mark.parametrize("value", [{"B": "***"}, {"M": ["not", "a", "map"]}, {"L": {"x": 1}}, "S"])
def test_malformed_attribute_values_are_serialization_exceptions(glue: Any, value: Any) -> None:
    request = ddb_request(glue, "PutItem", {"TableName": "t", "Item": {"a": value}})
    assert parse_error(glue, codec_for("dynamodb"), request).code == "SerializationException"


def test_timestamps_are_parsed_from_epoch_seconds(glue: Any) -> None:
    body = {"TableName": "t", "TimeRangeLowerBound": 1700000000.5}
    parsed = glue.parse(codec_for("dynamodb"), ddb_request(glue, "ListBackups", body))
    assert parsed.params["TimeRangeLowerBound"] == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=timezone.utc)


def test_response_headers_and_crc32(glue: Any) -> None:
    codec = codec_for("dynamodb")
    op = codec.service_model.operation_model("DescribeTable")
    created = datetime(2026, 11, 27, 11, 13, 40, 250000, tzinfo=timezone.utc)
    response = codec.serialize(op, {"Table": {"TableName": "t", "CreationDateTime": created}}, "req-1")
    assert response.status == 200
    assert response.header("Content-Type") == "application/x-amz-json-1.0"
    assert response.header("x-amzn-RequestId") == "req-1"
    assert response.header("x-amz-crc32") == str(zlib.crc32(response.body) & 0xFFFFFFFF)  # type: ignore[arg-type]
    assert json.loads(response.body) == {"Table": {"TableName": "t", "CreationDateTime": 1795778020.25}}
    assert response.body == b'{"Table":{"TableName":"t","CreationDateTime":1795778020.25}}'


def test_no_crc32_outside_dynamodb() -> None:
    codec = codec_for("sqs")
    response = codec.serialize(codec.service_model.operation_model("ListQueues"), {}, "r")
    assert response.header("x-amz-crc32") is None
    assert response.body == b"{}"


def test_dynamodb_modeled_error(glue: Any) -> None:
    codec = codec_for("dynamodb")
    error = ServiceError("Requested resource not found", code="ResourceNotFoundException")
    response = codec.serialize_error(None, error, "req-2")
    assert response.status == 400
    assert json.loads(response.body) == {
        "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "message": "Requested resource not found",
    }
    assert response.header("x-amz-crc32") == str(zlib.crc32(response.body) & 0xFFFFFFFF)  # type: ignore[arg-type]
    parsed = glue.client_parse("json", response, None)
    assert parsed["Error"] == {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"}


def test_error_fields_are_merged_into_the_body() -> None:
    codec = codec_for("dynamodb")
    error = ServiceError(
        "Transaction cancelled",
        code="TransactionCanceledException",
        fields={"CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Item": {"a": {"B": b"\x01"}}}]},
        headers={"x-extra": "1"},
    )
    response = codec.serialize_error(None, error, "r")
    assert json.loads(response.body)["CancellationReasons"][1] == {
        "Code": "ConditionalCheckFailed",
        "Item": {"a": {"B": "AQ=="}},
    }
    assert response.header("x-extra") == "1"


def test_streams_errors_use_the_dynamodb_namespace() -> None:
    codec = codec_for("dynamodbstreams")
    response = codec.serialize_error(None, ServiceError("gone", code="ExpiredIteratorException"), "r")
    assert json.loads(response.body)["__type"] == "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException"


@pytest.mark.parametrize("raised", ["QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"])
def test_sqs_json_error_carries_the_query_code(glue: Any, raised: str) -> None:
    codec = codec_for("sqs")
    response = codec.serialize_error(None, ServiceError("The specified queue does not exist.", code=raised), "r")
    assert response.status == 400
    assert json.loads(response.body) == {
        "__type": "com.amazonaws.sqs#QueueDoesNotExist",
        "message": "The specified queue does not exist.",
    }
    assert response.header("x-amzn-query-error") == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert response.header("Content-Type") == "application/x-amz-json-1.0"
    parsed = glue.client_parse("json", response, None)
    assert parsed["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    assert parsed["Error"]["Type"] == "Sender"


def test_sqs_model_status_applies_unless_the_error_sets_one() -> None:
    codec = codec_for("sqs")
    assert codec.serialize_error(None, ServiceError("x", code="PurgeQueueInProgress"), "r").status == 403
    assert codec.serialize_error(None, ServiceError("x", code="PurgeQueueInProgress", status=409), "r").status == 409

    class InternalError(ServiceError):
        code = "OverLimit"
        status = 503
        sender_fault = False

    response = codec.serialize_error(None, InternalError("x"), "r")
    assert response.status == 503
    assert response.header("x-amzn-query-error") == "OverLimit;Receiver"


def test_sqs_json_missing_parameter(glue: Any) -> None:
    codec = codec_for("sqs")
    request = glue.wire_request("POST", "/", "", [("X-Amz-Target", "AmazonSQS.SendMessage")], b'{"MessageBody":"x"}')
    error = parse_error(glue, codec, request)
    assert (error.code, error.message) == ("MissingParameter", "The request must contain the parameter QueueUrl.")
    response = codec.serialize_error(None, error, "r")
    assert response.header("x-amzn-query-error") == "MissingParameter;Sender"


def test_renamed_members_and_timestamp_formats_get_a_compiled_writer() -> None:
    # None of our JSON models renames members today; a model that does must still be honoured.
    model = ServiceModel(
        {
            "metadata": {"protocol": "json", "jsonVersion": "1.1", "targetPrefix": "Demo", "apiVersion": "1"},
            "operations": {"Get": {"name": "Get", "http": {"method": "POST", "requestUri": "/"}, "output": {"shape": "Out"}}},
            "shapes": {
                "Out": {
                    "type": "structure",
                    "members": {
                        "Name": {"shape": "Str", "locationName": "name"},
                        "When": {"shape": "Time"},
                        "Items": {"shape": "Items"},
                    },
                },
                "Items": {"type": "list", "member": {"shape": "Out"}},
                "Str": {"type": "string"},
                "Time": {"type": "timestamp", "timestampFormat": "iso8601"},
            },
        },
        service_name="demo",
    )
    codec = JsonCodec(model)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    output = {"Name": "a", "When": when, "Items": [{"Name": "b"}]}
    response = codec.serialize(model.operation_model("Get"), output, "r")
    assert response.header("Content-Type") == "application/x-amz-json-1.1"
    assert json.loads(response.body) == {"name": "a", "When": "2026-01-02T03:04:05.000Z", "Items": [{"name": "b"}]}


def test_absurd_nesting_is_a_client_error(glue: Any) -> None:
    depth = 5000  # past the recursion limit of json.loads
    raw = b'{"TableName":"t","Item":{"a":' + b'{"L":[' * depth + b'{"S":"x"}' + b"]}" * depth + b"}}"
    error = parse_error(glue, codec_for("dynamodb"), ddb_request(glue, "PutItem", raw))
    assert error.code == "SerializationException"


def test_nested_lists_of_blobs_are_decoded(glue: Any) -> None:
    # A reader shape the served models do not have: list of list of blob, map of list of timestamps.
    model = ServiceModel(
        {
            "metadata": {"protocol": "json", "jsonVersion": "1.0", "targetPrefix": "Demo", "apiVersion": "1"},
            "operations": {"Put": {"name": "Put", "http": {"method": "POST", "requestUri": "/"}, "input": {"shape": "In"}}},
            "shapes": {
                "In": {"type": "structure", "members": {"Grid": {"shape": "Grid"}, "Times": {"shape": "Times"}}},
                "Grid": {"type": "list", "member": {"shape": "Row"}},
                "Row": {"type": "list", "member": {"shape": "Blob"}},
                "Times": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "TimeList"}},
                "TimeList": {"type": "list", "member": {"shape": "Time"}},
                "Blob": {"type": "blob"},
                "Str": {"type": "string"},
                "Time": {"type": "timestamp"},
            },
        },
        service_name="demo",
    )
    codec = JsonCodec(model)
    body = json.dumps({"Grid": [["AA==", "AQ=="], []], "Times": {"a": [0, 1.5]}}).encode()
    params = glue.parse(codec, glue.wire_request("POST", "/", "", [("X-Amz-Target", "Demo.Put")], body)).params
    assert params["Grid"] == [[b"\x00", b"\x01"], []]
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert params["Times"] == {"a": [epoch, datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=timezone.utc)]}
