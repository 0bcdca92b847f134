"""Lambda over rest-json: routes with URI labels, payload handling, and Lambda's error format."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, AsyncIterator

import pytest

from awsemu.protocol.http import Headers, WireRequest
from awsemu.protocol.registry import codec_for
from awsemu.protocol.rest_json import RestJsonCodec
from awsemu.services.base import ServiceError


@pytest.fixture(scope="module")
def lam() -> RestJsonCodec:
    codec = codec_for("lambda")
    assert isinstance(codec, RestJsonCodec)
    return codec


def request(method: str, path: str, query: str = "", headers: list[tuple[str, str]] | None = None,
            body: bytes = b"", stream: bool = False) -> WireRequest:
    async def read() -> bytes:
        return body

    async def chunks() -> AsyncIterator[bytes]:
        yield body

    return WireRequest(method, path, query, Headers(headers or []), read_body=read,
                       stream=chunks if stream else None)


def parse(glue: Any, codec: RestJsonCodec, req: WireRequest) -> tuple[str, dict[str, Any]]:
    parsed = glue.run(codec.parse(req))
    return parsed.operation.name, parsed.params


def parse_error(glue: Any, codec: RestJsonCodec, req: WireRequest) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        glue.run(codec.parse(req))
    return info.value


@pytest.mark.parametrize(
    "method,path,query,expected,params",
    [
        ("GET", "/2015-03-31/functions/", "", "ListFunctions", {}),
        ("GET", "/2015-03-31/functions", "MaxItems=5&FunctionVersion=ALL", "ListFunctions",
         {"MaxItems": 5, "FunctionVersion": "ALL"}),
        ("GET", "/2015-03-31/functions/my-fn", "Qualifier=1", "GetFunction",
         {"FunctionName": "my-fn", "Qualifier": "1"}),
        ("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/configuration",
         "", "GetFunctionConfiguration",
         {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f"}),
        ("GET", "/2015-03-31/functions/arn:aws:lambda:us-east-1:0:function:f/aliases/live", "", "GetAlias",
         {"FunctionName": "arn:aws:lambda:us-east-1:0:function:f", "Name": "live"}),
        ("DELETE", "/2018-10-31/layers/l/versions/7", "", "DeleteLayerVersion",
         {"LayerName": "l", "VersionNumber": 7}),
        ("GET", "/2018-10-31/layers", "", "ListLayers", {}),
        ("GET", "/2018-10-31/layers", "find=LayerVersion&Arn=a", "GetLayerVersionByArn", {"Arn": "a"}),
        ("GET", "/2019-09-30/functions/f/provisioned-concurrency", "List=ALL", "ListProvisionedConcurrencyConfigs",
         {"FunctionName": "f"}),
        ("GET", "/2019-09-30/functions/f/provisioned-concurrency", "Qualifier=q", "GetProvisionedConcurrencyConfig",
         {"FunctionName": "f", "Qualifier": "q"}),
        ("DELETE", "/2017-03-31/tags/arn%3Ax", "tagKeys=a&tagKeys=b", "UntagResource",
         {"Resource": "arn:x", "TagKeys": ["a", "b"]}),
    ],
)
def test_routes(glue: Any, lam: RestJsonCodec, method: str, path: str, query: str, expected: str,
                params: dict[str, Any]) -> None:
    assert parse(glue, lam, request(method, path, query)) == (expected, params)


def test_invoke_payload_is_bytes_and_headers_are_read(glue: Any, lam: RestJsonCodec) -> None:
    req = request("POST", "/2015-03-31/functions/f/invocations", "Qualifier=live",
                  [("X-Amz-Invocation-Type", "Event"), ("X-Amz-Log-Type", "Tail")], b'{"a": 1}', stream=True)
    name, params = parse(glue, lam, req)
    assert name == "Invoke"
    assert params == {"FunctionName": "f", "Qualifier": "live", "InvocationType": "Event", "LogType": "Tail",
                      "Payload": b'{"a": 1}'}


def test_invoke_async_streams(glue: Any, lam: RestJsonCodec) -> None:
    _, params = parse(glue, lam, request("POST", "/2014-11-13/functions/f/invoke-async", body=b"{}", stream=True))
    assert glue.run(glue.collect(params["InvokeArgs"])) == b"{}"


def test_json_body_members_convert_only_what_json_cannot_say(glue: Any, lam: RestJsonCodec) -> None:
    body = json.dumps({
        "FunctionName": "f", "Role": "r", "Runtime": "python3.12", "Handler": "h.h",
        "Code": {"ZipFile": "UEsDBA=="}, "Environment": {"Variables": {"A": "1"}},
        "Unknown": "dropped",
    }).encode()
    name, params = parse(glue, lam, request("POST", "/2015-03-31/functions", body=body))
    assert name == "CreateFunction"
    assert params["Code"] == {"ZipFile": b"PK\x03\x04"}
    assert params["Environment"] == {"Variables": {"A": "1"}}
    assert "Unknown" not in params


def test_timestamps_in_query(glue: Any, lam: RestJsonCodec) -> None:
    _, params = parse(glue, lam, request("GET", "/2025-12-01/functions/f/durable-executions",
                                         "StartedAfter=2026-01-01T00:00:00Z"))
    assert params["StartedAfter"] == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_bad_json(glue: Any, lam: RestJsonCodec) -> None:
    err = parse_error(glue, lam, request("POST", "/2015-03-31/functions", body=b"{nope"))
    assert (err.code, err.status) == ("InvalidRequestContentException", 400)
    assert err.message.startswith("Could not parse request body into json")
    err = parse_error(glue, lam, request("POST", "/2015-03-31/functions", body=b"[1, 2]"))
    assert err.code == "InvalidRequestContentException"


def test_bad_query_integer(glue: Any, lam: RestJsonCodec) -> None:
    err = parse_error(glue, lam, request("GET", "/2015-03-31/functions", "MaxItems=lots"))
    assert (err.code, err.status) == ("InvalidParameterValueException", 400)
    assert "MaxItems" in err.message


def test_missing_required_member(glue: Any, lam: RestJsonCodec) -> None:
    err = parse_error(glue, lam, request("POST", "/2015-03-31/functions", body=b'{"FunctionName": "f"}'))
    assert (err.code, err.status) == ("ValidationException", 400)
    assert "Value null at 'role'" in err.message and "Value null at 'code'" in err.message


def test_unknown_route(glue: Any, lam: RestJsonCodec) -> None:
    err = parse_error(glue, lam, request("GET", "/2015-03-31/nothing-here"))
    assert (err.code, err.status) == ("UnknownOperationException", 404)
    err = parse_error(glue, lam, request("PATCH", "/2015-03-31/functions/f"))
    assert err.code == "UnknownOperationException"


def test_serialize_invoke(lam: RestJsonCodec) -> None:
    op = lam.service_model.operation_model("Invoke")
    resp = lam.serialize(op, {"StatusCode": 200, "Payload": b'{"ok":true}', "ExecutedVersion": "$LATEST",
                              "FunctionError": "Unhandled"}, "rid")
    assert (resp.status, resp.body) == (200, b'{"ok":true}')
    assert resp.header("X-Amz-Executed-Version") == "$LATEST"
    assert resp.header("X-Amz-Function-Error") == "Unhandled"
    assert resp.header("x-amzn-RequestId") == "rid"
    assert resp.header("Content-Type") == "application/json"
    event = lam.serialize(op, {"StatusCode": 202}, "rid")
    assert (event.status, event.body) == (202, b"")


def test_serialize_json_members_and_status(lam: RestJsonCodec) -> None:
    op = lam.service_model.operation_model("CreateFunction")
    resp = lam.serialize(op, {"FunctionName": "f", "MemorySize": 128, "Environment": {"Variables": {"A": "é"}}}, "r")
    assert resp.status == 201
    assert json.loads(resp.body) == {"FunctionName": "f", "MemorySize": 128,  # type: ignore[arg-type]
                                     "Environment": {"Variables": {"A": "é"}}}
    deleted = lam.serialize(lam.service_model.operation_model("DeleteAlias"), {}, "r")
    assert (deleted.status, deleted.body) == (204, b"")


def test_error_format(glue: Any, lam: RestJsonCodec) -> None:
    err = ServiceError("Function not found: arn:f", code="ResourceNotFoundException", status=404,
                       fields={"Type": "User"})
    resp = lam.serialize_error(lam.service_model.operation_model("GetFunction"), err, "rid")
    assert resp.status == 404
    assert resp.header("X-Amzn-ErrorType") == "ResourceNotFoundException"
    assert resp.header("x-amzn-RequestId") == "rid"
    assert resp.header("Content-Type") == "application/json"
    assert json.loads(resp.body) == {"Type": "User", "message": "Function not found: arn:f"}  # type: ignore[arg-type]
    parsed = glue.botocore_parse("lambda", "GetFunction", resp)
    assert parsed["Error"]["Code"] == "ResourceNotFoundException"
    assert parsed["Error"]["Message"] == "Function not found: arn:f"
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"
    service = lam.serialize_error(None, ServiceError("boom", code="ServiceException", status=500,
                                                     sender_fault=False, fields={"Extra": 1}), "r")
    assert json.loads(service.body) == {"Type": "Service", "message": "boom", "Extra": 1}  # type: ignore[arg-type]


def test_event_stream_output_passes_through(lam: RestJsonCodec) -> None:
    async def frames() -> AsyncIterator[bytes]:
        yield b"\x00\x00\x00\x10"

    stream = frames()
    op = lam.service_model.operation_model("InvokeWithResponseStream")
    resp = lam.serialize(op, {"StatusCode": 200, "EventStream": stream, "ExecutedVersion": "1"}, "r")
    assert resp.body is stream
    assert resp.header("Content-Type") == "application/vnd.amazon.eventstream"
    assert resp.header("X-Amz-Executed-Version") == "1"
